//! Print cards: the badge preview (drawn by the same layout as the PDF), the
//! printer, Print, each job's progress and result, and Repeat for a job
//! that failed. Jobs run on the print worker; the verdict is recorded by
//! the desk, never assumed.

use super::i18n::{t, tf};
use super::widgets::message;
use super::worker::CommandResult;
use super::Env;
use crate::desk::{CardRequest, DeskCommand, DeskOutcome, NamedPreview, PrintJob, PrintStatus};
use std::collections::BTreeMap;

pub struct PrintDialog {
    requests: Vec<(i64, String)>,
    previews: Vec<(String, Vec<egui::TextureHandle>)>,
    loading_previews: bool,
    queues: Option<Vec<String>>,
    queue: Option<String>,
    /// Print jobs started here, by job id.
    jobs: BTreeMap<i64, JobView>,
    error: Option<Result<String, String>>,
    started: bool,
}

struct JobView {
    name: String,
    state: String,
    failed: bool,
}

impl PrintDialog {
    pub fn new(requests: &[&CardRequest], env: &Env) -> PrintDialog {
        let d = PrintDialog {
            requests: requests
                .iter()
                .map(|r| (r.id, r.cardholder_name.clone()))
                .collect(),
            previews: Vec::new(),
            loading_previews: true,
            queues: None,
            queue: None,
            jobs: BTreeMap::new(),
            error: None,
            started: false,
        };
        env.worker.send(DeskCommand::BadgePreviews {
            requests: d.requests.iter().take(4).cloned().collect(),
        });
        if let Some(printer) = env.devices.printer.clone() {
            // Listing queues runs lpstat: off the UI thread too.
            env.worker.list_queues(printer);
        }
        d
    }

    /// Returns false once the dialog should close.
    pub fn show(&mut self, ctx: &egui::Context, env: &Env) -> bool {
        let mut keep = true;
        let modal = egui::Modal::new(egui::Id::unique("print-cards")).show(ctx, |ui| {
            ui.set_width(720.0);
            ui.heading(t("Print cards"));
            self.preview_ui(ui);
            ui.separator();
            self.printer_ui(ui, env);
            self.jobs_ui(ui, env);
            message(ui, &self.error);
            ui.separator();
            if ui.button(t("Done")).clicked() {
                keep = false;
            }
        });
        keep && !modal.should_close()
    }

    fn preview_ui(&mut self, ui: &mut egui::Ui) {
        if self.loading_previews {
            ui.spinner();
            return;
        }
        egui::ScrollArea::horizontal()
            .max_height(220.0)
            .show(ui, |ui| {
                ui.horizontal(|ui| {
                    for (name, sides) in &self.previews {
                        ui.vertical(|ui| {
                            ui.label(name);
                            ui.horizontal(|ui| {
                                for tex in sides {
                                    let size =
                                        tex.size_vec2() * (190.0 / tex.size_vec2().y.max(1.0));
                                    ui.image((tex.id(), size));
                                }
                            });
                        });
                    }
                });
            });
        if self.requests.len() > self.previews.len() {
            ui.weak(tf(
                "and {n} more",
                &[("n", &(self.requests.len() - self.previews.len()))],
            ));
        }
    }

    fn printer_ui(&mut self, ui: &mut egui::Ui, env: &Env) {
        let Some(queues) = self.queues.clone() else {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label(t("Looking for printers…"));
            });
            return;
        };
        if queues.is_empty() {
            ui.label(t("No printers found."));
            return;
        }
        if self.queue.as_ref().is_none_or(|q| !queues.contains(q)) {
            self.queue = super::printer_settings::card_queue(&queues, env);
        }
        let mut print = false;
        ui.horizontal(|ui| {
            let l = ui.label(t("Printer"));
            egui::ComboBox::from_id_salt("print-queue")
                .selected_text(self.queue.clone().unwrap_or_default())
                .show_ui(ui, |ui| {
                    for q in &queues {
                        ui.selectable_value(&mut self.queue, Some(q.clone()), q);
                    }
                })
                .response
                .labelled_by(l.id);
            let label = tf("Print {n} card(s)", &[("n", &self.requests.len())]);
            print = ui
                .add_enabled(!self.started, egui::Button::new(label))
                .clicked();
        });
        if print {
            self.start(env);
        }
    }

    fn start(&mut self, env: &Env) {
        let Some(queue) = self.queue.clone() else {
            return;
        };
        self.started = true;
        self.error = None;
        for (id, _) in &self.requests {
            let (id, queue) = (*id, queue.clone());
            env.worker.send(DeskCommand::StartRequestPrint {
                request_id: id,
                printer: queue,
            });
        }
    }

    fn jobs_ui(&mut self, ui: &mut egui::Ui, env: &Env) {
        let mut repeat = None;
        for (job_id, job) in &self.jobs {
            ui.horizontal(|ui| {
                ui.label(format!("{} — {}", job.name, job.state));
                if job.failed && ui.button(t("Repeat")).clicked() {
                    repeat = Some(*job_id);
                }
            });
        }
        if let Some(job_id) = repeat {
            let queue = self.queue.clone();
            env.worker.send(DeskCommand::RepeatPrintJob {
                job_id,
                printer: queue,
            });
        }
    }

    fn name_of(&self, job: &PrintJob) -> String {
        job.request_id
            .and_then(|r| self.requests.iter().find(|(id, _)| *id == r))
            .map_or_else(|| format!("#{}", job.id), |(_, n)| n.clone())
    }

    /// Shows a job's recorded state.
    pub fn show_job(&mut self, job: &PrintJob) {
        if !job
            .request_id
            .is_some_and(|r| self.requests.iter().any(|(id, _)| *id == r))
        {
            return;
        }
        let state = match job.status {
            PrintStatus::Printing => t("Printing…").to_string(),
            PrintStatus::Printed => tf(
                "Printed (printer job {job})",
                &[("job", &job.cups_job_id.clone().unwrap_or_default())],
            ),
            PrintStatus::Failed => tf(
                "Failed: {error}",
                &[("error", &job.error.clone().unwrap_or_default())],
            ),
        };
        let name = self.name_of(job);
        self.jobs.insert(
            job.id,
            JobView {
                name,
                state,
                failed: job.status == PrintStatus::Failed,
            },
        );
    }

    /// The printer took the job.
    pub fn on_submitted(&mut self, job_id: i64, printer_job: &str) {
        if let Some(j) = self.jobs.get_mut(&job_id) {
            j.state = tf("Sent to the printer (job {job})…", &[("job", &printer_job)]);
        }
    }

    /// The card printer's queues arrived (or could not be listed).
    pub fn on_queues(&mut self, queues: Result<Vec<String>, String>) {
        match queues {
            Ok(q) => self.queues = Some(q),
            Err(e) => {
                self.queues = Some(Vec::new());
                self.error = Some(Err(e));
            }
        }
    }

    /// A print job ended with an error before it could be recorded.
    pub fn on_job_error(&mut self, error: String) {
        self.error = Some(Err(error));
    }

    pub fn on_reply(&mut self, ctx: &egui::Context, result: CommandResult) {
        let result = result.map_err(|e| e.to_string());
        match result {
            Ok(DeskOutcome::Previews(previews)) => {
                self.loading_previews = false;
                self.previews = textures(ctx, "badge", previews);
            }
            Ok(DeskOutcome::PrintPrepared(p)) => self.show_job(&p.job),
            Ok(_) => {}
            Err(e) => {
                if self.queues.is_none() && !self.started {
                    self.queues = Some(Vec::new());
                }
                self.loading_previews = false;
                // Printing may be started again only if nothing was sent.
                self.started = !self.jobs.is_empty();
                self.error = Some(Err(e));
            }
        }
    }
}

/// Uploads rendered badge sides as textures, named by `prefix`.
pub fn textures(
    ctx: &egui::Context,
    prefix: &str,
    previews: Vec<NamedPreview>,
) -> Vec<(String, Vec<egui::TextureHandle>)> {
    previews
        .into_iter()
        .enumerate()
        .map(|(i, p)| {
            let sides = p
                .sides
                .iter()
                .enumerate()
                .map(|(side, img)| {
                    let size = [img.width() as usize, img.height() as usize];
                    let color = egui::ColorImage::from_rgba_unmultiplied(size, img.as_raw());
                    ctx.load_texture(format!("{prefix}-{i}-{side}"), color, Default::default())
                })
                .collect();
            (p.name, sides)
        })
        .collect()
}
