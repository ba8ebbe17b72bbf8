#include "crypto/random.h"

#include <openssl/rand.h>

#include <cstdio>
#include <cstdlib>

namespace kyso::crypto {

void SystemRng::Fill(std::span<uint8_t> out) {
  if (out.empty()) return;
  if (RAND_bytes(out.data(), static_cast<int>(out.size())) != 1) {
    // A CA must never continue with predictable randomness (serials, keys).
    std::fputs("kyso: the system random generator failed; aborting\n", stderr);
    std::abort();
  }
}

void TestRng::Fill(std::span<uint8_t> out) {
  for (auto& b : out) {
    state_ ^= state_ << 13;
    state_ ^= state_ >> 7;
    state_ ^= state_ << 17;
    b = static_cast<uint8_t>(state_ >> 24);
  }
}

std::string GeneratePassphrase(Rng& rng, size_t n) {
  // 32 symbols without look-alikes (0/O, 1/l/I): 5 bits per character, 160 bits for n = 32.
  static constexpr char kAlphabet[] = "abcdefghjkmnpqrstuvwxyz23456789";
  std::string out;
  Bytes raw = rng.Generate(n);
  for (uint8_t b : raw) out.push_back(kAlphabet[b % (sizeof kAlphabet - 1)]);
  return out;
}

}  // namespace kyso::crypto
