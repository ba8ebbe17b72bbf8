#include "http/metrics.h"

#include <cmath>
#include <cstdio>
#include <map>

namespace kyso::http {
namespace {

void AppendNumber(std::string& out, double value) {
  char buf[64];
  if (std::floor(value) == value && std::fabs(value) < 1e15) {
    snprintf(buf, sizeof buf, "%.0f", value);
  } else {
    snprintf(buf, sizeof buf, "%.6g", value);
  }
  out += buf;
}

void Header(std::string& out, const std::string& name, const std::string& help,
            const std::string& type) {
  out += "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
}

}  // namespace

Metrics::Metrics(std::vector<std::string> route_names) {
  route_names.push_back("unmatched");
  for (auto& name : route_names) {
    auto slot = std::make_unique<Slot>();
    slot->name = std::move(name);
    slots_.push_back(std::move(slot));
  }
}

void Metrics::Record(size_t route_index, int status, double seconds) {
  Slot& slot = *slots_[route_index < slots_.size() ? route_index : slots_.size() - 1];
  const int cls = status / 100;
  slot.status_class[cls >= 1 && cls <= 5 ? cls : 0].fetch_add(1, std::memory_order_relaxed);
  for (size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) {
      slot.buckets[i].fetch_add(1, std::memory_order_relaxed);
      break;
    }
  }
  slot.count.fetch_add(1, std::memory_order_relaxed);
  slot.sum_micros.fetch_add(static_cast<uint64_t>(seconds * 1e6), std::memory_order_relaxed);
}

void Metrics::RecordRejected(int status) {
  const int i = status == 413 ? 1 : status == 431 ? 2 : 0;
  rejected_[i].fetch_add(1, std::memory_order_relaxed);
}

void Metrics::AddCollector(Collector collector) {
  std::lock_guard<std::mutex> lock(collectors_mu_);
  collectors_.push_back(std::move(collector));
}

std::string Metrics::Render() const {
  std::string out;
  out.reserve(8192);
  Header(out, "kyso_http_requests_total", "HTTP requests answered, by route and status class.",
         "counter");
  static const char* kClasses[] = {"other", "1xx", "2xx", "3xx", "4xx", "5xx"};
  for (const auto& slot : slots_) {
    for (int c = 0; c < 6; ++c) {
      const uint64_t n = slot->status_class[c].load(std::memory_order_relaxed);
      if (n == 0 && c != 2) continue;
      out += "kyso_http_requests_total{route=\"" + slot->name + "\",code=\"" + kClasses[c] + "\"} ";
      AppendNumber(out, static_cast<double>(n));
      out += '\n';
    }
  }
  Header(out, "kyso_http_request_duration_seconds",
         "Time from a complete request to its response being handed to the socket.", "histogram");
  for (const auto& slot : slots_) {
    uint64_t cumulative = 0;
    const std::string prefix = "kyso_http_request_duration_seconds_bucket{route=\"" + slot->name;
    for (size_t i = 0; i < kBuckets.size(); ++i) {
      cumulative += slot->buckets[i].load(std::memory_order_relaxed);
      out += prefix + "\",le=\"";
      AppendNumber(out, kBuckets[i]);
      out += "\"} ";
      AppendNumber(out, static_cast<double>(cumulative));
      out += '\n';
    }
    const uint64_t count = slot->count.load(std::memory_order_relaxed);
    out += prefix + "\",le=\"+Inf\"} ";
    AppendNumber(out, static_cast<double>(count));
    out += "\nkyso_http_request_duration_seconds_sum{route=\"" + slot->name + "\"} ";
    AppendNumber(out, slot->sum_micros.load(std::memory_order_relaxed) / 1e6);
    out += "\nkyso_http_request_duration_seconds_count{route=\"" + slot->name + "\"} ";
    AppendNumber(out, static_cast<double>(count));
    out += '\n';
  }
  Header(out, "kyso_http_connections_total", "TCP connections accepted.", "counter");
  out += "kyso_http_connections_total ";
  AppendNumber(out, static_cast<double>(connections_total_.load(std::memory_order_relaxed)));
  out += '\n';
  Header(out, "kyso_http_open_connections", "Connections open now.", "gauge");
  out += "kyso_http_open_connections ";
  AppendNumber(out, static_cast<double>(open_connections_.load(std::memory_order_relaxed)));
  out += '\n';
  Header(out, "kyso_http_timeouts_total",
         "Connections closed because the client was too slow or idle too long.", "counter");
  out += "kyso_http_timeouts_total ";
  AppendNumber(out, static_cast<double>(timeouts_total_.load(std::memory_order_relaxed)));
  out += '\n';
  Header(out, "kyso_http_rejected_total",
         "Requests refused before routing: malformed (400), body too large (413), head too large "
         "(431).",
         "counter");
  static const char* kRejected[] = {"400", "413", "431"};
  for (int i = 0; i < 3; ++i) {
    out += std::string("kyso_http_rejected_total{code=\"") + kRejected[i] + "\"} ";
    AppendNumber(out, static_cast<double>(rejected_[i].load(std::memory_order_relaxed)));
    out += '\n';
  }

  std::vector<Collector> collectors;
  {
    std::lock_guard<std::mutex> lock(collectors_mu_);
    collectors = collectors_;
  }
  // Group samples by metric name: the format wants one HELP/TYPE block per name.
  std::map<std::string, std::vector<Sample>> by_name;
  for (const auto& collect : collectors) {
    for (auto& sample : collect()) by_name[sample.name].push_back(std::move(sample));
  }
  for (const auto& [name, samples] : by_name) {
    Header(out, name, samples.front().help, samples.front().type);
    for (const auto& s : samples) {
      out += name;
      if (!s.labels.empty()) out += "{" + s.labels + "}";
      out += ' ';
      AppendNumber(out, s.value);
      out += '\n';
    }
  }
  return out;
}

}  // namespace kyso::http
