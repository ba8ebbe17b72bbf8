// Working days for the workflow's deadlines: weekends and public holidays do not count (Nghị
// định 68's time limits are in working days: issue, renewal, revocation 3; device restore 1;
// device return 5). Days are Vietnam's (UTC+07:00, no daylight saving).
//
// Holidays are configured (the Tết dates move every year, and the government announces swaps:
// a Saturday worked to bridge a holiday), so the calendar takes both lists.
#pragma once

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/result.h"

namespace kyso::ra {

// The store setting holding the calendar as JSON (WorkingCalendar::ToJson).
inline constexpr const char* kCalendarSetting = "ra.calendar";

// Days since 1970-01-01 in Vietnam.
using LocalDay = int64_t;

class WorkingCalendar {
 public:
  WorkingCalendar() = default;
  // Dates "YYYY-MM-DD". ra.bad_date for a malformed one.
  static Result<WorkingCalendar> Create(const std::vector<std::string>& holidays,
                                        const std::vector<std::string>& extra_working_days);
  // Reads {"holidays": [...], "working_days": [...]} (the "ra.calendar" setting).
  static Result<WorkingCalendar> FromJson(std::string_view json);
  std::string ToJson() const;

  bool IsWorkingDay(LocalDay day) const;
  // The end of the `n`-th working day after the day of `from` (the day of submission does not
  // count, whatever the hour): the last second of that day, Vietnam time. n = 0: the end of
  // `from`'s own day.
  UnixSeconds Deadline(UnixSeconds from, int n) const;
  // Working days from the day of `from` to the day of `to` (how late an overdue request is).
  int WorkingDaysBetween(UnixSeconds from, UnixSeconds to) const;

  static LocalDay DayOf(UnixSeconds t);
  static Result<LocalDay> ParseDay(std::string_view yyyy_mm_dd);
  static std::string FormatDay(LocalDay day);

 private:
  std::set<LocalDay> holidays_;
  std::set<LocalDay> extra_working_days_;
};

}  // namespace kyso::ra
