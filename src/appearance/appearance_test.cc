#include "appearance/appearance.h"

#include <gtest/gtest.h>
#include <png.h>
#include <zlib.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <regex>
#include <thread>

#include "testlib/shell.h"
#include "testlib/temp_dir.h"
#include "testlib/testdata.h"

namespace kyso::appearance {
namespace {

// ---------------------------------------------------------------------------------------------
// Test helpers

std::string TestDataPath(const std::string& name) {
  return testlib::TestdataPath(name);
}

Bytes ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << path;
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

Bytes Inflate(ByteSpan z) {
  z_stream s{};
  EXPECT_EQ(inflateInit(&s), Z_OK);
  s.next_in = const_cast<Bytef*>(z.data());
  s.avail_in = static_cast<uInt>(z.size());
  Bytes out;
  uint8_t buf[65536];
  int rc;
  do {
    s.next_out = buf;
    s.avail_out = sizeof buf;
    rc = inflate(&s, Z_NO_FLUSH);
    out.insert(out.end(), buf, buf + (sizeof buf - s.avail_out));
  } while (rc == Z_OK);
  EXPECT_EQ(rc, Z_STREAM_END);
  inflateEnd(&s);
  return out;
}

// Records what WriteAppearance writes, serialized as PDF indirect objects. Numbers start at 5:
// 1..4 are the catalog, page tree, page and page content of MakePdf.
class MemorySink : public pdf::ObjectSink {
 public:
  struct Object {
    std::string dictionary;  // the whole object for Put, the dictionary for PutStream
    Bytes data;              // stream data as given
    bool stream = false;
    bool operator==(const Object&) const = default;
  };

  pdf::ObjectRef Allocate() override { return {next_++, 0}; }
  void Put(pdf::ObjectRef ref, std::string body) override {
    EXPECT_LT(ref.number, next_);
    EXPECT_FALSE(objects_.contains(ref.number)) << "object written twice";
    objects_[ref.number] = {std::move(body), {}, false};
  }
  void PutStream(pdf::ObjectRef ref, std::string dictionary, Bytes data) override {
    EXPECT_LT(ref.number, next_);
    EXPECT_FALSE(objects_.contains(ref.number)) << "object written twice";
    objects_[ref.number] = {std::move(dictionary), std::move(data), true};
  }

  int allocated() const { return next_ - kFirst; }
  const std::map<int, Object>& objects() const { return objects_; }
  const Object& Get(pdf::ObjectRef ref) const { return objects_.at(ref.number); }
  // The decompressed data of a Flate stream.
  std::string StreamText(pdf::ObjectRef ref) const {
    Bytes plain = Inflate(Get(ref).data);
    return std::string(plain.begin(), plain.end());
  }

  static constexpr int kFirst = 5;

 private:
  int next_ = kFirst;
  std::map<int, Object> objects_;
};

struct Placement {
  pdf::ObjectRef form;
  double x = 0, y = 0;
};

// A one-page PDF (classic xref table) drawing each appearance form at its place on a
// `width` × `height` page.
std::string MakePdf(const MemorySink& sink, const std::vector<Placement>& placements, double width,
                    double height) {
  std::map<int, std::string> objects;
  std::string xobjects;
  std::string content;
  for (size_t i = 0; i < placements.size(); ++i) {
    const std::string name = "/Fm" + std::to_string(i + 1);
    xobjects += name + " " + placements[i].form.ToString() + " ";
    content += "q 1 0 0 1 " + pdf::Number(placements[i].x) + " " + pdf::Number(placements[i].y) +
               " cm " + name + " Do Q\n";
  }
  objects[1] = "<< /Type /Catalog /Pages 2 0 R >>";
  objects[2] = "<< /Type /Pages /Kids [3 0 R] /Count 1 >>";
  objects[3] = "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 " + pdf::Number(width) + " " +
               pdf::Number(height) + "] /Resources << /XObject << " + xobjects +
               ">> >> /Contents 4 0 R >>";
  objects[4] =
      "<< /Length " + std::to_string(content.size()) + " >>\nstream\n" + content + "\nendstream";
  for (const auto& [number, object] : sink.objects()) {
    if (!object.stream) {
      objects[number] = object.dictionary;
      continue;
    }
    std::string dict = object.dictionary;
    const size_t end = dict.rfind(">>");
    EXPECT_NE(end, std::string::npos);
    dict.insert(end, "/Length " + std::to_string(object.data.size()) + " ");
    objects[number] =
        dict + "\nstream\n" + std::string(object.data.begin(), object.data.end()) + "\nendstream";
  }

  const int size = MemorySink::kFirst + sink.allocated();
  std::string pdf = "%PDF-1.7\n%\xE2\xE3\xCF\xD3\n";
  std::vector<size_t> offsets(size, 0);
  for (const auto& [number, object] : objects) {
    offsets[number] = pdf.size();
    pdf += std::to_string(number) + " 0 obj\n" + object + "\nendobj\n";
  }
  const size_t xref = pdf.size();
  pdf += "xref\n0 " + std::to_string(size) + "\n0000000000 65535 f \n";
  for (int n = 1; n < size; ++n) {
    char line[32];
    if (offsets[n] != 0) {
      std::snprintf(line, sizeof line, "%010zu 00000 n \n", offsets[n]);
    } else {
      std::snprintf(line, sizeof line, "0000000000 00001 f \n");  // allocated, never written
    }
    pdf += line;
  }
  pdf += "trailer\n<< /Size " + std::to_string(size) + " /Root 1 0 R >>\nstartxref\n" +
         std::to_string(xref) + "\n%%EOF\n";
  return pdf;
}

struct Raster {
  int width = 0, height = 0;
  Bytes rgb;
  // Pixel (x, y) from the top-left corner.
  const uint8_t* At(int x, int y) const { return &rgb[(static_cast<size_t>(y) * width + x) * 3]; }
};

// Reads a PNG a renderer wrote, with libpng.
Raster ReadPng(const std::string& path) {
  Raster raster;
  Bytes file = ReadFile(path);
  png_image image;
  std::memset(&image, 0, sizeof image);
  image.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_memory(&image, file.data(), file.size())) {
    ADD_FAILURE() << path << ": " << image.message;
    return raster;
  }
  image.format = PNG_FORMAT_RGB;
  raster.rgb.resize(PNG_IMAGE_SIZE(image));
  const png_color white = {255, 255, 255};
  if (!png_image_finish_read(&image, &white, raster.rgb.data(), 0, nullptr)) {
    ADD_FAILURE() << path << ": " << image.message;
    png_image_free(&image);
    return raster;
  }
  raster.width = static_cast<int>(image.width);
  raster.height = static_cast<int>(image.height);
  return raster;
}

struct ColorCount {
  int pixels = 0;
  int white = 0;     // every channel ≥ 235
  int red = 0;       // R > 150, G < 80, B < 80
  int blue = 0;      // B > 150, R < 80, G < 80
  int dark = 0;      // every channel < 100
  int reddish = 0;   // red ink, anti-aliased or translucent included: R ≥ G + 60, R ≥ B + 60
  int bluish = 0;    // B ≥ R + 60, B ≥ G + 60
  int red_hue = 0;   // inked with R the largest channel (red over white, in any proportion)
  int blue_hue = 0;  // inked with B the largest channel
  int inked() const { return pixels - white; }
};

// Counts the colours of a rectangle given in page points (origin bottom-left) of a page
// rendered at 72 dpi, so one point is one pixel.
ColorCount CountColors(const Raster& r, double x, double y, double w, double h) {
  ColorCount c;
  const int x0 = static_cast<int>(std::ceil(x));
  const int x1 = static_cast<int>(std::floor(x + w));
  const int y0 = r.height - static_cast<int>(std::floor(y + h));
  const int y1 = r.height - static_cast<int>(std::ceil(y));
  for (int py = std::max(0, y0); py < std::min(r.height, y1); ++py) {
    for (int px = std::max(0, x0); px < std::min(r.width, x1); ++px) {
      const uint8_t* p = r.At(px, py);
      ++c.pixels;
      if (p[0] >= 235 && p[1] >= 235 && p[2] >= 235) ++c.white;
      if (p[0] > 150 && p[1] < 80 && p[2] < 80) ++c.red;
      if (p[2] > 150 && p[0] < 80 && p[1] < 80) ++c.blue;
      if (p[0] < 100 && p[1] < 100 && p[2] < 100) ++c.dark;
      if (p[0] >= p[1] + 60 && p[0] >= p[2] + 60) ++c.reddish;
      if (p[2] >= p[0] + 60 && p[2] >= p[1] + 60) ++c.bluish;
      const bool inked = !(p[0] >= 235 && p[1] >= 235 && p[2] >= 235);
      if (inked && p[0] >= p[1] && p[0] >= p[2]) ++c.red_hue;
      if (inked && p[2] >= p[0] && p[2] >= p[1]) ++c.blue_hue;
    }
  }
  return c;
}

std::shared_ptr<const Font> DefaultFont() {
  static const std::shared_ptr<const Font> font = [] {
    auto loaded = Font::Load(kDefaultFontPath);
    EXPECT_TRUE(loaded.ok()) << loaded.status().ToString();
    return loaded.ok() ? *loaded : nullptr;
  }();
  return font;
}

std::shared_ptr<const PreparedImage> TestImage(const std::string& name) {
  auto image = PrepareImage(ReadFile(TestDataPath("img/" + name)));
  EXPECT_TRUE(image.ok()) << image.status().ToString();
  return image.ok() ? *image : nullptr;
}

const std::vector<std::string> kSignerLines = {
    "Ký bởi: Nguyễn Văn An",
    "Cơ quan: Sở Khoa học và Công nghệ tỉnh Bắc Giang",
    "Thời gian ký: 19.11.2025 14:03:22 +07:00",
};

TextBlock SignerText(std::vector<std::string> paragraphs = kSignerLines) {
  TextBlock text;
  text.paragraphs = std::move(paragraphs);
  text.font = DefaultFont();
  text.size = 10;
  return text;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  for (size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1) {
    std::string line = text.substr(start, nl - start);
    while (!line.empty() && (line.back() == ' ' || line.back() == '\f')) line.pop_back();
    while (!line.empty() && line.front() == '\f') line.erase(0, 1);
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

// Writes `pdf` into `dir`, checks it with qpdf and returns its path.
std::string WriteCheckedPdf(const testlib::TempDir& dir, const std::string& pdf) {
  const std::string path = dir.File("appearance.pdf");
  testlib::WriteBytes(path, AsBytes(pdf));
  std::string out;
  EXPECT_EQ(testlib::Shell("qpdf --check '" + path + "'", &out), 0) << out;
  EXPECT_NE(out.find("No syntax or stream encoding errors found"), std::string::npos) << out;
  return path;
}

std::string PdfToText(const std::string& path) {
  std::string text;
  EXPECT_EQ(testlib::Shell("pdftotext -q -enc UTF-8 '" + path + "' -", &text), 0) << text;
  return text;
}

// ---------------------------------------------------------------------------------------------
// Images

TEST(PrepareImage, SplitsColourAndAlpha) {
  auto image = TestImage("chu-ky.png");
  ASSERT_TRUE(image);
  EXPECT_EQ(image->width, 600);
  EXPECT_EQ(image->height, 250);
  Bytes rgb = Inflate(image->rgb_deflated);
  Bytes alpha = Inflate(image->alpha_deflated);
  ASSERT_EQ(rgb.size(), 600u * 250 * 3);
  ASSERT_EQ(alpha.size(), 600u * 250);
  size_t ink = 0;
  for (size_t i = 0; i < alpha.size(); ++i) {
    if (alpha[i] == 0) continue;
    ++ink;
    // testdata/README.md: ink RGB (0,0,200) everywhere.
    ASSERT_EQ(rgb[i * 3 + 0], 0);
    ASSERT_EQ(rgb[i * 3 + 1], 0);
    ASSERT_EQ(rgb[i * 3 + 2], 200);
  }
  EXPECT_GT(ink, 1000u);
  EXPECT_LT(ink, alpha.size() / 2);  // mostly transparent background
}

TEST(PrepareImage, OpaqueImageHasNoSoftMask) {
  // A 3x2 8-bit RGB PNG written by libpng.
  png_image image;
  std::memset(&image, 0, sizeof image);
  image.version = PNG_IMAGE_VERSION;
  image.width = 3;
  image.height = 2;
  image.format = PNG_FORMAT_RGB;
  const uint8_t pixels[18] = {255, 0, 0, 0, 255, 0, 0, 0, 255, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  png_alloc_size_t size = 0;
  ASSERT_TRUE(png_image_write_to_memory(&image, nullptr, &size, 0, pixels, 0, nullptr));
  Bytes png(size);
  ASSERT_TRUE(png_image_write_to_memory(&image, png.data(), &size, 0, pixels, 0, nullptr));
  png.resize(size);

  auto prepared = PrepareImage(png);
  ASSERT_TRUE(prepared.ok()) << prepared.status().ToString();
  EXPECT_EQ((*prepared)->width, 3);
  EXPECT_EQ((*prepared)->height, 2);
  EXPECT_TRUE((*prepared)->alpha_deflated.empty());
  EXPECT_EQ(Inflate((*prepared)->rgb_deflated), Bytes(pixels, pixels + 18));
}

TEST(PrepareImage, RejectsWhatIsNotAPng) {
  auto r = PrepareImage(AsBytes("GIF89a this is no PNG"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().id(), "appearance.not_png");
  EXPECT_EQ(PrepareImage({}).status().id(), "appearance.not_png");
  // A JPEG file.
  const uint8_t jpeg[] = {0xFF, 0xD8, 0xFF, 0xE0, 0, 16, 'J', 'F', 'I', 'F', 0};
  EXPECT_EQ(PrepareImage(jpeg).status().id(), "appearance.not_png");
}

TEST(PrepareImage, RejectsTruncatedPng) {
  Bytes png = ReadFile(TestDataPath("img/con-dau.png"));
  ASSERT_GT(png.size(), 1000u);
  for (size_t keep : {png.size() / 2, size_t{40}, size_t{8}}) {
    auto r = PrepareImage(ByteSpan(png).first(keep));
    ASSERT_FALSE(r.ok()) << keep;
    EXPECT_EQ(r.status().id(), "appearance.bad_png") << keep;
  }
}

TEST(PrepareImage, RejectsCorruptedPng) {
  Bytes png = ReadFile(TestDataPath("img/chu-ky-nhay.png"));
  ASSERT_GT(png.size(), 200u);
  png[png.size() / 2] ^= 0x55;  // inside the IDAT data: its CRC no longer matches
  EXPECT_EQ(PrepareImage(png).status().id(), "appearance.bad_png");
}

// A PNG signature, an IHDR declaring width × height and an empty IDAT, with correct CRCs.
Bytes PngHeader(uint32_t width, uint32_t height) {
  Bytes png = {137, 80, 78, 71, 13, 10, 26, 10, 0, 0, 0, 13, 'I', 'H', 'D', 'R'};
  for (uint32_t v : {width, height}) {
    for (int shift = 24; shift >= 0; shift -= 8) png.push_back(static_cast<uint8_t>(v >> shift));
  }
  png.insert(png.end(), {8, 6, 0, 0, 0});  // 8-bit RGBA, deflate, no filter, no interlace
  auto put_crc = [&](size_t chunk_type_offset) {
    const uLong crc =
        crc32(0, png.data() + chunk_type_offset, static_cast<uInt>(png.size() - chunk_type_offset));
    for (int shift = 24; shift >= 0; shift -= 8) png.push_back(static_cast<uint8_t>(crc >> shift));
  };
  put_crc(12);
  // An empty IDAT: libpng reads the header up to the first IDAT before we see the size.
  png.insert(png.end(), {0, 0, 0, 0, 'I', 'D', 'A', 'T'});
  put_crc(png.size() - 4);
  return png;
}

TEST(PrepareImage, RejectsImagesAboveThePixelLimit) {
  auto r = PrepareImage(PngHeader(10000, 10000));  // 100 Mpx, before any allocation
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().id(), "appearance.image_too_large");
  // Within the limit, the same header fails later for want of image data.
  EXPECT_EQ(PrepareImage(PngHeader(100, 100)).status().id(), "appearance.bad_png");
}

// ---------------------------------------------------------------------------------------------
// Fonts and measuring

TEST(Font, LoadsLiberationSerif) {
  auto font = DefaultFont();
  ASSERT_TRUE(font);
  EXPECT_EQ(font->postscript_name(), "LiberationSerif");
}

TEST(Font, RejectsUnreadableFonts) {
  auto missing = Font::Load("/nonexistent/font.ttf");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().id(), "appearance.font_unreadable");
  auto png = Font::Load(TestDataPath("img/chu-ky-nhay.png"));
  ASSERT_FALSE(png.ok());
  EXPECT_EQ(png.status().id(), "appearance.font_unreadable");
}

TEST(Font, MeasuresWithTimesMetricsAndKerning) {
  auto font = DefaultFont();
  ASSERT_TRUE(font);
  // Times New Roman (and its twin): "A" is 722/1000 em, "V" 722/1000 em.
  auto a = font->MeasureLine("A", 10);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_NEAR(*a, 7.22, 0.01);
  auto v = font->MeasureLine("V", 10);
  auto av = font->MeasureLine("AV", 10);
  ASSERT_TRUE(v.ok() && av.ok());
  EXPECT_LT(*av, *a + *v - 0.5);  // the AV kerning pair
  auto vn = font->MeasureLine("Ký bởi: Nguyễn Văn An", 10);
  ASSERT_TRUE(vn.ok()) << vn.status().ToString();
  EXPECT_GT(*vn, 50);
  EXPECT_LT(*vn, 150);
  EXPECT_NEAR(*font->MeasureLine("Ký bởi: Nguyễn Văn An", 20), 2 * *vn, 1e-9);
}

TEST(Font, MissingGlyphIsNamed) {
  auto font = DefaultFont();
  ASSERT_TRUE(font);
  auto r = font->MeasureLine("Hà Nội 中", 10);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().id(), "appearance.glyph_missing");
  EXPECT_NE(r.status().message().find("U+4E2D"), std::string::npos) << r.status().message();
  EXPECT_EQ(font->MeasureLine("\xC3", 10).status().id(), "appearance.invalid_text");
}

TEST(MeasureTextBlock, WrapsAtSpaces) {
  TextBlock text = SignerText();
  auto one_line = MeasureTextBlock(text, 1000);
  ASSERT_TRUE(one_line.ok()) << one_line.status().ToString();
  EXPECT_NEAR(one_line->height, 3 * 10 * 1.15, 1e-9);
  EXPECT_NEAR(one_line->width, *text.font->MeasureLine(kSignerLines[1], 10), 1e-9);

  auto wrapped = MeasureTextBlock(text, 120);
  ASSERT_TRUE(wrapped.ok()) << wrapped.status().ToString();
  EXPECT_LE(wrapped->width, 120);
  EXPECT_GT(wrapped->height, one_line->height);
  const double lines = wrapped->height / (10 * 1.15);
  EXPECT_NEAR(lines, std::round(lines), 1e-9);

  // Without a font, the default one.
  text.font = nullptr;
  auto by_default = MeasureTextBlock(text, 120);
  ASSERT_TRUE(by_default.ok()) << by_default.status().ToString();
  EXPECT_EQ(by_default->width, wrapped->width);
  EXPECT_EQ(by_default->height, wrapped->height);
}

TEST(MeasureTextBlock, BreaksLongWordsBetweenCharacters) {
  TextBlock text = SignerText({"Nguyễn-Văn-An-Nguyễn-Văn-An"});
  auto r = MeasureTextBlock(text, 40);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_LE(r->width, 40);
  EXPECT_GE(r->height, 3 * 10 * 1.15 - 1e-9);
}

TEST(MeasureTextBlock, RejectsBadArguments) {
  TextBlock text = SignerText();
  EXPECT_EQ(MeasureTextBlock(text, 0).status().id(), "appearance.invalid_box");
  EXPECT_EQ(MeasureTextBlock(text, NAN).status().id(), "appearance.invalid_box");
  text.size = -1;
  EXPECT_EQ(MeasureTextBlock(text, 100).status().id(), "appearance.invalid_text");
}

// ---------------------------------------------------------------------------------------------
// WriteAppearance: errors

AppearanceSpec TextSpec(TextBlock text, double width = 300, double height = 60) {
  AppearanceSpec spec;
  spec.width = width;
  spec.height = height;
  spec.text = std::move(text);
  spec.text_box = {4, 4, width - 8, height - 8};
  return spec;
}

TEST(WriteAppearance, RejectsInvalidBoxes) {
  const double kBad[] = {0, -10, NAN, INFINITY};
  for (double bad : kBad) {
    MemorySink sink;
    AppearanceSpec spec = TextSpec(SignerText());
    spec.width = bad;
    EXPECT_EQ(WriteAppearance(spec, sink).status().id(), "appearance.invalid_box") << bad;
    spec = TextSpec(SignerText());
    spec.height = bad;
    EXPECT_EQ(WriteAppearance(spec, sink).status().id(), "appearance.invalid_box") << bad;
    spec = TextSpec(SignerText());
    spec.text_box.width = bad;
    EXPECT_EQ(WriteAppearance(spec, sink).status().id(), "appearance.invalid_box") << bad;
    spec = TextSpec(SignerText());
    spec.image = TestImage("chu-ky-nhay.png");
    spec.image_box = {0, 0, 50, bad};
    EXPECT_EQ(WriteAppearance(spec, sink).status().id(), "appearance.invalid_box") << bad;
    EXPECT_EQ(sink.allocated(), 0);  // nothing written on failure
  }
}

TEST(WriteAppearance, RejectsMissingGlyph) {
  MemorySink sink;
  auto r = WriteAppearance(TextSpec(SignerText({"Ký bởi: Nguyễn Văn An", "签名 Lý"})), sink);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().id(), "appearance.glyph_missing");
  EXPECT_NE(r.status().message().find("U+7B7E"), std::string::npos) << r.status().message();
  EXPECT_EQ(sink.allocated(), 0);
}

TEST(WriteAppearance, RejectsTextTooLong) {
  std::vector<std::string> long_text;
  for (int i = 0; i < 20; ++i) long_text.push_back(kSignerLines[1]);
  MemorySink sink;
  auto r = WriteAppearance(TextSpec(SignerText(long_text), 150, 60), sink);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().id(), "appearance.text_too_long");
  EXPECT_EQ(sink.allocated(), 0);

  // One character wider than the box at the minimum size.
  TextBlock wide = SignerText({"W"});
  wide.size = 40;
  wide.min_size = 20;
  AppearanceSpec spec = TextSpec(wide, 100, 100);
  spec.text_box = {0, 0, 10, 100};
  EXPECT_EQ(WriteAppearance(spec, sink).status().id(), "appearance.text_too_long");
}

TEST(WriteAppearance, RejectsInvalidText) {
  MemorySink sink;
  TextBlock text = SignerText({"Nguy\xE1\xBB"});  // truncated UTF-8
  EXPECT_EQ(WriteAppearance(TextSpec(text), sink).status().id(), "appearance.invalid_text");
  text = SignerText();
  text.line_spacing = 0;
  EXPECT_EQ(WriteAppearance(TextSpec(text), sink).status().id(), "appearance.invalid_text");
}

// ---------------------------------------------------------------------------------------------
// WriteAppearance: objects

TEST(WriteAppearance, WritesTheObjectsOfIso32000) {
  MemorySink sink;
  AppearanceSpec spec = TextSpec(SignerText());
  spec.image = TestImage("chu-ky.png");
  spec.image_box = {0, 0, 300, 60};
  auto form = WriteAppearance(spec, sink);
  ASSERT_TRUE(form.ok()) << form.status().ToString();

  const std::string dict = sink.Get(*form).dictionary;
  EXPECT_NE(dict.find("/Type /XObject /Subtype /Form"), std::string::npos) << dict;
  EXPECT_NE(dict.find("/BBox [0 0 300 60]"), std::string::npos) << dict;
  EXPECT_NE(dict.find("/FlateDecode"), std::string::npos) << dict;
  const std::string content = sink.StreamText(*form);
  // 600x250 scaled into 300x60 keeps its aspect ratio: 144x60, centred.
  EXPECT_NE(content.find("q 144 0 0 60 78 0 cm /Im1 Do Q"), std::string::npos) << content;
  EXPECT_NE(content.find("/F1 10 Tf"), std::string::npos) << content;
  EXPECT_NE(content.find("] TJ"), std::string::npos) << content;

  // Every object's type, by what it contains.
  int images = 0, smasks = 0, type0 = 0, cid = 0, descriptors = 0, files = 0, cmaps = 0;
  std::string base_font;
  for (const auto& [number, object] : sink.objects()) {
    const std::string& d = object.dictionary;
    if (d.find("/ColorSpace /DeviceRGB") != std::string::npos) {
      ++images;
      EXPECT_NE(d.find("/Width 600 /Height 250 /BitsPerComponent 8"), std::string::npos) << d;
      EXPECT_NE(d.find("/SMask "), std::string::npos) << d;
    }
    if (d.find("/ColorSpace /DeviceGray") != std::string::npos) ++smasks;
    if (d.find("/Subtype /Type0") != std::string::npos) {
      ++type0;
      EXPECT_NE(d.find("/Encoding /Identity-H"), std::string::npos) << d;
      EXPECT_NE(d.find("/ToUnicode "), std::string::npos) << d;
      std::smatch m;
      ASSERT_TRUE(std::regex_search(d, m, std::regex("/BaseFont /([A-Z]{6})\\+LiberationSerif ")))
          << d;
      base_font = m[1];
    }
    if (d.find("/Subtype /CIDFontType2") != std::string::npos) {
      ++cid;
      EXPECT_NE(d.find("/CIDToGIDMap /Identity"), std::string::npos) << d;
      EXPECT_NE(d.find("/Registry (Adobe) /Ordering (Identity) /Supplement 0"), std::string::npos)
          << d;
      EXPECT_NE(d.find("/W ["), std::string::npos) << d;
    }
    if (d.find("/Type /FontDescriptor") != std::string::npos) {
      ++descriptors;
      EXPECT_NE(d.find("/Flags 34 "), std::string::npos) << d;  // Serif | Nonsymbolic
      EXPECT_NE(d.find("/ItalicAngle 0 "), std::string::npos) << d;
      EXPECT_NE(d.find("/FontFile2 "), std::string::npos) << d;
    }
    if (d.find("/Length1 ") != std::string::npos) {
      ++files;
      std::smatch m;
      ASSERT_TRUE(std::regex_search(d, m, std::regex("/Length1 ([0-9]+)"))) << d;
      Bytes font = Inflate(object.data);
      EXPECT_EQ(std::to_string(font.size()), m[1].str());
      ASSERT_GE(font.size(), 4u);
      EXPECT_EQ(Bytes(font.begin(), font.begin() + 4), (Bytes{0, 1, 0, 0}));  // TrueType
      EXPECT_LT(font.size(), 60000u);  // a subset: the whole font is about 400 KB
    }
    if (object.stream && d.find("/Filter") != std::string::npos &&
        d.find("/Type") == std::string::npos && d.find("/Length1") == std::string::npos) {
      ++cmaps;
      const std::string cmap = sink.StreamText({number, 0});
      EXPECT_NE(cmap.find("<0000> <FFFF>"), std::string::npos) << cmap;
      EXPECT_NE(cmap.find("beginbfchar"), std::string::npos) << cmap;
      EXPECT_NE(cmap.find(" <1EC5>"), std::string::npos) << cmap;  // ễ
    }
  }
  EXPECT_EQ(images, 1);
  EXPECT_EQ(smasks, 1);
  EXPECT_EQ(type0, 1);
  EXPECT_EQ(cid, 1);
  EXPECT_EQ(descriptors, 1);
  EXPECT_EQ(files, 1);
  EXPECT_EQ(cmaps, 1);
  EXPECT_EQ(static_cast<int>(sink.objects().size()), sink.allocated());
}

TEST(WriteAppearance, ShrinksTextToFit) {
  MemorySink sink;
  TextBlock text = SignerText();
  text.size = 14;
  // At 14 pt three lines need 48.3 pt; at 11.5 pt, 39.7 pt.
  AppearanceSpec spec = TextSpec(text, 400, 40);
  spec.text_box = {0, 0, 400, 40};
  auto form = WriteAppearance(spec, sink);
  ASSERT_TRUE(form.ok()) << form.status().ToString();
  EXPECT_NE(sink.StreamText(*form).find("/F1 11.5 Tf"), std::string::npos)
      << sink.StreamText(*form);
}

TEST(WriteAppearance, AlignsLinesAndStartsBelowTheTop) {
  const std::string line = kSignerLines[0];
  const double width = *DefaultFont()->MeasureLine(line, 10);
  // Liberation Serif's ascender is 1825/2048 em.
  const double first_baseline = 10 + 80 - 10 * 1825.0 / 2048;
  for (Align align : {Align::kLeft, Align::kCenter, Align::kRight}) {
    TextBlock text = SignerText({line, line});
    text.align = align;
    AppearanceSpec spec = TextSpec(text, 200, 100);
    spec.text_box = {20, 10, 160, 80};
    MemorySink sink;
    auto form = WriteAppearance(spec, sink);
    ASSERT_TRUE(form.ok()) << form.status().ToString();
    const std::string content = sink.StreamText(*form);
    std::vector<std::pair<double, double>> origins;
    const std::regex tm("1 0 0 1 ([-0-9.]+) ([-0-9.]+) Tm");
    for (std::sregex_iterator it(content.begin(), content.end(), tm), end; it != end; ++it) {
      origins.emplace_back(std::stod((*it)[1]), std::stod((*it)[2]));
    }
    ASSERT_EQ(origins.size(), 2u) << content;
    const double expected_x = align == Align::kLeft     ? 20
                              : align == Align::kCenter ? 20 + (160 - width) / 2
                                                        : 180 - width;
    EXPECT_NEAR(origins[0].first, expected_x, 1e-3);
    EXPECT_NEAR(origins[1].first, expected_x, 1e-3);
    EXPECT_NEAR(origins[0].second, first_baseline, 1e-3);
    EXPECT_NEAR(origins[0].second - origins[1].second, 10 * 1.15, 1e-3);
  }
}

TEST(WriteAppearance, IsDeterministic) {
  AppearanceSpec spec = TextSpec(SignerText());
  spec.image = TestImage("con-dau.png");
  spec.image_box = {0, 0, 60, 60};
  MemorySink first, second;
  ASSERT_TRUE(WriteAppearance(spec, first).ok());
  // A fresh image and font: nothing cached may change the bytes.
  spec.image = TestImage("con-dau.png");
  auto font = Font::Load(kDefaultFontPath);
  ASSERT_TRUE(font.ok());
  spec.text->font = *font;
  ASSERT_TRUE(WriteAppearance(spec, second).ok());
  EXPECT_TRUE(first.objects() == second.objects());
}

TEST(WriteAppearance, RunsConcurrently) {
  AppearanceSpec spec = TextSpec(SignerText());
  spec.image = TestImage("chu-ky-nhay.png");
  spec.image_box = {0, 0, 300, 60};
  MemorySink reference;
  ASSERT_TRUE(WriteAppearance(spec, reference).ok());
  constexpr int kThreads = 4;
  std::vector<MemorySink> sinks(kThreads);
  std::vector<std::thread> threads;
  std::vector<bool> ok(kThreads, false);
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      for (int round = 0; round < 3; ++round) {
        MemorySink sink;
        ok[i] = WriteAppearance(spec, sink).ok() && sink.objects() == reference.objects();
        if (!ok[i]) return;
      }
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < kThreads; ++i) EXPECT_TRUE(ok[i]) << i;
}

// ---------------------------------------------------------------------------------------------
// WriteAppearance: judged by qpdf, pdftotext, pdffonts, pdftoppm and mutool

TEST(WriteAppearanceTools, TextCopiesBackExactly) {
  MemorySink sink;
  auto form = WriteAppearance(TextSpec(SignerText(), 300, 60), sink);
  ASSERT_TRUE(form.ok()) << form.status().ToString();
  testlib::TempDir dir;
  const std::string path = WriteCheckedPdf(dir, MakePdf(sink, {{*form, 50, 700}}, 595, 842));
  EXPECT_EQ(Lines(PdfToText(path)), kSignerLines);

  std::string fonts;
  ASSERT_EQ(testlib::Shell("pdffonts '" + path + "'", &fonts), 0) << fonts;
  // name, type, encoding, emb, sub, uni
  EXPECT_TRUE(std::regex_search(
      fonts, std::regex("[A-Z]{6}\\+LiberationSerif +CID TrueType +Identity-H +yes +yes +yes")))
      << fonts;
}

TEST(WriteAppearanceTools, WrappedTextCopiesBackInOrder) {
  MemorySink sink;
  TextBlock text = SignerText();
  text.align = Align::kCenter;
  AppearanceSpec spec = TextSpec(text, 130, 120);
  auto form = WriteAppearance(spec, sink);
  ASSERT_TRUE(form.ok()) << form.status().ToString();
  testlib::TempDir dir;
  const std::string path = WriteCheckedPdf(dir, MakePdf(sink, {{*form, 50, 600}}, 595, 842));
  const std::vector<std::string> lines = Lines(PdfToText(path));
  EXPECT_GT(lines.size(), kSignerLines.size());
  std::string joined, expected;
  for (const auto& l : lines) joined += (joined.empty() ? "" : " ") + l;
  for (const auto& l : kSignerLines) expected += (expected.empty() ? "" : " ") + l;
  EXPECT_EQ(joined, expected);
}

TEST(WriteAppearanceTools, RendersSealRedAndSignatureBlue) {
  // The signature, 600x250, exactly fills 240x100; the seal, 500x500, fills 120x120.
  MemorySink sink;
  AppearanceSpec signature;
  signature.width = 240;
  signature.height = 100;
  signature.image = TestImage("chu-ky.png");
  signature.image_box = {0, 0, 240, 100};
  auto sig_form = WriteAppearance(signature, sink);
  ASSERT_TRUE(sig_form.ok()) << sig_form.status().ToString();

  AppearanceSpec seal;
  seal.width = 120;
  seal.height = 120;
  seal.image = TestImage("con-dau.png");
  seal.image_box = {0, 0, 120, 120};
  auto seal_form = WriteAppearance(seal, sink);
  ASSERT_TRUE(seal_form.ok()) << seal_form.status().ToString();

  TextBlock text = SignerText();
  text.color = {0, 0, 0};
  auto text_form = WriteAppearance(TextSpec(text, 230, 60), sink);
  ASSERT_TRUE(text_form.ok()) << text_form.status().ToString();

  testlib::TempDir dir;
  const std::string path = WriteCheckedPdf(
      dir,
      MakePdf(sink, {{*sig_form, 20, 180}, {*seal_form, 260, 20}, {*text_form, 20, 20}}, 400, 300));

  const std::vector<std::pair<std::string, std::string>> renderers = {
      {"pdftoppm", "pdftoppm -r 72 -png -singlefile '" + path + "' '" + dir.File("poppler") + "'"},
      {"mutool", "mutool draw -q -r 72 -o '" + dir.File("mupdf.png") + "' '" + path + "' 1"},
  };
  for (const auto& [name, command] : renderers) {
    SCOPED_TRACE(name);
    std::string out;
    ASSERT_EQ(testlib::Shell(command, &out), 0) << out;
    const Raster page =
        ReadPng(name == "pdftoppm" ? dir.File("poppler.png") : dir.File("mupdf.png"));
    ASSERT_EQ(page.width, 400);
    ASSERT_EQ(page.height, 300);

    const ColorCount sig = CountColors(page, 20, 180, 240, 100);
    EXPECT_GT(sig.blue, sig.pixels / 50) << sig.blue << " of " << sig.pixels;
    EXPECT_EQ(sig.red, 0);
    EXPECT_GT(sig.white, sig.pixels / 2);  // the transparent background shows the page
    EXPECT_GT(sig.bluish, sig.inked() * 2 / 3) << sig.bluish << " of " << sig.inked();
    EXPECT_EQ(sig.blue_hue, sig.inked());

    const ColorCount stamp = CountColors(page, 260, 20, 120, 120);
    EXPECT_GT(stamp.red, stamp.pixels / 20) << stamp.red << " of " << stamp.pixels;
    EXPECT_EQ(stamp.blue, 0);
    EXPECT_GT(stamp.reddish, stamp.inked() * 2 / 3) << stamp.reddish << " of " << stamp.inked();
    EXPECT_EQ(stamp.red_hue, stamp.inked());
    // The seal is round: its corners are transparent.
    EXPECT_EQ(CountColors(page, 261, 21, 8, 8).white, 64);
    EXPECT_EQ(CountColors(page, 371, 131, 8, 8).white, 64);

    const ColorCount words = CountColors(page, 20, 20, 230, 60);
    EXPECT_GT(words.dark, 300);
    EXPECT_EQ(words.red + words.blue, 0);

    // Nothing drawn outside the three forms.
    EXPECT_EQ(CountColors(page, 0, 0, 400, 18).inked(), 0);
    EXPECT_EQ(CountColors(page, 0, 282, 400, 18).inked(), 0);
  }
}

}  // namespace
}  // namespace kyso::appearance
