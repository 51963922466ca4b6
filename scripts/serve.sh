#!/usr/bin/env bash
# One command to try the helper with no Kommo account: installs what is missing, builds the page, then starts the
# exchange proxy (serving the page on the same origin) and the local Kommo double, and prints one URL to open.
#   scripts/serve.sh                       page + proxy on 127.0.0.1:8080, Kommo double on 127.0.0.1:8081
#   PORT=9000 DOUBLE_PORT=9001 scripts/serve.sh
#   scripts/serve.sh --no-double           page + proxy only, forwarding to real Kommo/amoCRM account hosts
# Ctrl-C stops everything it started.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export PATH="$HOME/.cargo/bin:$root/.tools/node_modules/.bin:$PATH"

step() { printf '\n==> %s\n' "$*" >&2; }

step "checking tools (the first run installs Trunk and the wasm-bindgen CLI: ~15 minutes, once)"
scripts/ensure-tools.sh

step "building the page (release; the first build takes a few minutes)"
trunk build --release --offline 2>&1 | sed -u 's/^/[trunk] /'

step "building the demo server (proxy + Kommo double)"
cargo build --release -p kommo-demo 2>&1 | sed -u 's/^/[cargo] /'

step "starting"
exec target/release/kommo-demo --static dist "$@"
