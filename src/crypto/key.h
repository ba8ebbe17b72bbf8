// Keys: generation, the algorithm facts policy needs, and encrypted PKCS#8 storage.
//
// RAII over EVP_PKEY. The raw OpenSSL pointer is reachable through openssl() for the x509
// module's builders only; no other module includes OpenSSL headers (docs/architecture.md).
// Keys are immutable after creation and safe to share between threads for signing.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/result.h"

typedef struct evp_pkey_st EVP_PKEY;

namespace kyso::crypto {

enum class KeyAlgorithm { kRsa, kEcdsa, kEd25519 };

// The facts about a key that profiles decide on: "rsa:3072", "ec:P-256", "ed25519".
struct KeySpec {
  KeyAlgorithm algorithm = KeyAlgorithm::kRsa;
  int bits = 0;       // modulus bits for RSA, field bits for EC (256, 384), 256 for Ed25519
  std::string curve;  // "P-256" or "P-384" for ECDSA, empty otherwise

  // Accepts "rsa:2048|3072|4096", "ec:P-256", "ec:P-384", "ed25519" (case-insensitive).
  static Result<KeySpec> Parse(std::string_view text);
  std::string ToString() const;
  bool operator==(const KeySpec&) const = default;
};

struct EvpPkeyDeleter {
  void operator()(EVP_PKEY* p) const;
};
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, EvpPkeyDeleter>;

class PublicKey {
 public:
  // SubjectPublicKeyInfo DER (RFC 5280 §4.1.2.7).
  static Result<PublicKey> FromSpkiDer(ByteSpan der);
  // Takes a reference on `key` (public part only is used).
  static PublicKey FromOpenssl(EVP_PKEY* key);
  // Same, when the caller already holds the key's SPKI DER (a parsed request or certificate):
  // SpkiDer() then never runs OpenSSL's encoder.
  static PublicKey FromOpensslWithSpki(EVP_PKEY* key, Bytes spki_der);

  Bytes SpkiDer() const;
  // SHA-256 of the SPKI DER, upper-case hex: a stable key identifier for the store.
  std::string Fingerprint() const;
  // RFC 5280 §4.2.1.2 method (1): SHA-1 of the subjectPublicKey BIT STRING value.
  Bytes KeyIdentifier() const;
  Result<KeySpec> Spec() const;
  bool Equals(const PublicKey& other) const;

  EVP_PKEY* openssl() const { return key_.get(); }

 private:
  struct SpkiCache {
    std::once_flag once;
    Bytes der;
  };
  explicit PublicKey(EvpPkeyPtr key) : key_(std::move(key)), spki_(std::make_shared<SpkiCache>()) {}
  std::shared_ptr<EVP_PKEY> key_;
  // i2d_PUBKEY runs an OSSL_ENCODER in OpenSSL 3.0 (~60 us): encode once per key.
  std::shared_ptr<SpkiCache> spki_;
};

class PrivateKey {
 public:
  static Result<PrivateKey> Generate(const KeySpec& spec);

  // PEM "ENCRYPTED PRIVATE KEY" (PKCS#8 EncryptedPrivateKeyInfo, RFC 5958 §3) with PBES2:
  // PBKDF2-HMAC-SHA256 and AES-256-CBC (RFC 8018 §6.2).
  static Result<PrivateKey> FromEncryptedPkcs8Pem(std::string_view pem,
                                                  std::string_view passphrase);
  Result<std::string> ToEncryptedPkcs8Pem(std::string_view passphrase,
                                          int pbkdf2_iterations = kDefaultPbkdf2Iterations) const;
  // Unencrypted PKCS#8 PEM is accepted only for subscriber keys in tests and tools, never
  // written for CA keys.
  static Result<PrivateKey> FromPem(std::string_view pem);

  static constexpr int kDefaultPbkdf2Iterations = 200000;

  // A PKCS#12 file (RFC 7292): its private key and the DER of its certificates, the key's own
  // first when it can be told apart. Errors: pkcs12.malformed, pkcs12.bad_passphrase,
  // pkcs12.no_key.
  struct Pkcs12Contents;
  static Result<Pkcs12Contents> FromPkcs12(ByteSpan der, std::string_view passphrase);

  KeySpec spec() const { return spec_; }
  PublicKey public_key() const;
  EVP_PKEY* openssl() const { return key_.get(); }

 private:
  PrivateKey(EvpPkeyPtr key, KeySpec spec) : key_(std::move(key)), spec_(std::move(spec)) {}
  std::shared_ptr<EVP_PKEY> key_;
  KeySpec spec_;
};

struct PrivateKey::Pkcs12Contents {
  PrivateKey key;
  std::vector<Bytes> certificates;
};

}  // namespace kyso::crypto
