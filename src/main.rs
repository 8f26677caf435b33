use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    // Every file CardDesk creates (database, keys, backups, PIN letters,
    // exports) is its owner's alone.
    carddesk::desk::files::restrict_umask();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "carddesk=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let mut cli = carddesk::cli::Cli::parse();
    if let Some(db) = &cli.db {
        match carddesk::desk::paths::locate(db) {
            Ok(located) => cli.db = Some(located),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(1);
            }
        }
    }
    // No command: the desk window; otherwise the command line.
    let result = match &cli.command {
        None => carddesk::ui::run(
            cli.db.as_deref(),
            cli.demo,
            cli.open.as_deref(),
            cli.minimized,
        ),
        Some(_) => carddesk::cli::run(cli).map_err(|e| e.to_string()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line, so scripts can rely on it.
            eprintln!("error: {}", e.replace('\n', "; "));
            ExitCode::from(1)
        }
    }
}
