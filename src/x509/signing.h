// Internal to x509/: sets up an EVP_MD_CTX for a Signer and scheme, then lets an OpenSSL
// *_sign_ctx function (certificates, CRLs) do the encoding and signing.
#pragma once

#include <openssl/evp.h>

#include <functional>

#include "base/status.h"
#include "crypto/signer.h"

namespace kyso::x509::internal {

Status SignWith(const crypto::Signer& signer, const crypto::SignatureScheme& scheme,
                const std::function<bool(EVP_MD_CTX*)>& sign);

}  // namespace kyso::x509::internal
