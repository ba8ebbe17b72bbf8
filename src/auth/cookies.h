// Session cookies and CSRF tokens for the web interface.
//
// A browser session is a random token (tokens.h) in an HttpOnly, SameSite=Strict cookie; the
// store keeps only its hash. State-changing requests must also carry the session's CSRF token
// in the X-CSRF-Token header (OWASP CSRF Prevention Cheat Sheet, "Synchronizer Token Pattern":
// "CSRF tokens should be generated on the server-side ... once per user session"; "inserting
// the CSRF token in a custom HTTP request header via JavaScript is considered more secure than
// adding the token in the hidden field form parameter"). The session record stores the hash
// of that token; the page gets the token itself when the session is created. SameSite=Strict
// alone would already keep cross-site requests from carrying the cookie, but it is a
// defence-in-depth measure (RFC 6265bis §8.8), not a substitute for the token.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>

namespace kyso::auth {

// Cookie names. The "__Host-" prefix makes the browser refuse the cookie unless it is Secure,
// has Path=/ and no Domain (RFC 6265bis §4.1.3.2), so a sibling subdomain or a plain-HTTP
// page cannot set or shadow it; it can only be used with Secure cookies.
inline constexpr std::string_view kSecureSessionCookie = "__Host-kyso_session";
inline constexpr std::string_view kPlainSessionCookie = "kyso_session";
inline std::string_view SessionCookieName(bool secure) {
  return secure ? kSecureSessionCookie : kPlainSessionCookie;
}

// The request header carrying the CSRF token.
inline constexpr std::string_view kCsrfHeader = "X-CSRF-Token";

// Parses the value of a Cookie request header (RFC 6265 §4.2.1:
//   cookie-string = cookie-pair *( ";" SP cookie-pair )
//   cookie-pair   = cookie-name "=" cookie-value
//   cookie-name   = token
//   cookie-value  = *cookie-octet / ( DQUOTE *cookie-octet DQUOTE )
// ) into name → value, without the quotes. Tolerant as RFC 6265 §5.4 lets user agents be:
// spaces and tabs around pairs, names and values are ignored, and a pair without '=', with an
// empty or non-token name, or with a value outside cookie-octet is skipped rather than failing
// the whole header. When a name repeats, the first value wins: user agents send the cookie with
// the longest (most specific) path first (RFC 6265 §5.4 step 2).
std::map<std::string, std::string, std::less<>> ParseCookies(std::string_view header);

// The Set-Cookie value for a session cookie:
//   "<name>=<value>; Path=/; Max-Age=<max_age_seconds>; HttpOnly; SameSite=Strict[; Secure]".
// HttpOnly keeps scripts (an XSS) from reading the session; SameSite=Strict keeps cross-site
// requests from carrying it (RFC 6265bis §4.1.2.7); Max-Age rather than Expires, as it does
// not depend on the client's clock (RFC 6265 §5.2.2 gives it precedence).
//
// `secure` must be true whenever the site is served over HTTPS, which every deployment is:
// "the Secure attribute limits the scope of the cookie to 'secure' channels" (RFC 6265
// §4.1.2.5), so the session never travels in clear text. false exists only for the plain-HTTP
// loopback demo (`kyso serve` on 127.0.0.1 without TLS), where nothing leaves the machine and
// where a Secure cookie might not be stored at all: "If the scheme component of the
// request-uri does not denote a 'secure' protocol (as defined by the user agent), and the
// cookie's secure-only-flag is true, then abort these steps and ignore the cookie entirely"
// (RFC 6265bis §5.7), and not every browser counts http://127.0.0.1 as secure.
//
// Returns "" (set no cookie) when `name` is not an RFC 7230 token or `value` holds a byte
// outside cookie-octet, so nothing can be smuggled into the header; tokens from
// NewSecretToken always qualify.
std::string SessionCookie(std::string_view name, std::string_view value, int64_t max_age_seconds,
                          bool secure);

// The Set-Cookie value that removes the cookie `name` at logout: empty value, Max-Age=0
// (RFC 6265 §5.2.2: "If delta-seconds is less than or equal to zero (0), let expiry-time be
// the earliest representable date and time"), same Path/SameSite/Secure as when it was set.
std::string ClearingCookie(std::string_view name, bool secure);

// true when `header_value` (the X-CSRF-Token sent) hashes to `stored_hash` (TokenHash of the
// session's CSRF token), compared in constant time. false when either is empty.
bool CsrfMatches(std::string_view header_value, std::string_view stored_hash);

}  // namespace kyso::auth
