#!/usr/bin/env bash
# End-to-end test of `kyso sign xml` and `kyso verify` on XML (XAdES over XMLDSig), judged by
# xmlsec1 (the reference XMLDSig implementation) both ways: `xmlsec1 --verify` accepts the
# XMLDSig core of what kyso signs, and kyso verifies what `xmlsec1 --sign` signs. A Vietnamese
# tax declaration is signed, verified VALID, changed by one character (INVALID), re-indented
# inside the signed body (INVALID) and outside it (still VALID). The defences (DTD/XXE, SHA-1,
# RSA-1024, duplicate Id) give their exact verdict and finding id.
# Usage: sign_xml_test.sh KYSO_BINARY
KYSO=$(realpath "$1")
source "$(dirname "$0")/lib.sh"
WORK=$(mktemp -d /tmp/kyso-sign-xml-XXXXXX)
SERVER_PID=""
cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null
  wait 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
cd "$WORK"
DATA=$WORK/data
export KYSO_DATA=$DATA
unset KYSO_PASSPHRASE_FILE

missing=""
for tool in xmlsec1 openssl jq curl; do
  command -v "$tool" >/dev/null || missing+=" $tool"
done
if [ -n "$missing" ]; then
  not_ok "prerequisites" "missing tools:$missing (scripts/install-deps.sh --test)"
  finish; exit 1
fi

cat > fast.json <<JSON
{"pbkdf2_iterations": 2000, "root": {"key": "ec:P-384"}, "issuing": {"key": "ec:P-256"}}
JSON
# The base URL is baked into the certificates' AIA (OCSP), so the port is chosen before init.
for _ in $(seq 1 50); do
  PORT=$((20000 + RANDOM % 40000))
  (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null || break
done
URL=http://127.0.0.1:$PORT
out=$("$KYSO" init --demo --no-demo-data --config fast.json --base-url "$URL" 2>&1)
expect_eq "init" 0 $?
ROOT=$DATA/certs/root.pem
ISSUING=$DATA/certs/issuing.pem
echo matkhau123 > pass.txt
# new_signer NAME KEYTYPE PROFILE SUBJECT: NAME.key (plain, for xmlsec1), NAME.p8 (encrypted,
# for kyso) and NAME.pem issued by the instance.
new_signer() {
  local name=$1 keytype=$2 profile=$3 subject=$4
  if [ "$keytype" = rsa ]; then
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$name.key" 2>/dev/null
  else
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$name.key" 2>/dev/null
  fi
  openssl pkcs8 -topk8 -in "$name.key" -out "$name.p8" -passout pass:matkhau123 -v2 aes-256-cbc
  openssl req -new -key "$name.key" -out "$name.csr" -utf8 -subj "$subject"
  "$KYSO" cert issue --csr "$name.csr" --profile "$profile" --out "$name.pem" >/dev/null 2>&1 ||
    not_ok "issue the $name certificate ($profile)"
}
new_signer director ec authority \
  "/C=VN/L=Hòa Bình/O=Công ty TNHH Sản xuất Hòa Bình/title=Giám đốc/CN=Trần Thị Bình/UID=CCCD:017190023456"
new_signer company rsa organization \
  "/C=VN/L=Hòa Bình/O=Công ty TNHH Sản xuất Hòa Bình/CN=Công ty TNHH Sản xuất Hòa Bình/UID=MST:5400123456"
DIRECTOR=(--key director.p8 --key-passphrase-file pass.txt --cert director.pem --chain "$ISSUING")
COMPANY=(--key company.p8 --key-passphrase-file pass.txt --cert company.pem --chain "$ISSUING")

# A VAT declaration in the shape of the e-tax system's HSoThueDTu (Mẫu 01/GTGT).
cat > tokhai.xml <<'XML'
<?xml version="1.0" encoding="UTF-8"?>
<HSoThueDTu xmlns="http://kekhaithue.gdt.gov.vn/TKhaiThue">
  <HSoKhaiThue id="_NODE_TO_SIGN">
    <TTinChung>
      <TTinTKhaiThue>
        <TKhaiThue>
          <maTKhai>842</maTKhai>
          <tenTKhai>Tờ khai thuế giá trị gia tăng (Mẫu số 01/GTGT)</tenTKhai>
          <KyKKhaiThue><kieuKy>Q</kieuKy><kyKKhai>4/2026</kyKKhai></KyKKhaiThue>
        </TKhaiThue>
        <NNT>
          <mst>5400123456</mst>
          <tenNNT>Công ty TNHH Sản xuất Hòa Bình</tenNNT>
          <dchiNNT>Số 12 đường Cù Chính Lan, phường Đồng Tiến</dchiNNT>
          <tenTinhNNT>Tỉnh Hòa Bình</tenTinhNNT>
        </NNT>
      </TTinTKhaiThue>
    </TTinChung>
    <CTieuTKhaiChinh>
      <ct21>0</ct21>
      <ct22>125000000</ct22>
      <ct23>1250000000</ct23>
      <ct24>125000000</ct24>
      <ghiChu>Hàng hóa, dịch vụ chịu thuế suất 10%</ghiChu>
    </CTieuTKhaiChinh>
  </HSoKhaiThue>
  <CKyDTu/>
</HSoThueDTu>
XML
NS=http://kekhaithue.gdt.gov.vn/TKhaiThue
# Revocation from the instance's own CRLs (no server runs here): --offline with both.
CRLS=(--offline --crl "$DATA/crl/issuing.crl" --crl "$DATA/crl/root.crl")
verify_json() { "$KYSO" verify --format json "${CRLS[@]}" "$@" 2>/dev/null; }
verdict() { jq -r '[.indication, .sub_indication] | join(" ")' <<<"$1"; }
finding_ids() { jq -r '[.findings[].id, .signatures[].findings[].id] | join(" ")' <<<"$1"; }

# --- 1. kyso signs, xmlsec1 and kyso verify ------------------------------------------------
out=$("$KYSO" sign xml tokhai.xml tokhai-signed.xml "${DIRECTOR[@]}" --element-id _NODE_TO_SIGN \
      --parent CKyDTu --level B-T --role-from-title --json 2>&1)
expect_eq "sign xml: B-T enveloped by Id into CKyDTu" "XAdES-B-T" "$(jq -r .level <<<"$out" 2>/dev/null)"
expect_contains "the signature sits in CKyDTu" "<CKyDTu><ds:Signature" "$(cat tokhai-signed.xml)"
expect_contains "SignerRoleV2 from the certificate's title" \
  "<xades:ClaimedRole>Giám đốc</xades:ClaimedRole>" "$(cat tokhai-signed.xml)"
xmlsec() {
  xmlsec1 --verify --id-attr:id "$NS:HSoKhaiThue" --trusted-pem "$ROOT" --untrusted-pem "$ISSUING" "$@" 2>&1
}
out=$(xmlsec tokhai-signed.xml)
expect_eq "xmlsec1 --verify accepts kyso's XAdES (ECDSA, by Id)" 0 $?
expect_contains "xmlsec1 says OK" "OK" "$out"
out=$(verify_json tokhai-signed.xml); rc=$?
expect_eq "kyso verify: VALID (exit 0)" "0 VALID " "$rc $(verdict "$out")"
expect_eq "kyso verify: XAdES-B-T, time from the time-stamp" "XAdES-B-T timestamp" \
  "$(jq -r '.signatures[0] | .type + " " + .time_source' <<<"$out")"
expect_eq "kyso verify: what was signed" \
  '<HSoKhaiThue id="_NODE_TO_SIGN"> at /HSoThueDTu/HSoKhaiThue' \
  "$(jq -r '.signatures[0].coverage' <<<"$out")"
text=$("$KYSO" verify "${CRLS[@]}" tokhai-signed.xml 2>&1)
for label in "Người ký: Trần Thị Bình" "Cơ quan: Công ty TNHH Sản xuất Hòa Bình" "Dấu thời gian:" \
             "Tính toàn vẹn: toàn vẹn" "HỢP LỆ"; do
  expect_contains "verify report (vi) shows '$label'" "$label" "$text"
done

# One character of the declaration changed (125000000 → 126000000): INVALID.
sed 's/<ct22>125000000/<ct22>126000000/' tokhai-signed.xml > changed.xml
out=$(verify_json changed.xml); rc=$?
expect_eq "one character changed: INVALID HASH_FAILURE (exit 1)" "1 INVALID HASH_FAILURE" "$rc $(verdict "$out")"
expect_contains "one character changed: integrity.digest_mismatch" "integrity.digest_mismatch" "$(finding_ids "$out")"
xmlsec changed.xml >/dev/null; expect_eq "xmlsec1 rejects it too" 1 $?
# A diacritic changed (Hòa → Hoà is another byte sequence): INVALID.
sed '0,/<tenNNT>Công ty TNHH Sản xuất Hòa Bình/s//<tenNNT>Công ty TNHH Sản xuất Hoà Bình/' tokhai-signed.xml > diacritic.xml
out=$(verify_json diacritic.xml)
expect_eq "a diacritic recomposed: INVALID" "INVALID HASH_FAILURE" "$(verdict "$out")"
# Re-indented inside the signed body: INVALID; outside it (before CKyDTu): still VALID.
sed 's/^      <ct22>/        <ct22>/' tokhai-signed.xml > reindented.xml
out=$(verify_json reindented.xml)
expect_eq "re-indented inside the signed body: INVALID" "INVALID HASH_FAILURE" "$(verdict "$out")"
sed 's/^  <CKyDTu>/    <CKyDTu>/' tokhai-signed.xml > outside.xml
out=$(verify_json outside.xml)
expect_eq "re-indented outside what was signed: VALID" "VALID " "$(verdict "$out")"
# The signed SignedProperties changed (the signing time): INVALID, named.
sed 's/<xades:SigningTime>20/<xades:SigningTime>19/' tokhai-signed.xml > props.xml
out=$(verify_json props.xml)
expect_eq "altered SignedProperties: INVALID" "INVALID HASH_FAILURE" "$(verdict "$out")"
expect_contains "altered SignedProperties: xades.signed_properties_altered" \
  "xades.signed_properties_altered" "$(finding_ids "$out")"
# A second element with the signed Id: INVALID (signature wrapping).
sed 's|<CKyDTu>|<CKyDTu><HSoKhaiThue id="_NODE_TO_SIGN"/>|' tokhai-signed.xml > dup.xml
out=$(verify_json dup.xml)
expect_eq "duplicate Id: INVALID FORMAT_FAILURE" "INVALID FORMAT_FAILURE" "$(verdict "$out")"
expect_contains "duplicate Id: xml.duplicate_id" "xml.duplicate_id" "$(finding_ids "$out")"

# Signature wrapping: the signed body moved into an appendix behind a forged one. The core
# still holds (the signed element is intact); --signed-element says which element must be the
# signed one (the first of its name), and then it is INVALID.
awk '/<HSoKhaiThue id=/{grab=1} grab{body=body $0 "\n"} /<\/HSoKhaiThue>/{grab=0; print "  <HSoKhaiThue><CTieuTKhaiChinh><ct22>1000</ct22></CTieuTKhaiChinh></HSoKhaiThue>"; next} !grab{print}
     END{printf "%s", body > "body.part"}' tokhai-signed.xml > forged.xml
awk 'FNR == NR {body = body $0 "\n"; next}
     /<CKyDTu>/ {sub(/<CKyDTu>/, "<PhuLuc>\n" body "  </PhuLuc><CKyDTu>")} {print}' \
  body.part forged.xml > wrapped.xml
out=$(verify_json --signed-element HSoKhaiThue tokhai-signed.xml)
expect_eq "--signed-element HSoKhaiThue: the real declaration is VALID" "VALID " "$(verdict "$out")"
out=$(verify_json --signed-element HSoKhaiThue wrapped.xml)
expect_eq "wrapped: INVALID FORMAT_FAILURE" "INVALID FORMAT_FAILURE" "$(verdict "$out")"
expect_contains "wrapped: xml.unexpected_signed_element" "xml.unexpected_signed_element" "$(finding_ids "$out")"
expect_contains "wrapped: the report says where the signed body is" "/HSoThueDTu/PhuLuc/HSoKhaiThue" \
  "$(jq -r '.signatures[0].coverage' <<<"$out")"

# Whole document, RSA PKCS#1 v1.5 and enveloping, each judged by xmlsec1.
"$KYSO" sign xml tokhai.xml whole.xml "${COMPANY[@]}" --digest sha384 >/dev/null 2>&1
out=$(xmlsec whole.xml); expect_eq "xmlsec1 --verify: whole document, RSA SHA-384" 0 $?
out=$(verify_json whole.xml)
expect_eq "kyso verify: whole document VALID" "VALID " "$(verdict "$out")"
expect_eq "kyso verify: rsa-sha384" "rsa-sha384" "$(jq -r '.signatures[0].signature_algorithm' <<<"$out")"
"$KYSO" sign xml tokhai.xml enveloping.xml "${DIRECTOR[@]}" --packaging enveloping >/dev/null 2>&1
out=$(xmlsec enveloping.xml); expect_eq "xmlsec1 --verify: enveloping" 0 $?
expect_eq "kyso verify: enveloping VALID" "VALID " "$(verdict "$(verify_json enveloping.xml)")"
# RSA-PSS: xmlsec1 1.2.37 has no RSA-PSS, so kyso alone judges it here.
"$KYSO" sign xml tokhai.xml pss.xml "${COMPANY[@]}" --pss >/dev/null 2>&1
out=$(verify_json pss.xml)
expect_eq "kyso verify: RSA-PSS VALID" "VALID rsa-pss-sha256" \
  "$(jq -r '.indication + " " + .signatures[0].signature_algorithm' <<<"$out")"

# --- 2. xmlsec1 signs, kyso verifies ------------------------------------------------------
template() {  # template SIGNATURE_METHOD DIGEST_METHOD
  cat <<XML
<?xml version="1.0" encoding="UTF-8"?>
<ToKhai><NoiDung>Tờ khai đóng bảo hiểm xã hội bắt buộc, quý 4/2026</NoiDung>
<Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><SignedInfo>
<CanonicalizationMethod Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315"/>
<SignatureMethod Algorithm="$1"/>
<Reference URI=""><Transforms><Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/></Transforms>
<DigestMethod Algorithm="$2"/><DigestValue/></Reference></SignedInfo>
<SignatureValue/><KeyInfo><X509Data/></KeyInfo></Signature></ToKhai>
XML
}
MORE=http://www.w3.org/2001/04/xmldsig-more
template "$MORE#rsa-sha256" http://www.w3.org/2001/04/xmlenc#sha256 > t-rsa.xml
xmlsec1 --sign --privkey-pem company.key,company.pem --output x-rsa.xml t-rsa.xml 2>/dev/null
expect_eq "xmlsec1 --sign (rsa-sha256)" 0 $?
out=$(verify_json x-rsa.xml)
expect_eq "kyso verify: xmlsec1's RSA XMLDSig is VALID" "VALID XMLDSig" \
  "$(jq -r '.indication + " " + .signatures[0].type' <<<"$out")"
template "$MORE#ecdsa-sha256" http://www.w3.org/2001/04/xmlenc#sha256 > t-ec.xml
xmlsec1 --sign --privkey-pem director.key,director.pem --output x-ec.xml t-ec.xml 2>/dev/null
expect_eq "kyso verify: xmlsec1's ECDSA XMLDSig is VALID" "VALID " "$(verdict "$(verify_json x-ec.xml)")"
sed 's/quý 4/quý 3/' x-ec.xml > x-ec-changed.xml
expect_eq "kyso verify: xmlsec1's, changed, INVALID" "INVALID HASH_FAILURE" \
  "$(verdict "$(verify_json x-ec-changed.xml)")"
# SHA-1: refused for the algorithm, with the exact sub-indication.
template http://www.w3.org/2000/09/xmldsig#rsa-sha1 http://www.w3.org/2000/09/xmldsig#sha1 > t-sha1.xml
xmlsec1 --sign --privkey-pem company.key,company.pem --output x-sha1.xml t-sha1.xml 2>/dev/null
out=$(verify_json x-sha1.xml)
expect_eq "SHA-1: INDETERMINATE CRYPTO_CONSTRAINTS_FAILURE" "INDETERMINATE CRYPTO_CONSTRAINTS_FAILURE" "$(verdict "$out")"
expect_contains "SHA-1: algorithm.sha1" "algorithm.sha1" "$(finding_ids "$out")"
# RSA-1024 (self-signed, trusted explicitly): too short a key.
openssl req -x509 -newkey rsa:1024 -nodes -keyout weak.key -out weak.pem -days 30 \
  -subj "/C=VN/CN=Khoa yeu" 2>/dev/null
xmlsec1 --sign --privkey-pem weak.key,weak.pem --output x-weak.xml t-rsa.xml 2>/dev/null
out=$("$KYSO" verify --format json --trust weak.pem --offline x-weak.xml 2>/dev/null)
expect_eq "RSA-1024: INDETERMINATE CRYPTO_CONSTRAINTS_FAILURE" "INDETERMINATE CRYPTO_CONSTRAINTS_FAILURE" "$(verdict "$out")"
expect_contains "RSA-1024: algorithm.weak_key" "algorithm.weak_key" "$(finding_ids "$out")"

# --- 3. hostile input -----------------------------------------------------------------------
hostname > secret.txt
cat > xxe.xml <<XML
<?xml version="1.0"?>
<!DOCTYPE ToKhai [<!ENTITY x SYSTEM "file://$WORK/secret.txt">]>
<ToKhai>&x;</ToKhai>
XML
out=$("$KYSO" verify --format json xxe.xml 2>&1); rc=$?
expect_eq "XXE: INDETERMINATE FORMAT_FAILURE (exit 1)" "1 INDETERMINATE FORMAT_FAILURE" "$rc $(verdict "$out")"
expect_contains "XXE: xml.dtd_forbidden" "xml.dtd_forbidden" "$(finding_ids "$out")"
[[ "$out" != *"$(cat secret.txt)"* ]] && ok "XXE: the entity's file was not read" ||
  not_ok "XXE: the entity's file was not read" "$out"
expect_failure "sign xml refuses a DTD, writes nothing" xml.dtd_forbidden \
  "$KYSO" sign xml xxe.xml xxe-signed.xml "${DIRECTOR[@]}"
[ ! -e xxe-signed.xml ] && ok "no output for a refused input" || not_ok "no output for a refused input"
expect_failure "sign xml --element-id unknown" xades.no_element \
  "$KYSO" sign xml tokhai.xml x.xml "${DIRECTOR[@]}" --element-id nowhere
sed 's|URI=""|URI="http://127.0.0.1:9/tokhai.xml"|' x-rsa.xml > external.xml
out=$(verify_json external.xml)
expect_eq "external reference: INDETERMINATE SIGNED_DATA_NOT_FOUND" \
  "INDETERMINATE SIGNED_DATA_NOT_FOUND" "$(verdict "$out")"
expect_contains "external reference: xml.external_reference" "xml.external_reference" "$(finding_ids "$out")"

# --- 4. POST /api/v1/verify takes XML too ---------------------------------------------------
"$KYSO" --json serve --listen "127.0.0.1:$PORT" --access-log off > server.json 2> server.err &
SERVER_PID=$!
for _ in $(seq 1 100); do grep -q '"port"' server.json 2>/dev/null && break; sleep 0.1; done
code=$(curl -s -o http.json -w '%{http_code}' -F "file=@tokhai-signed.xml" "$URL/api/v1/verify")
expect_eq "HTTP verify: the signed declaration, 200 VALID (OCSP from the server itself)" \
  "200 VALID XML" "$code $(jq -r '.indication + " " + .format' http.json 2>/dev/null || head -c 300 http.json)"
code=$(curl -s -o http.json -w '%{http_code}' -F "file=@changed.xml" "$URL/api/v1/verify")
expect_eq "HTTP verify: changed by one character, 200 INVALID" "200 INVALID" \
  "$code $(jq -r .indication http.json 2>/dev/null || head -c 300 http.json)"
kill -TERM "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null; SERVER_PID=""

finish
