#!/usr/bin/env bash
# Make the OSDP door-reader double usable; idempotent. Starts no daemon: each
# test runs its own readers ($OSDP_PYTHON $OSDP_PD --link PATH --address N).
# Creates $HARNESS_STATE/osdp-venv with Debian's python3 and installs the PyPI
# binding libosdp (pinned: its C core is the one in the Rust crate
# libosdp-sys 3.2.7). Then starts osdp_pd.py once on a temporary link, waits
# for "ready", asks "status" and sends "quit".
HERE="$(cd "$(dirname "$0")" && pwd)"; . "$HERE/_lib.sh"
LIBOSDP_VERSION=3.2.7
VENV="$HARNESS_STATE/osdp-venv"
PY="$VENV/bin/python"

ensure_pkgs "/usr/bin/python3 -m ensurepip --version" python3 python3-venv

have_libosdp() {
  "$PY" - "$LIBOSDP_VERSION" <<'PY'
import sys
from importlib.metadata import version
import osdp  # noqa: F401
sys.exit(0 if version("libosdp") == sys.argv[1] else 1)
PY
}

if [ -x "$PY" ] && have_libosdp >/dev/null 2>&1; then
  log "libosdp $LIBOSDP_VERSION already in $VENV"
else
  if [ -e "$VENV" ] && ! "$PY" -c 'import sys' >/dev/null 2>&1; then
    log "$VENV is broken; recreating it"
    rm -rf "$VENV"
  fi
  [ -x "$PY" ] || /usr/bin/python3 -m venv "$VENV" >>"$LOGDIR/osdp-pip.log" 2>&1 \
    || die "python3 -m venv $VENV failed, see $LOGDIR/osdp-pip.log"
  log "installing libosdp==$LIBOSDP_VERSION into $VENV"
  "$PY" -m pip install --disable-pip-version-check --no-input -q "libosdp==$LIBOSDP_VERSION" \
      >>"$LOGDIR/osdp-pip.log" 2>&1 \
    || die "pip install libosdp==$LIBOSDP_VERSION failed, see $LOGDIR/osdp-pip.log"
  have_libosdp >>"$LOGDIR/osdp-pip.log" 2>&1 \
    || die "libosdp==$LIBOSDP_VERSION installed but 'import osdp' fails in $PY (see $LOGDIR/osdp-pip.log)"
fi

# Self-check: one reader on a temporary link, driven through its stdin/stdout
# (two FIFOs in a temporary directory, removed again on exit).
tmp="$(mktemp -d)"
pd_pid=""
cleanup() {
  if [ -n "$pd_pid" ] && kill -0 "$pd_pid" 2>/dev/null; then kill -TERM "$pd_pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
link="$tmp/reader"
mkfifo "$tmp/in" "$tmp/out"
: >"$LOGDIR/osdp-selfcheck.log"
"$PY" "$HERE/osdp_pd.py" --link "$link" --address 1 <"$tmp/in" >"$tmp/out" 2>>"$LOGDIR/osdp-selfcheck.log" &
pd_pid=$!
exec {pd_in}>"$tmp/in" {pd_out}<"$tmp/out"
fail() { tail -20 "$LOGDIR/osdp-selfcheck.log" >&2 || true; die "self-check: $*"; }
read -r -t 20 line <&"$pd_out" || fail "osdp_pd.py printed no 'ready' line (it exited, or 20 s passed)"
[ "$line" = "ready $link" ] || fail "expected 'ready $link', got '$line'"
[ -L "$link" ] && [ -c "$link" ] || fail "$link is not a symlink to a terminal device"
echo status >&"$pd_in"
read -r -t 10 line <&"$pd_out" || fail "no answer to 'status'"
case "$line" in "ok online=0 "*) ;; *) fail "unexpected answer to 'status': '$line'" ;; esac
echo quit >&"$pd_in"
read -r -t 10 line <&"$pd_out" || fail "no answer to 'quit'"
[ "$line" = "ok quit" ] || fail "unexpected answer to 'quit': '$line'"
exec {pd_in}>&- {pd_out}<&-
rc=0; wait "$pd_pid" || rc=$?
pd_pid=""
[ "$rc" = 0 ] || fail "osdp_pd.py exited with $rc after 'quit'"
log "ready: OSDP door reader: $PY $HERE/osdp_pd.py --link PATH --address N [--scbk HEX32] [--log FILE]"
