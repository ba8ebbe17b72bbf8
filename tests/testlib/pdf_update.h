// Incremental updates to a PDF written by hand (ISO 32000-1 §7.5.6), not by pdf::Update, so that
// attacks on signed documents in tests do not depend on our own writer: the objects, a classic
// cross-reference section, and a trailer whose /Prev is the base's last startxref.
#pragma once

#include <cstdio>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/bytes.h"

namespace kyso::testlib {

// `base` plus an update defining `objects` (number, body). `trailer_entries` are the trailer's
// entries but /Prev ("/Size 30 /Root 1 0 R /ID [...]"). `startxref`, when set, replaces the
// offset written after "startxref" (a broken update); `trailer`, when not empty, replaces the
// whole trailer dictionary.
inline Bytes AppendUpdateByHand(ByteSpan base,
                                const std::vector<std::pair<int, std::string>>& objects,
                                const std::string& trailer_entries,
                                std::optional<size_t> startxref = std::nullopt,
                                const std::string& trailer = "") {
  std::string text(reinterpret_cast<const char*>(base.data()), base.size());
  size_t at = text.rfind("startxref");
  long long prev = at == std::string::npos ? 0 : std::stoll(text.substr(at + 9));
  std::string out = "\n";
  std::vector<std::pair<int, size_t>> offsets;
  for (const auto& [number, body] : objects) {
    offsets.push_back({number, base.size() + out.size()});
    out += std::to_string(number) + " 0 obj\n" + body + "\nendobj\n";
  }
  size_t xref = base.size() + out.size();
  out += "xref\n0 1\n0000000000 65535 f\r\n";
  for (const auto& [number, offset] : offsets) {
    char line[64];
    std::snprintf(line, sizeof line, "%d 1\n%010zu 00000 n\r\n", number, offset);
    out += line;
  }
  std::string dictionary = trailer.empty()
                               ? "<< " + trailer_entries + " /Prev " + std::to_string(prev) + " >>"
                               : trailer;
  out += "trailer\n" + dictionary + "\nstartxref\n" + std::to_string(startxref.value_or(xref)) +
         "\n%%EOF\n";
  Bytes all(base.begin(), base.end());
  all.insert(all.end(), out.begin(), out.end());
  return all;
}

// A stream object's body: "<< entries /Length n >> stream ... endstream" (§7.3.8).
inline std::string StreamObjectBody(const std::string& dictionary_entries,
                                    const std::string& data) {
  return "<< " + dictionary_entries + " /Length " + std::to_string(data.size()) + " >>\nstream\n" +
         data + "\nendstream";
}

}  // namespace kyso::testlib
