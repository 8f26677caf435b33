//! The desk procedure for card requests, on a real database file:
//! raise → connect a card → close (or deny), with the rules that guard it.

mod common;

use carddesk::desk::{ConnectCard, DeskError, Enrolment, PageRequest};
use carddesk::domain::{CredentialState, RequestStatus, Role};
use carddesk::store;
use common::*;

#[test]
fn manual_entry_then_close_completes_and_mails_the_requester() {
    let mut t = TestDesk::new();
    let admin = t.admin.clone();
    let id = t.request_for(&admin, "Jan", "Jansen", true);
    assert_eq!(t.desk.pending_count(&admin).unwrap(), 1);

    let done = t
        .desk
        .connect_card(
            &admin,
            id,
            &manual("H10301", &[("facility", "12"), ("card", "345")]),
        )
        .unwrap();
    assert_eq!(done.enrolment, Enrolment::RegisteredAndAssigned);
    assert_eq!(done.credential.state, CredentialState::Active);
    assert_eq!(done.credential.label(), "H10301 12:345");
    t.desk.close_request(&admin, id).unwrap();

    assert_eq!(t.desk.pending_count(&admin).unwrap(), 0);
    let r = t.desk.request(&admin, id).unwrap();
    assert_eq!(r.status, RequestStatus::Completed);
    let mail = store::outbox::for_request(&t.db(), id).unwrap();
    assert_eq!(mail.len(), 1);
    assert_eq!(mail[0].to_address, "admin@site.example");
    assert!(
        mail[0].body_text.contains("Jan Jansen"),
        "{}",
        mail[0].body_text
    );
    assert!(
        mail[0].body_text.contains("H10301 12:345"),
        "{}",
        mail[0].body_text
    );
    // Keys set up, operator created, login, site, cardholder, request,
    // card connected, request closed.
    assert_eq!(t.desk.verify_audit(&admin).unwrap(), 8);
}

#[test]
fn no_mail_unless_the_requester_asked() {
    let mut t = TestDesk::new();
    let admin = t.admin.clone();
    let quiet = t.request_for(&admin, "Ann", "Quiet", false);
    let denied = t.request_for(&admin, "Bob", "Loud", true);
    t.desk
        .connect_card(
            &admin,
            quiet,
            &ConnectCard::Presented {
                uid: "04A1B2C3".into(),
            },
        )
        .unwrap();
    t.desk.close_request(&admin, quiet).unwrap();
    assert!(store::outbox::for_request(&t.db(), quiet)
        .unwrap()
        .is_empty());

    t.desk
        .deny_request(&admin, denied, Some("left the company"))
        .unwrap();
    let mail = store::outbox::for_request(&t.db(), denied).unwrap();
    assert_eq!(mail.len(), 1);
    assert!(mail[0].body_text.contains("left the company"));
}

#[test]
fn dutch_requester_gets_dutch_mail() {
    let mut t = TestDesk::new();
    t.desk
        .add_operator(
            &t.admin.clone(),
            &carddesk::desk::NewOperatorInput {
                name: "piet",
                email: Some("piet@site.example"),
                role: Role::Operator,
                password: PASSWORD,
                language: "nl",
            },
        )
        .unwrap();
    let piet = t.desk.login("piet", PASSWORD).unwrap();
    let id = t.request_for(&piet, "Els", "de Vries", true);
    t.desk.deny_request(&t.admin.clone(), id, None).unwrap();
    let mail = store::outbox::for_request(&t.db(), id).unwrap();
    assert_eq!(mail[0].subject, "Kaartaanvraag voor Els de Vries geweigerd");
}

#[test]
fn presented_card_registers_once_and_is_refused_for_someone_else() {
    let mut t = TestDesk::new();
    let admin = t.admin.clone();
    let first = t.request_for(&admin, "Ann", "One", false);
    let second = t.request_for(&admin, "Ben", "Two", false);
    let card = ConnectCard::Presented {
        uid: "04 a1 b2 c3 d4 e5 f6".into(),
    };

    let a = t.desk.connect_card(&admin, first, &card).unwrap();
    assert_eq!(a.enrolment, Enrolment::RegisteredAndAssigned);
    assert_eq!(a.credential.uid.as_deref(), Some("04A1B2C3D4E5F6"));

    let before = t.dump();
    let err = t.desk.connect_card(&admin, second, &card).unwrap_err();
    assert_eq!(
        err.to_string(),
        "credential UID 04A1B2C3D4E5F6 is already assigned to Ann One; it cannot be given to Ben Two"
    );
    assert_eq!(t.dump(), before, "a refused card changes nothing");
}

#[test]
fn existing_unassigned_credential_is_assigned_without_registering() {
    let mut t = TestDesk::new();
    let admin = t.admin.clone();
    // Put a card in stock by connecting it and denying that request.
    let r1 = t.request_for(&admin, "Ann", "One", false);
    let c = t
        .desk
        .connect_card(
            &admin,
            r1,
            &manual("H10306", &[("facility", "100"), ("card", "5")]),
        )
        .unwrap()
        .credential;
    t.desk.deny_request(&admin, r1, None).unwrap();
    let stock = t.desk.credential(&admin, c.id).unwrap();
    assert_eq!(stock.state, CredentialState::Unassigned);
    assert_eq!(stock.cardholder_id, None);

    let r2 = t.request_for(&admin, "Ben", "Two", false);
    let done = t
        .desk
        .connect_card(
            &admin,
            r2,
            &ConnectCard::Existing {
                credential_id: c.id,
            },
        )
        .unwrap();
    assert_eq!(done.enrolment, Enrolment::Assigned);
    assert_eq!(done.credential.holder_name.as_deref(), Some("Ben Two"));
}

#[test]
fn reconnecting_puts_the_first_card_back_in_stock() {
    let mut t = TestDesk::new();
    let admin = t.admin.clone();
    let r = t.request_for(&admin, "Ann", "One", false);
    let first = t
        .desk
        .connect_card(
            &admin,
            r,
            &ConnectCard::Presented {
                uid: "04A1B2C3".into(),
            },
        )
        .unwrap()
        .credential;
    t.desk
        .connect_card(
            &admin,
            r,
            &ConnectCard::Presented {
                uid: "04A1B2C4".into(),
            },
        )
        .unwrap();
    let first = t.desk.credential(&admin, first.id).unwrap();
    assert_eq!(first.state, CredentialState::Unassigned);
}

#[test]
fn bad_input_gets_its_own_error_and_changes_nothing() {
    let mut t = TestDesk::new();
    let admin = t.admin.clone();
    let held = t.request_for(&admin, "Hal", "Holder", false);
    t.desk
        .connect_card(
            &admin,
            held,
            &manual("H10301", &[("facility", "1"), ("card", "1")]),
        )
        .unwrap();
    let r = t.request_for(&admin, "Ann", "Asker", false);
    let before = t.dump();

    let cases: Vec<(ConnectCard, &str)> = vec![
        (
            manual("H10301", &[("facility", "1"), ("card", "70000")]),
            "card 70000 is out of range for H10301 (0–65535)",
        ),
        (
            manual("H99999", &[("card", "1")]),
            "unknown card format \"H99999\" (see `carddesk format list`)",
        ),
        (
            manual("H10301", &[("facility", "1"), ("card", "1")]),
            "credential H10301 1:1 is already assigned to Hal Holder; it cannot be given to Ann Asker",
        ),
        (
            ConnectCard::Existing { credential_id: 99 },
            "credential 99 does not exist",
        ),
        (
            ConnectCard::Presented { uid: "XYZ".into() },
            "card UID \"XYZ\" must be 4, 7 or 10 bytes of hex (e.g. 04A1B2C3D4E5F6)",
        ),
    ];
    for (how, message) in cases {
        let err = t.desk.connect_card(&admin, r, &how).unwrap_err();
        assert_eq!(err.to_string(), message);
        assert_eq!(t.dump(), before, "after {message}");
    }
    let err = t.desk.close_request(&admin, r).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("card request {r} has no card connected yet; connect a card before closing it")
    );
    assert_eq!(t.dump(), before);
}

#[test]
fn duplicate_manual_credential_in_stock_points_to_existing() {
    let mut t = TestDesk::new();
    let admin = t.admin.clone();
    let r1 = t.request_for(&admin, "Ann", "One", false);
    t.desk
        .connect_card(
            &admin,
            r1,
            &manual("H10301", &[("facility", "7"), ("card", "7")]),
        )
        .unwrap();
    t.desk.deny_request(&admin, r1, None).unwrap();
    let r2 = t.request_for(&admin, "Ben", "Two", false);
    let before = t.dump();
    let err = t
        .desk
        .connect_card(
            &admin,
            r2,
            &manual("H10301", &[("facility", "7"), ("card", "7")]),
        )
        .unwrap_err();
    assert!(
        matches!(err, DeskError::DuplicateCredential { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("already registered"), "{err}");
    assert_eq!(t.dump(), before);
}

#[test]
fn lost_card_is_refused_with_its_state() {
    let mut t = TestDesk::new();
    let admin = t.admin.clone();
    let r1 = t.request_for(&admin, "Ann", "One", false);
    let c = t
        .desk
        .connect_card(
            &admin,
            r1,
            &ConnectCard::Presented {
                uid: "04A1B2C3".into(),
            },
        )
        .unwrap()
        .credential;
    t.desk.close_request(&admin, r1).unwrap();
    // Reported lost by its holder, then found by someone else at the desk.
    t.desk
        .change_credential_state(
            &admin,
            c.id,
            carddesk::desk::CredentialAction::ReportLost,
            Some("lost in the car park"),
            false,
        )
        .unwrap();
    let r2 = t.request_for(&admin, "Ben", "Two", false);
    let err = t
        .desk
        .connect_card(
            &admin,
            r2,
            &ConnectCard::Presented {
                uid: "04a1b2c3".into(),
            },
        )
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with("credential UID 04A1B2C3 is lost (reported by admin at 20"),
        "{text}"
    );
    assert!(text.ends_with(") and cannot be assigned"), "{text}");
}

#[test]
fn denying_several_is_all_or_nothing() {
    let mut t = TestDesk::new();
    let admin = t.admin.clone();
    let a = t.request_for(&admin, "Ann", "One", false);
    let b = t.request_for(&admin, "Ben", "Two", false);
    t.desk.deny_request(&admin, b, None).unwrap();
    let before = t.dump();
    let err = t
        .desk
        .deny_requests(&admin, &[a, b], Some("duplicate"))
        .unwrap_err();
    let err = err.to_string();
    assert!(
        err.starts_with(&format!("card request {b} was already denied by admin at ")),
        "{err}"
    );
    assert!(
        err.ends_with("; only pending requests can be changed"),
        "{err}"
    );
    assert_eq!(t.dump(), before);
    assert_eq!(t.desk.pending_count(&admin).unwrap(), 1);
}

#[test]
fn privileges_are_enforced_by_the_desk() {
    let mut t = TestDesk::new();
    let op = t.operator("olga", Role::Operator, Some("olga@site.example"));
    let viewer = t.operator("vic", Role::Viewer, None);
    let r = t.request_for(&op, "Ann", "One", true);
    let err = t.desk.deny_request(&op, r, None).unwrap_err();
    assert_eq!(
        err.to_string(),
        "operator olga may not deny card requests (needs the deny_requests privilege)"
    );
    let err = t
        .desk
        .create_cardholder(&viewer, &person("X", "Y"), None)
        .unwrap_err();
    assert!(matches!(err, DeskError::Forbidden { .. }));
    // Operators may answer requests.
    t.desk
        .connect_card(
            &op,
            r,
            &ConnectCard::Presented {
                uid: "04A1B2C3".into(),
            },
        )
        .unwrap();
    t.desk.close_request(&op, r).unwrap();
}

#[test]
fn notify_needs_an_address_to_send_to() {
    let mut t = TestDesk::new();
    let noaddr = t.operator("nora", Role::Operator, None);
    let err = t
        .desk
        .create_cardholder(&noaddr, &person("A", "B"), Some(&request(true)))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "email me when the card is ready: operator nora has no e-mail address to send it to"
    );
    let admin = t.admin.clone();
    let cardholders = t.desk.cardholders(&admin, "", PageRequest::default());
    assert_eq!(cardholders.unwrap().total, 0);
}

#[test]
fn modify_changes_fields_and_is_audited() {
    let mut t = TestDesk::new();
    let admin = t.admin.clone();
    let site = t.desk.add_site(&admin, "North gate").unwrap();
    let r = t.request_for(&admin, "Ann", "One", false);
    let mut f = request(true);
    f.reason = "new starter".into();
    f.ship_to_site_id = Some(site);
    t.desk.modify_request(&admin, r, &f).unwrap();
    let got = t.desk.request(&admin, r).unwrap();
    assert_eq!(got.reason, "new starter");
    assert_eq!(got.ship_to_site.as_deref(), Some("North gate"));
    assert!(got.notify_requester);
    let last = &t
        .desk
        .audit_events(&admin, PageRequest::first(1))
        .unwrap()
        .items[0];
    assert_eq!(last.action, "request.modify");
    assert!(last
        .before
        .as_deref()
        .unwrap()
        .contains("printer out of ribbon"));
    assert!(last.after.as_deref().unwrap().contains("new starter"));
}

#[test]
fn wrong_password_is_refused() {
    let t = TestDesk::new();
    assert!(matches!(
        t.desk.login("admin", "nope"),
        Err(DeskError::BadLogin)
    ));
    assert!(matches!(
        t.desk.login("ghost", PASSWORD),
        Err(DeskError::BadLogin)
    ));
}

#[test]
fn tampering_with_the_audit_trail_is_detected() {
    let mut t = TestDesk::new();
    let admin = t.admin.clone();
    t.request_for(&admin, "Ann", "One", false);
    let n = t.desk.verify_audit(&admin).unwrap();
    assert!(n >= 3);
    t.db()
        .execute("UPDATE audit_event SET actor = 'mallory' WHERE id = 2", ())
        .unwrap();
    let broken = t.desk.verify_audit(&admin).unwrap_err();
    assert!(
        matches!(broken, DeskError::AuditBroken { id: 2, .. }),
        "{broken}"
    );
}

#[test]
fn import_reports_every_bad_line_and_imports_nothing() {
    let mut t = TestDesk::new();
    let admin = t.admin.clone();
    let csv = "first_name,last_name,email,expiry\n\
               Ann,One,ann@example.org,2030-01-01\n\
               ,Two,,\n\
               Cee,Three,not-an-address,\n\
               Dee,Four,,31-12-2030\n";
    let before = t.dump();
    let err = t
        .desk
        .import_cardholders(&admin, csv.as_bytes(), None, false)
        .unwrap_err();
    let DeskError::Import(lines) = &err else {
        panic!("{err}")
    };
    assert_eq!(
        lines,
        &vec![
            "line 3: first name: must not be empty".to_string(),
            "line 4: e-mail: \"not-an-address\" is not an e-mail address (expected name@domain)"
                .to_string(),
            "line 5: expiry date: \"31-12-2030\" is not a date (YYYY-MM-DD)".to_string(),
        ]
    );
    assert_eq!(t.dump(), before);
    let report = t
        .desk
        .import_cardholders(&admin, csv.as_bytes(), None, true)
        .unwrap();
    assert_eq!(report.imported, 1);
    assert_eq!(report.skipped.len(), 3);
}

#[test]
fn connect_card_takes_only_a_card_in_stock() {
    let mut t = TestDesk::new();
    let admin = t.admin.clone();
    // Ann's card is active on her completed request.
    let first = t.request_for(&admin, "Ann", "Active", true);
    let card = t
        .desk
        .connect_card(
            &admin,
            first,
            &manual("H10301", &[("facility", "5"), ("card", "1")]),
        )
        .unwrap()
        .credential;
    t.desk.close_request(&admin, first).unwrap();

    // A second request for Ann may not take her own active card...
    let second = t
        .desk
        .request_card(&admin, card.cardholder_id.unwrap(), &request(false))
        .unwrap();
    let existing = ConnectCard::Existing {
        credential_id: card.id,
    };
    let err = t.desk.connect_card(&admin, second, &existing).unwrap_err();
    assert_eq!(
        err.to_string(),
        "credential H10301 5:1 is already active for Ann Active; a card in use is not connected to another request"
    );
    // ...so denying that request cannot put her working card back in stock.
    t.desk
        .deny_request(&admin, second, Some("duplicate"))
        .unwrap();
    let still = t.desk.credential(&admin, card.id).unwrap();
    assert_eq!(
        (still.state, still.cardholder_id),
        (CredentialState::Active, card.cardholder_id)
    );

    // A locked (inactive) card is refused naming its state.
    let third = t.request_for(&admin, "Ben", "Locked", false);
    let locked = t
        .desk
        .register_credential(
            &admin,
            "H10301",
            &[("facility".into(), "5".into()), ("card".into(), "2".into())],
        )
        .unwrap();
    store::credentials::set_holder(&t.db(), locked.id, CredentialState::Inactive, None).unwrap();
    let err = t
        .desk
        .connect_card(
            &admin,
            third,
            &ConnectCard::Existing {
                credential_id: locked.id,
            },
        )
        .unwrap_err();
    assert!(
        matches!(
            err,
            DeskError::CredentialBlocked {
                state: CredentialState::Inactive,
                ..
            }
        ),
        "{err}"
    );

    // A temporary card's credential, requested or in stock, never goes
    // through a request.
    let temp = t
        .desk
        .request_temp_cards(
            &admin,
            &carddesk::desk::TempCardRequest {
                count: 1,
                ..Default::default()
            },
        )
        .unwrap();
    let err = t
        .desk
        .connect_card(
            &admin,
            third,
            &ConnectCard::Existing {
                credential_id: temp[0].credential_id,
            },
        )
        .unwrap_err();
    assert!(
        err.to_string().ends_with(&format!(
            "belongs to temporary card #{}; hand it out with Temporary cards → Assign, not through a card request",
            temp[0].id
        )),
        "{err}"
    );
    // Nothing of this changed the request: it is still pending, cardless.
    let r = t.desk.request(&admin, third).unwrap();
    assert_eq!((r.status, r.credential_id), (RequestStatus::Pending, None));
}
