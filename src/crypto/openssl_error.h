// Internal to crypto/ and x509/: OpenSSL's error queue as a message, and digest lookup.
#pragma once

#include <openssl/evp.h>

#include <string>

#include "crypto/digest.h"

namespace kyso::crypto {

// Drains the OpenSSL error queue into one line ("... : reason"); "" if empty.
std::string DrainOpenSslErrors();

// OpenSSL's digest for `alg`.
const EVP_MD* EvpMd(DigestAlgorithm alg);

}  // namespace kyso::crypto
