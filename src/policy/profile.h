// Certificate profiles and the issuance decision.
//
// A Profile is data: which keys, names, identifiers, extensions and validity periods one kind
// of certificate may carry (individual, person with signing authority, official, agency seal,
// device, OCSP signer, time-stamping unit). Operators edit the profiles in config/profiles.json;
// the same file is compiled into the binary as the built-in set (ProfileSet::BuiltIn()).
//
// Evaluate() is the issuance rule set as one pure function: given a profile, what the CA learned
// from a verified request, the kind of request and the time, it either returns the plan of the
// certificate to issue or the first rule the request breaks, as a Status with a stable id
// ("profile.key_too_weak", "profile.uid_malformed", ...). It reads no clock, no files and no
// configuration; the CA adds serial, issuer and URLs.
//
// Thread-safety: Profile and ProfileSet are immutable values after loading; share freely.
// No function of this module throws.
#pragma once

#include <map>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/result.h"
#include "crypto/key.h"
#include "x509/certificate.h"
#include "x509/name.h"

namespace kyso::policy {

// Nghị định 68/2024/NĐ-CP, Điều 9 (thời hạn của chứng thư chữ ký số): the certificate of a
// subscriber is valid "tối đa 05 năm" (at most 5 years) when newly issued and "tối đa 03 năm"
// (at most 3 years) when renewed. Expressed in days, counting one leap day per 4 years:
// 5 × 365 + 1 = 1826 and 3 × 365 + 1 = 1096. No profile may exceed them.
inline constexpr int kLegalMaxNewValidityDays = 1826;
inline constexpr int kLegalMaxRenewalDays = 1096;
inline constexpr std::string_view kLegalBasisValidity = "Nghị định 68/2024/NĐ-CP Điều 9";

// A small backdate absorbs relying parties' clock skew; more than an hour would hide real
// issuance times, so the loader refuses it.
inline constexpr int kMaxBackdateSeconds = 3600;

// Nghị định 68 types of subscriber certificates, plus the CA's own service certificates.
enum class CertificateType { kIndividual, kOrganization, kDevice, kOcsp, kTsa };
// "individual", "organization", "device", "ocsp", "tsa".
std::string_view CertificateTypeName(CertificateType type);

enum class SanRule { kForbidden, kOptional, kRequired };
// "forbidden", "optional", "required".
std::string_view SanRuleName(SanRule rule);

// Subject attribute rules. Attribute types are the x509::Name short names ("C", "ST", "L", "O",
// "OU", "CN", "UID", "emailAddress", "serialNumber", "title", "street", "postalCode", "DC",
// "GN", "SN") or dotted OIDs.
struct SubjectRules {
  std::vector<std::string> required;   // each must occur
  std::vector<std::string> allowed;    // may occur; anything not required or allowed is refused
  std::vector<std::string> forbidden;  // refused even if listed above would allow (explicit)
  std::map<std::string, std::string> fixed;  // attribute -> the only value accepted ("C": "VN")
  bool operator==(const SubjectRules&) const = default;
};

// UID identifiers "PREFIX:NUMBER" (see identifiers.h for the prefixes and number formats).
struct UidRules {
  std::vector<std::string> allowed_prefixes;
  // Each group lists prefixes of which at least one must be present, e.g. [["MST", "MNS"]].
  std::vector<std::vector<std::string>> required_one_of;
  bool operator==(const UidRules&) const = default;
};

struct SanRules {
  SanRule email = SanRule::kForbidden;  // rfc822Name
  SanRule dns = SanRule::kForbidden;    // dNSName
  SanRule ip = SanRule::kForbidden;     // iPAddress
  // Copy the subject's emailAddress into an rfc822Name SAN (RFC 5280 §4.1.2.6 asks that new
  // certificates carry e-mail addresses in subjectAltName rather than only in the subject).
  bool copy_subject_email = false;
  // Accept "*.example.gov.vn" dNSNames (the whole leftmost label only).
  bool allow_wildcard = false;
  bool operator==(const SanRules&) const = default;
};

struct Profile {
  std::string name;         // [a-z0-9-], unique in a set
  std::string description;  // Vietnamese, then English
  CertificateType certificate_type = CertificateType::kIndividual;
  std::vector<crypto::KeySpec> key_types;  // the only keys accepted
  int default_validity_days = 0;
  int max_validity_days = 0;  // new issue, change, re-issue; <= kLegalMaxNewValidityDays
  int max_renewal_days = 0;   // renewal; <= kLegalMaxRenewalDays
  int backdate_seconds = 0;   // not_before = now - backdate_seconds; <= kMaxBackdateSeconds
  std::vector<std::string> key_usage;  // x509::Extensions names; never keyCertSign/cRLSign
  bool key_usage_critical = true;
  std::vector<std::string> extended_key_usage;  // names or dotted OIDs
  bool extended_key_usage_critical = false;
  std::vector<std::string> policy_oids;  // certificatePolicies, dotted OIDs
  bool include_aia = true;
  bool include_crl_dp = true;
  bool ocsp_no_check = false;  // only for certificate_type ocsp
  SubjectRules subject;
  UidRules uid;
  SanRules san;
  bool operator==(const Profile&) const = default;
};

// A named set of profiles, loaded strictly: a typo in an operator's file is an error naming the
// JSON path, never a silently ignored key.
class ProfileSet {
 public:
  ProfileSet() = default;  // empty

  // JSON form: {"version": 1, "description": "...", "profiles": [ {...}, ... ]}; the fields of a
  // profile are those of Profile (see config/profiles.json). Unknown or duplicate keys, wrong
  // types, bad OIDs, bad key specs, inconsistent rules or validity over the legal maxima ->
  // InvalidArgument "profile.config_invalid" with a message that starts with the JSON path,
  // e.g. "profiles[2].max_validity_days: exceeds 1826 ...".
  static Result<ProfileSet> FromJson(std::string_view json);
  // The content of config/profiles.json, embedded at build time.
  static const std::string& BuiltInJson();
  // BuiltInJson() loaded. The build's tests guarantee it loads.
  static ProfileSet BuiltIn();

  // nullptr when no profile has that name.
  const Profile* Find(std::string_view name) const;
  const std::vector<Profile>& profiles() const { return profiles_; }

 private:
  std::vector<Profile> profiles_;
};

// The JSON object of one profile, in the file's form and key order (for `kyso profile show
// --json`). FromJson accepts it back: loading {"version":1,"profiles":[ProfileToJson(p)]} yields
// a profile equal to p.
nlohmann::ordered_json ProfileToJson(const Profile& profile);
// The whole set in the file's form.
nlohmann::ordered_json ProfileSetToJson(const ProfileSet& set);

enum class IssuanceKind { kNew, kRenewal, kChange, kReissue };
std::string_view IssuanceKindName(IssuanceKind kind);  // "new", "renewal", "change", "reissue"

// What the CA learned from a verified PKCS#10 request (or from the certificate being renewed).
struct RequestFacts {
  x509::Name subject;
  crypto::KeySpec key;
  std::vector<std::string> email_sans, dns_sans, ip_sans;  // requested subjectAltName entries
  bool requests_ca = false;  // the extensionRequest asked for basicConstraints cA=TRUE
  // Dotted OIDs of requested critical extensions we don't understand.
  std::vector<std::string> unsupported_critical_extensions;
};

// What to issue. The CA adds serial, issuer, signature and the URLs.
struct IssuancePlan {
  // In encoding order C, ST, L, street, postalCode, O, OU, title, GN, SN, CN, serialNumber,
  // UID, emailAddress (DC first, dotted OIDs last); attributes of one type keep the request's
  // order; values are byte-exact copies of the request's.
  x509::Name subject;
  UnixSeconds not_before = 0;
  UnixSeconds not_after = 0;  // inclusive (RFC 5280 §4.1.2.5): not_before + days·86400 − 1
  // KU, EKU, policies, SANs, ocsp_no_check filled; is_ca false; ocsp_urls, ca_issuers_urls and
  // crl_urls left empty: the CA fills them from its configuration when include_aia /
  // include_crl_dp are true. With ocsp_no_check the responder certificate is never checked
  // over OCSP (RFC 6960 §4.2.2.2.1), so the CA should put only caIssuers in its AIA.
  x509::Extensions extensions;
  bool include_aia = true;
  bool include_crl_dp = true;
};

// Decides whether to issue under `profile` and what.
//
// `requested_days`: nullopt means the profile's default validity (for a renewal, capped at
// max_renewal_days). Renewal is limited by max_renewal_days, the other kinds by
// max_validity_days. `issuer_not_after`: a certificate may not outlive its issuing CA; such a
// request is refused ("profile.outlives_issuer"), never silently shortened.
//
// Checks run in this order and the first failure is returned (InvalidArgument, ids
// "profile.*"): CA request and critical extensions, key, subject attributes, UIDs,
// subjectAltNames, validity.
Result<IssuancePlan> Evaluate(const Profile& profile, const RequestFacts& request,
                              IssuanceKind kind, std::optional<int> requested_days, UnixSeconds now,
                              UnixSeconds issuer_not_after);

}  // namespace kyso::policy
