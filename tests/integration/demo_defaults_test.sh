#!/usr/bin/env bash
# The demo `make run` uses: RSA-4096 root, RSA-3072 issuing CA, Vietnamese names, and the demo
# directory a newcomer logs into (a province, staff, certificates and requests in every state,
# one account per role). Judged by openssl verify and openssl x509 -nameopt utf8, and over HTTP
# by logging in with every account and reading the lists back.
KYSO=$1
source "$(dirname "$0")/lib.sh"
WORK=$(mktemp -d /tmp/kyso-demo-XXXXXX)
SERVER_PID=""
cleanup() {
  [ -n "$SERVER_PID" ] && kill -TERM "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
cd "$WORK"
unset KYSO_PASSPHRASE_FILE KYSO_DATA
start=$(date +%s.%N)
if "$KYSO" --json init --demo > init.json 2> init.err; then
  ok "init --demo with the defaults"
else
  not_ok "init --demo with the defaults" "$(cat init.err)"
fi
echo "# init --demo took $(echo "$(date +%s.%N) - $start" | bc) s"
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
expect_success "issuing CRL verifies" openssl crl -inform DER -in $D/crl/issuing.crl -noout -CAfile $D/certs/issuing.pem
expect_success "audit log verifies" "$KYSO" audit verify

# --- the demo directory, as init reports it ------------------------------------------------
j() { jq -r "$1" init.json 2>/dev/null; }
expect_eq "init --json names the portal URL" "http://127.0.0.1:8080/" "$(j .demo.url)"
expect_eq "init --json names the accounts file" "$D/demo-accounts.txt" "$(j .demo.accounts_file)"
ge() {  # ge NAME MIN VALUE
  if [[ "$3" =~ ^[0-9]+$ ]] && [ "$3" -ge "$2" ]; then ok "$1 ($3)"; else not_ok "$1" "expected >= $2, got '$3'"; fi
}
ge "about 50 bodies (a province, 10 departments, their units)" 40 "$(j .demo.organizations)"
ge "about 200 staff" 190 "$(j .demo.people)"
ge "valid certificates" 100 "$(j .demo.certificates.valid)"
ge "certificates expiring within 30 days" 3 "$(j .demo.certificates.expiring_30d)"
ge "revoked certificates" 5 "$(j .demo.certificates.revoked)"
for state in draft submitted under_review approved executed rejected returned cancelled; do
  ge "requests in state $state" 1 "$(j ".demo.requests.$state")"
done
ge "overdue requests" 2 "$(j .demo.requests.overdue)"
ge "the clerk's server-held key" 1 "$(j '.demo.signing_key | length')"
expect_eq "no password in the init output" "" "$(grep -F -f <(awk '!/^#/ {print $3}' $D/demo-accounts.txt) init.json init.err)"

# --- the accounts file ---------------------------------------------------------------------
expect_eq "demo-accounts.txt is mode 0600" 600 "$(stat -c %a $D/demo-accounts.txt)"
roles=$(awk '!/^#/ {print $1}' $D/demo-accounts.txt | sort | tr '\n' ' ')
expect_eq "one account per role" \
  "admin agency_officer auditor ca_operator clerk delegate_officer other_agency_officer subscriber " "$roles"
expect_eq "admin's password is the one in demo-admin-password" "$(head -1 $D/demo-admin-password)" \
  "$(awk '$1 == "admin" {print $3}' $D/demo-accounts.txt)"
expect_eq "the file has a header" "#" "$(head -c 1 $D/demo-accounts.txt)"

# --- certificates, judged by openssl ------------------------------------------------------
for profile in authority official organization; do
  serial=$("$KYSO" --json cert list --profile "$profile" --status valid --limit 1 | jq -r '.[0].serial')
  "$KYSO" cert export "$serial" --out "$profile.pem" 2>/dev/null
  expect_success "openssl verify accepts a demo $profile certificate" \
    openssl verify -CAfile $D/certs/root.pem -untrusted $D/certs/issuing.pem "$profile.pem"
done
expect_contains "a leader's certificate names the position and CCCD" "title=" \
  "$(openssl x509 -in authority.pem -noout -subject -nameopt utf8,sep_comma_plus)"
expect_contains "UID is a CCCD of Bắc Giang (024)" "CCCD:024" \
  "$(openssl x509 -in authority.pem -noout -subject -nameopt utf8,sep_comma_plus)"
ge "cert list --expiring-within 30" 3 "$("$KYSO" --json cert list --expiring-within 30 --limit 500 | jq length)"
ge "cert list --status revoked" 5 "$("$KYSO" --json cert list --status revoked --limit 500 | jq length)"
expect_contains "the published CRL lists the demo's revocations" "Revoked Certificates:" \
  "$(openssl crl -inform DER -in $D/crl/issuing.crl -noout -text)"
expect_contains "the clerk's server-held key belongs to Sở Tài chính, for vanthu.stc" \
  "vanthu.stc" "$("$KYSO" sign key list 2>&1)"

# --- every account logs in; what each sees ----------------------------------------------------
for _ in $(seq 1 50); do
  PORT=$((20000 + RANDOM % 40000))
  (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null || break
done
URL=http://127.0.0.1:$PORT
"$KYSO" --json serve --listen "127.0.0.1:$PORT" --access-log off > server.json 2> server.err &
SERVER_PID=$!
for _ in $(seq 1 100); do grep -q '"port"' server.json 2>/dev/null && break; sleep 0.1; done
declare -A TOKEN
while read -r role user pass; do
  [[ "$role" == \#* ]] && continue
  body=$(jq -n --arg u "$user" --arg p "$pass" '{username: $u, password: $p}')
  code=$(curl -s -c "cookies.$role" -o "login.$role" -w '%{http_code}' -H 'Content-Type: application/json' \
    -d "$body" "$URL/api/v1/auth/login")
  expect_eq "$role ($user) logs in" 200 "$code"
  # An API token per account for the reads below.
  csrf=$(jq -r .csrf_token "login.$role" 2>/dev/null)
  TOKEN[$role]=$(curl -s -b "cookies.$role" -H "X-CSRF-Token: $csrf" -H 'Content-Type: application/json' \
    -d '{"name":"demo test","days":1}' "$URL/api/v1/auth/tokens" | jq -r .token)
done < $D/demo-accounts.txt
get() { curl -s -H "Authorization: Bearer ${TOKEN[$1]}" "$URL$2"; }
count() { get "$1" "$2" | jq '.items | length'; }
for state in draft submitted under_review approved executed rejected returned cancelled; do
  ge "the CA operator lists $state requests" 1 "$(count ca_operator "/api/v1/requests?state=$state&limit=500")"
done
ge "the CA operator lists overdue requests" 2 "$(count ca_operator "/api/v1/requests?overdue=true&limit=500")"
ge "the officer of Sở Tài chính has requests" 8 "$(count agency_officer "/api/v1/requests?limit=500")"
ge "the delegate has delegated requests" 2 "$(count delegate_officer "/api/v1/requests?limit=500")"
ge "the subscriber sees their own request" 1 "$(count subscriber "/api/v1/requests?limit=500")"
ge "the auditor reads the audit log" 100 "$(count auditor "/api/v1/audit?limit=1000")"
stc_ids=$(get agency_officer "/api/v1/requests?limit=500" | jq -r '.items[].id')
first=$(head -1 <<< "$stc_ids")
code=$(curl -s -o other.json -w '%{http_code}' -H "Authorization: Bearer ${TOKEN[other_agency_officer]}" \
  "$URL/api/v1/requests/$first")
expect_eq "Sở Y tế's officer cannot read Sở Tài chính's request: 403" 403 "$code"
overlap=$(comm -12 <(sort <<< "$stc_ids") <(get other_agency_officer "/api/v1/requests?limit=500" | jq -r '.items[].id' | sort))
expect_eq "the two officers' request lists do not overlap" "" "$overlap"
ge "the clerk may sign with one server-held key" 1 \
  "$(get clerk /api/v1/sign/keys | jq '.items | length')"
expect_eq "the subscriber may sign with none" 0 "$(get subscriber /api/v1/sign/keys | jq '.items | length')"
kill -TERM "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null; SERVER_PID=""
expect_success "audit log still verifies" "$KYSO" audit verify
finish
