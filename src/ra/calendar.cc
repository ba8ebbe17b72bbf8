#include "ra/calendar.h"

#include <cstdio>
#include <nlohmann/json.hpp>

namespace kyso::ra {
namespace {

constexpr int64_t kVietnamOffset = 7 * 3600;

// Howard Hinnant's days_from_civil / civil_from_days (proleptic Gregorian).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int64_t>(yoe) + era * 400 + (*m <= 2);
}

int64_t FloorDiv(int64_t a, int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

}  // namespace

Result<WorkingCalendar> WorkingCalendar::Create(const std::vector<std::string>& holidays,
                                                const std::vector<std::string>& extra) {
  WorkingCalendar calendar;
  for (const std::string& s : holidays) {
    KYSO_ASSIGN_OR_RETURN(LocalDay day, ParseDay(s));
    calendar.holidays_.insert(day);
  }
  for (const std::string& s : extra) {
    KYSO_ASSIGN_OR_RETURN(LocalDay day, ParseDay(s));
    calendar.extra_working_days_.insert(day);
  }
  return calendar;
}

Result<WorkingCalendar> WorkingCalendar::FromJson(std::string_view json) {
  nlohmann::json j = nlohmann::json::parse(json, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return InvalidArgument("ra.bad_calendar", "the calendar is not a JSON object");
  }
  std::vector<std::string> holidays, working;
  for (const char* key : {"holidays", "working_days"}) {
    auto it = j.find(key);
    if (it == j.end()) continue;
    if (!it->is_array()) return InvalidArgument("ra.bad_calendar", std::string(key) + ": array");
    for (const auto& v : *it) {
      if (!v.is_string()) return InvalidArgument("ra.bad_calendar", std::string(key) + ": dates");
      (std::string(key) == "holidays" ? holidays : working).push_back(v.get<std::string>());
    }
  }
  return Create(holidays, working);
}

std::string WorkingCalendar::ToJson() const {
  nlohmann::json j = {{"holidays", nlohmann::json::array()},
                      {"working_days", nlohmann::json::array()}};
  for (LocalDay d : holidays_) j["holidays"].push_back(FormatDay(d));
  for (LocalDay d : extra_working_days_) j["working_days"].push_back(FormatDay(d));
  return j.dump();
}

LocalDay WorkingCalendar::DayOf(UnixSeconds t) {
  return FloorDiv(t + kVietnamOffset, kSecondsPerDay);
}

Result<LocalDay> WorkingCalendar::ParseDay(std::string_view s) {
  int y = 0, m = 0, d = 0;
  char tail = 0;
  const std::string text(s);
  if (s.size() != 10 || std::sscanf(text.c_str(), "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3 ||
      m < 1 || m > 12 || d < 1 || d > 31) {
    return InvalidArgument("ra.bad_date", "expected a date YYYY-MM-DD, got \"" + text + "\"");
  }
  const LocalDay day = DaysFromCivil(y, static_cast<unsigned>(m), static_cast<unsigned>(d));
  if (FormatDay(day) != text) {  // 2026-02-30 and the like
    return InvalidArgument("ra.bad_date", "no such date \"" + text + "\"");
  }
  return day;
}

std::string WorkingCalendar::FormatDay(LocalDay day) {
  int64_t y;
  unsigned m, d;
  CivilFromDays(day, &y, &m, &d);
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02u", static_cast<long long>(y), m, d);
  return buf;
}

bool WorkingCalendar::IsWorkingDay(LocalDay day) const {
  if (extra_working_days_.count(day)) return true;
  if (holidays_.count(day)) return false;
  // 1970-01-01 was a Thursday: weekday index 0 = Monday.
  const int64_t weekday = ((day % 7) + 7 + 3) % 7;
  return weekday < 5;
}

UnixSeconds WorkingCalendar::Deadline(UnixSeconds from, int n) const {
  LocalDay day = DayOf(from);
  for (int counted = 0; counted < n;) {
    ++day;
    if (IsWorkingDay(day)) ++counted;
  }
  return (day + 1) * kSecondsPerDay - kVietnamOffset - 1;
}

int WorkingCalendar::WorkingDaysBetween(UnixSeconds from, UnixSeconds to) const {
  int count = 0;
  for (LocalDay d = DayOf(from) + 1; d <= DayOf(to); ++d) count += IsWorkingDay(d) ? 1 : 0;
  return count;
}

}  // namespace kyso::ra
