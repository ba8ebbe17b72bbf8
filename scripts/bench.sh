#!/usr/bin/env bash
# Runs the benchmarks of the release build and prints the results on stdout (`make bench`
# builds first, then calls this). Figures and how to read them: docs/performance.md.
#
#   scripts/bench.sh              full run (about two minutes on 2 cores), then micro-benchmarks
#   scripts/bench.sh --quick      smoke run with small counts (seconds)
#   scripts/bench.sh --json       the end-to-end results as one JSON document (no micro run)
#   scripts/bench.sh --bulk 5000  any other option is passed to kyso_bench_ca (see --help)
#
# The figures are only as good as the machine is quiet: other builds or fuzzers on the same
# cores slow both kyso and the openssl peer, so compare ratios, and rerun when the load average
# printed first is above the number of cores.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin="$root/build/release/bench"

if [ ! -x "$bin/kyso_bench_ca" ]; then
  echo "bench: $bin/kyso_bench_ca is missing; run \`make bench\` (or cmake --preset release &&" \
       "cmake --build build/release --target kyso_bench_ca kyso_bench_micro)" >&2
  exit 1
fi

quick=0
json=0
for arg in "$@"; do
  case "$arg" in
    --quick) quick=1 ;;
    --json) json=1 ;;
  esac
done

cores=$(nproc)
read -r load _ < /proc/loadavg
if awk -v l="$load" -v c="$cores" 'BEGIN { exit !(l > c) }'; then
  echo "bench: load average $load on $cores cores: other work is running; figures will be low" >&2
fi

"$bin/kyso_bench_ca" "$@"

if [ "$json" -eq 0 ] && [ -x "$bin/kyso_bench_micro" ]; then
  echo
  echo "== micro-benchmarks (kyso_bench_micro): where one issuance spends its time =="
  min_time=0.5
  [ "$quick" -eq 1 ] && min_time=0.05
  "$bin/kyso_bench_micro" --benchmark_min_time="$min_time"
fi
