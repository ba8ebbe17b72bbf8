// The store back ends every typed store suite runs against (store_test.cc,
// registry_store_test.cc). To add a back end, add one entry to Backends().
#pragma once

#include <unistd.h>

#include <atomic>
#include <fstream>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "base/result.h"
#include "store/postgres/postgres_store.h"
#include "store/sqlite/sqlite_store.h"
#include "store/store.h"
#include "testlib/pg_cluster.h"

namespace kyso::store {

// --- back ends ---------------------------------------------------------------------------------

struct Backend {
  std::string name;
  // Opens (creating on first use) the database kept under `dir`.
  std::function<Result<std::unique_ptr<Database>>(const std::string& dir, int busy_timeout_ms)>
      open;
};

inline void PrintTo(const Backend& backend, std::ostream* out) {
  *out << backend.name;
}

// The Postgres database of the test directory `dir`, on the test process's shared cluster
// (testlib/pg_cluster.h). The first open makes a new database and writes its name into `dir`,
// so reopening the same directory finds the same database and every test directory has a
// fresh one (even when a later test's temporary directory gets a removed one's name).
inline Result<std::unique_ptr<Database>> OpenPostgresTestDatabase(const std::string& dir,
                                                                  int busy_timeout_ms) {
  KYSO_ASSIGN_OR_RETURN(testlib::PgCluster * cluster, testlib::PgCluster::Shared());
  const std::string marker = dir + "/postgres-database";
  std::string name;
  {
    std::ifstream in(marker);
    std::getline(in, name);
  }
  if (name.empty()) {
    static std::atomic<int> counter{0};
    name = "t_" + std::to_string(getpid()) + "_" + std::to_string(++counter);
    std::ofstream(marker) << name << "\n";
  }
  KYSO_ASSIGN_OR_RETURN(std::string conninfo, cluster->CreateDatabase(name));
  PostgresOptions options;
  options.lock_timeout_ms = busy_timeout_ms;
  return OpenPostgresDatabase(conninfo, options);
}

inline std::vector<Backend> Backends() {
  std::vector<Backend> backends = {
      {"Sqlite",
       [](const std::string& dir, int busy_timeout_ms) {
         SqliteOptions options;
         options.busy_timeout_ms = busy_timeout_ms;
         options.durable = false;  // tests do not need fsync
         return OpenSqliteDatabase(dir + "/kyso.db", options);
       }},
  };
  // Without the server binaries the Postgres tests fail (pg.missing) rather than pass
  // unnoticed; KYSO_SKIP_POSTGRES=1 leaves them out instead.
  if (!testlib::PgCluster::SkipRequested()) {
    backends.push_back({"Postgres", OpenPostgresTestDatabase});
  }
  return backends;
}

}  // namespace kyso::store
