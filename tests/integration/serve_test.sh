#!/usr/bin/env bash
# End-to-end test of `kyso serve`, judged by real peers: `openssl ocsp` (good / revoked /
# unknown, signature verified against our chain, with and without nonce, POST and GET),
# `openssl ts -verify` on our time-stamp tokens, `openssl crl -verify` on CRLs fetched with
# curl, and curl for the REST API, TLS, limits and misbehaving clients.
# Usage: serve_test.sh KYSO_BINARY
KYSO=$1
source "$(dirname "$0")/lib.sh"
WORK=$(mktemp -d /tmp/kyso-serve-XXXXXX)
SERVER_PID=""
cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null
  [ -n "${TLS_PID:-}" ] && kill "$TLS_PID" 2>/dev/null
  wait 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
cd "$WORK"
DATA=$WORK/data
export KYSO_DATA=$DATA
unset KYSO_PASSPHRASE_FILE

# --- no data directory: a hint, not a crash ---
expect_failure "serve without init names kyso init" instance.not_initialized \
  "$KYSO" --data "$WORK/none" serve --listen 127.0.0.1:0
err=$("$KYSO" --data "$WORK/none" serve --listen 127.0.0.1:0 2>&1)
expect_contains "hint to run kyso init" "kyso init" "$err"

cat > fast.json <<JSON
{"pbkdf2_iterations": 2000,
 "root": {"key": "ec:P-384"},
 "issuing": {"key": "ec:P-256"}}
JSON
expect_success "init --demo" "$KYSO" init --demo --no-demo-data --config fast.json
ROOT=$DATA/certs/root.pem
ISSUING=$DATA/certs/issuing.pem

# start_server OUTFILE ARGS...: starts kyso serve on a free port; sets PORT and SERVER_PID.
start_server() {
  local out=$1; shift
  "$KYSO" --json serve --listen 127.0.0.1:0 "$@" > "$out" 2> "$out.err" &
  SERVER_PID=$!
  for _ in $(seq 1 100); do
    if grep -q '"port"' "$out" 2>/dev/null; then break; fi
    sleep 0.1
  done
  PORT=$(sed -n 's/.*"port":\([0-9]*\).*/\1/p' "$out" | head -1)
  [ -n "$PORT" ] || { cat "$out.err"; return 1; }
}

issue() {  # issue NAME UID → prints the serial
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$1.key" -utf8 \
    -out "$1.csr" -subj "/C=VN/O=Bộ Nội vụ/CN=$1/UID=$2" 2>/dev/null
  "$KYSO" cert issue --csr "$1.csr" --profile individual --out "$1.pem" >/dev/null 2>&1
  openssl x509 -in "$1.pem" -noout -serial | cut -d= -f2
}

GOOD=$(issue "Trần Văn Tốt" CCCD:001090000001)
BAD=$(issue "Lê Thị Thu Hồi" CCCD:001090000002)
LATER=$(issue "Phạm Văn Sau" CCCD:001090000003)
expect_success "revoke before serving" "$KYSO" cert revoke "$BAD" --reason keyCompromise

start_server server.json || not_ok "server starts"
URL=http://127.0.0.1:$PORT
expect_contains "server announces its port" '"listening":"http://127.0.0.1:' "$(cat server.json)"

# --- OCSP by POST, verified by openssl against our chain ---
ocsp() {  # ocsp SERIAL [extra openssl args]
  local serial=$1; shift
  openssl ocsp -issuer "$ISSUING" -serial "0x$serial" -url "$URL/ocsp" \
    -CAfile "$ROOT" -verify_other "$ISSUING" "$@" 2>&1
}
out=$(ocsp "$GOOD")
expect_contains "POST good: signature verified" "Response verify OK" "$out"
expect_contains "POST good: status" "0x$GOOD: good" "$out"
expect_contains "POST good: nextUpdate present" "Next Update:" "$out"
out=$(ocsp "$BAD")
expect_contains "POST revoked: status" "0x$BAD: revoked" "$out"
expect_contains "POST revoked: reason" "Reason: keyCompromise" "$out"
expect_contains "POST revoked: time" "Revocation Time:" "$out"
expect_contains "POST revoked: verified" "Response verify OK" "$out"
out=$(ocsp 0123456789ABCDEF)
expect_contains "POST unknown serial: unknown" "unknown" "$out"
expect_contains "POST unknown serial: signed and verified" "Response verify OK" "$out"
out=$(ocsp "$GOOD" -no_nonce)
expect_contains "POST without nonce: good" "0x$GOOD: good" "$out"
expect_contains "POST without nonce: verified" "Response verify OK" "$out"
# With a nonce openssl checks the echo itself ("WARNING: no nonce in response" otherwise).
out=$(ocsp "$GOOD" -resp_text)
expect_contains "nonce echoed" "OCSP Nonce" "$out"
if [[ "$out" == *"no nonce in response"* || "$out" == *"nonce verify error"* ]]; then
  not_ok "nonce matches" "$out"
else
  ok "nonce matches"
fi
expect_contains "responder certificate included, with ocsp-nocheck" "OCSP No Check" "$out"

# --- OCSP by GET (RFC 5019): cacheable, with validators ---
openssl ocsp -issuer "$ISSUING" -serial "0x$GOOD" -no_nonce -reqout get.req >/dev/null 2>&1
b64=$(base64 -w0 get.req | tr '+/' '-_' | tr -d '=')
curl -s -D get.hdr -o get.resp "$URL/ocsp/$b64"
out=$(openssl ocsp -respin get.resp -issuer "$ISSUING" -serial "0x$GOOD" -CAfile "$ROOT" \
  -verify_other "$ISSUING" 2>&1)
expect_contains "GET good: verified" "Response verify OK" "$out"
expect_contains "GET good: status" "0x$GOOD: good" "$out"
hdr=$(tr -d '\r' < get.hdr)
expect_contains "GET content type" "Content-Type: application/ocsp-response" "$hdr"
expect_contains "GET Cache-Control" "Cache-Control: max-age=" "$hdr"
expect_contains "GET Last-Modified" "Last-Modified: " "$hdr"
expect_contains "GET Expires" "Expires: " "$hdr"
expect_contains "GET ETag" "ETag: \"" "$hdr"
etag=$(sed -n 's/^ETag: //p' <<< "$hdr")
code=$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $etag" "$URL/ocsp/$b64")
expect_eq "GET with matching ETag is 304" 304 "$code"
# Standard base64, percent-encoded, as RFC 6960 Appendix A.1 describes.
pct=$(base64 -w0 get.req | sed 's/+/%2B/g; s/\//%2F/g; s/=/%3D/g')
curl -s -o get2.resp "$URL/ocsp/$pct"
cmp -s get.resp get2.resp && ok "GET accepts percent-encoded standard base64 (same cached bytes)" \
  || not_ok "GET accepts percent-encoded standard base64"

# --- a revocation from another process shows at once ---
out=$(ocsp "$LATER" -no_nonce)
expect_contains "cached good before revocation" "0x$LATER: good" "$out"
expect_success "revoke while serving" "$KYSO" cert revoke "$LATER" --reason affiliationChanged
out=$(ocsp "$LATER" -no_nonce)
expect_contains "next query already says revoked" "0x$LATER: revoked" "$out"
expect_contains "with the reason" "Reason: affiliationChanged" "$out"

# --- pre-signed answers exported as files a plain web server can serve ---
out=$("$KYSO" --json ocsp presign --export "$WORK/ocsp-export")
expect_contains "presign stores answers" '"stored":' "$out"
expect_contains "presign counts the revoked" '"revoked": 2' "$out"
name=$(grep "^$GOOD" "$WORK/ocsp-export/index.tsv" | cut -f4)
[ -n "$name" ] && [ -f "$WORK/ocsp-export/$name" ] && ok "exported file named in index.tsv" \
  || not_ok "exported file named in index.tsv" "$(head -3 "$WORK/ocsp-export/index.tsv")"
expect_eq "exported name is the base64url of the GET request" "$b64" "$name"
out=$(openssl ocsp -respin "$WORK/ocsp-export/$name" -issuer "$ISSUING" -serial "0x$GOOD" \
  -CAfile "$ROOT" -verify_other "$ISSUING" 2>&1)
expect_contains "exported answer verifies" "Response verify OK" "$out"
expect_contains "exported answer: good" "0x$GOOD: good" "$out"

# --- responder key rollover while serving ---
old_id=$(ocsp "$GOOD" -resp_text | grep -A1 'Responder Id' | head -2)
expect_success "ocsp rollover" "$KYSO" ocsp rollover
sleep 0.1
out=$(ocsp "$GOOD" -resp_text)
new_id=$(grep -A1 'Responder Id' <<< "$out" | head -2)
[ -n "$new_id" ] && [ "$new_id" != "$old_id" ] && ok "answers now signed by the new responder key" \
  || not_ok "answers now signed by the new responder key" "old: $old_id" "new: $new_id"
expect_contains "new responder's answers verify" "Response verify OK" "$out"
expect_contains "new responder: still good" "0x$GOOD: good" "$out"

# --- in-band OCSP errors ---
curl -s -o malformed.resp --data-binary 'not an ocsp request' \
  -H 'Content-Type: application/ocsp-request' "$URL/ocsp"
out=$(openssl ocsp -respin malformed.resp -resp_text 2>&1)
expect_contains "garbage → malformedRequest" "malformedrequest" "$out"
openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout other.key \
  -subj "/CN=Someone else's CA" -out other.pem -days 30 2>/dev/null
out=$(openssl ocsp -issuer other.pem -serial 0x01 -url "$URL/ocsp" 2>&1)
expect_contains "unknown issuer → unauthorized" "unauthorized" "$out"

# --- time-stamping ---
printf 'Quyết định số 123/QĐ-UBND' > doc.txt
openssl ts -query -data doc.txt -sha256 -cert -out q.tsq 2>/dev/null
curl -s -o r.tsr --data-binary @q.tsq -H 'Content-Type: application/timestamp-query' "$URL/tsa"
cat "$ISSUING" "$DATA/certs/tsa.pem" > tsa-untrusted.pem
out=$(openssl ts -verify -in r.tsr -queryfile q.tsq -CAfile "$ROOT" -untrusted tsa-untrusted.pem 2>&1)
expect_contains "openssl ts -verify accepts our token (certReq)" "Verification: OK" "$out"
openssl ts -query -data doc.txt -sha512 -out q2.tsq 2>/dev/null
curl -s -o r2.tsr --data-binary @q2.tsq "$URL/tsa"
out=$(openssl ts -verify -in r2.tsr -queryfile q2.tsq -CAfile "$ROOT" -untrusted tsa-untrusted.pem 2>&1)
expect_contains "SHA-512 imprint, no certReq, nonce: verified" "Verification: OK" "$out"
text=$(openssl ts -reply -in r.tsr -text 2>&1)
expect_contains "accuracy stated" "Accuracy: " "$text"
expect_contains "nonce honoured" "Nonce: 0x" "$text"
s1=$(openssl ts -reply -in r.tsr -text 2>/dev/null | sed -n 's/^Serial number: //p')
s2=$(openssl ts -reply -in r2.tsr -text 2>/dev/null | sed -n 's/^Serial number: //p')
[ -n "$s1" ] && [ "$s1" != "$s2" ] && ok "serials differ ($s1, $s2)" || not_ok "serials differ" "$s1 $s2"
openssl ts -query -data doc.txt -sha1 -out q3.tsq 2>/dev/null
curl -s -o r3.tsr --data-binary @q3.tsq "$URL/tsa"
text=$(openssl ts -reply -in r3.tsr -text 2>&1)
expect_contains "SHA-1 refused" "Status: Rejected." "$text"
expect_contains "with badAlg" "unrecognized or unsupported algorithm identifier" "$text"

# --- CRLs and CA certificates ---
curl -s -D crl.hdr -o issuing.crl "$URL/crl/issuing.crl"
expect_success "openssl crl -verify accepts the full CRL" \
  openssl crl -inform DER -in issuing.crl -CAfile "$ISSUING" -noout
crltext=$(openssl crl -inform DER -in issuing.crl -noout -text)
expect_contains "full CRL points to its delta" "issuing-delta.crl" "$crltext"
expect_contains "CRL content type" "application/pkix-crl" "$(cat crl.hdr)"
curl -s -o delta.crl "$URL/crl/issuing-delta.crl"
expect_success "delta CRL verifies" openssl crl -inform DER -in delta.crl -CAfile "$ISSUING" -noout
dtext=$(openssl crl -inform DER -in delta.crl -noout -text)
expect_contains "delta CRL lists the revocation made while serving" "$LATER" "$dtext"
expect_contains "delta CRL lists the earlier revocation too" "$BAD" "$dtext"
expect_contains "delta CRL indicator" "Delta CRL Indicator" "$dtext"
curl -s -o root.crl "$URL/crl/root.crl"
expect_success "root CRL verifies" openssl crl -inform DER -in root.crl -CAfile "$ROOT" -noout
curl -s -o issuing.crt "$URL/ca/issuing.crt"
expect_eq "AIA caIssuers serves the issuing CA (DER)" \
  "$(openssl x509 -in "$ISSUING" -outform DER | sha256sum)" "$(sha256sum < issuing.crt)"
code=$(curl -s -o err.json -w '%{http_code}' "$URL/crl/nosuch.crl")
expect_eq "unknown CA CRL is 404" 404 "$code"
expect_contains "JSON error body" '"code":"crl.unknown_ca"' "$(cat err.json)"

# --- REST API ---
out=$(curl -s "$URL/api/v1/certificates/$BAD")
expect_contains "API: revoked status" '"status":"revoked"' "$out"
expect_contains "API: reason" '"reason":"keyCompromise"' "$out"
expect_contains "API: UTF-8 subject" 'Lê Thị Thu Hồi' "$out"
code=$(curl -s -o err.json -w '%{http_code}' "$URL/api/v1/certificates/ABCDEF0123")
expect_eq "API: unknown serial 404" 404 "$code"
expect_contains "API: error shape" '{"error":{"code":"' "$(cat err.json)"
code=$(curl -s -o err.json -w '%{http_code}' "$URL/api/v1/certificates/xyz")
expect_eq "API: malformed serial 400" 400 "$code"
expect_contains "API: bad serial id" '"code":"cert.bad_serial"' "$(cat err.json)"
out=$(curl -s "$URL/api/v1/cas")
expect_contains "API: CA list" '"name":"issuing"' "$out"
expect_contains "API: CA list has root" '"name":"root"' "$out"
expect_eq "healthz" '{"status":"ok"}' "$(curl -s "$URL/healthz")"
code=$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "$URL/healthz")
expect_eq "wrong method 405" 405 "$code"

# --- limits and misbehaving clients ---
head -c 100000 /dev/zero > big.bin
code=$(curl -s -o err.json -w '%{http_code}' --data-binary @big.bin "$URL/ocsp")
expect_eq "oversize OCSP body 413" 413 "$code"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "X-Big: $(head -c 20000 /dev/zero | tr '\0' a)" "$URL/healthz")
expect_eq "oversize head 431" 431 "$code"
for _ in $(seq 1 50); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT"; exec 3>&-) 2>/dev/null; done
slow_pids=()
for _ in $(seq 1 10); do
  (exec 3<>"/dev/tcp/127.0.0.1/$PORT"; printf 'GET /hea' >&3; sleep 30) 2>/dev/null &
  slow_pids+=($!)
done
sleep 0.2
answered=0
for _ in $(seq 1 20); do
  out=$(ocsp "$GOOD" -no_nonce)
  [[ "$out" == *"0x$GOOD: good"* ]] && answered=$((answered + 1))
done
expect_eq "50 empty and 10 slow connections do not stop other clients" 20 "$answered"
kill "${slow_pids[@]}" 2>/dev/null

# --- metrics and access log ---
m=$(curl -s "$URL/metrics")
expect_contains "metrics: request counts per route" 'kyso_http_requests_total{route="ocsp_post",code="2xx"}' "$m"
expect_contains "metrics: latency histogram" 'kyso_http_request_duration_seconds_bucket{route="tsa",le=' "$m"
expect_contains "metrics: OCSP cache hits" 'kyso_ocsp_cache_hits_total' "$m"
expect_contains "metrics: certificate counts" 'kyso_certificates{ca="issuing",status="revoked"} 2' "$m"
expect_contains "metrics: TSA tokens" 'kyso_tsa_tokens_total' "$m"

# --- graceful shutdown ---
kill -TERM "$SERVER_PID"
wait "$SERVER_PID"
expect_eq "SIGTERM: exit 0" 0 "$?"
SERVER_PID=""
log=$(cat "$DATA/logs/access.log")
expect_contains "access log is JSON lines" '{"ts":"' "$log"
expect_contains "access log names the route" '"route":"ocsp_post","status":200' "$log"
expect_success "audit log still verifies" "$KYSO" audit verify

# --- TLS with a certificate our CA issued to the server ---
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout tls.key -utf8 \
  -out tls.csr -subj "/C=VN/O=Ban Cơ yếu Chính phủ/CN=localhost" \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" 2>/dev/null
expect_success "issue the server's TLS certificate" \
  "$KYSO" cert issue --csr tls.csr --profile device --out tls.pem
cat tls.pem "$ISSUING" > tls-chain.pem
"$KYSO" --json serve --listen 127.0.0.1:0 --tls-cert tls-chain.pem --tls-key tls.key \
  --access-log off > tls.json 2> tls.err &
TLS_PID=$!
for _ in $(seq 1 100); do grep -q '"port"' tls.json 2>/dev/null && break; sleep 0.1; done
TPORT=$(sed -n 's/.*"port":\([0-9]*\).*/\1/p' tls.json | head -1)
expect_contains "TLS server announces https" '"listening":"https://' "$(cat tls.json)"
out=$(curl -s --cacert "$ROOT" "https://localhost:$TPORT/healthz")
expect_eq "HTTPS with our own chain" '{"status":"ok"}' "$out"
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$ROOT" --tls-max 1.1 "https://localhost:$TPORT/healthz")
expect_eq "TLS 1.1 refused" 000 "$code"
out=$(openssl ocsp -issuer "$ISSUING" -serial "0x$GOOD" -url "https://localhost:$TPORT/ocsp" \
  -CAfile "$ROOT" -verify_other "$ISSUING" 2>&1)
expect_contains "OCSP over HTTPS" "0x$GOOD: good" "$out"
kill -INT "$TLS_PID"
wait "$TLS_PID"
expect_eq "SIGINT: exit 0" 0 "$?"
TLS_PID=""

finish
