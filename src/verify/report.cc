#include "verify/report.h"

#include <cstdio>
#include <nlohmann/json.hpp>

namespace kyso::verify {

std::string_view IndicationName(Indication indication) {
  switch (indication) {
    case Indication::kPassed:
      return "VALID";
    case Indication::kFailed:
      return "INVALID";
    case Indication::kIndeterminate:
      return "INDETERMINATE";
  }
  return "INDETERMINATE";
}

std::string_view EtsiName(Indication indication) {
  switch (indication) {
    case Indication::kPassed:
      return "TOTAL_PASSED";
    case Indication::kFailed:
      return "TOTAL_FAILED";
    case Indication::kIndeterminate:
      return "INDETERMINATE";
  }
  return "INDETERMINATE";
}

namespace {

std::string_view SeverityName(Severity s) {
  switch (s) {
    case Severity::kInfo:
      return "info";
    case Severity::kWarning:
      return "warning";
    case Severity::kError:
      return "error";
  }
  return "info";
}

// "19.11.2025 14:03:22 +07:00" (base/clock.h), the form Vietnamese tools print (Nghị định 30).
std::string VietnamTime(UnixSeconds t) {
  return t == 0 ? "" : FormatVietnam(t);
}

struct Labels {
  const char* title;
  const char* file;
  const char* overall;
  const char* signature;
  const char* signer;
  const char* unit;
  const char* issuer;
  const char* signing_time;
  const char* timestamp;
  const char* claimed_unproven;
  const char* integrity;
  const char* intact;
  const char* broken;
  const char* coverage;
  const char* modifications;
  const char* validity_at_time;
  const char* valid;
  const char* not_valid;
  const char* cert_period;
  const char* chain;
  const char* policies;
  const char* revocation;
  const char* algorithms;
  const char* findings;
  const char* none;
  const char* no_signature;
  const char* verdict_valid;
  const char* verdict_invalid;
  const char* verdict_indeterminate;
};

constexpr Labels kVietnamese = {
    "BÁO CÁO KIỂM TRA CHỮ KÝ SỐ",
    "Tệp",
    "Kết luận",
    "Chữ ký",
    "Người ký",
    "Cơ quan",
    "Đơn vị cấp",
    "Thời gian ký",
    "Dấu thời gian",
    "theo khai báo của người ký, chưa được chứng thực",
    "Tính toàn vẹn",
    "toàn vẹn",
    "KHÔNG toàn vẹn",
    "Phạm vi ký",
    "Thay đổi sau khi ký",
    "Hiệu lực tại thời điểm ký",
    "còn hiệu lực",
    "KHÔNG hợp lệ",
    "Thời hạn chứng thư",
    "Chuỗi chứng thực",
    "Chính sách chứng thư hợp lệ",
    "Tình trạng thu hồi",
    "Thuật toán",
    "Chi tiết",
    "không có",
    "Tài liệu không có chữ ký số.",
    "HỢP LỆ",
    "KHÔNG HỢP LỆ",
    "KHÔNG XÁC ĐỊNH",
};

constexpr Labels kEnglish = {
    "DIGITAL SIGNATURE VERIFICATION REPORT",
    "File",
    "Verdict",
    "Signature",
    "Signer",
    "Managing unit",
    "Issuer",
    "Signing time",
    "Time-stamp",
    "claimed by the signer, not proven",
    "Integrity",
    "intact",
    "NOT intact",
    "Coverage",
    "Changes after signing",
    "Validity at signing time",
    "valid",
    "NOT valid",
    "Certificate validity",
    "Certificate chain",
    "Valid certificate policies",
    "Revocation",
    "Algorithms",
    "Findings",
    "none",
    "The document has no digital signature.",
    "VALID",
    "INVALID",
    "INDETERMINATE",
};

const Labels& LabelsFor(Language l) {
  return l == Language::kVietnamese ? kVietnamese : kEnglish;
}

std::string Verdict(Indication i, const Labels& L) {
  switch (i) {
    case Indication::kPassed:
      return L.verdict_valid;
    case Indication::kFailed:
      return L.verdict_invalid;
    case Indication::kIndeterminate:
      return L.verdict_indeterminate;
  }
  return L.verdict_indeterminate;
}

// The words of a report's fixed vocabulary, in Vietnamese.
std::string Word(const std::string& w, Language l) {
  if (l == Language::kEnglish) return w;
  static const std::pair<const char*, const char*> kWords[] = {
      {"entire file", "toàn bộ tệp"},
      {"none", "không có"},
      {"signatures", "chỉ thêm chữ ký / dữ liệu kiểm tra"},
      {"form_filling", "điền biểu mẫu"},
      {"annotations", "thêm chú thích"},
      {"other", "thay đổi nội dung khác"},
      {"unanalysable", "không phân tích được (bản sửa đổi sau bị hỏng)"},
      {"trusted", "tin cậy"},
      {"untrusted", "KHÔNG tin cậy"},
      {"good", "chưa bị thu hồi"},
      {"revoked", "ĐÃ BỊ THU HỒI"},
      {"unknown", "không xác định được"},
      {"not checked", "chưa kiểm tra"},
  };
  for (const auto& [en, vi] : kWords) {
    if (w == en) return vi;
  }
  int k = 0, n = 0;
  if (std::sscanf(w.c_str(), "revision %d of %d", &k, &n) == 2) {
    return "bản sửa đổi " + std::to_string(k) + "/" + std::to_string(n) +
           " (các bản sau được kiểm tra thay đổi)";
  }
  return w;
}

// What a finding id means, for people: the ids about changes after signing, whose detail is
// technical (object numbers). Empty when the id speaks for itself.
std::string FindingLabel(const std::string& id, Language l) {
  struct Label {
    const char* id;
    const char* vi;
    const char* en;
  };
  static const Label kLabels[] = {
      {"modification.other", "tài liệu bị thay đổi nội dung sau khi ký",
       "the document was changed after signing"},
      {"modification.appearance_changed",
       "hình thức hiển thị của một trường bị thay đổi sau khi ký mà giá trị không đổi (không "
       "phải điền biểu mẫu)",
       "what a field displays was changed after signing while its value stayed (not form "
       "filling)"},
      {"modification.unanalysable",
       "tài liệu bị thay đổi sau khi ký theo cách không thể phân tích (bản sửa đổi sau bị hỏng)",
       "changed after signing in a way that cannot be analysed (a later revision is damaged)"},
      {"modification.annotations", "có chú thích được thêm hoặc sửa sau khi ký",
       "annotations were added or changed after signing"},
      {"modification.docmdp", "thay đổi mà chữ ký chứng thực (DocMDP) không cho phép",
       "a change the certification signature (DocMDP) does not permit"},
      {"modification.fieldmdp", "trường đã bị khóa (FieldMDP) bị thay đổi",
       "a locked field (FieldMDP) was changed"},
      // XML signatures (XAdES, XMLDSig).
      {"xml.duplicate_id", "một mã Id xuất hiện ở nhiều phần tử (nguy cơ tráo phần tử đã ký)",
       "an Id appears on several elements (signature wrapping)"},
      {"xml.dtd_forbidden", "tài liệu XML có khai báo DTD/thực thể, không được chấp nhận",
       "the XML document declares a DTD or entities, which are refused"},
      {"xml.external_reference", "chữ ký tham chiếu tài nguyên bên ngoài tài liệu (không tải về)",
       "the signature references a resource outside the document (not fetched)"},
      {"xml.unexpected_signed_element",
       "chữ ký không bao phủ phần tử tờ khai mà định dạng quy định (nguy cơ tráo phần tử đã ký)",
       "the signature does not cover the element the format says is the declaration "
       "(signature wrapping)"},
      {"xml.nothing_signed", "chữ ký không bao phủ nội dung nào của tài liệu",
       "the signature covers nothing of the document"},
      {"xades.signed_properties_altered", "thuộc tính đã ký (SignedProperties) bị thay đổi",
       "the signed properties (SignedProperties) were changed"},
      {"algorithm.sha1", "thuật toán SHA-1 không còn được chấp nhận",
       "SHA-1 is no longer accepted"},
      {"algorithm.weak_key", "độ dài khóa không đạt yêu cầu (Thông tư 15/2025)",
       "the key is too short (Thông tư 15/2025)"},
  };
  for (const auto& label : kLabels) {
    if (id == label.id) return l == Language::kVietnamese ? label.vi : label.en;
  }
  return "";
}

std::string HtmlEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// One signature as (label, value) rows, shared by the text and HTML renderers.
std::vector<std::pair<std::string, std::string>> Rows(const SignatureReport& s, Language l) {
  const Labels& L = LabelsFor(l);
  std::vector<std::pair<std::string, std::string>> rows;
  rows.emplace_back(L.overall, Verdict(s.indication, L) +
                                   (s.sub_indication.empty() ? "" : " (" + s.sub_indication + ")"));
  if (s.signer) {
    rows.emplace_back(L.signer, s.signer->common_name);
    rows.emplace_back(L.unit, s.signer->organization.empty() ? L.none : s.signer->organization);
    rows.emplace_back(L.issuer, s.signer->issuer_common_name);
    rows.emplace_back(L.cert_period,
                      VietnamTime(s.signer->not_before) + " – " + VietnamTime(s.signer->not_after));
  }
  if (s.timestamp_time) {
    rows.emplace_back(
        L.timestamp, VietnamTime(*s.timestamp_time) +
                         (s.timestamp_authority.empty() ? "" : " (" + s.timestamp_authority + ")"));
  }
  if (s.claimed_time) {
    rows.emplace_back(L.signing_time,
                      VietnamTime(*s.claimed_time) +
                          (s.timestamp_time ? "" : std::string(" (") + L.claimed_unproven + ")"));
  }
  rows.emplace_back(L.integrity, s.integrity ? L.intact : L.broken);
  if (!s.coverage.empty()) rows.emplace_back(L.coverage, Word(s.coverage, l));
  if (!s.modifications.empty()) rows.emplace_back(L.modifications, Word(s.modifications, l));
  rows.emplace_back(L.validity_at_time, s.certificate_valid_at_time ? L.valid : L.not_valid);
  if (!s.chain.empty()) rows.emplace_back(L.chain, Word(s.chain, l));
  if (s.chain == "trusted") {
    std::string policies;
    for (const auto& oid : s.valid_policies) {
      policies += (policies.empty() ? "" : ", ") + (oid == "2.5.29.32.0" ? "anyPolicy" : oid);
    }
    rows.emplace_back(L.policies, policies.empty() ? L.none : policies);
  }
  if (!s.revocation.empty()) {
    rows.emplace_back(L.revocation,
                      Word(s.revocation, l) +
                          (s.revocation_source.empty() ? "" : " (" + s.revocation_source + ")"));
  }
  if (!s.signature_algorithm.empty()) rows.emplace_back(L.algorithms, s.signature_algorithm);
  return rows;
}

}  // namespace

void Summarize(DocumentReport& report) {
  if (report.signatures.empty()) {
    report.indication = Indication::kIndeterminate;
    report.sub_indication = "NO_SIGNATURE";
    return;
  }
  bool any_failed = false, all_passed = true;
  for (const auto& s : report.signatures) {
    any_failed = any_failed || s.indication == Indication::kFailed;
    all_passed = all_passed && s.indication == Indication::kPassed;
  }
  report.indication = any_failed   ? Indication::kFailed
                      : all_passed ? Indication::kPassed
                                   : Indication::kIndeterminate;
  report.sub_indication.clear();
  for (const auto& s : report.signatures) {
    if (s.indication == report.indication && !s.sub_indication.empty()) {
      report.sub_indication = s.sub_indication;
      break;
    }
  }
}

std::string RenderJson(const DocumentReport& report) {
  using nlohmann::ordered_json;
  auto findings = [](const std::vector<Finding>& list) {
    ordered_json a = ordered_json::array();
    for (const auto& f : list) {
      a.push_back({{"id", f.id}, {"severity", SeverityName(f.severity)}, {"detail", f.detail}});
    }
    return a;
  };
  ordered_json sigs = ordered_json::array();
  for (const auto& s : report.signatures) {
    ordered_json j = {{"field", s.field},
                      {"type", s.type},
                      {"indication", IndicationName(s.indication)},
                      {"etsi_indication", EtsiName(s.indication)},
                      {"sub_indication", s.sub_indication}};
    if (s.signer) {
      j["signer"] = {{"subject", s.signer->subject},
                     {"common_name", s.signer->common_name},
                     {"organization", s.signer->organization},
                     {"issuer", s.signer->issuer_common_name},
                     {"serial", s.signer->serial_hex},
                     {"not_before", FormatUtc(s.signer->not_before)},
                     {"not_after", FormatUtc(s.signer->not_after)},
                     {"key", s.signer->key}};
    }
    if (s.claimed_time) j["claimed_time"] = FormatUtc(*s.claimed_time);
    if (s.timestamp_time) {
      j["timestamp"] = {{"time", FormatUtc(*s.timestamp_time)},
                        {"authority", s.timestamp_authority}};
    }
    j["time_source"] = s.time_source;
    if (s.validation_time) j["validation_time"] = FormatUtc(s.validation_time);
    j["integrity"] = s.integrity;
    j["coverage"] = s.coverage;
    j["modifications"] = s.modifications;
    j["certificate_valid_at_time"] = s.certificate_valid_at_time;
    j["chain"] = s.chain;
    if (s.chain == "trusted") j["valid_policies"] = s.valid_policies;
    j["revocation"] = {{"status", s.revocation}, {"source", s.revocation_source}};
    j["digest_algorithm"] = s.digest_algorithm;
    j["signature_algorithm"] = s.signature_algorithm;
    j["findings"] = findings(s.findings);
    sigs.push_back(std::move(j));
  }
  ordered_json doc = {{"file", report.file},
                      {"format", report.format},
                      {"indication", IndicationName(report.indication)},
                      {"etsi_indication", EtsiName(report.indication)},
                      {"sub_indication", report.sub_indication},
                      {"verified_at", FormatUtc(report.verified_at)},
                      {"signatures", sigs},
                      {"findings", findings(report.findings)}};
  return doc.dump(2);
}

std::string RenderText(const DocumentReport& report, Language language) {
  const Labels& L = LabelsFor(language);
  std::string out = std::string(L.title) + "\n";
  out += std::string(L.file) + ": " + report.file + "\n";
  out += std::string(L.overall) + ": " + Verdict(report.indication, L) +
         (report.sub_indication.empty() ? "" : " (" + report.sub_indication + ")") + "\n";
  if (report.signatures.empty() && report.findings.empty()) {
    out += std::string(L.no_signature) + "\n";
  }
  for (const auto& f : report.findings) out += "  [" + f.id + "] " + f.detail + "\n";
  int n = 0;
  for (const auto& s : report.signatures) {
    out += "\n" + std::string(L.signature) + " " + std::to_string(++n) + ": " + s.field + " — " +
           s.type + "\n";
    for (const auto& [label, value] : Rows(s, language)) {
      out += "  " + label + ": " + value + "\n";
    }
    if (!s.findings.empty()) {
      out += "  " + std::string(L.findings) + ":\n";
      for (const auto& f : s.findings) {
        std::string label = FindingLabel(f.id, language);
        out += "    [" + std::string(SeverityName(f.severity)) + "] " + f.id +
               (label.empty() ? "" : " (" + label + ")") +
               (f.detail.empty() ? "" : ": " + f.detail) + "\n";
      }
    }
  }
  return out;
}

std::string RenderHtml(const DocumentReport& report, Language language) {
  const Labels& L = LabelsFor(language);
  const char* colour = report.indication == Indication::kPassed   ? "#0a7a2f"
                       : report.indication == Indication::kFailed ? "#b00020"
                                                                  : "#a66a00";
  std::string out =
      "<!doctype html><html lang=\"" +
      std::string(language == Language::kVietnamese ? "vi" : "en") +
      "\"><head><meta charset=\"utf-8\"><title>" + HtmlEscape(L.title) +
      "</title><style>body{font-family:'Liberation Serif','Times New Roman',serif;margin:2em}"
      "table{border-collapse:collapse;margin:0.5em 0 1.5em}td{border:1px solid #999;padding:4px "
      "8px;vertical-align:top}td:first-child{font-weight:bold;width:16em}.v{font-size:1.3em;"
      "font-weight:bold}@media print{body{margin:1cm}}</style></head><body>";
  out += "<h1>" + HtmlEscape(L.title) + "</h1>";
  out += "<p>" + HtmlEscape(L.file) + ": " + HtmlEscape(report.file) + "</p>";
  out += "<p class=\"v\" style=\"color:" + std::string(colour) + "\">" + HtmlEscape(L.overall) +
         ": " + HtmlEscape(Verdict(report.indication, L)) + "</p>";
  if (report.signatures.empty() && report.findings.empty()) {
    out += "<p>" + HtmlEscape(L.no_signature) + "</p>";
  }
  for (const auto& f : report.findings) {
    out += "<p><code>" + HtmlEscape(f.id) + "</code> " + HtmlEscape(f.detail) + "</p>";
  }
  int n = 0;
  for (const auto& s : report.signatures) {
    out += "<h2>" + HtmlEscape(L.signature) + " " + std::to_string(++n) + ": " +
           HtmlEscape(s.field) + "</h2><table>";
    for (const auto& [label, value] : Rows(s, language)) {
      out += "<tr><td>" + HtmlEscape(label) + "</td><td>" + HtmlEscape(value) + "</td></tr>";
    }
    if (!s.findings.empty()) {
      out += "<tr><td>" + HtmlEscape(L.findings) + "</td><td><ul>";
      for (const auto& f : s.findings) {
        std::string label = FindingLabel(f.id, language);
        out += "<li><code>" + HtmlEscape(f.id) + "</code> " +
               (label.empty() ? "" : "<b>" + HtmlEscape(label) + "</b> ") + HtmlEscape(f.detail) +
               "</li>";
      }
      out += "</ul></td></tr>";
    }
    out += "</table>";
  }
  out += "</body></html>\n";
  return out;
}

}  // namespace kyso::verify
