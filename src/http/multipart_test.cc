#include "http/multipart.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "http/message.h"

namespace kyso::http {
namespace {

constexpr std::string_view kType = "multipart/form-data; boundary=XyZ123";

std::string Part(std::string_view headers, std::string_view data) {
  return "--XyZ123\r\n" + std::string(headers) + "\r\n" + std::string(data) + "\r\n";
}
const std::string kClose = "--XyZ123--\r\n";

Result<std::vector<MultipartPart>> Parse(std::string_view type, const std::string& body,
                                         const MultipartLimits& limits = {}) {
  return ParseMultipart(type, AsBytes(body), limits);
}

void ExpectError(std::string_view type, const std::string& body, std::string_view id,
                 const MultipartLimits& limits = {}) {
  auto parts = Parse(type, body, limits);
  ASSERT_FALSE(parts.ok()) << "expected " << id << " for body:\n" << body;
  EXPECT_EQ(parts.status().id(), id) << parts.status().ToString() << "\nbody:\n" << body;
  EXPECT_EQ(parts.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(HttpStatusFor(parts.status()), 400);
}

bool Within(ByteSpan inner, const std::string& outer) {
  const auto* begin = reinterpret_cast<const uint8_t*>(outer.data());
  return inner.data() >= begin && inner.data() + inner.size() <= begin + outer.size();
}

TEST(MultipartTest, TwoParts) {
  // As curl -F 'options={"level":"B-T"}' -F 'file=@doc.pdf;type=application/pdf' sends it.
  const std::string body =
      Part("Content-Disposition: form-data; name=\"options\"\r\n", R"({"level":"B-T"})") +
      Part(
          "Content-Disposition: form-data; name=\"file\"; filename=\"doc.pdf\"\r\n"
          "Content-Type: application/pdf\r\n",
          "%PDF-1.7\n...") +
      kClose;
  auto parts = Parse(kType, body);
  ASSERT_TRUE(parts.ok()) << parts.status().ToString();
  ASSERT_EQ(parts->size(), 2u);
  const MultipartPart& options = (*parts)[0];
  EXPECT_EQ(options.name, "options");
  EXPECT_FALSE(options.filename.has_value());
  EXPECT_EQ(options.content_type, "text/plain");  // RFC 7578 §4.4 default
  EXPECT_EQ(AsString(options.data), R"({"level":"B-T"})");
  const MultipartPart& file = (*parts)[1];
  EXPECT_EQ(file.name, "file");
  EXPECT_EQ(file.filename, "doc.pdf");
  EXPECT_EQ(file.content_type, "application/pdf");
  EXPECT_EQ(AsString(file.data), "%PDF-1.7\n...");
  // Zero-copy: views into the body, at the right place.
  EXPECT_TRUE(Within(options.data, body));
  EXPECT_EQ(reinterpret_cast<const char*>(file.data.data()), body.data() + body.find("%PDF"));
}

TEST(MultipartTest, BinaryDataWithDashesAndLineBreaks) {
  std::string data;
  for (int i = 0; i < 256; ++i) data += static_cast<char>(i);
  // Near misses of the delimiter: it is CRLF "--XyZ123" followed by padding and CRLF or "--".
  data += "--XyZ123\r\n";      // no CRLF before: content
  data += "\r\n--XyZ12\r\n";   // shorter boundary: content
  data += "\r\n-XyZ123\r\n";   // one dash: content
  data += "\n--XyZ123\r\n";    // bare LF before: content
  data += "\r\r\n\n--\r\n--";  // stray CR/LF and dashes
  data += std::string("\0\r\n", 3);
  const std::string body =
      Part(
          "Content-Disposition: form-data; name=\"bin\"; filename=\"x.bin\"\r\n"
          "Content-Type: application/octet-stream\r\n",
          data) +
      kClose;
  auto parts = Parse(kType, body);
  ASSERT_TRUE(parts.ok()) << parts.status().ToString();
  ASSERT_EQ(parts->size(), 1u);
  EXPECT_EQ(AsString((*parts)[0].data), data);
  EXPECT_TRUE(Within((*parts)[0].data, body));
}

TEST(MultipartTest, BoundaryForms) {
  const std::string quoted = "a'()+_,-./:=? b";
  const std::string body =
      "--" + quoted + "\r\nContent-Disposition: form-data; name=a\r\n\r\nA\r\n--" + quoted + "--";
  auto parts = Parse("multipart/form-data; boundary=\"" + quoted + "\"", body);
  ASSERT_TRUE(parts.ok()) << parts.status().ToString();
  ASSERT_EQ(parts->size(), 1u);
  EXPECT_EQ(AsString((*parts)[0].data), "A");

  // Case-insensitive type and parameter name, other parameters, whitespace around ';'.
  const std::string plain = Part("Content-Disposition: form-data; name=a\r\n", "A") + kClose;
  for (std::string_view type : {"Multipart/Form-Data;BOUNDARY=XyZ123",
                                "multipart/form-data ; charset=utf-8;\tboundary=\"XyZ123\" ",
                                "  multipart/form-data; boundary=XyZ123"}) {
    parts = Parse(type, plain);
    ASSERT_TRUE(parts.ok()) << type << ": " << parts.status().ToString();
    EXPECT_EQ(parts->size(), 1u);
  }

  // 70 characters is the maximum.
  const std::string b70(70, 'b');
  parts =
      Parse("multipart/form-data; boundary=" + b70,
            "--" + b70 + "\r\nContent-Disposition: form-data; name=x\r\n\r\n\r\n--" + b70 + "--");
  ASSERT_TRUE(parts.ok()) << parts.status().ToString();
  EXPECT_TRUE((*parts)[0].data.empty());
}

TEST(MultipartTest, PreambleEpilogueAndPadding) {
  const std::string body = "This is the preamble.\r\nIt is to be ignored.\r\n" +
                           std::string("--XyZ123 \t\r\n") +
                           "Content-Disposition: form-data; name=\"a\"\r\n\r\nA\r\n"
                           "--XyZ123\t\r\n"
                           "Content-Disposition: form-data; name=\"b\"\r\n\r\nB\r\n"
                           "--XyZ123-- \r\nThis is the epilogue.\r\n--XyZ123\r\njunk";
  auto parts = Parse(kType, body);
  ASSERT_TRUE(parts.ok()) << parts.status().ToString();
  ASSERT_EQ(parts->size(), 2u);
  EXPECT_EQ(AsString((*parts)[0].data), "A");
  EXPECT_EQ(AsString((*parts)[1].data), "B");

  // No CRLF after the close delimiter at all is fine too.
  parts = Parse(kType, Part("Content-Disposition: form-data; name=a\r\n", "A") + "--XyZ123--");
  ASSERT_TRUE(parts.ok()) << parts.status().ToString();
}

TEST(MultipartTest, HeadersAndFilenames) {
  const std::string body =
      Part(
          "content-disposition: FORM-DATA; NAME=\"f1\"; filename=\"a \\\"quoted\\\" \\\\ "
          "name.pdf\"\r\n"
          "CONTENT-TYPE:application/pdf  \r\n"
          "X-Unknown: ignored\r\n",
          "1") +
      Part(
          "Content-Disposition: form-data; name=\"f2\"; filename=\"\"; "
          "filename*=UTF-8''%C3%A9.pdf\r\n",
          "2") +
      Part("Content-Disposition: form-data; name=\"f3\"; filename=\"r\xc3\xa9sum\xc3\xa9.pdf\"\r\n",
           "3") +
      kClose;
  auto parts = Parse(kType, body);
  ASSERT_TRUE(parts.ok()) << parts.status().ToString();
  ASSERT_EQ(parts->size(), 3u);
  EXPECT_EQ((*parts)[0].name, "f1");
  EXPECT_EQ((*parts)[0].filename, "a \"quoted\" \\ name.pdf");
  EXPECT_EQ((*parts)[0].content_type, "application/pdf");
  EXPECT_EQ((*parts)[1].filename, "");  // an empty file input
  EXPECT_EQ((*parts)[2].filename, "r\xc3\xa9sum\xc3\xa9.pdf");
}

TEST(MultipartTest, EmptyPartsAndEmptyForm) {
  // An empty body as CRLF + nothing, and a part whose headers run straight into the delimiter
  // (RFC 2046: body-part := MIME-part-headers [CRLF *OCTET]).
  const std::string body = Part("Content-Disposition: form-data; name=a\r\n", "") +
                           "--XyZ123\r\nContent-Disposition: form-data; name=b\r\n\r\n" + kClose;
  auto parts = Parse(kType, body);
  ASSERT_TRUE(parts.ok()) << parts.status().ToString();
  ASSERT_EQ(parts->size(), 2u);
  EXPECT_TRUE((*parts)[0].data.empty());
  EXPECT_TRUE((*parts)[1].data.empty());

  parts = Parse(kType, kClose);
  ASSERT_TRUE(parts.ok()) << parts.status().ToString();
  EXPECT_TRUE(parts->empty());
}

TEST(MultipartTest, NotMultipart) {
  const std::string body = Part("Content-Disposition: form-data; name=a\r\n", "A") + kClose;
  for (std::string_view type :
       {"", "application/json", "multipart/mixed; boundary=XyZ123", "multipart/form-datax",
        "multipart; boundary=XyZ123", "form-data; boundary=XyZ123"}) {
    ExpectError(type, body, "multipart.not_multipart");
  }
}

TEST(MultipartTest, NoBoundary) {
  const std::string body = Part("Content-Disposition: form-data; name=a\r\n", "A") + kClose;
  ExpectError("multipart/form-data", body, "multipart.no_boundary");
  ExpectError("multipart/form-data; charset=utf-8", body, "multipart.no_boundary");
}

TEST(MultipartTest, BadBoundary) {
  const std::string body = Part("Content-Disposition: form-data; name=a\r\n", "A") + kClose;
  ExpectError("multipart/form-data; boundary=\"\"", body, "multipart.bad_boundary");
  ExpectError("multipart/form-data; boundary=" + std::string(71, 'b'), body,
              "multipart.bad_boundary");
  ExpectError("multipart/form-data; boundary=\"ab \"", body, "multipart.bad_boundary");
  ExpectError("multipart/form-data; boundary=\"a<b\"", body, "multipart.bad_boundary");
  ExpectError("multipart/form-data; boundary=a!b", body, "multipart.bad_boundary");
  ExpectError("multipart/form-data; boundary=\"a\\\"b\"", body, "multipart.bad_boundary");
}

TEST(MultipartTest, Malformed) {
  const std::string cd = "Content-Disposition: form-data; name=a\r\n";
  const std::string good = Part(cd, "A") + kClose;
  ASSERT_TRUE(Parse(kType, good).ok());
  // Content-Type parameter syntax.
  ExpectError("multipart/form-data; boundary=\"XyZ123", good, "multipart.malformed");
  ExpectError("multipart/form-data; boundary", good, "multipart.malformed");
  ExpectError("multipart/form-data; boundary=XyZ123; boundary=XyZ123", good, "multipart.malformed");
  ExpectError("multipart/form-data boundary=XyZ123", good, "multipart.malformed");
  // Delimiters.
  ExpectError(kType, "", "multipart.malformed");
  ExpectError(kType, "no delimiter here", "multipart.malformed");
  ExpectError(kType, Part(cd, "A"), "multipart.malformed");  // no closing delimiter
  ExpectError(kType, "--XyZ123\r\n" + cd + "\r\nA", "multipart.malformed");
  ExpectError(kType, "--XyZ123" + cd + "\r\nA\r\n" + kClose, "multipart.malformed");
  ExpectError(kType, "--XyZ123X\r\n" + cd + "\r\nA\r\n" + kClose, "multipart.malformed");
  ExpectError(kType, Part(cd, "A") + "--XyZ123--junk", "multipart.malformed");
  ExpectError(kType, Part(cd, "A") + "--XyZ123", "multipart.malformed");
  ExpectError(kType, "--XyZ123\n" + cd + "\nA\n--XyZ123--\n", "multipart.malformed");  // LF only
  // Part headers.
  ExpectError(kType, Part("", "A") + kClose, "multipart.malformed");  // no headers
  ExpectError(kType, Part("Content-Type: text/plain\r\n", "A") + kClose, "multipart.malformed");
  ExpectError(kType, Part("Content-Disposition: form-data\r\n", "A") + kClose,
              "multipart.malformed");
  ExpectError(kType, Part("Content-Disposition: form-data; name=\"\"\r\n", "A") + kClose,
              "multipart.malformed");
  ExpectError(kType, Part("Content-Disposition: attachment; name=a\r\n", "A") + kClose,
              "multipart.malformed");
  ExpectError(kType, Part("Content-Disposition: form-data; name=a; name=b\r\n", "A") + kClose,
              "multipart.malformed");
  ExpectError(kType, Part(cd + cd, "A") + kClose, "multipart.malformed");
  ExpectError(kType, Part("Content-Disposition: form-data; name=\"a\r\n", "A") + kClose,
              "multipart.malformed");
  ExpectError(kType, Part(cd + "no colon here\r\n", "A") + kClose, "multipart.malformed");
  ExpectError(kType, Part(cd + ": no name\r\n", "A") + kClose, "multipart.malformed");
  ExpectError(kType, Part(cd + "X-Folded: a\r\n b\r\n", "A") + kClose, "multipart.malformed");
  ExpectError(kType, Part(cd + "X-Bad: a\rb\r\n", "A") + kClose, "multipart.malformed");
  ExpectError(kType, Part(cd + "X-Bad: a\nb\r\n", "A") + kClose, "multipart.malformed");
  ExpectError(kType, Part(cd + std::string("X-Nul: a\0b\r\n", 12), "A") + kClose,
              "multipart.malformed");
  ExpectError(kType, "--XyZ123\r\n" + cd + "--XyZ123--\r\n", "multipart.malformed");
  ExpectError(kType, "--XyZ123\r\n" + cd, "multipart.malformed");  // headers never end
}

TEST(MultipartTest, TooManyParts) {
  MultipartLimits limits;
  limits.max_parts = 2;
  std::string body;
  for (const char* name : {"a", "b"}) {
    body += Part("Content-Disposition: form-data; name=" + std::string(name) + "\r\n", "x");
  }
  auto parts = Parse(kType, body + kClose, limits);
  ASSERT_TRUE(parts.ok()) << parts.status().ToString();
  body += Part("Content-Disposition: form-data; name=c\r\n", "x");
  ExpectError(kType, body + kClose, "multipart.too_many_parts", limits);
}

TEST(MultipartTest, HeaderTooLarge) {
  MultipartLimits limits;
  limits.max_header_bytes = 64;
  // Exactly 64 bytes of header lines, CRLFs included.
  const std::string line = "Content-Disposition: form-data; name=a\r\n";  // 40
  const std::string pad = "X-P: " + std::string(64 - 40 - 7, 'p') + "\r\n";
  ASSERT_EQ(line.size() + pad.size(), 64u);
  auto parts = Parse(kType, Part(line + pad, "A") + kClose, limits);
  ASSERT_TRUE(parts.ok()) << parts.status().ToString();
  ExpectError(kType, Part(line + "X-P: " + std::string(64 - 40 - 6, 'p') + "\r\n", "A") + kClose,
              "multipart.header_too_large", limits);
  // One huge line, and many small ones.
  ExpectError(kType, Part(line + "X-Big: " + std::string(10'000, 'b') + "\r\n", "A") + kClose,
              "multipart.header_too_large");
  std::string many;
  for (int i = 0; i < 2000; ++i) many += "X-N: n\r\n";
  ExpectError(kType, Part(line + many, "A") + kClose, "multipart.header_too_large");
  // An unterminated header section longer than the limit is too large, not merely malformed.
  ExpectError(kType, "--XyZ123\r\n" + line + std::string(10'000, 'z'),
              "multipart.header_too_large");
}

TEST(MultipartTest, DuplicateName) {
  const std::string body = Part("Content-Disposition: form-data; name=\"file\"\r\n", "A") +
                           Part("Content-Disposition: form-data; name=file\r\n", "B") + kClose;
  ExpectError(kType, body, "multipart.duplicate_name");
}

TEST(MultipartTest, TenMegabytePdfParsesFastWithoutCopies) {
  std::string pdf = "%PDF-1.7\n";
  pdf.reserve(10u << 20);
  uint32_t x = 12345;
  while (pdf.size() < (10u << 20)) {  // noisy bytes, with CRLFs and dashes now and then
    x = x * 1103515245 + 12345;
    pdf += static_cast<char>(x >> 24);
    if ((x & 0xfff) == 0) pdf += "\r\n--XyZ12-";  // a near miss of the delimiter
  }
  const std::string body =
      Part("Content-Disposition: form-data; name=\"options\"\r\n", "{}") +
      Part(
          "Content-Disposition: form-data; name=\"file\"; filename=\"big.pdf\"\r\n"
          "Content-Type: application/pdf\r\n",
          pdf) +
      kClose;
  const auto started = std::chrono::steady_clock::now();
  auto parts = Parse(kType, body);
  const auto took = std::chrono::steady_clock::now() - started;
  ASSERT_TRUE(parts.ok()) << parts.status().ToString();
  ASSERT_EQ(parts->size(), 2u);
  const ByteSpan data = (*parts)[1].data;
  EXPECT_EQ(data.size(), pdf.size());
  EXPECT_TRUE(AsString(data) == pdf);
  EXPECT_EQ(reinterpret_cast<const char*>(data.data()), body.data() + body.find("%PDF"));
  // About 1 ms in an optimized build, a few ms under sanitizers; generous for loaded CI hosts.
  EXPECT_LT(took, std::chrono::milliseconds(100))
      << std::chrono::duration<double, std::milli>(took).count() << " ms";
}

}  // namespace
}  // namespace kyso::http
