#include "bench_support.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

extern char** environ;

namespace kyso::bench {

namespace {
// The live scratch directory, so that Die() (which exits without unwinding) still removes it.
ScratchDir* g_scratch = nullptr;
}  // namespace

void Die(const std::string& what, const std::string& why) {
  std::cerr << "kyso_bench: " << what << ": " << why << std::endl;
  if (g_scratch != nullptr) g_scratch->Cleanup();
  std::exit(1);
}

void Check(const Status& status, const std::string& what) {
  if (!status.ok()) Die(what, status.ToString());
}

void Progress(const std::string& line) {
  std::cerr << "[bench] " << line << std::endl;
}

ScratchDir::ScratchDir(const std::string& parent) {
  std::string base = parent;
  if (base.empty()) {
    const char* env = std::getenv("TMPDIR");
    base = env && *env ? env : "/tmp";
  }
  std::string tmpl = base + "/kyso-bench-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) Die("mkdtemp " + tmpl, std::strerror(errno));
  path_ = tmpl;
  g_scratch = this;
}

ScratchDir::~ScratchDir() {
  if (g_scratch == this) g_scratch = nullptr;
  Cleanup();
}

void ScratchDir::Cleanup() {
  if (cleaned_) return;
  cleaned_ = true;
  if (keep_) {
    Progress("kept " + path_);
    return;
  }
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string ScratchDir::Subdir(const std::string& name) const {
  std::string dir = File(name);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) Die("mkdir " + dir, ec.message());
  return dir;
}

double CpuWatch::ProcessCpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec +
         (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

double Median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  size_t mid = values.size() / 2;
  return values.size() % 2 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
}

namespace {

std::vector<char*> Argv(const std::vector<std::string>& argv) {
  std::vector<char*> out;
  for (const auto& a : argv) out.push_back(const_cast<char*>(a.c_str()));
  out.push_back(nullptr);
  return out;
}

std::string Tail(const std::string& path, size_t bytes) {
  std::string text = ReadFile(path);
  return text.size() > bytes ? text.substr(text.size() - bytes) : text;
}

}  // namespace

double RunProcess(const std::vector<std::string>& argv, const std::string& stderr_log,
                  double* cpu_seconds, long* max_rss_kb) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, stderr_log.c_str(), O_WRONLY | O_CREAT | O_APPEND,
                                   0600);
  std::vector<char*> args = Argv(argv);
  Stopwatch watch;
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) Die("spawn " + argv[0], std::strerror(rc));
  int status = 0;
  rusage usage{};
  while (wait4(pid, &status, 0, &usage) < 0) {
    if (errno != EINTR) Die("wait4 " + argv[0], std::strerror(errno));
  }
  double seconds = watch.Seconds();
  if (max_rss_kb != nullptr) *max_rss_kb = usage.ru_maxrss;
  if (cpu_seconds != nullptr) {
    *cpu_seconds += usage.ru_utime.tv_sec + usage.ru_stime.tv_sec +
                    (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::string cmd;
    for (const auto& a : argv) cmd += (cmd.empty() ? "" : " ") + a;
    Die(cmd.substr(0, 300), "failed; its stderr ends with:\n" + Tail(stderr_log, 2000));
  }
  return seconds;
}

std::string CaptureOutput(const std::vector<std::string>& argv) {
  int fds[2];
  if (pipe(fds) != 0) return "";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  std::vector<char*> args = Argv(argv);
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  std::string out;
  if (rc == 0) {
    char buf[4096];
    ssize_t n;
    while ((n = read(fds[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
    int status = 0;
    waitpid(pid, &status, 0);
  }
  close(fds[0]);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  if (!out) Die("write " + path, std::strerror(errno));
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

double MeasureFsyncRate(const std::string& dir, int count) {
  std::string path = dir + "/fsync-probe";
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0600);
  if (fd < 0) Die("open " + path, std::strerror(errno));
  std::string block(4096, 'k');
  Stopwatch watch;
  for (int i = 0; i < count; ++i) {
    if (write(fd, block.data(), block.size()) != static_cast<ssize_t>(block.size()) ||
        fdatasync(fd) != 0) {
      Die("fsync probe", std::strerror(errno));
    }
  }
  double seconds = watch.Seconds();
  close(fd);
  unlink(path.c_str());
  return count / seconds;
}

std::string DescribeFilesystem(const std::string& path) {
  std::string canonical = std::filesystem::weakly_canonical(path).string();
  std::ifstream mounts("/proc/self/mounts");
  std::string device, mount_point, type, rest, best_type, best_device;
  size_t best_len = 0;
  while (mounts >> device >> mount_point >> type && std::getline(mounts, rest)) {
    bool under = canonical == mount_point ||
                 canonical.rfind(mount_point == "/" ? "/" : mount_point + "/", 0) == 0;
    if (under && mount_point.size() >= best_len) {
      best_len = mount_point.size();
      best_type = type;
      best_device = device;
    }
  }
  return best_type.empty() ? "unknown" : best_type + " on " + best_device;
}

}  // namespace kyso::bench
