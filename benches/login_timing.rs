//! Logging in with an unknown operator name against a known name with a
//! wrong password: both must cost the same (argon2 is always run, and both
//! write one audit event), so names cannot be enumerated by timing.
//!
//! Run: `cargo bench --bench login_timing`. `BENCH_ITERATIONS` (default 40)
//! logins of each kind, interleaved; prints the medians and their ratio.

use carddesk::desk::{Desk, LoginPolicy};
use std::time::{Duration, Instant};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let n: usize = std::env::var("BENCH_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40);
    let dir = tempfile::tempdir().unwrap();
    let mut desk = Desk::open(&dir.path().join("bench.db")).unwrap();
    let admin = desk.init_admin("admin", None, "bench-password").unwrap();
    // No lock-out during the run: every wrong password is checked in full.
    desk.set_login_policy(
        &admin,
        &LoginPolicy {
            max_failures: 100,
            ..desk.login_policy().unwrap()
        },
    )
    .unwrap();
    // Warm up (the unknown-name hash is made on first use).
    let _ = desk.login("nobody-at-all", "wrong-password");
    let _ = desk.login("admin", "wrong-password");
    let (mut unknown, mut wrong) = (Vec::new(), Vec::new());
    for i in 0..n {
        let t = Instant::now();
        assert!(desk
            .login(&format!("nobody-{i}"), "wrong-password")
            .is_err());
        unknown.push(t.elapsed());
        let t = Instant::now();
        assert!(desk.login("admin", "wrong-password").is_err());
        wrong.push(t.elapsed());
    }
    let (u, w) = (median(unknown), median(wrong));
    println!("login_timing: {n} logins of each kind");
    println!(
        "  unknown operator name : median {:.2} ms",
        u.as_secs_f64() * 1e3
    );
    println!(
        "  wrong password        : median {:.2} ms",
        w.as_secs_f64() * 1e3
    );
    println!(
        "  ratio unknown/wrong   : {:.3} (goal: within 0.8 .. 1.2)",
        u.as_secs_f64() / w.as_secs_f64()
    );
}
