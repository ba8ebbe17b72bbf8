#!/usr/bin/env bash
# The xmlsec project's XMLDSig vectors (../shared/corpora/xmldsig, read in place; see its README
# and cases.json) through `kyso verify`.
#
# kyso claims a case when it is within its profile: the signing key comes with its X.509
# certificate in KeyInfo (kyso judges signers by certificate, not by bare KeyValue, KeyName
# or HMAC secrets), every algorithm is one kyso accepts (RSA PKCS#1 v1.5 and PSS, ECDSA, SHA-2;
# the C14N family, enveloped signature, XPath, XPath Filter 2.0, base64), no reference leaves
# the document, a trust anchor is given and no option skips the time checks. On a claimed case
# kyso must give the expected result: an expected-invalid case is never VALID; an
# expected-valid case has its signature intact (XMLDSig core) and is VALID, or INDETERMINATE
# for one of two reasons only, both stricter than xmlsec's test run and both counted below:
#   TRY_LATER                 no revocation data (the corpus ships no OCSP, most cases no CRL);
#   certificate.key_usage     the test CAs carry no keyUsage, which RFC 5280 §4.2.1.3 requires
#                             of a CA (OpenSSL's X509_V_ERR_CA_CERT_MISSING_KEY_USAGE); upstream
#                             runs every case with --X509-skip-strict-checks, kyso never relaxes.
# Every other case kyso must not call VALID (it says why: algorithm.sha1,
# algorithm.unsupported, xml.no_certificate, xml.external_reference, ...).
# Usage: xmldsig_test.sh KYSO_BINARY CORPORA_DIR
KYSO=$(realpath "$1")
CORPUS=${KYSO_CORPORA_DIR:-$2}/xmldsig
source "$(dirname "$0")/../integration/lib.sh"
if [ ! -f "$CORPUS/cases.json" ] || ! command -v jq >/dev/null; then
  not_ok "prerequisites" "corpus $CORPUS/cases.json and jq"; finish; exit 1
fi
WORK=$(mktemp -d /tmp/kyso-xmldsig-XXXXXX)
trap 'rm -rf "$WORK"' EXIT
export KYSO_DATA=$WORK/no-instance  # no local trust anchors: only what a case gives

ACCEPTED='["c14n","c14n-with-comments","c14n11","c14n11-with-comments","exc-c14n",
  "exc-c14n-with-comments","enveloped-signature","xpath","xpath2","base64","sha256","sha384",
  "sha512","rsa-sha256","rsa-sha384","rsa-sha512","ecdsa-sha256","ecdsa-sha384","ecdsa-sha512",
  "rsa-pss-sha256","rsa-pss-sha384","rsa-sha512","rsa-pss-sha512"]'
claimed=0 claimed_ok=0 unclaimed=0 unclaimed_ok=0 valid=0 stricter=0
declare -A by_reason
while IFS= read -r c; do
  id=$(jq -r .id <<<"$c")
  file=$(jq -r .file <<<"$c")
  expect=$(jq -r .expect <<<"$c")
  claim=$(jq -r --argjson ok "$ACCEPTED" '
    ((.key.embedded_keyinfo // []) | any(. == "X509Data(X509Certificate)")) and
    (.xml_algorithms - $ok | length == 0) and
    ((.flags | map(select(test("external-uri|local-file"))) | length) == 0) and
    ((.key.trusted_der // []) | length > 0) and
    ((.verify_options // {}) | (.insecure // false) == false and
                               (.x509_skip_time_checks // false) == false)' <<<"$c")
  args=(--format json --offline)
  while IFS= read -r f; do [ -n "$f" ] && args+=(--trust "$CORPUS/$f"); done \
    < <(jq -r '.key.trusted_der // [] | .[]' <<<"$c")
  while IFS= read -r f; do [ -n "$f" ] && args+=(--untrusted "$CORPUS/$f"); done \
    < <(jq -r '.key.untrusted_der // [] | .[]' <<<"$c")
  while IFS= read -r f; do [ -n "$f" ] && args+=(--crl "$CORPUS/$f"); done \
    < <(jq -r '.key.crl_der // [] | .[]' <<<"$c")
  at=$(jq -r '.verify_options.verification_gmt_time // empty' <<<"$c")
  [ -n "$at" ] && args+=(--at "${at/ /T}Z")
  out=$("$KYSO" verify "${args[@]}" "$CORPUS/$file" 2>/dev/null)
  got=$(jq -r '.indication + " " + .sub_indication' <<<"$out" 2>/dev/null)
  [ -z "$got" ] && got="no report"
  if [ "$claim" = true ]; then
    claimed=$((claimed + 1))
    intact=$(jq -r '[.signatures[] | .integrity] | (length > 0 and all)' <<<"$out" 2>/dev/null)
    # The error findings besides the two reasons above; empty when only they stand.
    others=$(jq -r '[.findings[], .signatures[].findings[] | select(.severity == "error") | .id
                     | select(. != "revocation.unknown" and . != "certificate.key_usage")]
                    | join(" ")' <<<"$out" 2>/dev/null)
    if [ "$expect" = valid ]; then
      if [ "$got" = "VALID " ]; then
        claimed_ok=$((claimed_ok + 1)) valid=$((valid + 1)); ok "$id: expected valid, kyso VALID"
      elif [ "$intact" = true ] && [ -z "$others" ] &&
           [[ "$got" == "INDETERMINATE TRY_LATER" || "$got" == "INDETERMINATE CERTIFICATE_CHAIN_GENERAL_FAILURE" ]]; then
        claimed_ok=$((claimed_ok + 1)) stricter=$((stricter + 1))
        ok "$id: expected valid, kyso: signature intact, $got (stricter X.509 or no revocation data)"
      else
        not_ok "$id: expected valid, kyso $got" \
          "$(jq -c '[.findings[].id, .signatures[].findings[].id]' <<<"$out" 2>/dev/null)"
      fi
    elif [[ "$got" != VALID* ]] && [ "$got" != "no report" ]; then
      claimed_ok=$((claimed_ok + 1)); ok "$id: expected invalid, kyso $got"
    else
      not_ok "$id: expected invalid, kyso $got"
    fi
  else
    unclaimed=$((unclaimed + 1))
    reason=$(jq -r '[.findings[].id, .signatures[].findings[] | select(.severity == "error") | .id]
                    | first // "none"' <<<"$out" 2>/dev/null)
    by_reason[$reason]=$((${by_reason[$reason]:-0} + 1))
    if [[ "$got" != VALID* ]] && [ "$got" != "no report" ]; then
      unclaimed_ok=$((unclaimed_ok + 1)); ok "$id: outside kyso's profile, kyso $got ($reason)"
    else
      not_ok "$id: outside kyso's profile, yet kyso says $got"
    fi
  fi
done < <(jq -c '.[]' "$CORPUS/cases.json")

echo "xmldsig: claimed $claimed cases, $claimed_ok as expected ($valid VALID, $stricter intact but" \
     "INDETERMINATE for the stricter X.509 checks or missing revocation data);" \
     "$unclaimed outside kyso's profile, $unclaimed_ok of them not VALID"
for r in "${!by_reason[@]}"; do echo "  outside the profile, first reason $r: ${by_reason[$r]}"; done
finish
