//! Printing badges on the real CUPS queue `CardPrinter` (cups-pdf backend,
//! started by tests/support/start-cups.sh), including the faults an
//! operator meets: a stopped queue, a queue that rejects jobs, a printer
//! that fails the job, and a job stuck in a jammed queue. Every test here
//! uses the one queue, so they run one at a time (`#[serial]`).

mod common;

use carddesk::desk::job::{self, JobEvent};
use carddesk::desk::{CardholderInput, PrintProgress};
use carddesk::devices::printer::{CardPrinter, CupsPrinter, PrintError};
use carddesk::store::print_jobs::PrintStatus;
use common::cups::*;
use common::{manual, TestDesk, PASSWORD};
use serial_test::serial;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// A request for Zoë with an H10301 card, ready to print.
fn printable_request(t: &mut TestDesk) -> i64 {
    let admin = t.admin.clone();
    let input = CardholderInput {
        first_name: "Zoë".into(),
        last_name: "Ğüneş-Ødegård".into(),
        ..Default::default()
    };
    let (_, request) = t
        .desk
        .create_cardholder(&admin, &input, Some(&common::request(false)))
        .unwrap();
    let request = request.unwrap();
    t.desk
        .connect_card(
            &admin,
            request,
            &manual("H10301", &[("facility", "7"), ("card", "4242")]),
        )
        .unwrap();
    request
}

fn audit_actions(t: &TestDesk) -> Vec<String> {
    let conn = t.db();
    let mut stmt = conn
        .prepare("SELECT action FROM audit_event WHERE entity = 'print_job' ORDER BY id")
        .unwrap();
    stmt.query_map((), |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[test]
#[serial]
fn badge_prints_on_the_card_printer_at_card_size() {
    let _printer = require_cups();
    let mut t = TestDesk::new();
    let request = printable_request(&mut t);
    let admin = t.admin.clone();
    let job = t
        .desk
        .print_request_badge(&admin, request, &cups(), &queue())
        .unwrap();
    assert_eq!(job.status, PrintStatus::Printed, "{:?}", job.error);
    assert_eq!(job.attempts, 1);
    assert_eq!(job.template, "Standard");
    let cups_job = job.cups_job_id.clone().expect("CUPS job id recorded");
    assert_eq!(printer_fault(&format!("state {cups_job}")), "completed");
    let out = output_of(&cups_job).expect("cups-pdf wrote the badge");
    let info = Command::new("pdfinfo").arg(&out).output().unwrap();
    let info = String::from_utf8_lossy(&info.stdout);
    assert!(info.contains("Page size:       242"), "{info}");
    assert!(info.contains("x 153"), "{info}");
    assert_eq!(
        t.desk.print_jobs_for_request(&admin, request).unwrap(),
        vec![job]
    );
    // The printer's job id is recorded the moment CUPS takes the badge.
    assert_eq!(
        audit_actions(&t),
        ["print.start", "print.submitted", "print.printed"]
    );
}

#[test]
#[serial]
fn offline_printer_fails_the_job_and_a_repeat_prints_it() {
    let _printer = require_cups();
    let mut t = TestDesk::new();
    let request = printable_request(&mut t);
    let admin = t.admin.clone();
    let fault = Fault::inject("offline");
    let job = t
        .desk
        .print_request_badge(&admin, request, &cups(), &queue())
        .unwrap();
    assert_eq!(job.status, PrintStatus::Failed);
    assert_eq!(
        job.error.as_deref(),
        Some(
            format!(
                "printer {} is not accepting jobs (harness: offline); bring it back online, then repeat the job",
                queue()
            )
            .as_str()
        )
    );
    assert_eq!(job.cups_job_id, None);
    assert_eq!(job.printed_at, None);

    drop(fault);
    let again = t.desk.repeat_print(&admin, job.id, &cups(), None).unwrap();
    assert_eq!(again.id, job.id);
    assert_eq!(again.status, PrintStatus::Printed, "{:?}", again.error);
    assert_eq!(again.attempts, 2);
    assert_eq!(again.error, None);
    assert!(output_of(again.cups_job_id.as_deref().unwrap()).is_some());
    assert_eq!(
        audit_actions(&t),
        [
            "print.start",
            "print.failed",
            "print.repeat",
            "print.submitted",
            "print.printed"
        ]
    );
    // A printed job is not repeated by accident.
    let err = t
        .desk
        .repeat_print(&admin, job.id, &cups(), None)
        .unwrap_err();
    let err = err.to_string();
    assert!(
        err.starts_with(&format!(
            "print job {} is printed (last changed by admin at ",
            job.id
        )),
        "{err}"
    );
    assert!(
        err.ends_with("); only failed jobs can be repeated"),
        "{err}"
    );
}

#[test]
#[serial]
fn stopped_printer_fails_the_job_and_a_repeat_prints_it() {
    let _printer = require_cups();
    let mut t = TestDesk::new();
    let request = printable_request(&mut t);
    let admin = t.admin.clone();
    let fault = Fault::inject("jam");
    let job = t
        .desk
        .print_request_badge(&admin, request, &cups(), &queue())
        .unwrap();
    assert_eq!(job.status, PrintStatus::Failed);
    assert_eq!(
        job.error.as_deref(),
        Some(
            format!(
                "printer {} is stopped (harness: jam); clear the fault and resume the printer, then repeat the job",
                queue()
            )
            .as_str()
        )
    );
    drop(fault);
    let again = t.desk.repeat_print(&admin, job.id, &cups(), None).unwrap();
    assert_eq!(again.status, PrintStatus::Printed, "{:?}", again.error);
    assert!(output_of(again.cups_job_id.as_deref().unwrap()).is_some());
}

#[test]
#[serial]
fn job_the_printer_fails_is_marked_failed_and_a_repeat_prints_it() {
    let _printer = require_cups();
    let mut t = TestDesk::new();
    let request = printable_request(&mut t);
    let admin = t.admin.clone();
    let fault = Fault::inject("fail");
    let job = t
        .desk
        .print_request_badge(&admin, request, &cups(), &queue())
        .unwrap();
    assert_eq!(job.status, PrintStatus::Failed);
    let cups_job = job.cups_job_id.clone().expect("the job reached CUPS");
    assert_eq!(
        job.error.as_deref(),
        Some(
            format!(
                "print job {cups_job} on {} was canceled by the printer; check the printer, then repeat the job",
                queue()
            )
            .as_str()
        )
    );
    assert_eq!(printer_fault(&format!("state {cups_job}")), "canceled");
    drop(fault);
    assert!(output_of(&cups_job).is_none(), "a failed job left a badge");

    let again = t.desk.repeat_print(&admin, job.id, &cups(), None).unwrap();
    assert_eq!(again.status, PrintStatus::Printed, "{:?}", again.error);
    assert_ne!(again.cups_job_id.as_deref(), Some(cups_job.as_str()));
    assert!(output_of(again.cups_job_id.as_deref().unwrap()).is_some());
}

/// The queue stops after the desk checked it: the job sits pending, the
/// bounded wait gives up, cancels it (so it cannot print later unrecorded)
/// and the job is failed; once the printer is back a repeat prints.
#[test]
#[serial]
fn job_stuck_in_a_jammed_queue_times_out_and_is_cancelled() {
    let _printer = require_cups();
    let mut t = TestDesk::new();
    let request = printable_request(&mut t);
    let admin = t.admin.clone();
    let prepared = t
        .desk
        .start_request_print(&admin, request, &queue())
        .unwrap();
    let fault = Fault::inject("jam");
    // Submit behind the adapter's back, as if the jam came a moment later.
    let pdf = t.dir.path().join("late.pdf");
    std::fs::write(&pdf, &prepared.document.pdf).unwrap();
    let lp = Command::new("lp")
        .args(["-d", &queue(), "-t", "late"])
        .arg(&pdf)
        .output()
        .unwrap();
    let lp_out = String::from_utf8_lossy(&lp.stdout);
    let cups_job = lp_out
        .split_whitespace()
        .find_map(|w| w.strip_prefix(&format!("{}-", queue())))
        .expect("lp prints the request id")
        .to_string();

    let quick = CupsPrinter::new().with_timeout(Duration::from_secs(2));
    let result = quick.wait(&queue(), &cups_job);
    let err = result.clone().unwrap_err();
    assert!(matches!(err, PrintError::TimedOut { .. }), "{err}");
    assert_eq!(
        err.to_string(),
        format!(
            "print job {cups_job} on {q} did not finish within 2 s (job still pending; printer {q} is stopped (harness: jam)); it was cancelled — repeat it when the printer is ready",
            q = queue()
        )
    );
    assert_eq!(printer_fault(&format!("state {cups_job}")), "canceled");
    let job = t
        .desk
        .finish_print_job(&admin, prepared.job.id, Some(&cups_job), &result)
        .unwrap();
    assert_eq!(job.status, PrintStatus::Failed);
    assert_eq!(job.cups_job_id.as_deref(), Some(cups_job.as_str()));

    drop(fault);
    let again = t.desk.repeat_print(&admin, job.id, &cups(), None).unwrap();
    assert_eq!(again.status, PrintStatus::Printed, "{:?}", again.error);
    assert!(output_of(again.cups_job_id.as_deref().unwrap()).is_some());
    assert!(output_of(&cups_job).is_none(), "the cancelled job printed");
}

/// The window never waits for the printer: a print job runs on a thread of
/// its own with its own connection, reports the printer's job id as soon
/// as the printer took the document, then records and reports the verdict.
#[test]
#[serial]
fn print_job_reports_submitted_then_finished() {
    let _printer = require_cups();
    let mut t = TestDesk::new();
    let request = printable_request(&mut t);
    let admin = t.admin.clone();
    let prepared = t
        .desk
        .start_request_print(&admin, request, &queue())
        .unwrap();
    let recorded = prepared.job.id;
    let notified = Arc::new(AtomicUsize::new(0));
    let n = notified.clone();
    let printer: Arc<dyn CardPrinter> = Arc::new(cups());
    let session = admin.clone();
    let handle = job::spawn(
        "print-job",
        t.db_path(),
        Arc::new(move || {
            n.fetch_add(1, Ordering::SeqCst);
        }),
        move |desk, ctx| desk.run_print(&session, prepared, printer.as_ref(), ctx),
    );
    let first = handle.recv_timeout(Duration::from_secs(60)).unwrap();
    let JobEvent::Progress(PrintProgress::Submitted {
        job_id,
        printer_job,
    }) = first
    else {
        panic!("expected Submitted, got {first:?}");
    };
    assert_eq!(job_id, recorded);
    let second = handle.recv_timeout(Duration::from_secs(60)).unwrap();
    let JobEvent::Finished(verdict) = second else {
        panic!("expected Finished, got {second:?}");
    };
    let job = verdict.unwrap();
    assert_eq!(job.id, job_id);
    assert_eq!(job.status, PrintStatus::Printed, "{:?}", job.error);
    assert_eq!(job.cups_job_id.as_deref(), Some(printer_job.as_str()));
    // The job calls notify right after sending each event.
    for _ in 0..100 {
        if notified.load(Ordering::SeqCst) == 2 {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(notified.load(Ordering::SeqCst), 2);
    // The verdict is recorded, as any other connection sees it.
    assert_eq!(t.desk.print_job(&admin, job_id).unwrap(), job);
    // The printer's job id is recorded the moment CUPS takes the badge.
    assert_eq!(
        audit_actions(&t),
        ["print.start", "print.submitted", "print.printed"]
    );
    assert!(output_of(&printer_job).is_some());
}

#[test]
#[serial]
fn queues_list_the_card_printer_and_its_state() {
    let _printer = require_cups();
    let q = cups().queues().unwrap();
    let card = q.iter().find(|q| q.name == queue()).expect("queue listed");
    assert!(card.accepting && card.reason.is_none(), "{card:?}");
    let _fault = Fault::inject("offline");
    let q = cups().queues().unwrap();
    let card = q.iter().find(|q| q.name == queue()).unwrap();
    assert!(!card.accepting);
    assert_eq!(card.reason.as_deref(), Some("harness: offline"));
}

fn carddesk(t: &TestDesk, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_carddesk"))
        .arg("--db")
        .arg(t.db_path())
        .args(args)
        .env("CARDDESK_OPERATOR", "admin")
        .env("CARDDESK_PASSWORD", PASSWORD)
        .env_remove("CARDDESK_DB")
        .output()
        .unwrap()
}

#[test]
#[serial]
fn cli_prints_waits_and_reports_failures() {
    let _printer = require_cups();
    let mut t = TestDesk::new();
    let request = printable_request(&mut t).to_string();

    let list = carddesk(&t, &["printer", "list"]);
    assert!(list.status.success());
    assert!(String::from_utf8_lossy(&list.stdout).contains(&format!("{}\tidle", queue())));

    let ok = carddesk(&t, &["request", "print", &request, "--printer", &queue()]);
    let stdout = String::from_utf8_lossy(&ok.stdout);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(
        stdout.starts_with(&format!("print job 1 printed on {}", queue())),
        "{stdout}"
    );

    let _fault = Fault::inject("offline");
    let bad = carddesk(&t, &["request", "print", &request, "--printer", &queue()]);
    assert_eq!(bad.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&bad.stderr),
        format!(
            "error: print job 2 failed: printer {} is not accepting jobs (harness: offline); bring it back online, then repeat the job\n",
            queue()
        )
    );

    let unknown = carddesk(&t, &["request", "print", &request, "--printer", "Nope"]);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&unknown.stderr)
        .contains("printer \"Nope\" does not exist (printers: "));
}

/// A temporary card has no holder: it is printed on its own, with the card
/// number bound, and its job is recorded against the card.
#[test]
#[serial]
fn temporary_card_without_holder_prints() {
    let _printer = require_cups();
    let mut t = TestDesk::new();
    let admin = t.admin.clone();
    let card = carddesk::store::credentials::insert(
        &t.db(),
        &carddesk::store::credentials::NewCredential {
            format: "UID",
            value: "04A1B2C3D4E5F6",
            fields: &serde_json::json!({}),
            uid: Some("04A1B2C3D4E5F6"),
            state: carddesk::domain::CredentialState::Unassigned,
            cardholder_id: None,
        },
    )
    .unwrap();
    let job = t
        .desk
        .print_card_badge(&admin, card, "Visitor", &cups(), &queue())
        .unwrap();
    assert_eq!(job.status, PrintStatus::Printed, "{:?}", job.error);
    assert_eq!(
        (job.request_id, job.credential_id, job.cardholder_id),
        (None, Some(card), None)
    );
    assert!(output_of(job.cups_job_id.as_deref().unwrap()).is_some());
    assert_eq!(
        t.desk.print_jobs_for_credential(&admin, card).unwrap(),
        vec![job]
    );
}

/// The card printer of a CardDesk that stops (crashes) while a job prints:
/// the job reaches CUPS, then nobody waits for its verdict.
struct StopsWhilePrinting(CupsPrinter);

impl CardPrinter for StopsWhilePrinting {
    fn queues(&self) -> Result<Vec<carddesk::devices::printer::Queue>, PrintError> {
        self.0.queues()
    }
    fn submit(
        &self,
        queue: &str,
        doc: &carddesk::devices::printer::PrintDocument,
    ) -> Result<String, PrintError> {
        self.0.submit(queue, doc)
    }
    fn wait(&self, _queue: &str, _job: &str) -> Result<(), PrintError> {
        panic!("CardDesk stopped while the card printed");
    }
    fn check(&self, queue: &str, job: &str) -> Result<Option<Result<(), PrintError>>, PrintError> {
        self.0.check(queue, job)
    }
}

#[test]
#[serial]
fn jobs_left_printing_by_a_crash_are_settled_with_cups_or_by_the_operator() {
    let _printer = require_cups();
    let mut t = TestDesk::new();
    let admin = t.admin.clone();
    let request = printable_request(&mut t);

    // A run that stops after handing the badge to CUPS.
    let prepared = t
        .desk
        .start_request_print(&admin, request, &queue())
        .unwrap();
    let job_id = prepared.job.id;
    let db = t.db_path();
    let session = admin.clone();
    let crashed = std::thread::spawn(move || {
        let mut desk = carddesk::desk::Desk::connect(&db).unwrap();
        let _ = desk.run_print(
            &session,
            prepared,
            &StopsWhilePrinting(cups()),
            &job::JobContext::inline(|_| {}),
        );
    })
    .join();
    assert!(crashed.is_err(), "the simulated crash happened");
    let left = t.desk.print_job(&admin, job_id).unwrap();
    assert_eq!(left.status, PrintStatus::Printing);
    let printer_job = left
        .cups_job_id
        .clone()
        .expect("the CUPS job id was noted at once");

    // A job recorded but never sent (the crash came before CUPS had it).
    let never_sent = t
        .desk
        .start_request_print(&admin, request, &queue())
        .unwrap_err();
    // One card, one job at a time: the second is refused while one prints.
    assert!(
        never_sent.to_string().contains("already printing by admin"),
        "{never_sent}"
    );

    // The next start asks CUPS: the job completed, so it is printed.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let settled = loop {
        let settled = t.desk.reconcile_print_jobs(&admin, &cups()).unwrap();
        if !settled.is_empty() || std::time::Instant::now() > deadline {
            break settled;
        }
        std::thread::sleep(Duration::from_millis(250));
    };
    assert_eq!(settled.len(), 1, "settled with CUPS");
    assert_eq!(settled[0].id, job_id);
    assert_eq!(settled[0].status, PrintStatus::Printed);
    assert_eq!(
        settled[0].cups_job_id.as_deref(),
        Some(printer_job.as_str())
    );
    assert!(t.desk.unsettled_print_jobs(&admin).unwrap().is_empty());

    // A job that never reached CUPS: the operator settles it with a reason,
    // and a failed one can be repeated.
    let again = t
        .desk
        .start_request_print(&admin, request, &queue())
        .unwrap();
    assert!(t
        .desk
        .reconcile_print_jobs(&admin, &cups())
        .unwrap()
        .is_empty());
    let err = t
        .desk
        .resolve_print_job(&admin, again.job.id, false, "  ")
        .unwrap_err();
    assert!(
        err.to_string().starts_with("reason: say what you saw"),
        "{err}"
    );
    let failed = t
        .desk
        .resolve_print_job(&admin, again.job.id, false, "no card came out")
        .unwrap();
    assert_eq!(failed.status, PrintStatus::Failed);
    assert!(
        failed
            .error
            .as_deref()
            .unwrap()
            .contains("marked failed by admin: no card came out"),
        "{:?}",
        failed.error
    );
    let twice = t
        .desk
        .resolve_print_job(&admin, again.job.id, true, "it did")
        .unwrap_err();
    assert!(
        twice.to_string().contains("already failed by admin"),
        "{twice}"
    );
    let repeated = t
        .desk
        .repeat_print(&admin, again.job.id, &cups(), None)
        .unwrap();
    assert_eq!(repeated.status, PrintStatus::Printed);
    let actions = audit_actions(&t);
    assert!(
        actions.contains(&"print.resolved_failed".to_string()),
        "{actions:?}"
    );
}
