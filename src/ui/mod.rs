//! The desk window (eframe + egui). Screens hold their own state and call
//! desk actions through the worker; they never touch SQL or rules.

mod app;
mod audit_view;
mod autostart;
mod batch_orders;
mod card_requests;
mod cardholder_form;
mod cardholder_record;
mod connect_card;
mod door_readers;
mod first_run;
pub mod i18n;
mod lists;
mod lock;
mod login;
mod operators;
mod pin_letters;
mod print_cards;
mod printer_settings;
mod request_forms;
mod selection;
mod settings;
mod temp_cards_page;
mod templates_view;
pub mod tray;
mod widgets;
pub mod worker;

pub use app::{DeskApp, Options, Screen, Startup};
pub use worker::DeskWorker;

use crate::desk::outbox::MailWorker;
use crate::desk::station::{self, CardPrinter, Notify, SimulatedCards};
use crate::desk::{Credential, Desk, Session};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The devices the window works with, and what they last said.
pub struct Devices {
    pub readers: Vec<String>,
    /// The last reader problem (pcscd down, unreadable card), if any.
    pub reader_error: Option<String>,
    /// Each reader's last problem (a door reader offline, and why), until
    /// it is listed again.
    pub reader_problems: std::collections::BTreeMap<String, String>,
    pub simulated_cards: Option<SimulatedCards>,
    pub printer: Option<Arc<dyn CardPrinter>>,
    /// Wakes the window when a job started from a screen reports.
    pub notify: Notify,
}

/// What a screen needs to draw itself and ask for changes.
pub struct Env<'a> {
    pub snapshot: &'a worker::Snapshot,
    pub session: &'a Session,
    pub worker: &'a DeskWorker,
    pub devices: &'a Devices,
}

impl Env<'_> {
    /// A card connected to one of the pending requests shown.
    pub fn credential(&self, id: i64) -> Option<&Credential> {
        self.snapshot.request_cards.get(&id)
    }
}

pub use crate::desk::DEMO_OPERATOR;

/// How long the window waits for the card printer before a job fails.
const PRINT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);

/// DejaVu Sans (shipped in assets/, also used on the badges) first, so every
/// accented name and the few symbols the screens use render the same
/// everywhere; egui's own fonts stay as fallback.
pub fn install_fonts(ctx: &egui::Context) {
    let mut fonts = egui::FontDefinitions::default();
    fonts.font_data.insert(
        "DejaVuSans".into(),
        Arc::new(egui::FontData::from_static(include_bytes!(
            "../../assets/fonts/DejaVuSans.ttf"
        ))),
    );
    if let Some(family) = fonts.families.get_mut(&egui::FontFamily::Proportional) {
        family.insert(0, "DejaVuSans".into());
    }
    ctx.set_fonts(fonts);
}

/// Opens (creating and migrating) the database once, before any thread
/// opens it, and fills a new demo database.
/// Returns what the operator should be told of the opening: an upgrade.
fn prepare(db: &Path, demo: bool) -> Result<Option<String>, String> {
    let (mut desk, upgrade) = Desk::open_noting_upgrade(db).map_err(|e| e.to_string())?;
    if demo {
        desk.check_demo_allowed().map_err(|e| e.to_string())?;
    }
    if demo && !desk.has_operators().map_err(|e| e.to_string())? {
        let (name, password) = DEMO_OPERATOR;
        let admin = desk
            .init_admin(name, Some("demo@carddesk.example"), password)
            .map_err(|e| e.to_string())?;
        desk.seed_demo(&admin).map_err(|e| e.to_string())?;
    }
    Ok(upgrade.map(|u| {
        i18n::tf(
            "CardDesk was upgraded: the database went from schema {from} to {to}. The database as it was is kept in {backup}.",
            &[("from", &u.from), ("to", &u.to), ("backup", &u.backup.display())],
        )
    }))
}

/// Opens the database (the one migration, before any thread opens the file,
/// so a first start can never race itself), then starts the devices, the
/// mailer and the desk worker, and builds the window's app: what
/// [`run`] shows, and what the UI tests drive.
pub fn boot(db: &Path, demo: bool, startup: Startup, notify: Notify) -> Result<DeskApp, String> {
    let notice = prepare(db, demo)?;
    start(db, demo, startup, notify, notice)
}

/// Starts the devices, the mailer and the desk worker on a database
/// [`prepare`] has opened.
fn start(
    db: &Path,
    demo: bool,
    startup: Startup,
    notify: Notify,
    notice: Option<String>,
) -> Result<DeskApp, String> {
    let transport = station::mail_transport(db, demo);
    let mail = MailWorker::spawn(db.to_path_buf(), transport, notify.clone());
    let (reader, simulated_cards) = station::readers(db, demo, notify.clone());
    let printer = station::card_printer(demo, PRINT_TIMEOUT);
    let worker = DeskWorker::spawn(db.to_path_buf(), notify).map_err(|e| e.to_string())?;
    let options = Options {
        mail: Some(mail),
        reader: Some(reader),
        printer: Some(printer),
        simulated_cards,
        startup,
        demo,
        login_hint: demo.then(|| (DEMO_OPERATOR.0.to_string(), DEMO_OPERATOR.1.to_string())),
        idle_lock: None,
        notice,
    };
    Ok(DeskApp::new(worker, options))
}

/// Opens the desk window on `db` (or the per-user default store); `open`
/// names a dialog to show at start (the screenshot script's `--open`).
pub fn run(
    db: Option<&Path>,
    demo: bool,
    open: Option<&str>,
    minimized: bool,
) -> Result<(), String> {
    let startup = match open {
        None => Startup::Nothing,
        Some("main") => Startup::MainWindow,
        Some("card-requests") => Startup::CardRequests,
        Some("connect-card") => Startup::ConnectCard,
        Some("print-cards") => Startup::PrintCards,
        Some("operators") => Startup::Operators,
        Some("locked") => Startup::Locked,
        Some("record") => Startup::Record,
        Some("connect-walk") => Startup::ConnectWalk,
        Some("temp-cards") => Startup::TempCards,
        Some("pin-letters") => Startup::PinLetters,
        Some(other) => {
            return Err(format!(
                "--open {other:?}: use main, card-requests, connect-card, print-cards, operators, locked, record, connect-walk, temp-cards or pin-letters"
            ))
        }
    };
    i18n::set_lang(i18n::lang_from_env());
    let db: PathBuf = match (db, demo) {
        (Some(p), _) => p.to_path_buf(),
        (None, false) => crate::desk::paths::default_db_path(),
        (None, true) => crate::desk::paths::demo_db_path(),
    };
    // A database that cannot be opened is reported before any window opens.
    let notice = prepare(&db, demo)?;
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("CardDesk")
            .with_inner_size([1280.0, 800.0])
            .with_min_inner_size([900.0, 600.0])
            .with_app_id("carddesk")
            .with_icon(egui::IconData {
                rgba: tray::app_icon(64),
                width: 64,
                height: 64,
            }),
        ..Default::default()
    };
    eframe::run_native(
        "CardDesk",
        options,
        Box::new(move |cc| {
            cc.egui_ctx.set_theme(egui::Theme::Light);
            install_fonts(&cc.egui_ctx);
            let ctx = cc.egui_ctx.clone();
            let notify: Notify = Arc::new(move || ctx.request_repaint());
            #[allow(unused_mut)]
            // Opened and migrated above, off the window's thread.
            let mut app = start(&db, demo, startup, notify, notice.clone())?;
            // Without a tray there is nothing to click: --minimized then
            // opens the window as usual.
            #[cfg(not(feature = "tray"))]
            let _ = minimized;
            #[cfg(feature = "tray")]
            {
                let ctx = cc.egui_ctx.clone();
                let wake: Notify = Arc::new(move || ctx.request_repaint());
                match tray::Tray::install(wake, i18n::t("Card requests")) {
                    Ok(t) => {
                        app.set_tray(t);
                        if minimized && tray::tray_host_present() {
                            app.start_in_tray();
                        } else if minimized {
                            tracing::info!("no tray on this desktop (no StatusNotifierWatcher): the window opens");
                        }
                    }
                    Err(e) => tracing::info!("no system tray ({e}); running without the tray icon"),
                }
            }
            Ok(Box::new(app))
        }),
    )
    .map_err(|e| format!("cannot open the desk window: {e}"))
}
