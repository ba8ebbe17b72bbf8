// A throwaway PostgreSQL cluster for tests of the PostgreSQL store back end.
//
// Start() runs initdb into a new temporary directory (trust authentication, superuser "kyso",
// UTF-8) and starts the server on a free loopback port with fsync off, waiting until it
// accepts connections. The destructor (or Stop()) stops it at once (pg_ctl stop -m immediate)
// and removes the directory. When the test process dies without running it (a crash, a
// sanitizer abort, SIGKILL), a small watchdog process started beside the server notices that
// its pipe to the test process closed and does the same, so no server outlives its test.
//
// The server binaries come from $KYSO_PG_BIN, else /usr/lib/postgresql/15/bin (Debian's
// postgresql-15, installed by scripts/install-deps.sh). initdb refuses to run as root, so when
// the tests run as root the cluster is created and run as the "postgres" user (runuser).
//
// Thread-safety: Shared() may be called from any thread; a PgCluster's methods may be called
// concurrently once it is started.
#pragma once

#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "base/result.h"

namespace kyso::testlib {

class PgCluster {
 public:
  // Starts a new cluster. Fails with pg.missing when the server binaries are not installed,
  // pg.start when initdb or the server fails (the message carries their output).
  static Result<std::unique_ptr<PgCluster>> Start();

  // The cluster of this test process, started by the first call and stopped at exit. Later
  // calls return the first call's outcome.
  static Result<PgCluster*> Shared();

  // True when $KYSO_SKIP_POSTGRES is "1": the Postgres back end's tests are then left out
  // instead of failing on a machine without the server binaries.
  static bool SkipRequested();

  ~PgCluster();
  PgCluster(const PgCluster&) = delete;
  PgCluster& operator=(const PgCluster&) = delete;

  // Stops the server and removes its directory; idempotent.
  void Stop();

  int port() const { return port_; }

  // The key=value conninfo of database `name` on this cluster.
  std::string ConnInfo(const std::string& name) const;
  // The same as a libpq URI, "postgresql://kyso@127.0.0.1:PORT/NAME".
  std::string Uri(const std::string& name) const;

  // Creates database `name` (letters, digits and '_' only) unless this cluster already made
  // it, and returns its conninfo.
  Result<std::string> CreateDatabase(const std::string& name);

  // Runs `sql` with psql in database `name`; returns psql's output (unaligned, tuples only).
  Result<std::string> Psql(const std::string& name, const std::string& sql);

 private:
  PgCluster() = default;

  std::string bin_dir_;
  std::string dir_;     // temporary directory: data/, the socket, server.log
  std::string run_as_;  // "runuser -u postgres -- " when running as root, else ""
  int port_ = 0;
  int watchdog_fd_ = -1;  // write end of the watchdog's pipe
  bool running_ = false;

  std::mutex mutex_;
  std::set<std::string> databases_;  // guarded by mutex_
};

}  // namespace kyso::testlib
