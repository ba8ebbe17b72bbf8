// Fuzz target: PKCS#10 parsing (PEM or DER), the first untrusted input of issuance.
#include <cstddef>
#include <cstdint>

#include "x509/csr.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto csr = kyso::x509::Csr::Parse(kyso::ByteSpan(data, size));
  if (csr.ok()) {
    (void)csr->subject().ToRfc4514();
    (void)csr->public_key().Fingerprint();
  }
  return 0;
}
