#!/usr/bin/env bash
# The `kyso serve` benchmark: OCSP (pre-signed and freshly signed with nonces), time-stamping,
# latency and memory, each figure printed next to a peer measured in the same run:
# `openssl ocsp` as a responder over the same certificates, and `openssl ts -reply` for tokens.
# Method and figures: docs/performance.md, section "kyso serve".
#
#   bench/serve_bench.sh                   full run: 100,000 certificates, W=1 and W=2 (~8 min)
#   bench/serve_bench.sh --quick           smoke run: 2,000 certificates, short phases (~1 min)
#   bench/serve_bench.sh --rss-certs 900000
#                                          adds the long memory run: the store filled to 900,000
#                                          certificates, every one of them queried (~15 min more)
# Other options:
#   --certs N          certificates in the main run (default 100000)
#   --pool N           requests with nonces, and time-stamp queries, per pool (default 10000)
#   --workers "1 2"    kyso serve --workers values to measure (default "1 2")
#   --duration S       seconds per wrk phase (default 10)
#   --ab-requests N    requests per `ab` run (default 20000)
#   --access-log MODE  "off" (default: the figures measure the responders) or "on" (as
#                      `kyso serve` runs by default: a JSON line per request, to a file)
#   --profile          perf record the server during each wrk phase; print the top symbols
#   --quiet-wait S     before each measurement, wait up to S seconds (default 120; 0 in --quick)
#                      for other processes on the machine to use < 0.25 core
#   --keep             keep the scratch directory
#   --kyso PATH        kyso binary (default build/release/kyso)
#   --driver PATH      kyso_bench_serve (default build/release/bench/kyso_bench_serve)
#
# Needs: wrk, ab (apache2-utils), openssl, unshare and ip (util-linux, iproute2), root for
# `unshare -n` (openssl ocsp binds all interfaces, so it runs in a namespace of its own with
# only loopback; its clients run in the same namespace). `make bench` installs wrk and ab.
# The load generator runs on the same 2 cores as the server: read the ratios, and the CPU
# columns, before the absolute figures.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
KYSO=$root/build/release/kyso
DRIVER=$root/build/release/bench/kyso_bench_serve
LUA=$root/bench/lua/post.lua

quick=0
certs=100000
pool=10000
workers="1 2"
duration=10
ab_n=20000
cycle_n=30000
rss_certs=0
access_log=off
quiet_max=120
quiet_cores=0.25
profile=0
keep=0
while [ $# -gt 0 ]; do
  case "$1" in
    --quick)
      quick=1; certs=2000; pool=500; workers="1"; duration=3; ab_n=2000; cycle_n=2000; quiet_max=0 ;;
    --certs) certs=$2; shift ;;
    --pool) pool=$2; shift ;;
    --workers) workers=$2; shift ;;
    --duration) duration=$2; shift ;;
    --ab-requests) ab_n=$2; shift ;;
    --rss-certs) rss_certs=$2; shift ;;
    --access-log) access_log=$2; shift ;;
    --profile) profile=1 ;;
    --quiet-wait) quiet_max=$2; shift ;;
    --keep) keep=1 ;;
    --kyso) KYSO=$2; shift ;;
    --driver) DRIVER=$2; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "serve_bench: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
# --quick with explicit counts after it: the explicit counts win (they were parsed later).
[ "$pool" -gt "$certs" ] && pool=$certs

say() { echo "[serve-bench] $*" >&2; }
die() { echo "serve_bench: $*" >&2; exit 1; }

for tool in wrk ab openssl unshare ip awk curl; do
  command -v "$tool" >/dev/null || die "$tool is missing; run scripts/install-deps.sh --bench"
done
[ "$profile" -eq 0 ] || command -v perf >/dev/null || die "--profile needs perf (linux-perf)"
[ -x "$KYSO" ] || die "$KYSO is missing; build it: cmake --build build/release --target kyso"
[ -x "$DRIVER" ] || die "$DRIVER is missing; cmake --build build/release --target kyso_bench_serve"
"$KYSO" --help 2>/dev/null | grep -qE '^ +serve ' || die "$KYSO has no \`serve\` command yet"
[ "$(id -u)" -eq 0 ] || die "root is needed for \`unshare -n\` (the openssl ocsp peer)"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/kyso-serve-bench-XXXXXX")
DATA=$WORK/data
REQ=$WORK/req
mkdir -p "$REQ"
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill -TERM "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  if [ "$keep" -eq 1 ]; then say "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

declare -A R  # results: key -> value
declare -a NOTES CHECKS
R[loadavg_start]=$(cut -d' ' -f1-3 /proc/loadavg)
if awk -v l="${R[loadavg_start]%% *}" -v c="$(nproc)" 'BEGIN { exit !(l > c / 2) }'; then
  NOTES+=("load average ${R[loadavg_start]} at start on $(nproc) cores: other work shares the cores the server and the load generator need; figures will be low.")
fi
R[date]=$(date -u +%Y-%m-%dT%H:%M:%SZ)
say "scratch $WORK; load average ${R[loadavg_start]}; $(nproc) cores"
R[steal_start]=$(awk -v t="$(getconf CLK_TCK)" '$1 == "cpu" { printf "%.2f", $9 / t }' /proc/stat)
R[t_start]=$(date +%s.%N)

# --- helpers ---------------------------------------------------------------------------------

# kB of a /proc/PID/status field, as MB (10^6 bytes).
mem_mb() { awk -v f="$2:" '$1 == f { printf "%.1f", $2 * 1024 / 1e6 }' "/proc/$1/status"; }
# CPU seconds (user + system, all threads) of a live process.
cpu_s() { awk -v t="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / t }' "/proc/$1/stat"; }
# Seconds of CPU the whole machine spent busy (all cores), from /proc/stat.
busy_s() { awk -v t="$(getconf CLK_TCK)" '$1 == "cpu" { printf "%.2f", ($2+$3+$4+$7+$8) / t }' /proc/stat; }
# Seconds the hypervisor ran something else while this machine's vCPUs wanted to run (steal).
steal_s() { awk -v t="$(getconf CLK_TCK)" '$1 == "cpu" { printf "%.2f", $9 / t }' /proc/stat; }
fsub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a - b }'; }

# wrk_run NAME URL POOL CONTENT_TYPE: one wrk phase against the server; records
# NAME.rate NAME.p50 NAME.p99 NAME.non2xx NAME.errors NAME.cpu_us (server CPU per response)
# NAME.rss, NAME.busy (machine CPU-seconds per wall second: 2.0 = both cores busy).
wrk_run() {
  local name=$1 url=$2 pool_file=$3 ctype=$4 out=$WORK/$1.wrk
  local cpu0 busy0 perf_pid=""
  quiet_wait "$name"
  local signed0 hits0
  signed0=$(metric kyso_ocsp_signed_total); hits0=$(metric kyso_ocsp_cache_hits_total)
  local misses0 wall0 wall
  misses0=$(metric kyso_ocsp_cache_misses_total)
  local steal0
  cpu0=$(cpu_s "$SERVER_PID"); busy0=$(busy_s); steal0=$(steal_s); wall0=$(date +%s.%N)
  if [ "$profile" -eq 1 ]; then
    perf record -F 999 -g -p "$SERVER_PID" -o "$WORK/$name.perf" -- sleep "$duration" \
      >/dev/null 2>&1 &
    perf_pid=$!
  fi
  # In a subshell, `times` then reports wrk's own CPU (its second line: children's user, system;
  # not through a pipe, which would run it in a subshell of its own).
  ( wrk -t1 -c64 -d"${duration}s" --latency -s "$LUA" "$url" -- "$pool_file" "$ctype" > "$out" 2>&1 \
      || exit 1
    times > "$out.times" ) || { cat "$out" >&2; die "wrk failed ($name)"; }
  awk 'NR == 2 { for (i = 1; i <= 2; i++) { split($i, a, "m"); sub("s", "", a[2]);
    t[i] = a[1] * 60 + a[2] } print t[1], t[2] }' "$out.times" > "$out.time"
  local cpu1 busy1
  cpu1=$(cpu_s "$SERVER_PID"); busy1=$(busy_s); wall=$(fsub "$(date +%s.%N)" "$wall0")
  R[$name.steal]=$(awk -v a="$(steal_s)" -v b="$steal0" -v d="$wall" 'BEGIN { printf "%.2f", (a - b) / d }')
  [ -n "$perf_pid" ] && wait "$perf_pid" 2>/dev/null || true
  R[$name.rate]=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$out")
  local total non2xx
  total=$(awk '/requests in/ { print $1 }' "$out")
  non2xx=$(awk '/Non-2xx or 3xx responses:/ { print $NF }' "$out")
  R[$name.non2xx]=${non2xx:-0}
  R[$name.errors]=$(awk '/Socket errors:/ { gsub(",", ""); print $4 + $6 + $8 + $10 }' "$out")
  R[$name.errors]=${R[$name.errors]:-0}
  # Latency Distribution lines: "50%  1.23ms" (us, ms or s).
  for p in 50 99; do
    R[$name.p$p]=$(awk -v p="$p%" '$1 == p { v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v);
      if (u == "us") v /= 1000; else if (u == "s") v *= 1000; else if (u == "m") v *= 60000;
      printf "%.2f", v }' "$out")
  done
  R[$name.cpu_us]=$(awk -v c="$(fsub "$cpu1" "$cpu0")" -v n="$total" 'BEGIN { printf "%.1f", c * 1e6 / n }')
  # Cores: CPU-seconds over the wall time between the two readings (a little over $duration).
  R[$name.busy]=$(awk -v b="$(fsub "$busy1" "$busy0")" -v d="$wall" 'BEGIN { printf "%.2f", b / d }')
  R[$name.srv_cores]=$(awk -v c="$(fsub "$cpu1" "$cpu0")" -v d="$wall" 'BEGIN { printf "%.2f", c / d }')
  R[$name.wrk_cores]=$(awk -v d="$wall" '{ printf "%.2f", ($1 + $2) / d }' "$out.time")
  R[$name.wrk_us]=$(awk -v n="$total" '{ printf "%.1f", ($1 + $2) * 1e6 / n }' "$out.time")
  # What the rest of the machine took meanwhile (other users' builds): the figures' noise.
  R[$name.other_cores]=$(awk -v b="${R[$name.busy]}" -v s="${R[$name.srv_cores]}" \
    -v w="${R[$name.wrk_cores]}" 'BEGIN { o = b - s - w; printf "%.2f", o < 0 ? 0 : o }')
  R[$name.rss]=$(mem_mb "$SERVER_PID" VmRSS)
  # OCSP answers signed during the phase, and answers served pre-signed (memory or store).
  R[$name.signed]=$(awk -v a="$(metric kyso_ocsp_signed_total)" -v b="$signed0" 'BEGIN { print a - b }')
  R[$name.hits]=$(awk -v a="$(metric kyso_ocsp_cache_hits_total)" -v b="$hits0" 'BEGIN { print a - b }')
  R[$name.misses]=$(awk -v a="$(metric kyso_ocsp_cache_misses_total)" -v b="$misses0" 'BEGIN { print a - b }')
  say "$name: ${R[$name.rate]}/s, p99 ${R[$name.p99]} ms; CPU per response: server" \
      "${R[$name.cpu_us]} us, wrk ${R[$name.wrk_us]} us; cores: server ${R[$name.srv_cores]}," \
      "wrk ${R[$name.wrk_cores]}, others ${R[$name.other_cores]} (machine ${R[$name.busy]}," \
      "stolen by the hypervisor ${R[$name.steal]});" \
      "non-2xx ${R[$name.non2xx]}, socket errors ${R[$name.errors]}, RSS ${R[$name.rss]} MB;" \
      "OCSP answers from memory ${R[$name.hits]}, not from memory ${R[$name.misses]}, signed ${R[$name.signed]}"
  if [ -n "$perf_pid" ]; then
    # By library first (libcrypto has no symbols on Debian), then the top symbols.
    { perf report -i "$WORK/$name.perf" --no-children --stdio --sort dso -g none 2>/dev/null \
        | grep -v '^#' | grep -v '^$' | head -6
      perf report -i "$WORK/$name.perf" --no-children --stdio --percent-limit 1.5 -g none \
        2>/dev/null | grep -v '^#' | grep -v '^$' | head -25; } > "$WORK/$name.perf.txt" || true
    { echo "== perf: kyso serve during $name (self time, top symbols) =="; cat "$WORK/$name.perf.txt"; } >&2
  fi
}

# metric NAME: the value of one sample of the server's /metrics (0 when absent).
metric() {
  curl -s "$URL/metrics" | awk -v n="$1" '$1 == n || index($1, n "{") == 1 { v = $2 } END { print v + 0 }'
}

# wait_warm KEY: the server loads pre-signed answers into memory in the background after it
# starts; wait until kyso_ocsp_cache_entries stops growing. Records KEY.warm_entries and
# KEY.warm_seconds.
wait_warm() {
  local key=$1 prev=-1 cur stable=0 t0
  t0=$(date +%s.%N)
  for _ in $(seq 1 600); do
    cur=$(metric kyso_ocsp_cache_entries)
    if [ "$cur" = "$prev" ] && [ "$cur" != 0 ]; then
      stable=$((stable + 1))
      [ "$stable" -ge 3 ] && break
    else
      stable=0
    fi
    prev=$cur
    sleep 0.5
  done
  R[$key.warm_entries]=$cur
  R[$key.warm_seconds]=$(fsub "$(date +%s.%N)" "$t0")
  say "OCSP cache warm: $cur answers in memory after ${R[$key.warm_seconds]} s"
}

# quiet_wait NAME: the machine is shared; before a measurement, wait (up to $quiet_max seconds)
# until other processes use less than $quiet_cores of a core over one second. Records
# NAME.quiet_wait (seconds waited) and, when the wait timed out, a note.
quiet_wait() {
  local name=$1 waited=0 b0 b1
  [ "$quiet_max" -gt 0 ] || return 0
  while :; do
    b0=$(busy_s); sleep 1; b1=$(busy_s)
    if awk -v d="$(fsub "$b1" "$b0")" -v q="$quiet_cores" 'BEGIN { exit !(d <= q) }'; then break; fi
    waited=$((waited + 1))
    if [ "$waited" -ge "$quiet_max" ]; then
      NOTES+=("$name: the machine did not become quiet within ${quiet_max} s (other processes busy); measured anyway.")
      break
    fi
  done
  R[$name.quiet_wait]=$waited
  [ "$waited" -gt 0 ] && say "$name: waited ${waited} s for other processes to quiet down"
  return 0
}

# ab_parse NAME FILE: NAME.rate NAME.p99 (ms, whole ms as ab prints it) NAME.errors NAME.length
ab_parse() {
  local name=$1 out=$2
  R[$name.rate]=$(awk '/^Requests per second:/ { printf "%.0f", $4 }' "$out")
  R[$name.p99]=$(awk '$1 == "99%" { print $2 }' "$out")
  # Connect/Receive/Exceptions failures and non-2xx answers count as errors; "Length" failures
  # do not: ECDSA signatures (so nonce responses and tokens) vary by a byte or two.
  R[$name.errors]=$(awk '/Failed requests:/ { f = $3 } /Connect: / { gsub(/[(),]/, ""); c = $2 + $4 + $8 }
    /Non-2xx responses:/ { n = $3 } END { printf "%d", c + n }' "$out")
  R[$name.length]=$(awk '/Length: / { gsub(/[(),]/, ""); print $6 }' "$out")
  R[$name.length]=${R[$name.length]:-0}
  [ -n "${R[$name.rate]}" ] || { cat "$out" >&2; die "ab gave no result ($name)"; }
}

# load_parse NAME "key=value ..." from kyso_bench_serve load.
load_parse() {
  local name=$1 line=$2 kv
  for kv in $line; do R[$name.${kv%%=*}]=${kv#*=}; done
}

start_server() {  # start_server WORKERS [extra serve options]
  local w=$1; shift
  "$KYSO" --data "$DATA" --json serve --listen 127.0.0.1:0 --workers "$w" \
    --access-log "$log_arg" "$@" > "$WORK/server.json" 2> "$WORK/server.err" &
  SERVER_PID=$!
  for _ in $(seq 1 300); do
    grep -q '"port"' "$WORK/server.json" 2>/dev/null && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.err" >&2; die "kyso serve exited"; }
    sleep 0.1
  done
  PORT=$(sed -n 's/.*"port":\([0-9]*\).*/\1/p' "$WORK/server.json" | head -1)
  [ -n "$PORT" ] || { cat "$WORK/server.err" >&2; die "kyso serve did not announce its port"; }
  URL=http://127.0.0.1:$PORT
}

stop_server() {
  kill -TERM "$SERVER_PID"
  wait "$SERVER_PID" || die "kyso serve exited with $? on SIGTERM"
  SERVER_PID=""
}

# Pre-sign with `kyso ocsp presign` when this build has it; returns 1 otherwise.
presign() {  # presign KEY
  if ! "$KYSO" ocsp --help 2>/dev/null | grep -qE '^ +presign '; then return 1; fi
  local t0 t1
  t0=$(date +%s.%N)
  "$KYSO" --data "$DATA" ocsp presign > "$WORK/presign.out" 2>&1 \
    || { cat "$WORK/presign.out" >&2; die "kyso ocsp presign failed"; }
  t1=$(date +%s.%N)
  R[$1.seconds]=$(fsub "$t1" "$t0")
  say "kyso ocsp presign: ${R[$1.seconds]} s ($(tail -1 "$WORK/presign.out"))"
  return 0
}

log_arg=off
if [ "$access_log" = on ]; then log_arg=$WORK/access.log; fi

# --- data ------------------------------------------------------------------------------------
cat > "$WORK/fast.json" <<'JSON'
{"pbkdf2_iterations": 2000,
 "root": {"key": "ec:P-384"},
 "issuing": {"key": "ec:P-256"}}
JSON
say "kyso init --demo (P-384 root, P-256 issuing CA and OCSP/TSA keys)"
"$KYSO" --data "$DATA" init --demo --no-demo-data --config "$WORK/fast.json" > "$WORK/init.out" 2>&1 \
  || { cat "$WORK/init.out" >&2; die "kyso init failed"; }
say "issuing $certs certificates (IssueBatch) and writing the request pools"
prep=$("$DRIVER" prepare --data "$DATA" --out "$REQ" --certs "$certs" --nonce-pool "$pool" \
  --tsa-pool "$pool")
load_parse prep "$prep"
say "prepared: $prep"
[ "$(wc -l < "$REQ/index.txt")" -eq "$certs" ] || die "index.txt does not have $certs lines"

presigned=1
presign presign || presigned=0
if [ "$presigned" -eq 0 ]; then
  NOTES+=("\`kyso ocsp presign\` is not in this build: the response cache was warmed instead by sending every nonce-less request once (keep-alive, 8 connections) before measuring.")
fi

ISSUING=$DATA/certs/issuing.pem
ROOT=$DATA/certs/root.pem
cat "$ISSUING" "$DATA/certs/tsa.pem" > "$WORK/tsa-untrusted.pem"

# --- kyso serve ------------------------------------------------------------------------------
first_w=1
for w in $workers; do
  k=kyso.w$w
  say "kyso serve --workers $w (access log: $access_log)"
  start_server "$w"
  R[$k.rss_start]=$(mem_mb "$SERVER_PID" VmRSS)
  if [ "$presigned" -eq 1 ]; then
    wait_warm "$k"
  else
    line=$("$DRIVER" load --port "$PORT" --path /ocsp --requests "$REQ/ocsp-nononce.bin" \
      --count "$certs" --connections 8 --keepalive) || die "warm-up pass failed: $line"
    load_parse "$k.warm" "$line"
    say "warm-up pass over $certs certificates: ${R[$k.warm.seconds]} s"
  fi
  R[$k.rss_warm]=$(mem_mb "$SERVER_PID" VmRSS)

  if [ "$first_w" -eq 1 ]; then
    # Correctness, judged by openssl: responses verify against our chain, the nonce is echoed,
    # the status is good; the token verifies against its query.
    curl -s -o "$WORK/r1.der" --data-binary @"$REQ/ocsp-nononce.der" \
      -H 'Content-Type: application/ocsp-request' "$URL/ocsp"
    out=$(openssl ocsp -reqin "$REQ/ocsp-nononce.der" -respin "$WORK/r1.der" -CAfile "$ROOT" \
      -verify_other "$ISSUING" -resp_text 2>&1)
    [[ "$out" == *"Response verify OK"* && "$out" == *"Cert Status: good"* ]] \
      || die "kyso's nonce-less OCSP response does not verify as good: $out"
    CHECKS+=("kyso, nonce-less request: openssl ocsp verifies the response against the chain, status good")
    curl -s -o "$WORK/r2.der" --data-binary @"$REQ/ocsp-nonce.der" \
      -H 'Content-Type: application/ocsp-request' "$URL/ocsp"
    out=$(openssl ocsp -reqin "$REQ/ocsp-nonce.der" -respin "$WORK/r2.der" -CAfile "$ROOT" \
      -verify_other "$ISSUING" -resp_text 2>&1)
    [[ "$out" == *"Response verify OK"* && "$out" == *"OCSP Nonce"* \
       && "$out" != *"nonce verify error"* && "$out" != *"no nonce in response"* ]] || die "kyso's nonce response is wrong: $out"
    CHECKS+=("kyso, request with nonce: response verifies and echoes the nonce (openssl ocsp)")
    curl -s -o "$WORK/t1.tsr" --data-binary @"$REQ/tsa.der" \
      -H 'Content-Type: application/timestamp-query' "$URL/tsa"
    out=$(openssl ts -verify -in "$WORK/t1.tsr" -queryfile "$REQ/tsa.der" -CAfile "$ROOT" \
      -untrusted "$WORK/tsa-untrusted.pem" 2>&1)
    [[ "$out" == *"Verification: OK"* ]] || die "kyso's time-stamp token does not verify: $out"
    CHECKS+=("kyso, time-stamp query (SHA-256, nonce, certReq false): openssl ts -verify OK")
  fi

  # Like for like with the peer: the same ab command, one request file, new connection each.
  quiet_wait "$k.ab"
  timeout 300 ab -s 10 -c8 -n "$ab_n" -p "$REQ/ocsp-nononce.der" -T application/ocsp-request "$URL/ocsp" \
    > "$WORK/$k.ab_nononce" 2>&1 || true
  ab_parse "$k.ab_nononce" "$WORK/$k.ab_nononce"
  timeout 300 ab -s 10 -c8 -n "$ab_n" -p "$REQ/ocsp-nonce.der" -T application/ocsp-request "$URL/ocsp" \
    > "$WORK/$k.ab_nonce" 2>&1 || true
  ab_parse "$k.ab_nonce" "$WORK/$k.ab_nonce"
  timeout 300 ab -s 10 -c8 -n "$ab_n" -p "$REQ/tsa.der" -T application/timestamp-query "$URL/tsa" \
    > "$WORK/$k.ab_tsa" 2>&1 || true
  ab_parse "$k.ab_tsa" "$WORK/$k.ab_tsa"
  say "ab -c8: nonce-less ${R[$k.ab_nononce.rate]}/s, nonce ${R[$k.ab_nonce.rate]}/s, TSA ${R[$k.ab_tsa.rate]}/s"
  # Cycling over all certificates, 8 connections, a new connection per request (as the peer).
  quiet_wait "$k.cycle"
  line=$("$DRIVER" load --port "$PORT" --path /ocsp --requests "$REQ/ocsp-nononce.bin" \
    --count "$cycle_n" --connections 8) || die "load client: $line"
  load_parse "$k.cycle" "$line"
  line=$("$DRIVER" load --port "$PORT" --path /ocsp --requests "$REQ/ocsp-nonce.bin" \
    --count "$cycle_n" --connections 8) || die "load client: $line"
  load_parse "$k.cycle_nonce" "$line"
  say "8 connections cycling: nonce-less ${R[$k.cycle.rate]}/s, nonce ${R[$k.cycle_nonce.rate]}/s"

  wrk_run "$k.wrk_nononce" "$URL/ocsp" "$REQ/ocsp-nononce.bin" application/ocsp-request
  wrk_run "$k.wrk_nonce" "$URL/ocsp" "$REQ/ocsp-nonce.bin" application/ocsp-request
  wrk_run "$k.wrk_tsa" "$URL/tsa" "$REQ/tsa.bin" application/timestamp-query
  R[$k.rss_end]=$(mem_mb "$SERVER_PID" VmRSS)
  R[$k.hwm]=$(mem_mb "$SERVER_PID" VmHWM)
  R[$k.threads]=$(awk '/^Threads:/ { print $2 }' "/proc/$SERVER_PID/status")
  stop_server
  first_w=0
done

# --- the peers -------------------------------------------------------------------------------
say "peer: openssl ocsp over the same $certs certificates (in unshare -n)"
openssl pkey -in "$DATA/keys/ocsp-signer.key.pem" -passin "file:$DATA/demo-passphrase" \
  -out "$WORK/ocsp.key" 2>/dev/null
openssl pkey -in "$DATA/keys/tsa.key.pem" -passin "file:$DATA/demo-passphrase" \
  -out "$WORK/tsa.key" 2>/dev/null

# Runs inside the namespace. Starts `openssl ocsp` (with $1 extra options), waits for it with
# real requests (never an empty connection, which makes it spin), checks one response, then
# runs the same ab commands and the same cycling client as against kyso, and its RSS.
cat > "$WORK/peer.sh" <<'PEER'
set -u
W=$1; REQ=$2; DATA=$3; AB_N=$4; CYCLE_N=$5; DRIVER=$6; TAG=$7; WITH_AB=$8; shift 8
ip link set lo up
P=19080
PID=""
start_peer() {
  openssl ocsp -index "$REQ/index.txt" -CA "$DATA/certs/issuing.pem" \
    -rsigner "$DATA/certs/ocsp-signer.pem" -rkey "$W/ocsp.key" -port $P "$@" \
    >> "$W/$TAG.log" 2>&1 &
  PID=$!
  for _ in $(seq 1 600); do
    if openssl ocsp -reqin "$REQ/ocsp-nononce.der" -url "http://127.0.0.1:$P/" \
        -respout "$W/$TAG.r1.der" -noverify >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  echo "peer did not start"; cat "$W/$TAG.log"; kill $PID; exit 1
}
stop_peer() {  # -multi: the parent stops its children on SIGTERM; wait for all of them.
  local kids k
  kids=$(ps -o pid= --ppid $PID | tr -d ' ')
  kill $PID $kids 2>/dev/null; wait $PID 2>/dev/null
  for k in $kids; do while kill -0 "$k" 2>/dev/null; do sleep 0.1; done; done
}
mem() { awk -v f="$1:" '$1 == f { printf "%.1f", $2 * 1024 / 1e6 }' /proc/$PID/status; }

start_peer "$@"
echo "rss_start $(mem VmRSS)"
openssl ocsp -reqin "$REQ/ocsp-nonce.der" -url "http://127.0.0.1:$P/" -respout "$W/$TAG.r2.der" \
  -CAfile "$DATA/certs/root.pem" -verify_other "$DATA/certs/issuing.pem" -resp_text \
  > "$W/$TAG.check" 2>&1
# The cycling client never opens a connection without sending on it.
echo "cycle $("$DRIVER" load --port $P --path / --requests "$REQ/ocsp-nononce.bin" \
  --count "$CYCLE_N" --connections 8)"
if [ -f "$REQ/ocsp-nonce.bin" ]; then
  echo "cycle_nonce $("$DRIVER" load --port $P --path / --requests "$REQ/ocsp-nonce.bin" \
    --count "$CYCLE_N" --connections 8)"
fi
echo "rss_end $(mem VmRSS)"
echo "hwm $(mem VmHWM)"
stop_peer
# ab can leave openssl ocsp spinning (it sometimes opens a connection it never uses, which
# makes the responder spin; with -multi always): a fresh responder for each ab run, and a
# bounded ab. A run that times out is reported as such, with no figure.
if [ "$WITH_AB" = ab ]; then
  for kind in nononce nonce; do
    start_peer "$@"
    timeout 300 ab -s 10 -c8 -n "$AB_N" -p "$REQ/ocsp-$kind.der" -T application/ocsp-request \
      "http://127.0.0.1:$P/" > "$W/$TAG.ab_$kind" 2>&1
    echo "ab_$kind rc=$?"
    stop_peer
  done
fi
exit 0
PEER

run_peer() {  # run_peer TAG ab|no-ab [openssl ocsp options]
  local tag=$1 with_ab=$2; shift 2
  quiet_wait "$tag"
  unshare -n bash "$WORK/peer.sh" "$WORK" "$REQ" "$DATA" "$ab_n" "$cycle_n" "$DRIVER" "$tag" \
    "$with_ab" "$@" > "$WORK/$tag.out" 2>&1 \
    || { cat "$WORK/$tag.out" >&2; die "openssl ocsp peer ($tag) failed"; }
  R[$tag.rss_start]=$(awk '$1 == "rss_start" { print $2 }' "$WORK/$tag.out")
  R[$tag.rss_end]=$(awk '$1 == "rss_end" { print $2 }' "$WORK/$tag.out")
  R[$tag.hwm]=$(awk '$1 == "hwm" { print $2 }' "$WORK/$tag.out")
  load_parse "$tag.cycle" "$(sed -n 's/^cycle //p' "$WORK/$tag.out")"
  load_parse "$tag.cycle_nonce" "$(sed -n 's/^cycle_nonce //p' "$WORK/$tag.out")"
  if [ "$with_ab" = ab ]; then
    local kind
    for kind in nononce nonce; do
      if grep -q "^ab_$kind rc=0" "$WORK/$tag.out"; then
        ab_parse "$tag.ab_$kind" "$WORK/$tag.ab_$kind"
      else
        NOTES+=("openssl ocsp stopped answering during \`ab\` ($kind requests; $(grep -m1 -E 'timeout|expired|apr_' "$WORK/$tag.ab_$kind" | tr -d '\r')): no figure for that row.")
      fi
    done
  fi
  local out
  out=$(openssl ocsp -reqin "$REQ/ocsp-nononce.der" -respin "$WORK/$tag.r1.der" -CAfile "$ROOT" \
    -verify_other "$ISSUING" -resp_text 2>&1)
  [[ "$out" == *"Response verify OK"* && "$out" == *"Cert Status: good"* ]] \
    || die "the peer's answer is not a verified good: $out"
  [[ "$(cat "$WORK/$tag.check")" == *"Response verify OK"* ]] || die "peer nonce response: $(cat "$WORK/$tag.check")"
  say "$tag: cycling 8 connections: nonce-less ${R[$tag.cycle.rate]}/s, nonce ${R[$tag.cycle_nonce.rate]}/s;" \
      "ab -c8: ${R[$tag.ab_nononce.rate]:-}/s, ${R[$tag.ab_nonce.rate]:-}/s; RSS ${R[$tag.rss_end]} MB"
}
run_peer peer1 ab
CHECKS+=("openssl ocsp (peer) answers good for the same certificates, verified against the same chain")
run_peer peer2 no-ab -multi 2

# Time-stamping peer: `openssl ts -reply`, one process per token, two at a time (two cores).
say "peer: openssl ts -reply, one process per token"
ts_n=$(( quick ? 40 : 400 ))
for i in 1 2; do
  cat > "$WORK/ts$i.cnf" <<CNF
[ tsa ]
default_tsa = tsa_config
[ tsa_config ]
serial = $WORK/tsaserial$i
crypto_device = builtin
signer_cert = $DATA/certs/tsa.pem
signer_key = $WORK/tsa.key
signer_digest = sha256
default_policy = 2.16.704.1.99.2.1
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = no
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
CNF
  echo 01 > "$WORK/tsaserial$i"
done
openssl ts -reply -config "$WORK/ts1.cnf" -queryfile "$REQ/tsa.der" -out "$WORK/peer.tsr" 2>/dev/null
out=$(openssl ts -verify -in "$WORK/peer.tsr" -queryfile "$REQ/tsa.der" -CAfile "$ROOT" \
  -untrusted "$WORK/tsa-untrusted.pem" 2>&1)
[[ "$out" == *"Verification: OK"* ]] || die "openssl ts -reply's token does not verify: $out"
quiet_wait peer_ts
t0=$(date +%s.%N)
for i in 1 2; do
  ( for _ in $(seq 1 $((ts_n / 2))); do
      openssl ts -reply -config "$WORK/ts$i.cnf" -queryfile "$REQ/tsa.der" -out "$WORK/peer$i.tsr" \
        2>/dev/null || exit 1
    done ) &
done
wait
t1=$(date +%s.%N)
R[peer_ts.rate]=$(awk -v n="$ts_n" -v s="$(fsub "$t1" "$t0")" 'BEGIN { printf "%.0f", n / s }')
say "openssl ts -reply: ${R[peer_ts.rate]} tokens/s (two processes at a time)"

# --- the long memory run (opt-in) ------------------------------------------------------------
if [ "$rss_certs" -gt "$certs" ]; then
  more=$((rss_certs - certs))
  say "memory run: adding $more certificates (the store then holds $rss_certs)"
  mkdir -p "$WORK/req-rss"
  line=$("$DRIVER" prepare --data "$DATA" --out "$WORK/req-rss" --certs "$more" --nonce-pool 1 \
    --tsa-pool 1)
  load_parse rssprep "$line"
  cat "$REQ/ocsp-nononce.bin" "$WORK/req-rss/ocsp-nononce.bin" > "$WORK/all-nononce.bin"
  cat "$REQ/index.txt" "$WORK/req-rss/index.txt" > "$WORK/req-rss/index-all.txt"
  presign presign_rss || true
  # The last --workers value (2 by default: the better one on this machine).
  rss_w=${workers##* }
  start_server "$rss_w"
  R[rss.rss_start]=$(mem_mb "$SERVER_PID" VmRSS)
  [ -n "${R[presign_rss.seconds]:-}" ] && wait_warm rss
  R[rss.rss_warm]=$(mem_mb "$SERVER_PID" VmRSS)
  # Every certificate asked for once (keep-alive, 8 connections), then wrk over all of them.
  line=$("$DRIVER" load --port "$PORT" --path /ocsp --requests "$WORK/all-nononce.bin" \
    --count "$rss_certs" --connections 8 --keepalive) || die "memory run pass: $line"
  load_parse rss.pass "$line"
  R[rss.rss_pass]=$(mem_mb "$SERVER_PID" VmRSS)
  wrk_run rss.wrk "$URL/ocsp" "$WORK/all-nononce.bin" application/ocsp-request
  R[rss.rss_end]=$(mem_mb "$SERVER_PID" VmRSS)
  R[rss.hwm]=$(mem_mb "$SERVER_PID" VmHWM)
  stop_server
  # The peer's memory with the same index: a request directory holding all certificates.
  mkdir -p "$WORK/req-all"
  cp "$REQ/ocsp-nononce.der" "$REQ/ocsp-nonce.der" "$WORK/req-all/"
  mv "$WORK/req-rss/index-all.txt" "$WORK/req-all/index.txt"
  cp "$REQ/index.txt.attr" "$WORK/req-all/"
  mv "$WORK/all-nononce.bin" "$WORK/req-all/ocsp-nononce.bin"
  unshare -n bash "$WORK/peer.sh" "$WORK" "$WORK/req-all" "$DATA" 2000 2000 "$DRIVER" peer_rss no-ab \
    > "$WORK/peer_rss.out" 2>&1 || { cat "$WORK/peer_rss.out" >&2; die "peer memory run failed"; }
  R[peer_rss.rss_end]=$(awk '$1 == "rss_end" { print $2 }' "$WORK/peer_rss.out")
  R[peer_rss.hwm]=$(awk '$1 == "hwm" { print $2 }' "$WORK/peer_rss.out")
fi
R[loadavg_end]=$(cut -d' ' -f1-3 /proc/loadavg)
R[steal_run]=$(awk -v a="$(steal_s)" -v b="${R[steal_start]}" -v d="$(fsub "$(date +%s.%N)" "${R[t_start]}")" \
  'BEGIN { printf "%.2f", (a - b) / d }')
set +u  # a phase that produced no figure prints an empty cell
# The peer's best figure over the ways it was driven, for the wrk rows (wrk cannot drive it).
best() { printf '%s\n' "$@" | awk 'NF && $1 + 0 > m { m = $1 + 0; n = NR } END { print m + 0 }'; }
R[peer.best_nononce]=$(best "${R[peer1.ab_nononce.rate]}" "${R[peer1.cycle.rate]}" "${R[peer2.cycle.rate]}")
R[peer.best_nonce]=$(best "${R[peer1.ab_nonce.rate]}" "${R[peer1.cycle_nonce.rate]}" "${R[peer2.cycle_nonce.rate]}")

# --- the table -------------------------------------------------------------------------------
# row METRIC KYSO PEER HIGHER_IS_BETTER(1|0) TARGET_TEXT TARGET_VALUE JUDGE(1|0) PEER_NAME
row() {
  awk -v m="$1" -v k="$2" -v p="$3" -v hib="$4" -v tt="$5" -v tv="$6" -v judge="$7" -v pn="$8" '
    function fmt(x) {
      if (x == "") return "";
      if (x + 0 >= 1000) { s = sprintf("%.0f", x); o = "";
        while (length(s) > 3) { o = "," substr(s, length(s) - 2) o; s = substr(s, 1, length(s) - 3) }
        return s o }
      if (x + 0 >= 100) return sprintf("%.0f", x);
      return sprintf("%.2f", x) }
    BEGIN {
      ratio = "";
      if (p != "" && k != "" && p + 0 > 0 && k + 0 > 0)
        ratio = sprintf("%.2fx", hib == 1 ? k / p : p / k);
      verdict = "";
      if (tt != "") {
        if (judge != 1) verdict = "n/a (" tt ")";
        else if ((hib == 1 && k + 0 >= tv) || (hib != 1 && k + 0 <= tv)) verdict = "met (" tt ")";
        else verdict = "MISSED (" tt ")";
      }
      printf "%-52s | %9s | %9s | %8s | %-20s | %s\n", m, fmt(k), fmt(p), ratio, verdict, pn }'
}

judge=1
[ "$quick" -eq 1 ] && judge=0
judge_certs=0
[ "$certs" -ge 100000 ] && [ "$quick" -eq 0 ] && judge_certs=1

echo
echo "== kyso serve: $certs certificates, $(nproc) cores shared with the load generator =="
printf "%-52s | %9s | %9s | %8s | %-20s | %s\n" metric kyso peer ratio target peer
printf '%s\n' "-----------------------------------------------------|-----------|-----------|----------|----------------------|------------------------------------"
for w in $workers; do
  k=kyso.w$w
  row "OCSP pre-signed, wrk -c64, all certs, W=$w (/s)" "${R[$k.wrk_nononce.rate]}" "${R[peer.best_nononce]}" 1 ">= 60,000/s" 60000 $judge_certs "openssl ocsp, its best (ab/-multi 2)"
  row "OCSP nonce, fresh P-256 sig, wrk -c64, W=$w (/s)" "${R[$k.wrk_nonce.rate]}" "${R[peer.best_nonce]}" 1 ">= 15,000/s" 15000 $judge "openssl ocsp, its best, nonce"
  row "TSA tokens, wrk -c64, W=$w (/s)" "${R[$k.wrk_tsa.rate]}" "${R[peer_ts.rate]}" 1 ">= 10,000/s" 10000 $judge "openssl ts -reply, process/token, x2"
  row "  p99 latency, OCSP pre-signed, 64 conns, W=$w (ms)" "${R[$k.wrk_nononce.p99]}" "${R[peer1.ab_nononce.p99]}" 0 "<= 5 ms" 5 $judge "openssl ocsp, ab -c8 p99 (whole ms)"
  row "  p99 latency, OCSP nonce, 64 conns, W=$w (ms)" "${R[$k.wrk_nonce.p99]}" "${R[peer1.ab_nonce.p99]}" 0 "<= 5 ms" 5 $judge "openssl ocsp, ab -c8 p99 (whole ms)"
  row "  p99 latency, TSA, 64 conns, W=$w (ms)" "${R[$k.wrk_tsa.p99]}" "" 0 "<= 5 ms" 5 $judge ""
  row "  p50 latency, OCSP pre-signed, 64 conns, W=$w (ms)" "${R[$k.wrk_nononce.p50]}" "" 0 "" "" 0 ""
  row "OCSP pre-signed, ab -c8, one request, W=$w (/s)" "${R[$k.ab_nononce.rate]}" "${R[peer1.ab_nononce.rate]}" 1 "" "" 0 "openssl ocsp, same ab command"
  row "OCSP nonce, ab -c8, one request, W=$w (/s)" "${R[$k.ab_nonce.rate]}" "${R[peer1.ab_nonce.rate]}" 1 "" "" 0 "openssl ocsp, same ab command"
  row "OCSP pre-signed, 8 conns cycling all certs, W=$w (/s)" "${R[$k.cycle.rate]}" "${R[peer1.cycle.rate]}" 1 "" "" 0 "openssl ocsp, same client"
  row "OCSP pre-signed, 8 conns cycling all certs, W=$w (/s)" "${R[$k.cycle.rate]}" "${R[peer2.cycle.rate]}" 1 "" "" 0 "openssl ocsp -multi 2, same client"
  row "OCSP nonce, 8 conns cycling, W=$w (/s)" "${R[$k.cycle_nonce.rate]}" "${R[peer1.cycle_nonce.rate]}" 1 "" "" 0 "openssl ocsp, same client"
  row "OCSP nonce, 8 conns cycling, W=$w (/s)" "${R[$k.cycle_nonce.rate]}" "${R[peer2.cycle_nonce.rate]}" 1 "" "" 0 "openssl ocsp -multi 2, same client"
  row "TSA tokens, ab -c8, one query, W=$w (/s)" "${R[$k.ab_tsa.rate]}" "${R[peer_ts.rate]}" 1 "" "" 0 "openssl ts -reply, process/token, x2"
  row "  server CPU per response, pre-signed, W=$w (us)" "${R[$k.wrk_nononce.cpu_us]}" "" 0 "" "" 0 ""
  row "  server CPU per response, nonce, W=$w (us)" "${R[$k.wrk_nonce.cpu_us]}" "" 0 "" "" 0 ""
  row "  server CPU per token, TSA, W=$w (us)" "${R[$k.wrk_tsa.cpu_us]}" "" 0 "" "" 0 ""
  row "RSS after start, W=$w (MB)" "${R[$k.rss_start]}" "${R[peer1.rss_start]}" 0 "" "" 0 "openssl ocsp, index loaded"
  row "RSS after all phases, W=$w (MB)" "${R[$k.rss_end]}" "${R[peer1.rss_end]}" 0 "<= 150 MB" 150 0 "openssl ocsp after its runs"
  row "peak RSS (VmHWM), W=$w (MB)" "${R[$k.hwm]}" "${R[peer1.hwm]}" 0 "" "" 0 "openssl ocsp"
done
if [ "$presigned" -eq 1 ]; then
  row "kyso ocsp presign, $certs certs (s)" "${R[presign.seconds]}" "" 0 "" "" 0 ""
  row "kyso ocsp presign (answers/s)" "$(awk -v n="$certs" -v s="${R[presign.seconds]}" 'BEGIN { printf "%.0f", n / s }')" "" 1 "" "" 0 ""
fi
row "setup: IssueBatch (certs/s, not a target here)" "${R[prep.issue_rate]}" "" 1 "" "" 0 ""
if [ "$rss_certs" -gt "$certs" ]; then
  row "memory run: $rss_certs certs, RSS after start (MB)" "${R[rss.rss_start]}" "" 0 "" "" 0 ""
  row "memory run: RSS after the cache warmed (MB)" "${R[rss.rss_warm]}" "" 0 "<= 150 MB" 150 1 ""
  row "memory run: RSS after querying every cert (MB)" "${R[rss.rss_pass]}" "" 0 "<= 150 MB" 150 1 ""
  row "memory run: RSS after wrk over all certs (MB)" "${R[rss.rss_end]}" "${R[peer_rss.rss_end]}" 0 "<= 150 MB" 150 1 "openssl ocsp, same index"
  row "memory run: peak RSS (VmHWM) (MB)" "${R[rss.hwm]}" "${R[peer_rss.hwm]}" 0 "<= 150 MB" 150 1 "openssl ocsp"
  row "memory run: OCSP, wrk -c64, all $rss_certs certs, W=$rss_w (/s)" "${R[rss.wrk.rate]}" "" 1 "" "" 0 ""
  row "  p99 latency (ms)" "${R[rss.wrk.p99]}" "" 0 "" "" 0 ""
  row "  server CPU per response (us)" "${R[rss.wrk.cpu_us]}" "" 0 "" "" 0 ""
  row "  answers from the memory cache (%)" "$(awk -v h="${R[rss.wrk.hits]}" -v m="${R[rss.wrk.misses]}" 'BEGIN { if (h + m > 0) printf "%.1f", 100 * h / (h + m) }')" "" 1 "" "" 0 ""
  row "  answers signed during the phase" "${R[rss.wrk.signed]}" "" 0 "" "" 0 ""
  [ -n "${R[presign_rss.seconds]:-}" ] && row "memory run: kyso ocsp presign, $rss_certs certs (s)" "${R[presign_rss.seconds]}" "" 0 "" "" 0 ""
fi
echo
echo "ratio > 1 means kyso is better (ours/peer for rates, peer/ours for times and memory)."
echo "Targets are judged only in a full run (certificate-set targets need >= 100,000 certificates,"
echo "the memory target the --rss-certs 900000 run); n/a otherwise."
echo
echo "errors (should all be 0; ab \"Length\" failures are not errors: ECDSA signatures vary in length),"
echo "and where the CPU went while wrk ran:"
for w in $workers; do
  k=kyso.w$w
  echo "  W=$w: wrk non-2xx ${R[$k.wrk_nononce.non2xx]}/${R[$k.wrk_nonce.non2xx]}/${R[$k.wrk_tsa.non2xx]}," \
       "socket errors ${R[$k.wrk_nononce.errors]}/${R[$k.wrk_nonce.errors]}/${R[$k.wrk_tsa.errors]};" \
       "ab ${R[$k.ab_nononce.errors]}/${R[$k.ab_nonce.errors]}/${R[$k.ab_tsa.errors]}; cycling client ${R[$k.cycle.errors]}/${R[$k.cycle_nonce.errors]}"
  for ph in wrk_nononce wrk_nonce wrk_tsa; do
    echo "  W=$w $ph: cores busy ${R[$k.$ph.busy]} of $(nproc): server ${R[$k.$ph.srv_cores]}," \
         "wrk ${R[$k.$ph.wrk_cores]}, other processes ${R[$k.$ph.other_cores]}, stolen by the" \
         "hypervisor ${R[$k.$ph.steal]};" \
         "CPU per request: server ${R[$k.$ph.cpu_us]} us, wrk ${R[$k.$ph.wrk_us]} us"
  done
  echo "  W=$w: OCSP answers during the pre-signed wrk phase: ${R[$k.wrk_nononce.hits]} from memory," \
       "${R[$k.wrk_nononce.misses]} not, ${R[$k.wrk_nononce.signed]} signed; during the nonce phase: ${R[$k.wrk_nonce.signed]} signed"
  [ -n "${R[$k.warm_entries]}" ] && echo "  W=$w: answers loaded into memory at start: ${R[$k.warm_entries]} in ${R[$k.warm_seconds]} s"
  echo "  W=$w: server threads ${R[$k.threads]}"
done
echo "  peer: ab ${R[peer1.ab_nononce.errors]}/${R[peer1.ab_nonce.errors]}; cycling client ${R[peer1.cycle.errors]}/${R[peer1.cycle_nonce.errors]}," \
     "-multi 2: ${R[peer2.cycle.errors]}/${R[peer2.cycle_nonce.errors]}"
echo
echo "checks:"
for c in "${CHECKS[@]}"; do echo "  ok  $c"; done
echo
echo "notes:"
echo "  - kyso serve --access-log $access_log; requests are POSTs of DER over HTTP/1.1 on 127.0.0.1; wrk -t1 -c64 keeps"
echo "    connections alive; ab -c8 and the cycling client open a new connection per request, as against the peer."
echo "  - the peer openssl ocsp runs in unshare -n (loopback only) with its clients; it cannot be driven by"
echo "    wrk (an empty connection makes it spin), so the wrk rows are set against its best figure from ab -c8"
echo "    or the cycling client (which never opens an empty connection; ab does, and -multi 2 then spins)."
echo "  - openssl ocsp signs every response (it cannot pre-sign); its nonce-less and nonce rows differ only by"
echo "    the nonce extension. Its responses carry no nextUpdate (no -ndays), kyso's do."
echo "  - openssl ts -reply is a one-shot command, not a server: the TSA ratio is against a process per token."
for n in "${NOTES[@]+"${NOTES[@]}"}"; do echo "  - $n"; done
if [ "$rss_certs" -gt "$certs" ]; then
  echo "  - memory run: the in-memory answer cache is bounded (kyso serve --ocsp-cache-mb, 64 MiB by default;"
  echo "    the warm-up fills 90 % of it: ${R[rss.warm_entries]:-?} answers here). wrk cycles through all $rss_certs"
  echo "    certificates in order, the worst case for its CLOCK eviction: almost every answer is read from the"
  echo "    store's pre-signed answers (SQLite) instead. Printed for the record; the throughput targets are"
  echo "    judged on the main run."
fi
[ "$quick" -eq 1 ] && echo "  - --quick: counts and durations are too small for stable figures; targets not judged."
echo
echo "run: date ${R[date]}, loadavg start ${R[loadavg_start]}, end ${R[loadavg_end]}," \
     "CPU stolen by the hypervisor over the run ${R[steal_run]} cores on average," \
     "certs $certs, pool $pool, wrk ${duration}s, ab -n $ab_n, cycling client $cycle_n," \
     "prepare: CSRs ${R[prep.csr_seconds]} s, IssueBatch ${R[prep.issue_seconds]} s"
