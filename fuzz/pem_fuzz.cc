// Fuzz target: x509::DerObjectsOf, the PEM-or-DER reader behind every certificate, CRL, OCSP
// and CMS input of `kyso verify` and POST /api/v1/verify (a user's file or form part).
// For every kind: an accepted input gives at least one object, and each object read back as
// DER is accepted again as exactly itself.
//
// Seed corpus (fuzz/corpus/pem_fuzz), made with openssl 3.0:
//   openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=ca
//       -keyout ca.key -out cert.pem                                               > cert.pem
//   cert.pem + `openssl pkey -in ca.key -pubout` (a block of another label)     > cert_pubkey.pem
//   openssl ca -gencrl ... (a one-entry CRL)                                       > crl.pem
//   openssl cms -sign -binary -in F -signer cert.pem -inkey ca.key -outform PEM    > cms.pem
//   head -c 300 cert.pem (no END line)                                             > truncated.pem
//   printf hello                                                                   > garbage
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "x509/pem.h"

namespace {

void Check(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "pem_fuzz: %s\n", what);
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kyso;
  for (auto kind : {x509::DerKind::kCertificate, x509::DerKind::kCrl, x509::DerKind::kOcspResponse,
                    x509::DerKind::kCms}) {
    auto objects = x509::DerObjectsOf(ByteSpan(data, size), kind);
    if (!objects.ok()) continue;
    Check(!objects->empty(), "accepted with no object");
    for (const Bytes& der : *objects) {
      auto again = x509::DerObjectsOf(der, kind);
      Check(again.ok(), "an accepted object does not read back as DER");
      Check(again->size() == 1 && again->front() == der, "DER read back differently");
    }
  }
  return 0;
}
