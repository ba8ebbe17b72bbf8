// CSV as RFC 4180 writes it (§2: fields separated by commas, records by CRLF or LF; a field in
// double quotes may hold commas, line breaks and "" for a quote), UTF-8, for the bulk import of
// bodies and staff. A UTF-8 byte order mark at the start is skipped (spreadsheets write one).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace kyso::ra {

struct CsvRow {
  int line = 0;  // 1-based line where the record starts
  std::vector<std::string> fields;
};

// Errors: csv.unterminated_quote, csv.bad_quote (text after a closing quote), csv.too_large
// (more than 50 MiB or 200,000 records), csv.bad_utf8. Empty lines are skipped.
Result<std::vector<CsvRow>> ParseCsv(std::string_view text);

}  // namespace kyso::ra
