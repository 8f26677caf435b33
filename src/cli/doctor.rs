//! `carddesk doctor`: prints the desk's checks (`desk::doctor`) one per
//! line or as JSON; exit 1 when one fails.

use super::login::{login, CliError, CliResult};
use super::Cli;
use crate::desk::Desk;

/// `carddesk doctor`: the machine checks, then (with an operator, on an
/// existing database) the site checks. Never creates or migrates anything.
pub(super) fn run(db: &std::path::Path, cli: &Cli, json: bool) -> CliResult {
    use crate::desk::doctor::{self, Verdict};
    let mut checks = doctor::machine_checks(db);
    let openable = checks
        .iter()
        .all(|c| !(c.name == "database" && c.verdict != Verdict::Ok));
    checks.extend(match (&cli.operator, db.exists() && openable) {
        // A desk that cannot be opened or a login that fails is a finding
        // too: the machine checks above are printed all the same.
        (Some(_), true) => match Desk::connect(db).map_err(CliError::from).and_then(|desk| {
            let s = login(&desk, cli)?;
            Ok(desk.site_checks(&s))
        }) {
            Ok(site) => site,
            Err(e) => doctor::site_checks_failed(&e.to_string()),
        },
        (None, true) => doctor::site_checks_skipped(),
        (_, false) => Vec::new(),
    });
    if json {
        super::print_json(&checks);
    } else {
        for c in &checks {
            println!("{:<5} {:<13} {}", c.verdict.as_str(), c.name, c.detail);
        }
    }
    let failed = checks.iter().filter(|c| c.verdict == Verdict::Fail).count();
    if failed > 0 {
        return Err(CliError::Message(format!(
            "{failed} check(s) failed; each says what to do"
        )));
    }
    Ok(())
}
