#!/usr/bin/env bash
# Lighthouse 12 (npm lighthouse@12.2.3, Debian's Chromium) on the release page as it is hosted: the release demo
# server (the exchange proxy serving dist/ with its headers and compression, the Kommo double behind it) on free
# loopback ports. Prints the performance, accessibility and best-practices scores and every audit that costs points.
#   scripts/lighthouse.sh              build the page and the server if needed, run (Lighthouse's default: mobile,
#                                      simulated slow 4G and 4x CPU slowdown)
#   scripts/lighthouse.sh --no-build   reuse dist/ as it is
#   scripts/lighthouse.sh --desktop    desktop preset
#   scripts/lighthouse.sh --check      exit 1 unless all three scores are 100 (in every run)
#   scripts/lighthouse.sh --return     the return from Kommo instead: /?code=…&state=…&referer=… (a state this fresh
#                                      profile never stored, so the Return card sets it aside — the page fetches the
#                                      same parts as on a real return: the main module and the part after Consent)
#   scripts/lighthouse.sh --runs=3     run three times, one report each (report-1…), scores on one line per run
#   scripts/lighthouse.sh --artifacts  also keep what Lighthouse gathered (trace, network log) in
#                                      artifacts/lighthouse/artifacts[-N]/, for scripts/lighthouse-steps.mjs: which
#                                      request decides the simulated FCP and LCP, and what size would move them
# Reports: artifacts/lighthouse/report.report.{html,json}. DIST=dir and CARGO_TARGET_DIR are honoured.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export PATH="$HOME/.cargo/bin:$root/.tools/node_modules/.bin:$PATH"
lighthouse_version=12.2.3
dist=${DIST:-$root/dist}
target_dir=${CARGO_TARGET_DIR:-$root/target}
out=$root/artifacts/lighthouse

build=1 check=0 preset=() path=/ runs=1 keep=0
for arg in "$@"; do
  case "$arg" in
    --return) path='/?code=def50200aa11bb22cc33&state=0123456789abcdef0123456789abcdef&referer=demo.kommo.com' ;;
    --runs=*) runs=${arg#--runs=} ;;
    --no-build) build=0 ;;
    --artifacts) keep=1 ;;
    --check) check=1 ;;
    --desktop) preset=(--preset=desktop) ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) echo "unknown option: $arg (see --help)" >&2; exit 2 ;;
  esac
done

say() { printf '[lighthouse] %s\n' "$*" >&2; }

scripts/ensure-tools.sh --browser --npm "lighthouse@$lighthouse_version"

if [ "$build" = 1 ]; then
  say "building the release page into $dist"
  trunk build --release --offline --dist "$dist" 2>&1 | sed -u 's/^/[trunk] /' >&2
fi
[ -f "$dist/index.html" ] || { say "no $dist/index.html: build the page first (drop --no-build)"; exit 2; }
say "building the release demo server (no-op when up to date)"
cargo build --release -p kommo-demo 2>&1 | sed -u 's/^/[cargo] /' >&2

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
port=$(free_port)
double_port=$(free_port)
while [ "$double_port" = "$port" ]; do double_port=$(free_port); done
mkdir -p "$out"
"$target_dir/release/kommo-demo" --static "$dist" --port "$port" --double-port "$double_port" >"$out/server.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true' EXIT
url="http://127.0.0.1:$port/"
for _ in $(seq 1 200); do
  curl -fsS -o /dev/null "${url}healthz" 2>/dev/null && break
  kill -0 "$server" 2>/dev/null || { say "the demo server stopped:"; cat "$out/server.log" >&2; exit 1; }
  sleep 0.1
done
curl -fsS -o /dev/null "${url}healthz" || { say "the demo server does not answer on $url"; exit 1; }

failed=0
for run in $(seq 1 "$runs"); do
report=$out/report gathered=$out/artifacts
[ "$runs" -gt 1 ] && report=$out/report-$run gathered=$out/artifacts-$run
keep_flag=()
[ "$keep" = 1 ] && keep_flag=("-GA=$gathered")
say "running Lighthouse $lighthouse_version on $url${path#/} ${preset[*]:-(mobile)} (run $run of $runs)"
CHROME_PATH=${CHROME_PATH:-/usr/bin/chromium} lighthouse "$url${path#/}" "${preset[@]}" "${keep_flag[@]}" \
  --only-categories=performance,accessibility,best-practices \
  --chrome-flags="--headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage --disable-background-networking --disable-component-update --disable-sync --no-first-run --disable-quic" \
  --output=json --output=html --output-path="$report" --quiet

node - "$report.report.json" "$check" <<'EOF' || failed=1
const [file, check] = process.argv.slice(2);
const lhr = JSON.parse(require('fs').readFileSync(file, 'utf8'));
let perfect = true;
for (const id of ['performance', 'accessibility', 'best-practices']) {
  const cat = lhr.categories[id];
  const score = Math.round(cat.score * 100);
  if (score < 100) perfect = false;
  console.log(`${cat.title.padEnd(16)} ${score}`);
  for (const ref of cat.auditRefs) {
    const a = lhr.audits[ref.id];
    if (a.score === null || a.score >= 1 || a.scoreDisplayMode === 'notApplicable') continue;
    if (ref.weight === 0 && a.scoreDisplayMode !== 'binary') continue;
    const shown = a.displayValue ? ` (${a.displayValue})` : '';
    console.log(`  ${ref.weight > 0 ? 'costs points' : 'unscored    '}  ${a.id}: ${a.title}${shown}`);
  }
}
const m = (id) => lhr.audits[id]?.displayValue ?? '-';
console.log(`metrics: FCP ${m('first-contentful-paint')}, LCP ${m('largest-contentful-paint')}, TBT ${m('total-blocking-time')}, CLS ${m('cumulative-layout-shift')}, SI ${m('speed-index')}`);
console.log(`report: ${file.replace(/\.json$/, '.html')}`);
if (check === '1' && !perfect) process.exit(1);
EOF
done
exit "$failed"
