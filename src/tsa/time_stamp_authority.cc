#include "tsa/time_stamp_authority.h"

#include <exception>
#include <utility>

#include "ca/authority.h"

namespace kyso::tsa {

using x509::TspFailure;

namespace {

Status InvalidOptions(std::string message) {
  return InvalidArgument("tsa.invalid_options", std::move(message));
}

Status CheckOptions(const TsaOptions& o) {
  if (o.serial_block < 1) return InvalidOptions("serial_block must be at least 1");
  if (o.accuracy_seconds < 0 || o.accuracy_millis < 0 || o.accuracy_millis > 999) {
    return InvalidOptions("accuracy must be >= 0 s and 0..999 ms");
  }
  // genTime comes from a whole-second clock and may be up to one second early.
  if (int64_t{o.accuracy_seconds} * 1000 + o.accuracy_millis < 1000) {
    return InvalidOptions(
        "accuracy below 1 s cannot be stated: genTime has whole-second precision");
  }
  return Status::Ok();
}

Result<std::string> RequiredSetting(store::Transaction& tx, const char* key) {
  KYSO_ASSIGN_OR_RETURN(std::optional<std::string> value, tx.GetSetting(key));
  if (!value || value->empty()) {
    return FailedPrecondition("tsa.not_initialized",
                              std::string("no ") + key + " in the store: run `kyso init` first");
  }
  return *value;
}

}  // namespace

Result<std::unique_ptr<TimeStampAuthority>> TimeStampAuthority::Create(store::Database* db,
                                                                       crypto::KeyStore* keys,
                                                                       const Clock* clock,
                                                                       audit::AuditLog* audit,
                                                                       TsaOptions options) {
  if (db == nullptr || keys == nullptr || clock == nullptr || audit == nullptr) {
    return InvalidOptions(
        "TimeStampAuthority needs a store, a key store, a clock and an audit log");
  }
  KYSO_RETURN_IF_ERROR(CheckOptions(options));

  std::string key_ref, certificate_pem;
  {
    KYSO_ASSIGN_OR_RETURN(auto tx, db->Begin(store::TransactionMode::kRead));
    KYSO_ASSIGN_OR_RETURN(key_ref, RequiredSetting(*tx, ca::kTsaKeySetting));
    KYSO_ASSIGN_OR_RETURN(certificate_pem, RequiredSetting(*tx, ca::kTsaCertificateSetting));
  }
  auto certificate = x509::Certificate::FromPem(certificate_pem);
  if (!certificate.ok()) return certificate.status().WithContext("TSA certificate");
  auto signer = keys->Load(key_ref);
  if (!signer.ok()) return signer.status().WithContext("TSA key " + key_ref);

  // A token signed outside the certificate's validity could not be verified.
  UnixSeconds now = clock->Now();
  UnixSeconds not_before = certificate->not_before();
  UnixSeconds not_after = certificate->not_after();
  if (now < not_before || now > not_after) {
    return FailedPrecondition("tsa.certificate_not_valid",
                              "the TSA certificate is valid from " + FormatUtc(not_before) +
                                  " to " + FormatUtc(not_after) + ", not at " + FormatUtc(now));
  }
  KYSO_ASSIGN_OR_RETURN(
      x509::TimeStampSigner time_stamp_signer,
      x509::TimeStampSigner::Create(*certificate, std::move(signer).value(),
                                    {options.policy_oid, options.accuracy_seconds,
                                     options.accuracy_millis, options.include_tsa_name}));

  auto reserve = [db, audit](uint64_t count) { return ReserveSerialBlock(*db, *audit, count); };
  KYSO_ASSIGN_OR_RETURN(
      std::unique_ptr<SerialAllocator> serials,
      SerialAllocator::Create(std::move(reserve), static_cast<uint64_t>(options.serial_block)));
  return std::unique_ptr<TimeStampAuthority>(
      new TimeStampAuthority(clock, std::move(options), std::move(time_stamp_signer),
                             std::move(serials), not_before, not_after));
}

TimeStampAuthority::TimeStampAuthority(const Clock* clock, TsaOptions options,
                                       x509::TimeStampSigner signer,
                                       std::unique_ptr<SerialAllocator> serials,
                                       UnixSeconds not_before, UnixSeconds not_after)
    : clock_(clock),
      options_(std::move(options)),
      signer_(std::move(signer)),
      serials_(std::move(serials)),
      not_before_(not_before),
      not_after_(not_after) {}

TsaAnswer TimeStampAuthority::Reject(TspFailure failure, std::string detail) {
  TsaAnswer answer;
  answer.der = x509::BuildTimeStampRejection(failure, detail);
  answer.failure = std::string(x509::TspFailureName(failure));
  answer.detail = std::move(detail);
  return answer;
}

TsaAnswer TimeStampAuthority::Respond(ByteSpan query_der) noexcept {
  try {
    return Handle(query_der);
  } catch (const std::exception& e) {
    // Out of memory, in practice. The client still gets a well-formed answer.
    return Reject(TspFailure::kSystemFailure, std::string("internal error: ") + e.what());
  }
}

TsaAnswer TimeStampAuthority::Handle(ByteSpan query_der) {
  auto request = x509::ParseTimeStampRequest(query_der);
  if (!request.ok()) {
    return Reject(x509::TspFailureOf(request.status()), request.status().message());
  }

  //= https://www.rfc-editor.org/rfc/rfc3161#section-2.4.1
  //# The reqPolicy field, if included, indicates the TSA policy under which the
  //# TimeStampToken SHOULD be provided.
  //= https://www.rfc-editor.org/rfc/rfc3161#section-2.4.2
  //# unacceptedPolicy (15), -- the requested TSA policy is not supported by the TSA.
  if (request->policy_oid && *request->policy_oid != options_.policy_oid) {
    return Reject(TspFailure::kUnacceptedPolicy, "policy " + *request->policy_oid +
                                                     " is not served here; this TSA issues "
                                                     "under " +
                                                     options_.policy_oid);
  }

  UnixSeconds now = clock_->Now();
  if (now < not_before_ || now > not_after_) {
    return Reject(TspFailure::kSystemFailure,
                  "the TSA certificate is not valid at " + FormatUtc(now));
  }
  auto serial = serials_->Next();
  if (!serial.ok()) {
    return Reject(TspFailure::kSystemFailure,
                  "no serial number available: " + serial.status().ToString());
  }
  auto token = signer_.Grant(*request, *serial, now);
  if (!token.ok()) {
    return Reject(TspFailure::kSystemFailure, "signing failed: " + token.status().ToString());
  }
  issued_.fetch_add(1, std::memory_order_relaxed);
  TsaAnswer answer;
  answer.der = std::move(token).value();
  answer.granted = true;
  answer.serial = *serial;
  return answer;
}

}  // namespace kyso::tsa
