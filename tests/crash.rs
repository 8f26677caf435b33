//! Pulling the plug: a child process does random desk work on one database
//! while this test kills it (SIGKILL) at random moments, 200 times. After
//! every kill the database is whole: integrity check, audit chain, no card
//! with two holders, every completed request has its card and its audit
//! event, every completion that asked for mail has its outbox row, and no
//! temporary card is left in an order that is closed.
//!
//! The child is this same test binary, run again with CRASH_CHILD_DB set:
//! `crash_child` then works until it is killed.

mod common;

use carddesk::desk::{Desk, IssueOptions, Role, Session, TempCardFilter, TempCardRequest};
use carddesk::store::Connection;
use common::*;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const KILLS: usize = 200;
/// For a quick local look: CRASH_KILLS=20 (the suite always does 200).
fn kills() -> usize {
    std::env::var("CRASH_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(KILLS)
}
const CHILD_ENV: &str = "CRASH_CHILD_DB";

/// The child's work: random desk actions, each one transaction, forever.
#[test]
fn crash_child() {
    let Some(db) = std::env::var_os(CHILD_ENV) else {
        return; // only when run as the child
    };
    let mut desk = Desk::connect(std::path::Path::new(&db)).unwrap();
    let s: Session = desk.login("worker", PASSWORD).unwrap();
    let mut rng = std::env::var("CRASH_CHILD_SEED")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(1);
    let mut next = move |n: u64| {
        // xorshift: the child's choices differ run by run (the seed does).
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng % n
    };
    loop {
        let pending = desk
            .requests(
                &s,
                Some(carddesk::desk::RequestStatus::Pending),
                carddesk::desk::PageRequest::first(50),
            )
            .unwrap()
            .items;
        let pick = |k: u64| pending.get(k as usize % pending.len().max(1)).map(|r| r.id);
        // Errors are expected (a request without a card cannot close, a
        // card number may be taken); only a panic or a broken file is not.
        let _ = match next(8) {
            0 | 1 => desk
                .create_cardholder(
                    &s,
                    &person("Crash", &format!("P{}", next(1_000_000))),
                    Some(&request(next(2) == 0)),
                )
                .map(|_| ()),
            2 | 3 => match pick(next(50)) {
                Some(id) => desk
                    .connect_card(
                        &s,
                        id,
                        &manual(
                            "H10301",
                            &[("facility", "3"), ("card", &next(65_000).to_string())],
                        ),
                    )
                    .map(|_| ()),
                None => Ok(()),
            },
            4 | 5 => match pick(next(50)) {
                Some(id) => desk.close_request(&s, id),
                None => Ok(()),
            },
            6 => match pick(next(50)) {
                Some(id) => desk.deny_request(&s, id, Some("crash test")),
                None => Ok(()),
            },
            _ => temp_order_round(&mut desk, &s, next(2) == 0),
        };
        // A desk's pace, not a benchmark's: the trail stays a size the
        // checks after each kill can walk (kills still land mid-transaction).
        std::thread::sleep(std::time::Duration::from_millis(next(10)));
    }
}

/// Requests two temporary cards, puts them in an order, and completes or
/// cancels it (no printing: the cards go back to requested).
fn temp_order_round(desk: &mut Desk, s: &Session, cancel: bool) -> carddesk::desk::DeskResult<()> {
    let cards = desk.request_temp_cards(
        s,
        &TempCardRequest {
            count: 2,
            note: "crash".into(),
            ..Default::default()
        },
    )?;
    let ids: Vec<i64> = cards.iter().map(|c| c.id).collect();
    let order = desk.issue_temp_cards(s, &ids, &IssueOptions::printer("Simulated card printer"))?;
    if cancel {
        desk.cancel_temp_order(s, order.id)?;
    } else {
        desk.complete_temp_order(s, order.id)?;
    }
    Ok(())
}

fn one(conn: &Connection, sql: &str) -> i64 {
    conn.query_row(sql, (), |r| r.get(0)).unwrap()
}

/// Everything that must hold however the last transaction ended.
fn check_invariants(t: &TestDesk, kill: usize) {
    let conn = t.db();
    // The file itself is sound (a server keeps its own files whole).
    if conn.dialect() == carddesk::store::Dialect::Sqlite {
        let ok: String = conn
            .query_row("PRAGMA integrity_check", (), |r| r.get(0))
            .unwrap();
        assert_eq!(ok, "ok", "kill {kill}: integrity_check");
    }
    t.desk
        .verify_audit(&t.admin)
        .unwrap_or_else(|e| panic!("kill {kill}: {e}"));
    assert_eq!(
        one(
            &conn,
            "SELECT count(*) FROM (SELECT credential_id FROM card_request
               WHERE status IN ('pending', 'completed') AND credential_id IS NOT NULL
               GROUP BY credential_id HAVING count(DISTINCT cardholder_id) > 1) AS shared"
        ),
        0,
        "kill {kill}: a card is connected to two people"
    );
    assert_eq!(
        one(
            &conn,
            "SELECT count(*) FROM card_request r LEFT JOIN credential c ON c.id = r.credential_id
              WHERE r.status = 'completed'
                AND (c.id IS NULL OR c.cardholder_id IS DISTINCT FROM r.cardholder_id OR c.state != 'active')"
        ),
        0,
        "kill {kill}: a completed request without its active card"
    );
    assert_eq!(
        one(
            &conn,
            "SELECT count(*) FROM card_request r WHERE r.status IN ('completed', 'denied')
               AND NOT EXISTS (SELECT 1 FROM audit_event a WHERE a.entity = 'card_request'
                   AND a.entity_id = r.id AND a.action IN ('request.close', 'request.deny'))"
        ),
        0,
        "kill {kill}: an answered request without its audit event"
    );
    assert_eq!(
        one(
            &conn,
            "SELECT count(*) FROM card_request r WHERE r.status IN ('completed', 'denied')
               AND r.notify_requester = 1 AND NOT EXISTS
                   (SELECT 1 FROM outbox o WHERE o.request_id = r.id)"
        ),
        0,
        "kill {kill}: an answer that asked for mail has no outbox row"
    );
    assert_eq!(
        one(
            &conn,
            "SELECT count(*) FROM temp_card c JOIN temp_order o ON o.id = c.order_id
              WHERE o.status != 'open' AND c.state IN ('requested', 'failed')"
        ),
        0,
        "kill {kill}: a temporary card waits in a closed order"
    );
}

#[test]
fn killing_the_desk_at_random_moments_never_breaks_the_database() {
    let mut t = TestDesk::new();
    t.operator("worker", Role::Supervisor, Some("worker@site.example"));
    let me = std::env::current_exe().unwrap();
    let started = Instant::now();
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut work_done = 0;
    let mut checked = Duration::ZERO;
    for kill in 0..kills() {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let mut child = Command::new(&me)
            .args(["--exact", "crash_child", "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, t.db_path())
            .env("CRASH_CHILD_SEED", (seed | 1).to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Long enough to log in and do some work; random, so the kill
        // lands anywhere in a transaction.
        std::thread::sleep(Duration::from_millis(150 + (seed >> 33) % 250));
        assert!(
            child.try_wait().unwrap().is_none(),
            "kill {kill}: the child stopped by itself"
        );
        // SAFETY: kill(2) on our own child's pid.
        let rc = unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGKILL) };
        assert_eq!(rc, 0);
        child.wait().unwrap();
        let checking = Instant::now();
        check_invariants(&t, kill);
        checked += checking.elapsed();
        work_done = one(&t.db(), "SELECT count(*) FROM audit_event");
    }
    // The child did real work between kills (not only logging in).
    assert!(work_done > kills() as i64, "only {work_done} audit events");
    let answered = one(
        &t.db(),
        "SELECT count(*) FROM card_request WHERE status != 'pending'",
    );
    assert!(answered > 0, "no request was ever answered");
    eprintln!(
        "crash: {} kills in {:.1} s ({:.1} s checking); {work_done} audit events, {answered} answered requests, {} temporary cards",
        kills(),
        started.elapsed().as_secs_f64(),
        checked.as_secs_f64(),
        t.desk.temp_cards(&t.admin, &TempCardFilter::default()).unwrap().len()
    );
}
