#!/usr/bin/env bash
# Runs every test: the page-size ceiling, native unit and integration tests (core, proxy, Kommo double, demo wiring),
# the end-to-end tests that drive the built page in headless Chromium against the proxy and the double, every env
# block format read back by the real parsers of its tools (scripts/env-parsers/run.sh), Vercel's own
# build of the deployment (scripts/vercel-build.sh), and the wasm-bindgen browser tests of the page's components in
# headless Chromium. Installs what is missing first.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export PATH="$HOME/.cargo/bin:$root/.tools/node_modules/.bin:$PATH"
export CHROMEDRIVER=${CHROMEDRIVER:-/usr/bin/chromedriver}

step() { printf '\n==> %s\n' "$*" >&2; }

step "checking tools"
scripts/ensure-tools.sh --browser

step "building the release page into dist/ (the end-to-end tests drive it)"
trunk build --release --offline

failed=()
step "page size: the first load must not grow past the ceiling in scripts/size.sh"
scripts/size.sh --no-build --ceiling | tail -n 3 || failed+=("size")

step "native tests: core, proxy, Kommo double, end to end in headless Chromium"
KOMMO_E2E_DIST="$root/dist" cargo test --workspace --exclude kommo-oauth-helper --no-fail-fast || failed+=("native/e2e")

step "env blocks read back by the real parsers: python-dotenv, npm dotenv, dotenv-expand, @next/env, node, bash, sh, docker, vercel, gh"
scripts/env-parsers/run.sh || failed+=("env-parsers")

step "Vercel's own build of the page and the exchange function (vercel build, checked)"
scripts/vercel-build.sh || failed+=("vercel")

step "browser tests of the page's components (wasm-bindgen-test in headless Chromium)"
cargo test -p kommo-oauth-helper --target wasm32-unknown-unknown || failed+=("browser")

if [ ${#failed[@]} -gt 0 ]; then
  printf '\nFAILED: %s\n' "${failed[*]}" >&2
  # A link or write that failed for want of disk reads like a build error; say how much was left.
  printf 'disk: %s free, target/ %s\n' "$(df -h --output=avail . | tail -n 1 | tr -d ' ')" \
    "$(du -sh "${CARGO_TARGET_DIR:-$root/target}" 2>/dev/null | cut -f1)" >&2
  exit 1
fi
printf '\nAll test suites passed.\n' >&2
