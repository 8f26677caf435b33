//! Shared set-up for the integration tests: a real database file in a
//! temporary folder, an administrator, and a way to prove nothing changed.
#![allow(dead_code)]

pub mod backend;
pub mod cli;
pub mod cups;
pub mod osdp;
pub mod smtp;

use carddesk::desk::RequestFields;
use carddesk::desk::{CardholderInput, Desk, NewOperatorInput, Session};
use carddesk::domain::Role;
use tempfile::TempDir;

pub struct TestDesk {
    pub dir: TempDir,
    pub desk: Desk,
    pub admin: Session,
    /// Last: a server database is dropped after the desk closes.
    pub database: backend::TestDb,
}

pub const PASSWORD: &str = "correct horse";

/// Whether `needle` occurs in `haystack`.
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// Every byte of a database as it sits on disk: the file and its WAL.
pub fn database_bytes(db: &std::path::Path) -> Vec<u8> {
    let mut bytes = std::fs::read(db).unwrap();
    let mut wal = db.as_os_str().to_owned();
    wal.push("-wal");
    if let Ok(more) = std::fs::read(std::path::PathBuf::from(wal)) {
        bytes.extend(more);
    }
    bytes
}

/// A temporary folder only its owner may enter, as CardDesk's data folder
/// must be (a looser one is warned about on every command).
pub fn private_dir() -> TempDir {
    use std::os::unix::fs::PermissionsExt;
    tempfile::Builder::new()
        .permissions(std::fs::Permissions::from_mode(0o700))
        .tempdir()
        .unwrap()
}

impl TestDesk {
    pub fn new() -> TestDesk {
        let dir = private_dir();
        let database = backend::TestDb::new(dir.path(), "carddesk");
        let mut desk = Desk::open(&database.path).unwrap();
        let admin = desk
            .init_admin("admin", Some("admin@site.example"), PASSWORD)
            .unwrap();
        TestDesk {
            dir,
            desk,
            admin,
            database,
        }
    }

    /// The database file, or the server database's connection file.
    pub fn db_path(&self) -> std::path::PathBuf {
        self.database.path.clone()
    }

    /// A connection of the test's own to the database file, to look at (or
    /// tamper with) what the desk wrote, as an outside observer would.
    pub fn db(&self) -> carddesk::store::Connection {
        carddesk::store::connect(&self.db_path()).unwrap()
    }

    pub fn operator(&mut self, name: &str, role: Role, email: Option<&str>) -> Session {
        self.desk
            .add_operator(
                &self.admin,
                &NewOperatorInput {
                    name,
                    email,
                    role,
                    password: PASSWORD,
                    language: "en",
                },
            )
            .unwrap();
        self.desk.login(name, PASSWORD).unwrap()
    }

    pub fn cardholder(&mut self, first: &str, last: &str) -> i64 {
        self.desk
            .create_cardholder(&self.admin, &person(first, last), None)
            .unwrap()
            .0
    }

    /// A cardholder with a pending card request raised by `by`.
    pub fn request_for(&mut self, by: &Session, first: &str, last: &str, notify: bool) -> i64 {
        self.desk
            .create_cardholder(by, &person(first, last), Some(&request(notify)))
            .unwrap()
            .1
            .unwrap()
    }

    /// Every row of every table, to prove an operation changed nothing.
    pub fn dump(&self) -> String {
        let conn = self.db();
        let mut out = String::new();
        let tables = carddesk::store::data_tables(&conn).unwrap();
        for t in tables {
            let mut stmt = conn.prepare(&format!("SELECT * FROM \"{t}\"")).unwrap();
            let rows = stmt
                .query_map((), |r| {
                    Ok((0..r.column_count())
                        .map(|i| format!("{:?}", r.get_value(i).unwrap()))
                        .collect::<Vec<_>>()
                        .join("|"))
                })
                .unwrap();
            for row in rows {
                out.push_str(&format!("{t}: {}\n", row.unwrap()));
            }
        }
        out
    }
}

pub fn person(first: &str, last: &str) -> CardholderInput {
    CardholderInput {
        first_name: first.into(),
        last_name: last.into(),
        email: Some(format!("{}@example.org", first.to_lowercase())),
        ..Default::default()
    }
}

pub fn request(notify: bool) -> RequestFields {
    RequestFields {
        reason: "printer out of ribbon".into(),
        badge_template: "Standard".into(),
        notify_requester: notify,
        ship_to_site_id: None,
    }
}

pub fn manual(format: &str, fields: &[(&str, &str)]) -> carddesk::desk::ConnectCard {
    carddesk::desk::ConnectCard::Manual {
        format: format.into(),
        fields: fields
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    }
}

/// An exclusive lock on one shared test device ("card-printer",
/// "virtual-reader"), held until dropped. It is a file lock (flock) in the
/// temp folder, so it serialises tests across test binaries and processes,
/// not just threads. Take the printer before the reader when both are needed.
pub struct DeviceLock(#[allow(dead_code)] std::fs::File);

pub fn device_lock(name: &str) -> DeviceLock {
    use std::os::fd::AsRawFd;
    let path = std::env::temp_dir().join(format!("carddesk-test-{name}.lock"));
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .unwrap_or_else(|e| panic!("cannot open {}: {e}", path.display()));
    // SAFETY: flock on a descriptor we own; released when the file closes.
    let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) };
    assert_eq!(
        rc,
        0,
        "flock {}: {}",
        path.display(),
        std::io::Error::last_os_error()
    );
    DeviceLock(file)
}

/// Where tests/support keeps the services' state (pids, logs, output).
pub fn harness_state() -> std::path::PathBuf {
    std::env::var_os("HARNESS_STATE")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from("/tmp/carddesk-harness"))
}

/// A script of the test harness in tests/support.
pub fn script(name: &str) -> String {
    format!("{}/tests/support/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// The virtual card reader: pcscd with vsmartcard vpcd
/// (tests/support/start-pcsc.sh) and a card put on it by
/// tests/support/present_card.py.
pub mod pcsc {
    use std::ffi::OsStr;
    use std::io::{BufRead, BufReader};
    use std::process::{Child, Command, Stdio};
    use std::time::{Duration, Instant};

    /// The reader `present_card.py` feeds.
    pub const READER: &str = "Virtual PCD 00 00";
    /// Upper bound for something pcscd reports within about a second; only
    /// hit when the behaviour under test is broken.
    pub const PATIENCE: Duration = Duration::from_secs(20);

    /// Waits until pcscd reports [`READER`] empty (or, with `present`, a
    /// card). pcscd polls the virtual reader about every 400 ms, so a card
    /// taken off and another put on within one round looks like one card
    /// that never left — to every PC/SC client. Tests therefore let pcscd
    /// see each removal, as a real swap would.
    pub fn wait_for_reader(present: bool) {
        use pcsc::{Context, ReaderState, Scope, State};
        let ctx = Context::establish(Scope::User).unwrap_or_else(|e| {
            panic!("pcscd is not running ({e}); start it as root with tests/support/start-pcsc.sh")
        });
        let readers = ctx.list_readers_owned().unwrap_or_default();
        assert!(
            readers.iter().any(|r| r.to_string_lossy() == READER),
            "pcscd has no reader {READER:?} ({readers:?}); start it with tests/support/start-pcsc.sh"
        );
        let mut states = [ReaderState::new(
            std::ffi::CString::new(READER).unwrap(),
            State::UNAWARE,
        )];
        let want = if present {
            State::PRESENT
        } else {
            State::EMPTY
        };
        let deadline = Instant::now() + PATIENCE;
        loop {
            match ctx.get_status_change(Duration::from_secs(1), &mut states) {
                Ok(()) | Err(pcsc::Error::Timeout) => {}
                Err(e) => panic!("reader state: {e}"),
            }
            if states[0].event_state().contains(want) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{READER} never became {want:?}: is another present_card.py running?"
            );
            states[0].sync_current_state();
        }
    }

    /// A virtual card on the reader for as long as this lives; taking it
    /// off waits until pcscd sees it gone.
    pub struct VirtualCard {
        pub child: Child,
    }

    impl VirtualCard {
        /// A card with this UID (answers `FF CA`).
        pub fn present(uid: &str) -> VirtualCard {
            VirtualCard::present_with(uid, &[])
        }

        /// `present_card.py --uid UID ARGS…`, once it says the card is in.
        pub fn present_with(uid: &str, args: &[&OsStr]) -> VirtualCard {
            let mut child = Command::new(super::script("present_card.py"))
                .args(["--uid", uid])
                .args(args)
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .spawn()
                .expect("run present_card.py");
            let mut line = String::new();
            BufReader::new(child.stdout.as_mut().unwrap())
                .read_line(&mut line)
                .unwrap();
            assert!(
                line.starts_with("CARD_INSERTED"),
                "present_card.py did not insert the card (got {line:?}, exit {:?})",
                child.try_wait()
            );
            VirtualCard { child }
        }

        /// Takes the card off the reader and waits until it is gone.
        pub fn remove(mut self) {
            self.stop();
        }

        fn stop(&mut self) {
            if let Ok(None) = self.child.try_wait() {
                let _ = Command::new("kill")
                    .args(["-TERM", &self.child.id().to_string()])
                    .status();
            }
            let _ = self.child.wait();
            wait_for_reader(false);
        }
    }

    impl Drop for VirtualCard {
        fn drop(&mut self) {
            self.stop();
        }
    }
}

/// The desk window driven the way an operator uses it, by visible labels
/// (egui_kittest, no GPU needed).
pub mod ui {
    use super::{TestDesk, PASSWORD};
    use carddesk::devices::printer::CardPrinter;
    use carddesk::ui::{DeskApp, DeskWorker, Options};
    use egui_kittest::kittest::Queryable;
    use egui_kittest::Harness;
    use std::path::PathBuf;
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    /// How long a step may take to show; only reached when it never does.
    const PATIENCE: Duration = Duration::from_secs(30);

    /// The window on `db` (already opened by `Desk::open`) with `options`.
    pub fn open_app_on(db: PathBuf, options: Options) -> Harness<'static, DeskApp> {
        Harness::builder()
            .with_size([1280.0, 800.0])
            .with_step_dt(0.05)
            .build_eframe(move |cc| {
                // The window's own fonts (DejaVu Sans, and egui's emoji
                // font the file dialog's icons need).
                carddesk::ui::install_fonts(&cc.egui_ctx);
                let ctx = cc.egui_ctx.clone();
                let notify: carddesk::devices::Notify = Arc::new(move || ctx.request_repaint());
                let worker = DeskWorker::spawn(db, notify).unwrap();
                DeskApp::new(worker, options)
            })
    }

    /// The window on the test's database, with a card printer if given
    /// (the simulated one: the CUPS adapter has its own tests).
    pub fn open_app(
        t: &TestDesk,
        printer: Option<Arc<dyn CardPrinter>>,
    ) -> Harness<'static, DeskApp> {
        open_app_on(
            t.db_path(),
            Options {
                printer,
                ..Default::default()
            },
        )
    }

    /// Steps frames until `done` holds: the worker and jobs answer on
    /// threads of their own.
    pub fn step_until(
        h: &mut Harness<'_, DeskApp>,
        what: &str,
        done: impl Fn(&Harness<'_, DeskApp>) -> bool,
    ) {
        let start = Instant::now();
        while start.elapsed() < PATIENCE {
            h.step();
            if done(h) {
                h.step();
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        // What is on screen instead, to see why.
        let shown: Vec<String> = h
            .query_all_by_label_contains("")
            .filter_map(|n| egui_kittest::kittest::NodeT::accesskit_node(&n).label())
            .filter(|l| !l.is_empty())
            .take(80)
            .collect();
        panic!("timed out waiting for {what}; on screen: {shown:?}");
    }

    /// Whether a widget with exactly this label is on screen.
    pub fn shows(h: &Harness<'_, DeskApp>, label: &str) -> bool {
        h.query_all_by_label(label).next().is_some()
    }

    /// Whether a widget whose label contains `part` is on screen.
    pub fn shows_text(h: &Harness<'_, DeskApp>, part: &str) -> bool {
        h.query_all_by_label_contains(part).next().is_some()
    }

    /// Steps until a widget with exactly this label shows.
    pub fn wait_for(h: &mut Harness<'_, DeskApp>, label: &str) {
        step_until(h, label, |h| shows(h, label));
    }

    /// Steps until a widget whose label contains `part` shows.
    pub fn wait_for_text(h: &mut Harness<'_, DeskApp>, part: &str) {
        step_until(h, part, |h| shows_text(h, part));
    }

    /// Logs in on the login screen and waits for the desk.
    pub fn log_in_as(h: &mut Harness<'_, DeskApp>, name: &str, password: &str) {
        wait_for(h, "Log in");
        h.get_by_label("Operator").click();
        h.get_by_label("Operator").type_text(name);
        h.get_by_label("Password").click();
        h.get_by_label("Password").type_text(password);
        h.get_by_label("Log in").click();
        wait_for(h, "Log out");
    }

    /// Logs in as the test desk's administrator.
    pub fn log_in(h: &mut Harness<'_, DeskApp>) {
        log_in_as(h, "admin", PASSWORD);
    }
}
