#include "pdf/document.h"

#include <gtest/gtest.h>

#include <fstream>

#include "base/files.h"
#include "pdf/update.h"
#include "testlib/shell.h"
#include "testlib/temp_dir.h"
#include "testlib/testdata.h"

namespace kyso::pdf {
namespace {

using testlib::Shell;
using testlib::TempDir;
using testlib::TestdataPath;

Document MustOpen(const std::string& path) {
  auto doc = Document::Open(path);
  EXPECT_TRUE(doc.ok()) << doc.status().ToString();
  return std::move(doc).value();
}

// Writes base + update, as the signer does.
std::string WriteSigned(const TempDir& dir, const std::string& name, const Document& base,
                        const Bytes& update) {
  Bytes all(base.bytes().begin(), base.bytes().end());
  all.insert(all.end(), update.begin(), update.end());
  std::string path = dir.File(name);
  testlib::WriteBytes(path, all);
  return path;
}

TEST(PdfDocument, ReadsClassicXrefTable) {
  Document doc = MustOpen(TestdataPath("pdf/cong-van.pdf"));
  EXPECT_EQ(doc.xref_kind(), XrefKind::kTable);
  EXPECT_EQ(doc.page_count(), 2);
  auto page = doc.Page(2);
  ASSERT_TRUE(page.ok());
  EXPECT_NEAR(page->media_box.width(), 595.28, 0.01);
  EXPECT_NEAR(page->media_box.height(), 841.89, 0.01);
  EXPECT_TRUE(doc.SignatureFields().empty());
  EXPECT_TRUE(doc.Signatures().empty());
  EXPECT_FALSE(doc.id()[0].empty());
}

TEST(PdfDocument, ReadsXrefStream) {
  Document doc = MustOpen(TestdataPath("pdf/cong-van-xref-stream.pdf"));
  EXPECT_EQ(doc.xref_kind(), XrefKind::kStream);
  EXPECT_EQ(doc.page_count(), 2);
}

TEST(PdfDocument, FindsEmptySignatureFields) {
  Document doc = MustOpen(TestdataPath("pdf/with-form-fields.pdf"));
  auto fields = doc.SignatureFields();
  ASSERT_EQ(fields.size(), 2u);
  std::map<std::string, SignatureFieldInfo> by_name;
  for (auto& f : fields) by_name[f.name] = f;
  ASSERT_TRUE(by_name.count("LanhDao"));
  ASSERT_TRUE(by_name.count("CoQuan"));
  // testdata/pdf/layout.json
  EXPECT_NEAR(by_name["LanhDao"].rect.llx, 334.49, 0.01);
  EXPECT_NEAR(by_name["LanhDao"].rect.width(), 170.08, 0.01);
  EXPECT_NEAR(by_name["CoQuan"].rect.height(), 102.05, 0.01);
  EXPECT_EQ(by_name["LanhDao"].page, 1);
  EXPECT_FALSE(by_name["LanhDao"].is_signed);
}

TEST(PdfDocument, RefusesWhatItCannotSign) {
  TempDir dir;
  testlib::WriteBytes(dir.File("text.pdf"), AsBytes(std::string("hello, not a PDF")));
  EXPECT_EQ(Document::Open(dir.File("text.pdf")).status().id(), "pdf.not_pdf");
  testlib::WriteBytes(dir.File("empty.pdf"), Bytes{});
  EXPECT_EQ(Document::Open(dir.File("empty.pdf")).status().id(), "pdf.not_pdf");
  EXPECT_EQ(Document::Open(dir.File("missing.pdf")).status().id(), "pdf.unreadable");

  auto original = ReadFile(TestdataPath("pdf/cong-van.pdf"), 1 << 20);
  ASSERT_TRUE(original.ok());
  Bytes truncated(original->begin(), original->begin() + 50000);
  testlib::WriteBytes(dir.File("truncated.pdf"), truncated);
  EXPECT_EQ(Document::Open(dir.File("truncated.pdf")).status().id(), "pdf.damaged");

  ASSERT_EQ(Shell("qpdf --encrypt user owner 256 -- " + TestdataPath("pdf/cong-van.pdf") + " " +
                  dir.File("encrypted.pdf")),
            0);
  EXPECT_EQ(Document::Open(dir.File("encrypted.pdf")).status().id(), "pdf.encrypted");
  ASSERT_EQ(Shell("qpdf --encrypt '' owner 256 -- " + TestdataPath("pdf/cong-van.pdf") + " " +
                  dir.File("encrypted-empty.pdf")),
            0);
  EXPECT_EQ(Document::Open(dir.File("encrypted-empty.pdf")).status().id(), "pdf.encrypted");

  OpenOptions small;
  small.max_size = 1000;
  EXPECT_EQ(Document::Open(TestdataPath("pdf/cong-van.pdf"), small).status().id(), "pdf.too_large");
}

SignatureSpec SmallSpec() {
  SignatureSpec spec;
  spec.contents_size = 1024;
  spec.signing_time = 1763535802;
  spec.reason = "Phê duyệt";
  return spec;
}

TEST(PdfUpdate, PreparesSignatureWithExactByteRange) {
  TempDir dir;
  Document doc = MustOpen(TestdataPath("pdf/cong-van.pdf"));
  SignaturePlacement placement;
  placement.page = 2;
  placement.rect = Rectangle{334.49, 200.66, 504.57, 280.03};
  auto prepared = PrepareSignature(doc, placement, SmallSpec(), nullptr);
  ASSERT_TRUE(prepared.ok()) << prepared.status().ToString();
  EXPECT_EQ(prepared->field_name, "Signature1");
  const Bytes& u = prepared->update;
  ASSERT_EQ(u[prepared->contents_offset], '<');
  ASSERT_EQ(u[prepared->contents_offset + prepared->contents_length - 1], '>');
  EXPECT_EQ(prepared->contents_length, 2 * 1024 + 2u);
  int64_t total = static_cast<int64_t>(doc.bytes().size() + u.size());
  const auto& br = prepared->byte_range;
  EXPECT_EQ(br[0], 0);
  EXPECT_EQ(br[1], static_cast<int64_t>(doc.bytes().size() + prepared->contents_offset));
  EXPECT_EQ(br[2] - br[1], static_cast<int64_t>(prepared->contents_length));
  EXPECT_EQ(br[2] + br[3], total);

  std::string path = WriteSigned(dir, "placeholder.pdf", doc, u);
  std::string out;
  EXPECT_EQ(Shell("qpdf --check " + path, &out), 0) << out;
  // The original bytes are untouched: the file starts with them.
  auto written = ReadFile(path, 4 << 20);
  ASSERT_TRUE(written.ok());
  EXPECT_TRUE(std::equal(doc.bytes().begin(), doc.bytes().end(), written->begin()));

  Document reopened = MustOpen(path);
  auto fields = reopened.SignatureFields();
  ASSERT_EQ(fields.size(), 1u);
  EXPECT_EQ(fields[0].name, "Signature1");
  EXPECT_TRUE(fields[0].is_signed);
  EXPECT_EQ(fields[0].page, 2);
  EXPECT_NEAR(fields[0].rect.urx, 504.57, 0.01);
  ASSERT_EQ(reopened.Signatures().size(), 1u);
  EXPECT_EQ(reopened.Signatures()[0].sub_filter, "ETSI.CAdES.detached");
  // The /ByteRange written is the one returned.
  ASSERT_EQ(
      Shell("qpdf --show-object=" + std::to_string(doc.next_object_number()) + " " + path, &out),
      0);
  std::string expected = "/ByteRange [ 0 " + std::to_string(br[1]) + " " + std::to_string(br[2]) +
                         " " + std::to_string(br[3]) + " ]";
  EXPECT_NE(out.find(expected), std::string::npos) << out;
}

TEST(PdfUpdate, KeepsTheXrefStreamKind) {
  TempDir dir;
  Document doc = MustOpen(TestdataPath("pdf/cong-van-xref-stream.pdf"));
  auto prepared = PrepareSignature(doc, SignaturePlacement{}, SmallSpec(), nullptr);
  ASSERT_TRUE(prepared.ok()) << prepared.status().ToString();
  std::string update(prepared->update.begin(), prepared->update.end());
  EXPECT_EQ(update.find("\nxref\n"), std::string::npos);
  EXPECT_NE(update.find("/Type /XRef"), std::string::npos);
  std::string path = WriteSigned(dir, "stream.pdf", doc, prepared->update);
  std::string out;
  EXPECT_EQ(Shell("qpdf --check " + path, &out), 0) << out;
  Document reopened = MustOpen(path);
  EXPECT_EQ(reopened.xref_kind(), XrefKind::kStream);
  EXPECT_EQ(reopened.Signatures().size(), 1u);
}

TEST(PdfUpdate, FillsAnExistingFieldAndLocksFields) {
  TempDir dir;
  Document doc = MustOpen(TestdataPath("pdf/with-form-fields.pdf"));
  SignaturePlacement placement;
  placement.field_name = "LanhDao";
  placement.create_field = false;
  SignatureSpec spec = SmallSpec();
  spec.lock = FieldLock{FieldLock::Action::kInclude, {"SoVanBan"}};
  auto prepared = PrepareSignature(doc, placement, spec, nullptr);
  ASSERT_TRUE(prepared.ok()) << prepared.status().ToString();
  EXPECT_EQ(prepared->field_name, "LanhDao");
  std::string update(prepared->update.begin(), prepared->update.end());
  EXPECT_NE(update.find("/TransformMethod /FieldMDP"), std::string::npos);
  EXPECT_NE(update.find("/Type /SigFieldLock"), std::string::npos);
  std::string path = WriteSigned(dir, "field.pdf", doc, prepared->update);
  Document reopened = MustOpen(path);
  auto fields = reopened.SignatureFields();
  ASSERT_EQ(fields.size(), 2u);
  for (const auto& f : fields) EXPECT_EQ(f.is_signed, f.name == "LanhDao") << f.name;

  // The same field cannot be signed twice.
  auto again = PrepareSignature(reopened, placement, SmallSpec(), nullptr);
  EXPECT_EQ(again.status().id(), "pdf.field_signed");
  // The lock covers SoVanBan only: CoQuan may still be signed.
  SignaturePlacement seal;
  seal.field_name = "CoQuan";
  seal.create_field = false;
  EXPECT_TRUE(PrepareSignature(reopened, seal, SmallSpec(), nullptr).ok());

  // Locking everything forbids filling CoQuan later.
  SignatureSpec lock_all = SmallSpec();
  lock_all.lock = FieldLock{FieldLock::Action::kAll, {}};
  auto locked = PrepareSignature(doc, placement, lock_all, nullptr);
  ASSERT_TRUE(locked.ok());
  Document all_locked = MustOpen(WriteSigned(dir, "locked.pdf", doc, locked->update));
  EXPECT_EQ(PrepareSignature(all_locked, seal, SmallSpec(), nullptr).status().id(),
            "pdf.field_locked");
}

TEST(PdfUpdate, CertificationMustComeFirstAndP1ForbidsMore) {
  TempDir dir;
  Document doc = MustOpen(TestdataPath("pdf/cong-van.pdf"));
  SignatureSpec certify = SmallSpec();
  certify.docmdp_permissions = 1;
  auto prepared = PrepareSignature(doc, SignaturePlacement{}, certify, nullptr);
  ASSERT_TRUE(prepared.ok()) << prepared.status().ToString();
  Document certified = MustOpen(WriteSigned(dir, "certified.pdf", doc, prepared->update));
  EXPECT_EQ(certified.CertificationPermissions(), 1);
  EXPECT_EQ(PrepareSignature(certified, SignaturePlacement{}, SmallSpec(), nullptr).status().id(),
            "pdf.docmdp_forbids");
  EXPECT_EQ(PrepareSignature(certified, SignaturePlacement{}, certify, nullptr).status().id(),
            "pdf.certify_not_first");
  // A document time-stamp is still allowed (it changes nothing the DocMDP covers).
  SignatureSpec ts = SmallSpec();
  ts.document_timestamp = true;
  EXPECT_TRUE(PrepareSignature(certified, SignaturePlacement{}, ts, nullptr).ok());
}

TEST(PdfUpdate, RefusesBadPlacements) {
  Document doc = MustOpen(TestdataPath("pdf/cong-van.pdf"));
  SignaturePlacement off;
  off.page = 1;
  off.rect = Rectangle{500, 800, 700, 900};
  EXPECT_EQ(PrepareSignature(doc, off, SmallSpec(), nullptr).status().id(), "pdf.rect_off_page");
  SignaturePlacement empty_rect;
  empty_rect.rect = Rectangle{100, 100, 100, 150};
  EXPECT_EQ(PrepareSignature(doc, empty_rect, SmallSpec(), nullptr).status().id(),
            "pdf.rect_off_page");
  SignaturePlacement page3;
  page3.page = 3;
  EXPECT_EQ(PrepareSignature(doc, page3, SmallSpec(), nullptr).status().id(), "pdf.no_such_page");
  SignaturePlacement missing;
  missing.field_name = "KhongCo";
  missing.create_field = false;
  EXPECT_EQ(PrepareSignature(doc, missing, SmallSpec(), nullptr).status().id(),
            "pdf.field_missing");
  SignatureSpec bad = SmallSpec();
  bad.docmdp_permissions = 4;
  EXPECT_EQ(PrepareSignature(doc, SignaturePlacement{}, bad, nullptr).status().id(),
            "pdf.invalid_option");
}

TEST(PdfUpdate, DssAddsValidationDataAndKeepsEarlierEntries) {
  TempDir dir;
  Document doc = MustOpen(TestdataPath("pdf/cong-van.pdf"));
  DssData data;
  data.certificates = {Bytes{0x30, 0x03, 0x02, 0x01, 0x01}, Bytes{0x30, 0x03, 0x02, 0x01, 0x02}};
  data.crls = {Bytes{0x30, 0x00}};
  data.vri.push_back({std::string(40, 'A'), {0, 1}, {}, {0}});
  auto update = PrepareDss(doc, data);
  ASSERT_TRUE(update.ok()) << update.status().ToString();
  std::string path = WriteSigned(dir, "dss.pdf", doc, *update);
  std::string out;
  EXPECT_EQ(Shell("qpdf --check " + path, &out), 0) << out;
  Document with_dss = MustOpen(path);

  DssData more;
  more.ocsp_responses = {Bytes{0x30, 0x01, 0x00}};
  more.vri.push_back({std::string(40, 'B'), {}, {0}, {}});
  auto second = PrepareDss(with_dss, more);
  ASSERT_TRUE(second.ok());
  std::string path2 = WriteSigned(dir, "dss2.pdf", with_dss, *second);
  EXPECT_EQ(Shell("qpdf --check " + path2, &out), 0) << out;
  ASSERT_EQ(Shell("mutool show " + path2 + " trailer/Root/DSS", &out), 0);
  EXPECT_NE(out.find("/Certs"), std::string::npos) << out;
  EXPECT_NE(out.find("/OCSPs"), std::string::npos) << out;
  EXPECT_NE(out.find("/" + std::string(40, 'A')), std::string::npos) << out;
  EXPECT_NE(out.find("/" + std::string(40, 'B')), std::string::npos) << out;
}

}  // namespace
}  // namespace kyso::pdf
