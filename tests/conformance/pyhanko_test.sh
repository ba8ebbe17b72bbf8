#!/usr/bin/env bash
# pyHanko's PDF test files (../shared/corpora/pyhanko-pdf, MIT) judged by `kyso verify`: every
# expectation of the corpus README holds. The signer certificates come from pyHanko's test CA,
# which nobody trusts, so the chain is "untrusted" (INDETERMINATE at best); what is judged is
# integrity, coverage and modifications.
#   pyhanko_test.sh KYSO CORPORA_DIR
set -u
KYSO=$1
CORPUS=${KYSO_CORPORA_DIR:-$2}/pyhanko-pdf
source "$(dirname "$0")/../integration/lib.sh"
WORK=$(mktemp -d /tmp/kyso-pyhanko-XXXXXX)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
[ -d "$CORPUS" ] || { not_ok "corpus at $CORPUS"; finish; exit 1; }

# report FILE: the JSON report (the exit status is 0 only for VALID, so it is not checked here).
report() { timeout 20 "$KYSO" --data "$WORK/no-instance" verify --offline --format json "$1" 2>"$WORK/err"; }
first() { jq -r ".signatures[0].$2" <<<"$1"; }
has_finding() { jq -e --arg id "$2" '[.signatures[0].findings[].id] | index($id)' <<<"$1" >/dev/null; }

for f in tail-uncovered signature-gap-too-big one-byterange weird-byterange; do
  r=$(report "$CORPUS/coverage-anomalies/$f.pdf")
  expect_eq "$f: overall INVALID" INVALID "$(jq -r .indication <<<"$r")"
  cov=$(first "$r" coverage)
  [[ "$cov" != "entire file" && "$cov" != revision* ]] && ok "$f: coverage flagged ($cov)" ||
    not_ok "$f: coverage flagged" "coverage: $cov"
done

for f in form-update-override-appearance-stream form-update-override-appearance-stream-ap-indirect \
         form-update-no-override-appearance-stream-ap-indirect form-update-original-ap-type-wrong; do
  r=$(report "$CORPUS/modification/$f.pdf")
  expect_eq "$f: first signature intact" true "$(first "$r" integrity)"
  expect_eq "$f: later change is form filling" form_filling "$(first "$r" modifications)"
  [ "$(first "$r" indication)" != INVALID ] && ok "$f: allowed change not INVALID" ||
    not_ok "$f: allowed change not INVALID" "$(jq -c '.signatures[0].findings' <<<"$r")"
done

for f in form-update-override-appearance-stream-sneaky form-update-override-appearance-stream-ap-indirect-sneaky \
         form-update-no-override-appearance-stream-ap-indirect-sneaky form-update-ap-indirect-sneaky-trailer; do
  r=$(report "$CORPUS/modification/$f.pdf")
  expect_eq "$f: sneaky update makes the first signature INVALID" INVALID "$(first "$r" indication)"
  has_finding "$r" modification.other && ok "$f: reported as modified after signing" ||
    not_ok "$f: reported as modified after signing" "$(jq -c '.signatures[0].findings' <<<"$r")"
done

for f in minimal-signed-twice-both-created minimal-signed-twice-second-created \
         minimal-two-fields-signed-twice minimal-signed-twice-no-sig-type; do
  r=$(report "$CORPUS/modification/$f.pdf")
  expect_eq "$f: two signatures" 2 "$(jq '.signatures | length' <<<"$r")"
  expect_eq "$f: both intact" "true true" "$(jq -r '[.signatures[].integrity] | map(tostring) | join(" ")' <<<"$r")"
  m=$(first "$r" modifications)
  [[ "$m" == form_filling || "$m" == signatures ]] && ok "$f: first signature: allowed changes ($m)" ||
    not_ok "$f: first signature: allowed changes" "modifications: $m"
done

# Malformed files: a verdict (a JSON report or one clear error line), never a crash or a hang.
for f in "$CORPUS"/malformed/*.pdf; do
  name=$(basename "$f")
  out=$(timeout 20 "$KYSO" --data "$WORK/no-instance" verify --offline --format json "$f" 2>"$WORK/err")
  rc=$?
  if [ "$rc" -ge 2 ]; then
    not_ok "malformed/$name: ends in a verdict" "exit $rc: $(cat "$WORK/err")"
  elif jq -e .indication <<<"$out" >/dev/null 2>&1 || grep -q "kyso: error:" "$WORK/err"; then
    ok "malformed/$name: ends in a verdict ($(jq -r '.indication // empty' <<<"$out" 2>/dev/null))"
  else
    not_ok "malformed/$name: ends in a verdict" "$out $(cat "$WORK/err")"
  fi
done
finish
