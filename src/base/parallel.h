// ParallelFor: the CPU-bound loops of the CA (checking CSRs, signing certificates, pre-signing
// OCSP answers) spread over a few threads, each taking the next index.
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <thread>
#include <vector>

namespace kyso {

// Runs body(i) for every i in [0, n) on up to `workers` threads (the caller's thread waits).
// Runs serially when `workers` <= 1 or n < `min_parallel`, where threads cost more than they
// save. `body` must be safe to call concurrently for different i.
inline void ParallelFor(size_t n, unsigned workers, const std::function<void(size_t)>& body,
                        size_t min_parallel = 32) {
  if (workers <= 1 || n < min_parallel) {
    for (size_t i = 0; i < n; ++i) body(i);
    return;
  }
  std::atomic<size_t> next{0};
  std::vector<std::thread> threads;
  threads.reserve(workers);
  for (unsigned w = 0; w < workers; ++w) {
    threads.emplace_back([&] {
      for (size_t i; (i = next.fetch_add(1)) < n;) body(i);
    });
  }
  for (auto& thread : threads) thread.join();
}

}  // namespace kyso
