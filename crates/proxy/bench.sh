#!/usr/bin/env bash
# Benchmark the exchange proxy on loopback: start time, memory at rest and after load, requests per second.
#
#   crates/proxy/bench.sh              # 10 s per scenario, 32 connections, 2 wrk threads
#   DURATION=30s CONNS=64 crates/proxy/bench.sh
#
# Needs `wrk` (Debian/Ubuntu: apt-get install -y wrk) and curl. Builds the release proxy and a minimal upstream
# (examples/bench_upstream.rs), runs everything on 127.0.0.1, prints the numbers, and stops what it started.
# The rate limits and the pacing are turned off (--rate-limit 0 --client-rate-limit 0 --pace 0): with them on, one load generator is one
# client and gets 7 requests per second (14 across accounts), which is the point of the limits, not a throughput
# figure. (Until 2026-12-02 only --rate-limit was off, so the proxied rows measured 429 answers.)
# Siblings: faults.sh (faults and a soak), nginx-bench.sh (beside nginx), profile.sh (where the time goes).
set -euo pipefail

cd "$(dirname "$0")/../.."
TARGET_DIR=${CARGO_TARGET_DIR:-target}
DURATION=${DURATION:-10s}
CONNS=${CONNS:-32}
THREADS=${THREADS:-2}

command -v wrk >/dev/null || { echo "bench.sh: wrk is not installed (apt-get install -y wrk)" >&2; exit 1; }
command -v curl >/dev/null || { echo "bench.sh: curl is not installed" >&2; exit 1; }

echo "== building release binaries"
cargo build --release --quiet -p kommo-proxy --bin kommo-proxy --example bench_upstream
PROXY_BIN="$TARGET_DIR/release/kommo-proxy"
UPSTREAM_BIN="$TARGET_DIR/release/examples/bench_upstream"

WORK=$(mktemp -d)
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
now_ns() { date +%s%N; }

UP_PORT=$(free_port)
"$UPSTREAM_BIN" "127.0.0.1:$UP_PORT" >"$WORK/upstream.log" 2>&1 &
PIDS+=($!)
until curl -fs "http://127.0.0.1:$UP_PORT/" >/dev/null 2>&1; do sleep 0.01; done

PROXY_PORT=$(free_port)
PROXY="http://127.0.0.1:$PROXY_PORT"
t0=$(now_ns)
RUST_LOG=warn "$PROXY_BIN" --bind "127.0.0.1:$PROXY_PORT" --upstream-base "http://127.0.0.1:$UP_PORT" \
    --rate-limit 0 --client-rate-limit 0 --pace 0 >"$WORK/proxy.log" 2>&1 &
PROXY_PID=$!
PIDS+=($PROXY_PID)
until curl -fs "$PROXY/healthz" >/dev/null 2>&1; do :; done
t1=$(now_ns)
START_MS=$(( (t1 - t0) / 1000000 ))
sleep 1
RSS_REST=$(rss_kib "$PROXY_PID")

cat >"$WORK/token.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-Kommo-Account"] = "kwid.kommo.com"
wrk.body = '{"client_id":"cid","client_secret":"sec","grant_type":"authorization_code","code":"c0de","redirect_uri":"https://helper.example/callback"}'
LUA

rps() { awk '/^Requests\/sec:/ {print $2}'; }
lat() { awk '/^    Latency/ {print $2}'; }
run() {
    local name=$1; shift
    local out
    out=$(wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency "$@")
    local non2xx
    non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $5}' <<<"$out")
    printf '%-44s %10s req/s   avg latency %-8s %s\n' "$name" "$(rps <<<"$out")" "$(lat <<<"$out")" \
        "${non2xx:+(non-2xx: $non2xx)}"
}

echo "== kommo-proxy $("$PROXY_BIN" --version | awk '{print $2}') on loopback, $(nproc) cores, wrk -t$THREADS -c$CONNS -d$DURATION"
printf '%-44s %10s ms\n' "start (exec to first /healthz answer)" "$START_MS"
printf '%-44s %10s KiB\n' "memory at rest (VmRSS)" "$RSS_REST"
run "GET /healthz (no upstream)" "$PROXY/healthz"
run "GET /api/v4/account via proxy" -H "X-Kommo-Account: kwid.kommo.com" -H "Authorization: Bearer t" \
    "$PROXY/api/v4/account"
run "POST /oauth2/access_token via proxy" -s "$WORK/token.lua" "$PROXY/oauth2/access_token"
run "GET upstream directly (baseline)" "http://127.0.0.1:$UP_PORT/api/v4/account"
printf '%-44s %10s KiB\n' "memory after load (VmRSS)" "$(rss_kib "$PROXY_PID")"
