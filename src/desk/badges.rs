//! Badges: templates, what a card shows, and printing with a recorded
//! print job. Printing is split in three so the UI can run the printer on
//! its worker thread: `start_request_print` (records the job, renders the
//! PDF), the printer, then `finish_print_job` (records the verdict). Each
//! step that writes is one transaction with its audit record.

use super::audit;
use super::job::JobContext;
use super::{snapshot, Desk, DeskError, DeskResult, Session};
use crate::badge::{self, BadgeData, Template};
use crate::devices::printer::{CardPrinter, PrintDocument, PrintError};
use crate::domain::{CredentialState, Privilege, RequestStatus};
use crate::store::{
    self,
    print_jobs::{NewPrintJob, PrintJob, PrintStatus},
};
use rusqlite::Connection;

/// Whose badge to render.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadgeOf {
    Request(i64),
    Cardholder(i64),
}

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

fn template(conn: &Connection, name: &str) -> DeskResult<Template> {
    store::badge_templates::get(conn, name)?.ok_or_else(|| {
        let known = store::badge_templates::list(conn)
            .map(|l| l.into_iter().map(|t| t.name).collect::<Vec<_>>().join(", "))
            .unwrap_or_default();
        DeskError::invalid(
            "badge template",
            format!("{name:?} does not exist (templates: {known})"),
        )
    })
}

pub(super) fn check_template_exists(conn: &Connection, name: &str) -> DeskResult<()> {
    template(conn, name).map(|_| ())
}

fn cardholder_data(conn: &Connection, cardholder_id: i64) -> DeskResult<BadgeData> {
    let h = store::cardholders::get(conn, cardholder_id)?.ok_or(DeskError::NotFound {
        what: "cardholder",
        id: cardholder_id.to_string(),
    })?;
    let mut d = BadgeData::default();
    d.set("first_name", &h.first_name)
        .set("last_name", &h.last_name)
        .set("full_name", h.full_name())
        .set("department", h.department.clone().unwrap_or_default())
        .set("email", h.email.clone().unwrap_or_default())
        .set("cardholder_id", h.id.to_string())
        .set("activation", h.activation.clone().unwrap_or_default())
        .set("expiry", h.expiry.clone().unwrap_or_default())
        .set(
            "printed_on",
            chrono::Local::now()
                .date_naive()
                .format("%Y-%m-%d")
                .to_string(),
        );
    if let Some(site) = h.site_id {
        if let Some(s) = store::sites::list(conn)?.into_iter().find(|s| s.id == site) {
            d.set("site", s.name);
        }
    }
    d.photo = store::cardholders::photo(conn, cardholder_id)?.map(|(bytes, _)| bytes);
    Ok(d)
}

fn add_credential(conn: &Connection, d: &mut BadgeData, credential_id: i64) -> DeskResult<()> {
    let c = store::credentials::get(conn, credential_id)?.ok_or(DeskError::NotFound {
        what: "credential",
        id: credential_id.to_string(),
    })?;
    let number = c
        .fields
        .get("card_number")
        .or_else(|| c.fields.get("card"))
        .map(|v| v.to_string().trim_matches('"').to_string())
        .or_else(|| c.uid.clone())
        .unwrap_or_else(|| c.value.clone());
    d.set("card_number", number)
        .set("credential", c.label())
        .set("card_format", &c.format)
        .set("uid", c.uid.clone().unwrap_or_default());
    Ok(())
}

fn media(t: &Template) -> (f32, f32) {
    t.size_mm()
}

impl Desk {
    /// Every badge template, shipped ones first.
    pub fn badge_templates(&self, s: &Session) -> DeskResult<Vec<Template>> {
        s.require(Privilege::ViewRequests, "see the badge templates")?;
        Ok(store::badge_templates::list(&self.conn)?)
    }

    /// The templates' names, for pickers.
    pub fn badge_template_names(&self, s: &Session) -> DeskResult<Vec<String>> {
        Ok(self
            .badge_templates(s)?
            .into_iter()
            .map(|t| t.name)
            .collect())
    }

    /// A template by name (case-insensitive).
    pub fn badge_template(&self, s: &Session, name: &str) -> DeskResult<Template> {
        s.require(Privilege::ViewRequests, "see the badge templates")?;
        template(&self.conn, name)
    }

    /// A badge as a PDF: a request's (with its template and card) or a
    /// cardholder's (with their newest active card, template Standard),
    /// with `template` instead when given.
    pub fn render_badge(
        &self,
        s: &Session,
        of: BadgeOf,
        template: Option<&str>,
    ) -> DeskResult<Vec<u8>> {
        let (data, default_template) = match of {
            BadgeOf::Request(r) => (
                self.badge_data_for_request(s, r)?,
                self.request(s, r)?.badge_template,
            ),
            BadgeOf::Cardholder(c) => (self.badge_data_for_cardholder(s, c)?, "Standard".into()),
        };
        let t = self.badge_template(s, template.unwrap_or(&default_template))?;
        Ok(badge::render_pdf(&t, &[data])?)
    }

    /// Adds or replaces a badge template from its JSON definition; returns
    /// its name.
    pub fn save_badge_template_json(&mut self, s: &Session, json: &str) -> DeskResult<String> {
        let t = Template::from_json(json)?;
        self.save_badge_template(s, &t)?;
        Ok(t.name)
    }

    /// Adds or replaces a badge template (validated first).
    pub fn save_badge_template(&mut self, s: &Session, t: &Template) -> DeskResult<()> {
        s.require(Privilege::ManageSettings, "edit badge templates")?;
        t.validate()?;
        let tx = self.conn.transaction()?;
        let before = store::badge_templates::get(&tx, &t.name)?;
        store::badge_templates::upsert(&tx, t)?;
        store::audit::record(
            &tx,
            &s.operator.name,
            "badge_template.save",
            "badge_template",
            None,
            before.as_ref().map(snapshot).as_ref(),
            Some(&snapshot(t)),
        )?;
        tx.commit()?;
        Ok(())
    }

    /// What the request's badge shows: its cardholder and, once a card is
    /// connected, the card.
    pub fn badge_data_for_request(&self, s: &Session, request_id: i64) -> DeskResult<BadgeData> {
        s.require(Privilege::ViewCardholders, "see badge data")?;
        let r = self.request(s, request_id)?;
        let mut d = cardholder_data(&self.conn, r.cardholder_id)?;
        d.set("request_id", r.id.to_string());
        if let Some(c) = r.credential_id {
            add_credential(&self.conn, &mut d, c)?;
        }
        Ok(d)
    }

    /// What a cardholder's badge shows, with their newest active card.
    pub fn badge_data_for_cardholder(
        &self,
        s: &Session,
        cardholder_id: i64,
    ) -> DeskResult<BadgeData> {
        s.require(Privilege::ViewCardholders, "see badge data")?;
        let mut d = cardholder_data(&self.conn, cardholder_id)?;
        let credential: Option<i64> = self
            .conn
            .query_row(
                "SELECT id FROM credential WHERE cardholder_id = ?1 AND state = 'active'
                 ORDER BY id DESC LIMIT 1",
                [cardholder_id],
                |r| r.get(0),
            )
            .ok();
        if let Some(c) = credential {
            add_credential(&self.conn, &mut d, c)?;
        }
        Ok(d)
    }

    /// What a card's badge shows: the card and, when it has one, its holder.
    pub fn badge_data_for_credential(
        &self,
        s: &Session,
        credential_id: i64,
    ) -> DeskResult<BadgeData> {
        s.require(Privilege::ViewCredentials, "see badge data")?;
        let c = store::credentials::get(&self.conn, credential_id)?.ok_or(DeskError::NotFound {
            what: "credential",
            id: credential_id.to_string(),
        })?;
        let mut d = match c.cardholder_id {
            Some(h) => cardholder_data(&self.conn, h)?,
            None => BadgeData::default(),
        };
        add_credential(&self.conn, &mut d, credential_id)?;
        Ok(d)
    }

    /// Print jobs of a card, newest first.
    pub fn print_jobs_for_credential(
        &self,
        s: &Session,
        credential_id: i64,
    ) -> DeskResult<Vec<PrintJob>> {
        s.require(Privilege::ViewCredentials, "see print jobs")?;
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
        s.require(Privilege::PrintCards, "print cards")?;
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

    /// The request's badge as a PDF, with the request's template.
    pub fn render_request_badge(&self, s: &Session, request_id: i64) -> DeskResult<Vec<u8>> {
        let r = self.request(s, request_id)?;
        let t = template(&self.conn, &r.badge_template)?;
        Ok(badge::render_pdf(
            &t,
            &[self.badge_data_for_request(s, request_id)?],
        )?)
    }

    /// Print jobs of a request, newest first.
    pub fn print_jobs_for_request(
        &self,
        s: &Session,
        request_id: i64,
    ) -> DeskResult<Vec<PrintJob>> {
        s.require(Privilege::ViewRequests, "see print jobs")?;
        Ok(store::print_jobs::for_request(&self.conn, request_id)?)
    }

    pub fn print_job(&self, s: &Session, job_id: i64) -> DeskResult<PrintJob> {
        s.require(Privilege::ViewRequests, "see print jobs")?;
        store::print_jobs::get(&self.conn, job_id)?.ok_or(DeskError::NotFound {
            what: "print job",
            id: job_id.to_string(),
        })
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
        s.require(Privilege::PrintCards, "print cards")?;
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
        s.require(Privilege::PrintCards, "print cards")?;
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
        let tx = self.conn.transaction()?;
        // Of two desks repeating one failed job, one restarts it.
        if !store::print_jobs::restart(&tx, job_id, &printer)? {
            let now = store::print_jobs::get(&tx, job_id)?.expect("exists");
            return Err(not_repeatable(&tx, &now));
        }
        let job = store::print_jobs::get(&tx, job_id)?.expect("exists");
        audit(
            &tx,
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
        let tx = self.conn.transaction()?;
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
        audit(
            &tx,
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
        s.require(Privilege::PrintCards, "settle print jobs")?;
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
        s.require(Privilege::PrintCards, "see print jobs")?;
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
        s.require(Privilege::PrintCards, "settle print jobs")?;
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(DeskError::invalid(
                "reason",
                "say what you saw (e.g. \"card came out fine\" or \"no card came out\")",
            ));
        }
        let tx = self.conn.transaction()?;
        let before = store::print_jobs::get(&tx, job_id)?.ok_or(DeskError::NotFound {
            what: "print job",
            id: job_id.to_string(),
        })?;
        let error = (!printed).then(|| format!("marked failed by {}: {reason}", s.operator.name));
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
        audit(
            &tx,
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
        s.require(Privilege::PrintCards, "print cards")?;
        let before = self.print_job(s, job_id)?;
        if before.status != PrintStatus::Printing {
            return Err(DeskError::invalid(
                "print job",
                format!("job {job_id} is already {}", before.status),
            ));
        }
        let error = result.as_ref().err().map(ToString::to_string);
        let printer_job = printer_job.or(result.as_ref().err().and_then(PrintError::job));
        if result.is_ok() && printer_job.is_none() {
            return Err(DeskError::invalid(
                "print job",
                "a printed job needs the printer's job id",
            ));
        }
        let tx = self.conn.transaction()?;
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
        store::audit::record(
            &tx,
            &s.operator.name,
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
                let tx = self.conn.transaction()?;
                store::print_jobs::set_printer_job(&tx, p.job.id, &job)?;
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
