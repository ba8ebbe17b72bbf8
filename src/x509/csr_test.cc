#include "x509/csr.h"

#include <gtest/gtest.h>

#include "testlib/csr_factory.h"

namespace kyso::x509 {
namespace {

using testlib::CachedKey;
using testlib::CsrOptions;
using testlib::MakeCsrDer;
using testlib::MakeCsrPem;

CsrOptions Person() {
  CsrOptions o;
  o.subject = {{"C", "VN"},
               {"L", "Hà Nội"},
               {"O", "Bộ Tài chính"},
               {"CN", "Nguyễn Thị Ánh Tuyết"},
               {"UID", "CCCD:001234567890"}};
  o.email_sans = {"tuyet@mof.gov.vn"};
  return o;
}

TEST(Csr, ParsesPemAndDerKeepingDiacritics) {
  const auto& key = CachedKey("ec:P-256");
  for (const std::string& input : {MakeCsrPem(key, Person()), MakeCsrDer(key, Person())}) {
    auto csr = Csr::Parse(AsBytes(input));
    ASSERT_TRUE(csr.ok()) << csr.status().ToString();
    EXPECT_EQ(csr->subject().First("CN"), "Nguyễn Thị Ánh Tuyết");
    EXPECT_EQ(csr->subject().First("UID"), "CCCD:001234567890");
    EXPECT_EQ(csr->key_spec().ToString(), "ec:P-256");
    EXPECT_EQ(csr->email_sans(), std::vector<std::string>{"tuyet@mof.gov.vn"});
    EXPECT_FALSE(csr->requests_ca());
    EXPECT_TRUE(csr->public_key().Equals(key.public_key()));
  }
}

TEST(Csr, EveryKeyType) {
  for (const char* spec : {"rsa:2048", "ec:P-384", "ed25519"}) {
    auto csr = Csr::Parse(AsBytes(MakeCsrPem(CachedKey(spec), Person())));
    ASSERT_TRUE(csr.ok()) << spec << ": " << csr.status().ToString();
    EXPECT_EQ(csr->key_spec().ToString(), spec);
  }
}

TEST(Csr, RefusesBadSignature) {
  CsrOptions o = Person();
  o.corrupt_signature = true;
  EXPECT_EQ(Csr::Parse(AsBytes(MakeCsrDer(CachedKey("ec:P-256"), o))).status().id(),
            "csr.bad_signature");
}

TEST(Csr, RefusesTruncatedAndTrailingAndGarbage) {
  std::string der = MakeCsrDer(CachedKey("ec:P-256"), Person());
  EXPECT_EQ(Csr::Parse(AsBytes(der.substr(0, der.size() - 10))).status().id(), "csr.malformed");
  EXPECT_EQ(Csr::Parse(AsBytes(der + "x")).status().id(), "csr.malformed");
  EXPECT_EQ(Csr::Parse(AsBytes("hello")).status().id(), "csr.malformed");
  EXPECT_EQ(Csr::Parse(AsBytes("")).status().id(), "csr.malformed");
  EXPECT_EQ(Csr::Parse(AsBytes("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"))
                .status()
                .id(),
            "csr.malformed");
}

TEST(Csr, ReportsCaRequestAndUnknownCriticalExtensions) {
  CsrOptions o = Person();
  o.request_ca = true;
  o.critical_extension_oid = "1.2.3.4.5";
  auto csr = Csr::Parse(AsBytes(MakeCsrPem(CachedKey("ec:P-256"), o)));
  ASSERT_TRUE(csr.ok()) << csr.status().ToString();
  EXPECT_TRUE(csr->requests_ca());
  EXPECT_EQ(csr->unsupported_critical_extensions(), std::vector<std::string>{"1.2.3.4.5"});
}

}  // namespace
}  // namespace kyso::x509
