# Tiny assertion helpers for the integration tests (bash). Each check prints one line; the
# script exits non-zero at the end if any check failed.
set -u
PASS=0
FAIL=0

ok() { PASS=$((PASS + 1)); echo "ok - $1"; }
not_ok() { FAIL=$((FAIL + 1)); echo "not ok - $1"; shift; for l in "$@"; do echo "    $l"; done; }

# expect_success NAME CMD...: CMD must exit 0.
expect_success() {
  local name=$1; shift
  local out
  if out=$("$@" 2>&1); then ok "$name"; else not_ok "$name" "exit $?: $out"; fi
}

# expect_failure NAME ERROR_ID CMD...: CMD must exit non-zero with exactly one stderr line
# naming ERROR_ID.
expect_failure() {
  local name=$1 id=$2; shift 2
  local err rc
  err=$("$@" 2>&1 >/dev/null); rc=$?
  local lines
  lines=$(printf '%s' "$err" | grep -c '')
  if [ "$rc" -eq 0 ]; then
    not_ok "$name" "expected failure $id, got exit 0"
  elif [[ "$err" != *"$id"* ]]; then
    not_ok "$name" "expected error id $id, got: $err"
  elif [ "$lines" -ne 1 ]; then
    not_ok "$name" "expected one line on stderr, got $lines:" "$err"
  else
    ok "$name"
  fi
}

# expect_contains NAME NEEDLE HAYSTACK
expect_contains() {
  if [[ "$3" == *"$2"* ]]; then ok "$1"; else not_ok "$1" "missing: $2" "in: $3"; fi
}

expect_eq() {
  if [ "$2" == "$3" ]; then ok "$1"; else not_ok "$1" "expected: $2" "actual:   $3"; fi
}

# enter_work_dir PREFIX: makes a temporary directory, cd's there (WORK), and on exit stops the
# server whose pid is in SERVER_PID (if any) and removes the directory.
enter_work_dir() {
  WORK=$(mktemp -d "/tmp/$1-XXXXXX")
  SERVER_PID=""
  trap '[ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"' EXIT
  cd "$WORK" || exit 1
}

# softhsm_token LABEL SO_PIN PIN: a SoftHSM2 token in $WORK/tokens, with SOFTHSM2_CONF exported
# for kyso, softhsm2-util and pkcs11-tool (SoftHSM reads it at C_Initialize). Tokens are named by
# label: softhsm2-util --init-token moves a new token to another slot number (see
# tests/testlib/softhsm.h for the other quirks).
SOFTHSM_MODULE=/usr/lib/softhsm/libsofthsm2.so
softhsm_token() {
  if [ -z "${SOFTHSM2_CONF:-}" ] || [ "$SOFTHSM2_CONF" != "$WORK/softhsm2.conf" ]; then
    mkdir -p "$WORK/tokens"
    printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' \
      "$WORK/tokens" > "$WORK/softhsm2.conf"
    export SOFTHSM2_CONF=$WORK/softhsm2.conf
  fi
  softhsm2-util --init-token --free --label "$1" --so-pin "$2" --pin "$3" >/dev/null 2>&1
}

# free_port: prints a TCP port nothing listens on at 127.0.0.1 now (a random one above 20000).
free_port() {
  local port
  for _ in $(seq 1 50); do
    port=$((20000 + RANDOM % 40000))
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || break
  done
  echo "$port"
}

finish() {
  echo "$PASS passed, $FAIL failed"
  [ "$FAIL" -eq 0 ]
}

# use_work_dir NAME: cd into a fresh /tmp/kyso-NAME-XXXXXX holding the data directory ($WORK,
# $DATA = KYSO_DATA, no passphrase file); at exit the server start_server started is stopped
# and the directory removed.
use_work_dir() {
  enter_work_dir "kyso-$1"
  DATA=$WORK/data
  export KYSO_DATA=$DATA
  unset KYSO_PASSPHRASE_FILE
}

# pick_port: a free loopback port in $PORT and its base URL in $URL (before init: certificates
# name the base URL).
pick_port() {
  PORT=$(free_port)
  URL=http://127.0.0.1:$PORT
}

# start_server KYSO [ARGS...]: `kyso --json serve` on $PORT in the background ($SERVER_PID);
# fails the test at once when it does not answer.
start_server() {
  local kyso=$1; shift
  "$kyso" --json serve --listen "127.0.0.1:$PORT" --access-log off "$@" > server.json 2> server.err &
  SERVER_PID=$!
  for _ in $(seq 1 150); do grep -q '"port"' server.json 2>/dev/null && break; sleep 0.1; done
  if grep -q "\"port\":$PORT" server.json; then
    ok "kyso serve answers at $URL"
  else
    not_ok "kyso serve answers at $URL" "$(cat server.json server.err)"
    finish; exit 1
  fi
}
