// StaticSite: serves a built single-page application (the portal, web/dist) from a directory,
// on the same origin as the API.
//
//   /assets/<name>   hashed build output: cached for a year ("immutable"); a missing one is 404
//   /<file>          any other file under the root (favicon, robots.txt): revalidated
//   anything else    index.html ("no-cache"), so client-side routes survive a reload
//
// Paths the server reserves for its own handlers (/api/, /ocsp, /crl/, /tsa, /ca/, /certs,
// /healthz, /metrics) never fall back to index.html: they stay the API's JSON 404.
//
// Files are read per request, so a rebuilt portal is served without a restart. A request path
// is percent-decoded once and refused when any segment is "." or "..", or it holds a NUL or a
// backslash; the resolved file must be a regular file whose real path lies under the root's
// real path (no symlink leads out). When the client accepts gzip and "<file>.gz" exists beside
// the file, the compressed sibling is sent.
//
// Every response carries the portal's security headers: a strict Content-Security-Policy (no
// inline script or style, no third-party origin, no framing), nosniff, no referrer, DENY.
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"
#include "base/status.h"
#include "http/message.h"

namespace kyso::http {

class StaticSite {
 public:
  // `root` must be a directory holding index.html.
  static Result<StaticSite> Open(const std::string& root);

  // GET and HEAD (the server drops the body of a HEAD answer).
  Response Serve(const Request& request) const;

  const std::string& root() const { return root_; }

  // The headers every portal response carries (exposed for tests).
  static void AddSecurityHeaders(Response& response);
  // Whether `path` belongs to the server's own handlers (no index.html fallback).
  static bool IsReservedPath(std::string_view path);

 private:
  explicit StaticSite(std::string root) : root_(std::move(root)) {}
  Response File(const Request& request, const std::string& relative, bool immutable) const;

  std::string root_;  // real path, no trailing slash
};

}  // namespace kyso::http
