//! Settings → Operators (administrators): who may log in, with which role;
//! disable, enable, change role, reset a password, add an operator, and
//! the login policy. The desk refuses what the rules forbid (the last
//! administrator); the reply is shown here.

use super::i18n::{t, tf};
use super::widgets::{labelled_edit, message};
use super::worker::CommandResult;
use super::Env;
use crate::desk::{DeskCommand, DeskOutcome, LoginPolicy, Operator, Role, Secret};
use egui_extras::{Column, TableBuilder};

const ROLES: [(Role, &str); 4] = [
    (Role::Administrator, "administrator"),
    (Role::Supervisor, "supervisor"),
    (Role::Operator, "operator"),
    (Role::Viewer, "viewer"),
];

#[derive(Default)]
pub struct OperatorsView {
    /// The operator whose password is being reset, and the new one.
    reset: Option<(String, String)>,
    new_name: String,
    new_email: String,
    new_role: Option<Role>,
    new_password: String,
    policy: Option<[String; 3]>,
    busy: bool,
    result: Option<Result<String, String>>,
}

/// "active", "disabled", "locked until …", "must change password".
fn state(op: &Operator) -> String {
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let mut parts = vec![if op.active {
        t("active").to_string()
    } else {
        t("disabled").to_string()
    }];
    if let Some(until) = op.locked_until.as_deref().filter(|u| *u > now.as_str()) {
        let local = chrono::DateTime::parse_from_rfc3339(until)
            .map(|d| d.with_timezone(&chrono::Local).format("%H:%M").to_string())
            .unwrap_or_else(|_| until.to_string());
        parts.push(tf("locked until {time}", &[("time", &local)]));
    }
    if op.must_change_password {
        parts.push(t("must change password").to_string());
    }
    parts.join(", ")
}

impl OperatorsView {
    pub fn on_reply(&mut self, result: CommandResult) {
        self.busy = false;
        self.result = Some(match result {
            Ok(DeskOutcome::OperatorsChanged(text)) => {
                self.reset = None;
                self.new_password.clear();
                Ok(text)
            }
            Ok(_) => Ok(String::new()),
            Err(e) => Err(e.to_string()),
        });
    }

    fn send(&mut self, env: &Env, command: DeskCommand) {
        self.busy = true;
        self.result = None;
        env.worker.send(command);
    }

    pub fn ui(&mut self, ui: &mut egui::Ui, env: &Env) {
        ui.strong(t("Operators"));
        let operators = env.snapshot.operators.clone();
        let me = env.session.name().to_string();
        TableBuilder::new(ui)
            .id_salt("operators")
            .striped(true)
            .column(Column::auto().at_least(110.0))
            .column(Column::auto().at_least(130.0))
            .column(Column::auto().at_least(170.0))
            .column(Column::auto().at_least(200.0))
            .column(Column::remainder())
            .header(20.0, |mut h| {
                for title in [t("Name"), t("Role"), t("E-mail"), t("State"), ""] {
                    h.col(|ui| {
                        ui.strong(title);
                    });
                }
            })
            .body(|mut body| {
                for op in operators.iter() {
                    body.row(24.0, |mut row| {
                        row.col(|ui| {
                            ui.label(&op.name);
                        });
                        row.col(|ui| {
                            let mut role = op.role.clone();
                            egui::ComboBox::from_id_salt(("role", op.id))
                                .selected_text(t_role(&role))
                                .show_ui(ui, |ui| {
                                    for (_, name) in ROLES {
                                        ui.selectable_value(
                                            &mut role,
                                            name.to_string(),
                                            t_role(name),
                                        );
                                    }
                                });
                            if role != op.role && !self.busy {
                                let r = ROLES.iter().find(|(_, n)| *n == role).map(|(r, _)| *r);
                                if let Some(r) = r {
                                    self.send(
                                        env,
                                        DeskCommand::SetOperatorRole {
                                            name: op.name.clone(),
                                            role: r,
                                        },
                                    );
                                }
                            }
                        });
                        row.col(|ui| {
                            ui.label(op.email.as_deref().unwrap_or("—"));
                        });
                        row.col(|ui| {
                            ui.label(state(op));
                        });
                        row.col(|ui| {
                            ui.horizontal(|ui| {
                                let (label, active) = if op.active {
                                    (t("Disable"), false)
                                } else {
                                    (t("Enable"), true)
                                };
                                let button = ui.add_enabled(
                                    !self.busy && op.name != me,
                                    egui::Button::new(label),
                                );
                                if button.clicked() {
                                    self.send(
                                        env,
                                        DeskCommand::SetOperatorActive {
                                            name: op.name.clone(),
                                            active,
                                        },
                                    );
                                }
                                if ui.button(t("Reset password")).clicked() {
                                    self.reset = Some((op.name.clone(), String::new()));
                                }
                            });
                        });
                    });
                }
            });
        if let Some((name, password)) = &mut self.reset {
            ui.horizontal(|ui| {
                ui.label(tf("New password for {name}", &[("name", name)]));
                ui.add(egui::TextEdit::singleline(password).password(true));
            });
            let (name, password) = (name.clone(), password.clone());
            ui.horizontal(|ui| {
                if ui
                    .add_enabled(!self.busy, egui::Button::new(t("Set password")))
                    .clicked()
                {
                    self.send(
                        env,
                        DeskCommand::ResetOperatorPassword {
                            name,
                            password: Secret::new(password),
                        },
                    );
                }
                if ui.button(t("Cancel")).clicked() {
                    self.reset = None;
                }
            });
        }
        ui.add_space(8.0);
        ui.strong(t("Add an operator"));
        labelled_edit(ui, t("Operator name"), &mut self.new_name, false);
        labelled_edit(ui, t("Operator e-mail"), &mut self.new_email, false);
        ui.horizontal(|ui| {
            ui.label(t("Role"));
            let role = self.new_role.get_or_insert(Role::Operator);
            for (r, name) in ROLES {
                ui.radio_value(role, r, t_role(name));
            }
        });
        labelled_edit(ui, t("First password"), &mut self.new_password, true);
        if ui
            .add_enabled(!self.busy, egui::Button::new(t("Add operator")))
            .clicked()
        {
            let command = DeskCommand::AddOperator {
                name: self.new_name.trim().to_string(),
                email: Some(self.new_email.trim().to_string()).filter(|e| !e.is_empty()),
                role: self.new_role.unwrap_or(Role::Operator),
                password: Secret::new(self.new_password.clone()),
            };
            self.send(env, command);
        }
        ui.add_space(8.0);
        self.policy_ui(ui, env);
        message(ui, &self.result);
    }

    fn policy_ui(&mut self, ui: &mut egui::Ui, env: &Env) {
        ui.strong(t("Login policy"));
        let p = env.snapshot.policy;
        let fields = self.policy.get_or_insert_with(|| {
            [
                p.max_failures.to_string(),
                p.lockout_minutes.to_string(),
                p.idle_lock_minutes.to_string(),
            ]
        });
        let labels = [
            t("Failed logins before lock-out"),
            t("Lock-out minutes"),
            t("Idle minutes before the window locks"),
        ];
        egui::Grid::new("login-policy")
            .num_columns(2)
            .show(ui, |ui| {
                for (label, value) in labels.into_iter().zip(fields.iter_mut()) {
                    let l = ui.label(label);
                    ui.add(egui::TextEdit::singleline(value).desired_width(60.0))
                        .labelled_by(l.id);
                    ui.end_row();
                }
            });
        if ui
            .add_enabled(!self.busy, egui::Button::new(t("Save login policy")))
            .clicked()
        {
            let parsed: Result<Vec<i64>, _> = fields.iter().map(|f| f.trim().parse()).collect();
            match parsed {
                Ok(v) => {
                    let policy = LoginPolicy {
                        max_failures: v[0],
                        lockout_minutes: v[1],
                        idle_lock_minutes: v[2],
                    };
                    self.send(env, DeskCommand::SetLoginPolicy(policy));
                }
                Err(_) => {
                    self.result = Some(Err(t("Login policy: give whole numbers.").into()));
                }
            }
        }
    }
}

fn t_role(name: &str) -> &'static str {
    match name {
        "administrator" => t("administrator"),
        "supervisor" => t("supervisor"),
        "operator" => t("operator"),
        _ => t("viewer"),
    }
}
