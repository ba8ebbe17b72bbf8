#include "ocsp/response_cache.h"

#include <cstring>
#include <new>

namespace kyso::ocsp::internal {

namespace {

// What std::unordered_set adds per element in libstdc++: a node (next pointer, value, cached
// hash: 24 octets, 32 with malloc's header) and about one bucket pointer.
constexpr size_t kSetOverhead = 32 + sizeof(void*);
// malloc's per-allocation header.
constexpr size_t kAllocationOverhead = 16;

}  // namespace

std::optional<CacheKey> MakeCacheKey(int64_t ca_id, x509::OcspHash hash,
                                     std::string_view serial_hex) {
  // On the hit path: decoded in place, no allocation.
  if (serial_hex.empty() || serial_hex.size() % 2 != 0 ||
      serial_hex.size() > 2 * kMaxSerialOctets) {
    return std::nullopt;
  }
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  CacheKey key;
  key.ca_id = ca_id;
  key.hash = static_cast<uint8_t>(hash);
  key.serial_size = static_cast<uint8_t>(serial_hex.size() / 2);
  for (size_t i = 0; i < key.serial_size; ++i) {
    const int high = nibble(serial_hex[2 * i]);
    const int low = nibble(serial_hex[2 * i + 1]);
    if (high < 0 || low < 0) return std::nullopt;
    key.serial[i] = static_cast<uint8_t>(high << 4 | low);
  }
  return key;
}

size_t CacheEntry::charge() const {
  return sizeof(CacheEntry) + body_size + kAllocationOverhead + kSetOverhead;
}

void CacheEntryDeleter::operator()(CacheEntry* entry) const {
  entry->~CacheEntry();
  ::operator delete(static_cast<void*>(entry));
}

CacheEntryPtr NewCacheEntry(const CacheKey& key, ByteSpan body) {
  void* memory = ::operator new(sizeof(CacheEntry) + body.size());
  CacheEntryPtr entry(new (memory) CacheEntry());
  entry->key = key;
  entry->body_size = static_cast<uint32_t>(body.size());
  if (!body.empty()) std::memcpy(entry->body(), body.data(), body.size());
  return entry;
}

size_t ResponseCache::KeyHash::operator()(const CacheKey& key) const {
  // FNV-1a over the key's octets: serials are random, so this spreads well and is cheap.
  uint64_t h = 1469598103934665603ull;
  auto mix = [&h](uint8_t b) {
    h ^= b;
    h *= 1099511628211ull;
  };
  for (int i = 0; i < 8; ++i)
    mix(static_cast<uint8_t>(static_cast<uint64_t>(key.ca_id) >> (8 * i)));
  mix(key.hash);
  mix(key.serial_size);
  for (size_t i = 0; i < key.serial_size; ++i) mix(key.serial[i]);
  return static_cast<size_t>(h);
}

ResponseCache::ResponseCache(size_t max_bytes)
    : max_bytes_(max_bytes), shard_budget_(max_bytes / kShards) {}

ResponseCache::~ResponseCache() {
  Clear();
}

ResponseCache::Shard& ResponseCache::ShardOf(const CacheKey& key) const {
  // The top bits of the hash pick the shard; the set uses the low bits for its buckets.
  const size_t h = KeyHash()(key);
  return shards_[(h >> 58) % kShards];
}

bool ResponseCache::Use(const CacheKey& key,
                        const std::function<bool(const CacheEntry&)>& use) const {
  return UseInline(key, use);
}

void ResponseCache::Link(Shard& shard, CacheEntry* entry) {
  entry->older = shard.newest;
  entry->newer = nullptr;
  if (shard.newest != nullptr) shard.newest->newer = entry;
  shard.newest = entry;
  if (shard.oldest == nullptr) shard.oldest = entry;
}

void ResponseCache::Unlink(Shard& shard, CacheEntry* entry) {
  if (entry->older != nullptr) entry->older->newer = entry->newer;
  if (entry->newer != nullptr) entry->newer->older = entry->older;
  if (shard.oldest == entry) shard.oldest = entry->newer;
  if (shard.newest == entry) shard.newest = entry->older;
  entry->older = entry->newer = nullptr;
}

void ResponseCache::Remove(Shard& shard, CacheEntry* entry) {
  Unlink(shard, entry);
  shard.entries.erase(entry);
  const size_t charge = entry->charge();
  shard.bytes -= charge;
  bytes_.fetch_sub(charge, std::memory_order_relaxed);
  entries_.fetch_sub(1, std::memory_order_relaxed);
  CacheEntryDeleter()(entry);
}

void ResponseCache::Store(Shard& shard, CacheEntryPtr entry) {
  entry->version = next_version_.fetch_add(1, std::memory_order_relaxed);
  auto it = shard.entries.find(entry->key);
  if (it != shard.entries.end()) Remove(shard, *it);
  const size_t charge = entry->charge();
  CacheEntry* raw = entry.release();
  shard.entries.insert(raw);
  Link(shard, raw);
  shard.bytes += charge;
  bytes_.fetch_add(charge, std::memory_order_relaxed);
  entries_.fetch_add(1, std::memory_order_relaxed);
  Evict(shard);
}

void ResponseCache::Evict(Shard& shard) {
  // CLOCK: the oldest entry goes unless it was used since the hand last passed it, in which
  // case it gets a second chance at the young end. Every entry is passed at most twice.
  size_t budget = 2 * shard.entries.size();
  while (shard.bytes > shard_budget_ && shard.oldest != nullptr && budget-- > 0) {
    CacheEntry* victim = shard.oldest;
    if (victim->referenced.load(std::memory_order_relaxed) && victim != shard.newest) {
      victim->referenced.store(false, std::memory_order_relaxed);
      Unlink(shard, victim);
      Link(shard, victim);
      continue;
    }
    Remove(shard, victim);
  }
}

bool ResponseCache::Insert(CacheEntryPtr entry, uint64_t epoch_seen) {
  Shard& shard = ShardOf(entry->key);
  std::unique_lock<std::shared_mutex> lock(shard.mu);
  if (epoch_.load(std::memory_order_acquire) != epoch_seen) return false;
  Store(shard, std::move(entry));
  return true;
}

bool ResponseCache::Replace(CacheEntryPtr entry, uint64_t version) {
  Shard& shard = ShardOf(entry->key);
  std::unique_lock<std::shared_mutex> lock(shard.mu);
  auto it = shard.entries.find(entry->key);
  if (it == shard.entries.end() || (*it)->version != version) return false;
  Store(shard, std::move(entry));
  return true;
}

void ResponseCache::Erase(const CacheKey& key) {
  Shard& shard = ShardOf(key);
  std::unique_lock<std::shared_mutex> lock(shard.mu);
  epoch_.fetch_add(1, std::memory_order_acq_rel);
  auto it = shard.entries.find(key);
  if (it != shard.entries.end()) Remove(shard, *it);
}

void ResponseCache::Clear() {
  epoch_.fetch_add(1, std::memory_order_acq_rel);
  for (Shard& shard : shards_) {
    std::unique_lock<std::shared_mutex> lock(shard.mu);
    while (shard.oldest != nullptr) Remove(shard, shard.oldest);
  }
}

std::vector<ResponseCache::Snapshot> ResponseCache::Collect(
    const std::function<bool(const CacheEntry&)>& select, size_t limit) const {
  std::vector<Snapshot> out;
  for (Shard& shard : shards_) {
    if (out.size() >= limit) break;
    std::shared_lock<std::shared_mutex> lock(shard.mu);
    for (const CacheEntry* entry = shard.oldest; entry != nullptr && out.size() < limit;
         entry = entry->newer) {
      if (!select(*entry)) continue;
      Snapshot s;
      s.key = entry->key;
      s.version = entry->version;
      s.identity = entry->identity;
      s.next_update = entry->next_update;
      s.state = entry->state;
      s.cert_id.assign(entry->cert_id().begin(), entry->cert_id().end());
      s.canonical = entry->canonical;
      out.push_back(std::move(s));
    }
  }
  return out;
}

}  // namespace kyso::ocsp::internal
