// TimeStampAuthority: the RFC 3161 time-stamping service, without its transport.
//
// Respond() takes the body of an application/timestamp-query request (RFC 3161 §3.4) and
// always returns the bytes of an application/timestamp-reply: a granted token, or a rejection
// with the PKIFailureInfo bit that says why (badDataFormat for anything that is not a DER
// TimeStampReq, badAlg, badRequest, unacceptedPolicy, unacceptedExtension, systemFailure).
// A token costs one signature with the TSA key and no store access: serial numbers come
// from blocks reserved ahead (serial_allocator.h), genTime from the injected Clock.
//
// Create() loads the TSA key and certificate that `kyso init` recorded (settings
// ca::kTsaKeySetting / ca::kTsaCertificateSetting), checks the certificate (RFC 3161 §2.3:
// only the timeStamping extended key usage, critical; the key matches; valid now), and
// reserves the first block of serials.
//
// Time: the Clock has whole seconds, so genTime has whole seconds, and the stated accuracy
// must be at least one second (a genTime truncated to the second may be up to 1 s early).
//
// Thread-safety: Respond() and issued() may be called from any number of threads.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "audit/audit_log.h"
#include "base/bytes.h"
#include "base/clock.h"
#include "base/result.h"
#include "crypto/key_store.h"
#include "store/store.h"
#include "tsa/serial_allocator.h"
#include "x509/certificate.h"
#include "x509/timestamp.h"

namespace kyso::tsa {

struct TsaOptions {
  // The TSA policy stated in every TSTInfo (RFC 3161 §2.4.2). A placeholder under Vietnam's
  // arc (2.16.704), like the certificate policies of config/profiles.json. A request naming
  // another policy is refused with unacceptedPolicy.
  std::string policy_oid = "2.16.704.1.99.2.1";
  // TSTInfo accuracy; seconds * 1000 + millis must be at least 1000 (see above).
  int accuracy_seconds = 1;
  int accuracy_millis = 0;
  // Serials reserved per store write. A restart skips what is left of the current block.
  int64_t serial_block = 100000;
  // TSTInfo tsa: the TSA certificate's subject (RFC 3161 §2.4.2, a hint for verifiers).
  bool include_tsa_name = true;
};

struct TsaAnswer {
  Bytes der;             // the TimeStampResp to send, always
  bool granted = false;  // status granted(0) with a token
  std::string failure;   // PKIFailureInfo name when refused ("badAlg"), for metrics and logs
  std::string detail;    // the statusString of a refusal
  uint64_t serial = 0;   // serialNumber of a granted token
};

class TimeStampAuthority {
 public:
  // Error ids: tsa.invalid_options, tsa.not_initialized (no TSA key or certificate in the
  // store: run `kyso init`), tsa.certificate_not_valid (expired or not yet valid at the
  // clock's time), timestamp.certificate_eku, timestamp.key_mismatch,
  // timestamp.unsupported_key (x509/timestamp.h); key store, certificate and store errors as
  // they come (with context).
  static Result<std::unique_ptr<TimeStampAuthority>> Create(store::Database* db,
                                                            crypto::KeyStore* keys,
                                                            const Clock* clock,
                                                            audit::AuditLog* audit,
                                                            TsaOptions options);

  // Thread-safe; never throws; never touches the store except to reserve the next block of
  // serials (once per serial_block tokens, on the thread that crosses the block's half).
  TsaAnswer Respond(ByteSpan query_der) noexcept;

  // Tokens granted since Create.
  uint64_t issued() const { return issued_.load(std::memory_order_relaxed); }
  const x509::Certificate& certificate() const { return signer_.certificate(); }
  const TsaOptions& options() const { return options_; }

 private:
  TimeStampAuthority(const Clock* clock, TsaOptions options, x509::TimeStampSigner signer,
                     std::unique_ptr<SerialAllocator> serials, UnixSeconds not_before,
                     UnixSeconds not_after);
  TsaAnswer Handle(ByteSpan query_der);
  static TsaAnswer Reject(x509::TspFailure failure, std::string detail);

  const Clock* clock_;
  const TsaOptions options_;
  const x509::TimeStampSigner signer_;
  const std::unique_ptr<SerialAllocator> serials_;
  const UnixSeconds not_before_, not_after_;  // of the TSA certificate
  std::atomic<uint64_t> issued_{0};
};

}  // namespace kyso::tsa
