#include "ra/state_machine.h"

#include <string>

namespace kyso::ra {

const std::vector<Transition>& Transitions() {
  using namespace state;
  static const std::vector<Transition> table = {
      // action     from                          to            side          reason sig
      {"submit", {kDraft, kReturned}, kSubmitted, Side::kRequester, false, true},
      {"review", {kSubmitted}, kUnderReview, Side::kHandler, false, false},
      {"approve", {kUnderReview}, kApproved, Side::kHandler, false, false},
      {"reject", {kSubmitted, kUnderReview}, kRejected, Side::kHandler, true, false},
      {"return", {kSubmitted, kUnderReview}, kReturned, Side::kHandler, true, false},
      {"execute", {kApproved}, kExecuted, Side::kHandler, false, false},
      {"cancel", {kDraft, kReturned, kSubmitted}, kCancelled, Side::kRequester, true, false},
  };
  return table;
}

const std::vector<std::string_view>& AllStates() {
  using namespace state;
  static const std::vector<std::string_view> states = {
      kDraft, kSubmitted, kUnderReview, kApproved, kExecuted, kRejected, kReturned, kCancelled};
  return states;
}

bool IsFinal(std::string_view s) {
  return s == state::kExecuted || s == state::kRejected || s == state::kCancelled;
}

Result<const Transition*> FindTransition(std::string_view action, std::string_view from) {
  bool known = false;
  for (const Transition& t : Transitions()) {
    if (t.action != action) continue;
    known = true;
    for (std::string_view f : t.from) {
      if (f == from) return &t;
    }
  }
  if (!known) {
    return InvalidArgument("ra.unknown_action", "unknown action \"" + std::string(action) + "\"");
  }
  return FailedPrecondition(
      "ra.bad_transition",
      "a request in state \"" + std::string(from) + "\" cannot be \"" + std::string(action) + "\"");
}

}  // namespace kyso::ra
