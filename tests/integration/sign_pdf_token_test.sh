#!/usr/bin/env bash
# `kyso sign pdf --key 'pkcs11:...'` with keys on a SoftHSM2 token (issue 13), judged by real
# peers: OpenSC's pkcs11-tool (the key is on the token, sensitive and never extractable),
# openssl verify
# (the certificate issued for the token's CSR), pdfsig (poppler + NSS with our root trusted and
# `kyso serve` answering OCSP) and `kyso verify`.
#   1. kyso token keygen: an EC P-256 key generated on the token, its CSR signed by the token;
#      kyso cert issue; kyso token import-cert writes the certificate next to the key.
#   2. kyso sign pdf with the token key (certificate read from the token) -> Signature is Valid.
#   3. An RSA key imported with softhsm2-util, RSASSA-PSS, certificate from --cert.
#   4. Bad input: wrong PIN (exact id, nothing written), unknown token, missing module, absent
#      key, a certificate object named as the key.
# SoftHSM's quirks (slot renumbering, tokens seen only at C_Initialize) are kyso's and the
# test helper's business (tests/testlib/softhsm.h); here tokens are named by label only.
# Usage: sign_pdf_token_test.sh KYSO_BINARY
KYSO=$1
source "$(dirname "$0")/lib.sh"
TESTDATA=${KYSO_TESTDATA_DIR:-$(cd "$(dirname "$0")/../../.." && pwd)/shared/testdata}
PDF=$TESTDATA/pdf/cong-van.pdf
MODULE=$SOFTHSM_MODULE
enter_work_dir kyso-sign-token
DATA=$WORK/data
export KYSO_DATA=$DATA
unset KYSO_PASSPHRASE_FILE KYSO_PIN_FILE KYSO_PKCS11_MODULE

missing=""
for tool in softhsm2-util pkcs11-tool pdfsig certutil openssl jq; do
  command -v "$tool" >/dev/null || missing+=" $tool"
done
if [ -n "$missing" ] || [ ! -f "$PDF" ] || [ ! -f "$MODULE" ]; then
  not_ok "prerequisites" "missing:${missing:-none}" "test data: $PDF" "module: $MODULE"
  finish; exit 1
fi

# --- a token in a temporary SoftHSM configuration ------------------------------------------
softhsm_token kyso-signer 5678 1234 &&
  ok "SoftHSM token kyso-signer" || not_ok "SoftHSM token kyso-signer"
echo 1234 > pin.txt
echo 0000 > wrong-pin.txt
chmod 600 pin.txt wrong-pin.txt
TOKEN="pkcs11:token=kyso-signer?module-path=$MODULE"
p11tool() { pkcs11-tool --module "$MODULE" --token-label kyso-signer "$@"; }

# --- a CA, and kyso serve for pdfsig's OCSP queries ----------------------------------------
PORT=$(free_port)
URL=http://127.0.0.1:$PORT
cat > fast.json <<JSON
{"pbkdf2_iterations": 2000,
 "root": {"key": "ec:P-384"},
 "issuing": {"key": "ec:P-256"}}
JSON
expect_success "init --demo" "$KYSO" init --demo --no-demo-data --config fast.json --base-url "$URL"
ROOT=$DATA/certs/root.pem
CHAIN=$DATA/certs/chain.pem

# --- 1. key generated on the token, CSR, certificate, written back -------------------------
SUBJECT="/C=VN/L=Bắc Giang/O=Sở Khoa học và Công nghệ tỉnh Bắc Giang/title=Giám đốc/CN=Nguyễn Văn An/UID=CCCD:001085012345"
KEY=$("$KYSO" token keygen --token "$TOKEN" --label leader --key ec:P-256 --subject "$SUBJECT" \
  --csr leader.csr --pin-file pin.txt 2>keygen.err)
expect_eq "token keygen exits 0" 0 $?
expect_contains "token keygen prints the key's URI" "pkcs11:token=kyso-signer;serial=" "$KEY"
expect_contains "the URI names the key" ";object=leader;id=%" "$KEY"
expect_success "openssl checks the CSR's signature (made on the token)" \
  openssl req -in leader.csr -verify -noout
expect_success "issue the leader's certificate" \
  "$KYSO" cert issue --csr leader.csr --profile authority --out leader.pem
expect_success "openssl verify: the certificate chains to the root" \
  openssl verify -CAfile "$ROOT" -untrusted "$CHAIN" leader.pem
expect_success "token import-cert" \
  "$KYSO" token import-cert --key "$KEY" --cert leader.pem --pin-file pin.txt
ID=$(sed 's/.*;id=//; s/;.*//; s/?.*//; s/%//g' <<< "$KEY" | tr 'A-F' 'a-f')

objects=$(p11tool --login --pin 1234 -O 2>&1)
expect_contains "pkcs11-tool: a private EC key on the token" "Private Key Object; EC" "$objects"
expect_contains "pkcs11-tool: the key is sensitive" "sensitive" "$objects"
expect_contains "pkcs11-tool: the certificate beside it" "Certificate Object; type = X.509 cert" "$objects"
# OpenSC 0.23's --read-object refuses every private key, so its -O listing of the key's
# attributes is the independent check (see tests/testlib/softhsm.h).
expect_contains "pkcs11-tool: sensitive, never extractable" \
  "Access:     sensitive, always sensitive, never extractable, local" "$objects"

list=$("$KYSO" --json token list --module "$MODULE" --objects --pin-file pin.txt)
expect_eq "token list --json: the token" kyso-signer "$(jq -r '.[0].label' <<< "$list")"
expect_eq "token list --json: the private key, sensitive and not extractable" \
  "ec:P-256 true false" \
  "$(jq -r '.[0].objects[] | select(.type=="private") | "\(.key) \(.sensitive) \(.extractable)"' <<< "$list")"
expect_eq "token list --json: the certificate, same id" "$ID" \
  "$(jq -r '.[0].objects[] | select(.type=="cert") | .id' <<< "$list" | tr 'A-F' 'a-f')"

mkdir nss
certutil -N -d sql:"$WORK/nss" --empty-password >/dev/null 2>&1
certutil -A -d sql:"$WORK/nss" -n kyso-root -t CT,C,C -i "$ROOT" >/dev/null 2>&1
"$KYSO" --json serve --listen "127.0.0.1:$PORT" --access-log off > server.json 2> server.err &
SERVER_PID=$!
for _ in $(seq 1 100); do grep -q '"port"' server.json 2>/dev/null && break; sleep 0.1; done
grep -q "\"port\":$PORT" server.json && ok "kyso serve answers at $URL" ||
  not_ok "kyso serve answers at $URL" "$(cat server.json server.err)"

# check_signed NAME FILE: pdfsig says valid and trusted; kyso verify says VALID.
check_signed() {
  local name=$1 file=$2 report out
  report=$(pdfsig -nssdir sql:"$WORK/nss" "$file" 2>&1)
  expect_contains "$name: pdfsig: Signature is Valid." "Signature Validation: Signature is Valid." "$report"
  expect_contains "$name: pdfsig: Certificate is Trusted." "Certificate Validation: Certificate is Trusted." "$report"
  out=$("$KYSO" verify --format json "$file" 2>/dev/null)
  expect_eq "$name: kyso verify VALID" VALID "$(jq -r .indication <<< "$out")"
}

# --- 2. sign with the generated key, certificate from the token ---------------------------
out=$("$KYSO" --json sign pdf "$PDF" leader-signed.pdf --key "$KEY" --pin-file pin.txt \
  --chain "$CHAIN" --kind invisible 2>&1)
expect_eq "sign pdf with the token key (certificate read from the token)" \
  "CN=Nguyễn Văn An" "$(jq -r '.signer' <<< "$out" 2>/dev/null | grep -o 'CN=[^,]*')"
check_signed "EC P-256 on the token" leader-signed.pdf

# --- 3. an RSA key imported to the token, PSS, certificate from --cert ----------------------
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out org.key 2>/dev/null
openssl req -new -key org.key -out org.csr -utf8 \
  -subj "/C=VN/L=Bắc Giang/O=UBND tỉnh Bắc Giang/CN=Sở Khoa học và Công nghệ tỉnh Bắc Giang/UID=MST:2400123456"
expect_success "issue the organization certificate" \
  "$KYSO" cert issue --csr org.csr --profile organization --out org.pem
softhsm2-util --import org.key --token kyso-signer --label seal --id 5e --pin 1234 >/dev/null 2>&1 &&
  ok "softhsm2-util imports the RSA key" || not_ok "softhsm2-util imports the RSA key"
shred -u org.key
SEAL="pkcs11:token=kyso-signer;object=seal?module-path=$MODULE&pin-source=file:$WORK/pin.txt"
expect_success "sign pdf with the RSA key on the token, RSASSA-PSS, pin-source in the URI" \
  "$KYSO" sign pdf "$PDF" seal-signed.pdf --key "$SEAL" --cert org.pem --chain "$CHAIN" \
  --pss --kind invisible
check_signed "RSA-PSS on the token" seal-signed.pdf

# --- 4. bad input: exact ids, one line, nothing written ------------------------------------
expect_failure "wrong PIN" pkcs11.pin_incorrect \
  "$KYSO" sign pdf "$PDF" wrong.pdf --key "$KEY" --pin-file wrong-pin.txt --chain "$CHAIN"
[ ! -e wrong.pdf ] && ok "a wrong PIN writes no output" || not_ok "a wrong PIN writes no output"
err=$("$KYSO" sign pdf "$PDF" wrong.pdf --key "$KEY" --pin-file wrong-pin.txt 2>&1)
[[ "$err" != *0000* ]] && ok "the PIN is not in the message" || not_ok "the PIN is not in the message" "$err"
expect_failure "unknown token" pkcs11.token_not_found \
  "$KYSO" sign pdf "$PDF" x.pdf --key "pkcs11:token=no-such;object=k?module-path=$MODULE" --pin-file pin.txt
expect_failure "missing module" pkcs11.module_not_found \
  "$KYSO" sign pdf "$PDF" x.pdf --key "pkcs11:token=kyso-signer;object=k?module-path=$WORK/nope.so" --pin-file pin.txt
expect_failure "absent key" pkcs11.key_not_found \
  "$KYSO" sign pdf "$PDF" x.pdf --key "pkcs11:token=kyso-signer;object=nobody?module-path=$MODULE" --pin-file pin.txt
expect_failure "a certificate object is not a key" pkcs11.key_wrong_type \
  "$KYSO" sign pdf "$PDF" x.pdf --key "pkcs11:token=kyso-signer;object=leader;type=cert?module-path=$MODULE" --pin-file pin.txt
expect_failure "a malformed URI" pkcs11.uri_malformed \
  "$KYSO" sign pdf "$PDF" x.pdf --key "pkcs11:token=kyso signer?module-path=$MODULE" --pin-file pin.txt
expect_failure "a PIN in the URI is refused" pkcs11.uri_pin_value \
  "$KYSO" sign pdf "$PDF" x.pdf --key "pkcs11:token=kyso-signer;object=leader?pin-value=1234"
expect_failure "a certificate for another key" token.cert_mismatch \
  "$KYSO" token import-cert --key "$KEY" --cert org.pem --pin-file pin.txt
[ ! -e x.pdf ] && ok "failed signings write no output" || not_ok "failed signings write no output"

finish
