// Router: maps (method, path) to a handler. Routes are registered before the server starts and
// never change afterwards, so lookups need no lock.
//
// Patterns are literal paths ("/healthz") or literal segments with `{name}` placeholders
// ("/crl/{file}", "/api/v1/certificates/{serial}"). A placeholder matches one non-empty
// segment; a trailing `{*rest}` matches the remainder of the path, slashes included (for
// "/ocsp/{*request}", whose base64 may contain '/'). Literal routes win over patterns.
//
// Each route has a name (used in metrics and the access log, so cardinality stays bounded
// whatever paths clients send) and a body limit: the server refuses a larger body with 413
// before reading it.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "http/message.h"

namespace kyso::http {

using Handler = std::function<Response(Request&)>;

struct Route {
  std::string name;  // "ocsp_post", "crl", ...
  std::vector<Method> methods;
  std::string pattern;
  size_t max_body_bytes = 0;  // 0: no body accepted beyond the server default for GET
  Handler handler;
};

class Router {
 public:
  // Returns the route's index (its metrics slot).
  size_t Add(Route route);
  // The route for a path no other route knows (the portal's files and its client-side routes).
  // A path some route knows never falls through to it, whatever the method, and a method the
  // fallback does not take stays a 404, so the API's 404s and 405s are unchanged.
  size_t SetFallback(Route route);

  struct Match {
    const Route* route = nullptr;  // nullptr: no route for this path
    size_t index = 0;
    bool method_allowed = false;  // path matched but not the method (405)
  };
  // Fills request.params with the captured segments on a match.
  Match Find(Method method, std::string_view path, std::vector<std::string>* params) const;

  const std::vector<Route>& routes() const { return routes_; }

 private:
  static bool MatchPattern(const std::vector<std::string>& pattern, std::string_view path,
                           std::vector<std::string>* params);

  std::vector<Route> routes_;
  std::vector<std::vector<std::string>> segments_;  // per route; empty for literal routes
  std::optional<size_t> fallback_;
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, std::vector<size_t>, StringHash, std::equal_to<>> literal_;
};

}  // namespace kyso::http
