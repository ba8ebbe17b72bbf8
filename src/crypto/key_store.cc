#include "crypto/key_store.h"

#include "base/files.h"
#include "crypto/pkcs11.h"

namespace kyso::crypto {

static constexpr std::string_view kFilePrefix = "file:";

FileKeyStore::FileKeyStore(std::string base_dir, PassphraseProvider passphrase,
                           int pbkdf2_iterations)
    : base_dir_(std::move(base_dir)),
      provider_(std::move(passphrase)),
      iterations_(pbkdf2_iterations) {}

Result<std::string> FileKeyStore::Passphrase() {
  // Called with mu_ held.
  if (!passphrase_) {
    KYSO_ASSIGN_OR_RETURN(std::string p, provider_());
    passphrase_ = std::move(p);
  }
  return *passphrase_;
}

Result<std::string> FileKeyStore::Save(const std::string& name, const PrivateKey& key) {
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') {
      return InvalidArgument("keystore.bad_name", "key names use [A-Za-z0-9_-]: " + name);
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  KYSO_ASSIGN_OR_RETURN(std::string passphrase, Passphrase());
  KYSO_ASSIGN_OR_RETURN(std::string pem, key.ToEncryptedPkcs8Pem(passphrase, iterations_));
  KYSO_RETURN_IF_ERROR(MakeDirectories(base_dir_ + "/keys", 0700));
  std::string relative = "keys/" + name + ".key.pem";
  Status st = WriteNewFile(base_dir_ + "/" + relative, AsBytes(pem), 0600);
  if (st.code() == StatusCode::kAlreadyExists) {
    return AlreadyExists("keystore.exists", "a key named " + name + " already exists");
  }
  KYSO_RETURN_IF_ERROR(st);
  std::string ref = std::string(kFilePrefix) + relative;
  loaded_[ref] = std::make_shared<SoftwareSigner>(key, ref);
  return ref;
}

Result<std::shared_ptr<const Signer>> FileKeyStore::Load(const std::string& key_ref) {
  if (IsPkcs11Uri(key_ref)) {
    // A key kyso init --hsm generated on a token: it stays there; the reference names the token,
    // the key and the module. The PIN comes from the reference's pin-source, KYSO_PIN_FILE or a
    // prompt, once per token and process.
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = loaded_.find(key_ref); it != loaded_.end()) return it->second;
    KYSO_ASSIGN_OR_RETURN(auto signer, OpenPkcs11Signer(key_ref, Pkcs11Options{}));
    loaded_[key_ref] = signer;
    return signer;
  }
  if (key_ref.rfind(kFilePrefix, 0) != 0) {
    return InvalidArgument("keystore.unsupported_ref",
                           "this key store holds file keys only, not " + key_ref);
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = loaded_.find(key_ref); it != loaded_.end()) return it->second;
  std::string path = base_dir_ + "/" + key_ref.substr(kFilePrefix.size());
  auto pem = ReadTextFile(path, 1 << 20);
  if (!pem.ok()) {
    return NotFound("keystore.missing",
                    "cannot read key " + key_ref + ": " + pem.status().message());
  }
  KYSO_ASSIGN_OR_RETURN(std::string passphrase, Passphrase());
  auto key = PrivateKey::FromEncryptedPkcs8Pem(*pem, passphrase);
  if (!key.ok()) {
    if (key.status().id() == "key.wrong_passphrase") passphrase_.reset();  // allow a retry
    return key.status();
  }
  auto signer = std::make_shared<SoftwareSigner>(std::move(key).value(), key_ref);
  loaded_[key_ref] = signer;
  return std::shared_ptr<const Signer>(signer);
}

Result<std::string> MemoryKeyStore::Save(const std::string& name, const PrivateKey& key) {
  std::lock_guard<std::mutex> lock(mu_);
  std::string ref = "mem:" + name;
  if (keys_.count(ref))
    return AlreadyExists("keystore.exists", "a key named " + name + " already exists");
  keys_[ref] = std::make_shared<SoftwareSigner>(key, ref);
  return ref;
}

Result<std::shared_ptr<const Signer>> MemoryKeyStore::Load(const std::string& key_ref) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = keys_.find(key_ref);
  if (it == keys_.end()) return NotFound("keystore.missing", "no key " + key_ref);
  return it->second;
}

}  // namespace kyso::crypto
