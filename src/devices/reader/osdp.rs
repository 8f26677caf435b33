//! Door readers on RS-485 speaking OSDP (IEC 60839-11-5, SIA OSDP 2.2): the
//! desk is the control panel (CP) and each configured reader a peripheral
//! device (PD) at its address on its serial port (USB–RS-485 adapters appear
//! as `/dev/ttyUSB*`). The protocol itself is libosdp, the reference C
//! implementation, through its Rust binding; this file opens the ports,
//! polls the panels on the reader thread, turns card reads into
//! [`ReaderEvent`]s and sends the LED/buzzer feedback.
//!
//! A reader that stops answering, or whose port goes away, is reported and
//! tried again every [`RETRY`], like PC/SC after a pcscd restart.

use super::{
    CardData, CardPresented, CardReaderSource, EventSink, Feedback, FeedbackSender, Interrupt,
    ReaderEvent,
};
use libosdp::{
    Channel, ChannelError, ControlPanel, ControlPanelBuilder, OsdpCardFormats, OsdpCommand,
    OsdpCommandBuzzer, OsdpCommandLed, OsdpEvent, OsdpFlag, OsdpLedColor, OsdpLedParams,
    PdInfoBuilder,
};
use serialport::SerialPort;
use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How often libosdp must be driven: its timing needs a refresh at least
/// every 50 ms.
const TICK: Duration = Duration::from_millis(20);
/// How long before a port that failed is opened again.
const RETRY: Duration = Duration::from_secs(2);
/// How long a reader may take to come online before it is reported.
const ONLINE_GRACE: Duration = Duration::from_secs(5);

/// One door reader as configured at the site.
#[derive(Clone, PartialEq, Eq)]
pub struct DoorReaderConfig {
    pub name: String,
    /// The serial port, e.g. `/dev/ttyUSB0`.
    pub port: String,
    pub baud: u32,
    /// The reader's OSDP address (0–126).
    pub address: u8,
    /// The secure channel base key; with one, the reader is used only over
    /// a secure channel.
    pub scbk: Option<[u8; 16]>,
}

impl std::fmt::Debug for DoorReaderConfig {
    // Never prints the key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DoorReaderConfig")
            .field("name", &self.name)
            .field("port", &self.port)
            .field("baud", &self.baud)
            .field("address", &self.address)
            .field("secure", &self.scbk.is_some())
            .finish()
    }
}

/// Reads the site's door readers (on the reader thread, so whoever starts
/// the readers does no I/O for it).
pub type LoadReaders = Box<dyn FnOnce() -> Result<Vec<DoorReaderConfig>, String> + Send>;

/// The door readers' control panel, on the reader thread.
pub struct OsdpReader {
    readers: Vec<DoorReaderConfig>,
    load: Option<LoadReaders>,
    feedback_tx: FeedbackSender,
    feedback_rx: Receiver<(String, Feedback)>,
}

impl OsdpReader {
    pub fn new(readers: Vec<DoorReaderConfig>) -> Self {
        let (feedback_tx, feedback_rx) = mpsc::channel();
        OsdpReader {
            readers,
            load: None,
            feedback_tx,
            feedback_rx,
        }
    }

    /// The readers `load` returns, read when the reader thread starts.
    pub fn loading(load: LoadReaders) -> Self {
        OsdpReader {
            load: Some(load),
            ..Self::new(Vec::new())
        }
    }
}

/// The serial port as libosdp's channel: never blocks (libosdp requires
/// it), and records a failure so the reader thread can reopen the port.
struct SerialChannel {
    id: i32,
    /// Opened exclusive (two desks must not drive one bus). Closed when
    /// libosdp tears the panel down — the binding never frees the channel
    /// itself — after clearing the exclusive flag, which a pseudo-terminal
    /// would otherwise keep after the close.
    port: Option<serialport::TTYPort>,
    failed: Arc<AtomicBool>,
    heard: Arc<AtomicBool>,
}

impl SerialChannel {
    fn fail(&self, e: std::io::Error) -> ChannelError {
        tracing::debug!("door reader port: {e}");
        self.failed.store(true, Ordering::Relaxed);
        ChannelError::TransportError
    }
}

impl Channel for SerialChannel {
    fn get_id(&self) -> i32 {
        self.id
    }

    fn read(&mut self, buf: &mut [u8]) -> Result<usize, ChannelError> {
        let Some(port) = self.port.as_mut() else {
            return Err(ChannelError::TransportError);
        };
        match port.bytes_to_read() {
            Ok(0) => return Ok(0),
            Ok(_) => {}
            Err(e) => return Err(self.fail(e.into())),
        }
        match port.read(buf) {
            Ok(0) => Err(self.fail(std::io::ErrorKind::UnexpectedEof.into())),
            Ok(n) => {
                self.heard.store(true, Ordering::Relaxed);
                Ok(n)
            }
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => Ok(0),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => Ok(0),
            Err(e) => Err(self.fail(e)),
        }
    }

    fn write(&mut self, buf: &[u8]) -> Result<usize, ChannelError> {
        let Some(port) = self.port.as_mut() else {
            return Err(ChannelError::TransportError);
        };
        match port.write(buf) {
            Ok(n) => Ok(n),
            // A full transmit buffer: libosdp tries again.
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
                ) =>
            {
                Ok(0)
            }
            Err(e) => Err(self.fail(e)),
        }
    }

    /// libosdp flushes before it sends: unread input is thrown away. Never
    /// a drain (tcdrain), which a stuck adapter could block for ever.
    fn flush(&mut self) -> Result<(), ChannelError> {
        let Some(port) = self.port.as_mut() else {
            return Ok(());
        };
        port.clear(serialport::ClearBuffer::Input)
            .map_err(|e| self.fail(e.into()))
    }

    fn close(&mut self) -> Result<(), ChannelError> {
        if let Some(mut port) = self.port.take() {
            let _ = port.set_exclusive(false);
        }
        Ok(())
    }
}

/// One configured reader and, while its port is open, its panel.
struct Door {
    config: DoorReaderConfig,
    panel: Option<ControlPanel>,
    reads: Arc<Mutex<Vec<libosdp::OsdpEventCardRead>>>,
    failed: Arc<AtomicBool>,
    heard: Arc<AtomicBool>,
    online: bool,
    opened_at: Instant,
    retry_at: Instant,
    /// The last problem reported, so it is said once, not every retry.
    reported: Option<String>,
}

impl Door {
    fn new(config: DoorReaderConfig) -> Self {
        Door {
            config,
            panel: None,
            reads: Arc::default(),
            failed: Arc::default(),
            heard: Arc::default(),
            online: false,
            opened_at: Instant::now(),
            retry_at: Instant::now(),
            reported: None,
        }
    }

    fn report(&mut self, sink: &EventSink, message: String) {
        if self.reported.as_ref() != Some(&message) {
            sink.send(ReaderEvent::ReaderError {
                reader: Some(self.config.name.clone()),
                message: message.clone(),
            });
            self.reported = Some(message);
        }
    }

    /// Opens the port and sets up the panel for this reader.
    fn open(&mut self, id: i32) -> Result<(), String> {
        let c = &self.config;
        let port = serialport::new(&c.port, c.baud)
            .timeout(Duration::ZERO)
            .open_native()
            .map_err(|e| match e.kind() {
                serialport::ErrorKind::Io(std::io::ErrorKind::NotFound)
                | serialport::ErrorKind::NoDevice => {
                    format!(
                        "offline: the port {} is not there (adapter unplugged?)",
                        c.port
                    )
                }
                _ if e.description.contains("exclusive lock") => format!(
                    "offline: {} is in use by another program (another desk?)",
                    c.port
                ),
                _ => format!("offline: cannot open {}: {e}", c.port),
            })?;
        self.failed.store(false, Ordering::Relaxed);
        self.heard.store(false, Ordering::Relaxed);
        // Reads from before (the last panel) are never delivered late.
        self.reads.lock().unwrap_or_else(|e| e.into_inner()).clear();
        let channel = SerialChannel {
            id,
            port: Some(port),
            failed: self.failed.clone(),
            heard: self.heard.clone(),
        };
        let mut pd = PdInfoBuilder::new()
            .name(&c.name)
            .and_then(|b| b.address(i32::from(c.address)))
            .and_then(|b| b.baud_rate(c.baud as i32))
            .map_err(|e| format!("bad reader settings: {e:?}"))?;
        if let Some(key) = c.scbk {
            pd = pd.flag(OsdpFlag::EnforceSecure).secure_channel_key(key);
        }
        let mut panel = ControlPanelBuilder::new()
            .add_channel(Box::new(channel), vec![pd])
            .build()
            .map_err(|e| format!("cannot start the OSDP control panel: {e:?}"))?;
        let reads = self.reads.clone();
        panel.set_event_callback(move |_pd, event| {
            if let OsdpEvent::CardRead(read) = event {
                reads.lock().unwrap_or_else(|e| e.into_inner()).push(read);
            }
            0
        });
        self.panel = Some(panel);
        self.online = false;
        self.opened_at = Instant::now();
        Ok(())
    }

    /// Why a reader with an open port is not online (after the grace time).
    fn offline_reason(&self) -> String {
        let c = &self.config;
        match (self.heard.load(Ordering::Relaxed), c.scbk.is_some()) {
            (true, true) => format!(
                "offline: the reader at address {} on {} answers but no secure channel could be opened; check its SCBK",
                c.address, c.port
            ),
            (true, false) => format!(
                "offline: the reader at address {} on {} answers but not as an OSDP reader at that address (secure channel required, or another baud rate?)",
                c.address, c.port
            ),
            (false, _) => format!(
                "offline: no answer from address {} on {} at {} baud; check the cable, the address and the baud rate",
                c.address, c.port, c.baud
            ),
        }
    }
}

/// The bits of a raw card read, `0`/`1` in transmission order: OSDP packs
/// them MSB first from the first data byte (osdp_RAW, SIA OSDP 2.2 §7.10).
fn read_bits(data: &[u8], nr_bits: usize) -> String {
    (0..nr_bits.min(data.len() * 8))
        .map(|i| {
            if data[i / 8] & (0x80 >> (i % 8)) != 0 {
                '1'
            } else {
                '0'
            }
        })
        .collect()
}

/// osdp_LED and osdp_BUZ (SIA OSDP 2.2 §6.10, §6.11) for `feedback`: a
/// temporary colour for two seconds, then back to the permanent state;
/// beeps of 200 ms on, 200 ms off.
fn commands(feedback: Feedback) -> [OsdpCommand; 2] {
    let (color, beeps) = match feedback {
        Feedback::Accepted => (OsdpLedColor::Green, 1),
        Feedback::Refused => (OsdpLedColor::Red, 2),
    };
    let led = OsdpCommandLed {
        reader: 0,
        led_number: 0,
        temporary: OsdpLedParams {
            control_code: 2, // set the temporary state, start its timer
            on_count: 10,    // units of 100 ms
            off_count: 0,
            on_color: color,
            off_color: OsdpLedColor::None,
            timer_count: 20, // 2 s, units of 100 ms
        },
        permanent: OsdpLedParams::default(), // control code 0: unchanged
    };
    let buzzer = OsdpCommandBuzzer {
        reader: 0,
        control_code: 2, // default tone
        on_count: 2,     // units of 100 ms
        off_count: 2,
        rep_count: beeps,
    };
    [OsdpCommand::Led(led), OsdpCommand::Buzzer(buzzer)]
}

impl CardReaderSource for OsdpReader {
    fn interrupter(&self) -> Interrupt {
        // The loop wakes every TICK and looks at the stop flag then.
        Box::new(|| {})
    }

    fn feedback(&self) -> Option<FeedbackSender> {
        Some(self.feedback_tx.clone())
    }

    fn run(&mut self, sink: &EventSink) {
        if let Some(load) = self.load.take() {
            match load() {
                Ok(readers) => self.readers = readers,
                Err(message) => {
                    sink.send(ReaderEvent::ReaderError {
                        reader: None,
                        message,
                    });
                    return;
                }
            }
        }
        if self.readers.is_empty() {
            return; // no door readers at this site
        }
        let mut doors: Vec<Door> = self.readers.iter().cloned().map(Door::new).collect();
        let mut listed: Option<Vec<String>> = None;
        loop {
            let now = Instant::now();
            for (i, door) in doors.iter_mut().enumerate() {
                if door.panel.is_none() && now >= door.retry_at {
                    if let Err(e) = door.open(i as i32) {
                        door.report(sink, e);
                        door.retry_at = now + RETRY;
                    }
                }
                let Some(panel) = door.panel.as_mut() else {
                    continue;
                };
                panel.refresh();
                if door.failed.load(Ordering::Relaxed) {
                    // The port went away (adapter unplugged, the other end
                    // closed): drop the panel and open it again later.
                    door.panel = None;
                    door.online = false;
                    door.retry_at = now + RETRY;
                    let message = format!("offline: the port {} went away", door.config.port);
                    door.report(sink, message);
                    continue;
                }
                let online = panel.is_online(0);
                if online && !door.online {
                    tracing::info!(reader = %door.config.name, "door reader online");
                    door.reported = None;
                } else if !online && door.online {
                    let message = door.offline_reason();
                    door.report(sink, message);
                    door.opened_at = now;
                } else if !online && now.duration_since(door.opened_at) > ONLINE_GRACE {
                    let message = door.offline_reason();
                    door.report(sink, message);
                }
                door.online = online;
                let reads =
                    std::mem::take(&mut *door.reads.lock().unwrap_or_else(|e| e.into_inner()));
                for read in reads {
                    let data = match read.format {
                        OsdpCardFormats::Wiegand | OsdpCardFormats::Unspecified => {
                            CardData::Wiegand(read_bits(&read.data, read.nr_bits))
                        }
                    };
                    sink.send(ReaderEvent::CardPresented(CardPresented {
                        reader: door.config.name.clone(),
                        data,
                        atr: String::new(),
                        at: chrono::Utc::now(),
                    }));
                }
            }
            let online: Vec<String> = doors
                .iter()
                .filter(|d| d.online)
                .map(|d| d.config.name.clone())
                .collect();
            // The first list waits until every reader is online or has
            // been reported, so a reader still connecting is not "missing".
            let settled = doors.iter().all(|d| d.online || d.reported.is_some());
            if (listed.is_some() || settled) && listed.as_ref() != Some(&online) {
                sink.send(ReaderEvent::ReadersChanged(online.clone()));
                listed = Some(online);
            }
            while let Ok((reader, feedback)) = self.feedback_rx.try_recv() {
                let Some(door) = doors.iter_mut().find(|d| d.config.name == reader) else {
                    continue;
                };
                if let Some(panel) = door.panel.as_mut() {
                    for command in commands(feedback) {
                        if let Err(e) = panel.send_command(0, command) {
                            tracing::warn!(%reader, "feedback not sent: {e:?}");
                        }
                    }
                }
            }
            if !sink.pause(TICK) {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_bits_are_read_msb_first_from_the_first_byte() {
        // H10301 facility 12, card 345: 26 bits in 4 bytes, left aligned.
        let bits = "10000110000000101011001011";
        let mut data = vec![0u8; 4];
        for (i, b) in bits.chars().enumerate() {
            if b == '1' {
                data[i / 8] |= 0x80 >> (i % 8);
            }
        }
        assert_eq!(read_bits(&data, 26), bits);
        assert_eq!(
            read_bits(&data, 40),
            read_bits(&data, 32),
            "never past the data"
        );
    }

    #[test]
    fn the_key_is_never_printed() {
        let c = DoorReaderConfig {
            name: "Front door".into(),
            port: "/dev/ttyUSB0".into(),
            baud: 9600,
            address: 101,
            scbk: Some([0xAB; 16]),
        };
        let text = format!("{c:?}");
        assert!(text.contains("secure: true"), "{text}");
        assert!(
            !text.to_lowercase().contains("ab, ") && !text.contains("171"),
            "{text}"
        );
    }
}
