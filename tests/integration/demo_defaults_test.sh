#!/usr/bin/env bash
# The demo defaults `make run` uses: RSA-4096 root, RSA-3072 issuing CA, Vietnamese names.
# Judged by openssl verify and openssl x509 -nameopt utf8.
KYSO=$1
source "$(dirname "$0")/lib.sh"
WORK=$(mktemp -d /tmp/kyso-demo-XXXXXX)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
unset KYSO_PASSPHRASE_FILE KYSO_DATA
expect_success "init --demo with the defaults" "$KYSO" init --demo
D=./kyso-data
expect_contains "root is RSA-4096" "Public-Key: (4096 bit)" "$(openssl x509 -in $D/certs/root.pem -noout -text)"
expect_contains "issuing CA is RSA-3072" "Public-Key: (3072 bit)" "$(openssl x509 -in $D/certs/issuing.pem -noout -text)"
expect_contains "root name with diacritics" "O=Ban Cơ yếu Chính phủ" "$(openssl x509 -in $D/certs/root.pem -noout -subject -nameopt utf8)"
days=$(( ($(date -d "$(openssl x509 -in $D/certs/root.pem -noout -enddate | cut -d= -f2)" +%s) - $(date +%s)) / 86400 ))
[ "$days" -ge 7300 ] && [ "$days" -le 7310 ] && ok "root valid for 20 years ($days days)" || not_ok "root valid for 20 years" "$days days"
expect_success "OCSP signer chains" openssl verify -CAfile $D/certs/root.pem -untrusted $D/certs/issuing.pem -purpose ocsphelper $D/certs/ocsp-signer.pem
expect_success "TSA chains with timestamp purpose" openssl verify -CAfile $D/certs/root.pem -untrusted $D/certs/issuing.pem -purpose timestampsign $D/certs/tsa.pem
expect_contains "OCSP signer has ocsp-nocheck" "OCSP No Check" "$(openssl x509 -in $D/certs/ocsp-signer.pem -noout -text)"
expect_contains "TSA EKU is critical" "X509v3 Extended Key Usage: critical" "$(openssl x509 -in $D/certs/tsa.pem -noout -text)"
expect_success "initial issuing CRL verifies" openssl crl -inform DER -in $D/crl/issuing.crl -noout -CAfile $D/certs/issuing.pem
expect_success "audit log verifies" "$KYSO" audit verify
finish
