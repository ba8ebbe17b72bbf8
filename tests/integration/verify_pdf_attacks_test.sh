#!/usr/bin/env bash
# Attacks on a PDF that kyso signed, made by hand-written incremental updates (bytes appended
# with printf; object numbers and trailers read with qpdf), judged by `kyso verify` (issue 18):
#   - the text field's appearance stream overridden while its value stays: an appearance swap,
#     modification.appearance_changed, INVALID, not form filling;
#   - the signed field's appearance replaced: modification.appearance_changed;
#   - a real form filling (a new value and an appearance for it): allowed;
#   - a later revision whose startxref points nowhere: the signed revision is still reported
#     intact, with modification.unanalysable and no VALID verdict;
#   - the page painted over in one revision and restored in the next: modification.other.
# pdfsig's answer on each file is printed for comparison (not asserted).
#   verify_pdf_attacks_test.sh KYSO        ($KYSO_TESTDATA_DIR overrides the test data folder)
set -u
KYSO=$1
source "$(dirname "$0")/lib.sh"
TESTDATA=${KYSO_TESTDATA_DIR:-$(cd "$(dirname "$0")/../../.." && pwd)/shared/testdata}
WORK=$(mktemp -d /tmp/kyso-pdf-attacks-XXXXXX)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
for tool in qpdf openssl jq; do
  command -v "$tool" >/dev/null || { not_ok "prerequisite $tool"; finish; exit 1; }
done

# --- a signer made by OpenSSL, and a form signed by kyso ------------------------------------
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout root.key \
  -out root.pem -days 3650 -subj "/C=VN/O=Thử nghiệm/CN=Root kiểm thử" -utf8 \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
  2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout signer.key \
  -out signer.csr -subj "/C=VN/O=Sở Khoa học và Công nghệ/CN=Nguyễn Văn An" -utf8 2>/dev/null
printf 'keyUsage=critical,digitalSignature,nonRepudiation\nextendedKeyUsage=emailProtection\n' > ext.cnf
openssl x509 -req -in signer.csr -CA root.pem -CAkey root.key -CAcreateserial -days 365 \
  -extfile ext.cnf -out signer.pem 2>/dev/null
echo matkhau123 > pass.txt
openssl pkcs8 -topk8 -in signer.key -out signer.p8 -passout pass:matkhau123 -v2 aes-256-cbc
expect_success "kyso signs the form's LanhDao field" \
  "$KYSO" --data "$WORK/no-instance" sign pdf "$TESTDATA/pdf/with-form-fields.pdf" signed.pdf \
  --field LanhDao --key signer.p8 --key-passphrase-file pass.txt --cert signer.pem \
  --chain root.pem --no-fsync
[ -s signed.pdf ] || { finish; exit 1; }

# --- hand-written incremental updates (ISO 32000-1 §7.5.6) ----------------------------------
# field_ref FILE NAME: "N" of the form field named NAME.
field_ref() {
  qpdf --json --json-key=acroform "$1" |
    jq -r --arg n "$2" '.acroform.fields[] | select(.fullname == $n) | .object' | head -1 |
    awk '{print $1}'
}
object_text() { qpdf --show-object="$2" "$1"; }
# append FILE OUT STARTXREF N BODY [N BODY...]: OUT is FILE plus an update defining objects N
# (BODY "@path" takes the body's bytes from a file), with a classic xref table and a trailer
# whose /Prev is FILE's last startxref; STARTXREF, when not empty, replaces the xref's offset.
append() {
  local in=$1 out=$2 forced=$3; shift 3
  local trailer root info size id prev offsets=() n body xref
  trailer=$(qpdf --show-object=trailer "$in")
  root=$(grep -o '/Root [0-9]* [0-9]* R' <<<"$trailer")
  info=$(grep -o '/Info [0-9]* [0-9]* R' <<<"$trailer")
  size=$(grep -o '/Size [0-9]*' <<<"$trailer" | awk '{print $2}')
  id=$(grep -o '/ID \[[^]]*\]' <<<"$trailer")
  prev=$(tail -c 64 "$in" | grep -a -A1 startxref | tail -1 | tr -d '\r\n ')
  cp "$in" "$out"
  printf '\n' >> "$out"
  while [ $# -ge 2 ]; do
    n=$1 body=$2; shift 2
    offsets+=("$n $(stat -c %s "$out")")
    if [[ "$body" == @* ]]; then
      { printf '%s 0 obj\n' "$n"; cat "${body#@}"; printf '\nendobj\n'; } >> "$out"
    else
      printf '%s 0 obj\n%s\nendobj\n' "$n" "$body" >> "$out"
    fi
    [ "$n" -ge "$size" ] && size=$((n + 1))
  done
  xref=$(stat -c %s "$out")
  {
    printf 'xref\n0 1\n0000000000 65535 f\r\n'
    for entry in "${offsets[@]}"; do
      set -- $entry
      printf '%s 1\n%010d 00000 n\r\n' "$1" "$2"
    done
    printf 'trailer\n<< /Size %s %s %s %s /Prev %s >>\nstartxref\n%s\n%%%%EOF\n' \
      "$size" "$root" "$info" "$id" "$prev" "${forced:-$xref}"
  } >> "$out"
}
# stream DICT_ENTRIES DATA: a stream object's body.
stream() { printf '<< %s /Length %s >>\nstream\n%s\nendstream' "$1" "${#2}" "$2"; }

TEXT=$(field_ref signed.pdf SoVanBan)
SIG=$(field_ref signed.pdf LanhDao)
TEXT_AP=$(object_text signed.pdf "$TEXT" | grep -o '/AP << /N [0-9]* 0 R' | awk '{print $4}')
SIZE=$(qpdf --show-object=trailer signed.pdf | grep -o '/Size [0-9]*' | awk '{print $2}')
[ -n "$TEXT" ] && [ -n "$SIG" ] && [ -n "$TEXT_AP" ] &&
  ok "fields found (SoVanBan $TEXT, its appearance $TEXT_AP; LanhDao $SIG)" ||
  not_ok "fields found" "SoVanBan '$TEXT' /AP '$TEXT_AP' LanhDao '$SIG'"
FORM="/Type /XObject /Subtype /Form /BBox [0 0 41 16] /Resources << /Font << /Helv << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >>"

# 1. The text field shows another number; its value stays.
append signed.pdf appearance-swap.pdf "" "$TEXT_AP" "$(stream "$FORM" 'BT /Helv 12 Tf 2 4 Td (999/QD-GIA) Tj ET')"
# 2. The signed field shows another signer.
SIG_DICT=$(object_text signed.pdf "$SIG")
if grep -q '/AP <<[^>]*>>' <<<"$SIG_DICT"; then
  NEW_SIG=$(sed -E "s#/AP <<[^>]*>>#/AP << /N $SIZE 0 R >>#" <<<"$SIG_DICT")
else
  NEW_SIG="${SIG_DICT%>>} /AP << /N $SIZE 0 R >> >>"
fi
append signed.pdf signed-appearance-swap.pdf "" \
  "$SIZE" "$(stream "$FORM" 'BT /Helv 12 Tf 2 4 Td (Nguyen Van B) Tj ET')" "$SIG" "$NEW_SIG"
# 3. Form filling: a new value and an appearance made for it.
TEXT_DICT=$(object_text signed.pdf "$TEXT")
FILLED=$(sed -E "s#/AP << /N [0-9]+ 0 R >>#/AP << /N $SIZE 0 R >>#; s#([^D])/V \([^)]*\)#\1/V (123/QD-UBND)#" <<<"$TEXT_DICT")
grep -q '/V (123/QD-UBND)' <<<"$FILLED" || FILLED="${FILLED%>>} /V (123/QD-UBND) >>"
append signed.pdf filled.pdf "" \
  "$SIZE" "$(stream "$FORM" 'BT /Helv 12 Tf 2 4 Td (123/QD-UBND) Tj ET')" "$TEXT" "$FILLED"
# 4. A later revision whose startxref points 3 bytes past its xref table.
PAGE_CONTENT=$(qpdf --show-pages signed.pdf | awk '/content:/{getline; print $1; exit}')
append signed.pdf broken-xref.pdf "$(( $(stat -c %s signed.pdf) + 3 ))" \
  "$PAGE_CONTENT" "$(stream "" '0 0 1 rg 0 0 595 842 re f')"
# 5. The page painted over in one revision, restored in the next.
# qpdf prints a stream as "Object is stream.  Dictionary:" then "<< ... /Length n >>".
ORIGINAL_DICT=$(object_text signed.pdf "$PAGE_CONTENT" | grep '^<<' |
  sed -E 's#/Length [0-9]+( [0-9]+ R)?##; s#^<<##; s#>>$##')
qpdf --show-object="$PAGE_CONTENT" --raw-stream-data signed.pdf > original.raw
append signed.pdf painted.pdf "" "$PAGE_CONTENT" "$(stream "" '0 0 1 rg 0 0 595 842 re f')"
# The raw data may hold any byte: that body goes through a file, not a shell variable.
{
  printf '<< %s /Length %s >>\nstream\n' "$ORIGINAL_DICT" "$(stat -c %s original.raw)"
  cat original.raw
  printf '\nendstream'
} > restore.body
append painted.pdf restored.pdf "" "$PAGE_CONTENT" @restore.body
append signed.pdf undone-only.pdf "" "$PAGE_CONTENT" @restore.body

# --- kyso's verdicts ---------------------------------------------------------------------------
verify() {
  timeout 60 "$KYSO" --data "$WORK/no-instance" verify --offline --trust root.pem \
    --format json "$1" 2>"$WORK/err"
}
ids() { jq -r '[.signatures[0].findings[].id | select(startswith("modification.") and . != "modification.finding")] | join(" ")' <<<"$1"; }
sig() { jq -r ".signatures[0].$2" <<<"$1"; }

r=$(verify signed.pdf)
expect_eq "signed.pdf: intact" true "$(sig "$r" integrity)"
expect_eq "signed.pdf: no modification" "" "$(ids "$r")"

r=$(verify appearance-swap.pdf)
expect_eq "appearance-swap.pdf: the signed revision intact" true "$(sig "$r" integrity)"
expect_eq "appearance-swap.pdf: modification.appearance_changed, nothing else" \
  modification.appearance_changed "$(ids "$r")"
expect_eq "appearance-swap.pdf: INVALID" INVALID "$(sig "$r" indication)"

r=$(verify signed-appearance-swap.pdf)
expect_eq "signed-appearance-swap.pdf: intact" true "$(sig "$r" integrity)"
expect_contains "signed-appearance-swap.pdf: modification.appearance_changed" \
  modification.appearance_changed "$(ids "$r")"
expect_eq "signed-appearance-swap.pdf: INVALID" INVALID "$(sig "$r" indication)"

r=$(verify filled.pdf)
expect_eq "filled.pdf: intact" true "$(sig "$r" integrity)"
expect_eq "filled.pdf: form filling" form_filling "$(sig "$r" modifications)"
expect_eq "filled.pdf: no forbidden modification" "" "$(ids "$r")"
[ "$(sig "$r" indication)" != INVALID ] && ok "filled.pdf: not INVALID" ||
  not_ok "filled.pdf: not INVALID" "$(jq -c '.signatures[0].findings' <<<"$r")"

r=$(verify broken-xref.pdf)
expect_eq "broken-xref.pdf: the signature is reported" 1 "$(jq '.signatures | length' <<<"$r")"
expect_eq "broken-xref.pdf: the signed revision intact" true "$(sig "$r" integrity)"
expect_eq "broken-xref.pdf: modification.unanalysable" modification.unanalysable "$(ids "$r")"
[ "$(sig "$r" indication)" != VALID ] && ok "broken-xref.pdf: not VALID ($(sig "$r" indication))" ||
  not_ok "broken-xref.pdf: not VALID"

r=$(verify painted.pdf)
expect_eq "painted.pdf: modification.other" modification.other "$(ids "$r")"
r=$(verify undone-only.pdf)
expect_eq "undone-only.pdf: putting the original back is no change" none "$(sig "$r" modifications)"
r=$(verify restored.pdf)
expect_eq "restored.pdf: two updates after the signed revision" 2 \
  "$(jq -r '.signatures[0].coverage' <<<"$r" | awk '{print $4 - $2}')"
expect_eq "restored.pdf: intact" true "$(sig "$r" integrity)"
expect_eq "restored.pdf: the change made and undone is modification.other" modification.other "$(ids "$r")"
expect_eq "restored.pdf: INVALID" INVALID "$(sig "$r" indication)"

# --- pdfsig on the same files, for the record ---------------------------------------------------
if command -v pdfsig >/dev/null; then
  for f in signed appearance-swap signed-appearance-swap filled broken-xref painted restored; do
    echo "# pdfsig $f.pdf: $(pdfsig "$f.pdf" 2>&1 | grep -E 'Signature Validation|Total document signed|Error|error' | sed 's/^ *- //' | paste -sd ';' -)"
  done
fi
finish
