#include "pdf/revisions.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <map>
#include <memory>
#include <qpdf/Buffer.hh>
#include <qpdf/QPDF.hh>
#include <qpdf/QPDFObjectHandle.hh>
#include <qpdf/QPDFXRefEntry.hh>
#include <set>
#include <tuple>
#include <utility>

#include "pdf/mdp.h"

namespace kyso::pdf {

namespace {

// Limits that keep hostile files bounded.
constexpr int kMaxDirectDepth = 256;  // nesting of direct arrays and dictionaries
constexpr int kMaxTreeDepth = 64;     // page tree and form field tree levels
constexpr size_t kMaxFindings = 200;  // findings kept per report
constexpr size_t kMaxUnreferencedFindings = 20;

using internal::DocMdpPermissionsOf;
using internal::LockOf;
using internal::ParseLock;

const QPDFObjGen kTrailer(0, 0);  // the trailer is no object; stands for it as a holder

bool IsPdfWhitespace(uint8_t c) {
  return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == 0;
}
bool IsDelimiter(uint8_t c) {
  return c == '(' || c == ')' || c == '<' || c == '>' || c == '[' || c == ']' || c == '{' ||
         c == '}' || c == '/' || c == '%';
}
bool IsDigit(uint8_t c) {
  return c >= '0' && c <= '9';
}

std::string Describe(QPDFObjGen g) {
  if (g == kTrailer) return "the trailer";
  return "object " + std::to_string(g.getObj()) + " " + std::to_string(g.getGen());
}

// ---------------------------------------------------------------------------------------------
// Revision ends (ISO 32000-1 §7.5.5: "startxref", the offset, then "%%EOF").

struct EofMark {
  size_t eof = 0;  // offset of "%%EOF"
  size_t end = 0;  // just past it and its end-of-line marker
};

size_t SkipWhitespace(ByteSpan f, size_t i) {
  while (i < f.size() && IsPdfWhitespace(f[i])) ++i;
  return i;
}

// Reads an unsigned decimal integer of at most 18 digits at `i`.
bool ReadUnsigned(ByteSpan f, size_t& i, uint64_t& value) {
  size_t start = i;
  value = 0;
  while (i < f.size() && IsDigit(f[i]) && i - start < 18) value = value * 10 + (f[i++] - '0');
  return i > start;
}

// True when `offset` starts a cross-reference section: "xref", or "N G obj" of a stream whose
// dictionary names /XRef.
bool LooksLikeXrefAt(ByteSpan f, size_t offset) {
  size_t i = SkipWhitespace(f, offset);
  if (f.size() - i >= 4 && std::memcmp(f.data() + i, "xref", 4) == 0) return true;
  uint64_t number = 0, generation = 0;
  if (!ReadUnsigned(f, i, number)) return false;
  size_t j = SkipWhitespace(f, i);
  if (j == i || !ReadUnsigned(f, j, generation)) return false;
  i = SkipWhitespace(f, j);
  if (i == j || f.size() - i < 3 || std::memcmp(f.data() + i, "obj", 3) != 0) return false;
  std::string_view rest(reinterpret_cast<const char*>(f.data()) + i,
                        std::min<size_t>(f.size() - i, 4096));
  size_t stream = rest.find("stream");
  size_t xref = rest.find("/XRef");
  return xref != std::string_view::npos && (stream == std::string_view::npos || xref < stream);
}

std::vector<EofMark> FindEofMarks(ByteSpan f) {
  std::vector<EofMark> marks;
  std::string_view text(reinterpret_cast<const char*>(f.data()), f.size());
  for (size_t p = text.find("%%EOF"); p != std::string_view::npos; p = text.find("%%EOF", p + 5)) {
    // Backwards: whitespace, the offset, whitespace, "startxref".
    size_t i = p;
    while (i > 0 && p - i < 64 && IsPdfWhitespace(f[i - 1])) --i;
    size_t digits_end = i;
    while (i > 0 && digits_end - i < 18 && IsDigit(f[i - 1])) --i;
    if (i == digits_end) continue;
    size_t k = i;
    uint64_t offset = 0;
    ReadUnsigned(f, k, offset);
    size_t j = i;
    while (j > 0 && i - j < 64 && IsPdfWhitespace(f[j - 1])) --j;
    if (j == i || j < 9 || std::memcmp(f.data() + j - 9, "startxref", 9) != 0) continue;
    if (offset >= j - 9 || !LooksLikeXrefAt(f, static_cast<size_t>(offset))) continue;
    EofMark mark{p, p + 5};
    if (mark.end < f.size() && f[mark.end] == '\r') ++mark.end;
    if (mark.end < f.size() && f[mark.end] == '\n') ++mark.end;
    marks.push_back(mark);
  }
  return marks;
}

// ---------------------------------------------------------------------------------------------
// The signature dictionary as written in the file (§12.8.1): /ByteRange and /Contents found by
// a small tokenizer at the object's offset, independently of QPDF.

struct RawSignature {
  bool has_contents = false;
  bool contents_is_hex = false;
  bool duplicate_keys = false;
  size_t contents_begin = 0, contents_end = 0;  // the string, delimiters included
  Bytes contents;
  bool has_byte_range = false;
  bool byte_range_integers = true;
  std::vector<int64_t> byte_range;
};

class RawReader {
 public:
  RawReader(ByteSpan data, size_t pos) : d_(data), pos_(pos) {}
  size_t pos() const { return pos_; }

  void SkipSpace() {
    while (pos_ < d_.size()) {
      if (IsPdfWhitespace(d_[pos_])) {
        ++pos_;
      } else if (d_[pos_] == '%') {
        while (pos_ < d_.size() && d_[pos_] != '\r' && d_[pos_] != '\n') ++pos_;
      } else {
        break;
      }
    }
  }
  bool AtEnd() const { return pos_ >= d_.size(); }
  uint8_t Peek(size_t ahead = 0) const {
    return pos_ + ahead < d_.size() ? d_[pos_ + ahead] : uint8_t{0};
  }
  bool Literal(std::string_view s) {
    if (d_.size() - pos_ < s.size() || std::memcmp(d_.data() + pos_, s.data(), s.size()) != 0) {
      return false;
    }
    pos_ += s.size();
    return true;
  }
  // A signed integer token (no fraction).
  bool Integer(int64_t& value) {
    size_t start = pos_;
    bool negative = false;
    if (Peek() == '+' || Peek() == '-') negative = d_[pos_++] == '-';
    uint64_t v = 0;
    size_t digits = pos_;
    if (!ReadUnsigned(d_, pos_, v) ||
        (pos_ < d_.size() && !IsPdfWhitespace(d_[pos_]) && !IsDelimiter(d_[pos_]))) {
      pos_ = start;
      return false;
    }
    if (pos_ - digits > 17) {
      pos_ = start;
      return false;
    }
    value = negative ? -static_cast<int64_t>(v) : static_cast<int64_t>(v);
    return true;
  }
  // A name token, #xx escapes decoded (§7.3.5).
  bool Name(std::string& out) {
    if (Peek() != '/') return false;
    ++pos_;
    out.clear();
    while (pos_ < d_.size() && !IsPdfWhitespace(d_[pos_]) && !IsDelimiter(d_[pos_])) {
      uint8_t c = d_[pos_++];
      if (c == '#' && pos_ + 1 < d_.size() && std::isxdigit(d_[pos_]) &&
          std::isxdigit(d_[pos_ + 1])) {
        auto hex = [](uint8_t h) { return IsDigit(h) ? h - '0' : (std::tolower(h) - 'a' + 10); };
        c = static_cast<uint8_t>(hex(d_[pos_]) * 16 + hex(d_[pos_ + 1]));
        pos_ += 2;
      }
      out.push_back(static_cast<char>(c));
    }
    return true;
  }
  // Skips one object of any kind; false on a syntax error or excessive nesting.
  bool SkipValue(int depth) {
    if (depth > 64) return false;
    SkipSpace();
    if (AtEnd()) return false;
    uint8_t c = Peek();
    if (c == '<' && Peek(1) == '<') {
      pos_ += 2;
      for (;;) {
        SkipSpace();
        if (Literal(">>")) return true;
        std::string key;
        if (!Name(key) || !SkipValue(depth + 1)) return false;
      }
    }
    if (c == '<') return HexString(nullptr);
    if (c == '(') return LiteralString();
    if (c == '[') {
      ++pos_;
      for (;;) {
        SkipSpace();
        if (AtEnd()) return false;
        if (Peek() == ']') {
          ++pos_;
          return true;
        }
        if (!SkipValue(depth + 1)) return false;
      }
    }
    if (c == '/') {
      std::string name;
      return Name(name);
    }
    if (IsDigit(c) || c == '+' || c == '-' || c == '.') {
      size_t start = pos_;
      int64_t first = 0;
      if (Integer(first)) {
        // "N G R"
        size_t after = pos_;
        SkipSpace();
        int64_t second = 0;
        if (Integer(second)) {
          SkipSpace();
          if (Peek() == 'R' &&
              (pos_ + 1 >= d_.size() || IsPdfWhitespace(Peek(1)) || IsDelimiter(Peek(1)))) {
            ++pos_;
            return true;
          }
        }
        pos_ = after;
        return true;
      }
      pos_ = start;
      while (pos_ < d_.size() &&
             (IsDigit(d_[pos_]) || d_[pos_] == '.' || d_[pos_] == '+' || d_[pos_] == '-')) {
        ++pos_;
      }
      return pos_ > start;
    }
    // true, false, null
    size_t start = pos_;
    while (pos_ < d_.size() && !IsPdfWhitespace(d_[pos_]) && !IsDelimiter(d_[pos_])) ++pos_;
    return pos_ > start;
  }
  // §7.3.4.3; `out` receives the decoded bytes (a final odd digit is followed by 0).
  bool HexString(Bytes* out) {
    if (Peek() != '<') return false;
    ++pos_;
    int pending = -1;
    while (pos_ < d_.size()) {
      uint8_t c = d_[pos_++];
      if (c == '>') {
        if (pending >= 0 && out) out->push_back(static_cast<uint8_t>(pending << 4));
        return true;
      }
      if (IsPdfWhitespace(c)) continue;
      if (!std::isxdigit(c)) return false;
      int v = IsDigit(c) ? c - '0' : std::tolower(c) - 'a' + 10;
      if (pending < 0) {
        pending = v;
      } else {
        if (out) out->push_back(static_cast<uint8_t>(pending * 16 + v));
        pending = -1;
      }
    }
    return false;
  }
  bool LiteralString() {
    if (Peek() != '(') return false;
    ++pos_;
    int nesting = 1;
    while (pos_ < d_.size()) {
      uint8_t c = d_[pos_++];
      if (c == '\\') {
        ++pos_;
      } else if (c == '(') {
        ++nesting;
      } else if (c == ')' && --nesting == 0) {
        return true;
      }
    }
    return false;
  }

 private:
  ByteSpan d_;
  size_t pos_;
};

// Parses "N G obj << ... >>" at `offset` and picks out /Contents and /ByteRange.
std::optional<RawSignature> ParseRawSignature(ByteSpan file, size_t offset, QPDFObjGen expected,
                                              std::string& error) {
  RawReader r(file, offset);
  r.SkipSpace();
  int64_t number = 0, generation = 0;
  if (!r.Integer(number)) {
    error = "no object header at offset " + std::to_string(offset);
    return std::nullopt;
  }
  r.SkipSpace();
  if (!r.Integer(generation)) {
    error = "no object header at offset " + std::to_string(offset);
    return std::nullopt;
  }
  r.SkipSpace();
  if (!r.Literal("obj") || number != expected.getObj() || generation != expected.getGen()) {
    error = "the object at offset " + std::to_string(offset) + " is not " + Describe(expected);
    return std::nullopt;
  }
  r.SkipSpace();
  if (!r.Literal("<<")) {
    error = Describe(expected) + " is not a dictionary";
    return std::nullopt;
  }
  RawSignature sig;
  for (;;) {
    r.SkipSpace();
    if (r.Literal(">>")) break;
    std::string key;
    if (!r.Name(key)) {
      error = "syntax error in " + Describe(expected) + " at offset " + std::to_string(r.pos());
      return std::nullopt;
    }
    r.SkipSpace();
    if (key == "Contents") {
      if (sig.has_contents) sig.duplicate_keys = true;
      sig.has_contents = true;
      sig.contents_begin = r.pos();
      sig.contents_is_hex = r.Peek() == '<' && r.Peek(1) != '<';
      sig.contents.clear();
      bool ok = sig.contents_is_hex ? r.HexString(&sig.contents) : r.SkipValue(0);
      if (!ok) {
        error = "syntax error in /Contents of " + Describe(expected);
        return std::nullopt;
      }
      sig.contents_end = r.pos();
    } else if (key == "ByteRange") {
      if (sig.has_byte_range) sig.duplicate_keys = true;
      sig.has_byte_range = true;
      sig.byte_range.clear();
      sig.byte_range_integers = true;
      if (!r.Literal("[")) {
        sig.byte_range_integers = false;
        if (!r.SkipValue(0)) {
          error = "syntax error in /ByteRange of " + Describe(expected);
          return std::nullopt;
        }
        continue;
      }
      for (;;) {
        r.SkipSpace();
        if (r.Literal("]")) break;
        int64_t v = 0;
        if (r.Integer(v)) {
          if (sig.byte_range.size() < 64) sig.byte_range.push_back(v);
          continue;
        }
        sig.byte_range_integers = false;
        if (!r.SkipValue(1)) {
          error = "syntax error in /ByteRange of " + Describe(expected);
          return std::nullopt;
        }
      }
    } else if (!r.SkipValue(0)) {
      error = "syntax error in " + Describe(expected) + " at offset " + std::to_string(r.pos());
      return std::nullopt;
    }
  }
  return sig;
}

// The DER encoding's length (tag, length octets, contents), or nullopt when `der` does not
// start with a definite-length encoding that fits in it.
std::optional<size_t> DerLength(const Bytes& der) {
  if (der.size() < 2) return std::nullopt;
  size_t header = 2;
  size_t length = der[1];
  if (length & 0x80) {
    size_t octets = length & 0x7F;
    if (octets == 0 || octets > 4 || der.size() < 2 + octets) return std::nullopt;
    length = 0;
    for (size_t i = 0; i < octets; ++i) length = (length << 8) | der[2 + i];
    header += octets;
  }
  if (length > der.size() - header) return std::nullopt;
  return header + length;
}

// ---------------------------------------------------------------------------------------------
// The structure of one revision: the objects whose roles the difference analysis knows.

enum class Role {
  kCatalog,
  kPagesNode,
  kPage,
  kPageKidsArray,
  kAnnotsArray,
  kAcroForm,
  kFieldsArray,
  kField,
  kFieldKidsArray,
  kWidget,
};

std::string RoleName(Role role) {
  switch (role) {
    case Role::kCatalog:
      return "the catalog";
    case Role::kPagesNode:
      return "a page tree node";
    case Role::kPage:
      return "a page";
    case Role::kPageKidsArray:
      return "a page tree /Kids array";
    case Role::kAnnotsArray:
      return "a page's /Annots array";
    case Role::kAcroForm:
      return "the interactive form";
    case Role::kFieldsArray:
      return "the form's /Fields array";
    case Role::kField:
      return "a form field";
    case Role::kFieldKidsArray:
      return "a form field's /Kids array";
    case Role::kWidget:
      return "a widget annotation";
  }
  return "?";
}

struct Field {
  QPDFObjGen ref;
  std::string name;  // fully qualified
  std::string type;  // "/Sig", "/Tx", ... (inherited), "" when unknown
  bool terminal = true;
  std::vector<QPDFObjGen> widgets;  // includes `ref` when the field is its own widget
  std::vector<QPDFObjGen> kid_fields;
};

struct Page {
  QPDFObjGen ref;
  std::vector<QPDFObjGen> annots;            // indirect entries of /Annots
  std::multiset<std::string> direct_annots;  // unparsed direct entries
};

struct Structure {
  QPDF* qpdf = nullptr;
  std::map<QPDFObjGen, QPDFXRefEntry> xref;
  // QPDF's handles resolve lazily, so even reading them is not const.
  mutable QPDFObjectHandle trailer;
  mutable QPDFObjectHandle root;
  QPDFObjGen catalog;
  mutable QPDFObjectHandle acroform;  // resolved dictionary, or null
  std::map<QPDFObjGen, Role> roles;
  std::vector<Page> pages;
  std::map<QPDFObjGen, int> page_number;  // 1-based
  std::set<QPDFObjGen> page_nodes;        // intermediate /Pages nodes
  std::map<QPDFObjGen, Field> fields;
  std::map<QPDFObjGen, QPDFObjGen> widget_field;
  std::set<QPDFObjGen> annotations;  // on pages, other than the form's widgets
  std::vector<std::string> problems;

  QPDFObjectHandle Object(QPDFObjGen g) const {
    return g == kTrailer ? trailer : qpdf->getObject(g);
  }
  void SetRole(QPDFObjGen g, Role role) {
    auto [it, inserted] = roles.emplace(g, role);
    if (!inserted && it->second != role) {
      problems.push_back(Describe(g) + " is both " + RoleName(it->second) + " and " +
                         RoleName(role));
    }
  }
  std::string FieldLabel(QPDFObjGen g) const {
    auto it = fields.find(g);
    if (it != fields.end()) return Describe(g) + " (field '" + it->second.name + "')";
    auto w = widget_field.find(g);
    if (w != widget_field.end()) {
      return Describe(g) + " (widget of field '" + fields.at(w->second).name + "')";
    }
    auto p = page_number.find(g);
    if (p != page_number.end()) return Describe(g) + " (page " + std::to_string(p->second) + ")";
    if (g == catalog) return Describe(g) + " (catalog)";
    return Describe(g);
  }
};

std::string NameOf(QPDFObjectHandle h) {
  return h.isName() ? h.getName() : std::string();
}

void BuildPages(Structure& s) {
  std::set<QPDFObjGen> seen;
  struct Item {
    QPDFObjectHandle node;
    int depth;
  };
  std::vector<Item> stack{{s.root.getKey("/Pages"), 0}};
  while (!stack.empty()) {
    Item item = stack.back();
    stack.pop_back();
    QPDFObjectHandle node = item.node;
    if (!node.isIndirect() || !node.isDictionary()) {
      s.problems.push_back("a page tree entry is not an indirect dictionary");
      continue;
    }
    QPDFObjGen g = node.getObjGen();
    if (!seen.insert(g).second) {
      s.problems.push_back("the page tree visits " + Describe(g) + " twice");
      continue;
    }
    if (item.depth > kMaxTreeDepth) {
      s.problems.push_back("the page tree is deeper than " + std::to_string(kMaxTreeDepth));
      continue;
    }
    QPDFObjectHandle kids = node.getKey("/Kids");
    std::string type = NameOf(node.getKey("/Type"));
    if (type == "/Pages" || (type != "/Page" && kids.isArray())) {
      s.SetRole(g, Role::kPagesNode);
      s.page_nodes.insert(g);
      if (kids.isIndirect()) s.SetRole(kids.getObjGen(), Role::kPageKidsArray);
      if (!kids.isArray()) continue;
      for (int i = kids.getArrayNItems() - 1; i >= 0; --i) {
        stack.push_back({kids.getArrayItem(i), item.depth + 1});
      }
      continue;
    }
    s.SetRole(g, Role::kPage);
    Page page;
    page.ref = g;
    QPDFObjectHandle annots = node.getKey("/Annots");
    if (annots.isIndirect()) s.SetRole(annots.getObjGen(), Role::kAnnotsArray);
    if (annots.isArray()) {
      for (auto& a : annots.aitems()) {
        if (a.isIndirect()) {
          page.annots.push_back(a.getObjGen());
        } else {
          page.direct_annots.insert(a.unparse());
        }
      }
    }
    s.pages.push_back(std::move(page));
    s.page_number[g] = static_cast<int>(s.pages.size());
  }
}

void BuildFields(Structure& s) {
  QPDFObjectHandle acroform = s.root.getKey("/AcroForm");
  if (!acroform.isDictionary()) return;
  s.acroform = acroform;
  if (acroform.isIndirect()) s.SetRole(acroform.getObjGen(), Role::kAcroForm);
  QPDFObjectHandle list = acroform.getKey("/Fields");
  if (list.isIndirect()) s.SetRole(list.getObjGen(), Role::kFieldsArray);
  if (!list.isArray()) return;
  struct Item {
    QPDFObjectHandle node;
    std::string parent_name;
    std::string inherited_type;
    QPDFObjGen parent;
    int depth;
  };
  std::vector<Item> stack;
  for (int i = list.getArrayNItems() - 1; i >= 0; --i) {
    stack.push_back({list.getArrayItem(i), "", "", kTrailer, 0});
  }
  std::set<QPDFObjGen> seen;
  while (!stack.empty()) {
    Item item = std::move(stack.back());
    stack.pop_back();
    QPDFObjectHandle node = item.node;
    if (!node.isIndirect() || !node.isDictionary()) {
      s.problems.push_back("a form field is not an indirect dictionary");
      continue;
    }
    QPDFObjGen g = node.getObjGen();
    if (!seen.insert(g).second) {
      s.problems.push_back("the form field tree visits " + Describe(g) + " twice");
      continue;
    }
    if (item.depth > kMaxTreeDepth) {
      s.problems.push_back("the form field tree is deeper than " + std::to_string(kMaxTreeDepth));
      continue;
    }
    Field field;
    field.ref = g;
    QPDFObjectHandle t = node.getKey("/T");
    std::string partial = t.isString() ? t.getUTF8Value() : std::string();
    field.name = item.parent_name.empty() ? partial
                 : partial.empty()        ? item.parent_name
                                          : item.parent_name + "." + partial;
    std::string own_type = NameOf(node.getKey("/FT"));
    field.type = own_type.empty() ? item.inherited_type : own_type;
    s.SetRole(g, Role::kField);
    QPDFObjectHandle kids = node.getKey("/Kids");
    if (kids.isIndirect()) s.SetRole(kids.getObjGen(), Role::kFieldKidsArray);
    bool has_kids = kids.isArray() && kids.getArrayNItems() > 0;
    if (has_kids) {
      for (int i = kids.getArrayNItems() - 1; i >= 0; --i) {
        QPDFObjectHandle kid = kids.getArrayItem(i);
        if (kid.isDictionary() && !kid.hasKey("/T") && !kid.hasKey("/Kids") && kid.isIndirect() &&
            !seen.count(kid.getObjGen())) {
          // A widget annotation of this field (§12.7.3.1).
          QPDFObjGen w = kid.getObjGen();
          seen.insert(w);
          s.SetRole(w, Role::kWidget);
          s.widget_field[w] = g;
          field.widgets.insert(field.widgets.begin(), w);
        } else {
          field.terminal = false;
          if (kid.isIndirect()) field.kid_fields.insert(field.kid_fields.begin(), kid.getObjGen());
          stack.push_back({kid, field.name, field.type, g, item.depth + 1});
        }
      }
    } else {
      // No kids: the field is its own widget when it is an annotation.
      if (NameOf(node.getKey("/Subtype")) == "/Widget" || node.hasKey("/Rect")) {
        field.widgets.push_back(g);
        s.widget_field[g] = g;
      }
    }
    s.fields.emplace(g, std::move(field));
  }
}

// Builds the structure of `qpdf`'s final revision; false when the trailer or catalog is missing.
bool BuildStructure(QPDF& qpdf, Structure& s) {
  s.qpdf = &qpdf;
  s.xref = qpdf.getXRefTable();
  s.trailer = qpdf.getTrailer();
  s.root = s.trailer.getKey("/Root");
  if (!s.root.isIndirect() || !s.root.isDictionary()) return false;
  s.catalog = s.root.getObjGen();
  s.SetRole(s.catalog, Role::kCatalog);
  try {
    BuildPages(s);
  } catch (const std::exception& e) {
    s.problems.push_back(std::string("page tree: ") + e.what());
  }
  try {
    BuildFields(s);
  } catch (const std::exception& e) {
    s.problems.push_back(std::string("form: ") + e.what());
  }
  for (const auto& page : s.pages) {
    for (QPDFObjGen a : page.annots) {
      if (!s.widget_field.count(a)) s.annotations.insert(a);
    }
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Reachability: which objects the trailer reaches, and through what.

struct Edge {
  QPDFObjGen holder;  // the object (or kTrailer) that refers to it
  std::string key;    // the holder's top-level key on the way ("" for array objects)
};
using Reach = std::map<QPDFObjGen, Edge>;

std::string EdgeText(const Structure& s, const Edge& e) {
  std::string out = e.holder == kTrailer ? "the trailer" : s.FieldLabel(e.holder);
  if (!e.key.empty()) out += " " + e.key;
  return out;
}

// The edge and the path above it, up to a few levels: "object 10 0 /N, from object 1 0
// (catalog) /FooBar".
std::string UsageText(const Structure& s, const Reach& reach, const Edge& edge) {
  std::string out = EdgeText(s, edge);
  QPDFObjGen at = edge.holder;
  for (int i = 0; i < 6 && at != kTrailer; ++i) {
    auto it = reach.find(at);
    if (it == reach.end() || (it->second.holder == kTrailer && it->second.key == "/Root")) break;
    out += ", from " + EdgeText(s, it->second);
    at = it->second.holder;
  }
  return out;
}

using KeyRef = std::pair<QPDFObjGen, std::string>;
// (holder, top-level key, key of the direct dictionary under it): the interactive form's /DR
// when the form dictionary is direct in the catalog.
using NestedKeyRef = std::tuple<QPDFObjGen, std::string, std::string>;

struct WalkRules {
  const std::set<KeyRef>* skip_keys = nullptr;  // (holder, top-level key) not followed
  // Annotations: not entered through the keys that normally lead to one (/Annots, /Popup,
  // /Parent, /IRT, /Obj of a structure tree object reference), entered otherwise.
  const std::set<QPDFObjGen>* opaque = nullptr;
  const std::map<QPDFObjGen, Role>* stop = nullptr;     // never entered
  const std::set<NestedKeyRef>* skip_nested = nullptr;  // not followed either
};

bool IsAnnotationLinkKey(const std::string& key) {
  return key == "/Annots" || key == "/Popup" || key == "/Parent" || key == "/IRT" || key == "/Obj";
}

struct WalkItem {
  QPDFObjectHandle h;
  QPDFObjGen holder;
  std::string top_key;   // the key in `holder` this value hangs under
  std::string edge_key;  // the nearest dictionary key
  bool top = false;      // h is the holder's own top-level dictionary
  int depth = 0;
};

// A value worth a stack entry: a reference not yet visited, or a direct container. Numbers,
// names and strings lead nowhere (most entries of a document are such).
bool LeadsSomewhere(QPDFObjectHandle value, const Reach& out) {
  if (value.isIndirect()) return !out.count(value.getObjGen());
  return value.isDictionary() || value.isArray();
}

void Walk(std::vector<WalkItem> stack, const WalkRules& rules, Reach& out,
          std::vector<std::string>& errors) {
  while (!stack.empty()) {
    WalkItem item = std::move(stack.back());
    stack.pop_back();
    QPDFObjectHandle h = item.h;
    try {
      if (h.isIndirect()) {
        QPDFObjGen g = h.getObjGen();
        if (out.count(g)) continue;
        if (rules.stop && rules.stop->count(g)) continue;
        if (rules.opaque && rules.opaque->count(g) && IsAnnotationLinkKey(item.edge_key)) continue;
        out.emplace(g, Edge{item.holder, item.top_key});
        item.holder = g;
        item.top = true;
        item.top_key.clear();
        item.depth = 0;
      }
      if (item.depth > kMaxDirectDepth) {
        errors.push_back(Describe(item.holder) + ": nested deeper than " +
                         std::to_string(kMaxDirectDepth) + " levels");
        continue;
      }
      QPDFObjectHandle dict;
      if (h.isStream()) {
        dict = h.getDict();
      } else if (h.isDictionary()) {
        dict = h;
      }
      if (dict.isDictionary()) {
        for (const auto& key : dict.getKeys()) {
          if (item.top && rules.skip_keys && rules.skip_keys->count({item.holder, key})) continue;
          if (!item.top && item.depth == 1 && rules.skip_nested &&
              rules.skip_nested->count({item.holder, item.top_key, key})) {
            continue;
          }
          QPDFObjectHandle value = dict.getKey(key);
          if (!LeadsSomewhere(value, out)) continue;
          stack.push_back(WalkItem{value, item.holder, item.top ? key : item.top_key, key, false,
                                   item.depth + 1});
        }
      } else if (h.isArray()) {
        for (int i = h.getArrayNItems() - 1; i >= 0; --i) {
          QPDFObjectHandle value = h.getArrayItem(i);
          if (!LeadsSomewhere(value, out)) continue;
          stack.push_back(
              WalkItem{value, item.holder, item.top_key, item.edge_key, false, item.depth + 1});
        }
      }
    } catch (const std::exception& e) {
      errors.push_back(Describe(item.holder) + ": " + e.what());
    }
  }
}

Reach WalkFromTrailer(const Structure& s, const WalkRules& rules,
                      std::vector<std::string>& errors) {
  Reach out;
  Walk({WalkItem{s.trailer, kTrailer, "", "", true, 0}}, rules, out, errors);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Object comparison.

bool SameXrefEntry(const Structure& o, const Structure& n, QPDFObjGen g, int depth = 0) {
  auto a = o.xref.find(g);
  auto b = n.xref.find(g);
  if (a == o.xref.end() || b == n.xref.end()) return false;
  const QPDFXRefEntry& x = a->second;
  const QPDFXRefEntry& y = b->second;
  if (x.getType() != y.getType()) return false;
  if (x.getType() == 1) return x.getOffset() == y.getOffset();
  if (x.getType() == 2 && depth == 0) {
    return x.getObjStreamNumber() == y.getObjStreamNumber() &&
           x.getObjStreamIndex() == y.getObjStreamIndex() &&
           SameXrefEntry(o, n, QPDFObjGen(x.getObjStreamNumber(), 0), 1);
  }
  return false;
}

std::string DictionaryText(QPDFObjectHandle dict, const std::set<std::string>& ignore) {
  std::string out;
  for (const auto& key : dict.getKeys()) {
    if (ignore.count(key)) continue;
    out += key;
    out += ' ';
    out += dict.getKey(key).unparse();
    out += '\n';
  }
  return out;
}

bool SameBuffer(const std::shared_ptr<Buffer>& a, const std::shared_ptr<Buffer>& b) {
  if (!a || !b) return false;
  return a->getSize() == b->getSize() &&
         (a->getSize() == 0 || std::memcmp(a->getBuffer(), b->getBuffer(), a->getSize()) == 0);
}

// Identical bodies: non-streams by their unparsed text, streams by dictionary (without its
// encoding keys) and decoded data (raw data when they cannot be decoded).
bool SameContent(QPDFObjectHandle a, QPDFObjectHandle b) {
  if (a.isStream() != b.isStream()) return false;
  if (!a.isStream()) return a.unparseResolved() == b.unparseResolved();
  static const std::set<std::string> kLengthOnly = {"/Length"};
  static const std::set<std::string> kEncoding = {"/Length", "/Filter", "/DecodeParms", "/DL"};
  QPDFObjectHandle da = a.getDict(), db = b.getDict();
  if (DictionaryText(da, kLengthOnly) == DictionaryText(db, kLengthOnly) &&
      SameBuffer(a.getRawStreamData(), b.getRawStreamData())) {
    return true;
  }
  if (DictionaryText(da, kEncoding) != DictionaryText(db, kEncoding)) return false;
  try {
    return SameBuffer(a.getStreamData(qpdf_dl_generalized), b.getStreamData(qpdf_dl_generalized));
  } catch (const std::exception&) {
    return false;
  }
}

enum class Change { kSame, kChanged, kAdded, kFreed };

Change CompareObject(const Structure& o, const Structure& n, QPDFObjGen g) {
  bool in_old = o.xref.count(g) > 0;
  bool in_new = n.xref.count(g) > 0;
  if (!in_new) return in_old ? Change::kFreed : Change::kSame;
  if (!in_old) return Change::kAdded;
  if (SameXrefEntry(o, n, g)) return Change::kSame;
  return SameContent(o.qpdf->getObject(g), n.qpdf->getObject(g)) ? Change::kSame : Change::kChanged;
}

struct KeyDiff {
  std::string key;
  const char* what;  // "added", "removed", "changed"
};

// Top-level keys whose values differ (values compared as written: references by number).
std::vector<KeyDiff> DiffKeys(QPDFObjectHandle a, QPDFObjectHandle b) {
  std::vector<KeyDiff> out;
  std::set<std::string> keys;
  if (a.isDictionary()) keys = a.getKeys();
  if (b.isDictionary()) {
    auto more = b.getKeys();
    keys.insert(more.begin(), more.end());
  }
  for (const auto& key : keys) {
    bool in_a = a.isDictionary() && a.hasKey(key) && !a.getKey(key).isNull();
    bool in_b = b.isDictionary() && b.hasKey(key) && !b.getKey(key).isNull();
    if (in_a && in_b) {
      if (a.getKey(key).unparse() != b.getKey(key).unparse()) out.push_back({key, "changed"});
    } else if (in_b) {
      out.push_back({key, "added"});
    } else if (in_a) {
      out.push_back({key, "removed"});
    }
  }
  return out;
}

// Indirect entries of an array (resolved), in order.
std::vector<QPDFObjGen> RefsOf(QPDFObjectHandle array) {
  std::vector<QPDFObjGen> out;
  if (!array.isArray()) return out;
  for (auto& item : array.aitems()) {
    if (item.isIndirect()) out.push_back(item.getObjGen());
  }
  return out;
}

// A document time-stamp's signature dictionary (ETSI EN 319 142-1 §5.4.3).
bool IsTimestamp(QPDFObjectHandle sig) {
  return sig.isDictionary() && (NameOf(sig.getKey("/Type")) == "/DocTimeStamp" ||
                                NameOf(sig.getKey("/SubFilter")) == "/ETSI.RFC3161");
}

// ---------------------------------------------------------------------------------------------
// DocMDP and FieldMDP (§12.8.2.2, §12.8.2.4; the field /Lock of §12.7.4.5 Table 233).

// ---------------------------------------------------------------------------------------------
// The difference between a signed revision and the final one.

// What justifies changes to the objects reachable from a value.
enum class Kind { kSignature, kDss, kMetadata, kForm, kAnnotation };

ModificationLevel LevelOf(Kind kind) {
  switch (kind) {
    case Kind::kSignature:
    case Kind::kDss:
      return ModificationLevel::kSignaturesOnly;
    case Kind::kMetadata:
    case Kind::kForm:
      return ModificationLevel::kFormFilling;
    case Kind::kAnnotation:
      return ModificationLevel::kAnnotations;
  }
  return ModificationLevel::kOther;
}

const char* KindText(Kind kind) {
  switch (kind) {
    case Kind::kSignature:
      return "part of a signature field's value or appearance";
    case Kind::kDss:
      return "part of the document security store";
    case Kind::kMetadata:
      return "document metadata";
    case Kind::kForm:
      return "part of a form field's value or appearance";
    case Kind::kAnnotation:
      return "part of an annotation";
  }
  return "?";
}

struct Finding {
  ModificationLevel level;
  bool metadata;  // /Info or XMP: allowed at every DocMDP level
  std::string text;
  bool appearance = false;  // what a field displays changed without a new value (kOther)
};

struct Diff {
  std::vector<Finding> findings;
  size_t dropped_findings = 0;
  int signatures_added = 0;
  int timestamps_added = 0;
  int empty_signature_fields_added = 0;
  bool dss_changed = false;
  std::set<std::string> changed_fields;
  size_t later_revisions = 0;
  // A revision after the signed one could not be read: what it changed is unknown.
  bool unanalysable = false;

  void Add(ModificationLevel level, std::string text, bool metadata = false,
           bool appearance = false) {
    if (findings.size() >= kMaxFindings) {
      // Keep the level right even when the text is dropped.
      ++dropped_findings;
      if (level > ModificationLevel::kNone) findings.push_back({level, metadata, "", appearance});
      return;
    }
    findings.push_back({level, metadata, std::move(text), appearance});
  }
  // ETSI EN 319 142-1 §5.4 and ISO 32000-1 §12.7.3.3 leave a field's appearance to its value:
  // an update that changes what a field shows without giving it a new value is not form
  // filling but a change of the signed content (the "shadow" attacks on PDF signatures).
  void AddAppearance(std::string text) {
    Add(ModificationLevel::kOther, std::move(text), false, true);
  }
  // The findings of `step` (the changes made by one later revision), prefixed by `prefix`.
  void Merge(const Diff& step, const std::string& prefix) {
    for (const auto& f : step.findings) {
      Add(f.level, f.text.empty() ? std::string() : prefix + f.text, f.metadata, f.appearance);
    }
    dropped_findings += step.dropped_findings;
    signatures_added += step.signatures_added;
    timestamps_added += step.timestamps_added;
    empty_signature_fields_added += step.empty_signature_fields_added;
    dss_changed = dss_changed || step.dss_changed;
    unanalysable = unanalysable || step.unanalysable;
    changed_fields.insert(step.changed_fields.begin(), step.changed_fields.end());
  }
  ModificationLevel Level(bool include_metadata) const {
    ModificationLevel level = ModificationLevel::kNone;
    for (const auto& f : findings) {
      if (!include_metadata && f.metadata) continue;
      level = std::max(level, f.level);
    }
    return level;
  }
};

// What the trailer of each revision reaches (and the walk's errors), kept across the
// comparisons of a revision chain: revision k is the later side of one comparison and the
// earlier side of the next.
using ReachCache = std::map<const Structure*, std::pair<Reach, std::vector<std::string>>>;

class DiffBuilder {
 public:
  DiffBuilder(const Structure& o, const Structure& n, Diff& diff, ReachCache* cache = nullptr)
      : o_(o), n_(n), d_(diff), cache_(cache ? cache : &own_cache_) {}

  void Run() {
    std::vector<std::string> errors;
    reach_new_ = &FullReach(n_, errors);
    reach_old_ = &FullReach(o_, errors);
    for (const auto& [g, edge] : *reach_new_) {
      Change c = Change::kChanged;
      try {
        c = CompareObject(o_, n_, g);
      } catch (const std::exception& e) {
        d_.Add(ModificationLevel::kOther, Describe(g) + ": cannot be compared: " + e.what());
      }
      if (c != Change::kSame) changes_[g] = c;
    }
    DefineContainers(o_, old_rules_, nullptr);
    DefineContainers(n_, new_rules_, &containers_);
    // What each object is used for besides drawing a form field (no widget's /AP followed),
    // and then, continuing from the appearances that are no permitted change (those of signed
    // fields), what it is used for outside any permitted change.
    RestrictedWalks(o_, old_rules_, outside_appearances_old_, restricted_old_, errors);
    RestrictedWalks(n_, new_rules_, outside_appearances_new_, restricted_new_, errors);

    CompareProblems();
    CompareTrailers();
    CompareCatalogs();
    CompareForms();
    ComparePages();
    ClassifyChangedObjects();
    CheckReplacedAppearances();
    FindChangedFieldContents();
    ReportUnreferenced();
    std::sort(errors.begin(), errors.end());
    errors.erase(std::unique(errors.begin(), errors.end()), errors.end());
    for (size_t i = 0; i < errors.size() && i < 10; ++i) {
      d_.Add(ModificationLevel::kOther, "unreadable: " + errors[i]);
    }
  }

 private:
  struct Rules {
    std::set<KeyRef> skip_keys;
    std::set<NestedKeyRef> skip_nested;
  };
  struct Container {
    Kind kind;
    QPDFObjectHandle root;
    QPDFObjGen holder;
  };

  // A field's signature state in the signed revision.
  bool SignedInOld(QPDFObjGen field) const {
    auto it = o_.fields.find(field);
    if (it == o_.fields.end()) return false;
    return it->second.type == "/Sig" && o_.Object(field).getKey("/V").isDictionary();
  }

  // The values whose changes are justified by a kind of change, rather than checked key by key.
  void DefineContainers(const Structure& s, Rules& rules, std::vector<Container>* out) {
    auto add = [&](QPDFObjGen holder, const std::string& key, Kind kind) {
      rules.skip_keys.insert({holder, key});
      if (out) {
        QPDFObjectHandle value = s.Object(holder).getKey(key);
        if (!value.isNull()) out->push_back({kind, value, holder});
      }
    };
    add(kTrailer, "/Info", Kind::kMetadata);
    // LibreOffice's hybrid PDF keeps its source document under this trailer key; PDF readers
    // neither show nor use it, and PDFBox-based signers rewrite it with every update.
    add(kTrailer, "/AdditionalStreams", Kind::kMetadata);
    add(s.catalog, "/Metadata", Kind::kMetadata);
    add(s.catalog, "/DSS", Kind::kDss);
    // ISO 32000-1 §12.7.2 Table 218: /DR, the "resources (such as fonts, patterns, or colour
    // spaces) that shall be used by form field appearance streams". Signing tools add the
    // fonts their /DA names (Helv, ZaDb) when they add a field.
    if (s.acroform.isIndirect()) {
      add(s.acroform.getObjGen(), "/DR", Kind::kForm);
    } else if (s.acroform.isDictionary()) {
      rules.skip_nested.insert({s.catalog, "/AcroForm", "/DR"});
      QPDFObjectHandle dr = s.acroform.getKey("/DR");
      if (out && !dr.isNull()) out->push_back({Kind::kForm, dr, s.catalog});
    }
    for (const auto& [g, field] : s.fields) {
      bool sig = field.type == "/Sig";
      if (sig && SignedInOld(g)) continue;  // a signed field's value and appearance are frozen
      // A new signature field, or a document time-stamp, is a signature-level change; signing
      // a signature field that existed when signing is form filling (as in pyHanko).
      bool signature_level = sig && (!o_.fields.count(g) || IsTimestamp(s.Object(g).getKey("/V")));
      add(g, "/V", sig ? Kind::kSignature : Kind::kForm);
      if (sig) {
        add(g, "/Lock", Kind::kSignature);
        add(g, "/SV", Kind::kSignature);
      }
      for (QPDFObjGen w : field.widgets) {
        add(w, "/AP", signature_level ? Kind::kSignature : Kind::kForm);
      }
    }
    if (out) {
      for (QPDFObjGen a : s.annotations) out->push_back({Kind::kAnnotation, s.Object(a), a});
    }
  }

  const Reach& FullReach(const Structure& s, std::vector<std::string>& errors) {
    auto it = cache_->find(&s);
    if (it == cache_->end()) {
      std::vector<std::string> walk_errors;
      Reach reach = WalkFromTrailer(s, WalkRules{}, walk_errors);
      it = cache_->emplace(&s, std::make_pair(std::move(reach), std::move(walk_errors))).first;
    }
    errors.insert(errors.end(), it->second.second.begin(), it->second.second.end());
    return it->second.first;
  }

  // `outside_appearances`: reachable from the trailer without entering a permitted change or
  // any widget's /AP. `restricted`: the same plus what the widget appearances that are not
  // permitted changes reach (one walk continued, rather than two from the trailer).
  void RestrictedWalks(const Structure& s, const Rules& rules, Reach& outside_appearances,
                       Reach& restricted, std::vector<std::string>& errors) {
    std::set<KeyRef> skip = rules.skip_keys;
    std::vector<WalkItem> appearances;
    for (const auto& [w, f] : s.widget_field) {
      if (!skip.insert({w, "/AP"}).second) continue;  // already a permitted change
      QPDFObjectHandle ap = s.Object(w).getKey("/AP");
      if (!ap.isNull()) appearances.push_back(WalkItem{ap, w, "/AP", "/AP", false, 0});
    }
    WalkRules no_ap{&skip, &s.annotations, nullptr, &rules.skip_nested};
    outside_appearances = WalkFromTrailer(s, no_ap, errors);
    restricted = outside_appearances;
    WalkRules rest{&rules.skip_keys, &s.annotations, nullptr, &rules.skip_nested};
    Walk(std::move(appearances), rest, restricted, errors);
  }

  // Anomalies in the page or form tree (loops, depth) that the signed revision did not have.
  void CompareProblems() {
    std::set<std::string> before(o_.problems.begin(), o_.problems.end());
    std::set<std::string> after(n_.problems.begin(), n_.problems.end());
    for (const auto& problem : after) {
      if (!before.count(problem)) d_.Add(ModificationLevel::kOther, "structure: " + problem);
    }
  }

  void CompareTrailers() {
    static const std::set<std::string> kIgnored = {"/Size",   "/Prev",        "/XRefStm", "/ID",
                                                   "/Type",   "/W",           "/Index",   "/Length",
                                                   "/Filter", "/DecodeParms", "/DL"};
    for (const auto& k : ChangedKeys(o_.trailer, n_.trailer)) {
      if (kIgnored.count(k.key)) continue;
      if (k.key == "/Info") {
        d_.Add(ModificationLevel::kFormFilling,
               std::string("the trailer: document information dictionary ") + k.what, true);
      } else if (k.key == "/AdditionalStreams") {
        d_.Add(ModificationLevel::kFormFilling,
               std::string("the trailer: /AdditionalStreams (a hybrid PDF's source document, "
                           "not shown by PDF readers) ") +
                   k.what,
               true);
      } else if (k.key == "/Root" && n_.root.isDictionary() &&
                 NameOf(n_.root.getKey("/Type")) == "/Catalog") {
        // A writer that rewrites the catalog may give it a new number; its entries are
        // compared one by one below, as pyHanko's CatalogModificationRule does.
        d_.Add(ModificationLevel::kNone, "the trailer: the catalog is now " + Describe(n_.catalog) +
                                             " (was " + Describe(o_.catalog) + ")");
      } else if (k.key == "/Root") {
        d_.Add(ModificationLevel::kOther, "the trailer: /Root replaced");
      } else {
        d_.Add(ModificationLevel::kOther, "the trailer: " + k.key + " " + k.what);
      }
    }
  }

  void CompareCatalogs() {
    if (o_.catalog != n_.catalog && NameOf(n_.root.getKey("/Type")) != "/Catalog") {
      return;  // reported with the trailer
    }
    std::string label = Describe(n_.catalog) + " (catalog): ";
    for (const auto& k : ChangedKeys(o_.root, n_.root)) {
      if (k.key == "/AcroForm") continue;  // CompareForms
      if (k.key == "/DSS") {
        if (std::string(k.what) == "removed") {
          d_.Add(ModificationLevel::kOther, label + "the DSS removed");
          continue;
        }
        d_.dss_changed = true;
        d_.Add(ModificationLevel::kSignaturesOnly, label + "DSS " + k.what);
      } else if (k.key == "/Metadata") {
        d_.Add(ModificationLevel::kFormFilling, label + "XMP metadata " + k.what, true);
      } else if (k.key == "/Extensions" || k.key == "/Version" || k.key == "/MarkInfo") {
        d_.Add(ModificationLevel::kSignaturesOnly, label + k.key + " " + k.what);
      } else {
        d_.Add(ModificationLevel::kOther, label + k.key + " " + k.what);
      }
    }
    QPDFObjectHandle dss = n_.root.getKey("/DSS");
    if (dss.isDictionary() && ContentChanged(dss)) {
      d_.dss_changed = true;
      static const std::set<std::string> kDssKeys = {"/Type", "/Certs", "/OCSPs", "/CRLs", "/VRI"};
      for (const auto& key : dss.getKeys()) {
        if (!kDssKeys.count(key)) {
          d_.Add(ModificationLevel::kOther, label + "unexpected key " + key + " in the DSS");
        }
      }
    } else if (!dss.isNull() && !dss.isDictionary()) {
      d_.Add(ModificationLevel::kOther, label + "/DSS is not a dictionary");
    }
    QPDFObjectHandle metadata = n_.root.getKey("/Metadata");
    if (!metadata.isNull() && !metadata.isStream()) {
      d_.Add(ModificationLevel::kOther, label + "/Metadata is not a stream");
    }
  }

  // True when `value` or anything it reaches (stopping at structural objects) changed.
  bool ContentChanged(QPDFObjectHandle value) {
    Reach reach;
    std::vector<std::string> errors;
    WalkRules rules{nullptr, nullptr, &n_.roles};
    Walk({WalkItem{value, kTrailer, "", "", false, 0}}, rules, reach, errors);
    for (const auto& [g, e] : reach) {
      if (changes_.count(g)) return true;
    }
    return false;
  }

  // The top-level keys of `a` (signed revision) and `b` (later) whose values differ in meaning.
  // A value rewritten unchanged under new object numbers (a copied resource dictionary, the
  // catalog renumbered by a re-save) is the same value: ETSI EN 319 142-1 §5.4 is about what
  // changed, not about how a writer numbered it.
  std::vector<KeyDiff> ChangedKeys(QPDFObjectHandle a, QPDFObjectHandle b) {
    std::vector<KeyDiff> out;
    for (const auto& k : DiffKeys(a, b)) {
      if (std::string(k.what) == "changed" && SameValue(a.getKey(k.key), b.getKey(k.key))) {
        continue;
      }
      out.push_back(k);
    }
    return out;
  }

  // Deep equality of a signed-revision value and a later one, references followed on both
  // sides. Later objects proven to be copies are remembered in copies_.
  bool SameValue(QPDFObjectHandle a, QPDFObjectHandle b) {
    std::set<std::pair<QPDFObjGen, QPDFObjGen>> assumed;
    std::vector<QPDFObjGen> copies;
    size_t budget = 20000;
    bool same = false;
    try {
      same = SameValueAt(a, b, 0, assumed, copies, budget);
    } catch (const std::exception&) {
      same = false;
    }
    if (same) copies_.insert(copies.begin(), copies.end());
    return same;
  }

  bool SameValueAt(QPDFObjectHandle a, QPDFObjectHandle b, int depth,
                   std::set<std::pair<QPDFObjGen, QPDFObjGen>>& assumed,
                   std::vector<QPDFObjGen>& copies, size_t& budget) {
    if (budget == 0 || depth > kMaxDirectDepth) return false;
    --budget;
    if (a.isIndirect() && b.isIndirect()) {
      QPDFObjGen ga = a.getObjGen(), gb = b.getObjGen();
      if (ga == gb && !changes_.count(gb)) return true;
      // Reference cycles: a pair already under comparison is assumed equal.
      if (!assumed.insert({ga, gb}).second) return true;
      if (ga != gb) copies.push_back(gb);
    }
    auto same_dicts = [&](QPDFObjectHandle x, QPDFObjectHandle y,
                          const std::set<std::string>& ignore) {
      std::set<std::string> keys;
      for (const auto& key : x.getKeys()) {
        if (!ignore.count(key) && !x.getKey(key).isNull()) keys.insert(key);
      }
      size_t in_y = 0;
      for (const auto& key : y.getKeys()) {
        if (ignore.count(key) || y.getKey(key).isNull()) continue;
        if (!keys.count(key)) return false;
        ++in_y;
      }
      if (in_y != keys.size()) return false;
      for (const auto& key : keys) {
        if (!SameValueAt(x.getKey(key), y.getKey(key), depth + 1, assumed, copies, budget)) {
          return false;
        }
      }
      return true;
    };
    if (a.isStream() || b.isStream()) {
      if (!a.isStream() || !b.isStream()) return false;
      static const std::set<std::string> kEncoding = {"/Length", "/Filter", "/DecodeParms", "/DL"};
      bool same_data = false;
      QPDFObjectHandle da = a.getDict(), db = b.getDict();
      if (da.getKey("/Filter").unparseResolved() == db.getKey("/Filter").unparseResolved() &&
          da.getKey("/DecodeParms").unparseResolved() ==
              db.getKey("/DecodeParms").unparseResolved()) {
        same_data = SameBuffer(a.getRawStreamData(), b.getRawStreamData());
      }
      if (!same_data) {
        same_data =
            SameBuffer(a.getStreamData(qpdf_dl_generalized), b.getStreamData(qpdf_dl_generalized));
      }
      return same_data && same_dicts(da, db, kEncoding);
    }
    if (a.isDictionary() || b.isDictionary()) {
      if (!a.isDictionary() || !b.isDictionary()) return false;
      return same_dicts(a, b, {});
    }
    if (a.isArray() || b.isArray()) {
      if (!a.isArray() || !b.isArray()) return false;
      int n = a.getArrayNItems();
      if (n != b.getArrayNItems()) return false;
      for (int i = 0; i < n; ++i) {
        if (!SameValueAt(a.getArrayItem(i), b.getArrayItem(i), depth + 1, assumed, copies,
                         budget)) {
          return false;
        }
      }
      return true;
    }
    return a.unparseResolved() == b.unparseResolved();
  }

  // The appearance dictionaries of a field's widgets in the later revision, as walk roots.
  std::vector<WalkItem> AppearanceRoots(const Field& field) const {
    std::vector<WalkItem> roots;
    for (QPDFObjGen w : field.widgets) {
      QPDFObjectHandle ap = n_.Object(w).getKey("/AP");
      if (!ap.isNull()) roots.push_back(WalkItem{ap, w, "/AP", "/AP", false, 0});
    }
    return roots;
  }

  // The changed objects reachable from `roots` in the later revision (structural objects, such
  // as pages and fields, not entered).
  std::vector<QPDFObjGen> ChangedUnder(std::vector<WalkItem> roots) const {
    Reach reach;
    std::vector<std::string> errors;
    WalkRules rules{nullptr, nullptr, &n_.roles};
    Walk(std::move(roots), rules, reach, errors);
    std::vector<QPDFObjGen> out;
    for (const auto& [r, e] : reach) {
      if (changes_.count(r)) out.push_back(r);
    }
    return out;
  }

  void CompareForms() {
    std::string label = "the interactive form: ";
    if (o_.acroform.isDictionary() && !n_.acroform.isDictionary()) {
      d_.Add(ModificationLevel::kOther, label + "removed");
      return;
    }
    if (n_.acroform.isIndirect()) label = Describe(n_.acroform.getObjGen()) + " (form): ";
    for (const auto& k : ChangedKeys(o_.acroform, n_.acroform)) {
      if (k.key == "/Fields") continue;  // below, resolved
      if (k.key == "/SigFlags") {
        d_.Add(ModificationLevel::kSignaturesOnly, label + "/SigFlags " + k.what);
      } else if (k.key == "/NeedAppearances" || k.key == "/DR" || k.key == "/DA" || k.key == "/Q") {
        d_.Add(ModificationLevel::kFormFilling, label + k.key + " " + k.what);
      } else {
        d_.Add(ModificationLevel::kOther, label + k.key + " " + k.what);
      }
    }
    // /Fields: old entries stay; new ones are new fields, judged below.
    std::vector<QPDFObjGen> old_list, new_list;
    if (o_.acroform.isDictionary()) old_list = RefsOf(o_.acroform.getKey("/Fields"));
    if (n_.acroform.isDictionary()) new_list = RefsOf(n_.acroform.getKey("/Fields"));
    std::set<QPDFObjGen> new_set(new_list.begin(), new_list.end());
    for (QPDFObjGen g : old_list) {
      if (!new_set.count(g))
        d_.Add(ModificationLevel::kOther, label + Describe(g) + " removed from /Fields");
    }

    for (const auto& [g, field] : n_.fields) CompareField(g, field);
    for (const auto& [g, field] : o_.fields) {
      if (!n_.fields.count(g)) {
        d_.Add(ModificationLevel::kOther, o_.FieldLabel(g) + ": form field removed");
      }
    }
  }

  void CompareField(QPDFObjGen g, const Field& field) {
    std::string label = n_.FieldLabel(g) + ": ";
    QPDFObjectHandle now = n_.Object(g);
    bool sig = field.type == "/Sig";
    QPDFObjectHandle value = now.getKey("/V");
    auto old_it = o_.fields.find(g);
    if (old_it == o_.fields.end()) {
      if (!sig) {
        d_.Add(ModificationLevel::kOther, label + "form field added");
        return;
      }
      // A new signature field brings a value and an appearance, nothing that acts: an action
      // (§12.6.2 /A, §12.6.3 /AA, JavaScript among them) on it is a change of behaviour.
      for (QPDFObjGen holder : field.widgets) {
        QPDFObjectHandle dict = n_.Object(holder);
        for (const char* key : {"/A", "/AA"}) {
          if (dict.hasKey(key)) {
            d_.Add(ModificationLevel::kOther,
                   n_.FieldLabel(holder) + ": new signature field carries actions (" + key + ")");
          }
        }
      }
      if (now.hasKey("/AA") &&
          std::find(field.widgets.begin(), field.widgets.end(), g) == field.widgets.end()) {
        d_.Add(ModificationLevel::kOther, label + "new signature field carries actions (/AA)");
      }
      if (!field.terminal) return;  // its terminal fields are judged on their own
      if (value.isNull()) {
        ++d_.empty_signature_fields_added;
        d_.Add(ModificationLevel::kSignaturesOnly, label + "empty signature field added");
      } else {
        NewSignatureValue(label, value, "signature field added and signed",
                          ModificationLevel::kSignaturesOnly);
      }
      return;
    }
    const Field& before = old_it->second;
    QPDFObjectHandle then = o_.Object(g);
    if (before.name != field.name) {
      d_.Add(ModificationLevel::kOther, label + "renamed from '" + before.name + "'");
    }
    if (before.type != field.type) {
      d_.Add(ModificationLevel::kOther, label + "field type changed from " + before.type);
    }
    bool was_signed = sig && then.getKey("/V").isDictionary();
    bool now_signed = sig && value.isDictionary();
    ModificationLevel level = sig && IsTimestamp(value) ? ModificationLevel::kSignaturesOnly
                                                        : ModificationLevel::kFormFilling;
    std::vector<KeyDiff> field_keys = ChangedKeys(then, now);
    // A field's appearance streams present its value (ISO 32000-1 §12.7.3.3, variable text:
    // a reader regenerates them when the value changes; §12.5.5 /AP, /AS). So an appearance
    // may follow a new value, but on its own it is another display of the same signed value:
    // not the form filling DocMDP P=2 permits (§12.8.2.2 Table 254: "filling in forms").
    // A read-only field (Ff bit 1, §12.7.3.1 Table 221) takes no new value at all.
    bool value_changed = std::any_of(field_keys.begin(), field_keys.end(),
                                     [](const KeyDiff& k) { return k.key == "/V"; }) ||
                         (value.isIndirect() && ContentChanged(value));
    QPDFObjectHandle flags = then.getKey("/Ff");
    bool read_only = !sig && flags.isInteger() && (flags.getIntValue() & 1) != 0;
    auto is_appearance_key = [](const std::string& key) { return key == "/AP" || key == "/AS"; };
    bool changed = false;
    for (const auto& k : field_keys) {
      bool allowed = k.key == "/V" || k.key == "/AP" || k.key == "/AS" || k.key == "/F" ||
                     k.key == "/DA" || k.key == "/Q" || k.key == "/Ff" || k.key == "/Type";
      if (sig && k.key == "/Lock" && std::string(k.what) == "added") allowed = true;
      if (k.key == "/V" && sig && !now_signed) allowed = false;  // a signature removed
      if (was_signed && is_appearance_key(k.key)) {
        d_.AddAppearance(label + k.key + " " + k.what + " after the field was signed");
        continue;
      }
      if (was_signed && k.key != "/Ff") {
        d_.Add(ModificationLevel::kOther,
               label + k.key + " " + k.what + " after the field was signed");
        continue;
      }
      if (!allowed) {
        d_.Add(ModificationLevel::kOther, label + k.key + " " + k.what + " in a form field");
        continue;
      }
      if (read_only && (k.key == "/V" || is_appearance_key(k.key))) {
        d_.Add(ModificationLevel::kOther, label + k.key + " " + k.what + " in a read-only field");
        continue;
      }
      if (is_appearance_key(k.key) && !value_changed) {
        d_.AddAppearance(label + k.key + " " + k.what + " while the value stayed the same");
        continue;
      }
      changed = true;
      if (k.key == "/V" && sig) {
        NewSignatureValue(label, value, "signed", level);
      } else if (k.key == "/V") {
        d_.Add(level, label + "value " + k.what);
      } else {
        d_.Add(level, label + k.key + " " + k.what);
      }
    }
    if (RefsOf(then.getKey("/Kids")) != RefsOf(now.getKey("/Kids")) &&
        then.getKey("/Kids").unparse() == now.getKey("/Kids").unparse()) {
      d_.Add(ModificationLevel::kOther, label + "/Kids changed");
    }
    // Widgets kept apart from the field.
    std::set<QPDFObjGen> old_widgets(before.widgets.begin(), before.widgets.end());
    for (QPDFObjGen w : field.widgets) {
      if (w == g) continue;
      std::string wlabel = n_.FieldLabel(w) + ": ";
      if (!old_widgets.count(w)) {
        d_.Add(ModificationLevel::kOther, wlabel + "widget added to an existing field");
        continue;
      }
      for (const auto& k : ChangedKeys(o_.Object(w), n_.Object(w))) {
        bool allowed = k.key == "/AP" || k.key == "/AS" || k.key == "/F" || k.key == "/DA" ||
                       k.key == "/Q" || k.key == "/Type";
        if (is_appearance_key(k.key) && (was_signed || (!value_changed && !read_only))) {
          d_.AddAppearance(wlabel + k.key + " " + k.what +
                           (was_signed ? " after the field was signed"
                                       : " while the field's value stayed the same"));
          continue;
        }
        if (was_signed || !allowed || (read_only && is_appearance_key(k.key))) {
          d_.Add(ModificationLevel::kOther, wlabel + k.key + " " + k.what +
                                                (was_signed  ? " after the field was signed"
                                                 : read_only ? " in a read-only field"
                                                             : " in a widget annotation"));
          continue;
        }
        changed = true;
        d_.Add(level, wlabel + k.key + " " + k.what);
      }
    }
    for (QPDFObjGen w : before.widgets) {
      if (std::find(field.widgets.begin(), field.widgets.end(), w) == field.widgets.end()) {
        d_.Add(ModificationLevel::kOther, o_.FieldLabel(w) + ": widget removed from its field");
      }
    }
    // The objects drawing this field (its appearance streams, their XObjects and fonts): when
    // the value stayed, a change among them is an appearance swap (reported with the object in
    // ClassifyChangedObjects).
    if (was_signed || !value_changed) {
      for (QPDFObjGen r : ChangedUnder(AppearanceRoots(field))) {
        appearance_objects_.emplace(r, field.name);
      }
    }
    if (changed) d_.changed_fields.insert(field.name);
  }

  void NewSignatureValue(const std::string& label, QPDFObjectHandle value, const char* what,
                         ModificationLevel level) {
    if (!value.isDictionary() || !value.isIndirect()) {
      d_.Add(ModificationLevel::kOther,
             label + "signature value is not an indirect dictionary (§12.7.4.5)");
      return;
    }
    if (IsTimestamp(value)) {
      ++d_.timestamps_added;
      d_.Add(ModificationLevel::kSignaturesOnly, label + "document time-stamp added");
    } else {
      ++d_.signatures_added;
      d_.Add(level, label + what);
    }
  }

  void ComparePages() {
    std::map<QPDFObjGen, const Page*> old_pages;
    for (const auto& p : o_.pages) old_pages[p.ref] = &p;
    std::set<QPDFObjGen> new_pages;
    for (const auto& page : n_.pages) {
      new_pages.insert(page.ref);
      std::string label = n_.FieldLabel(page.ref) + ": ";
      auto it = old_pages.find(page.ref);
      if (it == old_pages.end()) {
        d_.Add(ModificationLevel::kOther, label + "page added");
        continue;
      }
      for (const auto& k : ChangedKeys(o_.Object(page.ref), n_.Object(page.ref))) {
        if (k.key == "/Annots") continue;
        d_.Add(ModificationLevel::kOther, label + k.key + " " + k.what);
      }
      const Page& before = *it->second;
      std::set<QPDFObjGen> old_annots(before.annots.begin(), before.annots.end());
      std::set<QPDFObjGen> new_annots(page.annots.begin(), page.annots.end());
      for (QPDFObjGen a : page.annots) {
        if (old_annots.count(a)) continue;
        auto w = n_.widget_field.find(a);
        if (w != n_.widget_field.end()) {
          if (o_.fields.count(w->second)) {
            d_.Add(ModificationLevel::kOther,
                   label + "widget " + Describe(a) + " of an existing field added");
          }
          continue;  // a new field's widget: judged with the field
        }
        d_.Add(ModificationLevel::kAnnotations, label + "annotation " + Describe(a) + " (" +
                                                    NameOf(n_.Object(a).getKey("/Subtype")) +
                                                    ") added");
      }
      for (QPDFObjGen a : before.annots) {
        if (new_annots.count(a)) continue;
        if (o_.widget_field.count(a)) {
          d_.Add(ModificationLevel::kOther, label + "widget " + Describe(a) + " removed");
        } else {
          d_.Add(ModificationLevel::kAnnotations, label + "annotation " + Describe(a) + " removed");
        }
      }
      if (before.direct_annots != page.direct_annots) {
        d_.Add(ModificationLevel::kAnnotations, label + "direct annotations changed");
      }
    }
    for (const auto& page : o_.pages) {
      if (!new_pages.count(page.ref)) {
        d_.Add(ModificationLevel::kOther, o_.FieldLabel(page.ref) + ": page removed");
      }
    }
    for (QPDFObjGen node : n_.page_nodes) {
      if (!o_.page_nodes.count(node)) {
        d_.Add(ModificationLevel::kOther, Describe(node) + ": page tree node added");
        continue;
      }
      QPDFObjectHandle then = o_.Object(node), now = n_.Object(node);
      for (const auto& k : ChangedKeys(then, now)) {
        d_.Add(ModificationLevel::kOther, Describe(node) + " (page tree): " + k.key + " " + k.what);
      }
      if (then.getKey("/Kids").unparse() == now.getKey("/Kids").unparse() &&
          RefsOf(then.getKey("/Kids")) != RefsOf(now.getKey("/Kids"))) {
        d_.Add(ModificationLevel::kOther, Describe(node) + " (page tree): /Kids changed");
      }
    }
  }

  // Changed objects that are not structural: each must be reachable only through values whose
  // changes are permitted (containers), in the final revision and in the signed one.
  void ClassifyChangedObjects() {
    // Which kind of container reaches each object (the highest level wins; form over metadata).
    std::map<QPDFObjGen, Kind> kind_of;
    for (Kind kind :
         {Kind::kSignature, Kind::kDss, Kind::kMetadata, Kind::kForm, Kind::kAnnotation}) {
      std::vector<WalkItem> roots;
      for (const auto& c : containers_) {
        if (c.kind == kind) roots.push_back(WalkItem{c.root, c.holder, "", "", false, 0});
      }
      Reach reach;
      std::vector<std::string> errors;
      WalkRules rules{nullptr, nullptr, &n_.roles};
      Walk(std::move(roots), rules, reach, errors);
      for (const auto& [g, e] : reach) kind_of[g] = kind;
    }
    for (const auto& [g, change] : changes_) {
      const char* what = change == Change::kAdded   ? "added"
                         : change == Change::kFreed ? "freed"
                                                    : "changed";
      auto role_new = n_.roles.find(g);
      if (role_new != n_.roles.end()) {
        if (change == Change::kAdded || !reach_old_->count(g)) continue;
        auto role_old = o_.roles.find(g);
        if (role_old != o_.roles.end() && role_old->second == role_new->second) continue;
        d_.Add(ModificationLevel::kOther,
               Describe(g) + ": now " + RoleName(role_new->second) + ", but the signed revision " +
                   (role_old != o_.roles.end() ? "had it as " + RoleName(role_old->second)
                                               : std::string("used it")) +
                   " (from " + UsageText(o_, *reach_old_, reach_old_->at(g)) + ")");
        continue;
      }
      // Rewritten unchanged: the same value under a new number, or the same body.
      if (copies_.count(g)) continue;
      if (change == Change::kChanged && SameValue(o_.Object(g), n_.Object(g))) continue;
      // Drawing a field whose value stayed, and used for nothing else.
      if (auto ap = appearance_objects_.find(g);
          ap != appearance_objects_.end() && !outside_appearances_new_.count(g) &&
          (change == Change::kAdded || !outside_appearances_old_.count(g))) {
        d_.AddAppearance(Describe(g) + ": " + what + "; it draws field '" + ap->second +
                         "', whose value did not change");
        continue;
      }
      if (auto it = restricted_new_.find(g); it != restricted_new_.end()) {
        d_.Add(ModificationLevel::kOther, Describe(g) + ": " + what + ", and used by " +
                                              UsageText(n_, restricted_new_, it->second) +
                                              " outside any permitted change");
        continue;
      }
      if (change != Change::kAdded) {
        if (auto it = restricted_old_.find(g); it != restricted_old_.end()) {
          d_.Add(ModificationLevel::kOther,
                 Describe(g) + ": overridden, but the signed revision also used it from " +
                     UsageText(o_, restricted_old_, it->second));
          continue;
        }
      }
      auto k = kind_of.find(g);
      if (k == kind_of.end()) {
        d_.Add(ModificationLevel::kOther,
               Describe(g) + ": " + what + " and not explained by any permitted change");
        continue;
      }
      std::string text;
      if (change != Change::kAdded) {
        text = Describe(g) + ": " + (change == Change::kFreed ? "freed" : "overridden") + "; " +
               KindText(k->second);
      }
      d_.Add(LevelOf(k->second), std::move(text), k->second == Kind::kMetadata);
    }
  }

  // pyHanko's rule for appearance updates: a widget's old appearance dictionary that was also
  // used elsewhere must not be swapped out, even when the old object itself stays.
  void CheckReplacedAppearances() {
    for (const auto& [w, field] : n_.widget_field) {
      if (!o_.widget_field.count(w)) continue;
      QPDFObjectHandle old_ap = o_.Object(w).getKey("/AP");
      QPDFObjectHandle new_ap = n_.Object(w).getKey("/AP");
      if (old_ap.unparse() == new_ap.unparse()) continue;
      std::vector<QPDFObjGen> candidates;
      if (old_ap.isIndirect()) candidates.push_back(old_ap.getObjGen());
      if (old_ap.isDictionary()) {
        for (const char* key : {"/N", "/R", "/D"}) {
          QPDFObjectHandle sub = old_ap.getKey(key);
          if (sub.isIndirect() && sub.isDictionary() && !sub.isStream()) {
            candidates.push_back(sub.getObjGen());
          }
        }
      }
      for (QPDFObjGen c : candidates) {
        auto it = restricted_old_.find(c);
        if (it == restricted_old_.end()) continue;
        d_.Add(ModificationLevel::kOther, Describe(c) + ": the appearance dictionary replaced in " +
                                              n_.FieldLabel(w) + " is also used by " +
                                              UsageText(o_, restricted_old_, it->second));
      }
    }
  }

  // Fields whose value or appearance objects changed in place (for FieldMDP).
  void FindChangedFieldContents() {
    if (changes_.empty()) return;
    for (const auto& [g, field] : n_.fields) {
      if (!o_.fields.count(g) || d_.changed_fields.count(field.name)) continue;
      std::vector<WalkItem> roots = AppearanceRoots(field);
      QPDFObjectHandle value = n_.Object(g).getKey("/V");
      if (!value.isNull()) roots.push_back(WalkItem{value, g, "/V", "/V", false, 0});
      if (!ChangedUnder(std::move(roots)).empty()) d_.changed_fields.insert(field.name);
    }
  }

  // Objects defined after signing that nothing reachable uses.
  void ReportUnreferenced() {
    size_t reported = 0, more = 0;
    for (const auto& [g, entry] : n_.xref) {
      if (reach_new_->count(g) || SameXrefEntry(o_, n_, g)) continue;
      try {
        QPDFObjectHandle h = n_.qpdf->getObject(g);
        if (h.isStream()) {
          std::string type = NameOf(h.getDict().getKey("/Type"));
          if (type == "/ObjStm" || type == "/XRef") continue;
        }
      } catch (const std::exception&) {
      }
      if (reported >= kMaxUnreferencedFindings) {
        ++more;
        continue;
      }
      ++reported;
      d_.Add(ModificationLevel::kNone,
             Describe(g) + (o_.xref.count(g) ? ": redefined but not referenced"
                                             : ": unreferenced object added"));
    }
    if (more) {
      d_.Add(ModificationLevel::kNone,
             std::to_string(more) + " more unreferenced objects added or redefined");
    }
  }

  const Structure& o_;
  const Structure& n_;
  Diff& d_;
  ReachCache* cache_;
  ReachCache own_cache_;
  const Reach* reach_new_ = nullptr;
  const Reach* reach_old_ = nullptr;
  Reach restricted_new_, restricted_old_;
  std::map<QPDFObjGen, Change> changes_;
  std::set<QPDFObjGen> copies_;  // later objects equal to what the signed revision had
  // Changed objects drawing a field whose value stayed (or that was signed): field name.
  std::map<QPDFObjGen, std::string> appearance_objects_;
  Reach outside_appearances_old_, outside_appearances_new_;
  Rules old_rules_, new_rules_;
  std::vector<Container> containers_;
};

// The revisions of a file from the first signed one on, each opened on its own (QPDF reads a
// memory buffer cut at the revision's %%EOF), and the changes each made to the one before.
//
// ETSI EN 319 142-1 §5.4 judges what was "added to the document after the signature"; every
// incremental update is such an addition, so each is compared with the revision before it
// rather than only the signed revision with the final one: a change made in one update and
// undone in a later one (an overridden object shown by readers that stop at an intermediate
// revision, say) is still seen.
class RevisionChain {
 public:
  RevisionChain(ByteSpan file, const std::vector<EofMark>& marks, const Structure& final_structure)
      : file_(file), marks_(marks), final_(final_structure) {}

  size_t size() const { return marks_.size(); }

  // Revision `index` (into marks), or null when it cannot be read on its own; `error` says why.
  const Structure* At(size_t index, std::string* error = nullptr) {
    if (index + 1 >= marks_.size()) return &final_;
    auto [it, inserted] = opened_.try_emplace(index);
    Opened& r = it->second;
    if (inserted) {
      r.qpdf = std::make_unique<QPDF>();
      try {
        r.qpdf->setSuppressWarnings(true);
        r.qpdf->setAttemptRecovery(false);
        r.qpdf->processMemoryFile("revision", reinterpret_cast<const char*>(file_.data()),
                                  marks_[index].end);
        if (!BuildStructure(*r.qpdf, r.structure)) r.error = "it has no document catalog";
      } catch (const std::exception& e) {
        r.error = e.what();
      }
      if (!r.error.empty()) r.qpdf.reset();
    }
    if (error) *error = r.error;
    return r.qpdf ? &r.structure : nullptr;
  }

  // Everything changed after revision `signed_index`, one update at a time.
  const Diff& ChangesAfter(size_t signed_index) {
    auto [it, inserted] = after_.try_emplace(signed_index);
    if (!inserted) return it->second;
    Diff& out = it->second;
    size_t last = marks_.size() - 1;
    out.later_revisions = last - signed_index;
    std::string error;
    const Structure* older = At(signed_index, &error);
    if (!older) {
      out.Add(ModificationLevel::kOther, "the signed revision cannot be read on its own: " + error);
      return out;
    }
    size_t older_index = signed_index;
    for (size_t next = signed_index + 1; next <= last; ++next) {
      const Structure* newer = At(next, &error);
      if (!newer) {
        // Compared across: what it changed shows in the next readable one, but what it
        // showed on its own is unknown.
        out.unanalysable = true;
        out.Add(ModificationLevel::kNone,
                "revision " + std::to_string(next + 1) + " cannot be read on its own: " + error);
        continue;
      }
      const Diff& step = Step(older_index, next, *older, *newer);
      out.Merge(step, out.later_revisions > 1 ? "revision " + std::to_string(next + 1) + ": "
                                              : std::string());
      older = newer;
      older_index = next;
    }
    return out;
  }

 private:
  struct Opened {
    std::unique_ptr<QPDF> qpdf;
    Structure structure;
    std::string error;
  };

  const Diff& Step(size_t from, size_t to, const Structure& older, const Structure& newer) {
    auto [it, inserted] = steps_.try_emplace({from, to});
    if (!inserted) return it->second;
    try {
      DiffBuilder(older, newer, it->second, &reaches_).Run();
    } catch (const std::exception& e) {
      it->second.Add(ModificationLevel::kOther,
                     std::string("difference analysis failed: ") + e.what());
    }
    return it->second;
  }

  ByteSpan file_;
  const std::vector<EofMark>& marks_;
  const Structure& final_;
  std::map<size_t, Opened> opened_;
  std::map<std::pair<size_t, size_t>, Diff> steps_;
  ReachCache reaches_;
  std::map<size_t, Diff> after_;
};

ModificationReport MakeReport(const Diff& diff, const std::optional<int>& permissions,
                              const std::optional<FieldLock>& lock) {
  ModificationReport report;
  report.level = diff.Level(true);
  for (const auto& f : diff.findings) {
    if (!f.text.empty()) report.findings.push_back(f.text);
  }
  if (diff.dropped_findings) {
    report.findings.push_back(std::to_string(diff.dropped_findings) + " more findings omitted");
  }
  report.later_revisions = diff.later_revisions;
  report.signatures_added = diff.signatures_added;
  report.timestamps_added = diff.timestamps_added;
  report.dss_changed = diff.dss_changed;
  report.unanalysable = diff.unanalysable;
  for (const auto& f : diff.findings) {
    if (f.appearance) {
      report.appearance_changed = true;
    } else if (f.level == ModificationLevel::kOther) {
      report.other_changes = true;
    }
  }
  report.changed_fields.assign(diff.changed_fields.begin(), diff.changed_fields.end());
  if (permissions) {
    ModificationLevel level = diff.Level(false);
    bool ok = true;
    switch (*permissions) {
      case 1:
        ok = level <= ModificationLevel::kSignaturesOnly && diff.signatures_added == 0 &&
             diff.empty_signature_fields_added == 0;
        break;
      case 2:
        ok = level <= ModificationLevel::kFormFilling;
        break;
      default:
        ok = level <= ModificationLevel::kAnnotations;
        break;
    }
    if (!ok) {
      report.docmdp_violated = true;
      report.findings.push_back("DocMDP P=" + std::to_string(*permissions) +
                                " does not permit these changes");
    }
  }
  if (lock) {
    SignatureFieldInfo locker;
    locker.lock = lock;
    for (const auto& name : diff.changed_fields) {
      if (locker.Locks(name)) {
        report.fieldmdp_violated = true;
        report.findings.push_back("field '" + name +
                                  "' is locked by this signature (FieldMDP) but changed");
      }
    }
  }
  return report;
}

// ---------------------------------------------------------------------------------------------
// Coverage (§12.8.1).

SignatureCoverageInfo ComputeCoverage(ByteSpan file, const Structure& n, QPDFObjectHandle sig,
                                      const std::vector<EofMark>& marks) {
  SignatureCoverageInfo info;
  auto irregular = [&](std::string detail) {
    info.kind = Coverage::kIrregular;
    info.detail = std::move(detail);
    return info;
  };
  // Through QPDF.
  std::vector<int64_t> parsed_range;
  bool parsed_integers = true;
  QPDFObjectHandle br = sig.getKey("/ByteRange");
  if (br.isArray()) {
    for (auto& item : br.aitems()) {
      if (item.isInteger()) {
        parsed_range.push_back(item.getIntValue());
      } else {
        parsed_integers = false;
      }
    }
  }
  info.byte_range = parsed_range;
  QPDFObjectHandle contents = sig.getKey("/Contents");
  if (!br.isArray()) return irregular("the signature has no /ByteRange array");
  if (!contents.isString()) return irregular("the signature has no /Contents string");
  std::string parsed_contents = contents.getStringValue();

  // In the raw bytes.
  if (!sig.isIndirect()) return irregular("the signature dictionary is not an indirect object");
  auto entry = n.xref.find(sig.getObjGen());
  if (entry == n.xref.end() || entry->second.getType() != 1) {
    return irregular("the signature dictionary is not stored at a file offset (object stream)");
  }
  std::string error;
  auto raw = ParseRawSignature(file, static_cast<size_t>(entry->second.getOffset()),
                               sig.getObjGen(), error);
  if (!raw) return irregular("the signature dictionary cannot be read: " + error);
  if (raw->duplicate_keys) {
    return irregular("the signature dictionary repeats /ByteRange or /Contents");
  }
  if (!raw->has_byte_range || !raw->has_contents) {
    return irregular("/ByteRange or /Contents not found in the signature dictionary's bytes");
  }
  if (!raw->byte_range_integers || !parsed_integers || raw->byte_range != parsed_range) {
    return irregular("/ByteRange in the file's bytes differs from the parsed one");
  }
  if (!raw->contents_is_hex) return irregular("/Contents is not a hexadecimal string");
  if (std::string(raw->contents.begin(), raw->contents.end()) != parsed_contents) {
    return irregular("/Contents in the file's bytes differs from the parsed one");
  }
  info.contents_offset = raw->contents_begin;
  info.contents_length = raw->contents_end - raw->contents_begin;
  info.contents = raw->contents;
  if (auto der = DerLength(info.contents)) info.contents.resize(*der);

  const auto& r = parsed_range;
  int64_t size = static_cast<int64_t>(file.size());
  if (r.size() == 2) {
    info.kind = Coverage::kSingleRange;
    info.signed_end = r[0] == 0 && r[1] >= 0 && r[1] <= size ? static_cast<size_t>(r[1]) : 0;
    info.detail = "/ByteRange has one range [" + std::to_string(r[0]) + " " + std::to_string(r[1]) +
                  "]; the /Contents gap is not excluded";
    return info;
  }
  if (r.size() != 4) {
    return irregular("/ByteRange has " + std::to_string(r.size()) + " values, not 4");
  }
  int64_t a = r[1], b = r[2], c = r[3];
  if (r[0] != 0) return irregular("/ByteRange does not start at offset 0");
  if (a < 0 || b < 0 || c < 0) return irregular("/ByteRange has a negative value");
  if (b <= a) return irregular("/ByteRange ranges overlap or are out of order");
  if (b > size || c > size - b) return irregular("/ByteRange extends past the end of the file");
  int64_t cs = static_cast<int64_t>(raw->contents_begin);
  int64_t ce = static_cast<int64_t>(raw->contents_end);
  if (a != cs || b != ce) {
    if (a <= cs && b >= ce) {
      info.kind = Coverage::kGapTooBig;
      info.detail = "the unsigned gap [" + std::to_string(a) + ", " + std::to_string(b) + ") is " +
                    std::to_string(b - a) + " bytes; the /Contents string at " +
                    std::to_string(cs) + " is " + std::to_string(ce - cs);
      info.signed_end = static_cast<size_t>(b + c);
      return info;
    }
    return irregular("the unsigned gap [" + std::to_string(a) + ", " + std::to_string(b) +
                     ") is not the /Contents string at [" + std::to_string(cs) + ", " +
                     std::to_string(ce) + ")");
  }
  size_t end = static_cast<size_t>(b + c);
  info.signed_end = end;
  if (end == file.size()) {
    info.kind = Coverage::kEntireFile;
    if (!marks.empty() && (marks.back().end == end || marks.back().eof + 5 == end)) {
      info.revision = marks.size() - 1;
    }
    info.detail = "covers the whole file";
    return info;
  }
  for (size_t i = 0; i < marks.size(); ++i) {
    if (marks[i].end != end && marks[i].eof + 5 != end) continue;
    if (i + 1 == marks.size()) {
      // Nothing after this revision but bytes that are no readable incremental update (its
      // cross-reference section or startxref is broken). The signed revision is whole; what
      // follows is a change after signing that cannot be analysed (AnalyzeFinalRevision).
      bool blank = std::all_of(file.begin() + end, file.end(), IsPdfWhitespace);
      if (!blank) {
        info.kind = Coverage::kEntireRevision;
        info.revision = i;
        info.detail = "covers revision " + std::to_string(i + 1) + " of " +
                      std::to_string(marks.size()) + "; the " + std::to_string(file.size() - end) +
                      " bytes after it are no revision a reader can parse";
        return info;
      }
    }
    info.kind = Coverage::kEntireRevision;
    info.revision = i;
    info.detail = "covers revision " + std::to_string(i + 1) + " of " +
                  std::to_string(marks.size()) + "; " + std::to_string(file.size() - end) +
                  " later bytes are incremental updates";
    return info;
  }
  info.kind = Coverage::kTailUncovered;
  size_t containing = 0;
  while (containing < marks.size() && marks[containing].end < end) ++containing;
  info.detail = "the signed data ends at offset " + std::to_string(end) +
                (containing < marks.size()
                     ? ", inside revision " + std::to_string(containing + 1) + " (which ends at " +
                           std::to_string(marks[containing].end) + ")"
                     : ", which is not the end of a revision");
  return info;
}

std::optional<std::string> TextOf(QPDFObjectHandle dict, const char* key) {
  QPDFObjectHandle v = dict.getKey(key);
  if (!v.isString()) return std::nullopt;
  return v.getUTF8Value();
}

}  // namespace

std::string_view CoverageName(Coverage coverage) {
  switch (coverage) {
    case Coverage::kEntireRevision:
      return "entire_revision";
    case Coverage::kEntireFile:
      return "entire_file";
    case Coverage::kTailUncovered:
      return "tail_uncovered";
    case Coverage::kGapTooBig:
      return "gap_too_big";
    case Coverage::kSingleRange:
      return "single_range";
    case Coverage::kIrregular:
      return "irregular";
  }
  return "irregular";
}

std::string_view ModificationLevelName(ModificationLevel level) {
  switch (level) {
    case ModificationLevel::kNone:
      return "none";
    case ModificationLevel::kSignaturesOnly:
      return "signatures";
    case ModificationLevel::kFormFilling:
      return "form_filling";
    case ModificationLevel::kAnnotations:
      return "annotations";
    case ModificationLevel::kOther:
      return "other";
  }
  return "other";
}

std::vector<size_t> RevisionEnds(ByteSpan file) {
  std::vector<size_t> out;
  for (const auto& mark : FindEofMarks(file)) out.push_back(mark.end);
  return out;
}

namespace {

// AnalyzeSignatures on `file`, whose final revision `qpdf` has read.
Result<std::vector<SignatureAnalysis>> AnalyzeFinalRevision(ByteSpan file, QPDF& qpdf) {
  std::vector<SignatureAnalysis> out;
  Structure final_structure;
  std::vector<EofMark> marks = FindEofMarks(file);
  try {
    if (!BuildStructure(qpdf, final_structure)) {
      return InvalidArgument("pdf.damaged", "the document has no catalog");
    }
  } catch (const std::exception& e) {
    return InvalidArgument("pdf.damaged", std::string("QPDF: ") + e.what());
  }

  RevisionChain chain(file, marks, final_structure);
  // Bytes after the last revision that QPDF read as no revision (an update whose
  // cross-reference section or startxref is missing): changes nobody can analyse.
  size_t unreadable_tail_from = file.size();
  if (!marks.empty() &&
      !std::all_of(file.begin() + marks.back().end, file.end(), IsPdfWhitespace)) {
    unreadable_tail_from = marks.back().end;
  }
  for (const auto& [g, field] : final_structure.fields) {
    if (field.type != "/Sig" || !field.terminal) continue;
    SignatureAnalysis a;
    try {
      QPDFObjectHandle sig = final_structure.Object(g).getKey("/V");
      if (!sig.isDictionary()) continue;
      a.field_name = field.name;
      a.field = ObjectRef{g.getObj(), g.getGen()};
      if (sig.isIndirect()) a.value = ObjectRef{sig.getObjectID(), sig.getGeneration()};
      a.type = NameOf(sig.getKey("/Type"));
      a.filter = NameOf(sig.getKey("/Filter"));
      a.sub_filter = NameOf(sig.getKey("/SubFilter"));
      for (std::string* s : {&a.type, &a.filter, &a.sub_filter}) {
        if (!s->empty()) s->erase(0, 1);
      }
      if (sig.getKey("/M").isString()) a.signing_time = sig.getKey("/M").getStringValue();
      a.name = TextOf(sig, "/Name");
      a.reason = TextOf(sig, "/Reason");
      a.location = TextOf(sig, "/Location");
      a.contact_info = TextOf(sig, "/ContactInfo");
      a.is_document_timestamp = a.type == "DocTimeStamp" || a.sub_filter == "ETSI.RFC3161";
      a.docmdp_permissions = DocMdpPermissionsOf(sig);
      a.coverage = ComputeCoverage(file, final_structure, sig, marks);
    } catch (const std::exception& e) {
      a.coverage.kind = Coverage::kIrregular;
      a.coverage.detail = std::string("the signature cannot be read: ") + e.what();
    }
    a.permissions = a.docmdp_permissions;
    if (a.coverage.kind != Coverage::kEntireFile && a.coverage.kind != Coverage::kEntireRevision) {
      out.push_back(std::move(a));
      continue;
    }

    // The revision it signed: the final one, or an earlier one opened on its own.
    const Structure* signed_structure = &final_structure;
    const Diff* diff = nullptr;
    static const Diff kNoChanges;
    bool final_revision = !a.coverage.revision || *a.coverage.revision + 1 == marks.size();
    if (final_revision) {
      diff = &kNoChanges;
    } else {
      diff = &chain.ChangesAfter(*a.coverage.revision);
      signed_structure = chain.At(*a.coverage.revision);
    }
    // What the signature permits, as of the revision it signed.
    if (signed_structure) {
      try {
        QPDFObjectHandle field_dict = signed_structure->Object(g);
        if (field_dict.isDictionary()) a.lock = LockOf(field_dict, field_dict.getKey("/V"));
        QPDFObjectHandle perms = signed_structure->root.getKey("/Perms");
        if (!a.permissions && perms.isDictionary()) {
          a.permissions = DocMdpPermissionsOf(perms.getKey("/DocMDP"));
        }
      } catch (const std::exception&) {
        // An unreadable lock or /Perms is reported by the difference analysis.
      }
    }
    a.modifications = MakeReport(*diff, a.permissions, a.lock);
    if (a.coverage.revision && a.coverage.signed_end <= unreadable_tail_from &&
        unreadable_tail_from < file.size()) {
      a.modifications->unanalysable = true;
      a.modifications->later_revisions += 1;
      a.modifications->findings.push_back(
          std::to_string(file.size() - unreadable_tail_from) + " bytes from offset " +
          std::to_string(unreadable_tail_from) +
          " follow the last readable revision but are no revision a reader can parse");
    }
    out.push_back(std::move(a));
  }
  // What QPDF could not read while comparing (an object nested too deeply, say): when it lies
  // in bytes added after a signature, that signature's later changes are unreadable.
  auto warnings = qpdf.getWarnings();
  for (auto& a : out) {
    if (!a.modifications) continue;
    size_t reported = 0;
    for (const auto& w : warnings) {
      qpdf_offset_t at = w.getFilePosition();
      if (at <= 0 || static_cast<size_t>(at) < a.coverage.signed_end) continue;
      if (reported++ < 10)
        a.modifications->findings.push_back(std::string("unreadable: ") + w.what());
      a.modifications->level = ModificationLevel::kOther;
      a.modifications->other_changes = true;
      if (a.permissions && !a.modifications->docmdp_violated) {
        a.modifications->docmdp_violated = true;
        a.modifications->findings.push_back("DocMDP P=" + std::to_string(*a.permissions) +
                                            " does not permit these changes");
      }
    }
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const SignatureAnalysis& x, const SignatureAnalysis& y) {
                     return x.coverage.signed_end < y.coverage.signed_end;
                   });
  return out;
}

}  // namespace

Result<std::vector<SignatureAnalysis>> AnalyzeSignatures(const Document& document) {
  return AnalyzeFinalRevision(document.bytes(), document.qpdf());
}

Result<std::vector<SignatureAnalysis>> AnalyzeSignatures(ByteSpan file) {
  std::string_view head(reinterpret_cast<const char*>(file.data()),
                        std::min<size_t>(file.size(), 1024));
  if (head.find("%PDF-") == std::string_view::npos) {
    return InvalidArgument("pdf.not_pdf", "no %PDF- header: not a PDF file");
  }
  std::string damage;
  try {
    QPDF qpdf;
    qpdf.setSuppressWarnings(true);
    qpdf.setAttemptRecovery(false);
    qpdf.processMemoryFile("document", reinterpret_cast<const char*>(file.data()), file.size());
    if (qpdf.isEncrypted()) {
      return InvalidArgument("pdf.encrypted", "the PDF is encrypted");
    }
    return AnalyzeFinalRevision(file, qpdf);
  } catch (const std::exception& e) {
    damage = e.what();
    if (damage.find("password") != std::string::npos) {
      return InvalidArgument("pdf.encrypted", "the PDF is encrypted with a password");
    }
  }
  // The final revision cannot be read: judge the last revision that can (an earlier %%EOF
  // closing a readable cross-reference section), so that what was signed is still reported,
  // and report what follows as a change that cannot be analysed.
  std::vector<size_t> ends = RevisionEnds(file);
  for (size_t k = ends.size(); k-- > 0;) {
    ByteSpan readable = file.first(ends[k]);
    Result<std::vector<SignatureAnalysis>> analyses =
        InvalidArgument("pdf.damaged", "QPDF: " + damage);
    try {
      QPDF qpdf;
      qpdf.setSuppressWarnings(true);
      qpdf.setAttemptRecovery(false);
      qpdf.processMemoryFile("readable revision", reinterpret_cast<const char*>(readable.data()),
                             readable.size());
      if (qpdf.isEncrypted()) return InvalidArgument("pdf.encrypted", "the PDF is encrypted");
      analyses = AnalyzeFinalRevision(readable, qpdf);
    } catch (const std::exception&) {
      continue;
    }
    if (!analyses.ok()) continue;
    std::string what = std::to_string(file.size() - readable.size()) + " bytes from offset " +
                       std::to_string(readable.size()) + " after revision " +
                       std::to_string(k + 1) + " cannot be read (QPDF: " + damage + ")";
    for (auto& a : *analyses) {
      if (a.coverage.kind == Coverage::kEntireFile) {
        a.coverage.kind = Coverage::kEntireRevision;
        a.coverage.detail = "covers revision " + std::to_string(k + 1) + "; " + what;
      }
      if (!a.modifications) continue;
      a.modifications->unanalysable = true;
      a.modifications->later_revisions += 1;
      a.modifications->findings.push_back(what);
    }
    return analyses;
  }
  return InvalidArgument("pdf.damaged", "QPDF: " + damage);
}

namespace internal {

namespace {
std::string ActionName(QPDFObjectHandle h) {
  return h.isName() ? h.getName() : std::string();
}
}  // namespace

std::optional<int> DocMdpPermissionsOf(QPDFObjectHandle sig) {
  if (!sig.isDictionary()) return std::nullopt;
  QPDFObjectHandle refs = sig.getKey("/Reference");
  if (!refs.isArray()) return std::nullopt;
  for (auto& ref : refs.aitems()) {
    if (!ref.isDictionary() || ActionName(ref.getKey("/TransformMethod")) != "/DocMDP") continue;
    QPDFObjectHandle params = ref.getKey("/TransformParams");
    if (params.isDictionary() && params.getKey("/P").isInteger()) {
      long long p = params.getKey("/P").getIntValue();
      return static_cast<int>(std::clamp<long long>(p, 1, 3));
    }
    return 2;  // §12.8.2.2.2: the default /P is 2
  }
  return std::nullopt;
}

std::optional<FieldLock> ParseLock(QPDFObjectHandle params) {
  if (!params.isDictionary()) return std::nullopt;
  std::string action = ActionName(params.getKey("/Action"));
  FieldLock lock;
  if (action == "/All") {
    lock.action = FieldLock::Action::kAll;
  } else if (action == "/Include") {
    lock.action = FieldLock::Action::kInclude;
  } else if (action == "/Exclude") {
    lock.action = FieldLock::Action::kExclude;
  } else {
    return std::nullopt;
  }
  QPDFObjectHandle fields = params.getKey("/Fields");
  if (fields.isArray()) {
    for (auto& f : fields.aitems()) {
      if (f.isString()) lock.fields.push_back(f.getUTF8Value());
    }
  }
  return lock;
}

std::optional<FieldLock> LockOf(QPDFObjectHandle field, QPDFObjectHandle sig) {
  if (auto lock = ParseLock(field.getKey("/Lock"))) return lock;
  if (!sig.isDictionary()) return std::nullopt;
  QPDFObjectHandle refs = sig.getKey("/Reference");
  if (!refs.isArray()) return std::nullopt;
  for (auto& ref : refs.aitems()) {
    if (ref.isDictionary() && ActionName(ref.getKey("/TransformMethod")) == "/FieldMDP") {
      return ParseLock(ref.getKey("/TransformParams"));
    }
  }
  return std::nullopt;
}

}  // namespace internal

}  // namespace kyso::pdf
