// Fuzz target: the PKCS#11 URI parser (RFC 7512), which reads --key and `kyso token` arguments
// and key references stored in the database.
//
// Input: a URI. A parsed URI's canonical text must parse again to the same attributes (the
// encoder escapes everything the grammar reserves), and must never carry a pin-source.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "crypto/pkcs11_uri.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  auto uri = kyso::crypto::Pkcs11Uri::Parse(input);
  if (!uri.ok()) {
    if (uri.status().id().rfind("pkcs11.uri_", 0) != 0) std::abort();
    return 0;
  }
  const std::string text = uri->ToString();
  auto again = kyso::crypto::Pkcs11Uri::Parse(text);
  if (!again.ok()) std::abort();
  if (again->token != uri->token || again->serial != uri->serial ||
      again->manufacturer != uri->manufacturer || again->model != uri->model ||
      again->object != uri->object || again->id != uri->id || again->type != uri->type ||
      again->library_manufacturer != uri->library_manufacturer ||
      again->library_description != uri->library_description ||
      again->library_version != uri->library_version || again->module_path != uri->module_path ||
      again->module_name != uri->module_name || again->pin_source.has_value()) {
    std::abort();
  }
  return 0;
}
