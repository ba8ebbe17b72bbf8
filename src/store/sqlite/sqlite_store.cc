#include "store/sqlite/sqlite_store.h"

#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include "store/registry_sql.h"
#include "store/revocation_reason.h"
#include "store/signing_keys_schema.h"

namespace kyso::store {
namespace {

using SteadyTime = std::chrono::steady_clock::time_point;

// PRAGMA application_id of every kyso database: "KYSO" in ASCII. It tells a kyso file from
// another application's SQLite file.
constexpr int32_t kApplicationId = 0x4B59534F;

// Connections per file database: enough for concurrent readers (WAL) beside the one writer.
constexpr int kMaxFileConnections = 8;

// Files up to this many pages (4 MiB with the default 4 KiB page) get a full PRAGMA
// quick_check at open; bigger ones only the header and schema read, so open stays O(1).
constexpr int64_t kQuickCheckMaxPages = 1024;

constexpr const char* kStatusValid = "valid";
constexpr const char* kStatusRevoked = "revoked";

// ---------------------------------------------------------------------------------------------
// Schema migrations. Step N upgrades a file at user_version N-1 to N. Steps are only ever
// appended: a released step is never edited, so every file at version N has the same schema.

struct Migration {
  int version;
  const char* description;
  const char* sql;
};

constexpr Migration kMigrations[] = {
    {1, "initial schema", R"sql(
CREATE TABLE schema_migrations (
  version     INTEGER PRIMARY KEY,
  description TEXT NOT NULL,
  applied_at  INTEGER NOT NULL
);

CREATE TABLE cas (
  id               INTEGER PRIMARY KEY,
  name             TEXT NOT NULL UNIQUE,
  role             TEXT NOT NULL,
  parent_id        INTEGER REFERENCES cas(id),
  subject          TEXT NOT NULL,
  serial_hex       TEXT NOT NULL,
  not_before       INTEGER NOT NULL,
  not_after        INTEGER NOT NULL,
  key_ref          TEXT NOT NULL,
  signature_scheme TEXT NOT NULL,
  certificate_der  BLOB NOT NULL,
  created_at       INTEGER NOT NULL
);

-- Per-CA sequences: cRLNumber (shared by full and delta CRLs) and the revocation order.
CREATE TABLE ca_counters (
  ca_id          INTEGER PRIMARY KEY REFERENCES cas(id),
  crl_number     INTEGER NOT NULL DEFAULT 0,
  revocation_seq INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE certificates (
  id                INTEGER PRIMARY KEY,
  issuer_ca_id      INTEGER NOT NULL REFERENCES cas(id),
  serial_hex        TEXT NOT NULL,
  issuer            TEXT NOT NULL,
  subject           TEXT NOT NULL,
  common_name       TEXT NOT NULL,
  email             TEXT NOT NULL COLLATE NOCASE,
  profile           TEXT NOT NULL,
  issuance_kind     TEXT NOT NULL,
  replaces_id       INTEGER REFERENCES certificates(id),
  owner_id          INTEGER,
  organization_id   INTEGER,
  key_fingerprint   TEXT NOT NULL,
  not_before        INTEGER NOT NULL,
  not_after         INTEGER NOT NULL,
  issued_at         INTEGER NOT NULL,
  status            TEXT NOT NULL CHECK (status IN ('valid', 'revoked')),
  revoked_at        INTEGER,
  revocation_reason INTEGER,
  invalidity_date   INTEGER,
  revocation_seq    INTEGER NOT NULL DEFAULT 0,
  der               BLOB NOT NULL,
  UNIQUE (issuer_ca_id, serial_hex)
);
CREATE INDEX certificates_serial ON certificates(serial_hex);
CREATE INDEX certificates_not_after ON certificates(not_after);
CREATE INDEX certificates_email ON certificates(email);
CREATE INDEX certificates_profile ON certificates(profile);
CREATE INDEX certificates_owner ON certificates(owner_id) WHERE owner_id IS NOT NULL;
CREATE INDEX certificates_organization ON certificates(organization_id)
  WHERE organization_id IS NOT NULL;
CREATE INDEX certificates_replaces ON certificates(replaces_id) WHERE replaces_id IS NOT NULL;
-- ListRevoked / delta CRLs; unique: each revocation of a CA has its own seq.
CREATE UNIQUE INDEX certificates_revocation ON certificates(issuer_ca_id, revocation_seq)
  WHERE revocation_seq > 0;

CREATE TABLE certificate_uids (
  cert_id  INTEGER NOT NULL REFERENCES certificates(id),
  position INTEGER NOT NULL,
  uid      TEXT NOT NULL,
  PRIMARY KEY (cert_id, position)
) WITHOUT ROWID;
CREATE INDEX certificate_uids_uid ON certificate_uids(uid);

CREATE TABLE crls (
  id                 INTEGER PRIMARY KEY,
  ca_id              INTEGER NOT NULL REFERENCES cas(id),
  number             INTEGER NOT NULL,
  base_number        INTEGER,
  is_delta           INTEGER NOT NULL,
  this_update        INTEGER NOT NULL,
  next_update        INTEGER NOT NULL,
  max_revocation_seq INTEGER NOT NULL,
  entry_count        INTEGER NOT NULL,
  der                BLOB NOT NULL,
  UNIQUE (ca_id, number)
);
CREATE INDEX crls_latest ON crls(ca_id, is_delta, number);

CREATE TABLE audit_log (
  seq       INTEGER PRIMARY KEY,
  time      INTEGER NOT NULL,
  actor     TEXT NOT NULL,
  action    TEXT NOT NULL,
  object    TEXT NOT NULL,
  details   TEXT NOT NULL,
  prev_hash BLOB NOT NULL,
  hash      BLOB NOT NULL
);
-- Append only. The hash chain (src/audit) is what detects tampering; these triggers only stop
-- kyso itself from changing history by mistake.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;

CREATE TABLE audit_checkpoints (
  id                 INTEGER PRIMARY KEY,
  seq                INTEGER NOT NULL,
  head_hash          BLOB NOT NULL,
  time               INTEGER NOT NULL,
  signer_fingerprint TEXT NOT NULL,
  scheme             TEXT NOT NULL,
  signature          BLOB NOT NULL
);
CREATE INDEX audit_checkpoints_seq ON audit_checkpoints(seq);
CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
  BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END;
CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
  BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END;

CREATE TABLE settings (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;
)sql"},
    // CRL generation reads every revoked entry of a CA: a covering index answers it without
    // touching the certificate rows (whose DER makes them large), 74 -> 26 ms for 60,000.
    {2, "covering index for CRL generation", R"sql(
CREATE INDEX certificates_revocation_crl ON certificates(issuer_ca_id, revocation_seq,
  serial_hex, revoked_at, revocation_reason, invalidity_date) WHERE revocation_seq > 0;
)sql"},
    // Pre-signed OCSP responses (src/ocsp), at most one per certificate, keyed by the
    // certificate's row id. MarkRevoked deletes a certificate's row in the revoking transaction,
    // and PutOcspResponse writes only while the certificate still has the status the response
    // states, so no reader ever finds a "good" response for a revoked certificate.
    {3, "pre-signed OCSP responses", R"sql(
CREATE TABLE ocsp_responses (
  certificate_id INTEGER PRIMARY KEY REFERENCES certificates(id),
  status         TEXT NOT NULL CHECK (status IN ('valid', 'revoked')),
  this_update    INTEGER NOT NULL,
  next_update    INTEGER NOT NULL,
  der            BLOB NOT NULL
);
CREATE INDEX ocsp_responses_next_update ON ocsp_responses(next_update);
)sql"},
    // The registration workflow (issue 6): state bodies and their people, accounts and their
    // tokens, delegations, requests with their history, idempotency keys and the notification
    // outbox. Every list query pages by id, so each index a list uses ends in id: the rows of
    // one key come out in id order and a page is read without sorting.
    {4, "registration workflow", R"sql(
-- The tree of state bodies. `path` is the materialized path of ids from the root ("/1/5/9/"),
-- written once on insert (bodies are not re-parented): a subtree is the range of paths that
-- start with its root's path, one index range scan.
CREATE TABLE organizations (
  id              INTEGER PRIMARY KEY,
  parent_id       INTEGER REFERENCES organizations(id),
  path            TEXT NOT NULL,
  name            TEXT NOT NULL,
  tax_code        TEXT NOT NULL,
  budget_code     TEXT NOT NULL,
  address         TEXT NOT NULL,
  email           TEXT NOT NULL,
  province        TEXT NOT NULL,
  managing_agency INTEGER NOT NULL,
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL,
  version         INTEGER NOT NULL
);
CREATE UNIQUE INDEX organizations_path ON organizations(path);
CREATE INDEX organizations_parent ON organizations(parent_id, id);
CREATE INDEX organizations_tax_code ON organizations(tax_code) WHERE tax_code <> '';

CREATE TABLE people (
  id              INTEGER PRIMARY KEY,
  organization_id INTEGER NOT NULL REFERENCES organizations(id),
  full_name       TEXT NOT NULL,
  personal_id     TEXT NOT NULL UNIQUE,
  position        TEXT NOT NULL,
  email           TEXT NOT NULL,
  mobile          TEXT NOT NULL,
  status          TEXT NOT NULL,
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL,
  version         INTEGER NOT NULL
);
CREATE INDEX people_organization ON people(organization_id, id);

CREATE TABLE accounts (
  id                      INTEGER PRIMARY KEY,
  username                TEXT NOT NULL UNIQUE,
  display_name            TEXT NOT NULL,
  role                    TEXT NOT NULL,
  organization_id         INTEGER REFERENCES organizations(id),
  person_id               INTEGER REFERENCES people(id),
  password_hash           TEXT NOT NULL,
  certificate_fingerprint TEXT NOT NULL,
  disabled                INTEGER NOT NULL,
  created_at              INTEGER NOT NULL,
  version                 INTEGER NOT NULL
);
-- '' means "no client certificate" and may repeat; a real fingerprint logs in one account.
CREATE UNIQUE INDEX accounts_certificate ON accounts(certificate_fingerprint)
  WHERE certificate_fingerprint <> '';

CREATE TABLE access_tokens (
  token_hash TEXT PRIMARY KEY,
  account_id INTEGER NOT NULL REFERENCES accounts(id),
  kind       TEXT NOT NULL,
  name       TEXT NOT NULL,
  csrf_hash  TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  revoked    INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX access_tokens_expires ON access_tokens(expires_at);
CREATE INDEX access_tokens_account ON access_tokens(account_id);

-- kinds: a JSON array of strings, '["renewal","change_information"]'.
CREATE TABLE delegations (
  id                       INTEGER PRIMARY KEY,
  delegate_organization_id INTEGER NOT NULL REFERENCES organizations(id),
  scope_organization_id    INTEGER NOT NULL REFERENCES organizations(id),
  kinds                    TEXT NOT NULL,
  created_by               TEXT NOT NULL,
  created_at               INTEGER NOT NULL,
  withdrawn_at             INTEGER,
  withdrawn_by             TEXT NOT NULL
);
CREATE INDEX delegations_delegate ON delegations(delegate_organization_id, id);

-- organization_path is the organization's path, copied on insert: organization_id never
-- changes and bodies are not re-parented, so the copy stays right, and the subtree lists
-- filter on the request row itself.
--
-- The form and the signed document with its CMS signature (several KiB together) live in
-- request_documents, one row per request: a request row stays a couple of hundred bytes, so
-- that a list whose filter no index covers (or a count) scans megabytes rather than a page
-- per request, and the list reads the documents of the rows of its page only.
CREATE TABLE requests (
  id                    INTEGER PRIMARY KEY,
  kind                  TEXT NOT NULL,
  state                 TEXT NOT NULL,
  organization_id       INTEGER NOT NULL REFERENCES organizations(id),
  organization_path     TEXT NOT NULL,
  person_id             INTEGER REFERENCES people(id),
  certificate_id        INTEGER REFERENCES certificates(id),
  assignee              TEXT NOT NULL,
  delegation_id         INTEGER REFERENCES delegations(id),
  signer                TEXT NOT NULL,
  submitted_at          INTEGER,
  due_at                INTEGER,
  result_certificate_id INTEGER REFERENCES certificates(id),
  result_note           TEXT NOT NULL,
  created_by            INTEGER NOT NULL,
  idempotency_key       TEXT NOT NULL,
  created_at            INTEGER NOT NULL,
  updated_at            INTEGER NOT NULL,
  version               INTEGER NOT NULL
);
CREATE TABLE request_documents (
  request_id      INTEGER PRIMARY KEY REFERENCES requests(id),
  form_json       TEXT NOT NULL,
  signed_document BLOB NOT NULL,
  signature       BLOB NOT NULL
);
CREATE INDEX requests_path ON requests(organization_path, id);
CREATE INDEX requests_state_path ON requests(state, organization_path, id);
CREATE INDEX requests_state_due ON requests(state, due_at) WHERE due_at IS NOT NULL;
CREATE INDEX requests_assignee ON requests(assignee, state, id);
CREATE INDEX requests_person ON requests(person_id, id) WHERE person_id IS NOT NULL;
CREATE INDEX requests_creator ON requests(created_by, id);
-- A retried create with the same Idempotency-Key finds the first one; '' is "no key".
CREATE UNIQUE INDEX requests_idempotency ON requests(created_by, idempotency_key)
  WHERE idempotency_key <> '';

CREATE TABLE request_events (
  id         INTEGER PRIMARY KEY,
  request_id INTEGER NOT NULL REFERENCES requests(id),
  from_state TEXT NOT NULL,
  to_state   TEXT NOT NULL,
  actor      TEXT NOT NULL,
  time       INTEGER NOT NULL,
  reason     TEXT NOT NULL
);
CREATE INDEX request_events_request ON request_events(request_id, id);

CREATE TABLE idempotency_keys (
  account_id  INTEGER NOT NULL,
  key         TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  status      INTEGER NOT NULL,
  response    TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  PRIMARY KEY (account_id, key)
) WITHOUT ROWID;
CREATE INDEX idempotency_keys_created ON idempotency_keys(created_at);

CREATE TABLE outbox (
  id              INTEGER PRIMARY KEY,
  dedupe_key      TEXT NOT NULL UNIQUE,
  channel         TEXT NOT NULL,
  recipient       TEXT NOT NULL,
  subject         TEXT NOT NULL,
  body            TEXT NOT NULL,
  created_at      INTEGER NOT NULL,
  next_attempt_at INTEGER NOT NULL,
  sent_at         INTEGER,
  attempts        INTEGER NOT NULL,
  last_error      TEXT NOT NULL
);
CREATE INDEX outbox_due ON outbox(next_attempt_at) WHERE sent_at IS NULL;

-- CountExpiringByOrganization: a window of not_after over the valid certificates of managing
-- bodies, answered from the index alone (no certificate row, whose DER makes it large, is
-- read), at a cost that grows with the window, not with all certificates. status leads rather
-- than being the partial index's condition so that SQLite sees the index as covering.
CREATE INDEX certificates_expiring ON certificates(status, not_after, organization_id)
  WHERE organization_id IS NOT NULL;
)sql"},
    // Server-held signing keys: their owner body and the accounts it authorized; the same text
    // as PostgreSQL's migration 3 (store/signing_keys_schema.h).
    {5, "server-held signing keys: owner body and authorized accounts", kSigningKeysSchema},
    // Issue 12, the portal's account and expiry views. Tokens get a row id, so that a token is
    // listed and revoked by a number that says nothing of its secret (the hash is a credential's
    // fingerprint and stays out of URLs and pages); SQLite cannot add a key column to a table,
    // so the table is rebuilt (nothing references it). Expiry reminders name their certificate
    // and window in columns, filled in for those queued before from their dedupe keys
    // ("expiry:<certificate id>:<days>"), so the officer's view is one indexed join.
    {6, "token ids; expiry reminders name their certificate; request attachments", R"sql(
CREATE TABLE access_tokens_v6 (
  id         INTEGER PRIMARY KEY,
  token_hash TEXT NOT NULL UNIQUE,
  account_id INTEGER NOT NULL REFERENCES accounts(id),
  kind       TEXT NOT NULL,
  name       TEXT NOT NULL,
  csrf_hash  TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  revoked    INTEGER NOT NULL
);
INSERT INTO access_tokens_v6 (token_hash, account_id, kind, name, csrf_hash, created_at,
                              expires_at, revoked)
  SELECT token_hash, account_id, kind, name, csrf_hash, created_at, expires_at, revoked
  FROM access_tokens ORDER BY created_at, token_hash;
DROP TABLE access_tokens;
ALTER TABLE access_tokens_v6 RENAME TO access_tokens;
CREATE INDEX access_tokens_expires ON access_tokens(expires_at);
CREATE INDEX access_tokens_account ON access_tokens(account_id, kind, id);

ALTER TABLE outbox ADD COLUMN certificate_id INTEGER REFERENCES certificates(id);
ALTER TABLE outbox ADD COLUMN reminder_days INTEGER;
UPDATE outbox SET
  certificate_id = CAST(substr(dedupe_key, 8, instr(substr(dedupe_key, 8), ':') - 1) AS INTEGER),
  reminder_days = CAST(substr(dedupe_key, 8 + instr(substr(dedupe_key, 8), ':')) AS INTEGER)
  WHERE dedupe_key GLOB 'expiry:[0-9]*:[0-9]*'
    AND substr(dedupe_key, 8, instr(substr(dedupe_key, 8), ':') - 1) NOT GLOB '*[^0-9]*'
    AND substr(dedupe_key, 8 + instr(substr(dedupe_key, 8), ':')) NOT GLOB '*[^0-9]*'
    AND CAST(substr(dedupe_key, 8, instr(substr(dedupe_key, 8), ':') - 1) AS INTEGER)
        IN (SELECT id FROM certificates);
CREATE INDEX outbox_certificate ON outbox(certificate_id, id) WHERE certificate_id IS NOT NULL;

-- Documents attached to requests (a few MiB each, a few per request): their own table, so that
-- request rows and lists never carry them.
CREATE TABLE request_attachments (
  id           INTEGER PRIMARY KEY,
  request_id   INTEGER NOT NULL REFERENCES requests(id),
  filename     TEXT NOT NULL,
  content_type TEXT NOT NULL,
  size         INTEGER NOT NULL,
  sha256       TEXT NOT NULL,
  data         BLOB NOT NULL,
  created_by   TEXT NOT NULL,
  created_at   INTEGER NOT NULL
);
CREATE INDEX request_attachments_request ON request_attachments(request_id, id);
)sql"},
    {7, "indexes for counts by status, issue and revocation time", kCertificateCountIndexes},
};

constexpr int kLatestSchemaVersion =
    kMigrations[sizeof(kMigrations) / sizeof(kMigrations[0]) - 1].version;

// ---------------------------------------------------------------------------------------------
// Error mapping (ids from store.h).

Status MapSqliteError(int rc, const std::string& path, std::string_view detail) {
  const std::string message(detail);
  switch (rc & 0xff) {
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
      return DataLoss("store.corrupt",
                      path + " is not a kyso database or is damaged (" + message + ")");
    case SQLITE_CONSTRAINT:
      if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
        return AlreadyExists("store.duplicate", "already exists: " + message);
      }
      if (rc == SQLITE_CONSTRAINT_FOREIGNKEY) {
        return NotFound("store.not_found", "a referenced row does not exist: " + message);
      }
      return Unavailable("store.io", path + ": " + message);
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Unavailable("store.busy",
                         path + " is locked by another transaction (" + message + ")");
    default:
      return Unavailable("store.io", path + ": " + message);
  }
}

std::string ToUpperAscii(std::string_view text) {
  std::string upper(text);
  for (char& c : upper) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return upper;
}

bool IsInMemory(const std::string& path) {
  return path.empty() || path == ":memory:";
}

// ---------------------------------------------------------------------------------------------
// Connection: one sqlite3 handle and its prepared statements. Used by one thread at a time
// (the pool hands it to one Transaction).

class Connection {
 public:
  static Result<std::unique_ptr<Connection>> Open(const std::string& path,
                                                  const SqliteOptions& options, bool create) {
    sqlite3* db = nullptr;
    const int flags =
        SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
    const int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
    if (rc != SQLITE_OK) {
      std::string detail = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
      sqlite3_close_v2(db);
      if ((rc & 0xff) == SQLITE_CANTOPEN) {
        return Unavailable("store.io", "cannot open database " + path + ": " + detail);
      }
      return MapSqliteError(rc, path, detail);
    }
    auto connection = std::unique_ptr<Connection>(new Connection(db, path));
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, options.busy_timeout_ms);
    KYSO_RETURN_IF_ERROR(connection->Execute("PRAGMA foreign_keys = ON"));
    KYSO_RETURN_IF_ERROR(connection->Execute(options.durable ? "PRAGMA synchronous = FULL"
                                                             : "PRAGMA synchronous = NORMAL"));
    return connection;
  }

  ~Connection() {
    for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
    sqlite3_close_v2(db_);
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  sqlite3* db() const { return db_; }
  const std::string& path() const { return path_; }

  Status Error(int rc) const { return MapSqliteError(rc, path_, sqlite3_errmsg(db_)); }

  // The cached prepared statement for `sql`, prepared on first use.
  Result<sqlite3_stmt*> Prepare(const std::string& sql) {
    auto it = statements_.find(sql);
    if (it != statements_.end()) return it->second;
    sqlite3_stmt* stmt = nullptr;
    const int rc = sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()),
                                      SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) {
      sqlite3_finalize(stmt);
      return Error(rc);
    }
    statements_.emplace(sql, stmt);
    return stmt;
  }

  // Runs one statement without parameters to completion, discarding rows.
  Status Execute(const std::string& sql);

  // Runs a script of several statements (migrations).
  Status ExecuteScript(const char* sql) {
    char* error = nullptr;
    const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &error);
    if (rc == SQLITE_OK) return Status::Ok();
    Status status = MapSqliteError(rc, path_, error != nullptr ? error : sqlite3_errstr(rc));
    sqlite3_free(error);
    return status;
  }

  // True when no transaction is open, i.e. the connection can go back to the pool.
  bool Idle() const { return sqlite3_get_autocommit(db_) != 0; }

 private:
  Connection(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}

  sqlite3* db_;
  std::string path_;
  std::unordered_map<std::string, sqlite3_stmt*> statements_;
};

// One use of a cached statement: bind parameters in order, step, read columns. The destructor
// resets the statement so the cache can hand it out again.
class Statement {
 public:
  static Result<Statement> Prepare(Connection& connection, const std::string& sql) {
    KYSO_ASSIGN_OR_RETURN(sqlite3_stmt * stmt, connection.Prepare(sql));
    return Statement(connection, stmt);
  }

  Statement(Statement&& other) noexcept
      : connection_(other.connection_),
        stmt_(std::exchange(other.stmt_, nullptr)),
        next_index_(other.next_index_),
        bind_status_(std::move(other.bind_status_)) {}
  Statement& operator=(Statement&&) = delete;
  ~Statement() {
    if (stmt_ == nullptr) return;
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }

  // Makes the statement ready to run again, with new parameters from the first.
  void Reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
    next_index_ = 1;
    bind_status_ = Status::Ok();
  }

  Statement& Int(int64_t value) {
    Check(sqlite3_bind_int64(stmt_, next_index_++, value));
    return *this;
  }
  Statement& OptionalInt(const std::optional<int64_t>& value) {
    if (value) return Int(*value);
    return Null();
  }
  Statement& Text(std::string_view value) {
    // A null data pointer would bind SQL NULL; an empty string must stay ''.
    const char* data = value.data() != nullptr ? value.data() : "";
    Check(sqlite3_bind_text64(stmt_, next_index_++, data, value.size(), SQLITE_TRANSIENT,
                              SQLITE_UTF8));
    return *this;
  }
  Statement& Blob(ByteSpan value) {
    if (value.empty()) {
      Check(sqlite3_bind_zeroblob(stmt_, next_index_++, 0));
    } else {
      Check(
          sqlite3_bind_blob64(stmt_, next_index_++, value.data(), value.size(), SQLITE_TRANSIENT));
    }
    return *this;
  }
  Statement& Null() {
    Check(sqlite3_bind_null(stmt_, next_index_++));
    return *this;
  }

  // True when a row is available, false when the statement is done.
  Result<bool> Step() {
    if (!bind_status_.ok()) return bind_status_;
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return connection_.Error(rc);
  }
  // Steps to completion, discarding any rows.
  Status Run() {
    while (true) {
      KYSO_ASSIGN_OR_RETURN(bool row, Step());
      if (!row) return Status::Ok();
    }
  }

  int64_t ColumnInt(int column) const { return sqlite3_column_int64(stmt_, column); }
  bool ColumnIsNull(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }
  std::optional<int64_t> ColumnOptionalInt(int column) const {
    if (ColumnIsNull(column)) return std::nullopt;
    return ColumnInt(column);
  }
  std::string ColumnText(int column) const {
    const auto* text = sqlite3_column_text(stmt_, column);
    const int size = sqlite3_column_bytes(stmt_, column);
    if (text == nullptr) return std::string();
    return std::string(reinterpret_cast<const char*>(text), static_cast<size_t>(size));
  }
  Bytes ColumnBlob(int column) const {
    const auto* data = static_cast<const uint8_t*>(sqlite3_column_blob(stmt_, column));
    const int size = sqlite3_column_bytes(stmt_, column);
    if (data == nullptr) return Bytes();
    return Bytes(data, data + size);
  }

 private:
  Statement(Connection& connection, sqlite3_stmt* stmt) : connection_(connection), stmt_(stmt) {}

  void Check(int rc) {
    if (rc != SQLITE_OK && bind_status_.ok()) bind_status_ = connection_.Error(rc);
  }

  Connection& connection_;
  sqlite3_stmt* stmt_;
  int next_index_ = 1;
  Status bind_status_;
};

Status Connection::Execute(const std::string& sql) {
  KYSO_ASSIGN_OR_RETURN(Statement statement, Statement::Prepare(*this, sql));
  return statement.Run();
}

// Reads a single integer from a statement without parameters ("PRAGMA user_version").
Result<int64_t> QueryInt(Connection& connection, const std::string& sql) {
  KYSO_ASSIGN_OR_RETURN(Statement statement, Statement::Prepare(connection, sql));
  KYSO_ASSIGN_OR_RETURN(bool row, statement.Step());
  if (!row) return Unavailable("store.io", connection.path() + ": no result for " + sql);
  return statement.ColumnInt(0);
}

Status NotAKysoDatabase(const std::string& path, std::string_view why) {
  return DataLoss("store.corrupt",
                  path + " is not a kyso database or is damaged (" + std::string(why) + ")");
}

// ---------------------------------------------------------------------------------------------
// Opening: the checks and migrations run once, on the first connection.

// Reads the header and schema, which fails on a file that is not SQLite or whose first page
// is damaged, then runs quick_check on small files.
Status CheckIntegrity(Connection& connection) {
  KYSO_RETURN_IF_ERROR(QueryInt(connection, "SELECT count(*) FROM sqlite_schema").status());
  KYSO_ASSIGN_OR_RETURN(int64_t pages, QueryInt(connection, "PRAGMA page_count"));
  if (pages > kQuickCheckMaxPages) return Status::Ok();
  KYSO_ASSIGN_OR_RETURN(Statement check, Statement::Prepare(connection, "PRAGMA quick_check"));
  KYSO_ASSIGN_OR_RETURN(bool row, check.Step());
  if (!row) return Status::Ok();
  const std::string verdict = check.ColumnText(0);
  if (verdict != "ok") return NotAKysoDatabase(connection.path(), verdict);
  return Status::Ok();
}

Status EnableWal(Connection& connection) {
  if (IsInMemory(connection.path())) return Status::Ok();  // journal_mode stays "memory"
  KYSO_ASSIGN_OR_RETURN(Statement statement,
                        Statement::Prepare(connection, "PRAGMA journal_mode = WAL"));
  KYSO_ASSIGN_OR_RETURN(bool row, statement.Step());
  const std::string mode = row ? statement.ColumnText(0) : std::string();
  if (mode != "wal") {
    return Unavailable(
        "store.io", connection.path() + ": cannot enable WAL journal mode (got \"" + mode + "\")");
  }
  return Status::Ok();
}

Status SchemaTooNew(const std::string& path, int64_t version) {
  return FailedPrecondition("store.schema_too_new",
                            path + " was written by a newer kyso (schema version " +
                                std::to_string(version) + "; this kyso supports up to " +
                                std::to_string(kLatestSchemaVersion) + "); upgrade kyso");
}

// Brings the file to kLatestSchemaVersion, in one write transaction. Returns the version.
// A file that is already current is only read, so opening it does not wait for a writer.
Result<int> Migrate(Connection& connection) {
  const std::string& path = connection.path();
  {
    KYSO_ASSIGN_OR_RETURN(int64_t version, QueryInt(connection, "PRAGMA user_version"));
    KYSO_ASSIGN_OR_RETURN(int64_t application_id, QueryInt(connection, "PRAGMA application_id"));
    if (application_id == kApplicationId && version == kLatestSchemaVersion) {
      return kLatestSchemaVersion;
    }
    if (application_id == kApplicationId && version > kLatestSchemaVersion) {
      return SchemaTooNew(path, version);
    }
  }
  KYSO_RETURN_IF_ERROR(connection.Execute("BEGIN IMMEDIATE"));
  auto migrate = [&]() -> Result<int> {
    KYSO_ASSIGN_OR_RETURN(int64_t version, QueryInt(connection, "PRAGMA user_version"));
    KYSO_ASSIGN_OR_RETURN(int64_t application_id, QueryInt(connection, "PRAGMA application_id"));
    KYSO_ASSIGN_OR_RETURN(int64_t objects,
                          QueryInt(connection, "SELECT count(*) FROM sqlite_schema"));
    if (version == 0) {
      // Empty file: ours to initialize. Anything else at version 0 belongs to someone else.
      if (objects != 0) return NotAKysoDatabase(path, "it holds tables but no kyso schema");
    } else if (application_id != kApplicationId) {
      return NotAKysoDatabase(path, "application_id is not kyso's");
    }
    if (version > kLatestSchemaVersion) return SchemaTooNew(path, version);
    if (version == 0) {
      KYSO_RETURN_IF_ERROR(
          connection.Execute("PRAGMA application_id = " + std::to_string(kApplicationId)));
    }
    for (const Migration& migration : kMigrations) {
      if (migration.version <= version) continue;
      KYSO_RETURN_IF_ERROR(
          connection.ExecuteScript(migration.sql)
              .WithContext("schema migration " + std::to_string(migration.version)));
      KYSO_ASSIGN_OR_RETURN(
          Statement record,
          Statement::Prepare(connection,
                             "INSERT INTO schema_migrations (version, description, applied_at) "
                             "VALUES (?, ?, CAST(strftime('%s', 'now') AS INTEGER))"));
      KYSO_RETURN_IF_ERROR(record.Int(migration.version).Text(migration.description).Run());
      KYSO_RETURN_IF_ERROR(
          connection.Execute("PRAGMA user_version = " + std::to_string(migration.version)));
    }
    return kLatestSchemaVersion;
  };
  Result<int> result = migrate();
  if (!result.ok()) {
    (void)connection.Execute("ROLLBACK");
    return result;
  }
  KYSO_RETURN_IF_ERROR(connection.Execute("COMMIT"));
  return result;
}

// ---------------------------------------------------------------------------------------------
// Row mapping.

constexpr const char* kCaColumns =
    "id, name, role, parent_id, subject, serial_hex, not_before, not_after, key_ref, "
    "signature_scheme, certificate_der, created_at";

CaRecord ReadCa(const Statement& row) {
  CaRecord ca;
  ca.id = row.ColumnInt(0);
  ca.name = row.ColumnText(1);
  ca.role = row.ColumnText(2);
  ca.parent_id = row.ColumnOptionalInt(3);
  ca.subject = row.ColumnText(4);
  ca.serial_hex = row.ColumnText(5);
  ca.not_before = row.ColumnInt(6);
  ca.not_after = row.ColumnInt(7);
  ca.key_ref = row.ColumnText(8);
  ca.signature_scheme = row.ColumnText(9);
  ca.certificate_der = row.ColumnBlob(10);
  ca.created_at = row.ColumnInt(11);
  return ca;
}

constexpr const char* kCertificateColumns =
    "c.id, c.issuer_ca_id, c.serial_hex, c.issuer, c.subject, c.common_name, c.email, "
    "c.profile, c.issuance_kind, c.replaces_id, c.owner_id, c.organization_id, "
    "c.key_fingerprint, c.not_before, c.not_after, c.issued_at, c.status, c.revoked_at, "
    "c.revocation_reason, c.invalidity_date, c.revocation_seq, c.der";

// Decodes the revocation columns starting at `first` (revoked_at, reason, invalidity_date).
Result<Revocation> ReadRevocation(const Statement& row, int first, const std::string& path) {
  Revocation revocation;
  revocation.revoked_at = row.ColumnInt(first);
  auto reason = RevocationReasonFromCode(static_cast<int>(row.ColumnInt(first + 1)));
  if (!reason.ok()) return NotAKysoDatabase(path, reason.status().message());
  revocation.reason = *reason;
  revocation.invalidity_date = row.ColumnOptionalInt(first + 2);
  return revocation;
}

Result<CertificateRecord> ReadCertificate(const Statement& row, const std::string& path) {
  CertificateRecord cert;
  cert.id = row.ColumnInt(0);
  cert.issuer_ca_id = row.ColumnInt(1);
  cert.serial_hex = row.ColumnText(2);
  cert.issuer = row.ColumnText(3);
  cert.subject = row.ColumnText(4);
  cert.common_name = row.ColumnText(5);
  cert.email = row.ColumnText(6);
  cert.profile = row.ColumnText(7);
  cert.issuance_kind = row.ColumnText(8);
  cert.replaces_id = row.ColumnOptionalInt(9);
  cert.owner_id = row.ColumnOptionalInt(10);
  cert.organization_id = row.ColumnOptionalInt(11);
  cert.key_fingerprint = row.ColumnText(12);
  cert.not_before = row.ColumnInt(13);
  cert.not_after = row.ColumnInt(14);
  cert.issued_at = row.ColumnInt(15);
  const std::string status = row.ColumnText(16);
  if (status == kStatusRevoked) {
    cert.status = CertificateStatus::kRevoked;
    KYSO_ASSIGN_OR_RETURN(cert.revocation, ReadRevocation(row, 17, path));
  } else {
    cert.status = CertificateStatus::kValid;
  }
  cert.revocation_seq = row.ColumnInt(20);
  cert.der = row.ColumnBlob(21);
  return cert;
}

constexpr const char* kStatusColumns =
    "id, issuer_ca_id, serial_hex, status, revoked_at, revocation_reason, invalidity_date, "
    "revocation_seq, not_before, not_after";

Result<CertificateStatusEntry> ReadStatusEntry(const Statement& row, const std::string& path) {
  CertificateStatusEntry entry;
  entry.id = row.ColumnInt(0);
  entry.issuer_ca_id = row.ColumnInt(1);
  entry.serial_hex = row.ColumnText(2);
  if (row.ColumnText(3) == kStatusRevoked) {
    entry.status = CertificateStatus::kRevoked;
    KYSO_ASSIGN_OR_RETURN(entry.revocation, ReadRevocation(row, 4, path));
  }
  entry.revocation_seq = row.ColumnInt(7);
  entry.not_before = row.ColumnInt(8);
  entry.not_after = row.ColumnInt(9);
  return entry;
}

const char* StatusText(CertificateStatus status) {
  return status == CertificateStatus::kRevoked ? kStatusRevoked : kStatusValid;
}

constexpr const char* kCrlColumns =
    "id, ca_id, number, base_number, this_update, next_update, max_revocation_seq, "
    "entry_count, der";

CrlRecord ReadCrl(const Statement& row) {
  CrlRecord crl;
  crl.id = row.ColumnInt(0);
  crl.ca_id = row.ColumnInt(1);
  crl.number = row.ColumnInt(2);
  crl.base_number = row.ColumnOptionalInt(3);
  crl.this_update = row.ColumnInt(4);
  crl.next_update = row.ColumnInt(5);
  crl.max_revocation_seq = row.ColumnInt(6);
  crl.entry_count = row.ColumnInt(7);
  crl.der = row.ColumnBlob(8);
  return crl;
}

constexpr const char* kAuditColumns = "seq, time, actor, action, object, details, prev_hash, hash";

AuditEntry ReadAuditEntry(const Statement& row) {
  AuditEntry entry;
  entry.seq = row.ColumnInt(0);
  entry.time = row.ColumnInt(1);
  entry.actor = row.ColumnText(2);
  entry.action = row.ColumnText(3);
  entry.object = row.ColumnText(4);
  entry.details = row.ColumnText(5);
  entry.prev_hash = row.ColumnBlob(6);
  entry.hash = row.ColumnBlob(7);
  return entry;
}

constexpr const char* kCheckpointColumns =
    "id, seq, head_hash, time, signer_fingerprint, scheme, signature";

AuditCheckpoint ReadCheckpoint(const Statement& row) {
  AuditCheckpoint checkpoint;
  checkpoint.id = row.ColumnInt(0);
  checkpoint.seq = row.ColumnInt(1);
  checkpoint.head_hash = row.ColumnBlob(2);
  checkpoint.time = row.ColumnInt(3);
  checkpoint.signer_fingerprint = row.ColumnText(4);
  checkpoint.scheme = row.ColumnText(5);
  checkpoint.signature = row.ColumnBlob(6);
  return checkpoint;
}

// The WHERE clause of a CertificateFilter and its parameters, in order.
struct FilterSql {
  std::string where;
  std::vector<std::variant<int64_t, std::string>> params;
};

std::string PrefixRange(FilterSql& sql, std::string_view column, std::string prefix);

FilterSql BuildFilter(const CertificateFilter& filter) {
  FilterSql sql;
  auto add = [&sql](std::string_view condition) {
    sql.where += sql.where.empty() ? " WHERE " : " AND ";
    sql.where += condition;
  };
  if (filter.issuer_ca_id) {
    add("c.issuer_ca_id = ?");
    sql.params.emplace_back(*filter.issuer_ca_id);
  }
  if (filter.status) {
    add("c.status = ?");
    sql.params.emplace_back(
        std::string(*filter.status == CertificateStatus::kRevoked ? kStatusRevoked : kStatusValid));
  }
  if (filter.profile) {
    add("c.profile = ?");
    sql.params.emplace_back(*filter.profile);
  }
  if (filter.uid) {
    add("c.id IN (SELECT cert_id FROM certificate_uids WHERE uid = ?)");
    sql.params.emplace_back(*filter.uid);
  }
  if (filter.subject_contains) {
    add("instr(c.subject, ?) > 0");
    sql.params.emplace_back(*filter.subject_contains);
  }
  if (filter.email) {
    add("c.email = ?");
    sql.params.emplace_back(*filter.email);
  }
  if (filter.expires_before) {
    add("c.not_after < ?");
    sql.params.emplace_back(*filter.expires_before);
  }
  if (filter.valid_at) {
    add("c.not_before <= ? AND c.not_after >= ?");
    sql.params.emplace_back(*filter.valid_at);
    sql.params.emplace_back(*filter.valid_at);
  }
  for (const auto& [bound, condition] : {std::pair{filter.issued_from, "c.issued_at >= ?"},
                                         std::pair{filter.issued_before, "c.issued_at < ?"},
                                         std::pair{filter.revoked_from, "c.revoked_at >= ?"},
                                         std::pair{filter.revoked_before, "c.revoked_at < ?"}}) {
    if (bound) {
      add(condition);
      sql.params.emplace_back(*bound);
    }
  }
  if (filter.organization_id) {
    add("c.organization_id = ?");
    sql.params.emplace_back(*filter.organization_id);
  }
  if (filter.organization_path_prefix) {
    // The subtree's bodies by the organizations' path index, then their certificates by
    // certificates_organization.
    add("c.organization_id IN (SELECT o.id FROM organizations o WHERE " +
        PrefixRange(sql, "o.path", *filter.organization_path_prefix) + ")");
  }
  if (filter.owner_id) {
    add("c.owner_id = ?");
    sql.params.emplace_back(*filter.owner_id);
  }
  return sql;
}

void BindFilter(Statement& statement, const FilterSql& sql) {
  for (const auto& param : sql.params) {
    if (const auto* number = std::get_if<int64_t>(&param)) {
      statement.Int(*number);
    } else {
      statement.Text(std::get<std::string>(param));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Registration workflow rows (registry.h).

// Returns the condition "`column` starts with `prefix`" and appends its parameters to
// sql.params. It is written as a range so that SQLite walks an index over `column` instead of
// testing every row (LIKE would also need its wildcards escaped). The upper bound is the prefix
// with its last byte incremented: text compares bytewise (BINARY collation), so exactly the
// strings that start with the prefix lie in [prefix, bound). An empty prefix matches everything.
std::string PrefixRange(FilterSql& sql, std::string_view column, std::string prefix) {
  const std::string name(column);
  std::string bound = prefix;
  while (!bound.empty() && static_cast<unsigned char>(bound.back()) == 0xFF) bound.pop_back();
  if (bound.empty()) {
    // "" or only 0xFF bytes: every string >= prefix starts with it.
    sql.params.emplace_back(std::move(prefix));
    return name + " >= ?";
  }
  bound.back() = static_cast<char>(static_cast<unsigned char>(bound.back()) + 1);
  sql.params.emplace_back(std::move(prefix));
  sql.params.emplace_back(std::move(bound));
  return "(" + name + " >= ? AND " + name + " < ?)";
}

// Appends `condition` to sql.where with AND.
void AddCondition(FilterSql& sql, std::string_view condition) {
  sql.where += sql.where.empty() ? " WHERE " : " AND ";
  sql.where += condition;
}

// "column IN (?, ?, ...)" over `values` (not empty).
void AddInList(FilterSql& sql, std::string_view column, const std::vector<std::string>& values) {
  std::string condition = std::string(column) + " IN (";
  for (size_t i = 0; i < values.size(); ++i) {
    condition += i == 0 ? "?" : ", ?";
    sql.params.emplace_back(values[i]);
  }
  AddCondition(sql, condition + ")");
}

// Delegated kinds are kept as a JSON array of strings: readable in the sqlite3 shell and open
// to json_each() should a query ever need to look inside.
std::string EncodeStringArray(const std::vector<std::string>& items) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string json = "[";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) json += ',';
    json += '"';
    for (char c : items[i]) {
      const auto byte = static_cast<unsigned char>(c);
      if (c == '"' || c == '\\') {
        json += '\\';
        json += c;
      } else if (byte < 0x20) {
        json += "\\u00";
        json += kHex[byte >> 4];
        json += kHex[byte & 0xF];
      } else {
        json += c;
      }
    }
    json += '"';
  }
  return json + "]";
}

// Parses what EncodeStringArray writes (a JSON array of strings; escapes \" \\ \/ \b \f \n \r
// \t and \u00XX). nullopt when the text is anything else.
std::optional<std::vector<std::string>> DecodeStringArray(std::string_view json) {
  size_t i = 0;
  auto skip_space = [&] {
    while (i < json.size() &&
           (json[i] == ' ' || json[i] == '\n' || json[i] == '\t' || json[i] == '\r')) {
      ++i;
    }
  };
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::vector<std::string> items;
  skip_space();
  if (i >= json.size() || json[i++] != '[') return std::nullopt;
  skip_space();
  if (i < json.size() && json[i] == ']') {
    ++i;
  } else {
    while (true) {
      skip_space();
      if (i >= json.size() || json[i++] != '"') return std::nullopt;
      std::string item;
      while (true) {
        if (i >= json.size()) return std::nullopt;
        const char c = json[i++];
        if (c == '"') break;
        if (c != '\\') {
          item += c;
          continue;
        }
        if (i >= json.size()) return std::nullopt;
        const char escape = json[i++];
        switch (escape) {
          case '"':
          case '\\':
          case '/':
            item += escape;
            break;
          case 'b':
            item += '\b';
            break;
          case 'f':
            item += '\f';
            break;
          case 'n':
            item += '\n';
            break;
          case 'r':
            item += '\r';
            break;
          case 't':
            item += '\t';
            break;
          case 'u': {
            // Only the control characters EncodeStringArray escapes (U+0000..U+007F).
            if (i + 4 > json.size() || json[i] != '0' || json[i + 1] != '0') return std::nullopt;
            const int high = hex(json[i + 2]);
            const int low = hex(json[i + 3]);
            if (high < 0 || high > 7 || low < 0) return std::nullopt;
            item += static_cast<char>(high * 16 + low);
            i += 4;
            break;
          }
          default:
            return std::nullopt;
        }
      }
      items.push_back(std::move(item));
      skip_space();
      if (i >= json.size()) return std::nullopt;
      const char next = json[i++];
      if (next == ']') break;
      if (next != ',') return std::nullopt;
    }
  }
  skip_space();
  if (i != json.size()) return std::nullopt;
  return items;
}

constexpr const char* kOrganizationColumns =
    "o.id, o.parent_id, o.path, o.name, o.tax_code, o.budget_code, o.address, o.email, "
    "o.province, o.managing_agency, o.created_at, o.updated_at, o.version";

OrganizationRecord ReadOrganization(const Statement& row) {
  OrganizationRecord org;
  org.id = row.ColumnInt(0);
  org.parent_id = row.ColumnOptionalInt(1);
  org.path = row.ColumnText(2);
  org.name = row.ColumnText(3);
  org.tax_code = row.ColumnText(4);
  org.budget_code = row.ColumnText(5);
  org.address = row.ColumnText(6);
  org.email = row.ColumnText(7);
  org.province = row.ColumnText(8);
  org.managing_agency = row.ColumnInt(9) != 0;
  org.created_at = row.ColumnInt(10);
  org.updated_at = row.ColumnInt(11);
  org.version = row.ColumnInt(12);
  return org;
}

// People are read joined with their organization (`o`), whose path they carry.
constexpr const char* kPersonColumns =
    "p.id, p.organization_id, o.path, p.full_name, p.personal_id, p.position, p.email, "
    "p.mobile, p.status, p.created_at, p.updated_at, p.version";

PersonRecord ReadPerson(const Statement& row) {
  PersonRecord person;
  person.id = row.ColumnInt(0);
  person.organization_id = row.ColumnInt(1);
  person.organization_path = row.ColumnText(2);
  person.full_name = row.ColumnText(3);
  person.personal_id = row.ColumnText(4);
  person.position = row.ColumnText(5);
  person.email = row.ColumnText(6);
  person.mobile = row.ColumnText(7);
  person.status = row.ColumnText(8);
  person.created_at = row.ColumnInt(9);
  person.updated_at = row.ColumnInt(10);
  person.version = row.ColumnInt(11);
  return person;
}

constexpr const char* kAccountColumns =
    "id, username, display_name, role, organization_id, person_id, password_hash, "
    "certificate_fingerprint, disabled, created_at, version";

AccountRecord ReadAccount(const Statement& row) {
  AccountRecord account;
  account.id = row.ColumnInt(0);
  account.username = row.ColumnText(1);
  account.display_name = row.ColumnText(2);
  account.role = row.ColumnText(3);
  account.organization_id = row.ColumnOptionalInt(4);
  account.person_id = row.ColumnOptionalInt(5);
  account.password_hash = row.ColumnText(6);
  account.certificate_fingerprint = row.ColumnText(7);
  account.disabled = row.ColumnInt(8) != 0;
  account.created_at = row.ColumnInt(9);
  account.version = row.ColumnInt(10);
  return account;
}

constexpr const char* kAccessTokenColumns =
    "token_hash, account_id, kind, name, csrf_hash, created_at, expires_at, revoked, id";

AccessTokenRecord ReadAccessToken(const Statement& row) {
  AccessTokenRecord token;
  token.token_hash = row.ColumnText(0);
  token.account_id = row.ColumnInt(1);
  token.kind = row.ColumnText(2);
  token.name = row.ColumnText(3);
  token.csrf_hash = row.ColumnText(4);
  token.created_at = row.ColumnInt(5);
  token.expires_at = row.ColumnInt(6);
  token.revoked = row.ColumnInt(7) != 0;
  token.id = row.ColumnInt(8);
  return token;
}

// Delegations are read joined with their scope organization (`o`), whose path they carry.
constexpr const char* kDelegationColumns =
    "d.id, d.delegate_organization_id, d.scope_organization_id, o.path, d.kinds, "
    "d.created_by, d.created_at, d.withdrawn_at, d.withdrawn_by";

Result<DelegationRecord> ReadDelegation(const Statement& row, const std::string& path) {
  DelegationRecord delegation;
  delegation.id = row.ColumnInt(0);
  delegation.delegate_organization_id = row.ColumnInt(1);
  delegation.scope_organization_id = row.ColumnInt(2);
  delegation.scope_path = row.ColumnText(3);
  auto kinds = DecodeStringArray(row.ColumnText(4));
  if (!kinds) {
    return NotAKysoDatabase(path,
                            "delegation " + std::to_string(delegation.id) + " has malformed kinds");
  }
  delegation.kinds = std::move(*kinds);
  delegation.created_by = row.ColumnText(5);
  delegation.created_at = row.ColumnInt(6);
  delegation.withdrawn_at = row.ColumnOptionalInt(7);
  delegation.withdrawn_by = row.ColumnText(8);
  return delegation;
}

// Requests are read joined with their documents (`d`).
constexpr const char* kRequestColumns =
    "r.id, r.kind, r.state, r.organization_id, r.organization_path, r.person_id, "
    "r.certificate_id, r.assignee, r.delegation_id, r.signer, r.submitted_at, r.due_at, "
    "r.result_certificate_id, r.result_note, r.created_by, r.idempotency_key, r.created_at, "
    "r.updated_at, r.version, d.form_json, d.signed_document, d.signature";

constexpr const char* kRequestTables =
    " FROM requests r JOIN request_documents d ON d.request_id = r.id";

RequestRecord ReadRequest(const Statement& row) {
  RequestRecord request;
  request.id = row.ColumnInt(0);
  request.kind = row.ColumnText(1);
  request.state = row.ColumnText(2);
  request.organization_id = row.ColumnInt(3);
  request.organization_path = row.ColumnText(4);
  request.person_id = row.ColumnOptionalInt(5);
  request.certificate_id = row.ColumnOptionalInt(6);
  request.assignee = row.ColumnText(7);
  request.delegation_id = row.ColumnOptionalInt(8);
  request.signer = row.ColumnText(9);
  request.submitted_at = row.ColumnOptionalInt(10);
  request.due_at = row.ColumnOptionalInt(11);
  request.result_certificate_id = row.ColumnOptionalInt(12);
  request.result_note = row.ColumnText(13);
  request.created_by = row.ColumnInt(14);
  request.idempotency_key = row.ColumnText(15);
  request.created_at = row.ColumnInt(16);
  request.updated_at = row.ColumnInt(17);
  request.version = row.ColumnInt(18);
  request.form_json = row.ColumnText(19);
  request.signed_document = row.ColumnBlob(20);
  request.signature = row.ColumnBlob(21);
  return request;
}

constexpr const char* kRequestEventColumns =
    "id, request_id, from_state, to_state, actor, time, reason";

RequestEventRecord ReadRequestEvent(const Statement& row) {
  RequestEventRecord event;
  event.id = row.ColumnInt(0);
  event.request_id = row.ColumnInt(1);
  event.from_state = row.ColumnText(2);
  event.to_state = row.ColumnText(3);
  event.actor = row.ColumnText(4);
  event.time = row.ColumnInt(5);
  event.reason = row.ColumnText(6);
  return event;
}

constexpr const char* kOutboxColumns =
    "id, dedupe_key, channel, recipient, subject, body, created_at, next_attempt_at, sent_at, "
    "attempts, last_error, certificate_id, reminder_days";

OutboxMessage ReadOutboxMessage(const Statement& row) {
  OutboxMessage message;
  message.id = row.ColumnInt(0);
  message.dedupe_key = row.ColumnText(1);
  message.channel = row.ColumnText(2);
  message.recipient = row.ColumnText(3);
  message.subject = row.ColumnText(4);
  message.body = row.ColumnText(5);
  message.created_at = row.ColumnInt(6);
  message.next_attempt_at = row.ColumnInt(7);
  message.sent_at = row.ColumnOptionalInt(8);
  message.attempts = row.ColumnInt(9);
  message.last_error = row.ColumnText(10);
  message.certificate_id = row.ColumnOptionalInt(11);
  message.reminder_days = row.ColumnOptionalInt(12);
  return message;
}

ReminderEntry ReadReminder(const Statement& row) {
  ReminderEntry entry;
  entry.message = ReadOutboxMessage(row);
  const int c = kReminderCertificateColumn;
  entry.serial_hex = row.ColumnText(c);
  entry.common_name = row.ColumnText(c + 1);
  entry.not_after = row.ColumnInt(c + 2);
  entry.organization_id = row.ColumnOptionalInt(c + 3);
  return entry;
}

FilterSql BuildOrganizationFilter(const OrganizationFilter& filter) {
  FilterSql sql;
  if (filter.path_prefix) {
    const std::string condition = PrefixRange(sql, "o.path", *filter.path_prefix);
    AddCondition(sql, condition);
  }
  if (filter.parent_id) {
    AddCondition(sql, "o.parent_id = ?");
    sql.params.emplace_back(*filter.parent_id);
  }
  if (filter.name_contains) {
    AddCondition(sql, "instr(o.name, ?) > 0");
    sql.params.emplace_back(*filter.name_contains);
  }
  if (filter.tax_code) {
    AddCondition(sql, "o.tax_code = ?");
    sql.params.emplace_back(*filter.tax_code);
  }
  AddCondition(sql, "o.id > ?");
  sql.params.emplace_back(filter.after_id);
  return sql;
}

FilterSql BuildPersonFilter(const PersonFilter& filter) {
  FilterSql sql;
  if (filter.path_prefix) {
    const std::string condition = PrefixRange(sql, "o.path", *filter.path_prefix);
    AddCondition(sql, condition);
  }
  if (filter.organization_id) {
    AddCondition(sql, "p.organization_id = ?");
    sql.params.emplace_back(*filter.organization_id);
  }
  if (filter.personal_id) {
    AddCondition(sql, "p.personal_id = ?");
    sql.params.emplace_back(*filter.personal_id);
  }
  if (filter.name_contains) {
    AddCondition(sql, "instr(p.full_name, ?) > 0");
    sql.params.emplace_back(*filter.name_contains);
  }
  if (filter.status) {
    AddCondition(sql, "p.status = ?");
    sql.params.emplace_back(*filter.status);
  }
  AddCondition(sql, "p.id > ?");
  sql.params.emplace_back(filter.after_id);
  return sql;
}

// The conditions of a RequestFilter on `requests r`, without its page (after_id, before_id,
// limit), which ListRequests adds and CountRequests leaves out.
FilterSql BuildRequestFilter(const RequestFilter& filter) {
  FilterSql sql;
  if (filter.path_prefix) {
    const std::string condition = PrefixRange(sql, "r.organization_path", *filter.path_prefix);
    AddCondition(sql, condition);
  }
  if (!filter.path_prefixes.empty()) {
    std::string any;
    for (const std::string& prefix : filter.path_prefixes) {
      if (!any.empty()) any += " OR ";
      any += PrefixRange(sql, "r.organization_path", prefix);
    }
    AddCondition(sql, "(" + any + ")");
  }
  if (filter.organization_id) {
    // The organization's requests are one key of requests_path, already in id order.
    AddCondition(sql, "r.organization_path = (SELECT path FROM organizations WHERE id = ?)");
    sql.params.emplace_back(*filter.organization_id);
  }
  if (filter.person_id) {
    AddCondition(sql, "r.person_id = ?");
    sql.params.emplace_back(*filter.person_id);
  }
  if (filter.created_by) {
    AddCondition(sql, "r.created_by = ?");
    sql.params.emplace_back(*filter.created_by);
  }
  if (!filter.kinds.empty()) AddInList(sql, "r.kind", filter.kinds);
  if (!filter.states.empty()) AddInList(sql, "r.state", filter.states);
  if (filter.assignee) {
    AddCondition(sql, "r.assignee = ?");
    sql.params.emplace_back(*filter.assignee);
  }
  if (filter.due_before) {
    AddCondition(sql, "r.due_at < ?");
    sql.params.emplace_back(*filter.due_before);
  }
  return sql;
}

// ---------------------------------------------------------------------------------------------
// Database and Transaction.

class SqliteDatabase;

class SqliteTransaction final : public Transaction {
 public:
  // A kWrite transaction holds the database's writer slot until it finishes.
  SqliteTransaction(SqliteDatabase* database, std::unique_ptr<Connection> connection,
                    TransactionMode mode)
      : database_(database), connection_(std::move(connection)), mode_(mode) {}
  ~SqliteTransaction() override;

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
  Status ReadSigningKeyAccounts(SigningKeyAccess& access);
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
  Result<Statement> Prepare(const std::string& sql) {
    return Statement::Prepare(*connection_, sql);
  }
  const std::string& path() const { return connection_->path(); }

  // Reads every row of `statement` as certificates, with their uids.
  Result<std::vector<CertificateRecord>> ReadCertificates(Statement& statement);
  Status LoadUids(CertificateRecord& cert);
  // The single certificate selected by `statement`, or store.not_found naming `what`.
  Result<CertificateRecord> ReadOneCertificate(Statement& statement, const std::string& what);

  // The path of organization `id`; store.not_found naming it as `role` when it does not exist.
  Result<std::string> OrganizationPath(int64_t id, std::string_view role);
  // After an UPDATE of `table` ... WHERE id = ? AND version = ? changed nothing: store.not_found
  // when row `id` is missing, otherwise store.conflict (someone else updated it first).
  Status UpdateMissed(const char* table, std::string_view what, int64_t id, int64_t version);
  int64_t Changes() const { return sqlite3_changes(connection_->db()); }

  // Returns the connection to the pool and releases the writer slot.
  void Finish();

  SqliteDatabase* database_;
  std::unique_ptr<Connection> connection_;  // null once committed or rolled back
  TransactionMode mode_;
};

class SqliteDatabase final : public Database {
 public:
  SqliteDatabase(std::string path, SqliteOptions options, int schema_version)
      : path_(std::move(path)),
        options_(options),
        schema_version_(schema_version),
        max_connections_(IsInMemory(path_) ? 1 : kMaxFileConnections) {}

  ~SqliteDatabase() override = default;

  Result<std::unique_ptr<Transaction>> Begin(TransactionMode mode) override {
    const SteadyTime deadline =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.busy_timeout_ms);
    const bool write = mode == TransactionMode::kWrite;
    if (write && !AcquireWriter(deadline)) {
      return Unavailable("store.busy", path_ +
                                           ": another write transaction did not finish within " +
                                           std::to_string(options_.busy_timeout_ms) + " ms");
    }
    auto connection = Acquire(deadline);
    Status begun = connection.ok() ? (*connection)->Execute(write ? "BEGIN IMMEDIATE" : "BEGIN")
                                   : connection.status();
    if (!begun.ok()) {
      if (connection.ok()) Release(std::move(connection).value());
      if (write) ReleaseWriter();
      return begun;
    }
    return std::unique_ptr<Transaction>(
        std::make_unique<SqliteTransaction>(this, std::move(connection).value(), mode));
  }

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

  int schema_version() const override { return schema_version_; }

  // Takes an idle connection, opens a new one if the pool is not full, or waits for one.
  Result<std::unique_ptr<Connection>> Acquire(SteadyTime deadline) {
    {
      std::unique_lock<std::mutex> lock(pool_mutex_);
      const bool available = pool_cv_.wait_until(lock, deadline, [this] {
        return !idle_.empty() || open_connections_ < max_connections_;
      });
      if (!available) {
        return Unavailable("store.busy", path_ + ": no database connection became free within " +
                                             std::to_string(options_.busy_timeout_ms) + " ms");
      }
      if (!idle_.empty()) {
        std::unique_ptr<Connection> connection = std::move(idle_.back());
        idle_.pop_back();
        return connection;
      }
      ++open_connections_;
    }
    auto opened = Connection::Open(path_, options_, /*create=*/false);
    if (!opened.ok()) {
      std::lock_guard<std::mutex> lock(pool_mutex_);
      --open_connections_;
      pool_cv_.notify_one();
    }
    return opened;
  }

  // Returns a connection to the pool; one left inside a transaction is closed instead.
  void Release(std::unique_ptr<Connection> connection) {
    if (!connection->Idle()) (void)connection->Execute("ROLLBACK");
    std::lock_guard<std::mutex> lock(pool_mutex_);
    if (connection->Idle()) {
      idle_.push_back(std::move(connection));
    } else {
      connection.reset();
      --open_connections_;
    }
    pool_cv_.notify_one();
  }

  // Adds the connection that opened and migrated the file to the pool.
  void AdoptFirstConnection(std::unique_ptr<Connection> connection) {
    std::lock_guard<std::mutex> lock(pool_mutex_);
    ++open_connections_;
    idle_.push_back(std::move(connection));
  }

 private:
  const std::string path_;
  const SqliteOptions options_;
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

SqliteTransaction::~SqliteTransaction() {
  if (connection_ == nullptr) return;
  (void)connection_->Execute("ROLLBACK");
  Finish();
}

void SqliteTransaction::Finish() {
  database_->Release(std::move(connection_));
  if (mode_ == TransactionMode::kWrite) database_->ReleaseWriter();
}

Status SqliteTransaction::Commit() {
  KYSO_RETURN_IF_ERROR(CheckOpen());
  Status committed = connection_->Execute("COMMIT");
  if (!committed.ok() && !connection_->Idle()) (void)connection_->Execute("ROLLBACK");
  Finish();
  return committed;
}

// --- CAs ---

Result<int64_t> SqliteTransaction::InsertCa(const CaRecord& ca) {
  KYSO_RETURN_IF_ERROR(CheckWritable());
  KYSO_ASSIGN_OR_RETURN(
      Statement insert,
      Prepare("INSERT INTO cas (name, role, parent_id, subject, serial_hex, not_before, "
              "not_after, key_ref, signature_scheme, certificate_der, created_at) "
              "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  insert.Text(ca.name)
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
  KYSO_RETURN_IF_ERROR(insert.Run().WithContext("CA \"" + ca.name + "\""));
  const int64_t id = sqlite3_last_insert_rowid(connection_->db());
  KYSO_ASSIGN_OR_RETURN(Statement counters, Prepare("INSERT INTO ca_counters (ca_id) VALUES (?)"));
  KYSO_RETURN_IF_ERROR(counters.Int(id).Run());
  return id;
}

Result<CaRecord> SqliteTransaction::GetCa(int64_t id) {
  KYSO_RETURN_IF_ERROR(CheckOpen());
  KYSO_ASSIGN_OR_RETURN(Statement select,
                        Prepare(std::string("SELECT ") + kCaColumns + " FROM cas WHERE id = ?"));
  KYSO_ASSIGN_OR_RETURN(bool row, select.Int(id).Step());
  if (!row) return NotFound("store.not_found", "no CA with id " + std::to_string(id));
  return ReadCa(select);
}

Result<CaRecord> SqliteTransaction::GetCaByName(std::string_view name) {
  KYSO_RETURN_IF_ERROR(CheckOpen());
  KYSO_ASSIGN_OR_RETURN(Statement select,
                        Prepare(std::string("SELECT ") + kCaColumns + " FROM cas WHERE name = ?"));
  KYSO_ASSIGN_OR_RETURN(bool row, select.Text(name).Step());
  if (!row) return NotFound("store.not_found", "no CA named \"" + std::string(name) + "\"");
  return ReadCa(select);
}

Result<std::vector<CaRecord>> SqliteTransaction::ListCas() {
  KYSO_RETURN_IF_ERROR(CheckOpen());
  KYSO_ASSIGN_OR_RETURN(Statement select,
                        Prepare(std::string("SELECT ") + kCaColumns + " FROM cas ORDER BY id"));
  std::vector<CaRecord> cas;
  while (true) {
    KYSO_ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) break;
    cas.push_back(ReadCa(select));
  }
  return cas;
}

// --- certificates ---

Result<int64_t> SqliteTransaction::InsertCertificate(const CertificateRecord& cert) {
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
  KYSO_ASSIGN_OR_RETURN(
      Statement insert,
      Prepare("INSERT INTO certificates (issuer_ca_id, serial_hex, issuer, subject, common_name, "
              "email, profile, issuance_kind, replaces_id, owner_id, organization_id, "
              "key_fingerprint, not_before, not_after, issued_at, status, der) "
              "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  insert.Int(cert.issuer_ca_id)
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
  KYSO_RETURN_IF_ERROR(insert.Run().WithContext("certificate " + serial_hex + " of CA " +
                                                std::to_string(cert.issuer_ca_id)));
  const int64_t id = sqlite3_last_insert_rowid(connection_->db());

  if (!cert.uids.empty()) {
    KYSO_ASSIGN_OR_RETURN(
        Statement insert_uid,
        Prepare("INSERT INTO certificate_uids (cert_id, position, uid) VALUES (?, ?, ?)"));
    for (size_t i = 0; i < cert.uids.size(); ++i) {
      insert_uid.Reset();
      KYSO_RETURN_IF_ERROR(
          insert_uid.Int(id).Int(static_cast<int64_t>(i)).Text(cert.uids[i]).Run());
    }
  }
  // A record imported as revoked goes through MarkRevoked, so it gets its revocation_seq
  // and appears in the next delta CRL like any other revocation.
  if (cert.status == CertificateStatus::kRevoked) {
    KYSO_RETURN_IF_ERROR(MarkRevoked(id, *cert.revocation).status());
  }
  return id;
}

Status SqliteTransaction::LoadUids(CertificateRecord& cert) {
  KYSO_ASSIGN_OR_RETURN(
      Statement select,
      Prepare("SELECT uid FROM certificate_uids WHERE cert_id = ? ORDER BY position"));
  select.Int(cert.id);
  cert.uids.clear();
  while (true) {
    KYSO_ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) return Status::Ok();
    cert.uids.push_back(select.ColumnText(0));
  }
}

Result<std::vector<CertificateRecord>> SqliteTransaction::ReadCertificates(Statement& statement) {
  std::vector<CertificateRecord> certs;
  while (true) {
    KYSO_ASSIGN_OR_RETURN(bool row, statement.Step());
    if (!row) break;
    KYSO_ASSIGN_OR_RETURN(CertificateRecord cert, ReadCertificate(statement, path()));
    certs.push_back(std::move(cert));
  }
  for (CertificateRecord& cert : certs) KYSO_RETURN_IF_ERROR(LoadUids(cert));
  return certs;
}

Result<CertificateRecord> SqliteTransaction::ReadOneCertificate(Statement& statement,
                                                                const std::string& what) {
  KYSO_ASSIGN_OR_RETURN(bool row, statement.Step());
  if (!row) return NotFound("store.not_found", "no certificate " + what);
  KYSO_ASSIGN_OR_RETURN(CertificateRecord cert, ReadCertificate(statement, path()));
  KYSO_RETURN_IF_ERROR(LoadUids(cert));
  return cert;
}

Result<CertificateRecord> SqliteTransaction::GetCertificate(int64_t issuer_ca_id,
                                                            std::string_view serial_hex) {
  KYSO_RETURN_IF_ERROR(CheckOpen());
  const std::string serial = ToUpperAscii(serial_hex);
  KYSO_ASSIGN_OR_RETURN(Statement select,
                        Prepare(std::string("SELECT ") + kCertificateColumns +
                                " FROM certificates c WHERE c.issuer_ca_id = ? AND "
                                "c.serial_hex = ?"));
  select.Int(issuer_ca_id).Text(serial);
  return ReadOneCertificate(select,
                            "with serial " + serial + " from CA " + std::to_string(issuer_ca_id));
}

Result<CertificateRecord> SqliteTransaction::GetCertificateById(int64_t id) {
  KYSO_RETURN_IF_ERROR(CheckOpen());
  KYSO_ASSIGN_OR_RETURN(Statement select, Prepare(std::string("SELECT ") + kCertificateColumns +
                                                  " FROM certificates c WHERE c.id = ?"));
  select.Int(id);
  return ReadOneCertificate(select, "with id " + std::to_string(id));
}

Result<std::vector<CertificateRecord>> SqliteTransaction::FindCertificatesBySerial(
    std::string_view serial_hex) {
  KYSO_RETURN_IF_ERROR(CheckOpen());
  KYSO_ASSIGN_OR_RETURN(Statement select,
                        Prepare(std::string("SELECT ") + kCertificateColumns +
                                " FROM certificates c WHERE c.serial_hex = ? ORDER BY c.id"));
  select.Text(ToUpperAscii(serial_hex));
  return ReadCertificates(select);
}

Result<std::vector<CertificateRecord>> SqliteTransaction::ListCertificates(
    const CertificateFilter& filter) {
  KYSO_RETURN_IF_ERROR(CheckOpen());
  const FilterSql sql = BuildFilter(filter);
  KYSO_ASSIGN_OR_RETURN(Statement select, Prepare(std::string("SELECT ") + kCertificateColumns +
                                                  " FROM certificates c" + sql.where +
                                                  " ORDER BY c.id LIMIT ? OFFSET ?"));
  BindFilter(select, sql);
  // SQLite reads a negative LIMIT as "no limit".
  select.Int(filter.limit).Int(filter.offset < 0 ? 0 : filter.offset);
  return ReadCertificates(select);
}

Result<int64_t> SqliteTransaction::CountCertificates(const CertificateFilter& filter) {
  KYSO_RETURN_IF_ERROR(CheckOpen());
  const FilterSql sql = BuildFilter(filter);
  KYSO_ASSIGN_OR_RETURN(Statement select,
                        Prepare("SELECT count(*) FROM certificates c" + sql.where));
  BindFilter(select, sql);
  KYSO_ASSIGN_OR_RETURN(bool row, select.Step());
  return row ? select.ColumnInt(0) : 0;
}

Result<std::vector<int64_t>> SqliteTransaction::CountCertificatesInPeriods(
    const CertificateFilter& filter, CertificateTime field,
    const std::vector<UnixSeconds>& bounds) {
  KYSO_RETURN_IF_ERROR(CheckOpen());
  KYSO_ASSIGN_OR_RETURN(PeriodSql periods, BuildPeriodSql(field, bounds, /*bool_to_int=*/""));
  FilterSql sql = BuildFilter(filter);
  AddCondition(sql, periods.range);
  KYSO_ASSIGN_OR_RETURN(Statement select,
                        Prepare("SELECT " + periods.bucket + ", count(*) FROM certificates c" +
                                sql.where + " GROUP BY 1"));
  BindFilter(select, sql);
  std::vector<int64_t> counts(bounds.size() - 1, 0);
  for (;;) {
    KYSO_ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) break;
    const int64_t bucket = select.ColumnInt(0) - 1;  // value >= bounds[0] counts 1
    if (bucket >= 0 && bucket < static_cast<int64_t>(counts.size()))
      counts[bucket] = select.ColumnInt(1);
  }
  return counts;
}

Result<int64_t> SqliteTransaction::MarkRevoked(int64_t certificate_id,
                                               const Revocation& revocation) {
  KYSO_RETURN_IF_ERROR(CheckWritable());
  KYSO_RETURN_IF_ERROR(RevocationReasonFromCode(static_cast<int>(revocation.reason)).status());
  int64_t ca_id = 0;
  int64_t seq = 0;
  {
    // One row update; the seq comes from the CA's counter row, found by primary key.
    KYSO_ASSIGN_OR_RETURN(
        Statement update,
        Prepare("UPDATE certificates SET status = 'revoked', revoked_at = ?, "
                "revocation_reason = ?, invalidity_date = ?, revocation_seq = "
                "(SELECT revocation_seq + 1 FROM ca_counters WHERE ca_id = "
                "certificates.issuer_ca_id) "
                "WHERE id = ? AND status = 'valid' RETURNING issuer_ca_id, revocation_seq"));
    update.Int(revocation.revoked_at)
        .Int(static_cast<int64_t>(revocation.reason))
        .OptionalInt(revocation.invalidity_date)
        .Int(certificate_id);
    KYSO_ASSIGN_OR_RETURN(bool updated, update.Step());
    if (updated) {
      ca_id = update.ColumnInt(0);
      seq = update.ColumnInt(1);
      KYSO_RETURN_IF_ERROR(update.Run());
    }
  }
  if (seq == 0) {
    // Nothing changed: say whether the row is missing or already revoked.
    KYSO_ASSIGN_OR_RETURN(Statement select,
                          Prepare("SELECT status FROM certificates WHERE id = ?"));
    KYSO_ASSIGN_OR_RETURN(bool row, select.Int(certificate_id).Step());
    if (!row) {
      return NotFound("store.not_found",
                      "no certificate with id " + std::to_string(certificate_id));
    }
    return FailedPrecondition(
        "store.already_revoked",
        "certificate " + std::to_string(certificate_id) + " is already revoked");
  }
  KYSO_ASSIGN_OR_RETURN(Statement counter,
                        Prepare("UPDATE ca_counters SET revocation_seq = ? WHERE ca_id = ?"));
  KYSO_RETURN_IF_ERROR(counter.Int(seq).Int(ca_id).Run());
  // The pre-signed OCSP response said "good": it goes with the revocation, in this transaction.
  KYSO_ASSIGN_OR_RETURN(Statement drop,
                        Prepare("DELETE FROM ocsp_responses WHERE certificate_id = ?"));
  KYSO_RETURN_IF_ERROR(drop.Int(certificate_id).Run());
  return seq;
}

Result<std::vector<RevokedEntry>> SqliteTransaction::ListRevoked(int64_t ca_id, int64_t after_seq) {
  KYSO_RETURN_IF_ERROR(CheckOpen());
  // "revocation_seq > 0" lets SQLite use the partial index certificates_revocation.
  KYSO_ASSIGN_OR_RETURN(
      Statement select,
      Prepare("SELECT serial_hex, revoked_at, revocation_reason, invalidity_date, "
              "revocation_seq FROM certificates WHERE issuer_ca_id = ? AND revocation_seq > 0 "
              "AND revocation_seq > ? ORDER BY revocation_seq"));
  select.Int(ca_id).Int(after_seq);
  std::vector<RevokedEntry> entries;
  while (true) {
    KYSO_ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) break;
    RevokedEntry entry;
    entry.serial_hex = select.ColumnText(0);
    KYSO_ASSIGN_OR_RETURN(entry.revocation, ReadRevocation(select, 1, path()));
    entry.revocation_seq = select.ColumnInt(4);
    entries.push_back(std::move(entry));
  }
  return entries;
}

Result<int64_t> SqliteTransaction::MaxRevocationSeq(int64_t ca_id) {
  KYSO_RETURN_IF_ERROR(CheckOpen());
  KYSO_ASSIGN_OR_RETURN(Statement select,
                        Prepare("SELECT revocation_seq FROM ca_counters WHERE ca_id = ?"));
  KYSO_ASSIGN_OR_RETURN(bool row, select.Int(ca_id).Step());
  if (!row) return NotFound("store.not_found", "no CA with id " + std::to_string(ca_id));
  return select.ColumnInt(0);
}

// --- certificate status and pre-signed OCSP responses ---

Result<CertificateStatusEntry> SqliteTransaction::GetCertificateStatus(
    int64_t issuer_ca_id, std::string_view serial_hex) {
  KYSO_RETURN_IF_ERROR(CheckOpen());
  const std::string serial = ToUpperAscii(serial_hex);
  KYSO_ASSIGN_OR_RETURN(Statement select,
                        Prepare(std::string("SELECT ") + kStatusColumns +
                                " FROM certificates WHERE issuer_ca_id = ? AND serial_hex = ?"));
  KYSO_ASSIGN_OR_RETURN(bool row, select.Int(issuer_ca_id).Text(serial).Step());
  if (!row) {
    return NotFound("store.not_found", "no certificate with serial " + serial + " from CA " +
                                           std::to_string(issuer_ca_id));
  }
  return ReadStatusEntry(select, path());
}

Result<std::vector<CertificateStatusEntry>> SqliteTransaction::ListCertificateStatuses(
    int64_t issuer_ca_id, int64_t after_id, UnixSeconds not_after_from, int64_t limit) {
  KYSO_RETURN_IF_ERROR(CheckOpen());
  // Unary '+' keeps SQLite on the rowid range: walking the table in id order is what keyset
  // paging needs; the (issuer_ca_id, serial_hex) or not_after indexes would force a sort of
  // the whole CA for every page.
  KYSO_ASSIGN_OR_RETURN(Statement select,
                        Prepare(std::string("SELECT ") + kStatusColumns +
                                " FROM certificates WHERE id > ? AND +issuer_ca_id = ? AND "
                                "+not_after >= ? ORDER BY id LIMIT ?"));
  select.Int(after_id).Int(issuer_ca_id).Int(not_after_from).Int(limit);
  std::vector<CertificateStatusEntry> entries;
  while (true) {
    KYSO_ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) break;
    KYSO_ASSIGN_OR_RETURN(CertificateStatusEntry entry, ReadStatusEntry(select, path()));
    entries.push_back(std::move(entry));
  }
  return entries;
}

Result<bool> SqliteTransaction::PutOcspResponse(const OcspResponseRecord& response) {
  KYSO_RETURN_IF_ERROR(CheckWritable());
  const std::string serial = ToUpperAscii(response.serial_hex);
  {
    // One statement: the row is written only while the certificate has the stated status, so
    // the check and the write cannot be separated by a revocation.
    KYSO_ASSIGN_OR_RETURN(
        Statement upsert,
        Prepare("INSERT INTO ocsp_responses (certificate_id, status, this_update, next_update, "
                "der) SELECT id, ?, ?, ?, ? FROM certificates WHERE issuer_ca_id = ? AND "
                "serial_hex = ? AND status = ? "
                "ON CONFLICT (certificate_id) DO UPDATE SET status = excluded.status, "
                "this_update = excluded.this_update, next_update = excluded.next_update, "
                "der = excluded.der WHERE excluded.this_update >= ocsp_responses.this_update"));
    upsert.Text(StatusText(response.status))
        .Int(response.this_update)
        .Int(response.next_update)
        .Blob(response.der)
        .Int(response.ca_id)
        .Text(serial)
        .Text(StatusText(response.status));
    KYSO_RETURN_IF_ERROR(upsert.Run());
    if (sqlite3_changes(connection_->db()) > 0) return true;
  }
  // Nothing written: say whether the certificate is missing, changed status, or already has
  // a newer response.
  KYSO_ASSIGN_OR_RETURN(
      Statement select,
      Prepare("SELECT status FROM certificates WHERE issuer_ca_id = ? AND serial_hex = ?"));
  KYSO_ASSIGN_OR_RETURN(bool row, select.Int(response.ca_id).Text(serial).Step());
  if (!row) {
    return NotFound("store.not_found", "no certificate with serial " + serial + " from CA " +
                                           std::to_string(response.ca_id));
  }
  return select.ColumnText(0) == StatusText(response.status);
}

Result<std::optional<OcspResponseRecord>> SqliteTransaction::GetOcspResponse(
    int64_t ca_id, std::string_view serial_hex) {
  KYSO_RETURN_IF_ERROR(CheckOpen());
  KYSO_ASSIGN_OR_RETURN(
      Statement select,
      Prepare("SELECT r.certificate_id, c.serial_hex, r.status, c.status, c.revoked_at, "
              "c.revocation_reason, c.invalidity_date, r.this_update, r.next_update, r.der "
              "FROM certificates c JOIN ocsp_responses r ON r.certificate_id = c.id "
              "WHERE c.issuer_ca_id = ? AND c.serial_hex = ?"));
  KYSO_ASSIGN_OR_RETURN(bool row, select.Int(ca_id).Text(ToUpperAscii(serial_hex)).Step());
  if (!row) return std::optional<OcspResponseRecord>();
  OcspResponseRecord record;
  record.certificate_id = select.ColumnInt(0);
  record.ca_id = ca_id;
  record.serial_hex = select.ColumnText(1);
  record.status = select.ColumnText(2) == kStatusRevoked ? CertificateStatus::kRevoked
                                                         : CertificateStatus::kValid;
  if (select.ColumnText(3) == kStatusRevoked) {
    KYSO_ASSIGN_OR_RETURN(record.revocation, ReadRevocation(select, 4, path()));
  }
  record.this_update = select.ColumnInt(7);
  record.next_update = select.ColumnInt(8);
  record.der = select.ColumnBlob(9);
  return std::optional<OcspResponseRecord>(std::move(record));
}

Result<std::vector<OcspResponseRecord>> SqliteTransaction::ListOcspResponses(
    int64_t ca_id, int64_t after_certificate_id, UnixSeconds next_update_after, int64_t limit) {
  KYSO_RETURN_IF_ERROR(CheckOpen());
  KYSO_ASSIGN_OR_RETURN(
      Statement select,
      Prepare("SELECT r.certificate_id, c.serial_hex, r.status, c.status, c.revoked_at, "
              "c.revocation_reason, c.invalidity_date, r.this_update, r.next_update, r.der "
              "FROM ocsp_responses r JOIN certificates c ON c.id = r.certificate_id "
              "WHERE r.certificate_id > ? AND +c.issuer_ca_id = ? AND +r.next_update > ? "
              "ORDER BY r.certificate_id LIMIT ?"));
  select.Int(after_certificate_id).Int(ca_id).Int(next_update_after).Int(limit);
  std::vector<OcspResponseRecord> records;
  while (true) {
    KYSO_ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) break;
    OcspResponseRecord record;
    record.certificate_id = select.ColumnInt(0);
    record.ca_id = ca_id;
    record.serial_hex = select.ColumnText(1);
    record.status = select.ColumnText(2) == kStatusRevoked ? CertificateStatus::kRevoked
                                                           : CertificateStatus::kValid;
    if (select.ColumnText(3) == kStatusRevoked) {
      KYSO_ASSIGN_OR_RETURN(record.revocation, ReadRevocation(select, 4, path()));
    }
    record.this_update = select.ColumnInt(7);
    record.next_update = select.ColumnInt(8);
    record.der = select.ColumnBlob(9);
    records.push_back(std::move(record));
  }
  return records;
}

Result<int64_t> SqliteTransaction::DeleteExpiredOcspResponses(UnixSeconds at) {
  KYSO_RETURN_IF_ERROR(CheckWritable());
  KYSO_ASSIGN_OR_RETURN(Statement drop,
                        Prepare("DELETE FROM ocsp_responses WHERE next_update <= ?"));
  KYSO_RETURN_IF_ERROR(drop.Int(at).Run());
  return static_cast<int64_t>(sqlite3_changes(connection_->db()));
}

// --- CRLs ---

Result<int64_t> SqliteTransaction::NextCrlNumber(int64_t ca_id) {
  KYSO_RETURN_IF_ERROR(CheckWritable());
  KYSO_ASSIGN_OR_RETURN(Statement update,
                        Prepare("UPDATE ca_counters SET crl_number = crl_number + 1 "
                                "WHERE ca_id = ? RETURNING crl_number"));
  KYSO_ASSIGN_OR_RETURN(bool row, update.Int(ca_id).Step());
  if (!row) return NotFound("store.not_found", "no CA with id " + std::to_string(ca_id));
  const int64_t number = update.ColumnInt(0);
  KYSO_RETURN_IF_ERROR(update.Run());
  return number;
}

Result<int64_t> SqliteTransaction::InsertCrl(const CrlRecord& crl) {
  KYSO_RETURN_IF_ERROR(CheckWritable());
  KYSO_ASSIGN_OR_RETURN(
      Statement insert,
      Prepare("INSERT INTO crls (ca_id, number, base_number, is_delta, this_update, "
              "next_update, max_revocation_seq, entry_count, der) "
              "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  insert.Int(crl.ca_id)
      .Int(crl.number)
      .OptionalInt(crl.base_number)
      .Int(crl.base_number.has_value() ? 1 : 0)
      .Int(crl.this_update)
      .Int(crl.next_update)
      .Int(crl.max_revocation_seq)
      .Int(crl.entry_count)
      .Blob(crl.der);
  KYSO_RETURN_IF_ERROR(insert.Run().WithContext("CRL number " + std::to_string(crl.number) +
                                                " of CA " + std::to_string(crl.ca_id)));
  return sqlite3_last_insert_rowid(connection_->db());
}

Result<std::optional<CrlRecord>> SqliteTransaction::LatestCrl(int64_t ca_id, bool delta) {
  KYSO_RETURN_IF_ERROR(CheckOpen());
  KYSO_ASSIGN_OR_RETURN(Statement select, Prepare(std::string("SELECT ") + kCrlColumns +
                                                  " FROM crls WHERE ca_id = ? AND is_delta = ? "
                                                  "ORDER BY number DESC LIMIT 1"));
  KYSO_ASSIGN_OR_RETURN(bool row, select.Int(ca_id).Int(delta ? 1 : 0).Step());
  if (!row) return std::optional<CrlRecord>();
  return std::optional<CrlRecord>(ReadCrl(select));
}

// --- audit log ---

Result<std::optional<AuditEntry>> SqliteTransaction::LastAuditEntry() {
  KYSO_RETURN_IF_ERROR(CheckOpen());
  KYSO_ASSIGN_OR_RETURN(Statement select, Prepare(std::string("SELECT ") + kAuditColumns +
                                                  " FROM audit_log ORDER BY seq DESC LIMIT 1"));
  KYSO_ASSIGN_OR_RETURN(bool row, select.Step());
  if (!row) return std::optional<AuditEntry>();
  return std::optional<AuditEntry>(ReadAuditEntry(select));
}

Status SqliteTransaction::InsertAuditEntry(const AuditEntry& entry) {
  KYSO_RETURN_IF_ERROR(CheckWritable());
  KYSO_ASSIGN_OR_RETURN(Statement insert,
                        Prepare("INSERT INTO audit_log (seq, time, actor, action, object, "
                                "details, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"));
  insert.Int(entry.seq)
      .Int(entry.time)
      .Text(entry.actor)
      .Text(entry.action)
      .Text(entry.object)
      .Text(entry.details)
      .Blob(entry.prev_hash)
      .Blob(entry.hash);
  return insert.Run().WithContext("audit entry " + std::to_string(entry.seq));
}

Result<std::vector<AuditEntry>> SqliteTransaction::ListAuditEntries(int64_t from_seq,
                                                                    int64_t limit) {
  KYSO_RETURN_IF_ERROR(CheckOpen());
  KYSO_ASSIGN_OR_RETURN(Statement select,
                        Prepare(std::string("SELECT ") + kAuditColumns +
                                " FROM audit_log WHERE seq >= ? ORDER BY seq LIMIT ?"));
  select.Int(from_seq).Int(limit);
  std::vector<AuditEntry> entries;
  while (true) {
    KYSO_ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) break;
    entries.push_back(ReadAuditEntry(select));
  }
  return entries;
}

Result<int64_t> SqliteTransaction::InsertAuditCheckpoint(const AuditCheckpoint& checkpoint) {
  KYSO_RETURN_IF_ERROR(CheckWritable());
  KYSO_ASSIGN_OR_RETURN(
      Statement insert,
      Prepare("INSERT INTO audit_checkpoints (seq, head_hash, time, signer_fingerprint, "
              "scheme, signature) VALUES (?, ?, ?, ?, ?, ?)"));
  insert.Int(checkpoint.seq)
      .Blob(checkpoint.head_hash)
      .Int(checkpoint.time)
      .Text(checkpoint.signer_fingerprint)
      .Text(checkpoint.scheme)
      .Blob(checkpoint.signature);
  KYSO_RETURN_IF_ERROR(insert.Run());
  return sqlite3_last_insert_rowid(connection_->db());
}

Result<std::vector<AuditCheckpoint>> SqliteTransaction::ListAuditCheckpoints() {
  KYSO_RETURN_IF_ERROR(CheckOpen());
  KYSO_ASSIGN_OR_RETURN(Statement select, Prepare(std::string("SELECT ") + kCheckpointColumns +
                                                  " FROM audit_checkpoints ORDER BY seq, id"));
  std::vector<AuditCheckpoint> checkpoints;
  while (true) {
    KYSO_ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) break;
    checkpoints.push_back(ReadCheckpoint(select));
  }
  return checkpoints;
}

Result<std::optional<AuditCheckpoint>> SqliteTransaction::LastAuditCheckpoint() {
  KYSO_RETURN_IF_ERROR(CheckOpen());
  KYSO_ASSIGN_OR_RETURN(Statement select,
                        Prepare(std::string("SELECT ") + kCheckpointColumns +
                                " FROM audit_checkpoints ORDER BY seq DESC, id DESC LIMIT 1"));
  KYSO_ASSIGN_OR_RETURN(bool row, select.Step());
  if (!row) return std::optional<AuditCheckpoint>();
  return std::optional<AuditCheckpoint>(ReadCheckpoint(select));
}

// --- registration workflow: shared helpers ---

Result<std::string> SqliteTransaction::OrganizationPath(int64_t id, std::string_view role) {
  KYSO_ASSIGN_OR_RETURN(Statement select, Prepare("SELECT path FROM organizations WHERE id = ?"));
  KYSO_ASSIGN_OR_RETURN(bool row, select.Int(id).Step());
  if (!row) {
    return NotFound("store.not_found", "no organization with id " + std::to_string(id) + " (" +
                                           std::string(role) + ")");
  }
  return select.ColumnText(0);
}

Status SqliteTransaction::UpdateMissed(const char* table, std::string_view what, int64_t id,
                                       int64_t version) {
  KYSO_ASSIGN_OR_RETURN(Statement select,
                        Prepare(std::string("SELECT version FROM ") + table + " WHERE id = ?"));
  KYSO_ASSIGN_OR_RETURN(bool row, select.Int(id).Step());
  if (!row) {
    return NotFound("store.not_found",
                    "no " + std::string(what) + " with id " + std::to_string(id));
  }
  return FailedPrecondition("store.conflict", std::string(what) + " " + std::to_string(id) +
                                                  " was changed by someone else (version " +
                                                  std::to_string(select.ColumnInt(0)) +
                                                  ", expected " + std::to_string(version) + ")");
}

// --- organizations ---

Result<int64_t> SqliteTransaction::InsertOrganization(const OrganizationRecord& org) {
  KYSO_RETURN_IF_ERROR(CheckWritable());
  std::string parent_path = "/";
  if (org.parent_id) {
    KYSO_ASSIGN_OR_RETURN(parent_path, OrganizationPath(*org.parent_id, "the parent"));
  }
  // The path holds the new id, so the id is chosen here rather than by the INSERT: the next
  // rowid, which is what SQLite would pick. Write transactions are serialized, so no other
  // writer can take it in between, and the single INSERT below is all that is written.
  int64_t id = 0;
  {
    KYSO_ASSIGN_OR_RETURN(Statement next,
                          Prepare("SELECT coalesce(max(id), 0) + 1 FROM organizations"));
    KYSO_ASSIGN_OR_RETURN(bool row, next.Step());
    if (!row) return Unavailable("store.io", path() + ": no next organization id");
    id = next.ColumnInt(0);
  }
  KYSO_ASSIGN_OR_RETURN(
      Statement insert,
      Prepare("INSERT INTO organizations (id, parent_id, path, name, tax_code, budget_code, "
              "address, email, province, managing_agency, created_at, updated_at, version) "
              "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)"));
  insert.Int(id)
      .OptionalInt(org.parent_id)
      .Text(parent_path + std::to_string(id) + "/")
      .Text(org.name)
      .Text(org.tax_code)
      .Text(org.budget_code)
      .Text(org.address)
      .Text(org.email)
      .Text(org.province)
      .Int(org.managing_agency ? 1 : 0)
      .Int(org.created_at)
      .Int(org.updated_at);
  KYSO_RETURN_IF_ERROR(insert.Run().WithContext("organization \"" + org.name + "\""));
  return id;
}

Result<OrganizationRecord> SqliteTransaction::GetOrganization(int64_t id) {
  KYSO_RETURN_IF_ERROR(CheckOpen());
  KYSO_ASSIGN_OR_RETURN(Statement select, Prepare(std::string("SELECT ") + kOrganizationColumns +
                                                  " FROM organizations o WHERE o.id = ?"));
  KYSO_ASSIGN_OR_RETURN(bool row, select.Int(id).Step());
  if (!row) return NotFound("store.not_found", "no organization with id " + std::to_string(id));
  return ReadOrganization(select);
}

Status SqliteTransaction::UpdateOrganization(const OrganizationRecord& org) {
  KYSO_RETURN_IF_ERROR(CheckWritable());
  {
    KYSO_ASSIGN_OR_RETURN(
        Statement update,
        Prepare("UPDATE organizations SET name = ?, tax_code = ?, budget_code = ?, address = ?, "
                "email = ?, province = ?, managing_agency = ?, updated_at = ?, "
                "version = version + 1 WHERE id = ? AND version = ?"));
    update.Text(org.name)
        .Text(org.tax_code)
        .Text(org.budget_code)
        .Text(org.address)
        .Text(org.email)
        .Text(org.province)
        .Int(org.managing_agency ? 1 : 0)
        .Int(org.updated_at)
        .Int(org.id)
        .Int(org.version);
    KYSO_RETURN_IF_ERROR(update.Run());
    if (Changes() > 0) return Status::Ok();
  }
  return UpdateMissed("organizations", "organization", org.id, org.version);
}

Result<std::vector<OrganizationRecord>> SqliteTransaction::ListOrganizations(
    const OrganizationFilter& filter) {
  KYSO_RETURN_IF_ERROR(CheckOpen());
  const FilterSql sql = BuildOrganizationFilter(filter);
  KYSO_ASSIGN_OR_RETURN(Statement select,
                        Prepare(std::string("SELECT ") + kOrganizationColumns +
                                " FROM organizations o" + sql.where + " ORDER BY o.id LIMIT ?"));
  BindFilter(select, sql);
  select.Int(filter.limit);
  std::vector<OrganizationRecord> orgs;
  while (true) {
    KYSO_ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) break;
    orgs.push_back(ReadOrganization(select));
  }
  return orgs;
}

// --- people ---

Result<int64_t> SqliteTransaction::InsertPerson(const PersonRecord& person) {
  KYSO_RETURN_IF_ERROR(CheckWritable());
  KYSO_ASSIGN_OR_RETURN(
      Statement insert,
      Prepare("INSERT INTO people (organization_id, full_name, personal_id, position, email, "
              "mobile, status, created_at, updated_at, version) "
              "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1)"));
  insert.Int(person.organization_id)
      .Text(person.full_name)
      .Text(person.personal_id)
      .Text(person.position)
      .Text(person.email)
      .Text(person.mobile)
      .Text(person.status)
      .Int(person.created_at)
      .Int(person.updated_at);
  KYSO_RETURN_IF_ERROR(insert.Run().WithContext("person " + person.personal_id));
  return sqlite3_last_insert_rowid(connection_->db());
}

Result<PersonRecord> SqliteTransaction::GetPerson(int64_t id) {
  KYSO_RETURN_IF_ERROR(CheckOpen());
  KYSO_ASSIGN_OR_RETURN(
      Statement select,
      Prepare(std::string("SELECT ") + kPersonColumns +
              " FROM people p JOIN organizations o ON o.id = p.organization_id WHERE p.id = ?"));
  KYSO_ASSIGN_OR_RETURN(bool row, select.Int(id).Step());
  if (!row) return NotFound("store.not_found", "no person with id " + std::to_string(id));
  return ReadPerson(select);
}

Status SqliteTransaction::UpdatePerson(const PersonRecord& person) {
  KYSO_RETURN_IF_ERROR(CheckWritable());
  {
    KYSO_ASSIGN_OR_RETURN(
        Statement update,
        Prepare("UPDATE people SET organization_id = ?, full_name = ?, personal_id = ?, "
                "position = ?, email = ?, mobile = ?, status = ?, updated_at = ?, "
                "version = version + 1 WHERE id = ? AND version = ?"));
    update.Int(person.organization_id)
        .Text(person.full_name)
        .Text(person.personal_id)
        .Text(person.position)
        .Text(person.email)
        .Text(person.mobile)
        .Text(person.status)
        .Int(person.updated_at)
        .Int(person.id)
        .Int(person.version);
    KYSO_RETURN_IF_ERROR(update.Run().WithContext("person " + std::to_string(person.id)));
    if (Changes() > 0) return Status::Ok();
  }
  return UpdateMissed("people", "person", person.id, person.version);
}

Result<std::vector<PersonRecord>> SqliteTransaction::ListPeople(const PersonFilter& filter) {
  KYSO_RETURN_IF_ERROR(CheckOpen());
  const FilterSql sql = BuildPersonFilter(filter);
  KYSO_ASSIGN_OR_RETURN(Statement select,
                        Prepare(std::string("SELECT ") + kPersonColumns +
                                " FROM people p JOIN organizations o ON o.id = p.organization_id" +
                                sql.where + " ORDER BY p.id LIMIT ?"));
  BindFilter(select, sql);
  select.Int(filter.limit);
  std::vector<PersonRecord> people;
  while (true) {
    KYSO_ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) break;
    people.push_back(ReadPerson(select));
  }
  return people;
}

// --- accounts and access tokens ---

Result<int64_t> SqliteTransaction::InsertAccount(const AccountRecord& account) {
  KYSO_RETURN_IF_ERROR(CheckWritable());
  KYSO_ASSIGN_OR_RETURN(
      Statement insert,
      Prepare("INSERT INTO accounts (username, display_name, role, organization_id, person_id, "
              "password_hash, certificate_fingerprint, disabled, created_at, version) "
              "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1)"));
  insert.Text(account.username)
      .Text(account.display_name)
      .Text(account.role)
      .OptionalInt(account.organization_id)
      .OptionalInt(account.person_id)
      .Text(account.password_hash)
      .Text(account.certificate_fingerprint)
      .Int(account.disabled ? 1 : 0)
      .Int(account.created_at);
  KYSO_RETURN_IF_ERROR(insert.Run().WithContext("account \"" + account.username + "\""));
  return sqlite3_last_insert_rowid(connection_->db());
}

Result<AccountRecord> SqliteTransaction::GetAccount(int64_t id) {
  KYSO_RETURN_IF_ERROR(CheckOpen());
  KYSO_ASSIGN_OR_RETURN(Statement select, Prepare(std::string("SELECT ") + kAccountColumns +
                                                  " FROM accounts WHERE id = ?"));
  KYSO_ASSIGN_OR_RETURN(bool row, select.Int(id).Step());
  if (!row) return NotFound("store.not_found", "no account with id " + std::to_string(id));
  return ReadAccount(select);
}

Result<AccountRecord> SqliteTransaction::GetAccountByUsername(std::string_view username) {
  KYSO_RETURN_IF_ERROR(CheckOpen());
  KYSO_ASSIGN_OR_RETURN(Statement select, Prepare(std::string("SELECT ") + kAccountColumns +
                                                  " FROM accounts WHERE username = ?"));
  KYSO_ASSIGN_OR_RETURN(bool row, select.Text(username).Step());
  if (!row) {
    return NotFound("store.not_found", "no account named \"" + std::string(username) + "\"");
  }
  return ReadAccount(select);
}

Result<AccountRecord> SqliteTransaction::GetAccountByCertificate(std::string_view fingerprint) {
  KYSO_RETURN_IF_ERROR(CheckOpen());
  // "" is how an account says it has no certificate; it identifies nobody.
  KYSO_ASSIGN_OR_RETURN(Statement select,
                        Prepare(std::string("SELECT ") + kAccountColumns +
                                " FROM accounts WHERE certificate_fingerprint = ? AND "
                                "certificate_fingerprint <> ''"));
  KYSO_ASSIGN_OR_RETURN(bool row, select.Text(fingerprint).Step());
  if (!row) {
    return NotFound("store.not_found", "no account with certificate " + std::string(fingerprint));
  }
  return ReadAccount(select);
}

Status SqliteTransaction::UpdateAccount(const AccountRecord& account) {
  KYSO_RETURN_IF_ERROR(CheckWritable());
  {
    KYSO_ASSIGN_OR_RETURN(
        Statement update,
        Prepare("UPDATE accounts SET username = ?, display_name = ?, role = ?, "
                "organization_id = ?, person_id = ?, password_hash = ?, "
                "certificate_fingerprint = ?, disabled = ?, version = version + 1 "
                "WHERE id = ? AND version = ?"));
    update.Text(account.username)
        .Text(account.display_name)
        .Text(account.role)
        .OptionalInt(account.organization_id)
        .OptionalInt(account.person_id)
        .Text(account.password_hash)
        .Text(account.certificate_fingerprint)
        .Int(account.disabled ? 1 : 0)
        .Int(account.id)
        .Int(account.version);
    KYSO_RETURN_IF_ERROR(update.Run().WithContext("account \"" + account.username + "\""));
    if (Changes() > 0) return Status::Ok();
  }
  return UpdateMissed("accounts", "account", account.id, account.version);
}

Result<std::vector<AccountRecord>> SqliteTransaction::ListAccounts(int64_t after_id,
                                                                   int64_t limit) {
  KYSO_RETURN_IF_ERROR(CheckOpen());
  KYSO_ASSIGN_OR_RETURN(Statement select,
                        Prepare(std::string("SELECT ") + kAccountColumns +
                                " FROM accounts WHERE id > ? ORDER BY id LIMIT ?"));
  select.Int(after_id).Int(limit);
  std::vector<AccountRecord> accounts;
  while (true) {
    KYSO_ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) break;
    accounts.push_back(ReadAccount(select));
  }
  return accounts;
}

Status SqliteTransaction::InsertAccessToken(const AccessTokenRecord& token) {
  KYSO_RETURN_IF_ERROR(CheckWritable());
  KYSO_ASSIGN_OR_RETURN(
      Statement insert,
      Prepare("INSERT INTO access_tokens (token_hash, account_id, kind, name, csrf_hash, "
              "created_at, expires_at, revoked) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"));
  insert.Text(token.token_hash)
      .Int(token.account_id)
      .Text(token.kind)
      .Text(token.name)
      .Text(token.csrf_hash)
      .Int(token.created_at)
      .Int(token.expires_at)
      .Int(token.revoked ? 1 : 0);
  return insert.Run().WithContext("access token of account " + std::to_string(token.account_id));
}

Result<AccessTokenRecord> SqliteTransaction::GetAccessToken(std::string_view token_hash) {
  KYSO_RETURN_IF_ERROR(CheckOpen());
  KYSO_ASSIGN_OR_RETURN(Statement select, Prepare(std::string("SELECT ") + kAccessTokenColumns +
                                                  " FROM access_tokens WHERE token_hash = ?"));
  KYSO_ASSIGN_OR_RETURN(bool row, select.Text(token_hash).Step());
  // The hash is a credential's fingerprint: it is not repeated in the message.
  if (!row) return NotFound("store.not_found", "no such access token");
  return ReadAccessToken(select);
}

Result<AccessTokenRecord> SqliteTransaction::GetAccessTokenById(int64_t id) {
  KYSO_RETURN_IF_ERROR(CheckOpen());
  KYSO_ASSIGN_OR_RETURN(Statement select, Prepare(std::string("SELECT ") + kAccessTokenColumns +
                                                  " FROM access_tokens WHERE id = ?"));
  KYSO_ASSIGN_OR_RETURN(bool row, select.Int(id).Step());
  if (!row) return NotFound("store.not_found", "no access token with id " + std::to_string(id));
  return ReadAccessToken(select);
}

Result<std::vector<AccessTokenRecord>> SqliteTransaction::ListAccessTokens(int64_t account_id,
                                                                           std::string_view kind,
                                                                           int64_t after_id,
                                                                           int64_t limit) {
  KYSO_RETURN_IF_ERROR(CheckOpen());
  // One range of access_tokens_account (account_id, kind, id), already in id order.
  KYSO_ASSIGN_OR_RETURN(Statement select,
                        Prepare(std::string("SELECT ") + kAccessTokenColumns +
                                " FROM access_tokens WHERE account_id = ? AND kind = ? AND id > ? "
                                "ORDER BY id LIMIT ?"));
  select.Int(account_id).Text(kind).Int(after_id).Int(limit);
  std::vector<AccessTokenRecord> tokens;
  while (true) {
    KYSO_ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) break;
    tokens.push_back(ReadAccessToken(select));
  }
  return tokens;
}

Status SqliteTransaction::RevokeAccessToken(std::string_view token_hash) {
  KYSO_RETURN_IF_ERROR(CheckWritable());
  KYSO_ASSIGN_OR_RETURN(Statement update,
                        Prepare("UPDATE access_tokens SET revoked = 1 WHERE token_hash = ?"));
  KYSO_RETURN_IF_ERROR(update.Text(token_hash).Run());
  if (Changes() == 0) return NotFound("store.not_found", "no such access token");
  return Status::Ok();
}

Result<int64_t> SqliteTransaction::DeleteExpiredAccessTokens(UnixSeconds at) {
  KYSO_RETURN_IF_ERROR(CheckWritable());
  KYSO_ASSIGN_OR_RETURN(Statement drop, Prepare("DELETE FROM access_tokens WHERE expires_at <= ?"));
  KYSO_RETURN_IF_ERROR(drop.Int(at).Run());
  return Changes();
}

// --- delegations ---

Result<int64_t> SqliteTransaction::InsertDelegation(const DelegationRecord& delegation) {
  KYSO_RETURN_IF_ERROR(CheckWritable());
  KYSO_ASSIGN_OR_RETURN(
      Statement insert,
      Prepare("INSERT INTO delegations (delegate_organization_id, scope_organization_id, kinds, "
              "created_by, created_at, withdrawn_at, withdrawn_by) "
              "VALUES (?, ?, ?, ?, ?, ?, ?)"));
  insert.Int(delegation.delegate_organization_id)
      .Int(delegation.scope_organization_id)
      .Text(EncodeStringArray(delegation.kinds))
      .Text(delegation.created_by)
      .Int(delegation.created_at)
      .OptionalInt(delegation.withdrawn_at)
      .Text(delegation.withdrawn_by);
  KYSO_RETURN_IF_ERROR(insert.Run().WithContext(
      "delegation to organization " + std::to_string(delegation.delegate_organization_id) +
      " for organization " + std::to_string(delegation.scope_organization_id)));
  return sqlite3_last_insert_rowid(connection_->db());
}

Result<DelegationRecord> SqliteTransaction::GetDelegation(int64_t id) {
  KYSO_RETURN_IF_ERROR(CheckOpen());
  KYSO_ASSIGN_OR_RETURN(Statement select,
                        Prepare(std::string("SELECT ") + kDelegationColumns +
                                " FROM delegations d JOIN organizations o "
                                "ON o.id = d.scope_organization_id WHERE d.id = ?"));
  KYSO_ASSIGN_OR_RETURN(bool row, select.Int(id).Step());
  if (!row) return NotFound("store.not_found", "no delegation with id " + std::to_string(id));
  return ReadDelegation(select, path());
}

Status SqliteTransaction::WithdrawDelegation(int64_t id, UnixSeconds at, std::string_view by) {
  KYSO_RETURN_IF_ERROR(CheckWritable());
  {
    KYSO_ASSIGN_OR_RETURN(Statement update,
                          Prepare("UPDATE delegations SET withdrawn_at = ?, withdrawn_by = ? "
                                  "WHERE id = ? AND withdrawn_at IS NULL"));
    KYSO_RETURN_IF_ERROR(update.Int(at).Text(by).Int(id).Run());
    if (Changes() > 0) return Status::Ok();
  }
  // Nothing changed: say whether the delegation is missing or was already withdrawn.
  KYSO_ASSIGN_OR_RETURN(Statement select,
                        Prepare("SELECT withdrawn_by FROM delegations WHERE id = ?"));
  KYSO_ASSIGN_OR_RETURN(bool row, select.Int(id).Step());
  if (!row) return NotFound("store.not_found", "no delegation with id " + std::to_string(id));
  return FailedPrecondition(
      "store.conflict",
      "delegation " + std::to_string(id) + " was already withdrawn by " + select.ColumnText(0));
}

Result<std::vector<DelegationRecord>> SqliteTransaction::ListDelegations(
    const DelegationFilter& filter) {
  KYSO_RETURN_IF_ERROR(CheckOpen());
  FilterSql sql;
  if (filter.active_only) AddCondition(sql, "d.withdrawn_at IS NULL");
  if (filter.delegate_organization_id) {
    AddCondition(sql, "d.delegate_organization_id = ?");
    sql.params.emplace_back(*filter.delegate_organization_id);
  }
  KYSO_ASSIGN_OR_RETURN(Statement select, Prepare(std::string("SELECT ") + kDelegationColumns +
                                                  " FROM delegations d JOIN organizations o "
                                                  "ON o.id = d.scope_organization_id" +
                                                  sql.where + " ORDER BY d.id LIMIT ?"));
  BindFilter(select, sql);
  select.Int(filter.limit);
  std::vector<DelegationRecord> delegations;
  while (true) {
    KYSO_ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) break;
    KYSO_ASSIGN_OR_RETURN(DelegationRecord delegation, ReadDelegation(select, path()));
    delegations.push_back(std::move(delegation));
  }
  return delegations;
}

// --- requests ---

Result<int64_t> SqliteTransaction::InsertRequest(const RequestRecord& request) {
  KYSO_RETURN_IF_ERROR(CheckWritable());
  KYSO_ASSIGN_OR_RETURN(const std::string organization_path,
                        OrganizationPath(request.organization_id, "the request's organization"));
  // The request row first: it is the one that can fail (a repeated idempotency key, an
  // unknown person, certificate or delegation), and then nothing is written.
  KYSO_ASSIGN_OR_RETURN(
      Statement insert,
      Prepare(
          "INSERT INTO requests (kind, state, organization_id, organization_path, "
          "person_id, certificate_id, assignee, delegation_id, signer, submitted_at, due_at, "
          "result_certificate_id, result_note, created_by, idempotency_key, created_at, "
          "updated_at, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)"));
  insert.Text(request.kind)
      .Text(request.state)
      .Int(request.organization_id)
      .Text(organization_path)
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
      .Int(request.updated_at);
  KYSO_RETURN_IF_ERROR(insert.Run().WithContext("request of kind " + request.kind));
  const int64_t id = sqlite3_last_insert_rowid(connection_->db());
  KYSO_ASSIGN_OR_RETURN(Statement documents,
                        Prepare("INSERT INTO request_documents (request_id, form_json, "
                                "signed_document, signature) VALUES (?, ?, ?, ?)"));
  documents.Int(id).Text(request.form_json).Blob(request.signed_document).Blob(request.signature);
  KYSO_RETURN_IF_ERROR(documents.Run().WithContext("request " + std::to_string(id)));
  return id;
}

Result<RequestRecord> SqliteTransaction::GetRequest(int64_t id) {
  KYSO_RETURN_IF_ERROR(CheckOpen());
  KYSO_ASSIGN_OR_RETURN(Statement select, Prepare(std::string("SELECT ") + kRequestColumns +
                                                  kRequestTables + " WHERE r.id = ?"));
  KYSO_ASSIGN_OR_RETURN(bool row, select.Int(id).Step());
  if (!row) return NotFound("store.not_found", "no request with id " + std::to_string(id));
  return ReadRequest(select);
}

Status SqliteTransaction::UpdateRequest(const RequestRecord& request) {
  KYSO_RETURN_IF_ERROR(CheckWritable());
  {
    KYSO_ASSIGN_OR_RETURN(
        Statement update,
        Prepare("UPDATE requests SET state = ?, assignee = ?, delegation_id = ?, signer = ?, "
                "submitted_at = ?, due_at = ?, result_certificate_id = ?, result_note = ?, "
                "updated_at = ?, version = version + 1 WHERE id = ? AND version = ?"));
    update.Text(request.state)
        .Text(request.assignee)
        .OptionalInt(request.delegation_id)
        .Text(request.signer)
        .OptionalInt(request.submitted_at)
        .OptionalInt(request.due_at)
        .OptionalInt(request.result_certificate_id)
        .Text(request.result_note)
        .Int(request.updated_at)
        .Int(request.id)
        .Int(request.version);
    KYSO_RETURN_IF_ERROR(update.Run().WithContext("request " + std::to_string(request.id)));
  }
  if (Changes() == 0) return UpdateMissed("requests", "request", request.id, request.version);
  KYSO_ASSIGN_OR_RETURN(Statement documents,
                        Prepare("UPDATE request_documents SET form_json = ?, signed_document = ?, "
                                "signature = ? WHERE request_id = ?"));
  documents.Text(request.form_json)
      .Blob(request.signed_document)
      .Blob(request.signature)
      .Int(request.id);
  return documents.Run().WithContext("request " + std::to_string(request.id));
}

Result<std::vector<RequestRecord>> SqliteTransaction::ListRequests(const RequestFilter& filter) {
  KYSO_RETURN_IF_ERROR(CheckOpen());
  FilterSql sql = BuildRequestFilter(filter);
  if (filter.after_id > 0) {
    AddCondition(sql, "r.id > ?");
    sql.params.emplace_back(filter.after_id);
  }
  if (filter.newest_first && filter.before_id > 0) {
    AddCondition(sql, "r.id < ?");
    sql.params.emplace_back(filter.before_id);
  }
  const std::string order = filter.newest_first ? " ORDER BY r.id DESC" : " ORDER BY r.id";
  // In two steps: the page's ids, which the indexes of the filter usually answer alone (a
  // subtree or a state spans many rows that must be ordered by id, and sorting ids is cheap),
  // then the page's rows and documents by primary key, without another sort.
  KYSO_ASSIGN_OR_RETURN(Statement select,
                        Prepare(std::string("SELECT ") + kRequestColumns + kRequestTables +
                                " WHERE r.id IN (SELECT r.id FROM requests r" + sql.where + order +
                                " LIMIT ?)" + order));
  BindFilter(select, sql);
  select.Int(filter.limit);
  std::vector<RequestRecord> requests;
  while (true) {
    KYSO_ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) break;
    requests.push_back(ReadRequest(select));
  }
  return requests;
}

Result<int64_t> SqliteTransaction::CountRequests(const RequestFilter& filter) {
  KYSO_RETURN_IF_ERROR(CheckOpen());
  const FilterSql sql = BuildRequestFilter(filter);
  KYSO_ASSIGN_OR_RETURN(Statement select, Prepare("SELECT count(*) FROM requests r" + sql.where));
  BindFilter(select, sql);
  KYSO_ASSIGN_OR_RETURN(bool row, select.Step());
  return row ? select.ColumnInt(0) : 0;
}

Result<int64_t> SqliteTransaction::InsertRequestEvent(const RequestEventRecord& event) {
  KYSO_RETURN_IF_ERROR(CheckWritable());
  KYSO_ASSIGN_OR_RETURN(
      Statement insert,
      Prepare("INSERT INTO request_events (request_id, from_state, to_state, actor, time, "
              "reason) VALUES (?, ?, ?, ?, ?, ?)"));
  insert.Int(event.request_id)
      .Text(event.from_state)
      .Text(event.to_state)
      .Text(event.actor)
      .Int(event.time)
      .Text(event.reason);
  KYSO_RETURN_IF_ERROR(
      insert.Run().WithContext("event of request " + std::to_string(event.request_id)));
  return sqlite3_last_insert_rowid(connection_->db());
}

Result<std::vector<RequestEventRecord>> SqliteTransaction::ListRequestEvents(int64_t request_id) {
  KYSO_RETURN_IF_ERROR(CheckOpen());
  KYSO_ASSIGN_OR_RETURN(Statement select,
                        Prepare(std::string("SELECT ") + kRequestEventColumns +
                                " FROM request_events WHERE request_id = ? ORDER BY id"));
  select.Int(request_id);
  std::vector<RequestEventRecord> events;
  while (true) {
    KYSO_ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) break;
    events.push_back(ReadRequestEvent(select));
  }
  return events;
}

// --- idempotency keys ---

Result<std::optional<IdempotencyRecord>> SqliteTransaction::GetIdempotency(int64_t account_id,
                                                                           std::string_view key) {
  KYSO_RETURN_IF_ERROR(CheckOpen());
  KYSO_ASSIGN_OR_RETURN(Statement select,
                        Prepare("SELECT account_id, key, fingerprint, status, response, created_at "
                                "FROM idempotency_keys WHERE account_id = ? AND key = ?"));
  KYSO_ASSIGN_OR_RETURN(bool row, select.Int(account_id).Text(key).Step());
  if (!row) return std::optional<IdempotencyRecord>();
  IdempotencyRecord record;
  record.account_id = select.ColumnInt(0);
  record.key = select.ColumnText(1);
  record.fingerprint = select.ColumnText(2);
  record.status = static_cast<int>(select.ColumnInt(3));
  record.response = select.ColumnText(4);
  record.created_at = select.ColumnInt(5);
  return std::optional<IdempotencyRecord>(std::move(record));
}

Status SqliteTransaction::InsertIdempotency(const IdempotencyRecord& record) {
  KYSO_RETURN_IF_ERROR(CheckWritable());
  KYSO_ASSIGN_OR_RETURN(
      Statement insert,
      Prepare("INSERT INTO idempotency_keys (account_id, key, fingerprint, status, response, "
              "created_at) VALUES (?, ?, ?, ?, ?, ?)"));
  insert.Int(record.account_id)
      .Text(record.key)
      .Text(record.fingerprint)
      .Int(record.status)
      .Text(record.response)
      .Int(record.created_at);
  return insert.Run().WithContext("idempotency key of account " +
                                  std::to_string(record.account_id));
}

// --- outbox ---

Result<int64_t> SqliteTransaction::InsertOutboxMessage(const OutboxMessage& message) {
  KYSO_RETURN_IF_ERROR(CheckWritable());
  KYSO_ASSIGN_OR_RETURN(
      Statement insert,
      Prepare("INSERT INTO outbox (dedupe_key, channel, recipient, subject, body, created_at, "
              "next_attempt_at, sent_at, attempts, last_error, certificate_id, reminder_days) "
              "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  insert.Text(message.dedupe_key)
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
      .OptionalInt(message.reminder_days);
  KYSO_RETURN_IF_ERROR(insert.Run().WithContext("outbox message " + message.dedupe_key));
  return sqlite3_last_insert_rowid(connection_->db());
}

Result<std::vector<OutboxMessage>> SqliteTransaction::ListDueOutboxMessages(UnixSeconds at,
                                                                            int64_t limit) {
  KYSO_RETURN_IF_ERROR(CheckOpen());
  // "sent_at IS NULL" lets SQLite use the partial index outbox_due: only unsent messages are
  // ever visited, however many were sent before.
  KYSO_ASSIGN_OR_RETURN(Statement select,
                        Prepare(std::string("SELECT ") + kOutboxColumns +
                                " FROM outbox WHERE sent_at IS NULL AND next_attempt_at <= ? "
                                "ORDER BY id LIMIT ?"));
  select.Int(at).Int(limit);
  std::vector<OutboxMessage> messages;
  while (true) {
    KYSO_ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) break;
    messages.push_back(ReadOutboxMessage(select));
  }
  return messages;
}

Result<std::vector<ReminderEntry>> SqliteTransaction::ListReminders(const ReminderFilter& filter) {
  KYSO_RETURN_IF_ERROR(CheckOpen());
  FilterSql sql;
  AddCondition(sql, "m.certificate_id IS NOT NULL");
  if (filter.path_prefix) {
    const std::string condition = PrefixRange(sql, "o.path", *filter.path_prefix);
    AddCondition(sql, condition);
  }
  if (filter.owner_id) {
    AddCondition(sql, "c.owner_id = ?");
    sql.params.emplace_back(*filter.owner_id);
  }
  if (!filter.certificate_ids.empty()) {
    std::string in = "m.certificate_id IN (";
    for (size_t i = 0; i < filter.certificate_ids.size(); ++i) {
      in += i == 0 ? "?" : ", ?";
      sql.params.emplace_back(filter.certificate_ids[i]);
    }
    AddCondition(sql, in + ")");
  }
  if (filter.reminder_days) {
    AddCondition(sql, "m.reminder_days = ?");
    sql.params.emplace_back(*filter.reminder_days);
  }
  if (filter.state) {
    KYSO_ASSIGN_OR_RETURN(std::string condition, ReminderStateCondition(*filter.state));
    AddCondition(sql, condition);
  }
  if (filter.sent_from) {
    AddCondition(sql, "m.sent_at >= ?");
    sql.params.emplace_back(*filter.sent_from);
  }
  if (filter.sent_before) {
    AddCondition(sql, "m.sent_at < ?");
    sql.params.emplace_back(*filter.sent_before);
  }
  AddCondition(sql, "m.id > ?");
  sql.params.emplace_back(filter.after_id);
  KYSO_ASSIGN_OR_RETURN(Statement select,
                        Prepare(std::string("SELECT ") + kReminderColumns + kReminderTables +
                                sql.where + " ORDER BY m.id LIMIT ?"));
  BindFilter(select, sql);
  select.Int(filter.limit);
  std::vector<ReminderEntry> reminders;
  while (true) {
    KYSO_ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) break;
    reminders.push_back(ReadReminder(select));
  }
  return reminders;
}

// --- request attachments ---

AttachmentRecord ReadAttachment(const Statement& row) {
  AttachmentRecord a;
  a.id = row.ColumnInt(0);
  a.request_id = row.ColumnInt(1);
  a.filename = row.ColumnText(2);
  a.content_type = row.ColumnText(3);
  a.size = row.ColumnInt(4);
  a.sha256 = row.ColumnText(5);
  a.created_by = row.ColumnText(6);
  a.created_at = row.ColumnInt(7);
  return a;
}

Result<int64_t> SqliteTransaction::InsertAttachment(const AttachmentRecord& attachment) {
  KYSO_RETURN_IF_ERROR(CheckWritable());
  KYSO_ASSIGN_OR_RETURN(
      Statement insert,
      Prepare("INSERT INTO request_attachments (request_id, filename, content_type, size, sha256, "
              "created_by, created_at, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"));
  insert.Int(attachment.request_id)
      .Text(attachment.filename)
      .Text(attachment.content_type)
      .Int(attachment.size)
      .Text(attachment.sha256)
      .Text(attachment.created_by)
      .Int(attachment.created_at)
      .Blob(attachment.data);
  KYSO_RETURN_IF_ERROR(
      insert.Run().WithContext("attachment of request " + std::to_string(attachment.request_id)));
  return sqlite3_last_insert_rowid(connection_->db());
}

Result<AttachmentRecord> SqliteTransaction::GetAttachment(int64_t id) {
  KYSO_RETURN_IF_ERROR(CheckOpen());
  KYSO_ASSIGN_OR_RETURN(Statement select, Prepare(std::string("SELECT ") + kAttachmentColumns +
                                                  ", data FROM request_attachments WHERE id = ?"));
  KYSO_ASSIGN_OR_RETURN(bool row, select.Int(id).Step());
  if (!row) return NotFound("store.not_found", "no attachment with id " + std::to_string(id));
  AttachmentRecord a = ReadAttachment(select);
  a.data = select.ColumnBlob(kAttachmentDataColumn);
  return a;
}

Result<std::vector<AttachmentRecord>> SqliteTransaction::ListAttachments(int64_t request_id) {
  KYSO_RETURN_IF_ERROR(CheckOpen());
  KYSO_ASSIGN_OR_RETURN(Statement select,
                        Prepare(std::string("SELECT ") + kAttachmentColumns +
                                " FROM request_attachments WHERE request_id = ? ORDER BY id"));
  select.Int(request_id);
  std::vector<AttachmentRecord> out;
  while (true) {
    KYSO_ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) break;
    out.push_back(ReadAttachment(select));
  }
  return out;
}

Status SqliteTransaction::DeleteAttachment(int64_t id) {
  KYSO_RETURN_IF_ERROR(CheckWritable());
  KYSO_ASSIGN_OR_RETURN(Statement drop, Prepare("DELETE FROM request_attachments WHERE id = ?"));
  KYSO_RETURN_IF_ERROR(drop.Int(id).Run());
  if (Changes() == 0) {
    return NotFound("store.not_found", "no attachment with id " + std::to_string(id));
  }
  return Status::Ok();
}

Status SqliteTransaction::MarkOutboxSent(int64_t id, UnixSeconds at) {
  KYSO_RETURN_IF_ERROR(CheckWritable());
  KYSO_ASSIGN_OR_RETURN(Statement update, Prepare("UPDATE outbox SET sent_at = ? WHERE id = ?"));
  KYSO_RETURN_IF_ERROR(update.Int(at).Int(id).Run());
  if (Changes() == 0) {
    return NotFound("store.not_found", "no outbox message with id " + std::to_string(id));
  }
  return Status::Ok();
}

Status SqliteTransaction::MarkOutboxFailed(int64_t id, std::string_view error,
                                           UnixSeconds next_attempt_at) {
  KYSO_RETURN_IF_ERROR(CheckWritable());
  KYSO_ASSIGN_OR_RETURN(Statement update,
                        Prepare("UPDATE outbox SET attempts = attempts + 1, last_error = ?, "
                                "next_attempt_at = ? WHERE id = ?"));
  KYSO_RETURN_IF_ERROR(update.Text(error).Int(next_attempt_at).Int(id).Run());
  if (Changes() == 0) {
    return NotFound("store.not_found", "no outbox message with id " + std::to_string(id));
  }
  return Status::Ok();
}

// --- expiry counts ---

Result<std::vector<ExpiryCount>> SqliteTransaction::CountExpiringByOrganization(
    UnixSeconds from, UnixSeconds before) {
  KYSO_RETURN_IF_ERROR(CheckOpen());
  // certificates_expiring answers this alone: one range (status, not_after) of the partial
  // index, then a sort of the window's organization ids.
  KYSO_ASSIGN_OR_RETURN(Statement select,
                        Prepare("SELECT organization_id, count(*) FROM certificates "
                                "WHERE status = 'valid' AND organization_id IS NOT NULL "
                                "AND not_after >= ? AND not_after < ? "
                                "GROUP BY organization_id ORDER BY organization_id"));
  select.Int(from).Int(before);
  std::vector<ExpiryCount> counts;
  while (true) {
    KYSO_ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) break;
    counts.push_back({select.ColumnInt(0), select.ColumnInt(1)});
  }
  return counts;
}

Result<std::vector<ExpiryCounts>> SqliteTransaction::CountExpiringInSubtree(
    UnixSeconds from, const std::vector<UnixSeconds>& before, std::string_view path_prefix) {
  KYSO_RETURN_IF_ERROR(CheckOpen());
  if (before.empty() || !std::is_sorted(before.begin(), before.end())) {
    return InvalidArgument("store.invalid_record", "expiry windows must be ascending");
  }
  // One range of certificates_expiring (the widest window), each window a conditional sum,
  // joined to the bodies of the subtree for their names: one pass however many windows.
  FilterSql sql;
  std::string select = "SELECT c.organization_id, o.name";
  for (UnixSeconds end : before) {
    select += ", sum(c.not_after < ?)";
    sql.params.emplace_back(end);
  }
  sql.where =
      " WHERE c.status = 'valid' AND c.organization_id IS NOT NULL AND c.not_after >= ? AND "
      "c.not_after < ?";
  sql.params.emplace_back(from);
  sql.params.emplace_back(before.back());
  if (!path_prefix.empty()) {
    const std::string condition = PrefixRange(sql, "o.path", std::string(path_prefix));
    AddCondition(sql, condition);
  }
  KYSO_ASSIGN_OR_RETURN(
      Statement statement,
      Prepare(select + " FROM certificates c JOIN organizations o ON o.id = c.organization_id" +
              sql.where + " GROUP BY c.organization_id ORDER BY c.organization_id"));
  BindFilter(statement, sql);
  std::vector<ExpiryCounts> out;
  while (true) {
    KYSO_ASSIGN_OR_RETURN(bool row, statement.Step());
    if (!row) break;
    ExpiryCounts counts;
    counts.organization_id = statement.ColumnInt(0);
    counts.organization_name = statement.ColumnText(1);
    for (size_t i = 0; i < before.size(); ++i) {
      counts.counts.push_back(statement.ColumnInt(static_cast<int>(i) + 2));
    }
    out.push_back(std::move(counts));
  }
  return out;
}

// --- settings ---

// --- signing keys ---

Status SqliteTransaction::InsertSigningKeyAccess(const SigningKeyAccess& access) {
  KYSO_RETURN_IF_ERROR(CheckWritable());
  // References first, so that a bad one writes nothing.
  KYSO_RETURN_IF_ERROR(GetOrganization(access.organization_id).status());
  std::vector<int64_t> accounts = access.account_ids;
  std::sort(accounts.begin(), accounts.end());
  accounts.erase(std::unique(accounts.begin(), accounts.end()), accounts.end());
  for (int64_t id : accounts) KYSO_RETURN_IF_ERROR(GetAccount(id).status());
  {
    KYSO_ASSIGN_OR_RETURN(Statement insert,
                          Prepare("INSERT INTO signing_keys (id, organization_id, created_by, "
                                  "created_at) VALUES (?, ?, ?, ?)"));
    KYSO_RETURN_IF_ERROR(insert.Text(access.key_id)
                             .Int(access.organization_id)
                             .Text(access.created_by)
                             .Int(access.created_at)
                             .Run()
                             .WithContext("signing key " + access.key_id));
  }
  for (int64_t id : accounts) {
    KYSO_ASSIGN_OR_RETURN(
        Statement grant,
        Prepare("INSERT INTO signing_key_accounts (key_id, account_id) VALUES (?, ?)"));
    KYSO_RETURN_IF_ERROR(grant.Text(access.key_id).Int(id).Run());
  }
  return Status::Ok();
}

Status SqliteTransaction::ReadSigningKeyAccounts(SigningKeyAccess& access) {
  KYSO_ASSIGN_OR_RETURN(Statement select,
                        Prepare("SELECT account_id FROM signing_key_accounts WHERE key_id = ? "
                                "ORDER BY account_id"));
  select.Text(access.key_id);
  while (true) {
    KYSO_ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) break;
    access.account_ids.push_back(select.ColumnInt(0));
  }
  return Status::Ok();
}

constexpr const char* kSigningKeySelect =
    "SELECT k.id, k.organization_id, o.path, k.created_by, k.created_at FROM signing_keys k "
    "JOIN organizations o ON o.id = k.organization_id";

SigningKeyAccess ReadSigningKeyRow(const Statement& row) {
  SigningKeyAccess access;
  access.key_id = row.ColumnText(0);
  access.organization_id = row.ColumnInt(1);
  access.organization_path = row.ColumnText(2);
  access.created_by = row.ColumnText(3);
  access.created_at = row.ColumnInt(4);
  return access;
}

Result<std::optional<SigningKeyAccess>> SqliteTransaction::GetSigningKeyAccess(
    std::string_view key_id) {
  KYSO_RETURN_IF_ERROR(CheckOpen());
  SigningKeyAccess access;
  {
    KYSO_ASSIGN_OR_RETURN(Statement select,
                          Prepare(std::string(kSigningKeySelect) + " WHERE k.id = ?"));
    KYSO_ASSIGN_OR_RETURN(bool row, select.Text(key_id).Step());
    if (!row) return std::optional<SigningKeyAccess>();
    access = ReadSigningKeyRow(select);
  }
  KYSO_RETURN_IF_ERROR(ReadSigningKeyAccounts(access));
  return std::optional<SigningKeyAccess>(std::move(access));
}

Result<std::vector<SigningKeyAccess>> SqliteTransaction::ListSigningKeyAccess(
    std::optional<int64_t> account_id) {
  KYSO_RETURN_IF_ERROR(CheckOpen());
  std::vector<SigningKeyAccess> keys;
  {
    KYSO_ASSIGN_OR_RETURN(
        Statement select,
        Prepare(std::string(kSigningKeySelect) +
                (account_id ? " WHERE k.id IN (SELECT key_id FROM signing_key_accounts "
                              "WHERE account_id = ?)"
                            : "") +
                " ORDER BY k.id"));
    if (account_id) select.Int(*account_id);
    while (true) {
      KYSO_ASSIGN_OR_RETURN(bool row, select.Step());
      if (!row) break;
      keys.push_back(ReadSigningKeyRow(select));
    }
  }
  for (SigningKeyAccess& access : keys) KYSO_RETURN_IF_ERROR(ReadSigningKeyAccounts(access));
  return keys;
}

Result<std::optional<std::string>> SqliteTransaction::GetSetting(std::string_view key) {
  KYSO_RETURN_IF_ERROR(CheckOpen());
  KYSO_ASSIGN_OR_RETURN(Statement select, Prepare("SELECT value FROM settings WHERE key = ?"));
  KYSO_ASSIGN_OR_RETURN(bool row, select.Text(key).Step());
  if (!row) return std::optional<std::string>();
  return std::optional<std::string>(select.ColumnText(0));
}

Status SqliteTransaction::PutSetting(std::string_view key, std::string_view value) {
  KYSO_RETURN_IF_ERROR(CheckWritable());
  KYSO_ASSIGN_OR_RETURN(Statement upsert,
                        Prepare("INSERT INTO settings (key, value) VALUES (?, ?) "
                                "ON CONFLICT (key) DO UPDATE SET value = excluded.value"));
  return upsert.Text(key).Text(value).Run();
}

}  // namespace

int SqliteSchemaVersion() {
  return kLatestSchemaVersion;
}

Result<std::unique_ptr<Database>> OpenSqliteDatabase(const std::string& path,
                                                     const SqliteOptions& options) {
  KYSO_ASSIGN_OR_RETURN(std::unique_ptr<Connection> connection,
                        Connection::Open(path, options, options.create_if_missing));
  KYSO_RETURN_IF_ERROR(CheckIntegrity(*connection));
  KYSO_RETURN_IF_ERROR(EnableWal(*connection));
  KYSO_ASSIGN_OR_RETURN(int version, Migrate(*connection));
  auto database = std::make_unique<SqliteDatabase>(path, options, version);
  database->AdoptFirstConnection(std::move(connection));
  return std::unique_ptr<Database>(std::move(database));
}

}  // namespace kyso::store
