//! Two desks, one moment: two connections to one database file, on two
//! threads released together by a barrier, try the same change 1 000 times.
//! Exactly one wins each round, nothing changes for the other, and the
//! loser's error names the winner.

mod common;

use carddesk::desk::job::JobContext;
use carddesk::desk::station::SimulatedPrinter;
use carddesk::desk::{
    ConnectCard, Desk, DeskError, DeskResult, IssueOptions, Role, Session, TempCardRequest,
    TempCardState,
};
use common::*;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

const ROUNDS: usize = 1000;

/// A second desk: its own connection, its own operator.
struct Desks {
    t: TestDesk,
    olga: Session,
    sam: Session,
    other: Desk,
}

fn desks() -> Desks {
    let mut t = TestDesk::new();
    let olga = t.operator("olga", Role::Supervisor, None);
    let sam = t.operator("sam", Role::Supervisor, None);
    let other = Desk::connect(&t.db_path()).unwrap();
    Desks {
        t,
        olga,
        sam,
        other,
    }
}

/// Runs `a` on this desk as olga and `b` on the other as sam, released at
/// the same instant; returns both results.
fn race<T: Send>(
    d: &mut Desks,
    a: impl FnOnce(&mut Desk, &Session) -> DeskResult<T> + Send,
    b: impl FnOnce(&mut Desk, &Session) -> DeskResult<T> + Send,
) -> (DeskResult<T>, DeskResult<T>) {
    let barrier = Barrier::new(2);
    let (mine, other) = (&mut d.t.desk, &mut d.other);
    let (olga, sam) = (&d.olga, &d.sam);
    std::thread::scope(|scope| {
        let ha = scope.spawn(|| {
            barrier.wait();
            a(mine, olga)
        });
        let hb = scope.spawn(|| {
            barrier.wait();
            b(other, sam)
        });
        (ha.join().unwrap(), hb.join().unwrap())
    })
}

/// Exactly one of the two won; the loser's error (as the operator reads
/// it) names the winner. Returns who won.
fn one_winner<T>(
    round: usize,
    (a, b): (DeskResult<T>, DeskResult<T>),
    names_winner: impl Fn(&DeskError, &str) -> bool,
) -> &'static str {
    match (a, b) {
        (Ok(_), Err(e)) => {
            assert!(
                names_winner(&e, "olga"),
                "round {round}: sam lost with: {e}"
            );
            "olga"
        }
        (Err(e), Ok(_)) => {
            assert!(
                names_winner(&e, "sam"),
                "round {round}: olga lost with: {e}"
            );
            "sam"
        }
        (Ok(_), Ok(_)) => panic!("round {round}: both desks won"),
        (Err(a), Err(b)) => panic!("round {round}: nobody won: {a} / {b}"),
    }
}

fn by(e: &DeskError, winner: &str) -> bool {
    e.to_string().contains(&format!("by {winner} at "))
}

fn card(n: usize) -> ConnectCard {
    manual("H10301", &[("facility", "7"), ("card", &n.to_string())])
}

fn report(what: &str, wins: &[&str], started: Instant) {
    let olga = wins.iter().filter(|w| **w == "olga").count();
    eprintln!(
        "race {what}: {} rounds, olga won {olga}, sam won {}, {:.1} s",
        wins.len(),
        wins.len() - olga,
        started.elapsed().as_secs_f64()
    );
}

#[test]
fn two_desks_complete_the_same_request() {
    let mut d = desks();
    let started = Instant::now();
    let mut wins = Vec::new();
    for round in 0..ROUNDS {
        let admin = d.t.admin.clone();
        let id =
            d.t.request_for(&admin, "Race", &format!("Close{round}"), true);
        d.t.desk.connect_card(&admin, id, &card(round)).unwrap();
        let r = race(
            &mut d,
            |desk, s| desk.close_request(s, id),
            |desk, s| desk.close_request(s, id),
        );
        wins.push(one_winner(round, r, by));
        // One completion, one mail, whoever won.
        assert_eq!(
            carddesk::store::outbox::for_request(&d.t.db(), id)
                .unwrap()
                .len(),
            1
        );
    }
    report("complete one request", &wins, started);
    d.t.desk.verify_audit(&d.t.admin).unwrap();
}

#[test]
fn two_desks_give_one_card_to_two_requests() {
    let mut d = desks();
    let admin = d.t.admin.clone();
    let started = Instant::now();
    let mut wins = Vec::new();
    for round in 0..ROUNDS {
        let first = d.t.request_for(&admin, "Ann", &format!("A{round}"), false);
        let second = d.t.request_for(&admin, "Bob", &format!("B{round}"), false);
        let fields = [
            ("facility".to_string(), "9".to_string()),
            ("card".to_string(), round.to_string()),
        ];
        let c =
            d.t.desk
                .register_credential(&admin, "H10301", &fields)
                .unwrap();
        let existing = ConnectCard::Existing {
            credential_id: c.id,
        };
        let other = existing.clone();
        let r = race(
            &mut d,
            |desk, s| desk.connect_card(s, first, &existing),
            |desk, s| desk.connect_card(s, second, &other),
        );
        // The loser is told who holds the card now: the winner's cardholder.
        let holder_of = |winner: &str| {
            if winner == "olga" {
                format!("Ann A{round}")
            } else {
                format!("Bob B{round}")
            }
        };
        wins.push(one_winner(round, r, |e, w| {
            e.to_string()
                .contains(&format!("already assigned to {}", holder_of(w)))
        }));
        let held = d.t.desk.credential(&admin, c.id).unwrap();
        assert!(held.cardholder_id.is_some(), "round {round}");
    }
    report("one card, two requests", &wins, started);
}

#[test]
fn two_desks_assign_one_temporary_card_to_two_people() {
    let mut d = desks();
    let admin = d.t.admin.clone();
    // A stock of produced temporary cards, made with the simulated printer.
    let printer = SimulatedPrinter::new(Duration::ZERO);
    let mut stock = Vec::new();
    while stock.len() < ROUNDS {
        let batch =
            d.t.desk
                .request_temp_cards(
                    &admin,
                    &TempCardRequest {
                        count: 500.min((ROUNDS - stock.len()) as u32),
                        note: "race".into(),
                        ..Default::default()
                    },
                )
                .unwrap();
        let ids: Vec<i64> = batch.iter().map(|c| c.id).collect();
        let order =
            d.t.desk
                .issue_temp_cards(
                    &admin,
                    &ids,
                    &IssueOptions::printer("Simulated card printer"),
                )
                .unwrap();
        let produced =
            d.t.desk
                .produce_temp_order(
                    &admin,
                    order.id,
                    &printer,
                    None,
                    &JobContext::inline(|_| {}),
                )
                .unwrap();
        for p in &produced {
            assert!(p.ok(), "production failed: {:?}", p.card.error);
        }
        d.t.desk.complete_temp_order(&admin, order.id).unwrap();
        stock.extend(ids);
    }
    let started = Instant::now();
    let mut wins = Vec::new();
    for (round, &card_id) in stock.iter().enumerate() {
        let ann = d.t.cardholder("Ann", &format!("T{round}"));
        let bob = d.t.cardholder("Bob", &format!("T{round}"));
        let r = race(
            &mut d,
            |desk, s| desk.assign_temp_card(s, card_id, ann, None),
            |desk, s| desk.assign_temp_card(s, card_id, bob, None),
        );
        wins.push(one_winner(round, r, by));
        let c = d.t.desk.temp_card(&admin, card_id).unwrap();
        assert_eq!(c.state, TempCardState::Assigned);
        assert!(c.cardholder_id == Some(ann) || c.cardholder_id == Some(bob));
    }
    report("one temporary card, two people", &wins, started);
}

#[test]
fn two_desks_repeat_the_same_failed_print_job() {
    let mut d = desks();
    let admin = d.t.admin.clone();
    let printer = Arc::new(SimulatedPrinter::new(Duration::ZERO));
    let started = Instant::now();
    let mut wins = Vec::new();
    for round in 0..ROUNDS {
        let id =
            d.t.request_for(&admin, "Print", &format!("P{round}"), false);
        d.t.desk.connect_card(&admin, id, &card(round)).unwrap();
        printer.fail_next("ribbon out");
        let job =
            d.t.desk
                .print_request_badge(&admin, id, printer.as_ref(), "Simulated card printer")
                .unwrap();
        let r = race(
            &mut d,
            |desk, s| desk.repeat_print_job(s, job.id, None),
            |desk, s| desk.repeat_print_job(s, job.id, None),
        );
        wins.push(one_winner(round, r, by));
        let again = d.t.desk.print_job(&admin, job.id).unwrap();
        assert_eq!(again.attempts, job.attempts + 1, "round {round}");
    }
    report("repeat one failed print job", &wins, started);
}
