// Secret tokens (session ids, CSRF tokens, API tokens) and the hashes stored in their place.
//
// A token is 32 bytes from the injected crypto::Rng (256 bits: guessing one is hopeless, and
// OWASP's Session Management Cheat Sheet asks for at least 64 bits of entropy), written as
// base64url without padding (RFC 4648 §5) so it fits a cookie, a header or a URL unescaped.
// The store keeps only TokenHash(token): a leaked database row does not let anyone
// authenticate. A plain SHA-256 suffices here, unlike for passwords, because the input is
// random and 256 bits long; there is nothing to guess.
//
// Thread-safety: the functions share no state; NewSecretToken is as thread-safe as its Rng
// (crypto::SystemRng is).
#pragma once

#include <string>
#include <string_view>

#include "crypto/random.h"

namespace kyso::auth {

inline constexpr size_t kTokenBytes = 32;
// Prefix of API tokens, so secret scanners (and people) recognize a leaked one.
inline constexpr std::string_view kApiTokenPrefix = "kyso_";

// `prefix` followed by base64url(kTokenBytes random bytes): 43 characters after the prefix.
std::string NewSecretToken(crypto::Rng& rng, std::string_view prefix = {});

// Lower-case hex SHA-256 of the token as sent (prefix included): 64 characters.
std::string TokenHash(std::string_view token);

// Compares without a timing side channel on the contents (libsodium's sodium_memcmp). Strings
// of different lengths compare unequal at once: only the length can leak, and the lengths of
// tokens and hashes are public.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

// ConstantTimeEquals(TokenHash(token), stored_hash), false for an empty token or hash: the
// check an authenticating request makes against a stored token hash.
bool TokenMatchesHash(std::string_view token, std::string_view stored_hash);

}  // namespace kyso::auth
