//! The `carddesk` binary as scripts run it, on a database in a temporary
//! folder initialised with the administrator `alice`.

use std::io::Write;
use std::process::{Command, Output, Stdio};

pub const ADMIN: &str = "alice";
pub const ADMIN_PASSWORD: &str = "s3cret-pass";

pub struct Cli {
    pub dir: tempfile::TempDir,
    /// Who the commands run as (`None`: no operator at all).
    pub operator: Option<(String, String)>,
    /// Last: a server database is dropped when the test ends.
    pub database: super::backend::TestDb,
}

impl Cli {
    /// A new database with its first administrator.
    pub fn new() -> Cli {
        let dir = super::private_dir();
        let database = super::backend::TestDb::new(dir.path(), "desk");
        let mut cli = Cli {
            dir,
            operator: Some((ADMIN.into(), ADMIN_PASSWORD.into())),
            database,
        };
        let out = cli.run_with_stdin(
            &["init", "--admin", ADMIN, "--email", "alice@site.example"],
            &format!("{ADMIN_PASSWORD}\n"),
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        cli.operator = Some((ADMIN.into(), ADMIN_PASSWORD.into()));
        cli
    }

    /// The database file, or the server database's connection file.
    pub fn db(&self) -> std::path::PathBuf {
        self.database.path.clone()
    }

    /// The same database, run as another operator (or none).
    pub fn as_operator(&mut self, who: Option<(&str, &str)>) -> &mut Cli {
        self.operator = who.map(|(n, p)| (n.to_string(), p.to_string()));
        self
    }

    /// Adds an operator (as alice) with the test password.
    pub fn add_operator(&self, name: &str, role: &str, password: &str) {
        let mut c = self.command_as(
            &["operator", "add", name, "--role", role],
            Some((ADMIN, ADMIN_PASSWORD)),
        );
        let out = c.env("CARDDESK_NEW_PASSWORD", password).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn command_as(&self, args: &[&str], who: Option<(&str, &str)>) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_carddesk"));
        c.arg("--db")
            .arg(self.db())
            .args(args)
            .env_remove("CARDDESK_DB")
            .env_remove("CARDDESK_OPERATOR")
            .env_remove("CARDDESK_PASSWORD")
            // Log lines on stderr would hide the one `error:` line.
            .env_remove("RUST_LOG")
            .stdin(Stdio::null());
        if let Some((name, password)) = who {
            c.env("CARDDESK_OPERATOR", name)
                .env("CARDDESK_PASSWORD", password);
        }
        c
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let who = self
            .operator
            .as_ref()
            .map(|(n, p)| (n.as_str(), p.as_str()));
        self.command_as(args, who)
    }

    /// Runs with `stdin` as standard input (and no password in the
    /// environment): for `init` and passwords read from standard input.
    pub fn run_with_stdin(&self, args: &[&str], stdin: &str) -> Output {
        let mut c = self.command(args);
        c.env_remove("CARDDESK_PASSWORD")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = c.spawn().unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    }

    /// Audit events other than logins: what changed the data. (Every
    /// command logs in, and every login is an event of its own.)
    pub fn changes(&self) -> i64 {
        let conn = carddesk::store::connect(&self.db()).unwrap();
        conn.query_row(
            "SELECT count(*) FROM audit_event WHERE action NOT LIKE 'login%'",
            (),
            |r| r.get(0),
        )
        .unwrap()
    }

    /// Runs and expects success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.command(args).output().unwrap();
        assert!(
            out.status.success(),
            "{args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Runs and expects exit 1 with one `error:` line; returns that line.
    pub fn fails(&self, args: &[&str]) -> String {
        let out = self.command(args).output().unwrap();
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(lines.len(), 1, "{args:?}: {err}");
        assert!(lines[0].starts_with("error: "), "{args:?}: {err}");
        lines[0].to_string()
    }
}
