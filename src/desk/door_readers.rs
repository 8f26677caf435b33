//! Door readers (OSDP) the desk enrols cards at: added, listed and removed
//! by an administrator; their secure channel keys are sealed with the site
//! keys like every other secret.

use super::keys::Purpose;
use super::{snapshot, Desk, DeskError, DeskResult, Session};
use crate::devices::reader::DoorReaderConfig;
use crate::domain::{Privilege, Secret};
use crate::store::{self, door_readers::DoorReader};

/// The baud rates OSDP readers use (SIA OSDP 2.2 §5.7, osdp_COMSET).
pub const BAUD_RATES: [u32; 5] = [9600, 19200, 38400, 57600, 115200];

/// A door reader to add.
#[derive(Debug, Clone)]
pub struct NewDoorReader {
    pub name: String,
    pub port: String,
    pub baud: u32,
    pub address: u8,
    /// The secure channel base key as 32 hex digits (16 bytes).
    pub scbk: Option<Secret>,
}

/// A secure channel base key: 16 bytes, written as 32 hex digits.
pub fn parse_scbk(text: &str) -> DeskResult<[u8; 16]> {
    let text = text.trim();
    let bad = |why: &str| DeskError::invalid("secure channel key (SCBK)", why.to_string());
    let bytes = hex::decode(text).map_err(|_| bad("must be 32 hexadecimal digits (16 bytes)"))?;
    let key: [u8; 16] = bytes.try_into().map_err(|b: Vec<u8>| {
        bad(&format!(
            "must be 16 bytes (32 hex digits), got {}",
            b.len()
        ))
    })?;
    if key == [0u8; 16] {
        return Err(bad(
            "an all-zero key protects nothing; use the reader's own key",
        ));
    }
    Ok(key)
}

impl NewDoorReader {
    fn check(&self) -> DeskResult<Option<[u8; 16]>> {
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
            return Err(DeskError::invalid(
                "door reader name",
                "give a name of 1 to 64 characters (e.g. Front desk reader)",
            ));
        }
        if !self.port.starts_with('/') {
            return Err(DeskError::invalid(
                "serial port",
                format!("{:?} is not a device path (e.g. /dev/ttyUSB0)", self.port),
            ));
        }
        if !BAUD_RATES.contains(&self.baud) {
            return Err(DeskError::invalid(
                "baud rate",
                format!(
                    "{} is not an OSDP baud rate (9600, 19200, 38400, 57600 or 115200)",
                    self.baud
                ),
            ));
        }
        if self.address > 126 {
            return Err(DeskError::invalid(
                "OSDP address",
                format!(
                    "{} is out of range (0–126; 127 is the broadcast address)",
                    self.address
                ),
            ));
        }
        self.scbk
            .as_ref()
            .map(|k| parse_scbk(k.expose()))
            .transpose()
    }
}

impl Desk {
    /// Adds a door reader (one audited transaction). The window and the
    /// reader thread pick it up at their next start.
    pub fn add_door_reader(&mut self, s: &Session, r: &NewDoorReader) -> DeskResult<DoorReader> {
        self.require(s, Privilege::ManageSettings, "add door readers")?;
        let scbk = r.check()?;
        let tx = self.begin()?;
        let existing = store::door_readers::list(&tx)?;
        if let Some(same) = existing
            .iter()
            .find(|e| e.name.eq_ignore_ascii_case(r.name.trim()))
        {
            return Err(DeskError::invalid(
                "door reader name",
                format!(
                    "{:?} is already a door reader (on {})",
                    same.name, same.port
                ),
            ));
        }
        if let Some(same) = existing
            .iter()
            .find(|e| e.port == r.port && e.address == r.address)
        {
            return Err(DeskError::invalid(
                "OSDP address",
                format!(
                    "{} already has address {} on {}",
                    same.name, r.address, r.port
                ),
            ));
        }
        let reader = DoorReader {
            name: r.name.trim().to_string(),
            port: r.port.clone(),
            baud: r.baud,
            address: r.address,
            scbk_sealed: scbk.map(|k| tx.keys().seal(Purpose::DoorReaderKey, &k)),
            secure: scbk.is_some(),
            created_at: store::now(),
        };
        store::door_readers::insert(&tx, &reader)?;
        tx.audit(
            s,
            "door_reader.add",
            "door_reader",
            None,
            None,
            Some(snapshot(&reader)),
        )?;
        tx.commit()?;
        Ok(reader)
    }

    /// The door readers configured at this site.
    pub fn door_readers(&self, s: &Session) -> DeskResult<Vec<DoorReader>> {
        self.require(s, Privilege::ViewRequests, "see the door readers")?;
        Ok(store::door_readers::list(&self.conn)?)
    }

    /// Removes the door reader named `name`.
    pub fn remove_door_reader(&mut self, s: &Session, name: &str) -> DeskResult<()> {
        self.require(s, Privilege::ManageSettings, "remove door readers")?;
        let tx = self.begin()?;
        let list = store::door_readers::list(&tx)?;
        let Some(before) = list
            .iter()
            .find(|r| r.name.eq_ignore_ascii_case(name.trim()))
        else {
            return Err(DeskError::NotFound {
                what: "door reader",
                id: name.to_string(),
            });
        };
        store::door_readers::remove(&tx, &before.name)?;
        tx.audit(
            s,
            "door_reader.remove",
            "door_reader",
            None,
            Some(snapshot(before)),
            None,
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The door readers with their keys opened, for the reader thread
    /// (started by the desk itself, not on an operator's behalf).
    pub fn door_reader_configs(&self) -> DeskResult<Vec<DoorReaderConfig>> {
        store::door_readers::list(&self.conn)?
            .into_iter()
            .map(|r| {
                let scbk = match &r.scbk_sealed {
                    None => None,
                    Some(sealed) => {
                        let key = self.keys.open(Purpose::DoorReaderKey, sealed)?;
                        Some(key.try_into().map_err(|_| {
                            DeskError::invalid(
                                "secure channel key (SCBK)",
                                "the stored key is not 16 bytes",
                            )
                        })?)
                    }
                };
                Ok(DoorReaderConfig {
                    name: r.name,
                    port: r.port,
                    baud: r.baud,
                    address: r.address,
                    scbk,
                })
            })
            .collect()
    }
}
