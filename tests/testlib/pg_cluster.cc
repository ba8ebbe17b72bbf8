#include "testlib/pg_cluster.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "testlib/shell.h"

namespace kyso::testlib {
namespace {

constexpr const char* kDefaultBinDir = "/usr/lib/postgresql/15/bin";
constexpr const char* kSuperuser = "kyso";

bool Executable(const std::string& path) {
  return access(path.c_str(), X_OK) == 0;
}

// A loopback port no one listens on right now (the kernel's choice for port 0). Another
// process may take it before the server does; Start() then retries with another.
int FreeLoopbackPort() {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t size = sizeof address;
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) == 0) {
    port = ntohs(address.sin_port);
  }
  close(fd);
  return port;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

bool ValidDatabaseName(const std::string& name) {
  if (name.empty() || name.size() > 63) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

bool PgCluster::SkipRequested() {
  const char* skip = std::getenv("KYSO_SKIP_POSTGRES");
  return skip != nullptr && std::string(skip) == "1";
}

Result<std::unique_ptr<PgCluster>> PgCluster::Start() {
  const char* env_bin = std::getenv("KYSO_PG_BIN");
  const std::string bin_dir = env_bin != nullptr && *env_bin != '\0' ? env_bin : kDefaultBinDir;
  for (const char* tool : {"initdb", "pg_ctl", "postgres", "psql"}) {
    if (!Executable(bin_dir + "/" + tool)) {
      return FailedPrecondition("pg.missing",
                                "PostgreSQL server binaries not found (" + bin_dir + "/" + tool +
                                    "): install postgresql-15 (scripts/install-deps.sh) or point "
                                    "KYSO_PG_BIN at them; KYSO_SKIP_POSTGRES=1 leaves the Postgres "
                                    "back end's tests out");
    }
  }

  auto cluster = std::unique_ptr<PgCluster>(new PgCluster());
  cluster->bin_dir_ = bin_dir;
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern =
      std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/kyso-pg-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) {
    return Unavailable("pg.start", "cannot create a temporary directory for PostgreSQL");
  }
  cluster->dir_ = pattern;

  // initdb and postgres refuse to run as root: the cluster then belongs to "postgres".
  if (geteuid() == 0) {
    const passwd* postgres = getpwnam("postgres");
    if (postgres == nullptr) {
      return FailedPrecondition("pg.start",
                                "running as root needs a \"postgres\" user to run PostgreSQL");
    }
    if (chown(cluster->dir_.c_str(), postgres->pw_uid, postgres->pw_gid) != 0) {
      return Unavailable("pg.start", "cannot chown " + cluster->dir_ + " to postgres");
    }
    cluster->run_as_ = "runuser -u postgres -- ";
  }

  const std::string data = cluster->dir_ + "/data";
  std::string output;
  const std::string initdb = cluster->run_as_ + ShellQuote(bin_dir + "/initdb") + " -D " +
                             ShellQuote(data) + " -A trust -U " + kSuperuser +
                             " -E UTF8 --no-locale --no-sync --no-instructions";
  if (Shell(initdb, &output) != 0) {
    return Unavailable("pg.start", "initdb failed: " + output);
  }

  // fsync off (-F) and no synchronous commit: a test cluster need not survive a power cut.
  // TCP on loopback only; the Unix socket goes into the cluster's own directory.
  std::string log;
  for (int attempt = 0; attempt < 5; ++attempt) {
    const int port = FreeLoopbackPort();
    if (port == 0) continue;
    const std::string server_options = "-h 127.0.0.1 -p " + std::to_string(port) + " -k " +
                                       cluster->dir_ +
                                       " -F -c synchronous_commit=off -c full_page_writes=off";
    const std::string start = cluster->run_as_ + ShellQuote(bin_dir + "/pg_ctl") + " -D " +
                              ShellQuote(data) + " -l " +
                              ShellQuote(cluster->dir_ + "/server.log") + " -w -t 60 -o " +
                              ShellQuote(server_options) + " start";
    if (Shell(start, &output) == 0) {
      cluster->port_ = port;
      cluster->running_ = true;
      break;
    }
    log = ReadFile(cluster->dir_ + "/server.log");
  }
  if (!cluster->running_) {
    return Unavailable("pg.start", "PostgreSQL did not start: " + output + "\n" + log);
  }

  // The watchdog: a shell reading a pipe whose only writer is this process. When this process
  // ends, however it ends, the read sees end-of-file and the shell stops the server and
  // removes the directory. After a normal Stop() it finds nothing left to do.
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) == 0) {
    const std::string script = "cat >/dev/null; " + cluster->run_as_ +
                               ShellQuote(bin_dir + "/pg_ctl") + " -D " + ShellQuote(data) +
                               " -m immediate stop >/dev/null 2>&1; rm -rf " +
                               ShellQuote(cluster->dir_);
    const pid_t pid = fork();
    if (pid == 0) {
      // Only async-signal-safe calls between fork and exec.
      dup2(fds[0], 0);
      const int null_fd = open("/dev/null", O_WRONLY);
      if (null_fd >= 0) {
        dup2(null_fd, 1);
        dup2(null_fd, 2);
      }
      close_range(3, ~0U, 0);  // keep no descriptor of the test process (ctest's pipes)
      setsid();                // not killed with the test's process group
      execl("/bin/sh", "sh", "-c", script.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    close(fds[0]);
    if (pid > 0) {
      cluster->watchdog_fd_ = fds[1];
    } else {
      close(fds[1]);
    }
  }
  return cluster;
}

PgCluster::~PgCluster() {
  Stop();
}

void PgCluster::Stop() {
  if (running_) {
    (void)Shell(run_as_ + ShellQuote(bin_dir_ + "/pg_ctl") + " -D " + ShellQuote(dir_ + "/data") +
                " -m immediate stop");
    running_ = false;
  }
  if (!dir_.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
    dir_.clear();
  }
  if (watchdog_fd_ >= 0) {
    close(watchdog_fd_);  // the watchdog exits, finding nothing to do
    watchdog_fd_ = -1;
  }
}

Result<PgCluster*> PgCluster::Shared() {
  static std::once_flag once;
  static PgCluster* shared = nullptr;
  static Status failure;
  std::call_once(once, [] {
    auto started = Start();
    if (!started.ok()) {
      failure = started.status();
      return;
    }
    shared = started->release();  // stopped by the atexit handler, never deleted
    std::atexit([] { shared->Stop(); });
  });
  if (shared == nullptr) return failure;
  return shared;
}

std::string PgCluster::ConnInfo(const std::string& name) const {
  return "host=127.0.0.1 port=" + std::to_string(port_) + " user=" + kSuperuser + " dbname=" + name;
}

std::string PgCluster::Uri(const std::string& name) const {
  return std::string("postgresql://") + kSuperuser + "@127.0.0.1:" + std::to_string(port_) + "/" +
         name;
}

Result<std::string> PgCluster::CreateDatabase(const std::string& name) {
  if (!ValidDatabaseName(name)) {
    return InvalidArgument("pg.bad_name", "not a test database name: \"" + name + "\"");
  }
  std::lock_guard<std::mutex> lock(mutex_);
  if (databases_.count(name) == 0) {
    KYSO_RETURN_IF_ERROR(Psql("postgres", "CREATE DATABASE " + name).status());
    databases_.insert(name);
  }
  return ConnInfo(name);
}

Result<std::string> PgCluster::Psql(const std::string& name, const std::string& sql) {
  std::string output;
  const std::string command = ShellQuote(bin_dir_ + "/psql") +
                              " -X -q -At -v ON_ERROR_STOP=1 -h 127.0.0.1 -p " +
                              std::to_string(port_) + " -U " + kSuperuser + " -d " +
                              ShellQuote(name) + " -c " + ShellQuote(sql);
  if (Shell(command, &output) != 0) {
    return Unavailable("pg.psql", "psql failed on \"" + sql + "\": " + output);
  }
  return output;
}

}  // namespace kyso::testlib
