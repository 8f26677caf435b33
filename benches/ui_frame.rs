//! CPU time per frame of the desk window with a large site: the Card requests
//! dialog with 10 000 pending requests, and the main window with 100 000
//! cardholders. Goal: under 2 ms per frame. Run: `cargo bench --bench ui_frame`.

use carddesk::desk::{Desk, DeskCommand};
use carddesk::domain::Secret;
use carddesk::ui::{DeskApp, DeskWorker, Options};
use rusqlite::params;
use std::sync::Arc;
use std::time::{Duration, Instant};

const CARDHOLDERS: usize = 100_000;
const PENDING: usize = 10_000;

/// CPU time of this thread, so other threads (the desk worker) don't count.
fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into the timespec we pass.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

const ADMIN: (&str, &str) = ("admin", "bench-password");

/// Bench fixture: a big site written straight to SQLite in one transaction
/// (the desk actions would take minutes for 100 000 people).
fn big_site(path: &std::path::Path) {
    let mut desk = Desk::open(path).unwrap();
    let admin = desk
        .init_admin(ADMIN.0, Some("admin@site.example"), ADMIN.1)
        .unwrap();
    let mut conn = rusqlite::Connection::open(path).unwrap();
    let tx = conn.transaction().unwrap();
    {
        let mut ch = tx
            .prepare("INSERT INTO cardholder (first_name, last_name, email, department, created_at) VALUES (?1, ?2, ?3, ?4, '2026-01-01T00:00:00Z')")
            .unwrap();
        let mut rq = tx
            .prepare("INSERT INTO card_request (cardholder_id, requester_id, created_at, reason) VALUES (?1, ?2, '2026-01-01T00:00:00Z', 'bench')")
            .unwrap();
        for i in 0..CARDHOLDERS {
            ch.execute(params![
                format!("First{i}"),
                format!("Last{i:06}"),
                format!("p{i}@example.org"),
                "Bench"
            ])
            .unwrap();
            if i < PENDING {
                rq.execute(params![tx.last_insert_rowid(), admin.operator().id])
                    .unwrap();
            }
        }
    }
    tx.commit().unwrap();
}

fn measure(name: &str, ctx: &egui::Context, app: &mut DeskApp, frames: usize) {
    let input = || egui::RawInput {
        screen_rect: Some(egui::Rect::from_min_size(
            egui::Pos2::ZERO,
            egui::vec2(1280.0, 800.0),
        )),
        ..Default::default()
    };
    // One frame: layout and tessellation. Nothing uploads textures here, so
    // the font atlas updates are dropped (outside the time measured).
    let frame = |app: &mut DeskApp| {
        let start = thread_cpu();
        let mut out = ctx.run_ui(input(), |ui| app.frame_ui(ui));
        let prims = ctx.tessellate(std::mem::take(&mut out.shapes), out.pixels_per_point);
        std::hint::black_box(prims);
        let spent = thread_cpu() - start;
        out.textures_delta.clear();
        spent
    };
    // Warm up: layout caches, fonts, table sizes.
    for _ in 0..10 {
        frame(app);
    }
    let mut times: Vec<Duration> = (0..frames).map(|_| frame(app)).collect();
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{name}: CPU per frame (layout + tessellation) median {:.3} ms, p95 {:.3} ms, max {:.3} ms over {frames} frames",
        ms(times[frames / 2]),
        ms(times[frames * 95 / 100]),
        ms(times[frames - 1])
    );
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("bench.db");
    let t = Instant::now();
    big_site(&db);
    println!(
        "fixture: {CARDHOLDERS} cardholders, {PENDING} pending requests in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    let ctx = egui::Context::default();
    let worker = DeskWorker::spawn(db, Arc::new(|| {})).unwrap();
    // The worker loads nothing before login: log in as the login screen
    // would; the app takes the session from the reply.
    worker.send(DeskCommand::Login {
        name: ADMIN.0.into(),
        password: Secret::new(ADMIN.1),
    });
    let mut app = DeskApp::new(worker, Options::default());
    let t = Instant::now();
    while app.pending_count() < PENDING {
        app.poll_worker();
        std::thread::sleep(Duration::from_millis(5));
    }
    println!(
        "first snapshot loaded by the worker in {:.0} ms (off the UI thread)",
        t.elapsed().as_secs_f64() * 1000.0
    );

    measure("main window, 100 000 cardholders", &ctx, &mut app, 300);
    app.open_card_requests();
    measure("Card requests dialog, 10 000 pending", &ctx, &mut app, 300);
}
