#include "x509/name.h"

#include <algorithm>
#include <cctype>
#include <map>

namespace kyso::x509 {

namespace {

// Canonical spellings of the attribute types accepted in slashed names (lower-case keys).
const std::map<std::string, std::string>& KnownTypes() {
  static const auto* types = new std::map<std::string, std::string>{
      {"c", "C"},
      {"st", "ST"},
      {"l", "L"},
      {"o", "O"},
      {"ou", "OU"},
      {"cn", "CN"},
      {"uid", "UID"},
      {"emailaddress", "emailAddress"},
      {"email", "emailAddress"},
      {"serialnumber", "serialNumber"},
      {"title", "title"},
      {"street", "street"},
      {"postalcode", "postalCode"},
      {"dc", "DC"},
      {"givenname", "GN"},
      {"gn", "GN"},
      {"sn", "SN"},
      {"surname", "SN"},
  };
  return *types;
}

bool IsDottedOid(std::string_view s) {
  if (s.empty() || !std::isdigit(static_cast<unsigned char>(s.front())) ||
      !std::isdigit(static_cast<unsigned char>(s.back())))
    return false;
  bool prev_dot = false;
  int dots = 0;
  for (char c : s) {
    if (c == '.') {
      if (prev_dot) return false;
      prev_dot = true;
      ++dots;
    } else if (std::isdigit(static_cast<unsigned char>(c))) {
      prev_dot = false;
    } else {
      return false;
    }
  }
  return dots >= 1;
}

}  // namespace

Result<Name> Name::ParseSlashed(std::string_view text) {
  if (text.empty() || text.front() != '/') {
    return InvalidArgument("name.malformed",
                           "a name must start with '/', e.g. /C=VN/O=Bộ Tài chính/CN=Nguyễn Văn A");
  }
  std::vector<std::string> parts;
  std::string current;
  for (size_t i = 1; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\\' && i + 1 < text.size()) {
      current.push_back(text[++i]);
    } else if (c == '/') {
      parts.push_back(std::move(current));
      current.clear();
    } else {
      current.push_back(c);
    }
  }
  parts.push_back(std::move(current));
  std::vector<NameAttribute> attrs;
  for (const auto& part : parts) {
    auto eq = part.find('=');
    if (eq == std::string::npos || eq == 0) {
      return InvalidArgument("name.malformed", "expected TYPE=value, got \"" + part + "\"");
    }
    std::string type = part.substr(0, eq);
    std::string lower = type;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char ch) { return std::tolower(ch); });
    auto it = KnownTypes().find(lower);
    if (it != KnownTypes().end()) {
      type = it->second;
    } else if (!IsDottedOid(type)) {
      return InvalidArgument("name.unknown_attribute", "unknown attribute type \"" + type + "\"");
    }
    std::string value = part.substr(eq + 1);
    if (value.empty()) {
      return InvalidArgument("name.malformed", "attribute " + type + " has an empty value");
    }
    attrs.push_back({type, value});
  }
  return Name(std::move(attrs));
}

std::vector<std::string> Name::ValuesOf(std::string_view type) const {
  std::vector<std::string> out;
  for (const auto& a : attributes_) {
    if (a.type == type) out.push_back(a.value);
  }
  return out;
}

std::string Name::First(std::string_view type) const {
  for (const auto& a : attributes_) {
    if (a.type == type) return a.value;
  }
  return "";
}

std::string Name::ToRfc4514() const {
  // RFC 4514 §2.1: RDNs from last to first; §2.4: escape special characters.
  std::string out;
  for (auto it = attributes_.rbegin(); it != attributes_.rend(); ++it) {
    if (!out.empty()) out += ",";
    out += it->type;
    out += '=';
    const std::string& v = it->value;
    for (size_t i = 0; i < v.size(); ++i) {
      char c = v[i];
      bool special = c == ',' || c == '+' || c == '"' || c == '\\' || c == '<' || c == '>' ||
                     c == ';' || (i == 0 && (c == '#' || c == ' ')) ||
                     (i + 1 == v.size() && c == ' ');
      if (special) out += '\\';
      out += c;
    }
  }
  return out;
}

std::string Name::ToSlashed() const {
  std::string out;
  for (const auto& a : attributes_) {
    out += '/';
    out += a.type;
    out += '=';
    for (char c : a.value) {
      if (c == '/' || c == '\\') out += '\\';
      out += c;
    }
  }
  return out;
}

}  // namespace kyso::x509
