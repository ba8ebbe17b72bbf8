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

# median_ms CMD...: "WALL CPU", the medians of RUNS runs of CMD in milliseconds: wall-clock
# time and CPU time (user + system, what the process itself used; steadier when the shared
# cores are busy).
median_ms() {
  local walls=() cpus=() out
  for _ in $(seq 1 "$RUNS"); do
    /usr/bin/time -o "$NO_INSTANCE/time" -f '%e %U %S' "$@" >/dev/null 2>&1
    out=$(tail -1 "$NO_INSTANCE/time")
    walls+=("$(awk '{print $1 * 1000}' <<<"$out")")
    cpus+=("$(awk '{print ($2 + $3) * 1000}' <<<"$out")")
  done
  local m='{a[NR]=$1} END {printf "%.0f", a[int((NR+1)/2)]}'
  echo "$(printf '%s\n' "${walls[@]}" | sort -n | awk "$m") $(printf '%s\n' "${cpus[@]}" | sort -n | awk "$m")"
}

printf '| file | signatures | kyso wall | pdfsig wall | kyso CPU | pdfsig CPU | CPU ratio |\n'
printf '|---|---|---|---|---|---|---|\n'
tk=0 tp=0 ck=0 cp=0
for f in "$CORPUS"/*.pdf; do
  n=$(pdfsig "$f" 2>/dev/null | grep -c '^Signature #')
  read -r wk k_cpu < <(median_ms "$KYSO" --data "$NO_INSTANCE/none" verify --offline --format json "$f")
  read -r wp p_cpu < <(median_ms pdfsig "$f")
  tk=$((tk + wk)) tp=$((tp + wp)) ck=$((ck + k_cpu)) cp=$((cp + p_cpu))
  printf '| %s | %s | %s ms | %s ms | %s ms | %s ms | %s |\n' "$(basename "$f")" "$n" "$wk" "$wp" \
    "$k_cpu" "$p_cpu" "$(awk -v a="$k_cpu" -v b="$p_cpu" 'BEGIN {printf "%.1f×", a / (b ? b : 1)}')"
done
printf '| **all 12** | | %s ms | %s ms | %s ms | %s ms | %s |\n' "$tk" "$tp" "$ck" "$cp" \
  "$(awk -v a="$ck" -v b="$cp" 'BEGIN {printf "%.1f×", a / (b ? b : 1)}')"
echo "(median of $RUNS runs per file; load $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores)"
