//! The test door reader: tests/support/osdp_pd.py, an OSDP peripheral
//! (PyPI libosdp) on a pseudo-terminal whose slave is linked at `link`.
//! tests/support/start-osdp.sh sets up its Python (OSDP_PYTHON, OSDP_PD).

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

pub struct DoorReaderDouble {
    child: Option<(Child, ChildStdin, BufReader<ChildStdout>)>,
    pub link: PathBuf,
    pub log: PathBuf,
    address: u8,
    scbk: Option<String>,
}

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run tests/support/start-osdp.sh and source tests/support/env.sh")
    })
}

impl DoorReaderDouble {
    /// Starts a reader at OSDP `address` in `dir` (its port is
    /// `dir/ttyOSDP`), with a secure channel key if given (32 hex digits).
    pub fn start(dir: &Path, address: u8, scbk: Option<&str>) -> Self {
        let mut d = DoorReaderDouble {
            child: None,
            link: dir.join("ttyOSDP"),
            log: dir.join("osdp-commands.jsonl"),
            address,
            scbk: scbk.map(str::to_string),
        };
        d.spawn();
        d
    }

    fn spawn(&mut self) {
        let mut cmd = Command::new(env("OSDP_PYTHON"));
        cmd.arg(env("OSDP_PD"))
            .arg("--link")
            .arg(&self.link)
            .arg("--address")
            .arg(self.address.to_string())
            .arg("--log")
            .arg(&self.log);
        if let Some(k) = &self.scbk {
            cmd.arg("--scbk").arg(k);
        }
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start tests/support/osdp_pd.py");
        let stdin = child.stdin.take().unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        assert!(
            line.starts_with("ready"),
            "door reader did not start: {line:?}"
        );
        self.child = Some((child, stdin, stdout));
    }

    /// Presents a card: the reader reports `bits` (osdp_RAW, Wiegand).
    pub fn card(&mut self, bits: &str) {
        let (_, stdin, stdout) = self.child.as_mut().expect("running");
        writeln!(stdin, "card {bits}").unwrap();
        stdin.flush().unwrap();
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        assert!(line.starts_with("ok"), "card {bits}: {line:?}");
    }

    /// Stops the reader (its pty closes: the port goes away).
    pub fn stop(&mut self) {
        if let Some((mut child, mut stdin, _)) = self.child.take() {
            let _ = writeln!(stdin, "quit");
            let _ = stdin.flush();
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
            while child.try_wait().unwrap().is_none() && std::time::Instant::now() < deadline {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same link.
    pub fn restart(&mut self) {
        self.stop();
        self.spawn();
    }

    /// The output commands the reader received (LED, buzzer), in order.
    pub fn commands(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }
}

impl Drop for DoorReaderDouble {
    fn drop(&mut self) {
        self.stop();
    }
}
