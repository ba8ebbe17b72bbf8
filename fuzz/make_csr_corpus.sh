#!/usr/bin/env bash
# Regenerates the seed corpus of csr_fuzz with openssl: valid requests of each key type in PEM
# and DER, plus truncated and bit-flipped variants.
set -euo pipefail
out=$(dirname "$0")/corpus/csr_fuzz
mkdir -p "$out"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
subj="/C=VN/L=Hà Nội/O=Bộ Tài chính/CN=Nguyễn Văn An/UID=CCCD:001234567890"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$tmp/k1" -utf8 -subj "$subj" \
  -addext "subjectAltName=email:an@mof.gov.vn,DNS:a.gov.vn,IP:10.0.0.1" -out "$out/p256.pem" 2>/dev/null
openssl req -new -newkey rsa:2048 -nodes -keyout "$tmp/k2" -utf8 -subj "$subj" \
  -addext "basicConstraints=critical,CA:TRUE" -out "$out/rsa2048_ca.pem" 2>/dev/null
openssl req -new -newkey ed25519 -nodes -keyout "$tmp/k3" -utf8 -subj "$subj" -out "$out/ed25519.pem" 2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes -keyout "$tmp/k4" -utf8 \
  -subj "/C=VN/CN=multi+OU=valued" -multivalue-rdn -out "$out/p384_multivalued.pem" 2>/dev/null
openssl req -in "$out/p256.pem" -outform DER -out "$out/p256.der"
head -c 100 "$out/p256.der" > "$out/p256_truncated.der"
head -c 300 "$out/p256.pem" > "$out/p256_truncated.pem"
cp "$out/p256.der" "$out/p256_flipped.der"
printf '\xff' | dd of="$out/p256_flipped.der" bs=1 seek=60 conv=notrunc 2>/dev/null
printf 'hello' > "$out/garbage"
