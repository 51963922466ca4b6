#!/usr/bin/env bash
# Fuzz the core's readers of untrusted input (fuzz/, cargo-fuzz + libFuzzer on the nightly toolchain).
#
#   scripts/fuzz.sh [SECONDS] [TARGET…]   every target (or the named ones) for SECONDS each (default 60)
#   scripts/fuzz.sh --list                the targets
#   scripts/fuzz.sh 600                   the benchmark run: 10 minutes per target
#
# Prints, per target: executions, executions per second, coverage (libFuzzer's final `cov` and `ft`), corpus size and
# findings (crash, timeout, out-of-memory and leak files); exits 1 if any target found something. Each target runs
# with -rss_limit_mb=512 -timeout=5, so a reader that allocates or loops without bound is a finding too.
#
# The seed corpora in fuzz/corpus/<target>/ are read, never written: the corpus grown by a run goes to
# artifacts/fuzz/corpus/<target>/ (git-ignored, started afresh from the seeds on each run) and findings to
# artifacts/fuzz/findings/<target>/. Reproduce a finding with
#   cargo +nightly fuzz run -a <target> artifacts/fuzz/findings/<target>/<file>     (from fuzz/'s parent)
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
export PATH="$HOME/.cargo/bin:$PATH"

TARGETS=(callback pasted_return host token_answer setup_link jwt api_answer proxy_answer env_block token_body)

if [[ ${1:-} == --list ]]; then
  printf '%s\n' "${TARGETS[@]}"
  exit 0
fi
SECONDS_EACH=60
if [[ ${1:-} =~ ^[0-9]+$ ]]; then
  SECONDS_EACH=$1
  shift
fi
if (($#)); then
  for t in "$@"; do
    [[ " ${TARGETS[*]} " == *" $t "* ]] || { echo "unknown target $t (scripts/fuzz.sh --list)" >&2; exit 2; }
  done
  TARGETS=("$@")
fi

if ! cargo +nightly --version >/dev/null 2>&1; then
  echo "fuzz.sh: needs the nightly toolchain (rustup toolchain install nightly)" >&2
  exit 2
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz.sh: installing cargo-fuzz" >&2
  cargo install cargo-fuzz --locked
fi

# Debug assertions on (-a): an arithmetic overflow in a reader is a finding, as in the tests.
FUZZ=(cargo +nightly fuzz)
BUILD_FLAGS=(-a)
OUT=$ROOT/artifacts/fuzz
mkdir -p "$OUT/logs"
echo "building ${#TARGETS[@]} target(s)…" >&2
for t in "${TARGETS[@]}"; do
  "${FUZZ[@]}" build "${BUILD_FLAGS[@]}" "$t" >/dev/null 2>"$OUT/logs/build.log" || {
    cat "$OUT/logs/build.log" >&2
    exit 1
  }
done
status=0
rows=()
for t in "${TARGETS[@]}"; do
  corpus=$OUT/corpus/$t
  findings=$OUT/findings/$t
  rm -rf "$corpus" "$findings"
  mkdir -p "$corpus" "$findings"
  seeds=$ROOT/fuzz/corpus/$t
  mkdir -p "$seeds"
  args=(-max_total_time="$SECONDS_EACH" -rss_limit_mb=512 -timeout=5 -print_final_stats=1
    -artifact_prefix="$findings/")
  case $t in
    callback | pasted_return | setup_link) dict=query ;;
    host) dict=host ;;
    env_block) dict=env ;;
    token_body) dict=body ;;
    *) dict=json ;;
  esac
  args+=(-dict="$ROOT/fuzz/dict/$dict.dict")
  log=$OUT/logs/$t.log
  echo "fuzzing $t for ${SECONDS_EACH}s…" >&2
  # New inputs land in the first corpus directory (the git-ignored copy); the seeds are only read.
  set +e
  "${FUZZ[@]}" run "${BUILD_FLAGS[@]}" "$t" "$corpus" "$seeds" -- "${args[@]}" >"$log" 2>&1
  rc=$?
  set -e
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  per_s=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  last=$(grep -E '^#[0-9]+' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' <<<"$last" | grep -o '[0-9]*' || true)
  ft=$(grep -o 'ft: [0-9]*' <<<"$last" | grep -o '[0-9]*' || true)
  corp=$(grep -o 'corp: [0-9]*' <<<"$last" | grep -o '[0-9]*' || true)
  found=$(find "$findings" -type f | wc -l)
  if ((found > 0 || rc != 0)); then
    status=1
    ((found > 0)) || found="run failed (rc $rc)"
  fi
  rows+=("$(printf '%-14s %6ss %12s %8s %6s %7s %6s  %s' "$t" "$SECONDS_EACH" "${execs:-?}" "${per_s:-?}" \
    "${cov:-?}" "${ft:-?}" "${corp:-?}" "$found")")
done

printf '\n%-14s %7s %12s %8s %6s %7s %6s  %s\n' target time execs exec/s cov ft corpus findings
printf '%s\n' "${rows[@]}"
if ((status)); then
  echo
  echo "FINDINGS (logs in artifacts/fuzz/logs/, inputs in artifacts/fuzz/findings/):"
  find "$OUT/findings" -type f | sed "s|^$ROOT/||"
fi
exit $status
