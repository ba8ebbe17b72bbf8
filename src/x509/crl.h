// Certificate revocation lists, v2 (RFC 5280 §5): full and delta CRLs.
//
// BuildCrl encodes every entry with its reasonCode (§5.3.1, omitted for "unspecified" as the
// RFC recommends) and invalidityDate (§5.3.2), and the CRL with authorityKeyIdentifier
// (§5.2.1), cRLNumber (§5.2.3), and for a delta CRL the critical deltaCRLIndicator (§5.2.4);
// a full CRL may name where its deltas live with freshestCRL (§5.2.6).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/clock.h"
#include "base/result.h"
#include "crypto/signer.h"
#include "x509/certificate.h"

typedef struct X509_crl_st X509_CRL;

namespace kyso::x509 {

struct RevokedCertificate {
  Bytes serial;  // INTEGER content bytes
  UnixSeconds revocation_date = 0;
  int reason = 0;  // RFC 5280 CRLReason; 0 (unspecified) is not encoded
  std::optional<UnixSeconds> invalidity_date;
};

struct CrlTemplate {
  int64_t number = 0;
  std::optional<int64_t> delta_base_number;  // set => delta CRL
  UnixSeconds this_update = 0;
  UnixSeconds next_update = 0;
  std::vector<std::string> freshest_crl_urls;  // full CRLs only
  std::vector<RevokedCertificate> entries;
};

Result<Bytes> BuildCrl(const CrlTemplate& tmpl, const Certificate& issuer,
                       const crypto::Signer& signer, const crypto::SignatureScheme& scheme);

// A parsed CRL, for tests, `kyso crl show` and the verification engine later.
class Crl {
 public:
  static Result<Crl> FromDer(ByteSpan der);
  int64_t number() const;  // -1 when absent
  std::optional<int64_t> delta_base() const;
  UnixSeconds this_update() const;
  UnixSeconds next_update() const;
  size_t entry_count() const;
  // Reason code of `serial_hex` if listed, nullopt otherwise (-1 when listed without reason).
  std::optional<int> ReasonFor(std::string_view serial_hex) const;
  bool IsSignedBy(const crypto::PublicKey& key) const;

 private:
  explicit Crl(std::shared_ptr<X509_CRL> crl) : crl_(std::move(crl)) {}
  std::shared_ptr<X509_CRL> crl_;
};

}  // namespace kyso::x509
