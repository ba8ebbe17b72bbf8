#include "ra/kinds.h"

#include <cctype>
#include <nlohmann/json.hpp>

#include "ra/calendar.h"
#include "x509/csr.h"

namespace kyso::ra {
namespace {

using F = FieldCheck;

// Fields shared by the forms about one person (Mẫu 01, and the receiver block of Mẫu 02/03).
std::vector<FormField> PersonFields() {
  return {
      {"full_name", F::kText, true, "Họ và tên"},
      {"personal_id", F::kPersonalId, true, "Số định danh cá nhân (CCCD)"},
      {"personal_id_issued_on", F::kDate, false, "Ngày cấp"},
      {"personal_id_issued_by", F::kText, false, "Nơi cấp"},
      {"position", F::kText, true, "Chức vụ"},
      {"unit", F::kText, true, "Cơ quan, đơn vị công tác"},
      {"email", F::kEmail, true, "Thư điện tử công vụ"},
      {"mobile", F::kMobile, true, "Số điện thoại di động"},
      {"province", F::kText, true, "Tỉnh, thành phố"},
  };
}

// The body block of Mẫu 02 and Mẫu 03.
std::vector<FormField> BodyFields() {
  return {
      {"organization_name", F::kText, true, "Tên cơ quan, tổ chức"},
      {"address", F::kText, true, "Địa chỉ"},
      {"tax_code", F::kTaxCode, false, "Mã số thuế (MST)"},
      {"budget_code", F::kBudgetCode, false, "Mã đơn vị quan hệ ngân sách (MNS)"},
      {"province", F::kText, true, "Tỉnh, thành phố"},
      {"email", F::kEmail, true, "Thư điện tử công vụ của cơ quan"},
      // The person who receives the token for the body.
      {"receiver_name", F::kText, true, "Họ tên người nhận"},
      {"receiver_personal_id", F::kPersonalId, true, "Số định danh người nhận"},
      {"receiver_personal_id_issued_on", F::kDate, false, "Ngày cấp"},
      {"receiver_personal_id_issued_by", F::kText, false, "Nơi cấp"},
      {"receiver_position", F::kText, true, "Chức vụ người nhận"},
      {"receiver_mobile", F::kMobile, true, "Số điện thoại người nhận"},
      {"receiver_email", F::kEmail, true, "Thư điện tử người nhận"},
  };
}

std::vector<FormField> With(std::vector<FormField> fields, std::vector<FormField> more) {
  fields.insert(fields.end(), more.begin(), more.end());
  return fields;
}

std::vector<RequestKind> BuildKinds() {
  const FormField csr{"csr", F::kCsr, true, "Yêu cầu chứng thư (PKCS#10)"};
  const FormField profile{"profile", F::kText, false, "Hồ sơ chứng thư"};
  const FormField days{"days", F::kInteger, false, "Thời hạn (ngày)"};
  return {
      {"new_individual", "Mẫu 01", "Đề nghị cấp chứng thư số cho cá nhân", true, false, false, 3,
       Execution::kIssue, "official", With(PersonFields(), {csr, profile, days})},
      {"new_agency", "Mẫu 02", "Đề nghị cấp chứng thư số cho cơ quan, tổ chức", false, false, false,
       3, Execution::kIssue, "organization", With(BodyFields(), {csr, profile, days})},
      {"new_device", "Mẫu 03", "Đề nghị cấp chứng thư số cho thiết bị, dịch vụ, phần mềm", false,
       false, false, 3, Execution::kIssue, "device",
       With(BodyFields(), {{"device_name", F::kText, true, "Tên thiết bị, dịch vụ, phần mềm"},
                           {"purpose", F::kLongText, true, "Mục đích sử dụng"},
                           csr,
                           profile,
                           days})},
      {"renewal",
       "Mẫu 04",
       "Đề nghị gia hạn chứng thư số",
       false,
       true,
       true,
       3,
       Execution::kRenew,
       "",
       {{"reason", F::kLongText, true, "Lý do gia hạn"},
        {"csr", F::kCsr, false, "Yêu cầu chứng thư mới (nếu đổi khóa)"},
        days}},
      {"change_info",
       "Mẫu 04",
       "Đề nghị thay đổi thông tin chứng thư số",
       false,
       true,
       true,
       3,
       Execution::kChange,
       "",
       {{"changes", F::kLongText, true, "Nội dung thay đổi"}, csr, profile}},
      {"revocation",
       "Mẫu 05",
       "Đề nghị thu hồi chứng thư số",
       false,
       true,
       false,
       3,
       Execution::kRevoke,
       "",
       {{"reason", F::kReason, true, "Lý do thu hồi"},
        {"explanation", F::kLongText, false, "Giải trình"},
        {"invalidity_date", F::kDate, false, "Ngày mất hiệu lực"}}},
      {"device_restore",
       "Mẫu 06",
       "Đề nghị khôi phục thiết bị lưu khóa bí mật",
       false,
       true,
       true,
       1,
       Execution::kRecordOnly,
       "",
       {{"device_serial", F::kText, true, "Số hiệu thiết bị"},
        {"reason", F::kLongText, true, "Lý do (thiết bị bị khóa)"}}},
      {"device_handover",
       "Mẫu 08",
       "Biên bản bàn giao thiết bị sau khi hết hạn hoặc bị thu hồi",
       false,
       true,
       false,
       5,
       Execution::kRecordOnly,
       "",
       {{"device_serial", F::kText, true, "Số hiệu thiết bị"},
        {"handed_over_by", F::kText, true, "Người bàn giao"},
        {"received_by", F::kText, true, "Người nhận"},
        {"condition", F::kLongText, false, "Tình trạng thiết bị"}}},
      // A lost token means the key may be in other hands: execution revokes the certificate
      // with keyCompromise (RFC 5280 §5.3.1) as well as recording the loss.
      {"lost_device",
       "Mẫu 09",
       "Biên bản ghi nhận mất thiết bị lưu khóa bí mật",
       false,
       true,
       false,
       3,
       Execution::kRevoke,
       "",
       {{"device_serial", F::kText, true, "Số hiệu thiết bị"},
        {"lost_on", F::kDate, true, "Ngày mất"},
        {"circumstances", F::kLongText, true, "Hoàn cảnh mất"}}},
  };
}

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

bool IsDate(std::string_view s) {
  return WorkingCalendar::ParseDay(s).ok();
}

bool IsRevocationReasonName(std::string_view s) {
  // The reasons a subscriber's revocation may state (Nghị định 68 grounds mapped onto RFC 5280
  // §5.3.1). certificateHold is refused: kyso does not suspend certificates.
  static constexpr std::string_view kNames[] = {
      "unspecified", "keyCompromise",        "affiliationChanged",
      "superseded",  "cessationOfOperation", "privilegeWithdrawn",
  };
  for (auto name : kNames) {
    if (s == name) return true;
  }
  return false;
}

Status Bad(std::string_view check, std::string_view field, std::string_view why) {
  return InvalidArgument("form.bad_" + std::string(check),
                         "field \"" + std::string(field) + "\": " + std::string(why));
}

Status CheckField(const FormField& field, const nlohmann::json& value) {
  if (field.check == F::kInteger) {
    if (!value.is_number_integer() || value.get<int64_t>() <= 0 || value.get<int64_t>() > 100000) {
      return Bad("integer", field.name, "must be a positive whole number");
    }
    return Status::Ok();
  }
  if (!value.is_string()) return Bad("text", field.name, "must be a string");
  const std::string& s = value.get_ref<const std::string&>();
  const size_t limit = field.check == F::kLongText ? 4000 : field.check == F::kCsr ? 65536 : 500;
  if (s.size() > limit) {
    return InvalidArgument("form.too_long", "field \"" + std::string(field.name) +
                                                "\" is longer than " + std::to_string(limit) +
                                                " bytes");
  }
  if (s.find_first_not_of(" \t\r\n") == std::string::npos) {
    return Bad("text", field.name, "must not be empty");
  }
  switch (field.check) {
    case F::kText:
    case F::kLongText:
      break;
    case F::kPersonalId:
      if (!IsPersonalId(s)) return Bad("personal_id", field.name, "CCCD has 12 digits");
      break;
    case F::kTaxCode:
      if (!IsTaxCode(s)) return Bad("tax_code", field.name, "MST has 10 or 13 digits");
      break;
    case F::kBudgetCode:
      if (!IsBudgetCode(s)) return Bad("budget_code", field.name, "MNS has 7 digits");
      break;
    case F::kEmail:
      if (!IsEmail(s)) return Bad("email", field.name, "not an e-mail address");
      break;
    case F::kMobile:
      if (!IsMobile(s)) return Bad("mobile", field.name, "not a Vietnamese mobile number");
      break;
    case F::kDate:
      if (!IsDate(s)) return Bad("date", field.name, "expected YYYY-MM-DD");
      break;
    case F::kCsr: {
      auto csr = x509::Csr::Parse(AsBytes(s));
      if (!csr.ok()) return Bad("csr", field.name, csr.status().message());
      break;
    }
    case F::kReason:
      if (!IsRevocationReasonName(s)) {
        return Bad("reason", field.name,
                   "one of unspecified, keyCompromise, affiliationChanged, superseded, "
                   "cessationOfOperation, privilegeWithdrawn");
      }
      break;
    case F::kInteger:
      break;
  }
  return Status::Ok();
}

}  // namespace

const std::vector<RequestKind>& AllKinds() {
  static const std::vector<RequestKind> kinds = BuildKinds();
  return kinds;
}

Result<const RequestKind*> FindKind(std::string_view id) {
  for (const RequestKind& kind : AllKinds()) {
    if (kind.id == id) return &kind;
  }
  return InvalidArgument("ra.unknown_kind", "unknown request kind \"" + std::string(id) + "\"");
}

Status ValidateForm(const RequestKind& kind, const nlohmann::json& form) {
  if (!form.is_object()) return InvalidArgument("form.not_object", "the form must be an object");
  for (const auto& [name, value] : form.items()) {
    bool known = false;
    for (const FormField& field : kind.fields) known = known || field.name == name;
    if (!known) {
      return InvalidArgument("form.unknown_field", "field \"" + name + "\" is not on " +
                                                       std::string(kind.form) + " (" +
                                                       std::string(kind.id) + ")");
    }
  }
  for (const FormField& field : kind.fields) {
    auto it = form.find(std::string(field.name));
    if (it == form.end() || it->is_null()) {
      if (field.required) {
        return InvalidArgument("form.missing_field", "field \"" + std::string(field.name) + "\" (" +
                                                         std::string(field.label_vi) +
                                                         ") is required");
      }
      continue;
    }
    KYSO_RETURN_IF_ERROR(CheckField(field, *it));
  }
  return Status::Ok();
}

bool IsPersonalId(std::string_view s) {
  return AllDigits(s) && (s.size() == 12 || s.size() == 9);
}

bool IsTaxCode(std::string_view s) {
  if (s.size() == 14 && s[10] == '-') return AllDigits(s.substr(0, 10)) && AllDigits(s.substr(11));
  return AllDigits(s) && (s.size() == 10 || s.size() == 13);
}

bool IsBudgetCode(std::string_view s) {
  return AllDigits(s) && s.size() == 7;
}

bool IsEmail(std::string_view s) {
  const size_t at = s.find('@');
  if (at == std::string_view::npos || at == 0 || at != s.rfind('@')) return false;
  const std::string_view domain = s.substr(at + 1);
  if (domain.size() < 3 || domain.find('.') == std::string_view::npos) return false;
  if (domain.front() == '.' || domain.back() == '.') return false;
  for (char c : s) {
    if (c <= ' ' || c == '<' || c == '>' || c == ',' || c == ';' || c == '"') return false;
  }
  return s.size() <= 254;
}

bool IsMobile(std::string_view s) {
  if (s.rfind("+84", 0) == 0) return s.size() == 12 && AllDigits(s.substr(3));
  return s.size() == 10 && s[0] == '0' && AllDigits(s);
}

}  // namespace kyso::ra
