// KeyStore: where the CA's private keys live, addressed by a key reference string that the
// store writes into the database ("file:keys/issuing.key.pem", or for a key on a token
// "pkcs11:token=...;serial=...;object=...;id=...;type=private?module-path=...").
//
// FileKeyStore keeps each key as encrypted PKCS#8 (RFC 5958, PBES2) with mode 0600, so a CA key
// never touches disk in plaintext. The passphrase is asked for lazily, once, the first time a
// key is saved or loaded: read-only commands never prompt. It also loads keys that
// `kyso init --hsm` generated on a token (crypto/pkcs11.h): Load opens a pkcs11: reference
// with the PIN from its pin-source, KYSO_PIN_FILE or a prompt; Save always writes a file.
//
// Thread-safety: Load and Save may be called concurrently.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "base/result.h"
#include "crypto/key.h"
#include "crypto/signer.h"

namespace kyso::crypto {

class KeyStore {
 public:
  virtual ~KeyStore() = default;
  // Stores a new key under `name` and returns its reference. Fails with AlreadyExists
  // ("keystore.exists") rather than replacing a key.
  virtual Result<std::string> Save(const std::string& name, const PrivateKey& key) = 0;
  virtual Result<std::shared_ptr<const Signer>> Load(const std::string& key_ref) = 0;
};

using PassphraseProvider = std::function<Result<std::string>()>;

class FileKeyStore final : public KeyStore {
 public:
  // Keys live in `base_dir`/keys/. References are relative to `base_dir`.
  FileKeyStore(std::string base_dir, PassphraseProvider passphrase,
               int pbkdf2_iterations = PrivateKey::kDefaultPbkdf2Iterations);

  Result<std::string> Save(const std::string& name, const PrivateKey& key) override;
  Result<std::shared_ptr<const Signer>> Load(const std::string& key_ref) override;

 private:
  Result<std::string> Passphrase();

  std::string base_dir_;
  PassphraseProvider provider_;
  int iterations_;
  std::mutex mu_;
  std::optional<std::string> passphrase_;
  std::map<std::string, std::shared_ptr<const Signer>> loaded_;
};

// Keys held only in memory: for tests, benchmarks and throwaway instances. References are
// "mem:<name>".
class MemoryKeyStore final : public KeyStore {
 public:
  Result<std::string> Save(const std::string& name, const PrivateKey& key) override;
  Result<std::shared_ptr<const Signer>> Load(const std::string& key_ref) override;

 private:
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<const Signer>> keys_;
};

}  // namespace kyso::crypto
