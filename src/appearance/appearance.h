// Visible signature appearances (ISO 32000-1 §12.7.4.5 and §12.5.5): the form XObject a
// signature widget shows, drawn from a PNG image (signature, seal, initials) and/or a block
// of Vietnamese text, as Nghị định 30/2020 Phụ lục I prescribes.
//
// - Images: PNG (any bit depth/colour type libpng reads) becomes an 8-bit DeviceRGB image
//   XObject, Flate-compressed, with its alpha channel as a /SMask (§11.6.5.3) when it has one.
//   PrepareImage does the decoding and compression once, so a batch reuses it.
// - Text: shaped with HarfBuzz, measured with FreeType, wrapped to the box width, and drawn
//   with a Type 0 / CIDFontType2 font (Identity-H, §9.7.4) whose TrueType program is a subset
//   made by hb-subset (glyph ids kept, so CIDToGIDMap /Identity), with /W widths and a
//   /ToUnicode CMap (§9.10.3) so copy-paste gives back the Vietnamese text.
//
// Error ids:
//   appearance.not_png         the image bytes are not a PNG
//   appearance.bad_png         libpng rejected the image (truncated, CRC, ...)
//   appearance.image_too_large more than kMaxImagePixels pixels
//   appearance.font_unreadable the font file cannot be read or is not a TrueType/OpenType font
//   appearance.glyph_missing   the font has no glyph for a character of the text
//   appearance.subset_failed   hb-subset failed
//   appearance.text_too_long   the text does not fit the box even at the minimum size
//   appearance.invalid_box     a width/height that is not positive and finite
//   appearance.invalid_text    text not UTF-8, or a size/min_size/line_spacing that is not
//                              positive and finite
//
// A failed WriteAppearance writes nothing to the sink.
//
// Thread-safety: PreparedImage and Font are immutable after creation and may be shared across
// threads; WriteAppearance may run concurrently on different sinks.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/result.h"
#include "pdf/syntax.h"

namespace kyso::appearance {

inline constexpr size_t kMaxImagePixels = 25'000'000;

// Default fonts (Debian: fonts-liberation2, fonts-dejavu-core). Liberation Serif is the metric
// twin of Times New Roman, which ND30 names.
inline constexpr const char* kDefaultFontPath =
    "/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf";
inline constexpr const char* kFallbackFontPath = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";

struct Rgb {
  double r = 0, g = 0, b = 0;  // 0..1
};

// A decoded PNG, ready to be written as an image XObject (compressed once).
struct PreparedImage {
  int width = 0;         // pixels
  int height = 0;        // pixels
  Bytes rgb_deflated;    // 8-bit RGB samples, zlib-compressed
  Bytes alpha_deflated;  // 8-bit alpha samples, zlib-compressed; empty when fully opaque
};

[[nodiscard]] Result<std::shared_ptr<const PreparedImage>> PrepareImage(ByteSpan png);

// A TrueType/OpenType font loaded once (the file's bytes, a FreeType face and a HarfBuzz face).
class Font {
 public:
  [[nodiscard]] static Result<std::shared_ptr<const Font>> Load(const std::string& path);
  ~Font();
  Font(const Font&) = delete;
  Font& operator=(const Font&) = delete;

  const std::string& postscript_name() const;
  // Advance width of `utf8` shaped as one line, in points at `size`.
  [[nodiscard]] Result<double> MeasureLine(std::string_view utf8, double size) const;

  struct State;
  const State& state() const { return *state_; }

 private:
  explicit Font(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

enum class Align { kLeft, kCenter, kRight };

struct TextBlock {
  // Paragraphs in UTF-8 (NFC). Each one is wrapped at spaces to the box width; a word longer
  // than the width is broken between characters.
  std::vector<std::string> paragraphs;
  std::shared_ptr<const Font> font;  // null: kDefaultFontPath (kFallbackFontPath), loaded once
  double size = 10;  // points; reduced (down to min_size) until the block fits the box
  double min_size = 6;
  double line_spacing = 1.15;  // baseline-to-baseline as a multiple of size
  Rgb color{0, 0, 0};
  Align align = Align::kLeft;
};

// Natural size of `text` wrapped at `max_width` points at text.size: the smallest box that
// holds it (width = longest line, height = lines × size × line_spacing).
struct Size {
  double width = 0, height = 0;
};
[[nodiscard]] Result<Size> MeasureTextBlock(const TextBlock& text, double max_width);

// A box inside the appearance, in points from its lower-left corner.
struct Box {
  double x = 0, y = 0, width = 0, height = 0;
};

struct AppearanceSpec {
  double width = 0;  // the widget rectangle's size in points (the form's /BBox)
  double height = 0;
  // Drawn first, scaled to fit `image_box` with its aspect ratio kept, centred in it.
  std::shared_ptr<const PreparedImage> image;
  Box image_box;
  // Drawn over the image, top-aligned in `text_box`.
  std::optional<TextBlock> text;
  Box text_box;
};

// Writes the appearance form XObject (/Type /XObject /Subtype /Form /BBox [0 0 w h]) and the
// objects it uses (image, soft mask, font, descriptor, font file, ToUnicode) to `sink`, and
// returns the form's reference (what goes in the widget's /AP << /N ... >>).
[[nodiscard]] Result<pdf::ObjectRef> WriteAppearance(const AppearanceSpec& spec,
                                                     pdf::ObjectSink& sink);

}  // namespace kyso::appearance
