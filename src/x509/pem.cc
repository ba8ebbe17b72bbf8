#include "x509/pem.h"

#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <array>
#include <memory>
#include <string>
#include <string_view>

#include "crypto/openssl_error.h"
#include "x509/openssl_util.h"

namespace kyso::x509 {
namespace {

using crypto::DrainOpenSslErrors;
using internal::Deleter;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;

struct KindInfo {
  const char* error_id;
  const char* what;
  std::array<std::string_view, 3> labels;  // empty entries are unused
};

KindInfo InfoFor(DerKind kind) {
  switch (kind) {
    case DerKind::kCertificate:
      return {"cert.malformed", "certificate", {"CERTIFICATE", "X509 CERTIFICATE", ""}};
    case DerKind::kCrl:
      return {"crl.malformed", "CRL", {"X509 CRL", "", ""}};
    case DerKind::kOcspResponse:
      return {"ocsp.malformed_response", "OCSP response", {"OCSP RESPONSE", "", ""}};
    case DerKind::kCms:
      return {"cms.malformed", "CMS signature", {"CMS", "PKCS7", "PKCS #7 SIGNED DATA"}};
  }
  return {"cert.malformed", "certificate", {"CERTIFICATE", "", ""}};
}

// True when `der` is exactly one object of `kind` (no trailing bytes).
template <typename T, T* (*Decode)(T**, const unsigned char**, long), void (*Free)(T*)>
bool DecodesAs(ByteSpan der) {
  const unsigned char* p = der.data();
  std::unique_ptr<T, Deleter<T, Free>> object(Decode(nullptr, &p, static_cast<long>(der.size())));
  return object != nullptr && p == der.data() + der.size();
}

bool Decodes(ByteSpan der, DerKind kind) {
  switch (kind) {
    case DerKind::kCertificate:
      return DecodesAs<X509, d2i_X509, X509_free>(der);
    case DerKind::kCrl:
      return DecodesAs<X509_CRL, d2i_X509_CRL, X509_CRL_free>(der);
    case DerKind::kOcspResponse:
      return DecodesAs<OCSP_RESPONSE, d2i_OCSP_RESPONSE, OCSP_RESPONSE_free>(der);
    case DerKind::kCms:
      return DecodesAs<CMS_ContentInfo, d2i_CMS_ContentInfo, CMS_ContentInfo_free>(der);
  }
  return false;
}

Status Malformed(const KindInfo& info, const std::string& why) {
  return InvalidArgument(info.error_id, std::string("unreadable ") + info.what + ": " + why);
}

}  // namespace

Result<std::vector<Bytes>> DerObjectsOf(ByteSpan input, DerKind kind) {
  const KindInfo info = InfoFor(kind);
  std::vector<Bytes> out;
  if (!input.empty() && input[0] == 0x30) {
    if (!Decodes(input, kind)) {
      return Malformed(info, "not DER (" + DrainOpenSslErrors() + ")");
    }
    out.emplace_back(input.begin(), input.end());
    return out;
  }
  if (AsString(input).find("-----BEGIN") == std::string_view::npos) {
    return Malformed(info, "neither DER nor PEM");
  }
  BioPtr bio(BIO_new_mem_buf(input.data(), static_cast<int>(input.size())));
  if (!bio) return Internal("pem.internal", "out of memory: " + DrainOpenSslErrors());
  for (;;) {
    char* name = nullptr;
    char* header = nullptr;
    unsigned char* data = nullptr;
    long len = 0;
    if (PEM_read_bio(bio.get(), &name, &header, &data, &len) != 1) {
      // The read after the last block fails with "no start line"; anything else is a block
      // that is there but broken (bad base64, no END line).
      const unsigned long error = ERR_peek_last_error();
      const bool end_of_input =
          ERR_GET_LIB(error) == ERR_LIB_PEM && ERR_GET_REASON(error) == PEM_R_NO_START_LINE;
      const std::string why = DrainOpenSslErrors();
      if (!end_of_input) return Malformed(info, "broken PEM block (" + why + ")");
      break;
    }
    const std::string_view label(name);
    bool wanted = false;
    for (std::string_view l : info.labels) wanted = wanted || (!l.empty() && l == label);
    Bytes der(data, data + len);
    OPENSSL_free(name);
    OPENSSL_free(header);
    OPENSSL_free(data);
    if (!wanted) continue;
    if (!Decodes(der, kind)) {
      return Malformed(info, "PEM block " + std::to_string(out.size() + 1) + " does not decode (" +
                                 DrainOpenSslErrors() + ")");
    }
    out.push_back(std::move(der));
  }
  if (out.empty()) return Malformed(info, "no PEM block of that kind");
  return out;
}

}  // namespace kyso::x509
