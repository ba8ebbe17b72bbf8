#include "x509/crl.h"

#include <gtest/gtest.h>

#include "testlib/csr_factory.h"

namespace kyso::x509 {
namespace {

TEST(Crl, FullAndDeltaWithReasons) {
  const auto& key = testlib::CachedKey("ec:P-256");
  crypto::SoftwareSigner signer(key, "t");
  CertificateTemplate t{
      {0x01}, *Name::ParseSlashed("/C=VN/CN=CA"), key.public_key(), 1000, 1000000000, {}};
  t.extensions.is_ca = true;
  t.extensions.key_usage = {"keyCertSign", "cRLSign"};
  Certificate ca = *BuildCertificate(t, nullptr, signer, {});

  CrlTemplate full;
  full.number = 7;
  full.this_update = 5000;
  full.next_update = 5000 + 86400;
  full.freshest_crl_urls = {"http://127.0.0.1:8080/crl/issuing-delta.crl"};
  full.entries = {{{0x0A, 0x0B}, 4000, 1, 3900},
                  {{0x0C}, 4100, 0, std::nullopt},
                  {{0x7F, 0x01}, 4200, 4, std::nullopt}};
  auto der = BuildCrl(full, ca, signer, {});
  ASSERT_TRUE(der.ok()) << der.status().ToString();
  auto crl = Crl::FromDer(*der);
  ASSERT_TRUE(crl.ok());
  EXPECT_EQ(crl->number(), 7);
  EXPECT_FALSE(crl->delta_base().has_value());
  EXPECT_EQ(crl->entry_count(), 3u);
  EXPECT_EQ(crl->ReasonFor("0A0B"), 1);
  EXPECT_EQ(crl->ReasonFor("0C"), -1);  // unspecified: the reasonCode extension is absent
  EXPECT_EQ(crl->ReasonFor("7F01"), 4);
  EXPECT_FALSE(crl->ReasonFor("0D").has_value());
  EXPECT_EQ(crl->this_update(), 5000);
  EXPECT_EQ(crl->next_update(), 5000 + 86400);
  EXPECT_TRUE(crl->IsSignedBy(key.public_key()));

  CrlTemplate delta = full;
  delta.number = 8;
  delta.delta_base_number = 7;
  delta.entries.resize(1);
  auto delta_der = BuildCrl(delta, ca, signer, {});
  ASSERT_TRUE(delta_der.ok());
  auto d = Crl::FromDer(*delta_der);
  EXPECT_EQ(d->delta_base(), 7);
  EXPECT_EQ(d->number(), 8);
}

TEST(Crl, RefusesBadInput) {
  EXPECT_EQ(Crl::FromDer(AsBytes("nope")).status().id(), "crl.malformed");
}

}  // namespace
}  // namespace kyso::x509

namespace kyso::x509 {
namespace {

// The entry list is DER-encoded by hand and spliced into OpenSSL's TBSCertList: check it under
// every signature scheme and with serials that need a sign octet or carry leading zeros.
TEST(Crl, DirectEntryEncodingUnderEverySchemeParsesAndVerifies) {
  struct Case {
    const char* key;
    crypto::RsaPadding padding;
  };
  for (const Case& c :
       {Case{"rsa:2048", crypto::RsaPadding::kPss}, Case{"rsa:2048", crypto::RsaPadding::kPkcs1v15},
        Case{"ed25519", {}}, Case{"ec:P-384", {}}}) {
    const auto& key = testlib::CachedKey(c.key);
    crypto::SoftwareSigner signer(key, "t");
    auto scheme = crypto::SignatureScheme::DefaultFor(key.spec(), c.padding);
    CertificateTemplate t{
        {0x01}, *Name::ParseSlashed("/C=VN/CN=CA"), key.public_key(), 1000, 4000000000, {}};
    t.extensions.is_ca = true;
    t.extensions.key_usage = {"keyCertSign", "cRLSign"};
    Certificate ca = *BuildCertificate(t, nullptr, signer, scheme);
    CrlTemplate crl;
    crl.number = 300;              // two-octet INTEGER
    crl.this_update = 2524608000;  // 2050-01-01: GeneralizedTime
    crl.next_update = 2524608000 + 86400;
    crl.entries = {{{0x80, 0xFF}, 2524607000, 9, 2524600000},
                   {{0x00, 0x00, 0x05}, 1700000000, 10, std::nullopt},
                   {{0x01}, 1700000000, 0, std::nullopt}};
    auto der = BuildCrl(crl, ca, signer, scheme);
    ASSERT_TRUE(der.ok()) << c.key << ": " << der.status().ToString();
    auto parsed = Crl::FromDer(*der);
    ASSERT_TRUE(parsed.ok()) << c.key;
    EXPECT_TRUE(parsed->IsSignedBy(key.public_key())) << c.key;
    EXPECT_EQ(parsed->entry_count(), 3u);
    EXPECT_EQ(parsed->number(), 300);
    EXPECT_EQ(parsed->ReasonFor("80FF"), 9);
    EXPECT_EQ(parsed->ReasonFor("05"), 10);
    EXPECT_EQ(parsed->ReasonFor("01"), -1);
    EXPECT_EQ(parsed->this_update(), 2524608000);
  }
}

}  // namespace
}  // namespace kyso::x509
