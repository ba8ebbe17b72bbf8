// RFC 3161 time-stamp protocol (with RFC 5816's ESSCertIDv2): the request parser and the
// response builder of a time-stamping authority.
//
// ParseTimeStampRequest reads a DER TimeStampReq (RFC 3161 §2.4.1) from an untrusted client.
// Every refusal is a Status whose id names the PKIFailureInfo bit to answer with
// (TspFailureOf):
//   timestamp.bad_data_format       not DER, not a TimeStampReq, truncated or trailing bytes
//   timestamp.bad_alg               hash algorithm unknown or refused (SHA-1, MD5, ...)
//   timestamp.bad_request           version != 1, imprint length wrong for its algorithm,
//                                   nonce out of bounds, request too large
//   timestamp.unaccepted_extension  any extension, critical or not (none is understood;
//                                   RFC 3161 §2.4.1)
// The policy check (unacceptedPolicy) is the caller's: only it knows which policies it serves.
//
// TimeStampSigner builds granted responses: a TSTInfo (§2.4.2) inside CMS SignedData
// (RFC 5652) with the signed attributes content-type, message-digest and
// signing-certificate-v2 (RFC 5816 §2.2.1), signed by the TSA key through crypto::Signer.
// The DER is assembled directly around the parts that never change (computed once in
// Create), so a token costs two small hashes and one signature.
//
// BuildTimeStampRejection builds a rejection (§2.4.2 PKIStatusInfo with status rejection and
// one failure bit).
//
// InspectTimeStampResponse decodes a response with OpenSSL's own TS_RESP decoder, for tests
// and tools: it is deliberately not the code that built the response.
//
// Thread-safety: TimeStampSigner is immutable after Create; Grant may be called concurrently.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/clock.h"
#include "base/result.h"
#include "crypto/signer.h"
#include "x509/certificate.h"

namespace kyso::x509 {

// RFC 3161 §2.4.2:
//   PKIFailureInfo ::= BIT STRING {
//     badAlg (0), badRequest (2), badDataFormat (5), timeNotAvailable (14),
//     unacceptedPolicy (15), unacceptedExtension (16), addInfoNotAvailable (17),
//     systemFailure (25) }
enum class TspFailure : int {
  kBadAlg = 0,
  kBadRequest = 2,
  kBadDataFormat = 5,
  kTimeNotAvailable = 14,
  kUnacceptedPolicy = 15,
  kUnacceptedExtension = 16,
  kAddInfoNotAvailable = 17,
  kSystemFailure = 25,
};

// The RFC's name of the bit: "badAlg", "badDataFormat", ...
std::string_view TspFailureName(TspFailure failure);
// The failure bit a Status of ParseTimeStampRequest stands for; kSystemFailure for any other.
TspFailure TspFailureOf(const Status& status);

// Hash algorithms accepted in a messageImprint. SHA-1 and MD5 are refused (badAlg): both have
// practical collision attacks, and a time-stamp over a colliding hash vouches for two
// documents.
enum class ImprintAlgorithm { kSha256, kSha384, kSha512, kSha3_256, kSha3_384, kSha3_512 };
std::string_view ImprintAlgorithmName(ImprintAlgorithm alg);  // "SHA-256", "SHA3-256", ...

struct TimeStampRequest {
  static constexpr size_t kMaxSize = 16 * 1024;  // a TimeStampReq is ~100 bytes
  static constexpr size_t kMaxNonceBytes = 32;   // content octets; openssl sends 8-9

  ImprintAlgorithm hash_algorithm = ImprintAlgorithm::kSha256;
  Bytes hashed_message;
  std::optional<std::string> policy_oid;  // reqPolicy, dotted
  std::optional<Bytes> nonce;             // INTEGER content octets as received
  bool cert_req = false;
  // The MessageImprint element exactly as received: TSTInfo repeats it (§2.4.2: "MUST have
  // the same value as the similar field in TimeStampReq").
  Bytes message_imprint_der;
};

[[nodiscard]] Result<TimeStampRequest> ParseTimeStampRequest(ByteSpan der);

// A whole TimeStampResp with status rejection(2), `failure` and `status_string` (UTF-8).
Bytes BuildTimeStampRejection(TspFailure failure, std::string_view status_string);

struct TimeStampSignerOptions {
  std::string policy_oid;  // dotted; the TSTInfo policy
  // TSTInfo accuracy (§2.4.2). Both zero: the field is omitted. millis in 0..999.
  int accuracy_seconds = 1;
  int accuracy_millis = 0;
  bool include_tsa_name = true;  // TSTInfo tsa = the certificate's subject (a hint, §2.4.2)
};

class TimeStampSigner {
 public:
  // Checks RFC 3161 §2.3 on `certificate` and that `signer` holds its key. Error ids:
  //   timestamp.certificate_eku  extendedKeyUsage is not exactly {timeStamping}, critical
  //   timestamp.key_mismatch     `signer` does not hold the certificate's key
  //   timestamp.unsupported_key  Ed25519 (RFC 8419 CMS signing is not implemented)
  //   timestamp.invalid_options  bad policy OID or accuracy
  static Result<TimeStampSigner> Create(const Certificate& certificate,
                                        std::shared_ptr<const crypto::Signer> signer,
                                        const TimeStampSignerOptions& options);

  // A whole TimeStampResp, status granted(0), for `request` with serialNumber `serial` and
  // genTime `gen_time`. The TSA certificate is included when request.cert_req (§2.4.1).
  // Fails only if signing fails (the caller answers systemFailure).
  [[nodiscard]] Result<Bytes> Grant(const TimeStampRequest& request, uint64_t serial,
                                    UnixSeconds gen_time) const;

  const Certificate& certificate() const;
  const std::string& policy_oid() const;

 private:
  struct State;
  explicit TimeStampSigner(std::shared_ptr<const State> state) : state_(std::move(state)) {}
  std::shared_ptr<const State> state_;
};

// What a TimeStampResp says, decoded by OpenSSL (TS_RESP).
struct TimeStampResponseInfo {
  int status = -1;                    // PKIStatus: 0 granted, 2 rejection, ...
  std::vector<std::string> failures;  // names of the PKIFailureInfo bits set
  std::string status_string;          // the first PKIFreeText entry, if any
  bool has_token = false;
  // From the TSTInfo, when has_token:
  std::string policy_oid;
  std::string serial_hex;
  UnixSeconds gen_time = 0;
  std::string hash_algorithm;  // OpenSSL short name of the imprint's algorithm ("SHA256")
  Bytes hashed_message;
  std::optional<Bytes> nonce;  // INTEGER content octets
  std::optional<int> accuracy_seconds, accuracy_millis, accuracy_micros;
  bool ordering = false;
  std::optional<Name> tsa_name;
  size_t certificate_count = 0;  // SignedData.certificates
};

[[nodiscard]] Result<TimeStampResponseInfo> InspectTimeStampResponse(ByteSpan der);

}  // namespace kyso::x509
