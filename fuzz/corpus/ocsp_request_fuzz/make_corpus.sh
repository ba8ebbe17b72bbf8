#!/usr/bin/env bash
# Regenerates the seed corpus of ocsp_request_fuzz with `openssl ocsp -reqout`: requests with
# and without a nonce, one and several serials, SHA-1 and SHA-256 CertIDs, a signed request,
# plus truncated and bit-flipped variants and garbage. (This script is itself replayed as a
# garbage seed.)
set -euo pipefail
out=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$tmp/ca.key" \
  -utf8 -subj "/C=VN/O=Ban Cơ yếu Chính phủ/CN=Issuing test" -days 30 -out "$tmp/ca.pem" 2>/dev/null
req() { openssl ocsp -issuer "$tmp/ca.pem" "$@" 2>/dev/null; }
req -serial 0x0A1B2C3D -no_nonce -reqout "$out/sha1_no_nonce.der"
req -serial 0x0A1B2C3D -reqout "$out/sha1_nonce.der"
req -serial 0x7F00112233445566778899AABBCCDDEEFF001122 -no_nonce -reqout "$out/sha1_20_octet_serial.der"
req -serial 1 -serial 2 -serial 0x80 -reqout "$out/three_serials_nonce.der"
req -sha256 -serial 0x0A1B2C3D -no_nonce -reqout "$out/sha256_no_nonce.der"
req -sha512 -serial 0x0A1B2C3D -reqout "$out/sha512_nonce.der"
req -serial 0x0A1B2C3D -signer "$tmp/ca.pem" -signkey "$tmp/ca.key" -reqout "$out/signed.der"
head -c 40 "$out/sha1_nonce.der" > "$out/truncated.der"
cp "$out/sha1_no_nonce.der" "$out/flipped.der"
printf '\xff' | dd of="$out/flipped.der" bs=1 seek=20 conv=notrunc 2>/dev/null
printf '\x30\x80\x30\x80\x00\x00\x00\x00' > "$out/indefinite_length.der"
printf 'GET /ocsp HTTP/1.1\r\n\r\n' > "$out/garbage"
