// Fuzz target: the CMS SignedData reader behind SignatureValueOf and
// AddUnsignedSignatureTimeStamp (a PDF's /Contents is untrusted input once signing is split
// across machines). For every input our reader accepts, adding a signature time-stamp must
// succeed, keep the signature value, and give a CMS the reader accepts again.
//
// Seed corpus (fuzz/corpus/cms_fuzz), made with openssl 3.0:
//   (ec.crt/ec.pem: self-signed P-256; rsa.crt/rsa.pem: self-signed RSA-2048; all detached)
//   openssl cms -sign -binary -outform DER -in F -signer ec.crt -inkey ec.pem -md sha256
//                                                                                > ecdsa.der
//   openssl cms -sign -binary -outform DER -in F -signer rsa.crt -inkey rsa.pem
//       -keyopt rsa_padding_mode:pss                                             > rsa_pss.der
//   openssl cms -sign ... -signer ec.crt -inkey ec.pem -signer rsa.crt -inkey rsa.pem
//       (two SignerInfos: refused)                                               > two_signers.der
//   head -c 100 ecdsa.der                                                        > truncated.der
//   printf hello                                                                 > garbage
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "x509/cms.h"

namespace {

void Check(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "cms_fuzz: %s\n", what);
    std::abort();
  }
}

// A minimal TimeStampToken shape: ContentInfo { id-signedData, [0] { SEQUENCE {} } }.
constexpr uint8_t kToken[] = {0x30, 0x0f, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7,
                              0x0d, 0x01, 0x07, 0x02, 0xa0, 0x02, 0x30, 0x00};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kyso;
  ByteSpan input(data, size);
  auto value = x509::SignatureValueOf(input);
  auto stamped = x509::AddUnsignedSignatureTimeStamp(input, kToken);
  Check(value.ok() == stamped.ok(), "reader and writer disagree");
  if (!value.ok()) return 0;
  Check(stamped->size() > size, "nothing added");
  auto again = x509::SignatureValueOf(*stamped);
  Check(again.ok(), "the stamped CMS does not read back");
  Check(*again == *value, "signature value changed");
  return 0;
}
