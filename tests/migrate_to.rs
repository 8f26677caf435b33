//! `carddesk migrate-to`: a site that outgrew its workstation moves onto
//! the harness' PostgreSQL server with its whole history, and the copy is
//! checked (row counts, the audit trail under the site's keys).

mod common;

use common::backend::TestDb;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn carddesk(db: &Path, demo: bool, args: &[&str]) -> Output {
    let (name, password) = carddesk::desk::DEMO_OPERATOR;
    let mut c = Command::new(env!("CARGO_BIN_EXE_carddesk"));
    if demo {
        c.arg("--demo");
    }
    c.arg("--db")
        .arg(db)
        .args(args)
        .env_remove("CARDDESK_DB")
        .env_remove("RUST_LOG")
        .env("CARDDESK_OPERATOR", name)
        .env("CARDDESK_PASSWORD", password)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn a_demo_site_of_10_000_cardholders_moves_to_the_server_whole() {
    let dir = common::private_dir();
    let source = dir.path().join("site.db");
    ok(carddesk(
        &source,
        true,
        &[
            "demo",
            "generate",
            "--cardholders",
            "10000",
            "--credentials",
            "8000",
            "--requests",
            "3000",
            "--pending",
            "40",
        ],
    ));
    // Some history of the desk's own on top: a denial with its mail.
    let id = ok(carddesk(
        &source,
        true,
        &["request", "add", "--cardholder", "1", "--notify"],
    ));
    ok(carddesk(
        &source,
        true,
        &["request", "deny", id.trim(), "--reason", "moved away"],
    ));
    let before_pending = ok(carddesk(&source, true, &["request", "count"]));

    let target = TestDb::on_server(dir.path(), "server");
    let report = ok(carddesk(
        &source,
        true,
        &["migrate-to", target.path.to_str().unwrap()],
    ));
    assert!(
        report.contains("row counts equal, audit trail intact"),
        "{report}"
    );

    // Every table holds the same rows on both sides.
    let here = carddesk::store::copy::counts(&carddesk::store::connect(&source).unwrap()).unwrap();
    let there =
        carddesk::store::copy::counts(&carddesk::store::connect(&target.path).unwrap()).unwrap();
    assert_eq!(here["cardholder"], 10_000);
    // Each side has one event more than the copy: where it went, where
    // it came from.
    let mut a = here.clone();
    let mut b = there.clone();
    a.remove("audit_event");
    b.remove("audit_event");
    assert_eq!(a, b);
    assert_eq!(here["audit_event"], there["audit_event"]);

    // The copy is a working site: its trail verifies from the command
    // line, it counts the same requests, and it finds a cardholder.
    let verified = ok(carddesk(&target.path, true, &["audit", "verify"]));
    assert!(verified.starts_with("audit trail intact"), "{verified}");
    assert_eq!(
        ok(carddesk(&target.path, true, &["request", "count"])),
        before_pending
    );
    let trail = ok(carddesk(
        &target.path,
        true,
        &["audit", "export", "--since", "1"],
    ));
    assert!(
        trail.contains("database.migrated_from"),
        "the copy says where it came from"
    );

    // A second copy into the same database is refused, changing nothing.
    let there =
        carddesk::store::copy::counts(&carddesk::store::connect(&target.path).unwrap()).unwrap();
    let out = carddesk(
        &source,
        true,
        &["migrate-to", target.path.to_str().unwrap()],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not empty"), "{err}");
    let again =
        carddesk::store::copy::counts(&carddesk::store::connect(&target.path).unwrap()).unwrap();
    assert_eq!(again, there);
}

/// `--db postgres://…` is enough: the URL becomes a connection file in the
/// user's data folder (the site CA from libpq's `sslrootcert`), beside
/// which the site keys are kept; the same URL finds the same site again.
#[test]
fn a_postgres_url_names_the_site_database() {
    let home = common::private_dir();
    let dir = common::private_dir();
    let db = TestDb::on_server(dir.path(), "by_url");
    let ca = common::backend::ca().expect("PG_CA (tests/support/start-postgres.sh)");
    let url = format!("{}?sslrootcert={}", db.url().unwrap(), ca.display());
    let run = |args: &[&str], stdin: &str| {
        use std::io::Write;
        let mut child = Command::new(env!("CARGO_BIN_EXE_carddesk"))
            .arg("--db")
            .arg(&url)
            .args(args)
            .env("HOME", home.path())
            .env("XDG_DATA_HOME", home.path().join("data"))
            .env("XDG_CONFIG_HOME", home.path().join("config"))
            .env_remove("CARDDESK_DB")
            .env_remove("RUST_LOG")
            .env("CARDDESK_OPERATOR", "alice")
            .env_remove("CARDDESK_PASSWORD")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    ok(run(&["init", "--admin", "alice"], "a-long-password\n"));
    assert_eq!(
        ok(run(&["request", "count"], "a-long-password\n")).trim(),
        "0"
    );
    let servers = home.path().join("data").join("carddesk").join("servers");
    let files: Vec<_> = std::fs::read_dir(&servers)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    assert!(files.iter().any(|f| f.ends_with(".toml")), "{files:?}");
    assert!(files.iter().any(|f| f.ends_with(".toml.keys")), "{files:?}");
    let toml = files.iter().find(|f| f.ends_with(".toml")).unwrap();
    let text = std::fs::read_to_string(servers.join(toml)).unwrap();
    assert!(
        text.contains("ca = ") && !text.contains("sslrootcert"),
        "{text}"
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(servers.join(toml))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "it holds the password");
}

/// `carddesk doctor` on a workstation pointed at a new, empty server
/// database: a first start to come, not a missing key file.
#[test]
fn doctor_on_an_empty_server_database_expects_the_first_start() {
    let dir = common::private_dir();
    let db = TestDb::on_server(dir.path(), "empty");
    let out = carddesk(&db.path, false, &["doctor"]);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let line = |name: &str| {
        text.lines()
            .find(|l| l[5..].trim_start().starts_with(name))
            .unwrap_or_else(|| panic!("no {name} line in:\n{text}"))
            .to_string()
    };
    assert!(
        line("database").starts_with("ok") && line("database").contains("empty database"),
        "{text}"
    );
    assert!(
        line("site keys").starts_with("ok") && line("site keys").contains("first start"),
        "{text}"
    );
    // Nothing was created by looking.
    assert!(!common::backend::beside(&db.path, ".keys").exists());
    let conn = carddesk::store::server::connect_any_version(&db.path).unwrap();
    let tables: i64 = conn
        .query_row(
            "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()",
            (),
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(tables, 0, "doctor created tables");
}
