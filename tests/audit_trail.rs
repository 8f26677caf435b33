//! The audit trail against someone who can write the database file but has
//! not got the site's key file: deleting the newest rows, editing a row and
//! recomputing a plain SHA-256 chain, swapping rows; each is found and the
//! first bad event named. Exports are signed lines a SIEM can check.

mod common;

use common::cli::Cli;

fn sql(cli: &Cli, statement: &str) {
    let conn = carddesk::store::connect(&cli.db()).unwrap();
    conn.execute_batch(statement).unwrap();
}

fn newest_id(cli: &Cli) -> i64 {
    let conn = carddesk::store::connect(&cli.db()).unwrap();
    conn.query_row("SELECT max(id) FROM audit_event", (), |r| r.get(0))
        .unwrap()
}

fn seeded() -> Cli {
    let cli = Cli::new();
    for (first, last) in [("Jan", "Jansen"), ("Piet", "Peters"), ("Kees", "Bakker")] {
        cli.ok(&[
            "cardholder",
            "add",
            "--first",
            first,
            "--last",
            last,
            "--request-card",
        ]);
    }
    cli
}

#[test]
fn deleting_the_newest_event_is_found_and_named() {
    let cli = seeded();
    cli.ok(&["audit", "verify"]);
    let newest = newest_id(&cli);
    sql(
        &cli,
        &format!("DELETE FROM audit_event WHERE id = {newest}"),
    );
    let err = cli.fails(&["audit", "verify"]);
    assert!(
        err.contains(&format!("audit trail broken at event {newest}")),
        "{err}"
    );
    // (This command's own login took the deleted number; still found.)
    assert!(err.contains("deleted"), "{err}");
}

/// Edits event `id` and recomputes the plain SHA-256 chain from there on,
/// as the trail was hashed before it was keyed: what a tamperer without
/// the key file can do.
const RECHAIN: &str = r#"
import hashlib, json, sqlite3, sys
db, target = sys.argv[1], int(sys.argv[2])
c = sqlite3.connect(db)
rows = c.execute("SELECT id, at, actor, action, entity, entity_id, before, after, prev_hash FROM audit_event ORDER BY id").fetchall()
prev = None
for (id, at, actor, action, entity, entity_id, before, after, prev_hash) in rows:
    if id < target:
        prev = c.execute("SELECT hash FROM audit_event WHERE id = ?", (id,)).fetchone()[0]
        continue
    if id == target:
        actor = "nobody"
    fields = [prev, at, actor, action, entity, entity_id, before, after]
    h = hashlib.sha256(json.dumps(fields, separators=(",", ":"), ensure_ascii=False).encode()).hexdigest()
    c.execute("UPDATE audit_event SET actor = ?, prev_hash = ?, hash = ? WHERE id = ?", (actor, prev, h, id))
    prev = h
c.commit()
"#;

#[test]
fn an_edited_row_with_a_recomputed_plain_chain_is_found() {
    if common::backend::sqlite_only("a script rewriting the chain with sqlite3") {
        return;
    }
    let cli = seeded();
    let middle = newest_id(&cli) / 2;
    let status = std::process::Command::new("python3")
        .args(["-c", RECHAIN])
        .arg(cli.db())
        .arg(middle.to_string())
        .status()
        .unwrap();
    assert!(status.success());
    let conn = carddesk::store::connect(&cli.db()).unwrap();
    let actor: String = conn
        .query_row(
            "SELECT actor FROM audit_event WHERE id = ?1",
            [middle],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(actor, "nobody", "the script edited the row");
    drop(conn);
    let err = cli.fails(&["audit", "verify"]);
    assert!(
        err.contains(&format!("audit trail broken at event {middle}:")),
        "{err}"
    );
}

#[test]
fn swapped_or_inserted_rows_are_found() {
    let cli = seeded();
    // Two events swap their content (numbers stay): the order is part of
    // each keyed hash.
    sql(
        &cli,
        "CREATE TEMP TABLE t AS SELECT * FROM audit_event WHERE id IN (4, 5);
         UPDATE audit_event SET at = (SELECT at FROM t WHERE id = 5),
                                actor = (SELECT actor FROM t WHERE id = 5),
                                action = (SELECT action FROM t WHERE id = 5),
                                entity = (SELECT entity FROM t WHERE id = 5),
                                entity_id = (SELECT entity_id FROM t WHERE id = 5),
                                before = (SELECT before FROM t WHERE id = 5),
                                after = (SELECT after FROM t WHERE id = 5),
                                prev_hash = (SELECT prev_hash FROM t WHERE id = 5),
                                hash = 'x' || (SELECT hash FROM t WHERE id = 5)
          WHERE id = 4;",
    );
    let err = cli.fails(&["audit", "verify"]);
    assert!(err.contains("audit trail broken at event 4"), "{err}");

    let cli = seeded();
    // A row slipped in at the end, copying the newest one's hash as its link.
    let newest = newest_id(&cli);
    sql(
        &cli,
        &format!(
            "INSERT INTO audit_event (id, at, actor, action, entity, entity_id, before, after, prev_hash, hash)
             SELECT id + 1, at, 'mallory', 'request.close', entity, entity_id, before, after, hash, 'f00'
               FROM audit_event WHERE id = {newest}"
        ),
    );
    let err = cli.fails(&["audit", "verify"]);
    assert!(
        err.contains(&format!("audit trail broken at event {}", newest + 1)),
        "{err}"
    );
}

#[test]
fn an_untouched_trail_of_a_thousand_events_verifies() {
    let cli = Cli::new();
    let csv = cli.dir.path().join("people.csv");
    let mut text = String::from("first_name,last_name\n");
    for i in 0..1000 {
        text.push_str(&format!("Person,Number{i}\n"));
    }
    std::fs::write(&csv, text).unwrap();
    cli.ok(&["import", "cardholders", csv.to_str().unwrap()]);
    let out = cli.ok(&["audit", "verify"]);
    let n: u64 = out
        .trim()
        .strip_prefix("audit trail intact: ")
        .and_then(|r| r.strip_suffix(" events"))
        .unwrap()
        .parse()
        .unwrap();
    assert!(n > 1000, "{out}");
}

#[test]
fn exported_events_are_signed_lines_a_siem_can_check() {
    use base64::Engine;
    let cli = seeded();
    let key = cli.ok(&["audit", "export-key"]);
    let key = base64::engine::general_purpose::STANDARD
        .decode(key.trim())
        .unwrap();
    let public = ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, key);
    let all = cli.ok(&["audit", "export"]);
    let lines: Vec<&str> = all.lines().collect();
    assert!(lines.len() >= 8, "{all}");
    for line in &lines {
        let mut v: serde_json::Value = serde_json::from_str(line).unwrap();
        let sig = base64::engine::general_purpose::STANDARD
            .decode(v["signature"].as_str().unwrap())
            .unwrap();
        v.as_object_mut().unwrap().remove("signature");
        public
            .verify(v.to_string().as_bytes(), &sig)
            .unwrap_or_else(|_| panic!("bad signature on {line}"));
        // An altered line no longer checks.
        v["actor"] = "mallory".into();
        assert!(public.verify(v.to_string().as_bytes(), &sig).is_err());
    }
    let since = cli.ok(&["audit", "export", "--since", "5"]);
    let first: serde_json::Value = serde_json::from_str(since.lines().next().unwrap()).unwrap();
    assert_eq!(first["id"], 5);
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    assert_eq!(
        cli.ok(&["audit", "export", "--since", &today])
            .lines()
            .count(),
        cli.ok(&["audit", "export"]).lines().count() - 1,
        "the same events since midnight (less the first export's own login)"
    );
    let err = cli.fails(&["audit", "export", "--since", "yesterday"]);
    assert!(err.contains("an event number, a date"), "{err}");
}

#[test]
fn a_removed_head_file_is_not_recreated_behind_the_operator_s_back() {
    let cli = seeded();
    let head = common::backend::beside(&cli.db(), ".audit-head");
    let newest = newest_id(&cli);
    // Cut the newest rows and remove the head that would show it.
    sql(
        &cli,
        &format!("DELETE FROM audit_event WHERE id > {}", newest - 3),
    );
    std::fs::remove_file(&head).unwrap();
    let out = cli.command(&["audit", "verify"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("head file that anchors the newest event is missing"),
        "{err}"
    );
    // Later commands (their logins) do not quietly write a new head.
    cli.command(&["request", "count"]).output().unwrap();
    assert!(!head.exists());
    // An administrator re-anchors, and the trail says so.
    let out = cli.command(&["audit", "re-anchor"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(head.exists());
    assert!(cli
        .ok(&["audit", "verify"])
        .starts_with("audit trail intact"));
    let trail = cli.ok(&["audit", "export", "--since", "1"]);
    assert!(
        trail
            .lines()
            .any(|l| l.contains("audit.reanchored") && l.contains("missing")),
        "{trail}"
    );
}

#[test]
fn a_database_whose_key_record_was_removed_is_not_keyed_again() {
    let cli = seeded();
    sql(
        &cli,
        "DELETE FROM setting WHERE key = 'site_keys.fingerprint'",
    );
    let err = cli.fails(&["request", "count"]);
    assert!(err.contains("altered outside CardDesk"), "{err}");
    // Removing the head file too does not help while the key file is there.
    std::fs::remove_file(common::backend::beside(&cli.db(), ".audit-head")).unwrap();
    let err = cli.fails(&["request", "count"]);
    assert!(err.contains("records no site keys, but"), "{err}");
    assert!(
        err.contains(&format!("{}.keys exists beside it", cli.db().display())),
        "{err}"
    );
}
