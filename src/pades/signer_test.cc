#include "pades/signer.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "base/files.h"
#include "pades/visible.h"
#include "testlib/shell.h"
#include "testlib/temp_dir.h"
#include "testlib/test_party.h"
#include "testlib/testdata.h"
#include "x509/timestamp.h"

namespace kyso::pades {
namespace {

using testlib::Shell;
using testlib::TempDir;
using testlib::TestdataPath;

constexpr UnixSeconds kNow = 1763535802;  // 2025-11-19 14:03:22 +07:00

using Party = testlib::TestParty;

Party MakeParty(const std::string& subject, const Party* issuer, x509::Extensions ext,
                uint8_t serial, UnixSeconds not_after = kNow + 86400 * 365) {
  return testlib::MakeTestParty(subject, issuer, std::move(ext), serial, kNow,
                                static_cast<int>((not_after - kNow) / 86400));
}

x509::Extensions CaExtensions() {
  x509::Extensions ca;
  ca.is_ca = true;
  ca.key_usage = {"keyCertSign", "cRLSign"};
  return ca;
}
x509::Extensions LeafExtensions() {
  x509::Extensions leaf;
  leaf.key_usage = {"digitalSignature", "nonRepudiation"};
  leaf.ocsp_urls = {"http://ocsp.test/ocsp"};
  leaf.crl_urls = {"http://crl.test/root.crl"};
  return leaf;
}
x509::Extensions TsaExtensions() {
  x509::Extensions tsa_ext;
  tsa_ext.key_usage = {"digitalSignature"};
  tsa_ext.extended_key_usage = {"timeStamping"};
  tsa_ext.extended_key_usage_critical = true;
  tsa_ext.crl_urls = {"http://crl.test/root.crl"};
  return tsa_ext;
}

struct Pki {
  Party root = MakeParty("/C=VN/O=Ban Cơ yếu Chính phủ/CN=Root test", nullptr, CaExtensions(), 1);
  Party signer =
      MakeParty("/C=VN/O=Sở Khoa học và Công nghệ/CN=Nguyễn Văn An", &root, LeafExtensions(), 2);
  Party tsa = MakeParty("/C=VN/O=Ban Cơ yếu Chính phủ/CN=TSA test", &root, TsaExtensions(), 3);
  Pki() = default;
  Pki(const Pki&) = delete;
  Credentials credentials() const {
    return {signer.signer, signer.certificate, {root.certificate}};
  }
};

// In-process TSA; OCSP unavailable (so the signer falls back to the CRL); a fixed CRL.
class FakeServices : public ValidationServices {
 public:
  explicit FakeServices(const Pki& pki)
      : tsa_(*x509::TimeStampSigner::Create(pki.tsa.certificate, pki.tsa.signer,
                                            {.policy_oid = "2.16.704.1.99.2.1"})) {}
  Result<Bytes> TimeStamp(ByteSpan request) override {
    ++timestamps;
    KYSO_ASSIGN_OR_RETURN(auto parsed, x509::ParseTimeStampRequest(request));
    return tsa_.Grant(parsed, serial_++, kNow + 1);
  }
  Result<Bytes> Ocsp(const std::string& url, ByteSpan) override {
    ocsp_urls.push_back(url);
    return Unavailable("test.down", "the OCSP responder is down");
  }
  Result<Bytes> Crl(const std::string& url) override {
    crl_urls.push_back(url);
    return Bytes{0x30, 0x03, 0x02, 0x01, 0x07};
  }
  int timestamps = 0;
  std::vector<std::string> ocsp_urls, crl_urls;

 private:
  x509::TimeStampSigner tsa_;
  uint64_t serial_ = 1;
};

SignOptions Options(Level level, ValidationServices* services = nullptr) {
  SignOptions o;
  o.level = level;
  o.signing_time = kNow;
  o.durable = false;
  o.services = services;
  o.spec.reason = "Phê duyệt";
  return o;
}

struct Extracted {
  Bytes signed_ranges;
  Bytes contents;  // DER, padding removed
};

// The last signature's ranges and CMS, read from the file the way a verifier does.
Extracted ExtractLast(const std::string& path) {
  auto data = ReadFile(path, 64 << 20);
  EXPECT_TRUE(data.ok());
  std::string text(data->begin(), data->end());
  size_t at = text.rfind("/ByteRange [");
  EXPECT_NE(at, std::string::npos);
  long long r[4];
  EXPECT_EQ(std::sscanf(text.c_str() + at, "/ByteRange [%lld %lld %lld %lld]", &r[0], &r[1], &r[2],
                        &r[3]),
            4);
  Extracted e;
  e.signed_ranges.assign(data->begin() + r[0], data->begin() + r[0] + r[1]);
  e.signed_ranges.insert(e.signed_ranges.end(), data->begin() + r[2], data->begin() + r[2] + r[3]);
  std::string hex = text.substr(r[1] + 1, r[2] - r[1] - 2);
  Bytes der;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    der.push_back(static_cast<uint8_t>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  // Drop the zero padding: the DER header says how long the value is.
  size_t len = der[1] < 0x80 ? der[1] + 2 : 0;
  if (der[1] >= 0x80) {
    int n = der[1] & 0x7F;
    for (int i = 0; i < n; ++i) len = (len << 8) | der[2 + i];
    len += 2 + n;
  }
  der.resize(len);
  e.contents = std::move(der);
  return e;
}

TEST(PadesSigner, BaselineBVerifiesWithOpenSslCms) {
  TempDir dir;
  Pki pki;
  auto doc = pdf::Document::Open(TestdataPath("pdf/cong-van.pdf"));
  ASSERT_TRUE(doc.ok());
  auto outcome = SignPdf(*doc, pki.credentials(), Options(Level::kBB), dir.File("out.pdf"));
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  EXPECT_EQ(outcome->revisions_added, 1);
  Extracted e = ExtractLast(dir.File("out.pdf"));
  testlib::WriteBytes(dir.File("ranges.bin"), e.signed_ranges);
  testlib::WriteBytes(dir.File("sig.der"), e.contents);
  testlib::WriteBytes(dir.File("root.pem"), AsBytes(pki.root.certificate.ToPem()));
  std::string out;
  EXPECT_EQ(Shell("openssl cms -verify -binary -inform DER -in " + dir.File("sig.der") +
                      " -content " + dir.File("ranges.bin") + " -CAfile " + dir.File("root.pem") +
                      " -purpose any -attime " + std::to_string(kNow) + " -out /dev/null",
                  &out),
            0)
      << out;
  ASSERT_EQ(Shell("openssl cms -cmsout -print -inform DER -in " + dir.File("sig.der"), &out), 0);
  EXPECT_NE(out.find("id-smime-aa-signingCertificateV2"), std::string::npos);
  EXPECT_EQ(out.find("signingTime"), std::string::npos);  // PAdES: the time is /M
  EXPECT_EQ(Shell("qpdf --check " + dir.File("out.pdf"), &out), 0) << out;
}

TEST(PadesSigner, BaselineTEmbedsASignatureTimeStamp) {
  TempDir dir;
  Pki pki;
  FakeServices services(pki);
  auto doc = pdf::Document::Open(TestdataPath("pdf/cong-van-xref-stream.pdf"));
  ASSERT_TRUE(doc.ok());
  auto outcome =
      SignPdf(*doc, pki.credentials(), Options(Level::kBT, &services), dir.File("out.pdf"));
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  EXPECT_EQ(services.timestamps, 1);
  Extracted e = ExtractLast(dir.File("out.pdf"));
  testlib::WriteBytes(dir.File("sig.der"), e.contents);
  std::string out;
  ASSERT_EQ(Shell("openssl cms -cmsout -print -inform DER -in " + dir.File("sig.der"), &out), 0);
  EXPECT_NE(out.find("id-smime-aa-timeStampToken"), std::string::npos) << out;
}

TEST(PadesSigner, BaselineLtaAddsDssThenADocumentTimeStamp) {
  TempDir dir;
  Pki pki;
  FakeServices services(pki);
  auto doc = pdf::Document::Open(TestdataPath("pdf/cong-van.pdf"));
  ASSERT_TRUE(doc.ok());
  auto outcome =
      SignPdf(*doc, pki.credentials(), Options(Level::kBLTA, &services), dir.File("out.pdf"));
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  EXPECT_EQ(outcome->revisions_added, 3);
  // Signer and TSA certificates: OCSP down, so each falls back to its CRL.
  EXPECT_EQ(services.ocsp_urls, std::vector<std::string>{"http://ocsp.test/ocsp"});
  EXPECT_EQ(services.crl_urls.size(), 2u);
  EXPECT_EQ(outcome->dss_crls, 2u);
  EXPECT_EQ(outcome->dss_certificates, 3u);  // signer, root, TSA
  EXPECT_EQ(services.timestamps, 2);

  auto signed_doc = pdf::Document::Open(dir.File("out.pdf"));
  ASSERT_TRUE(signed_doc.ok());
  auto sigs = signed_doc->Signatures();
  ASSERT_EQ(sigs.size(), 2u);
  EXPECT_TRUE(sigs[1].is_document_timestamp);
  EXPECT_EQ(sigs[1].sub_filter, "ETSI.RFC3161");

  Extracted e = ExtractLast(dir.File("out.pdf"));
  testlib::WriteBytes(dir.File("ranges.bin"), e.signed_ranges);
  testlib::WriteBytes(dir.File("token.der"), e.contents);
  testlib::WriteBytes(dir.File("root.pem"), AsBytes(pki.root.certificate.ToPem()));
  testlib::WriteBytes(dir.File("tsa.pem"), AsBytes(pki.tsa.certificate.ToPem()));
  std::string out;
  EXPECT_EQ(Shell("openssl ts -verify -data " + dir.File("ranges.bin") + " -in " +
                      dir.File("token.der") + " -token_in -CAfile " + dir.File("root.pem") +
                      " -untrusted " + dir.File("tsa.pem") + " -attime " + std::to_string(kNow + 1),
                  &out),
            0)
      << out;
  EXPECT_NE(out.find("Verification: OK"), std::string::npos) << out;
  EXPECT_EQ(Shell("mutool show " + dir.File("out.pdf") + " trailer/Root/DSS", &out), 0);
  EXPECT_NE(out.find("/VRI"), std::string::npos) << out;
}

TEST(PadesSigner, SecondSignatureKeepsTheFirstValid) {
  TempDir dir;
  Pki pki;
  auto doc = pdf::Document::Open(TestdataPath("pdf/with-form-fields.pdf"));
  ASSERT_TRUE(doc.ok());
  SignOptions first = Options(Level::kBB);
  first.placement.field_name = "LanhDao";
  first.placement.create_field = false;
  ASSERT_TRUE(SignPdf(*doc, pki.credentials(), first, dir.File("one.pdf")).ok());
  auto one = pdf::Document::Open(dir.File("one.pdf"));
  ASSERT_TRUE(one.ok());
  Extracted before = ExtractLast(dir.File("one.pdf"));
  SignOptions second = Options(Level::kBB);
  second.placement.field_name = "CoQuan";
  second.placement.create_field = false;
  ASSERT_TRUE(SignPdf(*one, pki.credentials(), second, dir.File("two.pdf")).ok());
  auto two = pdf::Document::Open(dir.File("two.pdf"));
  ASSERT_TRUE(two.ok());
  EXPECT_EQ(two->Signatures().size(), 2u);
  // The first signature's bytes are a prefix of the second file.
  auto a = ReadFile(dir.File("one.pdf"), 4 << 20);
  auto b = ReadFile(dir.File("two.pdf"), 4 << 20);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_TRUE(std::equal(a->begin(), a->end(), b->begin()));
}

TEST(PadesSigner, RefusesAndLeavesNothingBehind) {
  TempDir dir;
  Pki pki;
  auto doc = pdf::Document::Open(TestdataPath("pdf/cong-van.pdf"));
  ASSERT_TRUE(doc.ok());
  Credentials wrong_key = pki.credentials();
  wrong_key.signer = pki.tsa.signer;
  EXPECT_EQ(SignPdf(*doc, wrong_key, Options(Level::kBB), dir.File("a.pdf")).status().id(),
            "pades.key_mismatch");
  SignOptions late = Options(Level::kBB);
  late.signing_time = kNow + 86400 * 400;
  EXPECT_EQ(SignPdf(*doc, pki.credentials(), late, dir.File("a.pdf")).status().id(),
            "pades.certificate_expired");
  EXPECT_EQ(SignPdf(*doc, pki.credentials(), Options(Level::kBT), dir.File("a.pdf")).status().id(),
            "pades.no_services");
  SignOptions off_page = Options(Level::kBB);
  off_page.placement.rect = pdf::Rectangle{500, 800, 900, 900};
  EXPECT_EQ(SignPdf(*doc, pki.credentials(), off_page, dir.File("a.pdf")).status().id(),
            "pdf.rect_off_page");
  int files = 0;
  for ([[maybe_unused]] auto& entry : std::filesystem::directory_iterator(dir.path())) ++files;
  EXPECT_EQ(files, 0);  // no output, no temporary file
}

// ETSI EN 319 122-1 B-B over any bytes: openssl cms verifies it against the root alone (the
// chain is in the CMS) and prints the CAdES attributes; the credentials are checked as for PDFs.
TEST(CadesSigner, DetachedBaselineBVerifiesWithOpenSslCms) {
  TempDir dir;
  Pki pki;
  const std::string content = R"({"kind":"new_individual","form":{"full_name":"Lê Thị Đào"}})";
  auto cms = SignDetachedCades(pki.credentials(), AsBytes(content), kNow);
  ASSERT_TRUE(cms.ok()) << cms.status().ToString();
  testlib::WriteBytes(dir.File("doc.json"), AsBytes(content));
  testlib::WriteBytes(dir.File("doc.json.p7s"), *cms);
  testlib::WriteBytes(dir.File("root.pem"), AsBytes(pki.root.certificate.ToPem()));
  const std::string verify = "openssl cms -verify -binary -inform DER -in " +
                             dir.File("doc.json.p7s") + " -CAfile " + dir.File("root.pem") +
                             " -purpose any -attime " + std::to_string(kNow) +
                             " -out /dev/null -content ";
  std::string out;
  EXPECT_EQ(Shell(verify + dir.File("doc.json"), &out), 0) << out;
  testlib::WriteBytes(dir.File("other.json"), AsBytes(content + "\n"));
  EXPECT_NE(Shell(verify + dir.File("other.json"), &out), 0) << "other bytes must not verify";
  ASSERT_EQ(Shell("openssl cms -cmsout -print -inform DER -in " + dir.File("doc.json.p7s"), &out),
            0);
  for (const char* attribute : {"object: contentType", "object: signingTime",
                                "object: id-smime-aa-signingCertificateV2", "eContent: <ABSENT>"}) {
    EXPECT_NE(out.find(attribute), std::string::npos) << attribute;
  }

  Credentials wrong_key = pki.credentials();
  wrong_key.signer = pki.tsa.signer;
  EXPECT_EQ(SignDetachedCades(wrong_key, AsBytes(content), kNow).status().id(),
            "pades.key_mismatch");
  EXPECT_EQ(
      SignDetachedCades(pki.credentials(), AsBytes(content), kNow + 86400 * 400).status().id(),
      "pades.certificate_expired");
}

TEST(PadesVisible, IssuedSealOverlapsTheLeftThirdOfTheAuthoritySignature) {
  TempDir dir;
  Pki pki;
  auto doc = pdf::Document::Open(TestdataPath("pdf/cong-van.pdf"));
  ASSERT_TRUE(doc.ok());
  auto image = ReadFile(TestdataPath("img/con-dau.png"), 1 << 20);
  ASSERT_TRUE(image.ok());
  auto seal = appearance::PrepareImage(*image);
  ASSERT_TRUE(seal.ok());

  SignOptions approved = Options(Level::kBB);
  VisibleOptions sig;
  sig.kind = Kind::kApproved;
  sig.page = 2;
  sig.rect = pdf::Rectangle{334.49, 200.66, 334.49 + 170.08, 200.66 + 79.37};  // layout.json
  sig.image = *seal;
  ASSERT_TRUE(PlanVisibleSignature(*doc, pki.signer.certificate, sig, approved).ok());
  ASSERT_TRUE(SignPdf(*doc, pki.credentials(), approved, dir.File("one.pdf")).ok());

  auto one = pdf::Document::Open(dir.File("one.pdf"));
  ASSERT_TRUE(one.ok());
  SignOptions issued = Options(Level::kBB);
  VisibleOptions stamp;
  stamp.kind = Kind::kIssued;
  stamp.page = 2;
  stamp.image = *seal;
  ASSERT_TRUE(PlanVisibleSignature(*one, pki.signer.certificate, stamp, issued).ok());
  ASSERT_TRUE(issued.placement.rect.has_value());
  // layout.json seal_image_rect: [289.13, 189.32, 102.05, 102.05].
  const pdf::Rectangle& r = *issued.placement.rect;
  EXPECT_NEAR(r.llx, 289.13, 0.05);
  EXPECT_NEAR(r.lly, 189.32, 0.05);
  EXPECT_NEAR(r.width(), 102.05, 0.05);
  EXPECT_NEAR(r.height(), 102.05, 0.05);

  VisibleOptions nothing_to_overlap = stamp;
  SignOptions fresh = Options(Level::kBB);
  EXPECT_EQ(PlanVisibleSignature(*doc, pki.signer.certificate, nothing_to_overlap, fresh).id(),
            "pades.no_position");
  VisibleOptions no_image = stamp;
  no_image.image = nullptr;
  EXPECT_EQ(PlanVisibleSignature(*one, pki.signer.certificate, no_image, fresh).id(),
            "pades.image_required");
}

TEST(PadesVisible, FormatsTheSigningTimeInVietnamTime) {
  EXPECT_EQ(FormatSigningTime(kNow, 420), "19.11.2025 14:03:22 +07:00");
  Pki pki;
  auto lines = InformationBlock(pki.signer.certificate, kNow, 420);
  ASSERT_GE(lines.size(), 3u);
  EXPECT_EQ(lines[0], "Ký bởi: Nguyễn Văn An");
  EXPECT_EQ(lines[1], "Cơ quan: Sở Khoa học và Công nghệ");
  EXPECT_EQ(lines.back(), "Thời gian ký: 19.11.2025 14:03:22 +07:00");
}

}  // namespace
}  // namespace kyso::pades

namespace kyso::pades {
namespace {

TEST(PadesVisible, ParsesRectanglesInPointsAndMillimetres) {
  auto pt = ParseRectangle("334.49,200.66,170.08,79.37", false);
  ASSERT_TRUE(pt.ok());
  EXPECT_NEAR(pt->urx, 504.57, 1e-9);
  auto mm = ParseRectangle("10,20,60,28", true);
  ASSERT_TRUE(mm.ok());
  EXPECT_NEAR(mm->llx, 10 * kPointsPerMm, 1e-9);
  EXPECT_NEAR(mm->width(), 60 * kPointsPerMm, 1e-9);
  for (const char* bad : {"", "1,2,3", "1,2,3,4,5", "1,,3,4", "a,2,3,4", "1,2,3,inf"}) {
    EXPECT_EQ(ParseRectangle(bad, false).status().id(), "sign.bad_rect") << bad;
  }
}

}  // namespace
}  // namespace kyso::pades
