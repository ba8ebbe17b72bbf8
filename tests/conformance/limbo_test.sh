#!/usr/bin/env bash
# Runs the x509-limbo suite through kyso (x509::VerifyPath) and through `openssl verify`, and
# fails unless kyso passes at least as many cases as openssl verify does. Lists kyso's skips.
#
#   limbo_test.sh KYSO_LIMBO LIMBO_JSON [OUT_DIR]
#
# $KYSO_CORPORA_DIR, when set, replaces LIMBO_JSON with $KYSO_CORPORA_DIR/x509-limbo/limbo.json.
# OUT_DIR receives limbo-results.json (kyso) and limbo-openssl-results.json in the upstream
# harness format; a temporary directory when not given.
set -u
runner=$1
limbo=$2
out_dir=${3:-}
if [ -n "${KYSO_CORPORA_DIR:-}" ]; then
  limbo=$KYSO_CORPORA_DIR/x509-limbo/limbo.json
fi
if [ ! -r "$limbo" ]; then
  echo "not ok - x509-limbo corpus not found at $limbo (set KYSO_CORPORA_DIR)"
  exit 1
fi
if [ -z "$out_dir" ]; then
  out_dir=$(mktemp -d)
  trap 'rm -rf "$out_dir"' EXIT
fi

output=$("$runner" "$limbo" --out "$out_dir/limbo-results.json" \
  --openssl-out "$out_dir/limbo-openssl-results.json")
rc=$?
echo "$output"
if [ $rc -ne 0 ]; then
  echo "not ok - kyso_limbo exited with $rc"
  exit 1
fi

summary=$(echo "$output" | grep '^summary: ')
field() { echo "$summary" | sed -nE "s/.* $1=([0-9]+).*/\1/p"; }
kyso_pass=$(field kyso_pass)
openssl_pass=$(field openssl_pass)
if [ -z "$kyso_pass" ] || [ -z "$openssl_pass" ]; then
  echo "not ok - no summary line from kyso_limbo"
  exit 1
fi
if [ "$kyso_pass" -lt "$openssl_pass" ]; then
  echo "not ok - kyso passes $kyso_pass limbo cases, fewer than openssl verify's $openssl_pass"
  exit 1
fi
echo "ok - kyso passes $kyso_pass limbo cases, openssl verify $openssl_pass"
