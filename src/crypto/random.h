// Randomness as an injected dependency (serial numbers, passphrases), so tests can be
// deterministic while production uses OpenSSL's CSPRNG.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "base/bytes.h"

namespace kyso::crypto {

class Rng {
 public:
  virtual ~Rng() = default;
  virtual void Fill(std::span<uint8_t> out) = 0;
  Bytes Generate(size_t n) {
    Bytes b(n);
    Fill(b);
    return b;
  }
};

// OpenSSL RAND_bytes (DRBG seeded from the OS). Thread-safe.
class SystemRng final : public Rng {
 public:
  void Fill(std::span<uint8_t> out) override;
};

// Deterministic xorshift stream for tests only. Not thread-safe.
class TestRng final : public Rng {
 public:
  explicit TestRng(uint64_t seed) : state_(seed ? seed : 1) {}
  void Fill(std::span<uint8_t> out) override;

 private:
  uint64_t state_;
};

// A random passphrase of `n` characters from an unambiguous alphabet (for --demo).
std::string GeneratePassphrase(Rng& rng, size_t n = 32);

}  // namespace kyso::crypto
