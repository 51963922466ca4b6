#!/usr/bin/env bash
# The exchange proxy under faults and a soak, on loopback (issue 17). Not run by CI: it takes minutes.
#
#   crates/proxy/faults.sh                 # the fault pass, then a 10-minute soak at 50 requests/s
#   SOAK=90s crates/proxy/faults.sh        # a shorter soak (s, m or plain seconds); SOAK=0 skips it
#   SOAK_RATE=50 MAX_HWM_MIB=256 MAX_RSS_MIB=128 PROXY_LOG=debug crates/proxy/faults.sh
#
# Builds the release `kommo-proxy` and two examples: `fault_upstream` (an account host that answers after 35 s,
# resets the connection, answers 502 text/html, sends 20 MB, trickles a byte a second, or answers fine — chosen by
# the account host the proxy names) and `soak_client` (sends the requests and checks every answer against the
# documented `proxy_error` contract and its time bound). The proxy runs as deployed (default timeouts 5 s / 20 s,
# 8 MiB answer cap, rate limits on) holding a secret, with --trust-forwarded-for so one client process can speak
# for many client IPs without switching the limits off. Every code, token, secret and query value sent or
# answered carries a per-run marker, and the proxy's log (RUST_LOG=$PROXY_LOG, default debug) is searched for it.
#
# Properties, each printed PASS/FAIL; the script exits 1 if any fails:
#   every fault is answered with its documented JSON error within its timeout (fault pass and soak);
#   a burst of limit+1 requests gets exactly one 429 rate_limited (fault pass, and every 5 s in the soak);
#   the proxy process stays up (same PID, /healthz answers) after each phase;
#   VmHWM stays under MAX_HWM_MIB, VmRSS after the soak under MAX_RSS_MIB, open fds return near where they were;
#   no marker appears in the proxy's log, which has an access line for every request.
set -euo pipefail

cd "$(dirname "$0")/../.."
TARGET_DIR=${CARGO_TARGET_DIR:-target}
SOAK=${SOAK:-10m}
SOAK_RATE=${SOAK_RATE:-50}
MAX_HWM_MIB=${MAX_HWM_MIB:-256}
MAX_RSS_MIB=${MAX_RSS_MIB:-128}
PROXY_LOG=${PROXY_LOG:-debug}

case "$SOAK" in
    *m) SOAK_SECS=$(( ${SOAK%m} * 60 )) ;;
    *s) SOAK_SECS=${SOAK%s} ;;
    *) SOAK_SECS=$SOAK ;;
esac
[[ "$SOAK_SECS" =~ ^[0-9]+$ ]] || { echo "faults.sh: SOAK=$SOAK is not a duration like 10m, 90s or 600" >&2; exit 2; }
command -v curl >/dev/null || { echo "faults.sh: curl is not installed" >&2; exit 1; }

echo "== building release binaries"
cargo build --release --quiet -p kommo-proxy --bin kommo-proxy --example fault_upstream --example soak_client
PROXY_BIN="$TARGET_DIR/release/kommo-proxy"
UPSTREAM_BIN="$TARGET_DIR/release/examples/fault_upstream"
CLIENT_BIN="$TARGET_DIR/release/examples/soak_client"

WORK=$(mktemp -d)
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    if [[ -n "${KEEP_LOG:-}" ]]; then cp "$WORK/proxy.log" "$KEEP_LOG" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
status_kib() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }
fds() { ls "/proc/$1/fd" | wc -l; }
FAILED=0
check() { # check NAME DETAIL COMMAND...: PASS when COMMAND succeeds
    local name=$1 detail=$2; shift 2
    if "$@"; then printf 'PASS  %s  %s\n' "$name" "$detail"; else printf 'FAIL  %s  %s\n' "$name" "$detail"; FAILED=1; fi
}
SENT=0
client() { # client MODE: run soak_client, show its output, add its request count to SENT; returns its exit code
    { "$CLIENT_BIN" "$1" "$PROXY" 2>&1; echo $? >"$WORK/client.rc"; } | tee "$WORK/client.out"
    SENT=$(( SENT + $(awk '/^requests / {print $2; exit}' "$WORK/client.out") + 0 ))
    return "$(cat "$WORK/client.rc")"
}
alive() { # the same process, and it answers
    kill -0 "$PROXY_PID" 2>/dev/null && curl -fs --max-time 5 "$PROXY/healthz" >/dev/null
}
memory_line() {
    printf 'proxy memory %-18s VmRSS %6s KiB  VmHWM %6s KiB  open fds %s\n' "$1" \
        "$(status_kib "$PROXY_PID" VmRSS)" "$(status_kib "$PROXY_PID" VmHWM)" "$(fds "$PROXY_PID")"
}

MARK="mk$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
CLIENT_ID="bench-client-0b5c1c5e"

UP_PORT=$(free_port)
FAULT_ACCESS_TOKEN="eyJanswer$MARK" FAULT_REFRESH_TOKEN="def502answer$MARK" \
    "$UPSTREAM_BIN" "127.0.0.1:$UP_PORT" >"$WORK/upstream.log" 2>&1 &
PIDS+=($!)
until curl -fs "http://127.0.0.1:$UP_PORT/api/v4/ok" >/dev/null 2>&1; do sleep 0.02; done

PROXY_PORT=$(free_port)
PROXY="http://127.0.0.1:$PROXY_PORT"
# The secret goes in through the environment, as documented (never a process argument).
KOMMO_CLIENT_ID="$CLIENT_ID" KOMMO_CLIENT_SECRET="held$MARK" RUST_LOG="$PROXY_LOG" \
    "$PROXY_BIN" --bind "127.0.0.1:$PROXY_PORT" --upstream-base "http://127.0.0.1:$UP_PORT" \
    --trust-forwarded-for >"$WORK/proxy.log" 2>&1 &
PROXY_PID=$!
PIDS+=($PROXY_PID)
until curl -fs "$PROXY/healthz" >/dev/null 2>&1; do sleep 0.02; done

export SOAK_CLIENT_ID="$CLIENT_ID" SOAK_MARK="$MARK" SOAK_TIMEOUT_MS=20000 SOAK_RATE_LIMIT=7

echo "== kommo-proxy $("$PROXY_BIN" --version | awk '{print $2}') on loopback, $(nproc) cores, RUST_LOG=$PROXY_LOG"
echo "load: $(uptime)"
echo "(a shared machine: latencies are noisy; the properties are what this script checks)"
memory_line "at rest"
FDS_REST=$(fds "$PROXY_PID")

echo
echo "== fault pass: ok, html, reset, big, slow, trickle x (JSON token POST, form token POST, API GET), plus a burst"
rc=0; client faults || rc=$?
check "fault pass: every answer as documented, in time" "(soak_client exit $rc)" test "$rc" = 0
check "proxy up after the fault pass" "pid $PROXY_PID" alive
memory_line "after faults"
HWM_FAULTS=$(status_kib "$PROXY_PID" VmHWM)

if (( SOAK_SECS > 0 )); then
    echo
    echo "== soak: ${SOAK_SECS} s at $SOAK_RATE requests/s (84% fine, 16% faults), a burst of 8 every 5 s"
    memory_line "before soak"
    HWM_BEFORE=$(status_kib "$PROXY_PID" VmHWM)
    rc=0; SOAK_SECS=$SOAK_SECS SOAK_RATE=$SOAK_RATE client soak || rc=$?
    check "soak: every answer as documented, in time" "(soak_client exit $rc)" test "$rc" = 0
    check "proxy up after the soak" "pid $PROXY_PID" alive
    memory_line "after soak"
    echo "VmHWM before soak ${HWM_BEFORE} KiB, after $(status_kib "$PROXY_PID" VmHWM) KiB"
fi

HWM=$(status_kib "$PROXY_PID" VmHWM)
RSS=$(status_kib "$PROXY_PID" VmRSS)
check "VmHWM bounded" "$HWM KiB <= $MAX_HWM_MIB MiB (after the fault pass: $HWM_FAULTS KiB)" \
    test "$HWM" -le $(( MAX_HWM_MIB * 1024 ))
check "VmRSS at the end bounded" "$RSS KiB <= $MAX_RSS_MIB MiB" test "$RSS" -le $(( MAX_RSS_MIB * 1024 ))
# Upstream connections stay pooled for up to 90 s; what must not grow is one fd per request.
FDS_END=$(fds "$PROXY_PID")
check "open fds do not leak" "$FDS_REST at rest, $FDS_END at the end" test "$FDS_END" -le $(( FDS_REST + 128 ))

echo
echo "== the proxy's log"
LINES=$(wc -l <"$WORK/proxy.log")
ACCESS=$(grep -c 'kommo_proxy::access' "$WORK/proxy.log" || true)
LEAKS=$(grep -c -F "$MARK" "$WORK/proxy.log" || true)
echo "$LINES lines, $ACCESS access lines; error codes logged: $(grep -o 'error=[a-z_-]*' "$WORK/proxy.log" | sort | uniq -c | sort -rn | awk '{printf "%s %s, ", $2, $1}' | sed 's/, $//')"
check "no code, token, secret or query value in the log" "marker $MARK (in every code, token, held and sent secret, query) on $LEAKS lines" \
    test "$LEAKS" = 0
if (( LEAKS > 0 )); then grep -F "$MARK" "$WORK/proxy.log" | head -5 | cut -c1-300; fi
check "the log searched is the real one" "$ACCESS access lines for $SENT requests sent" test "$ACCESS" -ge "$SENT" -a "$SENT" -gt 0
echo "upstream: $(tail -1 "$WORK/upstream.log")"

echo
if (( FAILED )); then echo "faults.sh: FAILED"; exit 1; fi
echo "faults.sh: all properties hold"
