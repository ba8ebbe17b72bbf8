// Identifier syntax: UID numbers, e-mail, host names, IP addresses, OIDs, UTF-8 text.
#include "policy/identifiers.h"

#include <gtest/gtest.h>

#include <string>

namespace kyso::policy {
namespace {

std::string UidError(std::string_view value) {
  Result<Uid> uid = ParseUid(value);
  return uid.ok() ? "" : uid.status().id();
}

TEST(UidTest, AcceptsEveryPrefixInItsFormat) {
  for (const char* value :
       {"CCCD:001099012345", "CMND:123456789", "CMND:123456789012", "MST:0400260612",
        "MST:0100109106001", "MST:0100109106-001", "MNS:1047665", "BHXH:0123456789", "HC:C1234567",
        "PID:B7654321", "PPID:X12345678", "PPID:123456789"}) {
    EXPECT_EQ(UidError(value), "") << value;
  }
}

TEST(UidTest, RefusesMalformedNumbersNamingPrefixAndDigits) {
  Result<Uid> uid = ParseUid("CCCD:12345");
  ASSERT_FALSE(uid.ok());
  EXPECT_EQ(uid.status().id(), "profile.uid_malformed");
  EXPECT_EQ(uid.status().message(), "UID CCCD:12345 must have 12 digits");

  for (const char* value :
       {"CCCD:0010990123456", "CCCD:00109901234a", "CMND:12345678", "CMND:1234567890",
        "MST:040026061", "MST:01001091060", "MST:0100109106-01", "MST:010010910-6001",
        "MST:0100109106_001", "MNS:104766", "MNS:10476650", "BHXH:012345678", "HC:c1234567",
        "HC:C123456", "PID:C12345678901", "PPID:C1234-567", "CCCD:", "CCCD: 001099012345"}) {
    EXPECT_EQ(UidError(value), "profile.uid_malformed") << value;
  }
}

TEST(UidTest, MessagesNameTheExpectedDigits) {
  EXPECT_EQ(ParseUid("MNS:12").status().message(), "UID MNS:12 must have 7 digits");
  EXPECT_EQ(ParseUid("CMND:12").status().message(), "UID CMND:12 must have 9 or 12 digits");
}

TEST(UidTest, RefusesValuesWithoutPrefix) {
  EXPECT_EQ(UidError("001099012345"), "profile.uid_malformed");
  EXPECT_EQ(UidError(":001099012345"), "profile.uid_malformed");
}

TEST(UidTest, RefusesUnknownPrefixes) {
  EXPECT_EQ(UidError("XYZ:123"), "profile.uid_prefix_unknown");
  EXPECT_EQ(UidError("cccd:001099012345"), "profile.uid_prefix_unknown");
  EXPECT_EQ(UidError("CCCD :001099012345"), "profile.uid_prefix_unknown");
}

TEST(UidTest, CanonicalFormDropsTheTaxCodeHyphen) {
  EXPECT_EQ(ParseUid("MST:0100109106-001")->canonical, "MST:0100109106001");
  EXPECT_EQ(ParseUid("MST:0100109106001")->canonical, "MST:0100109106001");
  EXPECT_EQ(ParseUid("MST:0100109106-001")->number, "0100109106-001");
}

TEST(EmailTest, AcceptsAddrSpecs) {
  for (const char* email : {"syt@danang.gov.vn", "nguyen.van.a@mof.gov.vn", "a+tag@x.vn",
                            "o'brien@agency.gov.vn", "x@xn--bcher-kva.vn"}) {
    EXPECT_TRUE(CheckEmailAddress(email).ok()) << email;
  }
}

TEST(EmailTest, RefusesMalformedAddresses) {
  for (const char* email :
       {"", "syt", "@danang.gov.vn", "syt@", "syt@@danang.gov.vn", "a@b@c.vn", "syt@localhost",
        ".syt@danang.gov.vn", "syt.@danang.gov.vn", "s..t@danang.gov.vn", "s t@danang.gov.vn",
        "syt@danang..gov.vn", "syt@-danang.gov.vn", "sở@danang.gov.vn", "syt@đà-nẵng.vn",
        "\"quoted\"@danang.gov.vn"}) {
    Status status = CheckEmailAddress(email);
    EXPECT_EQ(status.id(), "profile.email_malformed") << email;
  }
  EXPECT_EQ(CheckEmailAddress(std::string(65, 'a') + "@x.vn").id(), "profile.email_malformed");
}

TEST(DnsTest, AcceptsHostNames) {
  for (const char* name : {"dichvucong.gov.vn", "a.b", "localhost", "xn--bcher-kva.vn", "3com.vn",
                           "s1-api.mof.gov.vn"}) {
    EXPECT_TRUE(CheckDnsName(name, false).ok()) << name;
  }
  EXPECT_TRUE(CheckDnsName("*.mof.gov.vn", true).ok());
}

TEST(DnsTest, RefusesMalformedHostNames) {
  for (const char* name : {"", ".", "a..b", "-a.vn", "a-.vn", "a_b.vn", "a.vn.", "bộ.vn",
                           "10.0.0.1", "a b.vn", "*.mof.gov.vn", "a.*.vn", "*mof.gov.vn"}) {
    EXPECT_EQ(CheckDnsName(name, false).id(), "profile.dns_malformed") << name;
  }
  EXPECT_EQ(CheckDnsName("*.vn", true).id(), "profile.dns_malformed");
  EXPECT_EQ(CheckDnsName("*.*.gov.vn", true).id(), "profile.dns_malformed");
  EXPECT_EQ(CheckDnsName(std::string(64, 'a') + ".vn", false).id(), "profile.dns_malformed");
  EXPECT_EQ(CheckDnsName(std::string(63, 'a') + ".vn", false).id(), "");
}

TEST(IpTest, AcceptsV4AndV6) {
  for (const char* ip : {"10.10.1.5", "0.0.0.0", "2001:db8::1", "::1", "::ffff:10.0.0.1"}) {
    EXPECT_TRUE(CheckIpAddress(ip).ok()) << ip;
  }
}

TEST(IpTest, RefusesMalformedAddresses) {
  for (std::string ip : {"", "999.1.1.1", "10.1.1", "10.1.1.1.1", "fe80::1%eth0", "host",
                         "2001:db8:::1", "010.1.1.1"}) {
    EXPECT_EQ(CheckIpAddress(ip).id(), "profile.ip_malformed") << ip;
  }
  EXPECT_EQ(CheckIpAddress(std::string("10.0.0.1\0junk", 13)).id(), "profile.ip_malformed");
}

TEST(OidTest, ChecksDottedSyntax) {
  for (const char* oid :
       {"2.16.704.1.99.1.1", "1.3.6.1.5.5.7.3.36", "0.9.2342.19200300.100.1.1", "2.999", "1.39"}) {
    EXPECT_TRUE(IsDottedOid(oid)) << oid;
  }
  for (const char* oid : {"", "2", "2.", ".2.5", "2..5", "3.1", "1.40", "0.99", "2.16.704.01",
                          "2.16.704.x", "2.16.704.1.99.-1", " 2.5.4.3"}) {
    EXPECT_FALSE(IsDottedOid(oid)) << oid;
  }
}

TEST(Utf8Test, CountsCodePointsNotBytes) {
  EXPECT_EQ(Utf8Length("Ủy ban nhân dân"), 15u);
  EXPECT_EQ(std::string("Ủy ban nhân dân").size(), 19u);
  EXPECT_EQ(Utf8Length(""), 0u);
  EXPECT_EQ(Utf8Length("\xF0\x9F\x98\x80"), 1u);  // U+1F600
}

TEST(Utf8Test, RefusesIllFormedSequences) {
  for (std::string bad :
       {"\xC0\x80", "\xC1\xBF", "\xE0\x80\x80", "\xED\xA0\x80", "\xF4\x90\x80\x80",
        "\xF5\x80\x80\x80", "\x80", "\xC3", "\xE1\xBB", "a\xFF"}) {
    EXPECT_FALSE(Utf8Length(bad).has_value()) << testing::PrintToString(bad);
  }
}

TEST(AttributeTextTest, RefusesEmptyBlankControlAndPaddedValues) {
  EXPECT_TRUE(CheckAttributeText("CN", "Sở Y tế").ok());
  for (std::string bad :
       {std::string(""), std::string("   "), std::string("\xC2\xA0"), std::string("\xE3\x80\x80"),
        std::string("A\tB"), std::string("A\nB"), std::string("A\0B", 3), std::string("\xC2\x85"),
        std::string(" Sở"), std::string("Sở "), std::string("S\xFF")}) {
    EXPECT_EQ(CheckAttributeText("CN", bad).id(), "profile.subject_value_invalid")
        << testing::PrintToString(bad);
  }
}

}  // namespace
}  // namespace kyso::policy
