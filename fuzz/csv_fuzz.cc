// Fuzz target: the CSV reader behind the bulk import of bodies and staff (POST
// /api/v1/organizations/import, /api/v1/people/import), whose input is an uploaded file.
//
// Input: the file's bytes. Errors must be csv.*; on success every row has at least one field,
// line numbers start at 1, never decrease and never pass the number of line breaks + 1, and
// writing the rows back as RFC 4180 CSV (every field quoted, quotes doubled, LF between records)
// must parse to the same rows.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "ra/csv.h"

namespace {

std::string Write(const std::vector<kyso::ra::CsvRow>& rows) {
  std::string out;
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.fields.size(); ++i) {
      if (i > 0) out += ',';
      out += '"';
      for (char c : row.fields[i]) {
        if (c == '"') out += '"';
        out += c;
      }
      out += '"';
    }
    out += '\n';
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  auto rows = kyso::ra::ParseCsv(input);
  if (!rows.ok()) {
    if (rows.status().id().rfind("csv.", 0) != 0) std::abort();
    return 0;
  }
  int breaks = 0;
  for (char c : input) breaks += (c == '\n' || c == '\r') ? 1 : 0;
  int previous = 1;
  for (const auto& row : *rows) {
    if (row.fields.empty()) std::abort();
    if (row.line < previous || row.line > breaks + 1) std::abort();
    previous = row.line;
  }

  auto again = kyso::ra::ParseCsv(Write(*rows));
  if (!again.ok() || again->size() != rows->size()) std::abort();
  for (size_t i = 0; i < rows->size(); ++i) {
    if ((*again)[i].fields != (*rows)[i].fields) std::abort();
  }
  return 0;
}
