// Byte buffers and their text forms (hex, base64).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace kyso {

using Bytes = std::vector<uint8_t>;
using ByteSpan = std::span<const uint8_t>;

inline ByteSpan AsBytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}
inline std::string_view AsString(ByteSpan b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

// Upper-case hex without separators ("0A1B").
std::string HexEncode(ByteSpan bytes);
// Accepts upper or lower case, and ignores ':' separators. nullopt on any other character
// or an odd digit count.
std::optional<Bytes> HexDecode(std::string_view hex);

std::string Base64Encode(ByteSpan bytes);
// RFC 4648 §5: URL- and filename-safe alphabet ('-', '_'), no padding.
std::string Base64UrlEncode(ByteSpan bytes);
// Decodes RFC 4648 §4 or §5 base64 (either alphabet, padding optional). nullopt on any other
// character, misplaced padding, or a length that no encoding produces.
std::optional<Bytes> Base64Decode(std::string_view text);

}  // namespace kyso
