use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "carddesk=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = carddesk::cli::Cli::parse();
    match carddesk::cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line, so scripts can rely on it.
            eprintln!("error: {}", e.to_string().replace('\n', "; "));
            ExitCode::from(1)
        }
    }
}
