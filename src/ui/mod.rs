//! The desk window (eframe + egui). Screens hold their own state and call
//! desk actions through the worker; they never touch SQL or rules.

mod app;
mod audit_view;
mod batch_orders;
mod card_requests;
mod cardholder_form;
mod connect_card;
pub mod i18n;
mod lists;
mod login;
mod print_cards;
mod request_forms;
mod selection;
mod settings;
mod templates_view;
pub mod tray;
mod widgets;
pub mod worker;

pub use app::{DeskApp, Options, Screen, Startup};
pub use worker::DeskWorker;

use crate::desk::{Desk, Session};
use crate::devices::mailer::{MailTransport, MailWorker, SimulatedMailer, SmtpMailer};
use crate::devices::printer::{CardPrinter, CupsPrinter, PrintWorker, SimulatedPrinter};
use crate::devices::reader::{ReaderWorker, SimulatedCards};
use crate::store::credentials::Credential;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What a screen needs to draw itself and ask for changes.
pub struct Env<'a> {
    pub snapshot: &'a worker::Snapshot,
    pub session: &'a Session,
    pub worker: &'a DeskWorker,
    cred_index: &'a HashMap<i64, usize>,
    pub readers: &'a [String],
    /// The last reader problem (pcscd down, unreadable card), if any.
    pub reader_error: Option<&'a str>,
    pub simulated_cards: Option<&'a SimulatedCards>,
    pub printer: Option<&'a Arc<dyn CardPrinter>>,
}

impl Env<'_> {
    pub fn credential(&self, id: i64) -> Option<&Credential> {
        self.cred_index
            .get(&id)
            .and_then(|&i| self.snapshot.credentials.get(i))
    }
}

pub const DEMO_OPERATOR: (&str, &str) = ("demo", "demo1234");

/// DejaVu Sans (shipped in assets/, also used on the badges) first, so every
/// accented name and the few symbols the screens use render the same
/// everywhere; egui's own fonts stay as fallback.
fn install_fonts(ctx: &egui::Context) {
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

/// The demo database: created and filled on first use.
fn prepare_demo(db: &Path) -> Result<(), String> {
    let mut desk = Desk::open(db).map_err(|e| e.to_string())?;
    if !desk.has_operators().map_err(|e| e.to_string())? {
        let (name, password) = DEMO_OPERATOR;
        let admin = desk
            .init_admin(name, Some("demo@carddesk.example"), password)
            .map_err(|e| e.to_string())?;
        desk.seed_demo(&admin).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Opens the desk window on `db` (or the per-user default store).
pub fn run(db: Option<&Path>, demo: bool, startup: Startup) -> Result<(), String> {
    i18n::set_lang(i18n::lang_from_env());
    let db: PathBuf = match (db, demo) {
        (Some(p), _) => p.to_path_buf(),
        (None, false) => crate::cli::default_db_path(),
        (None, true) => crate::cli::default_db_path().with_file_name("carddesk-demo.db"),
    };
    if demo {
        prepare_demo(&db)?;
    }
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("CardDesk")
            .with_inner_size([1280.0, 800.0])
            .with_min_inner_size([900.0, 600.0]),
        ..Default::default()
    };
    eframe::run_native(
        "CardDesk",
        options,
        Box::new(move |cc| {
            cc.egui_ctx.set_theme(egui::Theme::Light);
            install_fonts(&cc.egui_ctx);
            let ctx = cc.egui_ctx.clone();
            let notify: crate::devices::Notify = Arc::new(move || ctx.request_repaint());
            let transport: Arc<dyn MailTransport> = if demo {
                Arc::new(SimulatedMailer::new(
                    db.with_file_name("carddesk-demo-mail"),
                ))
            } else {
                Arc::new(SmtpMailer)
            };
            let mail = MailWorker::spawn(db.clone(), transport, notify.clone());
            let (reader, simulated_cards) = if demo {
                let (worker, cards) = ReaderWorker::spawn_simulated(notify.clone());
                (worker, Some(cards))
            } else {
                (ReaderWorker::spawn_pcsc(notify.clone()), None)
            };
            let printer: Arc<dyn CardPrinter> = if demo {
                Arc::new(SimulatedPrinter::new(std::time::Duration::from_millis(
                    1500,
                )))
            } else {
                Arc::new(CupsPrinter::new())
            };
            let print_worker = PrintWorker::spawn(printer.clone(), notify.clone());
            let worker = DeskWorker::spawn(db, notify)?;
            let app_options = Options {
                mail: Some(mail),
                reader: Some(reader),
                printer: Some((printer, print_worker)),
                simulated_cards,
                startup,
                demo,
                login_hint: demo
                    .then(|| (DEMO_OPERATOR.0.to_string(), DEMO_OPERATOR.1.to_string())),
            };
            #[allow(unused_mut)]
            let mut app = DeskApp::new(worker, app_options);
            #[cfg(feature = "tray")]
            {
                let ctx = cc.egui_ctx.clone();
                let wake: crate::devices::Notify = Arc::new(move || ctx.request_repaint());
                match tray::Tray::install(wake, i18n::t("Card requests")) {
                    Ok(t) => app.set_tray(t),
                    Err(e) => tracing::info!("no system tray ({e}); running without the tray icon"),
                }
            }
            Ok(Box::new(app))
        }),
    )
    .map_err(|e| format!("cannot open the desk window: {e}"))
}
