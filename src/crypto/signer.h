// Signer: something that signs with a private key it may not reveal.
//
// SoftwareSigner holds a decrypted PrivateKey in memory (loaded from encrypted PKCS#8).
// A key on a PKCS#11 token implements the same interface (crypto/pkcs11.h); code that signs
// (certificates, CRLs, OCSP, time-stamps, CMS, audit checkpoints) depends only on it.
//
// Thread-safety: implementations must allow concurrent Sign* calls.
#pragma once

#include <memory>
#include <string>

#include "base/bytes.h"
#include "base/result.h"
#include "crypto/digest.h"
#include "crypto/key.h"

namespace kyso::crypto {

enum class RsaPadding { kPkcs1v15, kPss };

// How a signature is made: digest plus, for RSA, the padding. Ed25519 ignores both
// (PureEdDSA, RFC 8032 §5.1, signs the message itself).
struct SignatureScheme {
  DigestAlgorithm digest = DigestAlgorithm::kSha256;
  RsaPadding padding = RsaPadding::kPkcs1v15;

  // The conventional scheme for a key: SHA-256 for RSA and P-256, SHA-384 for P-384.
  static SignatureScheme DefaultFor(const KeySpec& key, RsaPadding padding = RsaPadding::kPkcs1v15);
  // "sha256WithRSAEncryption", "RSASSA-PSS/SHA-256", "ecdsa-with-SHA384", "Ed25519"
  std::string Name(const KeySpec& key) const;
};

class Signer {
 public:
  virtual ~Signer() = default;

  virtual const PublicKey& public_key() const = 0;
  virtual KeySpec key_spec() const = 0;
  // A short label for logs and the audit trail ("file:keys/issuing.key.pem").
  virtual std::string key_ref() const = 0;

  // Signs a precomputed digest (RSA PKCS#1 v1.5 / PSS with salt = digest length, or ECDSA,
  // DER-encoded Ecdsa-Sig-Value). Fails for Ed25519, which cannot sign a digest.
  virtual Result<Bytes> SignDigest(const SignatureScheme& scheme, ByteSpan digest) const = 0;
  // Signs a whole message: hashes then SignDigest, or PureEdDSA for Ed25519.
  virtual Result<Bytes> SignMessage(const SignatureScheme& scheme, ByteSpan message) const;

  // Bridge for OpenSSL builders (X509_sign_ctx, CMS, OCSP, TS) that need an EVP_PKEY.
  // Only the x509 and crypto modules call it. A hardware signer returns an EVP_PKEY whose
  // operations are routed to the token.
  virtual EVP_PKEY* openssl_key() const = 0;
};

class SoftwareSigner final : public Signer {
 public:
  SoftwareSigner(PrivateKey key, std::string key_ref);

  const PublicKey& public_key() const override { return public_key_; }
  KeySpec key_spec() const override { return key_.spec(); }
  std::string key_ref() const override { return key_ref_; }
  Result<Bytes> SignDigest(const SignatureScheme& scheme, ByteSpan digest) const override;
  Result<Bytes> SignMessage(const SignatureScheme& scheme, ByteSpan message) const override;
  EVP_PKEY* openssl_key() const override { return key_.openssl(); }

 private:
  PrivateKey key_;
  PublicKey public_key_;
  std::string key_ref_;
};

// Verifies `signature` over `message` with `key` under `scheme`. Ok or InvalidArgument
// "signature.invalid".
Status VerifyMessage(const PublicKey& key, const SignatureScheme& scheme, ByteSpan message,
                     ByteSpan signature);

}  // namespace kyso::crypto
