#!/usr/bin/env bash
# Where kommo-proxy's time goes under the nginx-bench load (issue 17). Not run by CI.
#
#   crates/proxy/profile.sh                    # token POST, access log off, 10 s of samples
#   SCENARIO=api PROXY_LOG=info SECS=20 crates/proxy/profile.sh
#   PROXY_BIN=/path/to/prototype/kommo-proxy crates/proxy/profile.sh
#
# Samples the release proxy with `perf record -e cpu-clock --call-graph dwarf` (Debian's linux-perf; a software
# clock, since this VM has no hardware counters: `perf stat -e instructions` is "not supported") while wrk drives it
# as nginx-bench.sh does, then prints: the share of samples per component (kernel, allocator, memcpy, tokio, hyper,
# reqwest, axum/tower, tracing, serde_json, kommo, …), the top functions by self time, and the inclusive share of
# the proxy's own steps. With STRACE=1 also the system calls per request (strace -c, a separate short run: strace
# slows the process, so its counts matter, not its times). Output files stay in $OUT (default target/profile).
set -euo pipefail

cd "$(dirname "$0")/../.."
TARGET_DIR=${CARGO_TARGET_DIR:-target}
SCENARIO=${SCENARIO:-token}
PROXY_LOG=${PROXY_LOG:-warn}
SECS=${SECS:-10}
FREQ=${FREQ:-499}
CONNS=${CONNS:-32}
THREADS=${THREADS:-2}
OUT=${OUT:-$TARGET_DIR/profile}
STRACE=${STRACE:-0}

command -v wrk >/dev/null || { echo "profile.sh: wrk is missing: apt-get install -y wrk" >&2; exit 1; }
command -v perf >/dev/null || { echo "profile.sh: perf is missing: apt-get install -y linux-perf" >&2; exit 1; }
if [[ -z "${PROXY_BIN:-}" ]]; then
    cargo build --release --quiet -p kommo-proxy --bin kommo-proxy --example bench_upstream
    PROXY_BIN="$TARGET_DIR/release/kommo-proxy"
else
    cargo build --release --quiet -p kommo-proxy --example bench_upstream
fi
UPSTREAM_BIN="$TARGET_DIR/release/examples/bench_upstream"
mkdir -p "$OUT"

WORK=$(mktemp -d)
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

UP_PORT=$(free_port)
"$UPSTREAM_BIN" "127.0.0.1:$UP_PORT" >/dev/null 2>&1 &
PIDS+=($!)
PORT=$(free_port)
RUST_LOG=$PROXY_LOG "$PROXY_BIN" --bind "127.0.0.1:$PORT" --upstream-base "http://127.0.0.1:$UP_PORT" \
    --rate-limit 0 --client-rate-limit 0 --pace 0 >"$WORK/proxy.log" 2>&1 &
PROXY_PID=$!
PIDS+=($PROXY_PID)
until curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1; do sleep 0.02; done

if [[ $SCENARIO == token ]]; then
    PATH_=oauth2/access_token
    cat >"$WORK/load.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-Kommo-Account"] = "kwid.kommo.com"
wrk.body = '{"client_id":"cid","client_secret":"sec","grant_type":"authorization_code","code":"c0de","redirect_uri":"https://helper.example/callback"}'
LUA
else
    PATH_=api/v4/account
    cat >"$WORK/load.lua" <<'LUA'
wrk.headers["X-Kommo-Account"] = "kwid.kommo.com"
wrk.headers["Authorization"] = "Bearer t"
LUA
fi
URL="http://127.0.0.1:$PORT/$PATH_"

echo "== profiling kommo-proxy ($PROXY_BIN), $SCENARIO, RUST_LOG=$PROXY_LOG, $SECS s at $FREQ Hz; load: $(uptime)"
wrk -t"$THREADS" -c"$CONNS" -d2s -s "$WORK/load.lua" "$URL" >/dev/null   # warm the pools
wrk -t"$THREADS" -c"$CONNS" -d$(( SECS + 2 ))s -s "$WORK/load.lua" "$URL" >"$WORK/wrk.out" &
WRK=$!
sleep 1
perf record -q -e cpu-clock -F "$FREQ" --call-graph dwarf,16384 -p "$PROXY_PID" -o "$OUT/perf.data" -- sleep "$SECS" \
    2>"$WORK/perf.err" || { cat "$WORK/perf.err" >&2; exit 1; }
wait "$WRK"
grep -E 'Requests/sec|requests in' "$WORK/wrk.out" | sed 's/^/   wrk: /'

perf report -i "$OUT/perf.data" --no-children --sort dso,sym --stdio -g none --percent-limit 0.01 2>/dev/null \
    >"$OUT/self.txt"
perf report -i "$OUT/perf.data" --children --sort sym --stdio -g none --percent-limit 0.3 2>/dev/null \
    >"$OUT/children.txt"

python3 - "$OUT/self.txt" "$OUT/children.txt" <<'PY'
import re, sys
rows = []
for line in open(sys.argv[1]):
    m = re.match(r"\s+([\d.]+)%\s+(\S+)\s+\[(.)\]\s+(.*)$", line)
    if m:
        rows.append((float(m.group(1)), m.group(2), m.group(3), m.group(4).strip()))
groups = [
    ("kernel (syscalls, TCP loopback, scheduler)", lambda d, k, s: k == "k"),
    ("allocator (malloc/free/realloc)", lambda d, k, s: re.search(r"malloc|free|realloc|calloc|_int_|tcache|arena|sysmalloc|alloc::alloc|__rust_(de|re)?alloc", s)),
    ("memcpy/memmove/memset", lambda d, k, s: re.search(r"mem(cpy|move|set|cmp)|__memcpy", s)),
    ("tracing / tracing-subscriber", lambda d, k, s: "tracing" in s),
    ("serde_json", lambda d, k, s: "serde_json" in s or "serde::" in s),
    ("reqwest (client)", lambda d, k, s: "reqwest" in s),
    ("hyper / hyper-util / h1 parsing (httparse)", lambda d, k, s: re.search(r"hyper|httparse|want::|h2::", s)),
    ("http types (HeaderMap, Uri, …)", lambda d, k, s: re.search(r"\bhttp::|http_body", s)),
    ("axum / tower / matchit (routing, middleware)", lambda d, k, s: re.search(r"axum|tower|matchit", s)),
    ("tokio (runtime, I/O driver, sync)", lambda d, k, s: "tokio" in s or "mio::" in s),
    ("url / idna (reqwest parsing the upstream URL)", lambda d, k, s: re.search(r"\burl::|idna", s)),
    ("kommo / kommo_proxy (the checks)", lambda d, k, s: "kommo" in s),
    ("libc other (locks, time, syscall stubs)", lambda d, k, s: "libc" in d or d.startswith("ld-")),
    ("futures / bytes / other Rust", lambda d, k, s: True),
]
total = sum(r[0] for r in rows)
shares = {}
for pct, dso, kind, sym in rows:
    for name, f in groups:
        if f(dso, kind, sym):
            shares[name] = shares.get(name, 0) + pct
            break
    else:
        shares["other"] = shares.get("other", 0) + pct
print(f"\n== self time by component ({total:.0f}% of samples attributed)")
for name, pct in sorted(shares.items(), key=lambda x: -x[1]):
    print(f"  {pct:5.1f}%  {name}")
print("\n== top 30 functions by self time")
for pct, dso, kind, sym in sorted(rows, key=lambda r: -r[0])[:30]:
    print(f"  {pct:5.2f}%  [{kind}] {sym[:120]}")
print("\n== inclusive time of selected steps (children)")
want = re.compile(r"kommo_proxy::app::(\w+)|tracing_subscriber::fmt|reqwest::async_impl::client::Client::execute|"
                  r"reqwest::async_impl::client::ClientBuilder|hyper::proto::h1::role|serde_json::de|"
                  r"SlidingWindow|AccountHost::parse|tower_http|axum::middleware|Semaphore|"
                  r"hyper_util::client::legacy::pool|tokio::runtime::scheduler::multi_thread::worker::Context::park|"
                  r"sys_write|sys_read|sys_sendto|sys_recvfrom|__x64_sys_epoll_wait|futex")
seen = set()
for line in open(sys.argv[2]):
    m = re.match(r"\s+([\d.]+)%\s+([\d.]+)%\s+\[(.)\]\s+(.*)$", line)
    if m and want.search(m.group(4)):
        sym = m.group(4).strip()
        key = sym[:100]
        if key in seen:
            continue
        seen.add(key)
        print(f"  {float(m.group(1)):5.1f}% incl  {float(m.group(2)):5.1f}% self  {sym[:110]}")
PY
echo "(perf data and reports in $OUT: perf report -i $OUT/perf.data)"

if [[ $STRACE == 1 ]]; then
    command -v strace >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq strace >/dev/null
    echo
    echo "== system calls per request (strace -c -f, 5 s, 8 connections)"
    strace -c -f -p "$PROXY_PID" -o "$WORK/strace.txt" &
    ST=$!
    sleep 0.5
    wrk -t1 -c8 -d5s -s "$WORK/load.lua" "$URL" >"$WORK/wrk2.out"
    kill -INT "$ST"; wait "$ST" 2>/dev/null || true
    N=$(awk '/ requests in / {print $1}' "$WORK/wrk2.out")
    awk -v n="$N" '$1 ~ /^[0-9.]+$/ && NF >= 5 { calls = $4; name = $NF; if (calls + 0 > 0) printf "  %-16s %8.2f per request\n", name, calls / n }
        /^[0-9. ]+total$/ { }' "$WORK/strace.txt" | sort -k2 -rn | head -15
    echo "  ($N requests)"
fi
