// Fuzz target: OCSP request parsing (x509::OcspRequest::Parse), the untrusted input of
// POST /ocsp and GET /ocsp/{base64}. A request that parses must re-encode: its CertIDs and
// nonce go into a request of our own making, which must parse back to the same values.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "x509/ocsp.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto request = kyso::x509::OcspRequest::Parse(kyso::ByteSpan(data, size));
  if (!request.ok()) return 0;
  if (request->ids.empty() || request->ids.size() > kyso::x509::OcspRequest::kMaxCertIds) {
    std::abort();
  }
  std::vector<kyso::Bytes> ids;
  for (const auto& id : request->ids) {
    if (id.issuer_name_hash.size() != kyso::x509::OcspHashSize(id.hash)) std::abort();
    ids.push_back(id.der);
  }
  std::optional<kyso::ByteSpan> nonce;
  if (request->nonce) {
    if (request->nonce->empty() || request->nonce->size() > 32) std::abort();
    nonce = kyso::ByteSpan(*request->nonce);
  }
  auto again = kyso::x509::OcspRequest::Parse(kyso::x509::EncodeOcspRequest(ids, nonce));
  if (!again.ok() || again->ids.size() != request->ids.size() || again->nonce != request->nonce) {
    std::abort();
  }
  for (size_t i = 0; i < ids.size(); ++i) {
    if (again->ids[i].der != ids[i] || again->ids[i].serial_hex != request->ids[i].serial_hex) {
      std::abort();
    }
  }
  return 0;
}
