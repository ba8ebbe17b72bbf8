#include "pdf/syntax.h"

#include <zlib.h>

#include <cmath>
#include <cstdio>
#include <ctime>

namespace kyso::pdf {

std::string ObjectRef::ToString() const {
  return std::to_string(number) + " " + std::to_string(generation) + " R";
}

std::string LiteralString(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() + 2);
  out += '(';
  for (unsigned char c : bytes) {
    switch (c) {
      case '(':
        out += "\\(";
        break;
      case ')':
        out += "\\)";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (c < 0x20 || c > 0x7E) {
          char buf[5];
          std::snprintf(buf, sizeof buf, "\\%03o", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += ')';
  return out;
}

std::string HexString(ByteSpan bytes) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(bytes.size() * 2 + 2);
  out += '<';
  for (uint8_t b : bytes) {
    out += kDigits[b >> 4];
    out += kDigits[b & 15];
  }
  out += '>';
  return out;
}

namespace {

// Decodes UTF-8 into code points; invalid sequences become U+FFFD.
std::u32string DecodeUtf8(std::string_view s) {
  std::u32string out;
  for (size_t i = 0; i < s.size();) {
    unsigned char c = s[i];
    int len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (len == 0 || i + len > s.size()) {
      out += U'\uFFFD';
      ++i;
      continue;
    }
    char32_t cp = len == 1 ? c : c & (0x7F >> len);
    bool ok = true;
    for (int k = 1; k < len; ++k) {
      unsigned char cc = s[i + k];
      if ((cc >> 6) != 2) {
        ok = false;
        break;
      }
      cp = (cp << 6) | (cc & 0x3F);
    }
    if (!ok) {
      out += U'\uFFFD';
      ++i;
      continue;
    }
    out += cp;
    i += len;
  }
  return out;
}

}  // namespace

std::string TextString(std::string_view utf8) {
  bool ascii = true;
  for (unsigned char c : utf8) {
    if (c >= 0x80 || (c < 0x20 && c != '\n' && c != '\r' && c != '\t')) ascii = false;
  }
  if (ascii) return LiteralString(utf8);
  Bytes utf16 = {0xFE, 0xFF};
  for (char32_t cp : DecodeUtf8(utf8)) {
    auto put = [&](uint32_t unit) {
      utf16.push_back(static_cast<uint8_t>(unit >> 8));
      utf16.push_back(static_cast<uint8_t>(unit & 0xFF));
    };
    if (cp >= 0x10000) {
      cp -= 0x10000;
      put(0xD800 + (cp >> 10));
      put(0xDC00 + (cp & 0x3FF));
    } else {
      put(cp);
    }
  }
  return HexString(utf16);
}

std::string NameObject(std::string_view name) {
  static constexpr std::string_view kDelimiters = "()<>[]{}/%#";
  std::string out = "/";
  for (unsigned char c : name) {
    if (c < 0x21 || c > 0x7E || kDelimiters.find(static_cast<char>(c)) != std::string_view::npos) {
      char buf[4];
      std::snprintf(buf, sizeof buf, "#%02X", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::string Number(double value) {
  if (!std::isfinite(value)) return "0";
  double rounded = std::round(value * 10000.0) / 10000.0;
  if (rounded == 0) return "0";  // also turns -0 into 0
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.4f", rounded);
  std::string s = buf;
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s;
}

std::string DateString(int64_t unix_seconds, int utc_offset_minutes) {
  time_t local = static_cast<time_t>(unix_seconds + int64_t{utc_offset_minutes} * 60);
  std::tm tm{};
  gmtime_r(&local, &tm);
  char buf[64];
  int offset = utc_offset_minutes < 0 ? -utc_offset_minutes : utc_offset_minutes;
  if (utc_offset_minutes == 0) {
    std::snprintf(buf, sizeof buf, "(D:%04d%02d%02d%02d%02d%02dZ)", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  } else {
    std::snprintf(buf, sizeof buf, "(D:%04d%02d%02d%02d%02d%02d%c%02d'%02d')", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  utc_offset_minutes < 0 ? '-' : '+', offset / 60, offset % 60);
  }
  return buf;
}

Bytes Deflate(ByteSpan data, int level) {
  uLongf bound = compressBound(static_cast<uLong>(data.size()));
  Bytes out(bound);
  if (compress2(out.data(), &bound, data.data(), static_cast<uLong>(data.size()), level) != Z_OK) {
    return {};  // only on out-of-memory; an empty stream then fails loudly downstream
  }
  out.resize(bound);
  return out;
}

}  // namespace kyso::pdf
