#!/usr/bin/env bash
# Runs Vercel's own build of this repository locally — the Vercel CLI's `vercel build` with the Rust builder Vercel
# uses (@vercel/rust), as on Vercel's build image (`cargo build --bin exchange --release` at the root) — and checks
# its output: the exchange function, the page's files and the routes with their headers. No Vercel account needed.
#   scripts/vercel-build.sh              build the page first if dist/ is missing, then run the Vercel build
# It works in a throwaway checkout of HEAD (your own .vercel/ link is never touched); the output is copied to
# artifacts/vercel-output/. The first run compiles the function in release mode (about 6 minutes on 2 cores).
# Vercel CLI 59.25.4 is pinned: newer ones need npm packages this machine's registry mirror does not have.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export PATH="$HOME/.cargo/bin:$root/.tools/node_modules/.bin:$PATH"
vercel_version=59.25.4

say() { printf '[vercel-build] %s\n' "$*" >&2; }

scripts/ensure-tools.sh --npm "vercel@$vercel_version"

if [ ! -f dist/index.html ]; then
  say "building the page (dist/ is missing)"
  trunk build --release --offline 2>&1 | sed -u 's/^/[trunk] /' >&2
fi

work=$(mktemp -d)
cleanup() { git -C "$root" worktree remove --force "$work/repo" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT
git worktree add --detach "$work/repo" HEAD >/dev/null 2>&1
cp -a dist "$work/repo/dist"
mkdir -p "$work/repo/.vercel"
# What `vercel link` would write for a project set up as docs/hosting.md says (framework "Other", no build command).
cat > "$work/repo/.vercel/project.json" <<'EOF'
{"projectId":"prj_local_check","orgId":"team_local_check","settings":{"framework":null,"buildCommand":null,"outputDirectory":"dist","installCommand":null,"devCommand":null,"rootDirectory":null,"commandForIgnoringBuildStep":null,"nodeVersion":"20.x"}}
EOF

say "running vercel build (VERCEL_BUILD_IMAGE=1: the builder compiles as on Vercel's build image)"
(cd "$work/repo" && VERCEL_TELEMETRY_DISABLED=1 VERCEL_BUILD_IMAGE=1 CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}" \
  vercel build --yes --standalone 2>&1 | sed -u 's/^/[vercel] /' >&2)

out="$work/repo/.vercel/output"
rm -rf artifacts/vercel-output && mkdir -p artifacts && cp -a "$out" artifacts/vercel-output
node - artifacts/vercel-output <<'EOF'
const fs = require('fs'), path = require('path');
const out = process.argv[2];
const fail = (m) => { console.error(`[vercel-build] FAIL: ${m}`); process.exit(1); };
const fn = path.join(out, 'functions/api/exchange.func');
const vc = JSON.parse(fs.readFileSync(path.join(fn, '.vc-config.json'), 'utf8'));
if (vc.runtime !== 'executable') fail(`function runtime is ${vc.runtime}`);
if (vc.maxDuration !== 30) fail(`maxDuration is ${vc.maxDuration}, vercel.json says 30`);
const exe = path.join(fn, vc.handler);
if (!(fs.statSync(exe).mode & 0o111)) fail('the function binary is not executable');
const size = fs.statSync(exe).size;
const statics = fs.readdirSync(path.join(out, 'static'));
for (const want of ['index.html', '.wasm', '.css', 'boot-', '__wasm_split-', 'split_after-', 'split_result-', 'split_have_token-', 'split_russian-']) {
  if (!statics.some((f) => f.includes(want))) fail(`static/ has no ${want}`);
}
if (statics.some((f) => f.endsWith('.br') || f.endsWith('.gz'))) fail('precompressed copies were uploaded');
const config = JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8'));
const routes = config.routes || [];
const headerRoute = routes.find((r) => r.headers && r.headers['Content-Security-Policy']);
if (!headerRoute) fail('no route sends the Content-Security-Policy');
const toFunction = (path) => routes.some((r) => r.src && r.src.includes(path) && (r.dest || '').startsWith('/api/exchange?kommo_proxy_path='));
for (const p of ['oauth2/access_token', 'api/v4', 'healthz']) if (!toFunction(p)) fail(`no rewrite of /${p} to the function`);
if (!routes.some((r) => r.dest === '/index.html')) fail('no SPA fallback to /index.html');
console.log(`function api/exchange: runtime ${vc.runtime}, handler ${vc.handler} (${(size / 1e6).toFixed(1)} MB), maxDuration ${vc.maxDuration} s`);
console.log(`static files: ${statics.length}; routes: ${routes.length} (CSP, SPA fallback and the proxy rewrites present)`);
console.log('output: artifacts/vercel-output/ (the function binary inlined: --standalone)');
EOF
