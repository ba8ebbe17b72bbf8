#include "x509/pem.h"

#include <gtest/gtest.h>

#include "testlib/csr_factory.h"
#include "x509/crl.h"

namespace kyso::x509 {
namespace {

struct Fixture {
  Certificate ca;
  Bytes crl;
};

const Fixture& TestObjects() {
  static const Fixture fixture = [] {
    const auto& key = testlib::CachedKey("ec:P-256");
    crypto::SoftwareSigner signer(key, "t");
    CertificateTemplate t{
        {0x01}, *Name::ParseSlashed("/C=VN/CN=CA"), key.public_key(), 1000, 1000000000, {}};
    t.extensions.is_ca = true;
    t.extensions.key_usage = {"keyCertSign", "cRLSign"};
    Certificate ca = *BuildCertificate(t, nullptr, signer, {});
    CrlTemplate crl;
    crl.number = 1;
    crl.this_update = 5000;
    crl.next_update = 6000;
    return Fixture{ca, *BuildCrl(crl, ca, signer, {})};
  }();
  return fixture;
}

std::string Pem(std::string_view label, const Bytes& der) {
  // Base64 by hand is not worth it: the certificate's own PEM has the right body for its DER.
  std::string body = TestObjects().ca.ToPem();
  if (der != TestObjects().ca.der()) return "";
  body.replace(body.find("CERTIFICATE"), 11, label);
  body.replace(body.rfind("CERTIFICATE"), 11, label);
  return body;
}

Bytes AsBytesOf(std::string_view text) {
  return Bytes(text.begin(), text.end());
}

TEST(DerObjectsOf, DerIsTakenAsIs) {
  auto ders = DerObjectsOf(TestObjects().ca.der(), DerKind::kCertificate);
  ASSERT_TRUE(ders.ok()) << ders.status().ToString();
  ASSERT_EQ(ders->size(), 1u);
  EXPECT_EQ(ders->front(), TestObjects().ca.der());
  auto crl = DerObjectsOf(TestObjects().crl, DerKind::kCrl);
  ASSERT_TRUE(crl.ok()) << crl.status().ToString();
  EXPECT_EQ(crl->front(), TestObjects().crl);
}

TEST(DerObjectsOf, PemBlocksOfTheKindInOrderOthersSkipped) {
  const std::string cert = TestObjects().ca.ToPem();
  const std::string text = "a comment line\n" + cert +
                           "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n" + cert;
  auto ders = DerObjectsOf(AsBytesOf(text), DerKind::kCertificate);
  ASSERT_TRUE(ders.ok()) << ders.status().ToString();
  ASSERT_EQ(ders->size(), 2u);
  EXPECT_EQ((*ders)[1], TestObjects().ca.der());
}

TEST(DerObjectsOf, UnreadableInputsAreErrorsWithTheKindsId) {
  const std::string cert = TestObjects().ca.ToPem();
  // A certificate where a CRL is wanted: no block of the kind.
  EXPECT_EQ(DerObjectsOf(AsBytesOf(cert), DerKind::kCrl).status().id(), "crl.malformed");
  // The DER of another kind.
  EXPECT_EQ(DerObjectsOf(TestObjects().ca.der(), DerKind::kCrl).status().id(), "crl.malformed");
  // DER with a trailing byte.
  Bytes trailing = TestObjects().crl;
  trailing.push_back(0);
  EXPECT_EQ(DerObjectsOf(trailing, DerKind::kCrl).status().id(), "crl.malformed");
  // Neither.
  EXPECT_EQ(DerObjectsOf(AsBytesOf("hello"), DerKind::kOcspResponse).status().id(),
            "ocsp.malformed_response");
  EXPECT_EQ(DerObjectsOf({}, DerKind::kCms).status().id(), "cms.malformed");
  // A block without its END line.
  const std::string truncated = cert.substr(0, cert.size() / 2);
  EXPECT_EQ(DerObjectsOf(AsBytesOf(truncated), DerKind::kCertificate).status().id(),
            "cert.malformed");
  // A CRL label over a certificate's body.
  EXPECT_EQ(
      DerObjectsOf(AsBytesOf(Pem("X509 CRL", TestObjects().ca.der())), DerKind::kCrl).status().id(),
      "crl.malformed");
}

}  // namespace
}  // namespace kyso::x509
