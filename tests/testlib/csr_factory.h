// Builds PKCS#10 requests for tests with OpenSSL's X509_REQ API directly.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "crypto/key.h"

namespace kyso::testlib {

struct CsrOptions {
  // (type, UTF-8 value) in encoding order, e.g. {{"C","VN"},{"CN","Nguyễn Văn An"}}.
  std::vector<std::pair<std::string, std::string>> subject;
  std::vector<std::string> email_sans;
  std::vector<std::string> dns_sans;
  bool request_ca = false;
  bool corrupt_signature = false;      // flip one bit of the signature
  std::string critical_extension_oid;  // add an unknown critical extension
};

// PEM "CERTIFICATE REQUEST".
std::string MakeCsrPem(const crypto::PrivateKey& key, const CsrOptions& options);
std::string MakeCsrDer(const crypto::PrivateKey& key, const CsrOptions& options);

// Keys are slow to generate (RSA); tests share one per spec.
const crypto::PrivateKey& CachedKey(const std::string& spec);

}  // namespace kyso::testlib
