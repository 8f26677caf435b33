//! The tray at login, on a real StatusNotifierWatcher (a private D-Bus
//! session with Debian's status-notifier-watcher; tests/support/
//! tray_session.sh): `carddesk --minimized`, as the autostart entry starts
//! it, is an icon and no window; a click (Activate) opens the window. The
//! count is the operator's to read: none before login, the pending count
//! after.

mod common;

use std::process::Command;

/// A demo database with `pending` requests waiting (demo / demo1234).
fn demo_site(dir: &std::path::Path, pending: u32) -> std::path::PathBuf {
    let db = dir.join("tray-demo.db");
    let out = Command::new(env!("CARGO_BIN_EXE_carddesk"))
        .arg("--demo")
        .arg("--db")
        .arg(&db)
        .args(["demo", "generate", "--cardholders", "20"])
        .args(["--requests", "0", "--pending", &pending.to_string()])
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    db
}

/// Runs the session script; returns its fact lines.
fn tray_session(db: &std::path::Path, extra: &[&str], expect_tooltip: &str) -> Vec<String> {
    session(db, extra, expect_tooltip, true)
}

fn session(
    db: &std::path::Path,
    extra: &[&str],
    expect_tooltip: &str,
    watcher: bool,
) -> Vec<String> {
    assert!(
        std::env::var_os("DISPLAY").is_some(),
        "the tray test needs an X server (run-tests.sh runs the tests under xvfb-run)"
    );
    let out = Command::new("dbus-run-session")
        .arg("--")
        .arg("bash")
        .arg(common::script("tray_session.sh"))
        .arg(env!("CARGO_BIN_EXE_carddesk"))
        .args(["--demo", "--db"])
        .arg(db)
        .arg("--minimized")
        .args(extra)
        .env("EXPECT_TOOLTIP", expect_tooltip)
        .env("NO_WATCHER", if watcher { "0" } else { "1" })
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .output()
        .expect("dbus-run-session (package dbus) runs");
    let facts: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    assert!(
        out.status.success(),
        "{facts:?}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    facts
}

#[test]
fn minimized_at_login_is_an_icon_until_clicked_and_shows_no_count_before_login() {
    let dir = common::private_dir();
    let db = demo_site(dir.path(), 3);
    let facts = tray_session(&db, &[], "log in");
    assert!(
        facts[0].starts_with("item org.kde.StatusNotifierItem-"),
        "{facts:?}"
    );
    assert_eq!(
        facts[1..],
        [
            "tooltip CardDesk: log in to see the pending card requests",
            "window IsUnMapped",
            "activated",
            "window IsViewable",
        ],
        "{facts:?}"
    );
}

#[test]
fn logged_in_the_tray_shows_the_pending_count() {
    let dir = common::private_dir();
    let db = demo_site(dir.path(), 3);
    // --open main logs in as the demo operator once the lists are loaded.
    let facts = tray_session(&db, &["--open", "main"], "Pending card requests");
    assert_eq!(facts[1], "tooltip Pending card requests: 3", "{facts:?}");
}

#[test]
fn minimized_on_a_desktop_without_a_tray_opens_the_window() {
    let dir = common::private_dir();
    let db = demo_site(dir.path(), 1);
    let facts = session(&db, &[], "log in", false);
    // Nothing to click: the window must not hide.
    assert_eq!(facts[2], "window IsViewable", "{facts:?}");
}
