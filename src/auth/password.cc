#include "auth/password.h"

#include <sodium.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <utility>

namespace kyso::auth {
namespace {

constexpr std::string_view kArgon2idPrefix = crypto_pwhash_argon2id_STRPREFIX;  // "$argon2id$"

// The most memory one verification may take (libsodium's SENSITIVE level, 1 GiB), so a stored
// string with an absurd m= (a corrupted or tampered row) cannot make one login exhaust memory.
constexpr uint64_t kMaxVerifyMemoryKiB = crypto_pwhash_argon2id_MEMLIMIT_SENSITIVE / 1024;
// Likewise for passes: a t= in the millions would hold a worker for minutes.
constexpr uint64_t kMaxVerifyPasses = 16;

// HashPassword("kyso dummy password: no account has it", Interactive()), made once with
// libsodium 1.0.18. Nobody knows a password for it that anyone would type by accident, and
// nothing depends on that: VerifyDummyPassword discards the result.
constexpr char kDummyInteractiveHash[] =
    "$argon2id$v=19$m=65536,t=2,p=1$ErkNDXAuH1vzDtfng1vzmw$"
    "TU8I83fhKoO4MerE1A6qLq+cSntf+QtX/IwswojPIiE";

Status BadHash(std::string_view why) {
  return InvalidArgument("auth.bad_hash", "stored password hash " + std::string(why));
}

// The value of `key=` (a decimal number) in the parameter section of a PHC string, e.g. "m"
// in "$argon2id$v=19$m=65536,t=2,p=1$...".
std::optional<uint64_t> PhcParameter(std::string_view hash, std::string_view key) {
  const std::string needle = std::string(key) + "=";
  size_t at = 0;
  for (;;) {
    at = hash.find(needle, at);
    if (at == std::string_view::npos) return std::nullopt;
    if (at > 0 && (hash[at - 1] == '$' || hash[at - 1] == ',')) break;
    ++at;
  }
  const char* begin = hash.data() + at + needle.size();
  const char* end = hash.data() + hash.size();
  uint64_t value = 0;
  auto [ptr, ec] = std::from_chars(begin, end, value);
  if (ec != std::errc() || ptr == begin) return std::nullopt;
  return value;
}

// Copies `hash` into the fixed, NUL-terminated buffer libsodium's str functions read (they are
// declared with char[crypto_pwhash_STRBYTES] parameters and may read that far), after checking
// that it is an Argon2id string libsodium can decode and that we are willing to verify.
Status LoadArgon2idHash(std::string_view hash, char (&out)[crypto_pwhash_STRBYTES]) {
  if (hash.size() >= crypto_pwhash_STRBYTES) return BadHash("is too long");
  if (hash.find('\0') != std::string_view::npos) return BadHash("contains a NUL byte");
  if (!hash.starts_with(kArgon2idPrefix)) return BadHash("is not an Argon2id string");
  std::fill(std::begin(out), std::end(out), '\0');
  std::copy(hash.begin(), hash.end(), out);
  // needs_rehash decodes the whole string (version, m, t, p, salt and hash, base64 and
  // lengths) and returns -1 when it cannot: the only validity check libsodium exposes.
  if (crypto_pwhash_argon2id_str_needs_rehash(out, crypto_pwhash_argon2id_OPSLIMIT_MIN,
                                              crypto_pwhash_argon2id_MEMLIMIT_MIN) < 0) {
    return BadHash("is malformed");
  }
  const auto memory_kib = PhcParameter(hash, "m");
  const auto passes = PhcParameter(hash, "t");
  if (!memory_kib || !passes) return BadHash("is malformed");
  if (*memory_kib > kMaxVerifyMemoryKiB || *passes > kMaxVerifyPasses) {
    return BadHash("asks for more memory or passes than a login may spend");
  }
  return Status::Ok();
}

// One code point from the front of `text`, or nullopt for invalid UTF-8 (RFC 3629 §4: no
// overlong forms, no surrogates, nothing above U+10FFFF).
std::optional<char32_t> NextCodePoint(std::string_view& text) {
  const auto b0 = static_cast<unsigned char>(text[0]);
  size_t n;
  char32_t cp;
  if (b0 < 0x80) {
    n = 1;
    cp = b0;
  } else if (b0 >= 0xC2 && b0 <= 0xDF) {
    n = 2;
    cp = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    n = 3;
    cp = b0 & 0x0F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    n = 4;
    cp = b0 & 0x07;
  } else {
    return std::nullopt;
  }
  if (text.size() < n) return std::nullopt;
  for (size_t i = 1; i < n; ++i) {
    const auto b = static_cast<unsigned char>(text[i]);
    if ((b & 0xC0) != 0x80) return std::nullopt;
    cp = (cp << 6) | (b & 0x3F);
  }
  if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
      (cp >= 0xD800 && cp <= 0xDFFF)) {
    return std::nullopt;
  }
  text.remove_prefix(n);
  return cp;
}

Status Weak(std::string why) {
  return InvalidArgument("auth.weak_password", "the password " + why);
}

}  // namespace

void EnsureSodium() {
  static std::once_flag once;
  std::call_once(once, [] {
    // 0: initialized now, 1: already initialized (by another library), -1: failure.
    if (sodium_init() < 0) {
      std::fputs("kyso: libsodium failed to initialize; aborting\n", stderr);
      std::abort();
    }
  });
}

PasswordCost PasswordCost::Interactive() {
  return {crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE, crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE};
}

PasswordCost PasswordCost::ForTests() {
  return {crypto_pwhash_argon2id_OPSLIMIT_MIN, crypto_pwhash_argon2id_MEMLIMIT_MIN};
}

Result<std::string> HashPassword(std::string_view password, const PasswordCost& cost) {
  EnsureSodium();
  if (cost.opslimit < crypto_pwhash_argon2id_OPSLIMIT_MIN ||
      cost.opslimit > crypto_pwhash_argon2id_OPSLIMIT_MAX ||
      cost.memlimit < crypto_pwhash_argon2id_MEMLIMIT_MIN ||
      cost.memlimit > crypto_pwhash_argon2id_MEMLIMIT_MAX) {
    return InvalidArgument("auth.bad_cost",
                           "password hashing cost t=" + std::to_string(cost.opslimit) + ", " +
                               std::to_string(cost.memlimit) +
                               " bytes is outside what Argon2id accepts");
  }
  char out[crypto_pwhash_STRBYTES] = {};
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), cost.opslimit, cost.memlimit,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return Internal("auth.hash_failed", "cannot hash the password: Argon2id needs " +
                                            std::to_string(cost.memlimit) +
                                            " bytes of memory it could not get");
  }
  return std::string(out);
}

Result<bool> VerifyPassword(std::string_view hash, std::string_view password) {
  EnsureSodium();
  char stored[crypto_pwhash_STRBYTES];
  KYSO_RETURN_IF_ERROR(LoadArgon2idHash(hash, stored));
  // libsodium returns -1 both for a mismatch (errno EINVAL) and when Argon2 cannot allocate
  // its memory (ENOMEM); only the latter is an error rather than a wrong password.
  errno = 0;
  if (crypto_pwhash_argon2id_str_verify(stored, password.data(), password.size()) == 0) {
    return true;
  }
  if (errno == ENOMEM) {
    return Internal("auth.hash_failed", "cannot verify the password: out of memory");
  }
  return false;
}

bool NeedsRehash(std::string_view hash, const PasswordCost& cost) {
  EnsureSodium();
  char stored[crypto_pwhash_STRBYTES];
  if (!LoadArgon2idHash(hash, stored).ok()) return true;
  // 1: other parameters, 0: exactly `cost`, -1: undecodable (excluded above).
  return crypto_pwhash_argon2id_str_needs_rehash(stored, cost.opslimit, cost.memlimit) != 0;
}

void VerifyDummyPassword(std::string_view password, const PasswordCost& cost) {
  std::string dummy;
  if (cost == PasswordCost::Interactive()) {
    dummy = kDummyInteractiveHash;
  } else {
    // Made once per cost, under a lock: the first unknown-user login after start pays for a
    // hash as well, once.
    static std::mutex mu;
    static std::map<std::pair<uint64_t, size_t>, std::string> hashes;
    std::lock_guard<std::mutex> lock(mu);
    auto& cached = hashes[{cost.opslimit, cost.memlimit}];
    if (cached.empty()) {
      auto made = HashPassword("kyso dummy password: no account has it", cost);
      if (!made.ok()) return;
      cached = std::move(made).value();
    }
    dummy = cached;
  }
  (void)VerifyPassword(dummy, password);
}

Status CheckPasswordPolicy(std::string_view password) {
  if (password.size() > kMaxPasswordBytes) {
    return Weak("is longer than " + std::to_string(kMaxPasswordBytes) + " bytes");
  }
  size_t chars = 0;
  bool letter = false;
  bool digit = false;
  bool other = false;
  std::set<char32_t> distinct;
  std::string_view rest = password;
  while (!rest.empty()) {
    const auto cp = NextCodePoint(rest);
    if (!cp) return Weak("is not valid UTF-8");
    if (*cp < 0x20 || (*cp >= 0x7F && *cp <= 0x9F)) return Weak("contains a control character");
    ++chars;
    distinct.insert(*cp);
    if (*cp >= '0' && *cp <= '9') {
      digit = true;
    } else if ((*cp >= 'a' && *cp <= 'z') || (*cp >= 'A' && *cp <= 'Z') || *cp >= 0xC0) {
      // Beyond ASCII, letters dominate what people type (Vietnamese: ă, â, đ, ê, ô, ơ, ư and
      // their tone marks); a rough class is enough for this rule.
      letter = true;
    } else {
      other = true;
    }
  }
  if (chars < kMinPasswordChars) {
    return Weak("has " + std::to_string(chars) + " characters; at least " +
                std::to_string(kMinPasswordChars) + " are required");
  }
  if (distinct.size() < 4) return Weak("repeats too few different characters");
  if (chars < 16 && int{letter} + int{digit} + int{other} < 2) {
    return Weak(
        "uses only one kind of character; mix letters, digits and other characters, or use at "
        "least 16 characters");
  }
  return Status::Ok();
}

}  // namespace kyso::auth
