// AuditLog: the CA's tamper-evident audit trail, a hash chain of entries sealed by signed
// checkpoints.
//
// Every state change of the CA appends one entry in the same store transaction as the change,
// so both commit or neither does. Entry n carries prev_hash = hash of entry n-1 (32 zero bytes
// for entry 1) and hash = SHA-256 of its canonical encoding, which covers prev_hash; editing,
// removing or reordering any entry therefore breaks the chain from that point on. A checkpoint
// is the audit key's signature over the chain head at some seq: it extends the protection to
// an attacker who rewrites the chain with recomputed hashes, since they cannot re-sign.
//
// Canonical encoding of an entry, the input of its SHA-256:
//
//   LP("kyso-audit-v1") || U64(seq) || I64(time) || LP(actor) || LP(action) || LP(object)
//     || LP(details) || LP(prev_hash)
//
// and the message a checkpoint signs:
//
//   LP("kyso-audit-checkpoint-v1") || U64(seq) || LP(head_hash) || I64(time)
//
// where U64/I64 are 8-byte big-endian (two's complement for I64) and LP(x) = U64(byte length
// of x) || x. Why this form: every field is either fixed-width or preceded by its length, so
// the encoding can be parsed back into exactly one tuple of fields; two entries that differ in
// any field (say actor "ab" + action "c" versus actor "a" + action "bc") never share an
// encoding, and so never share a hash. The distinct domain prefixes keep an entry hash from
// ever being confused with a checkpoint message or any other SHA-256 input kyso signs.
//
// Appended times never go backwards: if the clock steps back, an entry gets the previous
// entry's time. Verify can then read a time that decreases along the chain as evidence of
// reordering.
//
// Thread-safety: an AuditLog holds only the clock and is safe to share between threads;
// concurrent Appends are serialized by the store's write transactions.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/clock.h"
#include "base/result.h"
#include "crypto/key.h"
#include "crypto/signer.h"
#include "store/store.h"

namespace kyso::audit {

// One finding of Verify. Ids (stable; `seq` says where):
//   audit.entry_modified            the entry at seq does not match its own hash: edited
//   audit.chain_broken              the entry at seq does not link to the entry before it: that
//                                   one was rewritten with a recomputed hash, or a copy or
//                                   forged entry was inserted
//   audit.entry_missing             entry seq (..and the following, see message) was removed;
//                                   also when later entries were renumbered to close the gap
//   audit.entry_reordered           the entry at seq was written at another position (moved
//                                   before entries written earlier), or is dated before its
//                                   predecessor
//   audit.checkpoint_bad_signature  the checkpoint sealing seq has an invalid signature
//   audit.checkpoint_unknown_key    the checkpoint sealing seq was signed by an untrusted key
//   audit.checkpoint_mismatch       a valid checkpoint sealed seq, but the entry now at seq is
//                                   not the one it sealed, or the log ends before seq (the
//                                   tail was removed)
//   audit.too_many_problems         reporting stopped at seq; the log is badly damaged
//   audit.unsealed_tail (warning)   entries from seq on are not covered by a valid checkpoint
struct AuditProblem {
  std::string id;
  int64_t seq = 0;
  std::string message;
  bool is_warning = false;
};

struct AuditReport {
  bool ok = true;  // no problem other than warnings
  int64_t entries = 0;
  int64_t checkpoints = 0;
  int64_t last_sealed_seq = 0;         // highest seq sealed by a valid checkpoint; 0 if none
  std::vector<AuditProblem> problems;  // ordered by seq
};

// The canonical encoding of `entry` (all fields but `hash`), as above.
Bytes EncodeAuditEntry(const store::AuditEntry& entry);
// SHA-256 of EncodeAuditEntry(entry).
Bytes AuditEntryHash(const store::AuditEntry& entry);
// The message a checkpoint signs, as above.
Bytes EncodeAuditCheckpoint(int64_t seq, ByteSpan head_hash, UnixSeconds time);

class AuditLog {
 public:
  explicit AuditLog(const Clock& clock) : clock_(clock) {}

  // Appends an entry after the last one in `tx` and returns it. `details_json` must be JSON
  // (empty means "{}"); it is stored as given. One indexed read and one insert.
  // InvalidArgument "audit.invalid_entry" for an empty action, "audit.invalid_details" for
  // details that are not JSON; store errors as they come.
  [[nodiscard]] Result<store::AuditEntry> Append(store::Transaction& tx, std::string actor,
                                                 std::string action, std::string object,
                                                 std::string details_json) const;

  // Signs the chain head with `audit_key` if entries were appended since the last checkpoint,
  // and stores the checkpoint; otherwise returns the last checkpoint unchanged. Before signing
  // it re-checks the entries since the last checkpoint and refuses (FailedPrecondition with
  // the problem's id, e.g. "audit.entry_modified") to seal a broken chain.
  // FailedPrecondition "audit.nothing_to_seal" when the log is empty.
  [[nodiscard]] Result<store::AuditCheckpoint> Seal(store::Transaction& tx,
                                                    const crypto::Signer& audit_key) const;

  // Walks every entry in seq order, a page at a time, and every checkpoint, and reports each
  // problem found (see AuditProblem). Fails only when the store cannot be read.
  [[nodiscard]] Result<AuditReport> Verify(
      store::Transaction& tx, const std::vector<crypto::PublicKey>& trusted_audit_keys) const;

 private:
  const Clock& clock_;
};

}  // namespace kyso::audit
