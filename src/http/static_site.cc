#include "http/static_site.h"

#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <array>
#include <memory>

#include "base/files.h"

namespace kyso::http {
namespace {

constexpr size_t kMaxFileBytes = 16u << 20;

constexpr std::string_view kContentSecurityPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'";

std::string_view ContentTypeFor(std::string_view path) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 16> kTypes = {{
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".map", "application/json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".jpg", "image/jpeg"},
      {".webp", "image/webp"},
      {".ico", "image/x-icon"},
      {".woff2", "font/woff2"},
      {".woff", "font/woff"},
      {".ttf", "font/ttf"},
      {".txt", "text/plain; charset=utf-8"},
      {".webmanifest", "application/manifest+json"},
  }};
  for (const auto& [ext, type] : kTypes) {
    if (path.size() > ext.size() && path.substr(path.size() - ext.size()) == ext) return type;
  }
  return "application/octet-stream";
}

// The decoded path relative to the root ("assets/app.js"), or nullopt when it could leave it.
std::optional<std::string> SafeRelativePath(std::string_view request_path) {
  auto decoded = PercentDecode(request_path);
  if (!decoded || decoded->empty() || decoded->front() != '/') return std::nullopt;
  if (decoded->find('\0') != std::string::npos || decoded->find('\\') != std::string::npos) {
    return std::nullopt;
  }
  std::string relative;
  std::string_view rest(*decoded);
  while (!rest.empty()) {
    const size_t slash = rest.find('/');
    std::string_view segment = rest.substr(0, slash);
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
    if (segment.empty()) continue;
    if (segment == "." || segment == "..") return std::nullopt;
    if (!relative.empty()) relative += '/';
    relative += segment;
  }
  return relative;
}

std::optional<std::string> RealPath(const std::string& path) {
  std::unique_ptr<char, decltype(&free)> resolved(realpath(path.c_str(), nullptr), &free);
  if (!resolved) return std::nullopt;
  return std::string(resolved.get());
}

bool AcceptsGzip(std::string_view accept_encoding) {
  while (!accept_encoding.empty()) {
    const size_t comma = accept_encoding.find(',');
    std::string_view item = accept_encoding.substr(0, comma);
    accept_encoding =
        comma == std::string_view::npos ? std::string_view() : accept_encoding.substr(comma + 1);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    const size_t semi = item.find(';');
    std::string_view name = item.substr(0, semi);
    while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
    if (name != "gzip" && name != "x-gzip" && name != "*") continue;
    if (semi == std::string_view::npos) return true;
    std::string_view params = item.substr(semi + 1);
    const size_t q = params.find("q=");
    if (q == std::string_view::npos) return true;
    std::string_view value = params.substr(q + 2);
    // q=0, q=0.0, q=0.00, q=0.000 refuse; anything else accepts.
    bool zero = !value.empty() && value.front() == '0';
    for (size_t i = 1; zero && i < value.size() && value[i] != ' ' && value[i] != ';'; ++i) {
      if (value[i] != '.' && value[i] != '0') zero = false;
    }
    return !zero;
  }
  return false;
}

Response NotFoundPage(std::string_view path) {
  Response r = Response::Text(404, "not found: " + std::string(path) + "\n");
  StaticSite::AddSecurityHeaders(r);
  r.Header("Cache-Control", "no-cache");
  return r;
}

}  // namespace

Result<StaticSite> StaticSite::Open(const std::string& root) {
  auto real = RealPath(root);
  struct stat st {};
  if (!real || stat(real->c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return NotFound("web.no_root", "no portal directory at " + root);
  }
  if (!FileExists(*real + "/index.html")) {
    return NotFound("web.no_index", "no index.html in " + root + " (build the portal: make web)");
  }
  return StaticSite(*real);
}

void StaticSite::AddSecurityHeaders(Response& response) {
  response.Header("Content-Security-Policy", std::string(kContentSecurityPolicy));
  response.Header("X-Content-Type-Options", "nosniff");
  response.Header("Referrer-Policy", "no-referrer");
  response.Header("X-Frame-Options", "DENY");
}

bool StaticSite::IsReservedPath(std::string_view path) {
  static constexpr std::array<std::string_view, 8> kReserved = {
      "/api", "/ocsp", "/crl", "/tsa", "/ca", "/certs", "/healthz", "/metrics"};
  for (std::string_view prefix : kReserved) {
    if (path.substr(0, prefix.size()) == prefix &&
        (path.size() == prefix.size() || path[prefix.size()] == '/')) {
      return true;
    }
  }
  return false;
}

Response StaticSite::Serve(const Request& request) const {
  auto relative = SafeRelativePath(request.path);
  if (!relative) {
    Response r = Response::Text(400, "bad path\n");
    AddSecurityHeaders(r);
    return r;
  }
  if (relative->empty() || *relative == "index.html") return File(request, "index.html", false);
  const bool asset = relative->rfind("assets/", 0) == 0;
  struct stat st {};
  const std::string candidate = root_ + "/" + *relative;
  if (stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
    return File(request, *relative, asset);
  }
  if (IsReservedPath(request.path)) {
    // The API's own answer, as when no portal is served.
    return Response::Error(404, "http.not_found", "no such resource: " + request.path);
  }
  if (asset) return NotFoundPage(request.path);
  return File(request, "index.html", false);  // a client-side route
}

Response StaticSite::File(const Request& request, const std::string& relative,
                          bool immutable) const {
  auto real = RealPath(root_ + "/" + relative);
  struct stat st {};
  if (!real || real->rfind(root_ + "/", 0) != 0 || stat(real->c_str(), &st) != 0 ||
      !S_ISREG(st.st_mode)) {
    return NotFoundPage(request.path);
  }
  std::string body_path = *real;
  bool gzipped = false;
  if (AcceptsGzip(request.Header("accept-encoding"))) {
    auto gz = RealPath(*real + ".gz");
    struct stat gz_st {};
    if (gz && gz->rfind(root_ + "/", 0) == 0 && stat(gz->c_str(), &gz_st) == 0 &&
        S_ISREG(gz_st.st_mode)) {
      body_path = *gz;
      gzipped = true;
    }
  }
  auto body = ReadTextFile(body_path, kMaxFileBytes);
  if (!body.ok()) return NotFoundPage(request.path);
  Response r = Response::Binary(200, std::string(ContentTypeFor(relative)), std::move(*body));
  AddSecurityHeaders(r);
  r.Header("Cache-Control", immutable ? "public, max-age=31536000, immutable" : "no-cache");
  r.Header("Vary", "Accept-Encoding");
  if (gzipped) r.Header("Content-Encoding", "gzip");
  return r;
}

}  // namespace kyso::http
