//! Carrying out a [`DeskCommand`]: [`Desk::execute`] maps each command to
//! the desk action that owns its rule and transaction, and its result to a
//! [`DeskOutcome`].

use super::command::{DeskCommand, DeskOutcome, NamedPreview};
use super::{Desk, DeskError, DeskResult, NewOperatorInput, Session};
use crate::badge::{self, BadgeData};
use crate::domain::Secret;

fn previews(
    template: &badge::Template,
    data: &BadgeData,
    name: String,
) -> DeskResult<NamedPreview> {
    Ok(NamedPreview {
        name,
        sides: badge::preview(template, data)?,
    })
}

impl Desk {
    /// Runs one command. Login and first-run set-up need no session; every
    /// other command is refused without one.
    pub fn execute(
        &mut self,
        session: Option<&Session>,
        command: DeskCommand,
    ) -> DeskResult<DeskOutcome> {
        let s = match (&command, session) {
            (DeskCommand::Login { name, password }, _) => {
                return self
                    .login(name, password.expose())
                    .map(DeskOutcome::Session)
            }
            (
                DeskCommand::SetUp {
                    name,
                    email,
                    password,
                    language,
                    site,
                    demo_data,
                },
                _,
            ) => {
                if *demo_data && !self.is_demo()? {
                    return Err(DeskError::invalid(
                        "demo data",
                        "is loaded only into a database created with --demo",
                    ));
                }
                let session = self.set_up_site(&super::FirstAdmin {
                    name,
                    email: email.as_deref(),
                    password: password.expose(),
                    language,
                    site,
                })?;
                if *demo_data {
                    self.seed_demo(&session)?;
                }
                // A site goes on to its printers and mail server (a demo
                // has its simulated ones).
                // The administrator exists whatever happens here: a failure
                // only means the later steps are not offered (they are all
                // in Settings).
                if !self.is_demo()? {
                    if let Err(e) = self.begin_set_up(&session) {
                        tracing::warn!("the set-up's later steps will not be offered: {e}");
                    }
                }
                return Ok(DeskOutcome::Session(session));
            }
            (_, Some(s)) => s,
            (_, None) => return Err(DeskError::NotLoggedIn),
        };
        Ok(match command {
            DeskCommand::Login { .. } | DeskCommand::SetUp { .. } => unreachable!("handled above"),
            DeskCommand::CreateCardholder {
                mut input,
                photo_path,
                request,
            } => {
                if let Some(path) = photo_path {
                    input.photo = Some(super::read_photo(&path)?);
                }
                let name = format!("{} {}", input.first_name.trim(), input.last_name.trim());
                let (_, request_id) = self.create_cardholder(s, &input, request.as_ref())?;
                DeskOutcome::CardholderCreated { name, request_id }
            }
            DeskCommand::ModifyRequest { id, fields } => {
                self.modify_request(s, id, &fields)?;
                DeskOutcome::RequestModified
            }
            DeskCommand::DenyRequests { ids, reason } => {
                self.deny_requests(s, &ids, reason.as_deref())?;
                DeskOutcome::RequestsDenied(ids.len())
            }
            DeskCommand::ConnectCard { request_id, how } => {
                DeskOutcome::Assigned(self.connect_card(s, request_id, &how)?)
            }
            DeskCommand::CloseRequests { ids, shipping } => {
                self.close_requests_shipped(s, &ids, &shipping)?;
                DeskOutcome::RequestsClosed(ids.len())
            }
            DeskCommand::BadgePreviews { requests } => {
                let mut out = Vec::new();
                for (id, name) in requests {
                    let r = self.request(s, id)?;
                    let template = self.badge_template(s, &r.badge_template)?;
                    let data = self.badge_data_for_request(s, id)?;
                    out.push(previews(&template, &data, name)?);
                }
                DeskOutcome::Previews(out)
            }
            DeskCommand::TemplatePreviews => {
                let sample = BadgeData::sample();
                let mut out = Vec::new();
                for t in self.badge_templates(s)? {
                    let name = format!("{} — {}", t.name, t.description);
                    out.push(previews(&t, &sample, name)?);
                }
                DeskOutcome::Previews(out)
            }
            DeskCommand::StartRequestPrint {
                request_id,
                printer,
            } => DeskOutcome::PrintPrepared(Box::new(
                self.start_request_print(s, request_id, &printer)?,
            )),
            DeskCommand::RepeatPrintJob { job_id, printer } => DeskOutcome::PrintPrepared(
                Box::new(self.repeat_print_job(s, job_id, printer.as_deref())?),
            ),
            DeskCommand::VerifyAudit => DeskOutcome::AuditIntact(self.verify_audit(s)?),
            DeskCommand::ChoosePrinters(choice) => {
                self.choose_printers(s, &choice)?;
                DeskOutcome::PrintersChosen
            }
            DeskCommand::FinishSetUp => {
                self.finish_set_up(s)?;
                DeskOutcome::SetUpFinished
            }
            DeskCommand::PrepareTestCard { printer } => {
                DeskOutcome::TestCardPrepared(Box::new(self.prepare_test_card(s, &printer)?))
            }
            DeskCommand::ConfigureMail(settings) => {
                self.configure_mail(s, &settings)?;
                DeskOutcome::MailConfigured
            }
            DeskCommand::QueueTestMail { to } => {
                DeskOutcome::TestMailQueued(self.queue_test_mail(s, &to)?)
            }
            DeskCommand::RetryMail { id, to } => {
                self.retry_mail(s, id, to.as_deref())?;
                DeskOutcome::MailRequeued(id)
            }
            DeskCommand::SearchTempCards(filter) => DeskOutcome::TempCards {
                cards: self.temp_cards(s, &filter)?,
                profiles: self.temp_cert_profiles(s)?,
            },
            DeskCommand::IssueTempCards { ids, options } => {
                let order = self.issue_temp_cards(s, &ids, &options)?;
                let cards = self.temp_order_cards(s, order.id)?;
                DeskOutcome::TempOrder { order, cards }
            }
            DeskCommand::CompleteTempOrder { id } => DeskOutcome::TempOrder {
                order: self.complete_temp_order(s, id)?,
                cards: Vec::new(),
            },
            DeskCommand::CancelTempOrder { id } => DeskOutcome::TempOrder {
                order: self.cancel_temp_order(s, id)?,
                cards: Vec::new(),
            },
            DeskCommand::Unlock { password } => {
                DeskOutcome::Session(self.login(s.name(), password.expose())?)
            }
            DeskCommand::ChangePassword { current, new } => {
                self.change_password(s, current.expose(), new.expose())?;
                DeskOutcome::Session(self.after_password_change(s)?)
            }
            DeskCommand::AddOperator {
                name,
                email,
                role,
                password,
            } => {
                self.add_operator(
                    s,
                    &NewOperatorInput {
                        name: &name,
                        email: email.as_deref(),
                        role,
                        password: password.expose(),
                        language: "en",
                    },
                )?;
                DeskOutcome::OperatorsChanged(format!("Operator {} added", name.trim()))
            }
            DeskCommand::SetOperatorActive { name, active } => {
                self.set_operator_active(s, &name, active)?;
                DeskOutcome::OperatorsChanged(if active {
                    format!("{name} enabled")
                } else {
                    format!("{name} disabled")
                })
            }
            DeskCommand::SetOperatorRole { name, role } => {
                self.set_operator_role(s, &name, role)?;
                DeskOutcome::OperatorsChanged(format!("{name} is now {role:?}").to_lowercase())
            }
            DeskCommand::ResetOperatorPassword { name, password } => {
                self.reset_operator_password(s, &name, password.expose())?;
                DeskOutcome::OperatorsChanged(format!(
                    "Password of {name} reset; they must change it at their next login"
                ))
            }
            DeskCommand::DoorReaders => DeskOutcome::DoorReaders {
                readers: self.door_readers(s)?,
                changed: None,
            },
            DeskCommand::AddDoorReader(r) => {
                let added = self.add_door_reader(s, &r)?;
                DeskOutcome::DoorReaders {
                    readers: self.door_readers(s)?,
                    changed: Some(format!("Door reader {} added", added.name)),
                }
            }
            DeskCommand::RemoveDoorReader { name } => {
                self.remove_door_reader(s, &name)?;
                DeskOutcome::DoorReaders {
                    readers: self.door_readers(s)?,
                    changed: Some(format!("Door reader {name} removed")),
                }
            }
            DeskCommand::SetLoginPolicy(policy) => {
                self.set_login_policy(s, &policy)?;
                DeskOutcome::OperatorsChanged("Login policy saved".into())
            }
            DeskCommand::OpenCardholder { id } => {
                let record = self.cardholder_record(s, id)?;
                // The Standard template's photo frame (25 × 32 mm if it has none).
                let (w, h) = self
                    .badge_template(s, "Standard")
                    .ok()
                    .and_then(|t| t.photo_frame())
                    .unwrap_or((25.0, 32.0));
                let photo = record
                    .photo
                    .as_ref()
                    .and_then(|(bytes, _)| badge::photo_in_frame(bytes, w, h).ok());
                DeskOutcome::CardholderRecord {
                    record: Box::new(record),
                    photo,
                }
            }
            DeskCommand::UpdateCardholder {
                id,
                mut input,
                photo_path,
            } => {
                if let Some(path) = photo_path {
                    input.photo = Some(super::read_photo(&path)?);
                }
                let after = self.update_cardholder(s, id, &input)?;
                DeskOutcome::CardholderUpdated(after.full_name())
            }
            DeskCommand::ChangeCredentialState {
                id,
                action,
                reason,
                replace,
            } => DeskOutcome::CredentialChanged(self.change_credential_state(
                s,
                id,
                action,
                reason.as_deref(),
                replace,
            )?),
            DeskCommand::RequestCard {
                cardholder_id,
                fields,
            } => DeskOutcome::CardRequested(self.request_card(s, cardholder_id, &fields)?),
            DeskCommand::FindTempCards(filter) => DeskOutcome::TempCards {
                cards: self.temp_cards(s, &filter)?,
                profiles: Vec::new(),
            },
            DeskCommand::FindTempCardByUid { uid } => DeskOutcome::TempCards {
                cards: vec![self.temp_card_by_uid(s, &uid)?],
                profiles: Vec::new(),
            },
            DeskCommand::RequestTempCards(request) => DeskOutcome::TempCards {
                cards: self.request_temp_cards(s, &request)?,
                profiles: Vec::new(),
            },
            DeskCommand::SetTempCardState { id, to } => {
                DeskOutcome::TempCardChanged(self.change_temp_card_state(s, id, to)?)
            }
            DeskCommand::AssignTempCard {
                id,
                cardholder_id,
                until,
            } => {
                DeskOutcome::TempCardChanged(self.assign_temp_card(s, id, cardholder_id, until)?)
            }
            DeskCommand::ReturnTempCard { id } => {
                DeskOutcome::TempCardChanged(self.return_temp_card(s, id)?)
            }
            DeskCommand::OpenTempOrders => DeskOutcome::TempOrders(
                self.temp_orders(s)?
                    .into_iter()
                    .filter(|o| o.status == super::OrderStatus::Open)
                    .collect(),
            ),
            DeskCommand::OpenTempOrder { id } => DeskOutcome::TempOrder {
                order: self.temp_order(s, id)?,
                cards: self.temp_order_cards(s, id)?,
            },
            DeskCommand::RevealPuk { id } => {
                let puk = Secret::new(self.reveal_temp_puk(s, id)?);
                DeskOutcome::Puk {
                    card: self.temp_card(s, id)?,
                    puk,
                }
            }
        })
    }
}
