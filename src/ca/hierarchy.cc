#include "ca/hierarchy.h"

#include <nlohmann/json.hpp>

#include "ca/records.h"
#include "ca/serial.h"

namespace kyso::ca {

namespace {

// A key of the hierarchy: in software (saved through the KeyStore once everything is built) or
// generated on a token (already there, with its reference).
struct NewKey {
  std::shared_ptr<const crypto::Signer> signer;
  std::optional<crypto::PrivateKey> software;
  std::string key_ref;
};

Result<NewKey> Generate(const std::string& name, const crypto::KeySpec& spec,
                        const KeyGenerator& generate) {
  if (generate) {
    KYSO_ASSIGN_OR_RETURN(std::optional<GeneratedKey> on_token, generate(name, spec));
    if (on_token) return NewKey{on_token->signer, std::nullopt, on_token->key_ref};
  }
  KYSO_ASSIGN_OR_RETURN(crypto::PrivateKey key, crypto::PrivateKey::Generate(spec));
  auto signer = std::make_shared<crypto::SoftwareSigner>(key, "init");
  return NewKey{std::move(signer), std::move(key), ""};
}

struct Made {
  NewKey key;
  x509::Certificate cert;
  const crypto::Signer& signer() const { return *key.signer; }
  crypto::KeySpec spec() const { return key.signer->key_spec(); }
};

Result<Made> MakeCa(const CaSpec& spec, const Made* parent, const PublicationSettings& pub,
                    const std::string& parent_name, crypto::Rng& rng, UnixSeconds now,
                    const KeyGenerator& generate) {
  KYSO_ASSIGN_OR_RETURN(x509::Name subject, x509::Name::ParseSlashed(spec.subject));
  KYSO_ASSIGN_OR_RETURN(NewKey key, Generate(spec.name, spec.key, generate));
  x509::CertificateTemplate t{GenerateSerial(rng),
                              subject,
                              key.signer->public_key(),
                              now,
                              now + spec.validity_days * kSecondsPerDay - 1,
                              {}};
  x509::Extensions& e = t.extensions;
  e.is_ca = true;
  // RFC 5280 §4.2.1.3: keyCertSign and cRLSign for a CA; digitalSignature lets the CA sign
  // OCSP responses itself should the delegated responder be unavailable.
  e.key_usage = {"digitalSignature", "keyCertSign", "cRLSign"};
  if (parent != nullptr) {
    if (t.not_after > parent->cert.not_after()) t.not_after = parent->cert.not_after();
    e.path_length = 0;  // issuing CAs issue end-entity certificates only
    e.policy_oids = spec.policy_oids;
    e.ca_issuers_urls = {pub.CaCertUrl(parent_name)};
    e.crl_urls = {pub.CrlUrl(parent_name)};
  }
  const crypto::Signer& signer = parent ? parent->signer() : *key.signer;
  crypto::SignatureScheme scheme =
      crypto::SignatureScheme::DefaultFor(signer.key_spec(), spec.padding);
  KYSO_ASSIGN_OR_RETURN(
      x509::Certificate cert,
      x509::BuildCertificate(t, parent ? &parent->cert : nullptr, signer, scheme));
  return Made{std::move(key), std::move(cert)};
}

Result<Made> MakeService(const ServiceCertSpec& spec, const Made& issuing,
                         const CaSpec& issuing_spec, const policy::ProfileSet& profiles,
                         const PublicationSettings& pub, crypto::Rng& rng, UnixSeconds now,
                         const KeyGenerator& generate) {
  const policy::Profile* profile = profiles.Find(spec.profile);
  if (profile == nullptr) {
    return NotFound("profile.unknown", "no certificate profile named \"" + spec.profile + "\"");
  }
  KYSO_ASSIGN_OR_RETURN(x509::Name subject, x509::Name::ParseSlashed(spec.subject));
  KYSO_ASSIGN_OR_RETURN(NewKey key, Generate(spec.profile, spec.key, generate));
  policy::RequestFacts facts;
  facts.subject = subject;
  facts.key = key.signer->key_spec();
  KYSO_ASSIGN_OR_RETURN(policy::IssuancePlan plan,
                        policy::Evaluate(*profile, facts, policy::IssuanceKind::kNew,
                                         spec.validity_days, now, issuing.cert.not_after()));
  x509::CertificateTemplate t{GenerateSerial(rng), plan.subject,   key.signer->public_key(),
                              plan.not_before,     plan.not_after, plan.extensions};
  if (plan.include_aia) {
    if (!profile->ocsp_no_check) t.extensions.ocsp_urls = {pub.OcspUrl()};
    t.extensions.ca_issuers_urls = {pub.CaCertUrl(issuing_spec.name)};
  }
  if (plan.include_crl_dp) t.extensions.crl_urls = {pub.CrlUrl(issuing_spec.name)};
  KYSO_ASSIGN_OR_RETURN(x509::Certificate cert,
                        x509::BuildCertificate(t, &issuing.cert, issuing.signer(),
                                               crypto::SignatureScheme::DefaultFor(
                                                   issuing.spec(), issuing_spec.padding)));
  return Made{std::move(key), std::move(cert)};
}

// The audit-log signer: certified by the issuing CA so that `kyso audit verify` can trust
// checkpoint signatures through the CA rather than through a key stored beside the log.
Result<Made> MakeAuditSigner(const HierarchySpec& spec, const Made& issuing,
                             const PublicationSettings& pub, crypto::Rng& rng, UnixSeconds now,
                             const KeyGenerator& generate) {
  KYSO_ASSIGN_OR_RETURN(x509::Name subject, x509::Name::ParseSlashed(spec.audit_subject));
  KYSO_ASSIGN_OR_RETURN(NewKey key, Generate("audit", spec.audit_key, generate));
  x509::CertificateTemplate t{GenerateSerial(rng),      subject, key.signer->public_key(), now,
                              issuing.cert.not_after(), {}};
  t.extensions.key_usage = {"digitalSignature", "nonRepudiation"};
  t.extensions.ca_issuers_urls = {pub.CaCertUrl(spec.issuing.name)};
  t.extensions.crl_urls = {pub.CrlUrl(spec.issuing.name)};
  KYSO_ASSIGN_OR_RETURN(x509::Certificate cert,
                        x509::BuildCertificate(t, &issuing.cert, issuing.signer(),
                                               crypto::SignatureScheme::DefaultFor(
                                                   issuing.spec(), spec.issuing.padding)));
  return Made{std::move(key), std::move(cert)};
}

}  // namespace

Result<Hierarchy> InitializeHierarchy(const HierarchySpec& spec,
                                      const CertificateAuthority::Dependencies& deps,
                                      const std::string& actor, const KeyGenerator& generate) {
  {
    KYSO_ASSIGN_OR_RETURN(auto tx, deps.db->Begin(store::TransactionMode::kRead));
    KYSO_ASSIGN_OR_RETURN(auto cas, tx->ListCas());
    if (!cas.empty()) {
      return FailedPrecondition("init.already_initialized",
                                "this data directory already holds a CA hierarchy");
    }
  }
  UnixSeconds now = deps.clock->Now();
  const PublicationSettings& pub = deps.publication;
  KYSO_ASSIGN_OR_RETURN(Made root, MakeCa(spec.root, nullptr, pub, "", *deps.rng, now, generate));
  KYSO_ASSIGN_OR_RETURN(Made issuing,
                        MakeCa(spec.issuing, &root, pub, spec.root.name, *deps.rng, now, generate));
  KYSO_ASSIGN_OR_RETURN(Made ocsp, MakeService(spec.ocsp, issuing, spec.issuing, *deps.profiles,
                                               pub, *deps.rng, now, generate));
  KYSO_ASSIGN_OR_RETURN(Made tsa, MakeService(spec.tsa, issuing, spec.issuing, *deps.profiles, pub,
                                              *deps.rng, now, generate));
  KYSO_ASSIGN_OR_RETURN(Made audit, MakeAuditSigner(spec, issuing, pub, *deps.rng, now, generate));

  // Software keys are written now that everything is built; token keys are already in place.
  auto save = [&](const std::string& name, const Made& m) -> Result<std::string> {
    if (!m.key.software) return m.key.key_ref;
    return deps.keys->Save(name, *m.key.software);
  };
  KYSO_ASSIGN_OR_RETURN(std::string root_ref, save(spec.root.name, root));
  KYSO_ASSIGN_OR_RETURN(std::string issuing_ref, save(spec.issuing.name, issuing));
  KYSO_ASSIGN_OR_RETURN(std::string ocsp_ref, save("ocsp-signer", ocsp));
  KYSO_ASSIGN_OR_RETURN(std::string tsa_ref, save("tsa", tsa));
  KYSO_ASSIGN_OR_RETURN(std::string audit_ref, save("audit", audit));

  KYSO_ASSIGN_OR_RETURN(auto tx, deps.db->Begin(store::TransactionMode::kWrite));
  auto ca_record = [&](const CaSpec& s, const Made& m, const std::string& ref, const char* role,
                       std::optional<int64_t> parent) {
    store::CaRecord r;
    r.name = s.name;
    r.role = role;
    r.parent_id = parent;
    r.subject = m.cert.subject().ToRfc4514();
    r.serial_hex = m.cert.serial_hex();
    r.not_before = m.cert.not_before();
    r.not_after = m.cert.not_after();
    r.key_ref = ref;
    r.signature_scheme = crypto::SignatureScheme::DefaultFor(m.spec(), s.padding).Name(m.spec());
    r.certificate_der = m.cert.der();
    r.created_at = now;
    return r;
  };
  KYSO_ASSIGN_OR_RETURN(int64_t root_id,
                        tx->InsertCa(ca_record(spec.root, root, root_ref, "root", std::nullopt)));
  KYSO_ASSIGN_OR_RETURN(
      int64_t issuing_id,
      tx->InsertCa(ca_record(spec.issuing, issuing, issuing_ref, "issuing", root_id)));
  KYSO_RETURN_IF_ERROR(
      tx->InsertCertificate(RecordFromCertificate(issuing.cert, root_id, "ca", "system", now))
          .status());
  KYSO_RETURN_IF_ERROR(
      tx->InsertCertificate(
            RecordFromCertificate(ocsp.cert, issuing_id, spec.ocsp.profile, "system", now))
          .status());
  KYSO_RETURN_IF_ERROR(tx->InsertCertificate(RecordFromCertificate(tsa.cert, issuing_id,
                                                                   spec.tsa.profile, "system", now))
                           .status());
  KYSO_RETURN_IF_ERROR(
      tx->InsertCertificate(RecordFromCertificate(audit.cert, issuing_id, "audit", "system", now))
          .status());
  KYSO_RETURN_IF_ERROR(tx->PutSetting(kOcspKeySetting, ocsp_ref));
  KYSO_RETURN_IF_ERROR(tx->PutSetting(kOcspCertificateSetting, ocsp.cert.ToPem()));
  KYSO_RETURN_IF_ERROR(tx->PutSetting(kTsaKeySetting, tsa_ref));
  KYSO_RETURN_IF_ERROR(tx->PutSetting(kTsaCertificateSetting, tsa.cert.ToPem()));
  KYSO_RETURN_IF_ERROR(tx->PutSetting(kAuditKeySetting, audit_ref));
  KYSO_RETURN_IF_ERROR(tx->PutSetting(kAuditCertificateSetting, audit.cert.ToPem()));

  auto log = [&](const std::string& action, const std::string& object, const x509::Certificate& c) {
    nlohmann::json d = {{"subject", c.subject().ToRfc4514()},
                        {"serial", c.serial_hex()},
                        {"not_after", FormatUtc(c.not_after())},
                        {"key", c.public_key().Fingerprint()}};
    return deps.audit->Append(*tx, actor, action, object, d.dump()).status();
  };
  KYSO_RETURN_IF_ERROR(log("ca.create", spec.root.name, root.cert));
  KYSO_RETURN_IF_ERROR(log("ca.create", spec.issuing.name, issuing.cert));
  KYSO_RETURN_IF_ERROR(
      log("cert.issue", spec.issuing.name + "/" + ocsp.cert.serial_hex(), ocsp.cert));
  KYSO_RETURN_IF_ERROR(
      log("cert.issue", spec.issuing.name + "/" + tsa.cert.serial_hex(), tsa.cert));
  KYSO_RETURN_IF_ERROR(
      log("cert.issue", spec.issuing.name + "/" + audit.cert.serial_hex(), audit.cert));
  std::shared_ptr<const crypto::Signer> audit_signer =
      audit.key.software ? std::make_shared<crypto::SoftwareSigner>(*audit.key.software, audit_ref)
                         : audit.key.signer;
  KYSO_RETURN_IF_ERROR(deps.audit->Seal(*tx, *audit_signer).status());
  KYSO_RETURN_IF_ERROR(tx->Commit());
  return Hierarchy{root.cert, issuing.cert, ocsp.cert, tsa.cert, audit.cert};
}

}  // namespace kyso::ca
