#include "xades/algorithms.h"

#include <xmlsec/crypto.h>

#include <vector>

namespace kyso::xades {

namespace {

using crypto::DigestAlgorithm;
using crypto::KeyAlgorithm;

constexpr const char* kMore = "http://www.w3.org/2001/04/xmldsig-more#";
constexpr const char* kMore2007 = "http://www.w3.org/2007/05/xmldsig-more#";

// XMLDSig 1.1 §6.4 and RFC 6931 §2.3: the SHA-1 forms are still read, to be refused by name.
const std::vector<SignatureAlgorithm>& SignatureAlgorithms() {
  static const std::vector<SignatureAlgorithm> all = [] {
    auto rsa = [](const char* uri, const char* name, DigestAlgorithm d, Strength s,
                  xmlSecTransformId t) {
      return SignatureAlgorithm{uri, name, KeyAlgorithm::kRsa, d, false, s, t};
    };
    auto ec = [](std::string uri, const char* name, DigestAlgorithm d, Strength s,
                 xmlSecTransformId t) {
      return SignatureAlgorithm{uri, name, KeyAlgorithm::kEcdsa, d, false, s, t};
    };
    auto pss = [](std::string uri, const char* name, DigestAlgorithm d) {
      return SignatureAlgorithm{uri,    name, KeyAlgorithm::kRsa, d, true, Strength::kAccepted,
                                nullptr};
    };
    std::string more = kMore, more2007 = kMore2007;
    return std::vector<SignatureAlgorithm>{
        rsa("http://www.w3.org/2000/09/xmldsig#rsa-sha1", "rsa-sha1", DigestAlgorithm::kSha256,
            Strength::kWeak, xmlSecTransformRsaSha1Id),
        rsa("http://www.w3.org/2001/04/xmldsig-more#rsa-sha256", "rsa-sha256",
            DigestAlgorithm::kSha256, Strength::kAccepted, xmlSecTransformRsaSha256Id),
        rsa("http://www.w3.org/2001/04/xmldsig-more#rsa-sha384", "rsa-sha384",
            DigestAlgorithm::kSha384, Strength::kAccepted, xmlSecTransformRsaSha384Id),
        rsa("http://www.w3.org/2001/04/xmldsig-more#rsa-sha512", "rsa-sha512",
            DigestAlgorithm::kSha512, Strength::kAccepted, xmlSecTransformRsaSha512Id),
        ec(more + "ecdsa-sha1", "ecdsa-sha1", DigestAlgorithm::kSha256, Strength::kWeak,
           xmlSecTransformEcdsaSha1Id),
        ec(more + "ecdsa-sha256", "ecdsa-sha256", DigestAlgorithm::kSha256, Strength::kAccepted,
           xmlSecTransformEcdsaSha256Id),
        ec(more + "ecdsa-sha384", "ecdsa-sha384", DigestAlgorithm::kSha384, Strength::kAccepted,
           xmlSecTransformEcdsaSha384Id),
        ec(more + "ecdsa-sha512", "ecdsa-sha512", DigestAlgorithm::kSha512, Strength::kAccepted,
           xmlSecTransformEcdsaSha512Id),
        // RFC 6931 §2.3.10 RSASSA-PSS with MGF1, salt = digest length, trailer 1.
        pss(more2007 + "sha256-rsa-MGF1", "rsa-pss-sha256", DigestAlgorithm::kSha256),
        pss(more2007 + "sha384-rsa-MGF1", "rsa-pss-sha384", DigestAlgorithm::kSha384),
        pss(more2007 + "sha512-rsa-MGF1", "rsa-pss-sha512", DigestAlgorithm::kSha512),
    };
  }();
  return all;
}

const std::vector<DigestMethod>& DigestMethods() {
  static const std::vector<DigestMethod> all = {
      {"http://www.w3.org/2000/09/xmldsig#sha1", "SHA-1", Strength::kWeak, std::nullopt},
      {"http://www.w3.org/2001/04/xmlenc#sha256", "SHA-256", Strength::kAccepted,
       DigestAlgorithm::kSha256},
      {"http://www.w3.org/2001/04/xmldsig-more#sha384", "SHA-384", Strength::kAccepted,
       DigestAlgorithm::kSha384},
      {"http://www.w3.org/2001/04/xmlenc#sha512", "SHA-512", Strength::kAccepted,
       DigestAlgorithm::kSha512},
  };
  return all;
}

}  // namespace

std::optional<SignatureAlgorithm> SignatureAlgorithmByUri(const std::string& uri) {
  for (const auto& a : SignatureAlgorithms()) {
    if (a.uri == uri) return a;
  }
  return std::nullopt;
}

std::optional<DigestMethod> DigestMethodByUri(const std::string& uri) {
  for (const auto& d : DigestMethods()) {
    if (d.uri == uri) return d;
  }
  return std::nullopt;
}

std::optional<SignatureAlgorithm> SignatureAlgorithmFor(KeyAlgorithm key, DigestAlgorithm digest,
                                                        bool pss) {
  for (const auto& a : SignatureAlgorithms()) {
    if (a.strength == Strength::kAccepted && a.key == key && a.digest == digest &&
        a.pss == (pss && key == KeyAlgorithm::kRsa)) {
      return a;
    }
  }
  return std::nullopt;
}

std::string DigestUri(DigestAlgorithm digest) {
  for (const auto& d : DigestMethods()) {
    if (d.digest == digest) return d.uri;
  }
  return "";
}

}  // namespace kyso::xades
