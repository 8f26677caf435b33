#!/usr/bin/env bash
# THE CardDesk test command (what .ci/run and the README use):
#   bash tests/support/run-tests.sh [extra cargo test args]
# 1. packaging/setup-debian.sh --test: system packages + test services
#    (virtual card reader, card printer queue, SMTP sink); fails if any is down
# 2. exports where those services are (tests/support/env.sh)
# 3. cargo fmt --check, cargo clippy --all-targets -- -D warnings, cargo test
#    (every test on SQLite), then the desk, CLI, race and window tests again
#    on the harness' PostgreSQL server (CARDDESK_TEST_BACKEND=postgres)
# 4. packaging/check-deb.sh: builds the .deb, lintian, installs it offline,
#    uses it as a non-root user, removes it (RUN_TESTS_NO_DEB=1 skips it)
# Exits with the first failing step's code.
# Without DISPLAY/WAYLAND_DISPLAY, cargo test runs under xvfb-run
# (RUN_TESTS_NO_XVFB=1 to turn that off).
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$REPO_ROOT"

log() { echo "[run-tests] $*"; }

bash packaging/setup-debian.sh --test || { rc=$?; log "FAILED: packaging/setup-debian.sh --test (exit $rc)" >&2; exit "$rc"; }

# shellcheck source=tests/support/env.sh
. tests/support/env.sh
export CARDDESK_DEVICE_TESTS=1   # the services above are up
log "HARNESS_STATE=$HARNESS_STATE CARD_QUEUE=$CARD_QUEUE CARD_PDF_DIR=$CARD_PDF_DIR"
log "SMTP=$SMTP_HOST:$SMTP_PORT SMTP_DIR=$SMTP_DIR PCSC_READER='$PCSC_READER'"

step() {
  log "\$ $*"
  "$@" || { rc=$?; log "FAILED (exit $rc): $*" >&2; exit "$rc"; }
}
step cargo fmt --check
step cargo clippy --all-targets -- -D warnings

log "\$ cargo test $*"
runner=()
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ] \
   && [ "${RUN_TESTS_NO_XVFB:-0}" != 1 ] && command -v xvfb-run >/dev/null 2>&1; then
  runner=(xvfb-run -a -s "-screen 0 1600x1200x24")
fi
out="$(mktemp)"
set +e
"${runner[@]}" cargo test "$@" 2>&1 | tee "$out"
rc=${PIPESTATUS[0]}
set -e
# One closing line with the totals over every test binary.
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { printf "%d passed, %d failed\n", p, f }' "$out"
[ "$rc" = 0 ] || { rm -f "$out"; exit "$rc"; }

# The same tests on the other backend: each test's database is a new one on
# the throwaway PostgreSQL server (start-postgres.sh). Not the tests that
# touch no database (formats, i18n, the reader, the tray) nor migrate_to
# (SQLite to the server whatever the backend).
pg_tests=()
for t in audit_trail badges card_requests cli cli_privileges crash credential_lifecycle \
         door_reader hostile_input mail operators printing races scale shared_server \
         site_secrets temp_cards ui_batch_orders ui_desk ui_records ui_security ui_temp_cards; do
  pg_tests+=(--test "$t")
done
log "\$ CARDDESK_TEST_BACKEND=postgres cargo test ${pg_tests[*]} $*"
set +e
CARDDESK_TEST_BACKEND=postgres "${runner[@]}" cargo test "${pg_tests[@]}" "$@" 2>&1 | tee -a "$out"
rc=${PIPESTATUS[0]}
set -e
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { printf "both backends: %d passed, %d failed\n", p, f }' "$out"
rm -f "$out"
[ "$rc" = 0 ] || exit "$rc"
if [ "${RUN_TESTS_NO_DEB:-0}" = 1 ]; then
  log "packaging/check-deb.sh skipped (RUN_TESTS_NO_DEB=1)"
elif [ "$(id -u)" != 0 ]; then
  # It installs and removes a package and adds a user: root only.
  log "packaging/check-deb.sh skipped: it needs root (CI runs as root; run: sudo bash packaging/check-deb.sh)"
else
  step bash packaging/check-deb.sh
fi
