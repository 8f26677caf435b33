//! A believable site for trying CardDesk without hardware: about 200
//! cardholders, 44 credentials (some in stock), 12 pending requests, and
//! temporary cards: 4 produced (one lent), 6 waiting to be produced.
//! Everything goes through the normal desk actions, so it is audited.

use super::{CardholderInput, ConnectCard, Desk, DeskError, DeskResult, NewOperatorInput, Session};
use crate::domain::Role;
use crate::store;
use crate::store::requests::RequestFields;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// The demo operator (name, password) every demo database has.
pub const DEMO_OPERATOR: (&str, &str) = ("demo", "demo1234");

/// First names, last names and departments of the demo's people (also
/// the large demo sites', `demo_scale`).
pub(super) const FIRST: &[&str] = &[
    "Anna", "Bram", "Chloé", "Daan", "Emma", "Finn", "Greta", "Hugo", "Iris", "Jasper", "Kim",
    "Lars", "Mila", "Noah", "Olivia", "Pieter", "Quinten", "Roos", "Sem", "Tess", "Umut", "Vera",
    "Willem", "Xander", "Yara", "Zoë",
];
pub(super) const LAST: &[&str] = &[
    "de Vries",
    "Jansen",
    "Bakker",
    "Visser",
    "Smit",
    "Meijer",
    "Mulder",
    "de Boer",
    "Bos",
    "Peters",
    "Hendriks",
    "van Dijk",
    "Dekker",
    "Brouwer",
    "Ødegård",
    "Güneş",
    "Schouten",
    "Vermeulen",
];
pub(super) const DEPARTMENTS: &[&str] = &[
    "Facilities",
    "Finance",
    "Engineering",
    "Reception",
    "Logistics",
    "Security",
    "HR",
];
const REASONS: &[&str] = &[
    "New starter, card printer out of ribbon",
    "Replacement for a damaged card",
    "Contractor, printer offline at the gate",
    "No card stock at the desk",
];

/// The setting that marks a database made for trying CardDesk.
const KIND: &str = "database.kind";

impl Desk {
    /// Whether this database was created with `--demo` (demo operators and
    /// data, simulated devices). A real site's database never is.
    pub fn is_demo(&self) -> DeskResult<bool> {
        Ok(store::settings::get(&self.conn, KIND)?.as_deref() == Some("demo"))
    }

    /// Marks a brand-new database (no operators yet) as a demo database.
    pub fn mark_demo(&mut self) -> DeskResult<()> {
        let tx = self.begin()?;
        if store::operators::count(&tx)? > 0 {
            return Err(DeskError::invalid(
                "demo",
                "only a new, empty database can become a demo database",
            ));
        }
        store::settings::set(&tx, KIND, "demo")?;
        tx.record("system", "database.demo", "database", None, None, None)?;
        tx.commit()
    }

    /// `--demo` runs only on a demo database: demo operators with a known
    /// password and simulated devices never touch a real site's data.
    pub fn check_demo_allowed(&mut self) -> DeskResult<()> {
        if self.is_demo()? {
            return Ok(());
        }
        if !self.has_operators()? {
            return self.mark_demo();
        }
        Err(DeskError::invalid(
            "--demo",
            format!(
                "{} is a real site's database, not a demo one; --demo (simulated devices, demo \
                 operators) runs only on a database created with --demo, such as {}",
                self.path().display(),
                super::paths::demo_db_path().display()
            ),
        ))
    }

    /// Fills a freshly initialised demo database with demo data.
    pub fn seed_demo(&mut self, admin: &Session) -> DeskResult<()> {
        if !self.is_demo()? {
            return Err(DeskError::invalid(
                "demo data",
                "is loaded only into a database created with --demo",
            ));
        }
        let mut rng = StdRng::seed_from_u64(7);
        for site in ["North gate", "Harbour office"] {
            self.add_site(admin, site)?;
        }
        for (name, role, email) in [
            ("sam", Role::Supervisor, "sam@carddesk.example"),
            ("olga", Role::Operator, "olga@carddesk.example"),
        ] {
            self.add_operator(
                admin,
                &NewOperatorInput {
                    name,
                    email: Some(email),
                    role,
                    password: "demo1234",
                    language: "en",
                },
            )?;
        }
        let mut ids = Vec::new();
        for i in 0..200 {
            let first = FIRST[i % FIRST.len()];
            let last = LAST[(i * 7 + i / FIRST.len()) % LAST.len()];
            let input = CardholderInput {
                first_name: first.into(),
                last_name: last.into(),
                email: Some(format!(
                    "{}.{}{}@example.org",
                    first.to_lowercase(),
                    last.to_lowercase().replace(' ', ""),
                    i
                )),
                department: Some(DEPARTMENTS[rng.gen_range(0..DEPARTMENTS.len())].into()),
                site: Some(["Main site", "North gate", "Harbour office"][i % 3].into()),
                activation: Some("2026-01-01".into()),
                expiry: Some("2028-12-31".into()),
                // Every fifth person has a photo on file.
                photo: (i % 5 == 0).then(|| {
                    (
                        include_bytes!("../../assets/demo-photo.png").to_vec(),
                        "image/png".to_string(),
                    )
                }),
            };
            ids.push(self.create_cardholder(admin, &input, None)?.0);
        }
        let request = |i: usize, notify: bool| RequestFields {
            reason: REASONS[i % REASONS.len()].into(),
            badge_template: "Standard".into(),
            notify_requester: notify,
            ship_to_site_id: None,
        };
        // 28 cardholders already carry an active card (issued through requests).
        for (i, &holder) in ids.iter().take(28).enumerate() {
            let r = self.request_card(admin, holder, &request(i, false))?;
            let how = ConnectCard::Manual {
                format: "H10301".into(),
                fields: vec![
                    ("facility".into(), "42".into()),
                    ("card".into(), (1000 + i).to_string()),
                ],
            };
            self.connect_card(admin, r, &how)?;
            self.close_request(admin, r)?;
        }
        // 6 cards in stock (with the 10 temporary cards below: 44 credentials).
        for i in 0..6 {
            self.register_credential(
                admin,
                "H10301",
                &[
                    ("facility".into(), "42".into()),
                    ("card".into(), (2000 + i).to_string()),
                ],
            )?;
        }
        // 12 pending requests for people who have no card yet.
        for (i, &holder) in ids.iter().skip(100).take(12).enumerate() {
            let notify = i % 3 == 0 && admin.operator().email.is_some();
            let r = self.request_card(admin, holder, &request(i, notify))?;
            // Two already have a card from stock, ready to print and close.
            if i < 2 {
                let stock = crate::store::credentials::list(
                    &self.conn,
                    Some(crate::domain::CredentialState::Unassigned),
                    "",
                    1,
                    0,
                )?;
                if let Some(c) = stock.first() {
                    self.connect_card(
                        admin,
                        r,
                        &ConnectCard::Existing {
                            credential_id: c.id,
                        },
                    )?;
                }
            }
        }
        // Four contractor cards already produced (batch order 1, on the
        // simulated printer), one of them lent to a contractor for a week.
        let contractors = self.request_temp_cards(
            admin,
            &super::TempCardRequest {
                count: 4,
                format: None,
                template: None,
                note: "Contractors, week 49".into(),
            },
        )?;
        let card_ids: Vec<i64> = contractors.iter().map(|c| c.id).collect();
        let order = self.issue_temp_cards(
            admin,
            &card_ids,
            &super::IssueOptions::printer(super::station::SimulatedPrinter::QUEUE),
        )?;
        let printer = super::station::SimulatedPrinter::new(std::time::Duration::ZERO);
        self.produce_temp_order(
            admin,
            order.id,
            &printer,
            None,
            &super::job::JobContext::inline(|_| {}),
        )?;
        self.complete_temp_order(admin, order.id)?;
        let week = chrono::Local::now().date_naive() + chrono::Days::new(7);
        self.assign_temp_card(admin, card_ids[0], ids[150], Some(week))?;
        // Visitor cards waiting to be produced on the Batch orders page.
        self.request_temp_cards(
            admin,
            &super::TempCardRequest {
                count: 6,
                format: None,
                template: None,
                note: "Visitor cards for the open day".into(),
            },
        )?;
        Ok(())
    }
}
