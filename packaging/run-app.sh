#!/usr/bin/env bash
# Run CardDesk from source: install the system packages if needed
# (packaging/setup-debian.sh), then `cargo run --release -- ARGS...`.
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"
bash packaging/setup-debian.sh
exec cargo run --release -- "$@"
