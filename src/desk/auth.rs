//! Operators: first-run initialisation, password login, privilege checks.

use super::{Desk, DeskError, DeskResult};
use crate::domain::{Privilege, Role};
use crate::store::{self, operators::Operator};
use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;

/// A logged-in operator. Every desk action takes one and checks it.
#[derive(Debug, Clone)]
pub struct Session {
    pub operator: Operator,
}

impl Session {
    pub fn require(&self, privilege: Privilege, action: &'static str) -> DeskResult<()> {
        if self.operator.active && self.operator.has(privilege) {
            Ok(())
        } else {
            Err(DeskError::Forbidden {
                operator: self.operator.name.clone(),
                action,
                privilege,
            })
        }
    }

    pub fn may(&self, privilege: Privilege) -> bool {
        self.operator.active && self.operator.has(privilege)
    }
}

pub(super) fn hash_password(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 with default parameters cannot fail")
        .to_string()
}

fn check_password_rules(password: &str) -> DeskResult<()> {
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

fn insert_operator(desk: &mut Desk, actor: &str, input: &NewOperatorInput) -> DeskResult<i64> {
    if input.name.trim().is_empty() {
        return Err(DeskError::invalid("operator name", "must not be empty"));
    }
    check_password_rules(input.password)?;
    let email = check_email(input.email)?;
    let hash = hash_password(input.password);
    let tx = desk.conn.transaction()?;
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
    store::audit::record(
        &tx,
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
        if self.has_operators()? {
            return Err(DeskError::AlreadyInitialised);
        }
        insert_operator(
            self,
            "system",
            &NewOperatorInput {
                name,
                email,
                role: Role::Administrator,
                password,
                language: "en",
            },
        )?;
        if store::sites::list(&self.conn)?.is_empty() {
            let tx = self.conn.transaction()?;
            let id = store::sites::insert(&tx, "Main site")?;
            store::audit::record(
                &tx,
                "system",
                "site.create",
                "site",
                Some(id),
                None,
                Some(&serde_json::json!({"name": "Main site"})),
            )?;
            tx.commit()?;
        }
        self.login(name, password)
    }

    pub fn add_operator(&mut self, s: &Session, input: &NewOperatorInput) -> DeskResult<i64> {
        s.require(Privilege::ManageOperators, "add operators")?;
        insert_operator(self, &s.operator.name, input)
    }

    pub fn login(&self, name: &str, password: &str) -> DeskResult<Session> {
        let Some((operator, hash)) = store::operators::find_with_hash(&self.conn, name)? else {
            // Same answer for unknown names so they cannot be probed.
            return Err(DeskError::BadLogin);
        };
        let parsed = PasswordHash::new(&hash).map_err(|_| DeskError::BadLogin)?;
        if !operator.active
            || Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_err()
        {
            return Err(DeskError::BadLogin);
        }
        Ok(Session { operator })
    }
}
