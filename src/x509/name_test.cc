#include "x509/name.h"

#include <gtest/gtest.h>

namespace kyso::x509 {
namespace {

TEST(Name, ParsesSlashedFormWithDiacritics) {
  auto n = Name::ParseSlashed(
      "/C=VN/L=Đà Nẵng/O=UBND TP Đà Nẵng/CN=Sở Y tế/UID=MST:0400260612/email=syt@danang.gov.vn");
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  ASSERT_EQ(n->attributes().size(), 6u);
  EXPECT_EQ(n->First("CN"), "Sở Y tế");
  EXPECT_EQ(n->First("emailAddress"), "syt@danang.gov.vn");
  EXPECT_EQ(n->ToRfc4514(),
            "emailAddress=syt@danang.gov.vn,UID=MST:0400260612,CN=Sở Y tế,O=UBND TP Đà Nẵng,L=Đà "
            "Nẵng,C=VN");
  EXPECT_EQ(Name::ParseSlashed(n->ToSlashed())->attributes(), n->attributes());
}

TEST(Name, EscapesSlashesAndRfc4514Specials) {
  auto n = Name::ParseSlashed("/O=Sở A\\/B, Phòng 1/CN=x");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->First("O"), "Sở A/B, Phòng 1");
  EXPECT_EQ(n->ToRfc4514(), "CN=x,O=Sở A/B\\, Phòng 1");
  EXPECT_EQ(n->ToSlashed(), "/O=Sở A\\/B, Phòng 1/CN=x");
}

TEST(Name, RefusesMalformed) {
  EXPECT_EQ(Name::ParseSlashed("CN=x").status().id(), "name.malformed");
  EXPECT_EQ(Name::ParseSlashed("/CN").status().id(), "name.malformed");
  EXPECT_EQ(Name::ParseSlashed("/CN=").status().id(), "name.malformed");
  EXPECT_EQ(Name::ParseSlashed("/XYZ=1").status().id(), "name.unknown_attribute");
  EXPECT_TRUE(Name::ParseSlashed("/2.5.4.97=VATVN-0100109106").ok());
}

}  // namespace
}  // namespace kyso::x509
