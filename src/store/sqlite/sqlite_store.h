// SQLite back end of the store: the embedded default, one file per CA instance.
//
// The file is opened in WAL mode with foreign keys on. Opening it checks that it is a kyso
// database (SQLite application_id), runs the numbered schema migrations the file lacks in one
// transaction, and refuses a file written by a newer kyso (store.schema_too_new). A file that
// is not an SQLite database, or whose header or schema is damaged, fails at open time with
// store.corrupt; small files (up to a few MiB) also get a full PRAGMA quick_check, larger ones
// only the header and schema read, so that opening stays cheap however big the database grows.
//
// Error ids (store.h): SQLITE_NOTADB / SQLITE_CORRUPT -> store.corrupt (DataLoss); a UNIQUE or
// PRIMARY KEY violation -> store.duplicate (AlreadyExists); a FOREIGN KEY violation (e.g. a
// certificate of a CA that does not exist) -> store.not_found (NotFound); SQLITE_BUSY /
// SQLITE_LOCKED -> store.busy (Unavailable); anything else -> store.io (Unavailable).
// Misuse of a transaction: a write in a kRead transaction -> store.read_only, any call after
// Commit() -> store.closed (both FailedPrecondition).
//
// Serial numbers are compared case-insensitively: serial_hex is stored upper-case
// (records.h) and lookups upper-case their argument.
//
// Registration workflow (registry.h, schema step 4): an organization's materialized path is
// written once, on insert, from its parent's; a request copies its organization's path, which
// stays right because neither changes. Subtree filters are index ranges over the path
// ([prefix, prefix with its last byte incremented)), not LIKE. A request's form and signed
// document live in a table of their own, so that lists and counts scan only small rows;
// ListRequests finds the page's ids from an index first, then reads those rows. name_contains
// filters are case-sensitive substring matches. Updates compare versions in the UPDATE itself
// (WHERE id = ? AND version = ?).
//
// Thread-safety: a Database may be shared between threads. It keeps a small pool of SQLite
// connections, each with its own prepared-statement cache; a Transaction leases one
// connection for its lifetime and belongs to one thread. Write transactions are serialized by
// an in-process mutex held for the transaction's lifetime (BEGIN IMMEDIATE also excludes other
// processes); read transactions (deferred BEGIN) run concurrently with each other and with
// the writer, each on a WAL snapshot. Begin() waits at most busy_timeout_ms for the write
// mutex or a free connection, then fails with store.busy, so a thread that begins a second
// write transaction while holding one gets store.busy instead of deadlocking. Every
// Transaction must be destroyed before its Database. An in-memory database (path ":memory:")
// has a single connection.
#pragma once

#include <memory>
#include <string>

#include "base/result.h"
#include "store/store.h"

namespace kyso::store {

struct SqliteOptions {
  // Create the file if it does not exist; otherwise a missing file fails with store.io.
  bool create_if_missing = true;
  // WAL + synchronous=FULL: a committed transaction survives power loss. false selects
  // synchronous=NORMAL: still consistent after a crash, but the last commits may be lost.
  bool durable = true;
  // How long Begin() and statements wait for a lock held by another transaction or process
  // before failing with store.busy.
  int busy_timeout_ms = 5000;
};

// The schema version this build writes (the number of the last migration step).
int SqliteSchemaVersion();

// Opens (and creates or migrates) the database at `path`.
[[nodiscard]] Result<std::unique_ptr<Database>> OpenSqliteDatabase(const std::string& path,
                                                                   const SqliteOptions& options);

}  // namespace kyso::store
