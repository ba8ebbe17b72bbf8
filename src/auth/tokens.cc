#include "auth/tokens.h"

#include <sodium.h>

#include <cctype>

#include "auth/password.h"
#include "base/bytes.h"
#include "crypto/digest.h"

namespace kyso::auth {

std::string NewSecretToken(crypto::Rng& rng, std::string_view prefix) {
  Bytes random = rng.Generate(kTokenBytes);
  std::string token(prefix);
  token += Base64UrlEncode(random);
  sodium_memzero(random.data(), random.size());
  return token;
}

std::string TokenHash(std::string_view token) {
  std::string hex = HexEncode(crypto::Sha256(AsBytes(token)));
  for (char& c : hex) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return hex;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  EnsureSodium();
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool TokenMatchesHash(std::string_view token, std::string_view stored_hash) {
  if (token.empty() || stored_hash.empty()) return false;
  return ConstantTimeEquals(TokenHash(token), stored_hash);
}

}  // namespace kyso::auth
