//! Badge templates: each template the site has, drawn with sample data by
//! the same layout code that renders the printed PDF.

use super::i18n::t;
use super::worker::CommandResult;
use super::Env;
use crate::desk::{DeskCommand, DeskOutcome};

#[derive(Default)]
pub struct TemplatesView {
    requested: bool,
    previews: Vec<(String, Vec<egui::TextureHandle>)>,
    error: Option<String>,
}

impl TemplatesView {
    pub fn ui(&mut self, ui: &mut egui::Ui, env: &Env) {
        ui.heading(t("Badge templates"));
        if !self.requested {
            self.requested = true;
            env.worker.send(DeskCommand::TemplatePreviews);
        }
        if let Some(e) = &self.error {
            ui.colored_label(ui.visuals().error_fg_color, e);
        }
        egui::ScrollArea::vertical().show(ui, |ui| {
            for (name, sides) in &self.previews {
                ui.strong(name);
                ui.horizontal(|ui| {
                    for tex in sides {
                        let size = tex.size_vec2() * (240.0 / tex.size_vec2().y.max(1.0));
                        ui.image((tex.id(), size));
                    }
                });
                ui.add_space(12.0);
            }
        });
    }

    pub fn on_reply(&mut self, ctx: &egui::Context, result: CommandResult) {
        match result {
            Ok(DeskOutcome::Previews(p)) => {
                self.previews = super::print_cards::textures(ctx, "template", p)
            }
            Ok(_) => {}
            Err(e) => self.error = Some(e.to_string()),
        }
    }
}
