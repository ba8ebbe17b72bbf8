#!/usr/bin/env bash
# A short tour of the CLI on the demo data directory (what `make run` prints until the server
# lands).
KYSO=${1:-build/release/kyso}
DATA=${2:-./kyso-data}
set -e
b=$(tput bold 2>/dev/null || true); n=$(tput sgr0 2>/dev/null || true)
run() { echo; echo "${b}\$ $*${n}"; "$@"; }

echo "kyso demo instance in $DATA"
run "$KYSO" --data "$DATA" ca list
run "$KYSO" --data "$DATA" profile list
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
run openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$TMP/an.key" \
  -out "$TMP/an.csr" -utf8 -subj "/C=VN/L=Hà Nội/O=Bộ Tài chính/CN=Trần Văn An/UID=CCCD:001099012345"
run "$KYSO" --data "$DATA" cert issue --csr "$TMP/an.csr" --profile individual --out "$TMP/an.pem"
SERIAL=$(openssl x509 -in "$TMP/an.pem" -noout -serial | cut -d= -f2)
run "$KYSO" --data "$DATA" cert show "$SERIAL"
run openssl verify -CAfile "$DATA/certs/root.pem" -untrusted "$DATA/certs/issuing.pem" "$TMP/an.pem"
run "$KYSO" --data "$DATA" cert revoke "$SERIAL" --reason superseded
run "$KYSO" --data "$DATA" crl generate --delta
run "$KYSO" --data "$DATA" audit verify
cat <<MSG

More:
  $KYSO cert list --expiring-within 90      certificates to renew soon
  $KYSO cert renew SERIAL --days 1096       renewal (at most 3 years)
  $KYSO cert change SERIAL --csr new.csr    change of information (old one superseded)
  $KYSO --json ...                          machine-readable output of any command
The HTTP server (kyso serve: OCSP, CRL, TSA) arrives with the next release.
MSG
