#include "auth/cookies.h"

#include "auth/tokens.h"

namespace kyso::auth {
namespace {

// RFC 7230 §3.2.6: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." /
//                          "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
bool IsTokenChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool IsToken(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!IsTokenChar(c)) return false;
  }
  return true;
}

//= https://www.rfc-editor.org/rfc/rfc6265#section-4.1.1
//# cookie-octet = %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E
//#                ; US-ASCII characters excluding CTLs,
//#                ; whitespace DQUOTE, comma, semicolon,
//#                ; and backslash
bool IsCookieOctet(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u == 0x21 || (u >= 0x23 && u <= 0x2B) || (u >= 0x2D && u <= 0x3A) ||
         (u >= 0x3C && u <= 0x5B) || (u >= 0x5D && u <= 0x7E);
}

bool IsCookieValue(std::string_view s) {
  for (char c : s) {
    if (!IsCookieOctet(c)) return false;
  }
  return true;
}

std::string_view TrimWhitespace(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string Attributes(int64_t max_age_seconds, bool secure) {
  std::string out =
      "; Path=/; Max-Age=" + std::to_string(max_age_seconds < 0 ? 0 : max_age_seconds) +
      "; HttpOnly; SameSite=Strict";
  if (secure) out += "; Secure";
  return out;
}

}  // namespace

std::map<std::string, std::string, std::less<>> ParseCookies(std::string_view header) {
  std::map<std::string, std::string, std::less<>> cookies;
  while (!header.empty()) {
    const size_t semicolon = header.find(';');
    std::string_view pair = header.substr(0, semicolon);
    header =
        semicolon == std::string_view::npos ? std::string_view() : header.substr(semicolon + 1);

    const size_t equals = pair.find('=');
    if (equals == std::string_view::npos) continue;
    const std::string_view name = TrimWhitespace(pair.substr(0, equals));
    std::string_view value = TrimWhitespace(pair.substr(equals + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    if (!IsToken(name) || !IsCookieValue(value)) continue;
    cookies.emplace(name, value);  // keeps the first of a repeated name
  }
  return cookies;
}

std::string SessionCookie(std::string_view name, std::string_view value, int64_t max_age_seconds,
                          bool secure) {
  if (!IsToken(name) || !IsCookieValue(value)) return "";
  return std::string(name) + "=" + std::string(value) + Attributes(max_age_seconds, secure);
}

std::string ClearingCookie(std::string_view name, bool secure) {
  if (!IsToken(name)) return "";
  return std::string(name) + "=" + Attributes(0, secure);
}

bool CsrfMatches(std::string_view header_value, std::string_view stored_hash) {
  return TokenMatchesHash(header_value, stored_hash);
}

}  // namespace kyso::auth
