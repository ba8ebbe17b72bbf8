#!/usr/bin/env bash
# Installs the Debian 12 packages kyso needs to build, test and run. Idempotent: it asks apt
# only for what is missing, so a second run on a ready machine takes well under a second.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config git
  libssl-dev openssl libp11-kit-dev
  libboost-dev curl
  libsqlite3-dev sqlite3
  postgresql-15 libpq-dev
  nlohmann-json3-dev libcli11-dev libspdlog-dev libfmt-dev
  libsodium-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libqpdf-dev qpdf libxmlsec1-dev libharfbuzz-dev libfreetype-dev libpng-dev zlib1g-dev
  fonts-liberation2 fonts-dejavu-core
  poppler-utils mupdf-tools libnss3-tools jq
  nodejs
)
# `make test` also needs a browser for the portal's end-to-end tests (driven by playwright-core,
# which downloads no browser of its own); `make fuzz` clang's libFuzzer; `make bench` the load
# generators it compares with. libp11-kit-dev is there for <p11-kit/pkcs11.h> only: kyso dlopens
# PKCS#11 modules and does not link p11-kit; the tests make SoftHSM2 tokens and check them with
# OpenSC's pkcs11-tool. Node.js is Debian-repackaged 20.x, which includes npm: never
# install Debian's `npm` package beside it.
case "${1:-}" in
  --test) packages+=(chromium fonts-noto-core softhsm2 opensc xmlsec1) ;;
  --fuzz) packages+=(clang-14 libclang-rt-14-dev) ;;
  --bench) packages+=(wrk apache2-utils libpodofo-utils hyperfine time) ;;
esac

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
