// Fonts, text layout and the PDF objects of a signature appearance (appearance.h).
//
// A WriteAppearance call validates everything, lays the text out, shapes it and makes the font
// subset before it allocates a single object, so a failed call leaves the sink untouched.
#include "appearance/appearance.h"

#include <ft2build.h>
#include FT_FREETYPE_H
#include FT_TRUETYPE_TABLES_H
#include FT_TRUETYPE_TAGS_H
#include <hb-ot.h>
#include <hb-subset.h>
#include <hb.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <map>

namespace kyso::appearance {

namespace {

template <typename T, void (*Destroy)(T*)>
struct HbDeleter {
  void operator()(T* p) const {
    if (p != nullptr) Destroy(p);
  }
};
using HbBlob = std::unique_ptr<hb_blob_t, HbDeleter<hb_blob_t, hb_blob_destroy>>;
using HbFace = std::unique_ptr<hb_face_t, HbDeleter<hb_face_t, hb_face_destroy>>;
using HbFont = std::unique_ptr<hb_font_t, HbDeleter<hb_font_t, hb_font_destroy>>;
using HbBuffer = std::unique_ptr<hb_buffer_t, HbDeleter<hb_buffer_t, hb_buffer_destroy>>;
using HbSubsetInput =
    std::unique_ptr<hb_subset_input_t, HbDeleter<hb_subset_input_t, hb_subset_input_destroy>>;

// ---------------------------------------------------------------------------------------------
// UTF-8 and UTF-16

// Decodes the code point at s[*i] and advances *i; false on malformed UTF-8 (overlong forms,
// surrogates and values above U+10FFFF included).
bool NextCodePoint(std::string_view s, size_t* i, char32_t* cp) {
  const auto c = static_cast<unsigned char>(s[*i]);
  int len;
  char32_t value;
  char32_t min;
  if (c < 0x80) {
    *cp = c;
    *i += 1;
    return true;
  } else if ((c & 0xE0) == 0xC0) {
    len = 2, value = c & 0x1F, min = 0x80;
  } else if ((c & 0xF0) == 0xE0) {
    len = 3, value = c & 0x0F, min = 0x800;
  } else if ((c & 0xF8) == 0xF0) {
    len = 4, value = c & 0x07, min = 0x10000;
  } else {
    return false;
  }
  if (*i + len > s.size()) return false;
  for (int k = 1; k < len; ++k) {
    const auto cc = static_cast<unsigned char>(s[*i + k]);
    if ((cc & 0xC0) != 0x80) return false;
    value = (value << 6) | (cc & 0x3F);
  }
  if (value < min || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF)) return false;
  *cp = value;
  *i += len;
  return true;
}

bool IsValidUtf8(std::string_view s) {
  char32_t cp;
  for (size_t i = 0; i < s.size();) {
    if (!NextCodePoint(s, &i, &cp)) return false;
  }
  return true;
}

// UTF-16BE of valid UTF-8 (as the ToUnicode CMap wants it, §9.10.3).
Bytes Utf16Be(std::string_view utf8) {
  Bytes out;
  char32_t cp;
  for (size_t i = 0; i < utf8.size();) {
    if (!NextCodePoint(utf8, &i, &cp)) break;
    auto put = [&](uint32_t unit) {
      out.push_back(static_cast<uint8_t>(unit >> 8));
      out.push_back(static_cast<uint8_t>(unit & 0xFF));
    };
    if (cp >= 0x10000) {
      put(0xD800 + ((cp - 0x10000) >> 10));
      put(0xDC00 + ((cp - 0x10000) & 0x3FF));
    } else {
      put(cp);
    }
  }
  return out;
}

std::string DescribeCodePoint(std::string_view utf8, size_t offset) {
  size_t end = offset;
  char32_t cp = 0xFFFD;
  if (offset >= utf8.size() || !NextCodePoint(utf8, &end, &cp)) end = offset;
  char buf[32];
  std::snprintf(buf, sizeof buf, "U+%04X", static_cast<unsigned>(cp));
  std::string out = buf;
  if (cp >= 0x20 && end > offset)
    out += " '" + std::string(utf8.substr(offset, end - offset)) + "'";
  return out;
}

// ---------------------------------------------------------------------------------------------
// Numbers

bool IsPositiveFinite(double v) {
  return std::isfinite(v) && v > 0;
}

Status CheckBox(const Box& box, std::string_view what) {
  if (!std::isfinite(box.x) || !std::isfinite(box.y) || !IsPositiveFinite(box.width) ||
      !IsPositiveFinite(box.height)) {
    return InvalidArgument("appearance.invalid_box",
                           std::string(what) + " must have a positive, finite width and height");
  }
  return Status::Ok();
}

// PostScript names are printable ASCII without delimiters (Adobe Technote #5902); anything
// else is dropped so the name survives as a PDF name and a font name.
std::string SanitizePostScriptName(std::string_view name) {
  static constexpr std::string_view kForbidden = "[](){}<>/%# ";
  std::string out;
  for (char c : name) {
    if (c > 0x20 && c < 0x7F && kForbidden.find(c) == std::string_view::npos) out += c;
  }
  return out.substr(0, 63 - 7);  // room for the "ABCDEF+" subset tag
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Font

// Everything is read in Font::Load. Afterwards only HarfBuzz is used, through an immutable
// hb_font_t (safe for concurrent shaping); the FreeType face is kept but never touched again,
// as FreeType faces are not thread-safe.
struct Font::State {
  Bytes data;  // the font file; the FreeType face and the HarfBuzz blob point into it
  FT_Library ft_library = nullptr;
  FT_Face ft_face = nullptr;
  HbBlob hb_blob;
  HbFace hb_face;
  HbFont hb_font;

  std::string postscript_name;
  int units_per_em = 1000;
  // Font units.
  int ascender = 0;
  int descender = 0;  // negative below the baseline
  int cap_height = 0;
  int x_height = 0;  // 0 when unknown
  int bbox[4] = {0, 0, 0, 0};
  double italic_angle = 0;  // degrees, counter-clockwise from vertical
  int flags = 0;            // FontDescriptor /Flags (§9.8.2, Table 123)

  ~State() {
    hb_font.reset();
    hb_face.reset();
    hb_blob.reset();
    if (ft_face != nullptr) FT_Done_Face(ft_face);
    if (ft_library != nullptr) FT_Done_FreeType(ft_library);
  }

  double ToThousandths(double font_units) const { return font_units * 1000.0 / units_per_em; }
  double ToPoints(double font_units, double size) const { return font_units * size / units_per_em; }
  int Advance(uint32_t gid) const { return hb_font_get_glyph_h_advance(hb_font.get(), gid); }
};

Font::Font(std::unique_ptr<State> state) : state_(std::move(state)) {}
Font::~Font() = default;

const std::string& Font::postscript_name() const {
  return state_->postscript_name;
}

Result<std::shared_ptr<const Font>> Font::Load(const std::string& path) {
  auto state = std::make_unique<State>();
  {
    std::ifstream in(path, std::ios::binary);
    if (!in) return NotFound("appearance.font_unreadable", "cannot open font file " + path);
    state->data.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    if (in.bad()) return NotFound("appearance.font_unreadable", "cannot read font file " + path);
  }
  auto not_a_font = [&](std::string_view why) {
    return InvalidArgument("appearance.font_unreadable", path + ": " + std::string(why));
  };
  if (state->data.empty()) return not_a_font("empty file");

  // FreeType: metrics and descriptor values, read once here.
  if (FT_Init_FreeType(&state->ft_library) != 0) {
    state->ft_library = nullptr;
    return Internal("appearance.font_unreadable", "FreeType could not be initialised");
  }
  if (FT_New_Memory_Face(state->ft_library, state->data.data(),
                         static_cast<FT_Long>(state->data.size()), 0, &state->ft_face) != 0) {
    state->ft_face = nullptr;
    return not_a_font("FreeType cannot read it as a font");
  }
  FT_Face face = state->ft_face;
  if (!FT_IS_SFNT(face) || face->units_per_EM == 0)
    return not_a_font("not a TrueType/OpenType font");
  FT_ULong glyf_length = 0;
  if (FT_Load_Sfnt_Table(face, TTAG_glyf, 0, nullptr, &glyf_length) != 0 || glyf_length == 0) {
    // FontFile2 (§9.9) holds TrueType outlines; CFF-flavoured OpenType would need FontFile3.
    return not_a_font("no TrueType outlines (glyf table)");
  }
  state->units_per_em = face->units_per_EM;
  state->ascender = face->ascender;
  state->descender = face->descender;
  state->bbox[0] = static_cast<int>(face->bbox.xMin);
  state->bbox[1] = static_cast<int>(face->bbox.yMin);
  state->bbox[2] = static_cast<int>(face->bbox.xMax);
  state->bbox[3] = static_cast<int>(face->bbox.yMax);

  const auto* os2 = static_cast<const TT_OS2*>(FT_Get_Sfnt_Table(face, FT_SFNT_OS2));
  const auto* post = static_cast<const TT_Postscript*>(FT_Get_Sfnt_Table(face, FT_SFNT_POST));
  if (os2 != nullptr && os2->version != 0xFFFF && os2->version >= 2) {
    state->cap_height = os2->sCapHeight;
    state->x_height = os2->sxHeight;
  }
  if (state->cap_height <= 0) {
    // No OS/2 v2: measure 'H'.
    FT_UInt h = FT_Get_Char_Index(face, 'H');
    if (h != 0 && FT_Load_Glyph(face, h, FT_LOAD_NO_SCALE) == 0) {
      state->cap_height = static_cast<int>(face->glyph->metrics.horiBearingY);
    }
    if (state->cap_height <= 0) state->cap_height = state->ascender;
  }
  if (post != nullptr) state->italic_angle = static_cast<double>(post->italicAngle) / 65536.0;

  // §9.8.2 Table 123: FixedPitch 1, Serif 2, Symbolic 4, Nonsymbolic 32, Italic 64.
  int flags = 0;
  if (post != nullptr && post->isFixedPitch != 0) flags |= 1;
  if (os2 != nullptr && os2->version != 0xFFFF) {
    const int family_class = os2->sFamilyClass >> 8;  // IBM font class
    const bool serif_class = family_class >= 1 && family_class <= 7 && family_class != 6;
    // PANOSE Latin Text: bSerifStyle 2..10 are serifs, 11..13 sans.
    const bool serif_panose = os2->panose[0] == 2 && os2->panose[1] >= 2 && os2->panose[1] <= 10;
    if (serif_class || (family_class == 0 && serif_panose)) flags |= 2;
    if ((os2->fsSelection & 1) != 0) flags |= 64;
  }
  if (state->italic_angle != 0) flags |= 64;
  bool has_unicode_cmap = false;
  for (FT_Int i = 0; i < face->num_charmaps; ++i) {
    if (face->charmaps[i]->encoding == FT_ENCODING_UNICODE) has_unicode_cmap = true;
  }
  flags |= has_unicode_cmap ? 32 : 4;
  state->flags = flags;

  const char* ps_name = FT_Get_Postscript_Name(face);
  state->postscript_name = SanitizePostScriptName(ps_name != nullptr ? ps_name : "");
  if (state->postscript_name.empty() && face->family_name != nullptr) {
    state->postscript_name = SanitizePostScriptName(face->family_name);
  }
  if (state->postscript_name.empty()) state->postscript_name = "Font";

  // HarfBuzz: shaping and subsetting. The blob borrows state->data.
  state->hb_blob.reset(hb_blob_create(reinterpret_cast<const char*>(state->data.data()),
                                      static_cast<unsigned>(state->data.size()),
                                      HB_MEMORY_MODE_READONLY, nullptr, nullptr));
  state->hb_face.reset(hb_face_create(state->hb_blob.get(), 0));
  if (hb_face_get_glyph_count(state->hb_face.get()) == 0) {
    return not_a_font("HarfBuzz finds no glyphs");
  }
  hb_face_make_immutable(state->hb_face.get());
  state->hb_font.reset(hb_font_create(state->hb_face.get()));  // scale = units per em
  hb_font_make_immutable(state->hb_font.get());

  return std::shared_ptr<const Font>(new Font(std::move(state)));
}

namespace {

// ---------------------------------------------------------------------------------------------
// Shaping

struct ShapedGlyph {
  uint32_t gid = 0;
  uint32_t cluster = 0;  // byte offset of the cluster's first character in the line
  int32_t x_advance = 0;
  int32_t x_offset = 0;
  int32_t y_offset = 0;
};

struct ShapedLine {
  std::string text;
  std::vector<ShapedGlyph> glyphs;
  int64_t advance = 0;  // font units
};

// Shapes one line (left to right, language Vietnamese). glyph_missing when the font maps a
// character to .notdef.
Result<ShapedLine> Shape(const Font::State& font, std::string_view utf8) {
  ShapedLine line;
  line.text = std::string(utf8);
  if (utf8.empty()) return line;
  HbBuffer buffer(hb_buffer_create());
  hb_buffer_add_utf8(buffer.get(), utf8.data(), static_cast<int>(utf8.size()), 0,
                     static_cast<int>(utf8.size()));
  hb_buffer_set_direction(buffer.get(), HB_DIRECTION_LTR);
  // Made once: the C++ static guard orders its creation before every use.
  static const hb_language_t kVietnamese = hb_language_from_string("vi", -1);
  hb_buffer_set_language(buffer.get(), kVietnamese);
  hb_buffer_guess_segment_properties(buffer.get());
  hb_shape(font.hb_font.get(), buffer.get(), nullptr, 0);
  if (!hb_buffer_allocation_successful(buffer.get())) {
    return Internal("appearance.glyph_missing", "HarfBuzz ran out of memory");
  }
  unsigned count = 0;
  const hb_glyph_info_t* infos = hb_buffer_get_glyph_infos(buffer.get(), &count);
  const hb_glyph_position_t* positions = hb_buffer_get_glyph_positions(buffer.get(), &count);
  line.glyphs.reserve(count);
  for (unsigned i = 0; i < count; ++i) {
    if (infos[i].codepoint == 0) {
      return InvalidArgument("appearance.glyph_missing",
                             "the font " + font.postscript_name + " has no glyph for " +
                                 DescribeCodePoint(utf8, infos[i].cluster));
    }
    ShapedGlyph g;
    g.gid = infos[i].codepoint;
    g.cluster = infos[i].cluster;
    g.x_advance = positions[i].x_advance;
    g.x_offset = positions[i].x_offset;
    g.y_offset = positions[i].y_offset;
    line.advance += g.x_advance;
    line.glyphs.push_back(g);
  }
  return line;
}

// ---------------------------------------------------------------------------------------------
// Layout

struct Layout {
  std::vector<ShapedLine> lines;
  int64_t widest = 0;     // font units
  bool overflow = false;  // a single character is wider than the box
};

// Splits a paragraph into words at spaces and tabs (runs collapse).
std::vector<std::string> Words(std::string_view paragraph) {
  std::vector<std::string> words;
  std::string word;
  for (char c : paragraph) {
    if (c == ' ' || c == '\t') {
      if (!word.empty()) words.push_back(std::move(word));
      word.clear();
    } else if (c != '\r') {
      word += c;
    }
  }
  if (!word.empty()) words.push_back(std::move(word));
  return words;
}

// A word's characters, each with the combining marks that follow it.
std::vector<std::string> Graphemes(std::string_view word) {
  static hb_unicode_funcs_t* const unicode = hb_unicode_funcs_get_default();
  std::vector<std::string> out;
  char32_t cp;
  for (size_t i = 0; i < word.size();) {
    const size_t start = i;
    if (!NextCodePoint(word, &i, &cp)) return {std::string(word)};  // validated earlier
    const hb_unicode_general_category_t category = hb_unicode_general_category(unicode, cp);
    const bool mark = category == HB_UNICODE_GENERAL_CATEGORY_NON_SPACING_MARK ||
                      category == HB_UNICODE_GENERAL_CATEGORY_ENCLOSING_MARK ||
                      category == HB_UNICODE_GENERAL_CATEGORY_SPACING_MARK || cp == 0x200D;
    if (mark && !out.empty()) {
      out.back() += word.substr(start, i - start);
    } else {
      out.emplace_back(word.substr(start, i - start));
    }
  }
  return out;
}

// Greedy wrapping of every paragraph at `max_units` (font units).
Result<Layout> LayOut(const Font::State& font, const std::vector<std::string>& paragraphs,
                      double max_units) {
  Layout layout;
  auto fits = [&](const ShapedLine& line) { return line.advance <= max_units + 1e-6; };
  auto emit = [&](ShapedLine line) {
    if (!fits(line)) layout.overflow = true;
    layout.widest = std::max(layout.widest, line.advance);
    layout.lines.push_back(std::move(line));
  };

  for (const std::string& paragraph : paragraphs) {
    std::optional<ShapedLine> current;  // the line being filled
    for (const std::string& word : Words(paragraph)) {
      if (current) {
        KYSO_ASSIGN_OR_RETURN(ShapedLine joined, Shape(font, current->text + " " + word));
        if (fits(joined)) {
          current = std::move(joined);
          continue;
        }
        emit(std::move(*current));
        current.reset();
      }
      KYSO_ASSIGN_OR_RETURN(ShapedLine alone, Shape(font, word));
      if (fits(alone)) {
        current = std::move(alone);
        continue;
      }
      // Longer than the width: break between characters.
      for (const std::string& grapheme : Graphemes(word)) {
        if (current) {
          KYSO_ASSIGN_OR_RETURN(ShapedLine longer, Shape(font, current->text + grapheme));
          if (fits(longer)) {
            current = std::move(longer);
            continue;
          }
          emit(std::move(*current));
        }
        KYSO_ASSIGN_OR_RETURN(ShapedLine piece, Shape(font, grapheme));
        current = std::move(piece);
      }
    }
    emit(current ? std::move(*current) : ShapedLine{});  // an empty paragraph is a blank line
  }
  return layout;
}

// Paragraphs with embedded line feeds split into more paragraphs.
std::vector<std::string> SplitParagraphs(const std::vector<std::string>& paragraphs) {
  std::vector<std::string> out;
  for (const std::string& p : paragraphs) {
    size_t start = 0;
    for (size_t nl; (nl = p.find('\n', start)) != std::string::npos; start = nl + 1) {
      out.push_back(p.substr(start, nl - start));
    }
    out.push_back(p.substr(start));
  }
  return out;
}

const Font::State* DefaultFont(Status* status) {
  static const Result<std::shared_ptr<const Font>> kFont = [] {
    auto font = Font::Load(kDefaultFontPath);
    return font.ok() ? font : Font::Load(kFallbackFontPath);
  }();
  if (!kFont.ok()) {
    *status = kFont.status();
    return nullptr;
  }
  return &(*kFont)->state();
}

// The font of `text` (the default font when none is set) after checking the block's numbers
// and its UTF-8.
Result<const Font::State*> CheckTextBlock(const TextBlock& text) {
  if (!IsPositiveFinite(text.size) || !IsPositiveFinite(text.min_size) ||
      !IsPositiveFinite(text.line_spacing)) {
    return InvalidArgument("appearance.invalid_text",
                           "size, min_size and line_spacing must be positive and finite");
  }
  for (const std::string& p : text.paragraphs) {
    if (!IsValidUtf8(p)) return InvalidArgument("appearance.invalid_text", "text is not UTF-8");
  }
  if (text.font) return &text.font->state();
  Status status;
  const Font::State* font = DefaultFont(&status);
  if (font == nullptr) return status;
  return font;
}

struct FittedText {
  const Font::State* font = nullptr;
  double size = 0;
  std::vector<ShapedLine> lines;
};

// The largest size from text.size down to text.min_size (0.5 pt steps) whose layout fits `box`.
Result<FittedText> Fit(const TextBlock& text, const Font::State& font, const Box& box) {
  const std::vector<std::string> paragraphs = SplitParagraphs(text.paragraphs);
  double size = text.size;
  for (;;) {
    KYSO_ASSIGN_OR_RETURN(Layout layout,
                          LayOut(font, paragraphs, box.width * font.units_per_em / size));
    const double height = static_cast<double>(layout.lines.size()) * size * text.line_spacing;
    if (!layout.overflow && height <= box.height + 1e-9) {
      return FittedText{&font, size, std::move(layout.lines)};
    }
    if (size <= text.min_size) break;
    size = std::max(text.min_size, size - 0.5);
  }
  return InvalidArgument("appearance.text_too_long",
                         "the text does not fit a " + pdf::Number(box.width) + " x " +
                             pdf::Number(box.height) + " pt box at " +
                             pdf::Number(std::min(text.size, text.min_size)) + " pt");
}

// ---------------------------------------------------------------------------------------------
// Text drawing and the font's glyph usage

struct GlyphUse {
  std::string text;  // UTF-8 the glyph stands for in ToUnicode; empty when none
  int rank = 0;      // 2: the whole of a one-glyph cluster, 1: first glyph of a longer cluster
};

// Used glyphs (CID = GID) and what they stand for, for /W, ToUnicode and the subset.
using GlyphUsage = std::map<uint32_t, GlyphUse>;

void RecordClusters(const ShapedLine& line, GlyphUsage& usage) {
  const auto& glyphs = line.glyphs;
  for (size_t i = 0; i < glyphs.size(); ++i) {
    GlyphUse& use = usage[glyphs[i].gid];
    const bool first = i == 0 || glyphs[i - 1].cluster != glyphs[i].cluster;
    if (!first) continue;
    // The cluster runs to the next cluster's start (clusters ascend: left to right).
    size_t end = line.text.size();
    size_t next = i + 1;
    while (next < glyphs.size() && glyphs[next].cluster == glyphs[i].cluster) ++next;
    if (next < glyphs.size()) end = glyphs[next].cluster;
    const int rank = next == i + 1 ? 2 : 1;
    if (rank > use.rank && end > glyphs[i].cluster) {
      use.rank = rank;
      use.text = line.text.substr(glyphs[i].cluster, end - glyphs[i].cluster);
    }
  }
}

void AppendCid(std::string& hex, uint32_t gid) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04X", static_cast<unsigned>(gid & 0xFFFF));
  hex += buf;
}

// One line as TJ: glyphs as 2-byte CIDs, with adjustments wherever HarfBuzz's positions
// (kerning, mark offsets) differ from the /W widths, and Ts for vertical offsets.
std::string DrawLine(const Font::State& font, const ShapedLine& line, double size) {
  std::string out;
  std::string array;  // the open TJ array's content
  std::string run;    // the open hex string's digits
  auto close_run = [&] {
    if (!run.empty()) array += "<" + run + ">";
    run.clear();
  };
  auto close_array = [&] {
    close_run();
    if (!array.empty()) out += "[" + array + "] TJ\n";
    array.clear();
  };
  double pdf_pen = 0;  // where the viewer puts the next glyph, thousandths of an em
  int64_t hb_pen = 0;  // where HarfBuzz puts it, font units
  int32_t rise = 0;
  for (const ShapedGlyph& g : line.glyphs) {
    if (g.y_offset != rise) {
      close_array();
      rise = g.y_offset;
      out += pdf::Number(font.ToPoints(rise, size)) + " Ts\n";
    }
    const double wanted = font.ToThousandths(static_cast<double>(hb_pen + g.x_offset));
    const std::string adjust = pdf::Number(pdf_pen - wanted);  // TJ numbers move left
    if (adjust != "0") {
      close_run();
      array += adjust;
      pdf_pen = wanted;
    }
    AppendCid(run, g.gid);
    pdf_pen += font.ToThousandths(font.Advance(g.gid));
    hb_pen += g.x_advance;
  }
  close_array();
  if (rise != 0) out += "0 Ts\n";
  return out;
}

// ---------------------------------------------------------------------------------------------
// Font objects (§9.6.4 subset tag, §9.7.4 CIDFonts, §9.8 descriptor, §9.10.3 ToUnicode)

//= ISO 32000-1 §9.6.4
//# For a font subset, the PostScript name of the font [...] shall begin with a tag followed
//# by a plus sign (+). The tag shall consist of exactly six uppercase letters; the choice of
//# letters is arbitrary, but different subsets in the same PDF file shall have different tags.
std::string SubsetTag(const Font::State& font, const GlyphUsage& usage) {
  uint64_t h = 1469598103934665603ULL;  // FNV-1a
  auto mix = [&](uint8_t b) {
    h ^= b;
    h *= 1099511628211ULL;
  };
  for (char c : font.postscript_name) mix(static_cast<uint8_t>(c));
  for (const auto& [gid, use] : usage) {
    for (int shift = 24; shift >= 0; shift -= 8) mix(static_cast<uint8_t>(gid >> shift));
  }
  std::string tag;
  for (int i = 0; i < 6; ++i) {
    tag += static_cast<char>('A' + h % 26);
    h /= 26;
  }
  return tag;
}

Result<Bytes> MakeSubset(const Font::State& font, const GlyphUsage& usage) {
  HbSubsetInput input(hb_subset_input_create_or_fail());
  if (!input) return Internal("appearance.subset_failed", "hb_subset_input_create_or_fail");
  hb_set_t* glyphs = hb_subset_input_glyph_set(input.get());
  hb_set_t* unicodes = hb_subset_input_unicode_set(input.get());
  for (const auto& [gid, use] : usage) {
    hb_set_add(glyphs, gid);
    // Keep the cmap entries of the characters a glyph stands for alone (useful to a viewer
    // that falls back on the font's cmap).
    char32_t cp;
    size_t i = 0;
    if (use.rank == 2 && NextCodePoint(use.text, &i, &cp) && i == use.text.size()) {
      hb_set_add(unicodes, cp);
    }
  }
  // Layout tables are of no use to a PDF consumer: the text is already shaped.
  hb_set_t* drop = hb_subset_input_set(input.get(), HB_SUBSET_SETS_DROP_TABLE_TAG);
  for (const char* tag : {"GSUB", "GPOS", "GDEF", "BASE", "JSTF"}) {
    hb_set_add(drop, hb_tag_from_string(tag, 4));
  }
  hb_subset_input_set_flags(input.get(), HB_SUBSET_FLAGS_RETAIN_GIDS);  // CID == GID

  HbFace subset(hb_subset_or_fail(font.hb_face.get(), input.get()));
  if (!subset) return Internal("appearance.subset_failed", "hb-subset failed");
  HbBlob blob(hb_face_reference_blob(subset.get()));
  unsigned length = 0;
  const char* data = hb_blob_get_data(blob.get(), &length);
  if (data == nullptr || length == 0) {
    return Internal("appearance.subset_failed", "hb-subset produced an empty font");
  }
  return Bytes(data, data + length);
}

// §9.7.4.3 /W: runs of consecutive CIDs as "c [w1 w2 ...]".
std::string WidthsArray(const Font::State& font, const GlyphUsage& usage) {
  std::string out = "[";
  int64_t previous = -2;
  for (const auto& [gid, use] : usage) {
    if (static_cast<int64_t>(gid) != previous + 1) {
      if (previous >= 0) out += "] ";
      out += std::to_string(gid) + " [";
    } else {
      out += " ";
    }
    out += pdf::Number(font.ToThousandths(font.Advance(gid)));
    previous = gid;
  }
  if (previous >= 0) out += "]";
  out += "]";
  return out;
}

// §9.10.3 ToUnicode CMap, in the form of Adobe Technical Note #5411.
std::string ToUnicodeCMap(const GlyphUsage& usage) {
  std::vector<std::pair<uint32_t, std::string>> entries;
  for (const auto& [gid, use] : usage) {
    if (!use.text.empty()) entries.emplace_back(gid, use.text);
  }
  std::string out =
      "/CIDInit /ProcSet findresource begin\n"
      "12 dict begin\n"
      "begincmap\n"
      "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
      "/CMapName /Adobe-Identity-UCS def\n"
      "/CMapType 2 def\n"
      "1 begincodespacerange\n"
      "<0000> <FFFF>\n"
      "endcodespacerange\n";
  for (size_t start = 0; start < entries.size(); start += 100) {  // at most 100 per block
    const size_t end = std::min(entries.size(), start + 100);
    out += std::to_string(end - start) + " beginbfchar\n";
    for (size_t i = start; i < end; ++i) {
      std::string cid;
      AppendCid(cid, entries[i].first);
      out += "<" + cid + "> " + pdf::HexString(Utf16Be(entries[i].second)) + "\n";
    }
    out += "endbfchar\n";
  }
  out +=
      "endcmap\n"
      "CMapName currentdict /CMap defineresource pop\n"
      "end\n"
      "end\n";
  return out;
}

// Writes the Type 0 font and its descendants; returns the Type 0 font's reference.
pdf::ObjectRef WriteFont(const Font::State& font, const GlyphUsage& usage, Bytes subset,
                         pdf::ObjectSink& sink) {
  const std::string base_font =
      pdf::NameObject(SubsetTag(font, usage) + "+" + font.postscript_name);
  const std::string cmap = ToUnicodeCMap(usage);

  const pdf::ObjectRef file = sink.Allocate();
  const pdf::ObjectRef descriptor = sink.Allocate();
  const pdf::ObjectRef cid_font = sink.Allocate();
  const pdf::ObjectRef to_unicode = sink.Allocate();
  const pdf::ObjectRef type0 = sink.Allocate();

  const size_t length1 = subset.size();
  sink.PutStream(file, "<< /Length1 " + std::to_string(length1) + " /Filter /FlateDecode >>",
                 pdf::Deflate(subset));

  auto thousandths = [&](double units) { return pdf::Number(font.ToThousandths(units)); };
  std::string fd = "<< /Type /FontDescriptor /FontName " + base_font + " /Flags " +
                   std::to_string(font.flags) + " /FontBBox [" + thousandths(font.bbox[0]) + " " +
                   thousandths(font.bbox[1]) + " " + thousandths(font.bbox[2]) + " " +
                   thousandths(font.bbox[3]) + "] /ItalicAngle " + pdf::Number(font.italic_angle) +
                   " /Ascent " + thousandths(font.ascender) + " /Descent " +
                   thousandths(font.descender) + " /CapHeight " + thousandths(font.cap_height);
  if (font.x_height > 0) fd += " /XHeight " + thousandths(font.x_height);
  fd += " /StemV 80 /FontFile2 " + file.ToString() + " >>";
  sink.Put(descriptor, std::move(fd));

  sink.Put(cid_font, "<< /Type /Font /Subtype /CIDFontType2 /BaseFont " + base_font +
                         " /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0"
                         " >> /FontDescriptor " +
                         descriptor.ToString() + " /CIDToGIDMap /Identity /DW 1000 /W " +
                         WidthsArray(font, usage) + " >>");

  sink.PutStream(to_unicode, "<< /Filter /FlateDecode >>", pdf::Deflate(AsBytes(cmap)));

  sink.Put(type0, "<< /Type /Font /Subtype /Type0 /BaseFont " + base_font +
                      " /Encoding /Identity-H /DescendantFonts [" + cid_font.ToString() +
                      "] /ToUnicode " + to_unicode.ToString() + " >>");
  return type0;
}

std::string Color(const Rgb& c) {
  auto clamp = [](double v) { return std::isfinite(v) ? std::clamp(v, 0.0, 1.0) : 0.0; };
  return pdf::Number(clamp(c.r)) + " " + pdf::Number(clamp(c.g)) + " " + pdf::Number(clamp(c.b));
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Public functions

Result<double> Font::MeasureLine(std::string_view utf8, double size) const {
  if (!IsValidUtf8(utf8)) return InvalidArgument("appearance.invalid_text", "text is not UTF-8");
  if (!IsPositiveFinite(size)) {
    return InvalidArgument("appearance.invalid_text", "size must be positive and finite");
  }
  KYSO_ASSIGN_OR_RETURN(ShapedLine line, Shape(*state_, utf8));
  return state_->ToPoints(static_cast<double>(line.advance), size);
}

Result<Size> MeasureTextBlock(const TextBlock& text, double max_width) {
  if (!IsPositiveFinite(max_width)) {
    return InvalidArgument("appearance.invalid_box", "max_width must be positive and finite");
  }
  KYSO_ASSIGN_OR_RETURN(const Font::State* font, CheckTextBlock(text));
  KYSO_ASSIGN_OR_RETURN(Layout layout, LayOut(*font, SplitParagraphs(text.paragraphs),
                                              max_width * font->units_per_em / text.size));
  Size size;
  size.width = font->ToPoints(static_cast<double>(layout.widest), text.size);
  size.height = static_cast<double>(layout.lines.size()) * text.size * text.line_spacing;
  return size;
}

Result<pdf::ObjectRef> WriteAppearance(const AppearanceSpec& spec, pdf::ObjectSink& sink) {
  // 1. Check everything and do all the work that can fail.
  if (!IsPositiveFinite(spec.width) || !IsPositiveFinite(spec.height)) {
    return InvalidArgument("appearance.invalid_box",
                           "the appearance must have a positive, finite width and height");
  }
  if (spec.image) {
    KYSO_RETURN_IF_ERROR(CheckBox(spec.image_box, "image_box"));
    if (spec.image->width <= 0 || spec.image->height <= 0 || spec.image->rgb_deflated.empty()) {
      return InvalidArgument("appearance.bad_png", "the prepared image is empty");
    }
  }
  std::optional<FittedText> fitted;
  GlyphUsage usage;
  Bytes subset;
  if (spec.text) {
    KYSO_RETURN_IF_ERROR(CheckBox(spec.text_box, "text_box"));
    KYSO_ASSIGN_OR_RETURN(const Font::State* font, CheckTextBlock(*spec.text));
    KYSO_ASSIGN_OR_RETURN(FittedText fit, Fit(*spec.text, *font, spec.text_box));
    for (const ShapedLine& line : fit.lines) RecordClusters(line, usage);
    if (!usage.empty()) {
      KYSO_ASSIGN_OR_RETURN(subset, MakeSubset(*font, usage));
    }
    fitted = std::move(fit);
  }

  // 2. The content stream (§8.10 form XObject, §9.4 text objects).
  std::string content =
      "q\n0 0 " + pdf::Number(spec.width) + " " + pdf::Number(spec.height) + " re W n\n";
  if (spec.image) {
    const PreparedImage& image = *spec.image;
    const Box& box = spec.image_box;
    const double scale = std::min(box.width / image.width, box.height / image.height);
    const double w = image.width * scale;
    const double h = image.height * scale;
    content += "q " + pdf::Number(w) + " 0 0 " + pdf::Number(h) + " " +
               pdf::Number(box.x + (box.width - w) / 2) + " " +
               pdf::Number(box.y + (box.height - h) / 2) + " cm /Im1 Do Q\n";
  }
  if (fitted && !usage.empty()) {
    const Font::State& font = *fitted->font;
    const double size = fitted->size;
    const Box& box = spec.text_box;
    const double line_height = size * spec.text->line_spacing;
    content += "BT\n/F1 " + pdf::Number(size) + " Tf\n0 Tc 0 Tw 100 Tz 0 Tr 0 Ts\n" +
               Color(spec.text->color) + " rg\n";
    double baseline = box.y + box.height - font.ToPoints(font.ascender, size);
    for (const ShapedLine& line : fitted->lines) {
      if (!line.glyphs.empty()) {
        const double width = font.ToPoints(static_cast<double>(line.advance), size);
        double x = box.x;
        if (spec.text->align == Align::kCenter) x += (box.width - width) / 2;
        if (spec.text->align == Align::kRight) x += box.width - width;
        content += "1 0 0 1 " + pdf::Number(x) + " " + pdf::Number(baseline) + " Tm\n";
        content += DrawLine(font, line, size);
      }
      baseline -= line_height;
    }
    content += "ET\n";
  }
  content += "Q\n";

  // 3. The objects.
  std::string resources;
  if (spec.image) {
    const PreparedImage& image = *spec.image;
    const std::string size_entries = " /Width " + std::to_string(image.width) + " /Height " +
                                     std::to_string(image.height) +
                                     " /BitsPerComponent 8 /Filter /FlateDecode";
    std::string smask_entry;
    if (!image.alpha_deflated.empty()) {
      const pdf::ObjectRef smask = sink.Allocate();
      sink.PutStream(
          smask, "<< /Type /XObject /Subtype /Image" + size_entries + " /ColorSpace /DeviceGray >>",
          image.alpha_deflated);
      smask_entry = " /SMask " + smask.ToString();
    }
    const pdf::ObjectRef im = sink.Allocate();
    sink.PutStream(im,
                   "<< /Type /XObject /Subtype /Image" + size_entries + " /ColorSpace /DeviceRGB" +
                       smask_entry + " >>",
                   image.rgb_deflated);
    resources += " /XObject << /Im1 " + im.ToString() + " >>";
  }
  if (fitted && !usage.empty()) {
    const pdf::ObjectRef font = WriteFont(*fitted->font, usage, std::move(subset), sink);
    resources += " /Font << /F1 " + font.ToString() + " >>";
  }
  const pdf::ObjectRef form = sink.Allocate();
  sink.PutStream(form,
                 "<< /Type /XObject /Subtype /Form /FormType 1 /BBox [0 0 " +
                     pdf::Number(spec.width) + " " + pdf::Number(spec.height) +
                     "] /Matrix [1 0 0 1 0 0] /Resources <<" + resources +
                     " >> /Filter /FlateDecode >>",
                 pdf::Deflate(AsBytes(content)));
  return form;
}

}  // namespace kyso::appearance
