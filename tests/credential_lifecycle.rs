//! A card's life after issue, through the desk and the `carddesk` binary:
//! every allowed and refused move, a lost card replaced in one step, a
//! returned card back in stock and issued again, the expiry sweep, and the
//! cardholder record and requests for existing cardholders.

mod common;

use carddesk::desk::{
    ConnectCard, CredentialAction, CredentialState, DeskError, RequestStatus, Role,
};
use common::cli::Cli;
use common::{request, TestDesk};

fn manual(card: u32) -> ConnectCard {
    ConnectCard::Manual {
        format: "H10301".into(),
        fields: vec![
            ("facility".into(), "12".into()),
            ("card".into(), card.to_string()),
        ],
    }
}

/// A new cardholder with an active card (through a closed request): their
/// id and the card's.
fn issued(t: &mut TestDesk, last: &str, card: u32) -> (i64, i64) {
    let admin = t.admin.clone();
    let request = t.request_for(&admin, "Card", last, false);
    let done = t.desk.connect_card(&admin, request, &manual(card)).unwrap();
    t.desk.close_request(&admin, request).unwrap();
    let holder = t.desk.request(&admin, request).unwrap().cardholder_id;
    (holder, done.credential.id)
}

/// Brings a fresh active card to `state` with the desk's own actions.
fn card_in(t: &mut TestDesk, state: &str, n: u32) -> i64 {
    use CredentialAction::*;
    let admin = t.admin.clone();
    let (_, id) = issued(t, &format!("{state}{n}"), 100 + n);
    let path: &[CredentialAction] = match state {
        "active" => &[],
        "inactive" => &[Deactivate],
        "lost" => &[ReportLost],
        "stolen" => &[ReportStolen],
        "revoked" => &[Revoke],
        "unassigned" => &[Return],
        _ => unreachable!(),
    };
    for &a in path {
        t.desk
            .change_credential_state(&admin, id, a, Some("arranged"), false)
            .unwrap();
    }
    id
}

#[test]
fn each_allowed_and_refused_move() {
    use CredentialAction::*;
    let actions = [
        ReportLost,
        ReportStolen,
        ReportDamaged,
        Deactivate,
        Reactivate,
        Return,
        Revoke,
    ];
    //            lost  stolen damaged deact  react  return revoke
    let table: [(&str, [bool; 7]); 6] = [
        ("active", [true, true, true, true, false, true, true]),
        ("inactive", [true, true, true, false, true, true, true]),
        ("lost", [false, false, false, true, false, false, true]),
        ("stolen", [false, false, false, false, false, false, true]),
        ("revoked", [false, false, false, false, false, false, false]),
        (
            "unassigned",
            [false, false, false, false, false, false, true],
        ),
    ];
    let mut t = TestDesk::new();
    let admin = t.admin.clone();
    let mut n = 0;
    for (state, expected) in table {
        for (action, ok) in actions.into_iter().zip(expected) {
            n += 1;
            let id = card_in(&mut t, state, n);
            let result = t
                .desk
                .change_credential_state(&admin, id, action, Some("tested"), false);
            match (ok, result) {
                (true, Ok(done)) => {
                    let want = action.target();
                    assert_eq!(done.credential.state, want, "{state} → {action:?}");
                    assert_eq!(
                        done.credential.cardholder_id.is_none(),
                        action == Return || state == "unassigned",
                        "{state} → {action:?}: holder kept unless returned"
                    );
                }
                (false, Err(e)) => {
                    let text = e.to_string();
                    assert!(
                        text.contains(&format!(
                            "is {state}; it cannot be made {}",
                            action.as_str()
                        )),
                        "{state} → {action:?}: {text}"
                    );
                }
                (ok, other) => panic!("{state} → {action:?}: expected ok={ok}, got {other:?}"),
            }
        }
    }
    // Every change is in the trail, with its reason.
    let trail = t
        .desk
        .audit_events(&admin, carddesk::desk::PageRequest::first(1000))
        .unwrap()
        .items;
    let lost = trail
        .iter()
        .find(|e| e.action == "credential.lost")
        .expect("a lost report");
    assert!(lost
        .after
        .as_deref()
        .unwrap()
        .contains("\"reason\":\"arranged\""));
    t.desk.verify_audit(&admin).unwrap();
}

#[test]
fn reports_need_a_reason_and_only_reports_are_replaced() {
    let mut t = TestDesk::new();
    let admin = t.admin.clone();
    let (_, id) = issued(&mut t, "Reason", 1);
    let err = t
        .desk
        .change_credential_state(&admin, id, CredentialAction::ReportStolen, Some("  "), true)
        .unwrap_err();
    assert!(
        err.to_string().contains("say how the card was stolen"),
        "{err}"
    );
    let err = t
        .desk
        .change_credential_state(&admin, id, CredentialAction::Deactivate, None, true)
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("only a lost, stolen or damaged card"),
        "{err}"
    );
    // A viewer may not; an unknown card does not exist.
    let vic = t.operator("vic", Role::Viewer, None);
    let err = t
        .desk
        .change_credential_state(&vic, id, CredentialAction::Deactivate, None, false)
        .unwrap_err();
    assert!(matches!(err, DeskError::Forbidden { .. }), "{err}");
    let err = t
        .desk
        .change_credential_state(&admin, 999, CredentialAction::Revoke, None, false)
        .unwrap_err();
    assert!(
        err.to_string().contains("credential 999 does not exist"),
        "{err}"
    );

    // Damaged with a replacement: revoked, one new pending request for the
    // same holder, in one step.
    let before = t.desk.pending_count(&admin).unwrap();
    let done = t
        .desk
        .change_credential_state(
            &admin,
            id,
            CredentialAction::ReportDamaged,
            Some("cracked in the door"),
            true,
        )
        .unwrap();
    assert_eq!(done.credential.state, CredentialState::Revoked);
    assert_eq!(t.desk.pending_count(&admin).unwrap(), before + 1);
    let r = t
        .desk
        .request(&admin, done.replacement_request.unwrap())
        .unwrap();
    assert_eq!(r.cardholder_name, "Card Reason");
    assert_eq!(r.status, RequestStatus::Pending);
    assert!(r.reason.contains("damaged"), "{}", r.reason);
}

#[test]
fn a_returned_card_is_back_in_stock_and_issued_again() {
    let mut t = TestDesk::new();
    let admin = t.admin.clone();
    let (_, id) = issued(&mut t, "Leaver", 5);
    let done = t
        .desk
        .change_credential_state(&admin, id, CredentialAction::Return, None, false)
        .unwrap();
    assert_eq!(done.credential.state, CredentialState::Unassigned);
    assert!(done.credential.cardholder_id.is_none());
    let stock = t
        .desk
        .stock_credentials(&admin, carddesk::desk::PageRequest::first(50))
        .unwrap();
    assert!(stock.items.iter().any(|c| c.id == id));
    let next = t.request_for(&admin, "New", "Starter", false);
    let given = t
        .desk
        .connect_card(&admin, next, &ConnectCard::Existing { credential_id: id })
        .unwrap();
    assert_eq!(given.credential.state, CredentialState::Active);
    assert_eq!(given.credential.holder_name.as_deref(), Some("New Starter"));
    // Connected to a pending request, it cannot be reported away under it.
    let err = t
        .desk
        .change_credential_state(&admin, id, CredentialAction::ReportLost, Some("x"), false)
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("connected to pending card request"),
        "{err}"
    );
}

#[test]
fn the_expiry_sweep_expires_exactly_the_due_cards() {
    let mut t = TestDesk::new();
    let admin = t.admin.clone();
    let (gone, gone_card) = issued(&mut t, "Gone", 1);
    let (_, staying_card) = issued(&mut t, "Staying", 2);
    let (today_holder, today_card) = issued(&mut t, "Today", 3);
    let (_, lost_card) = issued(&mut t, "Lost", 4);
    let conn = t.db();
    let yesterday = (chrono::Local::now() - chrono::Duration::days(1))
        .format("%Y-%m-%d")
        .to_string();
    let today = chrono::Local::now().format("%Y-%m-%d").to_string();
    conn.execute(
        "UPDATE cardholder SET expiry = ?1 WHERE id = ?2",
        rusqlite::params![yesterday, gone],
    )
    .unwrap();
    conn.execute(
        "UPDATE cardholder SET expiry = ?1 WHERE id = ?2",
        rusqlite::params![today, today_holder],
    )
    .unwrap();
    conn.execute(
        "UPDATE cardholder SET expiry = ?1 WHERE last_name = 'Lost'",
        [&yesterday],
    )
    .unwrap();
    t.desk
        .change_credential_state(
            &admin,
            lost_card,
            CredentialAction::ReportLost,
            Some("x"),
            false,
        )
        .unwrap();
    let expired = t.desk.expire_due_credentials(&admin).unwrap();
    let ids: Vec<i64> = expired.iter().map(|c| c.id).collect();
    assert_eq!(
        ids,
        vec![gone_card],
        "only the card whose holder expired yesterday"
    );
    let state = |id| t.desk.credential(&admin, id).unwrap().state;
    assert_eq!(state(gone_card), CredentialState::Expired);
    assert_eq!(state(staying_card), CredentialState::Active);
    assert_eq!(
        state(today_card),
        CredentialState::Active,
        "valid through today"
    );
    assert_eq!(state(lost_card), CredentialState::Lost);
    assert!(t.desk.expire_due_credentials(&admin).unwrap().is_empty());
}

#[test]
fn the_command_line_works_a_card_s_life_and_the_record() {
    let cli = Cli::new();
    let id = cli.ok(&[
        "cardholder",
        "add",
        "--first",
        "Jan",
        "--last",
        "Jansen",
        "--request-card",
    ]);
    let holder = id.split_whitespace().next().unwrap().to_string();
    cli.ok(&[
        "request",
        "assign",
        "1",
        "--format",
        "H10301",
        "facility=12",
        "card=345",
    ]);
    cli.ok(&["request", "close", "1"]);

    let out = cli.ok(&[
        "credential",
        "set-state",
        "1",
        "lost",
        "--reason",
        "left on the train",
        "--request-replacement",
    ]);
    assert!(out.starts_with("H10301 12:345\tlost\n"), "{out}");
    assert!(out.contains("replacement request 2"), "{out}");
    assert_eq!(cli.ok(&["request", "count"]).trim(), "1");
    let err = cli.fails(&["credential", "set-state", "1", "stolen", "--reason", "x"]);
    assert!(err.contains("is lost; it cannot be made stolen"), "{err}");
    let err = cli.fails(&["credential", "set-state", "1", "gone"]);
    assert!(err.contains("is not a credential state to set"), "{err}");
    let err = cli.fails(&["credential", "set-state", "1", "lost"]);
    assert!(err.contains("say how the card was lost"), "{err}");
    cli.ok(&["credential", "set-state", "1", "revoked"]);

    // A request for an existing cardholder, and their record.
    let r = cli.ok(&[
        "request",
        "add",
        "--cardholder",
        &holder,
        "--reason",
        "second site",
        "--notify",
    ]);
    assert_eq!(r.trim(), "3");
    let err = cli.fails(&["request", "add", "--cardholder", "99"]);
    assert!(err.contains("cardholder 99 does not exist"), "{err}");
    let show = cli.ok(&["cardholder", "show", &holder]);
    assert!(
        show.contains("credential\t1\tH10301 12:345\trevoked"),
        "{show}"
    );
    assert!(show.contains("request\t1\tcompleted"), "{show}");
    assert!(show.contains("alice at 20"), "{show}");
    assert!(show.contains("request\t3\tpending\tsecond site"), "{show}");
    assert!(show.contains("credential.lost"), "{show}");
    let json: serde_json::Value =
        serde_json::from_str(&cli.ok(&["cardholder", "show", &holder, "--json"])).unwrap();
    assert_eq!(json["requests"].as_array().unwrap().len(), 3);

    cli.ok(&[
        "cardholder",
        "modify",
        &holder,
        "--email",
        "jan@site.example",
        "--expiry",
        "2020-01-01",
    ]);
    let err = cli.fails(&["cardholder", "modify", &holder, "--expiry", "31-12-2030"]);
    assert!(err.contains("expiry date"), "{err}");
    assert!(cli
        .ok(&["cardholder", "show", &holder])
        .contains("e-mail\tjan@site.example"));

    // A second card, then the expiry sweep (the holder expired in 2020).
    cli.ok(&[
        "request",
        "assign",
        "2",
        "--format",
        "H10301",
        "facility=12",
        "card=346",
    ]);
    cli.ok(&["request", "close", "2"]);
    let out = cli.ok(&["credential", "expire-due"]);
    assert!(out.contains("H10301 12:346\tJan Jansen"), "{out}");
    let err = cli.fails(&["credential", "return", "2"]);
    assert!(
        err.contains("is expired; it cannot be made returned"),
        "{err}"
    );
}

#[test]
fn a_request_for_an_existing_cardholder_through_the_desk() {
    let mut t = TestDesk::new();
    let admin = t.admin.clone();
    let holder = t.cardholder("Els", "Existing");
    let id = t
        .desk
        .request_card(&admin, holder, &request(false))
        .unwrap();
    let record = t.desk.cardholder_record(&admin, holder).unwrap();
    assert_eq!(record.requests.len(), 1);
    assert_eq!(record.requests[0].id, id);
    assert!(record.events.iter().any(|e| e.action == "request.create"));
}

#[test]
fn hr_s_csv_brings_photos_and_card_requests_in_one_step() {
    let cli = Cli::new();
    let dir = cli.dir.path().join("hr");
    std::fs::create_dir(&dir).unwrap();
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/assets/demo-photo.png"),
        dir.join("anna.png"),
    )
    .unwrap();
    std::fs::write(dir.join("broken.jpg"), b"not a picture").unwrap();
    let csv = dir.join("starters.csv");
    std::fs::write(
        &csv,
        "first_name,last_name,photo,request_card,request_reason\n\
         Anna,Appel,anna.png,yes,New starter in Finance\n\
         Bert,Boon,,no,\n\
         Carl,Claes,../anna.png,yes,\n\
         Dora,Dijk,broken.jpg,yes,\n\
         Eva,Eik,,maybe,\n",
    )
    .unwrap();
    // Bad rows are named by line and column; nothing is imported.
    let err = cli.fails(&["import", "cardholders", csv.to_str().unwrap()]);
    assert!(
        err.contains("line 4, column photo: \"../anna.png\" must be a file name relative"),
        "{err}"
    );
    assert!(err.contains("line 5, column photo:"), "{err}");
    assert!(
        err.contains("line 6, column request_card: \"maybe\" is not yes or no"),
        "{err}"
    );
    assert_eq!(cli.ok(&["cardholder", "list"]).lines().count(), 0);

    let out = cli.ok(&["import", "cardholders", csv.to_str().unwrap(), "--skip-bad"]);
    assert!(out.contains("imported 2 cardholder(s)"), "{out}");
    assert!(out.contains("raised 1 card request(s)"), "{out}");
    let requests = cli.ok(&["request", "list"]);
    assert!(
        requests.contains("Anna Appel\talice\tNew starter in Finance"),
        "{requests}"
    );
    assert_eq!(requests.lines().count(), 1, "{requests}");
    let anna = cli.ok(&["cardholder", "show", "1"]);
    assert!(anna.contains("photo\tyes"), "{anna}");
    let bert = cli.ok(&["cardholder", "show", "2"]);
    assert!(bert.contains("photo\tno"), "{bert}");
}

#[test]
fn closing_a_shipped_card_records_how_it_was_sent() {
    let cli = Cli::new();
    cli.ok(&["site", "add", "Harbour office"]);
    cli.ok(&[
        "cardholder",
        "add",
        "--first",
        "Sam",
        "--last",
        "Ship",
        "--request-card",
        "--ship-to",
        "Harbour office",
    ]);
    cli.ok(&[
        "request",
        "assign",
        "1",
        "--format",
        "H10301",
        "facility=9",
        "card=9",
    ]);
    let err = cli.fails(&["request", "close", "1", "--shipped", ""]);
    assert!(err.contains("say how it was sent"), "{err}");
    cli.ok(&[
        "request",
        "close",
        "1",
        "--shipped",
        "Courier, tracking 4711",
    ]);
    let json: serde_json::Value =
        serde_json::from_str(&cli.ok(&["cardholder", "show", "1", "--json"])).unwrap();
    assert_eq!(
        json["requests"][0]["shipping_note"],
        "Courier, tracking 4711"
    );
    assert_eq!(json["requests"][0]["status"], "completed");
}
