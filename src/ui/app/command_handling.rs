//! The one place the window applies what comes back: desk replies (routed by
//! the command's name to the screen that sent it, and to what follows from
//! them: mail to send, a print job to start) and print job events.

use super::DeskApp;
use crate::desk::job::{self, JobEvent};
use crate::desk::{DeskOutcome, PrintProgress};
use crate::ui::i18n::tf;
use crate::ui::worker::{CommandResult, Reply};

impl DeskApp {
    /// Applies what the worker sent since the last frame.
    pub fn poll_worker(&mut self) {
        for reply in self.worker.poll() {
            match reply {
                Reply::Snapshot(s) => {
                    // Privileges as the database has them now: what the
                    // screens offer follows a role change at once.
                    if let (Some(fresh), Some(current)) = (&s.session, &self.session) {
                        if fresh.name() == current.name() {
                            self.session = Some(fresh.clone());
                        }
                    }
                    self.snapshot = s;
                    self.loaded = true;
                }
                Reply::SessionEnded(reason) => {
                    self.session = None;
                    self.requests_open = false;
                    self.lock = None;
                    self.login.error = Some(Err(reason));
                }
                Reply::Done(command, result) => self.apply_reply(command, result),
                Reply::Queues(queues) => {
                    if let Some(d) = self.requests.print_dialog() {
                        d.on_queues(queues.clone());
                    }
                    if let Some(d) = self.requests.connect_dialog() {
                        d.on_queues(queues.clone());
                    }
                    self.settings.printers.on_queues(queues.clone());
                    self.batch_orders.on_queues(queues);
                }
            }
        }
    }

    /// The one place a command's reply is applied: to the screen that sent
    /// it, and to what follows from it (mail to send, a job to print).
    fn apply_reply(&mut self, command: &'static str, result: CommandResult) {
        let ctx = self.ctx.clone().unwrap_or_default();
        if let Err(e) = &result {
            tracing::info!("{command}: {e}");
        }
        match command {
            "login" | "set_up" => {
                self.login.busy = false;
                match result {
                    Ok(DeskOutcome::Session(s)) => {
                        self.reconcile_print_jobs(&s);
                        self.session = Some(s);
                        self.login.password.clear();
                        self.login.repeat.clear();
                        self.login.error = None;
                    }
                    Ok(_) => {}
                    Err(e) => self.login.error = Some(Err(e.to_string())),
                }
            }
            "unlock" => {
                if let Some(lock) = &mut self.lock {
                    lock.busy = false;
                    match result {
                        Ok(DeskOutcome::Session(s)) => {
                            self.session = Some(s);
                            self.lock = None;
                        }
                        Ok(_) => {}
                        Err(e) => lock.error = Some(Err(e.to_string())),
                    }
                }
            }
            "change_password" => {
                self.password_change.busy = false;
                match result {
                    Ok(DeskOutcome::Session(s)) => {
                        self.session = Some(s);
                        self.password_change = Default::default();
                        self.status = Some(Ok(crate::ui::i18n::t("Password changed.").into()));
                    }
                    Ok(_) => {}
                    Err(e) => self.password_change.error = Some(Err(e.to_string())),
                }
            }
            "operators" => self.settings.operators.on_reply(result),
            "door_readers" => {
                if self.settings.door_readers.on_reply(result) {
                    self.restart_readers();
                }
            }
            "find_temp_cards" | "request_temp_cards" | "temp_card_changed" | "reveal_puk" => {
                self.temp_cards.on_reply(command, result)
            }
            "open_cardholder"
            | "update_cardholder"
            | "change_credential_state"
            | "request_card" => {
                if let Some(record) = &mut self.record {
                    if record.on_reply(&ctx, result) {
                        let id = record.id;
                        self.worker
                            .send(crate::desk::DeskCommand::OpenCardholder { id });
                    }
                }
            }
            "create_cardholder" => {
                if let Some(form) = &mut self.cardholder_form {
                    if let Some(done) = form.on_reply(result) {
                        self.status = Some(Ok(done));
                        self.cardholder_form = None;
                    }
                }
            }
            "verify_audit" => self.audit.on_reply(result),
            "search_temp_cards"
            | "open_temp_orders"
            | "open_temp_order"
            | "issue_temp_cards"
            | "complete_temp_order"
            | "cancel_temp_order" => self.batch_orders.on_reply(result),
            "template_previews" => self.templates.on_reply(&ctx, result),
            "choose_printers" => self.settings.printers.on_reply(result),
            "finish_set_up" => {
                if let Err(e) = result {
                    self.status = Some(Err(e.to_string()));
                }
            }
            "prepare_test_card" => self.settings.printers.on_test_card(result, &self.devices),
            "configure_mail" | "queue_test_mail" | "retry_mail" => {
                if result.is_ok() {
                    self.kick_mailer();
                }
                self.settings.on_reply(result);
            }
            "start_request_print" | "repeat_print_job" => {
                // A recorded job goes to the printer whether or not the
                // dialog is still open; its verdict is recorded likewise.
                if let (Ok(DeskOutcome::PrintPrepared(p)), Some(printer), Some(session)) =
                    (&result, &self.devices.printer, &self.session)
                {
                    let (prepared, printer, session) =
                        ((**p).clone(), printer.clone(), session.clone());
                    let notify = self.devices.notify.clone();
                    self.print_jobs.push(job::spawn(
                        "print-job",
                        self.worker.db.clone(),
                        notify,
                        move |desk, ctx| desk.run_print(&session, prepared, printer.as_ref(), ctx),
                    ));
                }
                self.requests.on_reply(&ctx, command, result);
            }
            _ => {
                // An answered request may have queued mail: send it now.
                if matches!(command, "close_requests" | "deny_requests") && result.is_ok() {
                    self.kick_mailer();
                }
                self.requests.on_reply(&ctx, command, result);
                // Connect card's walk: print each badge as its card is
                // assigned; the request is closed once it is printed.
                let to_print = self
                    .requests
                    .connect_dialog()
                    .map(|d| d.take_to_print())
                    .unwrap_or_default();
                // A door reader shows what became of its read.
                let feedback = self
                    .requests
                    .connect_dialog()
                    .and_then(|d| d.take_feedback());
                if let (Some((reader, shown)), Some(worker)) = (feedback, &self.reader) {
                    worker.feedback(&reader, shown);
                }
                for (request_id, printer) in to_print {
                    self.close_when_printed.insert(request_id);
                    self.worker
                        .send(crate::desk::DeskCommand::StartRequestPrint {
                            request_id,
                            printer,
                        });
                }
            }
        }
    }

    /// After login: jobs a previous run left printing are settled with the
    /// printer, on a job thread of their own.
    fn reconcile_print_jobs(&mut self, s: &crate::desk::Session) {
        let Some(printer) = self.devices.printer.clone() else {
            return;
        };
        if !s.may(crate::desk::Privilege::PrintCards) {
            return;
        }
        let session = s.clone();
        self.reconcile = Some(job::spawn(
            "print-reconcile",
            self.worker.db.clone(),
            self.devices.notify.clone(),
            move |desk, _ctx: &job::JobContext<()>| {
                desk.reconcile_print_jobs(&session, printer.as_ref())
            },
        ));
    }

    fn kick_mailer(&self) {
        if let Some(mail) = &self.mail {
            mail.kick();
        }
    }

    /// Applies print job events: the printer took a job, and its verdict.
    pub(super) fn poll_print_jobs(&mut self) {
        if let Some(events) = self.reconcile.as_ref().map(|r| r.events()) {
            for event in events {
                if let JobEvent::Finished(verdict) = event {
                    self.reconcile = None;
                    match verdict {
                        Ok(settled) if settled.is_empty() => {}
                        Ok(settled) => {
                            self.status = Some(Ok(tf(
                                "{n} print job(s) left unfinished by the last run were settled with the printer.",
                                &[("n", &settled.len())],
                            )))
                        }
                        Err(e) => self.status = Some(Err(e.to_string())),
                    }
                }
            }
        }
        let mut finished = Vec::new();
        let mut printed = Vec::new();
        for (i, handle) in self.print_jobs.iter().enumerate() {
            for event in handle.events() {
                let dialog = self.requests.print_dialog();
                match event {
                    JobEvent::Progress(PrintProgress::Submitted {
                        job_id,
                        printer_job,
                    }) => {
                        if let Some(d) = dialog {
                            d.on_submitted(job_id, &printer_job);
                        }
                    }
                    JobEvent::Finished(verdict) => {
                        finished.push(i);
                        if let Ok(job) = &verdict {
                            printed.push(job.clone());
                        }
                        match (verdict, dialog) {
                            (Ok(job), Some(d)) => d.show_job(&job),
                            (Err(e), Some(d)) => d.on_job_error(e.to_string()),
                            (Err(e), None) => self.status = Some(Err(e.to_string())),
                            (Ok(_), None) => {}
                        }
                    }
                }
            }
        }
        for i in finished.into_iter().rev() {
            self.print_jobs.remove(i);
        }
        // Requests whose badge the Connect card walk sent: closed once
        // printed; a failed badge leaves its request pending, and says so.
        for job in printed {
            let Some(request_id) = job.request_id else {
                continue;
            };
            if !self.close_when_printed.remove(&request_id) {
                continue;
            }
            if job.status == crate::desk::PrintStatus::Printed {
                self.worker.send(crate::desk::DeskCommand::CloseRequests {
                    ids: vec![request_id],
                    shipping: Vec::new(),
                });
            } else {
                self.status = Some(Err(tf(
                    "The badge for request {id} was not printed ({error}); the request stays pending.",
                    &[
                        ("id", &request_id),
                        ("error", &job.error.clone().unwrap_or_default()),
                    ],
                )));
            }
        }
    }
}
