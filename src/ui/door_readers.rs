//! Settings → Door readers: the site's OSDP readers with their state as it
//! happens (online, or why not), added and removed by an administrator.
//! The readers reconnect at once after a change.

use super::i18n::{t, tf};
use super::widgets::{labelled_edit, message};
use super::worker::CommandResult;
use super::Env;
use crate::desk::{
    DeskCommand, DeskOutcome, DoorReader, NewDoorReader, Privilege, Secret, BAUD_RATES,
};
use egui_extras::{Column, TableBuilder};

pub struct DoorReadersView {
    readers: Vec<DoorReader>,
    asked: bool,
    name: String,
    port: String,
    address: String,
    baud: u32,
    scbk: String,
    busy: bool,
    result: Option<Result<String, String>>,
}

impl Default for DoorReadersView {
    fn default() -> Self {
        DoorReadersView {
            readers: Vec::new(),
            asked: false,
            name: String::new(),
            port: String::new(),
            address: String::new(),
            baud: 9600,
            scbk: String::new(),
            busy: false,
            result: None,
        }
    }
}

impl DoorReadersView {
    pub fn ui(&mut self, ui: &mut egui::Ui, env: &Env) {
        if !self.asked {
            self.asked = true;
            env.worker.send(DeskCommand::DoorReaders);
        }
        ui.label(t(
            "Door readers on RS-485 (OSDP). A card read at one is enrolled like a card at the desk reader, and the reader shows the answer: green and one beep, or red and two.",
        ));
        let may = env.session.may(Privilege::ManageSettings);
        let mut remove = None;
        TableBuilder::new(ui)
            .id_salt("door-readers")
            .striped(true)
            .column(Column::auto().at_least(140.0))
            .column(Column::auto().at_least(140.0))
            .column(Column::auto().at_least(60.0))
            .column(Column::auto().at_least(60.0))
            .column(Column::auto().at_least(70.0))
            .column(Column::remainder().at_least(200.0))
            .column(Column::auto())
            .header(20.0, |mut h| {
                for title in ["Name", "Port", "Address", "Baud", "Channel", "State"] {
                    h.col(|ui| {
                        ui.strong(t(title));
                    });
                }
                h.col(|_| {});
            })
            .body(|mut body| {
                for r in &self.readers {
                    body.row(20.0, |mut row| {
                        row.col(|ui| {
                            ui.label(&r.name);
                        });
                        row.col(|ui| {
                            ui.label(&r.port);
                        });
                        row.col(|ui| {
                            ui.label(r.address.to_string());
                        });
                        row.col(|ui| {
                            ui.label(r.baud.to_string());
                        });
                        row.col(|ui| {
                            ui.label(if r.secure { t("secure") } else { t("clear") });
                        });
                        row.col(|ui| {
                            if env.devices.readers.contains(&r.name) {
                                ui.colored_label(egui::Color32::from_rgb(0, 128, 0), t("online"));
                            } else if let Some(p) = env.devices.reader_problems.get(&r.name) {
                                ui.colored_label(ui.visuals().warn_fg_color, p);
                            } else {
                                ui.weak(t("connecting…"));
                            }
                        });
                        row.col(|ui| {
                            if may
                                && ui
                                    .add_enabled(!self.busy, egui::Button::new(t("Remove")))
                                    .clicked()
                            {
                                remove = Some(r.name.clone());
                            }
                        });
                    });
                }
            });
        if let Some(name) = remove {
            self.send(env, DeskCommand::RemoveDoorReader { name });
        }
        if self.readers.is_empty() {
            ui.weak(t("No door readers yet."));
        }
        if may {
            ui.separator();
            ui.strong(t("Add a door reader"));
            labelled_edit(ui, t("Name"), &mut self.name, false);
            labelled_edit(
                ui,
                t("Serial port (e.g. /dev/ttyUSB0)"),
                &mut self.port,
                false,
            );
            labelled_edit(ui, t("OSDP address (0–126)"), &mut self.address, false);
            ui.horizontal(|ui| {
                let l = ui.add_sized([170.0, 20.0], egui::Label::new(t("Baud rate")));
                egui::ComboBox::from_id_salt("door-baud")
                    .selected_text(self.baud.to_string())
                    .show_ui(ui, |ui| {
                        for b in BAUD_RATES {
                            ui.selectable_value(&mut self.baud, b, b.to_string());
                        }
                    })
                    .response
                    .labelled_by(l.id);
            });
            labelled_edit(
                ui,
                t("Secure channel key (optional, 32 hex digits)"),
                &mut self.scbk,
                true,
            );
            if ui
                .add_enabled(!self.busy, egui::Button::new(t("Add door reader")))
                .clicked()
            {
                match self.address.trim().parse::<u8>() {
                    Ok(address) => {
                        let scbk = Some(self.scbk.trim())
                            .filter(|k| !k.is_empty())
                            .map(|k| Secret::new(k.to_string()));
                        self.send(
                            env,
                            DeskCommand::AddDoorReader(NewDoorReader {
                                name: self.name.clone(),
                                port: self.port.trim().to_string(),
                                baud: self.baud,
                                address,
                                scbk,
                            }),
                        );
                    }
                    Err(_) => {
                        self.result = Some(Err(tf(
                            "OSDP address: {address} is not a number from 0 to 126.",
                            &[("address", &self.address)],
                        )))
                    }
                }
            }
        }
        message(ui, &self.result);
    }

    fn send(&mut self, env: &Env, command: DeskCommand) {
        self.busy = true;
        self.result = None;
        env.worker.send(command);
    }

    /// The desk answered; true if the readers changed (they reconnect).
    pub fn on_reply(&mut self, result: CommandResult) -> bool {
        self.busy = false;
        match result {
            Ok(DeskOutcome::DoorReaders { readers, changed }) => {
                self.readers = readers;
                if let Some(text) = changed {
                    self.result = Some(Ok(format!("{text}.")));
                    self.name.clear();
                    self.address.clear();
                    self.scbk.clear();
                    return true;
                }
                false
            }
            Ok(_) => false,
            Err(e) => {
                self.result = Some(Err(e.to_string()));
                false
            }
        }
    }
}
