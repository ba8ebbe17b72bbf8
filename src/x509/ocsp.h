// OCSP messages (RFC 6960), shaped for the lightweight profile (RFC 5019): parsing requests, and
// building responses whose per-response part is kept apart from the part every response of one
// responder shares (its certificate).
//
// A successful OCSPResponse is
//
//   OCSPResponse { responseStatus successful, responseBytes { id-pkix-ocsp-basic,
//     OCTET STRING { BasicOCSPResponse { tbsResponseData, signatureAlgorithm, signature,
//                                        certs [0] } } } }
//
// Only tbsResponseData, signatureAlgorithm and signature differ from one response to the next:
// OcspResponseSigner::Sign returns their concatenation (the "body", ~260 octets with a P-256
// key), and AssembleOcspResponse writes the whole response around a body and the responder's
// certs field. A responder can thus keep a hundred thousand responses in memory without a
// hundred thousand copies of its certificate.
//
// Parsing: OcspRequest::Parse takes untrusted DER (a POST body or a decoded GET path) and returns
// a value or an error with one of these ids (all InvalidArgument):
//   ocsp.request_too_large     more than OcspRequest::kMaxSize octets
//   ocsp.malformed_request     not a DER OCSPRequest, trailing octets, no CertID, a CertID hash
//                              whose length does not match its algorithm
//   ocsp.too_many_cert_ids     more than OcspRequest::kMaxCertIds CertIDs
//   ocsp.bad_nonce             a nonce extension whose value is not an OCTET STRING of 1..32
//                              octets, or two nonce extensions (RFC 8954 §2.1)
//   ocsp.unsupported_extension an unknown request or single-request extension marked critical
//   ocsp.unsupported_hash      a CertID hashed with something other than SHA-1 or SHA-2: the
//                              request is well formed, but no issuer can be recognised in it
// A responder answers the first four and the fifth with malformedRequest, and the last with
// unauthorized (RFC 6960 §2.3).
//
// Thread-safety: every type here is a value or immutable after creation; an OcspResponseSigner
// may sign from several threads at once (crypto::Signer allows concurrent calls).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/clock.h"
#include "base/result.h"
#include "crypto/signer.h"
#include "x509/certificate.h"

namespace kyso::x509 {

// The hashAlgorithm of a CertID (RFC 6960 §4.1.1). RFC 5019 §2.1.1 clients use SHA-1; SHA-2
// CertIDs are answered too.
enum class OcspHash : uint8_t { kSha1 = 0, kSha256 = 1, kSha384 = 2, kSha512 = 3 };
inline constexpr size_t kOcspHashCount = 4;
inline constexpr OcspHash kOcspHashes[kOcspHashCount] = {OcspHash::kSha1, OcspHash::kSha256,
                                                         OcspHash::kSha384, OcspHash::kSha512};
std::string_view OcspHashName(OcspHash hash);  // "SHA-1", "SHA-256", ...
size_t OcspHashSize(OcspHash hash);            // 20, 32, 48, 64

//= https://www.rfc-editor.org/rfc/rfc6960#section-4.1.1
//# CertID          ::=     SEQUENCE {
//#     hashAlgorithm       AlgorithmIdentifier,
//#     issuerNameHash      OCTET STRING, -- Hash of issuer's DN
//#     issuerKeyHash       OCTET STRING, -- Hash of issuer's public key
//#     serialNumber        CertificateSerialNumber }
struct OcspCertId {
  OcspHash hash = OcspHash::kSha1;
  Bytes issuer_name_hash;
  Bytes issuer_key_hash;
  // Upper-case hex of the serial's magnitude octets, the convention of
  // Certificate::serial_hex(); a negative serial (never issued) keeps a leading '-'.
  std::string serial_hex;
  // The CertID exactly as received (DER): a response echoes it, so that a client comparing
  // CertIDs octet for octet finds its answer.
  Bytes der;
};

// What identifies an issuer in a CertID under one hash algorithm.
//= https://www.rfc-editor.org/rfc/rfc6960#section-4.1.1
//# issuerNameHash is the hash of the issuer's distinguished name (DN).  The
//# hash shall be calculated over the DER encoding of the issuer's name
//# field in the certificate being checked.  issuerKeyHash is the hash of
//# the issuer's public key.  The hash shall be calculated over the value
//# (excluding tag and length) of the subject public key field in the
//# issuer's certificate.
struct OcspIssuerHashes {
  OcspHash hash = OcspHash::kSha1;
  Bytes name_hash;
  Bytes key_hash;
};
OcspIssuerHashes ComputeIssuerHashes(const Certificate& issuer, OcspHash hash);

// DER of the CertID for `serial` (magnitude octets, as in CertificateTemplate::serial) under
// `issuer`, with NULL hashAlgorithm parameters: what OpenSSL's OCSP_cert_id_new, and so
// `openssl ocsp -issuer CA -serial N`, sends.
Bytes EncodeCertId(const OcspIssuerHashes& issuer, ByteSpan serial);

// An unsigned OCSPRequest (version v1 by default, no requestorName) for `cert_ids` (DER
// CertIDs), with a nonce extension when `nonce` is set. With one CertID and no nonce this is the
// canonical request `openssl ocsp -issuer CA -serial N -no_nonce` sends, octet for octet.
Bytes EncodeOcspRequest(std::span<const Bytes> cert_ids, std::optional<ByteSpan> nonce);

//= https://www.rfc-editor.org/rfc/rfc6960#section-4.1.1
//# OCSPRequest     ::=     SEQUENCE {
//#     tbsRequest                  TBSRequest,
//#     optionalSignature   [0]     EXPLICIT Signature OPTIONAL }
class OcspRequest {
 public:
  // A GET request travels in a URL (RFC 5019 §5: at most 255 octets encoded); a POST body may
  // carry a signature and its certificates. 32 KiB is far above both.
  static constexpr size_t kMaxSize = 32 * 1024;
  // RFC 5019 §2.1.1 clients send one CertID; RFC 6960 allows a list. Sixteen bounds the work
  // one request can ask for (each CertID may cost a database read) while serving any client
  // that batches a chain's worth of certificates.
  static constexpr size_t kMaxCertIds = 16;
  // RFC 8954 §2.1: "A server MUST reject any OCSP request that has a nonce in the Nonce
  // extension with a length of either 0 octets or more than 32 octets with the
  // malformedRequest OCSPResponseStatus". (RFC 9654 later allows up to 128; we keep 32.)
  static constexpr size_t kMaxNonceSize = 32;

  // Parses DER. The requestorName and an optionalSignature are accepted and ignored: the
  // responder answers anyone (RFC 5019 §2.1.2: responders are not required to check request
  // signatures). Non-critical extensions other than the nonce are ignored.
  static Result<OcspRequest> Parse(ByteSpan der);

  std::vector<OcspCertId> ids;  // 1..kMaxCertIds, in request order
  // RFC 6960 §4.4.1 / RFC 8954: the nonce's octets (the OCTET STRING inside extnValue).
  std::optional<Bytes> nonce;
};

//= https://www.rfc-editor.org/rfc/rfc6960#section-4.2.1
//# OCSPResponseStatus ::= ENUMERATED {
//#     successful            (0),  -- Response has valid confirmations
//#     malformedRequest      (1),  -- Illegal confirmation request
//#     internalError         (2),  -- Internal error in issuer
//#     tryLater              (3),  -- Try again later
//#                                 -- (4) is not used
//#     sigRequired           (5),  -- Must sign the request
//#     unauthorized          (6)   -- Request unauthorized
//# }
enum class OcspResponseStatus : uint8_t {
  kSuccessful = 0,
  kMalformedRequest = 1,
  kInternalError = 2,
  kTryLater = 3,
  kSigRequired = 5,
  kUnauthorized = 6,
};

// An unsuccessful OCSPResponse: the status alone, without responseBytes (RFC 6960 §4.2.1:
// "If the value of responseStatus is one of the error conditions, the responseBytes field is
// not set").
Bytes EncodeOcspErrorResponse(OcspResponseStatus status);

enum class OcspCertStatus : uint8_t { kGood, kRevoked, kUnknown };

// One SingleResponse of a BasicOCSPResponse.
struct OcspSingleResponse {
  ByteSpan cert_id;  // DER CertID, copied verbatim (normally OcspCertId::der of the request)
  OcspCertStatus status = OcspCertStatus::kGood;
  // kRevoked only: RevokedInfo. A reason of 0 (unspecified) or nullopt is not encoded, as for
  // CRL entries (RFC 5280 §5.3.1); an invalidity date becomes the invalidityDate single
  // extension (RFC 6960 §4.4: CRL entry extensions are supported as singleExtensions).
  UnixSeconds revocation_time = 0;
  std::optional<int> revocation_reason;
  std::optional<UnixSeconds> invalidity_date;
  UnixSeconds this_update = 0;
  UnixSeconds next_update = 0;  // always encoded: RFC 5019 §2.2.4 requires nextUpdate
};

// tbsResponseData || signatureAlgorithm || signature of one BasicOCSPResponse (its content
// without the certs field), and where the first SingleResponse's CertID lies in it.
struct OcspSignedBody {
  Bytes body;
  size_t cert_id_offset = 0;
  size_t cert_id_size = 0;
  ByteSpan cert_id() const { return ByteSpan(body).subspan(cert_id_offset, cert_id_size); }
};

// Signs BasicOCSPResponses as one responder: a delegated responder certificate (RFC 6960
// §4.2.2.2) or a CA signing for itself. Immutable and thread-safe.
class OcspResponseSigner {
 public:
  // Checks that `signer` holds the key of `responder` (one signature made and verified here)
  // and fixes the signatureAlgorithm for `scheme` (RSASSA-PSS parameters included).
  // Errors: ocsp.key_mismatch (FailedPrecondition), sign.failed.
  static Result<std::shared_ptr<const OcspResponseSigner>> Create(
      const Certificate& responder, std::shared_ptr<const crypto::Signer> signer,
      const crypto::SignatureScheme& scheme);

  // Signs a BasicOCSPResponse with responderID byKey (RFC 6960 §4.2.2.3, as RFC 5019 §2.2.3
  // recommends), producedAt, the given SingleResponses, and the nonce extension echoing
  // `nonce` when set. Returns the body (see above); InvalidArgument "ocsp.no_responses" for an
  // empty list, signer errors as they come.
  Result<OcspSignedBody> Sign(std::span<const OcspSingleResponse> responses,
                              UnixSeconds produced_at, std::optional<ByteSpan> nonce) const;

  // [0] EXPLICIT SEQUENCE OF Certificate holding the responder certificate, which RFC 6960
  // §4.2.2.2 requires a delegated responder to include.
  const Bytes& certs_field() const { return certs_field_; }
  const Certificate& certificate() const { return certificate_; }
  const crypto::Signer& signer() const { return *signer_; }
  // SHA-1 of the responder's subjectPublicKey: its ResponderID byKey (RFC 6960 §4.2.2.3).
  const Bytes& key_hash() const { return key_hash_; }

 private:
  OcspResponseSigner(Certificate certificate, std::shared_ptr<const crypto::Signer> signer,
                     const crypto::SignatureScheme& scheme)
      : certificate_(std::move(certificate)), signer_(std::move(signer)), scheme_(scheme) {}
  Certificate certificate_;
  std::shared_ptr<const crypto::Signer> signer_;
  crypto::SignatureScheme scheme_;
  Bytes key_hash_;
  Bytes responder_id_;  // [2] EXPLICIT KeyHash, DER
  Bytes algorithm_;     // signatureAlgorithm, DER
  Bytes certs_field_;
};

// Writes the whole successful OCSPResponse for `body` and `certs_field` to `out` (replacing
// its contents; one allocation when `out` has no capacity yet).
void AssembleOcspResponse(ByteSpan body, ByteSpan certs_field, Bytes& out);
size_t AssembledOcspResponseSize(size_t body_size, size_t certs_field_size);

// Where the parts of a successful OCSPResponse made by AssembleOcspResponse lie, so that a
// stored response can be kept in the compact form. Offsets into the response.
struct OcspResponseParts {
  size_t body_offset = 0, body_size = 0;
  size_t certs_offset = 0, certs_size = 0;      // certs_size 0 when the response carries none
  size_t cert_id_offset = 0, cert_id_size = 0;  // first CertID, relative to the body
  size_t response_count = 0;                    // SingleResponses
};
// InvalidArgument "ocsp.malformed_response" for anything but a successful basic response in
// DER (the signature is not checked).
Result<OcspResponseParts> SplitOcspResponse(ByteSpan der);

}  // namespace kyso::x509
