// Helpers shared by the benchmark drivers: a scratch directory, wall-clock timing, running a
// peer tool as a child process, and the fsync floor of the disk under the scratch directory.
//
// A benchmark is a driver, not a library: a failed setup step cannot be measured around, so
// these helpers stop the program with a message (Die) instead of returning a status.
//
// Thread-safety: none needed; the drivers call these from one thread.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "base/result.h"

namespace kyso::bench {

// Prints "kyso_bench: <what>: <why>" to stderr and exits with status 1.
[[noreturn]] void Die(const std::string& what, const std::string& why);
// Dies unless `status` is ok.
void Check(const Status& status, const std::string& what);
template <typename T>
T Take(Result<T> result, const std::string& what) {
  if (!result.ok()) Die(what, result.status().ToString());
  return std::move(result).value();
}

// Progress lines go to stderr so that stdout carries only the table or the JSON.
void Progress(const std::string& line);

// A directory under `parent` (default $TMPDIR, else /tmp), removed on destruction (or by Die())
// unless Keep() was called.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& parent);
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }
  // Creates (and returns) the subdirectory `name`.
  std::string Subdir(const std::string& name) const;
  void Keep() { keep_ = true; }
  // Removes the directory now (once); the destructor and Die() call it.
  void Cleanup();

 private:
  std::string path_;
  bool keep_ = false;
  bool cleaned_ = false;
};

class Stopwatch {
 public:
  Stopwatch() : start_(std::chrono::steady_clock::now()) {}
  double Seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  std::chrono::steady_clock::time_point start_;
};

// CPU time (user + system, all threads) this process has used since construction. Unlike
// wall time it barely moves when other work shares the cores, so the drivers report both.
class CpuWatch {
 public:
  CpuWatch() : start_(ProcessCpuSeconds()) {}
  double Seconds() const { return ProcessCpuSeconds() - start_; }
  static double ProcessCpuSeconds();

 private:
  double start_;
};

double Median(std::vector<double> values);

// Runs `argv` (argv[0] looked up in PATH) with stdin and stdout on /dev/null and stderr
// appended to `stderr_log`, waits for it, and returns its wall time in seconds. Dies if it
// cannot be started or exits with a status other than 0, printing the log's tail. Adds the
// child's CPU time (user + system) to `*cpu_seconds` when given.
// `*max_rss_kb`, when given, receives the child's peak resident set (ru_maxrss, KiB).
double RunProcess(const std::vector<std::string>& argv, const std::string& stderr_log,
                  double* cpu_seconds = nullptr, long* max_rss_kb = nullptr);
// Runs `argv` and returns its stdout (for `openssl version`); empty on failure.
std::string CaptureOutput(const std::vector<std::string>& argv);

void WriteFile(const std::string& path, const std::string& content);
std::string ReadFile(const std::string& path);

// Appends 4 KiB and fdatasync()s it `count` times in a file under `dir`; returns syncs per
// second. This is the ceiling for any store that makes each commit durable on its own.
double MeasureFsyncRate(const std::string& dir, int count);

// "ext4 on /dev/vda" for the filesystem holding `path`, from /proc/self/mounts.
std::string DescribeFilesystem(const std::string& path);

}  // namespace kyso::bench
