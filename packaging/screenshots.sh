#!/usr/bin/env bash
# Screenshots of the real desk window for the README: runs CardDesk in
# --demo mode under Xvfb and saves assets/screenshots/{main-window,
# card-requests,connect-card,print-cards,operators,cardholder-record,
# connect-walk,temp-cards,pin-letters}.png. Needs xvfb and imagemagick
# (packaging/setup-debian.sh installs them).
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"
OUT="$REPO_ROOT/assets/screenshots"
mkdir -p "$OUT"
cargo build --quiet
BIN="${CARDDESK_BIN:-$REPO_ROOT/target/debug/carddesk}"
WORK="$(mktemp -d)"
DISPLAY_NUM=":$((90 + RANDOM % 9))"
Xvfb "$DISPLAY_NUM" -screen 0 1280x800x24 >/dev/null 2>&1 &
XVFB=$!
trap 'kill $XVFB 2>/dev/null || true; rm -rf "$WORK"' EXIT
sleep 1
shoot() { # NAME OPEN [SECONDS]
  DISPLAY="$DISPLAY_NUM" "$BIN" --demo --db "$WORK/demo.db" --open "$2" >"$WORK/$1.log" 2>&1 &
  local app=$!
  sleep "${3:-${SHOT_DELAY:-6}}"
  DISPLAY="$DISPLAY_NUM" import -window root "$OUT/$1.png"
  kill "$app" 2>/dev/null || true
  wait "$app" 2>/dev/null || true
  echo "saved $OUT/$1.png"
}
# The first start seeds the demo database; later ones reuse it.
shoot main-window main
shoot card-requests card-requests
shoot connect-card connect-card
shoot print-cards print-cards
shoot operators operators
shoot cardholder-record record
shoot connect-walk connect-walk
shoot temp-cards temp-cards
shoot pin-letters pin-letters 16 # the simulated printer takes a moment per card
