#include <gtest/gtest.h>

#include "base/files.h"
#include "pades/signer.h"
#include "testlib/pdf_update.h"
#include "testlib/shell.h"
#include "testlib/temp_dir.h"
#include "testlib/test_party.h"
#include "testlib/testdata.h"
#include "verify/engine.h"
#include "x509/crl.h"

namespace kyso::verify {
namespace {

using testlib::Shell;
using testlib::TempDir;
using testlib::TestdataPath;

constexpr UnixSeconds kNow = 1763535802;  // 2025-11-19 14:03:22 +07:00

using Party = testlib::TestParty;

Party MakeParty(const std::string& subject, const Party* issuer, x509::Extensions ext,
                uint8_t serial) {
  return testlib::MakeTestParty(subject, issuer, std::move(ext), serial, kNow);
}

x509::Extensions Ca() {
  x509::Extensions e;
  e.is_ca = true;
  e.key_usage = {"keyCertSign", "cRLSign"};
  return e;
}
x509::Extensions Leaf() {
  x509::Extensions e;
  e.key_usage = {"digitalSignature", "nonRepudiation"};
  e.extended_key_usage = {"documentSigning"};
  return e;
}

struct Pki {
  Party root = MakeParty("/C=VN/O=Ban Cơ yếu Chính phủ/CN=Root test", nullptr, Ca(), 1);
  Party signer = MakeParty("/C=VN/O=Sở Khoa học và Công nghệ/CN=Nguyễn Văn An", &root, Leaf(), 2);
};

// An empty CRL from the root: "not revoked" for the signer, embedded via --crl.
Bytes EmptyCrl(const Pki& pki) {
  x509::CrlTemplate t;
  t.number = 1;
  t.this_update = kNow - 3600;
  t.next_update = kNow + 86400 * 30;
  return *x509::BuildCrl(t, pki.root.certificate, *pki.root.signer, {});
}

VerifyOptions Options(const Pki& pki) {
  VerifyOptions o;
  o.trust_anchors = {pki.root.certificate};
  o.now = kNow + 60;
  o.offline = true;
  o.crls = {EmptyCrl(pki)};
  return o;
}

std::string SignCongVan(const TempDir& dir, const Pki& pki) {
  auto doc = pdf::Document::Open(TestdataPath("pdf/cong-van.pdf"));
  EXPECT_TRUE(doc.ok());
  pades::SignOptions o;
  o.signing_time = kNow;
  o.durable = false;
  std::string out = dir.File("signed.pdf");
  auto signed_ok = pades::SignPdf(
      *doc, {pki.signer.signer, pki.signer.certificate, {pki.root.certificate}}, o, out);
  EXPECT_TRUE(signed_ok.ok()) << signed_ok.status().ToString();
  return out;
}

TEST(VerifyPdf, OurOwnSignatureIsValid) {
  TempDir dir;
  Pki pki;
  std::string path = SignCongVan(dir, pki);
  auto doc = pdf::Document::Open(path);
  ASSERT_TRUE(doc.ok());
  auto report = VerifyPdf(doc->bytes(), &*doc, path, Options(pki));
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  ASSERT_EQ(report->signatures.size(), 1u);
  const auto& s = report->signatures[0];
  EXPECT_EQ(report->indication, Indication::kPassed) << RenderText(*report, Language::kEnglish);
  EXPECT_TRUE(s.integrity);
  EXPECT_EQ(s.chain, "trusted");
  EXPECT_EQ(s.revocation, "good");
  EXPECT_EQ(s.time_source, "claimed");
  ASSERT_TRUE(s.signer.has_value());
  EXPECT_EQ(s.signer->common_name, "Nguyễn Văn An");
  std::string vi = RenderText(*report, Language::kVietnamese);
  EXPECT_NE(vi.find("Người ký: Nguyễn Văn An"), std::string::npos) << vi;
  EXPECT_NE(vi.find("HỢP LỆ"), std::string::npos) << vi;
  EXPECT_NE(RenderJson(*report).find("\"indication\": \"VALID\""), std::string::npos);
}

TEST(VerifyPdf, AnyFlippedByteInASignedRangeIsInvalid) {
  TempDir dir;
  Pki pki;
  std::string path = SignCongVan(dir, pki);
  auto bytes = ReadFile(path, 4 << 20);
  ASSERT_TRUE(bytes.ok());
  for (size_t offset : {size_t{100}, bytes->size() / 3, bytes->size() - 10}) {
    Bytes changed = *bytes;
    changed[offset] ^= 0x01;
    auto doc = pdf::Document::FromBytes(std::make_shared<const Bytes>(changed));
    if (!doc.ok()) continue;  // a flip that breaks the structure is refused earlier
    auto report = VerifyPdf(changed, &*doc, "changed.pdf", Options(pki));
    ASSERT_TRUE(report.ok());
    ASSERT_EQ(report->signatures.size(), 1u) << offset;
    EXPECT_EQ(report->indication, Indication::kFailed) << "offset " << offset;
    EXPECT_EQ(report->signatures[0].sub_indication, "HASH_FAILURE") << "offset " << offset;
  }
}

TEST(VerifyPdf, UntrustedRootIsIndeterminate) {
  TempDir dir;
  Pki pki;
  Pki other;
  std::string path = SignCongVan(dir, pki);
  auto doc = pdf::Document::Open(path);
  ASSERT_TRUE(doc.ok());
  VerifyOptions o = Options(pki);
  o.trust_anchors = {other.root.certificate};
  auto report = VerifyPdf(doc->bytes(), &*doc, path, o);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->indication, Indication::kIndeterminate);
  EXPECT_EQ(report->signatures[0].sub_indication, "NO_CERTIFICATE_CHAIN_FOUND");
}

TEST(VerifyPdf, UnknownRevocationIsNotAPass) {
  TempDir dir;
  Pki pki;
  std::string path = SignCongVan(dir, pki);
  auto doc = pdf::Document::Open(path);
  ASSERT_TRUE(doc.ok());
  VerifyOptions o = Options(pki);
  o.crls.clear();
  auto report = VerifyPdf(doc->bytes(), &*doc, path, o);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->indication, Indication::kIndeterminate);
  EXPECT_EQ(report->signatures[0].revocation, "unknown");
}

TEST(VerifyPdf, UnsignedDocumentHasNoVerdictOfValid) {
  auto doc = pdf::Document::Open(TestdataPath("pdf/cong-van.pdf"));
  ASSERT_TRUE(doc.ok());
  Pki pki;
  auto report = VerifyPdf(doc->bytes(), &*doc, "cong-van.pdf", Options(pki));
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->signatures.empty());
  EXPECT_EQ(report->indication, Indication::kIndeterminate);
  EXPECT_EQ(report->sub_indication, "NO_SIGNATURE");
}

// Issue 18. The trailer entries of `signed_bytes` for an update written by hand.
std::string TrailerEntries(const Bytes& signed_bytes, int size) {
  auto doc = pdf::Document::FromBytes(std::make_shared<const Bytes>(signed_bytes));
  EXPECT_TRUE(doc.ok()) << doc.status().ToString();
  if (!doc.ok()) return "";
  auto id = doc->id();
  return "/Size " + std::to_string(std::max(size, doc->next_object_number())) + " /Root " +
         doc->root().ToString() + (doc->info() ? " /Info " + doc->info()->ToString() : "") +
         " /ID [<" + HexEncode(id[0]) + "> <" + HexEncode(id[1]) + ">]";
}

bool HasFindingId(const SignatureReport& s, const std::string& id) {
  for (const auto& f : s.findings) {
    if (f.id == id) return true;
  }
  return false;
}

TEST(VerifyPdf, ABrokenLaterRevisionStillReportsTheSignedOne) {
  TempDir dir;
  Pki pki;
  auto bytes = ReadFile(SignCongVan(dir, pki), 4 << 20);
  ASSERT_TRUE(bytes.ok());
  // An update painting over page 1 (its content stream is object 23 0 in cong-van.pdf) whose
  // startxref points 3 bytes past its xref table.
  std::string blue = "0 0 1 rg 0 0 595 842 re f";
  Bytes broken = testlib::AppendUpdateByHand(*bytes, {{23, testlib::StreamObjectBody("", blue)}},
                                             TrailerEntries(*bytes, 0), bytes->size() + 3);
  auto report = VerifyPdf(broken, nullptr, "broken.pdf", Options(pki));
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  ASSERT_EQ(report->signatures.size(), 1u) << RenderText(*report, Language::kEnglish);
  const auto& s = report->signatures[0];
  EXPECT_TRUE(s.integrity) << RenderText(*report, Language::kEnglish);
  EXPECT_TRUE(HasFindingId(s, "modification.unanalysable"))
      << RenderText(*report, Language::kEnglish);
  EXPECT_FALSE(HasFindingId(s, "modification.other"));
  EXPECT_EQ(s.indication, Indication::kIndeterminate);
  EXPECT_EQ(s.sub_indication, "FORMAT_FAILURE");
  EXPECT_EQ(s.modifications, "unanalysable");
  EXPECT_EQ(report->indication, Indication::kIndeterminate);
  std::string vi = RenderText(*report, Language::kVietnamese);
  EXPECT_NE(vi.find("không thể phân tích"), std::string::npos) << vi;
  std::string en = RenderText(*report, Language::kEnglish);
  EXPECT_NE(en.find("cannot be analysed"), std::string::npos) << en;
}

TEST(VerifyPdf, AnAppearanceSwapIsInvalidAndNamed) {
  TempDir dir;
  Pki pki;
  auto doc = pdf::Document::Open(TestdataPath("pdf/with-form-fields.pdf"));
  ASSERT_TRUE(doc.ok());
  pades::SignOptions o;
  o.signing_time = kNow;
  o.durable = false;
  o.placement.field_name = "LanhDao";
  o.placement.create_field = false;
  std::string path = dir.File("form-signed.pdf");
  auto signed_ok = pades::SignPdf(
      *doc, {pki.signer.signer, pki.signer.certificate, {pki.root.certificate}}, o, path);
  ASSERT_TRUE(signed_ok.ok()) << signed_ok.status().ToString();
  auto bytes = ReadFile(path, 4 << 20);
  ASSERT_TRUE(bytes.ok());
  // with-form-fields.pdf: object 11 0 is the appearance stream (/AP /N) of text field SoVanBan
  // (object 7 0). Overridden with another number shown; the field's /V stays.
  ASSERT_NE(std::string(bytes->begin(), bytes->end()).find("\n11 0 obj"), std::string::npos);
  Bytes swapped = testlib::AppendUpdateByHand(
      *bytes,
      {{11, testlib::StreamObjectBody("/Type /XObject /Subtype /Form /BBox [0 0 41 16]",
                                      "BT /Helv 12 Tf 2 4 Td (999/QD-GIA) Tj ET")}},
      TrailerEntries(*bytes, 0));
  auto swapped_doc = pdf::Document::FromBytes(std::make_shared<const Bytes>(swapped));
  auto report =
      VerifyPdf(swapped, swapped_doc.ok() ? &*swapped_doc : nullptr, "swapped.pdf", Options(pki));
  ASSERT_TRUE(report.ok());
  ASSERT_EQ(report->signatures.size(), 1u);
  const auto& s = report->signatures[0];
  std::string text = RenderText(*report, Language::kEnglish);
  EXPECT_TRUE(s.integrity) << text;
  EXPECT_TRUE(HasFindingId(s, "modification.appearance_changed")) << text;
  EXPECT_FALSE(HasFindingId(s, "modification.other")) << text;
  EXPECT_EQ(s.indication, Indication::kFailed) << text;
  EXPECT_NE(s.modifications, "form_filling");
  std::string vi = RenderText(*report, Language::kVietnamese);
  EXPECT_NE(vi.find("không phải điền biểu mẫu"), std::string::npos) << vi;
}

TEST(VerifyCms, DetachedAndEnvelopingSignaturesFromOpenssl) {
  TempDir dir;
  Pki pki;
  auto key_pem = pki.signer.signer;  // the key is not exportable here: let openssl make one
  (void)key_pem;
  // openssl signs with its own key and a certificate our root issued from its CSR.
  ASSERT_EQ(Shell("openssl ecparam -name prime256v1 -genkey -noout -out " + dir.File("k.pem")), 0);
  ASSERT_EQ(Shell("openssl req -new -key " + dir.File("k.pem") +
                  " -subj '/CN=Tran Thi Binh' -out " + dir.File("r.csr")),
            0);
  auto csr_pem = ReadTextFile(dir.File("r.csr"));
  ASSERT_TRUE(csr_pem.ok());
  auto pub =
      Shell("openssl req -in " + dir.File("r.csr") + " -pubkey -noout > " + dir.File("pub.pem"));
  ASSERT_EQ(pub, 0);
  std::string out;
  ASSERT_EQ(Shell("openssl pkey -pubin -in " + dir.File("pub.pem") + " -outform DER -out " +
                  dir.File("pub.der")),
            0);
  auto spki = ReadFile(dir.File("pub.der"));
  ASSERT_TRUE(spki.ok());
  x509::CertificateTemplate t{.serial = {9},
                              .subject = *x509::Name::ParseSlashed("/C=VN/CN=Trần Thị Bình"),
                              .subject_key = *crypto::PublicKey::FromSpkiDer(*spki),
                              .not_before = kNow - 86400,
                              .not_after = kNow + 86400 * 365,
                              .extensions = Leaf()};
  auto cert = x509::BuildCertificate(t, &pki.root.certificate, *pki.root.signer, {});
  ASSERT_TRUE(cert.ok());
  testlib::WriteBytes(dir.File("c.pem"), AsBytes(cert->ToPem()));
  testlib::WriteBytes(dir.File("doc.txt"), AsBytes(std::string("Công văn số 123/SKHCN-VP")));
  ASSERT_EQ(Shell("openssl cms -sign -binary -md sha256 -in " + dir.File("doc.txt") + " -signer " +
                      dir.File("c.pem") + " -inkey " + dir.File("k.pem") + " -outform DER -out " +
                      dir.File("d.p7s"),
                  &out),
            0)
      << out;
  ASSERT_EQ(Shell("openssl cms -sign -nodetach -binary -md sha256 -in " + dir.File("doc.txt") +
                      " -signer " + dir.File("c.pem") + " -inkey " + dir.File("k.pem") +
                      " -outform DER -out " + dir.File("e.p7m"),
                  &out),
            0)
      << out;
  auto p7s = ReadFile(dir.File("d.p7s"));
  auto p7m = ReadFile(dir.File("e.p7m"));
  auto content = ReadFile(dir.File("doc.txt"));
  VerifyOptions o = Options(pki);
  o.at = kNow;  // openssl's signingTime is today; the certificate is checked at kNow
  auto detached = VerifyCms(*p7s, ByteSpan(*content), "d.p7s", o);
  ASSERT_TRUE(detached.ok());
  EXPECT_EQ(detached->indication, Indication::kPassed) << RenderText(*detached, Language::kEnglish);
  auto enveloping = VerifyCms(*p7m, std::nullopt, "e.p7m", o);
  ASSERT_TRUE(enveloping.ok());
  EXPECT_EQ(enveloping->indication, Indication::kPassed);
  Bytes other = *content;
  other[0] ^= 1;
  auto tampered = VerifyCms(*p7s, ByteSpan(other), "d.p7s", o);
  ASSERT_TRUE(tampered.ok());
  EXPECT_EQ(tampered->signatures[0].sub_indication, "HASH_FAILURE");
  auto garbage = VerifyCms(AsBytes(std::string("\x30\x03\x02\x01\x01", 5)), std::nullopt, "x", o);
  ASSERT_TRUE(garbage.ok());
  EXPECT_EQ(garbage->signatures[0].sub_indication, "FORMAT_FAILURE");
}

// The valid policy set is part of the report: JSON and both languages of the text.
TEST(VerifyCertificate, ReportsTheValidPolicySetAndTheCallersPolicyInputs) {
  x509::Extensions leaf = Leaf();
  leaf.policy_oids = {"2.16.704.1.99.1.1"};
  Pki pki;
  pki.signer = MakeParty("/C=VN/CN=Policy leaf", &pki.root, leaf, 3);
  VerifyOptions options = Options(pki);
  DocumentReport report = VerifyCertificate(pki.signer.certificate, "leaf.pem", options);
  ASSERT_EQ(report.indication, Indication::kPassed) << RenderJson(report);
  EXPECT_EQ(report.signatures[0].valid_policies, std::vector<std::string>{"2.16.704.1.99.1.1"});
  EXPECT_NE(RenderJson(report).find("\"valid_policies\": [\n        \"2.16.704.1.99.1.1\""),
            std::string::npos)
      << RenderJson(report);
  EXPECT_NE(RenderText(report, Language::kVietnamese)
                .find("Chính sách chứng thư hợp lệ: 2.16.704.1.99.1.1"),
            std::string::npos);
  EXPECT_NE(
      RenderText(report, Language::kEnglish).find("Valid certificate policies: 2.16.704.1.99.1.1"),
      std::string::npos);

  // An initial policy set the path does not meet, with an explicit policy required.
  options.policy.initial_policies = {"2.16.704.1.99.1.2"};
  options.policy.explicit_policy = true;
  report = VerifyCertificate(pki.signer.certificate, "leaf.pem", options);
  EXPECT_EQ(report.indication, Indication::kIndeterminate);
  EXPECT_EQ(report.sub_indication, "CHAIN_CONSTRAINTS_FAILURE");
  ASSERT_FALSE(report.signatures[0].findings.empty());
  EXPECT_EQ(report.signatures[0].findings[0].id, "certificate.policy");
}

}  // namespace
}  // namespace kyso::verify
