#include "ra/csv.h"

namespace kyso::ra {
namespace {

constexpr size_t kMaxBytes = 50u << 20;
constexpr size_t kMaxRecords = 200000;

// Lead and continuation bytes only (overlong three- and four-byte forms are not refused: the
// text is stored and displayed, never interpreted as code).
bool ValidUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t extra = 0;
    if (c < 0x80) {
      extra = 0;
    } else if (c >= 0xC2 && c <= 0xDF) {
      extra = 1;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2;
    } else if (c >= 0xF0 && c <= 0xF4) {
      extra = 3;
    } else {
      return false;
    }
    if (i + extra >= s.size() && extra > 0) return false;
    for (size_t k = 1; k <= extra; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    i += extra + 1;
  }
  return true;
}

}  // namespace

Result<std::vector<CsvRow>> ParseCsv(std::string_view text) {
  if (text.size() > kMaxBytes) return InvalidArgument("csv.too_large", "the file exceeds 50 MiB");
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  if (!ValidUtf8(text)) return InvalidArgument("csv.bad_utf8", "the file is not UTF-8");
  std::vector<CsvRow> rows;
  CsvRow row;
  std::string field;
  int line = 1;
  row.line = 1;
  bool in_quotes = false, after_quote = false, row_has_content = false;
  auto end_field = [&] {
    row.fields.push_back(std::move(field));
    field.clear();
    after_quote = false;
  };
  auto end_row = [&]() -> Status {
    end_field();
    const bool empty = row.fields.size() == 1 && row.fields[0].empty() && !row_has_content;
    if (!empty) {
      if (rows.size() >= kMaxRecords) {
        return InvalidArgument("csv.too_large", "more than 200000 records");
      }
      rows.push_back(std::move(row));
    }
    row = CsvRow{};
    row.line = line;
    row_has_content = false;
    return Status::Ok();
  };
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_quotes) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field.push_back('"');
          ++i;
        } else {
          in_quotes = false;
          after_quote = true;
        }
      } else {
        if (c == '\n') ++line;
        field.push_back(c);
      }
      continue;
    }
    if (c == ',') {
      end_field();
      row_has_content = true;
    } else if (c == '\r' || c == '\n') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      ++line;
      KYSO_RETURN_IF_ERROR(end_row());
    } else if (c == '"' && field.empty() && !after_quote) {
      in_quotes = true;
      row_has_content = true;
    } else if (after_quote) {
      return InvalidArgument("csv.bad_quote",
                             "line " + std::to_string(line) + ": text after a closing quote");
    } else {
      field.push_back(c);
      row_has_content = true;
    }
  }
  if (in_quotes) {
    return InvalidArgument("csv.unterminated_quote",
                           "line " + std::to_string(row.line) + ": a quoted field never ends");
  }
  if (!field.empty() || !row.fields.empty() || row_has_content) KYSO_RETURN_IF_ERROR(end_row());
  return rows;
}

}  // namespace kyso::ra
