// Passwords: Argon2id hashes (RFC 9106) in the PHC string form libsodium writes
// ("$argon2id$v=19$m=65536,t=2,p=1$<salt>$<hash>"), the password policy, and a dummy
// verification that makes a login for an unknown user cost as much as one for a known user.
//
// The stored string carries its own salt and cost, so a hash made under an older cost still
// verifies; NeedsRehash tells the login code to store a fresh hash after a successful login.
//
// Passwords are byte strings: no Unicode normalization happens here. Vietnamese text typed as
// NFC and as NFD (precomposed "ế" vs "e" + combining marks) gives different hashes, so callers
// that accept passwords from different input methods should normalize to NFC first.
//
// Errors (stable ids): auth.bad_hash (InvalidArgument: the stored string is not an Argon2id
// hash we can verify), auth.bad_cost (InvalidArgument: a PasswordCost outside libsodium's
// bounds), auth.hash_failed (Internal: libsodium could not allocate the memory Argon2 needs),
// auth.weak_password (InvalidArgument, from CheckPasswordPolicy).
//
// Thread-safety: every function may be called from any thread. Hashing and verifying each take
// `memlimit` bytes of memory for their duration, so concurrent logins multiply it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"

namespace kyso::auth {

// Argon2id cost parameters (libsodium's opslimit = passes t, memlimit in bytes = m × 1 KiB).
struct PasswordCost {
  uint64_t opslimit = 0;
  size_t memlimit = 0;

  // libsodium's INTERACTIVE level (t=2, 64 MiB, p=1), its recommendation for online logins:
  // above the OWASP Password Storage Cheat Sheet's floor for Argon2id ("a minimum
  // configuration of 19 MiB of memory, an iteration count of 2, and 1 degree of parallelism")
  // and a login still costs well under a second of one core.
  static PasswordCost Interactive();
  // The minimum libsodium accepts (t=1, 8 KiB). Only for unit tests: far too cheap to resist
  // offline guessing.
  static PasswordCost ForTests();

  bool operator==(const PasswordCost&) const = default;
};

// Hashes `password` with Argon2id under `cost` and a fresh random salt.
Result<std::string> HashPassword(std::string_view password, const PasswordCost& cost);

// true when `password` matches `hash`, false when it does not. auth.bad_hash when `hash` is not
// an Argon2id string (or asks for more memory than we are willing to spend on one login).
// The comparison inside libsodium is constant-time.
Result<bool> VerifyPassword(std::string_view hash, std::string_view password);

// true when `hash` should be replaced by a fresh HashPassword(password, cost) after the next
// successful login: not Argon2id, a different cost, or malformed.
bool NeedsRehash(std::string_view hash, const PasswordCost& cost);

// Burns the time of one VerifyPassword against a hash of `cost`, for a login whose username
// does not exist (or whose account cannot log in with a password), so the response time does
// not tell an attacker which usernames exist (OWASP Authentication Cheat Sheet, "Authentication
// and Error Messages": the time to respond must not differ). The result is always discarded.
// For Interactive() the hash is a constant; for another cost it is computed on first use.
void VerifyDummyPassword(std::string_view password,
                         const PasswordCost& cost = PasswordCost::Interactive());

// The passwords kyso accepts when one is set or changed (never applied at login, so a policy
// change does not lock anyone out). In the spirit of NIST SP 800-63B §5.1.1.2 (length matters
// most; no periodic changes): at least 12 characters (Unicode code points, not bytes), valid
// UTF-8 without control characters, at most kMaxPasswordBytes, at least 4 distinct characters,
// and, below 16 characters, at least two kinds among letters, digits and other characters
// (a long passphrase of words needs no digit). auth.weak_password otherwise, with the reason.
inline constexpr size_t kMinPasswordChars = 12;
inline constexpr size_t kMaxPasswordBytes = 1024;
Status CheckPasswordPolicy(std::string_view password);

// Initializes libsodium once (std::call_once); every auth function that uses it calls this.
// Aborts if libsodium cannot initialize (no usable random source), as SystemRng does.
void EnsureSodium();

}  // namespace kyso::auth
