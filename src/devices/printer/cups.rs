//! The CUPS card printer: `lp` submits, `lpstat` lists the queues and
//! `ipptool` follows a job to its verdict; `cancel` drops a job that waited
//! too long.

use super::{CardPrinter, PrintDocument, PrintError, Queue, QueueState};
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// CUPS through its command-line clients (`lp`, `lpstat`, `cancel` from
/// cups-client; `ipptool` from cups-ipp-utils).
#[derive(Debug)]
pub struct CupsPrinter {
    timeout: Duration,
    poll: Duration,
    server: String,
    /// The IPP test that asks for a job's state: a file of ours, created
    /// exclusively under an unpredictable name (0600), removed on drop.
    test_file: OnceLock<tempfile::NamedTempFile>,
}

const GET_JOB_TEST: &str = r#"{
  OPERATION Get-Job-Attributes
  GROUP operation-attributes-tag
  ATTR charset attributes-charset utf-8
  ATTR naturalLanguage attributes-natural-language en
  ATTR uri printer-uri $uri
  ATTR integer job-id $jobid
  ATTR keyword requested-attributes job-state,job-state-reasons,job-printer-state-message
  STATUS successful-ok
  DISPLAY job-state
  DISPLAY job-state-reasons
  DISPLAY job-printer-state-message
}
"#;

impl Default for CupsPrinter {
    fn default() -> Self {
        Self::new()
    }
}

impl CupsPrinter {
    /// Waits up to two minutes for a job; the server is `$CUPS_SERVER` or
    /// localhost.
    pub fn new() -> Self {
        let server = std::env::var("CUPS_SERVER")
            .ok()
            .filter(|s| !s.is_empty() && !s.starts_with('/'))
            .unwrap_or_else(|| "localhost".into());
        CupsPrinter {
            timeout: Duration::from_secs(120),
            poll: Duration::from_millis(250),
            server,
            test_file: OnceLock::new(),
        }
    }

    /// How long [`CardPrinter::wait`] lets a job sit before cancelling it.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    fn run(&self, program: &str, args: &[&str]) -> Result<std::process::Output, PrintError> {
        Command::new(program)
            .args(args)
            .env("LC_ALL", "C")
            .output()
            .map_err(|e| {
                let package = if program == "ipptool" {
                    "cups-ipp-utils"
                } else {
                    "cups-client"
                };
                PrintError::System(format!(
                    "cannot run {program}: {e} (is {package} installed?)"
                ))
            })
    }

    fn queue(&self, name: &str) -> Result<Queue, PrintError> {
        let queues = self.queues()?;
        queues
            .iter()
            .find(|q| q.name == name)
            .cloned()
            .ok_or_else(|| PrintError::UnknownQueue {
                queue: name.to_string(),
                known: if queues.is_empty() {
                    "none installed".into()
                } else {
                    queues
                        .iter()
                        .map(|q| q.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                },
            })
    }

    fn test_file(&self) -> Result<PathBuf, PrintError> {
        if self.test_file.get().is_none() {
            let failed = |e: std::io::Error| {
                PrintError::System(format!("cannot write the IPP job-state test: {e}"))
            };
            let mut f = tempfile::Builder::new()
                .prefix("carddesk-get-job-")
                .suffix(".test")
                .tempfile()
                .map_err(failed)?;
            f.write_all(GET_JOB_TEST.as_bytes()).map_err(failed)?;
            let _ = self.test_file.set(f);
        }
        Ok(self
            .test_file
            .get()
            .expect("set above")
            .path()
            .to_path_buf())
    }

    /// (job-state, reasons, printer message) from IPP Get-Job-Attributes.
    fn job_state(&self, queue: &str, job: &str) -> Result<(String, String, String), PrintError> {
        let test_file = self.test_file()?;
        let uri = format!("ipp://{}/printers/{queue}", self.server);
        let out = self.run(
            "ipptool",
            &[
                "-c",
                "-d",
                &format!("jobid={job}"),
                &uri,
                &test_file.to_string_lossy(),
            ],
        )?;
        let text = String::from_utf8_lossy(&out.stdout);
        let mut rows = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(true)
            .from_reader(text.as_bytes());
        let row = rows.records().next().and_then(Result::ok).ok_or_else(|| {
            PrintError::System(format!(
                "no state for job {job} on {queue}: {}{}",
                text.trim(),
                String::from_utf8_lossy(&out.stderr).trim()
            ))
        })?;
        let field = |i: usize| row.get(i).unwrap_or("").trim().to_string();
        Ok((field(0), field(1), field(2)))
    }

    fn cancel(&self, queue: &str, job: &str) {
        if let Err(e) = self.run("cancel", &[&format!("{queue}-{job}")]) {
            tracing::warn!("cannot cancel job {job} on {queue}: {e}");
        }
    }
}

/// Parses `lpstat -p` and `lpstat -a` output (LC_ALL=C).
fn parse_lpstat(printers: &str, accepting: &str) -> Vec<Queue> {
    let mut queues: Vec<Queue> = Vec::new();
    let mut lines = printers.lines().peekable();
    while let Some(line) = lines.next() {
        let Some(rest) = line.strip_prefix("printer ") else {
            continue;
        };
        let name = rest.split_whitespace().next().unwrap_or("").to_string();
        let rest = &rest[name.len()..];
        let state = if rest.starts_with(" disabled") {
            QueueState::Stopped
        } else if rest.starts_with(" now printing") {
            QueueState::Printing
        } else {
            QueueState::Idle
        };
        let mut reason = None;
        while let Some(next) = lines.peek() {
            if !next.starts_with('\t') && !next.starts_with(' ') {
                break;
            }
            let r = next.trim();
            if !r.is_empty() && r != "reason unknown" && !r.starts_with("Description:") {
                reason.get_or_insert_with(|| r.to_string());
            }
            lines.next();
        }
        queues.push(Queue {
            name,
            state,
            accepting: true,
            reason: if state == QueueState::Stopped {
                reason
            } else {
                None
            },
        });
    }
    let mut lines = accepting.lines().peekable();
    while let Some(line) = lines.next() {
        let name = line.split_whitespace().next().unwrap_or("");
        if line.starts_with(char::is_whitespace) || name.is_empty() {
            continue;
        }
        let rejecting = line[name.len()..].starts_with(" not accepting");
        let mut reason = None;
        while let Some(next) = lines.peek() {
            if !next.starts_with(char::is_whitespace) {
                break;
            }
            reason.get_or_insert_with(|| next.trim().to_string());
            lines.next();
        }
        if let Some(q) = queues.iter_mut().find(|q| q.name == name) {
            if rejecting {
                q.accepting = false;
                q.reason = reason.or(q.reason.take());
            }
        }
    }
    queues
}

impl CardPrinter for CupsPrinter {
    fn queues(&self) -> Result<Vec<Queue>, PrintError> {
        let p = self.run("lpstat", &["-p"])?;
        let printers = String::from_utf8_lossy(&p.stdout).to_string();
        let err = String::from_utf8_lossy(&p.stderr).to_string();
        if !p.status.success() {
            if err.contains("No destinations added") {
                return Ok(Vec::new());
            }
            return Err(PrintError::System(format!(
                "lpstat: {} (is cupsd running?)",
                err.trim().trim_start_matches("lpstat: ")
            )));
        }
        let a = self.run("lpstat", &["-a"])?;
        Ok(parse_lpstat(&printers, &String::from_utf8_lossy(&a.stdout)))
    }

    fn submit(&self, queue: &str, doc: &PrintDocument) -> Result<String, PrintError> {
        let q = self.queue(queue)?;
        let reason = || q.reason.clone().unwrap_or_else(|| "no reason given".into());
        if q.state == QueueState::Stopped {
            return Err(PrintError::Stopped {
                queue: queue.into(),
                reason: reason(),
            });
        }
        if !q.accepting {
            return Err(PrintError::Rejecting {
                queue: queue.into(),
                reason: reason(),
            });
        }
        let media = format!("media=Custom.{}x{}mm", doc.page_mm.0, doc.page_mm.1);
        let mut child = Command::new("lp")
            .args(["-d", queue, "-t", &doc.title, "-o", &media])
            .env("LC_ALL", "C")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| {
                PrintError::System(format!("cannot run lp: {e} (is cups-client installed?)"))
            })?;
        let mut stdin = child.stdin.take().expect("piped");
        let written = stdin.write_all(&doc.pdf);
        drop(stdin);
        let out = child
            .wait_with_output()
            .map_err(|e| PrintError::System(format!("lp: {e}")))?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        if !out.status.success() || written.is_err() {
            let message = String::from_utf8_lossy(&out.stderr)
                .trim()
                .trim_start_matches("lp: ")
                .to_string();
            return Err(PrintError::Refused {
                queue: queue.into(),
                message: if message.is_empty() {
                    format!("lp exited with {}", out.status)
                } else {
                    message
                },
            });
        }
        // "request id is CardPrinter-12 (1 file(s))"
        stdout
            .split_whitespace()
            .find_map(|w| w.strip_prefix(&format!("{queue}-")))
            .filter(|id| id.chars().all(|c| c.is_ascii_digit()) && !id.is_empty())
            .map(str::to_string)
            .ok_or_else(|| {
                PrintError::System(format!("unexpected answer from lp: {}", stdout.trim()))
            })
    }

    fn check(&self, queue: &str, job: &str) -> Result<Option<Result<(), PrintError>>, PrintError> {
        let (state, reasons, message) = self.job_state(queue, job)?;
        Ok(match state.as_str() {
            "completed" => Some(Ok(())),
            "canceled" | "aborted" => {
                let mut detail = String::new();
                if !message.is_empty() {
                    detail = format!(": {message}");
                } else if !reasons.is_empty()
                    && !matches!(reasons.as_str(), "none" | "processing-to-stop-point")
                {
                    detail = format!(" ({reasons})");
                }
                Some(Err(PrintError::Failed {
                    queue: queue.into(),
                    job: job.into(),
                    state,
                    detail,
                }))
            }
            _ => None,
        })
    }

    fn wait(&self, queue: &str, job: &str) -> Result<(), PrintError> {
        let deadline = Instant::now() + self.timeout;
        loop {
            if let Some(verdict) = self.check(queue, job)? {
                return verdict;
            }
            if Instant::now() >= deadline {
                let state = self
                    .job_state(queue, job)
                    .map(|(state, _, _)| state)
                    .unwrap_or_else(|_| "unknown".into());
                self.cancel(queue, job);
                let mut detail = format!("job still {state}");
                if let Ok(q) = self.queue(queue) {
                    if q.state == QueueState::Stopped || !q.accepting {
                        detail.push_str(&format!("; printer {queue} is {}", q.status()));
                    }
                }
                return Err(PrintError::TimedOut {
                    queue: queue.into(),
                    job: job.into(),
                    seconds: self.timeout.as_secs().max(1),
                    detail,
                });
            }
            std::thread::sleep(
                self.poll
                    .min(deadline.saturating_duration_since(Instant::now())),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lpstat_states_and_reasons() {
        let p = "printer CardPrinter disabled since Sun Nov 22 08:06:02 2026 -\n\tharness: jam\n\
                 printer Office is idle.  enabled since Sun Nov 22 08:06:03 2026\n\
                 printer Big now printing Big-4.  enabled since Sun Nov 22 08:06:03 2026\n";
        let a = "CardPrinter accepting requests since Sun Nov 22 08:06:02 2026\n\
                 Office not accepting requests since Sun Nov 22 08:06:02 2026 -\n\tharness: offline\n\
                 Big accepting requests since Sun Nov 22 08:06:02 2026\n";
        let q = parse_lpstat(p, a);
        assert_eq!(q.len(), 3);
        assert_eq!(q[0].state, QueueState::Stopped);
        assert_eq!(q[0].reason.as_deref(), Some("harness: jam"));
        assert!(q[0].accepting);
        assert_eq!(q[1].state, QueueState::Idle);
        assert!(!q[1].accepting);
        assert_eq!(q[1].status(), "idle, not accepting jobs (harness: offline)");
        assert_eq!(q[2].state, QueueState::Printing);
    }
}
