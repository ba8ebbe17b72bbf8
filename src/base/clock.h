// Time as an injected dependency: production reads the system clock, tests use a FixedClock,
// so every validity period, CRL date and audit timestamp is deterministic under test.
//
// Times are whole seconds since the Unix epoch (UTC). X.509 and CRL times have one-second
// resolution (RFC 5280 §4.1.2.5), so nothing finer is needed here.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace kyso {

using UnixSeconds = int64_t;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual UnixSeconds Now() const = 0;
};

class SystemClock final : public Clock {
 public:
  UnixSeconds Now() const override;
};

// Thread-compatible: set before sharing.
class FixedClock final : public Clock {
 public:
  explicit FixedClock(UnixSeconds now) : now_(now) {}
  UnixSeconds Now() const override { return now_; }
  void Set(UnixSeconds now) { now_ = now; }
  void Advance(int64_t seconds) { now_ += seconds; }

 private:
  UnixSeconds now_;
};

constexpr int64_t kSecondsPerDay = 86400;

// "2026-11-21T03:04:05Z"
std::string FormatUtc(UnixSeconds t);
// Vietnamese display form with the +07:00 offset: "21.11.2026 10:04:05 +07:00".
std::string FormatVietnam(UnixSeconds t);
// Parses "YYYY-MM-DD", "YYYY-MM-DDTHH:MM:SSZ" or "...+HH:MM". nullopt when malformed.
std::optional<UnixSeconds> ParseTime(std::string_view text);

}  // namespace kyso
