// PKCS#11 URIs (RFC 7512): which module, which token, which object.
//
//   pkcs11:token=kyso-ca;object=issuing;id=%01?module-path=/usr/lib/softhsm/libsofthsm2.so
//
// Tokens are chosen by label, serial, manufacturer or model, never by slot number (SoftHSM
// renumbers slots after --init-token), so slot-id is refused. pin-value is refused too: a PIN
// in a URI ends up in shell history and process lists; pin-source=file:... names a file instead.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/bytes.h"
#include "base/result.h"

namespace kyso::crypto {

struct Pkcs11Uri {
  // Path attributes (RFC 7512 §2.3), percent-decoded.
  std::optional<std::string> token;         // CK_TOKEN_INFO label
  std::optional<std::string> serial;        // CK_TOKEN_INFO serialNumber
  std::optional<std::string> manufacturer;  // CK_TOKEN_INFO manufacturerID
  std::optional<std::string> model;         // CK_TOKEN_INFO model
  std::optional<std::string> object;        // CKA_LABEL
  std::optional<Bytes> id;                  // CKA_ID
  std::optional<std::string> type;          // public | private | cert | secret-key | data
  std::optional<std::string> library_manufacturer;
  std::optional<std::string> library_description;
  std::optional<std::string> library_version;
  // Query attributes.
  std::optional<std::string> module_path;
  std::optional<std::string> module_name;
  std::optional<std::string> pin_source;

  // Errors (InvalidArgument): pkcs11.uri_malformed (scheme, characters, percent-encoding,
  // attribute without '=', bad type or library-version value), pkcs11.uri_unknown_attribute,
  // pkcs11.uri_duplicate_attribute, pkcs11.uri_slot_unsupported, pkcs11.uri_pin_value.
  static Result<Pkcs11Uri> Parse(std::string_view text);

  // The canonical text: path attributes in the order above, values percent-encoded where the
  // grammar needs it (CKA_ID always as %XX), module-path kept, pin-source left out, so the
  // text can be logged and stored as a key reference.
  std::string ToString() const;
};

// True when `text` starts with "pkcs11:" (any case).
bool IsPkcs11Uri(std::string_view text);

}  // namespace kyso::crypto
