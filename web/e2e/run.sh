#!/usr/bin/env bash
# The portal end to end: a fresh `kyso init --demo` data directory, a real `kyso serve` on a
# free loopback port serving web/dist, the bodies, people and accounts the flows need (through
# the API, as an administrator would), then the browser flows of e2e/run.mjs (playwright-core
# driving Debian's chromium; no browser is downloaded).
# Usage: run.sh KYSO   (artefacts: SCREENSHOTS dir, default <repo>/build/dev/portal-screenshots)
set -uo pipefail
KYSO=$(realpath "$1")
WEB=$(cd "$(dirname "$0")/.." && pwd)
REPO=$(cd "$WEB/.." && pwd)
export SCREENSHOTS=${SCREENSHOTS:-$REPO/build/dev/portal-screenshots}
WORK=$(mktemp -d /tmp/kyso-portal-XXXXXX)
SERVER_PID=""
cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
  [ -n "${KEEP:-}" ] && echo "kept $WORK" || rm -rf "$WORK"
}
trap cleanup EXIT
fail() { echo "not ok - $*"; exit 1; }

for tool in curl jq openssl node /usr/bin/chromium; do
  command -v "$tool" >/dev/null || fail "prerequisite $tool (scripts/install-deps.sh --test)"
done
[ -f "$WEB/dist/index.html" ] || fail "the portal is built (make web)"
[ -d "$WEB/node_modules/playwright-core" ] || fail "npm packages installed (make web)"

cd "$WORK"
DATA=$WORK/data
export KYSO_DATA=$DATA
unset KYSO_PASSPHRASE_FILE
for _ in $(seq 1 50); do
  PORT=$((20000 + RANDOM % 40000))
  (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null || break
done
URL=http://127.0.0.1:$PORT
cat > fast.json <<JSON
{"pbkdf2_iterations": 2000, "root": {"key": "ec:P-384"}, "issuing": {"key": "ec:P-256"}}
JSON
"$KYSO" init --demo --no-demo-data --config fast.json --base-url "$URL" > init.log 2>&1 || fail "init --demo: $(cat init.log)"
"$KYSO" --json serve --listen "127.0.0.1:$PORT" --web "$WEB/dist" --access-log off \
  --reminder-period 2 --outbox-period 1 > server.json 2> server.err &
SERVER_PID=$!
for _ in $(seq 1 150); do grep -q '"port"' server.json 2>/dev/null && break; sleep 0.1; done
grep -q "\"port\":$PORT" server.json || fail "kyso serve started: $(cat server.json server.err)"
echo "ok - kyso serve with the portal at $URL"

# --- what the flows need, through the API ---------------------------------------------------
api() {  # METHOD PATH TOKEN [JSON] → body on stdout; fails the run on a non-2xx answer
  local out code
  out=$(mktemp)
  code=$(curl -s -o "$out" -w '%{http_code}' -X "$1" "$URL$2" -H "Authorization: Bearer $3" \
    ${4:+-H 'Content-Type: application/json' --data-binary "$4"})
  [[ "$code" == 2* ]] || { echo "not ok - $1 $2: HTTP $code $(cat "$out")" >&2; exit 1; }
  cat "$out"
}
ADMIN_PASS=$(head -1 "$DATA/demo-admin-password")
curl -s -c admin.jar -o login.json -X POST "$URL/api/v1/auth/login" -H 'Content-Type: application/json' \
  -d "{\"username\":\"admin\",\"password\":\"$ADMIN_PASS\"}"
ADMIN=$(curl -s -b admin.jar -X POST "$URL/api/v1/auth/tokens" -H "X-CSRF-Token: $(jq -r .csrf_token login.json)" \
  -H 'Content-Type: application/json' -d '{"name":"e2e","days":1}' | jq -r .token)
[[ "$ADMIN" == kyso_* ]] || fail "admin API token"

org() {  # NAME PARENT MST PROVINCE → id
  api POST /api/v1/organizations "$ADMIN" "$(jq -n --arg n "$1" --argjson p "${2:-null}" --arg t "$3" \
    --arg pr "$4" '{name:$n,parent_id:$p,tax_code:$t,email:("vt@" + $t + ".gov.vn"),province:$pr,
    address:"Số 1 đường Hùng Vương",managing_agency:true}')" | jq -r .id
}
PROV=$(org "UBND tỉnh Bắc Giang" "" 2400100001 "Bắc Giang")
DEPT=$(org "Sở Y tế tỉnh Bắc Giang" "$PROV" 2400100002 "Bắc Giang")
UNIT=$(org "Phòng Nghiệp vụ Y" "$DEPT" 2400100003 "Bắc Giang")
OFFICE=$(org "Văn phòng đại diện Ban Cơ yếu tại Bắc Giang" "$PROV" 2400100009 "Bắc Giang")
OTHER=$(org "UBND tỉnh Lạng Sơn" "" 4900100001 "Lạng Sơn")
OTHER_DEPT=$(org "Sở Y tế tỉnh Lạng Sơn" "$OTHER" 4900100002 "Lạng Sơn")
SUB_PERSON=$(api POST /api/v1/people "$ADMIN" "{\"full_name\":\"Nguyễn Thị Ánh Dương\",\"personal_id\":\"024190001234\",\"position\":\"Chuyên viên\",\"organization_id\":$UNIT,\"email\":\"duong@syt.bacgiang.gov.vn\",\"mobile\":\"0912345678\"}" | jq -r .id)
PASSWORD='Mật-khẩu-thử-nghiệm-2026'
account() {  # USERNAME ROLE ORG PERSON
  api POST /api/v1/accounts "$ADMIN" "{\"username\":\"$1\",\"role\":\"$2\",\"organization_id\":${3:-null},\"person_id\":${4:-null},\"password\":\"$PASSWORD\",\"display_name\":\"$1\"}" >/dev/null
  curl -s -c "$1.jar" -o "$1.login" -X POST "$URL/api/v1/auth/login" -H 'Content-Type: application/json' \
    -d "{\"username\":\"$1\",\"password\":\"$PASSWORD\"}"
  curl -s -b "$1.jar" -X POST "$URL/api/v1/auth/tokens" -H "X-CSRF-Token: $(jq -r .csrf_token "$1.login")" \
    -H 'Content-Type: application/json' -d '{"name":"e2e","days":1}' | jq -r .token
}
OFFICER=$(account vanthu.syt agency_officer "$DEPT")
OFFICER_B=$(account vanthu.langson agency_officer "$OTHER_DEPT")
OPERATOR=$(account vanhanh.ca ca_operator)
AUDITOR=$(account kiemtoan auditor)
DELEGATE=$(account uyquyen.bacgiang delegate_officer "$OFFICE")
SUBSCRIBER=$(account duong.nguyen subscriber "$UNIT" "$SUB_PERSON")
for t in OFFICER OFFICER_B OPERATOR AUDITOR DELEGATE SUBSCRIBER; do
  [[ "${!t}" == kyso_* ]] || fail "account $t"
done
api POST /api/v1/delegations "$OPERATOR" \
  "{\"delegate_organization_id\":$OFFICE,\"scope_organization_id\":$PROV,\"kinds\":[\"renewal\",\"change_info\",\"device_restore\"]}" >/dev/null

# The department's seal (văn thư), issued at the counter; it signs submissions and the PDF.
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out seal.key 2>/dev/null
openssl req -new -key seal.key -utf8 -out seal.csr \
  -subj "/C=VN/L=Bắc Giang/O=UBND tỉnh Bắc Giang/CN=Sở Y tế tỉnh Bắc Giang/UID=MST:2400100002" 2>/dev/null
"$KYSO" cert issue --csr seal.csr --profile organization --org "$DEPT" --out seal.pem >/dev/null 2>&1 ||
  fail "seal certificate issued"
# A second seal of the department that expires in 20 days: the server queues and sends its
# expiry reminder (every 2 s here), which the officer's expiring-certificates view shows.
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out soon.key 2>/dev/null
openssl req -new -key soon.key -utf8 -out soon.csr \
  -subj "/C=VN/L=Bắc Giang/O=UBND tỉnh Bắc Giang/CN=Sở Y tế tỉnh Bắc Giang/UID=MST:2400100002" 2>/dev/null
"$KYSO" cert issue --csr soon.csr --profile organization --org "$DEPT" --days 20 --out soon.pem \
  >/dev/null 2>&1 || fail "expiring seal certificate issued"
echo matkhau123 > pass.txt
openssl pkcs8 -topk8 -in seal.key -out seal.p8 -passout pass:matkhau123 -v2 aes-256-cbc
# The same seal held on the server for the department's clerk (kyso sign key add): the portal
# signs a request with it (POST /api/v1/sign/file) before submitting it.
"$KYSO" sign key add --id syt-seal --key seal.p8 --key-passphrase-file pass.txt --cert seal.pem \
  --chain "$DATA/certs/chain.pem" --body "$DEPT" --allow vanthu.syt >key.log 2>&1 ||
  fail "kyso sign key add: $(cat key.log)"
TESTDATA=$REPO/../shared/testdata
[ -d "$TESTDATA" ] || TESTDATA=/work/shared/testdata
"$KYSO" sign pdf "$TESTDATA/pdf/cong-van.pdf" signed.pdf --kind copy --key seal.p8 \
  --key-passphrase-file pass.txt --cert seal.pem --chain "$DATA/certs/chain.pem" >sign.log 2>&1 ||
  fail "kyso sign pdf: $(cat sign.log)"
# The same PDF with one byte flipped inside the signed range (the middle of the first part).
python3 - <<'PY'
data = bytearray(open('signed.pdf', 'rb').read())
i = data.index(b'/ByteRange')
start = data.index(b'[', i) + 1
end = data.index(b']', start)
a, b, c, d = map(int, data[start:end].split())
pos = a + b // 2
data[pos] ^= 0x01
open('tampered.pdf', 'wb').write(data)
PY

# A subscriber's key and CSR for the Mẫu 01 flow (the person the officer imports).
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out new.key 2>/dev/null
openssl req -new -key new.key -utf8 -out new.csr \
  -subj "/C=VN/L=Bắc Giang/O=Sở Y tế tỉnh Bắc Giang/CN=Trần Văn Bình/UID=CCCD:024090005678" 2>/dev/null
printf 'full_name,personal_id,position,organization_tax_code,email,mobile\r\n%s\r\n%s\r\n' \
  "Trần Văn Bình,024090005678,Phó Trưởng phòng,2400100003,binh@syt.bacgiang.gov.vn,0987654321" \
  "Lê Thị Đào,024190009876,Chuyên viên,2400100003,dao@syt.bacgiang.gov.vn,0376543210" > staff.csv
printf 'full_name,personal_id,position,organization_tax_code,email,mobile\r\n%s\r\n' \
  "Sai Số,123,Chuyên viên,2400100003,sai@syt,0123" > staff-bad.csv

jq -n --arg url "$URL" --arg work "$WORK" --arg data "$DATA" --arg pass "$PASSWORD" \
  --arg officer "$OFFICER" --arg officer_b "$OFFICER_B" --arg operator "$OPERATOR" \
  --arg auditor "$AUDITOR" --arg delegate "$DELEGATE" --arg subscriber "$SUBSCRIBER" \
  --arg admin_pass "$ADMIN_PASS" --arg web "$WEB" \
  --argjson dept "$DEPT" --argjson unit "$UNIT" --argjson sub_person "$SUB_PERSON" \
  '{url:$url, work:$work, data:$data, password:$pass, admin_password:$admin_pass, web:$web,
    tokens:{officer:$officer, officer_b:$officer_b, operator:$operator, auditor:$auditor,
            delegate:$delegate, subscriber:$subscriber},
    users:{officer:"vanthu.syt", officer_b:"vanthu.langson", operator:"vanhanh.ca",
           auditor:"kiemtoan", delegate:"uyquyen.bacgiang", subscriber:"duong.nguyen", admin:"admin"},
    dept:$dept, unit:$unit, sub_person:$sub_person}' > fixture.json
echo "ok - fixture: bodies, people, six accounts, a delegation, the department's seal (also on the server)"

# The committed OpenAPI document (web/openapi.json, the source of the typed client) is the
# server's: the portal and the API cannot drift apart unnoticed.
curl -s "$URL/api/v1/openapi.json" | jq -S . > served-openapi.json
if jq -S . "$WEB/openapi.json" | diff -q - served-openapi.json >/dev/null; then
  echo "ok - web/openapi.json matches the server's document"
else
  echo "not ok - web/openapi.json matches the server's document (npm run export:api -- $URL; npm run gen:api)"
  exit 1
fi

export FIXTURE=$WORK/fixture.json
cd "$WEB" && node --test --test-concurrency=1 --test-reporter=spec e2e/run.mjs
