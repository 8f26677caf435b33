//! The window's side of the OS tray icon (`ui::tray`): the badge kept
//! current, clicks answered, and hiding at start for `--minimized`.

use super::DeskApp;
use crate::ui::i18n::t;

impl DeskApp {
    pub fn set_tray(&mut self, tray: crate::ui::tray::Tray) {
        self.tray = Some(tray);
    }

    /// Starts hidden, as the tray icon only (`--minimized`, with a tray).
    pub fn start_in_tray(&mut self) {
        self.hide_in = Some(2);
    }

    /// Keeps the OS tray badge current and answers its clicks by raising
    /// the window on the Card requests dialog.
    pub(super) fn tray_logic(&mut self, ctx: &egui::Context) {
        let pending = self.snapshot.pending_count() as usize;
        let logged_in = self.session.is_some() && self.lock.is_none();
        let Some(tray) = &mut self.tray else { return };
        if let Some(n) = self.hide_in.take() {
            if n == 0 {
                ctx.send_viewport_cmd(egui::ViewportCommand::Visible(false));
            } else {
                self.hide_in = Some(n - 1);
                ctx.request_repaint();
            }
        }
        // The count is the operator's to read: before login (the tray at
        // OS login) or while locked the icon shows no number.
        if logged_in {
            tray.set_pending(
                pending,
                &format!("{}: {pending}", t("Pending card requests")),
            );
        } else {
            tray.set_pending(0, t("CardDesk: log in to see the pending card requests"));
        }
        if tray.clicked() {
            ctx.send_viewport_cmd(egui::ViewportCommand::Visible(true));
            ctx.send_viewport_cmd(egui::ViewportCommand::Minimized(false));
            ctx.send_viewport_cmd(egui::ViewportCommand::Focus);
            if self.session.is_some() {
                self.open_card_requests();
            }
        }
    }
}
