#include "crypto/passphrase.h"

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <cstdlib>

#include "base/files.h"

namespace kyso::crypto {

static Result<std::string> FromFile(const std::string& path) {
  auto text = ReadTextFile(path, 4096);
  if (!text.ok()) {
    return InvalidArgument("passphrase.file_unreadable",
                           "cannot read passphrase file: " + text.status().message());
  }
  std::string pass = *text;
  auto nl = pass.find_first_of("\r\n");
  if (nl != std::string::npos) pass.resize(nl);
  if (pass.empty())
    return InvalidArgument("passphrase.empty", "passphrase file " + path + " is empty");
  return pass;
}

static Result<std::string> Prompt(const std::string& prompt) {
  int fd = ::open("/dev/tty", O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    return FailedPrecondition("passphrase.unavailable",
                              "no passphrase: use --passphrase-file or KYSO_PASSPHRASE_FILE");
  }
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
  if (pass.empty()) return InvalidArgument("passphrase.empty", "empty passphrase");
  return pass;
}

Result<std::string> ReadPassphrase(const PassphraseSource& source, const std::string& prompt) {
  if (source.file) return FromFile(*source.file);
  if (const char* env = std::getenv("KYSO_PASSPHRASE_FILE"); env != nullptr && *env != '\0') {
    return FromFile(env);
  }
  if (!source.allow_prompt) {
    return FailedPrecondition("passphrase.unavailable",
                              "no passphrase: use --passphrase-file or KYSO_PASSPHRASE_FILE");
  }
  return Prompt(prompt);
}

}  // namespace kyso::crypto
