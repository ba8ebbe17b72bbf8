// Message digests (SHA-2 family, FIPS 180-4).
#pragma once

#include <memory>
#include <string_view>

#include "base/bytes.h"
#include "base/result.h"

namespace kyso::crypto {

enum class DigestAlgorithm { kSha256, kSha384, kSha512 };

std::string_view DigestName(DigestAlgorithm alg);  // "SHA-256"
size_t DigestSize(DigestAlgorithm alg);
Result<DigestAlgorithm> ParseDigest(std::string_view name);  // "sha256", "SHA-256", ...

Bytes Digest(DigestAlgorithm alg, ByteSpan data);
inline Bytes Sha256(ByteSpan data) {
  return Digest(DigestAlgorithm::kSha256, data);
}

// Streaming digest for inputs too large to hold twice.
class Hasher {
 public:
  explicit Hasher(DigestAlgorithm alg);
  ~Hasher();
  Hasher(const Hasher&) = delete;
  Hasher& operator=(const Hasher&) = delete;
  void Update(ByteSpan data);
  Bytes Finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kyso::crypto
