#!/usr/bin/env bash
# `kyso init --hsm 'pkcs11:token=...'` (issue 13): the issuing CA, OCSP, TSA and audit keys are
# generated on a SoftHSM2 token (sensitive, never extractable), the root key stays in an
# encrypted file (file and token keys mixed), and everything else works unchanged. Judged by
# pkcs11-tool (what is on the token), openssl verify (a certificate the HSM key issued),
# openssl crl -verify (its CRL), openssl ocsp (an answer signed on the token, from kyso serve)
# and kyso audit verify.
# Usage: init_hsm_test.sh KYSO_BINARY
KYSO=$1
source "$(dirname "$0")/lib.sh"
MODULE=$SOFTHSM_MODULE
enter_work_dir kyso-init-hsm
DATA=$WORK/data
export KYSO_DATA=$DATA
unset KYSO_PASSPHRASE_FILE KYSO_PIN_FILE KYSO_PKCS11_MODULE

for tool in softhsm2-util pkcs11-tool openssl jq curl; do
  command -v "$tool" >/dev/null || { not_ok "prerequisites" "missing $tool"; finish; exit 1; }
done

softhsm_token kyso-ca 5678 4321 &&
  ok "SoftHSM token kyso-ca" || not_ok "SoftHSM token kyso-ca"
echo 4321 > pin.txt
chmod 600 pin.txt
HSM="pkcs11:token=kyso-ca?module-path=$MODULE&pin-source=file:$WORK/pin.txt"

PORT=$(free_port)
URL=http://127.0.0.1:$PORT
cat > fast.json <<JSON
{"pbkdf2_iterations": 2000,
 "root": {"key": "ec:P-384"},
 "issuing": {"key": "ec:P-256"}}
JSON
expect_success "init --hsm" "$KYSO" init --demo --no-demo-data --config fast.json \
  --base-url "$URL" --hsm "$HSM"

# --- where the keys are ------------------------------------------------------------------
objects=$(pkcs11-tool --module "$MODULE" --token-label kyso-ca --login --pin 4321 -O 2>&1)
for label in issuing ocsp-signer tsa audit; do
  block=$(awk -v l="$label" '/^[A-Z]/{keep=0} /^Private Key Object/{hdr=$0; keep=0}
    /label:/{ if ($2==l && hdr!="") {keep=1; print hdr} } keep' <<< "$objects")
  expect_contains "the $label key is on the token" "Private Key Object" "$block"
  expect_contains "the $label key is sensitive and never extractable" \
    "Access:     sensitive, always sensitive, never extractable, local" "$block"
done
[[ "$objects" != *"label:      root"* ]] && ok "the root key is not on the token" ||
  not_ok "the root key is not on the token" "$objects"
keys=$(cd "$DATA/keys" && ls)
expect_eq "only the root key is a file (encrypted)" "root.key.pem" "$keys"
grep -q "BEGIN ENCRYPTED PRIVATE KEY" "$DATA/keys/root.key.pem" && ok "the root key file is encrypted" ||
  not_ok "the root key file is encrypted"
expect_contains "kyso ca show: the issuing CA's key is on the token" \
  "Key:         pkcs11:token=kyso-ca;serial=" "$("$KYSO" ca show issuing 2>&1)"
expect_contains "kyso ca show: the root key is a file" "Key:         file:keys/root.key.pem" \
  "$("$KYSO" ca show root 2>&1)"

# --- the CA works unchanged ----------------------------------------------------------------
ROOT=$DATA/certs/root.pem
ISSUING=$DATA/certs/issuing.pem
expect_success "the issuing CA certificate chains to the root" openssl verify -CAfile "$ROOT" "$ISSUING"
expect_success "the OCSP signer (key on the token) chains" \
  openssl verify -CAfile "$ROOT" -untrusted "$ISSUING" "$DATA/certs/ocsp-signer.pem"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out person.key 2>/dev/null
openssl req -new -key person.key -utf8 -out person.csr \
  -subj "/C=VN/L=Hà Nội/O=Bộ Tài chính/CN=Nguyễn Thị Ánh Tuyết/UID=CCCD:001234567890"
expect_success "cert issue with the issuing key on the token" \
  "$KYSO" cert issue --csr person.csr --profile individual --out person.pem
expect_success "openssl verify accepts the certificate" \
  openssl verify -CAfile "$ROOT" -untrusted "$ISSUING" person.pem
serial=$(openssl x509 -in person.pem -noout -serial | cut -d= -f2)
expect_success "revoke it" "$KYSO" cert revoke "$serial" --reason keyCompromise
expect_success "crl generate (signed on the token)" "$KYSO" crl generate --out full.crl
expect_success "openssl crl -verify accepts the CRL" \
  openssl crl -inform DER -in full.crl -noout -CAfile "$ISSUING"
crltext=$(openssl crl -inform DER -in full.crl -noout -text)
expect_contains "the CRL lists the revoked certificate" "$serial" "$crltext"
expect_success "root CRL (file key) verifies" \
  openssl crl -inform DER -in "$DATA/crl/root.crl" -noout -CAfile "$ROOT"
expect_success "audit verify (checkpoints signed on the token)" "$KYSO" audit verify

# --- OCSP answered by kyso serve, signed on the token -------------------------------------
"$KYSO" --json serve --listen "127.0.0.1:$PORT" --access-log off > server.json 2> server.err &
SERVER_PID=$!
for _ in $(seq 1 100); do grep -q '"port"' server.json 2>/dev/null && break; sleep 0.1; done
grep -q "\"port\":$PORT" server.json && ok "kyso serve (keys on the token) answers" ||
  not_ok "kyso serve (keys on the token) answers" "$(cat server.json server.err)"
ocsp=$(openssl ocsp -issuer "$ISSUING" -cert person.pem -url "$URL/ocsp" -CAfile "$ROOT" \
  -verify_other "$ISSUING" 2>&1)
expect_contains "openssl ocsp: the response verifies (nonce, signed on the token)" \
  "Response verify OK" "$ocsp"
expect_contains "openssl ocsp: revoked" "person.pem: revoked" "$ocsp"

finish
