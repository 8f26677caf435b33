//! A site's files and secrets as an attacker with a copy of the folder
//! would see them: owner-only files, no secret in clear in the database,
//! the key file that opens them kept apart (and missed loudly when gone),
//! backups with and without keys, and demo data only in demo databases.

mod common;

use common::cli::{Cli, ADMIN_PASSWORD};
use common::cups::{queue, require_cups};
use common::{contains, database_bytes};
use serial_test::serial;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

/// Every file under `dir` is 0600 and every folder 0700.
fn assert_private(dir: &Path) {
    assert_eq!(mode(dir), 0o700, "{}", dir.display());
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            assert_private(&path);
        } else {
            assert_eq!(
                mode(&path),
                0o600,
                "{} is {:o}",
                path.display(),
                mode(&path)
            );
        }
    }
}

fn carddesk(db: &Path, args: &[&str], envs: &[(&str, &str)]) -> std::process::Output {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_carddesk"));
    c.arg("--db").arg(db).args(args).env_remove("CARDDESK_DB");
    for (k, v) in envs {
        c.env(k, v);
    }
    c.output().unwrap()
}

fn ok(out: std::process::Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

const AS_ADMIN: [(&str, &str); 2] = [
    ("CARDDESK_OPERATOR", "alice"),
    ("CARDDESK_PASSWORD", ADMIN_PASSWORD),
];

#[test]
#[serial]
fn files_are_the_owner_s_and_secrets_are_never_in_clear() {
    let _printer = require_cups();
    let top = common::private_dir();
    // CardDesk makes the data folder itself, as on a first start.
    let site = top.path().join("site");
    let db = site.join("carddesk.db");
    let init = {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_carddesk"));
        c.arg("--db")
            .arg(&db)
            .args(["init", "--admin", "alice"])
            .env_remove("CARDDESK_DB")
            .env("CARDDESK_PASSWORD", ADMIN_PASSWORD);
        c.output().unwrap()
    };
    ok(init);
    assert_private(&site);

    // A mail password and a produced temporary card (PIN letter, PUK).
    let smtp_password = "Sm7p-Pa55word-Known";
    ok(carddesk(
        &db,
        &[
            "mail",
            "configure",
            "--host",
            "127.0.0.1",
            "--port",
            "2525",
            "--security",
            "none",
            "--from",
            "desk@site.example",
            "--user",
            "desk",
        ],
        &[
            AS_ADMIN[0],
            AS_ADMIN[1],
            ("CARDDESK_SMTP_PASSWORD", smtp_password),
        ],
    ));
    ok(carddesk(
        &db,
        &["temp", "request", "--count", "1"],
        &AS_ADMIN,
    ));
    let letters = site.join("letters");
    std::fs::create_dir(&letters).unwrap();
    std::fs::set_permissions(&letters, std::fs::Permissions::from_mode(0o700)).unwrap();
    ok(carddesk(
        &db,
        &[
            "temp",
            "issue",
            "1",
            "--printer",
            &queue(),
            "--pin-letters",
            letters.to_str().unwrap(),
        ],
        &AS_ADMIN,
    ));
    assert_eq!(std::fs::read_dir(&letters).unwrap().count(), 1);
    let puk = ok(carddesk(&db, &["temp", "reveal-puk", "1"], &AS_ADMIN));
    let puk = puk.trim();
    assert!(
        puk.len() >= 8 && puk.chars().all(|c| c.is_ascii_digit()),
        "{puk}"
    );

    // A backup, with the key file beside it.
    let backup = site.join("backup.db");
    ok(carddesk(
        &db,
        &["backup", backup.to_str().unwrap(), "--with-keys"],
        &AS_ADMIN,
    ));
    assert!(site.join("backup.db.keys").exists());

    // A first window start on another new database in its own new folder.
    let window_db = top.path().join("window").join("carddesk.db");
    let notify: carddesk::desk::station::Notify = std::sync::Arc::new(|| {});
    let app = carddesk::ui::boot(&window_db, false, carddesk::ui::Startup::Nothing, notify)
        .expect("the window starts");
    drop(app);

    assert_private(&site);
    assert_private(&top.path().join("window"));

    // Nothing secret in the database, its WAL or the backup.
    for file in [db.as_path(), backup.as_path()] {
        let bytes = database_bytes(file);
        assert!(
            !contains(&bytes, smtp_password.as_bytes()),
            "SMTP password in clear in {}",
            file.display()
        );
        assert!(
            !contains(&bytes, puk.as_bytes()),
            "PUK in clear in {}",
            file.display()
        );
    }
    // The CA key, when there is one, is sealed too (no PEM header).
    let ca = site.join("carddesk.db-ca-key.pem");
    if ca.exists() {
        assert!(!std::fs::read_to_string(ca).unwrap().contains("PRIVATE KEY"));
    }

    // A loosened file is warned about, with the fix.
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = carddesk(&db, &["request", "count"], &AS_ADMIN);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains(&format!(
            "warning: {} is 644; it should be 600",
            db.display()
        )),
        "{err}"
    );
}

#[test]
fn a_missing_or_foreign_key_file_is_explained() {
    let cli = Cli::new();
    cli.ok(&["cardholder", "add", "--first", "Jan", "--last", "Jansen"]);
    let keys = common::backend::beside(&cli.db(), ".keys");
    let aside = cli.dir.path().join("elsewhere.keys");
    std::fs::rename(&keys, &aside).unwrap();
    let err = cli.fails(&["request", "count"]);
    assert!(
        err.contains(&format!("{} is missing", keys.display())),
        "{err}"
    );
    assert!(err.contains("--with-keys"), "{err}");
    assert!(!keys.exists(), "no new key file is made in its place");

    // Another database's key file is no substitute.
    let other = Cli::new();
    std::fs::copy(common::backend::beside(&other.db(), ".keys"), &keys).unwrap();
    let err = cli.fails(&["request", "count"]);
    assert!(err.contains("belongs to another database"), "{err}");

    std::fs::rename(&aside, &keys).unwrap();
    assert!(cli.ok(&["cardholder", "list"]).contains("Jansen"));
    cli.ok(&["audit", "verify"]);
}

#[test]
fn a_backup_restores_with_its_keys_on_a_new_machine() {
    if common::backend::sqlite_only("restoring a backup file") {
        return;
    }
    let cli = Cli::new();
    cli.ok(&["cardholder", "add", "--first", "Jan", "--last", "Jansen"]);
    let copy = cli.dir.path().join("copy.db");
    let bare = cli.dir.path().join("bare.db");
    cli.ok(&["backup", copy.to_str().unwrap(), "--with-keys"]);
    cli.ok(&["backup", bare.to_str().unwrap()]);
    assert!(!cli.dir.path().join("bare.db.keys").exists());

    // A new machine: no database, no key file. Without the keys the backup
    // cannot be put in place; with them it can, and its trail verifies.
    let new = common::private_dir();
    let db = new.path().join("restored.db");
    let out = carddesk(&db, &["restore", bare.to_str().unwrap()], &AS_ADMIN);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("--with-keys"), "{err}");
    assert!(!db.exists());
    ok(carddesk(
        &db,
        &["restore", copy.to_str().unwrap()],
        &AS_ADMIN,
    ));
    assert!(ok(carddesk(&db, &["cardholder", "list"], &AS_ADMIN)).contains("Jansen"));
    let verified = ok(carddesk(&db, &["audit", "verify"], &AS_ADMIN));
    assert!(verified.starts_with("audit trail intact"), "{verified}");
    let trail = ok(carddesk(
        &db,
        &["audit", "list", "--limit", "20"],
        &AS_ADMIN,
    ));
    assert!(trail.contains("database.restore"), "{trail}");
}

#[test]
fn demo_runs_only_on_a_demo_database() {
    let cli = Cli::new();
    // The CLI's --demo on a real site's database is refused.
    let err = cli.fails(&["--demo", "request", "count"]);
    assert!(
        err.contains("is a real site's database, not a demo one"),
        "{err}"
    );
    // So is the window's.
    let notify: carddesk::desk::station::Notify = std::sync::Arc::new(|| {});
    let refused = carddesk::ui::boot(&cli.db(), true, carddesk::ui::Startup::Nothing, notify);
    let err = refused.err().expect("refused");
    assert!(err.contains("not a demo one"), "{err}");
    // And demo data cannot be loaded into it.
    let mut desk = carddesk::desk::Desk::open(&cli.db()).unwrap();
    let admin = desk.login("alice", ADMIN_PASSWORD).unwrap();
    let err = desk.seed_demo(&admin).unwrap_err();
    assert!(
        err.to_string()
            .contains("only into a database created with --demo"),
        "{err}"
    );
    assert!(!desk.is_demo().unwrap());
    drop(desk);
    assert!(!cli.ok(&["operator", "list"]).contains("sam"));

    // A new database started with --demo is one, with its demo operators.
    let dir = common::private_dir();
    let demo_db = dir.path().join("demo.db");
    let notify: carddesk::desk::station::Notify = std::sync::Arc::new(|| {});
    let app = carddesk::ui::boot(&demo_db, true, carddesk::ui::Startup::Nothing, notify).unwrap();
    drop(app);
    let desk = carddesk::desk::Desk::open(&demo_db).unwrap();
    assert!(desk.is_demo().unwrap());
    desk.login("sam", "demo1234").unwrap();
}
