#!/usr/bin/env bash
# kommo-proxy beside nginx, on loopback, in alternating rounds (issue 17). Not run by CI.
#
#   crates/proxy/nginx-bench.sh                       # 3 rounds x 10 s per run, 32 connections, 2 wrk threads
#   ROUNDS=5 DURATION=15s CONNS=64 crates/proxy/nginx-bench.sh
#   SCENARIOS="token" LOGS="off" crates/proxy/nginx-bench.sh
#   PROXY_BIN=/path/to/other/kommo-proxy crates/proxy/nginx-bench.sh   # measure a prototype build (no rebuild)
#
# One upstream (examples/bench_upstream.rs, a small JSON answer) behind both servers:
#   nginx (Debian's package) `proxy_pass`, NGINX_WORKERS (2) worker processes for this machine's 2 cores, keep-alive
#     towards the upstream (`keepalive 64`, HTTP/1.1) and from wrk (`keepalive_requests` unlimited in practice), the
#     proxy's own answer headers added (Cache-Control, Vary, Referrer-Policy, X-Content-Type-Options), access log
#     in nginx's default format to a file, or `access_log off`;
#   kommo-proxy (release) `--upstream-base` to it, tokio's default runtime (one worker thread per core), hyper-util's
#     connection pool (keep-alive towards the upstream too, so both sides keep connections both ways), every check
#     on except the rate limits and the pacing (one wrk is one client for one account: --rate-limit 0
#     --client-rate-limit 0 --pace 0, as bench.sh does),
#     access log on (RUST_LOG=info, text lines to a file) or off (RUST_LOG=warn).
#   A third row, "kommo+limits", keeps the rate limits on with --trust-forwarded-for and wrk naming a different
#     client IP and account host per request (65536 of each, so the pacing of 6 a second per account host stays
#     on too and never holds one back), to show what the limiters cost.
# Scenarios: "token" = POST /oauth2/access_token with a JSON body, "api" = GET /api/v4/account with a Bearer token.
# Each round runs every (scenario, logs) pair on both servers back to back, in alternating order, so that the
# machine's load (shared with other builds) hits both alike. Per run: requests/s, p50/p99 (wrk --latency) and CPU
# microseconds per request (utime+stime from /proc/PID/stat of the server's processes: nginx's master and workers,
# the proxy's one process). The summary gives the median over rounds and the kommo/nginx ratios of the same round.
# Exits 1 if a run got any non-2xx answer or socket error (such a run measures errors, not proxying).
set -euo pipefail

cd "$(dirname "$0")/../.."
TARGET_DIR=${CARGO_TARGET_DIR:-target}
DURATION=${DURATION:-10s}
ROUNDS=${ROUNDS:-3}
CONNS=${CONNS:-32}
THREADS=${THREADS:-2}
NGINX_WORKERS=${NGINX_WORKERS:-2}
SCENARIOS=${SCENARIOS:-token api}
LOGS=${LOGS:-off on}
LIMITS_ROW=${LIMITS_ROW:-1}

need() { # need COMMAND PACKAGE
    command -v "$1" >/dev/null && return
    echo "== installing $2 (Debian)"
    if [[ $(id -u) == 0 ]]; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null || {
            apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null; }
    else
        echo "nginx-bench.sh: $1 is missing: apt-get install -y $2" >&2; exit 1
    fi
}
need wrk wrk
need nginx nginx
command -v curl >/dev/null || { echo "nginx-bench.sh: curl is not installed" >&2; exit 1; }
NGINX=$(command -v nginx)

if [[ -z "${PROXY_BIN:-}" ]]; then
    echo "== building release binaries"
    cargo build --release --quiet -p kommo-proxy --bin kommo-proxy --example bench_upstream
    PROXY_BIN="$TARGET_DIR/release/kommo-proxy"
else
    cargo build --release --quiet -p kommo-proxy --example bench_upstream
fi
UPSTREAM_BIN="$TARGET_DIR/release/examples/bench_upstream"

WORK=$(mktemp -d)
chmod 755 "$WORK"
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_up() { local i; for i in $(seq 500); do curl -fs -o /dev/null "$@" 2>/dev/null && return; sleep 0.02; done
    echo "nginx-bench.sh: $* did not come up" >&2; exit 1; }
TICK=$(getconf CLK_TCK)
# utime + stime of the given processes, in clock ticks (fields 14 and 15 of /proc/PID/stat, after the comm).
cpu_ticks() { local t=0 pid; for pid in "$@"; do
    t=$(( t + $(sed 's/^.*) //' "/proc/$pid/stat" | awk '{print $12 + $13}') )); done; echo "$t"; }

UP_PORT=$(free_port)
"$UPSTREAM_BIN" "127.0.0.1:$UP_PORT" >"$WORK/upstream.log" 2>&1 &
PIDS+=($!)
wait_up "http://127.0.0.1:$UP_PORT/"

declare -A PORT PIDLIST
start_nginx() { # start_nginx NAME on|off
    local name=$1 dir="$WORK/$1" port
    port=$(free_port)
    mkdir -p "$dir/tmp"
    chmod 777 "$dir/tmp"
    local access="access_log $dir/access.log;"
    [[ $2 == off ]] && access="access_log off;"
    cat >"$dir/nginx.conf" <<NGINX
user nobody nogroup;
worker_processes $NGINX_WORKERS;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 4096; }
http {
    $access
    keepalive_requests 1000000;
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    upstream kommo_upstream {
        server 127.0.0.1:$UP_PORT;
        keepalive 64;
    }
    server {
        listen 127.0.0.1:$port;
        location / {
            proxy_pass http://kommo_upstream;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header X-Forwarded-Host \$http_x_kommo_account;
            add_header Cache-Control no-store always;
            add_header Vary Origin always;
            add_header Referrer-Policy no-referrer always;
            add_header X-Content-Type-Options nosniff always;
        }
    }
}
NGINX
    "$NGINX" -e "$dir/error.log" -p "$dir" -c "$dir/nginx.conf" -g 'daemon off;' >"$dir/stdout.log" 2>&1 &
    local master=$!
    PIDS+=($master)
    wait_up "http://127.0.0.1:$port/api/v4/account"
    PORT[$name]=$port
    PIDLIST[$name]="$master $(pgrep -P "$master" | tr '\n' ' ')"
}
start_kommo() { # start_kommo NAME RUST_LOG EXTRA-ARGS...
    local name=$1 log=$2 port; shift 2
    port=$(free_port)
    RUST_LOG=$log "$PROXY_BIN" --bind "127.0.0.1:$port" --upstream-base "http://127.0.0.1:$UP_PORT" "$@" \
        >"$WORK/$name.log" 2>&1 &
    PIDS+=($!)
    PIDLIST[$name]=$!
    PORT[$name]=$port
    wait_up "http://127.0.0.1:$port/healthz"
}
start_nginx nginx-on on
start_nginx nginx-off off
start_kommo kommo-on info --rate-limit 0 --client-rate-limit 0 --pace 0
start_kommo kommo-off warn --rate-limit 0 --client-rate-limit 0 --pace 0
if [[ $LIMITS_ROW == 1 ]]; then start_kommo kommo-limits warn --trust-forwarded-for; fi

BODY='{"client_id":"cid","client_secret":"sec","grant_type":"authorization_code","code":"c0de","redirect_uri":"https://helper.example/callback"}'
for name in "${!PORT[@]}"; do
    for path in oauth2/access_token api/v4/account; do
        if [[ $path == oauth2/* ]]; then args=(-X POST -H 'Content-Type: application/json' --data "$BODY"); else args=(-H 'Authorization: Bearer t'); fi
        got=$(curl -s -o /dev/null -w '%{http_code} %{content_type}' -H 'X-Kommo-Account: kwid.kommo.com' "${args[@]}" \
            "http://127.0.0.1:${PORT[$name]}/$path")
        [[ $got == "200 application/json" ]] || { echo "nginx-bench.sh: $name /$path answered $got" >&2; exit 1; }
    done
done

cat >"$WORK/token.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-Kommo-Account"] = "kwid.kommo.com"
wrk.body = '$BODY'
LUA
cat >"$WORK/api.lua" <<'LUA'
wrk.headers["X-Kommo-Account"] = "kwid.kommo.com"
wrk.headers["Authorization"] = "Bearer t"
LUA
# The same, each request from another client IP (for the row with the rate limits on).
for s in token api; do
    cat "$WORK/$s.lua" - >"$WORK/$s-limits.lua" <<'LUA'
local i = math.random(0, 65535)
request = function()
    i = (i + 1) % 65536
    wrk.headers["X-Forwarded-For"] = "198.18." .. math.floor(i / 256) .. "." .. (i % 256)
    wrk.headers["X-Kommo-Account"] = "a" .. i .. ".kommo.com"
    return wrk.format()
end
LUA
done

RESULTS="$WORK/results.tsv"
run() { # run ROUND SCENARIO LOGS SERVER-NAME LABEL LUA
    local round=$1 scen=$2 logs=$3 name=$4 label=$5 lua=$6 path before after out
    [[ $scen == token ]] && path=oauth2/access_token || path=api/v4/account
    # shellcheck disable=SC2086
    before=$(cpu_ticks ${PIDLIST[$name]})
    out=$(wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency -s "$lua" "http://127.0.0.1:${PORT[$name]}/$path")
    # shellcheck disable=SC2086
    after=$(cpu_ticks ${PIDLIST[$name]})
    awk -v round="$round" -v scen="$scen" -v logs="$logs" -v server="$label" -v ticks=$(( after - before )) \
        -v tick="$TICK" -v load="$(cut -d' ' -f1 /proc/loadavg)" '
        function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
        /^ +50%/ { p50 = ms($2) } /^ +99%/ { p99 = ms($2) }
        / requests in / { n = $1 } /^Requests\/sec:/ { rps = $2 }
        /Non-2xx or 3xx responses:/ { bad += $5 } /Socket errors:/ { bad += 1 }
        END { printf "%s\t%s\t%s\t%s\t%.0f\t%.3f\t%.3f\t%.1f\t%d\t%s\n", round, scen, logs, server, rps, p50, p99,
              (n > 0 ? ticks * 1e6 / tick / n : 0), bad, load }' <<<"$out" | tee -a "$RESULTS" |
        awk -F'\t' '{ printf "  round %s  %-5s logs %-3s  %-13s %8s req/s  p50 %7.2f ms  p99 %7.2f ms  %6.1f us CPU/req%s  (load %s)\n",
            $1, $2, $3, $4, $5, $6, $7, $8, ($9 > 0 ? "  NON-2XX/ERRORS: " $9 : ""), $10 }'
}

echo "== nginx $("$NGINX" -v 2>&1 | sed 's/.*nginx\///') ($NGINX_WORKERS workers) vs kommo-proxy $("$PROXY_BIN" --version | awk '{print $2}') ($PROXY_BIN)"
echo "   loopback, $(nproc) cores, wrk -t$THREADS -c$CONNS -d$DURATION, $ROUNDS alternating rounds; keep-alive on both sides of both servers"
echo "   load before: $(uptime)"
echo "   (a shared machine: absolute figures are noisy; compare the ratios of the same round)"
for round in $(seq "$ROUNDS"); do
    for scen in $SCENARIOS; do
        for logs in $LOGS; do
            if (( round % 2 )); then order="nginx kommo"; else order="kommo nginx"; fi
            for server in $order; do
                run "$round" "$scen" "$logs" "$server-$logs" "$server" "$WORK/$scen.lua"
            done
        done
        if [[ $LIMITS_ROW == 1 ]]; then
            run "$round" "$scen" off kommo-limits kommo+limits "$WORK/$scen-limits.lua"
        fi
    done
done
echo "   load after: $(uptime)"

echo
echo "== summary: median over $ROUNDS rounds; ratios are kommo/nginx within each round, then their median"
python3 - "$RESULTS" <<'PY'
import sys, statistics as st
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
data = {}
for r, scen, logs, server, rps, p50, p99, cpu, bad, load in rows:
    data.setdefault((scen, logs, server), {})[r] = (float(rps), float(p50), float(p99), float(cpu), int(bad))
med = lambda xs: st.median(xs) if xs else float("nan")
print(f"{'scenario':<7} {'logs':<4} {'server':<13} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'CPU us/req':>11}   {'thr x':>6} {'p99 x':>6} {'CPU x':>6}")
bad_total = 0
for (scen, logs, server) in sorted(data, key=lambda k: (k[0] != "token", k[1], {"nginx": 0, "kommo": 1}.get(k[2], 2))):
    runs = data[(scen, logs, server)]
    bad_total += sum(v[4] for v in runs.values())
    m = [med([v[i] for v in runs.values()]) for i in range(4)]
    ratios = ""
    base = data.get((scen, logs, "nginx"))
    if server != "nginx" and base:
        common = [r for r in runs if r in base]
        thr = med([runs[r][0] / base[r][0] for r in common])
        p99 = med([runs[r][2] / base[r][2] for r in common])
        cpu = med([runs[r][3] / base[r][3] for r in common if base[r][3] > 0])
        ratios = f"   {thr:6.2f} {p99:6.2f} {cpu:6.2f}"
    print(f"{scen:<7} {logs:<4} {server:<13} {m[0]:8.0f} {m[1]:8.2f} {m[2]:8.2f} {m[3]:11.1f}{ratios}")
print("thr x = throughput ratio (target >= 1.0), p99 x = p99 ratio (target <= 1.0), CPU x = CPU per request ratio")
print("kommo+limits is compared with nginx without logs (nginx has no rate limit)")
if bad_total:
    print(f"INVALID: {bad_total} non-2xx answers or socket errors in the runs above")
    sys.exit(1)
PY
