#include "ocsp/rollover.h"

#include "ocsp/identity.h"

namespace kyso::ocsp {

namespace {

// "20261120T030405Z": key names sort by creation time.
std::string CompactTime(UnixSeconds t) {
  std::string text = FormatUtc(t);  // "2026-11-20T03:04:05Z"
  std::string out;
  for (char c : text) {
    if (c != '-' && c != ':') out.push_back(c);
  }
  return out;
}

}  // namespace

Result<RolloverResult> RolloverResponder(ca::CertificateAuthority& authority, store::Database& db,
                                         crypto::KeyStore& keys, const Clock& clock,
                                         const RolloverOptions& options) {
  KYSO_ASSIGN_OR_RETURN(ResponderSettings settings, ReadResponderSettings(db));
  if (!settings.key_ref || !settings.certificate_pem) {
    return FailedPrecondition("ocsp.no_responder",
                              "no delegated OCSP responder is configured: run `kyso init` first");
  }
  KYSO_ASSIGN_OR_RETURN(x509::Certificate current,
                        x509::Certificate::FromPem(*settings.certificate_pem));
  const store::CaRecord* issuer = nullptr;
  for (const store::CaRecord& ca : settings.cas) {
    auto cert = x509::Certificate::FromDer(ca.certificate_der);
    if (cert.ok() && cert->subject() == current.issuer() &&
        current.IsSignedBy(cert->public_key())) {
      issuer = &ca;
      break;
    }
  }
  if (issuer == nullptr) {
    return FailedPrecondition("ocsp.unknown_issuer",
                              "no CA of this instance issued the OCSP responder certificate " +
                                  current.subject().ToRfc4514());
  }

  crypto::KeySpec spec;
  if (options.key) {
    spec = *options.key;
  } else {
    KYSO_ASSIGN_OR_RETURN(spec, current.public_key().Spec());
  }
  KYSO_ASSIGN_OR_RETURN(crypto::PrivateKey key, crypto::PrivateKey::Generate(spec));
  const std::string base = "ocsp-signer-" + CompactTime(clock.Now());
  Result<std::string> key_ref = keys.Save(base, key);
  for (int n = 2; !key_ref.ok() && key_ref.status().id() == "keystore.exists" && n < 100; ++n) {
    key_ref = keys.Save(base + "-" + std::to_string(n), key);  // two rollovers in one second
  }
  if (!key_ref.ok()) return key_ref.status();

  ca::ServiceCertificateRequest request;
  request.ca = issuer->name;
  request.profile = options.profile;
  request.subject = current.subject();
  request.key_ref = *key_ref;
  request.days = options.validity_days;
  request.key_setting = ca::kOcspKeySetting;
  request.certificate_setting = ca::kOcspCertificateSetting;
  KYSO_ASSIGN_OR_RETURN(ca::IssuedCertificate issued,
                        authority.IssueServiceCertificate(request, key.public_key()));
  return RolloverResult{std::move(current), std::move(issued.certificate), *key_ref};
}

}  // namespace kyso::ocsp
