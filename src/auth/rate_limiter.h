// LoginRateLimiter: slows online password guessing by counting failed logins per username and
// per client IP address over a sliding window (OWASP Authentication Cheat Sheet, "Protect
// Against Automated Attacks": account lockout with a lockout period, counted per account, so
// that "the account is locked for a period of time" rather than until an administrator acts).
//
// With the defaults, a username that failed 5 times, or an IP address that failed 20 times,
// within the last 15 minutes is refused until the oldest of those failures is 15 minutes old;
// then one more attempt is allowed, and so on. Counting per username stops a guesser who
// spreads over many addresses; counting per address stops one who sprays many usernames.
// Failures are counted whether or not the username exists, so the refusal reveals nothing
// about which accounts exist. A success clears the username's failures but not the
// address's (one valid account must not reset the counter of a guesser behind the same IP).
//
// Memory is bounded: each key keeps at most its limit of timestamps, keys without a failure in
// the window are dropped, and each table holds at most `max_tracked_keys` keys, evicting the
// one whose last failure is oldest. An attacker who fills the username table to evict a target
// needs max_tracked_keys failures within the window, each costing the server one Argon2 run
// and limited per address itself.
//
// Callers pass the client's IP address without the port (and should normalize IPv6 to its
// /64 prefix if they want one address per customer network).
//
// Thread-safety: thread-safe; one instance serves all I/O threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "base/clock.h"
#include "base/status.h"

namespace kyso::auth {

struct RateLimitPolicy {
  int max_failures_per_user = 5;
  int max_failures_per_ip = 20;
  int64_t window_seconds = 15 * 60;
  size_t max_tracked_keys = 100'000;  // per table (usernames, addresses)
};

class LoginRateLimiter {
 public:
  // `clock` must outlive the limiter.
  explicit LoginRateLimiter(const Clock* clock, RateLimitPolicy policy = {});

  // OK when a login attempt for `user` from `ip` may proceed (call before verifying the
  // password). Otherwise auth.rate_limited, with the code Unavailable (kyso's StatusCode has
  // no ResourceExhausted; Unavailable also means "retry later", and an HTTP layer should
  // answer 429 with Retry-After rather than the 503 HttpStatusFor picks) and a message saying
  // when to retry; `retry_after_seconds`, when not null, receives that delay (0 when OK).
  Status Check(std::string_view user, std::string_view ip,
               int64_t* retry_after_seconds = nullptr) const;

  // A failed attempt (wrong password, unknown user).
  void RecordFailure(std::string_view user, std::string_view ip);
  // A successful login: forgets `user`'s failures. `ip`'s stay.
  void RecordSuccess(std::string_view user, std::string_view ip);

  // Keys currently tracked (for tests and metrics).
  size_t tracked_users() const;
  size_t tracked_ips() const;

 private:
  // Recent failure times per key, with the keys in the order of their last failure.
  class Table {
   public:
    Table(int limit, size_t max_keys) : limit_(limit), max_keys_(max_keys) {}
    // Seconds until `key` may try again (0: now).
    int64_t RetryAfter(const std::string& key, UnixSeconds now, int64_t window) const;
    void Add(const std::string& key, UnixSeconds now, int64_t window);
    void Erase(const std::string& key);
    size_t size() const { return entries_.size(); }

   private:
    struct Entry {
      std::deque<UnixSeconds> failures;  // oldest first, at most limit_
      std::list<std::string>::iterator order;
    };
    void Expire(UnixSeconds now, int64_t window);

    int limit_;
    size_t max_keys_;
    std::unordered_map<std::string, Entry> entries_;
    std::list<std::string> by_last_failure_;  // front: oldest last failure
  };

  const Clock* clock_;
  RateLimitPolicy policy_;
  mutable std::mutex mu_;
  Table users_;  // GUARDED_BY(mu_)
  Table ips_;    // GUARDED_BY(mu_)
};

}  // namespace kyso::auth
