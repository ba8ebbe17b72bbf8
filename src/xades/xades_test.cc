#include "xades/xades.h"

#include <gtest/gtest.h>

#include "testlib/test_party.h"

namespace kyso::xades {
namespace {

constexpr UnixSeconds kNow = 1796680800;  // 2026-12-07T22:00:00Z

// A declaration in the shape of the e-tax XML (HSoThueDTu): the body has an Id, the signature
// goes into CKyDTu.
constexpr const char* kDeclaration =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<HSoThueDTu xmlns=\"http://kekhaithue.gdt.gov.vn/TKhaiThue\">\n"
    "  <HSoKhaiThue id=\"_NODE_TO_SIGN\">\n"
    "    <TTinChung><TenNNT>Công ty TNHH Sản xuất Hòa Bình</TenNNT>"
    "<MST>0101234567</MST></TTinChung>\n"
    "    <CTieuTKhaiChinh><ct21>15000000</ct21><ct22>Thuế giá trị gia tăng</ct22>"
    "</CTieuTKhaiChinh>\n"
    "  </HSoKhaiThue>\n"
    "  <CKyDTu/>\n"
    "</HSoThueDTu>\n";

x509::Extensions LeafExtensions() {
  x509::Extensions e;
  e.key_usage = {"digitalSignature", "nonRepudiation"};
  return e;
}

SignerCredentials Credentials(const testlib::TestParty& party) {
  return SignerCredentials{party.signer, party.certificate, {}};
}

SignOptions Options() {
  SignOptions o;
  o.signing_time = kNow;
  return o;
}

std::string Sign(const testlib::TestParty& party, const SignOptions& options,
                 std::string_view input = kDeclaration) {
  auto signed_xml = SignXml(AsBytes(input), Credentials(party), options);
  EXPECT_TRUE(signed_xml.ok()) << signed_xml.status().ToString();
  return signed_xml.ok() ? std::string(AsString(*signed_xml)) : "";
}

bool HasProblem(const XmlSignature& s, const std::string& id) {
  for (const auto& p : s.problems) {
    if (p.id == id) return true;
  }
  return false;
}

std::string Replace(std::string text, const std::string& from, const std::string& to) {
  auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

class XadesTest : public ::testing::Test {
 protected:
  testlib::TestParty party_ = testlib::MakeTestParty(
      "/C=VN/O=Công ty TNHH Sản xuất Hòa Bình/title=Giám đốc/CN=Trần Thị Bình", nullptr,
      LeafExtensions(), 7, kNow);
};

TEST_F(XadesTest, EnvelopedWholeDocumentVerifies) {
  std::string xml = Sign(party_, Options());
  XmlInspection got = InspectXml(AsBytes(xml));
  ASSERT_TRUE(got.problems.empty());
  ASSERT_EQ(got.signatures.size(), 1u);
  const auto& s = got.signatures[0];
  EXPECT_TRUE(s.core_valid);
  EXPECT_TRUE(s.problems.empty()) << s.problems.front().id;
  EXPECT_EQ(s.level, "XAdES-B-B");
  EXPECT_EQ(s.signature_algorithm, "ecdsa-sha256");
  ASSERT_TRUE(s.signer.has_value());
  EXPECT_EQ(s.signer->der(), party_.certificate.der());
  EXPECT_EQ(s.signing_time, kNow);
  ASSERT_EQ(s.references.size(), 2u);
  EXPECT_EQ(s.references[0].what, "the whole document <HSoThueDTu>");
  EXPECT_TRUE(s.references[1].signed_properties);
}

TEST_F(XadesTest, ElementByIdPlacedInCKyDTu) {
  SignOptions o = Options();
  o.element_id = "_NODE_TO_SIGN";
  o.parent_element = "CKyDTu";
  std::string xml = Sign(party_, o);
  EXPECT_NE(xml.find("<CKyDTu><ds:Signature"), std::string::npos);
  auto s = InspectXml(AsBytes(xml)).signatures.at(0);
  EXPECT_TRUE(s.core_valid);
  EXPECT_EQ(s.references[0].what, "<HSoKhaiThue id=\"_NODE_TO_SIGN\"> at /HSoThueDTu/HSoKhaiThue");

  // One character of the declaration changed: the body's digest fails.
  auto altered = InspectXml(AsBytes(Replace(xml, "15000000", "16000000"))).signatures.at(0);
  EXPECT_FALSE(altered.core_valid);
  EXPECT_TRUE(HasProblem(altered, "integrity.digest_mismatch"));
  // Outside what was signed: still valid.
  auto outside = InspectXml(AsBytes(Replace(xml, "<CKyDTu>", "<CKyDTu>\n  "))).signatures.at(0);
  EXPECT_TRUE(outside.core_valid);
  // Re-indenting the signed body breaks it.
  auto reindented =
      InspectXml(AsBytes(Replace(xml, "<TTinChung>", "\n      <TTinChung>"))).signatures.at(0);
  EXPECT_FALSE(reindented.core_valid);
}

TEST_F(XadesTest, RolesAndAlgorithms) {
  SignOptions o = Options();
  o.claimed_role = "Giám đốc";
  o.digest = crypto::DigestAlgorithm::kSha384;
  std::string xml = Sign(party_, o);
  EXPECT_NE(xml.find("<xades:ClaimedRole>Giám đốc</xades:ClaimedRole>"), std::string::npos);
  auto s = InspectXml(AsBytes(xml)).signatures.at(0);
  EXPECT_TRUE(s.core_valid);
  EXPECT_EQ(s.signature_algorithm, "ecdsa-sha384");
  EXPECT_EQ(s.digest_algorithm, "SHA-384");
}

TEST_F(XadesTest, RsaPkcs1AndPss) {
  auto key = crypto::PrivateKey::Generate(*crypto::KeySpec::Parse("rsa:2048"));
  auto signer = std::make_shared<crypto::SoftwareSigner>(std::move(key).value(), "rsa");
  x509::CertificateTemplate t{.serial = {9},
                              .subject = *x509::Name::ParseSlashed("/C=VN/CN=RSA"),
                              .subject_key = signer->public_key(),
                              .not_before = kNow - 86400,
                              .not_after = kNow + 86400,
                              .extensions = LeafExtensions()};
  auto cert = x509::BuildCertificate(t, nullptr, *signer, {});
  testlib::TestParty rsa{signer, *x509::Certificate::FromDer(cert->der())};
  for (auto padding : {crypto::RsaPadding::kPkcs1v15, crypto::RsaPadding::kPss}) {
    SignOptions o = Options();
    o.rsa_padding = padding;
    o.digest = crypto::DigestAlgorithm::kSha512;
    std::string xml = Sign(rsa, o);
    auto s = InspectXml(AsBytes(xml)).signatures.at(0);
    EXPECT_TRUE(s.core_valid) << s.signature_algorithm;
    EXPECT_EQ(s.signature_algorithm,
              padding == crypto::RsaPadding::kPss ? "rsa-pss-sha512" : "rsa-sha512");
    // A changed signature value fails as a signature, not as a digest.
    std::string value_open = "-value\">";
    size_t at = xml.find(value_open) + value_open.size();
    xml[at + 10] = xml[at + 10] == 'A' ? 'B' : 'A';
    auto broken = InspectXml(AsBytes(xml)).signatures.at(0);
    EXPECT_FALSE(broken.core_valid);
    EXPECT_TRUE(HasProblem(broken, "integrity.signature_invalid")) << s.signature_algorithm;
  }
}

TEST_F(XadesTest, EnvelopingVerifies) {
  SignOptions o = Options();
  o.packaging = Packaging::kEnveloping;
  std::string xml = Sign(party_, o);
  EXPECT_EQ(xml.find("<ds:Signature"), xml.find('<', 1));  // after the XML declaration
  auto s = InspectXml(AsBytes(xml)).signatures.at(0);
  EXPECT_TRUE(s.core_valid);
  EXPECT_NE(s.references[0].what.find("<ds:Object Id="), std::string::npos);
}

TEST_F(XadesTest, AlteredSignedPropertiesAreNamed) {
  std::string xml = Sign(party_, Options());
  std::string altered = Replace(xml, "<xades:SigningTime>2026", "<xades:SigningTime>2025");
  auto s = InspectXml(AsBytes(altered)).signatures.at(0);
  EXPECT_FALSE(s.core_valid);
  EXPECT_TRUE(HasProblem(s, "xades.signed_properties_altered"));
}

TEST_F(XadesTest, DtdAndEntitiesAreRefused) {
  std::string xxe =
      "<?xml version=\"1.0\"?>\n<!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
      "<r>&x;</r>";
  auto got = InspectXml(AsBytes(xxe));
  ASSERT_EQ(got.problems.size(), 1u);
  EXPECT_EQ(got.problems[0].id, "xml.dtd_forbidden");
  std::string laughs =
      "<!DOCTYPE l [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">"
      "<!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">]><l>&c;</l>";
  EXPECT_EQ(InspectXml(AsBytes(laughs)).problems.at(0).id, "xml.dtd_forbidden");
  EXPECT_EQ(SignXml(AsBytes(xxe), Credentials(party_), Options()).status().id(),
            "xml.dtd_forbidden");
  std::string deep;
  for (int i = 0; i < 300; ++i) deep += "<a>";
  EXPECT_EQ(InspectXml(AsBytes(deep)).problems.at(0).id, "xml.malformed");
}

TEST_F(XadesTest, DuplicateIdIsInvalid) {
  SignOptions o = Options();
  o.element_id = "_NODE_TO_SIGN";
  std::string xml = Sign(party_, o);
  // Wrapping: a second element with the signed Id, for a reference to mean either.
  std::string wrapped = Replace(
      xml, "<CKyDTu/>", "<CKyDTu><HSoKhaiThue id=\"_NODE_TO_SIGN\">forged</HSoKhaiThue></CKyDTu>");
  auto got = InspectXml(AsBytes(wrapped));
  ASSERT_EQ(got.problems.size(), 1u);
  EXPECT_EQ(got.problems[0].id, "xml.duplicate_id");
  EXPECT_TRUE(got.problems[0].failed);
}

TEST_F(XadesTest, WrappingShowsWhereTheSignedElementIs) {
  SignOptions o = Options();
  o.element_id = "_NODE_TO_SIGN";
  o.parent_element = "CKyDTu";
  std::string xml = Sign(party_, o);
  // The signed body moved into a wrapper, a forged body in its place.
  size_t begin = xml.find("<HSoKhaiThue");
  size_t end = xml.find("</HSoKhaiThue>") + std::string("</HSoKhaiThue>").size();
  std::string body = xml.substr(begin, end - begin);
  std::string moved = xml;
  moved.replace(begin, end - begin, "<HSoKhaiThue><ct21>99000000</ct21></HSoKhaiThue>");
  moved = Replace(moved, "<CKyDTu>", "<Wrapper>" + body + "</Wrapper><CKyDTu>");
  auto s = InspectXml(AsBytes(moved)).signatures.at(0);
  EXPECT_TRUE(s.core_valid);  // the signed element is intact, only elsewhere
  EXPECT_EQ(s.references[0].what,
            "<HSoKhaiThue id=\"_NODE_TO_SIGN\"> at /HSoThueDTu/Wrapper/HSoKhaiThue");
}

TEST_F(XadesTest, ExternalAndMissingReferencesAreNotFollowed) {
  std::string xml = Sign(party_, Options());
  auto external = InspectXml(AsBytes(Replace(xml, "URI=\"\"", "URI=\"file:///etc/passwd\"")));
  EXPECT_TRUE(HasProblem(external.signatures.at(0), "xml.external_reference"));
  EXPECT_FALSE(external.signatures.at(0).core_valid);
  auto missing = InspectXml(AsBytes(Replace(xml, "URI=\"\"", "URI=\"#nowhere\"")));
  EXPECT_TRUE(HasProblem(missing.signatures.at(0), "xml.reference_not_found"));
}

TEST_F(XadesTest, Sha1IsACryptoConstraint) {
  std::string xml = Sign(party_, Options());
  std::string sha1 = Replace(xml, "http://www.w3.org/2001/04/xmlenc#sha256",
                             "http://www.w3.org/2000/09/xmldsig#sha1");
  auto s = InspectXml(AsBytes(sha1)).signatures.at(0);
  ASSERT_TRUE(HasProblem(s, "algorithm.sha1"));
  for (const auto& p : s.problems) {
    if (p.id == "algorithm.sha1") {
      EXPECT_EQ(p.sub_indication, "CRYPTO_CONSTRAINTS_FAILURE");
    }
  }
  std::string hmac = Replace(xml, "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256",
                             "http://www.w3.org/2001/04/xmldsig-more#hmac-sha256");
  EXPECT_TRUE(HasProblem(InspectXml(AsBytes(hmac)).signatures.at(0), "algorithm.unsupported"));
}

TEST_F(XadesTest, BadInputIsAnErrorNotACrash) {
  EXPECT_EQ(InspectXml(AsBytes("<a><b></a>")).problems.at(0).id, "xml.malformed");
  EXPECT_EQ(InspectXml(AsBytes("")).problems.at(0).id, "xml.malformed");
  SignOptions o = Options();
  o.element_id = "nope";
  EXPECT_EQ(SignXml(AsBytes(kDeclaration), Credentials(party_), o).status().id(),
            "xades.no_element");
  o = Options();
  o.level = Level::kBT;
  EXPECT_EQ(SignXml(AsBytes(kDeclaration), Credentials(party_), o).status().id(), "xades.no_tsa");
}

}  // namespace
}  // namespace kyso::xades
