// The request kinds of the registration workflow and the forms they carry (Nghị định
// 68/2024/NĐ-CP Điều 3 and its appendix of forms, Mẫu 01–09; ../shared/docs/vn-rules.md).
//
// A kind fixes: the form (its fields, which are required, and how each is checked), who handles
// it after the managing agency submits it (the CA operator, or a delegate where the CA operator
// has delegated that kind), its deadline in working days, and what "execute" does with the CA.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace kyso::ra {

enum class Execution {
  kIssue,       // a new certificate from the form's CSR and profile
  kRenew,       // a new validity period for certificate_id
  kChange,      // a new certificate with the CSR's subject; the old one superseded
  kRevoke,      // revoke certificate_id with the form's reason
  kRecordOnly,  // no CA operation: a device restored, handed over or recorded lost
};

enum class FieldCheck {
  kText,        // non-empty UTF-8, at most 500 bytes
  kLongText,    // at most 4000 bytes
  kPersonalId,  // CCCD: 12 digits (or the old CMND: 9 or 12 digits)
  kTaxCode,     // MST: 10 digits, or 10 + "-" + 3 (branch), or 13 digits
  kBudgetCode,  // MNS: 7 digits
  kEmail,
  kMobile,   // Vietnamese mobile: 0 or +84 then 9 digits
  kDate,     // YYYY-MM-DD
  kCsr,      // PKCS#10, PEM
  kReason,   // RFC 5280 §5.3.1 reason name accepted for revocation
  kInteger,  // a positive whole number (days)
};

struct FormField {
  std::string_view name;
  FieldCheck check;
  bool required;
  std::string_view label_vi;  // the label on the paper form
};

struct RequestKind {
  std::string_view id;    // "new_individual", ...
  std::string_view form;  // "Mẫu 01", ...
  std::string_view title_vi;
  bool needs_person;       // the request is about one person (individual kinds)
  bool needs_certificate;  // acts on an existing certificate
  bool delegable;          // renewal, change of information, device restore (Điều 3 khoản 3)
  int deadline_working_days;
  Execution execution;
  std::string_view default_profile;  // kIssue: the profile when the form names none
  std::vector<FormField> fields;
};

const std::vector<RequestKind>& AllKinds();
// ra.unknown_kind (InvalidArgument) for other names.
Result<const RequestKind*> FindKind(std::string_view id);

// Checks `form` (a JSON object) against the kind's fields: every required field present,
// every field well-formed, no unknown field. Errors name the field:
//   form.not_object, form.missing_field, form.unknown_field, form.bad_<check> (form.bad_email,
//   form.bad_personal_id, form.bad_tax_code, form.bad_budget_code, form.bad_mobile,
//   form.bad_date, form.bad_csr, form.bad_reason, form.bad_integer, form.too_long, form.bad_text)
Status ValidateForm(const RequestKind& kind, const nlohmann::json& form);

// Single-field checks, exposed for the CSV import of organizations and staff.
bool IsPersonalId(std::string_view s);
bool IsTaxCode(std::string_view s);
bool IsBudgetCode(std::string_view s);
bool IsEmail(std::string_view s);
bool IsMobile(std::string_view s);

}  // namespace kyso::ra
