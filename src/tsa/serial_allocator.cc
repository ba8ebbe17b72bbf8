#include "tsa/serial_allocator.h"

#include <charconv>
#include <string>

namespace kyso::tsa {

Result<uint64_t> ReserveSerialBlock(store::Database& db, const audit::AuditLog& audit,
                                    uint64_t count) {
  KYSO_ASSIGN_OR_RETURN(auto tx, db.Begin(store::TransactionMode::kWrite));
  KYSO_ASSIGN_OR_RETURN(std::optional<std::string> text, tx->GetSetting(kSerialHighWaterSetting));
  uint64_t high_water = 0;
  if (text) {
    const char* end = text->data() + text->size();
    auto [ptr, ec] = std::from_chars(text->data(), end, high_water);
    if (ec != std::errc() || ptr != end || text->empty()) {
      return DataLoss("tsa.serial_state_corrupt", std::string("setting ") +
                                                      kSerialHighWaterSetting +
                                                      " is not a number: \"" + *text + "\"");
    }
  }
  if (count == 0 || high_water > kMaxSerial || count > kMaxSerial - high_water) {
    return FailedPrecondition("tsa.serials_exhausted", "no time-stamp serial numbers left above " +
                                                           std::to_string(high_water));
  }
  uint64_t first = high_water + 1;
  uint64_t last = high_water + count;
  KYSO_RETURN_IF_ERROR(tx->PutSetting(kSerialHighWaterSetting, std::to_string(last)));
  KYSO_ASSIGN_OR_RETURN(auto entry, audit.Append(*tx, "tsa", "tsa.serial_reserve", "tsa",
                                                 "{\"first\":" + std::to_string(first) +
                                                     ",\"last\":" + std::to_string(last) + "}"));
  (void)entry;
  KYSO_RETURN_IF_ERROR(tx->Commit());
  return first;
}

Result<std::unique_ptr<SerialAllocator>> SerialAllocator::Create(ReserveFn reserve,
                                                                 uint64_t block_size) {
  if (block_size == 0) {
    return InvalidArgument("tsa.invalid_options", "the serial block size must be positive");
  }
  std::unique_ptr<SerialAllocator> allocator(new SerialAllocator(std::move(reserve), block_size));
  std::lock_guard lock(allocator->mu_);
  KYSO_ASSIGN_OR_RETURN(uint64_t first, allocator->reserve_(block_size));
  if (first > UINT64_MAX - block_size) {
    return Internal("tsa.serials_exhausted", "reserved block overflows");
  }
  allocator->Install(first);
  return allocator;
}

SerialAllocator::SerialAllocator(ReserveFn reserve, uint64_t block_size)
    : reserve_(std::move(reserve)), block_size_(block_size) {}

void SerialAllocator::Install(uint64_t first) {
  // Half-way through the block. A block of one is never prefetched (the taker of `first`
  // would reserve before the block is even used).
  prefetch_at_.store(block_size_ >= 2 ? first + block_size_ / 2 : UINT64_MAX);
  // next_ before limit_: a thread that reads the new limit_ with a stale next_ fails its
  // compare-exchange (next_ moved) unless the blocks are adjacent, where the stale value is
  // the new block's first serial anyway. A thread that reads the new next_ with the old
  // limit_ sees an exhausted block and comes to SwitchBlock, which then finds it replaced.
  next_.store(first);
  limit_.store(first + block_size_);
}

Result<uint64_t> SerialAllocator::Next() {
  for (;;) {
    uint64_t n = next_.load();
    uint64_t limit = limit_.load();
    if (n < limit) {
      // Takes n only if no other thread took it (or switched blocks) since the load: next_
      // never decreases, so an unchanged value means an unchanged block.
      if (!next_.compare_exchange_weak(n, n + 1)) continue;
      if (n == prefetch_at_.load()) Prefetch(n);
      return n;
    }
    KYSO_RETURN_IF_ERROR(SwitchBlock(limit));
  }
}

Status SerialAllocator::SwitchBlock(uint64_t exhausted_limit) {
  std::lock_guard lock(mu_);
  if (limit_.load() != exhausted_limit) return Status::Ok();  // another thread switched
  uint64_t first = 0;
  if (pending_) {
    first = *pending_;
    pending_.reset();
  } else {
    // The prefetch failed or has not happened (block of one): reserve now, on this thread.
    KYSO_ASSIGN_OR_RETURN(first, reserve_(block_size_));
  }
  if (first < exhausted_limit || first > UINT64_MAX - block_size_) {
    return Internal("tsa.serial_order", "a reserved block does not follow the previous one");
  }
  Install(first);
  return Status::Ok();
}

void SerialAllocator::Prefetch(uint64_t taken) {
  std::lock_guard lock(mu_);
  if (pending_) return;
  auto first = reserve_(block_size_);
  if (first.ok()) {
    pending_ = *first;
    return;
  }
  // The store is unavailable: a later taker tries again, after another 1/16 of the block,
  // rather than every token hammering a failing store. If none is left, the block switch
  // tries once more and reports the error.
  prefetch_at_.store(taken + std::max<uint64_t>(1, block_size_ / 16));
}

}  // namespace kyso::tsa
