//! Operators: first-run initialisation, password login, privilege checks.

use super::{tx::Tx, Desk, DeskError, DeskResult};
use crate::domain::{Privilege, Role};
use crate::store::Connection;
use crate::store::{self, operators::Operator};
use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;

/// A logged-in operator. Every desk action takes one; only the desk makes
/// them (by a password login), and what the operator may do is read from
/// the database again on every action (see [`require`]).
#[derive(Debug, Clone)]
pub struct Session {
    operator: Operator,
    must_change_password: bool,
}

impl Session {
    /// The operator as they were at login (name, role, e-mail, language).
    pub fn operator(&self) -> &Operator {
        &self.operator
    }

    pub fn name(&self) -> &str {
        &self.operator.name
    }

    /// What the screens use to offer or grey out an action. The desk checks
    /// the database itself when the action is taken.
    pub fn may(&self, privilege: Privilege) -> bool {
        !self.must_change_password && self.operator.active && self.operator.has(privilege)
    }

    /// An administrator reset this operator's password: they must choose a
    /// new one before anything else.
    pub fn must_change_password(&self) -> bool {
        self.must_change_password
    }

    /// The same login with its operator as the database has them now.
    pub(super) fn refreshed(&self, operator: Operator) -> Session {
        Session {
            operator,
            must_change_password: self.must_change_password,
        }
    }

    /// A session for a request's requester, to record what was done on
    /// their behalf (never handed to a face).
    pub(super) fn on_behalf_of(operator: Operator) -> Session {
        Session {
            operator,
            must_change_password: false,
        }
    }
}

/// Checks, against the database as it is now, that `s`'s operator is active,
/// need not change their password first, and holds `privilege`.
pub(super) fn require(
    conn: &Connection,
    s: &Session,
    privilege: Privilege,
    action: &'static str,
) -> DeskResult<()> {
    let now = store::operators::standing(conn, s.operator.id)?;
    let Some(now) = now.filter(|n| n.active) else {
        return Err(DeskError::Disabled {
            operator: s.operator.name.clone(),
        });
    };
    if now.must_change_password {
        return Err(DeskError::PasswordChangeRequired {
            operator: s.operator.name.clone(),
        });
    }
    if !now.privileges.contains(&privilege) {
        return Err(DeskError::Forbidden {
            operator: s.operator.name.clone(),
            action,
            privilege,
        });
    }
    Ok(())
}

pub(super) fn hash_password(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 with default parameters cannot fail")
        .to_string()
}

pub(super) fn check_password_rules(password: &str) -> DeskResult<()> {
    if password.chars().count() < 8 {
        return Err(DeskError::invalid(
            "password",
            "must be at least 8 characters long",
        ));
    }
    Ok(())
}

pub(crate) fn check_email(email: Option<&str>) -> DeskResult<Option<String>> {
    match email.map(str::trim).filter(|e| !e.is_empty()) {
        None => Ok(None),
        Some(e) => {
            let valid = e.split_once('@').is_some_and(|(user, domain)| {
                !user.is_empty() && !domain.is_empty() && !e.contains(char::is_whitespace)
            });
            if valid {
                Ok(Some(e.to_string()))
            } else {
                Err(DeskError::invalid(
                    "e-mail",
                    format!("{e:?} is not an e-mail address (expected name@domain)"),
                ))
            }
        }
    }
}

pub struct NewOperatorInput<'a> {
    pub name: &'a str,
    pub email: Option<&'a str>,
    pub role: Role,
    pub password: &'a str,
    pub language: &'a str,
}

/// Adds an operator: by `acting` (whose privilege is checked again inside
/// the transaction), or, with None, the first administrator of a database
/// that has none yet (checked in the same transaction, so two first-run
/// set-ups cannot both succeed).
/// What the first-run set-up asks for.
pub struct FirstAdmin<'a> {
    pub name: &'a str,
    pub email: Option<&'a str>,
    pub password: &'a str,
    /// "en" or "nl": the administrator's language.
    pub language: &'a str,
    /// The first site's name (the place cards are made).
    pub site: &'a str,
}

fn insert_operator(
    desk: &mut Desk,
    acting: Option<&Session>,
    input: &NewOperatorInput,
) -> DeskResult<i64> {
    let first = acting.is_none();
    let actor = acting.map_or("system", |s| s.name());
    if input.name.trim().is_empty() {
        return Err(DeskError::invalid("operator name", "must not be empty"));
    }
    check_password_rules(input.password)?;
    let email = check_email(input.email)?;
    let hash = hash_password(input.password);
    let tx = desk.begin()?;
    if let Some(s) = acting {
        require(&tx, s, Privilege::ManageOperators, "add operators")?;
    }
    if first && store::operators::count(&tx)? > 0 {
        return Err(DeskError::AlreadyInitialised);
    }
    if store::operators::find_with_hash(&tx, input.name)?.is_some() {
        return Err(DeskError::invalid(
            "operator name",
            format!("an operator called {:?} already exists", input.name.trim()),
        ));
    }
    let id = store::operators::insert(
        &tx,
        &store::operators::NewOperator {
            name: input.name,
            email: email.as_deref(),
            role: input.role,
            password_hash: &hash,
            language: input.language,
        },
    )?;
    let after = store::operators::get(&tx, id)?;
    tx.record(
        actor,
        "operator.create",
        "operator",
        Some(id),
        None,
        Some(&serde_json::to_value(after).expect("serialise")),
    )?;
    tx.commit()?;
    Ok(id)
}

impl Desk {
    /// Creates the first administrator of a new database (and the default site).
    pub fn init_admin(
        &mut self,
        name: &str,
        email: Option<&str>,
        password: &str,
    ) -> DeskResult<Session> {
        self.set_up_site(&FirstAdmin {
            name,
            email,
            password,
            language: "en",
            site: "Main site",
        })
    }

    /// A brand-new database's first administrator (in their language) and
    /// its first site, then logs them in.
    pub fn set_up_site(&mut self, first: &FirstAdmin) -> DeskResult<Session> {
        let site = first.site.trim();
        if site.is_empty() {
            return Err(DeskError::invalid("site name", "must not be empty"));
        }
        if site.chars().any(char::is_control) {
            return Err(DeskError::invalid(
                "site name",
                "must not hold control characters",
            ));
        }
        if !["en", "nl"].contains(&first.language) {
            return Err(DeskError::invalid(
                "language",
                format!("{:?} is not one CardDesk speaks (en, nl)", first.language),
            ));
        }
        insert_operator(
            self,
            None,
            &NewOperatorInput {
                name: first.name,
                email: first.email,
                role: Role::Administrator,
                password: first.password,
                language: first.language,
            },
        )?;
        if store::sites::list(&self.conn)?.is_empty() {
            let tx = self.begin()?;
            let id = store::sites::insert(&tx, site)?;
            tx.record(
                "system",
                "site.create",
                "site",
                Some(id),
                None,
                Some(&serde_json::json!({ "name": site })),
            )?;
            tx.commit()?;
        }
        self.login(first.name, first.password)
    }

    pub fn add_operator(&mut self, s: &Session, input: &NewOperatorInput) -> DeskResult<i64> {
        self.require(s, Privilege::ManageOperators, "add operators")?;
        insert_operator(self, Some(s), input)
    }

    /// Logs in with a password. Unknown names cost the same as wrong
    /// passwords (a password is always checked), failures are counted and
    /// lock the account for a while, and every outcome is an audit event.
    pub fn login(&self, name: &str, password: &str) -> DeskResult<Session> {
        let policy = LoginPolicy::read(&self.conn)?;
        // The password is checked before the write lock is taken: argon2
        // takes tens of milliseconds, and other desks must not wait on it.
        let found = store::operators::find_with_hash(&self.conn, name)?;
        let hash = found
            .as_ref()
            .map(|(_, h)| h.as_str())
            .unwrap_or(DUMMY_HASH);
        let password_ok = PasswordHash::new(hash)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false);
        let tx = Tx::begin(&self.conn, &self.keys, &self.path)?;
        let now = chrono::Utc::now();
        let Some((operator, _)) = found else {
            // Not the name itself: a password typed into the name field
            // must not land in the trail. Its hash still shows repeats.
            let tried = {
                use sha2::Digest;
                hex::encode(&sha2::Sha256::digest(name.trim().as_bytes())[..8])
            };
            tx.record(
                "system",
                "login.failed",
                "operator",
                None,
                None,
                Some(&serde_json::json!({"name_sha256": tried, "reason": "unknown operator"})),
            )?;
            tx.commit()?;
            return Err(DeskError::BadLogin);
        };
        let entry = |action: &str, detail: serde_json::Value| {
            tx.record(
                &operator.name,
                action,
                "operator",
                Some(operator.id),
                None,
                Some(&detail),
            )
        };
        let standing = store::operators::standing(&tx, operator.id)?.expect("just found");
        if let Some(until) = standing.locked_until.filter(|u| *u > now) {
            entry(
                "login.refused",
                serde_json::json!({"reason": "locked", "until": until}),
            )?;
            tx.commit()?;
            return Err(locked(operator.name, until));
        }
        if !password_ok {
            let failures = standing.failed_logins + 1;
            if failures >= policy.max_failures {
                let until = now + chrono::Duration::minutes(policy.lockout_minutes);
                store::operators::set_lock(&tx, operator.id, 0, Some(until))?;
                entry(
                    "login.locked",
                    serde_json::json!({"failures": failures, "until": until}),
                )?;
                tx.commit()?;
                return Err(locked(operator.name, until));
            }
            store::operators::set_lock(&tx, operator.id, failures, None)?;
            entry("login.failed", serde_json::json!({"failures": failures}))?;
            tx.commit()?;
            return Err(DeskError::BadLogin);
        }
        if !standing.active {
            entry("login.refused", serde_json::json!({"reason": "disabled"}))?;
            tx.commit()?;
            return Err(DeskError::Disabled {
                operator: operator.name,
            });
        }
        store::operators::set_lock(&tx, operator.id, 0, None)?;
        entry(
            "login",
            serde_json::json!({"must_change_password": standing.must_change_password}),
        )?;
        tx.commit()?;
        Ok(Session {
            operator,
            must_change_password: standing.must_change_password,
        })
    }

    /// Ends a session (the window's Log out, or closing it).
    pub fn logout(&self, s: &Session) -> DeskResult<()> {
        let tx = Tx::begin(&self.conn, &self.keys, &self.path)?;
        tx.audit(s, "logout", "operator", Some(s.operator.id), None, None)?;
        tx.commit()
    }

    /// The operator `s` as the database has them now (role, privileges,
    /// active), for a face to refresh what it offers.
    pub fn current_session(&self, s: &Session) -> DeskResult<Session> {
        match store::operators::get(&self.conn, s.operator.id)? {
            Some(op) if op.active => Ok(s.refreshed(op)),
            _ => Err(DeskError::Disabled {
                operator: s.operator.name.clone(),
            }),
        }
    }
}

/// "olga is locked … until 2026-12-04 14:15" (local time).
fn locked(operator: String, until: chrono::DateTime<chrono::Utc>) -> DeskError {
    DeskError::Locked {
        operator,
        until: until
            .with_timezone(&chrono::Local)
            .format("%Y-%m-%d %H:%M")
            .to_string(),
    }
}

/// A well-formed argon2id hash (this build's parameters, see the test) of
/// no password anyone knows: checked for unknown names so they take as long
/// as a wrong password. A constant, not made on first use: a CLI process
/// logs in once, and making it would double an unknown name's time.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$6hTXl4kyxlwXP6Axry//tw$HoEfZElKwYSukUm/KOLWJetAZX3TR685rt7veLC5C4Q";

/// How many failed logins in a row lock an account, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginPolicy {
    pub max_failures: i64,
    pub lockout_minutes: i64,
    /// The window asks for the password again after this much idle time.
    pub idle_lock_minutes: i64,
}

pub(super) const MAX_FAILURES: &str = "login.max_failures";
pub(super) const LOCKOUT_MINUTES: &str = "login.lockout_minutes";
pub(super) const IDLE_LOCK_MINUTES: &str = "ui.idle_lock_minutes";

impl Default for LoginPolicy {
    fn default() -> Self {
        LoginPolicy {
            max_failures: 5,
            lockout_minutes: 15,
            idle_lock_minutes: 10,
        }
    }
}

impl LoginPolicy {
    pub(super) fn read(conn: &Connection) -> DeskResult<LoginPolicy> {
        let d = LoginPolicy::default();
        let num = |key: &str, default: i64| -> DeskResult<i64> {
            Ok(store::settings::get(conn, key)?
                .and_then(|v| v.parse().ok())
                .unwrap_or(default))
        };
        Ok(LoginPolicy {
            max_failures: num(MAX_FAILURES, d.max_failures)?,
            lockout_minutes: num(LOCKOUT_MINUTES, d.lockout_minutes)?,
            idle_lock_minutes: num(IDLE_LOCK_MINUTES, d.idle_lock_minutes)?,
        })
    }

    pub(super) fn check(&self) -> DeskResult<()> {
        if !(1..=100).contains(&self.max_failures) {
            return Err(DeskError::invalid(
                "failed logins before lock-out",
                format!("{} is not between 1 and 100", self.max_failures),
            ));
        }
        if !(1..=24 * 60).contains(&self.lockout_minutes) {
            return Err(DeskError::invalid(
                "lock-out minutes",
                format!("{} is not between 1 and 1440", self.lockout_minutes),
            ));
        }
        if !(1..=24 * 60).contains(&self.idle_lock_minutes) {
            return Err(DeskError::invalid(
                "idle minutes before the window locks",
                format!("{} is not between 1 and 1440", self.idle_lock_minutes),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The unknown-name hash costs what a real one does: same algorithm and
    /// parameters as the hashes this build makes.
    #[test]
    fn the_dummy_hash_has_the_parameters_of_real_hashes() {
        let dummy = PasswordHash::new(DUMMY_HASH).unwrap();
        let real = hash_password("some password");
        let real = PasswordHash::new(&real).unwrap();
        assert_eq!(dummy.algorithm, real.algorithm);
        assert_eq!(dummy.version, real.version);
        assert_eq!(dummy.params, real.params);
        assert!(Argon2::default()
            .verify_password(b"no operator has this password", &dummy)
            .is_ok());
    }
}
