//! The harness's SMTP sink (tests/support/smtp_sink.py, aiosmtpd): private
//! instances on a free port, and the messages a sink has stored.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const SINK_SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/smtp_sink.py");

/// A unique address, so this run's messages can be told from any other's.
pub fn unique_address(tag: &str) -> String {
    let n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{tag}-{n}-{}@desk.example", std::process::id())
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A private instance of the harness's SMTP sink, stopped on drop.
pub struct PrivateSink {
    child: Option<Child>,
    pub port: u16,
    pub dir: tempfile::TempDir,
}

impl PrivateSink {
    pub fn start() -> PrivateSink {
        let mut s = PrivateSink {
            child: None,
            port: free_port(),
            dir: super::private_dir(),
        };
        s.up();
        s
    }

    pub fn up(&mut self) {
        assert!(self.child.is_none());
        let child = Command::new("/usr/bin/python3")
            .arg(SINK_SCRIPT)
            .args(["--dir", self.dir.path().to_str().unwrap()])
            .args(["--host", "127.0.0.1", "--port", &self.port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("run /usr/bin/python3 tests/support/smtp_sink.py (apt-get install python3-aiosmtpd)");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("smtp_sink.py exited ({status}); is python3-aiosmtpd installed?");
            }
            assert!(
                Instant::now() < deadline,
                "private SMTP sink did not start listening on port {}",
                self.port
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn down(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }

    /// Makes the sink answer DATA with `reply` until `heal`.
    pub fn fail_with(&self, reply: &str) {
        std::fs::write(self.dir.path().join(".fail"), format!("{reply}\n")).unwrap();
    }

    pub fn heal(&self) {
        let _ = std::fs::remove_file(self.dir.path().join(".fail"));
    }
}
impl Drop for PrivateSink {
    fn drop(&mut self) {
        if let Some(pid) = self.child.as_ref().map(Child::id) {
            // In case a test stopped it (SIGSTOP) and then failed.
            let _ = Command::new("kill")
                .args(["-CONT", &pid.to_string()])
                .status();
        }
        self.down();
    }
}

/// A delivered message as the sink stored it.
pub struct Delivered {
    pub rcpt: String,
    pub message_id: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Every message in `dir` addressed to `to`.
pub fn delivered_to(dir: &Path, to: &str) -> Vec<Delivered> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .collect();
    paths.sort();
    for p in paths {
        let raw = std::fs::read(&p).unwrap();
        let head = String::from_utf8_lossy(&raw[..raw.len().min(2000)]).to_string();
        let rcpt = head
            .lines()
            .find_map(|l| l.strip_prefix("X-Harness-Rcpt-To: "))
            .unwrap_or_default()
            .to_string();
        if !rcpt.split(", ").any(|r| r.eq_ignore_ascii_case(to)) {
            continue;
        }
        let m = mail_parser::MessageParser::default()
            .parse(&raw[..])
            .expect("parse stored mail");
        out.push(Delivered {
            rcpt,
            message_id: m.message_id().unwrap_or_default().to_string(),
            subject: m.subject().unwrap_or_default().to_string(),
            text: m.body_text(0).unwrap_or_default().to_string(),
            html: m.body_html(0).unwrap_or_default().to_string(),
        });
    }
    out
}
