// Fuzz target: the verification side of CMS (x509/cms_verify.h). A signature in a received
// document is untrusted input: parsing it, verifying it against a digest and reading a
// time-stamp token from it must end in a value or an error, never a crash.
// Seed corpus: fuzz/corpus/cms_verify_fuzz (the cms_fuzz seeds: openssl cms -sign outputs,
// two signers, truncated, garbage).
#include <cstddef>
#include <cstdint>

#include "x509/cms_verify.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kyso;
  ByteSpan input(data, size);
  auto signed_data = x509::SignedData::Parse(input);
  if (signed_data.ok()) {
    Bytes digest(32, 0);
    (void)signed_data->Verify(digest);
    if (signed_data->info().signature_timestamp) {
      (void)x509::InspectTimeStampToken(*signed_data->info().signature_timestamp);
    }
  }
  auto token = x509::InspectTimeStampToken(input);
  if (token.ok()) (void)x509::TimeStampCovers(*token, input);
  return 0;
}
