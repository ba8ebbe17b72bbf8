// Where the passphrase protecting the CA's encrypted keys comes from, in order:
//   1. --passphrase-file PATH
//   2. $KYSO_PASSPHRASE_FILE
//   3. an interactive prompt on the controlling terminal (echo off)
// A passphrase file holds the passphrase on its first line; a trailing newline is ignored.
#pragma once

#include <optional>
#include <string>

#include "base/result.h"

namespace kyso::crypto {

struct PassphraseSource {
  std::optional<std::string> file;  // from --passphrase-file
  bool allow_prompt = true;         // false in --json / non-interactive use
};

// Errors: passphrase.file_unreadable, passphrase.empty, passphrase.unavailable (no file and
// no terminal to prompt on).
Result<std::string> ReadPassphrase(const PassphraseSource& source, const std::string& prompt);

// The same order for another secret (a token's PIN): `source.file`, then the file named by the
// environment variable `env_file`, then a prompt. Error ids start with `id_prefix`
// ("pkcs11.pin_" gives pkcs11.pin_file_unreadable, pkcs11.pin_empty, pkcs11.pin_unavailable);
// `hint` names the options that supply the secret. The secret is never part of a message.
struct SecretKind {
  std::string env_file;   // "KYSO_PIN_FILE"
  std::string id_prefix;  // "pkcs11.pin_"
  std::string what;       // "PIN"
  std::string hint;       // "--pin-file or KYSO_PIN_FILE"
};
Result<std::string> ReadSecret(const PassphraseSource& source, const SecretKind& kind,
                               const std::string& prompt);

}  // namespace kyso::crypto
