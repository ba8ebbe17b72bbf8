// Verifying detached CMS signatures (RFC 5652 §5.6) as PAdES and CAdES use them, and the RFC
// 3161 time-stamp tokens inside them: what the verification engine needs from one SignerInfo.
//
// ParseSignedData reads a DER ContentInfo of id-signedData with exactly one SignerInfo. Verify
// then checks, for a content digest the caller computed (a PDF's byte ranges, streamed):
//   - messageDigest equals the digest (RFC 5652 §11.2),
//   - the signature over the signed attributes with the signer certificate's key,
//   - signing-certificate-v2 / signing-certificate names the signer certificate (RFC 5035).
// The chain and revocation are the caller's business (x509/path.h).
//
// Error ids (parsing): cms.malformed, cms.signer_count, cms.no_signer_certificate,
// cms.unsupported_digest.
// Error ids in CmsCheck::error_id: cms.digest_mismatch, cms.bad_signature,
// cms.signing_certificate_mismatch, cms.no_signed_attributes.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/clock.h"
#include "base/result.h"
#include "crypto/digest.h"
#include "x509/certificate.h"

namespace kyso::x509 {

struct TimeStampTokenInfo {
  UnixSeconds gen_time = 0;
  std::string policy_oid;
  std::string serial_hex;
  std::string imprint_algorithm;  // "SHA256", ...
  Bytes imprint;
  std::optional<Certificate> tsa_certificate;  // the token's signer, from its certificates
  std::vector<Certificate> certificates;
  bool signature_valid = false;  // the token's own CMS signature and content digest
  std::string error_id;          // when !signature_valid: timestamp.bad_signature, ...
};

// Parses and checks a TimeStampToken (DER ContentInfo) on its own: its TSTInfo and its
// signature (not the TSA's chain, not what it time-stamps). cms.malformed when unreadable.
[[nodiscard]] Result<TimeStampTokenInfo> InspectTimeStampToken(ByteSpan token);

// True when `info` time-stamps `data` (the imprint is the hash of `data` under its algorithm).
bool TimeStampCovers(const TimeStampTokenInfo& info, ByteSpan data);

struct SignedDataInfo {
  Certificate signer;
  std::vector<Certificate> certificates;  // SignedData.certificates, signer included
  crypto::DigestAlgorithm digest_algorithm = crypto::DigestAlgorithm::kSha256;
  std::string signature_algorithm;  // OpenSSL long name, e.g. "ecdsa-with-SHA256"
  bool has_signed_attributes = false;
  std::optional<UnixSeconds> signing_time;   // the signingTime attribute (CAdES; not PAdES)
  bool has_signing_certificate = false;      // ESS signing-certificate(-v2) present
  bool has_content = false;                  // encapsulated (.p7m) rather than detached
  Bytes content;                             // eContent when has_content
  Bytes signature_value;                     // what a signature time-stamp hashes
  std::optional<Bytes> signature_timestamp;  // id-aa-signatureTimeStampToken (unsigned)
  std::vector<Bytes> crls;                   // SignedData.crls and adbe-revocationInfoArchival CRLs
  std::vector<Bytes> ocsp_responses;         // adbe-revocationInfoArchival OCSP responses
};

class SignedData {
 public:
  [[nodiscard]] static Result<SignedData> Parse(ByteSpan der);
  const SignedDataInfo& info() const { return *info_; }

  struct Check {
    bool digest_matches = false;
    bool signature_valid = false;
    bool signing_certificate_matches = false;  // true when the attribute is absent
    std::string error_id;                      // the first failure, empty when all three hold
  };
  // `content_digest` is the digest of the detached content under info().digest_algorithm.
  Check Verify(ByteSpan content_digest) const;

 private:
  struct State;
  explicit SignedData(std::shared_ptr<const State> state, std::shared_ptr<SignedDataInfo> info)
      : state_(std::move(state)), info_(std::move(info)) {}
  std::shared_ptr<const State> state_;
  std::shared_ptr<SignedDataInfo> info_;
};

}  // namespace kyso::x509
