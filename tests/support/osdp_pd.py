#!/usr/bin/env python3
"""One OSDP door reader (a Peripheral Device, PD) on a pseudo-terminal.

usage: osdp_pd.py --link PATH --address N [--baud 9600] [--scbk HEX32]
                  [--log FILE] [--verbose]

Run it with the venv python that start-osdp.sh makes ($OSDP_PYTHON): it needs
the PyPI package `libosdp`, the Python binding of the reference C library. The
C core is the same code as the Rust crate libosdp-sys, so both ends of the
link speak the same protocol stack.

It follows SIA OSDP v2.2. IEC 60839-11-5 is the IEC standard for OSDP, and
it has the same messages as those used here. The PD answers the CP's osdp_POLL,
osdp_ID, osdp_CAP, Secure Channel, osdp_LED and osdp_BUZ commands, as an RS-485
reader on a two-wire bus would. The "bus" here is a pty pair. The PD uses the
master side. PATH becomes a symlink to the slave side (/dev/pts/N), so the CP
opens PATH as it would open /dev/ttyUSB0. The symlink is replaced atomically,
so after a restart the same PATH points to the new pty. On exit the symlink is
left in place, dangling, like a /dev/serial/by-id name of an unplugged adapter.

Secure Channel: with --scbk the PD has that SCBK (Secure Channel Base Key) and
ENFORCE_SECURE. Until the CP has opened a Secure Channel with the same key, the
PD answers anything but osdp_ID, osdp_CAP, osdp_CHLNG and osdp_SCRYPT with
NAK. So a CP with a wrong key never comes online. Without --scbk the PD has
no key. libosdp then puts it in "install mode": a CP without a key talks to
it in the clear. A CP with a key opens the channel with the default key
SCBK-D and gives the PD its key with osdp_KEYSET. That key is kept in memory
only, so it is lost when the PD restarts.

stdin, one command per line. stdout gets one reply line per command, flushed
at once: "ok ..." or "error ...".
  card BITS [wiegand|raw]  report a card read as osdp_RAW (reply 0x50). BITS
                           are 0/1 in transmission order (first bit first),
                           1..512 of them. Format code 0x01 "P/data/P"
                           (Wiegand with its parity bits; default) or 0x00
                           (raw, unspecified).
                           -> "ok card bits=26 format=wiegand data=8602b2c0 online=1"
  status                   -> "ok online=0|1 sc_active=0|1 tty=/dev/pts/N"
  quit                     close the pty and exit 0 ("ok quit"); EOF on stdin,
                           SIGTERM and SIGINT do the same.
"ready PATH" is printed once the PD runs and PATH points to its pty.

--log FILE: every command the CP sends that reaches the reader's application
(osdp_LED, osdp_BUZ, and also osdp_OUT, osdp_TEXT, osdp_COMSET, osdp_KEYSET,
osdp_MFG if the CP sends them) is appended as one JSON object per line,
flushed at once. Each line has "command" (a name), "address", "ts" (epoch
seconds), the fields the libosdp binding gives, and for led "color" and for
buzzer "count". Example lines:
  {"command":"led","address":1,"ts":...,"reader":0,"led_number":0,
   "temporary":true,"control_code":2,"on_color":2,"off_color":0,"on_count":5,
   "off_count":0,"timer_count":20,"color":"green","off_color_name":"black"}
  {"command":"buzzer","address":1,"ts":...,"reader":0,"control_code":2,
   "on_count":2,"off_count":1,"rep_count":1,"count":1,"tone":"default"}
The binding gives an osdp_LED record as one set of fields, not two: the
temporary settings ("temporary": true) if the temporary control code is not
0 (NOP), else the permanent settings. "cancel_temporary": true means
temporary code 1 plus a permanent setting, and then the fields are the
permanent ones.

Exit codes: 0 normal end, 2 bad arguments, 1 setup failed (see stderr).
Diagnostics go to stderr: libosdp's warnings and errors, or with --verbose its
debug log plus one line per CP command.
"""
import argparse
import errno
import fcntl
import json
import os
import signal
import sys
import termios
import threading
import time
import tty

# --- stdout is the command/reply protocol ------------------------------------
# Keep the real stdout for replies. Point fd 1 at stderr, so that nothing else
# can write into the protocol: not libosdp's default logger (it writes to stdout
# with puts() until the binding sets its logger up) and not a stray print().
_PROTO = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
os.dup2(2, 1)
sys.stdout = sys.stderr

try:
    import osdp  # PyPI "libosdp" (start-osdp.sh installs it into its venv)
except ImportError as e:  # pragma: no cover - depends on the interpreter
    print(f"osdp_pd: cannot import the libosdp binding ({e}); "
          "run it with $OSDP_PYTHON (tests/support/start-osdp.sh)", file=sys.stderr)
    sys.exit(1)

# Baud rates a PD may use (osdp_COMSET: 9600, 19200, 38400, 57600, 115200,
# 230400). A pty has no real line speed, but the rate is set on its termios,
# so a CP that reads it back sees what a reader at that speed would show.
BAUDS = {
    9600: termios.B9600, 19200: termios.B19200, 38400: termios.B38400,
    57600: termios.B57600, 115200: termios.B115200, 230400: termios.B230400,
}

# LED colour codes of osdp_LED (SIA OSDP v2.2, command 0x69, "On/Off Color"):
# 0 black (off), 1 red, 2 green, 3 amber, 4 blue, 5 magenta, 6 cyan, 7 white.
LED_COLORS = {0: "black", 1: "red", 2: "green", 3: "amber", 4: "blue",
              5: "magenta", 6: "cyan", 7: "white"}

# Tone codes of osdp_BUZ (command 0x6A): 0 no tone (deprecated), 1 off,
# 2 default tone, others are reserved.
BUZZER_TONES = {0: "none", 1: "off", 2: "default"}

COMMAND_NAMES = {
    osdp.Command.Output: "output",          # osdp_OUT 0x68
    osdp.Command.LED: "led",                # osdp_LED 0x69
    osdp.Command.Buzzer: "buzzer",          # osdp_BUZ 0x6A
    osdp.Command.Text: "text",              # osdp_TEXT 0x6B
    osdp.Command.Keyset: "keyset",          # osdp_KEYSET 0x75
    osdp.Command.Comset: "comset",          # osdp_COMSET 0x6E
    osdp.Command.Manufacturer: "mfg",       # osdp_MFG 0x80
    osdp.Command.FileTransfer: "file_tx",   # osdp_FILETRANSFER 0x7C
    osdp.Command.Status: "status",
    osdp.Command.ComsetDone: "comset_done",
}

# The largest card read that libosdp carries: OSDP_EVENT_CARDREAD_MAX_DATALEN
# = 64 bytes. The standard allows up to 1024 bits (PDCAP function 3, level 1).
MAX_CARD_BITS = 64 * 8

# PD identity, sent in osdp_PDID (reply 0x45): vendor code (3-byte IEEE OUI),
# model, version, serial number (4 bytes), firmware (major.minor.build).
# 02-CA-DE is a locally administered OUI, so it is no real vendor's code.
# libosdp puts the vendor code on the wire little-endian (bytes 02 CA DE).
VENDOR_CODE = 0xDECA02
MODEL = 0x01
VERSION = 0x01
FIRMWARE = (1, 0, 0)


def serial_number(address):
    """4-byte serial: 'C' 'D' 0x00 address (the CP reads it as 0x434400NN)."""
    return 0x43440000 | address


class PtyChannel(osdp.Channel):
    """libosdp channel on the master side of a pty, non-blocking.

    The C core calls read/write/flush from the PD's refresh thread. They must
    never raise: an exception would be left pending inside the C extension.
    """

    def __init__(self, master_fd):
        super().__init__()
        self.fd = master_fd
        # False while no process has the slave open. The master then reads
        # EIO, and a reply written now would wait in the pty and reach the
        # next CP to open it as stale bytes.
        self.peer_open = False

    def read(self, max_bytes):
        try:
            data = os.read(self.fd, max_bytes)
            self.peer_open = True
            return data
        except BlockingIOError:
            self.peer_open = True
            return b""
        except OSError as e:
            if e.errno != errno.EIO:
                print(f"osdp_pd: pty read: {e}", file=sys.stderr)
            self.peer_open = False
            return b""

    def write(self, buf):
        if not self.peer_open:
            return len(buf)  # nobody is listening on the bus: the bytes are lost
        try:
            return os.write(self.fd, buf)
        except BlockingIOError:
            return 0
        except OSError as e:
            print(f"osdp_pd: pty write: {e}", file=sys.stderr)
            return 0

    def flush(self):
        # libosdp flushes after a framing error: drop whatever is still unread.
        try:
            while os.read(self.fd, 1024):
                pass
        except OSError:
            pass


class CommandLog:
    """The --log file: one JSON object per CP command, flushed at once."""

    def __init__(self, path, address, echo=False):
        self.address = address
        self.echo = echo
        self.lock = threading.Lock()
        self.file = open(path, "a", encoding="utf-8") if path else None

    @staticmethod
    def _plain(value):
        if isinstance(value, (bytes, bytearray)):
            return value.hex()
        return value

    def record(self, cmd):
        code = cmd.get("command")
        rec = {"command": COMMAND_NAMES.get(code, code), "address": self.address,
               "ts": round(time.time(), 3)}
        for key, value in cmd.items():
            if key != "command":
                rec[key] = self._plain(value)
        if code == osdp.Command.LED:
            # The on colour of the setting the binding reported (temporary if
            # the temporary control code is not NOP, else permanent).
            rec["color"] = LED_COLORS.get(cmd.get("on_color"), str(cmd.get("on_color")))
            rec["off_color_name"] = LED_COLORS.get(cmd.get("off_color"), str(cmd.get("off_color")))
        elif code == osdp.Command.Buzzer:
            # osdp_BUZ "Count": how often the on/off cycle repeats; 0 means
            # until the next tone command.
            rec["count"] = cmd.get("rep_count")
            rec["tone"] = BUZZER_TONES.get(cmd.get("control_code"), "reserved")
        return rec

    def write(self, cmd):
        rec = self.record(cmd)
        line = json.dumps(rec, sort_keys=False, separators=(",", ":"))
        if self.echo:
            print(f"osdp_pd: CP command {line}", file=sys.stderr)
        if self.file:
            with self.lock:
                self.file.write(line + "\n")
                self.file.flush()

    def close(self):
        if self.file:
            self.file.close()


def bits_to_bytes(bits):
    """osdp_RAW data: the bits packed 8 per byte, left-justified: the first
    bit is the most significant bit of the first byte. The rest of the last
    byte is zero. There are ceil(bit_count/8) bytes (SIA OSDP v2.2 §7.10)."""
    n = len(bits)
    value = int(bits, 2) << ((8 - n % 8) % 8)
    return value.to_bytes((n + 7) // 8, "big")


def open_pty(baud):
    master, slave = os.openpty()
    slave_path = os.ttyname(slave)
    # Raw 8N1 line, as a serial port talking OSDP needs: no echo, no line
    # editing, no CR/LF translation, no flow control.
    tty.setraw(slave)
    attrs = termios.tcgetattr(slave)
    attrs[0] &= ~(termios.IXON | termios.IXOFF | termios.IXANY)
    attrs[2] = (attrs[2] & ~(termios.CSIZE | termios.PARENB | termios.CSTOPB
                             | termios.CRTSCTS)) | termios.CS8 | termios.CREAD | termios.CLOCAL
    attrs[4] = attrs[5] = BAUDS[baud]
    termios.tcsetattr(slave, termios.TCSANOW, attrs)
    # Don't keep the slave open. Then the master reads EIO while no CP has the
    # port open, and PtyChannel drops replies instead of queueing them for
    # the next CP. The termios settings stay with the pty while the master is
    # open. So does TIOCEXCL (serialport's default "exclusive" open): unless the
    # CP clears it (TIOCNXCL) before it closes, only root can reopen this pty.
    os.close(slave)
    flags = fcntl.fcntl(master, fcntl.F_GETFL)
    fcntl.fcntl(master, fcntl.F_SETFL, flags | os.O_NONBLOCK)
    return master, slave_path


def place_link(link, target):
    """Point `link` at `target` with one rename(2): no moment without PATH."""
    if os.path.lexists(link) and not os.path.islink(link):
        raise OSError(errno.EEXIST, "exists and is not a symlink", link)
    parent = os.path.dirname(os.path.abspath(link))
    os.makedirs(parent, exist_ok=True)
    tmp = os.path.join(parent, f".{os.path.basename(link)}.{os.getpid()}.tmp")
    if os.path.lexists(tmp):
        os.unlink(tmp)
    os.symlink(target, tmp)
    os.replace(tmp, link)


class Stop(Exception):
    pass


def parse_args(argv):
    p = argparse.ArgumentParser(prog="osdp_pd.py", description=__doc__.split("\n")[0])
    p.add_argument("--link", required=True, metavar="PATH",
                   help="symlink to create, pointing at the pty the CP opens")
    p.add_argument("--address", required=True, type=int, metavar="N",
                   help="PD address 0..126 (0x7F is the broadcast address)")
    p.add_argument("--baud", type=int, default=9600, choices=sorted(BAUDS))
    p.add_argument("--scbk", metavar="HEX32",
                   help="Secure Channel Base Key (16 bytes as 32 hex digits); "
                        "makes Secure Channel mandatory")
    p.add_argument("--log", metavar="FILE", help="append CP commands as JSON lines")
    p.add_argument("--verbose", action="store_true",
                   help="libosdp debug log and every CP command on stderr "
                        "(default: warnings and errors only)")
    args = p.parse_args(argv)
    if not 0 <= args.address <= 126:
        p.error("--address must be 0..126")
    if args.scbk is not None:
        try:
            key = bytes.fromhex(args.scbk)
        except ValueError:
            key = b""
        if len(key) != 16:
            p.error("--scbk must be exactly 32 hex digits (16 bytes)")
        args.scbk = key
    return args


def main(argv):
    args = parse_args(argv)
    if os.path.lexists(args.link) and not os.path.islink(args.link):
        print(f"osdp_pd: {args.link} exists and is not a symlink; not replacing it",
              file=sys.stderr)
        return 2
    log = CommandLog(args.log, args.address, echo=args.verbose)
    master, slave_path = open_pty(args.baud)
    channel = PtyChannel(master)

    flags = []
    if args.scbk is not None:
        # ENFORCE_SECURE: no plaintext application traffic; with a key set the
        # PD is not in install mode, so SCBK-D (the default key) is refused.
        flags.append(osdp.LibFlag.EnforceSecure)
    info = osdp.PDInfo(
        args.address, channel, scbk=args.scbk, name=f"door-{args.address}", flags=flags,
        id=osdp.PdId(version=VERSION, model=MODEL, vendor_code=VENDOR_CODE,
                     serial_number=serial_number(args.address),
                     firmware_version=(FIRMWARE[0] << 16) | (FIRMWARE[1] << 8) | FIRMWARE[2]))
    # osdp_PDCAP (reply 0x46): (function code, compliance level, number of items).
    # libosdp adds CRC-16 support, Secure Channel (AES-128), its receive buffer
    # size and "OSDP version 2 = SIA OSDP 2.2" itself.
    caps = osdp.PDCapabilities([
        (osdp.Capability.CardDataFormat, 1, 0),   # 1: card data as an array of bits
        (osdp.Capability.LEDControl, 4, 1),       # 4: timed commands, tri-colour; 1 LED
        (osdp.Capability.AudibleControl, 2, 1),   # 2: timed commands; 1 buzzer
    ])
    level = osdp.LogLevel.Debug if args.verbose else osdp.LogLevel.Warning
    pd = osdp.PeripheralDevice(info, caps, log_level=level)

    def on_command(cmd):
        rc = 0
        try:
            log.write(cmd)
        except Exception as e:  # noqa: BLE001 - must never raise into the C core
            print(f"osdp_pd: logging a command failed: {e}", file=sys.stderr)
        # 0 = ACK. Return a tuple built at run time, never the constant
        # (0, None): libosdp's pd_command_cb drops a reference to the tuple's
        # second item, which it does not own. A fresh tuple holds its own
        # reference to None and is never freed, so the count stays balanced.
        return (rc, None)

    # Replace the wrapper's handler (it keeps every command in an unbounded
    # queue and returns that constant tuple) with ours.
    pd.ctx.set_command_callback(on_command)

    def on_event_done(event, status):
        if args.verbose or status != osdp.CompletionStatus.Ok:
            print(f"osdp_pd: event {event.get('event')} completed, status {status}",
                  file=sys.stderr)

    pd.set_event_completion_handler(on_event_done)

    def stop(signum, _frame):
        raise Stop(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGHUP, stop)

    def reply(line):
        _PROTO.write(line + "\n")
        _PROTO.flush()

    try:
        pd.start()
        place_link(args.link, slave_path)
        if args.verbose:
            print(f"osdp_pd: PD address {args.address} on {slave_path} (link {args.link}), "
                  f"{args.baud} baud, secure channel "
                  f"{'required' if args.scbk else 'optional (install mode)'}", file=sys.stderr)
        reply(f"ready {args.link}")
        while True:
            line = sys.stdin.readline()
            if not line:
                break  # EOF: whoever drove us is gone
            words = line.split()
            if not words:
                reply("error empty command")
                continue
            cmd, rest = words[0].lower(), words[1:]
            if cmd == "quit":
                reply("ok quit")
                break
            elif cmd == "status":
                reply(f"ok online={int(pd.is_online())} sc_active={int(pd.is_sc_active())} "
                      f"tty={slave_path}")
            elif cmd == "card":
                if not rest or len(rest) > 2:
                    reply("error usage: card BITS [wiegand|raw]")
                    continue
                bits = rest[0]
                fmt = rest[1].lower() if len(rest) > 1 else "wiegand"
                if fmt not in ("wiegand", "raw"):
                    reply("error card format must be wiegand or raw")
                elif not bits or set(bits) - {"0", "1"}:
                    reply("error BITS must be a string of 0 and 1")
                elif len(bits) > MAX_CARD_BITS:
                    reply(f"error at most {MAX_CARD_BITS} bits")
                else:
                    data = bits_to_bytes(bits)
                    event = {
                        "event": osdp.Event.CardRead,
                        "reader_no": 0,   # osdp_RAW "reader number": 0 = this reader
                        # osdp_RAW format code: 0x01 P/data/P (Wiegand), 0x00 unspecified
                        "format": osdp.CardFormat.Wiegand if fmt == "wiegand"
                        else osdp.CardFormat.Unspecified,
                        "direction": 0,   # osdp_RAW has no direction field
                        "length": len(bits),  # bit count (u16 LSB first on the wire)
                        "data": data,
                    }
                    if pd.submit_event(event):
                        reply(f"ok card bits={len(bits)} format={fmt} data={data.hex()} "
                              f"online={int(pd.is_online())}")
                    else:
                        reply("error libosdp refused the event (queue full?)")
            else:
                reply(f"error unknown command {cmd!r} (card BITS | status | quit)")
    except Stop as e:
        print(f"osdp_pd: {e}, exiting", file=sys.stderr)
    except BrokenPipeError:
        pass
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        if pd.thread:
            pd.teardown()
        os.close(master)
        log.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
