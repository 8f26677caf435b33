//! Managing operators: list, disable, enable, change role, reset and change
//! passwords, and the login policy. Each change is one audited transaction;
//! the last active administrator can never be disabled or demoted.

use super::auth::{
    check_password_rules, hash_password, LoginPolicy, IDLE_LOCK_MINUTES, LOCKOUT_MINUTES,
    MAX_FAILURES,
};
use super::{snapshot, tx::Tx, Desk, DeskError, DeskResult, Session};
use crate::domain::{Privilege, Role};
use crate::store::{self, operators::Operator};

fn find(conn: &crate::store::Connection, name: &str) -> DeskResult<Operator> {
    store::operators::find_with_hash(conn, name)?
        .map(|(op, _)| op)
        .ok_or_else(|| DeskError::NotFound {
            what: "operator",
            id: name.trim().to_string(),
        })
}

/// Refuses a change that would leave no active administrator.
fn keep_an_administrator(tx: &Tx, op: &Operator, change: &str) -> DeskResult<()> {
    if op.role == "administrator"
        && op.active
        && store::operators::other_active_administrators(tx, op.id)? == 0
    {
        return Err(DeskError::invalid(
            "operator",
            format!(
                "{} is the last active administrator and cannot be {change}; make another \
                 operator administrator first",
                op.name
            ),
        ));
    }
    Ok(())
}

impl Desk {
    pub fn operators(&self, s: &Session) -> DeskResult<Vec<Operator>> {
        self.require(s, Privilege::ManageOperators, "see operators")?;
        Ok(store::operators::list(&self.conn)?)
    }

    /// Disables (`active` false) or enables an operator. A disabled operator's
    /// open sessions fail at their next action.
    pub fn set_operator_active(&mut self, s: &Session, name: &str, active: bool) -> DeskResult<()> {
        self.require(s, Privilege::ManageOperators, "disable or enable operators")?;
        let tx = self.begin()?;
        // Checked again inside the transaction: an administrator demoted
        // by another desk a moment ago changes nothing.
        super::auth::require(
            &tx,
            s,
            Privilege::ManageOperators,
            "disable or enable operators",
        )?;
        let before = find(&tx, name)?;
        if before.active == active {
            return Ok(());
        }
        if !active {
            keep_an_administrator(&tx, &before, "disabled")?;
        }
        store::operators::set_active(&tx, before.id, active)?;
        let after = store::operators::get(&tx, before.id)?;
        tx.audit(
            s,
            if active {
                "operator.enable"
            } else {
                "operator.disable"
            },
            "operator",
            Some(before.id),
            Some(snapshot(&before)),
            Some(snapshot(&after)),
        )?;
        tx.commit()
    }

    /// Gives an operator another role (and exactly its privileges).
    pub fn set_operator_role(&mut self, s: &Session, name: &str, role: Role) -> DeskResult<()> {
        self.require(s, Privilege::ManageOperators, "change operators' roles")?;
        let tx = self.begin()?;
        super::auth::require(
            &tx,
            s,
            Privilege::ManageOperators,
            "change operators' roles",
        )?;
        let before = find(&tx, name)?;
        if role != Role::Administrator {
            keep_an_administrator(&tx, &before, "given another role")?;
        }
        store::operators::set_role(&tx, before.id, role)?;
        let after = store::operators::get(&tx, before.id)?;
        tx.audit(
            s,
            "operator.set_role",
            "operator",
            Some(before.id),
            Some(snapshot(&before)),
            Some(snapshot(&after)),
        )?;
        tx.commit()
    }

    /// Sets a new password for another operator, who must change it at their
    /// next login. Clears a lock-out.
    pub fn reset_operator_password(
        &mut self,
        s: &Session,
        name: &str,
        password: &str,
    ) -> DeskResult<()> {
        self.require(s, Privilege::ManageOperators, "reset passwords")?;
        check_password_rules(password)?;
        let hash = hash_password(password);
        let tx = self.begin()?;
        super::auth::require(&tx, s, Privilege::ManageOperators, "reset passwords")?;
        let op = find(&tx, name)?;
        store::operators::set_password(&tx, op.id, &hash, true)?;
        // The event, never the password or its hash.
        tx.audit(
            s,
            "operator.reset_password",
            "operator",
            Some(op.id),
            None,
            Some(serde_json::json!({"must_change_password": true})),
        )?;
        tx.commit()
    }

    /// The operator changes their own password (needs the current one).
    pub fn change_password(&mut self, s: &Session, current: &str, new: &str) -> DeskResult<()> {
        use argon2::password_hash::{PasswordHash, PasswordVerifier};
        let id = s.operator().id;
        let standing = store::operators::standing(&self.conn, id)?;
        if !standing.is_some_and(|st| st.active) {
            return Err(DeskError::Disabled {
                operator: s.name().to_string(),
            });
        }
        let stored = store::operators::password_hash(&self.conn, id)?.unwrap_or_default();
        let ok = PasswordHash::new(&stored).is_ok_and(|h| {
            argon2::Argon2::default()
                .verify_password(current.as_bytes(), &h)
                .is_ok()
        });
        if !ok {
            return Err(DeskError::invalid(
                "current password",
                "is not this operator's password",
            ));
        }
        check_password_rules(new)?;
        if new == current {
            return Err(DeskError::invalid(
                "new password",
                "must differ from the current one",
            ));
        }
        let hash = hash_password(new);
        let tx = self.begin()?;
        store::operators::set_password(&tx, id, &hash, false)?;
        tx.audit(
            s,
            "operator.change_password",
            "operator",
            Some(id),
            None,
            None,
        )?;
        tx.commit()
    }

    /// A session after its operator changed the password they had to change.
    pub fn after_password_change(&self, s: &Session) -> DeskResult<Session> {
        let st = store::operators::standing(&self.conn, s.operator().id)?;
        match (st, store::operators::get(&self.conn, s.operator().id)?) {
            (Some(st), Some(op)) if st.active && !st.must_change_password => {
                Ok(Session::on_behalf_of(op))
            }
            (Some(st), Some(_)) if st.active => Err(DeskError::PasswordChangeRequired {
                operator: s.name().to_string(),
            }),
            _ => Err(DeskError::Disabled {
                operator: s.name().to_string(),
            }),
        }
    }

    /// Failed logins before lock-out, its length, and the window's idle lock.
    pub fn login_policy(&self) -> DeskResult<LoginPolicy> {
        LoginPolicy::read(&self.conn)
    }

    pub fn set_login_policy(&mut self, s: &Session, policy: &LoginPolicy) -> DeskResult<()> {
        self.require(s, Privilege::ManageOperators, "change the login policy")?;
        policy.check()?;
        let tx = self.begin()?;
        super::auth::require(
            &tx,
            s,
            Privilege::ManageOperators,
            "change the login policy",
        )?;
        let before = LoginPolicy::read(&tx)?;
        for (key, value) in [
            (MAX_FAILURES, policy.max_failures),
            (LOCKOUT_MINUTES, policy.lockout_minutes),
            (IDLE_LOCK_MINUTES, policy.idle_lock_minutes),
        ] {
            store::settings::set(&tx, key, &value.to_string())?;
        }
        let json = |p: &LoginPolicy| {
            serde_json::json!({
                "max_failures": p.max_failures,
                "lockout_minutes": p.lockout_minutes,
                "idle_lock_minutes": p.idle_lock_minutes,
            })
        };
        tx.audit(
            s,
            "settings.login_policy",
            "setting",
            None,
            Some(json(&before)),
            Some(json(policy)),
        )?;
        tx.commit()
    }
}
