// Pixel checks of the Nghị định 30 appearances as a real renderer draws them: documents signed
// in-process with PlanVisibleSignature + SignPdf, rendered with `pdftoppm -r 72` (1 pixel per
// point) and compared with the unsigned page, and read back with pdftotext.
//
// Inputs are the shared test documents (../shared/testdata beside the checkout, or
// $KYSO_TESTDATA_DIR): cong-van.pdf, its layout.json, chu-ky.png and con-dau.png.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <sstream>

#include "appearance/appearance.h"
#include "base/clock.h"
#include "crypto/key.h"
#include "crypto/signer.h"
#include "pades/signer.h"
#include "pades/visible.h"
#include "pdf/document.h"
#include "testlib/shell.h"
#include "testlib/temp_dir.h"
#include "x509/certificate.h"
#include "x509/name.h"

namespace kyso::pades {
namespace {

constexpr const char* kAgency = "Sở Khoa học và Công nghệ tỉnh Bắc Giang";

std::string TestdataDir() {
  if (const char* dir = std::getenv("KYSO_TESTDATA_DIR"); dir && *dir) return dir;
  std::filesystem::path source;
  if (const char* src = std::getenv("KYSO_SOURCE_DIR"); src && *src) {
    source = src;
  } else {
    source = std::filesystem::path(__FILE__).parent_path().parent_path().parent_path();
  }
  return (source / ".." / "shared" / "testdata").lexically_normal().string();
}
std::string Testdata(const std::string& relative) {
  return TestdataDir() + "/" + relative;
}

Bytes ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

std::string Quote(const std::string& s) {
  return "'" + s + "'";
}

// An RGB raster as pdftoppm writes it (binary PPM, P6, maxval 255).
struct Raster {
  int width = 0, height = 0;
  Bytes rgb;
  const uint8_t* At(int x, int y) const { return &rgb[(static_cast<size_t>(y) * width + x) * 3]; }
};

std::optional<Raster> ReadPpm(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string magic;
  int maxval = 0;
  Raster r;
  in >> magic >> r.width >> r.height >> maxval;
  if (!in || magic != "P6" || maxval != 255 || r.width <= 0 || r.height <= 0) return std::nullopt;
  in.get();  // the single whitespace after maxval
  r.rgb.resize(static_cast<size_t>(r.width) * r.height * 3);
  in.read(reinterpret_cast<char*>(r.rgb.data()), static_cast<std::streamsize>(r.rgb.size()));
  if (in.gcount() != static_cast<std::streamsize>(r.rgb.size())) return std::nullopt;
  return r;
}

bool IsBlue(const uint8_t* p) {
  return p[2] > 150 && p[0] < 100 && p[1] < 100;
}
bool IsRed(const uint8_t* p) {
  return p[0] > 150 && p[1] < 80 && p[2] < 80;
}
bool IsDark(const uint8_t* p) {
  return p[0] < 100 && p[1] < 100 && p[2] < 100;
}
bool Same(const uint8_t* a, const uint8_t* b) {
  return a[0] == b[0] && a[1] == b[1] && a[2] == b[2];
}

// A rectangle in PDF points (origin bottom left), as layout.json gives it: [x, y, w, h].
struct Box {
  double x = 0, y = 0, w = 0, h = 0;
  double right() const { return x + w; }
  double top() const { return y + h; }
};

// Pixel (px, py) of a 72 dpi render covers the point square whose centre is
// (px + 0.5, page_height - py - 0.5): one pixel per point, y flipped.
struct Page {
  double height = 0;
  double X(int px) const { return px + 0.5; }
  double Y(int py) const { return height - py - 0.5; }
  bool Inside(const Box& b, int px, int py, double margin) const {
    return X(px) >= b.x - margin && X(px) <= b.right() + margin && Y(py) >= b.y - margin &&
           Y(py) <= b.top() + margin;
  }
};

// The bounding box, in points, of the pixels `pick` selects.
template <typename Pick>
std::optional<Box> BoundingBox(const Raster& r, const Page& page, Pick pick) {
  int x0 = r.width, x1 = -1, y0 = r.height, y1 = -1;
  for (int y = 0; y < r.height; ++y) {
    for (int x = 0; x < r.width; ++x) {
      if (!pick(x, y)) continue;
      x0 = std::min(x0, x);
      x1 = std::max(x1, x);
      y0 = std::min(y0, y);
      y1 = std::max(y1, y);
    }
  }
  if (x1 < 0) return std::nullopt;
  // Pixel edges: left of x0 to right of x1; bottom of y1 to top of y0.
  return Box{double(x0), page.height - (y1 + 1), double(x1 - x0 + 1), double(y1 - y0 + 1)};
}

std::string Describe(const Box& b) {
  std::ostringstream s;
  s << "[x " << b.x << ", y " << b.y << ", w " << b.w << ", h " << b.h << "]";
  return s.str();
}

Box FromLayout(const nlohmann::json& a) {
  return Box{a.at(0).get<double>(), a.at(1).get<double>(), a.at(2).get<double>(),
             a.at(3).get<double>()};
}

// Everything signed once for the whole suite: the ND30 approved + issued pair on cong-van.pdf
// page 2, and the appendix and copy kinds on page 1.
struct Fixture {
  testlib::TempDir dir;
  std::string input = Testdata("pdf/cong-van.pdf");
  nlohmann::json layout;
  Box signature_rect, seal_rect;
  Page page;
  std::optional<x509::Certificate> leader, agency;
  std::shared_ptr<crypto::SoftwareSigner> leader_key, agency_key;
  std::optional<SignOutcome> approved, issued, appendix, copy;
  std::string error;  // why the fixture could not be built
  UnixSeconds time = SystemClock().Now();

  std::string File(const std::string& name) const { return dir.File(name); }

  Fixture() {
    std::ifstream in(Testdata("pdf/layout.json"));
    if (!in) {
      error = "cannot read " + Testdata("pdf/layout.json") + " (set KYSO_TESTDATA_DIR)";
      return;
    }
    layout = nlohmann::json::parse(in);
    signature_rect = FromLayout(layout["cong-van.pdf"]["signature_image_rect"]);
    seal_rect = FromLayout(layout["cong-van.pdf"]["seal_image_rect"]);
    page.height = layout["page_size"][1].get<double>();

    leader = MakeSigner("/C=VN/L=Bắc Giang/O=" + std::string(kAgency) +
                            "/title=Giám đốc/CN=Nguyễn Văn An/UID=CCCD:001085012345",
                        "ec:P-256", 1, leader_key);
    agency = MakeSigner("/C=VN/L=Bắc Giang/O=UBND tỉnh Bắc Giang/CN=" + std::string(kAgency) +
                            "/UID=MST:2400123456",
                        "ec:P-256", 2, agency_key);
    if (!error.empty()) return;

    auto signature = Image("img/chu-ky.png");
    auto seal = Image("img/con-dau.png");
    auto font = appearance::Font::Load(std::filesystem::exists(appearance::kDefaultFontPath)
                                           ? appearance::kDefaultFontPath
                                           : appearance::kFallbackFontPath);
    if (!error.empty()) return;
    if (!font.ok()) {
      error = "font: " + font.status().ToString();
      return;
    }

    VisibleOptions v;
    v.kind = Kind::kApproved;
    v.page = 2;
    v.rect = pdf::Rectangle{signature_rect.x, signature_rect.y, signature_rect.right(),
                            signature_rect.top()};
    v.image = signature;
    approved = Sign(input, File("approved.pdf"), v, *leader, leader_key);

    VisibleOptions s;
    s.kind = Kind::kIssued;
    s.page = 2;
    s.image = seal;  // no rect: placed over the left third of the approved signature
    if (approved) issued = Sign(File("approved.pdf"), File("issued.pdf"), s, *agency, agency_key);

    VisibleOptions a;
    a.kind = Kind::kAppendix;
    a.document_number = "Số: 123/SKHCN-VP";
    a.font = *font;
    appendix = Sign(input, File("appendix.pdf"), a, *agency, agency_key);

    VisibleOptions c;
    c.kind = Kind::kCopy;
    c.font = *font;
    copy = Sign(input, File("copy.pdf"), c, *agency, agency_key);
  }

  std::optional<x509::Certificate> MakeSigner(const std::string& subject, const std::string& spec,
                                              uint8_t serial,
                                              std::shared_ptr<crypto::SoftwareSigner>& signer) {
    auto key = crypto::PrivateKey::Generate(*crypto::KeySpec::Parse(spec));
    auto name = x509::Name::ParseSlashed(subject);
    if (!key.ok() || !name.ok()) {
      error = "test key or name: " + (key.ok() ? name.status() : key.status()).ToString();
      return std::nullopt;
    }
    signer = std::make_shared<crypto::SoftwareSigner>(*key, "mem:" + subject);
    x509::Extensions ext;
    ext.key_usage = {"digitalSignature", "nonRepudiation"};
    x509::CertificateTemplate tmpl{{0x20, serial},    *name, key->public_key(), time - 3600,
                                   time + 86400 * 30, ext};
    auto cert = x509::BuildCertificate(tmpl, nullptr, *signer,
                                       crypto::SignatureScheme::DefaultFor(signer->key_spec()));
    if (!cert.ok()) {
      error = "test certificate: " + cert.status().ToString();
      return std::nullopt;
    }
    return x509::Certificate::FromDer(cert->der()).value();
  }

  std::shared_ptr<const appearance::PreparedImage> Image(const std::string& relative) {
    auto image = appearance::PrepareImage(ReadAll(Testdata(relative)));
    if (!image.ok()) {
      error = relative + ": " + image.status().ToString();
      return nullptr;
    }
    return *image;
  }

  std::optional<SignOutcome> Sign(const std::string& in, const std::string& out,
                                  const VisibleOptions& visible, const x509::Certificate& cert,
                                  const std::shared_ptr<crypto::SoftwareSigner>& key) {
    auto document = pdf::Document::Open(in);
    if (!document.ok()) {
      error += out + ": open: " + document.status().ToString() + "\n";
      return std::nullopt;
    }
    SignOptions options;
    options.signing_time = time;
    options.durable = false;
    if (Status st = PlanVisibleSignature(*document, cert, visible, options); !st.ok()) {
      error += out + ": plan: " + st.ToString() + "\n";
      return std::nullopt;
    }
    auto outcome = SignPdf(*document, Credentials{key, cert, {}}, options, out);
    if (!outcome.ok()) {
      error += out + ": sign: " + outcome.status().ToString() + "\n";
      return std::nullopt;
    }
    return *outcome;
  }

  // Renders one page at 72 dpi (cached by file and page).
  const Raster* Render(const std::string& pdf, int page_number) {
    std::string key = pdf + "#" + std::to_string(page_number);
    if (auto it = renders_.find(key); it != renders_.end()) return &it->second;
    std::string prefix = File("render-" + std::to_string(renders_.size()));
    std::string out;
    int rc = testlib::Shell("pdftoppm -r 72 -f " + std::to_string(page_number) + " -l " +
                                std::to_string(page_number) + " -singlefile " + Quote(pdf) + " " +
                                Quote(prefix),
                            &out);
    auto raster = rc == 0 ? ReadPpm(prefix + ".ppm") : std::nullopt;
    if (!raster) {
      ADD_FAILURE() << "pdftoppm " << pdf << " page " << page_number << " (exit " << rc
                    << "): " << out;
      return nullptr;
    }
    return &renders_.emplace(key, std::move(*raster)).first->second;
  }

 private:
  std::map<std::string, Raster> renders_;
};

class RenderTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { fixture_ = new Fixture(); }
  static void TearDownTestSuite() {
    delete fixture_;
    fixture_ = nullptr;
  }
  void SetUp() override {
    ASSERT_EQ(testlib::Shell("command -v pdftoppm && command -v pdftotext"), 0)
        << "poppler-utils (pdftoppm, pdftotext) are needed";
    ASSERT_TRUE(fixture_->error.empty()) << fixture_->error;
  }
  Fixture& f() { return *fixture_; }

  // Pixels outside `keep` (grown by `margin` points for anti-aliasing) that differ between the
  // two renders; a few are described in `where`.
  int ChangedOutside(const Raster& before, const Raster& after, const Box& keep, double margin,
                     std::string& where) {
    int changed = 0;
    for (int y = 0; y < after.height; ++y) {
      for (int x = 0; x < after.width; ++x) {
        if (f().page.Inside(keep, x, y, margin) || Same(before.At(x, y), after.At(x, y))) continue;
        if (++changed <= 5) {
          where +=
              " (" + std::to_string(f().page.X(x)) + ", " + std::to_string(f().page.Y(y)) + ")";
        }
      }
    }
    return changed;
  }

  // pdftotext of the part of page 1 under `rect` (pdftotext crops in pixels from the top left).
  std::string TextIn(const std::string& pdf, const pdf::Rectangle& rect) {
    auto px = [](double v) { return std::to_string(static_cast<int>(std::floor(v))); };
    std::string text;
    int rc = testlib::Shell("pdftotext -q -enc UTF-8 -f 1 -l 1 -x " + px(rect.llx - 1) + " -y " +
                                px(f().page.height - rect.ury - 1) + " -W " + px(rect.width() + 3) +
                                " -H " + px(rect.height() + 3) + " " + Quote(pdf) + " -",
                            &text);
    EXPECT_EQ(rc, 0) << text;
    return text;
  }

  static Fixture* fixture_;
};

Fixture* RenderTest::fixture_ = nullptr;

const std::regex kTimeLine(R"((^|\n)\d\d\.\d\d\.20\d\d \d\d:\d\d:\d\d \+07:00(\n|$))");

Box ToBox(const pdf::Rectangle& r) {
  return Box{r.llx, r.lly, r.width(), r.height()};
}

TEST_F(RenderTest, ApprovedSignatureIsBlueInsideItsRectangleOnly) {
  ASSERT_TRUE(f().approved);
  EXPECT_EQ(f().approved->page, 2);
  const Raster* before = f().Render(f().input, 2);
  const Raster* after = f().Render(f().File("approved.pdf"), 2);
  ASSERT_TRUE(before && after);
  ASSERT_EQ(before->width, after->width);
  ASSERT_EQ(before->height, after->height);
  ASSERT_NEAR(after->height, f().page.height, 1.0) << "72 dpi: one pixel per point";

  const Box& rect = f().signature_rect;
  int blue_inside = 0, blue_outside = 0, blue_before = 0;
  for (int y = 0; y < after->height; ++y) {
    for (int x = 0; x < after->width; ++x) {
      if (IsBlue(before->At(x, y))) ++blue_before;
      if (!IsBlue(after->At(x, y))) continue;
      if (f().page.Inside(rect, x, y, 0))
        ++blue_inside;
      else
        ++blue_outside;
    }
  }
  EXPECT_EQ(blue_before, 0) << "the unsigned page already has blue pixels";
  EXPECT_GT(blue_inside, 300) << "the signature ink is missing from " << Describe(rect);
  EXPECT_EQ(blue_outside, 0) << "blue ink outside " << Describe(rect);

  // The ink is scaled into the rectangle with its aspect ratio kept: it spans most of the width.
  auto ink = BoundingBox(*after, f().page, [&](int x, int y) { return IsBlue(after->At(x, y)); });
  ASSERT_TRUE(ink);
  EXPECT_GT(ink->w, rect.w * 0.6) << Describe(*ink) << " in " << Describe(rect);

  std::string where;
  EXPECT_EQ(ChangedOutside(*before, *after, rect, 1.0, where), 0)
      << "pixels changed outside the signature rectangle at" << where;

  // The other page is untouched.
  const Raster* page1_before = f().Render(f().input, 1);
  const Raster* page1_after = f().Render(f().File("approved.pdf"), 1);
  ASSERT_TRUE(page1_before && page1_after);
  EXPECT_EQ(page1_before->rgb, page1_after->rgb) << "page 1 changed";
}

TEST_F(RenderTest, IssuedSealSitsOverTheLeftThirdOfTheSignatureAtItsRealSize) {
  ASSERT_TRUE(f().issued);
  EXPECT_EQ(f().issued->page, 2);
  const Raster* approved = f().Render(f().File("approved.pdf"), 2);
  const Raster* issued = f().Render(f().File("issued.pdf"), 2);
  ASSERT_TRUE(approved && issued);

  auto red = BoundingBox(*issued, f().page, [&](int x, int y) { return IsRed(issued->At(x, y)); });
  ASSERT_TRUE(red) << "no red seal on page 2";
  const Box& want = f().seal_rect;  // layout.json: 36 mm, ND30 placement
  constexpr double kTolerance = 3;
  EXPECT_NEAR(red->x, want.x, kTolerance) << Describe(*red) << " vs " << Describe(want);
  EXPECT_NEAR(red->y, want.y, kTolerance) << Describe(*red) << " vs " << Describe(want);
  EXPECT_NEAR(red->right(), want.right(), kTolerance) << Describe(*red) << " vs " << Describe(want);
  EXPECT_NEAR(red->top(), want.top(), kTolerance) << Describe(*red) << " vs " << Describe(want);

  // ND30 Phụ lục I: the seal covers the left third of the signature, vertically centred on it.
  const Box& sig = f().signature_rect;
  EXPECT_LT(red->x, sig.x) << "the seal should start left of the signature";
  EXPECT_NEAR(red->right(), sig.x + sig.w / 3, kTolerance) << Describe(*red);
  EXPECT_NEAR(red->y + red->h / 2, sig.y + sig.h / 2, kTolerance) << Describe(*red);
  EXPECT_NEAR(red->w, 36 * kPointsPerMm, 2 * kTolerance) << "not the seal's real size";

  // Drawn over the signature: some ink that was blue is now red.
  int covered = 0;
  for (int y = 0; y < issued->height; ++y) {
    for (int x = 0; x < issued->width; ++x) {
      if (IsBlue(approved->At(x, y)) && IsRed(issued->At(x, y))) ++covered;
    }
  }
  EXPECT_GT(covered, 0) << "the seal does not cover any of the signature's ink";

  // Only the seal's widget area changed.
  Box widget = ToBox(f().issued->rect);
  std::string where;
  EXPECT_EQ(ChangedOutside(*approved, *issued, widget, 1.0, where), 0)
      << "pixels changed outside the seal widget " << Describe(widget) << " at" << where;
  int red_outside = 0;
  for (int y = 0; y < issued->height; ++y) {
    for (int x = 0; x < issued->width; ++x) {
      if (IsRed(issued->At(x, y)) && !f().page.Inside(want, x, y, kTolerance)) ++red_outside;
    }
  }
  EXPECT_EQ(red_outside, 0);
}

// Changed pixels of page 1 all lie in the top right (x > half the width, y > 80 % of the height)
// and include dark text pixels.
void ExpectTopRightOnly(Fixture& f, const std::string& signed_pdf) {
  const Raster* before = f.Render(f.input, 1);
  const Raster* after = f.Render(signed_pdf, 1);
  ASSERT_TRUE(before && after);
  double page_width = f.layout["page_size"][0].get<double>();
  int dark_changed = 0, changed_elsewhere = 0;
  std::string where;
  for (int y = 0; y < after->height; ++y) {
    for (int x = 0; x < after->width; ++x) {
      if (Same(before->At(x, y), after->At(x, y))) continue;
      bool top_right = f.page.X(x) > page_width / 2 && f.page.Y(y) > f.page.height * 0.8;
      if (!top_right) {
        if (++changed_elsewhere <= 5) {
          where += " (" + std::to_string(f.page.X(x)) + ", " + std::to_string(f.page.Y(y)) + ")";
        }
      } else if (IsDark(after->At(x, y))) {
        ++dark_changed;
      }
    }
  }
  EXPECT_GT(dark_changed, 50) << signed_pdf << ": no text drawn at the top right";
  EXPECT_EQ(changed_elsewhere, 0) << signed_pdf << ": pixels changed outside the top right at"
                                  << where;
}

TEST_F(RenderTest, AppendixTextAtTheTopRightOfPageOneReadsBack) {
  ASSERT_TRUE(f().appendix);
  EXPECT_EQ(f().appendix->page, 1);
  ExpectTopRightOnly(f(), f().File("appendix.pdf"));
  std::string text = TextIn(f().File("appendix.pdf"), f().appendix->rect);
  EXPECT_NE(text.find("Số: 123/SKHCN-VP"), std::string::npos) << text;
  EXPECT_TRUE(std::regex_search(text, kTimeLine)) << "no dd.MM.yyyy HH:mm:ss +07:00 line:\n"
                                                  << text;
  EXPECT_NE(text.find(FormatSigningTime(f().time, 7 * 60)), std::string::npos) << text;
}

TEST_F(RenderTest, CopyTextAtTheTopRightOfPageOneReadsBack) {
  ASSERT_TRUE(f().copy);
  EXPECT_EQ(f().copy->page, 1);
  ExpectTopRightOnly(f(), f().File("copy.pdf"));
  std::string text = TextIn(f().File("copy.pdf"), f().copy->rect);
  EXPECT_NE(text.find("SAO Y"), std::string::npos) << text;
  EXPECT_NE(text.find(kAgency), std::string::npos) << "diacritics lost?\n" << text;
  EXPECT_TRUE(std::regex_search(text, kTimeLine)) << text;
}

}  // namespace
}  // namespace kyso::pades
