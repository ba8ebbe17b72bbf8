#include "http/access_log.h"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <filesystem>
#include <mutex>

namespace kyso::http {
namespace {

void AppendEscaped(std::string& out, std::string_view s, size_t limit) {
  static const char* kHex = "0123456789abcdef";
  size_t n = 0;
  for (unsigned char c : s) {
    if (n++ >= limit) {
      out += "...";
      break;
    }
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c >= 0x7f) {
      // Bytes outside printable ASCII are escaped one by one, so invalid UTF-8 from a client
      // still yields valid JSON.
      out += "\\u00";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
}

}  // namespace

AccessLog::AccessLog(std::shared_ptr<spdlog::logger> logger) : logger_(std::move(logger)) {}

AccessLog::~AccessLog() {
  Flush();
}

Result<std::unique_ptr<AccessLog>> AccessLog::Open(const std::string& destination) {
  try {
    spdlog::sink_ptr sink;
    if (destination == "-") {
      sink = std::make_shared<spdlog::sinks::stdout_sink_mt>();
    } else {
      std::error_code ec;
      const auto parent = std::filesystem::path(destination).parent_path();
      if (!parent.empty()) std::filesystem::create_directories(parent, ec);
      sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(destination, false);
    }
    auto logger = std::make_shared<spdlog::logger>("access", sink);
    logger->set_pattern("%v");
    return std::unique_ptr<AccessLog>(new AccessLog(std::move(logger)));
  } catch (const std::exception& e) {
    return Unavailable("http.access_log",
                       "cannot open access log " + destination + ": " + e.what());
  }
}

std::string AccessLog::Format(const AccessRecord& r, int64_t unix_millis) {
  std::string line;
  line.reserve(256);
  const time_t secs = static_cast<time_t>(unix_millis / 1000);
  struct tm tm {};
  gmtime_r(&secs, &tm);
  char ts[64];
  snprintf(ts, sizeof ts, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
           tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(unix_millis % 1000));
  line += "{\"ts\":\"";
  line += ts;
  line += "\",\"remote\":\"";
  AppendEscaped(line, r.remote, 64);
  line += "\",\"method\":\"";
  AppendEscaped(line, r.method, 16);
  line += "\",\"path\":\"";
  AppendEscaped(line, r.path, 256);
  line += "\",\"route\":\"";
  AppendEscaped(line, r.route, 64);
  line += "\",\"status\":" + std::to_string(r.status) + ",\"bytes\":" + std::to_string(r.bytes) +
          ",\"us\":" + std::to_string(r.micros) + ",\"tls\":" + (r.tls ? "true" : "false") + "}";
  return line;
}

void AccessLog::Write(const AccessRecord& record) {
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  logger_->info(Format(record, now));
}

void AccessLog::Flush() {
  logger_->flush();
}

}  // namespace kyso::http
