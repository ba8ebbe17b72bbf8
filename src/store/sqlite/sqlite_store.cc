#include "store/sqlite/sqlite_store.h"

#include <sqlite3.h>

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

#include "store/revocation_reason.h"

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

FilterSql BuildFilter(const CertificateFilter& filter) {
  FilterSql sql;
  auto add = [&sql](const char* condition) {
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
  if (filter.organization_id) {
    add("c.organization_id = ?");
    sql.params.emplace_back(*filter.organization_id);
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
  Result<Statement> Prepare(const std::string& sql) {
    return Statement::Prepare(*connection_, sql);
  }
  const std::string& path() const { return connection_->path(); }

  // Reads every row of `statement` as certificates, with their uids.
  Result<std::vector<CertificateRecord>> ReadCertificates(Statement& statement);
  Status LoadUids(CertificateRecord& cert);
  // The single certificate selected by `statement`, or store.not_found naming `what`.
  Result<CertificateRecord> ReadOneCertificate(Statement& statement, const std::string& what);

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

// --- settings ---

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
