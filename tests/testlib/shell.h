// Running the real peers (openssl, ...) from unit tests, and writing their input files.
#pragma once

#include <string>

#include "base/bytes.h"

namespace kyso::testlib {

// Runs `command` through /bin/sh; returns its exit status (-1 if it did not exit normally) and,
// when `output` is set, puts its stdout and stderr there.
int Shell(const std::string& command, std::string* output = nullptr);

// `s` as one word for /bin/sh: in single quotes, each ' written '\''.
std::string ShellQuote(const std::string& s);

// Writes `data` to `path`, replacing it.
void WriteBytes(const std::string& path, ByteSpan data);

}  // namespace kyso::testlib
