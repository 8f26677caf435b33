#!/usr/bin/env bash
# The site package, checked as a site would meet it (run by
# tests/support/run-tests.sh after the tests; needs root and the services
# packaging/setup-debian.sh --test starts):
#
#   1. builds target/debian/carddesk_*.deb (packaging/build-deb.sh)
#   2. desktop-file-validate on both .desktop files; lintian: no errors
#   3. installs it with apt, offline (in a network namespace with no network)
#   4. as a non-root user: carddesk --version, carddesk doctor, a scripted
#      init + request count on a fresh database, doctor again as its admin
#   5. the installed window under Xvfb on a new database shows the first-run
#      set-up (its log says so); screenshot in target/debian/first-run.png
#   6. dpkg -r: every file the package installed is gone but its conffile
#      (the autostart entry, kept until purge as Debian does); dpkg --purge:
#      that too; the user's database stays
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"
log() { echo "[check-deb] $*"; }
die() { echo "[check-deb] FAILED: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (it installs the package)"
USER_NAME=carddesk-site
PASSWORD='site-admin-password-1'

bash packaging/build-deb.sh
deb=$(ls -1t target/debian/carddesk_*_amd64.deb | head -1)
log "package: $deb ($(du -h "$deb" | cut -f1))"

log "desktop-file-validate"
desktop-file-validate packaging/deb/carddesk.desktop packaging/deb/carddesk-tray.desktop \
  || die "desktop-file-validate"

log "lintian"
command -v lintian >/dev/null || die "lintian is not installed (packaging/setup-debian.sh --test installs it)"
lintian --allow-root --tag-display-limit 0 --fail-on error "$deb" || die "lintian reports errors"

if dpkg -s carddesk >/dev/null 2>&1; then
  log "removing an earlier install"
  dpkg -r carddesk >/dev/null
fi
log "apt install (offline)"
# A copy _apt can read, so apt does not fall back to an unsandboxed fetch.
staged=$(mktemp -d /tmp/carddesk-deb.XXXXXX)
cp "$deb" "$staged/"
chmod 755 "$staged"; chmod 644 "$staged"/*.deb
# In a network namespace of its own with no interfaces: if apt had to fetch
# anything, it would fail. (Recommends are left out: they are optional, and
# the test machine need not have them.)
unshare --net -- apt-get install -y -q --no-install-recommends "$staged/$(basename "$deb")" \
  || die "apt install of $deb without network"
rm -rf "$staged"
installed_files=$(dpkg -L carddesk)

if ! id "$USER_NAME" >/dev/null 2>&1; then
  useradd --create-home --shell /bin/bash "$USER_NAME"
fi
home=$(getent passwd "$USER_NAME" | cut -d: -f6)
rm -rf "$home/.local/share/carddesk" "$home/.config/carddesk" "$home/fresh"
as_user() { runuser -u "$USER_NAME" -- env -i HOME="$home" PATH=/usr/bin:/bin LANG=C.UTF-8 "$@"; }

log "as $USER_NAME: carddesk --version"
version=$(as_user carddesk --version) || die "carddesk --version"
echo "$version"
expected="carddesk $(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)"
[ "$version" = "$expected" ] || die "--version said '$version', expected '$expected'"

log "as $USER_NAME: carddesk doctor (no database yet)"
as_user carddesk doctor || die "carddesk doctor on a new machine"

log "as $USER_NAME: scripted init + request count"
printf '%s\n' "$PASSWORD" | as_user carddesk init --admin siteadmin || die "carddesk init"
count=$(as_user env CARDDESK_PASSWORD="$PASSWORD" carddesk --operator siteadmin request count) \
  || die "carddesk request count"
[ "$count" = 0 ] || die "request count on a new database printed '$count', expected 0"
db="$home/.local/share/carddesk/carddesk.db"
[ -f "$db" ] || die "the database is not where the README says ($db)"
[ "$(stat -c %a "$db")" = 600 ] || die "$db is $(stat -c %a "$db"), expected 600"
[ "$(stat -c %a "$(dirname "$db")")" = 700 ] || die "$(dirname "$db") is not 700"

log "as $USER_NAME: carddesk doctor --operator siteadmin"
as_user env CARDDESK_PASSWORD="$PASSWORD" carddesk --operator siteadmin doctor \
  || die "carddesk doctor with the administrator"

log "as $USER_NAME: the window on a new database, under Xvfb"
shot="$REPO_ROOT/target/debian/first-run.png"
rm -f "$shot"
# The folder is left for the window to create (0700), as on a first start.
window_log=$(mktemp)
chmod 666 "$window_log"
runuser -u "$USER_NAME" -- env -i HOME="$home" PATH=/usr/bin:/bin LANG=C.UTF-8 \
  RUST_LOG=carddesk=info xvfb-run -a -s "-screen 0 1280x800x24" \
  bash -c 'carddesk --db "$HOME/fresh/carddesk.db" 2>"$0" & app=$!
           for _ in $(seq 1 60); do grep -q "first-run set-up" "$0" && break; sleep 0.5; done
           sleep 3; import -window root "$1"; kill $app; wait $app 2>/dev/null || true' \
  "$window_log" "$home/first-run.png" || true
cat "$window_log"
grep -q "first-run set-up" "$window_log" || die "the installed window did not show the first-run set-up"
# Read as that user: root follows no link the user may have left there.
runuser -u "$USER_NAME" -- cat "$home/first-run.png" > "$shot" \
  || die "no screenshot at $home/first-run.png"
rm -f "$window_log"
log "screenshot: $shot"

log "dpkg -r carddesk"
# Debian keeps a removed package's conffiles (here the autostart entry in
# /etc) until it is purged; every other file must be gone.
conffiles=$(dpkg-query -W -f='${Conffiles}\n' carddesk | awk 'NF {print $1}')
dpkg -r carddesk >/dev/null || die "dpkg -r"
left=""
while IFS= read -r f; do
  if { [ -f "$f" ] || [ -L "$f" ]; } && ! grep -qxF "$f" <<<"$conffiles"; then left="$left $f"; fi
done <<<"$installed_files"
[ -z "$left" ] || die "files left after dpkg -r:$left"
log "dpkg --purge carddesk (its conffiles: $(echo $conffiles))"
dpkg --purge carddesk >/dev/null || die "dpkg --purge"
while IFS= read -r f; do
  if [ -f "$f" ] || [ -L "$f" ]; then left="$left $f"; fi
done <<<"$installed_files"
[ -z "$left" ] || die "files left after dpkg --purge:$left"
[ -f "$db" ] || die "removing the package removed the user's database"
log "ok: built, validated, installed offline, used as $USER_NAME, removed cleanly"
