// Request and Response: the plain values HTTP handlers see. The server (server.h) translates
// between these and the wire, so handlers neither include Beast nor know about TLS or
// keep-alive: they read a Request and return a Response (parse → validate → authorize → call
// the service → render).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace kyso::http {

enum class Method { kGet, kHead, kPost, kPut, kDelete, kOther };

std::string_view MethodName(Method method);

struct Request {
  Method method = Method::kGet;
  std::string target;  // as received: path and query
  std::string path;    // percent-decoding is the handler's business (RFC 3986 §2.1)
  std::string query;   // after '?', without it
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-case
  std::string body;
  std::string remote;  // "ip:port"
  bool tls = false;
  // The TLS client certificate the connection presented and the server verified against
  // TlsFiles::client_ca_file; both empty when none (plain HTTP, no client CAs configured, or
  // the client sent no certificate). Authentication decides what they are worth.
  std::string client_certificate_sha256;   // lower-case hex SHA-256 of the leaf's DER
  std::string client_certificate_subject;  // RFC 4514 string, UTF-8 ("CN=...,O=...,C=VN")
  // Path segments captured by the route pattern ("/crl/{name}" → {"ca.crl"}).
  std::vector<std::string> params;

  // First header with that (lower-case) name, or "".
  std::string_view Header(std::string_view lower_name) const;
  // Value of a query parameter (no percent-decoding), or "".
  std::string_view QueryParam(std::string_view name) const;
};

// RFC 3986 §2.1 percent-decoding of a path segment or path ('+' is not a space here); nullopt
// on a malformed escape.
std::optional<std::string> PercentDecode(std::string_view s);

struct Response {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;

  Response& Header(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
    return *this;
  }

  static Response Text(int status, std::string body);
  static Response Json(int status, std::string json);
  static Response Binary(int status, std::string content_type, std::string body);
  // {"error":{"code":"<id>","message":"<text>"}} with the status `code` maps to.
  static Response Error(int status, std::string_view code, std::string_view message);
  // From a Status: InvalidArgument → 400, NotFound → 404, AlreadyExists/FailedPrecondition →
  // 409, PermissionDenied → 403, Unauthenticated → 401, Unavailable → 503, else 500. The error
  // code is the Status's stable id.
  static Response FromStatus(const Status& status);
};

// The HTTP status a Status code maps to (see Response::FromStatus).
int HttpStatusFor(const Status& status);

// RFC 7231 §7.1.1.1 IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT".
std::string HttpDate(int64_t unix_seconds);

}  // namespace kyso::http
