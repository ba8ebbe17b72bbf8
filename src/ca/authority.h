// CertificateAuthority: the CA's operations — issue, renew, change of information, re-issue,
// revoke, CRLs — as one service over injected storage, keys, profiles, clock and randomness.
//
// Every operation follows the same steps: read and check the request (CSR, profile rules,
// current state), sign, then record the result and its audit entry in ONE store transaction.
// A failure at any step returns a Status and leaves the store unchanged.
//
// Thread-safety: one CertificateAuthority may be used from several threads; the store
// serializes writers.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "audit/audit_log.h"
#include "base/clock.h"
#include "base/result.h"
#include "crypto/key_store.h"
#include "crypto/random.h"
#include "policy/profile.h"
#include "store/records.h"
#include "store/store.h"
#include "x509/certificate.h"

namespace kyso::ca {

// Where relying parties fetch status and issuer certificates. The URLs embedded in issued
// certificates are built from base_url: {base}/ocsp, {base}/ca/{ca}.crt, {base}/crl/{ca}.crl
// and {base}/crl/{ca}-delta.crl (the paths `kyso serve` publishes).
struct PublicationSettings {
  std::string base_url = "http://127.0.0.1:8080";
  int full_crl_validity_hours = 24;
  int delta_crl_validity_hours = 4;

  std::string OcspUrl() const { return base_url + "/ocsp"; }
  std::string CaCertUrl(const std::string& ca) const { return base_url + "/ca/" + ca + ".crt"; }
  std::string CrlUrl(const std::string& ca) const { return base_url + "/crl/" + ca + ".crl"; }
  std::string DeltaCrlUrl(const std::string& ca) const {
    return base_url + "/crl/" + ca + "-delta.crl";
  }
};

struct IssueRequest {
  std::string ca;  // issuing CA name; empty: the instance's only issuing CA
  Bytes csr;       // PKCS#10, PEM or DER
  std::string profile;
  std::optional<int> days;  // nullopt: the profile's default validity
  std::optional<int64_t> owner_id;
  std::optional<int64_t> organization_id;
};

// Renewal: a new certificate with a new validity period for the same subject; same key when
// `csr` is empty, else the CSR's key (its subject must equal the old one). The old certificate
// stays valid until it expires (Nghị định 68 Điều 9: renewal up to 3 years).
struct RenewRequest {
  std::string ca;
  std::string serial;
  std::optional<Bytes> csr;
  std::optional<int> days;
};

// Change of information: a new certificate with the CSR's (new) subject; the old certificate
// is revoked with reason superseded in the same transaction. Unless `days` is given, the new
// certificate ends when the old one did: changing a title does not extend a term.
struct ChangeRequest {
  std::string ca;
  std::string serial;
  Bytes csr;
  std::optional<std::string> profile;  // default: the old certificate's profile
  std::optional<int> days;
};

// Re-issue after revocation (lost or compromised token): same subject and profile, new key.
struct ReissueRequest {
  std::string ca;
  std::string serial;
  Bytes csr;
  std::optional<int> days;
};

struct RevokeRequest {
  std::string ca;  // empty: found by serial across CAs (refused if ambiguous)
  std::string serial;
  store::RevocationReason reason = store::RevocationReason::kUnspecified;
  std::optional<UnixSeconds> invalidity_date;
};

// A certificate for one of this instance's own services (the delegated OCSP responder, the
// time-stamping unit) on a key the caller generated and saved: responder key rollover.
struct ServiceCertificateRequest {
  std::string ca;       // issuing CA name; empty: the instance's only issuing CA
  std::string profile;  // "ocsp-signer", "tsa"
  x509::Name subject;
  std::string key_ref;      // where the caller saved the new key (crypto::KeyStore::Save)
  std::optional<int> days;  // nullopt: the profile's default validity
  // The settings naming the service's key and certificate (kOcspKeySetting and
  // kOcspCertificateSetting for the OCSP responder): set to key_ref and the new PEM.
  std::string key_setting;
  std::string certificate_setting;
};

struct IssuedCertificate {
  store::CertificateRecord record;
  x509::Certificate certificate;
};

// The CA's loaded signing state: its record, certificate and signer.
struct LoadedCa {
  store::CaRecord record;
  x509::Certificate certificate;
  std::shared_ptr<const crypto::Signer> signer;
  crypto::SignatureScheme scheme;
};

// Settings keys (store::Transaction::GetSetting) written by InitializeHierarchy.
inline constexpr const char* kAuditKeySetting = "audit.key_ref";
inline constexpr const char* kAuditCertificateSetting = "audit.certificate";  // PEM
inline constexpr const char* kOcspKeySetting = "ocsp.key_ref";
inline constexpr const char* kOcspCertificateSetting = "ocsp.certificate";  // PEM
inline constexpr const char* kTsaKeySetting = "tsa.key_ref";
inline constexpr const char* kTsaCertificateSetting = "tsa.certificate";  // PEM

class CertificateAuthority {
 public:
  struct Dependencies {
    store::Database* db;
    crypto::KeyStore* keys;
    const policy::ProfileSet* profiles;
    const Clock* clock;
    crypto::Rng* rng;
    audit::AuditLog* audit;
    PublicationSettings publication;
  };

  // `actor` is recorded in every audit entry ("cli:operator@host", a user id, ...).
  CertificateAuthority(Dependencies deps, std::string actor);

  Result<IssuedCertificate> Issue(const IssueRequest& request);
  // Bulk issuance: every request is checked first (the whole batch is refused, naming the
  // first bad item, if any fails); then certificates are signed and committed in chunks of
  // `commit_every` with their audit entries, and the audit log is sealed once per chunk.
  // Checking and signing use all cores; commits stay in request order.
  Result<std::vector<IssuedCertificate>> IssueBatch(const std::vector<IssueRequest>& requests,
                                                    size_t commit_every = 1000);
  Result<IssuedCertificate> Renew(const RenewRequest& request);
  Result<IssuedCertificate> ChangeInformation(const ChangeRequest& request);
  Result<IssuedCertificate> Reissue(const ReissueRequest& request);
  Result<store::CertificateRecord> Revoke(const RevokeRequest& request);
  // Signs a service certificate for `key` under `request.profile` (issuance kind "system") and,
  // in ONE transaction, records it with its audit entries ("cert.issue", "service.rollover")
  // and points the two settings at the new key and certificate: a service re-reading the
  // settings sees the old pair or the new one, never a mix.
  Result<IssuedCertificate> IssueServiceCertificate(const ServiceCertificateRequest& request,
                                                    const crypto::PublicKey& key);

  // Full CRL of `ca`, or a delta CRL against the latest full CRL (RFC 5280 §5.2.4). Work is
  // proportional to the entries listed; a revocation itself never rebuilds a CRL.
  Result<store::CrlRecord> GenerateCrl(const std::string& ca, bool delta);

  // Signs a checkpoint over the audit chain head with the audit key (no-op when sealed).
  Status SealAudit();

  Result<LoadedCa> LoadCa(const std::string& name);
  // Finds a certificate by serial, in `ca` or across all CAs.
  Result<store::CertificateRecord> FindCertificate(const std::string& ca,
                                                   const std::string& serial);

 private:
  struct Prepared;
  Result<Prepared> Prepare(const IssueRequest& request, policy::IssuanceKind kind,
                           const LoadedCa& ca);
  Result<IssuedCertificate> SignPrepared(const Prepared& prepared, const LoadedCa& ca);
  // Thread-safe: touches no mutable state of the CertificateAuthority.
  Result<IssuedCertificate> SignPrepared(const Prepared& prepared, const LoadedCa& ca,
                                         Bytes serial);
  Status Record(store::Transaction& tx, IssuedCertificate& issued, const std::string& action);
  Result<std::string> ResolveCaName(const std::string& ca);
  // The CA that issued `cert`.
  Result<LoadedCa> LoadIssuerOf(const store::CertificateRecord& cert);
  Result<LoadedCa> LoadCaUncached(const std::string& name);
  Result<std::shared_ptr<const crypto::Signer>> LoadAuditSigner();

  Dependencies deps_;
  std::string actor_;
  // CA records, certificates and keys do not change after `kyso init`: load each once.
  std::mutex loaded_mu_;
  std::map<std::string, LoadedCa> loaded_;
};

// Parses an RFC 5280 reason name ("keyCompromise", ...) for revocation. certificateHold and
// removeFromCRL are refused: kyso does not suspend certificates (revoke.reason_unsupported).
Result<store::RevocationReason> ParseRevocationReasonForRevoke(std::string_view name);

}  // namespace kyso::ca
