// Where the shared test documents and images live (../shared/testdata beside the checkout,
// read in place, never copied into the repository). $KYSO_TESTDATA_DIR overrides it.
#pragma once

#include <cstdlib>
#include <string>

namespace kyso::testlib {

inline std::string TestdataPath(const std::string& relative) {
  if (const char* dir = std::getenv("KYSO_TESTDATA_DIR"); dir && *dir) {
    return std::string(dir) + "/" + relative;
  }
  const char* source = std::getenv("KYSO_SOURCE_DIR");
  std::string base = source && *source ? std::string(source) : std::string(KYSO_SOURCE_DIR_DEFAULT);
  return base + "/../shared/testdata/" + relative;
}

}  // namespace kyso::testlib
