//! Desk is the only door: every command that reads the database needs a
//! logged-in operator, each read checks its privilege, and backup and
//! restore need the manage-database privilege and leave an audit record.

mod common;

use common::cli::{Cli, ADMIN, ADMIN_PASSWORD};

/// Every command that reads the site's data.
const READS: &[&[&str]] = &[
    &["cardholder", "list"],
    &["credential", "list"],
    &["request", "list"],
    &["request", "count"],
    &["outbox", "list"],
    &["site", "list"],
    &["audit", "verify"],
    &["audit", "list"],
    &["mail", "status"],
    &["temp", "list"],
    &["badge", "templates"],
    &["format", "list"],
    &["format", "show", "H10301"],
];

fn seeded() -> Cli {
    let cli = Cli::new();
    cli.ok(&[
        "cardholder",
        "add",
        "--first",
        "Jan",
        "--last",
        "Jansen",
        "--request-card",
    ]);
    cli
}

#[test]
fn every_read_command_refuses_without_a_logged_in_operator() {
    let mut cli = seeded();
    cli.as_operator(None);
    for args in READS {
        let line = cli.fails(args);
        assert!(line.contains("--operator"), "{args:?}: {line}");
        assert!(!line.contains("Jansen"), "{args:?} leaked data: {line}");
    }
    let backup = cli.dir.path().join("copy.db");
    let line = cli.fails(&["backup", backup.to_str().unwrap()]);
    assert!(line.contains("--operator"), "{line}");
    assert!(!backup.exists());

    // An unknown operator, or a wrong password, is no better than none.
    cli.as_operator(Some(("mallory", "not-the-password")));
    for args in READS {
        let line = cli.fails(args);
        assert!(
            line.contains("unknown operator or wrong password"),
            "{args:?}: {line}"
        );
    }
    cli.as_operator(Some((ADMIN, "not-the-password")));
    for args in &READS[..4] {
        let line = cli.fails(args);
        assert!(
            line.contains("unknown operator or wrong password"),
            "{args:?}: {line}"
        );
    }
}

#[test]
fn an_administrator_reads_everything() {
    let cli = seeded();
    for args in READS {
        cli.ok(args);
    }
    assert!(cli.ok(&["cardholder", "list"]).contains("Jansen"));
    assert_eq!(cli.ok(&["request", "count"]).trim(), "1");
}

#[test]
fn a_viewer_can_list_but_not_change() {
    let mut cli = seeded();
    cli.add_operator("vera", "viewer", "viewer-pass");
    cli.as_operator(Some(("vera", "viewer-pass")));
    assert!(cli.ok(&["cardholder", "list"]).contains("Jansen"));
    assert!(cli.ok(&["request", "list"]).contains("Jansen"));
    assert_eq!(cli.ok(&["request", "count"]).trim(), "1");
    cli.ok(&["credential", "list"]);

    // Reads beyond a viewer's privileges name the one missing.
    for (args, privilege) in [
        (&["outbox", "list"][..], "view_outbox"),
        (&["mail", "status"][..], "view_outbox"),
        (&["audit", "list"][..], "view_audit"),
        (&["audit", "verify"][..], "view_audit"),
    ] {
        let line = cli.fails(args);
        assert!(line.contains("vera may not"), "{args:?}: {line}");
        assert!(line.contains(privilege), "{args:?}: {line}");
    }
    // And nothing a viewer tries changes anything.
    let before = cli.ok(&["request", "list", "--json"]);
    for (args, privilege) in [
        (
            &["cardholder", "add", "--first", "A", "--last", "B"][..],
            "manage_cardholders",
        ),
        (
            &["request", "deny", "1", "--reason", "no"][..],
            "deny_requests",
        ),
        (
            &[
                "request",
                "assign",
                "1",
                "--format",
                "H10301",
                "facility=1",
                "card=2",
            ][..],
            "answer_requests",
        ),
        (&["request", "close", "1"][..], "answer_requests"),
        (&["site", "add", "Depot"][..], "manage_settings"),
    ] {
        let line = cli.fails(args);
        assert!(line.contains(privilege), "{args:?}: {line}");
    }
    assert_eq!(cli.ok(&["request", "list", "--json"]), before);
    assert!(!cli.ok(&["cardholder", "list"]).contains("\tA B"));
}

#[test]
fn lists_come_in_pages_with_a_note_on_what_follows() {
    let cli = seeded();
    for i in 0..4 {
        cli.ok(&[
            "cardholder",
            "add",
            "--first",
            &format!("P{i}"),
            "--last",
            "Page",
        ]);
    }
    let out = cli
        .command(&["cardholder", "list", "--limit", "2"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 2);
    let note = String::from_utf8_lossy(&out.stderr);
    assert!(
        note.contains("rows 1–2 of 5; --offset 2 for more"),
        "{note}"
    );
    let rest = cli.ok(&["cardholder", "list", "--limit", "2", "--offset", "4"]);
    assert_eq!(rest.lines().count(), 1);
    let line = cli.fails(&["cardholder", "list", "--limit", "5000"]);
    assert!(line.contains("ask for 1 to 1000"), "{line}");
}

#[test]
fn backup_and_restore_need_manage_database_and_are_audited() {
    let mut cli = seeded();
    cli.add_operator("sam", "supervisor", "supervisor-pass");
    let copy = cli.dir.path().join("copy.db");
    let copy_arg = copy.to_str().unwrap().to_string();

    cli.as_operator(Some(("sam", "supervisor-pass")));
    let line = cli.fails(&["backup", &copy_arg]);
    assert!(line.contains("sam may not back up the database"), "{line}");
    assert!(line.contains("manage_database"), "{line}");
    assert!(!copy.exists());

    cli.as_operator(Some((ADMIN, ADMIN_PASSWORD)));
    if common::backend::sqlite_only("backup and restore of the database file") {
        return;
    }
    cli.ok(&["backup", &copy_arg]);
    assert!(copy.exists());
    let trail = cli.ok(&["audit", "list", "--limit", "2"]);
    assert!(trail.contains("database.backup"), "{trail}");

    // A change after the backup, which the restore rolls back.
    cli.ok(&["cardholder", "add", "--first", "After", "--last", "Backup"]);

    cli.as_operator(Some(("sam", "supervisor-pass")));
    let line = cli.fails(&["restore", &copy_arg]);
    assert!(line.contains("manage_database"), "{line}");
    cli.as_operator(None);
    let line = cli.fails(&["restore", &copy_arg]);
    assert!(line.contains("--operator"), "{line}");

    cli.as_operator(Some((ADMIN, ADMIN_PASSWORD)));
    let out = cli.ok(&["restore", &copy_arg]);
    let kept = out
        .split("kept as ")
        .nth(1)
        .expect("names the kept database")
        .trim()
        .to_string();
    assert!(!cli.ok(&["cardholder", "list"]).contains("After"));
    // The newest change (after the logins of the commands since).
    let trail = cli.ok(&["audit", "list", "--limit", "10"]);
    let trail = trail
        .lines()
        .find(|l| !l.contains("\tlogin"))
        .unwrap_or_default();
    assert!(
        trail.contains(&format!("{ADMIN}\tdatabase.restore")),
        "{trail}"
    );
    cli.ok(&["audit", "verify"]);

    // The database that was replaced says who replaced it.
    let conn = rusqlite::Connection::open(&kept).unwrap();
    let (actor, action): (String, String) = conn
        .query_row(
            "SELECT actor, action FROM audit_event ORDER BY id DESC LIMIT 1",
            (),
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(
        (actor.as_str(), action.as_str()),
        (ADMIN, "database.replaced")
    );
}
