#include "store/postgres/postgres_store.h"

#include <endian.h>
#include <libpq-fe.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "store/registry_sql.h"
#include "store/revocation_reason.h"
#include "store/signing_keys_schema.h"

namespace kyso::store {
namespace {

using SteadyTime = std::chrono::steady_clock::time_point;

// The advisory lock every write transaction (and a migration) holds: "KYSOWRIT" in ASCII.
// Advisory locks are per database, so kyso databases on one server do not share it.
constexpr int64_t kWriterLock = 0x4B59534F57524954;

// Distinct SQL texts a connection prepares (filters combine into a bounded number of texts);
// beyond this, statements run unnamed, parsed and planned on every call.
constexpr size_t kMaxPreparedStatements = 256;

// The server versions this back end is written against: ON CONFLICT, INCLUDE indexes,
// MATERIALIZED CTEs. CI runs PostgreSQL 15.
constexpr int kMinServerVersion = 120000;

constexpr const char* kStatusValid = "valid";
constexpr const char* kStatusRevoked = "revoked";

// OIDs of the built-in types used on the wire (src/include/catalog/pg_type.dat); fixed across
// PostgreSQL releases.
constexpr Oid kBoolOid = 16;
constexpr Oid kByteaOid = 17;
constexpr Oid kInt8Oid = 20;
constexpr Oid kInt2Oid = 21;
constexpr Oid kInt4Oid = 23;
constexpr Oid kTextOid = 25;
constexpr Oid kTextArrayOid = 1009;

// ---------------------------------------------------------------------------------------------
// Schema migrations. Step N upgrades a database at version N-1 to N (the highest version in
// schema_migrations). Steps are only ever appended: a released step is never edited. The
// tables, columns and indexes follow the SQLite back end's (sqlite_store.cc) so that the two
// answer every query the same way.

struct Migration {
  int version;
  const char* description;
  const char* sql;
};

constexpr Migration kMigrations[] = {
    {1, "initial schema", R"sql(
CREATE TABLE schema_migrations (
  version     BIGINT PRIMARY KEY,
  description TEXT NOT NULL,
  applied_at  BIGINT NOT NULL
);

CREATE TABLE cas (
  id               BIGSERIAL PRIMARY KEY,
  name             TEXT NOT NULL UNIQUE,
  role             TEXT NOT NULL,
  parent_id        BIGINT REFERENCES cas(id),
  subject          TEXT NOT NULL,
  serial_hex       TEXT NOT NULL,
  not_before       BIGINT NOT NULL,
  not_after        BIGINT NOT NULL,
  key_ref          TEXT NOT NULL,
  signature_scheme TEXT NOT NULL,
  certificate_der  BYTEA NOT NULL,
  created_at       BIGINT NOT NULL
);

-- Per-CA sequences: cRLNumber (shared by full and delta CRLs) and the revocation order.
CREATE TABLE ca_counters (
  ca_id          BIGINT PRIMARY KEY REFERENCES cas(id),
  crl_number     BIGINT NOT NULL DEFAULT 0,
  revocation_seq BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE certificates (
  id                BIGSERIAL PRIMARY KEY,
  issuer_ca_id      BIGINT NOT NULL REFERENCES cas(id),
  serial_hex        TEXT NOT NULL,
  issuer            TEXT NOT NULL,
  subject           TEXT NOT NULL,
  common_name       TEXT NOT NULL,
  email             TEXT NOT NULL,
  profile           TEXT NOT NULL,
  issuance_kind     TEXT NOT NULL,
  replaces_id       BIGINT REFERENCES certificates(id),
  owner_id          BIGINT,
  organization_id   BIGINT,
  key_fingerprint   TEXT NOT NULL,
  not_before        BIGINT NOT NULL,
  not_after         BIGINT NOT NULL,
  issued_at         BIGINT NOT NULL,
  status            TEXT NOT NULL CHECK (status IN ('valid', 'revoked')),
  revoked_at        BIGINT,
  revocation_reason BIGINT,
  invalidity_date   BIGINT,
  revocation_seq    BIGINT NOT NULL DEFAULT 0,
  der               BYTEA NOT NULL,
  UNIQUE (issuer_ca_id, serial_hex)
);
CREATE INDEX certificates_serial ON certificates(serial_hex);
CREATE INDEX certificates_not_after ON certificates(not_after);
-- E-mail addresses match ASCII case-insensitively, like SQLite's COLLATE NOCASE: lower() under
-- the "C" collation folds A-Z only.
CREATE INDEX certificates_email ON certificates(lower(email COLLATE "C"));
CREATE INDEX certificates_profile ON certificates(profile);
CREATE INDEX certificates_owner ON certificates(owner_id) WHERE owner_id IS NOT NULL;
CREATE INDEX certificates_organization ON certificates(organization_id, not_after)
  WHERE organization_id IS NOT NULL;
CREATE INDEX certificates_replaces ON certificates(replaces_id) WHERE replaces_id IS NOT NULL;
-- Keyset paging through one CA's certificates (ListCertificateStatuses) in id order.
CREATE INDEX certificates_ca_id ON certificates(issuer_ca_id, id);
-- ListRevoked / delta CRLs; unique: each revocation of a CA has its own seq. It covers what a
-- CRL entry needs, so CRL generation does not read the certificate rows (whose DER makes them
-- large).
CREATE UNIQUE INDEX certificates_revocation ON certificates(issuer_ca_id, revocation_seq)
  INCLUDE (serial_hex, revoked_at, revocation_reason, invalidity_date) WHERE revocation_seq > 0;

CREATE TABLE certificate_uids (
  cert_id  BIGINT NOT NULL REFERENCES certificates(id),
  position BIGINT NOT NULL,
  uid      TEXT NOT NULL,
  PRIMARY KEY (cert_id, position)
);
CREATE INDEX certificate_uids_uid ON certificate_uids(uid);

CREATE TABLE crls (
  id                 BIGSERIAL PRIMARY KEY,
  ca_id              BIGINT NOT NULL REFERENCES cas(id),
  number             BIGINT NOT NULL,
  base_number        BIGINT,
  is_delta           BOOLEAN NOT NULL,
  this_update        BIGINT NOT NULL,
  next_update        BIGINT NOT NULL,
  max_revocation_seq BIGINT NOT NULL,
  entry_count        BIGINT NOT NULL,
  der                BYTEA NOT NULL,
  UNIQUE (ca_id, number)
);
CREATE INDEX crls_latest ON crls(ca_id, is_delta, number);

CREATE TABLE audit_log (
  seq       BIGINT PRIMARY KEY,
  time      BIGINT NOT NULL,
  actor     TEXT NOT NULL,
  action    TEXT NOT NULL,
  object    TEXT NOT NULL,
  details   TEXT NOT NULL,
  prev_hash BYTEA NOT NULL,
  hash      BYTEA NOT NULL
);

CREATE TABLE audit_checkpoints (
  id                 BIGSERIAL PRIMARY KEY,
  seq                BIGINT NOT NULL,
  head_hash          BYTEA NOT NULL,
  time               BIGINT NOT NULL,
  signer_fingerprint TEXT NOT NULL,
  scheme             TEXT NOT NULL,
  signature          BYTEA NOT NULL
);
CREATE INDEX audit_checkpoints_seq ON audit_checkpoints(seq);

-- Append only. The hash chain (src/audit) is what detects tampering; these triggers only stop
-- kyso itself from changing history by mistake.
CREATE FUNCTION kyso_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END
$$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION kyso_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION kyso_append_only();
CREATE TRIGGER audit_checkpoints_append_only BEFORE UPDATE OR DELETE ON audit_checkpoints
  FOR EACH ROW EXECUTE FUNCTION kyso_append_only();
CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints
  FOR EACH STATEMENT EXECUTE FUNCTION kyso_append_only();

CREATE TABLE settings (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

-- Pre-signed OCSP responses (src/ocsp), at most one per certificate. MarkRevoked deletes a
-- certificate's row in the revoking transaction, and PutOcspResponse writes only while the
-- certificate still has the status the response states, so no reader ever finds a "good"
-- response for a revoked certificate.
CREATE TABLE ocsp_responses (
  certificate_id BIGINT PRIMARY KEY REFERENCES certificates(id),
  status         TEXT NOT NULL CHECK (status IN ('valid', 'revoked')),
  this_update    BIGINT NOT NULL,
  next_update    BIGINT NOT NULL,
  der            BYTEA NOT NULL
);
CREATE INDEX ocsp_responses_next_update ON ocsp_responses(next_update);
)sql"},
    // The registration workflow (issue 6); the same tables as SQLite's migration 4. List
    // queries page by id, so the indexes they use end in id. Subtree filters are prefix
    // matches on a materialized path (LIKE 'prefix%'), which a text_pattern_ops index answers
    // as a range scan whatever the database's collation.
    {2, "registration workflow", R"sql(
CREATE TABLE organizations (
  id              BIGSERIAL PRIMARY KEY,
  parent_id       BIGINT REFERENCES organizations(id),
  path            TEXT NOT NULL UNIQUE,
  name            TEXT NOT NULL,
  tax_code        TEXT NOT NULL,
  budget_code     TEXT NOT NULL,
  address         TEXT NOT NULL,
  email           TEXT NOT NULL,
  province        TEXT NOT NULL,
  managing_agency BOOLEAN NOT NULL,
  created_at      BIGINT NOT NULL,
  updated_at      BIGINT NOT NULL,
  version         BIGINT NOT NULL
);
CREATE INDEX organizations_path ON organizations(path text_pattern_ops);
CREATE INDEX organizations_parent ON organizations(parent_id, id);
CREATE INDEX organizations_tax_code ON organizations(tax_code) WHERE tax_code <> '';

CREATE TABLE people (
  id              BIGSERIAL PRIMARY KEY,
  organization_id BIGINT NOT NULL REFERENCES organizations(id),
  full_name       TEXT NOT NULL,
  personal_id     TEXT NOT NULL,
  position        TEXT NOT NULL,
  email           TEXT NOT NULL,
  mobile          TEXT NOT NULL,
  status          TEXT NOT NULL,
  created_at      BIGINT NOT NULL,
  updated_at      BIGINT NOT NULL,
  version         BIGINT NOT NULL
);
CREATE UNIQUE INDEX people_personal_id ON people(personal_id);
CREATE INDEX people_organization ON people(organization_id, id);

CREATE TABLE accounts (
  id                      BIGSERIAL PRIMARY KEY,
  username                TEXT NOT NULL UNIQUE,
  display_name            TEXT NOT NULL,
  role                    TEXT NOT NULL,
  organization_id         BIGINT REFERENCES organizations(id),
  person_id               BIGINT REFERENCES people(id),
  password_hash           TEXT NOT NULL,
  certificate_fingerprint TEXT NOT NULL,
  disabled                BOOLEAN NOT NULL,
  created_at              BIGINT NOT NULL,
  version                 BIGINT NOT NULL
);
-- '' means "no client certificate" and may repeat; a real fingerprint logs in one account.
CREATE UNIQUE INDEX accounts_certificate ON accounts(certificate_fingerprint)
  WHERE certificate_fingerprint <> '';

CREATE TABLE access_tokens (
  token_hash TEXT PRIMARY KEY,
  account_id BIGINT NOT NULL REFERENCES accounts(id),
  kind       TEXT NOT NULL,
  name       TEXT NOT NULL,
  csrf_hash  TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  revoked    BOOLEAN NOT NULL
);
CREATE INDEX access_tokens_expires ON access_tokens(expires_at);
CREATE INDEX access_tokens_account ON access_tokens(account_id);

CREATE TABLE delegations (
  id                       BIGSERIAL PRIMARY KEY,
  delegate_organization_id BIGINT NOT NULL REFERENCES organizations(id),
  scope_organization_id    BIGINT NOT NULL REFERENCES organizations(id),
  kinds                    TEXT[] NOT NULL,
  created_by               TEXT NOT NULL,
  created_at               BIGINT NOT NULL,
  withdrawn_at             BIGINT,
  withdrawn_by             TEXT NOT NULL
);
CREATE INDEX delegations_delegate ON delegations(delegate_organization_id, id);

-- organization_path is the organization's path, copied on insert: organization_id never
-- changes and bodies are not re-parented, so the copy stays right, and the subtree lists
-- filter on the request row itself.
CREATE TABLE requests (
  id                    BIGSERIAL PRIMARY KEY,
  kind                  TEXT NOT NULL,
  state                 TEXT NOT NULL,
  organization_id       BIGINT NOT NULL REFERENCES organizations(id),
  organization_path     TEXT NOT NULL,
  person_id             BIGINT REFERENCES people(id),
  certificate_id        BIGINT REFERENCES certificates(id),
  assignee              TEXT NOT NULL,
  delegation_id         BIGINT REFERENCES delegations(id),
  signer                TEXT NOT NULL,
  submitted_at          BIGINT,
  due_at                BIGINT,
  result_certificate_id BIGINT REFERENCES certificates(id),
  result_note           TEXT NOT NULL,
  created_by            BIGINT NOT NULL,
  idempotency_key       TEXT NOT NULL,
  created_at            BIGINT NOT NULL,
  updated_at            BIGINT NOT NULL,
  version               BIGINT NOT NULL,
  form_json             TEXT NOT NULL,
  signed_document       BYTEA NOT NULL,
  signature             BYTEA NOT NULL
);
CREATE INDEX requests_path ON requests(organization_path text_pattern_ops, id);
CREATE INDEX requests_state_path ON requests(state, organization_path text_pattern_ops, id);
CREATE INDEX requests_state_due ON requests(state, due_at) WHERE due_at IS NOT NULL;
CREATE INDEX requests_assignee ON requests(assignee, state, id);
CREATE INDEX requests_organization ON requests(organization_id, id);
CREATE INDEX requests_person ON requests(person_id, id) WHERE person_id IS NOT NULL;
CREATE INDEX requests_creator ON requests(created_by, id);
-- A retried create with the same Idempotency-Key finds the first one; '' is "no key".
CREATE UNIQUE INDEX requests_idempotency ON requests(created_by, idempotency_key)
  WHERE idempotency_key <> '';

CREATE TABLE request_events (
  id         BIGSERIAL PRIMARY KEY,
  request_id BIGINT NOT NULL REFERENCES requests(id),
  from_state TEXT NOT NULL,
  to_state   TEXT NOT NULL,
  actor      TEXT NOT NULL,
  time       BIGINT NOT NULL,
  reason     TEXT NOT NULL
);
CREATE INDEX request_events_request ON request_events(request_id, id);

CREATE TABLE idempotency_keys (
  account_id  BIGINT NOT NULL,
  key         TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  status      BIGINT NOT NULL,
  response    TEXT NOT NULL,
  created_at  BIGINT NOT NULL,
  PRIMARY KEY (account_id, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys(created_at);

CREATE TABLE outbox (
  id              BIGSERIAL PRIMARY KEY,
  dedupe_key      TEXT NOT NULL UNIQUE,
  channel         TEXT NOT NULL,
  recipient       TEXT NOT NULL,
  subject         TEXT NOT NULL,
  body            TEXT NOT NULL,
  created_at      BIGINT NOT NULL,
  next_attempt_at BIGINT NOT NULL,
  sent_at         BIGINT,
  attempts        BIGINT NOT NULL,
  last_error      TEXT NOT NULL
);
CREATE INDEX outbox_due ON outbox(next_attempt_at, id) WHERE sent_at IS NULL;

-- CountExpiringByOrganization: a window of not_after over valid certificates of managing
-- bodies, answered from the index alone.
CREATE INDEX certificates_expiring ON certificates(not_after, organization_id)
  WHERE status = 'valid' AND organization_id IS NOT NULL;
)sql"},
    // Server-held signing keys: their owner body and the accounts it authorized; the same text
    // as SQLite's migration 5 (store/signing_keys_schema.h).
    {3, "server-held signing keys: owner body and authorized accounts", kSigningKeysSchema},
    // Issue 12 (SQLite's migration 6): tokens get an id, listed and revoked by it without their
    // hash; expiry reminders name their certificate and window, filled in for those queued
    // before from their dedupe keys ("expiry:<certificate id>:<days>").
    {4, "token ids; expiry reminders name their certificate; request attachments", R"sql(
ALTER TABLE access_tokens ADD COLUMN id BIGSERIAL;
CREATE UNIQUE INDEX access_tokens_id ON access_tokens(id);
CREATE INDEX access_tokens_account_kind ON access_tokens(account_id, kind, id);

ALTER TABLE outbox ADD COLUMN certificate_id BIGINT REFERENCES certificates(id);
ALTER TABLE outbox ADD COLUMN reminder_days BIGINT;
UPDATE outbox SET certificate_id = split_part(dedupe_key, ':', 2)::bigint,
                  reminder_days = split_part(dedupe_key, ':', 3)::bigint
  WHERE CASE WHEN dedupe_key ~ '^expiry:[0-9]{1,18}:[0-9]{1,9}$'
             THEN split_part(dedupe_key, ':', 2)::bigint END IN (SELECT id FROM certificates);
CREATE INDEX outbox_certificate ON outbox(certificate_id, id) WHERE certificate_id IS NOT NULL;

CREATE TABLE request_attachments (
  id           BIGSERIAL PRIMARY KEY,
  request_id   BIGINT NOT NULL REFERENCES requests(id),
  filename     TEXT NOT NULL,
  content_type TEXT NOT NULL,
  size         BIGINT NOT NULL,
  sha256       TEXT NOT NULL,
  data         BYTEA NOT NULL,
  created_by   TEXT NOT NULL,
  created_at   BIGINT NOT NULL
);
CREATE INDEX request_attachments_request ON request_attachments(request_id, id);
)sql"},
    {5, "indexes for counts by status, issue and revocation time", kCertificateCountIndexes},
};

constexpr int kLatestSchemaVersion =
    kMigrations[sizeof(kMigrations) / sizeof(kMigrations[0]) - 1].version;

// ---------------------------------------------------------------------------------------------
// Small helpers.

std::string ToUpperAscii(std::string_view text) {
  std::string upper(text);
  for (char& c : upper) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return upper;
}

// The LIKE pattern matching every text that starts with `prefix` (LIKE's escape character is
// the backslash).
std::string PrefixPattern(std::string_view prefix) {
  std::string pattern;
  pattern.reserve(prefix.size() + 1);
  for (char c : prefix) {
    if (c == '\\' || c == '%' || c == '_') pattern.push_back('\\');
    pattern.push_back(c);
  }
  pattern.push_back('%');
  return pattern;
}

// Rewrites the '?' placeholders of `sql` (outside quoted literals) as $1, $2, ...: the SQL in
// this file reads like the SQLite back end's.
std::string NumberPlaceholders(std::string_view sql) {
  std::string numbered;
  numbered.reserve(sql.size() + 16);
  int next = 0;
  bool quoted = false;
  for (char c : sql) {
    if (c == '\'') quoted = !quoted;
    if (c == '?' && !quoted) {
      numbered += '$';
      numbered += std::to_string(++next);
    } else {
      numbered += c;
    }
  }
  return numbered;
}

// Trailing newlines off libpq's messages, so that they fit on one line.
std::string OneLine(const char* text) {
  std::string line = text != nullptr ? text : "";
  while (!line.empty() && (line.back() == '\n' || line.back() == ' ')) line.pop_back();
  for (char& c : line) {
    if (c == '\n') c = ' ';
  }
  return line;
}

using ResultPtr = std::unique_ptr<PGresult, decltype(&PQclear)>;

// The Status of a failed statement (ids from store.h). `result` may be null when the
// connection failed before the server answered.
Status MapPgError(const PGresult* result, PGconn* conn, const std::string& where) {
  const char* state = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  std::string message;
  if (result != nullptr && PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY) != nullptr) {
    message = OneLine(PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY));
    if (const char* detail = PQresultErrorField(result, PG_DIAG_MESSAGE_DETAIL)) {
      message += " (" + OneLine(detail) + ")";
    }
  } else {
    message = OneLine(result != nullptr ? PQresultErrorMessage(result) : PQerrorMessage(conn));
  }
  const std::string code = state != nullptr ? state : "";
  if (code == "23505") return AlreadyExists("store.duplicate", "already exists: " + message);
  if (code == "23503") {
    return NotFound("store.not_found", "a referenced row does not exist: " + message);
  }
  if (code == "40001" || code == "40P01" || code == "55P03") {
    return Unavailable("store.busy", where + " is locked by another transaction (" + message + ")");
  }
  if (code == "25006") return FailedPrecondition("store.read_only", message);
  if (code.empty() || code.starts_with("08") || PQstatus(conn) != CONNECTION_OK) {
    return Unavailable("store.io", where + ": connection failed: " + message);
  }
  return Unavailable("store.io", where + ": " + message + " [SQLSTATE " + code + "]");
}

// ---------------------------------------------------------------------------------------------
// Parameters and rows, both in PostgreSQL's binary format: integers in network byte order,
// text and bytea as their bytes. Nothing needs quoting or escaping.

void PutInt32(std::string& out, int32_t value) {
  const uint32_t be = htobe32(static_cast<uint32_t>(value));
  out.append(reinterpret_cast<const char*>(&be), sizeof be);
}

class Params {
 public:
  Params& Int(int64_t value) {
    const uint64_t be = htobe64(static_cast<uint64_t>(value));
    return Add(kInt8Oid, std::string(reinterpret_cast<const char*>(&be), sizeof be));
  }
  Params& OptionalInt(const std::optional<int64_t>& value) {
    return value ? Int(*value) : Null(kInt8Oid);
  }
  Params& Text(std::string_view value) { return Add(kTextOid, std::string(value)); }
  Params& Blob(ByteSpan value) {
    return Add(kByteaOid, std::string(reinterpret_cast<const char*>(value.data()), value.size()));
  }
  Params& Bool(bool value) { return Add(kBoolOid, std::string(1, value ? '\1' : '\0')); }
  // A one-dimensional text[] (array_send's format).
  Params& TextArray(const std::vector<std::string>& values) {
    std::string out;
    PutInt32(out, values.empty() ? 0 : 1);  // dimensions
    PutInt32(out, 0);                       // no NULL elements
    PutInt32(out, static_cast<int32_t>(kTextOid));
    if (!values.empty()) {
      PutInt32(out, static_cast<int32_t>(values.size()));
      PutInt32(out, 1);  // lower bound
      for (const std::string& value : values) {
        PutInt32(out, static_cast<int32_t>(value.size()));
        out += value;
      }
    }
    return Add(kTextArrayOid, std::move(out));
  }
  Params& Null(Oid type) {
    types_.push_back(type);
    values_.emplace_back();
    null_.push_back(true);
    return *this;
  }

  int size() const { return static_cast<int>(types_.size()); }
  const Oid* types() const { return types_.empty() ? nullptr : types_.data(); }

  // The arrays libpq takes; valid while this object is unchanged.
  void Export(std::vector<const char*>& values, std::vector<int>& lengths,
              std::vector<int>& formats) const {
    values.clear();
    lengths.clear();
    formats.assign(types_.size(), 1);
    for (size_t i = 0; i < types_.size(); ++i) {
      values.push_back(null_[i] ? nullptr : values_[i].data());
      lengths.push_back(static_cast<int>(values_[i].size()));
    }
  }

 private:
  Params& Add(Oid type, std::string value) {
    types_.push_back(type);
    values_.push_back(std::move(value));
    null_.push_back(false);
    return *this;
  }

  std::vector<Oid> types_;
  std::vector<std::string> values_;
  std::vector<bool> null_;
};

uint32_t ReadUint32(const char* data) {
  uint32_t be;
  std::memcpy(&be, data, sizeof be);
  return be32toh(be);
}

// One row of a binary-format result.
class Row {
 public:
  Row(const PGresult* result, int row) : result_(result), row_(row) {}

  bool IsNull(int column) const { return PQgetisnull(result_, row_, column) != 0; }

  int64_t Int(int column) const {
    if (IsNull(column)) return 0;
    const char* data = PQgetvalue(result_, row_, column);
    switch (PQftype(result_, column)) {
      case kInt8Oid: {
        uint64_t be;
        std::memcpy(&be, data, sizeof be);
        return static_cast<int64_t>(be64toh(be));
      }
      case kInt4Oid:
        return static_cast<int32_t>(ReadUint32(data));
      case kInt2Oid: {
        uint16_t be;
        std::memcpy(&be, data, sizeof be);
        return static_cast<int16_t>(be16toh(be));
      }
      case kBoolOid:
        return data[0] != 0 ? 1 : 0;
      default:
        return 0;
    }
  }
  std::optional<int64_t> OptionalInt(int column) const {
    if (IsNull(column)) return std::nullopt;
    return Int(column);
  }
  bool Bool(int column) const { return Int(column) != 0; }
  std::string Text(int column) const {
    return std::string(PQgetvalue(result_, row_, column),
                       static_cast<size_t>(PQgetlength(result_, row_, column)));
  }
  Bytes Blob(int column) const {
    const auto* data = reinterpret_cast<const uint8_t*>(PQgetvalue(result_, row_, column));
    return Bytes(data, data + PQgetlength(result_, row_, column));
  }
  // A one-dimensional text[] in array_send's format; NULL elements read as "".
  std::vector<std::string> TextArray(int column) const {
    std::vector<std::string> values;
    if (IsNull(column)) return values;
    const char* data = PQgetvalue(result_, row_, column);
    const size_t size = static_cast<size_t>(PQgetlength(result_, row_, column));
    size_t at = 0;
    auto read = [&](int32_t& value) {
      if (at + 4 > size) return false;
      value = static_cast<int32_t>(ReadUint32(data + at));
      at += 4;
      return true;
    };
    int32_t dimensions = 0;
    int32_t flags = 0;
    int32_t element_type = 0;
    if (!read(dimensions) || !read(flags) || !read(element_type) || dimensions != 1) return values;
    int32_t count = 0;
    int32_t lower_bound = 0;
    if (!read(count) || !read(lower_bound)) return values;
    for (int32_t i = 0; i < count; ++i) {
      int32_t length = 0;
      if (!read(length)) break;
      if (length < 0) {
        values.emplace_back();
        continue;
      }
      if (at + static_cast<size_t>(length) > size) break;
      values.emplace_back(data + at, static_cast<size_t>(length));
      at += static_cast<size_t>(length);
    }
    return values;
  }

 private:
  const PGresult* result_;
  int row_;
};

// The result of a statement: its rows, or for INSERT/UPDATE/DELETE how many it changed.
class Rows {
 public:
  explicit Rows(ResultPtr result) : result_(std::move(result)) {}
  int size() const { return PQntuples(result_.get()); }
  bool empty() const { return size() == 0; }
  Row operator[](int row) const { return Row(result_.get(), row); }
  // The command tag's verb ("INSERT", "COMMIT", "ROLLBACK", ...).
  std::string command() const {
    std::string tag = PQcmdStatus(result_.get());
    return tag.substr(0, tag.find(' '));
  }
  int64_t affected() const {
    const char* tuples = PQcmdTuples(result_.get());
    return tuples != nullptr && *tuples != '\0' ? std::stoll(tuples) : 0;
  }

 private:
  ResultPtr result_;
};

// ---------------------------------------------------------------------------------------------
// Connection: one libpq connection and its prepared statements. Used by one thread at a time
// (the pool hands it to one Transaction).

class Connection {
 public:
  static Result<std::unique_ptr<Connection>> Open(const std::string& conninfo,
                                                  const PostgresOptions& options) {
    // Defaults come before the conninfo (expanded from "dbname"), which overrides them; the
    // client encoding comes after it: every text we send and read is UTF-8.
    const char* keywords[] = {"connect_timeout", "fallback_application_name", "dbname",
                              "client_encoding", nullptr};
    const char* values[] = {"10", options.application_name.c_str(), conninfo.c_str(), "UTF8",
                            nullptr};
    PGconn* conn = PQconnectdbParams(keywords, values, /*expand_dbname=*/1);
    if (conn == nullptr) return Unavailable("store.io", "cannot allocate a PostgreSQL connection");
    if (PQstatus(conn) != CONNECTION_OK) {
      std::string message = OneLine(PQerrorMessage(conn));
      PQfinish(conn);
      return Unavailable("store.io", "cannot connect to PostgreSQL: " + message);
    }
    auto connection = std::unique_ptr<Connection>(new Connection(conn));
    if (PQserverVersion(conn) < kMinServerVersion) {
      return Unavailable("store.io", connection->name() + " runs PostgreSQL " +
                                         std::to_string(PQserverVersion(conn)) +
                                         "; kyso needs 12 or later");
    }
    // A session default; write transactions set the time left of their Begin() budget.
    KYSO_RETURN_IF_ERROR(connection
                             ->Exec("SELECT set_config('lock_timeout', ?, false)",
                                    Params().Text(std::to_string(options.lock_timeout_ms) + "ms"))
                             .status());
    return connection;
  }

  ~Connection() { PQfinish(conn_); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // "postgresql://host:port/db", for messages (never the password).
  const std::string& name() const { return name_; }

  // Runs one statement with `params` (its '?' numbered), prepared on first use, and returns
  // its rows in binary format.
  Result<Rows> Exec(const std::string& sql, const Params& params = Params()) {
    std::vector<const char*> values;
    std::vector<int> lengths;
    std::vector<int> formats;
    params.Export(values, lengths, formats);
    auto it = statements_.find(sql);
    if (it == statements_.end() && statements_.size() < kMaxPreparedStatements) {
      std::string statement_name = "kyso_" + std::to_string(statements_.size() + 1);
      ResultPtr prepared(PQprepare(conn_, statement_name.c_str(), NumberPlaceholders(sql).c_str(),
                                   params.size(), params.types()),
                         &PQclear);
      if (PQresultStatus(prepared.get()) != PGRES_COMMAND_OK) {
        return MapPgError(prepared.get(), conn_, name_);
      }
      it = statements_.emplace(sql, std::move(statement_name)).first;
    }
    PGresult* raw =
        it != statements_.end()
            ? PQexecPrepared(conn_, it->second.c_str(), params.size(), values.data(),
                             lengths.data(), formats.data(), /*resultFormat=*/1)
            : PQexecParams(conn_, NumberPlaceholders(sql).c_str(), params.size(), params.types(),
                           values.data(), lengths.data(), formats.data(), /*resultFormat=*/1);
    return Check(ResultPtr(raw, &PQclear));
  }

  // Runs `sql` without parameters through the simple query protocol, which allows several
  // statements in one string (transaction control, migrations).
  Result<Rows> Command(const char* sql) { return Check(ResultPtr(PQexec(conn_, sql), &PQclear)); }

  // True when no transaction is open, i.e. the connection can go back to the pool.
  bool Idle() const {
    return PQstatus(conn_) == CONNECTION_OK && PQtransactionStatus(conn_) == PQTRANS_IDLE;
  }
  bool Broken() const { return PQstatus(conn_) != CONNECTION_OK; }

 private:
  explicit Connection(PGconn* conn) : conn_(conn) {
    const char* host = PQhost(conn);
    const char* port = PQport(conn);
    const char* db = PQdb(conn);
    name_ = std::string("postgresql://") + (host != nullptr ? host : "") + ":" +
            (port != nullptr ? port : "") + "/" + (db != nullptr ? db : "");
  }

  Result<Rows> Check(ResultPtr result) {
    const ExecStatusType status =
        result != nullptr ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return Rows(std::move(result));
    return MapPgError(result.get(), conn_, name_);
  }

  PGconn* conn_;
  std::string name_;
  std::unordered_map<std::string, std::string> statements_;  // SQL -> prepared statement name
};

// ---------------------------------------------------------------------------------------------
// Opening: the checks and migrations run once, on the first connection.

Status SchemaTooNew(const std::string& name, int64_t version) {
  return FailedPrecondition("store.schema_too_new",
                            name + " was written by a newer kyso (schema version " +
                                std::to_string(version) + "; this kyso supports up to " +
                                std::to_string(kLatestSchemaVersion) + "); upgrade kyso");
}

// The schema version recorded in the database, or 0 when it has no schema_migrations.
Result<int64_t> SchemaVersion(Connection& connection) {
  KYSO_ASSIGN_OR_RETURN(Rows exists,
                        connection.Exec("SELECT to_regclass('schema_migrations') IS NOT NULL"));
  if (!exists[0].Bool(0)) return int64_t{0};
  KYSO_ASSIGN_OR_RETURN(Rows version,
                        connection.Exec("SELECT coalesce(max(version), 0) FROM schema_migrations"));
  return version[0].Int(0);
}

// Brings the database to kLatestSchemaVersion, in one transaction under the writer lock, so
// that two nodes starting at once migrate once. A database that is already current is only
// read, so opening it does not wait for a writer.
Result<int> Migrate(Connection& connection) {
  const std::string& name = connection.name();
  {
    KYSO_ASSIGN_OR_RETURN(int64_t version, SchemaVersion(connection));
    if (version == kLatestSchemaVersion) return kLatestSchemaVersion;
    if (version > kLatestSchemaVersion) return SchemaTooNew(name, version);
  }
  KYSO_RETURN_IF_ERROR(connection.Command("BEGIN ISOLATION LEVEL READ COMMITTED").status());
  auto migrate = [&]() -> Result<int> {
    KYSO_RETURN_IF_ERROR(
        connection.Exec("SELECT pg_advisory_xact_lock(?)", Params().Int(kWriterLock)).status());
    KYSO_ASSIGN_OR_RETURN(int64_t version, SchemaVersion(connection));
    if (version > kLatestSchemaVersion) return SchemaTooNew(name, version);
    if (version == 0) {
      // No kyso schema: ours to create only if the schema is empty.
      KYSO_ASSIGN_OR_RETURN(Rows tables,
                            connection.Exec("SELECT count(*) FROM pg_catalog.pg_class c JOIN "
                                            "pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
                                            "WHERE n.nspname = current_schema()"));
      if (tables[0].Int(0) != 0) {
        return DataLoss("store.corrupt",
                        name + " is not a kyso database (it holds tables but no kyso schema)");
      }
    }
    for (const Migration& migration : kMigrations) {
      if (migration.version <= version) continue;
      KYSO_RETURN_IF_ERROR(
          connection.Command(migration.sql)
              .status()
              .WithContext("schema migration " + std::to_string(migration.version)));
      KYSO_RETURN_IF_ERROR(
          connection
              .Exec("INSERT INTO schema_migrations (version, description, applied_at) "
                    "VALUES (?, ?, extract(epoch FROM now())::bigint)",
                    Params().Int(migration.version).Text(migration.description))
              .status());
    }
    return kLatestSchemaVersion;
  };
  Result<int> result = migrate();
  if (!result.ok()) {
    (void)connection.Command("ROLLBACK");
    return result;
  }
  KYSO_RETURN_IF_ERROR(connection.Command("COMMIT").status());
  return result;
}

// ---------------------------------------------------------------------------------------------
// Row mapping (the column lists and readers mirror sqlite_store.cc).

constexpr const char* kCaColumns =
    "id, name, role, parent_id, subject, serial_hex, not_before, not_after, key_ref, "
    "signature_scheme, certificate_der, created_at";

CaRecord ReadCa(const Row& row) {
  CaRecord ca;
  ca.id = row.Int(0);
  ca.name = row.Text(1);
  ca.role = row.Text(2);
  ca.parent_id = row.OptionalInt(3);
  ca.subject = row.Text(4);
  ca.serial_hex = row.Text(5);
  ca.not_before = row.Int(6);
  ca.not_after = row.Int(7);
  ca.key_ref = row.Text(8);
  ca.signature_scheme = row.Text(9);
  ca.certificate_der = row.Blob(10);
  ca.created_at = row.Int(11);
  return ca;
}

// The uids come with the row, as an array in position order: no query per certificate.
constexpr const char* kCertificateColumns =
    "c.id, c.issuer_ca_id, c.serial_hex, c.issuer, c.subject, c.common_name, c.email, "
    "c.profile, c.issuance_kind, c.replaces_id, c.owner_id, c.organization_id, "
    "c.key_fingerprint, c.not_before, c.not_after, c.issued_at, c.status, c.revoked_at, "
    "c.revocation_reason, c.invalidity_date, c.revocation_seq, c.der, "
    "ARRAY(SELECT u.uid FROM certificate_uids u WHERE u.cert_id = c.id ORDER BY u.position)";

Status NotAKysoDatabase(const std::string& name, std::string_view why) {
  return DataLoss("store.corrupt",
                  name + " is not a kyso database or is damaged (" + std::string(why) + ")");
}

// Decodes the revocation columns starting at `first` (revoked_at, reason, invalidity_date).
Result<Revocation> ReadRevocation(const Row& row, int first, const std::string& name) {
  Revocation revocation;
  revocation.revoked_at = row.Int(first);
  auto reason = RevocationReasonFromCode(static_cast<int>(row.Int(first + 1)));
  if (!reason.ok()) return NotAKysoDatabase(name, reason.status().message());
  revocation.reason = *reason;
  revocation.invalidity_date = row.OptionalInt(first + 2);
  return revocation;
}

Result<CertificateRecord> ReadCertificate(const Row& row, const std::string& name) {
  CertificateRecord cert;
  cert.id = row.Int(0);
  cert.issuer_ca_id = row.Int(1);
  cert.serial_hex = row.Text(2);
  cert.issuer = row.Text(3);
  cert.subject = row.Text(4);
  cert.common_name = row.Text(5);
  cert.email = row.Text(6);
  cert.profile = row.Text(7);
  cert.issuance_kind = row.Text(8);
  cert.replaces_id = row.OptionalInt(9);
  cert.owner_id = row.OptionalInt(10);
  cert.organization_id = row.OptionalInt(11);
  cert.key_fingerprint = row.Text(12);
  cert.not_before = row.Int(13);
  cert.not_after = row.Int(14);
  cert.issued_at = row.Int(15);
  if (row.Text(16) == kStatusRevoked) {
    cert.status = CertificateStatus::kRevoked;
    KYSO_ASSIGN_OR_RETURN(cert.revocation, ReadRevocation(row, 17, name));
  } else {
    cert.status = CertificateStatus::kValid;
  }
  cert.revocation_seq = row.Int(20);
  cert.der = row.Blob(21);
  cert.uids = row.TextArray(22);
  return cert;
}

constexpr const char* kStatusColumns =
    "id, issuer_ca_id, serial_hex, status, revoked_at, revocation_reason, invalidity_date, "
    "revocation_seq, not_before, not_after";

Result<CertificateStatusEntry> ReadStatusEntry(const Row& row, const std::string& name) {
  CertificateStatusEntry entry;
  entry.id = row.Int(0);
  entry.issuer_ca_id = row.Int(1);
  entry.serial_hex = row.Text(2);
  if (row.Text(3) == kStatusRevoked) {
    entry.status = CertificateStatus::kRevoked;
    KYSO_ASSIGN_OR_RETURN(entry.revocation, ReadRevocation(row, 4, name));
  }
  entry.revocation_seq = row.Int(7);
  entry.not_before = row.Int(8);
  entry.not_after = row.Int(9);
  return entry;
}

const char* StatusText(CertificateStatus status) {
  return status == CertificateStatus::kRevoked ? kStatusRevoked : kStatusValid;
}

constexpr const char* kOcspColumns =
    "r.certificate_id, c.serial_hex, r.status, c.status, c.revoked_at, c.revocation_reason, "
    "c.invalidity_date, r.this_update, r.next_update, r.der";

Result<OcspResponseRecord> ReadOcspResponse(const Row& row, int64_t ca_id,
                                            const std::string& name) {
  OcspResponseRecord record;
  record.certificate_id = row.Int(0);
  record.ca_id = ca_id;
  record.serial_hex = row.Text(1);
  record.status =
      row.Text(2) == kStatusRevoked ? CertificateStatus::kRevoked : CertificateStatus::kValid;
  if (row.Text(3) == kStatusRevoked) {
    KYSO_ASSIGN_OR_RETURN(record.revocation, ReadRevocation(row, 4, name));
  }
  record.this_update = row.Int(7);
  record.next_update = row.Int(8);
  record.der = row.Blob(9);
  return record;
}

constexpr const char* kCrlColumns =
    "id, ca_id, number, base_number, this_update, next_update, max_revocation_seq, "
    "entry_count, der";

CrlRecord ReadCrl(const Row& row) {
  CrlRecord crl;
  crl.id = row.Int(0);
  crl.ca_id = row.Int(1);
  crl.number = row.Int(2);
  crl.base_number = row.OptionalInt(3);
  crl.this_update = row.Int(4);
  crl.next_update = row.Int(5);
  crl.max_revocation_seq = row.Int(6);
  crl.entry_count = row.Int(7);
  crl.der = row.Blob(8);
  return crl;
}

constexpr const char* kAuditColumns = "seq, time, actor, action, object, details, prev_hash, hash";

AuditEntry ReadAuditEntry(const Row& row) {
  AuditEntry entry;
  entry.seq = row.Int(0);
  entry.time = row.Int(1);
  entry.actor = row.Text(2);
  entry.action = row.Text(3);
  entry.object = row.Text(4);
  entry.details = row.Text(5);
  entry.prev_hash = row.Blob(6);
  entry.hash = row.Blob(7);
  return entry;
}

constexpr const char* kCheckpointColumns =
    "id, seq, head_hash, time, signer_fingerprint, scheme, signature";

AuditCheckpoint ReadCheckpoint(const Row& row) {
  AuditCheckpoint checkpoint;
  checkpoint.id = row.Int(0);
  checkpoint.seq = row.Int(1);
  checkpoint.head_hash = row.Blob(2);
  checkpoint.time = row.Int(3);
  checkpoint.signer_fingerprint = row.Text(4);
  checkpoint.scheme = row.Text(5);
  checkpoint.signature = row.Blob(6);
  return checkpoint;
}

constexpr const char* kOrganizationColumns =
    "id, parent_id, path, name, tax_code, budget_code, address, email, province, "
    "managing_agency, created_at, updated_at, version";

OrganizationRecord ReadOrganization(const Row& row) {
  OrganizationRecord org;
  org.id = row.Int(0);
  org.parent_id = row.OptionalInt(1);
  org.path = row.Text(2);
  org.name = row.Text(3);
  org.tax_code = row.Text(4);
  org.budget_code = row.Text(5);
  org.address = row.Text(6);
  org.email = row.Text(7);
  org.province = row.Text(8);
  org.managing_agency = row.Bool(9);
  org.created_at = row.Int(10);
  org.updated_at = row.Int(11);
  org.version = row.Int(12);
  return org;
}

constexpr const char* kPersonColumns =
    "p.id, p.organization_id, o.path, p.full_name, p.personal_id, p.position, p.email, "
    "p.mobile, p.status, p.created_at, p.updated_at, p.version";

PersonRecord ReadPerson(const Row& row) {
  PersonRecord person;
  person.id = row.Int(0);
  person.organization_id = row.Int(1);
  person.organization_path = row.Text(2);
  person.full_name = row.Text(3);
  person.personal_id = row.Text(4);
  person.position = row.Text(5);
  person.email = row.Text(6);
  person.mobile = row.Text(7);
  person.status = row.Text(8);
  person.created_at = row.Int(9);
  person.updated_at = row.Int(10);
  person.version = row.Int(11);
  return person;
}

constexpr const char* kAccountColumns =
    "id, username, display_name, role, organization_id, person_id, password_hash, "
    "certificate_fingerprint, disabled, created_at, version";

AccountRecord ReadAccount(const Row& row) {
  AccountRecord account;
  account.id = row.Int(0);
  account.username = row.Text(1);
  account.display_name = row.Text(2);
  account.role = row.Text(3);
  account.organization_id = row.OptionalInt(4);
  account.person_id = row.OptionalInt(5);
  account.password_hash = row.Text(6);
  account.certificate_fingerprint = row.Text(7);
  account.disabled = row.Bool(8);
  account.created_at = row.Int(9);
  account.version = row.Int(10);
  return account;
}

constexpr const char* kAccessTokenColumns =
    "token_hash, account_id, kind, name, csrf_hash, created_at, expires_at, revoked, id";

AccessTokenRecord ReadAccessToken(const Row& row) {
  AccessTokenRecord token;
  token.token_hash = row.Text(0);
  token.account_id = row.Int(1);
  token.kind = row.Text(2);
  token.name = row.Text(3);
  token.csrf_hash = row.Text(4);
  token.created_at = row.Int(5);
  token.expires_at = row.Int(6);
  token.revoked = row.Bool(7);
  token.id = row.Int(8);
  return token;
}

constexpr const char* kDelegationColumns =
    "d.id, d.delegate_organization_id, d.scope_organization_id, o.path, d.kinds, "
    "d.created_by, d.created_at, d.withdrawn_at, d.withdrawn_by";

DelegationRecord ReadDelegation(const Row& row) {
  DelegationRecord delegation;
  delegation.id = row.Int(0);
  delegation.delegate_organization_id = row.Int(1);
  delegation.scope_organization_id = row.Int(2);
  delegation.scope_path = row.Text(3);
  delegation.kinds = row.TextArray(4);
  delegation.created_by = row.Text(5);
  delegation.created_at = row.Int(6);
  delegation.withdrawn_at = row.OptionalInt(7);
  delegation.withdrawn_by = row.Text(8);
  return delegation;
}

constexpr const char* kRequestColumns =
    "id, kind, state, organization_id, organization_path, person_id, certificate_id, "
    "form_json, assignee, delegation_id, signed_document, signature, signer, submitted_at, "
    "due_at, result_certificate_id, result_note, created_by, idempotency_key, created_at, "
    "updated_at, version";

RequestRecord ReadRequest(const Row& row) {
  RequestRecord request;
  request.id = row.Int(0);
  request.kind = row.Text(1);
  request.state = row.Text(2);
  request.organization_id = row.Int(3);
  request.organization_path = row.Text(4);
  request.person_id = row.OptionalInt(5);
  request.certificate_id = row.OptionalInt(6);
  request.form_json = row.Text(7);
  request.assignee = row.Text(8);
  request.delegation_id = row.OptionalInt(9);
  request.signed_document = row.Blob(10);
  request.signature = row.Blob(11);
  request.signer = row.Text(12);
  request.submitted_at = row.OptionalInt(13);
  request.due_at = row.OptionalInt(14);
  request.result_certificate_id = row.OptionalInt(15);
  request.result_note = row.Text(16);
  request.created_by = row.Int(17);
  request.idempotency_key = row.Text(18);
  request.created_at = row.Int(19);
  request.updated_at = row.Int(20);
  request.version = row.Int(21);
  return request;
}

constexpr const char* kRequestEventColumns =
    "id, request_id, from_state, to_state, actor, time, reason";

RequestEventRecord ReadRequestEvent(const Row& row) {
  RequestEventRecord event;
  event.id = row.Int(0);
  event.request_id = row.Int(1);
  event.from_state = row.Text(2);
  event.to_state = row.Text(3);
  event.actor = row.Text(4);
  event.time = row.Int(5);
  event.reason = row.Text(6);
  return event;
}

constexpr const char* kOutboxColumns =
    "id, dedupe_key, channel, recipient, subject, body, created_at, next_attempt_at, sent_at, "
    "attempts, last_error, certificate_id, reminder_days";

OutboxMessage ReadOutboxMessage(const Row& row) {
  OutboxMessage message;
  message.id = row.Int(0);
  message.dedupe_key = row.Text(1);
  message.channel = row.Text(2);
  message.recipient = row.Text(3);
  message.subject = row.Text(4);
  message.body = row.Text(5);
  message.created_at = row.Int(6);
  message.next_attempt_at = row.Int(7);
  message.sent_at = row.OptionalInt(8);
  message.attempts = row.Int(9);
  message.last_error = row.Text(10);
  message.certificate_id = row.OptionalInt(11);
  message.reminder_days = row.OptionalInt(12);
  return message;
}

ReminderEntry ReadReminder(const Row& row) {
  ReminderEntry entry;
  entry.message = ReadOutboxMessage(row);
  const int c = kReminderCertificateColumn;
  entry.serial_hex = row.Text(c);
  entry.common_name = row.Text(c + 1);
  entry.not_after = row.Int(c + 2);
  entry.organization_id = row.OptionalInt(c + 3);
  return entry;
}

// A WHERE clause built from optional conditions, with its parameters in order. The clauses
// hold only '?' placeholders; values go into `params`.
struct Where {
  std::string sql;
  Params params;

  Params& Add(std::string_view condition) {
    sql += sql.empty() ? " WHERE " : " AND ";
    sql += condition;
    return params;
  }
};

// A negative limit means "no limit", as with SQLite; LIMIT NULL is PostgreSQL's spelling.
Params& Limit(Params& params, int64_t limit) {
  return limit < 0 ? params.Null(kInt8Oid) : params.Int(limit);
}

Where CertificateWhere(const CertificateFilter& filter) {
  Where where;
  if (filter.issuer_ca_id) where.Add("c.issuer_ca_id = ?").Int(*filter.issuer_ca_id);
  if (filter.status) where.Add("c.status = ?").Text(StatusText(*filter.status));
  if (filter.profile) where.Add("c.profile = ?").Text(*filter.profile);
  if (filter.uid) {
    where.Add("c.id IN (SELECT cert_id FROM certificate_uids WHERE uid = ?)").Text(*filter.uid);
  }
  // strpos, not LIKE: '%' and '_' in the argument are plain characters.
  if (filter.subject_contains) {
    where.Add("strpos(c.subject, ?) > 0").Text(*filter.subject_contains);
  }
  if (filter.email) where.Add("lower(c.email COLLATE \"C\") = lower(?)").Text(*filter.email);
  if (filter.expires_before) where.Add("c.not_after < ?").Int(*filter.expires_before);
  if (filter.valid_at) {
    where.Add("c.not_before <= ? AND c.not_after >= ?").Int(*filter.valid_at).Int(*filter.valid_at);
  }
  if (filter.issued_from) where.Add("c.issued_at >= ?").Int(*filter.issued_from);
  if (filter.issued_before) where.Add("c.issued_at < ?").Int(*filter.issued_before);
  if (filter.revoked_from) where.Add("c.revoked_at >= ?").Int(*filter.revoked_from);
  if (filter.revoked_before) where.Add("c.revoked_at < ?").Int(*filter.revoked_before);
  if (filter.organization_id) where.Add("c.organization_id = ?").Int(*filter.organization_id);
  if (filter.organization_path_prefix) {
    where.Add("c.organization_id IN (SELECT o.id FROM organizations o WHERE o.path LIKE ?)")
        .Text(PrefixPattern(*filter.organization_path_prefix));
  }
  if (filter.owner_id) where.Add("c.owner_id = ?").Int(*filter.owner_id);
  return where;
}

// The conditions of a RequestFilter other than paging.
Where RequestWhere(const RequestFilter& filter) {
  Where where;
  if (filter.path_prefix) {
    where.Add("organization_path LIKE ?").Text(PrefixPattern(*filter.path_prefix));
  }
  if (!filter.path_prefixes.empty()) {
    // One LIKE per subtree (not LIKE ANY), so that each is an index range scan.
    std::string any = "(";
    for (size_t i = 0; i < filter.path_prefixes.size(); ++i) {
      any += i == 0 ? "organization_path LIKE ?" : " OR organization_path LIKE ?";
    }
    any += ")";
    Params& params = where.Add(any);
    for (const std::string& prefix : filter.path_prefixes) params.Text(PrefixPattern(prefix));
  }
  if (filter.organization_id) where.Add("organization_id = ?").Int(*filter.organization_id);
  if (filter.person_id) where.Add("person_id = ?").Int(*filter.person_id);
  if (filter.created_by) where.Add("created_by = ?").Int(*filter.created_by);
  if (!filter.kinds.empty()) where.Add("kind = ANY(?)").TextArray(filter.kinds);
  if (!filter.states.empty()) where.Add("state = ANY(?)").TextArray(filter.states);
  if (filter.assignee) where.Add("assignee = ?").Text(*filter.assignee);
  if (filter.due_before) where.Add("due_at < ?").Int(*filter.due_before);
  return where;
}

// ---------------------------------------------------------------------------------------------
// Database and Transaction.

class PostgresDatabase;

class PostgresTransaction final : public Transaction {
 public:
  // A kWrite transaction holds the database's writer slot until it finishes.
  PostgresTransaction(PostgresDatabase* database, std::unique_ptr<Connection> connection,
                      TransactionMode mode)
      : database_(database), connection_(std::move(connection)), mode_(mode) {}
  ~PostgresTransaction() override;

  Status Commit() override;

  Result<int64_t> InsertCa(const CaRecord& ca) override;
  Result<CaRecord> GetCa(int64_t id) override;
  Result<CaRecord> GetCaByName(std::string_view name) override;
  Result<std::vector<CaRecord>> ListCas() override;

  Result<int64_t> InsertCertificate(const CertificateRecord& cert) override;
  Result<CertificateRecord> GetCertificate(int64_t issuer_ca_id,
                                           std::string_view serial_hex) override;
  Result<CertificateRecord> GetCertificateById(int64_t id) override;
  Result<std::vector<CertificateRecord>> FindCertificatesBySerial(
      std::string_view serial_hex) override;
  Result<std::vector<CertificateRecord>> ListCertificates(const CertificateFilter& filter) override;
  Result<int64_t> CountCertificates(const CertificateFilter& filter) override;
  Result<std::vector<int64_t>> CountCertificatesInPeriods(
      const CertificateFilter& filter, CertificateTime field,
      const std::vector<UnixSeconds>& bounds) override;
  Result<int64_t> MarkRevoked(int64_t certificate_id, const Revocation& revocation) override;
  Result<std::vector<RevokedEntry>> ListRevoked(int64_t ca_id, int64_t after_seq) override;
  Result<int64_t> MaxRevocationSeq(int64_t ca_id) override;

  Result<CertificateStatusEntry> GetCertificateStatus(int64_t issuer_ca_id,
                                                      std::string_view serial_hex) override;
  Result<std::vector<CertificateStatusEntry>> ListCertificateStatuses(int64_t issuer_ca_id,
                                                                      int64_t after_id,
                                                                      UnixSeconds not_after_from,
                                                                      int64_t limit) override;
  Result<bool> PutOcspResponse(const OcspResponseRecord& response) override;
  Result<std::optional<OcspResponseRecord>> GetOcspResponse(int64_t ca_id,
                                                            std::string_view serial_hex) override;
  Result<std::vector<OcspResponseRecord>> ListOcspResponses(int64_t ca_id,
                                                            int64_t after_certificate_id,
                                                            UnixSeconds next_update_after,
                                                            int64_t limit) override;
  Result<int64_t> DeleteExpiredOcspResponses(UnixSeconds at) override;

  Result<int64_t> NextCrlNumber(int64_t ca_id) override;
  Result<int64_t> InsertCrl(const CrlRecord& crl) override;
  Result<std::optional<CrlRecord>> LatestCrl(int64_t ca_id, bool delta) override;

  Result<std::optional<AuditEntry>> LastAuditEntry() override;
  Status InsertAuditEntry(const AuditEntry& entry) override;
  Result<std::vector<AuditEntry>> ListAuditEntries(int64_t from_seq, int64_t limit) override;
  Result<int64_t> InsertAuditCheckpoint(const AuditCheckpoint& checkpoint) override;
  Result<std::vector<AuditCheckpoint>> ListAuditCheckpoints() override;
  Result<std::optional<AuditCheckpoint>> LastAuditCheckpoint() override;

  Result<int64_t> InsertOrganization(const OrganizationRecord& org) override;
  Result<OrganizationRecord> GetOrganization(int64_t id) override;
  Status UpdateOrganization(const OrganizationRecord& org) override;
  Result<std::vector<OrganizationRecord>> ListOrganizations(
      const OrganizationFilter& filter) override;

  Result<int64_t> InsertPerson(const PersonRecord& person) override;
  Result<PersonRecord> GetPerson(int64_t id) override;
  Status UpdatePerson(const PersonRecord& person) override;
  Result<std::vector<PersonRecord>> ListPeople(const PersonFilter& filter) override;

  Result<int64_t> InsertAccount(const AccountRecord& account) override;
  Result<AccountRecord> GetAccount(int64_t id) override;
  Result<AccountRecord> GetAccountByUsername(std::string_view username) override;
  Result<AccountRecord> GetAccountByCertificate(std::string_view fingerprint) override;
  Status UpdateAccount(const AccountRecord& account) override;
  Result<std::vector<AccountRecord>> ListAccounts(int64_t after_id, int64_t limit) override;

  Status InsertAccessToken(const AccessTokenRecord& token) override;
  Result<AccessTokenRecord> GetAccessToken(std::string_view token_hash) override;
  Result<AccessTokenRecord> GetAccessTokenById(int64_t id) override;
  Result<std::vector<AccessTokenRecord>> ListAccessTokens(int64_t account_id, std::string_view kind,
                                                          int64_t after_id, int64_t limit) override;
  Status RevokeAccessToken(std::string_view token_hash) override;
  Result<int64_t> DeleteExpiredAccessTokens(UnixSeconds at) override;

  Result<int64_t> InsertDelegation(const DelegationRecord& delegation) override;
  Result<DelegationRecord> GetDelegation(int64_t id) override;
  Status WithdrawDelegation(int64_t id, UnixSeconds at, std::string_view by) override;
  Result<std::vector<DelegationRecord>> ListDelegations(const DelegationFilter& filter) override;

  Result<int64_t> InsertRequest(const RequestRecord& request) override;
  Result<RequestRecord> GetRequest(int64_t id) override;
  Status UpdateRequest(const RequestRecord& request) override;
  Result<std::vector<RequestRecord>> ListRequests(const RequestFilter& filter) override;
  Result<int64_t> CountRequests(const RequestFilter& filter) override;
  Result<int64_t> InsertAttachment(const AttachmentRecord& attachment) override;
  Result<AttachmentRecord> GetAttachment(int64_t id) override;
  Result<std::vector<AttachmentRecord>> ListAttachments(int64_t request_id) override;
  Status DeleteAttachment(int64_t id) override;
  Result<int64_t> InsertRequestEvent(const RequestEventRecord& event) override;
  Result<std::vector<RequestEventRecord>> ListRequestEvents(int64_t request_id) override;

  Result<std::optional<IdempotencyRecord>> GetIdempotency(int64_t account_id,
                                                          std::string_view key) override;
  Status InsertIdempotency(const IdempotencyRecord& record) override;

  Result<int64_t> InsertOutboxMessage(const OutboxMessage& message) override;
  Result<std::vector<OutboxMessage>> ListDueOutboxMessages(UnixSeconds at, int64_t limit) override;
  Result<std::vector<ReminderEntry>> ListReminders(const ReminderFilter& filter) override;
  Status MarkOutboxSent(int64_t id, UnixSeconds at) override;
  Status MarkOutboxFailed(int64_t id, std::string_view error, UnixSeconds next_attempt_at) override;

  Result<std::vector<ExpiryCount>> CountExpiringByOrganization(UnixSeconds from,
                                                               UnixSeconds before) override;
  Result<std::vector<ExpiryCounts>> CountExpiringInSubtree(UnixSeconds from,
                                                           const std::vector<UnixSeconds>& before,
                                                           std::string_view path_prefix) override;

  Status InsertSigningKeyAccess(const SigningKeyAccess& access) override;
  Result<std::optional<SigningKeyAccess>> GetSigningKeyAccess(std::string_view key_id) override;
  Result<std::vector<SigningKeyAccess>> ListSigningKeyAccess(
      std::optional<int64_t> account_id) override;

  Result<std::optional<std::string>> GetSetting(std::string_view key) override;
  Status PutSetting(std::string_view key, std::string_view value) override;

 private:
  Status CheckOpen() const {
    if (connection_ == nullptr) {
      return FailedPrecondition("store.closed", "the transaction was already committed");
    }
    return Status::Ok();
  }
  Status CheckWritable() const {
    KYSO_RETURN_IF_ERROR(CheckOpen());
    if (mode_ != TransactionMode::kWrite) {
      return FailedPrecondition("store.read_only", "a write in a read-only transaction");
    }
    return Status::Ok();
  }
  Result<Rows> Exec(const std::string& sql, const Params& params = Params()) {
    return connection_->Exec(sql, params);
  }
  const std::string& name() const { return connection_->name(); }

  // Runs `body` (one call's writes) inside a savepoint and rolls back to it when the body
  // fails: a failed statement aborts a PostgreSQL transaction, but a call that fails with
  // store.duplicate or store.not_found must leave the transaction as it was (store.h).
  template <typename Body>
  auto Atomically(Body&& body) -> decltype(body()) {
    KYSO_RETURN_IF_ERROR(connection_->Command("SAVEPOINT kyso_call").status());
    auto result = body();
    if (result.ok()) {
      KYSO_RETURN_IF_ERROR(connection_->Command("RELEASE SAVEPOINT kyso_call").status());
    } else {
      (void)connection_->Command("ROLLBACK TO SAVEPOINT kyso_call; RELEASE SAVEPOINT kyso_call");
    }
    return result;
  }

  // The id RETURNING gave, or `missing` when the statement wrote nothing.
  static Result<int64_t> ReturnedId(const Rows& rows, Status missing) {
    if (rows.empty()) return missing;
    return rows[0].Int(0);
  }

  Result<std::vector<CertificateRecord>> ReadCertificates(const Rows& rows);
  Result<CertificateRecord> ReadOneCertificate(const Rows& rows, const std::string& what);
  // After an optimistic update changed no row: store.not_found when `table` has no row `id`,
  // store.conflict when it has one with another version.
  Status UpdateMissed(const char* table, const char* what, int64_t id);

  // Returns the connection to the pool and releases the writer slot.
  void Finish();

  PostgresDatabase* database_;
  std::unique_ptr<Connection> connection_;  // null once committed or rolled back
  TransactionMode mode_;
};

class PostgresDatabase final : public Database {
 public:
  PostgresDatabase(std::string conninfo, PostgresOptions options, int schema_version)
      : conninfo_(std::move(conninfo)),
        options_(std::move(options)),
        schema_version_(schema_version),
        max_connections_(options_.max_connections < 1 ? 1 : options_.max_connections) {}

  ~PostgresDatabase() override = default;

  Result<std::unique_ptr<Transaction>> Begin(TransactionMode mode) override {
    const SteadyTime deadline =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.lock_timeout_ms);
    const bool write = mode == TransactionMode::kWrite;
    if (write && !AcquireWriter(deadline)) {
      return Unavailable("store.busy",
                         "another write transaction of this process did not "
                         "finish within " +
                             std::to_string(options_.lock_timeout_ms) + " ms");
    }
    // A pooled connection may have been closed by the server since its last use (restart,
    // idle timeout): such a BEGIN fails on a broken connection, which is dropped and the
    // BEGIN tried once more on a new one.
    Status begun;
    for (int attempt = 0; attempt < 2; ++attempt) {
      auto connection = Acquire(deadline);
      if (!connection.ok()) {
        begun = connection.status();
        break;
      }
      begun = StartTransaction(**connection, write, deadline);
      if (begun.ok()) {
        return std::unique_ptr<Transaction>(
            std::make_unique<PostgresTransaction>(this, std::move(connection).value(), mode));
      }
      const bool broken = (*connection)->Broken();
      Release(std::move(connection).value());
      if (!broken) break;
    }
    if (write) ReleaseWriter();
    return begun;
  }

  int schema_version() const override { return schema_version_; }

  // The writer slot: at most one write transaction of this Database at a time. (A mutex and
  // a condition variable rather than std::timed_mutex, whose timed lock ThreadSanitizer
  // cannot follow.)
  bool AcquireWriter(SteadyTime deadline) {
    std::unique_lock<std::mutex> lock(writer_mutex_);
    if (!writer_cv_.wait_until(lock, deadline, [this] { return !writer_active_; })) return false;
    writer_active_ = true;
    return true;
  }
  void ReleaseWriter() {
    {
      std::lock_guard<std::mutex> lock(writer_mutex_);
      writer_active_ = false;
    }
    writer_cv_.notify_one();
  }

  // Takes an idle connection, opens a new one if the pool is not full, or waits for one.
  Result<std::unique_ptr<Connection>> Acquire(SteadyTime deadline) {
    {
      std::unique_lock<std::mutex> lock(pool_mutex_);
      const bool available = pool_cv_.wait_until(lock, deadline, [this] {
        return !idle_.empty() || open_connections_ < max_connections_;
      });
      if (!available) {
        return Unavailable("store.busy", "no database connection became free within " +
                                             std::to_string(options_.lock_timeout_ms) + " ms");
      }
      if (!idle_.empty()) {
        std::unique_ptr<Connection> connection = std::move(idle_.back());
        idle_.pop_back();
        return connection;
      }
      ++open_connections_;
    }
    auto opened = Connection::Open(conninfo_, options_);
    if (!opened.ok()) {
      std::lock_guard<std::mutex> lock(pool_mutex_);
      --open_connections_;
      pool_cv_.notify_one();
    }
    return opened;
  }

  // Returns a connection to the pool; one left inside a transaction, or broken, is closed.
  void Release(std::unique_ptr<Connection> connection) {
    if (!connection->Broken() && !connection->Idle()) (void)connection->Command("ROLLBACK");
    std::lock_guard<std::mutex> lock(pool_mutex_);
    if (connection->Idle()) {
      idle_.push_back(std::move(connection));
    } else {
      connection.reset();
      --open_connections_;
    }
    pool_cv_.notify_one();
  }

  // Adds the connection that opened and migrated the database to the pool.
  void AdoptFirstConnection(std::unique_ptr<Connection> connection) {
    std::lock_guard<std::mutex> lock(pool_mutex_);
    ++open_connections_;
    idle_.push_back(std::move(connection));
  }

 private:
  // BEGIN, and for a writer the cross-process writer lock, waited for until `deadline`.
  Status StartTransaction(Connection& connection, bool write, SteadyTime deadline) {
    if (!write) {
      // One snapshot for the whole transaction, like a WAL read transaction in SQLite.
      return connection.Command("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY").status();
    }
    // READ COMMITTED: each statement after the lock sees every writer committed before it
    // (see postgres_store.h for why not REPEATABLE READ).
    KYSO_RETURN_IF_ERROR(connection.Command("BEGIN ISOLATION LEVEL READ COMMITTED").status());
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    // lock_timeout 0 would mean "wait forever".
    const int64_t wait_ms = left.count() < 1 ? 1 : left.count();
    // One round trip, three steps in the order their data dependencies force: bound the wait
    // by what is left of the Begin() budget, take the lock, then give the transaction's own
    // statements the full lock_timeout again.
    Status locked =
        connection
            .Exec(
                "WITH timeout AS MATERIALIZED (SELECT set_config('lock_timeout', ?, true)), "
                "locked AS MATERIALIZED (SELECT pg_advisory_xact_lock(?) FROM timeout) "
                "SELECT set_config('lock_timeout', ?, true) FROM locked",
                Params()
                    .Text(std::to_string(wait_ms) + "ms")
                    .Int(kWriterLock)
                    .Text(std::to_string(options_.lock_timeout_ms) + "ms"))
            .status();
    if (locked.id() == "store.busy") {
      locked = Unavailable("store.busy", connection.name() +
                                             ": another node's write transaction did not finish "
                                             "within " +
                                             std::to_string(options_.lock_timeout_ms) + " ms");
    }
    return locked;
  }

  const std::string conninfo_;
  const PostgresOptions options_;
  const int schema_version_;
  const int max_connections_;

  std::mutex writer_mutex_;
  std::condition_variable writer_cv_;
  bool writer_active_ = false;  // guarded by writer_mutex_; set for a write transaction's life

  std::mutex pool_mutex_;
  std::condition_variable pool_cv_;
  std::vector<std::unique_ptr<Connection>> idle_;  // guarded by pool_mutex_
  int open_connections_ = 0;                       // guarded by pool_mutex_
};

PostgresTransaction::~PostgresTransaction() {
  if (connection_ == nullptr) return;
  (void)connection_->Command("ROLLBACK");
  Finish();
}

void PostgresTransaction::Finish() {
  database_->Release(std::move(connection_));
  if (mode_ == TransactionMode::kWrite) database_->ReleaseWriter();
}

Status PostgresTransaction::Commit() {
  KYSO_RETURN_IF_ERROR(CheckOpen());
  Status committed;
  auto rows = connection_->Command("COMMIT");
  if (!rows.ok()) {
    committed = rows.status();
  } else if (rows->command() == "ROLLBACK") {
    // COMMIT of a transaction that an earlier failed statement aborted succeeds as a command
    // but rolls back.
    committed = Unavailable("store.io", name() +
                                            ": the transaction was rolled back because a "
                                            "statement in it failed");
  } else if (!connection_->Idle()) {
    committed = Unavailable("store.io", name() + ": COMMIT left the transaction open");
  }
  Finish();
  return committed;
}

Status PostgresTransaction::UpdateMissed(const char* table, const char* what, int64_t id) {
  KYSO_ASSIGN_OR_RETURN(
      Rows rows,
      Exec(std::string("SELECT version FROM ") + table + " WHERE id = ?", Params().Int(id)));
  if (rows.empty())
    return NotFound("store.not_found",
                    std::string("no ") + what + " with id " + std::to_string(id));
  return FailedPrecondition("store.conflict", std::string(what) + " " + std::to_string(id) +
                                                  " was changed by someone else (now version " +
                                                  std::to_string(rows[0].Int(0)) + ")");
}

// --- CAs ---

Result<int64_t> PostgresTransaction::InsertCa(const CaRecord& ca) {
  KYSO_RETURN_IF_ERROR(CheckWritable());
  return Atomically([&]() -> Result<int64_t> {
    Params params;
    params.Text(ca.name)
        .Text(ca.role)
        .OptionalInt(ca.parent_id)
        .Text(ca.subject)
        .Text(ToUpperAscii(ca.serial_hex))
        .Int(ca.not_before)
        .Int(ca.not_after)
        .Text(ca.key_ref)
        .Text(ca.signature_scheme)
        .Blob(ca.certificate_der)
        .Int(ca.created_at);
    auto inserted = Exec(
        "INSERT INTO cas (name, role, parent_id, subject, serial_hex, not_before, not_after, "
        "key_ref, signature_scheme, certificate_der, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        params);
    if (!inserted.ok()) return inserted.status().WithContext("CA \"" + ca.name + "\"");
    const int64_t id = (*inserted)[0].Int(0);
    KYSO_RETURN_IF_ERROR(
        Exec("INSERT INTO ca_counters (ca_id) VALUES (?)", Params().Int(id)).status());
    return id;
  });
}

Result<CaRecord> PostgresTransaction::GetCa(int64_t id) {
  KYSO_RETURN_IF_ERROR(CheckOpen());
  KYSO_ASSIGN_OR_RETURN(
      Rows rows,
      Exec(std::string("SELECT ") + kCaColumns + " FROM cas WHERE id = ?", Params().Int(id)));
  if (rows.empty()) return NotFound("store.not_found", "no CA with id " + std::to_string(id));
  return ReadCa(rows[0]);
}

Result<CaRecord> PostgresTransaction::GetCaByName(std::string_view ca_name) {
  KYSO_RETURN_IF_ERROR(CheckOpen());
  KYSO_ASSIGN_OR_RETURN(Rows rows,
                        Exec(std::string("SELECT ") + kCaColumns + " FROM cas WHERE name = ?",
                             Params().Text(ca_name)));
  if (rows.empty()) {
    return NotFound("store.not_found", "no CA named \"" + std::string(ca_name) + "\"");
  }
  return ReadCa(rows[0]);
}

Result<std::vector<CaRecord>> PostgresTransaction::ListCas() {
  KYSO_RETURN_IF_ERROR(CheckOpen());
  KYSO_ASSIGN_OR_RETURN(Rows rows,
                        Exec(std::string("SELECT ") + kCaColumns + " FROM cas ORDER BY id"));
  std::vector<CaRecord> cas;
  for (int i = 0; i < rows.size(); ++i) cas.push_back(ReadCa(rows[i]));
  return cas;
}

// --- certificates ---

Result<int64_t> PostgresTransaction::InsertCertificate(const CertificateRecord& cert) {
  KYSO_RETURN_IF_ERROR(CheckWritable());
  if (cert.status == CertificateStatus::kRevoked && !cert.revocation) {
    return InvalidArgument("store.invalid_record",
                           "a revoked certificate record needs its revocation details");
  }
  if (cert.status == CertificateStatus::kRevoked) {  // checked before anything is written
    KYSO_RETURN_IF_ERROR(
        RevocationReasonFromCode(static_cast<int>(cert.revocation->reason)).status());
  }
  const std::string serial_hex = ToUpperAscii(cert.serial_hex);
  return Atomically([&]() -> Result<int64_t> {
    Params params;
    params.Int(cert.issuer_ca_id)
        .Text(serial_hex)
        .Text(cert.issuer)
        .Text(cert.subject)
        .Text(cert.common_name)
        .Text(cert.email)
        .Text(cert.profile)
        .Text(cert.issuance_kind)
        .OptionalInt(cert.replaces_id)
        .OptionalInt(cert.owner_id)
        .OptionalInt(cert.organization_id)
        .Text(cert.key_fingerprint)
        .Int(cert.not_before)
        .Int(cert.not_after)
        .Int(cert.issued_at)
        .Text(kStatusValid)
        .Blob(cert.der);
    auto inserted = Exec(
        "INSERT INTO certificates (issuer_ca_id, serial_hex, issuer, subject, common_name, "
        "email, profile, issuance_kind, replaces_id, owner_id, organization_id, "
        "key_fingerprint, not_before, not_after, issued_at, status, der) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        params);
    if (!inserted.ok()) {
      return inserted.status().WithContext("certificate " + serial_hex + " of CA " +
                                           std::to_string(cert.issuer_ca_id));
    }
    const int64_t id = (*inserted)[0].Int(0);
    if (!cert.uids.empty()) {
      // All uids in one statement; the text only depends on their count.
      std::string sql = "INSERT INTO certificate_uids (cert_id, position, uid) VALUES ";
      Params uids;
      for (size_t i = 0; i < cert.uids.size(); ++i) {
        sql += i == 0 ? "(?, ?, ?)" : ", (?, ?, ?)";
        uids.Int(id).Int(static_cast<int64_t>(i)).Text(cert.uids[i]);
      }
      KYSO_RETURN_IF_ERROR(Exec(sql, uids).status());
    }
    // A record imported as revoked goes through MarkRevoked, so it gets its revocation_seq
    // and appears in the next delta CRL like any other revocation.
    if (cert.status == CertificateStatus::kRevoked) {
      KYSO_RETURN_IF_ERROR(MarkRevoked(id, *cert.revocation).status());
    }
    return id;
  });
}

Result<std::vector<CertificateRecord>> PostgresTransaction::ReadCertificates(const Rows& rows) {
  std::vector<CertificateRecord> certs;
  certs.reserve(static_cast<size_t>(rows.size()));
  for (int i = 0; i < rows.size(); ++i) {
    KYSO_ASSIGN_OR_RETURN(CertificateRecord cert, ReadCertificate(rows[i], name()));
    certs.push_back(std::move(cert));
  }
  return certs;
}

Result<CertificateRecord> PostgresTransaction::ReadOneCertificate(const Rows& rows,
                                                                  const std::string& what) {
  if (rows.empty()) return NotFound("store.not_found", "no certificate " + what);
  return ReadCertificate(rows[0], name());
}

Result<CertificateRecord> PostgresTransaction::GetCertificate(int64_t issuer_ca_id,
                                                              std::string_view serial_hex) {
  KYSO_RETURN_IF_ERROR(CheckOpen());
  const std::string serial = ToUpperAscii(serial_hex);
  KYSO_ASSIGN_OR_RETURN(Rows rows, Exec(std::string("SELECT ") + kCertificateColumns +
                                            " FROM certificates c WHERE c.issuer_ca_id = ? AND "
                                            "c.serial_hex = ?",
                                        Params().Int(issuer_ca_id).Text(serial)));
  return ReadOneCertificate(rows,
                            "with serial " + serial + " from CA " + std::to_string(issuer_ca_id));
}

Result<CertificateRecord> PostgresTransaction::GetCertificateById(int64_t id) {
  KYSO_RETURN_IF_ERROR(CheckOpen());
  KYSO_ASSIGN_OR_RETURN(Rows rows, Exec(std::string("SELECT ") + kCertificateColumns +
                                            " FROM certificates c WHERE c.id = ?",
                                        Params().Int(id)));
  return ReadOneCertificate(rows, "with id " + std::to_string(id));
}

Result<std::vector<CertificateRecord>> PostgresTransaction::FindCertificatesBySerial(
    std::string_view serial_hex) {
  KYSO_RETURN_IF_ERROR(CheckOpen());
  KYSO_ASSIGN_OR_RETURN(Rows rows, Exec(std::string("SELECT ") + kCertificateColumns +
                                            " FROM certificates c WHERE c.serial_hex = ? "
                                            "ORDER BY c.id",
                                        Params().Text(ToUpperAscii(serial_hex))));
  return ReadCertificates(rows);
}

Result<std::vector<CertificateRecord>> PostgresTransaction::ListCertificates(
    const CertificateFilter& filter) {
  KYSO_RETURN_IF_ERROR(CheckOpen());
  Where where = CertificateWhere(filter);
  Limit(where.params, filter.limit).Int(filter.offset < 0 ? 0 : filter.offset);
  KYSO_ASSIGN_OR_RETURN(Rows rows,
                        Exec(std::string("SELECT ") + kCertificateColumns + " FROM certificates c" +
                                 where.sql + " ORDER BY c.id LIMIT ? OFFSET ?",
                             where.params));
  return ReadCertificates(rows);
}

Result<int64_t> PostgresTransaction::CountCertificates(const CertificateFilter& filter) {
  KYSO_RETURN_IF_ERROR(CheckOpen());
  const Where where = CertificateWhere(filter);
  KYSO_ASSIGN_OR_RETURN(Rows rows,
                        Exec("SELECT count(*) FROM certificates c" + where.sql, where.params));
  return rows[0].Int(0);
}

Result<std::vector<int64_t>> PostgresTransaction::CountCertificatesInPeriods(
    const CertificateFilter& filter, CertificateTime field,
    const std::vector<UnixSeconds>& bounds) {
  KYSO_RETURN_IF_ERROR(CheckOpen());
  KYSO_ASSIGN_OR_RETURN(PeriodSql periods, BuildPeriodSql(field, bounds, "::int"));
  Where where = CertificateWhere(filter);
  where.Add(periods.range);
  KYSO_ASSIGN_OR_RETURN(
      Rows rows, Exec("SELECT " + periods.bucket + ", count(*) FROM certificates c" + where.sql +
                          " GROUP BY 1",
                      where.params));
  std::vector<int64_t> counts(bounds.size() - 1, 0);
  for (int i = 0; i < rows.size(); ++i) {
    const int64_t bucket = rows[i].Int(0) - 1;  // a time >= bounds[0] counts 1
    if (bucket >= 0 && bucket < static_cast<int64_t>(counts.size()))
      counts[bucket] = rows[i].Int(1);
  }
  return counts;
}

Result<int64_t> PostgresTransaction::MarkRevoked(int64_t certificate_id,
                                                 const Revocation& revocation) {
  KYSO_RETURN_IF_ERROR(CheckWritable());
  KYSO_RETURN_IF_ERROR(RevocationReasonFromCode(static_cast<int>(revocation.reason)).status());
  // One statement: the certificate row takes the CA's next revocation_seq, the counter row
  // keeps it, and the pre-signed "good" OCSP response goes, all or nothing. The counter is
  // read from the statement's snapshot, which the writer lock makes the latest.
  KYSO_ASSIGN_OR_RETURN(
      Rows revoked,
      Exec("WITH revoked AS ("
           "  UPDATE certificates SET status = 'revoked', revoked_at = ?, revocation_reason = ?, "
           "    invalidity_date = ?, revocation_seq = (SELECT revocation_seq + 1 FROM ca_counters "
           "      WHERE ca_id = certificates.issuer_ca_id) "
           "  WHERE id = ? AND status = 'valid' RETURNING issuer_ca_id, revocation_seq), "
           "counter AS ("
           "  UPDATE ca_counters SET revocation_seq = revoked.revocation_seq FROM revoked "
           "  WHERE ca_counters.ca_id = revoked.issuer_ca_id), "
           "dropped AS ("
           "  DELETE FROM ocsp_responses WHERE certificate_id = ? "
           "  AND EXISTS (SELECT 1 FROM revoked)) "
           "SELECT revocation_seq FROM revoked",
           Params()
               .Int(revocation.revoked_at)
               .Int(static_cast<int64_t>(revocation.reason))
               .OptionalInt(revocation.invalidity_date)
               .Int(certificate_id)
               .Int(certificate_id)));
  if (!revoked.empty()) return revoked[0].Int(0);
  // Nothing changed: say whether the row is missing or already revoked.
  KYSO_ASSIGN_OR_RETURN(Rows rows, Exec("SELECT status FROM certificates WHERE id = ?",
                                        Params().Int(certificate_id)));
  if (rows.empty()) {
    return NotFound("store.not_found", "no certificate with id " + std::to_string(certificate_id));
  }
  return FailedPrecondition(
      "store.already_revoked",
      "certificate " + std::to_string(certificate_id) + " is already revoked");
}

Result<std::vector<RevokedEntry>> PostgresTransaction::ListRevoked(int64_t ca_id,
                                                                   int64_t after_seq) {
  KYSO_RETURN_IF_ERROR(CheckOpen());
  // "revocation_seq > 0" matches the partial index certificates_revocation.
  KYSO_ASSIGN_OR_RETURN(
      Rows rows,
      Exec("SELECT serial_hex, revoked_at, revocation_reason, invalidity_date, revocation_seq "
           "FROM certificates WHERE issuer_ca_id = ? AND revocation_seq > 0 "
           "AND revocation_seq > ? ORDER BY revocation_seq",
           Params().Int(ca_id).Int(after_seq)));
  std::vector<RevokedEntry> entries;
  entries.reserve(static_cast<size_t>(rows.size()));
  for (int i = 0; i < rows.size(); ++i) {
    RevokedEntry entry;
    entry.serial_hex = rows[i].Text(0);
    KYSO_ASSIGN_OR_RETURN(entry.revocation, ReadRevocation(rows[i], 1, name()));
    entry.revocation_seq = rows[i].Int(4);
    entries.push_back(std::move(entry));
  }
  return entries;
}

Result<int64_t> PostgresTransaction::MaxRevocationSeq(int64_t ca_id) {
  KYSO_RETURN_IF_ERROR(CheckOpen());
  KYSO_ASSIGN_OR_RETURN(Rows rows, Exec("SELECT revocation_seq FROM ca_counters WHERE ca_id = ?",
                                        Params().Int(ca_id)));
  if (rows.empty()) return NotFound("store.not_found", "no CA with id " + std::to_string(ca_id));
  return rows[0].Int(0);
}

// --- certificate status and pre-signed OCSP responses ---

Result<CertificateStatusEntry> PostgresTransaction::GetCertificateStatus(
    int64_t issuer_ca_id, std::string_view serial_hex) {
  KYSO_RETURN_IF_ERROR(CheckOpen());
  const std::string serial = ToUpperAscii(serial_hex);
  KYSO_ASSIGN_OR_RETURN(Rows rows,
                        Exec(std::string("SELECT ") + kStatusColumns +
                                 " FROM certificates WHERE issuer_ca_id = ? AND serial_hex = ?",
                             Params().Int(issuer_ca_id).Text(serial)));
  if (rows.empty()) {
    return NotFound("store.not_found", "no certificate with serial " + serial + " from CA " +
                                           std::to_string(issuer_ca_id));
  }
  return ReadStatusEntry(rows[0], name());
}

Result<std::vector<CertificateStatusEntry>> PostgresTransaction::ListCertificateStatuses(
    int64_t issuer_ca_id, int64_t after_id, UnixSeconds not_after_from, int64_t limit) {
  KYSO_RETURN_IF_ERROR(CheckOpen());
  Params params;
  params.Int(issuer_ca_id).Int(after_id).Int(not_after_from);
  Limit(params, limit);
  KYSO_ASSIGN_OR_RETURN(Rows rows,
                        Exec(std::string("SELECT ") + kStatusColumns +
                                 " FROM certificates WHERE issuer_ca_id = ? AND id > ? AND "
                                 "not_after >= ? ORDER BY id LIMIT ?",
                             params));
  std::vector<CertificateStatusEntry> entries;
  entries.reserve(static_cast<size_t>(rows.size()));
  for (int i = 0; i < rows.size(); ++i) {
    KYSO_ASSIGN_OR_RETURN(CertificateStatusEntry entry, ReadStatusEntry(rows[i], name()));
    entries.push_back(std::move(entry));
  }
  return entries;
}

Result<bool> PostgresTransaction::PutOcspResponse(const OcspResponseRecord& response) {
  KYSO_RETURN_IF_ERROR(CheckWritable());
  const std::string serial = ToUpperAscii(response.serial_hex);
  {
    // One statement: the row is written only while the certificate has the stated status, so
    // the check and the write cannot be separated by a revocation.
    KYSO_ASSIGN_OR_RETURN(
        Rows upsert,
        Exec("INSERT INTO ocsp_responses (certificate_id, status, this_update, next_update, der) "
             "SELECT id, ?, ?, ?, ? FROM certificates WHERE issuer_ca_id = ? AND serial_hex = ? "
             "AND status = ? "
             "ON CONFLICT (certificate_id) DO UPDATE SET status = excluded.status, "
             "this_update = excluded.this_update, next_update = excluded.next_update, "
             "der = excluded.der WHERE excluded.this_update >= ocsp_responses.this_update",
             Params()
                 .Text(StatusText(response.status))
                 .Int(response.this_update)
                 .Int(response.next_update)
                 .Blob(response.der)
                 .Int(response.ca_id)
                 .Text(serial)
                 .Text(StatusText(response.status))));
    if (upsert.affected() > 0) return true;
  }
  // Nothing written: say whether the certificate is missing, changed status, or already has
  // a newer response.
  KYSO_ASSIGN_OR_RETURN(Rows rows,
                        Exec("SELECT status FROM certificates WHERE issuer_ca_id = ? AND "
                             "serial_hex = ?",
                             Params().Int(response.ca_id).Text(serial)));
  if (rows.empty()) {
    return NotFound("store.not_found", "no certificate with serial " + serial + " from CA " +
                                           std::to_string(response.ca_id));
  }
  return rows[0].Text(0) == StatusText(response.status);
}

Result<std::optional<OcspResponseRecord>> PostgresTransaction::GetOcspResponse(
    int64_t ca_id, std::string_view serial_hex) {
  KYSO_RETURN_IF_ERROR(CheckOpen());
  KYSO_ASSIGN_OR_RETURN(Rows rows, Exec(std::string("SELECT ") + kOcspColumns +
                                            " FROM certificates c JOIN ocsp_responses r ON "
                                            "r.certificate_id = c.id WHERE c.issuer_ca_id = ? AND "
                                            "c.serial_hex = ?",
                                        Params().Int(ca_id).Text(ToUpperAscii(serial_hex))));
  if (rows.empty()) return std::optional<OcspResponseRecord>();
  KYSO_ASSIGN_OR_RETURN(OcspResponseRecord record, ReadOcspResponse(rows[0], ca_id, name()));
  return std::optional<OcspResponseRecord>(std::move(record));
}

Result<std::vector<OcspResponseRecord>> PostgresTransaction::ListOcspResponses(
    int64_t ca_id, int64_t after_certificate_id, UnixSeconds next_update_after, int64_t limit) {
  KYSO_RETURN_IF_ERROR(CheckOpen());
  Params params;
  params.Int(after_certificate_id).Int(ca_id).Int(next_update_after);
  Limit(params, limit);
  KYSO_ASSIGN_OR_RETURN(Rows rows, Exec(std::string("SELECT ") + kOcspColumns +
                                            " FROM ocsp_responses r JOIN certificates c ON "
                                            "c.id = r.certificate_id WHERE r.certificate_id > ? "
                                            "AND c.issuer_ca_id = ? AND r.next_update > ? "
                                            "ORDER BY r.certificate_id LIMIT ?",
                                        params));
  std::vector<OcspResponseRecord> records;
  records.reserve(static_cast<size_t>(rows.size()));
  for (int i = 0; i < rows.size(); ++i) {
    KYSO_ASSIGN_OR_RETURN(OcspResponseRecord record, ReadOcspResponse(rows[i], ca_id, name()));
    records.push_back(std::move(record));
  }
  return records;
}

Result<int64_t> PostgresTransaction::DeleteExpiredOcspResponses(UnixSeconds at) {
  KYSO_RETURN_IF_ERROR(CheckWritable());
  KYSO_ASSIGN_OR_RETURN(
      Rows deleted, Exec("DELETE FROM ocsp_responses WHERE next_update <= ?", Params().Int(at)));
  return deleted.affected();
}

// --- CRLs ---

Result<int64_t> PostgresTransaction::NextCrlNumber(int64_t ca_id) {
  KYSO_RETURN_IF_ERROR(CheckWritable());
  KYSO_ASSIGN_OR_RETURN(Rows rows, Exec("UPDATE ca_counters SET crl_number = crl_number + 1 "
                                        "WHERE ca_id = ? RETURNING crl_number",
                                        Params().Int(ca_id)));
  if (rows.empty()) return NotFound("store.not_found", "no CA with id " + std::to_string(ca_id));
  return rows[0].Int(0);
}

Result<int64_t> PostgresTransaction::InsertCrl(const CrlRecord& crl) {
  KYSO_RETURN_IF_ERROR(CheckWritable());
  return Atomically([&]() -> Result<int64_t> {
    auto inserted = Exec(
        "INSERT INTO crls (ca_id, number, base_number, is_delta, this_update, next_update, "
        "max_revocation_seq, entry_count, der) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        Params()
            .Int(crl.ca_id)
            .Int(crl.number)
            .OptionalInt(crl.base_number)
            .Bool(crl.base_number.has_value())
            .Int(crl.this_update)
            .Int(crl.next_update)
            .Int(crl.max_revocation_seq)
            .Int(crl.entry_count)
            .Blob(crl.der));
    if (!inserted.ok()) {
      return inserted.status().WithContext("CRL number " + std::to_string(crl.number) + " of CA " +
                                           std::to_string(crl.ca_id));
    }
    return (*inserted)[0].Int(0);
  });
}

Result<std::optional<CrlRecord>> PostgresTransaction::LatestCrl(int64_t ca_id, bool delta) {
  KYSO_RETURN_IF_ERROR(CheckOpen());
  KYSO_ASSIGN_OR_RETURN(Rows rows, Exec(std::string("SELECT ") + kCrlColumns +
                                            " FROM crls WHERE ca_id = ? AND is_delta = ? "
                                            "ORDER BY number DESC LIMIT 1",
                                        Params().Int(ca_id).Bool(delta)));
  if (rows.empty()) return std::optional<CrlRecord>();
  return std::optional<CrlRecord>(ReadCrl(rows[0]));
}

// --- audit log ---

Result<std::optional<AuditEntry>> PostgresTransaction::LastAuditEntry() {
  KYSO_RETURN_IF_ERROR(CheckOpen());
  KYSO_ASSIGN_OR_RETURN(Rows rows, Exec(std::string("SELECT ") + kAuditColumns +
                                        " FROM audit_log ORDER BY seq DESC LIMIT 1"));
  if (rows.empty()) return std::optional<AuditEntry>();
  return std::optional<AuditEntry>(ReadAuditEntry(rows[0]));
}

Status PostgresTransaction::InsertAuditEntry(const AuditEntry& entry) {
  KYSO_RETURN_IF_ERROR(CheckWritable());
  // ON CONFLICT DO NOTHING instead of a savepoint: a taken seq is the only way this insert
  // can fail, and it is reported without aborting the transaction.
  KYSO_ASSIGN_OR_RETURN(Rows inserted,
                        Exec("INSERT INTO audit_log (seq, time, actor, action, object, details, "
                             "prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                             "ON CONFLICT (seq) DO NOTHING",
                             Params()
                                 .Int(entry.seq)
                                 .Int(entry.time)
                                 .Text(entry.actor)
                                 .Text(entry.action)
                                 .Text(entry.object)
                                 .Text(entry.details)
                                 .Blob(entry.prev_hash)
                                 .Blob(entry.hash)));
  if (inserted.affected() == 0) {
    return AlreadyExists("store.duplicate",
                         "audit entry " + std::to_string(entry.seq) + " already exists");
  }
  return Status::Ok();
}

Result<std::vector<AuditEntry>> PostgresTransaction::ListAuditEntries(int64_t from_seq,
                                                                      int64_t limit) {
  KYSO_RETURN_IF_ERROR(CheckOpen());
  Params params;
  params.Int(from_seq);
  Limit(params, limit);
  KYSO_ASSIGN_OR_RETURN(Rows rows, Exec(std::string("SELECT ") + kAuditColumns +
                                            " FROM audit_log WHERE seq >= ? ORDER BY seq LIMIT ?",
                                        params));
  std::vector<AuditEntry> entries;
  entries.reserve(static_cast<size_t>(rows.size()));
  for (int i = 0; i < rows.size(); ++i) entries.push_back(ReadAuditEntry(rows[i]));
  return entries;
}

Result<int64_t> PostgresTransaction::InsertAuditCheckpoint(const AuditCheckpoint& checkpoint) {
  KYSO_RETURN_IF_ERROR(CheckWritable());
  KYSO_ASSIGN_OR_RETURN(Rows rows, Exec("INSERT INTO audit_checkpoints (seq, head_hash, time, "
                                        "signer_fingerprint, scheme, signature) "
                                        "VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                                        Params()
                                            .Int(checkpoint.seq)
                                            .Blob(checkpoint.head_hash)
                                            .Int(checkpoint.time)
                                            .Text(checkpoint.signer_fingerprint)
                                            .Text(checkpoint.scheme)
                                            .Blob(checkpoint.signature)));
  return rows[0].Int(0);
}

Result<std::vector<AuditCheckpoint>> PostgresTransaction::ListAuditCheckpoints() {
  KYSO_RETURN_IF_ERROR(CheckOpen());
  KYSO_ASSIGN_OR_RETURN(Rows rows, Exec(std::string("SELECT ") + kCheckpointColumns +
                                        " FROM audit_checkpoints ORDER BY seq, id"));
  std::vector<AuditCheckpoint> checkpoints;
  for (int i = 0; i < rows.size(); ++i) checkpoints.push_back(ReadCheckpoint(rows[i]));
  return checkpoints;
}

Result<std::optional<AuditCheckpoint>> PostgresTransaction::LastAuditCheckpoint() {
  KYSO_RETURN_IF_ERROR(CheckOpen());
  KYSO_ASSIGN_OR_RETURN(Rows rows,
                        Exec(std::string("SELECT ") + kCheckpointColumns +
                             " FROM audit_checkpoints ORDER BY seq DESC, id DESC LIMIT 1"));
  if (rows.empty()) return std::optional<AuditCheckpoint>();
  return std::optional<AuditCheckpoint>(ReadCheckpoint(rows[0]));
}

// --- organizations ---

Result<int64_t> PostgresTransaction::InsertOrganization(const OrganizationRecord& org) {
  KYSO_RETURN_IF_ERROR(CheckWritable());
  return Atomically([&]() -> Result<int64_t> {
    std::string parent_path = "/";
    if (org.parent_id) {
      KYSO_ASSIGN_OR_RETURN(Rows parent, Exec("SELECT path FROM organizations WHERE id = ?",
                                              Params().Int(*org.parent_id)));
      if (parent.empty()) {
        return NotFound("store.not_found",
                        "no parent organization with id " + std::to_string(*org.parent_id));
      }
      parent_path = parent[0].Text(0);
    }
    // The id is drawn first so that the path, which ends in it, is written with the row.
    KYSO_ASSIGN_OR_RETURN(
        Rows rows,
        Exec("WITH next AS (SELECT nextval(pg_get_serial_sequence('organizations', 'id')) AS id) "
             "INSERT INTO organizations (id, parent_id, path, name, tax_code, budget_code, "
             "address, email, province, managing_agency, created_at, updated_at, version) "
             "SELECT next.id, ?, ? || next.id::text || '/', ?, ?, ?, ?, ?, ?, ?, ?, ?, 1 FROM next "
             "RETURNING id",
             Params()
                 .OptionalInt(org.parent_id)
                 .Text(parent_path)
                 .Text(org.name)
                 .Text(org.tax_code)
                 .Text(org.budget_code)
                 .Text(org.address)
                 .Text(org.email)
                 .Text(org.province)
                 .Bool(org.managing_agency)
                 .Int(org.created_at)
                 .Int(org.updated_at)));
    return rows[0].Int(0);
  });
}

Result<OrganizationRecord> PostgresTransaction::GetOrganization(int64_t id) {
  KYSO_RETURN_IF_ERROR(CheckOpen());
  KYSO_ASSIGN_OR_RETURN(Rows rows, Exec(std::string("SELECT ") + kOrganizationColumns +
                                            " FROM organizations WHERE id = ?",
                                        Params().Int(id)));
  if (rows.empty()) {
    return NotFound("store.not_found", "no organization with id " + std::to_string(id));
  }
  return ReadOrganization(rows[0]);
}

Status PostgresTransaction::UpdateOrganization(const OrganizationRecord& org) {
  KYSO_RETURN_IF_ERROR(CheckWritable());
  KYSO_ASSIGN_OR_RETURN(Rows updated,
                        Exec("UPDATE organizations SET name = ?, tax_code = ?, budget_code = ?, "
                             "address = ?, email = ?, province = ?, managing_agency = ?, "
                             "updated_at = ?, version = version + 1 WHERE id = ? AND version = ?",
                             Params()
                                 .Text(org.name)
                                 .Text(org.tax_code)
                                 .Text(org.budget_code)
                                 .Text(org.address)
                                 .Text(org.email)
                                 .Text(org.province)
                                 .Bool(org.managing_agency)
                                 .Int(org.updated_at)
                                 .Int(org.id)
                                 .Int(org.version)));
  if (updated.affected() == 0) return UpdateMissed("organizations", "organization", org.id);
  return Status::Ok();
}

Result<std::vector<OrganizationRecord>> PostgresTransaction::ListOrganizations(
    const OrganizationFilter& filter) {
  KYSO_RETURN_IF_ERROR(CheckOpen());
  Where where;
  where.Add("id > ?").Int(filter.after_id);
  if (filter.path_prefix) where.Add("path LIKE ?").Text(PrefixPattern(*filter.path_prefix));
  if (filter.parent_id) where.Add("parent_id = ?").Int(*filter.parent_id);
  if (filter.name_contains) where.Add("strpos(name, ?) > 0").Text(*filter.name_contains);
  if (filter.tax_code) where.Add("tax_code = ?").Text(*filter.tax_code);
  Limit(where.params, filter.limit);
  KYSO_ASSIGN_OR_RETURN(Rows rows,
                        Exec(std::string("SELECT ") + kOrganizationColumns + " FROM organizations" +
                                 where.sql + " ORDER BY id LIMIT ?",
                             where.params));
  std::vector<OrganizationRecord> orgs;
  orgs.reserve(static_cast<size_t>(rows.size()));
  for (int i = 0; i < rows.size(); ++i) orgs.push_back(ReadOrganization(rows[i]));
  return orgs;
}

// --- people ---

Result<int64_t> PostgresTransaction::InsertPerson(const PersonRecord& person) {
  KYSO_RETURN_IF_ERROR(CheckWritable());
  return Atomically([&]() -> Result<int64_t> {
    KYSO_ASSIGN_OR_RETURN(Rows rows,
                          Exec("INSERT INTO people (organization_id, full_name, personal_id, "
                               "position, email, mobile, status, created_at, updated_at, "
                               "version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1) RETURNING id",
                               Params()
                                   .Int(person.organization_id)
                                   .Text(person.full_name)
                                   .Text(person.personal_id)
                                   .Text(person.position)
                                   .Text(person.email)
                                   .Text(person.mobile)
                                   .Text(person.status)
                                   .Int(person.created_at)
                                   .Int(person.updated_at)));
    return rows[0].Int(0);
  });
}

Result<PersonRecord> PostgresTransaction::GetPerson(int64_t id) {
  KYSO_RETURN_IF_ERROR(CheckOpen());
  KYSO_ASSIGN_OR_RETURN(Rows rows, Exec(std::string("SELECT ") + kPersonColumns +
                                            " FROM people p JOIN organizations o ON "
                                            "o.id = p.organization_id WHERE p.id = ?",
                                        Params().Int(id)));
  if (rows.empty()) return NotFound("store.not_found", "no person with id " + std::to_string(id));
  return ReadPerson(rows[0]);
}

Status PostgresTransaction::UpdatePerson(const PersonRecord& person) {
  KYSO_RETURN_IF_ERROR(CheckWritable());
  return Atomically([&]() -> Status {
    KYSO_ASSIGN_OR_RETURN(
        Rows updated, Exec("UPDATE people SET organization_id = ?, full_name = ?, personal_id = ?, "
                           "position = ?, email = ?, mobile = ?, status = ?, updated_at = ?, "
                           "version = version + 1 WHERE id = ? AND version = ?",
                           Params()
                               .Int(person.organization_id)
                               .Text(person.full_name)
                               .Text(person.personal_id)
                               .Text(person.position)
                               .Text(person.email)
                               .Text(person.mobile)
                               .Text(person.status)
                               .Int(person.updated_at)
                               .Int(person.id)
                               .Int(person.version)));
    if (updated.affected() == 0) return UpdateMissed("people", "person", person.id);
    return Status::Ok();
  });
}

Result<std::vector<PersonRecord>> PostgresTransaction::ListPeople(const PersonFilter& filter) {
  KYSO_RETURN_IF_ERROR(CheckOpen());
  Where where;
  where.Add("p.id > ?").Int(filter.after_id);
  if (filter.path_prefix) where.Add("o.path LIKE ?").Text(PrefixPattern(*filter.path_prefix));
  if (filter.organization_id) where.Add("p.organization_id = ?").Int(*filter.organization_id);
  if (filter.personal_id) where.Add("p.personal_id = ?").Text(*filter.personal_id);
  if (filter.name_contains) where.Add("strpos(p.full_name, ?) > 0").Text(*filter.name_contains);
  if (filter.status) where.Add("p.status = ?").Text(*filter.status);
  Limit(where.params, filter.limit);
  KYSO_ASSIGN_OR_RETURN(Rows rows, Exec(std::string("SELECT ") + kPersonColumns +
                                            " FROM people p JOIN organizations o ON "
                                            "o.id = p.organization_id" +
                                            where.sql + " ORDER BY p.id LIMIT ?",
                                        where.params));
  std::vector<PersonRecord> people;
  people.reserve(static_cast<size_t>(rows.size()));
  for (int i = 0; i < rows.size(); ++i) people.push_back(ReadPerson(rows[i]));
  return people;
}

// --- accounts and access tokens ---

Result<int64_t> PostgresTransaction::InsertAccount(const AccountRecord& account) {
  KYSO_RETURN_IF_ERROR(CheckWritable());
  return Atomically([&]() -> Result<int64_t> {
    KYSO_ASSIGN_OR_RETURN(
        Rows rows,
        Exec("INSERT INTO accounts (username, display_name, role, organization_id, person_id, "
             "password_hash, certificate_fingerprint, disabled, created_at, version) "
             "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1) RETURNING id",
             Params()
                 .Text(account.username)
                 .Text(account.display_name)
                 .Text(account.role)
                 .OptionalInt(account.organization_id)
                 .OptionalInt(account.person_id)
                 .Text(account.password_hash)
                 .Text(account.certificate_fingerprint)
                 .Bool(account.disabled)
                 .Int(account.created_at)));
    return rows[0].Int(0);
  });
}

Result<AccountRecord> PostgresTransaction::GetAccount(int64_t id) {
  KYSO_RETURN_IF_ERROR(CheckOpen());
  KYSO_ASSIGN_OR_RETURN(
      Rows rows, Exec(std::string("SELECT ") + kAccountColumns + " FROM accounts WHERE id = ?",
                      Params().Int(id)));
  if (rows.empty()) return NotFound("store.not_found", "no account with id " + std::to_string(id));
  return ReadAccount(rows[0]);
}

Result<AccountRecord> PostgresTransaction::GetAccountByUsername(std::string_view username) {
  KYSO_RETURN_IF_ERROR(CheckOpen());
  KYSO_ASSIGN_OR_RETURN(Rows rows, Exec(std::string("SELECT ") + kAccountColumns +
                                            " FROM accounts WHERE username = ?",
                                        Params().Text(username)));
  if (rows.empty()) {
    return NotFound("store.not_found", "no account named \"" + std::string(username) + "\"");
  }
  return ReadAccount(rows[0]);
}

Result<AccountRecord> PostgresTransaction::GetAccountByCertificate(std::string_view fingerprint) {
  KYSO_RETURN_IF_ERROR(CheckOpen());
  // '' is "no certificate", never a match.
  KYSO_ASSIGN_OR_RETURN(Rows rows, Exec(std::string("SELECT ") + kAccountColumns +
                                            " FROM accounts WHERE certificate_fingerprint = ? "
                                            "AND certificate_fingerprint <> ''",
                                        Params().Text(fingerprint)));
  if (rows.empty()) {
    return NotFound("store.not_found", "no account with certificate " + std::string(fingerprint));
  }
  return ReadAccount(rows[0]);
}

Status PostgresTransaction::UpdateAccount(const AccountRecord& account) {
  KYSO_RETURN_IF_ERROR(CheckWritable());
  return Atomically([&]() -> Status {
    KYSO_ASSIGN_OR_RETURN(
        Rows updated,
        Exec("UPDATE accounts SET username = ?, display_name = ?, role = ?, organization_id = ?, "
             "person_id = ?, password_hash = ?, certificate_fingerprint = ?, disabled = ?, "
             "version = version + 1 WHERE id = ? AND version = ?",
             Params()
                 .Text(account.username)
                 .Text(account.display_name)
                 .Text(account.role)
                 .OptionalInt(account.organization_id)
                 .OptionalInt(account.person_id)
                 .Text(account.password_hash)
                 .Text(account.certificate_fingerprint)
                 .Bool(account.disabled)
                 .Int(account.id)
                 .Int(account.version)));
    if (updated.affected() == 0) return UpdateMissed("accounts", "account", account.id);
    return Status::Ok();
  });
}

Result<std::vector<AccountRecord>> PostgresTransaction::ListAccounts(int64_t after_id,
                                                                     int64_t limit) {
  KYSO_RETURN_IF_ERROR(CheckOpen());
  Params params;
  params.Int(after_id);
  Limit(params, limit);
  KYSO_ASSIGN_OR_RETURN(Rows rows, Exec(std::string("SELECT ") + kAccountColumns +
                                            " FROM accounts WHERE id > ? ORDER BY id LIMIT ?",
                                        params));
  std::vector<AccountRecord> accounts;
  accounts.reserve(static_cast<size_t>(rows.size()));
  for (int i = 0; i < rows.size(); ++i) accounts.push_back(ReadAccount(rows[i]));
  return accounts;
}

Status PostgresTransaction::InsertAccessToken(const AccessTokenRecord& token) {
  KYSO_RETURN_IF_ERROR(CheckWritable());
  return Atomically([&]() -> Status {
    return Exec(
               "INSERT INTO access_tokens (token_hash, account_id, kind, name, csrf_hash, "
               "created_at, expires_at, revoked) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
               Params()
                   .Text(token.token_hash)
                   .Int(token.account_id)
                   .Text(token.kind)
                   .Text(token.name)
                   .Text(token.csrf_hash)
                   .Int(token.created_at)
                   .Int(token.expires_at)
                   .Bool(token.revoked))
        .status();
  });
}

Result<AccessTokenRecord> PostgresTransaction::GetAccessToken(std::string_view token_hash) {
  KYSO_RETURN_IF_ERROR(CheckOpen());
  KYSO_ASSIGN_OR_RETURN(Rows rows, Exec(std::string("SELECT ") + kAccessTokenColumns +
                                            " FROM access_tokens WHERE token_hash = ?",
                                        Params().Text(token_hash)));
  if (rows.empty()) return NotFound("store.not_found", "no such access token");
  return ReadAccessToken(rows[0]);
}

Result<AccessTokenRecord> PostgresTransaction::GetAccessTokenById(int64_t id) {
  KYSO_RETURN_IF_ERROR(CheckOpen());
  KYSO_ASSIGN_OR_RETURN(Rows rows, Exec(std::string("SELECT ") + kAccessTokenColumns +
                                            " FROM access_tokens WHERE id = ?",
                                        Params().Int(id)));
  if (rows.empty()) {
    return NotFound("store.not_found", "no access token with id " + std::to_string(id));
  }
  return ReadAccessToken(rows[0]);
}

Result<std::vector<AccessTokenRecord>> PostgresTransaction::ListAccessTokens(int64_t account_id,
                                                                             std::string_view kind,
                                                                             int64_t after_id,
                                                                             int64_t limit) {
  KYSO_RETURN_IF_ERROR(CheckOpen());
  Params params;
  params.Int(account_id).Text(kind).Int(after_id);
  Limit(params, limit);
  KYSO_ASSIGN_OR_RETURN(Rows rows, Exec(std::string("SELECT ") + kAccessTokenColumns +
                                            " FROM access_tokens WHERE account_id = ? AND "
                                            "kind = ? AND id > ? ORDER BY id LIMIT ?",
                                        params));
  std::vector<AccessTokenRecord> tokens;
  tokens.reserve(static_cast<size_t>(rows.size()));
  for (int i = 0; i < rows.size(); ++i) tokens.push_back(ReadAccessToken(rows[i]));
  return tokens;
}

Status PostgresTransaction::RevokeAccessToken(std::string_view token_hash) {
  KYSO_RETURN_IF_ERROR(CheckWritable());
  KYSO_ASSIGN_OR_RETURN(Rows updated,
                        Exec("UPDATE access_tokens SET revoked = true WHERE token_hash = ?",
                             Params().Text(token_hash)));
  if (updated.affected() == 0) return NotFound("store.not_found", "no such access token");
  return Status::Ok();
}

Result<int64_t> PostgresTransaction::DeleteExpiredAccessTokens(UnixSeconds at) {
  KYSO_RETURN_IF_ERROR(CheckWritable());
  KYSO_ASSIGN_OR_RETURN(Rows deleted,
                        Exec("DELETE FROM access_tokens WHERE expires_at <= ?", Params().Int(at)));
  return deleted.affected();
}

// --- delegations ---

Result<int64_t> PostgresTransaction::InsertDelegation(const DelegationRecord& delegation) {
  KYSO_RETURN_IF_ERROR(CheckWritable());
  return Atomically([&]() -> Result<int64_t> {
    KYSO_ASSIGN_OR_RETURN(
        Rows rows,
        Exec("INSERT INTO delegations (delegate_organization_id, scope_organization_id, kinds, "
             "created_by, created_at, withdrawn_at, withdrawn_by) "
             "VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
             Params()
                 .Int(delegation.delegate_organization_id)
                 .Int(delegation.scope_organization_id)
                 .TextArray(delegation.kinds)
                 .Text(delegation.created_by)
                 .Int(delegation.created_at)
                 .OptionalInt(delegation.withdrawn_at)
                 .Text(delegation.withdrawn_by)));
    return rows[0].Int(0);
  });
}

Result<DelegationRecord> PostgresTransaction::GetDelegation(int64_t id) {
  KYSO_RETURN_IF_ERROR(CheckOpen());
  KYSO_ASSIGN_OR_RETURN(Rows rows, Exec(std::string("SELECT ") + kDelegationColumns +
                                            " FROM delegations d JOIN organizations o ON "
                                            "o.id = d.scope_organization_id WHERE d.id = ?",
                                        Params().Int(id)));
  if (rows.empty()) {
    return NotFound("store.not_found", "no delegation with id " + std::to_string(id));
  }
  return ReadDelegation(rows[0]);
}

Status PostgresTransaction::WithdrawDelegation(int64_t id, UnixSeconds at, std::string_view by) {
  KYSO_RETURN_IF_ERROR(CheckWritable());
  KYSO_ASSIGN_OR_RETURN(Rows updated,
                        Exec("UPDATE delegations SET withdrawn_at = ?, withdrawn_by = ? "
                             "WHERE id = ? AND withdrawn_at IS NULL",
                             Params().Int(at).Text(by).Int(id)));
  if (updated.affected() > 0) return Status::Ok();
  KYSO_ASSIGN_OR_RETURN(
      Rows rows, Exec("SELECT withdrawn_at FROM delegations WHERE id = ?", Params().Int(id)));
  if (rows.empty()) {
    return NotFound("store.not_found", "no delegation with id " + std::to_string(id));
  }
  return FailedPrecondition("store.conflict",
                            "delegation " + std::to_string(id) + " was already withdrawn");
}

Result<std::vector<DelegationRecord>> PostgresTransaction::ListDelegations(
    const DelegationFilter& filter) {
  KYSO_RETURN_IF_ERROR(CheckOpen());
  Where where;
  if (filter.active_only) where.Add("d.withdrawn_at IS NULL");
  if (filter.delegate_organization_id) {
    where.Add("d.delegate_organization_id = ?").Int(*filter.delegate_organization_id);
  }
  Limit(where.params, filter.limit);
  KYSO_ASSIGN_OR_RETURN(Rows rows, Exec(std::string("SELECT ") + kDelegationColumns +
                                            " FROM delegations d JOIN organizations o ON "
                                            "o.id = d.scope_organization_id" +
                                            where.sql + " ORDER BY d.id LIMIT ?",
                                        where.params));
  std::vector<DelegationRecord> delegations;
  delegations.reserve(static_cast<size_t>(rows.size()));
  for (int i = 0; i < rows.size(); ++i) delegations.push_back(ReadDelegation(rows[i]));
  return delegations;
}

// --- requests ---

Result<int64_t> PostgresTransaction::InsertRequest(const RequestRecord& request) {
  KYSO_RETURN_IF_ERROR(CheckWritable());
  return Atomically([&]() -> Result<int64_t> {
    // organization_path is copied from the organization in the same statement; no row means
    // no such organization.
    KYSO_ASSIGN_OR_RETURN(
        Rows rows,
        Exec("INSERT INTO requests (kind, state, organization_id, organization_path, person_id, "
             "certificate_id, assignee, delegation_id, signer, submitted_at, due_at, "
             "result_certificate_id, result_note, created_by, idempotency_key, created_at, "
             "updated_at, version, form_json, signed_document, signature) "
             "SELECT ?, ?, o.id, o.path, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ? "
             "FROM organizations o WHERE o.id = ? RETURNING id",
             Params()
                 .Text(request.kind)
                 .Text(request.state)
                 .OptionalInt(request.person_id)
                 .OptionalInt(request.certificate_id)
                 .Text(request.assignee)
                 .OptionalInt(request.delegation_id)
                 .Text(request.signer)
                 .OptionalInt(request.submitted_at)
                 .OptionalInt(request.due_at)
                 .OptionalInt(request.result_certificate_id)
                 .Text(request.result_note)
                 .Int(request.created_by)
                 .Text(request.idempotency_key)
                 .Int(request.created_at)
                 .Int(request.updated_at)
                 .Text(request.form_json)
                 .Blob(request.signed_document)
                 .Blob(request.signature)
                 .Int(request.organization_id)));
    return ReturnedId(
        rows, NotFound("store.not_found",
                       "no organization with id " + std::to_string(request.organization_id)));
  });
}

Result<RequestRecord> PostgresTransaction::GetRequest(int64_t id) {
  KYSO_RETURN_IF_ERROR(CheckOpen());
  KYSO_ASSIGN_OR_RETURN(
      Rows rows, Exec(std::string("SELECT ") + kRequestColumns + " FROM requests WHERE id = ?",
                      Params().Int(id)));
  if (rows.empty()) return NotFound("store.not_found", "no request with id " + std::to_string(id));
  return ReadRequest(rows[0]);
}

Status PostgresTransaction::UpdateRequest(const RequestRecord& request) {
  KYSO_RETURN_IF_ERROR(CheckWritable());
  return Atomically([&]() -> Status {
    KYSO_ASSIGN_OR_RETURN(
        Rows updated,
        Exec("UPDATE requests SET state = ?, assignee = ?, delegation_id = ?, form_json = ?, "
             "signed_document = ?, signature = ?, signer = ?, submitted_at = ?, due_at = ?, "
             "result_certificate_id = ?, result_note = ?, updated_at = ?, version = version + 1 "
             "WHERE id = ? AND version = ?",
             Params()
                 .Text(request.state)
                 .Text(request.assignee)
                 .OptionalInt(request.delegation_id)
                 .Text(request.form_json)
                 .Blob(request.signed_document)
                 .Blob(request.signature)
                 .Text(request.signer)
                 .OptionalInt(request.submitted_at)
                 .OptionalInt(request.due_at)
                 .OptionalInt(request.result_certificate_id)
                 .Text(request.result_note)
                 .Int(request.updated_at)
                 .Int(request.id)
                 .Int(request.version)));
    if (updated.affected() == 0) return UpdateMissed("requests", "request", request.id);
    return Status::Ok();
  });
}

Result<std::vector<RequestRecord>> PostgresTransaction::ListRequests(const RequestFilter& filter) {
  KYSO_RETURN_IF_ERROR(CheckOpen());
  Where where = RequestWhere(filter);
  if (filter.after_id > 0) where.Add("id > ?").Int(filter.after_id);
  if (filter.newest_first && filter.before_id > 0) where.Add("id < ?").Int(filter.before_id);
  Limit(where.params, filter.limit);
  KYSO_ASSIGN_OR_RETURN(
      Rows rows, Exec(std::string("SELECT ") + kRequestColumns + " FROM requests" + where.sql +
                          (filter.newest_first ? " ORDER BY id DESC" : " ORDER BY id") + " LIMIT ?",
                      where.params));
  std::vector<RequestRecord> requests;
  requests.reserve(static_cast<size_t>(rows.size()));
  for (int i = 0; i < rows.size(); ++i) requests.push_back(ReadRequest(rows[i]));
  return requests;
}

Result<int64_t> PostgresTransaction::CountRequests(const RequestFilter& filter) {
  KYSO_RETURN_IF_ERROR(CheckOpen());
  const Where where = RequestWhere(filter);
  KYSO_ASSIGN_OR_RETURN(Rows rows, Exec("SELECT count(*) FROM requests" + where.sql, where.params));
  return rows[0].Int(0);
}

Result<int64_t> PostgresTransaction::InsertRequestEvent(const RequestEventRecord& event) {
  KYSO_RETURN_IF_ERROR(CheckWritable());
  return Atomically([&]() -> Result<int64_t> {
    KYSO_ASSIGN_OR_RETURN(Rows rows,
                          Exec("INSERT INTO request_events (request_id, from_state, to_state, "
                               "actor, time, reason) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                               Params()
                                   .Int(event.request_id)
                                   .Text(event.from_state)
                                   .Text(event.to_state)
                                   .Text(event.actor)
                                   .Int(event.time)
                                   .Text(event.reason)));
    return rows[0].Int(0);
  });
}

Result<std::vector<RequestEventRecord>> PostgresTransaction::ListRequestEvents(int64_t request_id) {
  KYSO_RETURN_IF_ERROR(CheckOpen());
  KYSO_ASSIGN_OR_RETURN(Rows rows, Exec(std::string("SELECT ") + kRequestEventColumns +
                                            " FROM request_events WHERE request_id = ? "
                                            "ORDER BY id",
                                        Params().Int(request_id)));
  std::vector<RequestEventRecord> events;
  events.reserve(static_cast<size_t>(rows.size()));
  for (int i = 0; i < rows.size(); ++i) events.push_back(ReadRequestEvent(rows[i]));
  return events;
}

// --- idempotency keys ---

Result<std::optional<IdempotencyRecord>> PostgresTransaction::GetIdempotency(int64_t account_id,
                                                                             std::string_view key) {
  KYSO_RETURN_IF_ERROR(CheckOpen());
  KYSO_ASSIGN_OR_RETURN(Rows rows,
                        Exec("SELECT account_id, key, fingerprint, status, response, created_at "
                             "FROM idempotency_keys WHERE account_id = ? AND key = ?",
                             Params().Int(account_id).Text(key)));
  if (rows.empty()) return std::optional<IdempotencyRecord>();
  IdempotencyRecord record;
  record.account_id = rows[0].Int(0);
  record.key = rows[0].Text(1);
  record.fingerprint = rows[0].Text(2);
  record.status = static_cast<int>(rows[0].Int(3));
  record.response = rows[0].Text(4);
  record.created_at = rows[0].Int(5);
  return std::optional<IdempotencyRecord>(std::move(record));
}

Status PostgresTransaction::InsertIdempotency(const IdempotencyRecord& record) {
  KYSO_RETURN_IF_ERROR(CheckWritable());
  // The primary key is the only constraint that can fail: no savepoint needed.
  KYSO_ASSIGN_OR_RETURN(Rows inserted,
                        Exec("INSERT INTO idempotency_keys (account_id, key, fingerprint, status, "
                             "response, created_at) VALUES (?, ?, ?, ?, ?, ?) "
                             "ON CONFLICT (account_id, key) DO NOTHING",
                             Params()
                                 .Int(record.account_id)
                                 .Text(record.key)
                                 .Text(record.fingerprint)
                                 .Int(record.status)
                                 .Text(record.response)
                                 .Int(record.created_at)));
  if (inserted.affected() == 0) {
    return AlreadyExists("store.duplicate", "idempotency key \"" + record.key + "\" of account " +
                                                std::to_string(record.account_id) +
                                                " already exists");
  }
  return Status::Ok();
}

// --- outbox ---

Result<int64_t> PostgresTransaction::InsertOutboxMessage(const OutboxMessage& message) {
  KYSO_RETURN_IF_ERROR(CheckWritable());
  // A duplicate dedupe_key inserts nothing; an unknown certificate_id fails the statement, so
  // it runs under a savepoint.
  return Atomically([&]() -> Result<int64_t> {
    KYSO_ASSIGN_OR_RETURN(Rows rows,
                          Exec("INSERT INTO outbox (dedupe_key, channel, recipient, subject, body, "
                               "created_at, next_attempt_at, sent_at, attempts, last_error, "
                               "certificate_id, reminder_days) "
                               "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                               "ON CONFLICT (dedupe_key) DO NOTHING RETURNING id",
                               Params()
                                   .Text(message.dedupe_key)
                                   .Text(message.channel)
                                   .Text(message.recipient)
                                   .Text(message.subject)
                                   .Text(message.body)
                                   .Int(message.created_at)
                                   .Int(message.next_attempt_at)
                                   .OptionalInt(message.sent_at)
                                   .Int(message.attempts)
                                   .Text(message.last_error)
                                   .OptionalInt(message.certificate_id)
                                   .OptionalInt(message.reminder_days)));
    return ReturnedId(
        rows, AlreadyExists("store.duplicate",
                            "outbox message \"" + message.dedupe_key + "\" already exists"));
  });
}

Result<std::vector<ReminderEntry>> PostgresTransaction::ListReminders(
    const ReminderFilter& filter) {
  KYSO_RETURN_IF_ERROR(CheckOpen());
  Where where;
  where.Add("m.certificate_id IS NOT NULL");
  if (filter.path_prefix) where.Add("o.path LIKE ?").Text(PrefixPattern(*filter.path_prefix));
  if (filter.owner_id) where.Add("c.owner_id = ?").Int(*filter.owner_id);
  if (!filter.certificate_ids.empty()) {
    std::string in = "m.certificate_id IN (";
    for (size_t i = 0; i < filter.certificate_ids.size(); ++i) in += i == 0 ? "?" : ", ?";
    Params& params = where.Add(in + ")");
    for (int64_t id : filter.certificate_ids) params.Int(id);
  }
  if (filter.reminder_days) where.Add("m.reminder_days = ?").Int(*filter.reminder_days);
  if (filter.state) {
    KYSO_ASSIGN_OR_RETURN(std::string condition, ReminderStateCondition(*filter.state));
    where.Add(condition);
  }
  if (filter.sent_from) where.Add("m.sent_at >= ?").Int(*filter.sent_from);
  if (filter.sent_before) where.Add("m.sent_at < ?").Int(*filter.sent_before);
  where.Add("m.id > ?").Int(filter.after_id);
  Limit(where.params, filter.limit);
  KYSO_ASSIGN_OR_RETURN(Rows rows, Exec(std::string("SELECT ") + kReminderColumns +
                                            kReminderTables + where.sql + " ORDER BY m.id LIMIT ?",
                                        where.params));
  std::vector<ReminderEntry> reminders;
  reminders.reserve(static_cast<size_t>(rows.size()));
  for (int i = 0; i < rows.size(); ++i) reminders.push_back(ReadReminder(rows[i]));
  return reminders;
}

Result<std::vector<OutboxMessage>> PostgresTransaction::ListDueOutboxMessages(UnixSeconds at,
                                                                              int64_t limit) {
  KYSO_RETURN_IF_ERROR(CheckOpen());
  Params params;
  params.Int(at);
  Limit(params, limit);
  KYSO_ASSIGN_OR_RETURN(Rows rows, Exec(std::string("SELECT ") + kOutboxColumns +
                                            " FROM outbox WHERE sent_at IS NULL AND "
                                            "next_attempt_at <= ? ORDER BY id LIMIT ?",
                                        params));
  std::vector<OutboxMessage> messages;
  messages.reserve(static_cast<size_t>(rows.size()));
  for (int i = 0; i < rows.size(); ++i) messages.push_back(ReadOutboxMessage(rows[i]));
  return messages;
}

// --- request attachments ---

AttachmentRecord ReadAttachment(const Row& row) {
  AttachmentRecord a;
  a.id = row.Int(0);
  a.request_id = row.Int(1);
  a.filename = row.Text(2);
  a.content_type = row.Text(3);
  a.size = row.Int(4);
  a.sha256 = row.Text(5);
  a.created_by = row.Text(6);
  a.created_at = row.Int(7);
  return a;
}

Result<int64_t> PostgresTransaction::InsertAttachment(const AttachmentRecord& attachment) {
  KYSO_RETURN_IF_ERROR(CheckWritable());
  return Atomically([&]() -> Result<int64_t> {
    KYSO_ASSIGN_OR_RETURN(
        Rows rows, Exec("INSERT INTO request_attachments (request_id, filename, content_type, "
                        "size, sha256, created_by, created_at, data) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                        Params()
                            .Int(attachment.request_id)
                            .Text(attachment.filename)
                            .Text(attachment.content_type)
                            .Int(attachment.size)
                            .Text(attachment.sha256)
                            .Text(attachment.created_by)
                            .Int(attachment.created_at)
                            .Blob(attachment.data)));
    return ReturnedId(rows, Internal("store.io", "INSERT returned no id"));
  });
}

Result<AttachmentRecord> PostgresTransaction::GetAttachment(int64_t id) {
  KYSO_RETURN_IF_ERROR(CheckOpen());
  KYSO_ASSIGN_OR_RETURN(Rows rows, Exec(std::string("SELECT ") + kAttachmentColumns +
                                            ", data FROM request_attachments WHERE id = ?",
                                        Params().Int(id)));
  if (rows.empty()) {
    return NotFound("store.not_found", "no attachment with id " + std::to_string(id));
  }
  AttachmentRecord a = ReadAttachment(rows[0]);
  a.data = rows[0].Blob(kAttachmentDataColumn);
  return a;
}

Result<std::vector<AttachmentRecord>> PostgresTransaction::ListAttachments(int64_t request_id) {
  KYSO_RETURN_IF_ERROR(CheckOpen());
  KYSO_ASSIGN_OR_RETURN(Rows rows, Exec(std::string("SELECT ") + kAttachmentColumns +
                                            " FROM request_attachments WHERE request_id = ? "
                                            "ORDER BY id",
                                        Params().Int(request_id)));
  std::vector<AttachmentRecord> out;
  out.reserve(static_cast<size_t>(rows.size()));
  for (int i = 0; i < rows.size(); ++i) out.push_back(ReadAttachment(rows[i]));
  return out;
}

Status PostgresTransaction::DeleteAttachment(int64_t id) {
  KYSO_RETURN_IF_ERROR(CheckWritable());
  KYSO_ASSIGN_OR_RETURN(Rows deleted,
                        Exec("DELETE FROM request_attachments WHERE id = ?", Params().Int(id)));
  if (deleted.affected() == 0) {
    return NotFound("store.not_found", "no attachment with id " + std::to_string(id));
  }
  return Status::Ok();
}

Status PostgresTransaction::MarkOutboxSent(int64_t id, UnixSeconds at) {
  KYSO_RETURN_IF_ERROR(CheckWritable());
  KYSO_ASSIGN_OR_RETURN(
      Rows updated, Exec("UPDATE outbox SET sent_at = ? WHERE id = ?", Params().Int(at).Int(id)));
  if (updated.affected() == 0) {
    return NotFound("store.not_found", "no outbox message with id " + std::to_string(id));
  }
  return Status::Ok();
}

Status PostgresTransaction::MarkOutboxFailed(int64_t id, std::string_view error,
                                             UnixSeconds next_attempt_at) {
  KYSO_RETURN_IF_ERROR(CheckWritable());
  KYSO_ASSIGN_OR_RETURN(Rows updated,
                        Exec("UPDATE outbox SET attempts = attempts + 1, last_error = ?, "
                             "next_attempt_at = ? WHERE id = ?",
                             Params().Text(error).Int(next_attempt_at).Int(id)));
  if (updated.affected() == 0) {
    return NotFound("store.not_found", "no outbox message with id " + std::to_string(id));
  }
  return Status::Ok();
}

Result<std::vector<ExpiryCount>> PostgresTransaction::CountExpiringByOrganization(
    UnixSeconds from, UnixSeconds before) {
  KYSO_RETURN_IF_ERROR(CheckOpen());
  // The conditions repeat certificates_expiring's predicate, so the index answers it.
  KYSO_ASSIGN_OR_RETURN(Rows rows, Exec("SELECT organization_id, count(*) FROM certificates "
                                        "WHERE status = 'valid' AND organization_id IS NOT NULL "
                                        "AND not_after >= ? AND not_after < ? "
                                        "GROUP BY organization_id ORDER BY organization_id",
                                        Params().Int(from).Int(before)));
  std::vector<ExpiryCount> counts;
  counts.reserve(static_cast<size_t>(rows.size()));
  for (int i = 0; i < rows.size(); ++i) counts.push_back({rows[i].Int(0), rows[i].Int(1)});
  return counts;
}

Result<std::vector<ExpiryCounts>> PostgresTransaction::CountExpiringInSubtree(
    UnixSeconds from, const std::vector<UnixSeconds>& before, std::string_view path_prefix) {
  KYSO_RETURN_IF_ERROR(CheckOpen());
  if (before.empty() || !std::is_sorted(before.begin(), before.end())) {
    return InvalidArgument("store.invalid_record", "expiry windows must be ascending");
  }
  // One scan of certificates_expiring over the widest window; each window is a FILTERed count
  // (SQL:2003 aggregate filter), joined to the subtree's bodies for their names.
  Params params;
  std::string sql = "SELECT c.organization_id, o.name";
  for (UnixSeconds end : before) {
    sql += ", count(*) FILTER (WHERE c.not_after < ?)";
    params.Int(end);
  }
  sql +=
      " FROM certificates c JOIN organizations o ON o.id = c.organization_id "
      "WHERE c.status = 'valid' AND c.organization_id IS NOT NULL AND c.not_after >= ? "
      "AND c.not_after < ?";
  params.Int(from).Int(before.back());
  if (!path_prefix.empty()) {
    sql += " AND o.path LIKE ?";
    params.Text(PrefixPattern(path_prefix));
  }
  sql += " GROUP BY c.organization_id, o.name ORDER BY c.organization_id";
  KYSO_ASSIGN_OR_RETURN(Rows rows, Exec(sql, std::move(params)));
  std::vector<ExpiryCounts> out;
  out.reserve(static_cast<size_t>(rows.size()));
  for (int i = 0; i < rows.size(); ++i) {
    ExpiryCounts counts;
    counts.organization_id = rows[i].Int(0);
    counts.organization_name = rows[i].Text(1);
    for (size_t k = 0; k < before.size(); ++k)
      counts.counts.push_back(rows[i].Int(static_cast<int>(k) + 2));
    out.push_back(std::move(counts));
  }
  return out;
}

// --- settings ---

// --- signing keys ---

Status PostgresTransaction::InsertSigningKeyAccess(const SigningKeyAccess& access) {
  KYSO_RETURN_IF_ERROR(CheckWritable());
  std::vector<int64_t> accounts = access.account_ids;
  std::sort(accounts.begin(), accounts.end());
  accounts.erase(std::unique(accounts.begin(), accounts.end()), accounts.end());
  return Atomically([&]() -> Status {
    KYSO_RETURN_IF_ERROR(GetOrganization(access.organization_id).status());
    for (int64_t id : accounts) KYSO_RETURN_IF_ERROR(GetAccount(id).status());
    KYSO_RETURN_IF_ERROR(Exec("INSERT INTO signing_keys (id, organization_id, created_by, "
                              "created_at) VALUES (?, ?, ?, ?)",
                              Params()
                                  .Text(access.key_id)
                                  .Int(access.organization_id)
                                  .Text(access.created_by)
                                  .Int(access.created_at))
                             .status()
                             .WithContext("signing key " + access.key_id));
    for (int64_t id : accounts) {
      KYSO_RETURN_IF_ERROR(
          Exec("INSERT INTO signing_key_accounts (key_id, account_id) VALUES (?, ?)",
               Params().Text(access.key_id).Int(id))
              .status());
    }
    return Status::Ok();
  });
}

namespace {
constexpr const char* kPgSigningKeySelect =
    "SELECT k.id, k.organization_id, o.path, k.created_by, k.created_at FROM signing_keys k "
    "JOIN organizations o ON o.id = k.organization_id";

SigningKeyAccess ReadSigningKeyRow(const Row& row) {
  SigningKeyAccess access;
  access.key_id = row.Text(0);
  access.organization_id = row.Int(1);
  access.organization_path = row.Text(2);
  access.created_by = row.Text(3);
  access.created_at = row.Int(4);
  return access;
}
}  // namespace

Result<std::optional<SigningKeyAccess>> PostgresTransaction::GetSigningKeyAccess(
    std::string_view key_id) {
  KYSO_RETURN_IF_ERROR(CheckOpen());
  KYSO_ASSIGN_OR_RETURN(
      Rows rows, Exec(std::string(kPgSigningKeySelect) + " WHERE k.id = ?", Params().Text(key_id)));
  if (rows.empty()) return std::optional<SigningKeyAccess>();
  SigningKeyAccess access = ReadSigningKeyRow(rows[0]);
  KYSO_ASSIGN_OR_RETURN(Rows grants, Exec("SELECT account_id FROM signing_key_accounts WHERE "
                                          "key_id = ? ORDER BY account_id",
                                          Params().Text(key_id)));
  for (int i = 0; i < grants.size(); ++i) access.account_ids.push_back(grants[i].Int(0));
  return std::optional<SigningKeyAccess>(std::move(access));
}

Result<std::vector<SigningKeyAccess>> PostgresTransaction::ListSigningKeyAccess(
    std::optional<int64_t> account_id) {
  KYSO_RETURN_IF_ERROR(CheckOpen());
  Params params;
  if (account_id) params.Int(*account_id);
  KYSO_ASSIGN_OR_RETURN(
      Rows rows, Exec(std::string(kPgSigningKeySelect) +
                          (account_id ? " WHERE k.id IN (SELECT key_id FROM signing_key_accounts "
                                        "WHERE account_id = ?)"
                                      : "") +
                          " ORDER BY k.id",
                      params));
  std::vector<SigningKeyAccess> keys;
  for (int i = 0; i < rows.size(); ++i) {
    SigningKeyAccess access = ReadSigningKeyRow(rows[i]);
    KYSO_ASSIGN_OR_RETURN(Rows grants, Exec("SELECT account_id FROM signing_key_accounts WHERE "
                                            "key_id = ? ORDER BY account_id",
                                            Params().Text(access.key_id)));
    for (int g = 0; g < grants.size(); ++g) access.account_ids.push_back(grants[g].Int(0));
    keys.push_back(std::move(access));
  }
  return keys;
}

Result<std::optional<std::string>> PostgresTransaction::GetSetting(std::string_view key) {
  KYSO_RETURN_IF_ERROR(CheckOpen());
  KYSO_ASSIGN_OR_RETURN(Rows rows,
                        Exec("SELECT value FROM settings WHERE key = ?", Params().Text(key)));
  if (rows.empty()) return std::optional<std::string>();
  return std::optional<std::string>(rows[0].Text(0));
}

Status PostgresTransaction::PutSetting(std::string_view key, std::string_view value) {
  KYSO_RETURN_IF_ERROR(CheckWritable());
  return Exec(
             "INSERT INTO settings (key, value) VALUES (?, ?) "
             "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
             Params().Text(key).Text(value))
      .status();
}

}  // namespace

int PostgresSchemaVersion() {
  return kLatestSchemaVersion;
}

Result<std::unique_ptr<Database>> OpenPostgresDatabase(const std::string& conninfo,
                                                       const PostgresOptions& options) {
  KYSO_ASSIGN_OR_RETURN(std::unique_ptr<Connection> connection,
                        Connection::Open(conninfo, options));
  KYSO_ASSIGN_OR_RETURN(int version, Migrate(*connection));
  auto database = std::make_unique<PostgresDatabase>(conninfo, options, version);
  database->AdoptFirstConnection(std::move(connection));
  return std::unique_ptr<Database>(std::move(database));
}

}  // namespace kyso::store
