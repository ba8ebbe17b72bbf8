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

}  // namespace kyso::crypto
