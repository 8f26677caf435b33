#!/usr/bin/env bash
# Build the offline site package: target/debian/carddesk_VERSION_amd64.deb
#
#   bash packaging/build-deb.sh
#
# Needs the Rust toolchain and cargo-deb (installed here with
# `cargo install cargo-deb --locked` if missing: that one step needs
# crates.io; installing and running the package needs no network).
# The man pages and icons are made from the code first
# (examples/package_files.rs), then `cargo deb` builds the release binary
# and the package from [package.metadata.deb] in Cargo.toml.
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"
log() { echo "[build-deb] $*"; }

CARGO_DEB_VERSION=3.8.0
if ! cargo deb --version >/dev/null 2>&1; then
  log "installing cargo-deb $CARGO_DEB_VERSION"
  cargo install cargo-deb --locked --version "$CARGO_DEB_VERSION"
fi

log "man pages and icons → target/package-files"
cargo run --quiet --release --example package_files -- target/package-files
log "release build"
cargo build --release --locked --bin carddesk
log "cargo deb"
cargo deb --no-build --output target/debian/
ls -1 target/debian/carddesk_*.deb
