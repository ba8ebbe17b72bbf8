#!/usr/bin/env bash
# Checks that every #include "module/..." in src/<module> stays within the dependency arrows of
# docs/architecture.md (the table between the ARCH-DEPS markers), and that OpenSSL headers are
# included only by crypto/ and x509/.
set -u
root=$1
doc="$root/docs/architecture.md"
declare -A allowed
while IFS='|' read -r _ module deps _; do
  module=$(echo "$module" | tr -d ' `')
  deps=$(echo "$deps" | tr -d '`' | tr ',' ' ')
  [ -n "$module" ] && allowed[$module]="$module $deps"
done < <(sed -n '/ARCH-DEPS-BEGIN/,/ARCH-DEPS-END/p' "$doc" | grep '^| `')

fail=0
for dir in "$root"/src/*/; do
  module=$(basename "$dir")
  if [ -z "${allowed[$module]+x}" ]; then
    echo "module $module is missing from docs/architecture.md"; fail=1; continue
  fi
  while IFS= read -r line; do
    file=${line%%:*}
    inc=$(echo "$line" | sed -E 's/.*#include "([a-z_0-9]+)\/.*/\1/')
    [ "$inc" = "testlib" ] && continue
    # store/sqlite/ is the store_sqlite module
    [[ "$line" == *'#include "store/sqlite/'* ]] && inc=store_sqlite
    # store/postgres/ is the store_postgres module
    [[ "$line" == *'#include "store/postgres/'* ]] && inc=store_postgres
    # api/sign/ is the api_sign module
    [[ "$line" == *'#include "api/sign/'* ]] && inc=api_sign
    # api/ra/ is the api_ra module
    [[ "$line" == *'#include "api/ra/'* ]] && inc=api_ra
    owner=$module
    [[ "$file" == */src/store/sqlite/* ]] && owner=store_sqlite
    [[ "$file" == */src/store/postgres/* ]] && owner=store_postgres
    [[ "$file" == */src/api/sign/* ]] && owner=api_sign
    [[ "$file" == */src/api/ra/* ]] && owner=api_ra
    if [[ " ${allowed[$owner]} " != *" $inc "* ]]; then
      echo "$file includes $inc/, but $owner may depend only on: ${allowed[$owner]}"; fail=1
    fi
  done < <(grep -rn --include='*.h' --include='*.cc' '#include "[a-z_0-9]*/' "$dir" | grep -v -E '(_test\.cc|/test_[a-z_]+\.h):')
  if [ "$module" != crypto ] && [ "$module" != x509 ]; then
    # Three exceptions. Two on the OpenSSL handles Asio's SSL streams wrap: the HTTP client
    # configures TLS peer verification (SNI, host name checks), and the HTTP server requests
    # and reads TLS client certificates (client CA list, session context, the verified leaf's
    # SHA-256 and subject). One for xmlsec's OpenSSL back end, which takes keys as EVP_PKEY:
    # xades/core.cc hands it public keys and converts ECDSA values. Only these headers, only
    # in these three files.
    if grep -rn --include='*.h' --include='*.cc' '#include <openssl/' "$dir" | grep -v '_test.cc:' |
        grep -v -E '^[^:]*/src/http/client\.cc:[0-9]+:#include <openssl/(ssl|x509_vfy|x509v3)\.h>$' |
        grep -v -E '^[^:]*/src/http/server\.cc:[0-9]+:#include <openssl/(bio|evp|ssl|x509)\.h>$' |
        grep -v -E '^[^:]*/src/xades/core\.cc:[0-9]+:#include <openssl/(bn|ecdsa|evp)\.h>$'; then
      echo "OpenSSL headers outside crypto/ and x509/ (above)"; fail=1
    fi
  fi
done
[ $fail -eq 0 ] && echo "architecture: all includes follow docs/architecture.md"
exit $fail
