#include <array>
#include <string>

#include "store/revocation_reason.h"

namespace kyso::store {
namespace {

struct ReasonName {
  RevocationReason reason;
  std::string_view name;
};

//= https://www.rfc-editor.org/rfc/rfc5280#section-5.3.1
//# CRLReason ::= ENUMERATED {
//#      unspecified             (0),
//#      keyCompromise           (1),
//#      cACompromise            (2),
//#      affiliationChanged      (3),
//#      superseded              (4),
//#      cessationOfOperation    (5),
//#      certificateHold         (6),
//#           -- value 7 is not used
//#      removeFromCRL           (8),
//#      privilegeWithdrawn      (9),
//#      aACompromise           (10) }
constexpr std::array<ReasonName, 10> kReasonNames = {{
    {RevocationReason::kUnspecified, "unspecified"},
    {RevocationReason::kKeyCompromise, "keyCompromise"},
    {RevocationReason::kCaCompromise, "cACompromise"},
    {RevocationReason::kAffiliationChanged, "affiliationChanged"},
    {RevocationReason::kSuperseded, "superseded"},
    {RevocationReason::kCessationOfOperation, "cessationOfOperation"},
    {RevocationReason::kCertificateHold, "certificateHold"},
    {RevocationReason::kRemoveFromCrl, "removeFromCRL"},
    {RevocationReason::kPrivilegeWithdrawn, "privilegeWithdrawn"},
    {RevocationReason::kAaCompromise, "aACompromise"},
}};

char AsciiLower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool IsWordSeparator(char c) {
  return c == '-' || c == '_' || c == ' ';
}

// Lower-cases ASCII letters and drops word separators, so that "Key-Compromise" and
// "keyCompromise" compare equal.
std::string Fold(std::string_view text) {
  std::string folded;
  folded.reserve(text.size());
  for (char c : text) {
    if (!IsWordSeparator(c)) folded.push_back(AsciiLower(c));
  }
  return folded;
}

std::string AcceptedNames() {
  std::string names;
  for (const ReasonName& entry : kReasonNames) {
    if (!names.empty()) names += ", ";
    names += entry.name;
  }
  return names;
}

}  // namespace

std::string_view RevocationReasonName(RevocationReason reason) {
  for (const ReasonName& entry : kReasonNames) {
    if (entry.reason == reason) return entry.name;
  }
  return "unknown";
}

Result<RevocationReason> ParseRevocationReason(std::string_view text) {
  const std::string folded = Fold(text);
  for (const ReasonName& entry : kReasonNames) {
    if (!folded.empty() && folded == Fold(entry.name)) return entry.reason;
  }
  return InvalidArgument("revocation.unknown_reason",
                         "unknown revocation reason \"" + std::string(text) +
                             "\"; expected one of: " + AcceptedNames());
}

Result<RevocationReason> RevocationReasonFromCode(int code) {
  for (const ReasonName& entry : kReasonNames) {
    if (static_cast<int>(entry.reason) == code) return entry.reason;
  }
  return InvalidArgument("revocation.unknown_reason",
                         "CRLReason code " + std::to_string(code) + " is not defined by RFC 5280");
}

}  // namespace kyso::store
