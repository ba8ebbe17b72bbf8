// AccessLog: one JSON object per request (JSON Lines), written through spdlog's asynchronous
// logger so the I/O thread only formats the line and enqueues it.
//
//   {"ts":"2026-11-21T10:00:00.123Z","remote":"127.0.0.1:51234","method":"POST","path":"/ocsp",
//    "route":"ocsp_post","status":200,"bytes":1187,"us":84,"tls":false}
//
// Paths are truncated to 256 bytes and JSON-escaped, so a hostile client cannot forge lines or
// grow the log without bound per request.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "base/result.h"

namespace spdlog {
class logger;
}

namespace kyso::http {

struct AccessRecord {
  std::string_view remote;
  std::string_view method;
  std::string_view path;
  std::string_view route;
  int status = 0;
  size_t bytes = 0;
  int64_t micros = 0;
  bool tls = false;
};

class AccessLog {
 public:
  // `destination`: a file path (appended to, created with its directory), or "-" for stdout.
  static Result<std::unique_ptr<AccessLog>> Open(const std::string& destination);
  ~AccessLog();

  void Write(const AccessRecord& record);
  void Flush();

  // The JSON line for a record (without newline); exposed for tests.
  static std::string Format(const AccessRecord& record, int64_t unix_millis);

 private:
  explicit AccessLog(std::shared_ptr<spdlog::logger> logger);
  std::shared_ptr<spdlog::logger> logger_;
};

}  // namespace kyso::http
