# A throwaway PostgreSQL 15 cluster on a loopback port for the integration tests (bash,
# sourced). pg_start sets PG_URL (a libpq URL for database "kyso") and PG_DIR; pg_stop stops
# it and removes everything. initdb refuses to run as root, so as root it runs as "postgres".
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PG_DIR=""
pg_start() {
  [ -x "$PG_BIN/initdb" ] || { echo "PostgreSQL server binaries missing in $PG_BIN"; return 1; }
  PG_DIR=$(mktemp -d /tmp/kyso-pg-XXXXXX)
  chmod 755 "$PG_DIR"
  local run=()
  if [ "$(id -u)" = 0 ]; then chown postgres "$PG_DIR"; run=(runuser -u postgres --); fi
  local port
  for _ in $(seq 1 50); do
    port=$((20000 + RANDOM % 40000))
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || break
  done
  # The server and its tools run as "postgres", which may not enter the caller's directory.
  cd / || return 1
  "${run[@]}" "$PG_BIN/initdb" -D "$PG_DIR/data" -A trust -U kyso -E UTF8 --no-sync >/dev/null ||
    return 1
  "${run[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
    -o "-h 127.0.0.1 -p $port -k $PG_DIR -F -c max_connections=200" start >/dev/null || {
    cat "$PG_DIR/server.log"; return 1; }
  "${run[@]}" "$PG_BIN/psql" -h 127.0.0.1 -p "$port" -U kyso -d postgres -qc \
    "CREATE DATABASE kyso" >/dev/null || return 1
  cd - >/dev/null || return 1
  PG_URL="postgresql://kyso@127.0.0.1:$port/kyso"
  PG_RUN=("${run[@]}")
}
pg_stop() {
  [ -n "$PG_DIR" ] || return 0
  (cd / && "${PG_RUN[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate stop >/dev/null 2>&1)
  rm -rf "$PG_DIR"
  PG_DIR=""
}
