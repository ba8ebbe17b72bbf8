#include "auth/rate_limiter.h"

#include <algorithm>

namespace kyso::auth {

int64_t LoginRateLimiter::Table::RetryAfter(const std::string& key, UnixSeconds now,
                                            int64_t window) const {
  const auto it = entries_.find(key);
  if (it == entries_.end()) return 0;
  const auto& failures = it->second.failures;
  // Only failures inside the window count; failures holds at most limit_ of them, so the key is
  // blocked when all limit_ are recent, until the oldest leaves the window.
  const auto recent = std::count_if(failures.begin(), failures.end(),
                                    [&](UnixSeconds t) { return now - t < window; });
  if (recent < limit_) return 0;
  // A clock set back leaves failures "in the future": never ask for more than one window.
  return std::clamp<int64_t>(failures.front() + window - now, 1, window);
}

void LoginRateLimiter::Table::Add(const std::string& key, UnixSeconds now, int64_t window) {
  auto it = entries_.find(key);
  if (it == entries_.end()) {
    Expire(now, window);
    while (entries_.size() >= max_keys_ && !by_last_failure_.empty()) {
      entries_.erase(by_last_failure_.front());
      by_last_failure_.pop_front();
    }
    by_last_failure_.push_back(key);
    it = entries_.emplace(key, Entry{{}, std::prev(by_last_failure_.end())}).first;
  } else {
    by_last_failure_.splice(by_last_failure_.end(), by_last_failure_, it->second.order);
  }
  auto& failures = it->second.failures;
  failures.push_back(now);
  while (failures.size() > static_cast<size_t>(limit_)) failures.pop_front();
}

void LoginRateLimiter::Table::Erase(const std::string& key) {
  const auto it = entries_.find(key);
  if (it == entries_.end()) return;
  by_last_failure_.erase(it->second.order);
  entries_.erase(it);
}

// Drops keys whose last failure has left the window: they no longer limit anything.
void LoginRateLimiter::Table::Expire(UnixSeconds now, int64_t window) {
  while (!by_last_failure_.empty()) {
    const auto it = entries_.find(by_last_failure_.front());
    if (now - it->second.failures.back() < window) break;
    entries_.erase(it);
    by_last_failure_.pop_front();
  }
}

LoginRateLimiter::LoginRateLimiter(const Clock* clock, RateLimitPolicy policy)
    : clock_(clock),
      policy_(policy),
      users_(std::max(1, policy.max_failures_per_user),
             std::max<size_t>(1, policy.max_tracked_keys)),
      ips_(std::max(1, policy.max_failures_per_ip), std::max<size_t>(1, policy.max_tracked_keys)) {
  // Limits and window of at least 1: a zero window would count nothing and cross the bounds
  // RetryAfter clamps to.
  policy_.window_seconds = std::max<int64_t>(1, policy_.window_seconds);
}

Status LoginRateLimiter::Check(std::string_view user, std::string_view ip,
                               int64_t* retry_after_seconds) const {
  const UnixSeconds now = clock_->Now();
  int64_t user_wait;
  int64_t ip_wait;
  {
    std::lock_guard<std::mutex> lock(mu_);
    user_wait = users_.RetryAfter(std::string(user), now, policy_.window_seconds);
    ip_wait = ips_.RetryAfter(std::string(ip), now, policy_.window_seconds);
  }
  const int64_t wait = std::max(user_wait, ip_wait);
  if (retry_after_seconds) *retry_after_seconds = wait;
  if (wait == 0) return Status::Ok();
  const std::string who = user_wait >= ip_wait ? "this account" : "this address";
  return Unavailable("auth.rate_limited", "too many failed sign-ins for " + who +
                                              "; try again in " + std::to_string(wait) +
                                              " seconds");
}

void LoginRateLimiter::RecordFailure(std::string_view user, std::string_view ip) {
  const UnixSeconds now = clock_->Now();
  std::lock_guard<std::mutex> lock(mu_);
  users_.Add(std::string(user), now, policy_.window_seconds);
  ips_.Add(std::string(ip), now, policy_.window_seconds);
}

void LoginRateLimiter::RecordSuccess(std::string_view user, std::string_view ip) {
  std::lock_guard<std::mutex> lock(mu_);
  users_.Erase(std::string(user));
}

size_t LoginRateLimiter::tracked_users() const {
  std::lock_guard<std::mutex> lock(mu_);
  return users_.size();
}

size_t LoginRateLimiter::tracked_ips() const {
  std::lock_guard<std::mutex> lock(mu_);
  return ips_.size();
}

}  // namespace kyso::auth
