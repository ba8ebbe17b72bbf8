#!/usr/bin/env bash
# The registration workflow end to end over the HTTP API only, judged by OpenSSL:
#   bodies and people → the managing agency signs (openssl cms) and submits a new-certificate
#   request → the CA operator approves and executes → `openssl ocsp` says good → a delegated
#   renewal handled by the provincial office → a revocation → `openssl ocsp` says revoked and
#   the delta CRL lists it; plus the refusals of the role matrix, CSRF, idempotency and bad
#   input.
# Usage: registry_http_test.sh KYSO [sqlite|postgresql]
# With postgresql the script starts a throwaway PostgreSQL 15 cluster, and also runs a second
# `kyso serve` node on the same database: both issue concurrently (no duplicate serial, a
# linear audit chain) and a revocation on one node is seen by the other's OCSP at once.
KYSO=$1
BACKEND=${2:-sqlite}
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/pg_cluster.sh"
WORK=$(mktemp -d /tmp/kyso-registry-XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  pg_stop
  rm -rf "$WORK"
}
trap cleanup EXIT
cd "$WORK"
DATA=$WORK/data
export KYSO_DATA=$DATA
unset KYSO_PASSPHRASE_FILE

for tool in curl jq openssl base64; do
  command -v "$tool" >/dev/null || { not_ok "prerequisite $tool"; finish; exit 1; }
done

DB_ARGS=()
if [ "$BACKEND" = postgresql ]; then
  if pg_start; then ok "throwaway PostgreSQL 15 cluster started"; else
    not_ok "throwaway PostgreSQL 15 cluster started"; finish; exit 1; fi
  DB_ARGS=(--db "$PG_URL")
fi

PORT=$(free_port)
URL=http://127.0.0.1:$PORT
cat > fast.json <<JSON
{"pbkdf2_iterations": 2000, "root": {"key": "ec:P-384"}, "issuing": {"key": "ec:P-256"}}
JSON
expect_success "init --demo on $BACKEND" "$KYSO" "${DB_ARGS[@]}" init --demo --no-demo-data --config fast.json \
  --base-url "$URL"
[ -s "$DATA/demo-admin-password" ] && ok "demo administrator password written" ||
  not_ok "demo administrator password written"

start_node() {  # PORT LOGFILE
  "$KYSO" "${DB_ARGS[@]}" --json serve --listen "127.0.0.1:$1" --access-log off \
    --reminder-period 1 --outbox-period 1 > "$2.json" 2> "$2.err" &
  PIDS+=($!)
  for _ in $(seq 1 150); do grep -q '"port"' "$2.json" 2>/dev/null && break; sleep 0.1; done
  grep -q "\"port\":$1" "$2.json"
}
start_node "$PORT" node1 && ok "kyso serve answers at $URL" ||
  not_ok "kyso serve answers at $URL" "$(cat node1.err)"

# call METHOD PATH TOKEN [JSON]: sets CODE and BODY. Extra curl arguments in EXTRA.
EXTRA=()
call() {
  local args=(-s -o body.out -w '%{http_code}' -X "$1" "$URL$2")
  [ -n "$3" ] && args+=(-H "Authorization: Bearer $3")
  [ -n "${4:-}" ] && args+=(-H 'Content-Type: application/json' --data-binary "$4")
  CODE=$(curl "${args[@]}" "${EXTRA[@]}")
  BODY=$(cat body.out)
  EXTRA=()
}
# expect_call NAME STATUS [ERROR_CODE]: checks the last call.
expect_call() {
  local want_code=${3:-}
  if [ "$CODE" != "$2" ]; then
    not_ok "$1" "HTTP $CODE, expected $2" "$BODY"
  elif [ -n "$want_code" ] && [ "$(jq -r .error.code <<< "$BODY")" != "$want_code" ]; then
    not_ok "$1" "error $(jq -r .error.code <<< "$BODY"), expected $want_code" "$BODY"
  else
    ok "$1"
  fi
}

# --- logging in -------------------------------------------------------------------------------
call GET /api/v1/me ""
expect_call "no credentials: 401 auth.required" 401 auth.required
ADMIN_PASS=$(head -1 "$DATA/demo-admin-password")
curl -s -c admin.jar -o login.json -X POST "$URL/api/v1/auth/login" \
  -H 'Content-Type: application/json' -d "{\"username\":\"admin\",\"password\":\"$ADMIN_PASS\"}"
CSRF=$(jq -r .csrf_token login.json)
[ -n "$CSRF" ] && [ "$CSRF" != null ] && ok "admin logs in with a password" ||
  not_ok "admin logs in with a password" "$(cat login.json)"
grep -q 'kyso_session' admin.jar && ok "session cookie set" || not_ok "session cookie set"
code=$(curl -s -o csrf.out -w '%{http_code}' -b admin.jar -X POST "$URL/api/v1/auth/tokens" \
  -H 'Content-Type: application/json' -d '{"name":"x"}')
[ "$code" = 403 ] && [ "$(jq -r .error.code csrf.out)" = auth.csrf ] &&
  ok "cookie write without X-CSRF-Token: 403 auth.csrf" ||
  not_ok "cookie write without X-CSRF-Token: 403 auth.csrf" "$code $(cat csrf.out)"
ADMIN=$(curl -s -b admin.jar -X POST "$URL/api/v1/auth/tokens" -H "X-CSRF-Token: $CSRF" \
  -H 'Content-Type: application/json' -d '{"name":"e2e"}' | jq -r .token)
[[ "$ADMIN" == kyso_* ]] && ok "API token created through the cookie session" ||
  not_ok "API token created through the cookie session" "$ADMIN"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$URL/api/v1/auth/login" \
  -H 'Content-Type: application/json' -d '{"username":"admin","password":"wrong-password-1"}')
expect_eq "wrong password: 401" 401 "$code"

# --- bodies and people (admin) ------------------------------------------------------------------
org() {  # NAME PARENT MST → id
  local parent=${2:-null}
  call POST /api/v1/organizations "$ADMIN" \
    "{\"name\":\"$1\",\"parent_id\":$parent,\"tax_code\":\"$3\",\"email\":\"vt@$3.gov.vn\",\"province\":\"Đà Nẵng\",\"managing_agency\":true}"
  [ "$CODE" = 201 ] || echo "org $1: $CODE $BODY" >&2
  jq -r .id <<< "$BODY"
}
PROV_A=$(org "UBND thành phố Đà Nẵng" "" 0400000001)
SYT_A=$(org "Sở Y tế" "$PROV_A" 0400260612)
UNIT_A=$(org "Phòng Nghiệp vụ Y" "$SYT_A" 0400260613)
OFFICE_A=$(org "Văn phòng đại diện Đà Nẵng" "$PROV_A" 0400000009)
PROV_B=$(org "UBND tỉnh Quảng Nam" "" 4000000001)
SYT_B=$(org "Sở Y tế Quảng Nam" "$PROV_B" 4000000002)
[ "$UNIT_A" -gt 0 ] 2>/dev/null && [ "$SYT_B" -gt 0 ] 2>/dev/null && ok "six bodies in two trees" ||
  not_ok "six bodies in two trees" "$UNIT_A $SYT_B"
call POST /api/v1/organizations "$ADMIN" '{"name":"Sai","tax_code":"12"}'
expect_call "bad MST: 400 org.bad_tax_code" 400 org.bad_tax_code
call POST /api/v1/organizations "$ADMIN" '{"name":'
expect_call "malformed JSON: 400 api.bad_json" 400 api.bad_json

EXTRA=(-H "Idempotency-Key: person-an")
call POST /api/v1/people "$ADMIN" \
  "{\"full_name\":\"Nguyễn Văn An\",\"personal_id\":\"048090001234\",\"position\":\"Chuyên viên\",\"organization_id\":$UNIT_A,\"email\":\"an@soyte.danang.gov.vn\",\"mobile\":\"0905123456\"}"
expect_call "person created" 201
PERSON=$(jq -r .id <<< "$BODY")
EXTRA=(-H "Idempotency-Key: person-an")
call POST /api/v1/people "$ADMIN" \
  "{\"full_name\":\"Nguyễn Văn An\",\"personal_id\":\"048090001234\",\"position\":\"Chuyên viên\",\"organization_id\":$UNIT_A,\"email\":\"an@soyte.danang.gov.vn\",\"mobile\":\"0905123456\"}"
expect_call "same Idempotency-Key and body: the first result replayed (200)" 200
expect_eq "replay names the same person" "$PERSON" "$(jq -r .id <<< "$BODY")"
EXTRA=(-H "Idempotency-Key: person-an")
call POST /api/v1/people "$ADMIN" "{\"full_name\":\"Khác\",\"personal_id\":\"048090009999\",\"organization_id\":$UNIT_A}"
expect_call "same key, other body: 422 idempotency.key_reused" 422 idempotency.key_reused

PASSWORD='Mật-khẩu-đủ-dài-2026'
account() {  # USERNAME ROLE ORG PERSON → creates, logs in, prints an API token
  local org=${3:-null} person=${4:-null}
  call POST /api/v1/accounts "$ADMIN" \
    "{\"username\":\"$1\",\"role\":\"$2\",\"organization_id\":$org,\"person_id\":$person,\"password\":\"$PASSWORD\"}"
  [ "$CODE" = 201 ] || { echo "account $1: $CODE $BODY" >&2; return; }
  curl -s -c "$1.jar" -o "$1.login" -X POST "$URL/api/v1/auth/login" \
    -H 'Content-Type: application/json' -d "{\"username\":\"$1\",\"password\":\"$PASSWORD\"}"
  curl -s -b "$1.jar" -X POST "$URL/api/v1/auth/tokens" \
    -H "X-CSRF-Token: $(jq -r .csrf_token "$1.login")" -H 'Content-Type: application/json' \
    -d '{"name":"e2e","days":1}' | jq -r .token
}
OFFICER_A=$(account officer.a agency_officer "$SYT_A")
OFFICER_B=$(account officer.b agency_officer "$SYT_B")
OPERATOR=$(account operator ca_operator)
AUDITOR=$(account auditor auditor)
DELEGATE=$(account office.a delegate_officer "$OFFICE_A")
SUBSCRIBER=$(account an.nguyen subscriber "$UNIT_A" "$PERSON")
bad_accounts=""
for t in OFFICER_A OFFICER_B OPERATOR AUDITOR DELEGATE SUBSCRIBER; do
  [[ "${!t}" == kyso_* ]] || bad_accounts+=" $t"
done
[ -z "$bad_accounts" ] && ok "six accounts log in and hold API tokens" ||
  not_ok "six accounts log in and hold API tokens" "failed:$bad_accounts"
call POST /api/v1/accounts "$OPERATOR" '{"username":"evil","role":"admin","password":"Xx-123456789012"}'
expect_call "a CA operator cannot create accounts: 403 access.denied" 403 access.denied
call POST /api/v1/accounts "$ADMIN" "{\"username\":\"weak\",\"role\":\"auditor\",\"password\":\"short\"}"
expect_call "weak password: 400 auth.weak_password" 400 auth.weak_password

# --- My account: API tokens listed (never their secrets) and revoked at once --------------------
call GET /api/v1/auth/tokens "$OFFICER_A"
expect_call "officer A lists own API tokens" 200
expect_eq "one token named e2e, with an id, no secret or hash" "1 e2e true false" \
  "$(jq -r '[(.items|length), .items[0].name, (.items[0].id > 0), (tostring|test("kyso_|hash"))]|join(" ")' <<< "$BODY")"
call POST /api/v1/auth/tokens "$OFFICER_A" '{"name":"một cửa","days":2}'
expect_call "officer A creates a second token with the first" 201
SPARE=$(jq -r .token <<< "$BODY")
call GET /api/v1/auth/tokens "$OFFICER_A"
SPARE_ID=$(jq -r '.items[] | select(.name == "một cửa") | .id' <<< "$BODY")
expect_eq "the list holds both, the new one by name" "2" "$(jq '.items | length' <<< "$BODY")"
call GET /api/v1/me "$SPARE"
expect_call "the second token authenticates" 200
call DELETE "/api/v1/auth/tokens/$SPARE_ID" "$OFFICER_B"
expect_call "another account's token: 404 store.not_found" 404 store.not_found
code=$(curl -s -o csrf-del.out -w '%{http_code}' -b officer.a.jar -X DELETE "$URL/api/v1/auth/tokens/$SPARE_ID")
expect_eq "cookie revoke without X-CSRF-Token: 403 auth.csrf" "403 auth.csrf" "$code $(jq -r .error.code csrf-del.out)"
call DELETE /api/v1/auth/tokens/abc "$OFFICER_A"
expect_call "revoke with a bad id: 400 api.bad_id" 400 api.bad_id
call DELETE "/api/v1/auth/tokens/$SPARE_ID" "$OFFICER_A"
expect_call "officer A revokes the second token" 200
expect_eq "answer says revoked" true "$(jq -r .revoked <<< "$BODY")"
call GET /api/v1/me "$SPARE"
expect_call "the revoked token stops authenticating at once: 401 auth.invalid_token" 401 auth.invalid_token
call GET /api/v1/me "$OFFICER_A"
expect_call "the first token still works" 200

# --- the managing agency's seal, issued at the counter (bootstrap) ------------------------------
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out seal.key 2>/dev/null
openssl req -new -key seal.key -utf8 -subj "/C=VN/L=Đà Nẵng/O=UBND thành phố Đà Nẵng/CN=Sở Y tế/UID=MST:0400260612" \
  -out seal.csr 2>/dev/null
expect_success "the agency's seal certificate is issued for body $SYT_A" "$KYSO" "${DB_ARGS[@]}" cert issue \
  --csr seal.csr --profile organization --org "$SYT_A" --out seal.pem
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out other.key 2>/dev/null
openssl req -new -key other.key -utf8 -subj "/C=VN/L=Quảng Nam/O=UBND tỉnh Quảng Nam/CN=Sở Y tế Quảng Nam/UID=MST:4000000002" \
  -out other.csr 2>/dev/null
"$KYSO" "${DB_ARGS[@]}" cert issue --csr other.csr --profile organization --org "$SYT_B" --out other.pem >/dev/null 2>&1

# sign ID KEY CERT: the detached CMS (base64 DER) over the request's canonical document.
sign() {
  curl -s -H "Authorization: Bearer $OFFICER_A" "$URL/api/v1/requests/$1/document" -o "doc-$1.json"
  openssl cms -sign -binary -cades -md sha256 -in "doc-$1.json" -signer "$3" -inkey "$2" \
    -outform DER -out "sig-$1.der" 2>/dev/null
  base64 -w0 "sig-$1.der"
}
version_of() { call GET "/api/v1/requests/$1" "$OPERATOR"; jq -r .version <<< "$BODY"; }
act() {  # TOKEN ID ACTION [REASON]
  local v
  v=$(version_of "$2")
  call POST "/api/v1/requests/$2/transitions" "$1" \
    "{\"action\":\"$3\",\"version\":$v,\"reason\":\"${4:-}\"}"
}

# --- a new certificate: draft → signed submission → review → approve → execute --------------------
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out an.key 2>/dev/null
openssl req -new -key an.key -utf8 -subj "/C=VN/O=Sở Y tế Đà Nẵng/CN=Nguyễn Văn An/UID=CCCD:048090001234" \
  -out an.csr 2>/dev/null
FORM=$(jq -n --arg csr "$(cat an.csr)" '{full_name:"Nguyễn Văn An", personal_id:"048090001234",
  position:"Chuyên viên", unit:"Phòng Nghiệp vụ Y", email:"an@soyte.danang.gov.vn",
  mobile:"0905123456", province:"Đà Nẵng", csr:$csr}')
REQ_BODY=$(jq -n --argjson form "$FORM" --argjson org "$UNIT_A" --argjson p "$PERSON" \
  '{kind:"new_individual", organization_id:$org, person_id:$p, form:$form}')
call POST /api/v1/requests "$OFFICER_B" "$REQ_BODY"
expect_call "body B's officer cannot file for body A: 403 access.out_of_scope" 403 access.out_of_scope
call POST /api/v1/requests "$SUBSCRIBER" "$REQ_BODY"
expect_call "a subscriber cannot request a new certificate: 403 access.denied" 403 access.denied
BAD_FORM=$(jq '.form.personal_id = "123"' <<< "$REQ_BODY")
call POST /api/v1/requests "$OFFICER_A" "$BAD_FORM"
expect_call "Mẫu 01 with a bad CCCD: 400 form.bad_personal_id" 400 form.bad_personal_id
call POST /api/v1/requests "$OFFICER_A" "$REQ_BODY"
expect_call "officer A drafts Mẫu 01" 201
NEW=$(jq -r .id <<< "$BODY")
call POST "/api/v1/requests/$NEW/submit" "$OFFICER_A" '{"version":1}'
expect_call "unsigned submission: 400 ra.unsigned" 400 ra.unsigned
SIG_B=$(sign "$NEW" other.key other.pem)
call POST "/api/v1/requests/$NEW/submit" "$OFFICER_A" "{\"version\":1,\"signature\":\"$SIG_B\"}"
expect_call "signed by another body's seal: 403 ra.signer_not_authorized" 403 ra.signer_not_authorized
SIG=$(sign "$NEW" seal.key seal.pem)
cp "doc-$NEW.json" tampered.json && sed -i 's/Chuyên viên/Giám đốc/' tampered.json
openssl cms -sign -binary -cades -md sha256 -in tampered.json -signer seal.pem -inkey seal.key \
  -outform DER -out tampered.der 2>/dev/null
call POST "/api/v1/requests/$NEW/submit" "$OFFICER_A" \
  "{\"version\":1,\"signature\":\"$(base64 -w0 tampered.der)\"}"
expect_call "a signature over another document: 400 ra.bad_signature" 400 ra.bad_signature
openssl cms -verify -binary -inform DER -in "sig-$NEW.der" -content "doc-$NEW.json" \
  -CAfile "$DATA/certs/chain.pem" -purpose any -out /dev/null 2>/dev/null &&
  ok "openssl cms -verify accepts the agency's submission signature" ||
  not_ok "openssl cms -verify accepts the agency's submission signature"
call POST "/api/v1/requests/$NEW/submit" "$OFFICER_A" "{\"version\":1,\"signature\":\"$SIG\"}"
expect_call "signed submission accepted" 200
expect_eq "routed to the CA operator" ca "$(jq -r .assignee <<< "$BODY")"
[ "$(jq -r .due_at <<< "$BODY")" != null ] && ok "deadline set (3 working days)" ||
  not_ok "deadline set" "$BODY"
call GET "/api/v1/requests/$NEW" "$OFFICER_B"
expect_call "body B's officer cannot see it: 403" 403 access.out_of_scope
act "$SUBSCRIBER" "$NEW" review
expect_call "the subscriber cannot review: 403 access.denied" 403 access.denied
act "$OFFICER_A" "$NEW" approve
expect_call "approve before review: 409 ra.bad_transition" 409 ra.bad_transition
act "$OPERATOR" "$NEW" review && expect_call "operator reviews" 200
call POST "/api/v1/requests/$NEW/transitions" "$OPERATOR" '{"action":"approve","version":1}'
expect_call "stale version: 409 store.conflict" 409 store.conflict
act "$OPERATOR" "$NEW" approve && expect_call "operator approves" 200
act "$OPERATOR" "$NEW" execute && expect_call "operator executes" 200
expect_eq "request executed" executed "$(jq -r .state <<< "$BODY")"
CERT=$(jq -r .result_certificate_id <<< "$BODY")
call GET "/api/v1/registry/certificates/$CERT" "$SUBSCRIBER"
expect_call "the subscriber downloads the new certificate" 200
jq -r .pem <<< "$BODY" > an.pem
expect_contains "certificate subject is An's" "Nguyễn Văn An" "$(openssl x509 -in an.pem -noout -subject -nameopt utf8)"
ocsp_status() {  # CERT_PEM [URL]
  openssl ocsp -issuer "$DATA/certs/issuing.pem" -cert "$1" -url "${2:-$URL}/ocsp" \
    -CAfile "$DATA/certs/chain.pem" -no_nonce 2>&1 | sed -n "s/^$1: //p"
}
expect_eq "openssl ocsp: good" good "$(ocsp_status an.pem)"

# --- a delegated renewal ------------------------------------------------------------------------
call POST /api/v1/delegations "$OFFICER_A" \
  "{\"delegate_organization_id\":$OFFICE_A,\"scope_organization_id\":$PROV_A,\"kinds\":[\"renewal\"]}"
expect_call "an officer cannot delegate: 403 access.denied" 403 access.denied
call POST /api/v1/delegations "$OPERATOR" \
  "{\"delegate_organization_id\":$OFFICE_A,\"scope_organization_id\":$PROV_A,\"kinds\":[\"revocation\"]}"
expect_call "revocation cannot be delegated: 400 ra.kind_not_delegable" 400 ra.kind_not_delegable
call POST /api/v1/delegations "$OPERATOR" \
  "{\"delegate_organization_id\":$OFFICE_A,\"scope_organization_id\":$PROV_A,\"kinds\":[\"renewal\",\"device_restore\"]}"
expect_call "the CA operator delegates renewal to the provincial office" 201
call POST /api/v1/requests "$OFFICER_A" \
  "{\"kind\":\"renewal\",\"organization_id\":$UNIT_A,\"person_id\":$PERSON,\"certificate_id\":$CERT,\"form\":{\"reason\":\"Sắp hết hạn\",\"days\":365}}"
expect_call "officer A drafts Mẫu 04 (renewal)" 201
RENEW=$(jq -r .id <<< "$BODY")
SIG=$(sign "$RENEW" seal.key seal.pem)
call POST "/api/v1/requests/$RENEW/submit" "$OFFICER_A" "{\"version\":1,\"signature\":\"$SIG\"}"
expect_call "renewal submitted" 200
[[ "$(jq -r .assignee <<< "$BODY")" == delegation:* ]] && ok "renewal routed to the delegation" ||
  not_ok "renewal routed to the delegation" "$BODY"
call GET "/api/v1/requests?mine=1" "$DELEGATE"
expect_eq "the delegate's queue holds it" "$RENEW" "$(jq -r '.items[0].id' <<< "$BODY")"
call GET "/api/v1/requests/$NEW" "$DELEGATE"
expect_call "the delegate cannot see undelegated requests: 403" 403 access.out_of_scope
for action in review approve execute; do
  act "$DELEGATE" "$RENEW" "$action"
  expect_call "delegate: $action" 200
done
RENEWED=$(jq -r .result_certificate_id <<< "$BODY")
[ "$RENEWED" != "$CERT" ] && [ "$RENEWED" != null ] && ok "renewal issued a new certificate" ||
  not_ok "renewal issued a new certificate" "$BODY"
call GET "/api/v1/registry/certificates/$RENEWED" "$OPERATOR"
jq -r .pem <<< "$BODY" > renewed.pem
expect_eq "openssl ocsp: renewed certificate good" good "$(ocsp_status renewed.pem)"

# --- revocation: OCSP and the delta CRL at once --------------------------------------------------
call POST /api/v1/requests "$OFFICER_A" \
  "{\"kind\":\"revocation\",\"organization_id\":$UNIT_A,\"person_id\":$PERSON,\"certificate_id\":$RENEWED,\"form\":{\"reason\":\"keyCompromise\",\"explanation\":\"Mất thiết bị\"}}"
expect_call "officer A drafts Mẫu 05 (revocation)" 201
REV=$(jq -r .id <<< "$BODY")
SIG=$(sign "$REV" seal.key seal.pem)
call POST "/api/v1/requests/$REV/submit" "$OFFICER_A" "{\"version\":1,\"signature\":\"$SIG\"}"
expect_eq "revocation routed to the CA operator" ca "$(jq -r .assignee <<< "$BODY")"
act "$DELEGATE" "$REV" review
expect_call "the delegate cannot handle a revocation: 403" 403 access.out_of_scope
for action in review approve execute; do act "$OPERATOR" "$REV" "$action"; done
expect_eq "revocation executed" executed "$(jq -r .state <<< "$BODY")"
expect_eq "openssl ocsp: revoked" revoked "$(ocsp_status renewed.pem)"
SERIAL=$(openssl x509 -in renewed.pem -noout -serial | cut -d= -f2)
curl -s "$URL/crl/issuing-delta.crl" -o delta.crl
openssl crl -inform DER -in delta.crl -noout -text > delta.txt 2>&1
grep -q "Delta CRL Indicator" delta.txt && grep -qi "Serial Number: $SERIAL" delta.txt &&
  ok "the delta CRL lists the revoked serial" || not_ok "the delta CRL lists the revoked serial" "$(head -30 delta.txt)"
call GET "/api/v1/requests/$REV/history" "$OFFICER_A"
expect_eq "history: draft, submitted, under_review, approved, executed" \
  "draft submitted under_review approved executed" "$(jq -r '[.items[].to] | join(" ")' <<< "$BODY")"

# --- attachments on a draft: PDF/PNG/JPEG by content, scope as the request, download headers ----
call POST /api/v1/requests "$OFFICER_A" "$REQ_BODY"
ATT_REQ=$(jq -r .id <<< "$BODY")
printf '%%PDF-1.4\n%% Quyết định bổ nhiệm\n1 0 obj<<>>endobj\ntrailer<<>>\n%%%%EOF\n' > decision.pdf
attach() {  # TOKEN FILE NAME → CODE, BODY
  CODE=$(curl -s -o body.out -w '%{http_code}' -X POST -H "Authorization: Bearer $1" \
    -H 'Content-Type: application/octet-stream' --data-binary "@$2" \
    "$URL/api/v1/requests/$ATT_REQ/attachments?filename=$3")
  BODY=$(cat body.out)
}
attach "$OFFICER_A" decision.pdf 'Quy%E1%BA%BFt%20%C4%91%E1%BB%8Bnh.pdf'
expect_call "officer A attaches a PDF to the draft" 201
ATT=$(jq -r .id <<< "$BODY")
expect_eq "type from the content, name kept" "application/pdf Quyết định.pdf" \
  "$(jq -r '.content_type + " " + .filename' <<< "$BODY")"
curl -s -H "Authorization: Bearer $OFFICER_A" "$URL/api/v1/requests/$ATT_REQ/document" -o att-doc.json
expect_eq "the document to sign lists the attachment's SHA-256" "$(sha256sum decision.pdf | cut -d' ' -f1)" \
  "$(jq -r '.attachments[0].sha256' att-doc.json)"
echo "just text" > note.txt
attach "$OFFICER_A" note.txt note.txt
expect_call "a text file: 400 attachment.bad_type" 400 attachment.bad_type
head -c $((6 * 1024 * 1024)) /dev/zero > big.bin
attach "$OFFICER_A" big.bin big.pdf
expect_eq "6 MB: 413" 413 "$CODE"
attach "$OFFICER_B" decision.pdf x.pdf
expect_call "body B's officer cannot attach: 403 access.out_of_scope" 403 access.out_of_scope
call GET "/api/v1/requests/$ATT_REQ/attachments" "$OFFICER_B"
expect_call "nor list: 403 access.out_of_scope" 403 access.out_of_scope
call GET "/api/v1/requests/$ATT_REQ/attachments" "$AUDITOR"
expect_eq "the auditor lists one attachment" 1 "$(jq '.items | length' <<< "$BODY")"
curl -s -D att.headers -o att.out -H "Authorization: Bearer $OPERATOR" \
  "$URL/api/v1/requests/$ATT_REQ/attachments/$ATT"
cmp -s att.out decision.pdf && ok "download returns the same bytes" || not_ok "download returns the same bytes"
grep -qi '^content-disposition: attachment; filename="Quy_t __nh.pdf"; filename\*=UTF-8'"''"'Quy%E1%BA%BFt%20%C4%91%E1%BB%8Bnh.pdf' att.headers &&
  grep -qi '^x-content-type-options: nosniff' att.headers &&
  ok "Content-Disposition attachment (RFC 6266/8187) and nosniff" ||
  not_ok "Content-Disposition attachment (RFC 6266/8187) and nosniff" "$(cat att.headers)"
call GET "/api/v1/requests/$NEW/attachments/$ATT" "$OPERATOR"
expect_call "the attachment through another request: 404 store.not_found" 404 store.not_found
call DELETE "/api/v1/requests/$ATT_REQ/attachments/$ATT" "$OFFICER_B"
expect_call "body B's officer cannot remove it: 403 access.out_of_scope" 403 access.out_of_scope
call DELETE "/api/v1/requests/$ATT_REQ/attachments/$ATT" "$OFFICER_A"
expect_call "officer A removes it" 200
call GET "/api/v1/requests/$ATT_REQ/attachments/$ATT" "$OFFICER_A"
expect_call "gone: 404 store.not_found" 404 store.not_found
SAVED=$ATT_REQ; ATT_REQ=$NEW
attach "$OFFICER_A" decision.pdf late.pdf
expect_call "an executed request takes no attachment: 409 ra.not_editable" 409 ra.not_editable
ATT_REQ=$SAVED
call GET "/api/v1/audit?limit=1000" "$AUDITOR"
expect_eq "attach and detach audited naming officer A" "request.attach request.detach" \
  "$(jq -r '[.items[] | select(.object == "request/'"$ATT_REQ"'") | .action | select(startswith("request.attach") or startswith("request.detach"))] | join(" ")' <<< "$BODY")"

# --- expiry reminders: queued and sent, listed in the officer's scope ----------------------------
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out soon.key 2>/dev/null
openssl req -new -key soon.key -utf8 -subj "/C=VN/L=Đà Nẵng/O=Sở Y tế/CN=Phòng Nghiệp vụ Y/UID=MST:0400260613" \
  -out soon.csr 2>/dev/null
expect_success "a certificate expiring in 20 days for body $UNIT_A" "$KYSO" "${DB_ARGS[@]}" cert issue \
  --csr soon.csr --profile organization --org "$UNIT_A" --days 20 --out soon.pem
SOON_SERIAL=$(openssl x509 -in soon.pem -noout -serial | cut -d= -f2)
call GET "/api/v1/certificates?organization_id=$UNIT_A&expiring_within_days=30" "$OPERATOR"
SOON=$(jq -r --arg s "$SOON_SERIAL" '.items[] | select((.serial|ascii_upcase) == ($s|ascii_upcase)) | .id' <<< "$BODY")
for _ in $(seq 1 50); do
  call GET "/api/v1/reminders?certificate_id=$SOON&state=sent" "$OFFICER_A"
  [ "$(jq '.items | length' <<< "$BODY" 2>/dev/null)" = 1 ] && break
  sleep 0.2
done
expect_eq "officer A sees the 30-day reminder sent for it" "1 30 sent true" \
  "$(jq -r '[(.items|length), .items[0].days, .items[0].state, (.items[0].sent_at != null)]|join(" ")' <<< "$BODY")"
grep -q "Phòng Nghiệp vụ Y" "$DATA/logs/outbox.log" && ok "the reminder went out (logs/outbox.log)" ||
  not_ok "the reminder went out (logs/outbox.log)"
call GET "/api/v1/reminders?certificate_id=$SOON&days=60" "$OFFICER_A"
expect_eq "no 60-day reminder for a certificate 20 days from expiry" 0 "$(jq '.items | length' <<< "$BODY")"
call GET "/api/v1/reminders?certificate_id=$SOON" "$OFFICER_B"
expect_eq "body B's officer sees none of body A's reminders" 0 "$(jq '.items | length' <<< "$BODY")"
call GET "/api/v1/reminders?organization_id=$SYT_B" "$OFFICER_A"
expect_call "officer A asking for body B: 403 access.out_of_scope" 403 access.out_of_scope
call GET "/api/v1/reminders?state=lost" "$OFFICER_A"
expect_call "unknown state: 400 api.bad_query" 400 api.bad_query
call GET "/api/v1/reminders?certificate_id=1,x" "$OFFICER_A"
expect_call "bad certificate id: 400 api.bad_id" 400 api.bad_id

# --- audit, lists, OpenAPI, bad input -----------------------------------------------------------
call GET "/api/v1/audit?limit=1000" "$AUDITOR"
expect_call "the auditor reads the audit log" 200
expect_contains "audit records the execution with its actor" "request.execute" "$BODY"
OFFICER_A_ID=$(curl -s -H "Authorization: Bearer $OFFICER_A" "$URL/api/v1/me" | jq -r .account_id)
expect_eq "audit records the token revocation naming officer A" \
  "token.revoke account:$OFFICER_A_ID:officer.a $SPARE_ID" \
  "$(jq -r '.items[] | select(.action == "token.revoke") | "\(.action) \(.actor) \(.details.token_id)"' <<< "$BODY")"
call GET /api/v1/audit "$OPERATOR"
expect_call "the operator cannot read the audit log: 403" 403 access.denied
call GET "/api/v1/requests?state=executed&limit=2" "$OFFICER_A"
expect_eq "list with filter and limit" 2 "$(jq '.items | length' <<< "$BODY")"
NEXT=$(jq -r .next_after <<< "$BODY")
call GET "/api/v1/requests?state=executed&limit=2&after=$NEXT" "$OFFICER_A"
expect_eq "next page" 1 "$(jq '.items | length' <<< "$BODY")"
call GET "/api/v1/requests" "$OFFICER_B"
expect_eq "body B's officer lists nothing of body A" 0 "$(jq '.items | length' <<< "$BODY")"
call GET /api/v1/openapi.json ""
expect_eq "OpenAPI document" 3.0.3 "$(jq -r .openapi <<< "$BODY")"
expect_contains "OpenAPI names the submit path" "/api/v1/requests/{id}/submit" "$BODY"
call GET /api/v1/reports/expiry "$OFFICER_A"
expect_call "expiry report for officer A" 200
head -c 400000 /dev/zero | tr '\0' 'a' > big.json
code=$(curl -s -o big.out -w '%{http_code}' -X POST "$URL/api/v1/requests" \
  -H "Authorization: Bearer $OFFICER_A" -H 'Content-Type: application/json' --data-binary @big.json)
expect_eq "oversize body: 413" 413 "$code"
deep=$(printf '{"kind":"revocation","organization_id":1,"form":%s1%s}' \
  "$(printf '[%.0s' $(seq 1 20000))" "$(printf ']%.0s' $(seq 1 20000))")
call POST /api/v1/requests "$OFFICER_A" "$deep"
expect_call "JSON nested 20,000 deep: 400 api.too_deep" 400 api.too_deep
call GET /api/v1/requests/abc "$OFFICER_A"
expect_call "bad id: 400 api.bad_id" 400 api.bad_id
call GET /api/v1/requests/999999 "$OFFICER_A"
expect_call "unknown request: 404" 404 store.not_found
call GET /healthz ""
expect_eq "the server still answers" 200 "$CODE"
expect_success "audit chain verifies" "$KYSO" "${DB_ARGS[@]}" audit verify

# --- TLS client certificates: the seal logs in as a service account -----------------------------
if [ "$BACKEND" = sqlite ]; then
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out tls.key 2>/dev/null
  openssl req -new -key tls.key -subj "/C=VN/CN=localhost" \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -out tls.csr 2>/dev/null
  "$KYSO" cert issue --csr tls.csr --profile device --out tls.pem >/dev/null 2>&1
  cat tls.pem "$DATA/certs/issuing.pem" > tls-chain.pem
  expect_success "kyso account add --cert registers the seal for an integrating system" \
    "$KYSO" account add --username hethong.syt --role agency_officer --org "$SYT_A" --cert seal.pem
  TPORT=$(free_port)
  "$KYSO" serve --listen "127.0.0.1:$TPORT" --access-log off --tls-cert tls-chain.pem \
    --tls-key tls.key > tls.out 2> tls.err &
  PIDS+=($!)
  for _ in $(seq 1 100); do
    curl -s -o /dev/null --cacert "$DATA/certs/chain.pem" "https://localhost:$TPORT/healthz" && break
    sleep 0.1
  done
  me=$(curl -s --cacert "$DATA/certs/chain.pem" --cert seal.pem --key seal.key \
    "https://localhost:$TPORT/api/v1/me")
  expect_eq "a client certificate logs in over TLS" "hethong.syt certificate" \
    "$(jq -r '.username + " " + .auth_method' <<< "$me")"
  code=$(curl -s -o tls-anon.out -w '%{http_code}' --cacert "$DATA/certs/chain.pem" \
    "https://localhost:$TPORT/api/v1/me")
  expect_eq "TLS without a client certificate: 401" 401 "$code"
  code=$(curl -s -o tls-other.out -w '%{http_code}' --cacert "$DATA/certs/chain.pem" \
    --cert other.pem --key other.key "https://localhost:$TPORT/api/v1/me")
  expect_eq "a valid certificate no account holds: 401 auth.unknown_certificate" \
    "401 auth.unknown_certificate" "$code $(jq -r .error.code tls-other.out)"
fi

# --- two nodes on one PostgreSQL ----------------------------------------------------------------
if [ "$BACKEND" = postgresql ]; then
  PORT2=$(free_port)
  URL2=http://127.0.0.1:$PORT2
  start_node "$PORT2" node2 && ok "a second node serves the same database at $URL2" ||
    not_ok "a second node serves the same database" "$(cat node2.err)"
  # Twelve new-certificate requests, executed six on each node at the same time.
  ids=()
  for i in $(seq 1 12); do
    n=$(printf '%02d' "$i")
    openssl req -new -key an.key -utf8 -subj "/C=VN/O=Sở Y tế/CN=Người $n/UID=CCCD:0480900099$n" \
      -out "p$n.csr" 2>/dev/null
    call POST /api/v1/people "$ADMIN" \
      "{\"full_name\":\"Người $n\",\"personal_id\":\"0480900099$n\",\"position\":\"CV\",\"organization_id\":$UNIT_A}"
    pid=$(jq -r .id <<< "$BODY")
    form=$(jq -n --arg csr "$(cat "p$n.csr")" --arg n "$n" '{full_name:("Người "+$n),
      personal_id:("0480900099"+$n), position:"CV", unit:"P", email:"x@y.gov.vn",
      mobile:"0905123456", province:"Đà Nẵng", csr:$csr}')
    call POST /api/v1/requests "$OFFICER_A" "$(jq -n --argjson form "$form" --argjson org "$UNIT_A" \
      --argjson p "$pid" '{kind:"new_individual", organization_id:$org, person_id:$p, form:$form}')"
    id=$(jq -r .id <<< "$BODY")
    SIG=$(sign "$id" seal.key seal.pem)
    call POST "/api/v1/requests/$id/submit" "$OFFICER_A" "{\"version\":1,\"signature\":\"$SIG\"}"
    act "$OPERATOR" "$id" review
    act "$OPERATOR" "$id" approve
    ids+=("$id")
  done
  exec_on() {  # NODE_URL ID
    local v
    v=$(curl -s -H "Authorization: Bearer $OPERATOR" "$1/api/v1/requests/$2" | jq -r .version)
    curl -s -o "exec-$2.out" -w '%{http_code}\n' -X POST "$1/api/v1/requests/$2/transitions" \
      -H "Authorization: Bearer $OPERATOR" -H 'Content-Type: application/json' \
      -d "{\"action\":\"execute\",\"version\":$v}"
  }
  for k in "${!ids[@]}"; do
    if [ $((k % 2)) = 0 ]; then exec_on "$URL" "${ids[$k]}" & else exec_on "$URL2" "${ids[$k]}" & fi
  done > exec-codes.txt
  wait_pids=$(jobs -p); for p in $wait_pids; do case " ${PIDS[*]} " in *" $p "*) ;; *) wait "$p";; esac; done
  expect_eq "12 executions on two nodes at once all succeed" 12 "$(grep -c '^200$' exec-codes.txt)"
  serials=$(for id in "${ids[@]}"; do jq -r .result_note "exec-$id.out"; done | awk '{print $2}' | sort)
  expect_eq "12 distinct serials" 12 "$(sort -u <<< "$serials" | grep -c .)"
  expect_success "audit chain still linear and verified" "$KYSO" "${DB_ARGS[@]}" audit verify
  # A revocation on node 1 is seen by node 2's OCSP at once.
  cid=$(jq -r .result_certificate_id "exec-${ids[0]}.out")
  call GET "/api/v1/registry/certificates/$cid" "$OPERATOR"
  jq -r .pem <<< "$BODY" > n1.pem
  expect_eq "node 2 OCSP: good" good "$(ocsp_status n1.pem "$URL2")"
  call POST /api/v1/requests "$OFFICER_A" \
    "{\"kind\":\"revocation\",\"organization_id\":$UNIT_A,\"person_id\":$(jq -r .person_id "exec-${ids[0]}.out"),\"certificate_id\":$cid,\"form\":{\"reason\":\"affiliationChanged\"}}"
  rid=$(jq -r .id <<< "$BODY")
  SIG=$(sign "$rid" seal.key seal.pem)
  call POST "/api/v1/requests/$rid/submit" "$OFFICER_A" "{\"version\":1,\"signature\":\"$SIG\"}"
  for action in review approve execute; do act "$OPERATOR" "$rid" "$action"; done
  expect_eq "revoked on node 1" executed "$(jq -r .state <<< "$BODY")"
  sleep 0.2
  expect_eq "node 2 OCSP: revoked" revoked "$(ocsp_status n1.pem "$URL2")"
  expect_eq "node 1 OCSP: revoked" revoked "$(ocsp_status n1.pem "$URL")"
fi

finish
