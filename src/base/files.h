// File helpers with the durability the CA needs: a key or certificate file is either fully
// written or absent (write to a temp file, fsync, rename), never half-written.
#pragma once

#include <sys/types.h>

#include <string>

#include "base/bytes.h"
#include "base/result.h"

namespace kyso {

Result<Bytes> ReadFile(const std::string& path, size_t max_size = 64u << 20);
Result<std::string> ReadTextFile(const std::string& path, size_t max_size = 64u << 20);

// Atomically replaces `path` with `data`, created with `mode` (e.g. 0600 for secrets).
Status WriteFileAtomic(const std::string& path, ByteSpan data, mode_t mode = 0644);
// Fails with AlreadyExists rather than replacing an existing file.
Status WriteNewFile(const std::string& path, ByteSpan data, mode_t mode = 0644);

// Appends `data` with one write(2) to a file opened O_APPEND (created with `mode`), so lines
// appended by several processes do not interleave (log files).
Status AppendToFile(const std::string& path, ByteSpan data, mode_t mode = 0644);

bool FileExists(const std::string& path);
Status MakeDirectories(const std::string& path, mode_t mode = 0755);

}  // namespace kyso
