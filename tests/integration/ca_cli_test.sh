#!/usr/bin/env bash
# End-to-end test of the CA through the `kyso` binary, judged by OpenSSL's own tools:
#   openssl verify (chain, -crl_check), openssl crl -verify, openssl x509 -nameopt utf8.
# Usage: ca_cli_test.sh KYSO_BINARY
KYSO=$1
source "$(dirname "$0")/lib.sh"
WORK=$(mktemp -d /tmp/kyso-it-XXXXXX)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
DATA=$WORK/data
export KYSO_DATA=$DATA
unset KYSO_PASSPHRASE_FILE

# Fast keys for the test; the RSA demo defaults are exercised in demo_defaults_test.sh.
cat > fast.json <<JSON
{"pbkdf2_iterations": 2000,
 "root": {"key": "ec:P-384"},
 "issuing": {"key": "ec:P-256"}}
JSON

expect_success "init --demo" "$KYSO" init --demo --no-demo-data --config fast.json
expect_failure "second init refused" init.already_initialized "$KYSO" init --demo
[ "$(stat -c %a "$DATA/demo-passphrase")" = 600 ] && ok "demo passphrase mode 0600" || not_ok "demo passphrase mode 0600"
for k in "$DATA"/keys/*.key.pem; do
  if grep -q "BEGIN ENCRYPTED PRIVATE KEY" "$k" && [ "$(stat -c %a "$k")" = 600 ]; then :; else not_ok "key $k encrypted, 0600"; fi
done
ok "all keys are encrypted PKCS#8 with mode 0600"
expect_success "openssl decrypts our PKCS#8 with the passphrase" \
  openssl pkey -in "$DATA/keys/issuing.key.pem" -passin "file:$DATA/demo-passphrase" -noout
asn1=$(openssl asn1parse -in "$DATA/keys/issuing.key.pem")
expect_contains "PBES2" "PBES2" "$asn1"
expect_contains "AES-256-CBC" "aes-256-cbc" "$asn1"
expect_contains "PBKDF2 with HMAC-SHA256" "hmacWithSHA256" "$asn1"
expect_success "root and issuing chain verify" openssl verify -CAfile "$DATA/certs/root.pem" "$DATA/certs/issuing.pem"

# --- issuance from CSRs made by openssl req ---
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out person.key 2>/dev/null
openssl req -new -key person.key -utf8 -out person.csr \
  -subj "/C=VN/L=Hà Nội/O=Bộ Tài chính/OU=Vụ Pháp chế/CN=Nguyễn Thị Ánh Tuyết/UID=CCCD:001234567890/emailAddress=tuyet@mof.gov.vn"
expect_success "issue individual" "$KYSO" cert issue --csr person.csr --profile individual --out person.pem
expect_success "openssl verify accepts our chain" \
  openssl verify -CAfile "$DATA/certs/root.pem" -untrusted "$DATA/certs/issuing.pem" person.pem
subject=$(openssl x509 -in person.pem -noout -subject -nameopt utf8,sep_comma_plus)
expect_contains "subject keeps diacritics under -nameopt utf8" "CN=Nguyễn Thị Ánh Tuyết" "$subject"
expect_contains "organization diacritics" "O=Bộ Tài chính" "$subject"
text=$(openssl x509 -in person.pem -noout -text)
expect_contains "email copied into SAN" "email:tuyet@mof.gov.vn" "$text"
expect_contains "OCSP URL in AIA" "OCSP - URI:http://127.0.0.1:8080/ocsp" "$text"
expect_contains "CRL distribution point" "URI:http://127.0.0.1:8080/crl/issuing.crl" "$text"
expect_contains "critical key usage" "X509v3 Key Usage: critical" "$text"
serial=$(openssl x509 -in person.pem -noout -serial | cut -d= -f2)
expect_eq "serial is 20 bytes" 40 "${#serial}"

json=$("$KYSO" --json cert show "$serial")
expect_contains "cert show --json status" '"status": "valid"' "$json"
expect_contains "cert show --json uid" 'CCCD:001234567890' "$json"

# Organization (seal) with RSA-2048 and the example subject of vn-rules.md.
openssl req -new -newkey rsa:2048 -nodes -keyout org.key -utf8 -out org.csr \
  -subj "/C=VN/L=Đà Nẵng/O=UBND TP Đà Nẵng/CN=Sở Y tế/UID=MST:0400260612/UID=MNS:1047665/emailAddress=syt@danang.gov.vn" 2>/dev/null
expect_success "issue organization (RSA-2048)" "$KYSO" cert issue --csr org.csr --profile organization --days 1826 --out org.pem
expect_success "organization chain verifies" openssl verify -CAfile "$DATA/certs/root.pem" -untrusted "$DATA/certs/issuing.pem" org.pem

# Device (TLS server): DNS SAN required.
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout dev.key -out dev.csr -utf8 \
  -subj "/C=VN/O=Sở Y tế/CN=dichvucong.danang.gov.vn" -addext "subjectAltName=DNS:dichvucong.danang.gov.vn" 2>/dev/null
expect_success "issue device" "$KYSO" cert issue --csr dev.csr --profile device --out dev.pem
expect_success "device cert is a valid TLS server cert" openssl verify -purpose sslserver -CAfile "$DATA/certs/root.pem" -untrusted "$DATA/certs/issuing.pem" dev.pem

# --- bad input: one clear line, non-zero exit, no partial record ---
count_before=$("$KYSO" --json cert list --limit 100000 | grep -c '"serial"')
audit_before=$("$KYSO" --json audit list --limit 100000 | grep -c '"seq"')
head -c 200 person.csr > truncated.csr
echo "not a csr" > garbage.csr
expect_failure "malformed CSR" csr.malformed "$KYSO" cert issue --csr garbage.csr --profile individual
expect_failure "truncated CSR" csr.malformed "$KYSO" cert issue --csr truncated.csr --profile individual
openssl req -in person.csr -outform DER -out person.der
head -c 150 person.der > truncated.der
expect_failure "truncated DER CSR" csr.malformed "$KYSO" cert issue --csr truncated.der --profile individual
expect_failure "unknown profile" profile.unknown "$KYSO" cert issue --csr person.csr --profile nosuch
expect_failure "validity over the 5-year limit" profile.validity_too_long "$KYSO" cert issue --csr person.csr --profile individual --days 2000
openssl req -new -key person.key -utf8 -out noid.csr -subj "/C=VN/O=Bộ Tài chính/CN=Nguyễn Văn Không Số"
expect_failure "missing UID" profile.subject_attribute_missing "$KYSO" cert issue --csr noid.csr --profile individual
openssl req -new -key person.key -utf8 -out badid.csr -subj "/C=VN/CN=Lê Văn Sai/UID=CCCD:12345"
expect_failure "malformed CCCD" profile.uid_malformed "$KYSO" cert issue --csr badid.csr --profile individual
openssl req -new -key person.key -utf8 -out ca.csr -subj "/C=VN/CN=Giả mạo CA/UID=CCCD:001234567891" -addext "basicConstraints=critical,CA:TRUE"
expect_failure "CA:TRUE refused" profile.ca_requested "$KYSO" cert issue --csr ca.csr --profile individual
openssl req -new -newkey rsa:1024 -nodes -keyout weak.key -out weak.csr -subj "/C=VN/CN=Yếu/UID=CCCD:001234567892" 2>/dev/null
expect_failure "RSA-1024 refused" profile.key_too_weak "$KYSO" cert issue --csr weak.csr --profile individual
echo "wrong passphrase 123" > wrong.pass
expect_failure "wrong passphrase" key.wrong_passphrase "$KYSO" --passphrase-file wrong.pass cert issue --csr person.csr --profile individual
expect_failure "wrong passphrase from KYSO_PASSPHRASE_FILE" key.wrong_passphrase \
  env KYSO_PASSPHRASE_FILE="$WORK/wrong.pass" "$KYSO" cert issue --csr person.csr --profile individual
expect_failure "unreadable passphrase file" passphrase.file_unreadable "$KYSO" --passphrase-file nosuch.pass cert issue --csr person.csr --profile individual
expect_failure "revoke unknown serial" cert.not_found "$KYSO" cert revoke 0123456789ABCDEF --reason keyCompromise
expect_failure "revoke bad reason" revocation.unknown_reason "$KYSO" cert revoke "$serial" --reason becauseISaidSo
expect_failure "certificateHold unsupported" revoke.reason_unsupported "$KYSO" cert revoke "$serial" --reason certificateHold
count_after=$("$KYSO" --json cert list --limit 100000 | grep -c '"serial"')
audit_after=$("$KYSO" --json audit list --limit 100000 | grep -c '"seq"')
expect_eq "refusals left no certificate behind" "$count_before" "$count_after"
expect_eq "refusals left no audit entry behind" "$audit_before" "$audit_after"

# --- renewal and change of information ---
expect_success "renew (same key)" "$KYSO" cert renew "$serial" --days 1096 --out renewed.pem
expect_failure "renewal over 3 years" profile.validity_too_long "$KYSO" cert renew "$serial" --days 1200
expect_contains "old certificate still valid after renewal" '"status": "valid"' "$("$KYSO" --json cert show "$serial")"
cmp <(openssl x509 -in person.pem -noout -pubkey) <(openssl x509 -in renewed.pem -noout -pubkey) >/dev/null \
  && ok "renewal kept the key" || not_ok "renewal kept the key"
openssl req -new -key person.key -utf8 -out changed.csr \
  -subj "/C=VN/L=Hà Nội/O=Bộ Tài chính/OU=Vụ Tổ chức cán bộ/CN=Nguyễn Thị Ánh Tuyết/UID=CCCD:001234567890"
expect_success "change of information" "$KYSO" cert change "$serial" --csr changed.csr --out changed.pem
show=$("$KYSO" --json cert show "$serial")
expect_contains "old certificate superseded" '"reason": "superseded"' "$show"
expect_contains "changed certificate has the new unit" "OU=Vụ Tổ chức cán bộ" "$(openssl x509 -in changed.pem -noout -subject -nameopt utf8)"
expect_eq "change keeps the old end date" "$(openssl x509 -in person.pem -noout -enddate)" "$(openssl x509 -in changed.pem -noout -enddate)"

# --- revocation and CRLs ---
org_serial=$(openssl x509 -in org.pem -noout -serial | cut -d= -f2)
expect_success "revoke keyCompromise" "$KYSO" cert revoke "$org_serial" --reason keyCompromise --invalidity-date 2026-01-02
expect_failure "revoke twice" cert.already_revoked "$KYSO" cert revoke "$org_serial" --reason keyCompromise
expect_success "generate full CRL" "$KYSO" crl generate --out full.crl
expect_success "openssl crl -verify accepts the full CRL" openssl crl -inform DER -in full.crl -noout -CAfile "$DATA/certs/issuing.pem"
crltext=$(openssl crl -inform DER -in full.crl -noout -text)
expect_contains "CRL lists the revoked serial" "$org_serial" "$crltext"
expect_contains "CRL entry reason" "Key Compromise" "$crltext"
expect_contains "CRL entry invalidity date" "Invalidity Date" "$crltext"
expect_contains "CRL number" "X509v3 CRL Number" "$crltext"
openssl crl -inform DER -in full.crl -out full.pem
cat "$DATA/certs/root.pem" "$DATA/certs/issuing.pem" > chain.pem
out=$(openssl verify -crl_check -CAfile chain.pem -CRLfile full.pem org.pem 2>&1)
expect_contains "revoked certificate fails openssl verify -crl_check" "certificate revoked" "$out"
expect_success "a good certificate passes -crl_check" openssl verify -crl_check -CAfile chain.pem -CRLfile full.pem dev.pem

dev_serial=$(openssl x509 -in dev.pem -noout -serial | cut -d= -f2)
expect_success "revoke after the full CRL" "$KYSO" cert revoke "$dev_serial" --reason cessationOfOperation
expect_success "generate delta CRL" "$KYSO" crl generate --delta --out delta.crl
expect_success "openssl crl -verify accepts the delta CRL" openssl crl -inform DER -in delta.crl -noout -CAfile "$DATA/certs/issuing.pem"
deltatext=$(openssl crl -inform DER -in delta.crl -noout -text)
expect_contains "delta CRL indicator" "Delta CRL Indicator: critical" "$deltatext"
expect_contains "delta lists the new revocation" "$dev_serial" "$deltatext"
[[ "$deltatext" != *"$org_serial"* ]] && ok "delta omits revocations in its base" || not_ok "delta omits revocations in its base"
openssl crl -inform DER -in delta.crl -out delta.pem
out=$(openssl verify -crl_check -use_deltas -CAfile chain.pem -CRLfile full.pem -CRLfile delta.pem dev.pem 2>&1)
expect_contains "delta-revoked certificate fails openssl verify -use_deltas" "certificate revoked" "$out"
expect_success "root CRL verifies" openssl crl -inform DER -in "$DATA/crl/root.crl" -noout -CAfile "$DATA/certs/root.pem"

# --- re-issue after revocation ---
openssl req -new -newkey rsa:2048 -nodes -keyout org2.key -utf8 -out org2.csr \
  -subj "/C=VN/L=Đà Nẵng/O=UBND TP Đà Nẵng/CN=Sở Y tế/UID=MST:0400260612/UID=MNS:1047665/emailAddress=syt@danang.gov.vn" 2>/dev/null
expect_failure "re-issue with the compromised key" reissue.same_key "$KYSO" cert reissue "$org_serial" --csr org.csr
expect_success "re-issue with a new key" "$KYSO" cert reissue "$org_serial" --csr org2.csr --out org2.pem
expect_success "re-issued chain verifies" openssl verify -CAfile "$DATA/certs/root.pem" -untrusted "$DATA/certs/issuing.pem" org2.pem

# --- export, listing ---
expect_success "export with chain" "$KYSO" cert export "$serial" --chain --out exported.pem
expect_eq "exported chain has 3 certificates" 3 "$(grep -c 'BEGIN CERTIFICATE' exported.pem)"
expect_contains "list by uid" "$serial" "$("$KYSO" cert list --uid CCCD:001234567890)"
expect_contains "list revoked" "$org_serial" "$("$KYSO" cert list --status revoked)"

# --- audit log ---
expect_success "audit verify on an intact log" "$KYSO" audit verify
# The store refuses UPDATE/DELETE on the log with triggers; an attacker with file access drops
# them first, which is exactly what the hash chain must still catch.
expect_failure "the store refuses to edit the audit log" "append-only" sqlite3 "$DATA/kyso.db" "UPDATE audit_log SET actor = 'x' WHERE seq = 1;"
sqlite3 "$DATA/kyso.db" "DROP TRIGGER audit_log_no_update; UPDATE audit_log SET details = replace(details, 'keyCompromise', 'unspecified') WHERE action = 'cert.revoke' AND details LIKE '%keyCompromise%';"
out=$("$KYSO" audit verify 2>&1); rc=$?
[ $rc -ne 0 ] && ok "edited entry detected (exit $rc)" || not_ok "edited entry detected"
expect_contains "audit verify names the edited entry" "audit.entry_modified" "$out"

# --- corrupted database ---
cp -r "$DATA" corrupt
printf 'this is not a database at all, just garbage bytes.................................' | dd of=corrupt/kyso.db bs=1 seek=0 conv=notrunc 2>/dev/null
expect_failure "corrupted database" store.corrupt "$KYSO" --data corrupt cert list
expect_failure "missing data directory" instance.not_initialized "$KYSO" --data "$WORK/nothing" ca list

finish
