#!/usr/bin/env bash
# Run inside `dbus-run-session` (a private session bus) under an X server:
# starts a real StatusNotifierWatcher (status-notifier-watcher, Debian's
# haskell-status-notifier-item-utils), then CardDesk with the arguments
# given, and reports what a desktop's tray would see, one fact per line:
#   item NAME            the StatusNotifierItem CardDesk registered
#   tooltip TEXT         the item's tooltip text
#   window STATE         the CardDesk window's X map state (IsViewable, IsUnMapped)
#   activated            after calling Activate on the item as a click does
#   window STATE         the map state after the click
# Usage: [EXPECT_TOOLTIP=TEXT] [NO_WATCHER=1] tray_session.sh CARDDESK_BINARY ARGS...
# (NO_WATCHER=1: a desktop without a tray, e.g. GNOME without the
# AppIndicator extension: no StatusNotifierWatcher is started)
# (waits up to 10 s for the tooltip to hold TEXT before reporting it)
set -uo pipefail
bin=$1; shift
watcher=""
if [ "${NO_WATCHER:-0}" != 1 ]; then
  status-notifier-watcher >/dev/null 2>&1 & watcher=$!
  for _ in $(seq 1 50); do
    busctl --user list 2>/dev/null | grep -q org.kde.StatusNotifierWatcher && break; sleep 0.1
  done
fi
trap 'kill $app $watcher 2>/dev/null' EXIT
"$bin" "$@" 2>/dev/null & app=$!
item=""
for _ in $(seq 1 100); do
  item=$(busctl --user list 2>/dev/null | awk '/StatusNotifierItem-/ {print $1; exit}')
  [ -n "$item" ] && break; sleep 0.1
done
[ -n "$item" ] || { echo "no item"; exit 1; }
echo "item $item"
window_state() {
  local id
  id=$(xwininfo -root -tree | awk '/"CardDesk/ {print $1; exit}')
  [ -n "$id" ] && xwininfo -id "$id" | awk '/Map State/ {print $3}'
}
tooltip() {
  # (sa(iiay)ss): icon name, icon pixmaps, title, description (the text).
  busctl --user --json=short get-property "$item" /StatusNotifierItem \
    org.kde.StatusNotifierItem ToolTip | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"][3])'
}
for _ in $(seq 1 100); do
  t=$(tooltip 2>/dev/null); [[ "$t" == *"${EXPECT_TOOLTIP:-}"* && -n "$t" ]] && break; sleep 0.1
done
echo "tooltip $t"
# The window hides on its second frame (if it is to hide: wait 3 s).
for _ in $(seq 1 30); do [ "$(window_state)" = IsUnMapped ] && break; sleep 0.1; done
echo "window $(window_state)"
busctl --user call "$item" /StatusNotifierItem org.kde.StatusNotifierItem Activate ii 0 0
echo activated
for _ in $(seq 1 50); do [ "$(window_state)" = IsViewable ] && break; sleep 0.1; done
echo "window $(window_state)"
