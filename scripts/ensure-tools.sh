#!/usr/bin/env bash
# Installs what building and testing the page needs, skipping whatever is already there at the right version.
# Safe to run again. Prints one line per tool. Nothing is downloaded except from package registries.
#   scripts/ensure-tools.sh            wasm target, wasm-bindgen CLI, Trunk, wasm-opt, terser
#   scripts/ensure-tools.sh --browser  also Chromium + chromedriver (Debian packages) for browser tests
#   scripts/ensure-tools.sh --npm lighthouse@12.2.3 ...   also these npm packages, pinned, into .tools/
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export PATH="$HOME/.cargo/bin:$root/.tools/node_modules/.bin:$PATH"

say() { printf '[tools] %s\n' "$*" >&2; }

browser=0 npm_extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --browser) browser=1 ;;
    --npm) shift; npm_extra+=("${1:?--npm needs name@version}") ;;
    *) echo "unknown option: $1 (see the top of $0)" >&2; exit 2 ;;
  esac
  shift
done

# The wasm-bindgen CLI must equal the wasm-bindgen crate in Cargo.lock.
wb_version=$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/version = |"/,""); print; exit}' Cargo.lock 2>/dev/null || true)
wb_version=${wb_version:-0.2.130}
trunk_version=0.21.14
binaryen_version=132.0.0

if rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  say "wasm32-unknown-unknown target: present"
else
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" = "$wb_version" ]; then
  say "wasm-bindgen CLI $wb_version: present"
else
  say "installing wasm-bindgen CLI $wb_version (about 3 minutes on 2 cores)"
  cargo install wasm-bindgen-cli --version "$wb_version" --force
fi

if [ "$(trunk --version 2>/dev/null | awk '{print $2}')" = "$trunk_version" ]; then
  say "trunk $trunk_version: present"
else
  say "installing trunk $trunk_version (about 10 minutes on 2 cores, once)"
  cargo install --locked trunk --version "$trunk_version" --force
fi

# The code splitter between cargo and wasm-bindgen (scripts/split-build.sh, the Trunk pre_build hook): the CLI of the
# crate cargo-leptos uses, at the version checked with leptos 0.8 and wasm-bindgen 0.2.130 (shared/docs/wasm-split.md).
split_version=0.2.4
if [ -f "$HOME/.cargo/.crates2.json" ] && grep -q "\"wasm_split_cli_support $split_version " "$HOME/.cargo/.crates2.json" \
   && command -v wasm-split-cli >/dev/null 2>&1; then
  say "wasm-split-cli $split_version: present"
else
  say "installing wasm-split-cli $split_version (about 2 minutes on 2 cores, once)"
  cargo install --locked wasm_split_cli_support --version "$split_version" --features build-binary --force
fi

# Trunk's post-build hook (Trunk.toml → scripts/post-build.pl) needs Perl with Digest::SHA: Debian's `perl`
# package (a minimal system may have only perl-base, which lacks it).
if perl -MDigest::SHA -e1 >/dev/null 2>&1; then
  say "perl with Digest::SHA (Trunk post-build hook): present"
else
  say "installing perl from Debian (the Trunk post-build hook uses Digest::SHA)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq perl >/dev/null
fi

# The tests need Node.js (CSP Evaluator, Vercel's route compiler); scripts/test.sh passes --browser.
if { [ "$browser" = 1 ] || [ ${#npm_extra[@]} -gt 0 ]; } && ! command -v npm >/dev/null 2>&1; then
  say "installing nodejs + npm from Debian (the hosting tests run CSP Evaluator and Vercel's route compiler)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq nodejs npm >/dev/null
fi

if [ -x .tools/node_modules/.bin/wasm-opt ] && .tools/node_modules/.bin/wasm-opt --version 2>/dev/null | grep -q 'version 132'; then
  say "wasm-opt (binaryen $binaryen_version): present"
elif command -v npm >/dev/null 2>&1; then
  say "installing wasm-opt from npm binaryen@$binaryen_version (Debian's binaryen makes a blank page)"
  mkdir -p .tools
  (cd .tools && { [ -f package.json ] || echo '{"private":true}' > package.json; } && npm install --no-audit --no-fund --silent "binaryen@$binaryen_version")
else
  say "npm missing: building without wasm-opt (bigger page)"
fi

# npm packages the build and the tests use, pinned: terser (release builds minify wasm-bindgen's JS glue with it,
# scripts/split-build.sh), Google's CSP Evaluator (the page's Content-Security-Policy) and Vercel's own route compiler
# (what vercel.json's headers and rewrites do to a path; crates/proxy/tests/hosting.rs). Scripts add their own with
# --npm (Lighthouse, the Vercel CLI).
npm_packages=("terser@5.51.4" "csp_evaluator@1.1.8" "@vercel/routing-utils@6.6.0" "${npm_extra[@]}")
npm_missing=()
for spec in "${npm_packages[@]}"; do
  name=${spec%@*}
  have=$(node -p "require('./.tools/node_modules/$name/package.json').version" 2>/dev/null || true)
  [ "$have" = "${spec##*@}" ] || npm_missing+=("$spec")
done
if [ ${#npm_missing[@]} -eq 0 ]; then
  say "npm packages (${npm_packages[*]}): present"
elif command -v npm >/dev/null 2>&1; then
  say "installing ${npm_missing[*]} from npm into .tools/"
  mkdir -p .tools
  (cd .tools && { [ -f package.json ] || echo '{"private":true}' > package.json; } && npm install --no-audit --no-fund --silent --save-exact "${npm_missing[@]}")
else
  say "npm missing: the hosting tests (CSP Evaluator, vercel.json) fail until Node.js and npm are installed (--browser installs them)"
fi

if [ "$browser" = 1 ]; then
  if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
    say "chromium + chromedriver: present ($(/usr/bin/chromium --version 2>/dev/null | head -n1))"
  else
    say "installing chromium + chromium-driver from Debian (about 1 minute)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq chromium chromium-driver >/dev/null
  fi
fi
