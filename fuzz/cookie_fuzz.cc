// Fuzz target: the Cookie request header parser (every request to the web interface) and the
// Set-Cookie writer for session cookies.
//
// Input: a Cookie header value. Every parsed name must be a non-empty RFC 7230 token and every
// value cookie-octets only. The input is also split at its first '\n' into a name and a value
// for SessionCookie and ClearingCookie: they must return "" or one header value with the name
// and value verbatim, HttpOnly, and no CR, LF or NUL (nothing smuggled into the header).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "auth/cookies.h"

namespace {

bool IsToken(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!alnum && std::string_view("!#$%&'*+-.^_`|~").find(c) == std::string_view::npos) {
      return false;
    }
  }
  return true;
}

bool IsCookieValue(std::string_view s) {
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x21 || u > 0x7E || c == '"' || c == ',' || c == ';' || c == '\\') return false;
  }
  return true;
}

void CheckSetCookie(const std::string& header, std::string_view name, std::string_view value) {
  if (header.empty()) return;
  if (!IsToken(name) || !IsCookieValue(value)) std::abort();
  const std::string prefix = std::string(name) + "=" + std::string(value) + ";";
  if (header.rfind(prefix, 0) != 0) std::abort();
  if (header.find("; HttpOnly") == std::string::npos) std::abort();
  if (header.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  const auto cookies = kyso::auth::ParseCookies(input);
  for (const auto& [name, value] : cookies) {
    if (!IsToken(name) || !IsCookieValue(value)) std::abort();
  }
  if (cookies.size() > size / 2) std::abort();  // every pair needs a name byte and '='

  const size_t eol = input.find('\n');
  const std::string_view name = input.substr(0, eol);
  const std::string_view value = eol == std::string_view::npos ? "" : input.substr(eol + 1);
  const bool secure = size % 2 == 0;
  const std::string cookie = kyso::auth::SessionCookie(name, value, 60, secure);
  CheckSetCookie(cookie, name, value);
  if (!cookie.empty() && (cookie.find("; Secure") != std::string::npos) != secure) std::abort();
  CheckSetCookie(kyso::auth::ClearingCookie(name, secure), name, "");
  return 0;
}
