//! Small pieces shared by the screens.

use super::i18n::t;
use egui::{Color32, Response, Ui, WidgetInfo};

/// A text field with a visible label that assistive tech (and the tests)
/// find by that label.
pub fn labelled_edit(ui: &mut Ui, label: &str, value: &mut String, password: bool) -> Response {
    ui.horizontal(|ui| {
        let l = ui.add_sized([170.0, 20.0], egui::Label::new(label));
        ui.add(
            egui::TextEdit::singleline(value)
                .password(password)
                .desired_width(260.0),
        )
        .labelled_by(l.id)
    })
    .inner
}

/// A column `width` wide (at most the space there is) in the middle of the
/// space there is: the login and the set-up.
pub fn centred_column<R>(ui: &mut Ui, width: f32, add: impl FnOnce(&mut Ui) -> R) -> R {
    let width = width.min(ui.available_width());
    ui.horizontal(|ui| {
        ui.add_space(((ui.available_width() - width) / 2.0).max(0.0));
        ui.vertical(|ui| {
            ui.set_width(width);
            add(ui)
        })
        .inner
    })
    .inner
}

/// A button that says why it is disabled when it is.
pub fn action_button(ui: &mut Ui, label: &str, disabled_reason: Option<&str>) -> Response {
    let r = ui.add_enabled(disabled_reason.is_none(), egui::Button::new(label));
    match disabled_reason {
        Some(why) => r.on_disabled_hover_text(why),
        None => r,
    }
}

/// The Card requests icon of the notification tray: an id-card glyph with a
/// red badge holding the pending count.
pub fn tray_badge(ui: &mut Ui, pending: i64) -> Response {
    let label = format!("{}: {pending}", t("Pending card requests"));
    let (rect, response) = ui.allocate_exact_size(egui::vec2(44.0, 30.0), egui::Sense::click());
    response.widget_info(|| WidgetInfo::labeled(egui::Role::Button, true, &label));
    let painter = ui.painter_at(rect.expand(2.0));
    let visuals = ui.style().interact(&response);
    painter.rect_filled(rect.shrink(2.0), 4.0, visuals.bg_fill);
    // The card: a rounded rectangle with a stripe.
    let card =
        egui::Rect::from_center_size(rect.center() - egui::vec2(4.0, 0.0), egui::vec2(24.0, 16.0));
    painter.rect_stroke(
        card,
        2.0,
        egui::Stroke::new(1.5, visuals.fg_stroke.color),
        egui::StrokeKind::Inside,
    );
    painter.line_segment(
        [
            card.left_top() + egui::vec2(3.0, 5.0),
            card.right_top() + egui::vec2(-3.0, 5.0),
        ],
        egui::Stroke::new(1.5, visuals.fg_stroke.color),
    );
    if pending > 0 {
        let text = if pending > 99 {
            "99+".to_string()
        } else {
            pending.to_string()
        };
        let center = rect.right_top() + egui::vec2(-10.0, 9.0);
        let radius = if text.len() > 2 { 10.0 } else { 8.5 };
        painter.circle_filled(center, radius, Color32::from_rgb(210, 30, 30));
        painter.text(
            center,
            egui::Align2::CENTER_CENTER,
            text,
            egui::FontId::proportional(11.0),
            Color32::WHITE,
        );
    }
    response.on_hover_text(label)
}

/// A message line: red for errors, green for success.
pub fn message(ui: &mut Ui, msg: &Option<Result<String, String>>) {
    match msg {
        Some(Ok(text)) => {
            ui.colored_label(Color32::from_rgb(20, 130, 50), text);
        }
        Some(Err(text)) => {
            ui.colored_label(ui.visuals().error_fg_color, text);
        }
        None => {}
    }
}

/// Today in the desk's local time, as the date picker holds dates.
pub fn today() -> jiff::civil::Date {
    use chrono::Datelike;
    let now = chrono::Local::now().date_naive();
    jiff::civil::Date::new(now.year() as i16, now.month() as i8, now.day() as i8)
        .unwrap_or_default()
}
