#include "http/router.h"

#include <algorithm>

namespace kyso::http {
namespace {

std::vector<std::string> SplitSegments(std::string_view path) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '/') {
      ++i;
      continue;
    }
    const size_t end = path.find('/', i);
    out.emplace_back(path.substr(i, end == std::string_view::npos ? path.size() - i : end - i));
    if (end == std::string_view::npos) break;
    i = end;
  }
  return out;
}

bool IsPlaceholder(const std::string& segment) {
  return segment.size() >= 2 && segment.front() == '{' && segment.back() == '}';
}

bool IsRest(const std::string& segment) {
  return segment.rfind("{*", 0) == 0;
}

}  // namespace

size_t Router::Add(Route route) {
  const size_t index = routes_.size();
  std::vector<std::string> segments = SplitSegments(route.pattern);
  const bool literal = std::none_of(segments.begin(), segments.end(),
                                    [](const auto& s) { return IsPlaceholder(s); });
  if (literal) {
    literal_[route.pattern].push_back(index);
    segments.clear();
  }
  segments_.push_back(std::move(segments));
  routes_.push_back(std::move(route));
  return index;
}

size_t Router::SetFallback(Route route) {
  const size_t index = routes_.size();
  segments_.emplace_back();  // neither literal nor pattern: only Find's last resort
  routes_.push_back(std::move(route));
  fallback_ = index;
  return index;
}

bool Router::MatchPattern(const std::vector<std::string>& pattern, std::string_view path,
                          std::vector<std::string>* params) {
  std::vector<std::string> captured;
  size_t pos = 0;
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (pos >= path.size() || path[pos] != '/') return false;
    ++pos;
    if (IsRest(pattern[i])) {
      if (pos >= path.size()) return false;
      captured.emplace_back(path.substr(pos));
      pos = path.size();
      break;
    }
    size_t end = path.find('/', pos);
    if (end == std::string_view::npos) end = path.size();
    std::string_view segment = path.substr(pos, end - pos);
    if (IsPlaceholder(pattern[i])) {
      if (segment.empty()) return false;
      captured.emplace_back(segment);
    } else if (segment != pattern[i]) {
      return false;
    }
    pos = end;
  }
  if (pos != path.size()) return false;
  if (params) *params = std::move(captured);
  return true;
}

Router::Match Router::Find(Method method, std::string_view path,
                           std::vector<std::string>* params) const {
  Match match;
  auto consider = [&](size_t index) {
    const Route& route = routes_[index];
    const bool allowed =
        std::find(route.methods.begin(), route.methods.end(), method) != route.methods.end() ||
        (method == Method::kHead && std::find(route.methods.begin(), route.methods.end(),
                                              Method::kGet) != route.methods.end());
    if (allowed) {
      match = {&route, index, true};
      return true;
    }
    if (!match.route) match = {&route, index, false};
    return false;
  };
  if (auto it = literal_.find(path); it != literal_.end()) {
    for (size_t index : it->second) {
      if (consider(index)) {
        if (params) params->clear();
        return match;
      }
    }
  }
  for (size_t index = 0; index < routes_.size(); ++index) {
    if (segments_[index].empty()) continue;
    std::vector<std::string> captured;
    if (!MatchPattern(segments_[index], path, &captured)) continue;
    if (consider(index)) {
      if (params) *params = std::move(captured);
      return match;
    }
  }
  if (!match.route && fallback_) {
    const Route& route = routes_[*fallback_];
    const bool allowed =
        std::find(route.methods.begin(), route.methods.end(), method) != route.methods.end() ||
        (method == Method::kHead && std::find(route.methods.begin(), route.methods.end(),
                                              Method::kGet) != route.methods.end());
    if (allowed) {
      if (params) params->clear();
      match = {&route, *fallback_, true};
    }
  }
  return match;
}

}  // namespace kyso::http
