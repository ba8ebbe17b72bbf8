// Responder key rollover: a new key for the delegated OCSP responder and a new responder
// certificate, put in service by switching the two settings that name them.
//
// Steps (RolloverResponder):
//   1. Read the current responder (settings ca::kOcspKeySetting / kOcspCertificateSetting) and
//      find the CA that issued it (its delegate answers for that CA, RFC 6960 §4.2.2.2).
//   2. Generate a key with the current key's spec (or `options.key`) and save it through the
//      KeyStore under a new name ("ocsp-signer-20261120T030405Z").
//   3. ca::CertificateAuthority::IssueServiceCertificate signs the new certificate under the
//      `ocsp-signer` profile (id-kp-OCSPSigning, id-pkix-ocsp-nocheck) with the same subject,
//      and in ONE transaction records it, points both settings at the new key and certificate,
//      and appends the audit entries.
// Running responders pick the change up on their next Responder::Poll() and swap atomically.
// The old certificate is not revoked: responses it signed stay valid until their nextUpdate,
// which never passes its notAfter (see responder.h for how they are phased out).
//
// If step 3 fails, the key saved in step 2 is left unused in the key store (the store is
// unchanged); a later rollover saves another.
#pragma once

#include <optional>
#include <string>

#include "base/clock.h"
#include "base/result.h"
#include "ca/authority.h"
#include "crypto/key.h"
#include "crypto/key_store.h"
#include "store/store.h"
#include "x509/certificate.h"

namespace kyso::ocsp {

struct RolloverOptions {
  std::optional<crypto::KeySpec> key;  // default: the current responder key's spec
  std::optional<int> validity_days;    // default: the profile's
  std::string profile = "ocsp-signer";
};

struct RolloverResult {
  x509::Certificate previous;
  x509::Certificate certificate;
  std::string key_ref;
};

// Errors: those of BuildResponderIdentities' checks on the current responder (ocsp.no_responder,
// ocsp.unknown_issuer), key generation and KeyStore errors, and the CA's (profile.*, store.*).
Result<RolloverResult> RolloverResponder(ca::CertificateAuthority& authority, store::Database& db,
                                         crypto::KeyStore& keys, const Clock& clock,
                                         const RolloverOptions& options = {});

}  // namespace kyso::ocsp
