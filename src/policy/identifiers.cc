#include "policy/identifiers.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>

namespace kyso::policy {

namespace {

bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}
bool IsUpper(char c) {
  return c >= 'A' && c <= 'Z';
}
bool IsAlpha(char c) {
  return IsUpper(c) || (c >= 'a' && c <= 'z');
}

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), IsDigit);
}

// Decodes the code point at `s[*pos]`, advancing *pos; nullopt on ill-formed UTF-8.
// RFC 3629 §4:
//   UTF8-2 = %xC2-DF UTF8-tail
//   UTF8-3 = %xE0 %xA0-BF UTF8-tail / %xE1-EC 2( UTF8-tail ) /
//            %xED %x80-9F UTF8-tail / %xEE-EF 2( UTF8-tail )
//   UTF8-4 = %xF0 %x90-BF 2( UTF8-tail ) / %xF1-F3 3( UTF8-tail ) / %xF4 %x80-8F 2( UTF8-tail )
std::optional<char32_t> NextCodePoint(std::string_view s, size_t* pos) {
  auto byte = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  size_t i = *pos;
  unsigned char b0 = byte(i);
  if (b0 < 0x80) {
    *pos = i + 1;
    return b0;
  }
  int tail = 0;
  char32_t cp = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // bounds of the first continuation byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    tail = 1;
    cp = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    tail = 2;
    cp = b0 & 0x0F;
    if (b0 == 0xE0) lo = 0xA0;  // overlong
    if (b0 == 0xED) hi = 0x9F;  // surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    tail = 3;
    cp = b0 & 0x07;
    if (b0 == 0xF0) lo = 0x90;  // overlong
    if (b0 == 0xF4) hi = 0x8F;  // above U+10FFFF
  } else {
    return std::nullopt;
  }
  if (s.size() - i - 1 < static_cast<size_t>(tail)) return std::nullopt;
  for (int k = 1; k <= tail; ++k) {
    unsigned char b = byte(i + k);
    unsigned char min = k == 1 ? lo : 0x80;
    unsigned char max = k == 1 ? hi : 0xBF;
    if (b < min || b > max) return std::nullopt;
    cp = (cp << 6) | (b & 0x3F);
  }
  *pos = i + 1 + tail;
  return cp;
}

bool IsControl(char32_t cp) {
  return cp <= 0x1F || (cp >= 0x7F && cp <= 0x9F);
}

// White space of Unicode's White_Space property (tab and the other C0 ones are controls here).
bool IsWhiteSpace(char32_t cp) {
  return cp == 0x20 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) ||
         cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000 ||
         cp == 0xFEFF;
}

Status UidMalformed(std::string_view value, std::string_view rule) {
  return InvalidArgument("profile.uid_malformed",
                         "UID " + std::string(value) + " must have " + std::string(rule));
}

// RFC 5322 §3.2.3: atext = ALPHA / DIGIT / "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" /
//                          "-" / "/" / "=" / "?" / "^" / "_" / "`" / "{" / "|" / "}" / "~"
bool IsAtext(char c) {
  return IsAlpha(c) || IsDigit(c) ||
         std::string_view("!#$%&'*+-/=?^_`{|}~").find(c) != std::string_view::npos;
}

Status EmailMalformed(std::string_view address, std::string_view why) {
  return InvalidArgument("profile.email_malformed",
                         "e-mail address \"" + std::string(address) + "\" " + std::string(why));
}

Status DnsMalformed(std::string_view name, std::string_view why) {
  return InvalidArgument("profile.dns_malformed",
                         "DNS name \"" + std::string(name) + "\" " + std::string(why));
}

// Splits on '.', keeping empty labels so that "a..b" is seen.
std::vector<std::string_view> Labels(std::string_view name) {
  std::vector<std::string_view> labels;
  size_t start = 0;
  while (true) {
    size_t dot = name.find('.', start);
    if (dot == std::string_view::npos) {
      labels.push_back(name.substr(start));
      return labels;
    }
    labels.push_back(name.substr(start, dot - start));
    start = dot + 1;
  }
}

// RFC 1034 §3.5 / RFC 1123 §2.1: <label> ::= <let-dig> [ [ <ldh-str> ] <let-dig> ], 63 max.
bool IsLdhLabel(std::string_view label) {
  if (label.empty() || label.size() > 63) return false;
  if (label.front() == '-' || label.back() == '-') return false;
  return std::all_of(label.begin(), label.end(),
                     [](char c) { return IsAlpha(c) || IsDigit(c) || c == '-'; });
}

}  // namespace

const std::vector<std::string>& KnownUidPrefixes() {
  static const auto* prefixes =
      new std::vector<std::string>{"CCCD", "CMND", "MST", "MNS", "BHXH", "HC", "PID", "PPID"};
  return *prefixes;
}

bool IsKnownUidPrefix(std::string_view prefix) {
  const auto& known = KnownUidPrefixes();
  return std::find(known.begin(), known.end(), prefix) != known.end();
}

Result<Uid> ParseUid(std::string_view value) {
  size_t colon = value.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    return InvalidArgument(
        "profile.uid_malformed",
        "UID \"" + std::string(value) + "\" must be written PREFIX:NUMBER, e.g. CCCD:001099012345");
  }
  Uid uid;
  uid.prefix = std::string(value.substr(0, colon));
  uid.number = std::string(value.substr(colon + 1));
  if (!IsKnownUidPrefix(uid.prefix)) {
    std::string known;
    for (const auto& p : KnownUidPrefixes()) known += (known.empty() ? "" : ", ") + p;
    return InvalidArgument("profile.uid_prefix_unknown",
                           "UID prefix \"" + uid.prefix + "\" is not one of " + known);
  }
  std::string_view n = uid.number;
  std::string digits = uid.number;
  if (uid.prefix == "CCCD") {
    if (!AllDigits(n) || n.size() != 12) return UidMalformed(value, "12 digits");
  } else if (uid.prefix == "CMND") {
    if (!AllDigits(n) || (n.size() != 9 && n.size() != 12)) {
      return UidMalformed(value, "9 or 12 digits");
    }
  } else if (uid.prefix == "MST") {
    // A branch's tax code is the parent's 10 digits and a 3-digit suffix, written with or
    // without the hyphen.
    bool ten = AllDigits(n) && n.size() == 10;
    bool thirteen = AllDigits(n) && n.size() == 13;
    bool hyphenated =
        n.size() == 14 && n[10] == '-' && AllDigits(n.substr(0, 10)) && AllDigits(n.substr(11));
    if (!ten && !thirteen && !hyphenated) {
      return UidMalformed(value, "10 or 13 digits (13 written 0100109106-001 or 0100109106001)");
    }
    if (hyphenated) digits = std::string(n.substr(0, 10)) + std::string(n.substr(11));
  } else if (uid.prefix == "MNS") {
    if (!AllDigits(n) || n.size() != 7) return UidMalformed(value, "7 digits");
  } else if (uid.prefix == "BHXH") {
    if (!AllDigits(n) || n.size() != 10) return UidMalformed(value, "10 digits");
  } else {  // HC, PID, PPID: passport document numbers
    bool ok = (n.size() == 8 || n.size() == 9) &&
              std::all_of(n.begin(), n.end(), [](char c) { return IsUpper(c) || IsDigit(c); });
    if (!ok) {
      return UidMalformed(value,
                          "8 or 9 upper-case letters or digits (a passport number, e.g. C1234567)");
    }
  }
  uid.canonical = uid.prefix + ":" + digits;
  return uid;
}

Status CheckEmailAddress(std::string_view address) {
  if (address.size() > 254) return EmailMalformed(address, "is longer than 254 characters");
  size_t at = address.find('@');
  if (at == std::string_view::npos || address.find('@', at + 1) != std::string_view::npos) {
    return EmailMalformed(address, "must be local@domain with exactly one '@'");
  }
  std::string_view local = address.substr(0, at);
  std::string_view domain = address.substr(at + 1);
  if (local.empty() || local.size() > 64) {
    return EmailMalformed(address, "must have a local part of 1 to 64 characters");
  }
  // RFC 5322 §3.2.3: dot-atom-text = 1*atext *("." 1*atext)
  for (std::string_view atom : Labels(local)) {
    if (atom.empty() || !std::all_of(atom.begin(), atom.end(), IsAtext)) {
      return EmailMalformed(address,
                            "has a local part that is not a dot-atom (RFC 5322 §3.2.3; only ASCII "
                            "letters, digits and !#$%&'*+-/=?^_`{|}~ between single dots)");
    }
  }
  if (!CheckDnsName(domain, /*allow_wildcard=*/false).ok() || Labels(domain).size() < 2) {
    return EmailMalformed(address, "must have a domain such as danang.gov.vn");
  }
  return Status::Ok();
}

Status CheckDnsName(std::string_view name, bool allow_wildcard) {
  if (name.empty()) return DnsMalformed(name, "is empty");
  if (name.size() > 253) return DnsMalformed(name, "is longer than 253 characters");
  if (name.back() == '.') return DnsMalformed(name, "must not end with '.'");
  std::vector<std::string_view> labels = Labels(name);
  size_t first = 0;
  if (labels[0] == "*") {
    if (!allow_wildcard) return DnsMalformed(name, "is a wildcard, which this profile refuses");
    if (labels.size() < 3) {
      return DnsMalformed(name, "is a wildcard that must be followed by at least two labels");
    }
    first = 1;
  }
  for (size_t i = first; i < labels.size(); ++i) {
    if (!IsLdhLabel(labels[i])) {
      return DnsMalformed(name,
                          "must be made of labels of 1-63 ASCII letters, digits and inner "
                          "hyphens (RFC 1034 §3.5; write internationalized names as xn-- "
                          "A-labels)");
    }
  }
  if (AllDigits(labels.back())) {
    return DnsMalformed(name, "ends with a numeric label; put IP addresses in an IP SAN");
  }
  return Status::Ok();
}

Status CheckIpAddress(std::string_view address) {
  // inet_pton reads a C string: an embedded NUL would hide what follows it.
  if (address.empty() || address.size() > INET6_ADDRSTRLEN ||
      address.find('\0') != std::string_view::npos) {
    return InvalidArgument("profile.ip_malformed",
                           "IP address \"" + std::string(address) + "\" is malformed");
  }
  std::string text(address);
  unsigned char buf[sizeof(struct in6_addr)];
  if (inet_pton(AF_INET, text.c_str(), buf) == 1 || inet_pton(AF_INET6, text.c_str(), buf) == 1) {
    return Status::Ok();
  }
  return InvalidArgument("profile.ip_malformed", "IP address \"" + text +
                                                     "\" is neither an IPv4 dotted quad nor an "
                                                     "IPv6 address (RFC 4291 §2.2)");
}

bool IsDottedOid(std::string_view text) {
  std::vector<std::string_view> arcs = Labels(text);
  if (arcs.size() < 2) return false;
  for (std::string_view arc : arcs) {
    if (!AllDigits(arc)) return false;
    if (arc.size() > 1 && arc[0] == '0') return false;
  }
  if (arcs[0].size() != 1 || arcs[0][0] > '2') return false;
  // X.660 §A.3: under arcs 0 and 1 the second arc is 0-39.
  if (arcs[0][0] != '2' && (arcs[1].size() > 2 || (arcs[1].size() == 2 && arcs[1] >= "40"))) {
    return false;
  }
  return true;
}

std::optional<size_t> Utf8Length(std::string_view text) {
  size_t count = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    if (!NextCodePoint(text, &pos)) return std::nullopt;
    ++count;
  }
  return count;
}

Status CheckAttributeText(std::string_view type, std::string_view value) {
  auto invalid = [&](std::string_view why) {
    return InvalidArgument("profile.subject_value_invalid",
                           "subject attribute " + std::string(type) + " " + std::string(why));
  };
  std::vector<char32_t> cps;
  size_t pos = 0;
  while (pos < value.size()) {
    std::optional<char32_t> cp = NextCodePoint(value, &pos);
    if (!cp) return invalid("is not valid UTF-8");
    if (IsControl(*cp)) return invalid("contains a control character");
    cps.push_back(*cp);
  }
  if (std::all_of(cps.begin(), cps.end(), IsWhiteSpace)) return invalid("is empty");
  if (IsWhiteSpace(cps.front()) || IsWhiteSpace(cps.back())) {
    return invalid("has leading or trailing white space");
  }
  return Status::Ok();
}

}  // namespace kyso::policy
