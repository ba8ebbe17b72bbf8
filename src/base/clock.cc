#include "base/clock.h"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace kyso {

UnixSeconds SystemClock::Now() const {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

static std::string Format(UnixSeconds t, const char* fmt) {
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, fmt, &tm);
  return buf;
}

std::string FormatUtc(UnixSeconds t) {
  return Format(t, "%Y-%m-%dT%H:%M:%SZ");
}

std::string FormatVietnam(UnixSeconds t) {
  return Format(t + 7 * 3600, "%d.%m.%Y %H:%M:%S") + " +07:00";
}

std::optional<UnixSeconds> ParseTime(std::string_view text) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  std::string str(text);
  int offset_seconds = 0;
  if (str.size() == 10) {
    if (std::sscanf(str.c_str(), "%4d-%2d-%2d", &y, &mo, &d) != 3) return std::nullopt;
  } else if (str.size() == 20 && str[19] == 'Z') {
    if (std::sscanf(str.c_str(), "%4d-%2d-%2dT%2d:%2d:%2dZ", &y, &mo, &d, &h, &mi, &s) != 6)
      return std::nullopt;
  } else if (str.size() == 25 && (str[19] == '+' || str[19] == '-')) {
    int oh = 0, om = 0;
    if (std::sscanf(str.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d", &y, &mo, &d, &h, &mi, &s) != 6 ||
        std::sscanf(str.c_str() + 20, "%2d:%2d", &oh, &om) != 2)
      return std::nullopt;
    offset_seconds = (oh * 3600 + om * 60) * (str[19] == '+' ? 1 : -1);
  } else {
    return std::nullopt;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return std::nullopt;
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  return static_cast<UnixSeconds>(timegm(&tm)) - offset_seconds;
}

}  // namespace kyso
