//! The CUPS card-printer queue the printing tests share: where its output
//! lands, fault injection, and the lock that keeps printing tests apart.

use carddesk::devices::printer::CupsPrinter;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

pub fn card_pdf_dir() -> PathBuf {
    std::env::var("CARD_PDF_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| super::harness_state().join("card-pdf"))
}

pub fn queue() -> String {
    std::env::var("CARD_QUEUE").unwrap_or_else(|_| "CardPrinter".into())
}

/// Takes the card printer (a file lock shared with the other test files
/// that print) and fails (does not skip) when CUPS or the queue is missing.
pub fn require_cups() -> super::DeviceLock {
    let lock = super::device_lock("card-printer");
    let out = Command::new("lpstat").args(["-p", &queue()]).output();
    match out {
        Ok(o) if o.status.success() => {}
        Ok(o) => panic!(
            "CUPS queue {} is not available ({}); start it as root with tests/support/start-cups.sh",
            queue(),
            String::from_utf8_lossy(&o.stderr).trim()
        ),
        Err(e) => panic!("lpstat cannot run ({e}); install cups-client and run tests/support/start-cups.sh"),
    }
    lock
}

pub fn printer_fault(arg: &str) -> String {
    let out = Command::new("bash")
        .arg(super::script("printer-fault.sh"))
        .args(arg.split_whitespace())
        .env("HARNESS_STATE", super::harness_state())
        .output()
        .expect("run printer-fault.sh");
    assert!(
        out.status.success(),
        "printer-fault.sh {arg} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Injects a fault and clears it again when dropped, even if the test fails.
pub struct Fault;
impl Fault {
    /// Only clears (for a test that injects faults itself).
    pub fn clear_on_drop() -> Fault {
        Fault
    }

    pub fn inject(kind: &str) -> Fault {
        printer_fault(kind);
        Fault
    }
}
impl Drop for Fault {
    fn drop(&mut self) {
        printer_fault("ok");
    }
}

/// The cups-pdf output of a job: `<title…>-job_<ID>.pdf` (the title part
/// may carry stray bytes, so match the suffix).
pub fn output_of(job: &str) -> Option<PathBuf> {
    let suffix = format!("-job_{job}.pdf");
    // cups-pdf writes the file before CUPS marks the job completed; allow the
    // directory listing a moment to catch up.
    for _ in 0..50 {
        if let Ok(dir) = std::fs::read_dir(card_pdf_dir()) {
            if let Some(p) = dir
                .filter_map(Result::ok)
                .map(|e| e.path())
                .find(|p| p.to_string_lossy().ends_with(&suffix))
            {
                return Some(p);
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    None
}

pub fn cups() -> CupsPrinter {
    CupsPrinter::new().with_timeout(Duration::from_secs(60))
}
