#include "x509/certificate.h"

#include <gtest/gtest.h>
#include <openssl/x509.h>

#include "testlib/csr_factory.h"

namespace kyso::x509 {
namespace {

using crypto::SignatureScheme;
using crypto::SoftwareSigner;

struct Ca {
  SoftwareSigner signer;
  Certificate cert;
};

Ca MakeRoot(const std::string& spec, crypto::RsaPadding padding = crypto::RsaPadding::kPkcs1v15) {
  const auto& key = testlib::CachedKey(spec);
  SoftwareSigner signer(key, "test");
  CertificateTemplate t{{0x01, 0x02},
                        *Name::ParseSlashed("/C=VN/O=Ban Cơ yếu Chính phủ/CN=Root"),
                        key.public_key(),
                        1700000000,
                        1700000000 + 20 * 365 * kSecondsPerDay,
                        {}};
  t.extensions.is_ca = true;
  t.extensions.key_usage = {"keyCertSign", "cRLSign"};
  auto scheme = SignatureScheme::DefaultFor(key.spec(), padding);
  auto cert = BuildCertificate(t, nullptr, signer, scheme);
  EXPECT_TRUE(cert.ok()) << cert.status().ToString();
  return {signer, *cert};
}

TEST(Certificate, SelfSignedRootForEveryKeyType) {
  for (const char* spec : {"rsa:2048", "ec:P-256", "ec:P-384", "ed25519"}) {
    Ca root = MakeRoot(spec);
    EXPECT_TRUE(root.cert.is_ca()) << spec;
    EXPECT_TRUE(root.cert.IsSignedBy(root.signer.public_key())) << spec;
    EXPECT_EQ(root.cert.subject(), root.cert.issuer());
    EXPECT_EQ(root.cert.serial_hex(), "0102");
    EXPECT_EQ(root.cert.subject().First("O"), "Ban Cơ yếu Chính phủ");
  }
}

// A certificate fresh from BuildCertificate must be usable by OpenSSL's own verifier: its
// subject key was set from raw SPKI fields, which OpenSSL cannot decode on demand.
TEST(Certificate, BuiltCertificateWorksWithOpenSslVerification) {
  Ca root = MakeRoot("ec:P-256");
  ASSERT_NE(X509_get0_pubkey(root.cert.openssl()), nullptr);
  X509_STORE* store = X509_STORE_new();
  X509_STORE_add_cert(store, root.cert.openssl());
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  X509_STORE_CTX_init(ctx, store, root.cert.openssl(), nullptr);
  X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx), 1700000000 + 100);
  EXPECT_EQ(X509_verify_cert(ctx), 1)
      << X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx));
  X509_STORE_CTX_free(ctx);
  X509_STORE_free(store);
}

TEST(Certificate, RsaPssSignature) {
  Ca root = MakeRoot("rsa:2048", crypto::RsaPadding::kPss);
  EXPECT_EQ(root.cert.signature_algorithm(), "RSASSA-PSS");
  EXPECT_TRUE(root.cert.IsSignedBy(root.signer.public_key()));
}

TEST(Certificate, EndEntityExtensionsRoundTrip) {
  Ca root = MakeRoot("ec:P-256");
  const auto& leaf_key = testlib::CachedKey("ec:P-384");
  CertificateTemplate t{{0x7F, 0xAA},
                        *Name::ParseSlashed("/C=VN/CN=Trần Văn Bình/UID=CCCD:001234567890"),
                        leaf_key.public_key(),
                        1700000000,
                        1700000000 + 365 * kSecondsPerDay,
                        {}};
  Extensions& e = t.extensions;
  e.key_usage = {"digitalSignature", "nonRepudiation"};
  e.extended_key_usage = {"clientAuth", "emailProtection", "documentSigning"};
  e.policy_oids = {"2.16.704.1.99.1.1"};
  e.ocsp_urls = {"http://127.0.0.1:8080/ocsp"};
  e.ca_issuers_urls = {"http://127.0.0.1:8080/ca/issuing.crt"};
  e.crl_urls = {"http://127.0.0.1:8080/crl/issuing.crl"};
  e.email_sans = {"binh@example.gov.vn"};
  e.dns_sans = {"sign.example.gov.vn"};
  e.ip_sans = {"10.0.0.1"};
  auto cert = BuildCertificate(t, &root.cert, root.signer, SignatureScheme{});
  ASSERT_TRUE(cert.ok()) << cert.status().ToString();
  EXPECT_TRUE(cert->IsSignedBy(root.signer.public_key()));
  EXPECT_FALSE(cert->IsSignedBy(leaf_key.public_key()));
  EXPECT_EQ(cert->issuer(), root.cert.subject());
  Extensions got = cert->extensions();
  EXPECT_FALSE(got.is_ca);
  EXPECT_EQ(got.key_usage, e.key_usage);
  EXPECT_TRUE(got.key_usage_critical);
  EXPECT_EQ(got.extended_key_usage, e.extended_key_usage);
  EXPECT_EQ(got.policy_oids, e.policy_oids);
  EXPECT_EQ(got.ocsp_urls, e.ocsp_urls);
  EXPECT_EQ(got.ca_issuers_urls, e.ca_issuers_urls);
  EXPECT_EQ(got.crl_urls, e.crl_urls);
  EXPECT_EQ(got.email_sans, e.email_sans);
  EXPECT_EQ(got.dns_sans, e.dns_sans);
  EXPECT_EQ(got.ip_sans, e.ip_sans);
  EXPECT_EQ(cert->not_before(), 1700000000);
  EXPECT_EQ(cert->subject().First("CN"), "Trần Văn Bình");
  EXPECT_EQ(cert->subject_key_id(), leaf_key.public_key().KeyIdentifier());
  auto reparsed = Certificate::FromPem(cert->ToPem());
  ASSERT_TRUE(reparsed.ok());
  EXPECT_EQ(reparsed->der(), cert->der());
}

TEST(Certificate, RefusesBadTemplates) {
  Ca root = MakeRoot("ec:P-256");
  CertificateTemplate t{{0x80}, *Name::ParseSlashed("/CN=x"), root.signer.public_key(), 10, 20, {}};
  EXPECT_EQ(BuildCertificate(t, nullptr, root.signer, {}).status().id(), "cert.bad_serial");
  t.serial = {0x01};
  t.not_after = 5;
  EXPECT_EQ(BuildCertificate(t, nullptr, root.signer, {}).status().id(), "cert.bad_validity");
  t.not_after = 20;
  t.extensions.key_usage = {"signEverything"};
  EXPECT_EQ(BuildCertificate(t, nullptr, root.signer, {}).status().id(), "cert.unknown_key_usage");
}

TEST(Certificate, RefusesMalformedInput) {
  EXPECT_EQ(Certificate::FromDer(AsBytes("garbage")).status().id(), "cert.malformed");
  EXPECT_EQ(Certificate::FromPem("nothing here").status().id(), "cert.malformed");
}

}  // namespace
}  // namespace kyso::x509
