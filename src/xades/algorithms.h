// Internal to xades/: the XMLDSig algorithm identifiers kyso signs and verifies with.
#pragma once

#include <xmlsec/transforms.h>

#include <optional>
#include <string>

#include "crypto/digest.h"
#include "crypto/key.h"
#include "crypto/signer.h"

namespace kyso::xades {

enum class Strength { kAccepted, kWeak };

struct SignatureAlgorithm {
  std::string uri;
  std::string name;  // "rsa-sha256"
  crypto::KeyAlgorithm key = crypto::KeyAlgorithm::kRsa;
  crypto::DigestAlgorithm digest = crypto::DigestAlgorithm::kSha256;
  bool pss = false;
  Strength strength = Strength::kAccepted;
  xmlSecTransformId transform = nullptr;  // xmlsec's; null when xmlsec 1.2 lacks it (RSA-PSS)
};

struct DigestMethod {
  std::string uri;
  std::string name;  // "SHA-256"
  Strength strength = Strength::kAccepted;
  std::optional<crypto::DigestAlgorithm> digest;  // nullopt for SHA-1 (kyso never makes one)
};

// RFC 6931 / XMLDSig 1.1 §6 identifiers; nullopt when kyso does not know the URI.
std::optional<SignatureAlgorithm> SignatureAlgorithmByUri(const std::string& uri);
std::optional<DigestMethod> DigestMethodByUri(const std::string& uri);
// For signing: the identifiers of a key and scheme.
std::optional<SignatureAlgorithm> SignatureAlgorithmFor(crypto::KeyAlgorithm key,
                                                        crypto::DigestAlgorithm digest, bool pss);
std::string DigestUri(crypto::DigestAlgorithm digest);

}  // namespace kyso::xades
