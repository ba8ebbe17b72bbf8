#!/usr/bin/env bash
# EU DSS's real-world PAdES files (../shared/corpora/pades-realworld, LGPL-2.1) judged by
# `kyso verify`: every expectation of the corpus README holds (issue 18). They are B-LT and B-LTA
# documents from other tools: what later revisions add (DSS with VRI, certificates, OCSP answers
# and CRLs; document time-stamps; new signature fields; the form's /DA, /DR and /SigFlags;
# metadata) is allowed, so no signature is INVALID because of a modification, every signature is
# intact, and, with no trust anchor for their foreign CAs, each is INDETERMINATE.
# pdfsig's answer on the same files is printed for comparison (not asserted).
#   pades_realworld_test.sh KYSO CORPORA_DIR
set -u
KYSO=$1
CORPUS=${KYSO_CORPORA_DIR:-$2}/pades-realworld
source "$(dirname "$0")/../integration/lib.sh"
WORK=$(mktemp -d /tmp/kyso-pades-realworld-XXXXXX)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
[ -d "$CORPUS" ] || { not_ok "corpus at $CORPUS"; finish; exit 1; }

# report FILE: the JSON report, offline, with no instance (so no trust anchor).
report() { timeout 60 "$KYSO" --data "$WORK/no-instance" verify --offline --format json "$1" 2>"$WORK/err"; }

files=0 signatures=0 invalid=0
for f in "$CORPUS"/*.pdf; do
  name=$(basename "$f")
  files=$((files + 1))
  r=$(report "$f")
  if ! jq -e .signatures <<<"$r" >/dev/null 2>&1; then
    not_ok "$name: a JSON report" "$(cat "$WORK/err")"
    continue
  fi
  n=$(jq '.signatures | length' <<<"$r")
  signatures=$((signatures + n))
  [ "$n" -ge 1 ] && ok "$name: $n signatures found" || not_ok "$name: signatures found" "$r"
  expect_eq "$name: every signature intact" "" \
    "$(jq -r '.signatures[] | select(.integrity != true) | .field' <<<"$r")"
  expect_eq "$name: no change after signing beyond what PAdES LT/LTA and later signing add" "" \
    "$(jq -r '.signatures[] | .field as $f | .findings[] |
              select(.id == "modification.other" or .id == "modification.appearance_changed" or
                     .id == "modification.unanalysable" or .id == "modification.docmdp" or
                     .id == "modification.fieldmdp") | "\($f): \(.id)"' <<<"$r")"
  bad=$(jq -r '.signatures[] | select(.indication == "INVALID") | .field' <<<"$r")
  [ -n "$bad" ] && invalid=$((invalid + 1))
  expect_eq "$name: no signature INVALID" "" "$bad"
  # The README's verdict: INDETERMINATE, the chain leading to a CA nobody here trusts.
  expect_eq "$name: INDETERMINATE without a trust anchor" INDETERMINATE "$(jq -r .indication <<<"$r")"
  expect_eq "$name: each signature's chain untrusted" "" \
    "$(jq -r '.signatures[] | select(.chain != "untrusted") | "\(.field): \(.chain)"' <<<"$r")"
  # For comparison: pdfsig's verdicts (poppler checks digests and signatures, not modifications).
  if command -v pdfsig >/dev/null; then
    echo "    pdfsig $name: $(pdfsig "$f" 2>&1 | grep -c 'Signature is Valid') of" \
         "$(pdfsig "$f" 2>&1 | grep -c '^Signature #') signatures 'Signature is Valid.'"
  fi
done
expect_eq "twelve files" 12 "$files"
echo "# $files files, $signatures signatures, $invalid files with an INVALID signature"
finish
