// SoftHSM2 tokens for tests, in a temporary token directory, and OpenSC's pkcs11-tool as the
// independent judge of what is on them. Every SoftHSM and OpenSC quirk the tests meet is kept
// here, not in the tests:
//  - SoftHSM reads SOFTHSM2_CONF once, at C_Initialize: one token directory per test process
//    (SoftHsm::Instance()), set before any module is loaded.
//  - softhsm2-util --init-token moves the new token to another slot (a number derived from its
//    serial): tokens are named by label, never by slot.
//  - A process that initialized the module before a token was created does not see that token
//    until C_Initialize again (kyso's Pkcs11Token::Open initializes once more when a token is
//    not found); pkcs11-tool runs in its own process and always sees every token.
//  - A token whose directory disappears stays in the slot list, uninitialized with an empty
//    label, until the next C_Initialize.
//  - SoftHSM never locks a user PIN, and logging in is per process and token: once a process
//    is logged in, C_Login answers CKR_USER_ALREADY_LOGGED_IN whatever the PIN. PIN tests use
//    tokens no other test in the process logged in to.
//  - pkcs11-tool reads private objects only with --login --pin. OpenSC 0.23's --read-object
//    --type privkey refuses every private key, sensitive or not ("sorry, reading private keys
//    not (yet) supported", exit status 0), so it proves nothing about CKA_VALUE: tests read
//    the "Access:" line of its -O listing ("sensitive, always sensitive, never extractable")
//    and ask the module for CKA_VALUE themselves (ReadSecretAttribute), outside kyso's code.
#pragma once

#include <string>

#include "testlib/temp_dir.h"

namespace kyso::testlib {

class SoftHsm {
 public:
  // The process's SoftHSM: a temporary token directory and SOFTHSM2_CONF pointing at it.
  static SoftHsm& Instance();

  static constexpr const char* kModule = "/usr/lib/softhsm/libsofthsm2.so";
  const std::string& token_dir() const { return token_dir_; }

  // Initializes a new token; returns its serial ("" on failure).
  std::string CreateToken(const std::string& label, const std::string& user_pin = "1234",
                          const std::string& so_pin = "5678");
  // Imports an unencrypted PKCS#8 PEM key pair as `key_label` with CKA_ID `id_hex`.
  bool ImportKey(const std::string& token, const std::string& key_pem_file,
                 const std::string& key_label, const std::string& id_hex,
                 const std::string& user_pin = "1234");
  // A file holding `pin` (mode 0600), in the temporary directory.
  std::string PinFile(const std::string& pin);
  // "pkcs11:token=<token>[;object=<object>]?module-path=<module>"
  std::string Uri(const std::string& token, const std::string& object = "") const;

  // Runs OpenSC's pkcs11-tool on the module with `args`; returns its exit status.
  int Pkcs11Tool(const std::string& args, std::string* output = nullptr) const;

  // Asks the module directly (not through kyso) for attribute `type` of the private key with
  // CKA_ID `id` on token `label`, logged in with `pin`; returns the module's CK_RV
  // (CKR_ATTRIBUTE_SENSITIVE = 0x11 when it refuses), or ~0 when the key is not found.
  unsigned long ReadSecretAttribute(const std::string& label, const std::string& pin,
                                    const std::string& id, unsigned long type) const;

  // Calls C_Finalize on the module behind kyso's back (dlopen gives the same module instance),
  // as an HSM restart or a pulled token would end kyso's sessions.
  void FinalizeUnderneath() const;
  // Moves the token's directory away (it is gone at the next C_Initialize) and back.
  bool HideToken(const std::string& serial);
  bool RestoreToken(const std::string& serial);

 private:
  SoftHsm();
  std::string DirectoryOf(const std::string& serial) const;

  TempDir dir_;
  std::string token_dir_;
  int files_ = 0;
};

}  // namespace kyso::testlib
