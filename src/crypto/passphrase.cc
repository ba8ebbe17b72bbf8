#include "crypto/passphrase.h"

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <cstdlib>

#include "base/files.h"

namespace kyso::crypto {

static Result<std::string> FromFile(const std::string& path, const SecretKind& kind) {
  auto text = ReadTextFile(path, 4096);
  if (!text.ok()) {
    return InvalidArgument(kind.id_prefix + "file_unreadable",
                           "cannot read " + path + ": " + text.status().message());
  }
  std::string pass = *text;
  auto nl = pass.find_first_of("\r\n");
  if (nl != std::string::npos) pass.resize(nl);
  if (pass.empty()) return InvalidArgument(kind.id_prefix + "empty", path + " is empty");
  return pass;
}

static Status Unavailable(const SecretKind& kind) {
  return FailedPrecondition(kind.id_prefix + "unavailable",
                            "no " + kind.what + ": use " + kind.hint);
}

static Result<std::string> Prompt(const std::string& prompt, const SecretKind& kind) {
  int fd = ::open("/dev/tty", O_RDWR | O_CLOEXEC);
  if (fd < 0) return Unavailable(kind);
  termios old{};
  bool restore = ::tcgetattr(fd, &old) == 0;
  if (restore) {
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(fd, TCSAFLUSH, &quiet);
  }
  std::string shown = prompt + ": ";
  (void)!::write(fd, shown.data(), shown.size());
  std::string pass;
  char c;
  while (::read(fd, &c, 1) == 1 && c != '\n' && c != '\r') pass.push_back(c);
  (void)!::write(fd, "\n", 1);
  if (restore) ::tcsetattr(fd, TCSAFLUSH, &old);
  ::close(fd);
  if (pass.empty()) return InvalidArgument(kind.id_prefix + "empty", "nothing was entered");
  return pass;
}

Result<std::string> ReadSecret(const PassphraseSource& source, const SecretKind& kind,
                               const std::string& prompt) {
  if (source.file) return FromFile(*source.file, kind);
  if (const char* env = std::getenv(kind.env_file.c_str()); env != nullptr && *env != '\0') {
    return FromFile(env, kind);
  }
  if (!source.allow_prompt) return Unavailable(kind);
  return Prompt(prompt, kind);
}

Result<std::string> ReadPassphrase(const PassphraseSource& source, const std::string& prompt) {
  static const SecretKind kPassphrase{"KYSO_PASSPHRASE_FILE", "passphrase.", "passphrase",
                                      "--passphrase-file or KYSO_PASSPHRASE_FILE"};
  return ReadSecret(source, kPassphrase, prompt);
}

}  // namespace kyso::crypto
