#!/usr/bin/env bash
# End-to-end test of `kyso sign pdf` (PAdES), judged by real peers: pdfsig (poppler + NSS, with
# our root in an NSS trust store and `kyso serve` answering its OCSP queries), qpdf --check,
# mutool draw, pdftotext, `openssl cms -verify` on the CMS cut out of /Contents over the bytes
# /ByteRange names, and `openssl ts -verify` on the signature and document time-stamps.
# Inputs are the Vietnamese test documents in ../shared/testdata (read in place).
# Usage: sign_pdf_test.sh KYSO_BINARY        ($KYSO_TESTDATA_DIR overrides the test data folder)
#
# pdfsig quirk (poppler 22.12 / NSS, reproduced with podofosign and an openssl-only chain, so not
# ours): when one pdfsig run validates two signatures made with the same certificate under an
# intermediate CA, the second one reports "Unknown issue with Certificate or corrupted data."
# (apparently answered from NSS's OCSP cache: only one OCSP request reaches the server). Every multi-signature document here therefore uses a
# different signer for each signature, as a real ND30 flow does (drafter, leader, clerk).
KYSO=$1
source "$(dirname "$0")/lib.sh"
TESTDATA=${KYSO_TESTDATA_DIR:-$(cd "$(dirname "$0")/../../.." && pwd)/shared/testdata}
PDFS=$TESTDATA/pdf
IMGS=$TESTDATA/img
LAYOUT=$PDFS/layout.json
WORK=$(mktemp -d /tmp/kyso-sign-pdf-XXXXXX)
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
for tool in pdfsig certutil qpdf mutool pdftotext pdffonts openssl xxd jq awk; do
  command -v "$tool" >/dev/null || missing+=" $tool"
done
if [ -n "$missing" ] || [ ! -f "$LAYOUT" ]; then
  not_ok "prerequisites" "missing tools:${missing:-none}" "test data: $TESTDATA"
  finish; exit 1
fi

# --- instance, signers and a trust store ---------------------------------------------------
# The base URL is baked into the certificates' AIA/CRL DP, so the port is chosen before init.
for _ in $(seq 1 50); do
  PORT=$((20000 + RANDOM % 40000))
  (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null || break
done
URL=http://127.0.0.1:$PORT
cat > fast.json <<JSON
{"pbkdf2_iterations": 2000,
 "root": {"key": "ec:P-384"},
 "issuing": {"key": "ec:P-256"}}
JSON
# The full demo: its directory gives the accounts the server-side signing checks below need.
init_out=$("$KYSO" init --demo --config fast.json --base-url "$URL" 2>&1)
expect_eq "init --demo" 0 $?
expect_contains "init --demo prints the portal's URL" "$URL/" "$init_out"
expect_contains "init --demo says where the demo accounts are" "$DATA/demo-accounts.txt" "$init_out"
ROOT=$DATA/certs/root.pem
CHAIN=$DATA/certs/chain.pem
cat "$DATA/certs/issuing.pem" "$DATA/certs/tsa.pem" > tsa-untrusted.pem

echo matkhau123 > pass.txt
echo sai-mat-khau > wrong-pass.txt
# new_signer NAME KEYTYPE PROFILE SUBJECT: NAME.p8 (encrypted PKCS#8) and NAME.pem issued by us.
new_signer() {
  local name=$1 keytype=$2 profile=$3 subject=$4
  if [ "$keytype" = rsa ]; then
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$name.key" 2>/dev/null
  else
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$name.key" 2>/dev/null
  fi
  openssl pkcs8 -topk8 -in "$name.key" -out "$name.p8" -passout pass:matkhau123 -v2 aes-256-cbc
  openssl req -new -key "$name.key" -out "$name.csr" -utf8 -subj "$subject"
  local out
  out=$("$KYSO" cert issue --csr "$name.csr" --profile "$profile" --out "$name.pem" 2>&1) ||
    not_ok "issue the $name certificate ($profile)" "$out"
}
new_signer leader ec authority \
  "/C=VN/L=Bắc Giang/O=Sở Khoa học và Công nghệ tỉnh Bắc Giang/title=Giám đốc/CN=Nguyễn Văn An/UID=CCCD:001085012345"
new_signer drafter ec official \
  "/C=VN/L=Bắc Giang/O=Sở Khoa học và Công nghệ tỉnh Bắc Giang/OU=Văn phòng/CN=Trần Thị Bình/UID=CCCD:001190023456"
new_signer org rsa organization \
  "/C=VN/L=Bắc Giang/O=UBND tỉnh Bắc Giang/CN=Sở Khoa học và Công nghệ tỉnh Bắc Giang/UID=MST:2400123456"
AGENCY="Sở Khoa học và Công nghệ tỉnh Bắc Giang"
LEADER=(--key leader.p8 --key-passphrase-file pass.txt --cert leader.pem --chain "$CHAIN")
DRAFTER=(--key drafter.p8 --key-passphrase-file pass.txt --cert drafter.pem --chain "$CHAIN")
ORG=(--key org.p8 --key-passphrase-file pass.txt --cert org.pem --chain "$CHAIN")
[ -s leader.pem ] && [ -s drafter.pem ] && [ -s org.pem ] && ok "three signers issued" ||
  not_ok "three signers issued" "$(ls -l)"

mkdir nss
certutil -N -d sql:"$WORK/nss" --empty-password >/dev/null 2>&1
certutil -A -d sql:"$WORK/nss" -n kyso-root -t CT,C,C -i "$ROOT" >/dev/null 2>&1
certutil -L -d sql:"$WORK/nss" 2>&1 | grep -q kyso-root && ok "NSS trust store holds our root" ||
  not_ok "NSS trust store holds our root" "$(certutil -L -d sql:"$WORK/nss" 2>&1)"

# pdfsig fetches OCSP from the certificates' AIA: the instance must answer at the base URL.
"$KYSO" --json serve --listen "127.0.0.1:$PORT" --access-log off > server.json 2> server.err &
SERVER_PID=$!
for _ in $(seq 1 100); do grep -q '"port"' server.json 2>/dev/null && break; sleep 0.1; done
grep -q "\"port\":$PORT" server.json && ok "kyso serve answers at $URL" ||
  not_ok "kyso serve answers at $URL" "$(cat server.json server.err)"

# --- helpers -----------------------------------------------------------------------------
BR_END=0 BR_SIZE=-1 LAST_SIG=none EXTRACT_ERR=""
sign() { "$KYSO" sign pdf "$@"; }

# sign_ok NAME IN OUT OPTIONS...: `kyso sign pdf IN OUT OPTIONS` must succeed and OUT must pass
# qpdf --check with no warnings (skipped when SKIP_QPDF=1).
sign_ok() {
  local name=$1 out=$3 msg check
  shift
  if ! msg=$(sign "$@" 2>&1); then not_ok "$name" "exit $?: $msg"; return 1; fi
  if [ "${SKIP_QPDF:-}" = 1 ]; then ok "$name"; return 0; fi
  check=$(qpdf --check "$out" 2>&1)
  if [ $? -eq 0 ] && [[ "$check" == *"No syntax or stream encoding errors found"* ]] &&
     [[ "$check" != *WARNING* ]]; then
    ok "$name (qpdf --check clean)"
  else
    not_ok "$name (qpdf --check clean)" "$check"
    return 1
  fi
}

# pdfsig_of FILE: pdfsig's report with our trust store (pdfsig exits 0 even on failures).
pdfsig_of() { pdfsig -nssdir sql:"$WORK/nss" "$1" 2>&1; }
# sig_block REPORT K: the "Signature #K:" block of a pdfsig report.
sig_block() { awk -v k="$2" '/^Signature #/{n++} n==k' <<< "$1"; }

# check_pdfsig NAME FILE N [doc-ts|dss]: N signatures, each "Signature is Valid." and
# "Certificate is Trusted.", and only the last one covers the whole file. With doc-ts the last
# one is a document time-stamp, which poppler cannot validate: it is only checked to cover the
# file. With dss a DSS update follows the last signature, so none covers the whole file.
check_pdfsig() {
  local name=$1 file=$2 n=$3 mode=${4:-} report count k blk bad=""
  report=$(pdfsig_of "$file")
  count=$(grep -c '^Signature #' <<< "$report")
  if [ "$count" -ne "$n" ]; then
    not_ok "$name: pdfsig lists $n signatures" "found $count:" "$report"
    return 1
  fi
  for k in $(seq 1 "$n"); do
    blk=$(sig_block "$report" "$k")
    if [ "$k" -lt "$n" ] || [ "$mode" != doc-ts ]; then
      [[ "$blk" == *"Signature Validation: Signature is Valid."* ]] || bad+="#$k not valid; "
      [[ "$blk" == *"Certificate Validation: Certificate is Trusted."* ]] || bad+="#$k not trusted; "
    fi
    if [ "$k" -eq "$n" ] && [ "$mode" != dss ]; then
      [[ "$blk" == *"- Total document signed"* ]] || bad+="#$k does not cover the whole file; "
    else
      [[ "$blk" == *"- Not total document signed"* ]] || bad+="#$k claims the whole file; "
    fi
  done
  local what="$n signatures valid, trusted, last covers all"
  [ "$mode" = dss ] && what="$n signatures valid, trusted, a DSS update after the last"
  [ "$mode" = doc-ts ] && what="$((n - 1)) signatures valid, trusted, a document time-stamp covering all"
  if [ -z "$bad" ]; then ok "$name: pdfsig: $what"; else
    not_ok "$name: pdfsig: $what" "$bad" "$report"; return 1; fi
}

# extract_sig FILE K PREFIX: cuts the K-th signature (file order; "last" for the last) out of
# FILE with nothing but its /ByteRange: PREFIX.bin (the signed bytes), PREFIX.hex (the whole
# /Contents hex string), PREFIX.der (the DER object, trailing zero padding removed). Sets
# BR_END (end of the second range) and BR_SIZE (file size); on failure EXTRACT_ERR says why.
extract_sig() {
  local file=$1 k=$2 p=$3 line size total first
  if [ "$k" = last ]; then
    line=$(grep -a -o '/ByteRange *\[ *[0-9]* *[0-9]* *[0-9]* *[0-9]* *\]' "$file" | tail -1)
  else
    line=$(grep -a -o '/ByteRange *\[ *[0-9]* *[0-9]* *[0-9]* *[0-9]* *\]' "$file" | sed -n "${k}p")
  fi
  set -- $(tr -d '[]' <<< "${line#/ByteRange}")
  if [ $# -ne 4 ]; then EXTRACT_ERR="no ByteRange #$k in $file"; return 1; fi
  local a=$1 b=$2 c=$3 d=$4
  size=$(stat -c %s "$file")
  BR_END=$((c + d)) BR_SIZE=$size
  if [ "$a" -ne 0 ] || [ "$c" -le "$b" ] || [ $((c + d)) -gt "$size" ]; then
    EXTRACT_ERR="bad ByteRange [$a $b $c $d] for a $size-byte file"; return 1
  fi
  if [ "$(tail -c +$((b + 1)) "$file" | head -c 1)" != "<" ] ||
     [ "$(tail -c +$c "$file" | head -c 1)" != ">" ]; then
    EXTRACT_ERR="the gap [$b, $c) is not exactly the /Contents hex string"; return 1
  fi
  { head -c "$b" "$file"; tail -c +$((c + 1)) "$file" | head -c "$d"; } > "$p.bin"
  tail -c +$((b + 2)) "$file" | head -c $((c - b - 2)) > "$p.hex"
  if grep -q '[^0-9A-Fa-f]' "$p.hex"; then EXTRACT_ERR="/Contents is not plain hex"; return 1; fi
  xxd -r -p "$p.hex" > "$p.padded"
  first=$(openssl asn1parse -inform DER -in "$p.padded" 2>/dev/null | head -1)
  total=$(sed -nE 's/.*hl= *([0-9]+) +l= *([0-9]+).*/\1+\2/p' <<< "$first")
  if [ -z "$total" ]; then EXTRACT_ERR="/Contents does not start with a DER object: $first"; return 1; fi
  head -c $((total)) "$p.padded" > "$p.der"
  if tail -c +$((total + 1)) "$p.padded" | tr -d '\0' | grep -q .; then
    EXTRACT_ERR="bytes other than zero padding follow the DER object"; return 1
  fi
}

# check_cms NAME FILE K: the K-th signature's CMS verifies with openssl over the ByteRange bytes
# (chain up to our root), is detached, has signing-certificate-v2 and no signingTime (PAdES
# B-B puts the time in /M only), and fails once one signed byte changes.
check_cms() {
  local name=$1 file=$2 k=$3 p="cms-$RANDOM" msg out printed
  if ! extract_sig "$file" "$k" "$p"; then not_ok "$name: ByteRange and /Contents" "$EXTRACT_ERR"; return 1; fi
  out=$(openssl cms -verify -binary -inform DER -in "$p.der" -content "$p.bin" -CAfile "$ROOT" \
    -purpose any -out /dev/null 2>&1)
  expect_contains "$name: openssl cms -verify over the ByteRange bytes" "Verification successful" "$out"
  printed=$(openssl cms -cmsout -print -inform DER -in "$p.der" 2>&1)
  expect_contains "$name: CMS has signing-certificate-v2" "signingCertificateV2" "$printed"
  expect_contains "$name: CMS is detached" "eContent: <ABSENT>" "$printed"
  if grep -qi 'signingTime' <<< "$printed"; then
    not_ok "$name: CMS has no signingTime attribute" "$(grep -i -B2 -A4 signingTime <<< "$printed")"
  else ok "$name: CMS has no signingTime attribute"; fi
  # The same check must fail when one signed byte changes (so the check above means something).
  cp "$p.bin" "$p.tampered"
  printf 'X' | dd of="$p.tampered" bs=1 seek=200 conv=notrunc 2>/dev/null
  out=$(openssl cms -verify -binary -inform DER -in "$p.der" -content "$p.tampered" \
    -CAfile "$ROOT" -purpose any -out /dev/null 2>&1)
  [[ "$out" == *"Verification successful"* ]] &&
    not_ok "$name: openssl cms -verify rejects a changed byte" "$out" ||
    ok "$name: openssl cms -verify rejects a changed byte"
  LAST_SIG=$p
}

# widget_rect FILE FIELD: "llx lly urx ury" of FIELD's widget (qpdf's view of the AcroForm).
widget_rect() {
  local obj
  obj=$(qpdf --json --json-key=acroform "$1" | jq -r --arg f "$2" \
    '.acroform.fields[] | select(.fullname == $f) | .annotation.object' | head -1)
  [ -n "$obj" ] && [ "$obj" != null ] || return 1
  qpdf --show-object="${obj%% *}" "$1" | sed -nE 's/.*\/Rect \[ *([-0-9.]+) +([-0-9.]+) +([-0-9.]+) +([-0-9.]+) *\].*/\1 \2 \3 \4/p'
}
# sig_dict FILE FIELD: the signature dictionary (/V) of FIELD.
sig_dict() {
  local obj
  obj=$(qpdf --json --json-key=acroform "$1" | jq -r --arg f "$2" \
    '.acroform.fields[] | select(.fullname == $f) | .value' | head -1)
  [ -n "$obj" ] && [ "$obj" != null ] || return 1
  qpdf --show-object="${obj%% *}" "$1"
}
# field_names REPORT: the "Signature Field Name"s of a pdfsig report, space-separated.
field_names() { sed -n 's/^  - Signature Field Name: //p' <<< "$1" | tr '\n' ' ' | sed 's/ $//'; }

# near A B TOL: |A - B| <= TOL
near() { awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= t) }'; }

# check_incremental NAME IN OUT: OUT begins with IN byte for byte (an incremental update).
check_incremental() {
  if cmp -s -n "$(stat -c %s "$2")" "$2" "$3"; then ok "$1: original bytes kept (incremental update)"
  else not_ok "$1: original bytes kept (incremental update)" "$(cmp -n "$(stat -c %s "$2")" "$2" "$3" 2>&1)"; fi
}

check_render() {
  local out
  if out=$(mutool draw -q -o "$WORK/render.png" -r 50 "$2" "$3" 2>&1) && [ -s "$WORK/render.png" ]; then
    ok "$1: mutool draw renders page $3"
  else not_ok "$1: mutool draw renders page $3" "$out"; fi
  rm -f "$WORK/render.png"
}

read -r SIG_X SIG_Y SIG_W SIG_H <<< "$(jq -r '."cong-van.pdf".signature_image_rect | join(" ")' "$LAYOUT")"
read -r SEAL_X SEAL_Y SEAL_W SEAL_H <<< "$(jq -r '."cong-van.pdf".seal_image_rect | join(" ")' "$LAYOUT")"
read -r PAGE_W PAGE_H <<< "$(jq -r '.page_size | join(" ")' "$LAYOUT")"
SIG_RECT="$SIG_X,$SIG_Y,$SIG_W,$SIG_H"

# === 1. ND30 three-step flow on cong-van.pdf: initials → approved → issued ===================
IN=$PDFS/cong-van.pdf
sign_ok "1a initials (ký nháy) by the drafter" "$IN" nd1.pdf --kind initials \
  --image "$IMGS/chu-ky-nhay.png" --page 2 --rect 520,300,42.5,22.7 "${DRAFTER[@]}"
sign_ok "1b approved by the leader at layout.json's signature rect" nd1.pdf nd2.pdf \
  --kind approved --image "$IMGS/chu-ky.png" --page 2 --rect "$SIG_RECT" "${LEADER[@]}"
sign_ok "1c issued: the agency seal placed automatically, B-T" nd2.pdf nd3.pdf --kind issued \
  --image "$IMGS/con-dau.png" --page 2 --level B-T "${ORG[@]}"
check_pdfsig "1a" nd1.pdf 1
check_pdfsig "1b" nd2.pdf 2
check_pdfsig "1c" nd3.pdf 3
check_incremental "1a" "$IN" nd1.pdf
check_incremental "1b" nd1.pdf nd2.pdf
check_incremental "1c" nd2.pdf nd3.pdf
for f in nd1.pdf nd2.pdf nd3.pdf; do check_render "1 $f" "$f" 2; done
report=$(pdfsig_of nd3.pdf)
expect_eq "1 signers in order: drafter, leader, agency" \
  "Trần Thị Bình|Nguyễn Văn An|$AGENCY" \
  "$(sed -n 's/^  - Signer Certificate Common Name: //p' <<< "$report" | paste -sd '|')"
expect_eq "1 every signature is ETSI.CAdES.detached" "3" \
  "$(grep -c 'Signature Type: ETSI.CAdES.detached' <<< "$report")"
# The seal: 36 mm, its right edge at a third of the signature, vertically centred on it.
names=($(field_names "$report"))
rect=$(widget_rect nd3.pdf "${names[2]:-}")
read -r llx lly urx ury <<< "$rect"
if [ -n "$rect" ] && near "$llx" "$SEAL_X" 0.5 && near "$lly" "$SEAL_Y" 0.5 &&
   near "$urx" "$(awk -v x="$SEAL_X" -v w="$SEAL_W" 'BEGIN{print x+w}')" 0.5 &&
   near "$ury" "$(awk -v y="$SEAL_Y" -v h="$SEAL_H" 'BEGIN{print y+h}')" 0.5; then
  ok "1c seal widget at layout.json's seal_image_rect ($rect)"
else
  not_ok "1c seal widget at layout.json's seal_image_rect" "got: $rect" \
    "want: $SEAL_X $SEAL_Y +$SEAL_W +$SEAL_H"
fi
rect=$(widget_rect nd3.pdf "${names[1]:-}")
read -r llx lly urx ury <<< "$rect"
if [ -n "$rect" ] && near "$llx" "$SIG_X" 0.01 && near "$lly" "$SIG_Y" 0.01 &&
   near "$(awk -v a="$urx" -v b="$llx" 'BEGIN{print a-b}')" "$SIG_W" 0.01; then
  ok "1b signature widget at the --rect given ($rect)"
else not_ok "1b signature widget at the --rect given" "got: $rect" "want: $SIG_RECT"; fi

# === 2. Each CMS, verified by openssl over the bytes its /ByteRange names ====================
for k in 1 2 3; do check_cms "2 signature $k of nd3.pdf" nd3.pdf "$k"; done
[ "$BR_END" -eq "$BR_SIZE" ] && ok "2 the last ByteRange ends at the end of the file" ||
  not_ok "2 the last ByteRange ends at the end of the file" "ends at $BR_END of $BR_SIZE"

# A changed byte in the signed part of the PDF: pdfsig must say so (it exits 0 regardless).
cp nd2.pdf tampered.pdf
off=$(grep -a -b -o '/MediaBox' tampered.pdf | head -1 | cut -d: -f1)
printf '/MediaBoy' | dd of=tampered.pdf bs=1 seek="$off" conv=notrunc 2>/dev/null
report=$(pdfsig_of tampered.pdf)
expect_eq "2 pdfsig reports a changed signed byte in both signatures" 2 \
  "$(grep -c 'Signature Validation: Digest Mismatch.' <<< "$report")"

# === 3. A cross-reference stream input gets a cross-reference stream update ================
IN=$PDFS/cong-van-xref-stream.pdf
sign_ok "3 sign cong-van-xref-stream.pdf" "$IN" xs.pdf --kind approved \
  --image "$IMGS/chu-ky.png" --page 2 --rect "$SIG_RECT" "${LEADER[@]}"
check_pdfsig "3" xs.pdf 1
check_incremental "3" "$IN" xs.pdf
orig=$(stat -c %s "$IN")
expect_eq "3 no 'xref' keyword in the update" 0 "$(tail -c +$((orig + 1)) xs.pdf | grep -a -c '^xref')"
tail -c +$((orig + 1)) xs.pdf | grep -a -q '/Type */XRef' && ok "3 the update has a /Type /XRef stream" ||
  not_ok "3 the update has a /Type /XRef stream" "$(tail -c +$((orig + 1)) xs.pdf | grep -a -v '^[0-9A-F]*$' | tail -20)"
check_cms "3 xref-stream signature" xs.pdf 1

# === 4. Signing the empty signature fields of with-form-fields.pdf =========================
IN=$PDFS/with-form-fields.pdf
sign_ok "4 approved into field LanhDao" "$IN" ff1.pdf --kind approved --field LanhDao \
  --image "$IMGS/chu-ky.png" "${LEADER[@]}"
sign_ok "4 issued into field CoQuan" ff1.pdf ff2.pdf --kind issued --field CoQuan \
  --image "$IMGS/con-dau.png" "${ORG[@]}"
check_pdfsig "4" ff2.pdf 2
report=$(pdfsig_of ff2.pdf)
expect_eq "4 the signed fields are LanhDao then CoQuan" "LanhDao CoQuan" "$(field_names "$report")"
expect_eq "4 no new signature field was added" 3 \
  "$(qpdf --json --json-key=acroform ff2.pdf | jq '.acroform.fields | length')"
for f in LanhDao CoQuan; do
  want=$(jq -r --arg f "$f" '."with-form-fields.pdf".fields[$f].rect | join(" ")' "$LAYOUT")
  read -r wx wy ww wh <<< "$want"
  read -r llx lly urx ury <<< "$(widget_rect ff2.pdf "$f")"
  if near "$llx" "$wx" 0.01 && near "$lly" "$wy" 0.01; then ok "4 $f keeps its widget rectangle"
  else not_ok "4 $f keeps its widget rectangle" "got $llx $lly $urx $ury" "want $want"; fi
done
mkdir refused
# expect_refused NAME ERROR_ID ARGS...: one error line naming ERROR_ID, non-zero exit, and
# nothing at all left in refused/ (no output, no *.kyso-tmp-* file).
expect_refused() {
  local name=$1 id=$2; shift 2
  expect_failure "$name" "$id" "$KYSO" sign pdf "$@"
  local left; left=$(ls -A refused)
  [ -z "$left" ] && ok "$name: no output and no temporary file" ||
    not_ok "$name: no output and no temporary file" "left behind: $left"
  rm -f refused/* refused/.[!.]* 2>/dev/null
}
expect_refused "4 signing LanhDao twice" pdf.field_signed ff2.pdf refused/out.pdf \
  --kind approved --field LanhDao --image "$IMGS/chu-ky.png" "${LEADER[@]}"
expect_refused "4 --field Missing without --rect" pdf.field_missing ff2.pdf refused/out.pdf \
  --kind approved --field Missing --image "$IMGS/chu-ky.png" "${LEADER[@]}"

# === 5. Levels B-T, B-LT, B-LTA ==============================================================
# B-T (nd3.pdf's seal): the time-stamp token is over the signature value (EN 319 122-1 §5.3).
if extract_sig nd3.pdf 3 bt; then
  asn=$(openssl asn1parse -inform DER -in bt.der 2>&1)
  expect_contains "5 B-T: CMS has id-aa-signatureTimeStampToken" ":id-smime-aa-timeStampToken" "$asn"
  oid_line=$(grep -n ':id-smime-aa-timeStampToken' <<< "$asn" | head -1 | cut -d: -f1)
  tok=$(sed -n "$((oid_line + 2))p" <<< "$asn")  # OID, SET, then the token's SEQUENCE
  tok_off=${tok%%:*}
  tok_len=$(sed -nE 's/.*hl= *([0-9]+) +l= *([0-9]+).*/\1+\2/p' <<< "$tok")
  tail -c +$((tok_off + 1)) bt.der | head -c $((tok_len)) > bt-token.der
  # The signature value: the SignerInfo's last OCTET STRING before its unsigned attributes.
  sigval=$(head -n "$oid_line" <<< "$asn" | grep 'prim: OCTET STRING' | tail -1 | sed 's/.*\[HEX DUMP\]://')
  digest=$(xxd -r -p <<< "$sigval" | sha256sum | cut -c1-64)
  out=$(openssl ts -verify -digest "$digest" -in bt-token.der -token_in -CAfile "$ROOT" \
    -untrusted tsa-untrusted.pem 2>&1)
  expect_contains "5 B-T: token verifies over SHA-256(signature value), TSA chains to our root" \
    "Verification: OK" "$out"
  out=$(openssl ts -reply -in bt-token.der -token_in -text 2>&1)
  expect_contains "5 B-T: token is SHA-256" "Hash Algorithm: sha256" "$out"
else
  not_ok "5 B-T: extract the seal's CMS" "$EXTRACT_ERR"
fi

IN=$PDFS/cong-van.pdf
sign_ok "5 B-LT" "$IN" lt.pdf --kind approved --image "$IMGS/chu-ky.png" --page 2 \
  --rect "$SIG_RECT" --level B-LT "${LEADER[@]}"
check_pdfsig "5 B-LT" lt.pdf 1 dss
check_cms "5 B-LT signature" lt.pdf 1
tail -c +$((BR_END + 1)) lt.pdf > lt-after.bin
grep -a -q '/Type */DSS' lt-after.bin && ! grep -a -q '/ByteRange' lt-after.bin &&
  [ "$(grep -a -c '%%EOF' lt-after.bin)" -eq 1 ] &&
  ok "5 B-LT: the signature is followed by one more update, holding the DSS" ||
  not_ok "5 B-LT: the signature is followed by one more update, holding the DSS" \
    "$(grep -a -o '/Type */[A-Za-z]*\|/ByteRange\|%%EOF' lt-after.bin | sort | uniq -c)"
dss=$(mutool show lt.pdf trailer/Root/DSS 2>&1)
for key in /Certs /OCSPs /VRI; do expect_contains "5 B-LT: catalog /DSS has $key" "$key" "$dss"; done
vri=$(xxd -r -p "$LAST_SIG.hex" | sha1sum | cut -c1-40 | tr a-f A-F)
expect_contains "5 B-LT: /VRI key is SHA-1 of the signature's /Contents" "/$vri" "$dss"
# refs KEY: object numbers of the DSS array KEY
refs() { sed -nE "s/.*\\$1 \\[ *([^]]*)\\].*/\\1/p" <<< "$dss" | head -1 | awk '{for (i = 1; i <= NF; i += 3) print $i}'; }
dss_certs=""
for n in $(refs /Certs); do
  mutool show -b lt.pdf "$n" > "dss-cert-$n.der" 2>/dev/null
  dss_certs+=" $(openssl x509 -inform DER -in "dss-cert-$n.der" -noout -fingerprint -sha256 2>/dev/null | cut -d= -f2)"
done
fp() { openssl x509 -in "$1" -noout -fingerprint -sha256 | cut -d= -f2; }
for c in leader.pem "$DATA/certs/issuing.pem" "$DATA/certs/tsa.pem" "$DATA/certs/ocsp-signer.pem"; do
  [[ "$dss_certs" == *"$(fp "$c")"* ]] && ok "5 B-LT: /DSS /Certs holds $(basename "$c")" ||
    not_ok "5 B-LT: /DSS /Certs holds $(basename "$c")" "DSS certificates:$dss_certs"
done
good=0 total=0
for n in $(refs /OCSPs); do
  total=$((total + 1))
  mutool show -b lt.pdf "$n" > "dss-ocsp-$n.der" 2>/dev/null
  out=$(openssl ocsp -respin "dss-ocsp-$n.der" -CAfile "$ROOT" -verify_other "$DATA/certs/issuing.pem" \
    -resp_text 2>&1)
  [[ "$out" == *"Response verify OK"* && "$out" == *"Cert Status: good"* ]] && good=$((good + 1))
done
[ "$total" -ge 2 ] && [ "$good" -eq "$total" ] &&
  ok "5 B-LT: $total DSS OCSP responses (signer, TSA) verify and say good" ||
  not_ok "5 B-LT: DSS OCSP responses (signer, TSA) verify and say good" "$good of $total" "$dss"

sign_ok "5 B-LTA" "$IN" lta.pdf --kind approved --image "$IMGS/chu-ky.png" --page 2 \
  --rect "$SIG_RECT" --level B-LTA "${LEADER[@]}"
check_pdfsig "5 B-LTA" lta.pdf 2 doc-ts
report=$(pdfsig_of lta.pdf)
names=($(field_names "$report"))
dict=$(sig_dict lta.pdf "${names[1]:-}")
expect_contains "5 B-LTA: last signature is /SubFilter /ETSI.RFC3161" "/SubFilter /ETSI.RFC3161" "$dict"
expect_contains "5 B-LTA: last signature is a /DocTimeStamp" "/Type /DocTimeStamp" "$dict"
mutool show lta.pdf trailer/Root/DSS 2>&1 | grep -q /VRI && ok "5 B-LTA: the DSS precedes the document time-stamp" ||
  not_ok "5 B-LTA: the DSS precedes the document time-stamp" "$(mutool show lta.pdf trailer/Root 2>&1)"
if extract_sig lta.pdf last docts; then
  out=$(openssl ts -verify -data docts.bin -in docts.der -token_in -CAfile "$ROOT" \
    -untrusted tsa-untrusted.pem 2>&1)
  expect_contains "5 B-LTA: document time-stamp verifies over its ByteRange" "Verification: OK" "$out"
  [ "$BR_END" -eq "$BR_SIZE" ] && ok "5 B-LTA: the document time-stamp covers the whole file" ||
    not_ok "5 B-LTA: the document time-stamp covers the whole file" "ends at $BR_END of $BR_SIZE"
else
  not_ok "5 B-LTA: document time-stamp ByteRange" "$EXTRACT_ERR"
fi

# === 6. copy and appendix: text at the top right of page 1, copy-pasteable Vietnamese =======
# check_top_right NAME FILE FIELD LINES...: the widget sits in the top right of page 1 and
# pdftotext, cropped to the widget, gives back each line.
check_top_right() {
  local name=$1 file=$2 field=$3 rect text line bad=""; shift 3
  rect=$(widget_rect "$file" "$field")
  read -r llx lly urx ury <<< "$rect"
  if [ -n "$rect" ] && awk -v l="$llx" -v b="$lly" -v r="$urx" -v t="$ury" -v w="$PAGE_W" -v h="$PAGE_H" \
     'BEGIN { exit !(l > w / 2 && b > h * 0.8 && r <= w && t <= h) }'; then
    ok "$name: widget at the top right of page 1 ($rect)"
  else not_ok "$name: widget at the top right of page 1" "rect: $rect (page $PAGE_W x $PAGE_H)"; fi
  # pdftotext's crop box is in pixels at 72 dpi (= points), from the top left corner.
  text=$(pdftotext -q -enc UTF-8 -f 1 -l 1 -x "${llx%.*}" -y "$(awk -v h="$PAGE_H" -v t="$ury" 'BEGIN{printf "%d", h - t}')" \
    -W "$(awk -v l="$llx" -v r="$urx" 'BEGIN{printf "%d", r - l + 2}')" \
    -H "$(awk -v b="$lly" -v t="$ury" 'BEGIN{printf "%d", t - b + 2}')" "$file" - 2>&1)
  for line in "$@"; do grep -qE -- "$line" <<< "$text" || bad+="'$line' "; done
  [ -z "$bad" ] && ok "$name: pdftotext gives back the lines inside the widget" ||
    not_ok "$name: pdftotext gives back the lines inside the widget" "missing: $bad" "text: $text"
}
IN=$PDFS/cong-van.pdf
TIME_RE='^[0-3][0-9]\.[01][0-9]\.20[0-9]{2} [0-2][0-9]:[0-5][0-9]:[0-5][0-9] \+07:00$'
out=$("$KYSO" --json sign pdf "$IN" appendix.pdf --kind appendix --doc-number "Số: 123/SKHCN-VP" \
  "${ORG[@]}" 2>&1) && ok "6 appendix signed" || not_ok "6 appendix signed" "$out"
field=$(jq -r .field <<< "$out" 2>/dev/null)
check_top_right "6 appendix" appendix.pdf "$field" "^Số: 123/SKHCN-VP$" "$TIME_RE"
check_pdfsig "6 appendix" appendix.pdf 1
out=$("$KYSO" --json sign pdf "$IN" copy.pdf --kind copy "${ORG[@]}" 2>&1) &&
  ok "6 copy signed" || not_ok "6 copy signed" "$out"
field=$(jq -r .field <<< "$out" 2>/dev/null)
check_top_right "6 copy" copy.pdf "$field" "^SAO Y$" "^$AGENCY$" "$TIME_RE"
check_pdfsig "6 copy" copy.pdf 1
fonts=$(pdffonts -f 1 -l 1 copy.pdf 2>&1)
grep -E 'LiberationSerif +CID TrueType +Identity-H +yes +yes +yes' <<< "$fonts" >/dev/null &&
  ok "6 copy: Liberation Serif subset, embedded, with ToUnicode" ||
  not_ok "6 copy: Liberation Serif subset, embedded, with ToUnicode" "$fonts"

# === 7. A scan and a 10 MB, 40-page document ================================================
sign_ok "7 scanned.pdf" "$PDFS/scanned.pdf" scanned-signed.pdf --kind approved \
  --image "$IMGS/chu-ky.png" --rect "$SIG_RECT" "${LEADER[@]}"
check_pdfsig "7 scanned.pdf" scanned-signed.pdf 1
# qpdf --check of 10 MB takes several seconds; pdfsig and the byte comparison suffice here.
SKIP_QPDF=1 sign_ok "7 large-10mb.pdf, last page" "$PDFS/large-10mb.pdf" large-signed.pdf \
  --kind approved --image "$IMGS/chu-ky.png" --page 40 --rect "$SIG_RECT" "${LEADER[@]}"
check_pdfsig "7 large-10mb.pdf" large-signed.pdf 1
check_incremental "7 large-10mb.pdf" "$PDFS/large-10mb.pdf" large-signed.pdf
grow=$(( $(stat -c %s large-signed.pdf) - $(stat -c %s "$PDFS/large-10mb.pdf") ))
[ "$grow" -lt 200000 ] && ok "7 large-10mb.pdf grew by $grow bytes only" ||
  not_ok "7 large-10mb.pdf grew by $grow bytes only" "more than 200 kB for one signature"

# === 8. Certification (DocMDP) ===============================================================
sign_ok "8 --certify 2 on a fresh document" "$IN" cert2.pdf --kind invisible --certify 2 "${ORG[@]}"
mutool show cert2.pdf trailer/Root/Perms 2>&1 | grep -q /DocMDP && ok "8 catalog /Perms /DocMDP" ||
  not_ok "8 catalog /Perms /DocMDP" "$(mutool show cert2.pdf trailer/Root 2>&1)"
sign_ok "8 an approval signature after --certify 2" cert2.pdf cert2b.pdf --kind approved \
  --image "$IMGS/chu-ky.png" --page 2 --rect "$SIG_RECT" "${LEADER[@]}"
check_pdfsig "8 certify 2 + approval" cert2b.pdf 2
dict=$(sig_dict cert2b.pdf "$(field_names "$(pdfsig_of cert2b.pdf)" | cut -d' ' -f1)")
grep -qE '/TransformMethod /DocMDP' <<< "$dict" && grep -qE '/TransformParams <<[^>]*/P 2[ >]' <<< "$dict" &&
  ok "8 the certification signature has a DocMDP reference with P 2" ||
  not_ok "8 the certification signature has a DocMDP reference with P 2" "$(grep -v Contents <<< "$dict")"
sign_ok "8 --certify 1 on a fresh document" "$IN" cert1.pdf --kind invisible --certify 1 "${ORG[@]}"
expect_refused "8 a signature after --certify 1" pdf.docmdp_forbids cert1.pdf refused/out.pdf \
  --kind invisible "${LEADER[@]}"
expect_refused "8 --certify on an already signed document" pdf.certify_not_first nd1.pdf \
  refused/out.pdf --kind invisible --certify 2 "${ORG[@]}"
expect_refused "8 --certify 4" pdf.invalid_option "$IN" refused/out.pdf --kind invisible \
  --certify 4 "${ORG[@]}"

# === 9. Bad input: one clear error, non-zero exit, nothing written ===========================
qpdf --encrypt u o 256 -- "$IN" encrypted.pdf
qpdf --encrypt "" o 256 -- "$IN" encrypted-open.pdf
printf 'Công văn số 123/SKHCN-VP\n' > not-a-pdf.pdf
head -c 50000 "$IN" > truncated.pdf
head -c 2000 /dev/urandom > not-a-png.png
printf '\xff\xd8\xff\xe0\x00\x10JFIF\x00' > photo.png
expect_refused "9 encrypted PDF" pdf.encrypted encrypted.pdf refused/out.pdf --kind invisible "${LEADER[@]}"
expect_refused "9 encrypted PDF with an empty user password" pdf.encrypted encrypted-open.pdf \
  refused/out.pdf --kind invisible "${LEADER[@]}"
expect_refused "9 not a PDF" pdf.not_pdf not-a-pdf.pdf refused/out.pdf --kind invisible "${LEADER[@]}"
expect_refused "9 truncated PDF" pdf.damaged truncated.pdf refused/out.pdf --kind invisible "${LEADER[@]}"
expect_refused "9 rectangle off the page" pdf.rect_off_page "$IN" refused/out.pdf --kind approved \
  --image "$IMGS/chu-ky.png" --rect 500,800,200,100 "${LEADER[@]}"
expect_refused "9 a JPEG as --image" appearance.not_png "$IN" refused/out.pdf --kind approved \
  --image photo.png --rect "$SIG_RECT" --page 2 "${LEADER[@]}"
expect_refused "9 random bytes as --image" appearance.not_png "$IN" refused/out.pdf --kind approved \
  --image not-a-png.png --rect "$SIG_RECT" --page 2 "${LEADER[@]}"
expect_refused "9 wrong key passphrase" key.wrong_passphrase "$IN" refused/out.pdf --kind invisible \
  --key leader.p8 --key-passphrase-file wrong-pass.txt --cert leader.pem --chain "$CHAIN"
expect_refused "9 page 9 of 2" pdf.no_such_page "$IN" refused/out.pdf --kind approved \
  --image "$IMGS/chu-ky.png" --rect "$SIG_RECT" --page 9 "${LEADER[@]}"
expect_refused "9 certificate of another key" pades.key_mismatch "$IN" refused/out.pdf \
  --kind invisible --key leader.p8 --key-passphrase-file pass.txt --cert org.pem --chain "$CHAIN"
# Fails after the update is written to the temporary file: the TSA cannot be reached.
expect_refused "9 B-T with an unreachable TSA" http_client.connect "$IN" refused/out.pdf \
  --kind invisible --level B-T --tsa http://127.0.0.1:1/tsa "${LEADER[@]}"
mkdir keep && printf 'bản cũ' > keep/existing.pdf
sign not-a-pdf.pdf keep/existing.pdf --kind invisible "${LEADER[@]}" 2>/dev/null
[ "$(cat keep/existing.pdf)" = 'bản cũ' ] && [ "$(ls -A keep)" = existing.pdf ] &&
  ok "9 a failed signing leaves an existing output untouched" ||
  not_ok "9 a failed signing leaves an existing output untouched" "$(ls -la keep)"

# === 10. --json ==============================================================================
out=$("$KYSO" --json sign pdf "$IN" json.pdf --kind approved --image "$IMGS/chu-ky.png" \
  --page 2 --rect "$SIG_RECT" --level B-T "${LEADER[@]}" 2>json.err)
expect_eq "10 --json: nothing on stderr" "" "$(cat json.err)"
expect_eq "10 --json: field, page, level" "Signature1 2 B-T" \
  "$(jq -r '"\(.field) \(.page) \(.level)"' <<< "$out" 2>&1)"
expect_eq "10 --json: output_bytes is the file's size" "$(stat -c %s json.pdf)" \
  "$(jq -r .output_bytes <<< "$out" 2>&1)"
expect_eq "10 --json: field is what pdfsig names" "$(field_names "$(pdfsig_of json.pdf)")" \
  "$(jq -r .field <<< "$out" 2>&1)"

# === Signing in place (IN = OUT), RSA-PSS, SHA-512 and the optional dictionary entries =======
cp nd1.pdf inplace.pdf
sign_ok "signing in place (input = output)" inplace.pdf inplace.pdf --kind invisible --pss \
  --digest sha512 --reason "Ban hành văn bản" --location "Bắc Giang" --contact "vanthu@example.gov.vn" \
  "${ORG[@]}"
check_pdfsig "in place" inplace.pdf 2
report=$(pdfsig_of inplace.pdf)
expect_contains "--digest sha512 reaches the CMS" "Signing Hash Algorithm: SHA-512" "$(sig_block "$report" 2)"
check_cms "RSA-PSS signature" inplace.pdf 2
expect_contains "--pss gives RSASSA-PSS" "rsassaPss" \
  "$(openssl cms -cmsout -print -inform DER -in "$LAST_SIG.der" 2>&1 | grep -i 'signatureAlgorithm' -A1)"
dict=$(sig_dict inplace.pdf "$(field_names "$report" | cut -d' ' -f2)")
for key in /Reason /Location /ContactInfo /M; do expect_contains "$key written" "$key" "$dict"; done

# 12. POST /api/v1/sign/pdf with a key the server holds: the /api/v1 authentication, and only
# the accounts the key's body authorized (its clerk). Every use is audited.
ACCOUNTS=$DATA/demo-accounts.txt
user_of() { awk -v r="$1" '$1 == r {print $2}' "$ACCOUNTS"; }
# login ROLE: a session (cookies.ROLE, csrf.ROLE) and an API token (token.ROLE) for ROLE's demo
# account.
login() {
  local body
  body=$(jq -n --arg u "$(user_of "$1")" --arg p "$(awk -v r="$1" '$1 == r {print $3}' "$ACCOUNTS")" \
    '{username: $u, password: $p}')
  curl -s -c "cookies.$1" -H 'Content-Type: application/json' -d "$body" \
    "$URL/api/v1/auth/login" | jq -r .csrf_token > "csrf.$1"
  curl -s -b "cookies.$1" -H "X-CSRF-Token: $(cat "csrf.$1")" -H 'Content-Type: application/json' \
    -d '{"name":"sign test","days":1}' "$URL/api/v1/auth/tokens" | jq -r .token > "token.$1"
}
for role in clerk agency_officer other_agency_officer ca_operator; do login "$role"; done
bearer() { echo "Authorization: Bearer $(cat "token.$1")"; }
[ -s token.clerk ] && [ "$(cat token.clerk)" != null ] && ok "the demo clerk logs in" ||
  not_ok "the demo clerk logs in" "$(cat csrf.clerk)"
STC=$(curl -s -H "$(bearer clerk)" "$URL/api/v1/me" | jq -r '.organization_id // .account.organization_id')
expect_failure "sign key add refuses an account outside the key's body" \
  signing_key.account_outside_body "$KYSO" sign key add --id van-thu-x "${ORG[@]}" --body "$STC" \
  --allow "$(user_of other_agency_officer)"
expect_success "sign key add stores the agency key for its clerk" "$KYSO" sign key add --id van-thu \
  "${ORG[@]}" --body "$STC" --allow "$(user_of clerk)"
expect_contains "sign key list shows it with its clerk" "$(user_of clerk)" \
  "$("$KYSO" sign key list 2>&1 | grep van-thu)"
expect_contains "adding a key is audited" "signing_key.add" "$("$KYSO" audit list --limit 100000 2>&1)"

# sign_api NAME STATUS ID curl-args...: POST /api/v1/sign/pdf answers STATUS with error ID
# ("" for a signed PDF in api.out).
sign_api() {
  local name=$1 status=$2 id=$3; shift 3
  local got
  got=$(curl -s -o api.out -w '%{http_code}' "$@" "$URL/api/v1/sign/pdf")
  expect_eq "HTTP $name: status" "$status" "$got"
  if [ -n "$id" ]; then
    expect_contains "HTTP $name: error id" "\"code\":\"$id\"" "$(head -c 2000 api.out)"
    expect_eq "HTTP $name: nothing signed" "" "$(head -c 5 api.out | grep -a '%PDF')"
  fi
}
DOC=(-F "file=@$PDFS/cong-van.pdf" -F key=van-thu)
sign_api "no credentials (loopback alone no longer suffices)" 401 auth.required "${DOC[@]}"
sign_api "a wrong bearer token" 401 auth.invalid_token -H "Authorization: Bearer kyso_khong-dung" "${DOC[@]}"
sign_api "another body's officer" 403 sign.key_not_authorized -H "$(bearer other_agency_officer)" "${DOC[@]}"
sign_api "the same body's officer, not authorized" 403 sign.key_not_authorized \
  -H "$(bearer agency_officer)" "${DOC[@]}"
sign_api "the CA operator" 403 sign.key_not_authorized -H "$(bearer ca_operator)" "${DOC[@]}"
sign_api "the clerk's cookie session without X-CSRF-Token" 403 auth.csrf -b cookies.clerk "${DOC[@]}"
code=$(curl -s -o api.pdf -D api.headers -w '%{http_code}' -H "$(bearer clerk)" \
  "${DOC[@]}" -F kind=copy -F level=B-T "$URL/api/v1/sign/pdf")
expect_eq "HTTP signing by the authorized clerk answers 200" 200 "$code"
expect_contains "HTTP signing names the field" "X-Kyso-Signature-Level: B-T" "$(cat api.headers)"
check_pdfsig "HTTP" api.pdf 1
out=$("$KYSO" verify --format json api.pdf 2>/dev/null)
expect_eq "kyso verify: the HTTP-signed PDF is VALID" VALID "$(jq -r .indication <<<"$out")"
code=$(curl -s -o api-session.pdf -w '%{http_code}' -b cookies.clerk -H "X-CSRF-Token: $(cat csrf.clerk)" \
  -F "file=@$PDFS/cong-van.pdf" -F key=bacgiang-stc "$URL/api/v1/sign/pdf")
expect_eq "the clerk's browser session (cookie + CSRF) signs with the demo's key" 200 "$code"
out=$("$KYSO" verify --format json api-session.pdf 2>/dev/null)
expect_eq "kyso verify: signed with the demo's key, VALID" VALID "$(jq -r .indication <<<"$out")"
expect_eq "GET /api/v1/sign/keys: the clerk's keys" "bacgiang-stc van-thu" \
  "$(curl -s -H "$(bearer clerk)" "$URL/api/v1/sign/keys" | jq -r '[.items[].id] | sort | join(" ")')"
expect_eq "GET /api/v1/sign/keys: none for another body's officer" 0 \
  "$(curl -s -H "$(bearer other_agency_officer)" "$URL/api/v1/sign/keys" | jq '.items | length')"
expect_eq "GET /api/v1/sign/keys without credentials: 401" 401 \
  "$(curl -s -o /dev/null -w '%{http_code}' "$URL/api/v1/sign/keys")"
audit=$("$KYSO" --json audit list --limit 100000 2>/dev/null)
expect_eq "audit: the clerk's signatures, naming account and key" \
  "signing_key/bacgiang-stc signing_key/van-thu" \
  "$(jq -r --arg u "$(user_of clerk)" '[.[] | select(.action == "sign.pdf" and (.actor | endswith(":" + $u))) | .object] | sort | join(" ")' <<<"$audit")"
expect_eq "audit: the refusals, naming account and key" 3 \
  "$(jq '[.[] | select(.action == "sign.refused" and .object == "signing_key/van-thu" and .details.error == "sign.key_not_authorized")] | length' <<<"$audit")"
expect_contains "audit: the other body's officer is named in a refusal" \
  ":$(user_of other_agency_officer)" \
  "$(jq -r '.[] | select(.action == "sign.refused") | .actor' <<<"$audit")"
expect_eq "audit: each signature records the document's SHA-256" \
  "$(sha256sum "$PDFS/cong-van.pdf" | cut -d' ' -f1)" \
  "$(jq -r '[.[] | select(.action == "sign.pdf")][0].details.document_sha256 | ascii_downcase' <<<"$audit")"
expect_success "the audit log verifies" "$KYSO" audit verify

api_error() {  # api_error NAME STATUS ID curl-args...: as the authorized clerk
  local name=$1 status=$2 id=$3; shift 3
  local got
  got=$(curl -s -o api.err -w '%{http_code}' -H "$(bearer clerk)" "$@" "$URL/api/v1/sign/pdf")
  expect_eq "HTTP $name: status" "$status" "$got"
  expect_contains "HTTP $name: error id" "\"code\":\"$id\"" "$(cat api.err)"
}
api_error "not a PDF" 400 pdf.not_pdf -F file=@pass.txt -F key=van-thu
api_error "unknown key" 404 signing_key.not_found -F "file=@$PDFS/cong-van.pdf" -F key=khong-co
api_error "not a PNG" 400 appearance.not_png -F "file=@$PDFS/cong-van.pdf" -F key=van-thu \
  -F kind=approved -F rect=300,200,100,50 -F image=@pass.txt
api_error "rect off the page" 400 pdf.rect_off_page -F "file=@$PDFS/cong-van.pdf" \
  -F key=van-thu -F kind=approved -F rect=500,800,200,100 -F "image=@$IMGS/chu-ky.png"
api_error "not multipart" 400 multipart.no_boundary -H "Content-Type: multipart/form-data" \
  --data-binary @pass.txt
expect_contains "audit: a failed signature is recorded" "sign.failed" \
  "$("$KYSO" audit list --limit 100000 2>&1)"
expect_eq "the server still serves after bad input" 200 \
  "$(curl -s -o /dev/null -w '%{http_code}' "$URL/healthz")"

# 13. kyso verify judges our own outputs (issue 5): VALID, and INVALID once changed.
verify_json() { "$KYSO" verify --format json "$@" 2>/dev/null; }
out=$(verify_json nd3.pdf); rc=$?
expect_eq "verify: the ND30 flow is VALID (exit 0)" "0 VALID" "$rc $(jq -r .indication <<<"$out")"
expect_eq "verify: three signatures, all VALID" "VALID VALID VALID" \
  "$(jq -r '[.signatures[].indication] | join(" ")' <<<"$out")"
expect_eq "verify: the seal's time comes from its time-stamp" timestamp \
  "$(jq -r '.signatures[2].time_source' <<<"$out")"
out=$(verify_json --offline lta.pdf); rc=$?
expect_eq "verify --offline: B-LTA is VALID from embedded data alone" "0 VALID" \
  "$rc $(jq -r .indication <<<"$out")"
expect_eq "verify --offline: revocation from the DSS" "embedded OCSP" \
  "$(jq -r '.signatures[0].revocation.source' <<<"$out")"
text=$("$KYSO" verify nd3.pdf 2>&1)
for label in "Người ký: Nguyễn Văn An" "Cơ quan:" "Đơn vị cấp:" "Dấu thời gian:" \
             "Tính toàn vẹn: toàn vẹn" "Hiệu lực tại thời điểm ký: còn hiệu lực" "Thời hạn chứng thư:"; do
  expect_contains "verify report (vi) shows '$label'" "$label" "$text"
done
cp nd3.pdf flipped.pdf
printf 'X' | dd of=flipped.pdf bs=1 seek=2000 conv=notrunc status=none
out=$(verify_json flipped.pdf); rc=$?
expect_eq "verify: one changed byte makes it INVALID (exit 1)" "1 INVALID HASH_FAILURE" \
  "$rc $(jq -r '.indication + " " + .signatures[0].sub_indication' <<<"$out")"
expect_contains "verify: HTML report is printable HTML" "<!doctype html>" \
  "$("$KYSO" verify --format html nd3.pdf 2>/dev/null)"
expect_eq "verify cert: the leader's certificate is VALID" 0 \
  "$("$KYSO" verify cert leader.pem >/dev/null 2>&1; echo $?)"
code=$(curl -s -o verify.json -w '%{http_code}' -F "file=@nd3.pdf" "$URL/api/v1/verify")
expect_eq "HTTP verify answers 200 with the report" "200 VALID" \
  "$code $(jq -r .indication verify.json 2>/dev/null || head -c 300 verify.json)"
expect_contains "HTTP verify ?format=html" "BÁO CÁO KIỂM TRA CHỮ KÝ SỐ" \
  "$(curl -s -F "file=@nd3.pdf" "$URL/api/v1/verify?format=html")"

kill -TERM "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null; SERVER_PID=""
finish
