#include "http/multipart.h"

#include <string.h>  // memmem (GNU)

#include <algorithm>
#include <cstdint>

namespace kyso::http {
namespace {

Status Malformed(std::string why) {
  return InvalidArgument("multipart.malformed", "malformed multipart body: " + std::move(why));
}

bool IsOws(char c) {
  return c == ' ' || c == '\t';
}

std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && IsOws(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsOws(s.back())) s.remove_suffix(1);
  return s;
}

//= https://www.rfc-editor.org/rfc/rfc7230#section-3.2.6
//# tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" /
//#         "~" / DIGIT / ALPHA
bool IsTchar(char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// A header field value may hold HTAB, SP, VCHAR and obs-text, nothing else.
bool IsFieldValueChar(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u == '\t' || (u >= 0x20 && u != 0x7f);
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           const auto lx = (x >= 'A' && x <= 'Z') ? x - 'A' + 'a' : x;
           const auto ly = (y >= 'A' && y <= 'Z') ? y - 'A' + 'a' : y;
           return lx == ly;
         });
}

// Consumes a token from the front of `s`; "" if there is none.
std::string_view TakeToken(std::string_view& s) {
  size_t n = 0;
  while (n < s.size() && IsTchar(s[n])) ++n;
  std::string_view token = s.substr(0, n);
  s.remove_prefix(n);
  return token;
}

struct Param {
  std::string_view name;
  std::string value;  // unquoted
};

//= https://www.rfc-editor.org/rfc/rfc7231#section-3.1.1.1
//# media-type = type "/" subtype *( OWS ";" OWS parameter )
//# parameter  = token "=" ( token / quoted-string )
//= https://www.rfc-editor.org/rfc/rfc7230#section-3.2.6
//# quoted-string  = DQUOTE *( qdtext / quoted-pair ) DQUOTE
//# qdtext         = HTAB / SP /%x21 / %x23-5B / %x5D-7E / obs-text
//# quoted-pair    = "\" ( HTAB / SP / VCHAR / obs-text )
// Parses the `*( OWS ";" OWS parameter ) OWS` that follows a media or disposition type.
// Returns false on any syntax error. Names are views into `s`.
bool ParseParams(std::string_view s, std::vector<Param>* params) {
  for (;;) {
    while (!s.empty() && IsOws(s.front())) s.remove_prefix(1);
    if (s.empty()) return true;
    if (s.front() != ';') return false;
    s.remove_prefix(1);
    while (!s.empty() && IsOws(s.front())) s.remove_prefix(1);
    Param param;
    param.name = TakeToken(s);
    if (param.name.empty() || s.empty() || s.front() != '=') return false;
    s.remove_prefix(1);
    if (!s.empty() && s.front() == '"') {
      s.remove_prefix(1);
      for (;;) {
        if (s.empty()) return false;  // unterminated
        const char c = s.front();
        s.remove_prefix(1);
        if (c == '"') break;
        if (c == '\\') {
          if (s.empty() || !IsFieldValueChar(s.front())) return false;
          param.value += s.front();
          s.remove_prefix(1);
          continue;
        }
        if (!IsFieldValueChar(c)) return false;
        param.value += c;
      }
    } else {
      const std::string_view token = TakeToken(s);
      if (token.empty()) return false;
      param.value.assign(token);
    }
    params->push_back(std::move(param));
  }
}

//= https://www.rfc-editor.org/rfc/rfc2046#section-5.1.1
//# boundary := 0*69<bchars> bcharsnospace
//# bchars := bcharsnospace / " "
//# bcharsnospace := DIGIT / ALPHA / "'" / "(" / ")" /
//#                  "+" / "_" / "," / "-" / "." /
//#                  "/" / ":" / "=" / "?"
bool IsBoundaryChar(char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  return std::string_view("'()+_,-./:=? ").find(c) != std::string_view::npos;
}

Result<std::string> BoundaryOf(std::string_view content_type) {
  std::string_view rest = TrimOws(content_type);
  const std::string_view type = TakeToken(rest);
  std::string_view subtype;
  if (!rest.empty() && rest.front() == '/') {
    rest.remove_prefix(1);
    subtype = TakeToken(rest);
  }
  if (!EqualsIgnoreCase(type, "multipart") || !EqualsIgnoreCase(subtype, "form-data")) {
    return InvalidArgument("multipart.not_multipart", "Content-Type is not multipart/form-data: '" +
                                                          std::string(content_type.substr(0, 100)) +
                                                          "'");
  }
  std::vector<Param> params;
  if (!ParseParams(rest, &params)) {
    return Malformed("bad Content-Type parameters");
  }
  std::optional<std::string> boundary;
  for (Param& p : params) {
    if (!EqualsIgnoreCase(p.name, "boundary")) continue;
    if (boundary) return Malformed("two boundary parameters in Content-Type");
    boundary = std::move(p.value);
  }
  if (!boundary) {
    return InvalidArgument("multipart.no_boundary", "Content-Type has no boundary parameter");
  }
  if (boundary->empty() || boundary->size() > 70 || boundary->back() == ' ' ||
      !std::all_of(boundary->begin(), boundary->end(), IsBoundaryChar)) {
    return InvalidArgument("multipart.bad_boundary",
                           "boundary must be 1 to 70 RFC 2046 characters, not ending in a space");
  }
  return std::move(*boundary);
}

// The body being parsed, with the searches the grammar needs.
class Cursor {
 public:
  explicit Cursor(ByteSpan body) : body_(body) {}

  size_t size() const { return body_.size(); }
  bool StartsWithAt(size_t pos, std::string_view s) const {
    return pos <= body_.size() && body_.size() - pos >= s.size() &&
           std::equal(s.begin(), s.end(), body_.begin() + pos,
                      [](char a, uint8_t b) { return static_cast<uint8_t>(a) == b; });
  }
  // Position of the first `needle` in [from, limit), or npos.
  size_t Find(std::string_view needle, size_t from, size_t limit) const {
    limit = std::min(limit, body_.size());
    if (from >= limit) return std::string_view::npos;
    const void* hit = memmem(body_.data() + from, limit - from, needle.data(), needle.size());
    if (!hit) return std::string_view::npos;
    return static_cast<size_t>(static_cast<const uint8_t*>(hit) - body_.data());
  }
  std::string_view Text(size_t from, size_t to) const {
    return AsString(body_.subspan(from, to - from));
  }
  ByteSpan Span(size_t from, size_t to) const { return body_.subspan(from, to - from); }

 private:
  ByteSpan body_;
};

//= https://www.rfc-editor.org/rfc/rfc2046#section-5.1.1
//# transport-padding := *LWSP-char
//#                      ; Composers MUST NOT generate
//#                      ; non-zero length transport
//#                      ; padding, but receivers MUST
//#                      ; be able to handle padding
//#                      ; added by message transports.
size_t SkipPadding(const Cursor& body, size_t pos) {
  while (body.StartsWithAt(pos, " ") || body.StartsWithAt(pos, "\t")) ++pos;
  return pos;
}

struct PartHeaders {
  std::string name;
  std::optional<std::string> filename;
  std::optional<std::string> content_type;
  bool has_disposition = false;
};

//= https://www.rfc-editor.org/rfc/rfc7578#section-4.2
//# Each part MUST contain a Content-Disposition header field [RFC2183]
//# where the disposition type is "form-data".  The Content-Disposition
//# header field MUST also contain an additional parameter of "name"; the
//# value of the "name" parameter is the original field name from the
//# form (possibly encoded; see Section 5.1).
Status ParseDisposition(std::string_view value, PartHeaders* headers) {
  std::string_view rest = value;
  const std::string_view type = TakeToken(rest);
  if (!EqualsIgnoreCase(type, "form-data")) {
    return Malformed("part Content-Disposition is not form-data");
  }
  std::vector<Param> params;
  if (!ParseParams(rest, &params)) return Malformed("bad Content-Disposition parameters");
  bool has_name = false;
  for (Param& p : params) {
    if (EqualsIgnoreCase(p.name, "name")) {
      if (has_name) return Malformed("two name parameters in Content-Disposition");
      has_name = true;
      headers->name = std::move(p.value);
    } else if (EqualsIgnoreCase(p.name, "filename")) {
      if (headers->filename) return Malformed("two filename parameters in Content-Disposition");
      headers->filename = std::move(p.value);
    }
    // filename* (RFC 5987) and extension parameters are ignored (RFC 7578 §4.2).
  }
  if (!has_name || headers->name.empty()) {
    return Malformed("part Content-Disposition has no form-data name");
  }
  headers->has_disposition = true;
  return Status::Ok();
}

Status ParseHeaderLine(std::string_view line, PartHeaders* headers) {
  //= https://www.rfc-editor.org/rfc/rfc7230#section-3.2
  //# header-field   = field-name ":" OWS field-value OWS
  std::string_view rest = line;
  const std::string_view name = TakeToken(rest);
  if (name.empty() || rest.empty() || rest.front() != ':') {
    return Malformed("bad part header line");  // includes obs-fold (leading whitespace)
  }
  rest.remove_prefix(1);
  if (!std::all_of(rest.begin(), rest.end(), IsFieldValueChar)) {
    return Malformed("control character in part header");  // includes bare CR and LF
  }
  const std::string_view value = TrimOws(rest);
  if (EqualsIgnoreCase(name, "content-disposition")) {
    if (headers->has_disposition) return Malformed("two Content-Disposition headers in a part");
    return ParseDisposition(value, headers);
  }
  if (EqualsIgnoreCase(name, "content-type")) {
    if (headers->content_type) return Malformed("two Content-Type headers in a part");
    if (value.empty()) return Malformed("empty Content-Type in a part");
    headers->content_type.emplace(value);
  }
  return Status::Ok();
}

}  // namespace

Result<std::vector<MultipartPart>> ParseMultipart(std::string_view content_type, ByteSpan body,
                                                  const MultipartLimits& limits) {
  KYSO_ASSIGN_OR_RETURN(const std::string boundary, BoundaryOf(content_type));
  //= https://www.rfc-editor.org/rfc/rfc2046#section-5.1.1
  //# dash-boundary := "--" boundary
  //# delimiter := CRLF dash-boundary
  //# close-delimiter := delimiter "--"
  //# multipart-body := [preamble CRLF]
  //#                   dash-boundary transport-padding CRLF
  //#                   body-part *encapsulation
  //#                   close-delimiter transport-padding
  //#                   [CRLF epilogue]
  //# encapsulation := delimiter transport-padding
  //#                  CRLF body-part
  //# body-part := MIME-part-headers [CRLF *OCTET]
  const std::string delimiter = "\r\n--" + boundary;
  const std::string_view dash_boundary = std::string_view(delimiter).substr(2);
  const Cursor in(body);
  constexpr size_t npos = std::string_view::npos;

  size_t pos;
  if (in.StartsWithAt(0, dash_boundary)) {
    pos = dash_boundary.size();
  } else {
    const size_t found = in.Find(delimiter, 0, in.size());
    if (found == npos) return Malformed("no opening boundary delimiter");
    pos = found + delimiter.size();
  }

  std::vector<MultipartPart> parts;
  for (;;) {
    // `pos` is just past a dash-boundary: a close-delimiter's "--", or padding and CRLF.
    if (in.StartsWithAt(pos, "--")) {
      pos = SkipPadding(in, pos + 2);
      if (pos == in.size() || in.StartsWithAt(pos, "\r\n")) return parts;  // epilogue ignored
      return Malformed("junk after the closing delimiter");
    }
    pos = SkipPadding(in, pos);
    if (!in.StartsWithAt(pos, "\r\n")) {
      return Malformed(pos == in.size() ? "no closing delimiter" : "no CRLF after a delimiter");
    }
    pos += 2;

    if (parts.size() == limits.max_parts) {
      return InvalidArgument("multipart.too_many_parts",
                             "more than " + std::to_string(limits.max_parts) + " parts");
    }

    // Part headers: lines ending in CRLF, up to an empty line.
    PartHeaders headers;
    size_t header_bytes = 0;
    size_t data_begin = npos;
    size_t data_end = npos;  // set when the part has no body (the delimiter follows at once)
    while (data_begin == npos) {
      // The next line may use what is left of the budget, and its CRLF; an empty line is free.
      const size_t budget = std::max<size_t>(limits.max_header_bytes - header_bytes, 2);
      const size_t eol = in.Find("\r\n", pos, pos + budget);
      if (eol == npos) {
        if (in.size() - pos > budget) {
          return InvalidArgument(
              "multipart.header_too_large",
              "part headers exceed " + std::to_string(limits.max_header_bytes) + " bytes");
        }
        return Malformed("part headers are not terminated");
      }
      if (eol == pos) {
        // `body-part := MIME-part-headers [CRLF *OCTET]`: this CRLF either starts the part's
        // content or, with no content, is the delimiter's own.
        if (in.StartsWithAt(pos, delimiter)) {
          data_begin = data_end = pos;
        } else {
          data_begin = pos + 2;
        }
        break;
      }
      header_bytes += eol - pos + 2;
      if (header_bytes > limits.max_header_bytes) {
        return InvalidArgument(
            "multipart.header_too_large",
            "part headers exceed " + std::to_string(limits.max_header_bytes) + " bytes");
      }
      KYSO_RETURN_IF_ERROR(ParseHeaderLine(in.Text(pos, eol), &headers));
      pos = eol + 2;
    }
    if (!headers.has_disposition) {
      return Malformed("part without Content-Disposition: form-data; name=...");
    }
    for (const MultipartPart& p : parts) {
      if (p.name == headers.name) {
        return InvalidArgument("multipart.duplicate_name",
                               "two parts named '" + headers.name.substr(0, 100) + "'");
      }
    }

    if (data_end == npos) {
      data_end = in.Find(delimiter, data_begin, in.size());
      if (data_end == npos) return Malformed("no closing delimiter");
    }
    MultipartPart& part = parts.emplace_back();
    part.name = std::move(headers.name);
    part.filename = std::move(headers.filename);
    //= https://www.rfc-editor.org/rfc/rfc7578#section-4.4
    //# Each part MAY have an (optional) "Content-Type" header field, which
    //# defaults to "text/plain".
    part.content_type = headers.content_type ? std::move(*headers.content_type) : "text/plain";
    part.data = in.Span(data_begin, data_end);
    pos = data_end + delimiter.size();
  }
}

}  // namespace kyso::http
