// PostgreSQL back end of the store: one database shared by several `kyso serve` nodes.
//
// It behaves like the SQLite back end (sqlite_store.h): the same tables, the same error ids,
// the same transaction contract (store.h). What it adds is that several processes, on several
// machines, may write to one database at once, and that must never produce duplicate serials,
// lost updates or a forked audit chain.
//
// Why write transactions are serialized across nodes. Several facts the CA keeps are
// read-modify-write chains whose next value depends on the last one: the audit log
// (seq = last seq + 1, prev_hash = the last entry's hash), the per-CA cRLNumber and
// revocation_seq counters, the TSA serial blocks, the optimistic version of registry rows
// checked by the layers above. Under READ COMMITTED two nodes could both read "last = 41" and
// both write 42 (one then fails on the primary key, or, for a counter row, one increment is
// lost); under REPEATABLE READ / SERIALIZABLE one of them fails with a serialization error
// that every caller would have to retry. SQLite avoids all of it by having a single writer.
// This back end does the same across processes: every kWrite transaction is
//     BEGIN ISOLATION LEVEL READ COMMITTED;
//     SELECT pg_advisory_xact_lock(kWriterLock);
// so that write transactions of every node on the database run one at a time, and each
// statement after the lock takes a fresh READ COMMITTED snapshot that includes every write
// transaction committed before it (PostgreSQL marks a transaction committed before it
// releases its locks). REPEATABLE READ would be wrong here: its snapshot is taken when the
// first statement starts, i.e. before the lock wait ends, and would miss the previous holder's
// commit. The lock is released by COMMIT or ROLLBACK, also when a node dies (its session
// ends). Within one process a writer slot (mutex + condition variable, like SQLite's) is taken
// first, so waiting writers do not each hold a connection. The wait for either is bounded by
// lock_timeout_ms, after which Begin() fails with store.busy.
//
// kRead transactions run as BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY: one consistent
// snapshot for the transaction, concurrent with writers and each other. A write in one fails
// with store.read_only before anything is sent.
//
// Opening connects once, then runs the numbered schema migrations the database lacks in one
// transaction under the same advisory lock (two nodes starting at once do not both migrate),
// recording each in schema_migrations, and refuses a database written by a newer kyso
// (store.schema_too_new). A database that holds tables but no schema_migrations is not ours
// (store.corrupt). Opening a database that is already current only reads, so it does not wait
// for a writer.
//
// Error ids (store.h): SQLSTATE 23505 unique_violation -> store.duplicate (AlreadyExists);
// 23503 foreign_key_violation -> store.not_found (NotFound); 40001 serialization_failure,
// 40P01 deadlock_detected, 55P03 lock_not_available (lock_timeout) -> store.busy
// (Unavailable); a connection that cannot be made or is lost, and anything else ->
// store.io (Unavailable). A statement that fails aborts a PostgreSQL transaction, but the store
// contract says a call failing with store.duplicate, store.not_found or store.already_revoked
// leaves the transaction usable: the writes that can fail that way run inside
// SAVEPOINT ... RELEASE SAVEPOINT and roll back to it on failure. A transaction aborted by any
// other failure can only be rolled back; its Commit() fails with store.io.
//
// Serial numbers are stored upper-case and lookups upper-case their argument; e-mail addresses
// compare ASCII case-insensitively (lower(email)), as with SQLite's COLLATE NOCASE. Times are
// Unix seconds in BIGINT columns, byte strings BYTEA. Every value travels as a $n parameter
// in binary format; no SQL is built from values.
//
// Thread-safety: a Database may be shared between threads. It keeps a pool of at most
// max_connections libpq connections, each with its own prepared-statement cache; a
// Transaction leases one connection for its lifetime and belongs to one thread. Every
// Transaction must be destroyed before its Database.
#pragma once

#include <memory>
#include <string>

#include "base/result.h"
#include "store/store.h"

namespace kyso::store {

struct PostgresOptions {
  // Connections kept open: enough for concurrent readers beside the one writer.
  int max_connections = 8;
  // How long Begin() waits for the writer lock (this process's and the other nodes'), for a
  // free connection, and a statement for a row lock, before failing with store.busy.
  int lock_timeout_ms = 5000;
  // Reported to the server (pg_stat_activity.application_name) unless the conninfo sets one.
  std::string application_name = "kyso";
};

// The schema version this build writes (the number of the last migration step).
int PostgresSchemaVersion();

// Connects to the database named by `conninfo`, a libpq URI
// ("postgresql://kyso@127.0.0.1:5432/kyso") or key=value string ("host=... dbname=..."), and
// creates or migrates its schema. store.io when the server cannot be reached or refuses the
// connection.
[[nodiscard]] Result<std::unique_ptr<Database>> OpenPostgresDatabase(
    const std::string& conninfo, const PostgresOptions& options);

}  // namespace kyso::store
