#!/usr/bin/env bash
# Reads the env blocks the core renders (every format, for the value table in crates/kommo/tests/env_table) back
# with the real parsers of the tools they are for, pinned: python-dotenv (requirements.txt), npm dotenv,
# dotenv-expand and @next/env (package-lock.json), the machine's node --env-file, bash and sh `set -a; . FILE`, the
# docker CLI's own --env-file reader (in front of a fake daemon that keeps what the CLI parsed), and the Vercel and
# GitHub scripts run against stand-ins for `vercel` and `gh` that record their arguments and standard input.
# One line per parser and format; exits non-zero on any failure. Installs what it needs into .tools/env-parsers/
# (or $KOMMO_ENV_PARSERS_DIR) the first time.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
here="$root/scripts/env-parsers"
tools=${KOMMO_ENV_PARSERS_DIR:-$root/.tools/env-parsers}
export PATH="$HOME/.cargo/bin:$PATH"
say() { printf '[env-parsers] %s\n' "$*" >&2; }

need_apt() {
  say "installing $* from Debian"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "$@" >/dev/null
}
command -v node >/dev/null && command -v npm >/dev/null || need_apt nodejs npm
command -v python3 >/dev/null || need_apt python3 python3-venv
# Only the docker client runs (its env-file reader is client-side); Debian's docker.io brings it.
command -v docker >/dev/null || need_apt docker.io

mkdir -p "$tools"
if [ ! -d "$tools/node_modules" ] || ! cmp -s "$here/package-lock.json" "$tools/package-lock.json"; then
  say "installing the npm parsers pinned in package-lock.json into $tools"
  cp "$here/package.json" "$here/package-lock.json" "$tools/"
  (cd "$tools" && npm ci --no-audit --no-fund --silent)
fi
if [ ! -x "$tools/venv/bin/python" ] || ! cmp -s "$here/requirements.txt" "$tools/venv/requirements.txt"; then
  say "installing python-dotenv pinned in requirements.txt into $tools/venv"
  rm -rf "$tools/venv"
  python3 -m venv "$tools/venv" || { need_apt python3-venv && python3 -m venv "$tools/venv"; }
  "$tools/venv/bin/pip" install -q --disable-pip-version-check --require-hashes -r "$here/requirements.txt"
  cp "$here/requirements.txt" "$tools/venv/requirements.txt"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/kommo-env-cases.XXXXXX")
trap 'rm -rf "$work"' EXIT
cargo run -q -p kommo --example env_cases -- "$work"
"$tools/venv/bin/python" "$here/check.py" "$work" "$tools" "$tools/venv/bin/python"
