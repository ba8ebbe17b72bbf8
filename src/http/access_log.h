// AccessLog: one JSON object per request (JSON Lines), written through spdlog.
//
// Lines are gathered in memory and handed to spdlog's file sink in batches — when 256 KiB have
// gathered, and on Flush(), which `kyso serve` calls every 100 ms and at shutdown. A logger call
// per request (with spdlog's async queue, a condition-variable wake-up per line) cost a fifth
// of the OCSP responder's throughput; a batch costs one write(2) per ~1,500 requests.
//
//   {"ts":"2026-11-21T10:00:00.123Z","remote":"127.0.0.1:51234","method":"POST","path":"/ocsp",
//    "route":"ocsp_post","status":200,"bytes":1187,"us":84,"tls":false}
//
// Paths are truncated to 256 bytes and JSON-escaped, so a hostile client cannot forge lines or
// grow the log without bound per request.
#pragma once

#include <memory>
#include <mutex>
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
  void FlushLocked();

  std::shared_ptr<spdlog::logger> logger_;
  std::mutex mu_;
  std::string pending_;  // complete lines, each ending in '\n'; guarded by mu_
};

}  // namespace kyso::http
