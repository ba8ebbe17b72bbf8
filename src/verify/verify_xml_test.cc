// VerifyXml: the verdicts, sub-indications and finding ids of XAdES and XMLDSig documents.
#include <gtest/gtest.h>

#include "testlib/test_party.h"
#include "verify/engine.h"
#include "x509/crl.h"
#include "x509/timestamp.h"
#include "xades/xades.h"

namespace kyso::verify {
namespace {

constexpr UnixSeconds kNow = 1796680800;  // 2026-12-07T22:00:00Z

using Party = testlib::TestParty;

x509::Extensions Ca() {
  x509::Extensions e;
  e.is_ca = true;
  e.key_usage = {"keyCertSign", "cRLSign"};
  return e;
}
x509::Extensions Leaf() {
  x509::Extensions e;
  e.key_usage = {"digitalSignature", "nonRepudiation"};
  return e;
}
x509::Extensions Tsa() {
  x509::Extensions e;
  e.key_usage = {"digitalSignature"};
  e.extended_key_usage = {"timeStamping"};
  e.extended_key_usage_critical = true;
  return e;
}

struct Pki {
  Party root =
      testlib::MakeTestParty("/C=VN/O=Ban Cơ yếu Chính phủ/CN=Root test", nullptr, Ca(), 1, kNow);
  Party signer = testlib::MakeTestParty("/C=VN/O=Cục Thuế tỉnh Hòa Bình/CN=Lê Thị Thu Hà", &root,
                                        Leaf(), 2, kNow);
  Party tsa = testlib::MakeTestParty("/C=VN/CN=TSA test", &root, Tsa(), 3, kNow);
};

constexpr const char* kDeclaration =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<HSoThueDTu>\n  <HSoKhaiThue id=\"_NODE_TO_SIGN\"><TenNNT>Nguyễn Văn Đức</TenNNT>"
    "<ct21>15000000</ct21></HSoKhaiThue>\n  <CKyDTu/>\n</HSoThueDTu>\n";

VerifyOptions Options(const Pki& pki) {
  x509::CrlTemplate t;
  t.number = 1;
  t.this_update = kNow - 3600;
  t.next_update = kNow + 86400 * 30;
  VerifyOptions o;
  o.trust_anchors = {pki.root.certificate};
  o.now = kNow + 60;
  o.offline = true;
  o.crls = {*x509::BuildCrl(t, pki.root.certificate, *pki.root.signer, {})};
  return o;
}

std::string Sign(const Pki& pki, xades::SignOptions o = {}) {
  o.signing_time = kNow;
  auto out = xades::SignXml(AsBytes(kDeclaration),
                            {pki.signer.signer, pki.signer.certificate, {pki.root.certificate}}, o);
  EXPECT_TRUE(out.ok()) << out.status().ToString();
  return out.ok() ? std::string(AsString(*out)) : "";
}

DocumentReport Verify(const Pki& pki, const std::string& xml) {
  auto report = VerifyXml(AsBytes(xml), "declaration.xml", Options(pki));
  EXPECT_TRUE(report.ok());
  return report.ok() ? *report : DocumentReport{};
}

bool HasFinding(const DocumentReport& r, const std::string& id) {
  for (const auto& f : r.findings) {
    if (f.id == id) return true;
  }
  for (const auto& s : r.signatures) {
    for (const auto& f : s.findings) {
      if (f.id == id) return true;
    }
  }
  return false;
}

std::string Replace(std::string text, const std::string& from, const std::string& to) {
  auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

TEST(VerifyXml, OurXadesIsValidWithAVietnameseReport) {
  Pki pki;
  xades::SignOptions o;
  o.element_id = "_NODE_TO_SIGN";
  o.parent_element = "CKyDTu";
  auto report = Verify(pki, Sign(pki, o));
  ASSERT_EQ(report.signatures.size(), 1u);
  const auto& s = report.signatures[0];
  EXPECT_EQ(report.indication, Indication::kPassed) << RenderText(report, Language::kEnglish);
  EXPECT_EQ(report.format, "XML");
  EXPECT_EQ(s.type, "XAdES-B-B");
  EXPECT_TRUE(s.integrity);
  EXPECT_EQ(s.chain, "trusted");
  EXPECT_EQ(s.revocation, "good");
  EXPECT_EQ(s.time_source, "claimed");
  EXPECT_EQ(s.claimed_time, kNow);
  EXPECT_EQ(s.coverage, "<HSoKhaiThue id=\"_NODE_TO_SIGN\"> at /HSoThueDTu/HSoKhaiThue");
  std::string vi = RenderText(report, Language::kVietnamese);
  EXPECT_NE(vi.find("Lê Thị Thu Hà"), std::string::npos) << vi;
  EXPECT_NE(vi.find("HỢP LỆ"), std::string::npos) << vi;
}

TEST(VerifyXml, TimeStampedIsProvenTime) {
  Pki pki;
  auto tsa = x509::TimeStampSigner::Create(pki.tsa.certificate, pki.tsa.signer,
                                           {.policy_oid = "2.16.704.1.99.2.1"});
  ASSERT_TRUE(tsa.ok());
  xades::SignOptions o;
  o.level = xades::Level::kBT;
  o.time_stamp = [&](ByteSpan request) -> Result<Bytes> {
    KYSO_ASSIGN_OR_RETURN(auto parsed, x509::ParseTimeStampRequest(request));
    return tsa->Grant(parsed, 1, kNow + 1);
  };
  std::string xml = Sign(pki, o);
  auto report = Verify(pki, xml);
  ASSERT_EQ(report.signatures.size(), 1u);
  EXPECT_EQ(report.signatures[0].type, "XAdES-B-T");
  EXPECT_EQ(report.signatures[0].time_source, "timestamp") << RenderJson(report);
  EXPECT_EQ(report.signatures[0].timestamp_time, kNow + 1);
  EXPECT_EQ(report.indication, Indication::kPassed) << RenderJson(report);
  // The time-stamp covers this SignatureValue only: a token moved to another signature is no
  // proof of its time.
  size_t begin = xml.find("<xades:EncapsulatedTimeStamp>");
  size_t end = xml.find("</xades:EncapsulatedTimeStamp>");
  xades::SignOptions bb;
  bb.claimed_role = "Kế toán trưởng";
  std::string moved = Replace(Sign(pki, bb), "</xades:QualifyingProperties>",
                              "<xades:UnsignedProperties><xades:UnsignedSignatureProperties>"
                              "<xades:SignatureTimeStamp>" +
                                  xml.substr(begin, end - begin) +
                                  "</xades:EncapsulatedTimeStamp></xades:SignatureTimeStamp>"
                                  "</xades:UnsignedSignatureProperties></xades:UnsignedProperties>"
                                  "</xades:QualifyingProperties>");
  auto moved_report = Verify(pki, moved);
  EXPECT_TRUE(HasFinding(moved_report, "timestamp.imprint_mismatch")) << RenderJson(moved_report);
  EXPECT_EQ(moved_report.signatures.at(0).time_source, "claimed");
}

TEST(VerifyXml, OneCharacterChangedIsInvalid) {
  Pki pki;
  auto report = Verify(pki, Replace(Sign(pki), "Nguyễn Văn Đức", "Nguyễn Văn Đưc"));
  EXPECT_EQ(report.indication, Indication::kFailed);
  EXPECT_EQ(report.sub_indication, "HASH_FAILURE");
  EXPECT_TRUE(HasFinding(report, "integrity.digest_mismatch"));
}

TEST(VerifyXml, AlteredSignedPropertiesAreInvalid) {
  Pki pki;
  auto report = Verify(pki, Replace(Sign(pki), "<xades:SigningTime>2026-12-07T22:00:00Z",
                                    "<xades:SigningTime>2026-12-01T22:00:00Z"));
  EXPECT_EQ(report.indication, Indication::kFailed);
  EXPECT_EQ(report.sub_indication, "HASH_FAILURE");
  EXPECT_TRUE(HasFinding(report, "xades.signed_properties_altered"));
}

TEST(VerifyXml, DuplicateIdIsInvalid) {
  Pki pki;
  xades::SignOptions o;
  o.element_id = "_NODE_TO_SIGN";
  std::string wrapped =
      Replace(Sign(pki, o), "<CKyDTu/>", "<CKyDTu><HSoKhaiThue id=\"_NODE_TO_SIGN\"/></CKyDTu>");
  auto report = Verify(pki, wrapped);
  EXPECT_EQ(report.indication, Indication::kFailed);
  EXPECT_EQ(report.sub_indication, "FORMAT_FAILURE");
  EXPECT_TRUE(HasFinding(report, "xml.duplicate_id"));
}

TEST(VerifyXml, TheDeclarationMustBeTheSignedElement) {
  Pki pki;
  xades::SignOptions o;
  o.element_id = "_NODE_TO_SIGN";
  o.parent_element = "CKyDTu";
  std::string xml = Sign(pki, o);
  VerifyOptions options = Options(pki);
  options.xml_signed_element = "HSoKhaiThue";
  auto good = VerifyXml(AsBytes(xml), "d.xml", options);
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(good->indication, Indication::kPassed) << RenderJson(*good);
  // Signature wrapping: the signed body moved behind a forged one the application would read.
  size_t begin = xml.find("<HSoKhaiThue");
  size_t end = xml.find("</HSoKhaiThue>") + std::string("</HSoKhaiThue>").size();
  std::string body = xml.substr(begin, end - begin);
  std::string wrapped = xml;
  wrapped.replace(begin, end - begin, "<HSoKhaiThue><ct21>99000000</ct21></HSoKhaiThue>");
  wrapped = Replace(wrapped, "<CKyDTu>", "<PhuLuc>" + body + "</PhuLuc><CKyDTu>");
  auto bad = VerifyXml(AsBytes(wrapped), "d.xml", options);
  ASSERT_TRUE(bad.ok());
  EXPECT_EQ(bad->indication, Indication::kFailed);
  EXPECT_EQ(bad->sub_indication, "FORMAT_FAILURE");
  EXPECT_TRUE(HasFinding(*bad, "xml.unexpected_signed_element"));
  // Without the expectation the core still holds, and the report says where the body was.
  auto plain = Verify(pki, wrapped);
  EXPECT_EQ(plain.signatures.at(0).coverage,
            "<HSoKhaiThue id=\"_NODE_TO_SIGN\"> at /HSoThueDTu/PhuLuc/HSoKhaiThue");
}

TEST(VerifyXml, DtdIsRefused) {
  Pki pki;
  auto report = Verify(pki, "<!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/hostname\">]><r>&x;</r>");
  EXPECT_EQ(report.indication, Indication::kIndeterminate);
  EXPECT_EQ(report.sub_indication, "FORMAT_FAILURE");
  EXPECT_TRUE(HasFinding(report, "xml.dtd_forbidden"));
}

TEST(VerifyXml, Sha1IsCryptoConstraintsFailure) {
  Pki pki;
  // The same signature with its SignedInfo naming SHA-1 digests: refused for the algorithm
  // first (the digest then fails too, which makes it INVALID as well).
  std::string sha1 = Replace(Sign(pki), "http://www.w3.org/2001/04/xmlenc#sha256",
                             "http://www.w3.org/2000/09/xmldsig#sha1");
  auto report = Verify(pki, sha1);
  EXPECT_TRUE(HasFinding(report, "algorithm.sha1"));
  EXPECT_NE(report.indication, Indication::kPassed);
}

TEST(VerifyXml, NoSignatureIsIndeterminate) {
  Pki pki;
  auto report = Verify(pki, kDeclaration);
  EXPECT_EQ(report.indication, Indication::kIndeterminate);
  EXPECT_EQ(report.sub_indication, "NO_SIGNATURE");
  EXPECT_TRUE(HasFinding(report, "xml.no_signature"));
}

TEST(VerifyXml, UntrustedSignerIsIndeterminate) {
  Pki pki, other;
  auto report = VerifyXml(AsBytes(Sign(pki)), "d.xml", Options(other));
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->indication, Indication::kIndeterminate);
  EXPECT_EQ(report->sub_indication, "NO_CERTIFICATE_CHAIN_FOUND");
}

}  // namespace
}  // namespace kyso::verify
