#!/usr/bin/env bash
# Prepare a Debian 12 (bookworm) machine to build, run and test CardDesk.
#
#   packaging/setup-debian.sh          install the system packages (idempotent)
#   packaging/setup-debian.sh --test   ... and start the test services:
#                                      pcscd + vpcd ("Virtual PCD 00 00"),
#                                      CUPS queue CardPrinter, SMTP sink on
#                                      127.0.0.1:8025, OSDP door-reader
#                                      double (venv with PyPI libosdp),
#                                      PostgreSQL 15 on 127.0.0.1:55432
#                                      (see tests/support/)
#
# Needs root; re-runs itself through sudo when started as another user.
# apt-get update + install only happen when a package is missing, so a second
# run is quick and works offline. The Rust toolchain is NOT installed here:
# Debian's own cargo/rustc are too old, install it with rustup.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SELF="$REPO_ROOT/packaging/setup-debian.sh"
SUPPORT="$REPO_ROOT/tests/support"

PACKAGES=(
  # build
  build-essential pkg-config libpcsclite-dev
  # smart-card reader (virtual): pcscd + vsmartcard vpcd driver + pcsc_scan/scriptor
  pcscd vsmartcard-vpcd pcsc-tools
  # card printer (virtual): CUPS + cups-pdf
  cups cups-client cups-ipp-utils printer-driver-cups-pdf ghostscript
  # SMTP sink
  python3 python3-aiosmtpd
  # OSDP door-reader double: start-osdp.sh makes a venv with PyPI libosdp
  python3-venv
  # the PostgreSQL store backend: a throwaway cluster (start-postgres.sh)
  postgresql-15 postgresql-client-15 openssl
  # the tray: a real StatusNotifierWatcher on a private session bus, busctl
  # to read the item and click it, xwininfo for the window's map state
  haskell-status-notifier-item-utils dbus systemd x11-utils
  # checking the site package (packaging/check-deb.sh)
  lintian desktop-file-utils
  # checking printed badges (pdftotext/pdftoppm, zbarimg, convert)
  poppler-utils zbar-tools imagemagick
  # benches/badge_render.rs renders the same badges with glabels-3-batch
  glabels
  # GUI runtime (egui/eframe over X11/GL) and a headless X server for tests
  xvfb xauth libxkbcommon-x11-0 libgl1-mesa-dri libegl1 libx11-6 libxcursor1
  libxrandr2 libxi6 mesa-vulkan-drivers fonts-dejavu-core
)

log() { echo "[setup-debian] $*"; }
die() { echo "[setup-debian] ERROR: $*" >&2; exit 1; }

usage() { sed -n '2,15p' "$SELF" | sed 's/^# \{0,1\}//'; }

WITH_TEST=0
for arg in "$@"; do
  case "$arg" in
    --test) WITH_TEST=1 ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $arg" ;;
  esac
done

# --- Rust toolchain (checked as the calling user, before any sudo) ----------
if [ "${CARDDESK_SETUP_AS_ROOT:-0}" != 1 ]; then
  if ! command -v cargo >/dev/null 2>&1; then
    cat >&2 <<'MSG'
[setup-debian] ERROR: `cargo` is not on PATH.
  CardDesk needs a current Rust toolchain installed with rustup
  (Debian 12's own cargo/rustc packages are too old for this project):
      curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh
      . "$HOME/.cargo/env"
      rustup component add rustfmt clippy
  Then run this script again.
MSG
    exit 1
  fi
  # Compare rustc with Cargo.toml's rust-version (if both are known).
  need=$(sed -n 's/^rust-version *= *"\([0-9.]*\)".*/\1/p' "$REPO_ROOT/Cargo.toml" 2>/dev/null | head -1 || true)
  have=$(rustc --version 2>/dev/null | awk '{print $2}' | sed 's/-.*//' || true)
  if [ -n "$need" ] && [ -n "$have" ] \
     && [ "$(printf '%s\n%s\n' "$need" "$have" | sort -V | head -1)" != "$need" ]; then
    die "rustc $have is older than the rust-version $need in Cargo.toml; run 'rustup update stable'"
  fi
  log "Rust toolchain: $(command -v cargo)${have:+ (rustc $have)}"
fi

# --- become root ------------------------------------------------------------
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null 2>&1 || die "must run as root (sudo is not installed)"
  log "not root: re-running through sudo"
  envs=(CARDDESK_SETUP_AS_ROOT=1)
  for v in HARNESS_STATE CARD_QUEUE CARD_PDF_DIR SMTP_PORT SMTP_DIR PCSCD_DEBUG PG_PORT PG_PASSWORD; do
    [ -n "${!v:-}" ] && envs+=("$v=${!v}")
  done
  exec sudo -- env "${envs[@]}" bash "$SELF" "$@"
fi

# --- system packages ----------------------------------------------------------
export DEBIAN_FRONTEND=noninteractive
APT_OPTS=(-y -q -o DPkg::Lock::Timeout=300)
command -v apt-get >/dev/null 2>&1 || die "apt-get not found: this script is for Debian 12"
if [ -r /etc/os-release ]; then
  . /etc/os-release
  [ "${ID:-}" = debian ] && [ "${VERSION_ID:-}" = 12 ] \
    || log "WARNING: written for Debian 12, this is ${PRETTY_NAME:-unknown}; trying anyway"
fi

is_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed'; }

missing=()
for p in "${PACKAGES[@]}"; do is_installed "$p" || missing+=("$p"); done

if [ ${#missing[@]} -eq 0 ]; then
  log "all ${#PACKAGES[@]} system packages already installed"
else
  log "missing packages: ${missing[*]}"
  log "apt-get update"
  apt-get update -q -o DPkg::Lock::Timeout=300 || die "apt-get update failed"
  install=()
  for p in "${missing[@]}"; do
    cand=$(apt-cache policy "$p" 2>/dev/null | awk '/Candidate:/ {print $2}')
    if [ -z "$cand" ] || [ "$cand" = "(none)" ]; then
      log "WARNING: package '$p' does not exist in the configured apt sources; skipped"
    else
      install+=("$p")
    fi
  done
  if [ ${#install[@]} -gt 0 ]; then
    log "apt-get install ${install[*]}"
    apt-get install "${APT_OPTS[@]}" "${install[@]}" \
      || die "apt-get install failed"
  fi
fi

if [ "$WITH_TEST" != 1 ]; then
  log "done (run with --test to start the test services)"
  exit 0
fi

# --- test services ----------------------------------------------------------
failed=()
for s in start-pcsc.sh start-cups.sh start-smtp.sh start-osdp.sh start-postgres.sh; do
  log "running tests/support/$s"
  if ! bash "$SUPPORT/$s"; then
    failed+=("$s")
  fi
done
[ ${#failed[@]} -eq 0 ] || die "could not start: ${failed[*]} (logs: ${HARNESS_STATE:-/tmp/carddesk-harness}/logs/)"

# Cross-check the services the way a test would see them.
. "$SUPPORT/env.sh"
problems=()
pcsc_scan -r 2>/dev/null | grep -qF "$PCSC_READER" \
  || problems+=("PC/SC reader '$PCSC_READER' not listed by 'pcsc_scan -r'")
lpstat -p "$CARD_QUEUE" 2>/dev/null | grep -q "enabled" \
  || problems+=("CUPS queue $CARD_QUEUE is missing or disabled ('lpstat -p $CARD_QUEUE')")
lpstat -a "$CARD_QUEUE" 2>/dev/null | grep -q "accepting requests" \
  || problems+=("CUPS queue $CARD_QUEUE is not accepting jobs")
/usr/bin/python3 - "$SMTP_HOST" "$SMTP_PORT" <<'PY' || problems+=("SMTP sink does not answer on $SMTP_HOST:$SMTP_PORT")
import smtplib, sys
s = smtplib.SMTP(sys.argv[1], int(sys.argv[2]), timeout=5)
code, _ = s.noop()
s.quit()
sys.exit(0 if code == 250 else 1)
PY
[ -f "$OSDP_PD" ] && "$OSDP_PYTHON" -c 'import osdp' >/dev/null 2>&1 \
  || problems+=("OSDP door reader: '$OSDP_PYTHON' cannot import osdp, or $OSDP_PD is missing")
PGCONNECT_TIMEOUT=5 /usr/lib/postgresql/15/bin/psql -X -w -At "$CARDDESK_TEST_POSTGRES" \
    -c "SELECT rolcreatedb FROM pg_roles WHERE rolname = current_user" 2>/dev/null | grep -qx t \
  || problems+=("PostgreSQL: cannot log in with CARDDESK_TEST_POSTGRES (127.0.0.1:$PG_PORT) as a role with CREATEDB")
if [ ${#problems[@]} -gt 0 ]; then
  for p in "${problems[@]}"; do echo "[setup-debian] ERROR: $p" >&2; done
  die "test services started but are not usable"
fi
log "test services ready: reader '$PCSC_READER', queue $CARD_QUEUE -> $CARD_PDF_DIR, smtp://$SMTP_HOST:$SMTP_PORT -> $SMTP_DIR, OSDP reader double $OSDP_PD ($OSDP_PYTHON), PostgreSQL 127.0.0.1:$PG_PORT"
