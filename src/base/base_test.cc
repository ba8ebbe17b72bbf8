#include <gtest/gtest.h>
#include <sys/stat.h>

#include "base/bytes.h"
#include "base/clock.h"
#include "base/files.h"
#include "base/result.h"

namespace kyso {
namespace {

TEST(Bytes, HexRoundTrip) {
  Bytes b = {0x00, 0x7f, 0xab, 0xff};
  EXPECT_EQ(HexEncode(b), "007FABFF");
  EXPECT_EQ(HexDecode("00:7f:AB:ff"), b);
  EXPECT_FALSE(HexDecode("abc").has_value());
  EXPECT_FALSE(HexDecode("zz").has_value());
}

TEST(Bytes, Base64) {
  EXPECT_EQ(Base64Encode(AsBytes("")), "");
  EXPECT_EQ(Base64Encode(AsBytes("f")), "Zg==");
  EXPECT_EQ(Base64Encode(AsBytes("fo")), "Zm8=");
  EXPECT_EQ(Base64Encode(AsBytes("foobar")), "Zm9vYmFy");
}

TEST(Clock, FormatsAndParses) {
  EXPECT_EQ(FormatUtc(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(ParseTime("2026-11-21T03:04:05Z"), 1795230245);
  EXPECT_EQ(ParseTime("2026-11-21T10:04:05+07:00"), 1795230245);
  EXPECT_EQ(FormatVietnam(1795230245), "21.11.2026 10:04:05 +07:00");
  EXPECT_EQ(ParseTime("2026-11-21"), 1795219200);
  EXPECT_FALSE(ParseTime("21/11/2026").has_value());
  EXPECT_FALSE(ParseTime("2026-13-01").has_value());
}

TEST(Result, CarriesValueOrStatus) {
  Result<int> good = 3;
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 3);
  Result<int> bad = NotFound("x.missing", "no x");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().id(), "x.missing");
  EXPECT_EQ(bad.status().ToString(), "x.missing: no x");
}

TEST(Files, AtomicWriteKeepsModeAndRefusesOverwrite) {
  char tmpl[] = "/tmp/kyso-base-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  std::string path = dir + "/secret";
  ASSERT_TRUE(WriteNewFile(path, AsBytes("one"), 0600).ok());
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(WriteNewFile(path, AsBytes("two")).id(), "file.exists");
  ASSERT_TRUE(WriteFileAtomic(path, AsBytes("three"), 0600).ok());
  EXPECT_EQ(*ReadTextFile(path), "three");
  EXPECT_EQ(ReadFile(dir + "/missing").status().id(), "file.not_found");
  EXPECT_EQ(ReadFile(path, 2).status().id(), "file.too_large");
}

}  // namespace
TEST(Base64Test, RoundTripsBothAlphabets) {
  const Bytes data = {0xfb, 0xff, 0x00, 0x3e, 0x3f};
  EXPECT_EQ(Base64Encode(data), "+/8APj8=");
  EXPECT_EQ(Base64UrlEncode(data), "-_8APj8");
  EXPECT_EQ(Base64Decode("+/8APj8="), data);
  EXPECT_EQ(Base64Decode("-_8APj8"), data);
  EXPECT_EQ(Base64Decode(""), Bytes{});
  EXPECT_EQ(Base64Decode("TWE="), (Bytes{'M', 'a'}));
  EXPECT_EQ(Base64Decode("TQ"), (Bytes{'M'}));
}

TEST(Base64Test, RejectsWhatNoEncoderWrites) {
  EXPECT_EQ(Base64Decode("TWE*"), std::nullopt);   // bad character
  EXPECT_EQ(Base64Decode("T"), std::nullopt);      // impossible length
  EXPECT_EQ(Base64Decode("TQ="), std::nullopt);    // padding to a non-multiple of 4
  EXPECT_EQ(Base64Decode("TR=="), std::nullopt);   // non-zero leftover bits
  EXPECT_EQ(Base64Decode("TQ==="), std::nullopt);  // too much padding
}

}  // namespace kyso
