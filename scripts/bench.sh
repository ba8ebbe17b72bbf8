#!/usr/bin/env bash
# Runs the benchmarks of the release build and prints the results on stdout (`make bench`
# builds first, then calls this). Figures and how to read them: docs/performance.md.
#
#   scripts/bench.sh              full run (about two minutes on 2 cores), then micro-benchmarks
#   scripts/bench.sh --quick      smoke run with small counts (seconds)
#   scripts/bench.sh --json       the end-to-end results as one JSON document (no micro run,
#                                 no serve run)
#   scripts/bench.sh --bulk 5000  any other option is passed to kyso_bench_ca (see --help)
#   scripts/bench.sh --serve-only    only the `kyso serve` benchmark (bench/serve_bench.sh)
#   scripts/bench.sh --no-serve      everything but the `kyso serve` benchmark
#   scripts/bench.sh --rss-certs 900000   adds the serve benchmark's long memory run
#   scripts/bench.sh --sign-only     only the PDF signing and verification benchmarks
#                                    (bench/sign_bench.cc, bench/verify_bench.cc)
#   scripts/bench.sh --registry-only only the registration workflow benchmark
#                                    (scripts/bench_registry.sh: SQLite and PostgreSQL, about
#                                    half an hour at full size; with --quick, a minute)
#
# The figures are only as good as the machine is quiet: other builds or fuzzers on the same
# cores slow both kyso and the openssl peer, so compare ratios, and rerun when the load average
# printed first is above the number of cores.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin="$root/build/release/bench"

quick=0
json=0
serve=1
serve_only=0
sign_only=0
registry_only=0
ca_args=()
serve_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1; ca_args+=("$1"); serve_args+=("$1") ;;
    --json) json=1; ca_args+=("$1") ;;
    --no-serve) serve=0 ;;
    --serve-only) serve_only=1 ;;
    --sign-only) sign_only=1 ;;
    --registry-only) registry_only=1 ;;
    --rss-certs) serve_args+=("$1" "$2"); shift ;;
    *) ca_args+=("$1") ;;
  esac
  shift
done

# PDF signing against podofosign (docs/performance.md, "PDF signing").
run_sign_bench() {
  local sign_args=()
  [ "$quick" -eq 1 ] && sign_args+=(--quick)
  "$bin/kyso_bench_sign" --kyso "$root/build/release/kyso" \
    --testdata "${KYSO_TESTDATA_DIR:-$root/../shared/testdata}" "${sign_args[@]+"${sign_args[@]}"}"
  echo
  "$bin/kyso_bench_verify" --kyso "$root/build/release/kyso" \
    --testdata "${KYSO_TESTDATA_DIR:-$root/../shared/testdata}" "${sign_args[@]+"${sign_args[@]}"}"
}
if [ "$sign_only" -eq 1 ]; then
  run_sign_bench
  exit $?
fi

# The registration workflow over HTTP and list latency at 900,000 certificates
# (docs/performance.md, "Registration workflow").
if [ "$registry_only" -eq 1 ]; then
  registry_args=()
  [ "$quick" -eq 1 ] && registry_args+=(--quick)
  exec "$root/scripts/bench_registry.sh" "${registry_args[@]+"${registry_args[@]}"}"
fi

if [ "$serve_only" -eq 0 ] && [ ! -x "$bin/kyso_bench_ca" ]; then
  echo "bench: $bin/kyso_bench_ca is missing; run \`make bench\` (or cmake --preset release &&" \
       "cmake --build build/release --target kyso_bench_ca kyso_bench_micro)" >&2
  exit 1
fi

cores=$(nproc)
read -r load _ < /proc/loadavg
if awk -v l="$load" -v c="$cores" 'BEGIN { exit !(l > c) }'; then
  echo "bench: load average $load on $cores cores: other work is running; figures will be low" >&2
fi

if [ "$serve_only" -eq 0 ]; then
  "$bin/kyso_bench_ca" "${ca_args[@]+"${ca_args[@]}"}"

  if [ "$json" -eq 0 ] && [ -x "$bin/kyso_bench_micro" ]; then
    echo
    echo "== micro-benchmarks (kyso_bench_micro): where one issuance spends its time =="
    min_time=0.5
    [ "$quick" -eq 1 ] && min_time=0.05
    "$bin/kyso_bench_micro" --benchmark_min_time="$min_time"
  fi
fi

# The `kyso serve` benchmark: the server, wrk, ab and `openssl ocsp` (docs/performance.md,
# "kyso serve"). Not with --json: it prints a table of its own.
if [ "$json" -eq 0 ] && { [ "$serve" -eq 1 ] || [ "$serve_only" -eq 1 ]; }; then
  echo
  if [ -x "$bin/kyso_bench_serve" ] && [ -x "$root/build/release/kyso" ]; then
    "$root/bench/serve_bench.sh" "${serve_args[@]+"${serve_args[@]}"}"
  else
    echo "bench: kyso serve benchmark skipped: build kyso and kyso_bench_serve first" \
         "(cmake --build build/release --target kyso kyso_bench_serve)" >&2
  fi
fi

if [ "$json" -eq 0 ] && [ "$serve_only" -eq 0 ] && [ -x "$bin/kyso_bench_sign" ]; then
  echo
  echo "== PDF signing (kyso_bench_sign) against podofosign =="
  run_sign_bench
fi
