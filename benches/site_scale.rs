//! How the desk's costs grow with the site: at a history of N requests
//! (N/10 cardholders, 3N/10 cards, N/100 pending), for N = 10 000, 100 000
//! and 1 000 000 (`SCALE_SIZES` to change). Prints one `name value unit`
//! line per figure; BENCHMARKS.md keeps the latest and the goals.
//!
//! Run: `cargo bench --bench site_scale` (with a DISPLAY, or xvfb-run on
//! the PATH, it also measures the real window's memory).
//!
//! Backends (`SCALE_BACKENDS`, default both when `CARDDESK_TEST_POSTGRES`
//! names a server, else sqlite): `sqlite` (a file) and `postgres` (a new
//! database on that server, e.g. tests/support/start-postgres.sh's; sizes
//! for it in `SCALE_POSTGRES_SIZES`, default 10000,100000). Each line is
//! `backend name@N value unit`.

use carddesk::desk::{ConnectCard, Desk, DeskCommand, PageRequest, RequestStatus, ScaleSpec};
use carddesk::desk::{Secret, DEMO_OPERATOR};
use carddesk::ui::worker::{DeskWorker, Reply, Snapshot};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn process_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into the timespec we pass.
    unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

thread_local! {
    static BACKEND: std::cell::Cell<&'static str> = const { std::cell::Cell::new("sqlite") };
}

fn line(n: u64, name: &str, value: f64, unit: &str) {
    let backend = BACKEND.with(|b| b.get());
    println!("{backend} {name}@{n} {value:.3} {unit}");
}

/// A new, empty site database: a file, or a connection file naming a new
/// database on the server.
fn new_site(backend: &str, name: &str, dir: &Path) -> std::path::PathBuf {
    match backend {
        "postgres" => {
            let url = std::env::var("CARDDESK_TEST_POSTGRES").expect("CARDDESK_TEST_POSTGRES");
            let db = format!("carddesk_bench_{name}_{}", std::process::id());
            let mut admin = postgres::Client::connect(&url, postgres::NoTls).unwrap();
            for sql in [
                format!("DROP DATABASE IF EXISTS {db}"),
                format!("CREATE DATABASE {db}"),
            ] {
                admin.batch_execute(&sql).unwrap();
            }
            let (base, _) = url.rsplit_once('/').unwrap();
            let path = dir.join(format!("{name}.toml"));
            // Over TLS, checked against the harness' CA, as a site would.
            let ca = std::env::var_os("PG_CA").map(std::path::PathBuf::from);
            carddesk::store::server::ServerSettings::write(
                &path,
                &format!("{base}/{db}"),
                ca.as_deref(),
            )
            .unwrap();
            path
        }
        _ => dir.join(format!("{name}.db")),
    }
}

/// The database's size on disk (MiB).
fn database_size(db: &Path) -> f64 {
    if carddesk::store::server::is_connection_file(db) {
        let conn = carddesk::store::connect(db).unwrap();
        let bytes: i64 = conn
            .query_row("SELECT pg_database_size(current_database())", (), |r| {
                r.get(0)
            })
            .unwrap();
        return bytes as f64 / 1_048_576.0;
    }
    std::fs::metadata(db).map(|m| m.len()).unwrap_or(0) as f64 / 1_048_576.0
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Waits for the worker's snapshot that `done` accepts.
fn snapshot(w: &DeskWorker, done: impl Fn(&Snapshot) -> bool) -> Snapshot {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        for r in w.poll() {
            if let Reply::Snapshot(s) = r {
                if done(&s) {
                    return s;
                }
            }
        }
        assert!(Instant::now() < deadline, "no snapshot");
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// The window's resident memory (MiB) some seconds after it opened on
/// `db`, logged in (`--open main`) or at the login screen.
fn window_rss(db: &Path, logged_in: bool) -> Option<f64> {
    let bin = Path::new(env!("CARGO_BIN_EXE_carddesk"));
    let mut cmd = if std::env::var_os("DISPLAY").is_some() {
        std::process::Command::new(bin)
    } else {
        let mut c = std::process::Command::new("xvfb-run");
        c.args(["-a", "-s", "-screen 0 1280x800x24"]).arg(bin);
        c
    };
    cmd.arg("--demo").arg("--db").arg(db);
    if logged_in {
        cmd.args(["--open", "main"]);
    }
    let mut child = cmd
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .ok()?;
    std::thread::sleep(Duration::from_secs(8));
    // The window is the carddesk process (xvfb-run's child, or this one).
    let out = std::process::Command::new("pgrep")
        .args([
            "-n",
            "-f",
            &format!("carddesk --demo --db {}", db.display()),
        ])
        .output()
        .ok()?;
    let pid = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok();
    let _ = std::process::Command::new("kill").arg(&pid).status();
    let _ = child.kill();
    let _ = child.wait();
    let kb: f64 = status?
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some(kb / 1024.0)
}

fn site(backend: &str, n: u64, dir: &Path) {
    let db = new_site(backend, &format!("site_{n}"), dir);
    let started = Instant::now();
    let mut desk = Desk::open(&db).unwrap();
    desk.check_demo_allowed().unwrap();
    let (name, password) = DEMO_OPERATOR;
    desk.init_admin(name, None, password).unwrap();
    let s = desk.login(name, password).unwrap();
    desk.generate_demo(
        &s,
        &ScaleSpec {
            cardholders: n / 10,
            credentials: 3 * n / 10,
            requests: n,
            pending: n / 100,
            photos: false,
        },
    )
    .unwrap();
    line(n, "generate", started.elapsed().as_secs_f64(), "s");
    drop(desk);

    // Cold start: open the database, start the worker, log in, until the
    // main window's lists are loaded.
    let t = Instant::now();
    let desk = Desk::open(&db).unwrap();
    let w = DeskWorker::spawn(db.clone(), Arc::new(|| {})).unwrap();
    w.send(DeskCommand::Login {
        name: name.into(),
        password: Secret::new(password.to_string()),
    });
    let first = snapshot(&w, |s| s.cardholders.total > 0);
    line(n, "cold_start_to_lists", ms(t.elapsed()), "ms");
    assert_eq!(first.pending_count(), (n / 100) as i64);

    let s = desk.login(name, password).unwrap();
    let times: Vec<Duration> = (0..200)
        .map(|_| {
            let t = Instant::now();
            desk.pending_count(&s).unwrap();
            t.elapsed()
        })
        .collect();
    line(n, "pending_count", ms(median(times)), "ms");
    let times: Vec<Duration> = (0..20)
        .map(|_| {
            let t = Instant::now();
            desk.requests(&s, Some(RequestStatus::Pending), PageRequest::first(200))
                .unwrap();
            t.elapsed()
        })
        .collect();
    line(n, "card_requests_first_page", ms(median(times)), "ms");
    // Typing "willem de" one key at a time: each keystroke is a search
    // with its count and first page.
    let typed = "willem de";
    let times: Vec<Duration> = (1..=typed.len())
        .map(|k| {
            let t = Instant::now();
            desk.cardholders(&s, &typed[..k], PageRequest::first(200))
                .unwrap();
            t.elapsed()
        })
        .collect();
    line(n, "search_keystroke", ms(median(times)), "ms");

    // A change elsewhere (another connection renames a cardholder on the
    // first page) until the worker's snapshot shows it.
    let mut other = Desk::open(&db).unwrap();
    let os = other.login(name, password).unwrap();
    let who = first.cardholders.items[0].clone();
    let input = carddesk::desk::CardholderInput {
        first_name: "Aaron".into(),
        last_name: format!("Aaa changed {n}"), // sorts first: on the page shown
        email: who.email.clone(),
        ..Default::default()
    };
    other.update_cardholder(&os, who.id, &input).unwrap();
    let (t, cpu) = (Instant::now(), process_cpu());
    let want = format!("Aaa changed {n}");
    snapshot(&w, |s| {
        s.cardholders.items.iter().any(|c| c.last_name == want)
    });
    line(n, "change_elsewhere_shown_wall", ms(t.elapsed()), "ms");
    line(
        n,
        "change_elsewhere_shown_cpu",
        ms(process_cpu() - cpu),
        "ms",
    );
    drop(w);

    // Assign a new card and close, one request after another (each its own
    // transactions with their audit records), for 2 s or 500 requests.
    let pending = desk
        .requests(&s, Some(RequestStatus::Pending), PageRequest::first(500))
        .unwrap()
        .items;
    let mut other = other;
    let t = Instant::now();
    let mut done = 0u64;
    for (i, r) in pending.iter().enumerate() {
        other
            .connect_card(
                &os,
                r.id,
                &ConnectCard::Manual {
                    format: "H10306".into(),
                    fields: vec![
                        ("facility".into(), (n % 65_536).to_string()),
                        ("card".into(), i.to_string()),
                    ],
                },
            )
            .unwrap();
        other.close_request(&os, r.id).unwrap();
        done += 1;
        if t.elapsed() > Duration::from_secs(2) {
            break;
        }
    }
    line(
        n,
        "assign_and_close",
        done as f64 / t.elapsed().as_secs_f64(),
        "per_s",
    );

    if let (Some(before), Some(after)) = (window_rss(&db, false), window_rss(&db, true)) {
        line(n, "window_rss_before_login", before, "MiB");
        line(n, "window_rss_after_login", after, "MiB");
    }
    line(n, "database_size", database_size(&db), "MiB");
}

fn sizes(var: &str, default: &str) -> Vec<u64> {
    std::env::var(var)
        .unwrap_or_else(|_| default.into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect()
}

fn main() {
    let default_backends = if std::env::var_os("CARDDESK_TEST_POSTGRES").is_some() {
        "sqlite,postgres"
    } else {
        "sqlite"
    };
    let backends = std::env::var("SCALE_BACKENDS").unwrap_or_else(|_| default_backends.into());
    let dir = tempfile::tempdir().unwrap();
    for backend in backends.split(',').map(str::trim) {
        let backend: &'static str = if backend == "postgres" {
            "postgres"
        } else {
            "sqlite"
        };
        BACKEND.with(|b| b.set(backend));
        // An empty demo site, for the window's own memory.
        let empty = new_site(backend, "empty", dir.path());
        {
            let mut desk = Desk::open(&empty).unwrap();
            desk.check_demo_allowed().unwrap();
            desk.init_admin(DEMO_OPERATOR.0, None, DEMO_OPERATOR.1)
                .unwrap();
        }
        if let (Some(before), Some(after)) = (window_rss(&empty, false), window_rss(&empty, true)) {
            line(0, "window_rss_before_login", before, "MiB");
            line(0, "window_rss_after_login", after, "MiB");
        }
        let ns = match backend {
            "postgres" => sizes("SCALE_POSTGRES_SIZES", "10000,100000"),
            _ => sizes("SCALE_SIZES", "10000,100000,1000000"),
        };
        for n in ns {
            site(backend, n, dir.path());
        }
    }
}
