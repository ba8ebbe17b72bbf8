// The life of a request, as a transition table (data, not code paths): each row names the
// action, the states it leaves from, the state it reaches, which side may take it and what it
// must carry. Registry (registry.h) looks rows up; nothing else moves a request.
//
//   draft ──submit(signed)──► submitted ──review──► under_review ──approve──► approved
//     │  ▲                      │  │                   │  │                     │
//     │  └─────resubmit─── returned ◄──return──────────┘  │                  execute
//     │            │            │  └──reject──► rejected ◄┘                     ▼
//     └──cancel──► cancelled ◄──┘ (cancel before review)                    executed
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace kyso::ra {

namespace state {
inline constexpr std::string_view kDraft = "draft";
inline constexpr std::string_view kSubmitted = "submitted";
inline constexpr std::string_view kUnderReview = "under_review";
inline constexpr std::string_view kApproved = "approved";
inline constexpr std::string_view kExecuted = "executed";
inline constexpr std::string_view kRejected = "rejected";
inline constexpr std::string_view kReturned = "returned";
inline constexpr std::string_view kCancelled = "cancelled";
}  // namespace state

// Which side of the workflow may take a transition.
enum class Side {
  kRequester,  // the managing agency (its officers in scope), or the subscriber for own drafts
  kHandler,    // whoever the request is routed to: the CA operator or the delegate
};

struct Transition {
  std::string_view action;  // "submit", "review", "approve", ...
  std::vector<std::string_view> from;
  std::string_view to;
  Side side;
  bool reason_required;     // reject, return, cancel: the requester must learn why
  bool signature_required;  // submit: a detached CMS by the managing agency
};

const std::vector<Transition>& Transitions();
const std::vector<std::string_view>& AllStates();
bool IsFinal(std::string_view state);  // executed, rejected, cancelled

// The row for `action` leaving `from`. Errors: ra.unknown_action (InvalidArgument) for an
// action not in the table, ra.bad_transition (FailedPrecondition) when `action` does not leave
// `from`, with both named.
Result<const Transition*> FindTransition(std::string_view action, std::string_view from);

}  // namespace kyso::ra
