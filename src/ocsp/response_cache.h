// Internal to ocsp/: the in-memory cache of signed responses, bounded in bytes.
//
// An entry holds one nonce-less response in compact form (x509/ocsp.h: the body, without the
// responder certificate, which its identity supplies when the response is assembled) plus the
// status it states, so that a request with a nonce can reuse the status without a database
// read. With a P-256 responder and 20-octet serials an entry is charged 451 bytes (a ~250-octet
// body, the 144-octet CacheEntry header, 56 of allocator and hash-set overhead; printed by
// ResponderTest.CacheStaysWithinItsByteBound), against ~1,100 for the whole response: a 64 MiB
// cache holds ~148,000 responses.
//
// Layout: 64 shards, each a hash set of entries under its own std::shared_mutex. A lookup
// takes one shard's lock shared and copies the entry out while holding it; inserts, erases and
// evictions take it exclusively. Eviction is CLOCK (second chance): each shard keeps its
// entries in insertion order and a hit only sets a flag, so the hit path writes no shared
// structure.
//
// Invalidation races: a response signed from a status read before a revocation committed must
// not be inserted after that revocation's Erase. Callers read epoch() before they read the
// status; Insert(..., epoch) refuses when any Erase happened since (Erase bumps the epoch under
// the same shard lock Insert checks it under).
//
// Thread-safety: all methods may be called concurrently.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <unordered_set>
#include <vector>

#include "base/bytes.h"
#include "base/clock.h"
#include "ocsp/identity.h"
#include "x509/ocsp.h"

namespace kyso::ocsp::internal {

// RFC 5280 §4.1.2.2: "Conforming CAs MUST NOT use serialNumber values longer than 20 octets."
inline constexpr size_t kMaxSerialOctets = 20;

struct CacheKey {
  int64_t ca_id = 0;
  uint8_t hash = 0;  // x509::OcspHash of the CertID
  uint8_t serial_size = 0;
  uint8_t serial[kMaxSerialOctets] = {};

  bool operator==(const CacheKey& other) const {
    return ca_id == other.ca_id && hash == other.hash && serial_size == other.serial_size &&
           std::equal(serial, serial + serial_size, other.serial);
  }
};
// nullopt when the serial cannot be a cache key (see SerialOctets).
std::optional<CacheKey> MakeCacheKey(int64_t ca_id, x509::OcspHash hash,
                                     std::string_view serial_hex);

// One cached response. Immutable once inserted, except the CLOCK flag and the shard links.
struct CacheEntry {
  CacheKey key;
  const ResponderIdentity* identity = nullptr;  // signer; outlives the cache (Responder keeps it)
  uint64_t version = 0;                         // unique per entry, assigned by the cache
  UnixSeconds produced_at = 0, this_update = 0, next_update = 0;
  CertState state;
  uint16_t cert_id_offset = 0, cert_id_size = 0;  // within the body
  bool canonical = false;                         // the CertID is CanonicalCertId()
  uint32_t body_size = 0;
  mutable std::atomic<bool> referenced{false};
  CacheEntry* older = nullptr;  // CLOCK order, guarded by the shard lock
  CacheEntry* newer = nullptr;

  const uint8_t* body() const { return reinterpret_cast<const uint8_t*>(this + 1); }
  uint8_t* body() { return reinterpret_cast<uint8_t*>(this + 1); }
  ByteSpan cert_id() const { return ByteSpan(body() + cert_id_offset, cert_id_size); }
  // Memory charged to the cache: the allocation plus the hash set's node and bucket.
  size_t charge() const;
};

struct CacheEntryDeleter {
  void operator()(CacheEntry* entry) const;
};
using CacheEntryPtr = std::unique_ptr<CacheEntry, CacheEntryDeleter>;

// Allocates an entry holding a copy of `body` (one allocation).
CacheEntryPtr NewCacheEntry(const CacheKey& key, ByteSpan body);

class ResponseCache {
 public:
  explicit ResponseCache(size_t max_bytes);
  ~ResponseCache();
  ResponseCache(const ResponseCache&) = delete;
  ResponseCache& operator=(const ResponseCache&) = delete;

  // Runs `use(entry)` under the shard's shared lock when `key` is cached; returns what `use`
  // returns (false when absent). A true result marks the entry recently used.
  bool Use(const CacheKey& key, const std::function<bool(const CacheEntry&)>& use) const;
  // Hit-path variant without std::function.
  template <typename Fn>
  bool UseInline(const CacheKey& key, Fn&& use) const;

  uint64_t epoch() const { return epoch_.load(std::memory_order_acquire); }
  // Inserts (or replaces) unless an Erase happened since `epoch_seen`. Returns whether stored.
  bool Insert(CacheEntryPtr entry, uint64_t epoch_seen);
  // Replaces the entry of entry->key only if the cached one still has `version` (a background
  // re-sign must not resurrect an entry erased or replaced meanwhile).
  bool Replace(CacheEntryPtr entry, uint64_t version);
  // Drops the entry of `key` if any, and bumps the epoch.
  void Erase(const CacheKey& key);
  void Clear();

  // Copies of the entries for which `select` is true (at most `limit`), for background work.
  struct Snapshot {
    CacheKey key;
    uint64_t version = 0;
    const ResponderIdentity* identity = nullptr;
    UnixSeconds next_update = 0;
    CertState state;
    Bytes cert_id;
    bool canonical = false;
  };
  std::vector<Snapshot> Collect(const std::function<bool(const CacheEntry&)>& select,
                                size_t limit) const;

  size_t entries() const { return entries_.load(std::memory_order_relaxed); }
  size_t bytes() const { return bytes_.load(std::memory_order_relaxed); }
  size_t max_bytes() const { return max_bytes_; }

 private:
  struct KeyHash {
    using is_transparent = void;
    size_t operator()(const CacheKey& key) const;
    size_t operator()(const CacheEntry* entry) const { return (*this)(entry->key); }
  };
  struct KeyEqual {
    using is_transparent = void;
    bool operator()(const CacheEntry* a, const CacheEntry* b) const { return a->key == b->key; }
    bool operator()(const CacheKey& a, const CacheEntry* b) const { return a == b->key; }
    bool operator()(const CacheEntry* a, const CacheKey& b) const { return a->key == b; }
  };
  struct Shard {
    mutable std::shared_mutex mu;
    std::unordered_set<CacheEntry*, KeyHash, KeyEqual> entries;  // owned
    CacheEntry* oldest = nullptr;                                // CLOCK hand
    CacheEntry* newest = nullptr;
    size_t bytes = 0;
  };
  static constexpr size_t kShards = 64;

  Shard& ShardOf(const CacheKey& key) const;
  // Under the shard's exclusive lock.
  void Link(Shard& shard, CacheEntry* entry);
  void Unlink(Shard& shard, CacheEntry* entry);
  void Remove(Shard& shard, CacheEntry* entry);  // unlink, erase, free
  void Store(Shard& shard, CacheEntryPtr entry);
  void Evict(Shard& shard);

  const size_t max_bytes_;
  const size_t shard_budget_;
  mutable std::array<Shard, kShards> shards_;
  std::atomic<uint64_t> epoch_{0};
  std::atomic<uint64_t> next_version_{1};
  std::atomic<size_t> entries_{0};
  std::atomic<size_t> bytes_{0};
};

template <typename Fn>
bool ResponseCache::UseInline(const CacheKey& key, Fn&& use) const {
  Shard& shard = ShardOf(key);
  std::shared_lock<std::shared_mutex> lock(shard.mu);
  auto it = shard.entries.find(key);
  if (it == shard.entries.end()) return false;
  const CacheEntry& entry = **it;
  if (!use(entry)) return false;
  if (!entry.referenced.load(std::memory_order_relaxed)) {
    entry.referenced.store(true, std::memory_order_relaxed);
  }
  return true;
}

}  // namespace kyso::ocsp::internal
