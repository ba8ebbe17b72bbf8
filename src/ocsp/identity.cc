#include "ocsp/identity.h"

#include <algorithm>
#include <cstring>

#include "ca/authority.h"

namespace kyso::ocsp {

bool ResponderIdentity::Matches(const x509::OcspCertId& id) const {
  const x509::OcspIssuerHashes& h = hashes(id.hash);
  return id.issuer_name_hash.size() == h.name_hash.size() &&
         id.issuer_key_hash.size() == h.key_hash.size() &&
         std::memcmp(id.issuer_name_hash.data(), h.name_hash.data(), h.name_hash.size()) == 0 &&
         std::memcmp(id.issuer_key_hash.data(), h.key_hash.data(), h.key_hash.size()) == 0;
}

Result<ResponderSettings> ReadResponderKeySettings(store::Transaction& tx) {
  ResponderSettings settings;
  KYSO_ASSIGN_OR_RETURN(settings.key_ref, tx.GetSetting(ca::kOcspKeySetting));
  KYSO_ASSIGN_OR_RETURN(settings.certificate_pem, tx.GetSetting(ca::kOcspCertificateSetting));
  return settings;
}

Result<ResponderSettings> ReadResponderSettings(store::Database& db) {
  KYSO_ASSIGN_OR_RETURN(auto tx, db.Begin(store::TransactionMode::kRead));
  KYSO_ASSIGN_OR_RETURN(ResponderSettings settings, ReadResponderKeySettings(*tx));
  KYSO_ASSIGN_OR_RETURN(settings.cas, tx->ListCas());
  return settings;
}

Result<std::vector<std::shared_ptr<const ResponderIdentity>>> BuildResponderIdentities(
    const ResponderSettings& settings, crypto::KeyStore& keys, UnixSeconds now) {
  if (!settings.key_ref || !settings.certificate_pem) {
    return FailedPrecondition("ocsp.no_responder",
                              "no delegated OCSP responder is configured (settings " +
                                  std::string(ca::kOcspKeySetting) + ", " +
                                  ca::kOcspCertificateSetting + "): run `kyso init` first");
  }
  KYSO_ASSIGN_OR_RETURN(x509::Certificate responder,
                        x509::Certificate::FromPem(*settings.certificate_pem));
  //= https://www.rfc-editor.org/rfc/rfc6960#section-4.2.2.2
  //# OCSP signing delegation SHALL be designated by the inclusion of
  //# id-kp-OCSPSigning in an extended key usage certificate extension
  //# included in the OCSP response signer's certificate.  This certificate
  //# MUST be issued directly by the CA that is identified in the request.
  const x509::Extensions extensions = responder.extensions();
  if (std::find(extensions.extended_key_usage.begin(), extensions.extended_key_usage.end(),
                "OCSPSigning") == extensions.extended_key_usage.end()) {
    return FailedPrecondition("ocsp.not_a_responder", "the configured OCSP certificate " +
                                                          responder.subject().ToRfc4514() +
                                                          " lacks id-kp-OCSPSigning");
  }
  if (responder.not_after() <= now) {
    return FailedPrecondition("ocsp.responder_expired",
                              "the OCSP responder certificate expired on " +
                                  FormatUtc(responder.not_after()) + ": roll the responder over");
  }
  const store::CaRecord* issuer = nullptr;
  std::shared_ptr<const x509::Certificate> issuer_cert;
  for (const store::CaRecord& ca : settings.cas) {
    auto cert = x509::Certificate::FromDer(ca.certificate_der);
    if (!cert.ok()) continue;
    if (cert->subject() == responder.issuer() && responder.IsSignedBy(cert->public_key())) {
      issuer = &ca;
      issuer_cert = std::make_shared<const x509::Certificate>(std::move(cert).value());
      break;
    }
  }
  if (issuer == nullptr) {
    return FailedPrecondition("ocsp.unknown_issuer",
                              "no CA of this instance issued the OCSP responder certificate " +
                                  responder.subject().ToRfc4514());
  }
  KYSO_ASSIGN_OR_RETURN(std::shared_ptr<const crypto::Signer> key, keys.Load(*settings.key_ref));
  KYSO_ASSIGN_OR_RETURN(std::shared_ptr<const x509::OcspResponseSigner> signer,
                        x509::OcspResponseSigner::Create(
                            responder, key, crypto::SignatureScheme::DefaultFor(key->key_spec())));
  auto identity = std::make_shared<ResponderIdentity>();
  identity->ca_id = issuer->id;
  identity->ca_name = issuer->name;
  identity->ca_certificate = issuer_cert;
  for (x509::OcspHash hash : x509::kOcspHashes) {
    identity->issuer_hashes[static_cast<size_t>(hash)] =
        x509::ComputeIssuerHashes(*issuer_cert, hash);
  }
  identity->signer = std::move(signer);
  identity->responder_not_after = responder.not_after();
  identity->key_ref = *settings.key_ref;
  identity->certificate_pem = *settings.certificate_pem;
  return std::vector<std::shared_ptr<const ResponderIdentity>>{std::move(identity)};
}

CertState StateOf(store::CertificateStatus status, const std::optional<store::Revocation>& rev) {
  CertState state;
  if (status != store::CertificateStatus::kRevoked || !rev) {
    state.status = x509::OcspCertStatus::kGood;
    return state;
  }
  state.status = x509::OcspCertStatus::kRevoked;
  state.revoked_at = rev->revoked_at;
  state.reason = static_cast<int>(rev->reason);
  state.invalidity_date = rev->invalidity_date;
  return state;
}

x509::OcspSingleResponse MakeSingleResponse(ByteSpan cert_id, const CertState& state,
                                            UnixSeconds now, int validity_seconds,
                                            const ResponderIdentity& identity) {
  x509::OcspSingleResponse single;
  single.cert_id = cert_id;
  single.status = state.status;
  single.revocation_time = state.revoked_at;
  single.revocation_reason = state.reason;
  single.invalidity_date = state.invalidity_date;
  //= https://www.rfc-editor.org/rfc/rfc5019#section-2.2.4
  //# The thisUpdate field indicates the time at which the status being indicated is known to be
  //# correct.  The nextUpdate field indicates the time at or before which newer information
  //# will be available about the status of the certificate.
  single.this_update = now;
  single.next_update = std::min<UnixSeconds>(now + validity_seconds, identity.responder_not_after);
  return single;
}

std::optional<Bytes> SerialOctets(std::string_view serial_hex) {
  if (serial_hex.empty() || serial_hex.size() % 2 != 0 || serial_hex.size() > 40) {
    return std::nullopt;
  }
  Bytes out(serial_hex.size() / 2);
  for (size_t i = 0; i < out.size(); ++i) {
    int value = 0;
    for (size_t j = 0; j < 2; ++j) {
      const char c = serial_hex[2 * i + j];
      int digit;
      if (c >= '0' && c <= '9') {
        digit = c - '0';
      } else if (c >= 'A' && c <= 'F') {
        digit = c - 'A' + 10;
      } else if (c >= 'a' && c <= 'f') {
        digit = c - 'a' + 10;
      } else {
        return std::nullopt;
      }
      value = value * 16 + digit;
    }
    out[i] = static_cast<uint8_t>(value);
  }
  return out;
}

Bytes CanonicalCertId(const ResponderIdentity& identity, ByteSpan serial) {
  return x509::EncodeCertId(identity.hashes(x509::OcspHash::kSha1), serial);
}

Bytes CanonicalRequest(const ResponderIdentity& identity, ByteSpan serial) {
  const Bytes cert_id = CanonicalCertId(identity, serial);
  return x509::EncodeOcspRequest(std::span<const Bytes>(&cert_id, 1), std::nullopt);
}

}  // namespace kyso::ocsp
