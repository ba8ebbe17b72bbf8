// The profile file: a strict loader (every error names its JSON path) and the writer that
// produces the same form back.
#include "policy/profile.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

#include "policy/attributes.h"
#include "policy/builtin_profiles.h"
#include "policy/identifiers.h"

namespace kyso::policy {

namespace {

using Json = nlohmann::json;

constexpr int kFileVersion = 1;

Status ConfigInvalid(const std::string& path, std::string_view what) {
  return InvalidArgument("profile.config_invalid", path + ": " + std::string(what));
}

std::string Member(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}

std::string Element(const std::string& path, size_t index) {
  return path + "[" + std::to_string(index) + "]";
}

// --- Syntax pass ---------------------------------------------------------------------------

// A SAX pass before building the document: nlohmann::json keeps the last of duplicate keys
// silently, and an operator who writes "max_validity_days" twice must hear about it. It also
// turns a syntax error into a Status without an exception.
class SyntaxChecker final : public nlohmann::json_sax<Json> {
 public:
  const Status& status() const { return status_; }

  bool null() override { return Value(); }
  bool boolean(bool) override { return Value(); }
  bool number_integer(number_integer_t) override { return Value(); }
  bool number_unsigned(number_unsigned_t) override { return Value(); }
  bool number_float(number_float_t, const string_t&) override { return Value(); }
  bool string(string_t&) override { return Value(); }
  bool binary(binary_t&) override { return Value(); }
  bool start_object(std::size_t) override {
    frames_.push_back(Frame{});
    return true;
  }
  bool key(string_t& key) override {
    Frame& frame = frames_.back();
    frame.key = key;
    if (!frame.keys.insert(key).second) {
      status_ = ConfigInvalid(Path(), "duplicate key");
      return false;
    }
    return true;
  }
  bool end_object() override { return End(); }
  bool start_array(std::size_t) override {
    Frame frame;
    frame.array = true;
    frames_.push_back(std::move(frame));
    return true;
  }
  bool end_array() override { return End(); }
  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception& ex) override {
    std::string what = ex.what();
    // "[json.exception.parse_error.101] parse error at line 3, column 5: ..." -> from "parse"
    size_t start = what.find("] ");
    status_ = InvalidArgument(
        "profile.config_invalid",
        "not valid JSON: " + (start == std::string::npos ? what : what.substr(start + 2)));
    return false;
  }

 private:
  struct Frame {
    bool array = false;
    size_t index = 0;
    std::string key;
    std::set<std::string> keys;
  };

  bool Value() {
    if (!frames_.empty() && frames_.back().array) ++frames_.back().index;
    return true;
  }
  bool End() {
    frames_.pop_back();
    return Value();
  }
  std::string Path() const {
    std::string path;
    for (const auto& frame : frames_) {
      path = frame.array ? Element(path, frame.index) : Member(path, frame.key);
    }
    return path;
  }

  std::vector<Frame> frames_;
  Status status_;
};

// --- Typed access with paths ---------------------------------------------------------------

// One JSON object being read: refuses keys outside `known` up front, then hands out typed
// members. Absent optional members leave the output untouched (their default).
class ObjectReader {
 public:
  static Result<ObjectReader> Open(const Json& value, std::string path,
                                   std::initializer_list<std::string_view> known) {
    if (!value.is_object()) return ConfigInvalid(path, "must be a JSON object");
    for (const auto& [key, member] : value.items()) {
      if (std::find(known.begin(), known.end(), key) == known.end()) {
        std::string expected;
        for (auto k : known) expected += (expected.empty() ? "" : ", ") + std::string(k);
        return ConfigInvalid(Member(path, key), "unknown key (expected one of " + expected + ")");
      }
    }
    return ObjectReader(value, std::move(path));
  }

  std::string PathOf(std::string_view key) const { return Member(path_, key); }
  const Json* Find(std::string_view key) const {
    auto it = object_->find(key);
    return it == object_->end() ? nullptr : &*it;
  }
  Result<const Json*> Need(std::string_view key) const {
    const Json* member = Find(key);
    if (member == nullptr) return ConfigInvalid(PathOf(key), "missing");
    return member;
  }

  Status String(std::string_view key, bool required, std::string* out) const {
    const Json* member = Find(key);
    if (member == nullptr) return required ? ConfigInvalid(PathOf(key), "missing") : Status::Ok();
    if (!member->is_string()) return ConfigInvalid(PathOf(key), "must be a string");
    *out = member->get_ref<const std::string&>();
    return Status::Ok();
  }

  Status Bool(std::string_view key, bool* out) const {
    const Json* member = Find(key);
    if (member == nullptr) return Status::Ok();
    if (!member->is_boolean()) return ConfigInvalid(PathOf(key), "must be true or false");
    *out = member->get<bool>();
    return Status::Ok();
  }

  Status Int(std::string_view key, bool required, int* out) const {
    const Json* member = Find(key);
    if (member == nullptr) return required ? ConfigInvalid(PathOf(key), "missing") : Status::Ok();
    if (member->is_number_unsigned()) {
      auto v = member->get<Json::number_unsigned_t>();
      if (v > static_cast<Json::number_unsigned_t>(std::numeric_limits<int>::max())) {
        return ConfigInvalid(PathOf(key), "is out of range");
      }
      *out = static_cast<int>(v);
      return Status::Ok();
    }
    if (member->is_number_integer()) {
      auto v = member->get<Json::number_integer_t>();
      if (v < std::numeric_limits<int>::min() || v > std::numeric_limits<int>::max()) {
        return ConfigInvalid(PathOf(key), "is out of range");
      }
      *out = static_cast<int>(v);
      return Status::Ok();
    }
    return ConfigInvalid(PathOf(key), "must be an integer");
  }

  // An array of distinct strings.
  Status StringList(std::string_view key, bool required, std::vector<std::string>* out) const {
    const Json* member = Find(key);
    if (member == nullptr) return required ? ConfigInvalid(PathOf(key), "missing") : Status::Ok();
    return ReadStringList(*member, PathOf(key), out);
  }

  static Status ReadStringList(const Json& value, const std::string& path,
                               std::vector<std::string>* out) {
    if (!value.is_array()) return ConfigInvalid(path, "must be an array of strings");
    out->clear();
    for (size_t i = 0; i < value.size(); ++i) {
      const Json& item = value[i];
      if (!item.is_string()) return ConfigInvalid(Element(path, i), "must be a string");
      const auto& s = item.get_ref<const std::string&>();
      if (std::find(out->begin(), out->end(), s) != out->end()) {
        return ConfigInvalid(Element(path, i), "\"" + s + "\" is listed twice");
      }
      out->push_back(s);
    }
    return Status::Ok();
  }

 private:
  ObjectReader(const Json& object, std::string path) : object_(&object), path_(std::move(path)) {}
  const Json* object_;
  std::string path_;
};

// --- Vocabulary ----------------------------------------------------------------------------

// RFC 5280 §4.2.1.3 KeyUsage bits an end-entity profile may assert. keyCertSign and cRLSign
// are refused separately: "If the keyCertSign bit is asserted, then the cA bit in the basic
// constraints extension (Section 4.2.1.9) MUST also be asserted."
constexpr std::string_view kKeyUsages[] = {"digitalSignature", "nonRepudiation", "keyEncipherment",
                                           "dataEncipherment", "keyAgreement"};
constexpr std::string_view kCaKeyUsages[] = {"keyCertSign", "cRLSign"};
// RFC 5280 §4.2.1.12 key purposes by name, and RFC 9336 id-kp-documentSigning.
constexpr std::string_view kExtendedKeyUsages[] = {"serverAuth",      "clientAuth",   "codeSigning",
                                                   "emailProtection", "timeStamping", "OCSPSigning",
                                                   "documentSigning"};

template <size_t N>
bool In(const std::string_view (&list)[N], std::string_view item) {
  return std::find(std::begin(list), std::end(list), item) != std::end(list);
}

bool Contains(const std::vector<std::string>& list, std::string_view item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

bool IsProfileName(std::string_view name) {
  if (name.empty() || name.size() > 64 || name.front() == '-') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

bool IsAttributeType(std::string_view type) {
  return internal::FindAttribute(type) != nullptr || IsDottedOid(type);
}

std::optional<CertificateType> ParseCertificateType(std::string_view text) {
  for (auto type : {CertificateType::kIndividual, CertificateType::kOrganization,
                    CertificateType::kDevice, CertificateType::kOcsp, CertificateType::kTsa}) {
    if (CertificateTypeName(type) == text) return type;
  }
  return std::nullopt;
}

std::optional<SanRule> ParseSanRule(std::string_view text) {
  for (auto rule : {SanRule::kForbidden, SanRule::kOptional, SanRule::kRequired}) {
    if (SanRuleName(rule) == text) return rule;
  }
  return std::nullopt;
}

// --- One profile, section by section -------------------------------------------------------

Status ReadKeyTypes(const ObjectReader& in, Profile* p) {
  std::vector<std::string> names;
  KYSO_RETURN_IF_ERROR(in.StringList("key_types", true, &names));
  if (names.empty()) return ConfigInvalid(in.PathOf("key_types"), "must list at least one key");
  for (size_t i = 0; i < names.size(); ++i) {
    Result<crypto::KeySpec> spec = crypto::KeySpec::Parse(names[i]);
    if (!spec.ok())
      return ConfigInvalid(Element(in.PathOf("key_types"), i), spec.status().message());
    if (std::find(p->key_types.begin(), p->key_types.end(), *spec) != p->key_types.end()) {
      return ConfigInvalid(Element(in.PathOf("key_types"), i), "lists the same key twice");
    }
    p->key_types.push_back(*spec);
  }
  return Status::Ok();
}

Status ReadValidity(const ObjectReader& in, Profile* p) {
  KYSO_RETURN_IF_ERROR(in.Int("max_validity_days", true, &p->max_validity_days));
  KYSO_RETURN_IF_ERROR(in.Int("max_renewal_days", true, &p->max_renewal_days));
  KYSO_RETURN_IF_ERROR(in.Int("default_validity_days", true, &p->default_validity_days));
  KYSO_RETURN_IF_ERROR(in.Int("backdate_seconds", false, &p->backdate_seconds));
  // Nghị định 68/2024/NĐ-CP Điều 9: new certificates at most 5 years, renewals at most 3.
  if (p->max_validity_days < 1)
    return ConfigInvalid(in.PathOf("max_validity_days"), "must be >= 1");
  if (p->max_validity_days > kLegalMaxNewValidityDays) {
    return ConfigInvalid(in.PathOf("max_validity_days"),
                         "exceeds " + std::to_string(kLegalMaxNewValidityDays) + " (" +
                             std::string(kLegalBasisValidity) +
                             ": a new certificate is valid for at most 5 years)");
  }
  if (p->max_renewal_days < 1) return ConfigInvalid(in.PathOf("max_renewal_days"), "must be >= 1");
  if (p->max_renewal_days > kLegalMaxRenewalDays) {
    return ConfigInvalid(in.PathOf("max_renewal_days"),
                         "exceeds " + std::to_string(kLegalMaxRenewalDays) + " (" +
                             std::string(kLegalBasisValidity) +
                             ": a renewed certificate is valid for at most 3 years)");
  }
  if (p->default_validity_days < 1 || p->default_validity_days > p->max_validity_days) {
    return ConfigInvalid(
        in.PathOf("default_validity_days"),
        "must be between 1 and max_validity_days (" + std::to_string(p->max_validity_days) + ")");
  }
  if (p->backdate_seconds < 0 || p->backdate_seconds > kMaxBackdateSeconds) {
    return ConfigInvalid(in.PathOf("backdate_seconds"),
                         "must be between 0 and " + std::to_string(kMaxBackdateSeconds));
  }
  return Status::Ok();
}

Status ReadExtensions(const ObjectReader& in, Profile* p) {
  KYSO_RETURN_IF_ERROR(in.StringList("key_usage", true, &p->key_usage));
  for (size_t i = 0; i < p->key_usage.size(); ++i) {
    const std::string& bit = p->key_usage[i];
    if (In(kCaKeyUsages, bit)) {
      return ConfigInvalid(Element(in.PathOf("key_usage"), i),
                           bit +
                               " is for CA certificates (RFC 5280 §4.2.1.3); profiles issue "
                               "end-entity certificates");
    }
    if (!In(kKeyUsages, bit)) {
      return ConfigInvalid(Element(in.PathOf("key_usage"), i),
                           "unknown key usage \"" + bit +
                               "\" (digitalSignature, nonRepudiation, keyEncipherment, "
                               "dataEncipherment, keyAgreement)");
    }
  }
  KYSO_RETURN_IF_ERROR(in.Bool("key_usage_critical", &p->key_usage_critical));

  KYSO_RETURN_IF_ERROR(in.StringList("extended_key_usage", true, &p->extended_key_usage));
  for (size_t i = 0; i < p->extended_key_usage.size(); ++i) {
    const std::string& purpose = p->extended_key_usage[i];
    if (!In(kExtendedKeyUsages, purpose) && !IsDottedOid(purpose)) {
      return ConfigInvalid(Element(in.PathOf("extended_key_usage"), i),
                           "\"" + purpose +
                               "\" is neither a known key purpose (serverAuth, clientAuth, "
                               "codeSigning, emailProtection, timeStamping, OCSPSigning, "
                               "documentSigning) nor a dotted OID");
    }
  }
  KYSO_RETURN_IF_ERROR(in.Bool("extended_key_usage_critical", &p->extended_key_usage_critical));

  KYSO_RETURN_IF_ERROR(in.StringList("policy_oids", true, &p->policy_oids));
  for (size_t i = 0; i < p->policy_oids.size(); ++i) {
    if (!IsDottedOid(p->policy_oids[i])) {
      return ConfigInvalid(Element(in.PathOf("policy_oids"), i),
                           "\"" + p->policy_oids[i] + "\" is not a dotted OID");
    }
  }
  KYSO_RETURN_IF_ERROR(in.Bool("include_aia", &p->include_aia));
  KYSO_RETURN_IF_ERROR(in.Bool("include_crl_dp", &p->include_crl_dp));
  KYSO_RETURN_IF_ERROR(in.Bool("ocsp_no_check", &p->ocsp_no_check));
  return Status::Ok();
}

// Rules that tie the extensions to the certificate type.
Status CheckTypeRules(const ObjectReader& in, const Profile& p) {
  // RFC 6960 §4.2.2.2.1: id-pkix-ocsp-nocheck belongs in an OCSP responder's certificate.
  if (p.ocsp_no_check && p.certificate_type != CertificateType::kOcsp) {
    return ConfigInvalid(in.PathOf("ocsp_no_check"),
                         "is only for certificate_type \"ocsp\" (RFC 6960 §4.2.2.2.1)");
  }
  // RFC 6960 §4.2.2.2: a delegated responder's certificate "MUST ... include a value of
  // id-kp-OCSPSigning in an extended key usage extension".
  if (p.certificate_type == CertificateType::kOcsp &&
      !Contains(p.extended_key_usage, "OCSPSigning")) {
    return ConfigInvalid(in.PathOf("extended_key_usage"),
                         "must include OCSPSigning for certificate_type \"ocsp\" (RFC 6960 "
                         "§4.2.2.2)");
  }
  // RFC 3161 §2.3: "The corresponding certificate MUST contain only one instance of the
  // extended key usage field extension ... with KeyPurposeID having value: id-kp-timeStamping.
  // This extension MUST be critical."
  if (p.certificate_type == CertificateType::kTsa) {
    if (p.extended_key_usage != std::vector<std::string>{"timeStamping"}) {
      return ConfigInvalid(in.PathOf("extended_key_usage"),
                           "must be exactly [\"timeStamping\"] for certificate_type \"tsa\" (RFC "
                           "3161 §2.3)");
    }
    if (!p.extended_key_usage_critical) {
      return ConfigInvalid(in.PathOf("extended_key_usage_critical"),
                           "must be true for certificate_type \"tsa\" (RFC 3161 §2.3)");
    }
  }
  return Status::Ok();
}

Status ReadSubject(const ObjectReader& profile_in, Profile* p) {
  KYSO_ASSIGN_OR_RETURN(const Json* value, profile_in.Need("subject"));
  KYSO_ASSIGN_OR_RETURN(ObjectReader in,
                        ObjectReader::Open(*value, profile_in.PathOf("subject"),
                                           {"required", "allowed", "forbidden", "fixed"}));
  SubjectRules& rules = p->subject;
  KYSO_RETURN_IF_ERROR(in.StringList("required", true, &rules.required));
  KYSO_RETURN_IF_ERROR(in.StringList("allowed", false, &rules.allowed));
  KYSO_RETURN_IF_ERROR(in.StringList("forbidden", false, &rules.forbidden));
  if (rules.required.empty()) {
    return ConfigInvalid(in.PathOf("required"), "must list at least one attribute, e.g. CN");
  }
  std::set<std::string> permitted;
  for (auto [key, list] :
       {std::pair{"required", &rules.required}, std::pair{"allowed", &rules.allowed},
        std::pair{"forbidden", &rules.forbidden}}) {
    for (size_t i = 0; i < list->size(); ++i) {
      const std::string& type = (*list)[i];
      std::string path = Element(in.PathOf(key), i);
      if (!IsAttributeType(type)) {
        return ConfigInvalid(path, "unknown attribute type \"" + type +
                                       "\" (C, ST, L, street, postalCode, O, OU, title, GN, SN, "
                                       "CN, serialNumber, UID, emailAddress, DC or a dotted OID)");
      }
      if (std::string_view(key) == "forbidden") {
        if (permitted.count(type) != 0) {
          return ConfigInvalid(path, type + " is also required or allowed");
        }
      } else if (!permitted.insert(type).second) {
        return ConfigInvalid(path, type + " is listed in both required and allowed");
      }
    }
  }
  if (const Json* fixed = in.Find("fixed")) {
    std::string path = in.PathOf("fixed");
    if (!fixed->is_object()) return ConfigInvalid(path, "must be a JSON object");
    for (const auto& [type, v] : fixed->items()) {
      std::string item_path = Member(path, type);
      if (permitted.count(type) == 0) {
        return ConfigInvalid(item_path, "fixes an attribute that is neither required nor allowed");
      }
      if (!v.is_string()) return ConfigInvalid(item_path, "must be a string");
      const auto& text = v.get_ref<const std::string&>();
      Status valid = CheckAttributeText(type, text);
      if (!valid.ok()) return ConfigInvalid(item_path, valid.message());
      const internal::AttributeInfo* info = internal::FindAttribute(type);
      if (info != nullptr && info->max_chars != 0 &&
          Utf8Length(text).value_or(0) > info->max_chars) {
        return ConfigInvalid(item_path, "is longer than " + std::to_string(info->max_chars) +
                                            " characters (" + std::string(info->bound) + ")");
      }
      bool alpha2 = text.size() == 2 && std::all_of(text.begin(), text.end(),
                                                    [](char c) { return c >= 'A' && c <= 'Z'; });
      if (type == "C" && !alpha2) {
        return ConfigInvalid(item_path, "must be a two-letter upper-case ISO 3166 code such as VN");
      }
      rules.fixed[type] = text;
    }
  }
  return Status::Ok();
}

Status ReadUid(const ObjectReader& profile_in, Profile* p) {
  bool subject_has_uid =
      Contains(p->subject.required, "UID") || Contains(p->subject.allowed, "UID");
  const Json* value = profile_in.Find("uid");
  if (value != nullptr) {
    KYSO_ASSIGN_OR_RETURN(ObjectReader in,
                          ObjectReader::Open(*value, profile_in.PathOf("uid"),
                                             {"allowed_prefixes", "required_one_of"}));
    KYSO_RETURN_IF_ERROR(in.StringList("allowed_prefixes", true, &p->uid.allowed_prefixes));
    for (size_t i = 0; i < p->uid.allowed_prefixes.size(); ++i) {
      if (!IsKnownUidPrefix(p->uid.allowed_prefixes[i])) {
        std::string known;
        for (const auto& k : KnownUidPrefixes()) known += (known.empty() ? "" : ", ") + k;
        return ConfigInvalid(
            Element(in.PathOf("allowed_prefixes"), i),
            "unknown UID prefix \"" + p->uid.allowed_prefixes[i] + "\" (" + known + ")");
      }
    }
    if (const Json* groups = in.Find("required_one_of")) {
      std::string path = in.PathOf("required_one_of");
      if (!groups->is_array()) return ConfigInvalid(path, "must be an array of arrays of prefixes");
      for (size_t g = 0; g < groups->size(); ++g) {
        std::vector<std::string> group;
        std::string group_path = Element(path, g);
        KYSO_RETURN_IF_ERROR(ObjectReader::ReadStringList((*groups)[g], group_path, &group));
        if (group.empty()) return ConfigInvalid(group_path, "must list at least one prefix");
        for (size_t i = 0; i < group.size(); ++i) {
          if (!Contains(p->uid.allowed_prefixes, group[i])) {
            return ConfigInvalid(Element(group_path, i),
                                 "\"" + group[i] + "\" is not in uid.allowed_prefixes");
          }
        }
        p->uid.required_one_of.push_back(std::move(group));
      }
    }
  }
  if (subject_has_uid && p->uid.allowed_prefixes.empty()) {
    return ConfigInvalid(profile_in.PathOf("uid.allowed_prefixes"),
                         "must list the accepted prefixes, since subject allows UID");
  }
  if (!subject_has_uid && !p->uid.allowed_prefixes.empty()) {
    return ConfigInvalid(profile_in.PathOf("uid.allowed_prefixes"),
                         "lists prefixes, but subject neither requires nor allows UID");
  }
  return Status::Ok();
}

Status ReadSan(const ObjectReader& profile_in, Profile* p) {
  const Json* value = profile_in.Find("san");
  if (value == nullptr) return Status::Ok();  // all forbidden
  KYSO_ASSIGN_OR_RETURN(
      ObjectReader in,
      ObjectReader::Open(*value, profile_in.PathOf("san"),
                         {"email", "dns", "ip", "copy_subject_email", "allow_wildcard"}));
  for (auto [key, rule] : {std::pair{"email", &p->san.email}, std::pair{"dns", &p->san.dns},
                           std::pair{"ip", &p->san.ip}}) {
    std::string text;
    KYSO_RETURN_IF_ERROR(in.String(key, false, &text));
    if (text.empty()) continue;
    std::optional<SanRule> parsed = ParseSanRule(text);
    if (!parsed) {
      return ConfigInvalid(in.PathOf(key), "must be \"forbidden\", \"optional\" or \"required\"");
    }
    *rule = *parsed;
  }
  KYSO_RETURN_IF_ERROR(in.Bool("copy_subject_email", &p->san.copy_subject_email));
  KYSO_RETURN_IF_ERROR(in.Bool("allow_wildcard", &p->san.allow_wildcard));
  if (p->san.copy_subject_email) {
    if (p->san.email == SanRule::kForbidden) {
      return ConfigInvalid(in.PathOf("copy_subject_email"), "needs san.email not \"forbidden\"");
    }
    if (!Contains(p->subject.required, "emailAddress") &&
        !Contains(p->subject.allowed, "emailAddress")) {
      return ConfigInvalid(in.PathOf("copy_subject_email"),
                           "needs emailAddress in subject.required or subject.allowed");
    }
  }
  if (p->san.allow_wildcard && p->san.dns == SanRule::kForbidden) {
    return ConfigInvalid(in.PathOf("allow_wildcard"), "needs san.dns not \"forbidden\"");
  }
  return Status::Ok();
}

Result<Profile> ReadProfile(const Json& value, const std::string& path) {
  KYSO_ASSIGN_OR_RETURN(
      ObjectReader in,
      ObjectReader::Open(
          value, path,
          {"name", "description", "certificate_type", "key_types", "default_validity_days",
           "max_validity_days", "max_renewal_days", "backdate_seconds", "key_usage",
           "key_usage_critical", "extended_key_usage", "extended_key_usage_critical", "policy_oids",
           "include_aia", "include_crl_dp", "ocsp_no_check", "subject", "uid", "san"}));
  Profile p;
  KYSO_RETURN_IF_ERROR(in.String("name", true, &p.name));
  if (!IsProfileName(p.name)) {
    return ConfigInvalid(
        in.PathOf("name"),
        "\"" + p.name + "\" must be 1-64 of a-z, 0-9 and '-', not starting with '-'");
  }
  KYSO_RETURN_IF_ERROR(in.String("description", false, &p.description));
  std::string type;
  KYSO_RETURN_IF_ERROR(in.String("certificate_type", true, &type));
  std::optional<CertificateType> parsed_type = ParseCertificateType(type);
  if (!parsed_type) {
    return ConfigInvalid(
        in.PathOf("certificate_type"),
        "must be \"individual\", \"organization\", \"device\", \"ocsp\" or \"tsa\"");
  }
  p.certificate_type = *parsed_type;
  KYSO_RETURN_IF_ERROR(ReadKeyTypes(in, &p));
  KYSO_RETURN_IF_ERROR(ReadValidity(in, &p));
  KYSO_RETURN_IF_ERROR(ReadExtensions(in, &p));
  KYSO_RETURN_IF_ERROR(CheckTypeRules(in, p));
  KYSO_RETURN_IF_ERROR(ReadSubject(in, &p));
  KYSO_RETURN_IF_ERROR(ReadUid(in, &p));
  KYSO_RETURN_IF_ERROR(ReadSan(in, &p));
  return p;
}

}  // namespace

std::string_view CertificateTypeName(CertificateType type) {
  switch (type) {
    case CertificateType::kIndividual:
      return "individual";
    case CertificateType::kOrganization:
      return "organization";
    case CertificateType::kDevice:
      return "device";
    case CertificateType::kOcsp:
      return "ocsp";
    case CertificateType::kTsa:
      return "tsa";
  }
  return "unknown";
}

std::string_view SanRuleName(SanRule rule) {
  switch (rule) {
    case SanRule::kForbidden:
      return "forbidden";
    case SanRule::kOptional:
      return "optional";
    case SanRule::kRequired:
      return "required";
  }
  return "unknown";
}

Result<ProfileSet> ProfileSet::FromJson(std::string_view json) {
  SyntaxChecker checker;
  if (!Json::sax_parse(json, &checker, Json::input_format_t::json, /*strict=*/true)) {
    Status status = checker.status();
    if (status.ok()) status = InvalidArgument("profile.config_invalid", "not valid JSON");
    return status;
  }
  Json root = Json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded()) return InvalidArgument("profile.config_invalid", "not valid JSON");

  KYSO_ASSIGN_OR_RETURN(ObjectReader in,
                        ObjectReader::Open(root, "", {"version", "description", "profiles"}));
  int version = 0;
  KYSO_RETURN_IF_ERROR(in.Int("version", true, &version));
  if (version != kFileVersion) {
    return ConfigInvalid("version", "must be " + std::to_string(kFileVersion));
  }
  std::string description;
  KYSO_RETURN_IF_ERROR(in.String("description", false, &description));
  KYSO_ASSIGN_OR_RETURN(const Json* profiles, in.Need("profiles"));
  if (!profiles->is_array() || profiles->empty()) {
    return ConfigInvalid("profiles", "must be a non-empty array of profiles");
  }
  ProfileSet set;
  for (size_t i = 0; i < profiles->size(); ++i) {
    std::string path = Element("profiles", i);
    KYSO_ASSIGN_OR_RETURN(Profile profile, ReadProfile((*profiles)[i], path));
    if (set.Find(profile.name) != nullptr) {
      return ConfigInvalid(Member(path, "name"), "\"" + profile.name + "\" is defined twice");
    }
    set.profiles_.push_back(std::move(profile));
  }
  return set;
}

const std::string& ProfileSet::BuiltInJson() {
  static const auto* json = new std::string(kBuiltInProfilesJson);
  return *json;
}

ProfileSet ProfileSet::BuiltIn() {
  static const auto* set = [] {
    Result<ProfileSet> loaded = FromJson(BuiltInJson());
    if (!loaded.ok()) {
      // A broken invariant: config/profiles.json is compiled in and tested at build time.
      std::fprintf(stderr, "kyso: built-in profiles do not load: %s\n",
                   loaded.status().ToString().c_str());
      std::abort();
    }
    return new ProfileSet(std::move(loaded).value());
  }();
  return *set;
}

const Profile* ProfileSet::Find(std::string_view name) const {
  for (const auto& profile : profiles_) {
    if (profile.name == name) return &profile;
  }
  return nullptr;
}

nlohmann::ordered_json ProfileToJson(const Profile& p) {
  using OJson = nlohmann::ordered_json;
  OJson key_types = OJson::array();
  for (const auto& spec : p.key_types) key_types.push_back(spec.ToString());
  OJson fixed = OJson::object();
  for (const auto& [type, value] : p.subject.fixed) fixed[type] = value;

  OJson j;
  j["name"] = p.name;
  j["description"] = p.description;
  j["certificate_type"] = CertificateTypeName(p.certificate_type);
  j["key_types"] = std::move(key_types);
  j["default_validity_days"] = p.default_validity_days;
  j["max_validity_days"] = p.max_validity_days;
  j["max_renewal_days"] = p.max_renewal_days;
  j["backdate_seconds"] = p.backdate_seconds;
  j["key_usage"] = p.key_usage;
  j["key_usage_critical"] = p.key_usage_critical;
  j["extended_key_usage"] = p.extended_key_usage;
  j["extended_key_usage_critical"] = p.extended_key_usage_critical;
  j["policy_oids"] = p.policy_oids;
  j["include_aia"] = p.include_aia;
  j["include_crl_dp"] = p.include_crl_dp;
  j["ocsp_no_check"] = p.ocsp_no_check;
  j["subject"] = {{"required", p.subject.required},
                  {"allowed", p.subject.allowed},
                  {"forbidden", p.subject.forbidden},
                  {"fixed", std::move(fixed)}};
  j["uid"] = {{"allowed_prefixes", p.uid.allowed_prefixes},
              {"required_one_of", p.uid.required_one_of}};
  j["san"] = {{"email", SanRuleName(p.san.email)},
              {"dns", SanRuleName(p.san.dns)},
              {"ip", SanRuleName(p.san.ip)},
              {"copy_subject_email", p.san.copy_subject_email},
              {"allow_wildcard", p.san.allow_wildcard}};
  return j;
}

nlohmann::ordered_json ProfileSetToJson(const ProfileSet& set) {
  nlohmann::ordered_json profiles = nlohmann::ordered_json::array();
  for (const auto& profile : set.profiles()) profiles.push_back(ProfileToJson(profile));
  nlohmann::ordered_json j;
  j["version"] = kFileVersion;
  j["profiles"] = std::move(profiles);
  return j;
}

}  // namespace kyso::policy
