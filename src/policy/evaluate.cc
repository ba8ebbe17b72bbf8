// Evaluate(): the issuance rules, one function per concern, applied in a fixed order.
#include <algorithm>
#include <limits>
#include <set>

#include "policy/attributes.h"
#include "policy/identifiers.h"
#include "policy/profile.h"

namespace kyso::policy {

namespace {

using internal::AttributeInfo;
using internal::FindAttribute;

std::string Quoted(std::string_view s) {
  return "'" + std::string(s) + "'";
}

bool Contains(const std::vector<std::string>& list, std::string_view item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

std::string Join(const std::vector<std::string>& list) {
  std::string out;
  for (const auto& item : list) out += (out.empty() ? "" : ", ") + item;
  return out;
}

// --- CA requests and extensions -------------------------------------------------------------

Status CheckRequestedExtensions(const Profile& profile, const RequestFacts& request) {
  // RFC 5280 §4.2.1.9: "The cA boolean indicates whether the certified public key may be used
  // to verify certificate signatures." Profiles issue end-entity certificates only; CA
  // certificates are made by the CA module's own ceremony.
  if (request.requests_ca) {
    return InvalidArgument("profile.ca_requested",
                           "profile " + Quoted(profile.name) +
                               " issues end-entity certificates; the request asks for CA:TRUE");
  }
  // RFC 5280 §4.2: "A certificate-using system MUST reject the certificate if it encounters a
  // critical extension it does not recognize". The CA cannot honour what it does not
  // understand either, and never copies it blindly.
  if (!request.unsupported_critical_extensions.empty()) {
    return InvalidArgument("profile.unsupported_critical_extension",
                           "the request asks for critical extension(s) " +
                               Join(request.unsupported_critical_extensions) +
                               ", which this CA does not support");
  }
  return Status::Ok();
}

// --- Key -----------------------------------------------------------------------------------

// Thông tư 15/2025/TT-BKHCN (mandatory standards): RSA keys of at least 2048 bits.
constexpr int kLegalMinRsaBits = 2048;

bool KeyMatches(const crypto::KeySpec& allowed, const crypto::KeySpec& key) {
  if (allowed.algorithm != key.algorithm) return false;
  switch (key.algorithm) {
    case crypto::KeyAlgorithm::kRsa:
      return allowed.bits == key.bits;
    case crypto::KeyAlgorithm::kEcdsa:
      return allowed.curve == key.curve;
    case crypto::KeyAlgorithm::kEd25519:
      return true;
  }
  return false;
}

std::string DescribeKey(const crypto::KeySpec& key) {
  switch (key.algorithm) {
    case crypto::KeyAlgorithm::kRsa:
      return "RSA-" + std::to_string(key.bits);
    case crypto::KeyAlgorithm::kEcdsa:
      return "ECDSA " + (key.curve.empty() ? std::to_string(key.bits) + "-bit" : key.curve);
    case crypto::KeyAlgorithm::kEd25519:
      return "Ed25519";
  }
  return "unknown";
}

// Whether a key of `algorithm` can carry the key usage bit `usage`.
bool UsageFitsAlgorithm(std::string_view usage, crypto::KeyAlgorithm algorithm) {
  switch (algorithm) {
    case crypto::KeyAlgorithm::kRsa:
      // RFC 3279 §2.3.1: "any combination of the following values MAY be present:
      // digitalSignature; nonRepudiation; keyEncipherment; dataEncipherment; keyCertSign; and
      // cRLSign." (no keyAgreement)
      return usage != "keyAgreement";
    case crypto::KeyAlgorithm::kEcdsa:
      // RFC 5480 §3: "keyEncipherment and dataEncipherment MUST NOT be present."
      return usage != "keyEncipherment" && usage != "dataEncipherment";
    case crypto::KeyAlgorithm::kEd25519:
      // RFC 8410 §5: "digitalSignature, nonRepudiation, keyCertSign, and cRLSign" only.
      return usage == "digitalSignature" || usage == "nonRepudiation";
  }
  return false;
}

// Returns the profile's key usage bits that the key's algorithm can perform.
Result<std::vector<std::string>> CheckKey(const Profile& profile, const crypto::KeySpec& key) {
  bool listed =
      std::any_of(profile.key_types.begin(), profile.key_types.end(),
                  [&](const crypto::KeySpec& allowed) { return KeyMatches(allowed, key); });
  if (!listed) {
    int min_rsa = 0;
    std::vector<std::string> names;
    for (const auto& allowed : profile.key_types) {
      names.push_back(allowed.ToString());
      if (allowed.algorithm == crypto::KeyAlgorithm::kRsa &&
          (min_rsa == 0 || allowed.bits < min_rsa)) {
        min_rsa = allowed.bits;
      }
    }
    if (key.algorithm == crypto::KeyAlgorithm::kRsa &&
        (key.bits < kLegalMinRsaBits || (min_rsa != 0 && key.bits < min_rsa))) {
      int required = std::max(min_rsa, kLegalMinRsaBits);
      return InvalidArgument("profile.key_too_weak",
                             DescribeKey(key) + " is too weak for profile " + Quoted(profile.name) +
                                 ": RSA keys need at least " + std::to_string(required) +
                                 " bits (Thông tư 15/2025/TT-BKHCN: RSA ≥ 2048)");
    }
    return InvalidArgument("profile.key_type_not_allowed",
                           DescribeKey(key) + " keys are not allowed by profile " +
                               Quoted(profile.name) + "; allowed: " + Join(names));
  }
  std::vector<std::string> usage;
  for (const auto& bit : profile.key_usage) {
    if (UsageFitsAlgorithm(bit, key.algorithm)) usage.push_back(bit);
  }
  if (usage.empty() && !profile.key_usage.empty()) {
    return InvalidArgument("profile.key_type_not_allowed",
                           DescribeKey(key) + " keys cannot perform any key usage of profile " +
                               Quoted(profile.name) + " (" + Join(profile.key_usage) + ")");
  }
  return usage;
}

// --- Subject -------------------------------------------------------------------------------

Status CheckAttributeValue(const Profile& profile, const x509::NameAttribute& attribute,
                           const AttributeInfo* info) {
  KYSO_RETURN_IF_ERROR(CheckAttributeText(attribute.type, attribute.value));
  if (attribute.type == "C") {
    // RFC 5280 §4.1.2.4 / X.520: countryName is a two-letter ISO 3166 code.
    const std::string& c = attribute.value;
    bool alpha2 = c.size() == 2 && c[0] >= 'A' && c[0] <= 'Z' && c[1] >= 'A' && c[1] <= 'Z';
    if (!alpha2) {
      return InvalidArgument("profile.subject_value_invalid",
                             "subject attribute C must be a two-letter upper-case ISO 3166 code "
                             "such as VN, not \"" +
                                 c + "\"");
    }
  }
  size_t chars = Utf8Length(attribute.value).value_or(0);
  if (info != nullptr && info->max_chars != 0 && chars > info->max_chars) {
    return InvalidArgument("profile.subject_value_too_long",
                           "subject attribute " + attribute.type + " has " + std::to_string(chars) +
                               " characters; at most " + std::to_string(info->max_chars) + " (" +
                               std::string(info->bound) + ")");
  }
  auto fixed = profile.subject.fixed.find(attribute.type);
  if (fixed != profile.subject.fixed.end() && attribute.value != fixed->second) {
    return InvalidArgument("profile.subject_value_not_allowed",
                           "subject attribute " + attribute.type + " must be \"" + fixed->second +
                               "\" in profile " + Quoted(profile.name) + ", not \"" +
                               attribute.value + "\"");
  }
  if (attribute.type == "emailAddress") KYSO_RETURN_IF_ERROR(CheckEmailAddress(attribute.value));
  return Status::Ok();
}

Status CheckSubject(const Profile& profile, const x509::Name& subject) {
  const SubjectRules& rules = profile.subject;
  std::set<std::string> seen;
  for (const auto& attribute : subject.attributes()) {
    bool permitted =
        (Contains(rules.required, attribute.type) || Contains(rules.allowed, attribute.type)) &&
        !Contains(rules.forbidden, attribute.type);
    if (!permitted) {
      return InvalidArgument("profile.subject_attribute_forbidden",
                             "subject attribute " + attribute.type + " is not allowed by profile " +
                                 Quoted(profile.name));
    }
    const AttributeInfo* info = FindAttribute(attribute.type);
    // RFC 5280 §4.1.2.4 allows repeated attribute types, but one subject has one common name,
    // one country, one organization: a second one would make the name ambiguous to display.
    bool repeatable = info == nullptr || info->repeatable;
    if (!seen.insert(attribute.type).second && !repeatable) {
      return InvalidArgument("profile.subject_attribute_duplicate",
                             "subject attribute " + attribute.type + " occurs more than once");
    }
    KYSO_RETURN_IF_ERROR(CheckAttributeValue(profile, attribute, info));
  }
  for (const auto& type : rules.required) {
    if (seen.count(type) == 0) {
      return InvalidArgument(
          "profile.subject_attribute_missing",
          "subject attribute " + type + " is required by profile " + Quoted(profile.name));
    }
  }
  if (subject.empty()) {
    return InvalidArgument("profile.subject_attribute_missing", "the subject name is empty");
  }
  return Status::Ok();
}

// --- UID identifiers -----------------------------------------------------------------------

Status CheckUids(const Profile& profile, const x509::Name& subject) {
  std::set<std::string> prefixes;
  std::set<std::string> canonical;
  for (const auto& value : subject.ValuesOf("UID")) {
    KYSO_ASSIGN_OR_RETURN(Uid uid, ParseUid(value));
    if (!Contains(profile.uid.allowed_prefixes, uid.prefix)) {
      return InvalidArgument("profile.uid_prefix_not_allowed",
                             "UID prefix " + uid.prefix + " is not allowed by profile " +
                                 Quoted(profile.name) +
                                 "; allowed: " + Join(profile.uid.allowed_prefixes));
    }
    if (!canonical.insert(uid.canonical).second) {
      return InvalidArgument("profile.uid_duplicate", "UID " + value + " occurs more than once");
    }
    prefixes.insert(uid.prefix);
  }
  for (const auto& group : profile.uid.required_one_of) {
    bool found = std::any_of(group.begin(), group.end(),
                             [&](const std::string& p) { return prefixes.count(p) != 0; });
    if (!found) {
      return InvalidArgument("profile.uid_missing", "profile " + Quoted(profile.name) +
                                                        " requires a UID with one of the "
                                                        "prefixes " +
                                                        Join(group));
    }
  }
  return Status::Ok();
}

// --- subjectAltName ------------------------------------------------------------------------

struct SubjectAltNames {
  std::vector<std::string> email, dns, ip;
};

void AppendUnique(std::vector<std::string>* list, const std::string& item) {
  if (!Contains(*list, item)) list->push_back(item);
}

Status SanNotAllowed(const Profile& profile, std::string_view kind) {
  return InvalidArgument("profile.san_not_allowed", "profile " + Quoted(profile.name) +
                                                        " does not allow " + std::string(kind) +
                                                        " subjectAltName entries");
}

Status SanMissing(const Profile& profile, std::string_view kind) {
  return InvalidArgument("profile.san_missing", "profile " + Quoted(profile.name) +
                                                    " requires at least one " + std::string(kind) +
                                                    " subjectAltName entry");
}

Result<SubjectAltNames> CheckSubjectAltNames(const Profile& profile, const RequestFacts& request) {
  const SanRules& rules = profile.san;
  SubjectAltNames sans;

  if (!request.email_sans.empty() && rules.email == SanRule::kForbidden) {
    return SanNotAllowed(profile, "e-mail (rfc822Name)");
  }
  for (const auto& email : request.email_sans) {
    KYSO_RETURN_IF_ERROR(CheckEmailAddress(email));
    AppendUnique(&sans.email, email);
  }
  if (rules.copy_subject_email && rules.email != SanRule::kForbidden) {
    // RFC 5280 §4.1.2.6: "Conforming implementations generating new certificates with
    // electronic mail addresses MUST use the rfc822Name in the subject alternative name
    // extension (Section 4.2.1.6) to describe such identities."
    for (const auto& email : request.subject.ValuesOf("emailAddress")) {
      AppendUnique(&sans.email, email);  // checked with the subject
    }
  }
  if (sans.email.empty() && rules.email == SanRule::kRequired) {
    return SanMissing(profile, "e-mail (rfc822Name)");
  }

  if (!request.dns_sans.empty() && rules.dns == SanRule::kForbidden) {
    return SanNotAllowed(profile, "DNS (dNSName)");
  }
  for (const auto& dns : request.dns_sans) {
    KYSO_RETURN_IF_ERROR(CheckDnsName(dns, rules.allow_wildcard));
    AppendUnique(&sans.dns, dns);
  }
  if (sans.dns.empty() && rules.dns == SanRule::kRequired) {
    return SanMissing(profile, "DNS (dNSName)");
  }

  if (!request.ip_sans.empty() && rules.ip == SanRule::kForbidden) {
    return SanNotAllowed(profile, "IP address (iPAddress)");
  }
  for (const auto& ip : request.ip_sans) {
    KYSO_RETURN_IF_ERROR(CheckIpAddress(ip));
    AppendUnique(&sans.ip, ip);
  }
  if (sans.ip.empty() && rules.ip == SanRule::kRequired) {
    return SanMissing(profile, "IP address (iPAddress)");
  }
  return sans;
}

// --- Validity ------------------------------------------------------------------------------

struct Validity {
  UnixSeconds not_before;
  UnixSeconds not_after;
};

Result<Validity> CheckValidity(const Profile& profile, IssuanceKind kind,
                               std::optional<int> requested_days, UnixSeconds now,
                               UnixSeconds issuer_not_after) {
  bool renewal = kind == IssuanceKind::kRenewal;
  // Nghị định 68/2024/NĐ-CP Điều 9: at most 5 years for a new certificate, 3 for a renewal.
  int legal_max = renewal ? kLegalMaxRenewalDays : kLegalMaxNewValidityDays;
  int limit = std::min(renewal ? profile.max_renewal_days : profile.max_validity_days, legal_max);

  int days = 0;
  if (requested_days) {
    days = *requested_days;
  } else {
    days = profile.default_validity_days;
    if (renewal) days = std::min(days, limit);
  }
  if (days <= 0) {
    return InvalidArgument("profile.validity_invalid",
                           "validity must be at least 1 day, not " + std::to_string(days));
  }
  if (days > limit) {
    std::string legal = renewal ? "a renewed certificate is valid for at most 3 years"
                                : "a new certificate is valid for at most 5 years";
    return InvalidArgument("profile.validity_too_long",
                           std::to_string(days) + " days exceeds the limit of " +
                               std::to_string(limit) + " days for a " +
                               std::string(IssuanceKindName(kind)) + " certificate of profile " +
                               Quoted(profile.name) + " (" + std::string(kLegalBasisValidity) +
                               ": " + legal + ", " + std::to_string(legal_max) + " days)");
  }

  int64_t backdate = std::clamp(profile.backdate_seconds, 0, kMaxBackdateSeconds);
  Validity validity{};
  // RFC 5280 §4.1.2.5: "The validity period for a certificate is the period of time from
  // notBefore through notAfter, inclusive." Hence the final "- 1".
  if (__builtin_sub_overflow(now, backdate, &validity.not_before) ||
      __builtin_add_overflow(validity.not_before, int64_t{days} * kSecondsPerDay - 1,
                             &validity.not_after)) {
    return InvalidArgument("profile.validity_invalid", "issuance time out of range");
  }
  if (validity.not_after > issuer_not_after) {
    int64_t room = issuer_not_after - validity.not_before + 1;
    int64_t max_days = room > 0 ? room / kSecondsPerDay : 0;
    return InvalidArgument("profile.outlives_issuer",
                           "a certificate valid for " + std::to_string(days) + " days would end " +
                               FormatUtc(validity.not_after) + ", after its issuing CA (" +
                               FormatUtc(issuer_not_after) + "); at most " +
                               std::to_string(max_days) + " days are possible");
  }
  return validity;
}

// The issued subject: attributes in the encoding order of IssuancePlan::subject, stable for
// repeated types, values untouched.
x509::Name CanonicalSubject(const x509::Name& subject) {
  std::vector<x509::NameAttribute> attributes = subject.attributes();
  auto rank = [](const x509::NameAttribute& a) {
    const AttributeInfo* info = FindAttribute(a.type);
    return info != nullptr ? info->rank : internal::kUnknownAttributeRank;
  };
  std::stable_sort(attributes.begin(), attributes.end(),
                   [&](const auto& a, const auto& b) { return rank(a) < rank(b); });
  return x509::Name(std::move(attributes));
}

}  // namespace

std::string_view IssuanceKindName(IssuanceKind kind) {
  switch (kind) {
    case IssuanceKind::kNew:
      return "new";
    case IssuanceKind::kRenewal:
      return "renewal";
    case IssuanceKind::kChange:
      return "change";
    case IssuanceKind::kReissue:
      return "reissue";
  }
  return "unknown";
}

Result<IssuancePlan> Evaluate(const Profile& profile, const RequestFacts& request,
                              IssuanceKind kind, std::optional<int> requested_days, UnixSeconds now,
                              UnixSeconds issuer_not_after) {
  KYSO_RETURN_IF_ERROR(CheckRequestedExtensions(profile, request));
  KYSO_ASSIGN_OR_RETURN(std::vector<std::string> key_usage, CheckKey(profile, request.key));
  KYSO_RETURN_IF_ERROR(CheckSubject(profile, request.subject));
  KYSO_RETURN_IF_ERROR(CheckUids(profile, request.subject));
  KYSO_ASSIGN_OR_RETURN(SubjectAltNames sans, CheckSubjectAltNames(profile, request));
  KYSO_ASSIGN_OR_RETURN(Validity validity,
                        CheckValidity(profile, kind, requested_days, now, issuer_not_after));

  IssuancePlan plan;
  plan.subject = CanonicalSubject(request.subject);
  plan.not_before = validity.not_before;
  plan.not_after = validity.not_after;
  x509::Extensions& ext = plan.extensions;
  ext.is_ca = false;
  ext.key_usage = std::move(key_usage);
  ext.key_usage_critical = profile.key_usage_critical;
  ext.extended_key_usage = profile.extended_key_usage;
  ext.extended_key_usage_critical = profile.extended_key_usage_critical;
  ext.policy_oids = profile.policy_oids;
  ext.email_sans = std::move(sans.email);
  ext.dns_sans = std::move(sans.dns);
  ext.ip_sans = std::move(sans.ip);
  ext.ocsp_no_check = profile.ocsp_no_check;
  plan.include_aia = profile.include_aia;
  plan.include_crl_dp = profile.include_crl_dp;
  return plan;
}

}  // namespace kyso::policy
