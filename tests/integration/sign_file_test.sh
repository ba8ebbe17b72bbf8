#!/usr/bin/env bash
# POST /api/v1/sign/file over HTTP on the demo directory: a detached CAdES signature (ETSI EN
# 319 122-1 B-B) made with a server-held key, judged by `openssl cms -verify` over the exact
# bytes and chained to the instance's root alone (the CMS carries the issuing CA), and by the
# registration workflow, which accepts the body's own seal for a request of that body (issue
# 12: the clerk of Sở Tài chính signs a draft with the demo's key `bacgiang-stc` and submits
# it). Refusals (401, 403, 404, 400, 413) and the audit trail (sign.file, sign.refused). Then the
# same signature from the command line, `kyso sign file` (issue 16), judged by openssl cms -verify
# and kyso verify, with its refusals (wrong passphrase, another key's certificate, no input).
# Usage: sign_file_test.sh KYSO_BINARY
KYSO=$1
source "$(dirname "$0")/lib.sh"
use_work_dir sign-file
for tool in openssl curl jq awk base64 sha256sum truncate; do
  command -v "$tool" >/dev/null || { not_ok "prerequisite $tool"; finish; exit 1; }
done
pick_port
echo '{"pbkdf2_iterations": 2000, "root": {"key": "ec:P-384"}, "issuing": {"key": "ec:P-256"}}' \
  > fast.json
expect_success "init --demo" "$KYSO" init --demo --config fast.json --base-url "$URL"
start_server "$KYSO"

# token ROLE: an API token for the demo account of ROLE (demo-accounts.txt: role user password).
token() {
  local body
  body=$(awk -v r="$1" '$1 == r {printf "{\"username\":\"%s\",\"password\":\"%s\"}", $2, $3}' \
    "$DATA/demo-accounts.txt")
  curl -s -c "cookies.$1" -H 'Content-Type: application/json' -d "$body" \
    "$URL/api/v1/auth/login" | jq -r .csrf_token > "csrf.$1"
  curl -s -b "cookies.$1" -H "X-CSRF-Token: $(cat "csrf.$1")" -H 'Content-Type: application/json' \
    -d '{"name":"sign file test","days":1}' "$URL/api/v1/auth/tokens" | jq -r .token
}
CLERK=$(token clerk)
OTHER=$(token other_agency_officer)
CLERK_USER=$(awk '$1 == "clerk" {print $2}' "$DATA/demo-accounts.txt")
[[ "$CLERK" == kyso_* && "$OTHER" == kyso_* ]] && ok "the demo clerk and another body's officer log in" ||
  not_ok "the demo clerk and another body's officer log in" "$CLERK $OTHER"
expect_eq "the clerk may sign with the demo's key" bacgiang-stc \
  "$(curl -s -H "Authorization: Bearer $CLERK" "$URL/api/v1/sign/keys" | jq -r '.items[].id')"

# --- a draft of Sở Tài chính, signed with the server-held seal and submitted ----------------
curl -s -H "Authorization: Bearer $CLERK" "$URL/api/v1/requests?state=draft&limit=100" > drafts.json
ID=$(jq -r '[.items[] | select(.kind == "new_individual")][0].id' drafts.json)
VERSION=$(jq -r --argjson id "$ID" '.items[] | select(.id == $id) | .version' drafts.json)
[[ "$ID" =~ ^[0-9]+$ ]] && ok "the clerk's queue has a Mẫu 01 draft ($ID)" ||
  not_ok "the clerk's queue has a Mẫu 01 draft" "$(head -c 500 drafts.json)"
curl -s -H "Authorization: Bearer $CLERK" "$URL/api/v1/requests/$ID/document" -o "yeu-cau-$ID.json"
code=$(curl -s -o sig.p7s -D sig.headers -w '%{http_code}' -H "Authorization: Bearer $CLERK" \
  -F "file=@yeu-cau-$ID.json" -F key=bacgiang-stc "$URL/api/v1/sign/file")
expect_eq "POST /api/v1/sign/file by the authorized clerk: 200" 200 "$code"
headers=$(tr -d '\r' < sig.headers)
expect_contains "the answer is application/pkcs7-signature" \
  "Content-Type: application/pkcs7-signature" "$headers"
expect_contains "the answer is an attachment named after the upload" \
  "Content-Disposition: attachment; filename=\"yeu-cau-$ID.json.p7s\"" "$headers"
out=$(openssl cms -verify -binary -inform DER -in sig.p7s -content "yeu-cau-$ID.json" \
  -CAfile "$DATA/certs/root.pem" -out /dev/null 2>&1)
expect_eq "openssl cms -verify accepts the detached signature, trusting the root alone" \
  "CMS Verification successful" "$out"
printed=$(openssl cms -cmsout -print -inform DER -in sig.p7s 2>&1)
for attribute in "contentType" "signingTime" "id-smime-aa-signingCertificateV2" "messageDigest"; do
  expect_contains "CAdES B-B signed attribute $attribute" "object: $attribute" "$printed"
done
expect_contains "the content type is id-data" "OBJECT:pkcs7-data" "$printed"
expect_eq "detached: no eContent" 1 "$(grep -c 'eContent: <ABSENT>' <<<"$printed")"
expect_eq "the signer's chain is included (seal, issuing CA)" 2 \
  "$(openssl pkcs7 -inform DER -in sig.p7s -print_certs 2>/dev/null | grep -c '^subject')"
{ cat "yeu-cau-$ID.json"; printf ' '; } > changed.json
openssl cms -verify -binary -inform DER -in sig.p7s -content changed.json \
  -CAfile "$DATA/certs/root.pem" -out /dev/null >/dev/null 2>&1
expect_eq "openssl cms -verify refuses it over other bytes" 4 "$?"

code=$(curl -s -o submit.json -w '%{http_code}' -H "Authorization: Bearer $CLERK" \
  -H 'Content-Type: application/json' \
  -d "{\"version\":$VERSION,\"signature\":\"$(base64 -w0 sig.p7s)\"}" \
  "$URL/api/v1/requests/$ID/submit")
expect_eq "the registry accepts the body's seal held on the server: submitted" "200 submitted" \
  "$code $(jq -r .state submit.json)"
expect_contains "the request names its signer, the seal of Sở Tài chính" "CN=Sở Tài chính" \
  "$(jq -r .signer submit.json)"

# --- refusals -----------------------------------------------------------------------------
# refused NAME STATUS ID curl-args...: POST /api/v1/sign/file answers STATUS with error ID.
refused() {
  local name=$1 status=$2 id=$3; shift 3
  local got
  got=$(curl -s -o refused.json -w '%{http_code}' "$@" "$URL/api/v1/sign/file")
  expect_eq "$name: HTTP $status $id" "$status $id" "$got $(jq -r .error.code refused.json 2>/dev/null)"
}
refused "no credentials" 401 auth.required -F "file=@yeu-cau-$ID.json" -F key=bacgiang-stc
refused "another body's officer" 403 sign.key_not_authorized -H "Authorization: Bearer $OTHER" \
  -F "file=@yeu-cau-$ID.json" -F key=bacgiang-stc
refused "the clerk's cookie session without X-CSRF-Token" 403 auth.csrf -b cookies.clerk \
  -F "file=@yeu-cau-$ID.json" -F key=bacgiang-stc
refused "an unknown key" 404 signing_key.not_found -H "Authorization: Bearer $CLERK" \
  -F "file=@yeu-cau-$ID.json" -F key=khong-co
refused "no file part" 400 sign.no_file -H "Authorization: Bearer $CLERK" -F key=bacgiang-stc
refused "no key part" 400 sign.no_key -H "Authorization: Bearer $CLERK" -F "file=@yeu-cau-$ID.json"
truncate -s $((64 * 1024 * 1024 + 1)) big.bin
refused "a file over 64 MiB" 413 http.body_too_large -H "Authorization: Bearer $CLERK" \
  -F file=@big.bin -F key=bacgiang-stc
code=$(curl -s -o session.p7s -w '%{http_code}' -b cookies.clerk -H "X-CSRF-Token: $(cat csrf.clerk)" \
  -F "file=@yeu-cau-$ID.json" -F key=bacgiang-stc "$URL/api/v1/sign/file")
expect_eq "the clerk's browser session (cookie + CSRF) signs too" 200 "$code"

# --- the same from the command line: kyso sign file (any file, detached CAdES B-B) ----------
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out signer.key 2>/dev/null
openssl pkcs8 -topk8 -in signer.key -out signer.p8 -passout pass:matkhau123 -v2 aes-256-cbc
echo matkhau123 > pass.txt
echo sai-mat-khau > wrong-pass.txt
openssl req -new -key signer.key -out signer.csr -utf8 \
  -subj "/C=VN/L=Bắc Giang/O=Sở Tài chính tỉnh Bắc Giang/CN=Nguyễn Thị Hoa/UID=CCCD:024190012345"
expect_success "a signer's certificate issued" "$KYSO" cert issue --csr signer.csr \
  --profile official --out signer.pem
SIGNER=(--key signer.p8 --key-passphrase-file pass.txt --cert signer.pem --chain "$DATA/certs/chain.pem")
printf 'Hợp đồng số 12/2026/HĐ-STC\n' > "hop-dong.docx"
expect_success "kyso sign file writes hop-dong.docx.p7s" "$KYSO" sign file hop-dong.docx "${SIGNER[@]}"
out=$(openssl cms -verify -binary -inform DER -in hop-dong.docx.p7s -content hop-dong.docx \
  -CAfile "$DATA/certs/root.pem" -out /dev/null 2>&1)
expect_eq "openssl cms -verify accepts the CLI's signature" "CMS Verification successful" "$out"
report=$("$KYSO" --json verify hop-dong.docx.p7s --content hop-dong.docx 2>/dev/null)
expect_eq "kyso verify: the signature intact, VALID against the instance's chain" "true VALID" \
  "$(jq -r '(.signatures[0].integrity | tostring) + " " + .indication' <<<"$report" 2>/dev/null)"
printf 'Hợp đồng số 13/2026/HĐ-STC\n' > hop-dong-khac.docx
out=$(openssl cms -verify -binary -inform DER -in hop-dong.docx.p7s -content hop-dong-khac.docx \
  -CAfile "$DATA/certs/root.pem" -out /dev/null 2>&1)
expect_contains "openssl refuses it over other bytes" "Verification failure" "$out"
json=$("$KYSO" --json sign file hop-dong.docx chu-ky.p7s "${SIGNER[@]}" 2>/dev/null)
expect_eq "--json names the output and the level" "chu-ky.p7s CAdES-B-B" \
  "$(jq -r '.output + " " + .level' <<<"$json")"
expect_failure "a wrong key passphrase is refused" key.wrong_passphrase \
  "$KYSO" sign file hop-dong.docx refused.p7s --key signer.p8 --key-passphrase-file wrong-pass.txt \
  --cert signer.pem
expect_failure "a certificate of another key is refused" pades.key_mismatch \
  "$KYSO" sign file hop-dong.docx refused.p7s --key signer.p8 --key-passphrase-file pass.txt \
  --cert "$DATA/certs/issuing.pem"
[ ! -e refused.p7s ] && ok "a refusal writes no signature" || not_ok "a refusal writes no signature"
expect_failure "a missing input is refused" file.not_found \
  "$KYSO" sign file khong-co.docx "${SIGNER[@]}"

# --- the audit trail ------------------------------------------------------------------------
audit=$("$KYSO" --json audit list --limit 100000 2>/dev/null)
expect_eq "audit: sign.file by the clerk with the key, over the document's SHA-256" \
  "signing_key/bacgiang-stc $(sha256sum "yeu-cau-$ID.json" | cut -d' ' -f1)" \
  "$(jq -r --arg u "$CLERK_USER" '[.[] | select(.action == "sign.file" and (.actor | endswith(":" + $u)))][0] | .object + " " + (.details.document_sha256 | ascii_downcase)' <<<"$audit")"
expect_eq "audit: two signatures made (token, session)" 2 \
  "$(jq '[.[] | select(.action == "sign.file")] | length' <<<"$audit")"
expect_eq "audit: the other body's officer's refusal" 1 \
  "$(jq '[.[] | select(.action == "sign.refused" and .details.error == "sign.key_not_authorized")] | length' <<<"$audit")"
expect_success "the audit log verifies" "$KYSO" audit verify

finish
