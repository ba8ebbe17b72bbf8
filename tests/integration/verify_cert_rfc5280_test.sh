#!/usr/bin/env bash
# `kyso verify cert` against RFC 5280 §6 (certificate policies) and §6.3 (CRLs: delta, indirect,
# cRLIssuer, reason partitions, a separate CRL-signing key), key-rollover certificates, a
# non-critical basicConstraints in a CA, and PEM/DER inputs (issue 18). Every certificate and
# CRL is made here by the OpenSSL command-line tools (req, x509, ca -gencrl, asn1parse
# -genconf), never by kyso. Each case asserts the exact indication and finding id; the names
# start with the class ("policy:", "delta:", ...) so that a run can be counted by class.
#
#   verify_cert_rfc5280_test.sh KYSO      (KEEP_WORKDIR=1 keeps the files made)
set -u
. "$(dirname "$0")/lib.sh"
KYSO=$(realpath "$1")
W=$(mktemp -d)
SERVER_PID=""
cleanup() {
  [ -n "$SERVER_PID" ] && kill -TERM "$SERVER_PID" 2>/dev/null
  [ -n "${KEEP_WORKDIR:-}" ] && echo "work dir: $W" || rm -rf "$W"
}
trap cleanup EXIT
cd "$W" || exit 1

P1=2.16.704.1.99.1.1  # config/profiles.json policy OIDs
P2=2.16.704.1.99.1.2

# The extensions of every certificate made below, one section each; CA and LEAF are what they
# all start with.
CA="basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always"
LEAF="basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,nonRepudiation
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always"
cat >ext.cnf <<EOF
[root]
$CA

[ca]
$CA

[ca_bc_not_critical]
basicConstraints = CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[leaf]
$LEAF

[leaf_p1]
$LEAF
certificatePolicies = $P1

[leaf_p2]
$LEAF
certificatePolicies = $P2

[ca_p1_require]
$CA
certificatePolicies = $P1
policyConstraints = requireExplicitPolicy:0

[ca_p1]
$CA
certificatePolicies = $P1

[ca_map_p1_p2]
$CA
certificatePolicies = $P1
policyMappings = $P1:$P2
policyConstraints = requireExplicitPolicy:0

[ca_any_inhibit_map]
$CA
certificatePolicies = anyPolicy
policyConstraints = requireExplicitPolicy:0,inhibitPolicyMapping:0

[ca_any_require]
$CA
certificatePolicies = anyPolicy
policyConstraints = requireExplicitPolicy:0

[ca_any_require_inhibit_any]
$CA
certificatePolicies = anyPolicy
policyConstraints = requireExplicitPolicy:0
inhibitAnyPolicy = 0

[ca_any]
$CA
certificatePolicies = anyPolicy

[crl_signer]
keyUsage = critical,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[leaf_cdp_crlissuer]
$LEAF
crlDistributionPoints = cdp_crlissuer

[cdp_crlissuer]
fullname = URI:http://crl.example.invalid/indirect.crl
CRLissuer = dirName:crl_issuer_dn

[crl_issuer_dn]
C = VN
CN = Indirect CRL Issuer
EOF

{ printf '[req]\ndistinguished_name = dn\n[dn]\n'; cat ext.cnf; } >req.cnf

# key NAME: an EC P-256 key in NAME.key.
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key" 2>/dev/null; }

# root NAME CN [KEY]: a self-signed root in NAME.pem (its key: KEY.key, default NAME.key).
root() {
  local k=${3:-$1}
  [ -f "$k.key" ] || key "$k"
  openssl req -new -x509 -key "$k.key" -subj "/C=VN/CN=$2" -days 365 \
    -set_serial "0x$(openssl rand -hex 8)" -config req.cnf -extensions root -out "$1.pem"
}

# cert NAME SUBJECT_CN ISSUER SECTION [KEY]: NAME.pem issued by ISSUER (ISSUER.pem and the key
# ISSUER_KEY, default ISSUER.key) with ext.cnf's SECTION.
cert() {
  local k=${5:-$1} issuer_key=${ISSUER_KEY:-$3}
  [ -f "$k.key" ] || key "$k"
  openssl req -new -key "$k.key" -subj "/C=VN/CN=$2" -out "$1.csr" 2>/dev/null
  openssl x509 -req -in "$1.csr" -CA "$3.pem" -CAkey "$issuer_key.key" \
    -set_serial "0x$(openssl rand -hex 8)" -days 300 -extfile ext.cnf -extensions "$4" \
    -out "$1.pem" 2>/dev/null
}

# crl OUT ISSUER NUMBER [CRL_EXTENSIONS_TEXT] [REVOKE_PEM REASON]...: OUT.pem and OUT.der, a
# CRL by `openssl ca -gencrl` with ISSUER.pem and ISSUER_KEY (default ISSUER.key), number
# NUMBER, the given crl_extensions lines, and each REVOKE_PEM revoked with REASON.
crl() {
  local out=$1 issuer=$2 number=$3 exts=${4:-} issuer_key=${ISSUER_KEY:-$2}
  shift 4 2>/dev/null || shift $#
  mkdir -p "db.$out"
  : >"db.$out/index.txt"
  printf '%02X\n' "$number" >"db.$out/crlnumber"
  cat >"db.$out/ca.cnf" <<EOF
[ca]
default_ca = this
[this]
database = $W/db.$out/index.txt
crlnumber = $W/db.$out/crlnumber
default_md = sha256
default_crl_days = 30
crl_extensions = crl_ext
[crl_ext]
authorityKeyIdentifier = keyid:always
$exts
EOF
  while [ $# -ge 2 ]; do
    openssl ca -config "db.$out/ca.cnf" -cert "$issuer.pem" -keyfile "$issuer_key.key" \
      -revoke "$1" -crl_reason "$2" 2>/dev/null
    shift 2
  done
  openssl ca -config "db.$out/ca.cnf" -gencrl -cert "$issuer.pem" -keyfile "$issuer_key.key" \
    -out "$out.pem" 2>/dev/null
  openssl crl -in "$out.pem" -outform DER -out "$out.der"
}

# verify NAME EXPECTED_INDICATION FINDING_ID|- [--policies LIST] -- KYSO_ARGS...: runs
# `kyso verify cert KYSO_ARGS --offline --format json` and checks the indication, that the
# finding id (unless -) is among the signature's findings, and with --policies that the valid
# policy set is LIST (comma-separated, "" for none).
verify() {
  local name=$1 want=$2 finding=$3 policies=unset
  shift 3
  if [ "$1" = "--policies" ]; then policies=$2; shift 2; fi
  [ "$1" = "--" ] && shift
  local json
  json=$("$KYSO" verify cert "$@" --offline --format json 2>&1)
  local got ids got_policies
  got=$(printf '%s' "$json" | jq -r '.indication' 2>/dev/null)
  ids=$(printf '%s' "$json" | jq -r '[.signatures[0].findings[].id] | join(" ")' 2>/dev/null)
  got_policies=$(printf '%s' "$json" | jq -r '.signatures[0].valid_policies // [] | join(",")' \
    2>/dev/null)
  if [ "$got" != "$want" ]; then
    not_ok "$name" "expected $want, got '$got' (findings: $ids)" "$(printf '%s' "$json" | head -c 600)"
  elif [ "$finding" != "-" ] && [[ " $ids " != *" $finding "* ]]; then
    not_ok "$name" "expected finding $finding, got: $ids"
  elif [ "$policies" != unset ] && [ "$policies" != "$got_policies" ]; then
    not_ok "$name" "expected valid policies '$policies', got '$got_policies'"
  else
    ok "$name"
  fi
}

# --- the hierarchy most cases share: root R ---
root R "Root R"
crl R.crl R 1 ""

# =============== certificate policies (§6.1.2-§6.1.5) ===============
# requireExplicitPolicy:0 in the CA that asserts P1; the leaf asserts P2.
cert CAreq "CA require P1" R ca_p1_require
crl CAreq.crl CAreq 1 ""
cert LeafP2req "Leaf P2" CAreq leaf_p2
cert LeafP1req "Leaf P1" CAreq leaf_p1
verify "policy: requireExplicitPolicy, leaf asserts another policy -> INDETERMINATE" \
  INDETERMINATE certificate.policy -- LeafP2req.pem --trust R.pem --untrusted CAreq.pem \
  --crl R.crl.der --crl CAreq.crl.der
verify "policy: requireExplicitPolicy, leaf asserts the CA's policy -> VALID {P1}" \
  VALID - --policies "$P1" -- LeafP1req.pem --trust R.pem --untrusted CAreq.pem \
  --crl R.crl.der --crl CAreq.crl.der

# policyMappings P1 -> P2 with requireExplicitPolicy: the leaf's P2 is P1 in the CA's domain.
cert CAmap "CA map" R ca_map_p1_p2
crl CAmap.crl CAmap 1 ""
cert LeafP2map "Leaf mapped" CAmap leaf_p2
verify "policy: policyMappings P1->P2 followed -> VALID {P1}" \
  VALID - --policies "$P1" -- LeafP2map.pem --trust R.pem --untrusted CAmap.pem \
  --crl R.crl.der --crl CAmap.crl.der
verify "policy: --inhibit-policy-mapping forbids the mapping -> INDETERMINATE" \
  INDETERMINATE certificate.policy -- LeafP2map.pem --trust R.pem --untrusted CAmap.pem \
  --crl R.crl.der --crl CAmap.crl.der --inhibit-policy-mapping
# inhibitPolicyMapping:0 in a CA above the mapping CA.
cert CAinhmap "CA inhibit mapping" R ca_any_inhibit_map
crl CAinhmap.crl CAinhmap 1 ""
cert CAmap2 "CA map 2" CAinhmap ca_map_p1_p2
crl CAmap2.crl CAmap2 1 ""
cert LeafP2map2 "Leaf mapped 2" CAmap2 leaf_p2
verify "policy: inhibitPolicyMapping:0 above a policyMappings CA -> INDETERMINATE" \
  INDETERMINATE certificate.policy -- LeafP2map2.pem --trust R.pem \
  --untrusted CAinhmap.pem --untrusted CAmap2.pem \
  --crl R.crl.der --crl CAinhmap.crl.der --crl CAmap2.crl.der

# inhibitAnyPolicy:0 in the upper CA: the lower CA's anyPolicy no longer counts.
cert CAinhany "CA inhibit any" R ca_any_require_inhibit_any
crl CAinhany.crl CAinhany 1 ""
cert CAany "CA any" CAinhany ca_any
crl CAany.crl CAany 1 ""
cert LeafP1any "Leaf under any" CAany leaf_p1
verify "policy: inhibitAnyPolicy:0 above an anyPolicy CA -> INDETERMINATE" \
  INDETERMINATE certificate.policy -- LeafP1any.pem --trust R.pem \
  --untrusted CAinhany.pem --untrusted CAany.pem \
  --crl R.crl.der --crl CAinhany.crl.der --crl CAany.crl.der
cert CAreqany "CA require any" R ca_any_require
crl CAreqany.crl CAreqany 1 ""
cert CAany2 "CA any 2" CAreqany ca_any
crl CAany2.crl CAany2 1 ""
cert LeafP1any2 "Leaf under any 2" CAany2 leaf_p1
verify "policy: anyPolicy CAs under requireExplicitPolicy -> VALID {P1}" \
  VALID - --policies "$P1" -- LeafP1any2.pem --trust R.pem \
  --untrusted CAreqany.pem --untrusted CAany2.pem \
  --crl R.crl.der --crl CAreqany.crl.der --crl CAany2.crl.der
verify "policy: --inhibit-any-policy on the same path -> INDETERMINATE" \
  INDETERMINATE certificate.policy -- LeafP1any2.pem --trust R.pem \
  --untrusted CAreqany.pem --untrusted CAany2.pem \
  --crl R.crl.der --crl CAreqany.crl.der --crl CAany2.crl.der --inhibit-any-policy

# The caller's user-initial-policy-set (--policy) on a path without constraints.
cert CAp1 "CA P1" R ca_p1
crl CAp1.crl CAp1 1 ""
cert LeafP1 "Leaf P1 plain" CAp1 leaf_p1
verify "policy: --policy P1 -> VALID {P1}" \
  VALID - --policies "$P1" -- LeafP1.pem --trust R.pem --untrusted CAp1.pem \
  --crl R.crl.der --crl CAp1.crl.der --policy "$P1"
verify "policy: --policy P2 --explicit-policy -> INDETERMINATE" \
  INDETERMINATE certificate.policy -- LeafP1.pem --trust R.pem --untrusted CAp1.pem \
  --crl R.crl.der --crl CAp1.crl.der --policy "$P2" --explicit-policy
verify "policy: --policy P2 without --explicit-policy -> VALID, no valid policy" \
  VALID - --policies "" -- LeafP1.pem --trust R.pem --untrusted CAp1.pem \
  --crl R.crl.der --crl CAp1.crl.der --policy "$P2"

# =============== delta CRLs (§5.2.4, §6.3.3) ===============
cert LeafD "Leaf delta" R leaf
FRESHEST="freshestCRL = URI:http://crl.example.invalid/delta.crl"
crl D.full1 R 1 "$FRESHEST"
crl D.delta2 R 2 "deltaCRL = critical,ASN1:INTEGER:1" LeafD.pem keyCompromise
crl D.delta2empty R 2 "deltaCRL = critical,ASN1:INTEGER:1"
crl D.delta3base2 R 3 "deltaCRL = critical,ASN1:INTEGER:2" 
verify "delta: revoked in the delta CRL on top of its base -> INVALID" \
  INVALID revocation.revoked -- LeafD.pem --trust R.pem --crl D.full1.der --crl D.delta2.der
verify "delta: revoked in a delta CRL on a complete CRL without freshestCRL -> INVALID" \
  INVALID revocation.revoked -- LeafD.pem --trust R.pem --crl R.crl.der --crl D.delta2.der
verify "delta: base and a delta that does not list it -> VALID" \
  VALID - -- LeafD.pem --trust R.pem --crl D.full1.der --crl D.delta2empty.der
verify "delta: a delta CRL without its base -> INDETERMINATE" \
  INDETERMINATE revocation.crl_delta_base_missing -- LeafD.pem --trust R.pem \
  --crl D.delta2empty.der
verify "delta: a delta CRL whose base is newer than the complete CRL -> INDETERMINATE" \
  INDETERMINATE revocation.crl_delta_base_missing -- LeafD.pem --trust R.pem \
  --crl D.full1.der --crl D.delta3base2.der

# =============== indirect CRLs and cRLIssuer (§5.2.5, §5.3.3, §4.2.1.13) ===============
# R -> CAi -> leaf whose distribution point names an indirect CRL issuer (issued by R). CAi's
# own CRL is not given: only the indirect CRL can cover the leaf.
cert CAi "CA indirect" R ca
cert CRLI "Indirect CRL Issuer" R crl_signer
IDP="issuingDistributionPoint = critical,@idp
[idp]
fullname = URI:http://crl.example.invalid/indirect.crl
indirectCRL = TRUE"
cert LeafI "Leaf indirect" CAi leaf_cdp_crlissuer
cert LeafI2 "Leaf indirect 2" CAi leaf_cdp_crlissuer
crl I.crl CRLI 1 "$IDP"
verify "crlissuer: the indirect CRL named by cRLIssuer covers the leaf -> VALID" \
  VALID - -- LeafI.pem --trust R.pem --untrusted CAi.pem --untrusted CRLI.pem \
  --crl R.crl.der --crl I.crl.der
verify "crlissuer: the CRL issuer's certificate is not given -> INDETERMINATE" \
  INDETERMINATE revocation.unknown -- LeafI.pem --trust R.pem --untrusted CAi.pem \
  --crl R.crl.der --crl I.crl.der
IDP_DIRECT="issuingDistributionPoint = critical,@idp
[idp]
fullname = URI:http://crl.example.invalid/indirect.crl"
crl Inot.crl CRLI 1 "$IDP_DIRECT"
verify "crlissuer: a CRL from another issuer without indirectCRL -> INDETERMINATE" \
  INDETERMINATE revocation.unknown -- LeafI.pem --trust R.pem --untrusted CAi.pem \
  --untrusted CRLI.pem --crl R.crl.der --crl Inot.crl.der

# An indirect CRL entry with certificateIssuer (§5.3.3): `openssl ca` cannot write one, so the
# TBSCertList is written with `openssl asn1parse -genconf` and signed with `openssl dgst`; the
# few DER wrappers genconf cannot express are written as hex here.
hexlen() {
  local n=$((${#1} / 2))
  if [ $n -lt 128 ]; then printf '%02x' $n
  elif [ $n -lt 256 ]; then printf '81%02x' $n
  else printf '82%04x' $n; fi
}
tlv() { printf '%s%s%s' "$1" "$(hexlen "$2")" "$2"; }
leaf_serial=$(openssl x509 -in LeafI.pem -noout -serial | cut -d= -f2)
crli_ski=$(openssl x509 -in CRLI.pem -noout -ext subjectKeyIdentifier | tail -1 | tr -d ' :')
uri_hex=$(printf '%s' http://crl.example.invalid/indirect.crl | xxd -p | tr -d '\n')
# IssuingDistributionPoint { distributionPoint [0] { fullName [0] { uri [6] } },
# indirectCRL [4] TRUE }
idp_hex=$(tlv 30 "$(tlv a0 "$(tlv a0 "$(tlv 86 "$uri_hex")")")8401ff")
now=$(date -u -d '-1 minute' +%y%m%d%H%M%SZ)
next=$(date -u -d '+30 days' +%y%m%d%H%M%SZ)
cat >tbs.cnf <<EOF
asn1 = SEQUENCE:tbs
[tbs]
version = INTEGER:1
sigalg = SEQUENCE:ecdsa_sha256
issuer = SEQUENCE:crli_name
this_update = UTCTIME:$now
next_update = UTCTIME:$next
revoked = SEQUENCE:revoked
extensions = EXPLICIT:0,SEQUENCE:crl_exts
[ecdsa_sha256]
oid = OID:1.2.840.10045.4.3.2
[crli_name]
c = SET:c_rdn
cn = SET:crli_cn_rdn
[c_rdn]
attr = SEQUENCE:c_attr
[c_attr]
type = OID:2.5.4.6
value = PRINTABLESTRING:VN
[crli_cn_rdn]
attr = SEQUENCE:crli_cn_attr
[crli_cn_attr]
type = OID:2.5.4.3
value = UTF8:Indirect CRL Issuer
[cai_name]
c = SET:c_rdn
cn = SET:cai_cn_rdn
[cai_cn_rdn]
attr = SEQUENCE:cai_cn_attr
[cai_cn_attr]
type = OID:2.5.4.3
value = UTF8:CA indirect
[revoked]
entry = SEQUENCE:entry
[entry]
serial = INTEGER:0x$leaf_serial
date = UTCTIME:$now
exts = SEQUENCE:entry_exts
[entry_exts]
reason = SEQUENCE:reason_ext
issuer = SEQUENCE:cert_issuer_ext
[reason_ext]
oid = OID:2.5.29.21
value = OCTWRAP,ENUMERATED:1
[cert_issuer_ext]
oid = OID:2.5.29.29
critical = BOOLEAN:TRUE
value = OCTWRAP,SEQUENCE:general_names
[general_names]
dirname = EXPLICIT:4,SEQUENCE:cai_name
[crl_exts]
aki = SEQUENCE:aki_ext
number = SEQUENCE:number_ext
idp = SEQUENCE:idp_ext
[aki_ext]
oid = OID:2.5.29.35
value = OCTWRAP,SEQUENCE:aki
[aki]
keyid = IMPLICIT:0,FORMAT:HEX,OCTETSTRING:$crli_ski
[number_ext]
oid = OID:2.5.29.20
value = OCTWRAP,INTEGER:2
[idp_ext]
oid = OID:2.5.29.28
critical = BOOLEAN:TRUE
value = FORMAT:HEX,OCTETSTRING:$idp_hex
EOF
if openssl asn1parse -genconf tbs.cnf -out tbs.der -noout >/dev/null 2>&1 &&
  openssl dgst -sha256 -sign CRLI.key -out tbs.sig tbs.der; then
  # CertificateList { tbsCertList, signatureAlgorithm, signatureValue BIT STRING }
  tlv 30 "$(xxd -p tbs.der | tr -d '\n')300a06082a8648ce3d040302$(tlv 03 "00$(xxd -p tbs.sig | tr -d '\n')")" |
    xxd -r -p >Irev.crl.der
fi
if openssl crl -inform DER -in Irev.crl.der -noout -CAfile CRLI.pem 2>&1 | grep -q "verify OK"; then
  verify "indirect: revoked through certificateIssuer in an indirect CRL -> INVALID" \
    INVALID revocation.revoked -- LeafI.pem --trust R.pem --untrusted CAi.pem \
    --untrusted CRLI.pem --crl R.crl.der --crl Irev.crl.der
  verify "indirect: the same indirect CRL for another certificate of that CA -> VALID" \
    VALID - -- LeafI2.pem --trust R.pem --untrusted CAi.pem \
    --untrusted CRLI.pem --crl R.crl.der --crl Irev.crl.der
else
  not_ok "indirect: could not make the indirect CRL with openssl asn1parse"
fi

# =============== CRLs partitioned by reason (onlySomeReasons, §6.3.3(d)) ===============
cert LeafR "Leaf reasons" R leaf
cert LeafRk "Leaf reasons revoked" R leaf
PART_A="issuingDistributionPoint = critical,@idp
[idp]
onlysomereasons = keyCompromise,CACompromise"
PART_B="issuingDistributionPoint = critical,@idp
[idp]
onlysomereasons = affiliationChanged,superseded,cessationOfOperation,certificateHold,privilegeWithdrawn,AACompromise"
crl Ra.crl R 2 "$PART_A" LeafRk.pem keyCompromise
crl Rb.crl R 3 "$PART_B"
verify "reasons: both partitions cover every reason -> VALID" \
  VALID - -- LeafR.pem --trust R.pem --crl Ra.crl.der --crl Rb.crl.der
verify "reasons: one partition only -> INDETERMINATE" \
  INDETERMINATE revocation.crl_missing -- LeafR.pem --trust R.pem --crl Ra.crl.der
verify "reasons: revoked for keyCompromise in its partition -> INVALID" \
  INVALID revocation.revoked -- LeafRk.pem --trust R.pem --crl Ra.crl.der --crl Rb.crl.der

# =============== a CRL signed with another key of the same CA (§6.3.3(f)) ===============
cert CAs "CA split" R ca
cert CAsCrl "CA split" R crl_signer CAsCrlKey  # same name, its own CRL-signing key
cert LeafS "Leaf split" CAs leaf
cert LeafSk "Leaf split revoked" CAs leaf
ISSUER_KEY=CAsCrlKey crl S.crl CAsCrl 1 "" LeafSk.pem keyCompromise
verify "crlkey: CRL signed by the CA's separate CRL-signing key -> VALID" \
  VALID - -- LeafS.pem --trust R.pem --untrusted CAs.pem --untrusted CAsCrl.pem \
  --crl R.crl.der --crl S.crl.der
verify "crlkey: revoked in that CRL -> INVALID" \
  INVALID revocation.revoked -- LeafSk.pem --trust R.pem --untrusted CAs.pem \
  --untrusted CAsCrl.pem --crl R.crl.der --crl S.crl.der
verify "crlkey: the CRL-signing certificate not given -> INDETERMINATE" \
  INDETERMINATE revocation.unknown -- LeafS.pem --trust R.pem --untrusted CAs.pem \
  --crl R.crl.der --crl S.crl.der

# =============== self-issued key-rollover certificates ===============
root Old "Root Rollover" OldKey
root New "Root Rollover" NewKey
ISSUER_KEY=OldKey cert NewWithOld "Root Rollover" Old ca NewKey
ISSUER_KEY=NewKey cert OldWithNew "Root Rollover" New ca OldKey
ISSUER_KEY=NewKey cert LeafNew "Leaf under new key" New leaf
ISSUER_KEY=OldKey cert LeafOld "Leaf under old key" Old leaf
ISSUER_KEY=OldKey crl Old.crl Old 1 ""
ISSUER_KEY=NewKey crl New.crl New 1 ""
verify "rollover: new-key leaf, old root trusted, new-with-old link -> VALID" \
  VALID - -- LeafNew.pem --trust Old.pem --untrusted NewWithOld.pem \
  --crl Old.crl.der --crl New.crl.der
verify "rollover: old-key leaf, new root trusted, old-with-new link -> VALID" \
  VALID - -- LeafOld.pem --trust New.pem --untrusted OldWithNew.pem \
  --crl Old.crl.der --crl New.crl.der
verify "rollover: new-key leaf, old root trusted, no link -> INDETERMINATE" \
  INDETERMINATE certificate.untrusted -- LeafNew.pem --trust Old.pem \
  --crl Old.crl.der --crl New.crl.der

# =============== basicConstraints present but not critical in a CA ===============
cert CAnc "CA bc not critical" R ca_bc_not_critical
crl CAnc.crl CAnc 1 ""
cert LeafNc "Leaf under bc not critical" CAnc leaf
verify "bcons: a CA whose basicConstraints is not critical -> VALID" \
  VALID - -- LeafNc.pem --trust R.pem --untrusted CAnc.pem --crl R.crl.der --crl CAnc.crl.der

# =============== PEM and DER inputs ===============
for f in LeafP1req CAreq R; do openssl x509 -in $f.pem -outform DER -out $f.der; done
at=$(date +%s)
report() { "$KYSO" verify cert "$@" --at "$at" --offline --format json 2>&1 | jq 'del(.file, .verified_at)'; }
pem_report=$(report LeafP1req.pem --trust R.pem --untrusted CAreq.pem --crl R.crl.pem \
  --crl CAreq.crl.pem)
der_report=$(report LeafP1req.der --trust R.der --untrusted CAreq.der --crl R.crl.der \
  --crl CAreq.crl.der)
expect_eq "pem: PEM and DER inputs give identical reports" "$der_report" "${pem_report:-(empty)}"
expect_contains "pem: the PEM report is VALID" '"indication": "VALID"' "$pem_report"
# Repeatable options take one value each: the certificate may follow them.
reordered_report=$(report --trust R.pem --untrusted CAreq.pem --crl R.crl.pem \
  --crl CAreq.crl.pem LeafP1req.pem)
expect_eq "options: the file after --trust/--crl is the certificate, not another anchor" \
  "$pem_report" "${reordered_report:-(empty)}"
cat D.full1.pem D.delta2.pem >D.both.pem
verify "pem: a PEM file with a complete and a delta CRL -> INVALID" \
  INVALID revocation.revoked -- LeafD.pem --trust R.pem --crl D.both.pem
echo "not a CRL" >junk.crl
head -c 200 R.crl.der >truncated.crl
expect_failure "pem: an unreadable --crl is crl.malformed" crl.malformed \
  "$KYSO" verify cert LeafD.pem --trust R.pem --crl junk.crl --offline
expect_failure "pem: a truncated DER --crl is crl.malformed" crl.malformed \
  "$KYSO" verify cert LeafD.pem --trust R.pem --crl truncated.crl --offline
expect_failure "pem: a certificate given as --crl is crl.malformed" crl.malformed \
  "$KYSO" verify cert LeafD.pem --trust R.pem --crl R.pem --offline
expect_failure "pem: an unreadable --untrusted is cert.malformed" cert.malformed \
  "$KYSO" verify cert LeafD.pem --trust R.pem --untrusted junk.crl --offline
expect_failure "pem: an unreadable --ocsp is ocsp.malformed_response" ocsp.malformed_response \
  "$KYSO" verify cert LeafD.pem --trust R.pem --ocsp junk.crl --offline

# =============== the same over HTTP: POST /api/v1/verify ===============
# The route's trust anchors are the instance's, so the CMS signed here by LeafP1req is not
# trusted: these cases check that the inputs are read (PEM and DER alike, or a 400), not the
# verdict.
export KYSO_DATA=$W/data
unset KYSO_PASSPHRASE_FILE
for _ in $(seq 1 50); do
  PORT=$((20000 + RANDOM % 40000))
  (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null || break
done
URL=http://127.0.0.1:$PORT
echo '{"pbkdf2_iterations": 2000, "root": {"key": "ec:P-256"}, "issuing": {"key": "ec:P-256"}}' \
  >fast.json
"$KYSO" init --demo --no-demo-data --config fast.json --base-url "$URL" >/dev/null 2>&1
"$KYSO" --json serve --listen "127.0.0.1:$PORT" --access-log off >server.json 2>server.err &
SERVER_PID=$!
for _ in $(seq 1 200); do grep -q '"port"' server.json 2>/dev/null && break; sleep 0.1; done
echo "Công văn số 18" >payload.txt
openssl cms -sign -binary -nodetach -in payload.txt -signer LeafP1req.pem -inkey LeafP1req.key \
  -certfile CAreq.pem -outform DER -out sig.p7m
openssl cms -cmsout -inform DER -in sig.p7m -outform PEM -out sig.p7m.pem
printf -- '-----BEGIN CMS-----\nAAAA\n-----END CMS-----\n' >broken.p7m
cms_report() {
  "$KYSO" verify "$1" --trust R.pem --crl R.crl.pem --crl CAreq.crl.der --at "$at" --offline \
    --format json 2>&1 | jq -e 'del(.file, .verified_at)' 2>/dev/null || echo '(no report)'
}
der_report=$(cms_report sig.p7m)
expect_contains "cms: kyso verify reads a DER CMS signature" '"indication": "VALID"' "$der_report"
expect_eq "cms: PEM and DER CMS signatures give identical reports" "$der_report" \
  "$(cms_report sig.p7m.pem)"
expect_failure "cms: a broken PEM CMS is cms.malformed" cms.malformed \
  "$KYSO" verify broken.p7m --trust R.pem --offline
post() { curl -s -w '\n%{http_code}' "$URL/api/v1/verify" "$@"; }
body() { printf '%s' "$1" | sed '$d' | jq -e 'del(.file, .verified_at)' 2>/dev/null || echo '(no report)'; }
code() { printf '%s' "$1" | tail -1; }
der_answer=$(post -F file=@sig.p7m -F crl=@R.crl.der -F "policy=$P1" -F explicit_policy=true)
pem_answer=$(post -F file=@sig.p7m.pem -F crl=@R.crl.pem -F "policy=$P1" -F explicit_policy=true)
expect_eq "api: a DER CMS with policy fields and a DER CRL is read (200)" 200 "$(code "$der_answer")"
expect_eq "api: PEM and DER inputs give identical reports" "$(body "$der_answer")" \
  "$(body "$pem_answer")"
answer=$(post -F file=@sig.p7m -F crl=@junk.crl)
expect_eq "api: an unreadable crl part is a 400 crl.malformed" "400 crl.malformed" \
  "$(code "$answer") $(printf '%s' "$answer" | sed '$d' | jq -r .error.code)"
answer=$(post -F file=@sig.p7m -F explicit_policy=perhaps)
expect_eq "api: a policy flag that is not true/false is a 400 verify.bad_option" \
  "400 verify.bad_option" "$(code "$answer") $(printf '%s' "$answer" | sed '$d' | jq -r .error.code)"
answer=$(post -F file=@broken.p7m)
expect_eq "api: a broken PEM CMS is a 400 cms.malformed" "400 cms.malformed" \
  "$(code "$answer") $(printf '%s' "$answer" | sed '$d' | jq -r .error.code)"
kill -TERM "$SERVER_PID" 2>/dev/null
wait "$SERVER_PID" 2>/dev/null
SERVER_PID=""

finish
