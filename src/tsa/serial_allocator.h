// Time-stamp serial numbers: unique and increasing across threads and restarts, without a
// store write per token.
//
//= https://www.rfc-editor.org/rfc/rfc3161#section-2.4.2
//# serialNumber ... Time-Stamping users MUST be ready to accommodate integers up to 160 bits.
//# ... the serialNumber MUST be unique for each TimeStampToken issued by a given TSA (i.e.,
//# the TSA name and serial number identify a unique TimeStampToken).
//
// Serials are reserved in blocks: ReserveSerialBlock moves the store's high-water mark
// (setting kSerialHighWaterSetting, the last serial reserved so far) up by a block and records
// an audit entry "tsa.serial_reserve" in the same write transaction. SerialAllocator hands the
// block out from an atomic counter, and the thread that takes the serial half-way through a
// block reserves the next one, so the switch to it does not wait for the store. After a
// restart the first block starts above the high-water mark, hence above every serial any
// earlier instance handed out (the unused rest of its blocks is skipped, never reused).
// Several instances sharing one store get disjoint blocks: each reservation is one write
// transaction.
//
// Thread-safety: SerialAllocator::Next may be called from any number of threads. Serials are
// unique; the serials one thread obtains increase strictly; across threads the order of the
// counter is the order of the atomic increments.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>

#include "audit/audit_log.h"
#include "base/result.h"
#include "store/store.h"

namespace kyso::tsa {

inline constexpr const char* kSerialHighWaterSetting = "tsa.serial_high_water";
// Serials stay below 2^63 (a non-negative 64-bit INTEGER, 8 content octets or fewer).
inline constexpr uint64_t kMaxSerial = (uint64_t{1} << 63) - 1;

// Reserves the `count` serials after the high-water mark in one write transaction with an
// audit entry (actor "tsa", action "tsa.serial_reserve") and returns the first of them.
// Errors: tsa.serial_state_corrupt (DataLoss) when the setting is not a number,
// tsa.serials_exhausted (FailedPrecondition) past kMaxSerial, store and audit errors as they
// come.
[[nodiscard]] Result<uint64_t> ReserveSerialBlock(store::Database& db, const audit::AuditLog& audit,
                                                  uint64_t count);

class SerialAllocator {
 public:
  // Reserves `count` fresh serials and returns the first: [first, first + count) then belong
  // to the allocator. Called with the allocator's mutex held.
  using ReserveFn = std::function<Result<uint64_t>(uint64_t count)>;

  // Reserves the first block at once, so a store that cannot be written fails here.
  static Result<std::unique_ptr<SerialAllocator>> Create(ReserveFn reserve, uint64_t block_size);

  // The next serial. Lock-free except once per block. Fails only when the current block is
  // used up and no new one can be reserved (the error of the reservation).
  [[nodiscard]] Result<uint64_t> Next();

 private:
  SerialAllocator(ReserveFn reserve, uint64_t block_size);
  // Makes [first, first + block_size_) current. Called with mu_ held.
  void Install(uint64_t first);
  Status SwitchBlock(uint64_t exhausted_limit);
  void Prefetch(uint64_t taken);

  const ReserveFn reserve_;
  const uint64_t block_size_;
  // Invariant: next_ <= limit_; serials in [next_, limit_) are free. Written together only
  // under mu_, next_ first (see Next()).
  std::atomic<uint64_t> next_{0};
  std::atomic<uint64_t> limit_{0};
  // The thread taking this serial reserves the next block in advance.
  std::atomic<uint64_t> prefetch_at_{0};
  std::mutex mu_;                    // serializes reservations and block switches
  std::optional<uint64_t> pending_;  // GUARDED_BY(mu_): first serial of the next block
};

}  // namespace kyso::tsa
