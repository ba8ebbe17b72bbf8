#!/usr/bin/env bash
# `kyso verify` beside poppler's `pdfsig` on the twelve real-world PAdES files of
# ../shared/corpora/pades-realworld (EU DSS test data), measured in the same run: one process
# per file and tool, the median of RUNS runs per file, wall-clock milliseconds.
# kyso verifies offline (embedded DSS data only) with full coverage and revision-by-revision
# modification analysis; pdfsig checks each CMS and certificate, no modifications.
#   bench/verify_realworld.sh [KYSO] [CORPUS_DIR] [RUNS]
set -u
KYSO=${1:-build/release/kyso}
CORPUS=${2:-$(cd "$(dirname "$0")/../.." && pwd)/shared/corpora/pades-realworld}
RUNS=${3:-5}
command -v pdfsig >/dev/null || { echo "pdfsig is missing (poppler-utils)" >&2; exit 1; }
NO_INSTANCE=$(mktemp -d /tmp/kyso-bench-realworld-XXXXXX)
trap 'rm -rf "$NO_INSTANCE"' EXIT

# median_ms CMD...: the median wall-clock time of RUNS runs of CMD, in milliseconds.
median_ms() {
  local times=() start end
  for _ in $(seq 1 "$RUNS"); do
    start=$(date +%s%N)
    "$@" >/dev/null 2>&1
    end=$(date +%s%N)
    times+=($(( (end - start) / 1000 )))
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.1f", a[int((NR+1)/2)]/1000}'
}

printf '| file | signatures | kyso verify (ms) | pdfsig (ms) | ratio |\n|---|---|---|---|---|\n'
total_kyso=0 total_pdfsig=0
for f in "$CORPUS"/*.pdf; do
  n=$(pdfsig "$f" 2>/dev/null | grep -c '^Signature #')
  k=$(median_ms "$KYSO" --data "$NO_INSTANCE/none" verify --offline --format json "$f")
  p=$(median_ms pdfsig "$f")
  total_kyso=$(awk -v a="$total_kyso" -v b="$k" 'BEGIN {print a + b}')
  total_pdfsig=$(awk -v a="$total_pdfsig" -v b="$p" 'BEGIN {print a + b}')
  printf '| %s | %s | %s | %s | %s |\n' "$(basename "$f")" "$n" "$k" "$p" \
    "$(awk -v a="$k" -v b="$p" 'BEGIN {printf "%.2f×", a / b}')"
done
printf '| **all 12** | | %s | %s | %s |\n' "$total_kyso" "$total_pdfsig" \
  "$(awk -v a="$total_kyso" -v b="$total_pdfsig" 'BEGIN {printf "%.2f×", a / b}')"
echo "(median of $RUNS runs per file; load $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores)"
