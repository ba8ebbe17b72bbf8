#!/usr/bin/env bash
# The registration workflow benchmark (docs/performance.md, "Registration workflow"): for each
# back end, a fresh demo instance served by the release `kyso serve`, then
#   1. N signed requests through the whole workflow over HTTP (bench/registry_bench.cc
#      `workflow`), beside `openssl ca -batch` issuing certificates in the same run;
#   2. the database filled to 900,000 certificates and 100,000 requests through the store API
#      (`populate`, server stopped), the server started again, and p50/p99 of six list calls
#      over HTTP beside the same store calls in-process (`lists`).
#
#   scripts/bench_registry.sh [--backend sqlite|postgresql|both] [--requests 10000]
#       [--clients 8] [--certs 900000] [--list-requests 100000] [--samples 1000]
#       [--kyso build/release/kyso] [--driver build/release/bench/kyso_bench_registry]
#       [--quick] [--no-lists]
#
# PostgreSQL: a throwaway PostgreSQL 15 cluster on a loopback port, with fsync and
# synchronous_commit ON (the integration tests' cluster runs with -F; a benchmark must not),
# and ANALYZE after the bulk load (what autovacuum does within a minute of it).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
KYSO=$root/build/release/kyso
DRIVER=$root/build/release/bench/kyso_bench_registry
backend=both
requests=10000
clients=8
certs=900000
list_requests=100000
samples=1000
lists=1
peer=""
while [ $# -gt 0 ]; do
  case "$1" in
    --backend) backend=$2; shift ;;
    --requests) requests=$2; shift ;;
    --clients) clients=$2; shift ;;
    --certs) certs=$2; shift ;;
    --list-requests) list_requests=$2; shift ;;
    --samples) samples=$2; shift ;;
    --peer) peer=$2; shift ;;
    --kyso) KYSO=$2; shift ;;
    --driver) DRIVER=$2; shift ;;
    --quick) requests=200; certs=20000; list_requests=5000; samples=100 ;;
    --no-lists) lists=0 ;;
    *) echo "bench_registry: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
KYSO=$(realpath "$KYSO")
DRIVER=$(realpath "$DRIVER")
[ -n "$peer" ] || peer=$(( requests < 1000 ? requests : 1000 ))
for f in "$KYSO" "$DRIVER"; do
  [ -x "$f" ] || { echo "bench_registry: $f missing (cmake --build build/release --target kyso kyso_bench_registry)" >&2; exit 1; }
done
for tool in curl jq openssl; do
  command -v "$tool" >/dev/null || { echo "bench_registry: $tool missing" >&2; exit 1; }
done

WORK=$(mktemp -d /tmp/kyso-bench-registry-XXXXXX)
SERVER_PID=""
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PG_DIR=""
PG_RUN=()
stop_server() {
  if [ -n "$SERVER_PID" ]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
  fi
}
pg_stop() {
  [ -n "$PG_DIR" ] || return 0
  (cd / && "${PG_RUN[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast stop >/dev/null 2>&1) || true
  rm -rf "$PG_DIR"
  PG_DIR=""
}
cleanup() {
  stop_server
  pg_stop
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() {
  local port
  for _ in $(seq 1 50); do
    port=$((20000 + RANDOM % 40000))
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || break
  done
  echo "$port"
}

# A durable throwaway cluster (fsync on): sets PG_URL.
pg_start() {
  [ -x "$PG_BIN/initdb" ] || { echo "bench_registry: PostgreSQL 15 missing in $PG_BIN" >&2; return 1; }
  PG_DIR=$(mktemp -d /tmp/kyso-bench-pg-XXXXXX)
  chmod 755 "$PG_DIR"
  PG_RUN=()
  if [ "$(id -u)" = 0 ]; then chown postgres "$PG_DIR"; PG_RUN=(runuser -u postgres --); fi
  local port
  port=$(free_port)
  (cd / && "${PG_RUN[@]}" "$PG_BIN/initdb" -D "$PG_DIR/data" -A trust -U kyso -E UTF8 >/dev/null)
  (cd / && "${PG_RUN[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
    -o "-h 127.0.0.1 -p $port -k $PG_DIR -c max_connections=200 -c shared_buffers=256MB" \
    start >/dev/null) || { cat "$PG_DIR/server.log" >&2; return 1; }
  (cd / && "${PG_RUN[@]}" "$PG_BIN/psql" -h 127.0.0.1 -p "$port" -U kyso -d postgres -qc \
    "CREATE DATABASE kyso" >/dev/null)
  PG_URL="postgresql://kyso@127.0.0.1:$port/kyso"
  PG_PORT=$port
}

start_server() {  # LOG
  "$KYSO" "${DB_ARGS[@]}" --json serve --listen "127.0.0.1:$PORT" --access-log off \
    > "$1.json" 2> "$1.err" &
  SERVER_PID=$!
  for _ in $(seq 1 300); do grep -q '"port"' "$1.json" 2>/dev/null && return 0; sleep 0.1; done
  echo "bench_registry: kyso serve did not start: $(cat "$1.err")" >&2
  return 1
}

run_backend() {  # sqlite|postgresql
  local be=$1 dir=$WORK/$1
  mkdir -p "$dir"
  cd "$dir"
  export KYSO_DATA=$dir/data
  unset KYSO_PASSPHRASE_FILE
  DB_ARGS=()
  local db=$KYSO_DATA/kyso.db
  if [ "$be" = postgresql ]; then
    pg_start
    DB_ARGS=(--db "$PG_URL")
    db=$PG_URL
  fi
  PORT=$(free_port)
  URL=http://127.0.0.1:$PORT
  cat > fast.json <<JSON
{"pbkdf2_iterations": 2000, "root": {"key": "ec:P-384"}, "issuing": {"key": "ec:P-256"}}
JSON
  "$KYSO" "${DB_ARGS[@]}" init --demo --no-demo-data --config fast.json --base-url "$URL" > init.log 2>&1 ||
    { echo "bench_registry: kyso init failed: $(cat init.log)" >&2; return 1; }
  start_server node

  # Bodies, accounts and the agency's seal, as tests/integration/registry_http_test.sh does.
  local pass admin
  pass=$(head -1 "$KYSO_DATA/demo-admin-password")
  curl -s -c admin.jar -o login.json -X POST "$URL/api/v1/auth/login" \
    -H 'Content-Type: application/json' -d "{\"username\":\"admin\",\"password\":\"$pass\"}"
  admin=$(curl -s -b admin.jar -X POST "$URL/api/v1/auth/tokens" \
    -H "X-CSRF-Token: $(jq -r .csrf_token login.json)" -H 'Content-Type: application/json' \
    -d '{"name":"bench"}' | jq -r .token)
  post() {  # PATH JSON → body
    curl -s -X POST "$URL$1" -H "Authorization: Bearer $admin" \
      -H 'Content-Type: application/json' --data-binary "$2"
  }
  local prov dept unit
  prov=$(post /api/v1/organizations '{"name":"UBND thành phố Hà Nội","tax_code":"0100000001","email":"vt@hanoi.gov.vn","province":"Hà Nội","managing_agency":true}' | jq -r .id)
  dept=$(post /api/v1/organizations "{\"name\":\"Sở Tài chính\",\"parent_id\":$prov,\"tax_code\":\"0100000002\",\"email\":\"vt@stc.hanoi.gov.vn\",\"province\":\"Hà Nội\",\"managing_agency\":true}" | jq -r .id)
  unit=$(post /api/v1/organizations "{\"name\":\"Phòng Nghiệp vụ\",\"parent_id\":$dept,\"tax_code\":\"0100000003\",\"email\":\"vt@pnv.hanoi.gov.vn\",\"province\":\"Hà Nội\"}" | jq -r .id)
  local PASSWORD='Mật-khẩu-đủ-dài-2026'
  account() {  # USERNAME ROLE ORG → API token
    post /api/v1/accounts "{\"username\":\"$1\",\"role\":\"$2\",\"organization_id\":$3,\"password\":\"$PASSWORD\"}" >/dev/null
    curl -s -c "$1.jar" -o "$1.login" -X POST "$URL/api/v1/auth/login" \
      -H 'Content-Type: application/json' -d "{\"username\":\"$1\",\"password\":\"$PASSWORD\"}"
    curl -s -b "$1.jar" -X POST "$URL/api/v1/auth/tokens" \
      -H "X-CSRF-Token: $(jq -r .csrf_token "$1.login")" -H 'Content-Type: application/json' \
      -d '{"name":"bench","days":7}' | jq -r .token
  }
  local officer operator
  officer=$(account officer agency_officer "$dept")
  operator=$(account operator ca_operator null)
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out seal.key 2>/dev/null
  openssl req -new -key seal.key -utf8 \
    -subj "/C=VN/L=Hà Nội/O=UBND thành phố Hà Nội/CN=Sở Tài chính/UID=MST:0100000002" \
    -out seal.csr 2>/dev/null
  "$KYSO" "${DB_ARGS[@]}" cert issue --csr seal.csr --profile organization --org "$dept" \
    --out seal.pem > seal.log 2>&1 ||
    { echo "bench_registry: seal issuance failed: $(cat seal.log)" >&2; return 1; }

  echo "== registration workflow on $be =="
  "$DRIVER" workflow --url "$URL" --admin "$admin" --officer "$officer" --operator "$operator" \
    --org "$unit" --seal-key seal.key --seal-cert seal.pem --requests "$requests" \
    --clients "$clients" --peer "$peer" --server-pid "$SERVER_PID"

  if [ "$lists" -eq 1 ]; then
    stop_server
    echo
    echo "== list latency on $be: $certs certificates, $list_requests requests =="
    "$DRIVER" populate --db "$db" --state state.json --certs "$certs" \
      --requests "$list_requests"
    if [ "$be" = postgresql ]; then
      (cd / && "${PG_RUN[@]}" "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U kyso -d kyso -qc \
        "ANALYZE" >/dev/null)
    fi
    start_server node2
    "$DRIVER" lists --url "$URL" --db "$db" --state state.json --samples "$samples"
  fi
  stop_server
  pg_stop
  cd "$WORK"
}

echo "kyso registry benchmark: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)," \
  "$(openssl version)"
case "$backend" in
  sqlite | postgresql) run_backend "$backend" ;;
  both) run_backend sqlite; echo; run_backend postgresql ;;
  *) echo "bench_registry: --backend sqlite|postgresql|both" >&2; exit 2 ;;
esac
