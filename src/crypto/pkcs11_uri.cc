#include "crypto/pkcs11_uri.h"

#include <cctype>
#include <set>

namespace kyso::crypto {

namespace {

constexpr std::string_view kScheme = "pkcs11:";

// RFC 7512 §2.3:
//   pk11-res-avail       = ":" / "[" / "]" / "@" / "!" / "$" / "'" / "(" / ")" / "*" / "+" /
//                          "," / "="
//   pk11-path-res-avail  = pk11-res-avail / "&"
//   pk11-query-res-avail = pk11-res-avail / "/" / "?" / "|"
//   pk11-unreserved      = unreserved   (ALPHA / DIGIT / "-" / "." / "_" / "~", RFC 3986)
bool IsUnreserved(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_' ||
         c == '~';
}
bool IsResAvail(char c) {
  return std::string_view(":[]@!$'()*+,=").find(c) != std::string_view::npos;
}
bool IsPathChar(char c) {
  return IsUnreserved(c) || IsResAvail(c) || c == '&';
}
bool IsQueryChar(char c) {
  return IsUnreserved(c) || IsResAvail(c) || c == '/' || c == '?' || c == '|';
}

Status Malformed(const std::string& why) {
  return InvalidArgument("pkcs11.uri_malformed", "malformed PKCS#11 URI: " + why);
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// pk11-pct-encoded = "%" HEXDIG HEXDIG; every other character must be one the component allows.
Result<std::string> PercentDecode(std::string_view value, bool in_query, std::string_view name) {
  std::string out;
  for (size_t i = 0; i < value.size(); ++i) {
    char c = value[i];
    if (c == '%') {
      int hi = i + 2 < value.size() ? HexValue(value[i + 1]) : -1;
      int lo = i + 2 < value.size() ? HexValue(value[i + 2]) : -1;
      if (hi < 0 || lo < 0) {
        return Malformed("bad percent-encoding in the value of " + std::string(name));
      }
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
      continue;
    }
    if (!(in_query ? IsQueryChar(c) : IsPathChar(c))) {
      return Malformed("character '" + std::string(1, c) + "' must be percent-encoded in the " +
                       std::string(name) + " attribute");
    }
    out.push_back(c);
  }
  return out;
}

std::string PercentEncode(std::string_view value, bool in_query, bool encode_all) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : value) {
    bool keep = !encode_all && (in_query ? IsQueryChar(c) && c != '&' : IsPathChar(c));
    if (keep) {
      out.push_back(c);
    } else {
      auto b = static_cast<unsigned char>(c);
      out += '%';
      out += kHex[b >> 4];
      out += kHex[b & 15];
    }
  }
  return out;
}

bool IsDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

std::vector<std::string_view> Split(std::string_view text, char sep) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t end = text.find(sep, start);
    parts.push_back(text.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return parts;
}

}  // namespace

bool IsPkcs11Uri(std::string_view text) {
  if (text.size() < kScheme.size()) return false;
  for (size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(text[i])) != kScheme[i]) return false;
  }
  return true;
}

// RFC 7512 §2.3: pk11-URI = "pkcs11:" pk11-path [ "?" pk11-query ]
Result<Pkcs11Uri> Pkcs11Uri::Parse(std::string_view text) {
  if (!IsPkcs11Uri(text)) return Malformed("it must start with \"pkcs11:\"");
  std::string_view rest = text.substr(kScheme.size());
  size_t question = rest.find('?');
  std::string_view path = rest.substr(0, question);
  std::string_view query =
      question == std::string_view::npos ? std::string_view() : rest.substr(question + 1);
  bool has_query = question != std::string_view::npos;

  Pkcs11Uri uri;
  std::set<std::string> seen;
  // "An attribute ... MUST NOT appear more than once in the PKCS#11 URI" (§2.3).
  auto take = [&](std::string_view attribute,
                  bool in_query) -> Result<std::pair<std::string, std::string>> {
    size_t eq = attribute.find('=');
    if (eq == std::string_view::npos || eq == 0) {
      return Malformed("\"" + std::string(attribute) + "\" is not name=value");
    }
    std::string name(attribute.substr(0, eq));
    for (char c : name) {
      // pk11-v-attr-nm-char = ALPHA / DIGIT / "-" / "_"
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') {
        return Malformed("bad attribute name \"" + name + "\"");
      }
    }
    if (!seen.insert(name).second) {
      return InvalidArgument("pkcs11.uri_duplicate_attribute",
                             "the PKCS#11 URI gives " + name + " more than once");
    }
    KYSO_ASSIGN_OR_RETURN(std::string value,
                          PercentDecode(attribute.substr(eq + 1), in_query, name));
    return std::make_pair(std::move(name), std::move(value));
  };
  auto refuse_slot = [](const std::string& name) -> Status {
    return InvalidArgument("pkcs11.uri_slot_unsupported",
                           name +
                               ": kyso finds tokens by label or serial (token=, serial=), "
                               "never by slot, whose numbers change");
  };

  if (!path.empty()) {
    for (std::string_view attribute : Split(path, ';')) {
      KYSO_ASSIGN_OR_RETURN(auto nv, take(attribute, false));
      auto& [name, value] = nv;
      if (name == "token") {
        uri.token = value;
      } else if (name == "serial") {
        uri.serial = value;
      } else if (name == "manufacturer") {
        uri.manufacturer = value;
      } else if (name == "model") {
        uri.model = value;
      } else if (name == "object") {
        uri.object = value;
      } else if (name == "id") {
        uri.id = Bytes(value.begin(), value.end());
      } else if (name == "type") {
        // pk11-type = "type" "=" ( "public" / "private" / "cert" / "secret-key" / "data" )
        if (value != "public" && value != "private" && value != "cert" && value != "secret-key" &&
            value != "data") {
          return Malformed("type must be public, private, cert, secret-key or data, not \"" +
                           value + "\"");
        }
        uri.type = value;
      } else if (name == "library-manufacturer") {
        uri.library_manufacturer = value;
      } else if (name == "library-description") {
        uri.library_description = value;
      } else if (name == "library-version") {
        // pk11-lib-ver = "library-version" "=" 1*DIGIT [ "." 1*DIGIT ]
        size_t dot = value.find('.');
        if (!IsDigits(std::string_view(value).substr(0, dot)) ||
            (dot != std::string::npos && !IsDigits(std::string_view(value).substr(dot + 1)))) {
          return Malformed("library-version must be M or M.N, not \"" + value + "\"");
        }
        uri.library_version = value;
      } else if (name.rfind("slot-", 0) == 0) {
        return refuse_slot(name);
      } else {
        return InvalidArgument("pkcs11.uri_unknown_attribute",
                               "unknown PKCS#11 URI path attribute \"" + name + "\"");
      }
    }
  }
  if (has_query && !query.empty()) {
    for (std::string_view attribute : Split(query, '&')) {
      KYSO_ASSIGN_OR_RETURN(auto nv, take(attribute, true));
      auto& [name, value] = nv;
      if (name == "module-path") {
        uri.module_path = value;
      } else if (name == "module-name") {
        uri.module_name = value;
      } else if (name == "pin-source") {
        uri.pin_source = value;
      } else if (name == "pin-value") {
        return InvalidArgument("pkcs11.uri_pin_value",
                               "a PIN may not be written in a PKCS#11 URI: use "
                               "pin-source=file:PATH or --pin-file");
      } else if (name == "slot-id") {
        return refuse_slot(name);
      } else {
        return InvalidArgument("pkcs11.uri_unknown_attribute",
                               "unknown PKCS#11 URI query attribute \"" + name + "\"");
      }
    }
  }
  return uri;
}

std::string Pkcs11Uri::ToString() const {
  std::string path;
  auto add = [&](const char* name, const std::optional<std::string>& value, bool all = false) {
    if (!value) return;
    if (!path.empty()) path += ';';
    path += std::string(name) + "=" + PercentEncode(*value, false, all);
  };
  add("token", token);
  add("serial", serial);
  add("manufacturer", manufacturer);
  add("model", model);
  add("object", object);
  if (id) add("id", std::string(id->begin(), id->end()), true);
  add("type", type);
  add("library-manufacturer", library_manufacturer);
  add("library-description", library_description);
  add("library-version", library_version);
  std::string out = std::string(kScheme) + path;
  std::string query;
  if (module_path) query += "module-path=" + PercentEncode(*module_path, true, false);
  if (module_name) {
    query += (query.empty() ? "" : "&") + std::string("module-name=") +
             PercentEncode(*module_name, true, false);
  }
  if (!query.empty()) out += "?" + query;
  return out;
}

}  // namespace kyso::crypto
