// SQL text both back ends use for the portal's reminder and attachment reads (issue 12): the
// same columns, joins and state conditions, so that SQLite and PostgreSQL cannot drift apart.
// Only what both read alike.
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"

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

}  // namespace kyso::store
