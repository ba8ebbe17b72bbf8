#!/usr/bin/env bash
# XML signing and verification (issue 16), one process per operation, beside xmlsec1 on the
# same files, the same RSA-2048 key and the same machine in the same run. Sizes: a 10 KB and a
# 5 MB declaration. Prints the median of N runs (milliseconds) and kyso / xmlsec1.
#   kyso sign xml   XAdES B-B enveloped (XMLDSig core + SignedProperties: one reference more
#                   than xmlsec1's plain XMLDSig template), whole document, rsa-sha256
#   kyso verify     XMLDSig core + XAdES + path and revocation (--offline, an empty CRL)
#   xmlsec1 --sign / --verify  XMLDSig core (enveloped, rsa-sha256), --verify with the chain
# Usage: bench/xml_bench.sh KYSO_BINARY [RUNS]   (a release build: cmake --preset release)
set -euo pipefail
KYSO=$(realpath "$1")
RUNS=${2:-15}
WORK=$(mktemp -d /tmp/kyso-xml-bench-XXXXXX)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
export KYSO_DATA=$WORK/data

# A CA and an RSA-2048 signer made with openssl, and an empty CRL for the offline check.
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 30 -subj "/CN=Bench CA" \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout signer.key -out signer.csr -subj "/CN=Bench signer" 2>/dev/null
printf 'keyUsage=critical,digitalSignature,nonRepudiation\n' > ext.cnf
openssl x509 -req -in signer.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 30 \
  -extfile ext.cnf -out signer.pem 2>/dev/null
openssl pkcs8 -topk8 -in signer.key -out signer.p8 -passout pass:bench -v2 aes-256-cbc
echo bench > pass.txt
mkdir -p crl && touch crl/index.txt && echo 01 > crl/crlnumber
cat > crl.cnf <<CNF
[ca]
default_ca = d
[d]
database = crl/index.txt
crlnumber = crl/crlnumber
default_md = sha256
default_crl_days = 30
CNF
openssl ca -gencrl -config crl.cnf -keyfile ca.key -cert ca.pem -out empty.crl 2>/dev/null

# make_declaration BYTES: a tax-declaration-shaped document of about BYTES bytes.
make_declaration() {
  local target=$1 i=0
  {
    echo '<?xml version="1.0" encoding="UTF-8"?>'
    echo '<HSoThueDTu><HSoKhaiThue id="body"><PLuc>'
    while [ $((i * 120)) -lt "$target" ]; do
      printf '<HHDV stt="%d"><ten>Hàng hóa dịch vụ số %d</ten><giaTri>%d</giaTri></HHDV>\n' \
        "$i" "$i" $((i * 1000))
      i=$((i + 1))
    done
    echo '</PLuc></HSoKhaiThue><CKyDTu/></HSoThueDTu>'
  }
}
template() {  # the xmlsec1 template: the same document with an empty enveloped Signature
  sed 's|<CKyDTu/>|<CKyDTu><Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><SignedInfo><CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/><SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/><Reference URI=""><Transforms><Transform Algorithm="http://www.w3.org/2000/09/xmldsig\#enveloped-signature"/><Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></Transforms><DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><DigestValue/></Reference></SignedInfo><SignatureValue/><KeyInfo><X509Data/></KeyInfo></Signature></CKyDTu>|' "$1"
}

# median_ms CMD...: the median wall time of RUNS runs of CMD, in milliseconds.
median_ms() {
  local times=() start end
  for _ in $(seq 1 "$RUNS"); do
    start=$(date +%s%N)
    "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; exit 1; }
    end=$(date +%s%N)
    times+=($(((end - start) / 1000)))
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.1f", a[int((NR+1)/2)]/1000}'
}

printf '%-8s %-7s %10s %10s %8s\n' size op kyso_ms xmlsec1_ms ratio
for size in 10240 5242880; do
  make_declaration "$size" > doc.xml
  template doc.xml > tmpl.xml
  label=$( [ "$size" -lt 1048576 ] && echo "10 KB" || echo "5 MB")
  k=$(median_ms "$KYSO" sign xml doc.xml kyso.xml --key signer.p8 --key-passphrase-file pass.txt \
        --cert signer.pem)
  x=$(median_ms xmlsec1 --sign --privkey-pem signer.key,signer.pem --output xmlsec.xml tmpl.xml)
  printf '%-8s %-7s %10s %10s %8s\n' "$label" sign "$k" "$x" "$(awk -v a="$k" -v b="$x" 'BEGIN{printf "%.2f", a/b}')"
  k=$(median_ms "$KYSO" verify --offline --trust ca.pem --crl empty.crl kyso.xml)
  x=$(median_ms xmlsec1 --verify --trusted-pem ca.pem xmlsec.xml)
  printf '%-8s %-7s %10s %10s %8s\n' "$label" verify "$k" "$x" "$(awk -v a="$k" -v b="$x" 'BEGIN{printf "%.2f", a/b}')"
done
