#!/usr/bin/env bash
# CardDesk test harness: start pcscd (no systemd) with the vsmartcard vpcd driver; idempotent.
# Readers: "Virtual PCD 00 00" (card socket 127.0.0.1:35963 - note: vpcd binds
# 0.0.0.0) and "Virtual PCD 00 01" (35964). Env: PCSCD_DEBUG=1 for -d logging.
HERE="$(cd "$(dirname "$0")" && pwd)"; . "$HERE/_lib.sh"
VPCD_PORT=35963

ensure_pkgs "command -v pcscd && test -e /usr/lib/pcsc/drivers/serial/libifdvpcd.so && test -f /etc/reader.conf.d/vpcd && test -e /usr/include/PCSC/winscard.h && command -v pcsc_scan" \
  pcscd vsmartcard-vpcd libpcsclite-dev pcsc-tools

if pid=$(our_pid pcscd); then
  log "pcscd already running (pid=$pid, started by this harness)"
elif pgrep_out=$(ps -eo pid=,stat=,comm= | awk '$3=="pcscd" && $2 !~ /^Z/ {print $1}') && [ -n "$pgrep_out" ]; then
  if port_listening $VPCD_PORT; then
    log "WARNING: using a pcscd NOT started by this harness (pid $pgrep_out); it has vpcd loaded. stop-all.sh will not stop it."
  else
    die "a pcscd not started by this harness is running (pid $pgrep_out) without the vpcd driver (nothing listens on $VPCD_PORT). Stop it (e.g. 'systemctl stop pcscd.socket pcscd') and re-run."
  fi
else
  port_listening $VPCD_PORT && die "port $VPCD_PORT is in use by another program; vpcd cannot listen"
  mkdir -p /run/pcscd
  if [ "${PCSCD_DEBUG:-0}" = 1 ]; then lvl=-d; else lvl=-i; fi
  start_bg pcscd "pcscd" "$(command -v pcscd)" --foreground $lvl
fi
wait_for 15 "vpcd to listen on port $VPCD_PORT" port_listening $VPCD_PORT
wait_for 15 "pcscd socket /run/pcscd/pcscd.comm" test -S /run/pcscd/pcscd.comm
log "ready: readers 'Virtual PCD 00 00' (port 35963) and 'Virtual PCD 00 01' (port 35964)"
log "insert a card: $HERE/present_card.py --uid 04A1B2C3D4E5F6 --seconds 5"
