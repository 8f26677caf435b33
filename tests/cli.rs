//! The command line as scripts use it: exit codes, `error:` lines, and the
//! whole card-request procedure end to end on a real database file.

mod common;

use common::cli::Cli;

#[test]
fn request_procedure_end_to_end() {
    let cli = Cli::new();
    let id = cli.ok(&[
        "cardholder",
        "add",
        "--first",
        "Jan",
        "--last",
        "Jansen",
        "--email",
        "jan@example.org",
        "--request-card",
        "--reason",
        "no printer",
        "--notify",
    ]);
    assert_eq!(id.trim(), "1");
    assert_eq!(cli.ok(&["request", "count"]).trim(), "1");

    let listed: serde_json::Value =
        serde_json::from_str(&cli.ok(&["request", "list", "--json"])).unwrap();
    let req = &listed[0];
    assert_eq!(req["cardholder_id"], 1);
    assert_eq!(req["status"], "pending");
    assert_eq!(req["notify_requester"], true);
    assert_eq!(req["credential_id"], serde_json::Value::Null);
    let rid = req["id"].as_i64().unwrap().to_string();

    cli.ok(&[
        "request",
        "assign",
        &rid,
        "--format",
        "H10301",
        "facility=12",
        "card=345",
    ]);
    cli.ok(&["request", "close", &rid]);
    assert_eq!(cli.ok(&["request", "count"]).trim(), "0");

    let creds: serde_json::Value =
        serde_json::from_str(&cli.ok(&["credential", "list", "--json"])).unwrap();
    assert_eq!(creds[0]["format"], "H10301");
    assert_eq!(creds[0]["value"], "00000110000000001010110010");
    assert_eq!(creds[0]["fields"]["facility"], 12);
    assert_eq!(creds[0]["state"], "active");
    assert_eq!(creds[0]["cardholder_id"], 1);

    let outbox: serde_json::Value =
        serde_json::from_str(&cli.ok(&["outbox", "list", "--json"])).unwrap();
    assert_eq!(outbox.as_array().unwrap().len(), 1);
    assert_eq!(outbox[0]["to_address"], "alice@site.example");
    assert_eq!(outbox[0]["status"], "pending");

    let verified = cli.ok(&["audit", "verify"]);
    assert!(verified.starts_with("audit trail intact: "), "{verified}");

    // Editing any audit row by hand breaks the chain.
    let conn = carddesk::store::connect(&cli.db()).unwrap();
    conn.execute("UPDATE audit_event SET after = '{}' WHERE id = 3", ())
        .unwrap();
    drop(conn);
    let err = cli.fails(&["audit", "verify"]);
    assert!(err.contains("audit trail broken at event 3"), "{err}");
}

#[test]
fn format_commands() {
    let cli = Cli::new();
    assert_eq!(
        cli.ok(&["format", "encode", "H10301", "facility=1", "card=1"])
            .trim(),
        "10000000100000000000000010"
    );
    assert_eq!(
        cli.ok(&["format", "decode", "H10301", "10000000100000000000000010"]),
        "facility=1\ncard=1\nparity=ok\n"
    );
    assert!(cli
        .ok(&["format", "decode", "H10301", "10000000100000000000000011"])
        .ends_with("parity=bad\n"));
    assert_eq!(
        cli.fails(&["format", "encode", "H10301", "facility=1", "card=70000"]),
        "error: card 70000 is out of range for H10301 (0–65535)"
    );
    assert_eq!(
        cli.fails(&["format", "decode", "H10301", "1010"]),
        "error: H10301 takes 26 bits, got 4"
    );
    assert!(cli
        .fails(&["format", "encode", "H2", "card=1"])
        .contains("unknown card format \"H2\""));
    assert!(cli.ok(&["format", "list"]).contains("C1K48"));
}

#[test]
fn bad_input_is_refused_and_changes_nothing() {
    let cli = Cli::new();
    cli.ok(&[
        "cardholder",
        "add",
        "--first",
        "Hal",
        "--last",
        "Holder",
        "--request-card",
    ]);
    cli.ok(&[
        "request",
        "assign",
        "1",
        "--format",
        "H10301",
        "facility=1",
        "card=1",
    ]);
    cli.ok(&[
        "cardholder",
        "add",
        "--first",
        "Ann",
        "--last",
        "Asker",
        "--request-card",
    ]);
    let before = cli.changes();

    assert_eq!(cli.fails(&["request", "assign", "2", "--format", "H10301", "facility=1", "card=1"]),
        "error: credential H10301 1:1 is already assigned to Hal Holder; it cannot be given to Ann Asker");
    assert_eq!(
        cli.fails(&[
            "request",
            "assign",
            "2",
            "--format",
            "H10301",
            "facility=300",
            "card=1"
        ]),
        "error: facility 300 is out of range for H10301 (0–255)"
    );
    assert_eq!(
        cli.fails(&["request", "close", "2"]),
        "error: card request 2 has no card connected yet; connect a card before closing it"
    );
    assert_eq!(
        cli.fails(&["request", "deny", "9"]),
        "error: card request 9 does not exist"
    );
    assert_eq!(cli.changes(), before, "no event but logins was written");
    cli.ok(&["audit", "verify"]);
    assert_eq!(cli.ok(&["request", "count"]).trim(), "2");

    let mut wrong = cli.command(&["request", "deny", "2"]);
    wrong.env("CARDDESK_PASSWORD", "guess");
    let out = wrong.output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim(),
        "error: unknown operator or wrong password"
    );

    // Usage errors exit 2.
    let out = cli.command(&["request", "frobnicate"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn import_from_csv() {
    let cli = Cli::new();
    let csv = cli.dir.path().join("people.csv");
    std::fs::write(
        &csv,
        "first_name,last_name,email\nAnn,One,ann@example.org\nBen,,\n",
    )
    .unwrap();
    let err = cli.fails(&["import", "cardholders", csv.to_str().unwrap()]);
    assert!(
        err.contains("line 3: last name: must not be empty"),
        "{err}"
    );
    assert_eq!(cli.ok(&["cardholder", "list"]), "");
    let out = cli.ok(&["import", "cardholders", csv.to_str().unwrap(), "--skip-bad"]);
    assert_eq!(out.trim(), "imported 1 cardholder(s)");
    let list: serde_json::Value =
        serde_json::from_str(&cli.ok(&["cardholder", "list", "--json"])).unwrap();
    assert_eq!(list[0]["last_name"], "One");
}

#[test]
fn init_twice_is_refused() {
    let cli = Cli::new();
    let out = cli.run_with_stdin(&["init", "--admin", "bob"], "another-pass\n");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("already has operators"));
}

#[test]
fn an_administrator_adds_a_custom_format_without_code() {
    let cli = Cli::new();
    // Start from H10301's definition: 8-bit site code renamed, one bit wider card.
    let mut def: serde_json::Value =
        serde_json::from_str(&cli.ok(&["format", "show", "H10301"])).unwrap();
    def["name"] = "SITE27".into();
    def["description"] = "Site 27-bit".into();
    def["bits"] = 27.into();
    def["fields"][1]["len"] = 17.into();
    def["parity"][0]["covers"] = serde_json::json!((1..=13).collect::<Vec<u16>>());
    def["parity"][1]["position"] = 26.into();
    def["parity"][1]["covers"] = serde_json::json!((14..=25).collect::<Vec<u16>>());
    let file = cli.dir.path().join("site27.json");
    std::fs::write(&file, def.to_string()).unwrap();
    assert_eq!(
        cli.ok(&["format", "add", file.to_str().unwrap()]).trim(),
        "added card format SITE27"
    );
    assert!(cli
        .ok(&["format", "list"])
        .contains("SITE27\tSite 27-bit\tfacility 0–255, card 0–131071"));
    let bits = cli.ok(&["format", "encode", "SITE27", "facility=1", "card=100000"]);
    assert_eq!(bits.trim().len(), 27);
    assert_eq!(
        cli.ok(&["format", "decode", "SITE27", bits.trim()]),
        "facility=1\ncard=100000\nparity=ok\n"
    );
    cli.ok(&[
        "cardholder",
        "add",
        "--first",
        "Ann",
        "--last",
        "One",
        "--request-card",
    ]);
    cli.ok(&[
        "request",
        "assign",
        "1",
        "--format",
        "SITE27",
        "facility=1",
        "card=100000",
    ]);

    // A broken definition and a second copy are refused with their reasons.
    def["fields"][1]["start"] = 5.into();
    std::fs::write(&file, def.to_string()).unwrap();
    assert!(cli
        .fails(&["format", "add", file.to_str().unwrap()])
        .contains("bit 5 is used twice"));
}

#[test]
fn backup_and_restore_bring_the_data_back() {
    let cli = Cli::new();
    if common::backend::on_postgres() {
        // The server backs itself up: the command says how, and writes nothing.
        let backup = cli.dir.path().join("backup.db");
        let err = cli.fails(&["backup", backup.to_str().unwrap()]);
        assert!(err.contains("pg_dump --format=custom"), "{err}");
        assert!(err.contains(".keys"), "{err}");
        assert!(!err.contains("carddesk-test-only"), "no password: {err}");
        assert!(!backup.exists());
        return;
    }
    cli.ok(&[
        "cardholder",
        "add",
        "--first",
        "Ann",
        "--last",
        "One",
        "--request-card",
    ]);
    let backup = cli.dir.path().join("backup.db");
    cli.ok(&["backup", backup.to_str().unwrap()]);
    assert!(cli
        .fails(&["backup", backup.to_str().unwrap()])
        .contains("already exists"));
    cli.ok(&["request", "deny", "1"]);
    assert_eq!(cli.ok(&["request", "count"]).trim(), "0");

    let out = cli.ok(&["restore", backup.to_str().unwrap()]);
    assert!(out.contains("the previous database is kept as"), "{out}");
    assert_eq!(cli.ok(&["request", "count"]).trim(), "1");
    assert!(cli
        .ok(&["audit", "verify"])
        .starts_with("audit trail intact"));

    let junk = cli.dir.path().join("junk.db");
    std::fs::write(&junk, "not a database at all, just text").unwrap();
    assert!(cli
        .fails(&["restore", junk.to_str().unwrap()])
        .contains("junk.db"));
    assert_eq!(cli.ok(&["request", "count"]).trim(), "1");
}

/// A doctor line: "<verdict> <check> <detail>".
fn doctor_line<'a>(out: &'a str, check: &str) -> &'a str {
    out.lines()
        .find(|l| l[5..].trim_start().starts_with(check))
        .unwrap_or_else(|| panic!("no {check} line in:\n{out}"))
}

#[test]
fn doctor_checks_a_new_machine_then_the_site_with_its_administrator() {
    let dir = common::private_dir();
    let db = dir.path().join("data").join("carddesk.db");
    let doctor = |args: &[&str], who: Option<(&str, &str)>| {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_carddesk"));
        c.arg("--db").arg(&db).args(args).env_remove("RUST_LOG");
        c.env_remove("CARDDESK_OPERATOR")
            .env_remove("CARDDESK_PASSWORD");
        if let Some((name, password)) = who {
            c.env("CARDDESK_OPERATOR", name)
                .env("CARDDESK_PASSWORD", password);
        }
        c.output().unwrap()
    };
    // A new machine: nothing is created, the real pcscd and CUPS answer.
    let out = doctor(&["doctor"], None);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(doctor_line(&text, "database").starts_with("ok"), "{text}");
    assert!(
        doctor_line(&text, "database").contains("first start"),
        "{text}"
    );
    assert!(
        !db.exists() && !db.parent().unwrap().exists(),
        "doctor created files"
    );
    let readers = doctor_line(&text, "card readers");
    assert!(
        readers.starts_with("ok") && readers.contains("Virtual PCD"),
        "{text}"
    );
    let printers = doctor_line(&text, "printers");
    let queue = std::env::var("CARD_QUEUE").unwrap_or_else(|_| "CardPrinter".into());
    assert!(
        printers.starts_with("ok") && printers.contains(&queue),
        "{text}"
    );
    // (ok, or a warning on a nearly full disk: not a failure either way here)
    assert!(
        !doctor_line(&text, "free disk").starts_with("FAIL"),
        "{text}"
    );

    // The site, set up: without an operator the site checks are skipped,
    // with its administrator the audit trail holds and mail is not set up.
    let mut init = std::process::Command::new(env!("CARGO_BIN_EXE_carddesk"));
    init.arg("--db")
        .arg(&db)
        .args(["init", "--admin", "root-admin"]);
    init.stdin(std::process::Stdio::piped());
    let mut child = init.spawn().unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"doctor-admin-pass\n")
        .unwrap();
    assert!(child.wait().unwrap().success());
    let who = Some(("root-admin", "doctor-admin-pass"));
    let text = String::from_utf8(doctor(&["doctor"], None).stdout).unwrap();
    assert!(
        doctor_line(&text, "audit trail").starts_with("skip"),
        "{text}"
    );
    assert!(
        doctor_line(&text, "database").contains("integrity ok"),
        "{text}"
    );
    let out = doctor(&["doctor"], who);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success(), "{text}");
    assert!(
        doctor_line(&text, "audit trail").starts_with("ok"),
        "{text}"
    );
    assert!(
        doctor_line(&text, "audit trail").contains("the chain holds"),
        "{text}"
    );
    assert!(
        doctor_line(&text, "mail server").starts_with("warn"),
        "{text}"
    );

    // Mail set to the real SMTP server: it greets; set to a closed port:
    // the failure is named and doctor exits 1.
    let host = std::env::var("SMTP_HOST").unwrap_or_else(|_| "127.0.0.1".into());
    let port = std::env::var("SMTP_PORT").unwrap_or_else(|_| "8025".into());
    for (port, expect_ok) in [(port.as_str(), true), ("9", false)] {
        let out = doctor(
            &[
                "mail",
                "configure",
                "--host",
                &host,
                "--port",
                port,
                "--security",
                "none",
                "--from",
                "desk@site.example",
            ],
            who,
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let out = doctor(&["doctor"], who);
        let text = String::from_utf8(out.stdout).unwrap();
        let mail = doctor_line(&text, "mail server");
        if expect_ok {
            assert!(out.status.success(), "{text}");
            assert!(
                mail.starts_with("ok") && mail.contains("answers: 220"),
                "{text}"
            );
        } else {
            assert_eq!(out.status.code(), Some(1), "{text}");
            assert!(
                mail.starts_with("FAIL") && mail.contains("cannot be reached"),
                "{text}"
            );
        }
    }
}

#[test]
fn doctor_refuses_a_damaged_or_newer_database_and_changes_neither() {
    if common::backend::sqlite_only("overwriting pages of the database file") {
        return;
    }
    let cli = Cli::new();
    let db = cli.db();
    // Written by a newer CardDesk.
    rusqlite::Connection::open(&db)
        .unwrap()
        .pragma_update(None, "user_version", 999)
        .unwrap();
    let before = std::fs::read(&db).unwrap();
    let out = cli.command(&["doctor"]).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(doctor_line(&text, "database").starts_with("FAIL"), "{text}");
    assert!(
        doctor_line(&text, "database").contains("newer CardDesk"),
        "{text}"
    );
    assert_eq!(
        std::fs::read(&db).unwrap(),
        before,
        "doctor changed the file"
    );

    // Damaged: a page in the middle overwritten.
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.pragma_update(None, "user_version", carddesk::store::schema_version())
        .unwrap();
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", (), |_| Ok(()))
        .unwrap();
    drop(conn);
    let mut bytes = std::fs::read(&db).unwrap();
    let page = 4096;
    assert!(bytes.len() > 8 * page);
    for b in &mut bytes[3 * page..5 * page] {
        *b = 0x5a;
    }
    std::fs::write(&db, &bytes).unwrap();
    let out = cli.command(&["doctor"]).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(1), "{text}");
    let line = doctor_line(&text, "database");
    assert!(
        line.starts_with("FAIL") && line.contains("restore"),
        "{text}"
    );
}

#[test]
fn doctor_with_a_wrong_password_still_prints_every_machine_check() {
    let mut cli = Cli::new();
    cli.as_operator(Some((common::cli::ADMIN, "not-the-password")));
    let out = cli.command(&["doctor"]).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(1), "{text}");
    for check in [
        "version",
        "data folder",
        "database",
        "card readers",
        "printers",
        "free disk",
    ] {
        doctor_line(&text, check);
    }
    let site = doctor_line(&text, "site checks");
    assert!(
        site.starts_with("FAIL") && site.contains("not run"),
        "{text}"
    );
}
