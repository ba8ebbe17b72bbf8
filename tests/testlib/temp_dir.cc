#include "testlib/temp_dir.h"

#include <cstdlib>
#include <filesystem>

namespace kyso::testlib {

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/kyso-test-XXXXXX";
  char* made = mkdtemp(tmpl.data());
  path_ = made ? made : tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

}  // namespace kyso::testlib
