// Detached CMS signatures (RFC 5652 SignedData) for PAdES and CAdES baseline B-B signatures
// (ETSI EN 319 142-1, ETSI EN 319 122-1): the groundwork of PDF signing.
//
// SignDetachedCms signs a digest the caller has already computed (the PDF signer hashes the
// ByteRange in one streaming pass) and returns a DER ContentInfo of type id-signedData whose
// encapContentInfo has no eContent. The SignerInfo (version 1, issuerAndSerialNumber) carries
// the signed attributes content-type (id-data), message-digest, signing-certificate-v2
// (RFC 5035, with issuerSerial) and, for CAdES only, signing-time; optionally
// commitment-type-indication. The DER is written directly (x509/der_writer.h), as for
// time-stamp tokens.
//
// AddUnsignedSignatureTimeStamp adds an RFC 3161 time-stamp token over the signature value
// (SignatureValueOf) as the unsigned attribute id-aa-signatureTimeStampToken: B-B becomes B-T.
//
// Error ids:
//   cms.digest_length     the digest's length is not that of `digest_algorithm`
//   cms.digest_mismatch   scheme.digest differs from `digest_algorithm` (one SignerInfo
//                         digestAlgorithm hashes both the content and the signed attributes)
//   cms.key_mismatch      the signer does not hold the signer certificate's key
//   cms.unsupported_key   Ed25519 (RFC 8419 CMS signing is not implemented)
//   cms.invalid_options   commitment type not a dotted OID
//   cms.bad_time          signing time not representable
//   cms.malformed         (parsing) not a DER ContentInfo/SignedData as described below
//   cms.signer_count      (parsing) not exactly one SignerInfo
//   cms.malformed_timestamp  the time-stamp token is not a DER ContentInfo of id-signedData
//
// Thread-safety: pure functions; the Signer must allow concurrent calls (crypto/signer.h).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/clock.h"
#include "base/result.h"
#include "crypto/digest.h"
#include "crypto/signer.h"
#include "x509/certificate.h"

namespace kyso::x509 {

// ETSI EN 319 122-1 §5.2.3 commitment types (id-cti-ets-*, 1.2.840.113549.1.9.16.6.x).
inline constexpr std::string_view kCommitmentProofOfOrigin = "1.2.840.113549.1.9.16.6.1";
inline constexpr std::string_view kCommitmentProofOfReceipt = "1.2.840.113549.1.9.16.6.2";
inline constexpr std::string_view kCommitmentProofOfDelivery = "1.2.840.113549.1.9.16.6.3";
inline constexpr std::string_view kCommitmentProofOfSender = "1.2.840.113549.1.9.16.6.4";
inline constexpr std::string_view kCommitmentProofOfApproval = "1.2.840.113549.1.9.16.6.5";
inline constexpr std::string_view kCommitmentProofOfCreation = "1.2.840.113549.1.9.16.6.6";

struct CmsSignOptions {
  // PAdES (ETSI EN 319 142-1 §5.2.2): no signing-time attribute; the time is the PDF
  // signature dictionary's /M. CAdES: signing-time = `signing_time`.
  bool pades = true;
  UnixSeconds signing_time = 0;  // injected (Clock), used only when !pades
  // commitment-type-indication (ETSI EN 319 122-1 §5.2.3), a dotted OID; none when empty.
  // PAdES (EN 319 142-1 §5.2.3) forbids it together with a /Reason entry: the caller's call.
  std::optional<std::string> commitment_type;
};

// Built with designated initializers, in this order:
//   SignDetachedCms({.content_digest = d, .signer_certificate = cert, .signer = signer, ...})
struct CmsSignRequest {
  Bytes content_digest;  // the message digest of the detached content
  crypto::DigestAlgorithm digest_algorithm = crypto::DigestAlgorithm::kSha256;
  Certificate signer_certificate;
  std::vector<Certificate> extra_certificates;  // the chain, added to SignedData.certificates
  const crypto::Signer& signer;
  // RSA PKCS#1 v1.5 or PSS (salt = digest length); ECDSA. scheme.digest must equal
  // digest_algorithm.
  crypto::SignatureScheme scheme;
  CmsSignOptions options;
};

// A DER ContentInfo (id-signedData) with a detached signature over `request.content_digest`.
[[nodiscard]] Result<Bytes> SignDetachedCms(const CmsSignRequest& request);

// The octets of the single SignerInfo's signature (the content of its OCTET STRING): what the
// messageImprint of a signature time-stamp hashes (RFC 3161 Appendix A).
[[nodiscard]] Result<Bytes> SignatureValueOf(ByteSpan cms);

// `cms` with `timestamp_token` (a DER TimeStampToken, i.e. ContentInfo of id-signedData)
// added as an id-aa-signatureTimeStampToken unsigned attribute of its single SignerInfo.
// Attributes already there are kept. The token itself is not verified here.
[[nodiscard]] Result<Bytes> AddUnsignedSignatureTimeStamp(ByteSpan cms, ByteSpan timestamp_token);

}  // namespace kyso::x509
