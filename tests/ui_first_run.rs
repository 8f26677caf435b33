//! The README's first command on a brand-new machine: the window starts on
//! a database file that does not exist yet (so the mailer, the desk worker
//! and the migration all start together, the race that used to break every
//! first start), the operator sets up the first administrator, and mail the
//! desk queues reaches the SMTP server without a restart.

mod common;

use carddesk::desk::{Desk, Secret, Security, SmtpSettings};
use carddesk::ui::{boot, DeskApp, Startup};
use common::smtp::{delivered_to, unique_address, PrivateSink};
use common::ui::{step_until, wait_for};
use egui_kittest::kittest::Queryable;
use egui_kittest::Harness;
use std::sync::Arc;

const PASSWORD: &str = "first-start-1";

/// The window as `carddesk` starts it (`ui::boot`: open and migrate, then
/// mailer, readers, printer and desk worker), on `db`.
fn start_window(db: std::path::PathBuf) -> Harness<'static, DeskApp> {
    Harness::builder()
        .with_size([1280.0, 800.0])
        .with_step_dt(0.05)
        .build_eframe(move |cc| {
            let ctx = cc.egui_ctx.clone();
            let notify: carddesk::desk::station::Notify = Arc::new(move || ctx.request_repaint());
            boot(&db, false, Startup::Nothing, notify).expect("the window starts")
        })
}

fn type_into(h: &mut Harness<'_, DeskApp>, label: &str, text: &str) {
    h.get_by_label(label).click();
    h.get_by_label(label).type_text(text);
}

#[test]
fn a_first_start_sets_up_the_desk_and_its_mailer_delivers() {
    let sink = PrivateSink::start();
    let dir = common::private_dir();
    // Where the per-user store would be: the folder is there, the file not.
    let db = dir.path().join("data").join("carddesk.db");
    assert!(!db.exists());
    let mut h = start_window(db.clone());

    wait_for(&mut h, "Set up CardDesk");
    type_into(&mut h, "Name", "alice");
    type_into(&mut h, "E-mail", "alice@site.example");
    type_into(&mut h, "Password", PASSWORD);
    type_into(&mut h, "Repeat password", PASSWORD);
    h.get_by_label("Create").click();
    wait_for(&mut h, "Logged in as alice");

    // The mail server is set from another desk (as `carddesk mail configure`
    // would), on the same file, while the window runs.
    let mut other = Desk::connect(&db).unwrap();
    let alice = other.login("alice", PASSWORD).unwrap();
    other
        .configure_mail(
            &alice,
            &SmtpSettings {
                host: "127.0.0.1".into(),
                port: sink.port,
                security: Security::None,
                user: None,
                password: None::<Secret>,
                from: "desk@site.example".into(),
            },
        )
        .unwrap();

    // Settings → Send test message: queued by the window's desk worker and
    // sent by the window's own mailer, started at the first start.
    h.get_by_label("Settings").click();
    wait_for(&mut h, "Send test message");
    let to = unique_address("first-start");
    type_into(&mut h, "Send a test message to", &to);
    h.get_by_label("Send test message").click();
    step_until(&mut h, "the test message at the SMTP server", |_| {
        !delivered_to(sink.dir.path(), &to).is_empty()
    });
    let got = delivered_to(sink.dir.path(), &to);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].subject, carddesk::desk::TEST_SUBJECT);
    // And the outbox says so (sent, not waiting for a restart).
    wait_for(&mut h, "Outbox: 0 queued, 1 sent, 0 failed");
}

#[test]
fn two_first_starts_at_once_both_open_the_new_database() {
    // Two processes (here: two threads with their own connections) opening
    // a database that does not exist yet: one migrates, the other waits for
    // it and finds it ready; neither fails with "table already exists".
    for round in 0..20 {
        let dir = common::private_dir();
        let db = dir.path().join("carddesk.db");
        let barrier = std::sync::Barrier::new(2);
        std::thread::scope(|s| {
            let opened: Vec<_> = (0..2)
                .map(|_| {
                    s.spawn(|| {
                        barrier.wait();
                        Desk::open(&db).map(|_| ())
                    })
                })
                .collect();
            for o in opened {
                if let Err(e) = o.join().unwrap() {
                    panic!("round {round}: a first start failed: {e}");
                }
            }
        });
    }
}
