//! Badges: templates and what a card shows (its data, its PDF). Printing
//! them, with a recorded print job, is `print_jobs`.

use super::{snapshot, Desk, DeskError, DeskResult, Session};
use crate::badge::{self, BadgeData, Template};
use crate::domain::Privilege;
use crate::store;
use crate::store::Connection;

/// Whose badge to render.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadgeOf {
    Request(i64),
    Cardholder(i64),
}

pub(super) fn template(conn: &Connection, name: &str) -> DeskResult<Template> {
    store::badge_templates::get(conn, name)?.ok_or_else(|| {
        let known = store::badge_templates::list(conn)
            .map(|l| l.into_iter().map(|t| t.name).collect::<Vec<_>>().join(", "))
            .unwrap_or_default();
        DeskError::invalid(
            "badge template",
            format!("{name:?} does not exist (templates: {known})"),
        )
    })
}

pub(super) fn check_template_exists(conn: &Connection, name: &str) -> DeskResult<()> {
    template(conn, name).map(|_| ())
}

fn cardholder_data(conn: &Connection, cardholder_id: i64) -> DeskResult<BadgeData> {
    let h = store::cardholders::get(conn, cardholder_id)?.ok_or(DeskError::NotFound {
        what: "cardholder",
        id: cardholder_id.to_string(),
    })?;
    let mut d = BadgeData::default();
    d.set("first_name", &h.first_name)
        .set("last_name", &h.last_name)
        .set("full_name", h.full_name())
        .set("department", h.department.clone().unwrap_or_default())
        .set("email", h.email.clone().unwrap_or_default())
        .set("cardholder_id", h.id.to_string())
        .set("activation", h.activation.clone().unwrap_or_default())
        .set("expiry", h.expiry.clone().unwrap_or_default())
        .set(
            "printed_on",
            chrono::Local::now()
                .date_naive()
                .format("%Y-%m-%d")
                .to_string(),
        );
    if let Some(site) = h.site_id {
        if let Some(s) = store::sites::list(conn)?.into_iter().find(|s| s.id == site) {
            d.set("site", s.name);
        }
    }
    d.photo = store::cardholders::photo(conn, cardholder_id)?.map(|(bytes, _)| bytes);
    Ok(d)
}

fn add_credential(conn: &Connection, d: &mut BadgeData, credential_id: i64) -> DeskResult<()> {
    let c = store::credentials::get(conn, credential_id)?.ok_or(DeskError::NotFound {
        what: "credential",
        id: credential_id.to_string(),
    })?;
    let number = c
        .fields
        .get("card_number")
        .or_else(|| c.fields.get("card"))
        .map(|v| v.to_string().trim_matches('"').to_string())
        .or_else(|| c.uid.clone())
        .unwrap_or_else(|| c.value.clone());
    d.set("card_number", number)
        .set("credential", c.label())
        .set("card_format", &c.format)
        .set("uid", c.uid.clone().unwrap_or_default());
    Ok(())
}

pub(super) fn media(t: &Template) -> (f32, f32) {
    t.size_mm()
}

impl Desk {
    /// Every badge template, shipped ones first.
    pub fn badge_templates(&self, s: &Session) -> DeskResult<Vec<Template>> {
        self.require(s, Privilege::ViewRequests, "see the badge templates")?;
        Ok(store::badge_templates::list(&self.conn)?)
    }

    /// The templates' names, for pickers.
    pub fn badge_template_names(&self, s: &Session) -> DeskResult<Vec<String>> {
        Ok(self
            .badge_templates(s)?
            .into_iter()
            .map(|t| t.name)
            .collect())
    }

    /// A template by name (case-insensitive).
    pub fn badge_template(&self, s: &Session, name: &str) -> DeskResult<Template> {
        self.require(s, Privilege::ViewRequests, "see the badge templates")?;
        template(&self.conn, name)
    }

    /// A badge as a PDF: a request's (with its template and card) or a
    /// cardholder's (with their newest active card, template Standard),
    /// with `template` instead when given.
    pub fn render_badge(
        &self,
        s: &Session,
        of: BadgeOf,
        template: Option<&str>,
    ) -> DeskResult<Vec<u8>> {
        let (data, default_template) = match of {
            BadgeOf::Request(r) => (
                self.badge_data_for_request(s, r)?,
                self.request(s, r)?.badge_template,
            ),
            BadgeOf::Cardholder(c) => (self.badge_data_for_cardholder(s, c)?, "Standard".into()),
        };
        let t = self.badge_template(s, template.unwrap_or(&default_template))?;
        Ok(badge::render_pdf(&t, &[data])?)
    }

    /// Several requests' badges in one PDF, in the order given (the
    /// operator's "print all selected"): one template for all of them — the
    /// requests' own when they share it, else `template` must say which.
    pub fn render_badges(
        &self,
        s: &Session,
        requests: &[i64],
        template: Option<&str>,
    ) -> DeskResult<Vec<u8>> {
        let mut data = Vec::with_capacity(requests.len());
        let mut templates: Vec<String> = Vec::new();
        for &r in requests {
            data.push(self.badge_data_for_request(s, r)?);
            let t = self.request(s, r)?.badge_template;
            if !templates.contains(&t) {
                templates.push(t);
            }
        }
        let name = match (template, templates.as_slice()) {
            (Some(t), _) => t.to_string(),
            (None, [one]) => one.clone(),
            (None, []) => return Err(DeskError::invalid("badges", "name at least one request")),
            (None, several) => {
                return Err(DeskError::invalid(
                    "badges",
                    format!(
                        "the requests use different templates ({}); choose one with --template",
                        several.join(", ")
                    ),
                ))
            }
        };
        let t = self.badge_template(s, &name)?;
        Ok(badge::render_pdf(&t, &data)?)
    }

    /// Adds or replaces a badge template from its JSON definition; returns
    /// its name.
    pub fn save_badge_template_json(&mut self, s: &Session, json: &str) -> DeskResult<String> {
        let t = Template::from_json(json)?;
        self.save_badge_template(s, &t)?;
        Ok(t.name)
    }

    /// Adds or replaces a badge template (validated first).
    pub fn save_badge_template(&mut self, s: &Session, t: &Template) -> DeskResult<()> {
        self.require(s, Privilege::ManageSettings, "edit badge templates")?;
        t.validate()?;
        let tx = self.begin()?;
        let before = store::badge_templates::get(&tx, &t.name)?;
        store::badge_templates::upsert(&tx, t)?;
        tx.record(
            &s.operator().name,
            "badge_template.save",
            "badge_template",
            None,
            before.as_ref().map(snapshot).as_ref(),
            Some(&snapshot(t)),
        )?;
        tx.commit()?;
        Ok(())
    }

    /// What the request's badge shows: its cardholder and, once a card is
    /// connected, the card.
    pub fn badge_data_for_request(&self, s: &Session, request_id: i64) -> DeskResult<BadgeData> {
        self.require(s, Privilege::ViewCardholders, "see badge data")?;
        let r = self.request(s, request_id)?;
        let mut d = cardholder_data(&self.conn, r.cardholder_id)?;
        d.set("request_id", r.id.to_string());
        if let Some(c) = r.credential_id {
            add_credential(&self.conn, &mut d, c)?;
        }
        Ok(d)
    }

    /// What a cardholder's badge shows, with their newest active card.
    pub fn badge_data_for_cardholder(
        &self,
        s: &Session,
        cardholder_id: i64,
    ) -> DeskResult<BadgeData> {
        self.require(s, Privilege::ViewCardholders, "see badge data")?;
        let mut d = cardholder_data(&self.conn, cardholder_id)?;
        let credential: Option<i64> = self
            .conn
            .query_row(
                "SELECT id FROM credential WHERE cardholder_id = ?1 AND state = 'active'
                 ORDER BY id DESC LIMIT 1",
                [cardholder_id],
                |r| r.get(0),
            )
            .ok();
        if let Some(c) = credential {
            add_credential(&self.conn, &mut d, c)?;
        }
        Ok(d)
    }

    /// What a card's badge shows: the card and, when it has one, its holder.
    pub fn badge_data_for_credential(
        &self,
        s: &Session,
        credential_id: i64,
    ) -> DeskResult<BadgeData> {
        self.require(s, Privilege::ViewCredentials, "see badge data")?;
        let c = store::credentials::get(&self.conn, credential_id)?.ok_or(DeskError::NotFound {
            what: "credential",
            id: credential_id.to_string(),
        })?;
        let mut d = match c.cardholder_id {
            Some(h) => cardholder_data(&self.conn, h)?,
            None => BadgeData::default(),
        };
        add_credential(&self.conn, &mut d, credential_id)?;
        Ok(d)
    }

    /// The request's badge as a PDF, with the request's template.
    pub fn render_request_badge(&self, s: &Session, request_id: i64) -> DeskResult<Vec<u8>> {
        let r = self.request(s, request_id)?;
        let t = template(&self.conn, &r.badge_template)?;
        Ok(badge::render_pdf(
            &t,
            &[self.badge_data_for_request(s, request_id)?],
        )?)
    }
}
