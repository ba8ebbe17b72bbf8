#include "pdf/syntax.h"

#include <gtest/gtest.h>
#include <zlib.h>

namespace kyso::pdf {
namespace {

TEST(PdfSyntax, LiteralStringEscapes) {
  EXPECT_EQ(LiteralString("a(b)c\\"), "(a\\(b\\)c\\\\)");
  EXPECT_EQ(LiteralString(std::string("\x01\xff", 2)), "(\\001\\377)");
}

TEST(PdfSyntax, TextStringUsesUtf16ForVietnamese) {
  EXPECT_EQ(TextString("Ha Noi"), "(Ha Noi)");
  // "Hà" = H U+00E0 → FEFF 0048 00E0
  EXPECT_EQ(TextString("H\xC3\xA0"), "<FEFF004800E0>");
  // U+1F600 needs a surrogate pair.
  EXPECT_EQ(TextString("\xF0\x9F\x98\x80"), "<FEFFD83DDE00>");
}

TEST(PdfSyntax, NameEscapesDelimiters) {
  EXPECT_EQ(NameObject("Sig 1"), "/Sig#201");
  EXPECT_EQ(NameObject("A/B#"), "/A#2FB#23");
}

TEST(PdfSyntax, NumbersAreCompact) {
  EXPECT_EQ(Number(12.5), "12.5");
  EXPECT_EQ(Number(3), "3");
  EXPECT_EQ(Number(-0.00001), "0");
  EXPECT_EQ(Number(0.123456), "0.1235");
}

TEST(PdfSyntax, DateStringAtVietnamOffset) {
  // 2025-11-19T07:03:22Z is 14:03:22 in Hà Nội.
  EXPECT_EQ(DateString(1763535802, 420), "(D:20251119140322+07'00')");
  EXPECT_EQ(DateString(1763535802, 0), "(D:20251119070322Z)");
}

TEST(PdfSyntax, DeflateRoundTrips) {
  Bytes data(10000, 'x');
  Bytes z = Deflate(data);
  ASSERT_FALSE(z.empty());
  EXPECT_LT(z.size(), data.size());
  Bytes back(data.size());
  uLongf len = back.size();
  ASSERT_EQ(uncompress(back.data(), &len, z.data(), z.size()), Z_OK);
  EXPECT_EQ(back, data);
}

}  // namespace
}  // namespace kyso::pdf
