// A key and a certificate for tests of signing and verification: a P-256 key and a certificate
// its issuer (or itself) signed, parsed again as a relying party would see it. Header-only:
// only tests that link kyso_x509 include it.
#pragma once

#include <memory>
#include <string>

#include "crypto/signer.h"
#include "x509/certificate.h"

namespace kyso::testlib {

struct TestParty {
  std::shared_ptr<crypto::SoftwareSigner> signer;
  x509::Certificate certificate;
};

// Valid from a day before `now` for `days` days.
inline TestParty MakeTestParty(const std::string& subject, const TestParty* issuer,
                               x509::Extensions extensions, uint8_t serial, UnixSeconds now,
                               int days = 365) {
  auto key = crypto::PrivateKey::Generate(*crypto::KeySpec::Parse("ec:P-256"));
  auto signer = std::make_shared<crypto::SoftwareSigner>(std::move(key).value(), subject);
  x509::CertificateTemplate t{.serial = {serial},
                              .subject = *x509::Name::ParseSlashed(subject),
                              .subject_key = signer->public_key(),
                              .not_before = now - 86400,
                              .not_after = now + int64_t{86400} * days,
                              .extensions = std::move(extensions)};
  auto cert = x509::BuildCertificate(t, issuer ? &issuer->certificate : nullptr,
                                     issuer ? *issuer->signer : *signer, {});
  return TestParty{signer, *x509::Certificate::FromDer(cert->der())};
}

}  // namespace kyso::testlib
