// Metrics: request counters and latency histograms per route, in the Prometheus text exposition
// format (version 0.0.4), plus gauges and counters that services report through callbacks.
//
// The per-route slots are fixed when the server starts (one per Router route, plus one for
// requests that matched no route), and updates are relaxed atomic increments, so recording a
// request costs a few nanoseconds and takes no lock.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace kyso::http {

class Metrics {
 public:
  // Latency bucket upper bounds in seconds (Prometheus histogram `le` labels).
  static constexpr std::array<double, 12> kBuckets = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                                      0.01,   0.025,   0.05,   0.1,   0.5,    2.5};

  // `route_names` fixes the slots; slot i is route i, and the last slot counts unmatched paths.
  explicit Metrics(std::vector<std::string> route_names);

  void Record(size_t route_index, int status, double seconds);
  void RecordConnection() { connections_total_.fetch_add(1, std::memory_order_relaxed); }
  void ConnectionOpened() { open_connections_.fetch_add(1, std::memory_order_relaxed); }
  void ConnectionClosed() { open_connections_.fetch_sub(1, std::memory_order_relaxed); }
  void RecordTimeout() { timeouts_total_.fetch_add(1, std::memory_order_relaxed); }
  void RecordRejected(int status);  // 400/413/431 answered before routing

  size_t unmatched_slot() const { return slots_.size() - 1; }

  // A sample a service contributes at scrape time: `name{labels} value`.
  struct Sample {
    std::string name;
    std::string help;
    std::string type;    // "gauge" or "counter"
    std::string labels;  // already formatted: `ca="issuing",status="valid"` or ""
    double value = 0;
  };
  using Collector = std::function<std::vector<Sample>()>;
  void AddCollector(Collector collector);

  // The whole exposition text.
  std::string Render() const;

 private:
  struct Slot {
    std::string name;
    std::atomic<uint64_t> status_class[6] = {};  // 1xx..5xx by status/100, [0] other
    std::atomic<uint64_t> buckets[kBuckets.size()] = {};
    std::atomic<uint64_t> count{0};
    std::atomic<uint64_t> sum_micros{0};
  };
  std::vector<std::unique_ptr<Slot>> slots_;
  std::atomic<uint64_t> connections_total_{0};
  std::atomic<int64_t> open_connections_{0};
  std::atomic<uint64_t> timeouts_total_{0};
  std::atomic<uint64_t> rejected_[3] = {};  // 400, 413, 431
  mutable std::mutex collectors_mu_;
  std::vector<Collector> collectors_;
};

}  // namespace kyso::http
