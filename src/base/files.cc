#include "base/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace kyso {

static Status Errno(std::string id, const std::string& what, const std::string& path) {
  return Unavailable(std::move(id), what + " " + path + ": " + std::strerror(errno));
}

Result<Bytes> ReadFile(const std::string& path, size_t max_size) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return NotFound("file.not_found", "no such file: " + path);
    return Errno("file.read_failed", "cannot open", path);
  }
  Bytes out;
  uint8_t buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      Status st = Errno("file.read_failed", "cannot read", path);
      ::close(fd);
      return st;
    }
    if (n == 0) break;
    if (out.size() + static_cast<size_t>(n) > max_size) {
      ::close(fd);
      return InvalidArgument("file.too_large",
                             path + " is larger than " + std::to_string(max_size) + " bytes");
    }
    out.insert(out.end(), buf, buf + n);
  }
  ::close(fd);
  return out;
}

Result<std::string> ReadTextFile(const std::string& path, size_t max_size) {
  KYSO_ASSIGN_OR_RETURN(Bytes b, ReadFile(path, max_size));
  return std::string(b.begin(), b.end());
}

static Status WriteAll(int fd, ByteSpan data, const std::string& path) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno("file.write_failed", "cannot write", path);
    }
    off += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) return Errno("file.write_failed", "cannot fsync", path);
  return Status::Ok();
}

static void SyncParentDirectory(const std::string& path) {
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

Status WriteFileAtomic(const std::string& path, ByteSpan data, mode_t mode) {
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return Errno("file.write_failed", "cannot create", tmp);
  ::fchmod(fd, mode);  // umask must not widen or narrow what the caller asked for
  Status st = WriteAll(fd, data, tmp);
  ::close(fd);
  if (!st.ok() || ::rename(tmp.c_str(), path.c_str()) != 0) {
    if (st.ok()) st = Errno("file.write_failed", "cannot rename onto", path);
    ::unlink(tmp.c_str());
    return st;
  }
  SyncParentDirectory(path);
  return Status::Ok();
}

Status WriteNewFile(const std::string& path, ByteSpan data, mode_t mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) {
    if (errno == EEXIST) return AlreadyExists("file.exists", "refusing to overwrite " + path);
    return Errno("file.write_failed", "cannot create", path);
  }
  ::fchmod(fd, mode);
  Status st = WriteAll(fd, data, path);
  ::close(fd);
  if (!st.ok()) {
    ::unlink(path.c_str());
    return st;
  }
  SyncParentDirectory(path);
  return Status::Ok();
}

Status AppendToFile(const std::string& path, ByteSpan data, mode_t mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, mode);
  if (fd < 0) return Errno("file.write_failed", "cannot open", path);
  Status st = WriteAll(fd, data, path);
  ::close(fd);
  return st;
}

bool FileExists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

Status MakeDirectories(const std::string& path, mode_t mode) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec)
    return Unavailable("file.mkdir_failed",
                       "cannot create directory " + path + ": " + ec.message());
  ::chmod(path.c_str(), mode);
  return Status::Ok();
}

}  // namespace kyso
