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
