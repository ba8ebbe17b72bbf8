#include "ca/authority.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <functional>
#include <nlohmann/json.hpp>
#include <thread>

#include "base/parallel.h"
#include "ca/records.h"
#include "ca/serial.h"
#include "store/revocation_reason.h"
#include "x509/crl.h"
#include "x509/csr.h"

namespace kyso::ca {

using store::CertificateRecord;
using store::CertificateStatus;

namespace {

std::string NormalizeSerial(std::string_view serial) {
  std::string out;
  for (char c : serial) {
    if (c == ':' || c == ' ') continue;
    out.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  }
  // Accept "0x" prefixes and a missing leading zero.
  if (out.rfind("0X", 0) == 0) out = out.substr(2);
  if (out.size() % 2 == 1) out = "0" + out;
  return out;
}

// The facts of an existing certificate, for renewal with the same key.
Result<policy::RequestFacts> FactsFromCertificate(const x509::Certificate& cert) {
  policy::RequestFacts f;
  f.subject = cert.subject();
  KYSO_ASSIGN_OR_RETURN(f.key, cert.public_key().Spec());
  x509::Extensions e = cert.extensions();
  f.email_sans = e.email_sans;
  f.dns_sans = e.dns_sans;
  f.ip_sans = e.ip_sans;
  return f;
}

int DaysUntil(UnixSeconds end, UnixSeconds now) {
  int64_t seconds = end - now + 1;  // not_after is inclusive
  return static_cast<int>(std::max<int64_t>(1, (seconds + kSecondsPerDay - 1) / kSecondsPerDay));
}

std::string Details(const IssuedCertificate& issued) {
  nlohmann::json d = {{"subject", issued.record.subject},
                      {"profile", issued.record.profile},
                      {"kind", issued.record.issuance_kind},
                      {"not_before", FormatUtc(issued.record.not_before)},
                      {"not_after", FormatUtc(issued.record.not_after)},
                      {"key", issued.record.key_fingerprint}};
  if (issued.record.replaces_id) d["replaces_id"] = *issued.record.replaces_id;
  return d.dump();
}

}  // namespace

struct CertificateAuthority::Prepared {
  x509::CertificateTemplate tmpl;
  std::string profile;
  policy::IssuanceKind kind;
  std::optional<int64_t> owner_id, organization_id, replaces_id;
};

CertificateAuthority::CertificateAuthority(Dependencies deps, std::string actor)
    : deps_(std::move(deps)), actor_(std::move(actor)) {}

Result<std::string> CertificateAuthority::ResolveCaName(const std::string& ca) {
  if (!ca.empty()) return ca;
  KYSO_ASSIGN_OR_RETURN(auto tx, deps_.db->Begin(store::TransactionMode::kRead));
  KYSO_ASSIGN_OR_RETURN(auto cas, tx->ListCas());
  std::vector<std::string> issuing;
  for (const auto& c : cas) {
    if (c.role == "issuing") issuing.push_back(c.name);
  }
  if (issuing.size() == 1) return issuing.front();
  if (issuing.empty()) return FailedPrecondition("ca.none", "no issuing CA: run `kyso init` first");
  return InvalidArgument("ca.ambiguous", "several issuing CAs exist; choose one with --ca");
}

Result<LoadedCa> CertificateAuthority::LoadCa(const std::string& name) {
  {
    std::lock_guard<std::mutex> lock(loaded_mu_);
    auto it = loaded_.find(name);
    if (it != loaded_.end()) return it->second;
  }
  auto loaded = LoadCaUncached(name);
  if (loaded.ok()) {
    std::lock_guard<std::mutex> lock(loaded_mu_);
    loaded_.emplace(name, *loaded);
  }
  return loaded;
}

Result<LoadedCa> CertificateAuthority::LoadIssuerOf(const CertificateRecord& cert) {
  {
    std::lock_guard<std::mutex> lock(loaded_mu_);
    for (const auto& [name, ca] : loaded_) {
      if (ca.record.id == cert.issuer_ca_id) return ca;
    }
  }
  KYSO_ASSIGN_OR_RETURN(auto tx, deps_.db->Begin(store::TransactionMode::kRead));
  KYSO_ASSIGN_OR_RETURN(auto record, tx->GetCa(cert.issuer_ca_id));
  tx.reset();
  return LoadCa(record.name);
}

Result<LoadedCa> CertificateAuthority::LoadCaUncached(const std::string& name) {
  KYSO_ASSIGN_OR_RETURN(std::string resolved, ResolveCaName(name));
  KYSO_ASSIGN_OR_RETURN(auto tx, deps_.db->Begin(store::TransactionMode::kRead));
  auto record = tx->GetCaByName(resolved);
  if (!record.ok()) {
    if (record.status().code() == StatusCode::kNotFound) {
      return NotFound("ca.not_found", "no CA named \"" + resolved + "\"");
    }
    return record.status();
  }
  KYSO_ASSIGN_OR_RETURN(auto cert, x509::Certificate::FromDer(record->certificate_der));
  KYSO_ASSIGN_OR_RETURN(auto signer, deps_.keys->Load(record->key_ref));
  if (!signer->public_key().Equals(cert.public_key())) {
    return FailedPrecondition("ca.key_mismatch",
                              "the key " + record->key_ref + " does not match CA " + resolved);
  }
  crypto::SignatureScheme scheme = crypto::SignatureScheme::DefaultFor(
      signer->key_spec(), record->signature_scheme.rfind("RSASSA-PSS", 0) == 0
                              ? crypto::RsaPadding::kPss
                              : crypto::RsaPadding::kPkcs1v15);
  return LoadedCa{std::move(record).value(), std::move(cert), std::move(signer), scheme};
}

Result<CertificateRecord> CertificateAuthority::FindCertificate(const std::string& ca,
                                                                const std::string& serial) {
  std::string hex = NormalizeSerial(serial);
  if (!HexDecode(hex) || hex.empty()) {
    return InvalidArgument("cert.bad_serial",
                           "\"" + serial + "\" is not a hexadecimal serial number");
  }
  KYSO_ASSIGN_OR_RETURN(auto tx, deps_.db->Begin(store::TransactionMode::kRead));
  if (!ca.empty()) {
    auto rec = tx->GetCaByName(ca);
    if (!rec.ok()) return NotFound("ca.not_found", "no CA named \"" + ca + "\"");
    auto cert = tx->GetCertificate(rec->id, hex);
    if (!cert.ok() && cert.status().code() == StatusCode::kNotFound) {
      return NotFound("cert.not_found",
                      "CA " + ca + " has issued no certificate with serial " + hex);
    }
    return cert;
  }
  KYSO_ASSIGN_OR_RETURN(auto found, tx->FindCertificatesBySerial(hex));
  if (found.empty()) return NotFound("cert.not_found", "no certificate with serial " + hex);
  if (found.size() > 1) {
    return InvalidArgument("cert.ambiguous_serial",
                           "several CAs issued serial " + hex + "; choose one with --ca");
  }
  return found.front();
}

Result<CertificateAuthority::Prepared> CertificateAuthority::Prepare(const IssueRequest& request,
                                                                     policy::IssuanceKind kind,
                                                                     const LoadedCa& ca) {
  const policy::Profile* profile = deps_.profiles->Find(request.profile);
  if (profile == nullptr) {
    return NotFound("profile.unknown", "no certificate profile named \"" + request.profile +
                                           "\" (see `kyso profile list`)");
  }
  KYSO_ASSIGN_OR_RETURN(x509::Csr csr, x509::Csr::Parse(request.csr));
  KYSO_ASSIGN_OR_RETURN(policy::IssuancePlan plan,
                        policy::Evaluate(*profile, RequestFactsFromCsr(csr), kind, request.days,
                                         deps_.clock->Now(), ca.certificate.not_after()));
  Prepared p{{{}, plan.subject, csr.public_key(), plan.not_before, plan.not_after, plan.extensions},
             profile->name,
             kind,
             request.owner_id,
             request.organization_id,
             std::nullopt};
  return p;
}

Result<IssuedCertificate> CertificateAuthority::SignPrepared(const Prepared& prepared,
                                                             const LoadedCa& ca) {
  return SignPrepared(prepared, ca, GenerateSerial(*deps_.rng));
}

Result<IssuedCertificate> CertificateAuthority::SignPrepared(const Prepared& prepared,
                                                             const LoadedCa& ca, Bytes serial) {
  x509::CertificateTemplate tmpl = prepared.tmpl;
  const policy::Profile* profile = deps_.profiles->Find(prepared.profile);
  const PublicationSettings& pub = deps_.publication;
  if (profile->include_aia) {
    // RFC 6960 §4.2.2.2.1: a responder certificate with id-pkix-ocsp-nocheck is not checked
    // over OCSP, so it carries only the caIssuers pointer.
    if (!profile->ocsp_no_check) tmpl.extensions.ocsp_urls = {pub.OcspUrl()};
    tmpl.extensions.ca_issuers_urls = {pub.CaCertUrl(ca.record.name)};
  }
  if (profile->include_crl_dp) tmpl.extensions.crl_urls = {pub.CrlUrl(ca.record.name)};
  tmpl.serial = std::move(serial);
  KYSO_ASSIGN_OR_RETURN(auto cert,
                        x509::BuildCertificate(tmpl, &ca.certificate, *ca.signer, ca.scheme));
  CertificateRecord rec =
      RecordFromCertificate(cert, ca.record.id, prepared.profile,
                            policy::IssuanceKindName(prepared.kind), deps_.clock->Now());
  rec.owner_id = prepared.owner_id;
  rec.organization_id = prepared.organization_id;
  rec.replaces_id = prepared.replaces_id;
  return IssuedCertificate{std::move(rec), std::move(cert)};
}

Status CertificateAuthority::Record(store::Transaction& tx, IssuedCertificate& issued,
                                    const std::string& action) {
  auto id = tx.InsertCertificate(issued.record);
  if (!id.ok()) return id.status();
  issued.record.id = *id;
  std::string object = std::to_string(issued.record.issuer_ca_id) + "/" + issued.record.serial_hex;
  return deps_.audit->Append(tx, actor_, action, object, Details(issued)).status();
}

Result<IssuedCertificate> CertificateAuthority::Issue(const IssueRequest& request) {
  KYSO_ASSIGN_OR_RETURN(LoadedCa ca, LoadCa(request.ca));
  KYSO_ASSIGN_OR_RETURN(Prepared prepared, Prepare(request, policy::IssuanceKind::kNew, ca));
  // A serial collision (2^-159 per pair) is retried with a fresh serial rather than failing.
  for (int attempt = 0;; ++attempt) {
    KYSO_ASSIGN_OR_RETURN(IssuedCertificate issued, SignPrepared(prepared, ca));
    KYSO_ASSIGN_OR_RETURN(auto tx, deps_.db->Begin(store::TransactionMode::kWrite));
    Status st = Record(*tx, issued, "cert.issue");
    if (st.id() == "store.duplicate" && attempt < 3) continue;
    KYSO_RETURN_IF_ERROR(st);
    KYSO_RETURN_IF_ERROR(tx->Commit());
    return issued;
  }
}

namespace {

unsigned BatchWorkers() {
  return std::clamp(std::thread::hardware_concurrency(), 1u, 8u);
}

}  // namespace

Result<std::vector<IssuedCertificate>> CertificateAuthority::IssueBatch(
    const std::vector<IssueRequest>& requests, size_t commit_every) {
  std::vector<IssuedCertificate> out;
  if (requests.empty()) return out;
  for (const auto& r : requests) {
    if (r.ca != requests.front().ca) {
      return InvalidArgument("batch.mixed_ca", "a batch is issued by one CA");
    }
  }
  KYSO_ASSIGN_OR_RETURN(LoadedCa ca, LoadCa(requests.front().ca));
  const unsigned workers = BatchWorkers();

  // 1. Check every request before signing anything: a bad item refuses the whole batch.
  std::vector<std::optional<Result<Prepared>>> checked(requests.size());
  ParallelFor(requests.size(), workers,
              [&](size_t i) { checked[i] = Prepare(requests[i], policy::IssuanceKind::kNew, ca); });
  std::vector<Prepared> prepared;
  prepared.reserve(requests.size());
  for (size_t i = 0; i < checked.size(); ++i) {
    if (!checked[i]->ok())
      return checked[i]->status().WithContext("request " + std::to_string(i + 1));
    prepared.push_back(std::move(*checked[i]).value());
  }
  checked.clear();

  // 2. Sign and commit chunk by chunk. Serials are drawn on this thread, in order, because the
  // injected Rng need not be thread-safe.
  if (commit_every == 0) commit_every = 1;
  out.reserve(requests.size());
  auto audit_key = LoadAuditSigner();
  for (size_t start = 0; start < prepared.size(); start += commit_every) {
    size_t end = std::min(prepared.size(), start + commit_every);
    std::vector<Bytes> serials;
    serials.reserve(end - start);
    for (size_t i = start; i < end; ++i) serials.push_back(GenerateSerial(*deps_.rng));
    std::vector<std::optional<Result<IssuedCertificate>>> signed_chunk(end - start);
    ParallelFor(end - start, workers, [&](size_t i) {
      signed_chunk[i] = SignPrepared(prepared[start + i], ca, serials[i]);
    });
    std::vector<IssuedCertificate> chunk;
    chunk.reserve(end - start);
    for (auto& s : signed_chunk) {
      if (!s->ok()) return s->status();
      chunk.push_back(std::move(*s).value());
    }
    KYSO_ASSIGN_OR_RETURN(auto tx, deps_.db->Begin(store::TransactionMode::kWrite));
    for (auto& issued : chunk) KYSO_RETURN_IF_ERROR(Record(*tx, issued, "cert.issue"));
    if (audit_key.ok()) KYSO_RETURN_IF_ERROR(deps_.audit->Seal(*tx, **audit_key).status());
    KYSO_RETURN_IF_ERROR(tx->Commit());
    for (auto& issued : chunk) out.push_back(std::move(issued));
  }
  return out;
}

Result<IssuedCertificate> CertificateAuthority::Renew(const RenewRequest& request) {
  KYSO_ASSIGN_OR_RETURN(CertificateRecord old, FindCertificate(request.ca, request.serial));
  if (old.status == CertificateStatus::kRevoked) {
    return FailedPrecondition("renew.revoked",
                              "certificate " + old.serial_hex + " is revoked; re-issue it instead");
  }
  UnixSeconds now = deps_.clock->Now();
  if (old.not_after < now) {
    return FailedPrecondition("renew.expired", "certificate " + old.serial_hex + " expired on " +
                                                   FormatUtc(old.not_after) +
                                                   "; request a new certificate instead");
  }
  KYSO_ASSIGN_OR_RETURN(LoadedCa ca, LoadIssuerOf(old));
  const policy::Profile* profile = deps_.profiles->Find(old.profile);
  if (profile == nullptr) {
    return FailedPrecondition("profile.unknown",
                              "the certificate's profile \"" + old.profile + "\" no longer exists");
  }
  KYSO_ASSIGN_OR_RETURN(auto old_cert, x509::Certificate::FromDer(old.der));
  KYSO_ASSIGN_OR_RETURN(policy::RequestFacts facts, FactsFromCertificate(old_cert));
  crypto::PublicKey key = old_cert.public_key();
  if (request.csr) {
    KYSO_ASSIGN_OR_RETURN(x509::Csr csr, x509::Csr::Parse(*request.csr));
    if (!(csr.subject() == old_cert.subject())) {
      return InvalidArgument("renew.subject_changed",
                             "a renewal keeps the subject; use `kyso cert change` to change it");
    }
    facts = RequestFactsFromCsr(csr);
    key = csr.public_key();
  }
  KYSO_ASSIGN_OR_RETURN(policy::IssuancePlan plan,
                        policy::Evaluate(*profile, facts, policy::IssuanceKind::kRenewal,
                                         request.days, now, ca.certificate.not_after()));
  Prepared p{{{}, plan.subject, key, plan.not_before, plan.not_after, plan.extensions},
             profile->name,
             policy::IssuanceKind::kRenewal,
             old.owner_id,
             old.organization_id,
             old.id};
  KYSO_ASSIGN_OR_RETURN(IssuedCertificate issued, SignPrepared(p, ca));
  KYSO_ASSIGN_OR_RETURN(auto tx, deps_.db->Begin(store::TransactionMode::kWrite));
  KYSO_RETURN_IF_ERROR(Record(*tx, issued, "cert.renew"));
  KYSO_RETURN_IF_ERROR(tx->Commit());
  return issued;
}

Result<IssuedCertificate> CertificateAuthority::ChangeInformation(const ChangeRequest& request) {
  KYSO_ASSIGN_OR_RETURN(CertificateRecord old, FindCertificate(request.ca, request.serial));
  if (old.status == CertificateStatus::kRevoked) {
    return FailedPrecondition("change.revoked", "certificate " + old.serial_hex + " is revoked");
  }
  UnixSeconds now = deps_.clock->Now();
  if (old.not_after < now) {
    return FailedPrecondition("change.expired", "certificate " + old.serial_hex + " has expired");
  }
  KYSO_ASSIGN_OR_RETURN(LoadedCa ca, LoadIssuerOf(old));
  IssueRequest issue{
      ca.record.name,
      request.csr,
      request.profile.value_or(old.profile),
      request.days ? request.days : std::optional<int>(DaysUntil(old.not_after, now)),
      old.owner_id,
      old.organization_id};
  KYSO_ASSIGN_OR_RETURN(Prepared p, Prepare(issue, policy::IssuanceKind::kChange, ca));
  p.replaces_id = old.id;
  // Whole days round up; the term ends exactly when the old certificate's did.
  if (!request.days) p.tmpl.not_after = std::min(p.tmpl.not_after, old.not_after);
  KYSO_ASSIGN_OR_RETURN(IssuedCertificate issued, SignPrepared(p, ca));
  KYSO_ASSIGN_OR_RETURN(auto tx, deps_.db->Begin(store::TransactionMode::kWrite));
  KYSO_RETURN_IF_ERROR(Record(*tx, issued, "cert.change"));
  // RFC 5280 §5.3.1 superseded: "the certificate has been superseded".
  store::Revocation revocation{now, store::RevocationReason::kSuperseded, std::nullopt};
  KYSO_RETURN_IF_ERROR(tx->MarkRevoked(old.id, revocation).status());
  nlohmann::json details = {{"reason", "superseded"}, {"replaced_by", issued.record.serial_hex}};
  KYSO_RETURN_IF_ERROR(deps_.audit
                           ->Append(*tx, actor_, "cert.revoke",
                                    std::to_string(old.issuer_ca_id) + "/" + old.serial_hex,
                                    details.dump())
                           .status());
  KYSO_RETURN_IF_ERROR(tx->Commit());
  return issued;
}

Result<IssuedCertificate> CertificateAuthority::Reissue(const ReissueRequest& request) {
  KYSO_ASSIGN_OR_RETURN(CertificateRecord old, FindCertificate(request.ca, request.serial));
  if (old.status != CertificateStatus::kRevoked) {
    return FailedPrecondition("reissue.not_revoked", "certificate " + old.serial_hex +
                                                         " is not revoked; renew it instead");
  }
  KYSO_ASSIGN_OR_RETURN(LoadedCa ca, LoadIssuerOf(old));
  KYSO_ASSIGN_OR_RETURN(x509::Csr csr, x509::Csr::Parse(request.csr));
  KYSO_ASSIGN_OR_RETURN(auto old_cert, x509::Certificate::FromDer(old.der));
  if (!(csr.subject() == old_cert.subject())) {
    return InvalidArgument("reissue.subject_changed",
                           "a re-issue keeps the subject of the revoked certificate");
  }
  if (csr.public_key().Fingerprint() == old.key_fingerprint) {
    return InvalidArgument("reissue.same_key",
                           "a re-issue needs a new key; the request reuses the revoked key");
  }
  IssueRequest issue{ca.record.name, request.csr,  old.profile,
                     request.days,   old.owner_id, old.organization_id};
  KYSO_ASSIGN_OR_RETURN(Prepared p, Prepare(issue, policy::IssuanceKind::kReissue, ca));
  p.replaces_id = old.id;
  KYSO_ASSIGN_OR_RETURN(IssuedCertificate issued, SignPrepared(p, ca));
  KYSO_ASSIGN_OR_RETURN(auto tx, deps_.db->Begin(store::TransactionMode::kWrite));
  KYSO_RETURN_IF_ERROR(Record(*tx, issued, "cert.reissue"));
  KYSO_RETURN_IF_ERROR(tx->Commit());
  return issued;
}

Result<IssuedCertificate> CertificateAuthority::IssueServiceCertificate(
    const ServiceCertificateRequest& request, const crypto::PublicKey& key) {
  if (request.key_setting.empty() || request.certificate_setting.empty()) {
    return InvalidArgument("service.no_settings", "a service certificate names its settings");
  }
  KYSO_ASSIGN_OR_RETURN(LoadedCa ca, LoadCa(request.ca));
  const policy::Profile* profile = deps_.profiles->Find(request.profile);
  if (profile == nullptr) {
    return NotFound("profile.unknown", "no certificate profile named \"" + request.profile + "\"");
  }
  policy::RequestFacts facts;
  facts.subject = request.subject;
  KYSO_ASSIGN_OR_RETURN(facts.key, key.Spec());
  KYSO_ASSIGN_OR_RETURN(policy::IssuancePlan plan,
                        policy::Evaluate(*profile, facts, policy::IssuanceKind::kNew, request.days,
                                         deps_.clock->Now(), ca.certificate.not_after()));
  Prepared p{{{}, plan.subject, key, plan.not_before, plan.not_after, plan.extensions},
             profile->name,
             policy::IssuanceKind::kNew,
             std::nullopt,
             std::nullopt,
             std::nullopt};
  KYSO_ASSIGN_OR_RETURN(IssuedCertificate issued, SignPrepared(p, ca));
  issued.record.issuance_kind = "system";  // as InitializeHierarchy records service certificates
  KYSO_ASSIGN_OR_RETURN(auto tx, deps_.db->Begin(store::TransactionMode::kWrite));
  KYSO_RETURN_IF_ERROR(Record(*tx, issued, "cert.issue"));
  KYSO_RETURN_IF_ERROR(tx->PutSetting(request.key_setting, request.key_ref));
  KYSO_RETURN_IF_ERROR(tx->PutSetting(request.certificate_setting, issued.certificate.ToPem()));
  nlohmann::json details = {{"profile", profile->name},
                            {"serial", issued.record.serial_hex},
                            {"key_ref", request.key_ref},
                            {"key", issued.record.key_fingerprint},
                            {"settings", {request.key_setting, request.certificate_setting}}};
  KYSO_RETURN_IF_ERROR(deps_.audit
                           ->Append(*tx, actor_, "service.rollover",
                                    ca.record.name + "/" + issued.record.serial_hex, details.dump())
                           .status());
  KYSO_RETURN_IF_ERROR(tx->Commit());
  return issued;
}

Result<store::RevocationReason> ParseRevocationReasonForRevoke(std::string_view name) {
  KYSO_ASSIGN_OR_RETURN(store::RevocationReason reason, store::ParseRevocationReason(name));
  if (reason == store::RevocationReason::kCertificateHold ||
      reason == store::RevocationReason::kRemoveFromCrl) {
    return InvalidArgument("revoke.reason_unsupported",
                           std::string(store::RevocationReasonName(reason)) +
                               " is not supported: kyso does not suspend certificates");
  }
  return reason;
}

Result<CertificateRecord> CertificateAuthority::Revoke(const RevokeRequest& request) {
  if (request.reason == store::RevocationReason::kCertificateHold ||
      request.reason == store::RevocationReason::kRemoveFromCrl) {
    return InvalidArgument("revoke.reason_unsupported", "kyso does not suspend certificates");
  }
  KYSO_ASSIGN_OR_RETURN(CertificateRecord cert, FindCertificate(request.ca, request.serial));
  if (cert.status == CertificateStatus::kRevoked) {
    return FailedPrecondition("cert.already_revoked", "certificate " + cert.serial_hex +
                                                          " was already revoked on " +
                                                          FormatUtc(cert.revocation->revoked_at));
  }
  UnixSeconds now = deps_.clock->Now();
  // RFC 5280 §5.3.2: the invalidity date is when the key is known or suspected to have been
  // compromised; it cannot lie in the future.
  if (request.invalidity_date && *request.invalidity_date > now) {
    return InvalidArgument("revoke.invalidity_in_future", "the invalidity date lies in the future");
  }
  store::Revocation revocation{now, request.reason, request.invalidity_date};
  KYSO_ASSIGN_OR_RETURN(auto tx, deps_.db->Begin(store::TransactionMode::kWrite));
  auto seq = tx->MarkRevoked(cert.id, revocation);
  if (!seq.ok()) {
    if (seq.status().id() == "store.already_revoked") {
      return FailedPrecondition("cert.already_revoked",
                                "certificate " + cert.serial_hex + " was already revoked");
    }
    return seq.status();
  }
  nlohmann::json details = {{"reason", store::RevocationReasonName(request.reason)},
                            {"subject", cert.subject}};
  if (request.invalidity_date) details["invalidity_date"] = FormatUtc(*request.invalidity_date);
  KYSO_RETURN_IF_ERROR(deps_.audit
                           ->Append(*tx, actor_, "cert.revoke",
                                    std::to_string(cert.issuer_ca_id) + "/" + cert.serial_hex,
                                    details.dump())
                           .status());
  KYSO_RETURN_IF_ERROR(tx->Commit());
  cert.status = CertificateStatus::kRevoked;
  cert.revocation = revocation;
  cert.revocation_seq = *seq;
  return cert;
}

Result<store::CrlRecord> CertificateAuthority::GenerateCrl(const std::string& ca_name, bool delta) {
  KYSO_ASSIGN_OR_RETURN(LoadedCa ca, LoadCa(ca_name));
  UnixSeconds now = deps_.clock->Now();
  const PublicationSettings& pub = deps_.publication;
  KYSO_ASSIGN_OR_RETURN(auto tx, deps_.db->Begin(store::TransactionMode::kWrite));
  x509::CrlTemplate tmpl;
  int64_t after_seq = 0;
  if (delta) {
    KYSO_ASSIGN_OR_RETURN(auto base, tx->LatestCrl(ca.record.id, false));
    if (!base) {
      return FailedPrecondition("crl.no_base",
                                "a delta CRL needs a full CRL first: run `kyso crl generate`");
    }
    tmpl.delta_base_number = base->number;
    after_seq = base->max_revocation_seq;
  } else {
    tmpl.freshest_crl_urls = {pub.DeltaCrlUrl(ca.record.name)};
  }
  KYSO_ASSIGN_OR_RETURN(auto revoked, tx->ListRevoked(ca.record.id, after_seq));
  KYSO_ASSIGN_OR_RETURN(int64_t max_seq, tx->MaxRevocationSeq(ca.record.id));
  KYSO_ASSIGN_OR_RETURN(tmpl.number, tx->NextCrlNumber(ca.record.id));
  tmpl.this_update = now;
  tmpl.next_update =
      now + 3600LL * (delta ? pub.delta_crl_validity_hours : pub.full_crl_validity_hours);
  tmpl.entries.reserve(revoked.size());
  for (const auto& r : revoked) {
    tmpl.entries.push_back({*HexDecode(r.serial_hex), r.revocation.revoked_at,
                            static_cast<int>(r.revocation.reason), r.revocation.invalidity_date});
  }
  KYSO_ASSIGN_OR_RETURN(Bytes der, x509::BuildCrl(tmpl, ca.certificate, *ca.signer, ca.scheme));
  store::CrlRecord rec;
  rec.ca_id = ca.record.id;
  rec.number = tmpl.number;
  rec.base_number = tmpl.delta_base_number;
  rec.this_update = tmpl.this_update;
  rec.next_update = tmpl.next_update;
  rec.max_revocation_seq = max_seq;
  rec.entry_count = static_cast<int64_t>(revoked.size());
  rec.der = std::move(der);
  KYSO_ASSIGN_OR_RETURN(rec.id, tx->InsertCrl(rec));
  nlohmann::json details = {{"number", rec.number},
                            {"delta", delta},
                            {"entries", rec.entry_count},
                            {"next_update", FormatUtc(rec.next_update)}};
  if (rec.base_number) details["base"] = *rec.base_number;
  KYSO_RETURN_IF_ERROR(deps_.audit
                           ->Append(*tx, actor_, delta ? "crl.generate_delta" : "crl.generate",
                                    ca.record.name, details.dump())
                           .status());
  KYSO_RETURN_IF_ERROR(tx->Commit());
  return rec;
}

Result<std::shared_ptr<const crypto::Signer>> CertificateAuthority::LoadAuditSigner() {
  KYSO_ASSIGN_OR_RETURN(auto tx, deps_.db->Begin(store::TransactionMode::kRead));
  KYSO_ASSIGN_OR_RETURN(auto ref, tx->GetSetting(kAuditKeySetting));
  if (!ref) return FailedPrecondition("audit.no_key", "this instance has no audit key");
  return deps_.keys->Load(*ref);
}

Status CertificateAuthority::SealAudit() {
  KYSO_ASSIGN_OR_RETURN(auto signer, LoadAuditSigner());
  KYSO_ASSIGN_OR_RETURN(auto tx, deps_.db->Begin(store::TransactionMode::kWrite));
  KYSO_RETURN_IF_ERROR(deps_.audit->Seal(*tx, *signer).status());
  return tx->Commit();
}

store::CertificateRecord RecordFromCertificate(const x509::Certificate& cert, int64_t issuer_ca_id,
                                               const std::string& profile, std::string_view kind,
                                               UnixSeconds issued_at) {
  CertificateRecord r;
  r.issuer_ca_id = issuer_ca_id;
  r.serial_hex = cert.serial_hex();
  r.issuer = cert.issuer().ToRfc4514();
  x509::Name subject = cert.subject();
  r.subject = subject.ToRfc4514();
  r.common_name = subject.First("CN");
  r.uids = subject.ValuesOf("UID");
  x509::Extensions ext = cert.extensions();
  r.email = !ext.email_sans.empty() ? ext.email_sans.front() : subject.First("emailAddress");
  r.profile = profile;
  r.issuance_kind = std::string(kind);
  r.key_fingerprint = cert.public_key().Fingerprint();
  r.not_before = cert.not_before();
  r.not_after = cert.not_after();
  r.issued_at = issued_at;
  r.der = cert.der();
  return r;
}

policy::RequestFacts RequestFactsFromCsr(const x509::Csr& csr) {
  policy::RequestFacts f;
  f.subject = csr.subject();
  f.key = csr.key_spec();
  f.email_sans = csr.email_sans();
  f.dns_sans = csr.dns_sans();
  f.ip_sans = csr.ip_sans();
  f.requests_ca = csr.requests_ca();
  f.unsupported_critical_extensions = csr.unsupported_critical_extensions();
  return f;
}

}  // namespace kyso::ca
