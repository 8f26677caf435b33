//! Printing badges with a recorded print job. A print is split in three so
//! the window can run the printer as a job (`desk::job`):
//! `start_request_print` / `start_card_print` / `repeat_print_job` (record
//! the job, render the PDF), `run_print` (the printer, its job id noted at
//! once), then `finish_print_job` (the verdict). Jobs a stopped CardDesk
//! left printing are settled with the printer (`reconcile_print_jobs`) or
//! by an operator (`resolve_print_job`). Each step that writes is one
//! transaction with its audit record, and changes a job only from the
//! state it read.

use super::badges::{media, template};
use super::job::JobContext;
use super::{snapshot, Desk, DeskError, DeskResult, Session};
use crate::badge::{self, Template};
use crate::devices::printer::{CardPrinter, PrintDocument, PrintError};
use crate::domain::{CredentialState, Privilege, RequestStatus};
use crate::store::Connection;
use crate::store::{
    self,
    print_jobs::{NewPrintJob, PrintJob, PrintStatus},
};

/// What a running print job reports before its verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrintProgress {
    /// The printer took the document as its job `printer_job`.
    Submitted { job_id: i64, printer_job: String },
}

/// A print job recorded and its badge rendered, ready for the printer.
#[derive(Debug, Clone)]
pub struct PreparedPrint {
    pub job: PrintJob,
    pub document: PrintDocument,
}

impl Desk {
    /// Print jobs of a card, newest first.
    pub fn print_jobs_for_credential(
        &self,
        s: &Session,
        credential_id: i64,
    ) -> DeskResult<Vec<PrintJob>> {
        self.require(s, Privilege::ViewCredentials, "see print jobs")?;
        Ok(store::print_jobs::for_credential(
            &self.conn,
            credential_id,
        )?)
    }

    /// Step 1 for a card printed on its own (e.g. a temporary card, which has
    /// no holder): records a print job and renders the badge with `template`.
    /// Lost, stolen, expired or revoked cards are not printed.
    pub fn start_card_print(
        &mut self,
        s: &Session,
        credential_id: i64,
        template_name: &str,
        printer: &str,
    ) -> DeskResult<PreparedPrint> {
        self.require(s, Privilege::PrintCards, "print cards")?;
        let printer = check_printer(printer)?;
        let c = store::credentials::get(&self.conn, credential_id)?.ok_or(DeskError::NotFound {
            what: "credential",
            id: credential_id.to_string(),
        })?;
        if !matches!(
            c.state,
            CredentialState::Unassigned | CredentialState::Active
        ) {
            return Err(DeskError::invalid(
                "card",
                format!(
                    "{} is {}; only unassigned or active cards are printed",
                    c.label(),
                    c.state
                ),
            ));
        }
        let t = template(&self.conn, template_name)?;
        let pdf = badge::render_pdf(&t, &[self.badge_data_for_credential(s, credential_id)?])?;
        let new = NewPrintJob {
            request_id: None,
            credential_id: Some(credential_id),
            cardholder_id: c.cardholder_id,
            template: &t.name,
            printer,
        };
        self.record_print_start(s, &new, &t, pdf, |id| {
            format!("badge-card-{credential_id}-job-{id}")
        })
    }

    /// Prints a card's badge and waits for the printer's verdict (blocking).
    pub fn print_card_badge(
        &mut self,
        s: &Session,
        credential_id: i64,
        template: &str,
        printer: &dyn CardPrinter,
        queue: &str,
    ) -> DeskResult<PrintJob> {
        let prepared = self.start_card_print(s, credential_id, template, queue)?;
        self.run_print(s, prepared, printer, &JobContext::inline(|_| {}))
    }

    /// Print jobs of a request, newest first.
    pub fn print_jobs_for_request(
        &self,
        s: &Session,
        request_id: i64,
    ) -> DeskResult<Vec<PrintJob>> {
        self.require(s, Privilege::ViewRequests, "see print jobs")?;
        Ok(store::print_jobs::for_request(&self.conn, request_id)?)
    }

    pub fn print_job(&self, s: &Session, job_id: i64) -> DeskResult<PrintJob> {
        self.require(s, Privilege::ViewRequests, "see print jobs")?;
        job_row(&self.conn, job_id)
    }

    /// Step 1 of printing a request's badge: checks, renders the PDF and
    /// records a print job in state `printing`. The request must not be
    /// denied and must have a card connected.
    pub fn start_request_print(
        &mut self,
        s: &Session,
        request_id: i64,
        printer: &str,
    ) -> DeskResult<PreparedPrint> {
        self.require(s, Privilege::PrintCards, "print cards")?;
        let printer = check_printer(printer)?;
        let r = self.request(s, request_id)?;
        if r.status == RequestStatus::Denied {
            return Err(super::requests::not_pending(&self.conn, &r));
        }
        let credential_id = r.credential_id.ok_or(DeskError::NoCardToPrint(r.id))?;
        let t = template(&self.conn, &r.badge_template)?;
        let pdf = badge::render_pdf(&t, &[self.badge_data_for_request(s, request_id)?])?;
        let new = NewPrintJob {
            request_id: Some(r.id),
            credential_id: Some(credential_id),
            cardholder_id: Some(r.cardholder_id),
            template: &t.name,
            printer,
        };
        self.record_print_start(s, &new, &t, pdf, |id| {
            format!("badge-request-{}-job-{id}", r.id)
        })
    }

    /// Step 1 again for a failed job ("repeat production"): same card, same
    /// template, on `printer` (or the job's printer). Re-renders the badge
    /// from today's data.
    pub fn repeat_print_job(
        &mut self,
        s: &Session,
        job_id: i64,
        printer: Option<&str>,
    ) -> DeskResult<PreparedPrint> {
        self.require(s, Privilege::PrintCards, "print cards")?;
        let before = self.print_job(s, job_id)?;
        if before.status != PrintStatus::Failed {
            return Err(not_repeatable(&self.conn, &before));
        }
        let printer = check_printer(printer.unwrap_or(&before.printer))?.to_string();
        let t = template(&self.conn, &before.template)?;
        let data = match (before.request_id, before.credential_id) {
            (Some(r), _) => self.badge_data_for_request(s, r)?,
            (None, Some(c)) => self.badge_data_for_credential(s, c)?,
            (None, None) => unreachable!("the schema requires a request or a card"),
        };
        let pdf = badge::render_pdf(&t, &[data])?;
        let tx = self.begin()?;
        // Of two desks repeating one failed job, one restarts it.
        if !store::print_jobs::restart(&tx, job_id, &printer)? {
            let now = store::print_jobs::get(&tx, job_id)?.expect("exists");
            return Err(not_repeatable(&tx, &now));
        }
        let job = store::print_jobs::get(&tx, job_id)?.expect("exists");
        tx.audit(
            s,
            "print.repeat",
            "print_job",
            Some(job_id),
            Some(snapshot(&before)),
            Some(snapshot(&job)),
        )?;
        tx.commit()?;
        let title = match job.request_id {
            Some(r) => format!("badge-request-{r}-job-{job_id}-attempt-{}", job.attempts),
            None => format!("badge-job-{job_id}-attempt-{}", job.attempts),
        };
        Ok(PreparedPrint {
            document: PrintDocument {
                title,
                pdf,
                page_mm: media(&t),
            },
            job,
        })
    }

    /// Records a new print job (state `printing`) with its audit event in one
    /// transaction, and pairs it with the document to send.
    fn record_print_start(
        &mut self,
        s: &Session,
        new: &NewPrintJob,
        t: &Template,
        pdf: Vec<u8>,
        title: impl FnOnce(i64) -> String,
    ) -> DeskResult<PreparedPrint> {
        let tx = self.begin()?;
        // One card, one job at a time: a second desk producing the same
        // card stops here, before anything is printed twice. (A job left
        // printing by a crash is settled with `resolve_print_job`.)
        if let Some(c) = new.credential_id {
            if let Some(busy) = store::print_jobs::for_credential(&tx, c)?
                .into_iter()
                .find(|j| j.status == PrintStatus::Printing)
            {
                return Err(super::conflict(
                    &tx,
                    "print job",
                    "print_job",
                    busy.id,
                    "printing",
                ));
            }
        }
        let id = store::print_jobs::insert(&tx, new)?;
        let job = store::print_jobs::get(&tx, id)?.expect("just inserted");
        tx.audit(
            s,
            "print.start",
            "print_job",
            Some(id),
            None,
            Some(snapshot(&job)),
        )?;
        tx.commit()?;
        Ok(PreparedPrint {
            document: PrintDocument {
                title: title(id),
                pdf,
                page_mm: media(t),
            },
            job,
        })
    }

    /// Settles the jobs left printing (CardDesk stopped while they printed)
    /// that the printer can account for: completed → printed, aborted or
    /// cancelled → failed (repeatable). Jobs still queued are left to
    /// finish; jobs that never reached the printer wait for an operator
    /// (`resolve_print_job`). Returns the jobs settled now.
    pub fn reconcile_print_jobs(
        &mut self,
        s: &Session,
        printer: &dyn CardPrinter,
    ) -> DeskResult<Vec<PrintJob>> {
        self.require(s, Privilege::PrintCards, "settle print jobs")?;
        let mut settled = Vec::new();
        for job in store::print_jobs::with_status(&self.conn, PrintStatus::Printing)? {
            let Some(printer_job) = job.cups_job_id.clone() else {
                continue;
            };
            match printer.check(&job.printer, &printer_job) {
                Ok(Some(verdict)) => {
                    match self.finish_print_job(s, job.id, Some(&printer_job), &verdict) {
                        Ok(done) => settled.push(done),
                        // Its own job recorded the verdict meanwhile.
                        Err(DeskError::Conflict { .. }) => {}
                        Err(e) => return Err(e),
                    }
                }
                Ok(None) => {}
                Err(e) => tracing::warn!("print job {}: cannot ask the printer: {e}", job.id),
            }
        }
        Ok(settled)
    }

    /// Jobs still printing (nobody has recorded their verdict yet).
    pub fn unsettled_print_jobs(&self, s: &Session) -> DeskResult<Vec<PrintJob>> {
        self.require(s, Privilege::PrintCards, "see print jobs")?;
        Ok(store::print_jobs::with_status(
            &self.conn,
            PrintStatus::Printing,
        )?)
    }

    /// Settles a job the printer never reported on (the app stopped while it
    /// printed): the operator looked at the card and says whether it came
    /// out right. Recorded like any verdict, with the operator's reason.
    pub fn resolve_print_job(
        &mut self,
        s: &Session,
        job_id: i64,
        printed: bool,
        reason: &str,
    ) -> DeskResult<PrintJob> {
        self.require(s, Privilege::PrintCards, "settle print jobs")?;
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(DeskError::invalid(
                "reason",
                "say what you saw (e.g. \"card came out fine\" or \"no card came out\")",
            ));
        }
        let tx = self.begin()?;
        let before = job_row(&tx, job_id)?;
        let error = (!printed).then(|| format!("marked failed by {}: {reason}", s.operator().name));
        let cups_job = before.cups_job_id.clone().or(Some("unknown".into()));
        let done = store::print_jobs::finish(
            &tx,
            job_id,
            if printed {
                cups_job.as_deref()
            } else {
                before.cups_job_id.as_deref()
            },
            error.as_deref(),
        )?;
        if !done {
            return Err(super::conflict(
                &tx,
                "print job",
                "print_job",
                job_id,
                before.status,
            ));
        }
        let job = store::print_jobs::get(&tx, job_id)?.expect("exists");
        let mut after = snapshot(&job);
        after["reason"] = reason.into();
        tx.audit(
            s,
            if printed {
                "print.resolved_printed"
            } else {
                "print.resolved_failed"
            },
            "print_job",
            Some(job_id),
            Some(snapshot(&before)),
            Some(after),
        )?;
        tx.commit()?;
        Ok(job)
    }

    /// Step 3: records the printer's verdict. `printed` only for `Ok`.
    pub fn finish_print_job(
        &mut self,
        s: &Session,
        job_id: i64,
        printer_job: Option<&str>,
        result: &Result<(), PrintError>,
    ) -> DeskResult<PrintJob> {
        self.require(s, Privilege::PrintCards, "print cards")?;
        let error = result.as_ref().err().map(ToString::to_string);
        let printer_job = printer_job.or(result.as_ref().err().and_then(PrintError::job));
        if result.is_ok() && printer_job.is_none() {
            return Err(DeskError::invalid(
                "print job",
                "a printed job needs the printer's job id",
            ));
        }
        let tx = self.begin()?;
        // Read in the transaction: a job settled meanwhile (by its own run,
        // or by reconciling) is a conflict naming who settled it.
        let before = job_row(&tx, job_id)?;
        if before.status != PrintStatus::Printing {
            return Err(super::conflict(
                &tx,
                "print job",
                "print_job",
                job_id,
                before.status,
            ));
        }
        if !store::print_jobs::finish(&tx, job_id, printer_job, error.as_deref())? {
            let now = store::print_jobs::get(&tx, job_id)?.expect("exists");
            return Err(super::conflict(
                &tx,
                "print job",
                "print_job",
                job_id,
                now.status,
            ));
        }
        let job = store::print_jobs::get(&tx, job_id)?.expect("exists");
        tx.record(
            &s.operator().name,
            if result.is_ok() {
                "print.printed"
            } else {
                "print.failed"
            },
            "print_job",
            Some(job_id),
            Some(&snapshot(&before)),
            Some(&snapshot(&job)),
        )?;
        tx.commit()?;
        Ok(job)
    }

    /// Prints the request's badge and waits for the printer's verdict
    /// (blocks: for the command line; the UI uses the three steps with a
    /// print job). Returns the recorded job, printed or failed.
    pub fn print_request_badge(
        &mut self,
        s: &Session,
        request_id: i64,
        printer: &dyn CardPrinter,
        queue: &str,
    ) -> DeskResult<PrintJob> {
        let prepared = self.start_request_print(s, request_id, queue)?;
        self.run_print(s, prepared, printer, &JobContext::inline(|_| {}))
    }

    /// Repeats a failed job and waits for the verdict (blocking).
    pub fn repeat_print(
        &mut self,
        s: &Session,
        job_id: i64,
        printer: &dyn CardPrinter,
        queue: Option<&str>,
    ) -> DeskResult<PrintJob> {
        let prepared = self.repeat_print_job(s, job_id, queue)?;
        self.run_print(s, prepared, printer, &JobContext::inline(|_| {}))
    }

    /// The print job: sends a recorded job's document to the printer,
    /// reports the printer's job id, follows it to its verdict and records
    /// that. The window runs it with `job::spawn`, the command line inline.
    pub fn run_print(
        &mut self,
        s: &Session,
        p: PreparedPrint,
        printer: &dyn CardPrinter,
        ctx: &JobContext<PrintProgress>,
    ) -> DeskResult<PrintJob> {
        let (job, result) = match printer.submit(&p.job.printer, &p.document) {
            Err(e) => (None, Err(e)),
            Ok(job) => {
                // Written down at once: if CardDesk stops now, the job can
                // still be followed up with the printer (`reconcile_print_jobs`).
                let tx = self.begin()?;
                if store::print_jobs::set_printer_job(&tx, p.job.id, &job)? {
                    tx.audit(
                        s,
                        "print.submitted",
                        "print_job",
                        Some(p.job.id),
                        None,
                        Some(serde_json::json!({ "printer_job": job })),
                    )?;
                }
                tx.commit()?;
                ctx.report(PrintProgress::Submitted {
                    job_id: p.job.id,
                    printer_job: job.clone(),
                });
                let r = printer.wait(&p.job.printer, &job);
                (Some(job), r)
            }
        };
        self.finish_print_job(s, p.job.id, job.as_deref(), &result)
    }
}

/// The job, read on `conn` (inside the caller's transaction).
fn job_row(conn: &Connection, job_id: i64) -> DeskResult<PrintJob> {
    store::print_jobs::get(conn, job_id)?.ok_or(DeskError::NotFound {
        what: "print job",
        id: job_id.to_string(),
    })
}

/// "Print job 7 is printing (last changed by olga at …)".
fn not_repeatable(conn: &Connection, job: &PrintJob) -> DeskError {
    let (by, at) = store::audit::last_change(conn, "print_job", job.id)
        .ok()
        .flatten()
        .unwrap_or_default();
    DeskError::NotRepeatable {
        id: job.id,
        status: job.status,
        by,
        at,
    }
}

fn check_printer(name: &str) -> DeskResult<&str> {
    let name = name.trim();
    if name.is_empty() {
        return Err(DeskError::invalid("printer", "choose a printer"));
    }
    Ok(name)
}
