// Who answers for which CA: the delegated OCSP responders of this instance, loaded from the
// store's settings (ca::kOcspKeySetting, ca::kOcspCertificateSetting), and the pieces of a
// response that depend only on them.
//
// RFC 6960 §4.2.2.2: a response must be signed by the CA that issued the certificate, or by a
// responder the CA delegated with a certificate carrying id-kp-OCSPSigning. The delegate's
// certificate issuer is the CA it answers for. A CA with no delegate (the offline root) gets
// no identity: requests about its certificates are answered `unauthorized` (RFC 6960 §2.3),
// because its key never comes online to sign them.
//
// Thread-safety: a ResponderIdentity is immutable once built and shared between threads.
#pragma once

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/result.h"
#include "crypto/key_store.h"
#include "store/records.h"
#include "store/store.h"
#include "x509/certificate.h"
#include "x509/ocsp.h"

namespace kyso::ocsp {

struct ResponderOptions;

struct ResponderIdentity {
  int64_t ca_id = 0;
  std::string ca_name;
  std::shared_ptr<const x509::Certificate> ca_certificate;
  // The CA's issuerNameHash / issuerKeyHash under each CertID hash, indexed by x509::OcspHash.
  std::array<x509::OcspIssuerHashes, x509::kOcspHashCount> issuer_hashes;
  std::shared_ptr<const x509::OcspResponseSigner> signer;
  UnixSeconds responder_not_after = 0;
  // The settings this identity was built from: a change means a key rollover.
  std::string key_ref;
  std::string certificate_pem;

  const x509::OcspIssuerHashes& hashes(x509::OcspHash hash) const {
    return issuer_hashes[static_cast<size_t>(hash)];
  }
  // True when `id` names this identity's CA.
  bool Matches(const x509::OcspCertId& id) const;
};

// What the settings say, read in one transaction.
struct ResponderSettings {
  std::optional<std::string> key_ref;
  std::optional<std::string> certificate_pem;
  std::vector<store::CaRecord> cas;
};
Result<ResponderSettings> ReadResponderSettings(store::Database& db);
// Only the two settings (what Poll re-reads every few milliseconds).
Result<ResponderSettings> ReadResponderKeySettings(store::Transaction& tx);

// Builds the identities the settings describe. Errors:
//   ocsp.no_responder       (FailedPrecondition) no delegated responder is configured
//   ocsp.not_a_responder    (FailedPrecondition) the certificate lacks id-kp-OCSPSigning
//   ocsp.unknown_issuer     (FailedPrecondition) no CA of this instance issued the certificate
//   ocsp.responder_expired  (FailedPrecondition) the certificate has expired at `now`
//   ocsp.key_mismatch       (FailedPrecondition) the key is not the certificate's
// and the KeyStore's errors when the key cannot be loaded.
Result<std::vector<std::shared_ptr<const ResponderIdentity>>> BuildResponderIdentities(
    const ResponderSettings& settings, crypto::KeyStore& keys, UnixSeconds now);

// The status facts a SingleResponse states about one certificate.
struct CertState {
  x509::OcspCertStatus status = x509::OcspCertStatus::kUnknown;
  UnixSeconds revoked_at = 0;
  std::optional<int> reason;  // RFC 5280 CRLReason code
  std::optional<UnixSeconds> invalidity_date;
};
CertState StateOf(store::CertificateStatus status, const std::optional<store::Revocation>& rev);

// A SingleResponse about `cert_id` signed at `now`: thisUpdate now, nextUpdate now + validity
// but never after the responder certificate expires (the response could not be verified
// after that).
x509::OcspSingleResponse MakeSingleResponse(ByteSpan cert_id, const CertState& state,
                                            UnixSeconds now, int validity_seconds,
                                            const ResponderIdentity& identity);

// Serial hex (Certificate::serial_hex convention) to magnitude octets; nullopt for what no
// certificate of ours can have (empty, negative, odd length, longer than 20 octets per RFC 5280
// §4.1.2.2).
std::optional<Bytes> SerialOctets(std::string_view serial_hex);

// The CertID `openssl ocsp -issuer CA -serial N` sends for `serial_hex` under `identity`'s CA
// (SHA-1, NULL parameters), and the request carrying it alone without a nonce.
Bytes CanonicalCertId(const ResponderIdentity& identity, ByteSpan serial);
Bytes CanonicalRequest(const ResponderIdentity& identity, ByteSpan serial);

}  // namespace kyso::ocsp
