#include "pdf/revisions.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <qpdf/QPDF.hh>
#include <qpdf/QPDFObjectHandle.hh>

#include "base/files.h"
#include "pdf/update.h"
#include "testlib/pdf_update.h"
#include "testlib/testdata.h"

namespace kyso::pdf {
namespace {

using testlib::TestdataPath;

// ../shared/corpora beside the checkout (read in place); $KYSO_CORPORA_DIR overrides it.
std::string CorpusPath(const std::string& relative) {
  if (const char* dir = std::getenv("KYSO_CORPORA_DIR"); dir && *dir) {
    return std::string(dir) + "/" + relative;
  }
  const char* source = std::getenv("KYSO_SOURCE_DIR");
  std::string base = source && *source ? std::string(source) : std::string(KYSO_SOURCE_DIR_DEFAULT);
  return base + "/../shared/corpora/" + relative;
}

std::string Dump(const std::vector<SignatureAnalysis>& analyses) {
  std::string out;
  for (const auto& a : analyses) {
    out += "signature '" + a.field_name + "': " + std::string(CoverageName(a.coverage.kind)) +
           " (" + a.coverage.detail + ")";
    if (a.modifications) {
      out += ", " + std::string(ModificationLevelName(a.modifications->level));
      if (a.modifications->docmdp_violated) out += ", DocMDP violated";
      if (a.modifications->fieldmdp_violated) out += ", FieldMDP violated";
      for (const auto& f : a.modifications->findings) out += "\n    " + f;
    }
    out += "\n";
  }
  return out;
}

// Through AnalyzeSignatures(ByteSpan): Document::Open refuses several of pyHanko's files for a
// QPDF warning (their /Size is not the highest object number plus one). Where Document::Open
// accepts the file, both entry points must agree.
std::vector<SignatureAnalysis> AnalyzeFile(const std::string& path) {
  auto bytes = ReadFile(path, 64 << 20);
  EXPECT_TRUE(bytes.ok()) << path;
  if (!bytes.ok()) return {};
  auto analyses = AnalyzeSignatures(ByteSpan(*bytes));
  EXPECT_TRUE(analyses.ok()) << path << ": " << analyses.status().ToString();
  if (!analyses.ok()) return {};
  if (auto doc = Document::Open(path); doc.ok()) {
    auto again = AnalyzeSignatures(*doc);
    EXPECT_TRUE(again.ok());
    if (again.ok()) {
      EXPECT_EQ(Dump(*again), Dump(*analyses));
    }
  }
  return std::move(analyses).value();
}

Document Load(Bytes bytes) {
  auto doc = Document::FromBytes(std::make_shared<const Bytes>(std::move(bytes)));
  EXPECT_TRUE(doc.ok()) << doc.status().ToString();
  return std::move(doc).value();
}

Document LoadFile(const std::string& path) {
  auto bytes = ReadFile(path, 64 << 20);
  EXPECT_TRUE(bytes.ok()) << path;
  return Load(std::move(bytes).value());
}

Bytes Concat(ByteSpan base, const Bytes& update) {
  Bytes all(base.begin(), base.end());
  all.insert(all.end(), update.begin(), update.end());
  return all;
}

// The DER of a dummy CMS written into the reserved /Contents: 30 03 02 01 01.
constexpr std::string_view kDummyCmsHex = "3003020101";

SignatureSpec SmallSpec() {
  SignatureSpec spec;
  spec.contents_size = 512;
  spec.signing_time = 1763535802;
  spec.reason = "Phê duyệt";
  return spec;
}

// `document` plus a signature (no cryptography: the CMS is a dummy).
Bytes Sign(const Document& document, const SignaturePlacement& placement = {},
           const SignatureSpec& spec = SmallSpec()) {
  auto prepared = PrepareSignature(document, placement, spec, nullptr);
  EXPECT_TRUE(prepared.ok()) << prepared.status().ToString();
  if (!prepared.ok()) return {};
  Bytes all = Concat(document.bytes(), prepared->update);
  std::memcpy(all.data() + document.bytes().size() + prepared->contents_offset + 1,
              kDummyCmsHex.data(), kDummyCmsHex.size());
  return all;
}

// `document` plus an incremental update made by `edit`.
Bytes Append(const Document& document, const std::function<void(Update&, QPDF&)>& edit) {
  Update update(document);
  edit(update, document.qpdf());
  return Concat(document.bytes(), update.Serialize().bytes);
}

// The unparsed dictionary with `set` keys replaced or added.
std::string Edited(QPDFObjectHandle dict, const std::map<std::string, std::string>& set) {
  std::string out = "<<";
  for (const auto& key : dict.getKeys()) {
    if (set.count(key)) continue;
    out += " " + key + " " + dict.getKey(key).unparse();
  }
  for (const auto& [key, value] : set) out += " " + key + " " + value;
  return out + " >>";
}

bool HasFinding(const SignatureAnalysis& a, const std::string& needle) {
  if (!a.modifications) return false;
  for (const auto& f : a.modifications->findings) {
    if (f.find(needle) != std::string::npos) return true;
  }
  return false;
}

// `base` plus an update written by hand (testlib/pdf_update.h), its trailer entries read from
// the base through QPDF.
Bytes AppendByHand(const Bytes& base, const std::vector<std::pair<int, std::string>>& objects,
                   std::optional<size_t> startxref = std::nullopt,
                   const std::string& trailer = "") {
  QPDF q;
  q.setSuppressWarnings(true);
  q.processMemoryFile("base", reinterpret_cast<const char*>(base.data()), base.size());
  QPDFObjectHandle t = q.getTrailer();
  long long size = t.getKey("/Size").getIntValue();
  for (const auto& object : objects) size = std::max<long long>(size, object.first + 1);
  std::string entries = "/Size " + std::to_string(size) + " /Root " + t.getKey("/Root").unparse();
  if (t.hasKey("/Info")) entries += " /Info " + t.getKey("/Info").unparse();
  if (t.hasKey("/ID")) entries += " /ID " + t.getKey("/ID").unparse();
  return testlib::AppendUpdateByHand(base, objects, entries, startxref, trailer);
}

std::string StreamBody(const std::string& dictionary_entries, const std::string& data) {
  return testlib::StreamObjectBody(dictionary_entries, data);
}

// The field named `name` in `doc`'s form.
QPDFObjectHandle FieldNamed(QPDF& q, const std::string& name) {
  for (auto& f : q.getRoot().getKey("/AcroForm").getKey("/Fields").aitems()) {
    if (f.getKey("/T").isString() && f.getKey("/T").getUTF8Value() == name) return f;
  }
  return QPDFObjectHandle::newNull();
}

std::vector<SignatureAnalysis> Analyze(const Document& doc) {
  auto analyses = AnalyzeSignatures(doc);
  EXPECT_TRUE(analyses.ok()) << analyses.status().ToString();
  if (!analyses.ok()) return {};
  return std::move(analyses).value();
}

// ---------------------------------------------------------------------------------------------
// Revision ends.

TEST(PdfRevisions, FindsTheEndOfEachRevision) {
  Document doc = LoadFile(TestdataPath("pdf/cong-van.pdf"));
  EXPECT_EQ(RevisionEnds(doc.bytes()), std::vector<size_t>{doc.bytes().size()});

  auto base = ReadFile(CorpusPath("pyhanko-pdf/coverage-anomalies/base.pdf"), 1 << 20);
  ASSERT_TRUE(base.ok());
  EXPECT_EQ(RevisionEnds(*base), (std::vector<size_t>{7195, 7486}));

  Document xref_stream = LoadFile(TestdataPath("pdf/cong-van-xref-stream.pdf"));
  Bytes signed_stream = Sign(xref_stream);
  EXPECT_EQ(RevisionEnds(signed_stream),
            (std::vector<size_t>{xref_stream.bytes().size(), signed_stream.size()}));
}

TEST(PdfRevisions, IgnoresEofMarkersThatCloseNoCrossReferenceSection) {
  std::string text =
      "%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"
      "trailer\n<< >>\nstartxref\n0\n%%EOF\n"  // linearized first page: startxref 0
      "(a string mentioning %%EOF)\n"          // no startxref before it
      "startxref\n10\n%%EOF\n";                // points at "1 0 obj", not an XRef stream
  size_t xref = text.size();
  text += "xref\n0 1\n0000000000 65535 f\r\ntrailer\n<< >>\nstartxref\n" + std::to_string(xref) +
          "\n%%EOF\r\n";
  EXPECT_EQ(RevisionEnds(AsBytes(text)), std::vector<size_t>{text.size()});
  std::string no_eol = text.substr(0, text.size() - 2);
  EXPECT_EQ(RevisionEnds(AsBytes(no_eol)), std::vector<size_t>{no_eol.size()});
}

// ---------------------------------------------------------------------------------------------
// pyHanko's test files (corpora/README.md).

TEST(PdfRevisionsCorpus, CoverageAnomaliesAreFlagged) {
  const std::string dir = "pyhanko-pdf/coverage-anomalies/";
  auto base = AnalyzeFile(CorpusPath(dir + "base.pdf"));
  ASSERT_EQ(base.size(), 1u);
  EXPECT_EQ(base[0].coverage.kind, Coverage::kEntireRevision) << Dump(base);
  EXPECT_EQ(base[0].coverage.revision, 0u);
  EXPECT_EQ(base[0].coverage.byte_range, (std::vector<int64_t>{0, 690, 6692, 503}));

  struct Case {
    const char* file;
    std::vector<Coverage> accepted;
  };
  const Case cases[] = {
      {"tail-uncovered.pdf", {Coverage::kTailUncovered}},
      {"signature-gap-too-big.pdf", {Coverage::kGapTooBig}},
      {"one-byterange.pdf", {Coverage::kSingleRange}},
      {"weird-byterange.pdf", {Coverage::kIrregular, Coverage::kGapTooBig}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.file);
    auto analyses = AnalyzeFile(CorpusPath(dir + c.file));
    ASSERT_EQ(analyses.size(), 1u);
    const auto& coverage = analyses[0].coverage;
    EXPECT_NE(coverage.kind, Coverage::kEntireFile);
    EXPECT_NE(coverage.kind, Coverage::kEntireRevision);
    EXPECT_NE(std::find(c.accepted.begin(), c.accepted.end(), coverage.kind), c.accepted.end())
        << Dump(analyses);
    EXPECT_FALSE(coverage.detail.empty());
    EXPECT_FALSE(analyses[0].modifications.has_value());
    // The CMS is still returned, trimmed to its DER length.
    ASSERT_GE(coverage.contents.size(), 2u);
    EXPECT_EQ(coverage.contents[0], 0x30);
  }
}

TEST(PdfRevisionsCorpus, FormFillingAfterSigningIsAllowed) {
  for (const char* file : {"form-update-override-appearance-stream.pdf",
                           "form-update-override-appearance-stream-ap-indirect.pdf",
                           "form-update-no-override-appearance-stream-ap-indirect.pdf",
                           "form-update-original-ap-type-wrong.pdf"}) {
    SCOPED_TRACE(file);
    auto analyses = AnalyzeFile(CorpusPath(std::string("pyhanko-pdf/modification/") + file));
    ASSERT_EQ(analyses.size(), 2u);
    const auto& first = analyses[0];
    EXPECT_EQ(first.field_name, "Sig1");
    EXPECT_EQ(first.coverage.kind, Coverage::kEntireRevision) << Dump(analyses);
    ASSERT_TRUE(first.modifications);
    EXPECT_EQ(first.modifications->level, ModificationLevel::kFormFilling) << Dump(analyses);
    EXPECT_EQ(first.modifications->signatures_added, 1);
    EXPECT_EQ(first.modifications->later_revisions, 1u);
    EXPECT_EQ(analyses[1].field_name, "Sig2");
    EXPECT_EQ(analyses[1].coverage.kind, Coverage::kEntireFile) << Dump(analyses);
    EXPECT_EQ(analyses[1].modifications->level, ModificationLevel::kNone);
    EXPECT_EQ(analyses[1].sub_filter, "adbe.pkcs7.detached");
    EXPECT_EQ(analyses[1].type, "Sig");
  }
}

TEST(PdfRevisionsCorpus, SneakyUpdatesOfSharedObjectsAreOther) {
  for (const char* file : {"form-update-override-appearance-stream-sneaky.pdf",
                           "form-update-override-appearance-stream-ap-indirect-sneaky.pdf",
                           "form-update-no-override-appearance-stream-ap-indirect-sneaky.pdf",
                           "form-update-ap-indirect-sneaky-trailer.pdf"}) {
    SCOPED_TRACE(file);
    auto analyses = AnalyzeFile(CorpusPath(std::string("pyhanko-pdf/modification/") + file));
    ASSERT_EQ(analyses.size(), 2u);
    const auto& first = analyses[0];
    EXPECT_EQ(first.coverage.kind, Coverage::kEntireRevision) << Dump(analyses);
    ASSERT_TRUE(first.modifications);
    EXPECT_EQ(first.modifications->level, ModificationLevel::kOther) << Dump(analyses);
    EXPECT_TRUE(HasFinding(first, "/FooBar")) << Dump(analyses);
  }
}

TEST(PdfRevisionsCorpus, TwoSignaturesByAdobeReaderAreFormFilling) {
  for (const char* file :
       {"minimal-signed-twice-both-created.pdf", "minimal-signed-twice-second-created.pdf",
        "minimal-two-fields-signed-twice.pdf", "minimal-signed-twice-no-sig-type.pdf"}) {
    SCOPED_TRACE(file);
    auto analyses = AnalyzeFile(CorpusPath(std::string("pyhanko-pdf/modification/") + file));
    ASSERT_EQ(analyses.size(), 2u) << Dump(analyses);
    const auto& first = analyses[0];
    EXPECT_EQ(first.coverage.kind, Coverage::kEntireRevision) << Dump(analyses);
    ASSERT_TRUE(first.modifications);
    EXPECT_TRUE(first.modifications->level == ModificationLevel::kFormFilling ||
                first.modifications->level == ModificationLevel::kSignaturesOnly)
        << Dump(analyses);
    EXPECT_EQ(first.modifications->signatures_added, 1) << Dump(analyses);
    EXPECT_FALSE(first.modifications->docmdp_violated);
    EXPECT_EQ(analyses[1].coverage.kind, Coverage::kEntireFile) << Dump(analyses);
  }
}

// EU DSS's real-world PAdES files (corpora/pades-realworld/README.md): B-LT and B-LTA documents
// from other tools. What they add after each signature is what long-term validation and later
// signing add, so no signature sees a change beyond signatures or form filling.
TEST(PdfRevisionsCorpus, RealWorldLongTermSignaturesHaveOnlyAllowedChanges) {
  namespace fs = std::filesystem;
  size_t files = 0;
  for (const auto& entry : fs::directory_iterator(CorpusPath("pades-realworld"))) {
    if (entry.path().extension() != ".pdf") continue;
    ++files;
    SCOPED_TRACE(entry.path().filename().string());
    auto analyses = AnalyzeFile(entry.path().string());
    ASSERT_FALSE(analyses.empty());
    for (const auto& a : analyses) {
      EXPECT_TRUE(a.coverage.kind == Coverage::kEntireRevision ||
                  a.coverage.kind == Coverage::kEntireFile)
          << Dump(analyses);
      ASSERT_TRUE(a.modifications) << Dump(analyses);
      EXPECT_LE(a.modifications->level, ModificationLevel::kFormFilling) << Dump(analyses);
      EXPECT_FALSE(a.modifications->appearance_changed) << Dump(analyses);
      EXPECT_FALSE(a.modifications->unanalysable) << Dump(analyses);
      EXPECT_FALSE(a.modifications->docmdp_violated) << Dump(analyses);
      EXPECT_FALSE(a.modifications->fieldmdp_violated) << Dump(analyses);
    }
  }
  EXPECT_EQ(files, 12u);
}

TEST(PdfRevisionsCorpus, MalformedFilesEndInAnErrorOrAnAnalysis) {
  namespace fs = std::filesystem;
  size_t files = 0;
  for (const auto& dir : {"pyhanko-pdf/malformed", "pyhanko-pdf/unsigned"}) {
    for (const auto& entry : fs::directory_iterator(CorpusPath(dir))) {
      ++files;
      SCOPED_TRACE(entry.path().string());
      auto doc = Document::Open(entry.path().string());
      if (doc.ok()) {
        auto analyses = AnalyzeSignatures(*doc);
        if (analyses.ok() && std::string(dir) == "pyhanko-pdf/unsigned") {
          EXPECT_TRUE(analyses->empty()) << Dump(*analyses);
        }
      } else {
        EXPECT_FALSE(doc.status().id().empty());
      }
      auto bytes = ReadFile(entry.path().string(), 64 << 20);
      ASSERT_TRUE(bytes.ok());
      auto analyses = AnalyzeSignatures(ByteSpan(*bytes));
      if (!analyses.ok()) {
        EXPECT_FALSE(analyses.status().id().empty());
      }
    }
  }
  EXPECT_GE(files, 20u);
}

// ---------------------------------------------------------------------------------------------
// Our own signatures, made in-process, and attacks on them.

TEST(PdfRevisions, OneSignatureCoversTheWholeFile) {
  Document doc = LoadFile(TestdataPath("pdf/cong-van.pdf"));
  SignaturePlacement placement;
  placement.page = 2;
  placement.rect = Rectangle{334.49, 200.66, 504.57, 280.03};
  SignatureSpec spec = SmallSpec();
  spec.location = "Hà Nội";
  Document signed_doc = Load(Sign(doc, placement, spec));
  auto analyses = Analyze(signed_doc);
  ASSERT_EQ(analyses.size(), 1u);
  const auto& a = analyses[0];
  EXPECT_EQ(a.field_name, "Signature1");
  EXPECT_EQ(a.type, "Sig");
  EXPECT_EQ(a.filter, "Adobe.PPKLite");
  EXPECT_EQ(a.sub_filter, "ETSI.CAdES.detached");
  EXPECT_EQ(a.reason, "Phê duyệt");
  EXPECT_EQ(a.location, "Hà Nội");
  EXPECT_EQ(a.signing_time.substr(0, 16), "D:20251119140322");
  EXPECT_FALSE(a.is_document_timestamp);
  EXPECT_FALSE(a.permissions.has_value());
  EXPECT_EQ(a.coverage.kind, Coverage::kEntireFile) << Dump(analyses);
  EXPECT_EQ(a.coverage.revision, 1u);
  EXPECT_EQ(a.coverage.signed_end, signed_doc.bytes().size());
  EXPECT_EQ(a.coverage.contents, (Bytes{0x30, 0x03, 0x02, 0x01, 0x01}));
  EXPECT_EQ(a.coverage.contents_length, 2 * 512 + 2u);
  ASSERT_EQ(a.coverage.byte_range.size(), 4u);
  EXPECT_EQ(static_cast<size_t>(a.coverage.byte_range[1]), a.coverage.contents_offset);
  ASSERT_TRUE(a.modifications);
  EXPECT_EQ(a.modifications->level, ModificationLevel::kNone);
  EXPECT_TRUE(a.modifications->findings.empty());
  EXPECT_EQ(a.modifications->later_revisions, 0u);
}

TEST(PdfRevisions, ASecondSignatureIsSignaturesOnly) {
  Document doc = LoadFile(TestdataPath("pdf/cong-van.pdf"));
  Document once = Load(Sign(doc));
  SignaturePlacement visible;
  visible.page = 1;
  visible.rect = Rectangle{100, 100, 250, 160};
  Document twice = Load(Sign(once, visible));
  auto analyses = Analyze(twice);
  ASSERT_EQ(analyses.size(), 2u);
  EXPECT_EQ(analyses[0].field_name, "Signature1");
  EXPECT_EQ(analyses[0].coverage.kind, Coverage::kEntireRevision) << Dump(analyses);
  EXPECT_EQ(analyses[0].coverage.revision, 1u);
  EXPECT_EQ(analyses[0].coverage.signed_end, once.bytes().size());
  ASSERT_TRUE(analyses[0].modifications);
  EXPECT_EQ(analyses[0].modifications->level, ModificationLevel::kSignaturesOnly) << Dump(analyses);
  EXPECT_EQ(analyses[0].modifications->signatures_added, 1);
  EXPECT_EQ(analyses[0].modifications->later_revisions, 1u);
  EXPECT_EQ(analyses[1].field_name, "Signature2");
  EXPECT_EQ(analyses[1].coverage.kind, Coverage::kEntireFile);

  // The same on a document whose cross-reference sections are streams.
  Document stream_doc = LoadFile(TestdataPath("pdf/cong-van-xref-stream.pdf"));
  Document stream_twice = Load(Sign(Load(Sign(stream_doc)), visible));
  auto stream_analyses = Analyze(stream_twice);
  ASSERT_EQ(stream_analyses.size(), 2u);
  EXPECT_EQ(stream_analyses[0].modifications->level, ModificationLevel::kSignaturesOnly)
      << Dump(stream_analyses);
}

TEST(PdfRevisions, DssAndDocumentTimestampAreSignaturesOnly) {
  Document doc = LoadFile(TestdataPath("pdf/cong-van.pdf"));
  Document signed_doc = Load(Sign(doc));
  DssData data;
  data.certificates = {Bytes{0x30, 0x03, 0x02, 0x01, 0x01}};
  data.crls = {Bytes{0x30, 0x00}};
  data.vri.push_back({std::string(40, 'A'), {0}, {}, {0}});
  auto dss = PrepareDss(signed_doc, data);
  ASSERT_TRUE(dss.ok()) << dss.status().ToString();
  Document with_dss = Load(Concat(signed_doc.bytes(), *dss));
  auto analyses = Analyze(with_dss);
  ASSERT_EQ(analyses.size(), 1u);
  EXPECT_EQ(analyses[0].coverage.kind, Coverage::kEntireRevision);
  EXPECT_EQ(analyses[0].modifications->level, ModificationLevel::kSignaturesOnly) << Dump(analyses);
  EXPECT_TRUE(analyses[0].modifications->dss_changed);

  SignatureSpec ts = SmallSpec();
  ts.document_timestamp = true;
  Document stamped = Load(Sign(with_dss, {}, ts));
  analyses = Analyze(stamped);
  ASSERT_EQ(analyses.size(), 2u);
  EXPECT_EQ(analyses[0].modifications->level, ModificationLevel::kSignaturesOnly) << Dump(analyses);
  EXPECT_EQ(analyses[0].modifications->timestamps_added, 1);
  EXPECT_EQ(analyses[0].modifications->later_revisions, 2u);
  EXPECT_TRUE(analyses[1].is_document_timestamp);
  EXPECT_EQ(analyses[1].type, "DocTimeStamp");
  EXPECT_EQ(analyses[1].sub_filter, "ETSI.RFC3161");
}

TEST(PdfRevisions, AnAddedTextAnnotationIsAnnotations) {
  Document doc = LoadFile(TestdataPath("pdf/cong-van.pdf"));
  Document signed_doc = Load(Sign(doc));
  auto page = signed_doc.Page(1);
  ASSERT_TRUE(page.ok());
  Document annotated = Load(Append(signed_doc, [&](Update& u, QPDF& q) {
    ObjectRef note = u.Allocate();
    u.Put(note, "<< /Type /Annot /Subtype /Text /Rect [100 700 120 720] /Contents (Sai) /P " +
                    page->ref.ToString() + " >>");
    QPDFObjectHandle page_dict = q.getObject(page->ref.number, page->ref.generation);
    std::string annots = "[";
    if (page_dict.getKey("/Annots").isArray()) {
      for (auto& a : page_dict.getKey("/Annots").aitems()) annots += a.unparse() + " ";
    }
    annots += note.ToString() + "]";
    u.Put(page->ref, Edited(page_dict, {{"/Annots", annots}}));
  }));
  auto analyses = Analyze(annotated);
  ASSERT_EQ(analyses.size(), 1u);
  EXPECT_EQ(analyses[0].modifications->level, ModificationLevel::kAnnotations) << Dump(analyses);
  EXPECT_TRUE(HasFinding(analyses[0], "/Text")) << Dump(analyses);
}

TEST(PdfRevisions, ChangedPageContentIsOther) {
  Document doc = LoadFile(TestdataPath("pdf/cong-van.pdf"));
  Document signed_doc = Load(Sign(doc));
  std::string evil = "BT /F1+0 24 Tf 100 700 Td (Da duyet) Tj ET";
  // In place: the content stream object 23 is overridden.
  Document overridden = Load(Append(signed_doc, [&](Update& u, QPDF&) {
    u.PutStream(ObjectRef{23, 0}, "<< >>", Bytes(evil.begin(), evil.end()));
  }));
  auto analyses = Analyze(overridden);
  ASSERT_EQ(analyses.size(), 1u);
  EXPECT_EQ(analyses[0].modifications->level, ModificationLevel::kOther) << Dump(analyses);
  EXPECT_TRUE(HasFinding(analyses[0], "object 23 0")) << Dump(analyses);

  // Through the page: /Contents points to a new stream.
  Document repointed = Load(Append(signed_doc, [&](Update& u, QPDF& q) {
    ObjectRef content = u.Allocate();
    u.PutStream(content, "<< >>", Bytes(evil.begin(), evil.end()));
    u.Put(ObjectRef{2, 0}, Edited(q.getObject(2, 0), {{"/Contents", content.ToString()}}));
  }));
  analyses = Analyze(repointed);
  ASSERT_EQ(analyses.size(), 1u);
  EXPECT_EQ(analyses[0].modifications->level, ModificationLevel::kOther) << Dump(analyses);
  EXPECT_TRUE(HasFinding(analyses[0], "object 2 0 (page 1): /Contents changed")) << Dump(analyses);
}

TEST(PdfRevisions, ShadowedFontsAndXObjectsAreOther) {
  // Object 7 is the font /F1+0 of cong-van.pdf's pages.
  Document doc = LoadFile(TestdataPath("pdf/cong-van.pdf"));
  Document signed_doc = Load(Sign(doc));
  Document shadowed = Load(Append(signed_doc, [&](Update& u, QPDF& q) {
    u.Put(ObjectRef{7, 0}, Edited(q.getObject(7, 0), {{"/BaseFont", "/Helvetica"}}));
  }));
  auto analyses = Analyze(shadowed);
  ASSERT_EQ(analyses.size(), 1u);
  EXPECT_EQ(analyses[0].modifications->level, ModificationLevel::kOther) << Dump(analyses);
  EXPECT_TRUE(HasFinding(analyses[0], "object 7 0")) << Dump(analyses);

  // Object 2 is the image XObject of scanned.pdf's page.
  Document scanned = LoadFile(TestdataPath("pdf/scanned.pdf"));
  Document signed_scan = Load(Sign(scanned));
  Document replaced = Load(Append(signed_scan, [&](Update& u, QPDF&) {
    std::string form = "0 0 1 rg 0 0 10 10 re f";
    u.PutStream(ObjectRef{2, 0}, "<< /Type /XObject /Subtype /Form /BBox [0 0 10 10] >>",
                Bytes(form.begin(), form.end()));
  }));
  analyses = Analyze(replaced);
  ASSERT_EQ(analyses.size(), 1u);
  EXPECT_EQ(analyses[0].modifications->level, ModificationLevel::kOther) << Dump(analyses);
  EXPECT_TRUE(HasFinding(analyses[0], "object 2 0")) << Dump(analyses);
}

TEST(PdfRevisions, IdenticalRedefinitionsAreNoChangeAndOrphansAreNoted) {
  Document doc = LoadFile(TestdataPath("pdf/cong-van.pdf"));
  Document signed_doc = Load(Sign(doc));
  Document redefined = Load(Append(signed_doc, [&](Update& u, QPDF& q) {
    u.Put(ObjectRef{2, 0}, q.getObject(2, 0).unparseResolved());
    u.Put(ObjectRef{7, 0}, Edited(q.getObject(7, 0), {}));
    ObjectRef orphan = u.Allocate();
    u.Put(orphan, "<< /Nothing /Uses /This /Object >>");
  }));
  auto analyses = Analyze(redefined);
  ASSERT_EQ(analyses.size(), 1u);
  ASSERT_TRUE(analyses[0].modifications);
  EXPECT_EQ(analyses[0].modifications->level, ModificationLevel::kNone) << Dump(analyses);
  EXPECT_TRUE(HasFinding(analyses[0], "unreferenced object added")) << Dump(analyses);
  EXPECT_FALSE(HasFinding(analyses[0], "object 2 0")) << Dump(analyses);
}

TEST(PdfRevisions, UnexpectedKeysAndReferenceLoopsAreOther) {
  Document doc = LoadFile(TestdataPath("pdf/cong-van.pdf"));
  Document signed_doc = Load(Sign(doc));
  Document looped = Load(Append(signed_doc, [&](Update& u, QPDF& q) {
    ObjectRef a = u.Allocate();
    ObjectRef b = u.Allocate();
    u.Put(a, "<< /Next " + b.ToString() + " /Self " + a.ToString() + " >>");
    u.Put(b, "[" + a.ToString() + " " + b.ToString() + " [[[" + a.ToString() + "]]]]");
    u.Put(ObjectRef{20, 0}, Edited(q.getObject(20, 0), {{"/FooBar", a.ToString()}}));
  }));
  auto analyses = Analyze(looped);
  ASSERT_EQ(analyses.size(), 1u);
  EXPECT_EQ(analyses[0].modifications->level, ModificationLevel::kOther) << Dump(analyses);
  EXPECT_TRUE(HasFinding(analyses[0], "object 20 0 (catalog): /FooBar added")) << Dump(analyses);
}

TEST(PdfRevisions, DocMdpPermissionsAreEnforced) {
  Document doc = LoadFile(TestdataPath("pdf/cong-van.pdf"));
  auto annotate = [](const Document& d) {
    return Append(d, [&](Update& u, QPDF& q) {
      ObjectRef note = u.Allocate();
      u.Put(note, "<< /Type /Annot /Subtype /Square /Rect [10 10 50 50] >>");
      QPDFObjectHandle page = q.getObject(3, 0);  // page 2 has no /Annots
      u.Put(ObjectRef{3, 0}, Edited(page, {{"/Annots", "[" + note.ToString() + "]"}}));
    });
  };
  for (int p : {2, 3}) {
    SCOPED_TRACE(p);
    SignatureSpec certify = SmallSpec();
    certify.docmdp_permissions = p;
    Document certified = Load(Sign(doc, {}, certify));
    auto analyses = Analyze(Load(annotate(certified)));
    ASSERT_EQ(analyses.size(), 1u);
    EXPECT_EQ(analyses[0].docmdp_permissions, p);
    EXPECT_EQ(analyses[0].permissions, p);
    EXPECT_EQ(analyses[0].modifications->level, ModificationLevel::kAnnotations) << Dump(analyses);
    EXPECT_EQ(analyses[0].modifications->docmdp_violated, p == 2) << Dump(analyses);

    // An approval signature after the certification is form filling and signing: P >= 2.
    auto approved = Analyze(Load(Sign(certified)));
    ASSERT_EQ(approved.size(), 2u);
    EXPECT_FALSE(approved[0].modifications->docmdp_violated) << Dump(approved);
    EXPECT_EQ(approved[1].permissions, p);  // the certification's, in force
  }
  // P=1: document time-stamps and the DSS only.
  SignatureSpec certify = SmallSpec();
  certify.docmdp_permissions = 1;
  Document locked = Load(Sign(doc, {}, certify));
  SignatureSpec ts = SmallSpec();
  ts.document_timestamp = true;
  auto stamped = Analyze(Load(Sign(locked, {}, ts)));
  ASSERT_EQ(stamped.size(), 2u);
  EXPECT_FALSE(stamped[0].modifications->docmdp_violated) << Dump(stamped);
  auto annotated = Analyze(Load(annotate(locked)));
  EXPECT_TRUE(annotated[0].modifications->docmdp_violated) << Dump(annotated);
}

TEST(PdfRevisions, FieldMdpLocksAreEnforced) {
  Document doc = LoadFile(TestdataPath("pdf/with-form-fields.pdf"));
  SignaturePlacement placement;
  placement.field_name = "LanhDao";
  placement.create_field = false;
  SignatureSpec spec = SmallSpec();
  spec.lock = FieldLock{FieldLock::Action::kInclude, {"SoVanBan"}};
  Document signed_doc = Load(Sign(doc, placement, spec));

  // Filling the locked text field.
  QPDF& q = signed_doc.qpdf();
  QPDFObjectHandle text_field;
  for (auto& f : q.getRoot().getKey("/AcroForm").getKey("/Fields").aitems()) {
    if (f.getKey("/T").isString() && f.getKey("/T").getUTF8Value() == "SoVanBan") text_field = f;
  }
  ASSERT_TRUE(text_field.isIndirect());
  Document filled = Load(Append(signed_doc, [&](Update& u, QPDF&) {
    u.Put(ObjectRef{text_field.getObjectID(), text_field.getGeneration()},
          Edited(text_field, {{"/V", "(123/QD-UBND)"}}));
  }));
  auto analyses = Analyze(filled);
  ASSERT_EQ(analyses.size(), 1u);
  ASSERT_TRUE(analyses[0].lock.has_value());
  EXPECT_EQ(analyses[0].modifications->level, ModificationLevel::kFormFilling) << Dump(analyses);
  EXPECT_EQ(analyses[0].modifications->changed_fields, std::vector<std::string>{"SoVanBan"});
  EXPECT_TRUE(analyses[0].modifications->fieldmdp_violated) << Dump(analyses);

  // Signing the other, unlocked field is allowed.
  SignaturePlacement seal;
  seal.field_name = "CoQuan";
  seal.create_field = false;
  auto sealed = Analyze(Load(Sign(signed_doc, seal)));
  ASSERT_EQ(sealed.size(), 2u);
  EXPECT_EQ(sealed[0].field_name, "LanhDao");
  // Signing a signature field that was there when LanhDao signed is form filling.
  EXPECT_EQ(sealed[0].modifications->level, ModificationLevel::kFormFilling) << Dump(sealed);
  EXPECT_FALSE(sealed[0].modifications->fieldmdp_violated);
  EXPECT_EQ(sealed[0].modifications->changed_fields, std::vector<std::string>{"CoQuan"});
}

TEST(PdfRevisions, UncoveredTailsAndRawMismatchesAreFlagged) {
  Document doc = LoadFile(TestdataPath("pdf/cong-van.pdf"));
  Bytes signed_bytes = Sign(doc);
  const size_t signed_size = signed_bytes.size();

  // Trailing blanks are harmless; anything else after the last revision is an update no
  // reader can parse (no cross-reference section): the signed revision is whole, and what
  // follows is a change that cannot be analysed (issue 18).
  Bytes blank = signed_bytes;
  blank.insert(blank.end(), {'\n', '\n', ' '});
  auto analyses = Analyze(Load(blank));
  ASSERT_EQ(analyses.size(), 1u);
  EXPECT_EQ(analyses[0].coverage.kind, Coverage::kEntireRevision) << Dump(analyses);
  EXPECT_EQ(analyses[0].modifications->level, ModificationLevel::kNone);
  Bytes junk = signed_bytes;
  std::string tail = "% not signed\n1 0 obj (x) endobj\n";
  junk.insert(junk.end(), tail.begin(), tail.end());
  analyses = Analyze(Load(junk));
  ASSERT_EQ(analyses.size(), 1u);
  EXPECT_EQ(analyses[0].coverage.kind, Coverage::kEntireRevision) << Dump(analyses);
  EXPECT_EQ(analyses[0].coverage.signed_end, signed_size);
  ASSERT_TRUE(analyses[0].modifications);
  EXPECT_TRUE(analyses[0].modifications->unanalysable) << Dump(analyses);

  // A second /ByteRange in the signature dictionary: QPDF keeps the last, the raw bytes show
  // both.
  std::string text(signed_bytes.begin(), signed_bytes.end());
  size_t at = text.rfind("/Filter /Adobe.PPKLite");
  ASSERT_NE(at, std::string::npos);
  text.replace(at, 22, "/ByteRange [0 1 2 3]  ");
  analyses = Analyze(Load(Bytes(text.begin(), text.end())));
  ASSERT_EQ(analyses.size(), 1u);
  EXPECT_EQ(analyses[0].coverage.kind, Coverage::kIrregular) << Dump(analyses);
  auto twice = AnalyzeSignatures(AsBytes(text));
  ASSERT_TRUE(twice.ok()) << twice.status().ToString();
  ASSERT_EQ(twice->size(), 1u);
  EXPECT_EQ((*twice)[0].coverage.kind, Coverage::kIrregular) << Dump(*twice);
  EXPECT_FALSE((*twice)[0].modifications.has_value());
}

// ---------------------------------------------------------------------------------------------
// Issue 18: appearance swaps, damaged later revisions, changes made and undone.

// with-form-fields.pdf: text field SoVanBan (its /AP /N a stream), signature fields LanhDao
// and CoQuan. LanhDao is signed; later updates touch SoVanBan or LanhDao.
struct SignedForm {
  Document unsigned_doc = LoadFile(TestdataPath("pdf/with-form-fields.pdf"));
  Bytes signed_bytes;
  int text_field = 0, text_appearance = 0, signed_field = 0;
  int size = 0;  // the next free object number

  SignedForm() {
    SignaturePlacement placement;
    placement.field_name = "LanhDao";
    placement.create_field = false;
    signed_bytes = Sign(unsigned_doc, placement);
    QPDF q;
    q.processMemoryFile("signed", reinterpret_cast<const char*>(signed_bytes.data()),
                        signed_bytes.size());
    QPDFObjectHandle text = FieldNamed(q, "SoVanBan");
    QPDFObjectHandle sig = FieldNamed(q, "LanhDao");
    text_field = text.getObjectID();
    text_appearance = text.getKey("/AP").getKey("/N").getObjectID();
    signed_field = sig.getObjectID();
    size = static_cast<int>(q.getTrailer().getKey("/Size").getIntValue());
  }
};

TEST(PdfRevisions, AnAppearanceSwapIsNotFormFilling) {
  SignedForm form;
  ASSERT_GT(form.text_appearance, 0);
  const std::string shown = "BT /Helv 12 Tf 2 4 Td (999/QD-GIA) Tj ET";

  // 1. The text field's appearance stream overridden in place; /V untouched.
  Bytes in_place = AppendByHand(
      form.signed_bytes, {{form.text_appearance,
                           StreamBody("/Type /XObject /Subtype /Form /BBox [0 0 41 16]", shown)}});
  auto analyses = AnalyzeSignatures(ByteSpan(in_place));
  ASSERT_TRUE(analyses.ok()) << analyses.status().ToString();
  ASSERT_EQ(analyses->size(), 1u);
  const auto& a = (*analyses)[0];
  ASSERT_TRUE(a.modifications);
  EXPECT_TRUE(a.modifications->appearance_changed) << Dump(*analyses);
  EXPECT_FALSE(a.modifications->other_changes) << Dump(*analyses);
  EXPECT_EQ(a.modifications->level, ModificationLevel::kOther);
  EXPECT_TRUE(HasFinding(a, "draws field 'SoVanBan'")) << Dump(*analyses);

  // 2. A new /AP for the text field; /V untouched.
  Document signed_doc = Load(form.signed_bytes);
  QPDFObjectHandle text = signed_doc.qpdf().getObject(form.text_field, 0);
  Bytes new_ap = AppendByHand(
      form.signed_bytes,
      {{form.size, StreamBody("/Type /XObject /Subtype /Form /BBox [0 0 41 16]", shown)},
       {form.text_field,
        Edited(text, {{"/AP", "<< /N " + std::to_string(form.size) + " 0 R >>"}})}});
  analyses = AnalyzeSignatures(ByteSpan(new_ap));
  ASSERT_TRUE(analyses.ok());
  ASSERT_EQ(analyses->size(), 1u);
  EXPECT_TRUE((*analyses)[0].modifications->appearance_changed) << Dump(*analyses);
  EXPECT_FALSE((*analyses)[0].modifications->other_changes) << Dump(*analyses);
  EXPECT_TRUE(HasFinding((*analyses)[0], "/AP changed while the value stayed")) << Dump(*analyses);

  // 3. Form filling: a new value with an appearance made for it.
  Bytes filled =
      AppendByHand(form.signed_bytes,
                   {{form.size, StreamBody("/Type /XObject /Subtype /Form /BBox [0 0 41 16]",
                                           "BT /Helv 12 Tf 2 4 Td (123/QD-UBND) Tj ET")},
                    {form.text_field,
                     Edited(text, {{"/V", "(123/QD-UBND)"},
                                   {"/AP", "<< /N " + std::to_string(form.size) + " 0 R >>"}})}});
  analyses = AnalyzeSignatures(ByteSpan(filled));
  ASSERT_TRUE(analyses.ok());
  ASSERT_EQ(analyses->size(), 1u);
  EXPECT_EQ((*analyses)[0].modifications->level, ModificationLevel::kFormFilling)
      << Dump(*analyses);
  EXPECT_FALSE((*analyses)[0].modifications->appearance_changed);
  EXPECT_EQ((*analyses)[0].modifications->changed_fields, std::vector<std::string>{"SoVanBan"});

  // 4. The signed field's own appearance replaced.
  QPDFObjectHandle sig = signed_doc.qpdf().getObject(form.signed_field, 0);
  Bytes signed_swap =
      AppendByHand(form.signed_bytes,
                   {{form.size, StreamBody("/Type /XObject /Subtype /Form /BBox [0 0 170 79]",
                                           "BT /Helv 12 Tf 2 4 Td (Da ky: Nguyen Van B) Tj ET")},
                    {form.signed_field,
                     Edited(sig, {{"/AP", "<< /N " + std::to_string(form.size) + " 0 R >>"}})}});
  analyses = AnalyzeSignatures(ByteSpan(signed_swap));
  ASSERT_TRUE(analyses.ok());
  ASSERT_EQ(analyses->size(), 1u);
  EXPECT_TRUE((*analyses)[0].modifications->appearance_changed) << Dump(*analyses);
  EXPECT_TRUE(HasFinding((*analyses)[0], "after the field was signed")) << Dump(*analyses);
}

TEST(PdfRevisions, AChangeMadeAndUndoneInLaterRevisionsIsSeen) {
  Document doc = LoadFile(TestdataPath("pdf/cong-van.pdf"));
  Bytes signed_bytes = Sign(doc);
  QPDFObjectHandle page = doc.qpdf().getAllPages().at(0);
  QPDFObjectHandle contents = page.getKey("/Contents");
  ASSERT_TRUE(contents.isStream() && contents.isIndirect());
  auto raw = contents.getRawStreamData();
  std::string original(reinterpret_cast<const char*>(raw->getBuffer()), raw->getSize());
  std::string entries;
  for (const auto& key : contents.getDict().getKeys()) {
    if (key != "/Length") entries += key + " " + contents.getDict().getKey(key).unparse() + " ";
  }
  int number = contents.getObjectID();
  // Revision 3 paints the page blue; revision 4 puts the original back.
  Bytes changed =
      AppendByHand(signed_bytes, {{number, StreamBody("", "0 0 1 rg 0 0 595 842 re f")}});
  Bytes undone = AppendByHand(changed, {{number, StreamBody(entries, original)}});

  auto analyses = AnalyzeSignatures(ByteSpan(undone));
  ASSERT_TRUE(analyses.ok()) << analyses.status().ToString();
  ASSERT_EQ(analyses->size(), 1u);
  const auto& m = *(*analyses)[0].modifications;
  EXPECT_EQ(m.later_revisions, 2u);
  EXPECT_EQ(m.level, ModificationLevel::kOther) << Dump(*analyses);
  EXPECT_TRUE(m.other_changes);
  EXPECT_TRUE(HasFinding((*analyses)[0], "revision 3: ")) << Dump(*analyses);
  // The undo on its own changes nothing: the final revision equals the signed one.
  Bytes only_undo = AppendByHand(signed_bytes, {{number, StreamBody(entries, original)}});
  auto same = AnalyzeSignatures(ByteSpan(only_undo));
  ASSERT_TRUE(same.ok());
  EXPECT_EQ((*same)[0].modifications->level, ModificationLevel::kNone) << Dump(*same);
}

TEST(PdfRevisions, ABrokenLaterRevisionLeavesTheSignedOneJudged) {
  Document doc = LoadFile(TestdataPath("pdf/cong-van.pdf"));
  Bytes signed_bytes = Sign(doc);
  QPDFObjectHandle page = doc.qpdf().getAllPages().at(0);
  QPDFObjectHandle contents = page.getKey("/Contents");
  std::vector<std::pair<int, std::string>> blue = {
      {contents.getObjectID(), StreamBody("", "0 0 1 rg 0 0 595 842 re f")}};
  struct Case {
    const char* name;
    Bytes bytes;
  };
  Bytes wrong_offset = AppendByHand(signed_bytes, blue, signed_bytes.size() + 3);
  Bytes broken_trailer = AppendByHand(signed_bytes, blue, std::nullopt, "<< /Size 9 /Root [");
  // No cross-reference section at all: objects appended after the last %%EOF.
  Bytes no_xref = signed_bytes;
  std::string tail =
      "\n" + std::to_string(contents.getObjectID()) + " 0 obj\n" + blue[0].second + "\nendobj\n";
  no_xref.insert(no_xref.end(), tail.begin(), tail.end());
  for (const auto& c : {Case{"wrong startxref", wrong_offset},
                        Case{"broken trailer", broken_trailer}, Case{"no xref", no_xref}}) {
    SCOPED_TRACE(c.name);
    auto analyses = AnalyzeSignatures(ByteSpan(c.bytes));
    ASSERT_TRUE(analyses.ok()) << analyses.status().ToString();
    ASSERT_EQ(analyses->size(), 1u);
    const auto& a = (*analyses)[0];
    EXPECT_EQ(a.coverage.kind, Coverage::kEntireRevision) << Dump(*analyses);
    EXPECT_EQ(a.coverage.signed_end, signed_bytes.size());
    ASSERT_TRUE(a.modifications);
    EXPECT_TRUE(a.modifications->unanalysable) << Dump(*analyses);
    EXPECT_FALSE(a.modifications->findings.empty());
  }
}

TEST(PdfRevisions, DeepNestingAndFormTreeLoopsStayBounded) {
  Document doc = LoadFile(TestdataPath("pdf/with-form-fields.pdf"));
  SignaturePlacement placement;
  placement.field_name = "LanhDao";
  placement.create_field = false;
  Document signed_doc = Load(Sign(doc, placement));
  QPDF& q = signed_doc.qpdf();
  QPDFObjectHandle text_field;
  for (auto& f : q.getRoot().getKey("/AcroForm").getKey("/Fields").aitems()) {
    if (f.getKey("/T").isString() && f.getKey("/T").getUTF8Value() == "SoVanBan") text_field = f;
  }
  ASSERT_TRUE(text_field.isIndirect());
  ObjectRef text_ref{text_field.getObjectID(), text_field.getGeneration()};
  for (int depth : {300, 5000}) {
    SCOPED_TRACE(depth);
    Bytes attacked = Append(signed_doc, [&](Update& u, QPDF&) {
      // The text field becomes its own kid (a loop in the form tree) and carries a deeply
      // nested value.
      ObjectRef deep = u.Allocate();
      u.Put(deep, std::string(depth, '[') + std::string(depth, ']'));
      u.Put(text_ref, Edited(text_field, {{"/Kids", "[" + text_ref.ToString() + "]"},
                                          {"/FooBar", deep.ToString()}}));
    });
    auto analyses = AnalyzeSignatures(ByteSpan(attacked));
    ASSERT_TRUE(analyses.ok()) << analyses.status().ToString();
    ASSERT_EQ(analyses->size(), 1u);
    ASSERT_TRUE((*analyses)[0].modifications);
    EXPECT_EQ((*analyses)[0].modifications->level, ModificationLevel::kOther) << Dump(*analyses);
  }
}

}  // namespace
}  // namespace kyso::pdf
