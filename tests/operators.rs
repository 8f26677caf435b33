//! Operators as a security product treats them: what each role may do, an
//! operator disabled or re-roled mid-session, forced password changes, the
//! last administrator, lock-out after failed logins, and every login in the
//! audit trail. Through the desk and through the `carddesk` binary.

mod common;

use carddesk::desk::{DeskError, LoginPolicy, PageRequest, Privilege, Role, TempCardRequest};
use common::cli::{Cli, ADMIN, ADMIN_PASSWORD};
use common::{person, request, TestDesk, PASSWORD};

const FIRST_PAGE: PageRequest = PageRequest {
    offset: 0,
    limit: 50,
};

/// What an action's result says about the privilege check: allowed (any
/// outcome but "forbidden"), or refused naming the privilege.
fn allowed<T>(result: Result<T, DeskError>, needs: Privilege) -> bool {
    match result {
        Err(DeskError::Forbidden { privilege, .. }) => {
            assert_eq!(privilege, needs, "refused for the wrong privilege");
            false
        }
        _ => true,
    }
}

#[test]
fn each_role_may_do_exactly_its_actions() {
    use Privilege::*;
    // role:        administrator, supervisor, operator, viewer
    let table: [(&str, Privilege, [bool; 4]); 12] = [
        ("see cardholders", ViewCardholders, [true, true, true, true]),
        ("see requests", ViewRequests, [true, true, true, true]),
        ("see the outbox", ViewOutbox, [true, true, false, false]),
        (
            "create a cardholder",
            ManageCardholders,
            [true, true, true, false],
        ),
        ("deny a request", DenyRequests, [true, true, false, false]),
        (
            "request temporary cards",
            PrintCards,
            [true, true, true, false],
        ),
        (
            "verify the audit trail",
            ViewAudit,
            [true, true, false, false],
        ),
        ("add a site", ManageSettings, [true, false, false, false]),
        (
            "list operators",
            ManageOperators,
            [true, false, false, false],
        ),
        ("back up", ManageDatabase, [true, false, false, false]),
        ("reveal a PUK", RevealPuk, [true, false, false, false]),
        (
            "add a card format",
            ManageFormats,
            [true, false, false, false],
        ),
    ];
    let mut t = TestDesk::new();
    let admin = t.admin.clone();
    let pending = t.request_for(&admin, "Piet", "Pending", false);
    let sessions = [
        admin.clone(),
        t.operator("sam", Role::Supervisor, None),
        t.operator("olga", Role::Operator, None),
        t.operator("vic", Role::Viewer, None),
    ];
    let dir = common::private_dir();
    for (column, s) in sessions.iter().enumerate() {
        for (n, (action, privilege, expected)) in table.iter().enumerate() {
            let d = &mut t.desk;
            let got = match n {
                0 => allowed(d.cardholders(s, "", FIRST_PAGE), *privilege),
                1 => allowed(d.pending_count(s), *privilege),
                2 => allowed(d.outbox_counts(s), *privilege),
                3 => allowed(
                    d.create_cardholder(s, &person("New", &format!("Person{column}")), None),
                    *privilege,
                ),
                // Each role tries to deny a request that is no longer
                // pending after the first success; only the check matters.
                4 => allowed(d.deny_requests(s, &[pending], Some("test")), *privilege),
                5 => allowed(
                    d.request_temp_cards(
                        s,
                        &TempCardRequest {
                            count: 1,
                            ..Default::default()
                        },
                    ),
                    *privilege,
                ),
                6 => allowed(d.verify_audit(s), *privilege),
                7 => allowed(d.add_site(s, &format!("Site {column}")), *privilege),
                8 => allowed(d.operators(s), *privilege),
                9 => allowed(
                    d.backup(s, &dir.path().join(format!("b{column}.db")), false),
                    *privilege,
                ),
                10 => allowed(d.reveal_temp_puk(s, 999), *privilege),
                11 => allowed(d.add_card_format(s, "{}"), *privilege),
                _ => unreachable!(),
            };
            assert_eq!(got, expected[column], "{} {action}", s.operator().role);
        }
    }
}

#[test]
fn a_disabled_operator_s_next_action_fails_in_an_open_session() {
    let mut t = TestDesk::new();
    let admin = t.admin.clone();
    let olga = t.operator("olga", Role::Operator, None);
    assert_eq!(t.desk.pending_count(&olga).unwrap(), 0);
    t.desk.set_operator_active(&admin, "olga", false).unwrap();
    let err = t.desk.pending_count(&olga).unwrap_err();
    assert!(matches!(err, DeskError::Disabled { .. }), "{err}");
    assert!(err.to_string().contains("olga has been disabled"), "{err}");
    let err = t
        .desk
        .create_cardholder(&olga, &person("Too", "Late"), Some(&request(false)))
        .unwrap_err();
    assert!(matches!(err, DeskError::Disabled { .. }), "{err}");
    // Nor can she log in again; enabled, she can.
    let err = t.desk.login("olga", PASSWORD).unwrap_err();
    assert!(matches!(err, DeskError::Disabled { .. }), "{err}");
    t.desk.set_operator_active(&admin, "olga", true).unwrap();
    let olga = t.desk.login("olga", PASSWORD).unwrap();
    assert_eq!(t.desk.pending_count(&olga).unwrap(), 0);

    // A role taken away mid-session is taken away at once too.
    let sam = t.operator("sam", Role::Supervisor, None);
    t.desk.verify_audit(&sam).unwrap();
    t.desk
        .set_operator_role(&admin, "sam", Role::Viewer)
        .unwrap();
    let err = t.desk.verify_audit(&sam).unwrap_err();
    assert!(
        matches!(
            err,
            DeskError::Forbidden {
                privilege: Privilege::ViewAudit,
                ..
            }
        ),
        "{err}"
    );
    let trail = t.desk.audit_events(&admin, FIRST_PAGE).unwrap().items;
    for action in ["operator.disable", "operator.enable", "operator.set_role"] {
        assert!(
            trail
                .iter()
                .any(|e| e.action == action && e.actor == "admin"),
            "{action} not audited"
        );
    }
}

#[test]
fn a_reset_password_must_be_changed_before_anything_else() {
    let mut t = TestDesk::new();
    let admin = t.admin.clone();
    t.operator("olga", Role::Operator, None);
    t.desk
        .reset_operator_password(&admin, "olga", "temporary-1")
        .unwrap();
    // The old password no longer works; the new one logs in, but only to
    // change it.
    assert!(matches!(
        t.desk.login("olga", PASSWORD).unwrap_err(),
        DeskError::BadLogin
    ));
    let olga = t.desk.login("olga", "temporary-1").unwrap();
    assert!(olga.must_change_password());
    let err = t.desk.pending_count(&olga).unwrap_err();
    assert!(
        matches!(err, DeskError::PasswordChangeRequired { .. }),
        "{err}"
    );
    let err = t
        .desk
        .change_password(&olga, "temporary-1", "temporary-1")
        .unwrap_err();
    assert!(err.to_string().contains("must differ"), "{err}");
    let err = t
        .desk
        .change_password(&olga, "wrong", "brand-new-pass")
        .unwrap_err();
    assert!(err.to_string().contains("current password"), "{err}");
    t.desk
        .change_password(&olga, "temporary-1", "brand-new-pass")
        .unwrap();
    let olga = t.desk.after_password_change(&olga).unwrap();
    assert!(!olga.must_change_password());
    assert_eq!(t.desk.pending_count(&olga).unwrap(), 0);
    let olga = t.desk.login("olga", "brand-new-pass").unwrap();
    assert!(!olga.must_change_password());
}

#[test]
fn the_last_active_administrator_cannot_be_disabled_or_demoted() {
    let mut t = TestDesk::new();
    let admin = t.admin.clone();
    let err = t
        .desk
        .set_operator_active(&admin, "admin", false)
        .unwrap_err();
    assert!(
        err.to_string().contains("last active administrator"),
        "{err}"
    );
    let err = t
        .desk
        .set_operator_role(&admin, "admin", Role::Supervisor)
        .unwrap_err();
    assert!(
        err.to_string().contains("last active administrator"),
        "{err}"
    );
    // A second administrator who is disabled does not count.
    t.operator("ada", Role::Administrator, None);
    t.desk.set_operator_active(&admin, "ada", false).unwrap();
    assert!(t.desk.set_operator_active(&admin, "admin", false).is_err());
    t.desk.set_operator_active(&admin, "ada", true).unwrap();
    t.desk
        .set_operator_role(&admin, "admin", Role::Supervisor)
        .unwrap();
    let ada = t.desk.login("ada", PASSWORD).unwrap();
    let err = t.desk.set_operator_active(&ada, "ada", false).unwrap_err();
    assert!(
        err.to_string().contains("last active administrator"),
        "{err}"
    );
}

#[test]
fn five_failures_lock_the_account_until_its_end_time() {
    let mut t = TestDesk::new();
    t.operator("olga", Role::Operator, None);
    for n in 1..=4 {
        let err = t.desk.login("olga", "wrong-password").unwrap_err();
        assert!(matches!(err, DeskError::BadLogin), "failure {n}: {err}");
    }
    let err = t.desk.login("olga", "wrong-password").unwrap_err();
    let DeskError::Locked { until, .. } = &err else {
        panic!("the fifth failure should lock: {err}");
    };
    let shown = chrono::NaiveDateTime::parse_from_str(until, "%Y-%m-%d %H:%M").unwrap();
    let expected = (chrono::Local::now() + chrono::Duration::minutes(15)).naive_local();
    assert!(
        (expected - shown).num_seconds().abs() <= 90,
        "locked until {until}, expected about {expected}"
    );
    assert!(err.to_string().contains("locked"), "{err}");
    // The right password does not open it before then.
    let err = t.desk.login("olga", PASSWORD).unwrap_err();
    assert!(matches!(err, DeskError::Locked { .. }), "{err}");

    // Once the time has passed (moved back here), the right password works
    // and the count starts again.
    t.db()
        .execute(
            "UPDATE operator SET locked_until = '2000-01-01T00:00:00Z' WHERE name = 'olga'",
            (),
        )
        .unwrap();
    t.desk.login("olga", PASSWORD).unwrap();

    // The policy is the administrator's to change.
    let admin = t.admin.clone();
    let policy = LoginPolicy {
        max_failures: 2,
        lockout_minutes: 60,
        idle_lock_minutes: 5,
    };
    t.desk.set_login_policy(&admin, &policy).unwrap();
    assert_eq!(t.desk.login_policy().unwrap(), policy);
    assert!(t.desk.login("olga", "nope-1").is_err());
    let err = t.desk.login("olga", "nope-2").unwrap_err();
    assert!(matches!(err, DeskError::Locked { .. }), "{err}");
    let bad = LoginPolicy {
        max_failures: 0,
        ..policy
    };
    let err = t.desk.set_login_policy(&admin, &bad).unwrap_err();
    assert!(err.to_string().contains("between 1 and 100"), "{err}");

    // Every attempt is in the trail.
    let trail = t
        .desk
        .audit_events(
            &admin,
            PageRequest {
                offset: 0,
                limit: 100,
            },
        )
        .unwrap()
        .items;
    let count = |action: &str| trail.iter().filter(|e| e.action == action).count();
    assert_eq!(count("login.locked"), 2);
    assert_eq!(count("login.failed"), 5);
    assert_eq!(count("login.refused"), 1);
    assert!(count("login") >= 3);
    t.desk.logout(&admin).unwrap();
    let last = t
        .desk
        .audit_events(
            &admin,
            PageRequest {
                offset: 0,
                limit: 1,
            },
        )
        .unwrap();
    assert_eq!(last.items[0].action, "logout");
}

#[test]
fn unknown_names_are_refused_like_wrong_passwords_and_recorded() {
    let t = TestDesk::new();
    let unknown = t.desk.login("nobody", "whatever-1").unwrap_err();
    let wrong = t.desk.login("admin", "whatever-1").unwrap_err();
    assert_eq!(unknown.to_string(), wrong.to_string());
    let conn = t.db();
    let tried: String = conn
        .query_row(
            "SELECT after FROM audit_event WHERE action = 'login.failed' AND entity_id IS NULL",
            (),
            |r| r.get(0),
        )
        .unwrap();
    // Not the name itself (it may be a password typed in the wrong field).
    assert!(!tried.contains("nobody"), "{tried}");
    assert!(tried.contains("name_sha256"), "{tried}");
}

#[test]
fn the_command_line_manages_operators() {
    let cli = Cli::new();
    cli.add_operator("olga", "operator", "olga-password");
    let list = cli.ok(&["operator", "list"]);
    assert!(list.contains("olga\toperator\t-\tactive"), "{list}");

    // The same database, as olga.
    let olga = |args: &[&str]| {
        let mut c = cli.command(args);
        c.env("CARDDESK_OPERATOR", "olga")
            .env("CARDDESK_PASSWORD", "olga-password");
        c.output().unwrap()
    };
    assert!(olga(&["request", "count"]).status.success());

    cli.ok(&["operator", "disable", "olga"]);
    let out = olga(&["request", "count"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("olga has been disabled"), "{err}");
    cli.ok(&["operator", "enable", "olga"]);

    cli.ok(&["operator", "set-role", "olga", "viewer"]);
    let out = olga(&["cardholder", "add", "--first", "A", "--last", "B"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("manage_cardholders"), "{err}");

    // Standard input: the administrator's own password, then olga's new one.
    let out = cli.run_with_stdin(
        &["operator", "reset-password", "olga"],
        &format!("{ADMIN_PASSWORD}\nfresh-start-1\n"),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let list = cli.ok(&["operator", "list"]);
    assert!(list.contains("must change password"), "{list}");
    let mut c = cli.command(&["request", "count"]);
    c.env("CARDDESK_OPERATOR", "olga")
        .env("CARDDESK_PASSWORD", "fresh-start-1");
    let out = c.output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("must choose a new password"), "{err}");
    // `operator password`: the current one from --password-fd 0 would
    // clash with the new one on stdin, so the environment gives it here.
    let mut c = cli.command(&["operator", "password"]);
    c.env("CARDDESK_OPERATOR", "olga")
        .env("CARDDESK_PASSWORD", "fresh-start-1")
        .env("CARDDESK_NEW_PASSWORD", "olga-chose-this");
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut c = cli.command(&["request", "count"]);
    c.env("CARDDESK_OPERATOR", "olga")
        .env("CARDDESK_PASSWORD", "olga-chose-this");
    assert!(c.output().unwrap().status.success());

    let err = cli.fails(&["operator", "disable", ADMIN]);
    assert!(err.contains("last active administrator"), "{err}");
    let err = cli.fails(&["operator", "set-role", ADMIN, "operator"]);
    assert!(err.contains("last active administrator"), "{err}");
    let err = cli.fails(&["operator", "set-role", "olga", "boss"]);
    assert!(err.contains("unknown role"), "{err}");
    let err = cli.fails(&["operator", "disable", "nobody"]);
    assert!(err.contains("operator nobody does not exist"), "{err}");

    let policy = cli.ok(&["operator", "policy", "--max-failures", "3"]);
    assert!(
        policy.contains("lock after 3 failed logins for 15 minutes"),
        "{policy}"
    );
    let err = cli.fails(&["operator", "policy", "--lockout-minutes", "0"]);
    assert!(err.contains("between 1 and 1440"), "{err}");
}

#[test]
fn the_command_line_reads_the_password_from_a_file_descriptor() {
    let cli = Cli::new();
    // Standard input as the descriptor: nothing in the environment.
    let mut c = cli.command(&["--password-fd", "0", "request", "count"]);
    c.env_remove("CARDDESK_PASSWORD")
        .env("CARDDESK_OPERATOR", ADMIN)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = c.spawn().unwrap();
    use std::io::Write;
    writeln!(child.stdin.take().unwrap(), "{ADMIN_PASSWORD}").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "0");

    // Five wrong passwords lock the account; the CLI says until when.
    for _ in 0..4 {
        let mut c = cli.command(&["request", "count"]);
        c.env("CARDDESK_PASSWORD", "not-it");
        assert!(!c.output().unwrap().status.success());
    }
    let mut c = cli.command(&["request", "count"]);
    c.env("CARDDESK_PASSWORD", "not-it");
    let err = String::from_utf8(c.output().unwrap().stderr).unwrap();
    assert!(
        err.contains("is locked after too many failed logins until"),
        "{err}"
    );
    let err = cli.fails(&["request", "count"]);
    assert!(err.contains("locked"), "{err}");
}

#[test]
fn a_password_descriptor_is_read_up_to_its_first_line_only() {
    let cli = Cli::new();
    // Standard input carries the administrator's password (--password-fd 0)
    // and, on the next line, the new operator's.
    let mut c = cli.command(&[
        "--password-fd",
        "0",
        "operator",
        "add",
        "olga",
        "--role",
        "operator",
    ]);
    c.env_remove("CARDDESK_PASSWORD")
        .env_remove("CARDDESK_NEW_PASSWORD")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = c.spawn().unwrap();
    use std::io::Write;
    write!(
        child.stdin.take().unwrap(),
        "{ADMIN_PASSWORD}\nolga-first-pass\n"
    )
    .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut c = cli.command(&["request", "count"]);
    c.env("CARDDESK_OPERATOR", "olga")
        .env("CARDDESK_PASSWORD", "olga-first-pass");
    assert!(c.output().unwrap().status.success());
    // A descriptor that is not open is named as such.
    let err = cli.fails(&["--password-fd", "77", "request", "count"]);
    assert!(
        err.contains("--password-fd 77: no such open file descriptor"),
        "{err}"
    );
}
