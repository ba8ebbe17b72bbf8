// Fuzz target: the multipart/form-data parser behind POST /api/v1/sign/pdf. The first line of
// the input is the request's Content-Type header value, the rest is the body. On success every
// part must be a view inside the body, with a non-empty name unique in the body, and within the
// limits.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string_view>

#include "http/multipart.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t eol = input.find('\n');
  if (eol == std::string_view::npos) return 0;
  const std::string_view content_type = input.substr(0, eol);
  const kyso::ByteSpan body(data + eol + 1, size - eol - 1);

  kyso::http::MultipartLimits limits;
  limits.max_parts = 8;
  limits.max_header_bytes = 512;
  auto parts = kyso::http::ParseMultipart(content_type, body, limits);
  if (!parts.ok()) {
    if (parts.status().id().rfind("multipart.", 0) != 0) std::abort();
    return 0;
  }
  if (parts->size() > limits.max_parts) std::abort();
  std::set<std::string_view> names;
  for (const auto& part : *parts) {
    if (part.name.empty() || !names.insert(part.name).second) std::abort();
    if (part.content_type.empty()) std::abort();
    if (part.data.data() < body.data() ||
        part.data.data() + part.data.size() > body.data() + body.size()) {
      std::abort();
    }
  }
  return 0;
}
