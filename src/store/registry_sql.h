// SQL text both back ends use for the portal's reminder and attachment reads (issue 12): the
// same columns, joins and state conditions, so that SQLite and PostgreSQL cannot drift apart.
// Only what both read alike.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "store/store.h"

namespace kyso::store {

// Reminders are read joined with their certificate (`c`) and its body (`o`, absent for a
// certificate without one); the outbox columns (`m.`, in the back ends' kOutboxColumns order)
// come first, then the certificate's serial, name, not_after and body.
inline constexpr const char* kReminderColumns =
    "m.id, m.dedupe_key, m.channel, m.recipient, m.subject, m.body, m.created_at, "
    "m.next_attempt_at, m.sent_at, m.attempts, m.last_error, m.certificate_id, m.reminder_days, "
    "c.serial_hex, c.common_name, c.not_after, c.organization_id";
inline constexpr int kReminderCertificateColumn = 13;  // c.serial_hex
inline constexpr const char* kReminderTables =
    " FROM outbox m JOIN certificates c ON c.id = m.certificate_id "
    "LEFT JOIN organizations o ON o.id = c.organization_id";

// The condition on `m` of a ReminderFilter::state; store.invalid_record for another state.
inline Result<std::string> ReminderStateCondition(std::string_view state) {
  if (state == "queued") return std::string("m.sent_at IS NULL AND m.attempts = 0");
  if (state == "retrying") return std::string("m.sent_at IS NULL AND m.attempts > 0");
  if (state == "sent") return std::string("m.sent_at IS NOT NULL");
  return InvalidArgument(
      "store.invalid_record",
      "reminder state must be queued, retrying or sent, not " + std::string(state));
}

// Attachments without their data (lists); reads of one add ", data" as the next column.
inline constexpr const char* kAttachmentColumns =
    "id, request_id, filename, content_type, size, sha256, created_by, created_at";
inline constexpr int kAttachmentDataColumn = 8;

// Migration (SQLite 7, PostgreSQL 5): the dashboard counts certificates by status and validity,
// and issued and revoked per month over the last year. Without these, each of its 26 counts read
// the whole table: 35 s in all at 900,000 certificates on SQLite.
inline constexpr const char* kCertificateCountIndexes = R"sql(
CREATE INDEX certificates_issued_at ON certificates(issued_at, organization_id);
CREATE INDEX certificates_revoked_at ON certificates(revoked_at, organization_id)
  WHERE revoked_at IS NOT NULL;
CREATE INDEX certificates_status ON certificates(status, not_after, not_before, organization_id);
)sql";

// The bucket expression and range condition of Transaction::CountCertificatesInPeriods over
// `c`: the bucket is how many bounds the time reaches (1 for the first period), written with
// the bounds as integer literals (server-computed numbers, never caller text). `bool_to_int`
// turns a comparison into 0/1: "" in SQLite, "::int" in PostgreSQL.
struct PeriodSql {
  std::string bucket;
  std::string range;
};
inline Result<PeriodSql> BuildPeriodSql(Transaction::CertificateTime field,
                                        const std::vector<UnixSeconds>& bounds,
                                        std::string_view bool_to_int) {
  if (bounds.size() < 2) {
    return InvalidArgument("store.invalid_record", "periods need at least two bounds");
  }
  for (size_t i = 1; i < bounds.size(); ++i) {
    if (bounds[i] <= bounds[i - 1]) {
      return InvalidArgument("store.invalid_record", "period bounds must ascend");
    }
  }
  const std::string column =
      field == Transaction::CertificateTime::kIssuedAt ? "c.issued_at" : "c.revoked_at";
  PeriodSql out;
  for (size_t i = 0; i + 1 < bounds.size(); ++i) {
    if (i > 0) out.bucket += " + ";
    out.bucket +=
        "(" + column + " >= " + std::to_string(bounds[i]) + ")" + std::string(bool_to_int);
  }
  out.range = column + " >= " + std::to_string(bounds.front()) + " AND " + column + " < " +
              std::to_string(bounds.back());
  return out;
}

}  // namespace kyso::store
