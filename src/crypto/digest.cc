#include "crypto/digest.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <string>

#include "crypto/openssl_error.h"

namespace kyso::crypto {

const EVP_MD* EvpMd(DigestAlgorithm alg) {
  switch (alg) {
    case DigestAlgorithm::kSha256:
      return EVP_sha256();
    case DigestAlgorithm::kSha384:
      return EVP_sha384();
    case DigestAlgorithm::kSha512:
      return EVP_sha512();
  }
  return EVP_sha256();
}

std::string_view DigestName(DigestAlgorithm alg) {
  switch (alg) {
    case DigestAlgorithm::kSha256:
      return "SHA-256";
    case DigestAlgorithm::kSha384:
      return "SHA-384";
    case DigestAlgorithm::kSha512:
      return "SHA-512";
  }
  return "SHA-256";
}

size_t DigestSize(DigestAlgorithm alg) {
  return static_cast<size_t>(EVP_MD_get_size(EvpMd(alg)));
}

Result<DigestAlgorithm> ParseDigest(std::string_view name) {
  std::string n;
  for (char c : name) {
    if (c != '-' && c != '_')
      n.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  if (n == "sha256") return DigestAlgorithm::kSha256;
  if (n == "sha384") return DigestAlgorithm::kSha384;
  if (n == "sha512") return DigestAlgorithm::kSha512;
  return InvalidArgument("digest.unknown",
                         "unknown digest \"" + std::string(name) + "\" (sha256|sha384|sha512)");
}

Bytes Digest(DigestAlgorithm alg, ByteSpan data) {
  Bytes out(EVP_MAX_MD_SIZE);
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out.data(), &len, EvpMd(alg), nullptr);
  out.resize(len);
  return out;
}

struct Hasher::Impl {
  EVP_MD_CTX* ctx = nullptr;
};

Hasher::Hasher(DigestAlgorithm alg) : impl_(std::make_unique<Impl>()) {
  impl_->ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(impl_->ctx, EvpMd(alg), nullptr);
}

Hasher::~Hasher() {
  EVP_MD_CTX_free(impl_->ctx);
}

void Hasher::Update(ByteSpan data) {
  EVP_DigestUpdate(impl_->ctx, data.data(), data.size());
}

Bytes Hasher::Finish() {
  Bytes out(EVP_MAX_MD_SIZE);
  unsigned int len = 0;
  EVP_DigestFinal_ex(impl_->ctx, out.data(), &len);
  out.resize(len);
  return out;
}

}  // namespace kyso::crypto
