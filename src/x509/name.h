// Distinguished names (RFC 5280 §4.1.2.4) as ordered UTF-8 attributes.
//
// Attributes are kept in encoding order (most significant first: C, ST, L, O, OU, CN, ...),
// one attribute per RDN (multi-valued RDNs are rejected on input; no government profile uses
// them). Values are UTF-8 exactly as given: Vietnamese diacritics are never normalized or
// transliterated.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace kyso::x509 {

struct NameAttribute {
  // Short name for the attributes we know ("C", "ST", "L", "O", "OU", "CN", "UID",
  // "emailAddress", "serialNumber", "title", "street", "postalCode", "DC"), dotted OID otherwise.
  std::string type;
  std::string value;  // UTF-8
  bool operator==(const NameAttribute&) const = default;
};

class Name {
 public:
  Name() = default;
  explicit Name(std::vector<NameAttribute> attributes) : attributes_(std::move(attributes)) {}

  // Parses the OpenSSL "-subj" form, most significant first: "/C=VN/O=Ban Cơ yếu/CN=Root".
  // A literal '/' or '\' inside a value is written "\/" or "\\".
  static Result<Name> ParseSlashed(std::string_view text);

  const std::vector<NameAttribute>& attributes() const { return attributes_; }
  std::vector<std::string> ValuesOf(std::string_view type) const;
  // The first value of `type`, or "" when absent.
  std::string First(std::string_view type) const;
  bool empty() const { return attributes_.empty(); }

  // RFC 4514 string (least significant first, "CN=..,O=..,C=VN"), UTF-8 unescaped except
  // for the characters RFC 4514 §2.4 requires.
  std::string ToRfc4514() const;
  // The slashed form ParseSlashed accepts.
  std::string ToSlashed() const;

  bool operator==(const Name&) const = default;

 private:
  std::vector<NameAttribute> attributes_;
};

}  // namespace kyso::x509
