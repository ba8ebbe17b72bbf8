// The syntax of identifiers that appear in certificates: Vietnamese UID identifiers, e-mail
// addresses, host names, IP addresses, OIDs, and the UTF-8 text of name attributes.
//
// Pure functions over strings; each check returns a Status with the stable id the issuance
// rules report ("profile.uid_malformed", "profile.email_malformed", ...), so the RA can run the
// same checks on a form before a request reaches the CA.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "base/status.h"

namespace kyso::policy {

// A UID attribute (OID 0.9.2342.19200300.100.1.1, RFC 4519 §2.39) as Vietnamese government
// certificates write it: "PREFIX:NUMBER". Prefixes and numbers:
//   CCCD  căn cước công dân (citizen identity card)        exactly 12 digits
//   CMND  chứng minh nhân dân (old identity card)          9 or 12 digits
//   MST   mã số thuế (tax code)                            10 digits, or 13 written
//                                                          "0100109106-001" or "0100109106001"
//   MNS   mã đơn vị quan hệ ngân sách (budget relation)    7 digits
//   BHXH  mã số bảo hiểm xã hội (social insurance)         10 digits
//   HC, PID, PPID  hộ chiếu (passport)                     8 or 9 of A-Z 0-9
// The passport rule admits the Vietnamese form (one upper-case letter and 7 digits, e.g.
// "C1234567") and foreign document numbers up to the 9 characters of the ICAO 9303 machine
// readable zone; letters must be upper case, as the MRZ writes them.
struct Uid {
  std::string prefix;  // "MST"
  std::string number;  // as written: "0100109106-001"
  // The identity compared for duplicates: prefix, ':' and the number without separators.
  std::string canonical;  // "MST:0100109106001"
};

// The prefixes above, in that order.
const std::vector<std::string>& KnownUidPrefixes();
bool IsKnownUidPrefix(std::string_view prefix);

// Parses and checks a UID value. Errors: "profile.uid_malformed" (no ':' or a number that does
// not match its prefix; the message names the prefix and the expected digits),
// "profile.uid_prefix_unknown".
Result<Uid> ParseUid(std::string_view value);

// An addr-spec "local@domain" as an rfc822Name (RFC 5280 §4.2.1.6) or emailAddress attribute:
// ASCII only (internationalized mailboxes need RFC 9598 SmtpUTF8Mailbox, not supported), a
// dot-atom local part of at most 64 characters (RFC 5322 §3.2.3, RFC 5321 §4.5.3.1.1), a host
// name domain with at least two labels, at most 254 characters in all.
// Error: "profile.email_malformed".
Status CheckEmailAddress(std::string_view address);

// A dNSName in the "preferred name syntax" (RFC 5280 §4.2.1.6 → RFC 1034 §3.5, as relaxed by
// RFC 1123 §2.1 to allow a leading digit): labels of 1-63 letters, digits and hyphens, not
// starting or ending with a hyphen, at most 253 characters, no trailing dot, a last label that
// is not all digits. With `allow_wildcard`, "*." may stand for the whole leftmost label when at
// least two labels follow. Error: "profile.dns_malformed".
Status CheckDnsName(std::string_view name, bool allow_wildcard);

// An IPv4 dotted quad or an IPv6 address in RFC 4291 §2.2 text form.
// Error: "profile.ip_malformed".
Status CheckIpAddress(std::string_view address);

// Dotted-decimal OBJECT IDENTIFIER: at least two arcs, the first 0, 1 or 2, the second below 40
// when the first is 0 or 1 (X.660), decimal arcs without leading zeros.
bool IsDottedOid(std::string_view text);

// The number of Unicode code points in `text` when it is well-formed UTF-8 (RFC 3629 §4: no
// overlong forms, no surrogates, nothing above U+10FFFF), nullopt otherwise.
std::optional<size_t> Utf8Length(std::string_view text);

// Checks the value of a name attribute as text: well-formed UTF-8, no control characters
// (U+0000-U+001F, U+007F-U+009F), not empty or only white space, no leading or trailing white
// space. Error: "profile.subject_value_invalid" naming `type`.
Status CheckAttributeText(std::string_view type, std::string_view value);

}  // namespace kyso::policy
