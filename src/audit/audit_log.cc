#include "audit/audit_log.h"

#include <algorithm>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>
#include <utility>

#include "crypto/digest.h"

namespace kyso::audit {
namespace {

constexpr std::string_view kEntryDomain = "kyso-audit-v1";
constexpr std::string_view kCheckpointDomain = "kyso-audit-checkpoint-v1";
constexpr size_t kHashSize = 32;  // SHA-256

// Entries read per store call while walking the log.
constexpr int64_t kPageSize = 1000;
// How far from its position Verify looks for the original seq of an entry whose hash does not
// match (an entry moved by renumbering or reordering still matches at its original seq).
constexpr int64_t kProbeWindow = 256;
// Total hash computations Verify may spend on such probes, so that a log damaged throughout
// is still verified in bounded time (the remaining damage is reported as edits).
constexpr int64_t kProbeBudget = 200000;
// Reporting stops after this many problems.
constexpr size_t kMaxProblems = 10000;

void AppendU64(Bytes& out, uint64_t value) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(value >> shift));
}

void AppendField(Bytes& out, ByteSpan field) {
  AppendU64(out, field.size());
  out.insert(out.end(), field.begin(), field.end());
}

std::string Seq(int64_t seq) {
  return std::to_string(seq);
}

// seq + delta, or nullopt on overflow.
std::optional<int64_t> Offset(int64_t seq, int64_t delta) {
  int64_t result = 0;
  if (__builtin_add_overflow(seq, delta, &result)) return std::nullopt;
  return result;
}

bool IsJson(const std::string& text) {
  try {
    return nlohmann::json::accept(text);
  } catch (...) {  // accept() reports malformed input by its result; be safe all the same
    return false;
  }
}

// The signature scheme called `name` for a key of `spec` ("ecdsa-with-SHA256", ...).
std::optional<crypto::SignatureScheme> SchemeNamed(const crypto::KeySpec& spec,
                                                   std::string_view name) {
  for (crypto::DigestAlgorithm digest :
       {crypto::DigestAlgorithm::kSha256, crypto::DigestAlgorithm::kSha384,
        crypto::DigestAlgorithm::kSha512}) {
    for (crypto::RsaPadding padding : {crypto::RsaPadding::kPkcs1v15, crypto::RsaPadding::kPss}) {
      crypto::SignatureScheme scheme;
      scheme.digest = digest;
      scheme.padding = padding;
      if (scheme.Name(spec) == name) return scheme;
    }
  }
  return std::nullopt;
}

// Seal's check of the entries it is about to sign: those after the last checkpoint must
// continue the chain from the sealed head. Returns FailedPrecondition with the problem's id.
Status CheckUnsealedEntries(store::Transaction& tx,
                            const std::optional<store::AuditCheckpoint>& last_checkpoint) {
  auto refuse = [](const char* id, const std::string& why) {
    return FailedPrecondition(
        id, "refusing to seal the audit log: " + why + "; run audit verification for details");
  };
  int64_t expected_seq = last_checkpoint ? last_checkpoint->seq : 1;
  Bytes expected_prev(kHashSize, 0);
  while (true) {
    KYSO_ASSIGN_OR_RETURN(std::vector<store::AuditEntry> page,
                          tx.ListAuditEntries(expected_seq, kPageSize));
    for (const store::AuditEntry& entry : page) {
      const bool is_sealed_head = last_checkpoint && entry.seq == last_checkpoint->seq;
      if (entry.seq != expected_seq) {
        if (last_checkpoint && expected_seq == last_checkpoint->seq) {
          return refuse("audit.checkpoint_mismatch",
                        "entry " + Seq(expected_seq) + ", sealed by the last checkpoint, is gone");
        }
        return refuse("audit.entry_missing", "entry " + Seq(expected_seq) + " is missing");
      }
      if (AuditEntryHash(entry) != entry.hash) {
        return refuse("audit.entry_modified", "entry " + Seq(entry.seq) + " was edited");
      }
      if (is_sealed_head && entry.hash != last_checkpoint->head_hash) {
        return refuse("audit.checkpoint_mismatch",
                      "entry " + Seq(entry.seq) + " is not the one the last checkpoint sealed");
      }
      if (!is_sealed_head && entry.prev_hash != expected_prev) {
        return refuse("audit.chain_broken",
                      "entry " + Seq(entry.seq) + " does not link to the entry before it");
      }
      expected_prev = entry.hash;
      ++expected_seq;
    }
    if (static_cast<int64_t>(page.size()) < kPageSize) break;
  }
  if (last_checkpoint && expected_seq == last_checkpoint->seq) {
    return refuse("audit.checkpoint_mismatch",
                  "entry " + Seq(expected_seq) + ", sealed by the last checkpoint, is gone");
  }
  return Status::Ok();
}

// Verify's walk. Each entry gets an "original seq": its seq if its hash matches there, else
// the seq at which its hash does match (it was moved), else none (it was edited). Read in
// storage order, original seqs should count 1, 2, 3, ...; a jump marks removed entries, a
// step back a reordered one. Entries adjacent in original order must be linked by prev_hash
// and have non-decreasing times.
class Verifier {
 public:
  Verifier(std::vector<store::AuditCheckpoint> checkpoints,
           const std::vector<crypto::PublicKey>& trusted_keys)
      : checkpoints_(std::move(checkpoints)), trusted_keys_(trusted_keys) {
    for (const crypto::PublicKey& key : trusted_keys_) {
      trusted_fingerprints_.push_back(key.Fingerprint());
    }
    head_seen_.assign(checkpoints_.size(), false);
    head_matches_.assign(checkpoints_.size(), false);
    for (size_t i = 0; i < checkpoints_.size(); ++i) {
      checkpoints_by_seq_.emplace(checkpoints_[i].seq, i);
    }
  }

  void Visit(const store::AuditEntry& entry) {
    ++entries_;
    last_seq_ = entry.seq;
    MatchCheckpoints(entry);

    std::optional<int64_t> original;
    if (AuditEntryHash(entry) == entry.hash) {
      original = entry.seq;
    } else {
      original = FindOriginalSeq(entry);
    }
    const bool modified = !original.has_value();
    const bool moved = original.has_value() && *original != entry.seq;
    const int64_t shift = moved ? *original - entry.seq : 0;
    if (moved) last_shift_ = shift;
    // Where the entry belongs; an edited entry is assumed to be in place.
    const int64_t position = original.value_or(entry.seq);
    bool reported = false;

    if (modified) {
      Report("audit.entry_modified", entry.seq,
             "entry " + Seq(entry.seq) + " does not match its hash: its content was edited");
      reported = true;
    }

    bool in_order = position >= expected_original_;
    if (in_order) {
      if (position > expected_original_) {
        missing_[expected_original_] = Gap{position - 1, moved};
      }
      expected_original_ = position + 1;
      // Moved to a later seq: the entries from here on were renumbered upwards. Reported once
      // per run of entries shifted by the same amount.
      if (moved && shift < 0 && !(previous_ && previous_->shift == shift)) {
        Report("audit.entry_reordered", entry.seq,
               "the entry at seq " + Seq(entry.seq) + " was written as entry " + Seq(*original) +
                   ": the entries from seq " + Seq(entry.seq) + " on were renumbered");
        reported = true;
      }
    } else if (!modified) {
      if (TakeMissing(position)) {
        Report("audit.entry_reordered", entry.seq,
               "the entry at seq " + Seq(entry.seq) + " was written as entry " + Seq(position) +
                   ", before the entries now preceding it: entries were reordered");
      } else {
        Report("audit.chain_broken", entry.seq,
               "the entry at seq " + Seq(entry.seq) + " repeats entry " + Seq(position) +
                   ": an entry was copied or inserted");
      }
      reported = true;
    }

    if (!modified && in_order) {
      if (position == 1) {
        if (entry.prev_hash != Bytes(kHashSize, 0)) {
          Report("audit.chain_broken", entry.seq,
                 "entry " + Seq(entry.seq) +
                     " is the first entry but does not start the chain (prev_hash is not zero)");
        }
      } else if (previous_ && !previous_->modified && previous_->position == position - 1) {
        if (entry.prev_hash != previous_->hash) {
          Report("audit.chain_broken", entry.seq,
                 "entry " + Seq(entry.seq) + " does not link to entry " + Seq(previous_->seq) +
                     ": entry " + Seq(previous_->seq) +
                     " was rewritten with a recomputed hash, or replaced");
        } else if (!reported && entry.time < previous_->time) {
          Report("audit.entry_reordered", entry.seq,
                 "entry " + Seq(entry.seq) + " is dated before entry " + Seq(previous_->seq) +
                     ", which the log never does: entries were reordered and re-hashed");
        }
      }
    }

    previous_ = Row{entry.seq, position, shift, modified, entry.hash, entry.time};
  }

  AuditReport Finish() {
    for (const auto& [start, gap] : missing_) {
      std::string message = start == gap.end
                                ? "entry " + Seq(start) + " was removed"
                                : "entries " + Seq(start) + " to " + Seq(gap.end) + " were removed";
      if (gap.renumbered) message += ", and the entries after it renumbered to close the gap";
      Report("audit.entry_missing", start, message);
    }

    int64_t last_sealed = 0;
    for (size_t i = 0; i < checkpoints_.size(); ++i) {
      const store::AuditCheckpoint& checkpoint = checkpoints_[i];
      const std::string name = "checkpoint " + Seq(checkpoint.id);
      const std::string name_and_seq = name + " of seq " + Seq(checkpoint.seq);
      const crypto::PublicKey* key = FindKey(checkpoint.signer_fingerprint);
      if (key == nullptr) {
        Report("audit.checkpoint_unknown_key", checkpoint.seq,
               name_and_seq + " was signed by key " + checkpoint.signer_fingerprint +
                   ", which is not a trusted audit key");
        continue;
      }
      if (!SignatureValid(*key, checkpoint)) {
        Report("audit.checkpoint_bad_signature", checkpoint.seq,
               name_and_seq + " does not carry a valid signature of its audit key");
        continue;
      }
      if (!head_seen_[i]) {
        if (checkpoint.seq > last_seq_) {
          Report("audit.checkpoint_mismatch", checkpoint.seq,
                 "the log ends at seq " + Seq(last_seq_) + " but " + name + " sealed seq " +
                     Seq(checkpoint.seq) + ": entries were removed from the end");
        } else {
          Report("audit.checkpoint_mismatch", checkpoint.seq,
                 "there is no entry at seq " + Seq(checkpoint.seq) + ", which " + name + " sealed");
        }
        continue;
      }
      if (!head_matches_[i]) {
        Report("audit.checkpoint_mismatch", checkpoint.seq,
               "the entry at seq " + Seq(checkpoint.seq) + " is not the one " + name +
                   " sealed: entries up to it were rewritten after sealing");
        continue;
      }
      last_sealed = std::max(last_sealed, checkpoint.seq);
    }
    if (entries_ > 0 && last_seq_ > last_sealed) {
      Report("audit.unsealed_tail", last_sealed + 1,
             "entries " + Seq(last_sealed + 1) + " to " + Seq(last_seq_) +
                 " are not sealed by a valid checkpoint yet",
             /*is_warning=*/true);
    }

    AuditReport report;
    report.entries = entries_;
    report.checkpoints = static_cast<int64_t>(checkpoints_.size());
    report.last_sealed_seq = last_sealed;
    report.problems = std::move(problems_);
    std::stable_sort(report.problems.begin(), report.problems.end(),
                     [](const AuditProblem& a, const AuditProblem& b) { return a.seq < b.seq; });
    report.ok = std::none_of(report.problems.begin(), report.problems.end(),
                             [](const AuditProblem& p) { return !p.is_warning; });
    return report;
  }

 private:
  struct Row {
    int64_t seq;
    int64_t position;  // original seq (or seq, if edited)
    int64_t shift;     // original - seq
    bool modified;
    Bytes hash;
    UnixSeconds time;
  };
  struct Gap {
    int64_t end;      // inclusive
    bool renumbered;  // found through a moved entry, not a hole in the seqs
  };

  void Report(std::string id, int64_t seq, std::string message, bool is_warning = false) {
    if (problems_.size() >= kMaxProblems) {
      if (!truncated_) {
        truncated_ = true;
        problems_.push_back({"audit.too_many_problems", seq,
                             "stopped reporting after " + std::to_string(kMaxProblems) +
                                 " problems; the log is badly damaged",
                             false});
      }
      return;
    }
    problems_.push_back({std::move(id), seq, std::move(message), is_warning});
  }

  // The seq at which `entry`'s stored hash matches, near its position; nullopt if none.
  std::optional<int64_t> FindOriginalSeq(const store::AuditEntry& entry) {
    store::AuditEntry probe = entry;
    auto matches = [&](std::optional<int64_t> seq) {
      if (!seq || *seq < 1 || *seq == entry.seq || probe_budget_ <= 0) return false;
      --probe_budget_;
      probe.seq = *seq;
      return AuditEntryHash(probe) == entry.hash;
    };
    // Entries renumbered by the same amount as the previous moved one: one probe each.
    if (last_shift_ != 0 && matches(Offset(entry.seq, last_shift_))) return entry.seq + last_shift_;
    for (int64_t distance = 1; distance <= kProbeWindow && probe_budget_ > 0; ++distance) {
      if (matches(Offset(entry.seq, -distance))) return entry.seq - distance;
      if (matches(Offset(entry.seq, distance))) return entry.seq + distance;
    }
    return std::nullopt;
  }

  // Removes `seq` from the pending missing ranges; false if it was not pending.
  bool TakeMissing(int64_t seq) {
    auto it = missing_.upper_bound(seq);
    if (it == missing_.begin()) return false;
    --it;
    const int64_t start = it->first;
    const Gap gap = it->second;
    if (seq > gap.end) return false;
    missing_.erase(it);
    if (start < seq) missing_[start] = Gap{seq - 1, gap.renumbered};
    if (seq < gap.end) missing_[seq + 1] = Gap{gap.end, gap.renumbered};
    return true;
  }

  void MatchCheckpoints(const store::AuditEntry& entry) {
    auto [begin, end] = checkpoints_by_seq_.equal_range(entry.seq);
    for (auto it = begin; it != end; ++it) {
      head_seen_[it->second] = true;
      head_matches_[it->second] = entry.hash == checkpoints_[it->second].head_hash;
    }
  }

  const crypto::PublicKey* FindKey(const std::string& fingerprint) const {
    for (size_t i = 0; i < trusted_keys_.size(); ++i) {
      if (trusted_fingerprints_[i] == fingerprint) return &trusted_keys_[i];
    }
    return nullptr;
  }

  static bool SignatureValid(const crypto::PublicKey& key,
                             const store::AuditCheckpoint& checkpoint) {
    auto spec = key.Spec();
    if (!spec.ok()) return false;
    std::optional<crypto::SignatureScheme> scheme = SchemeNamed(*spec, checkpoint.scheme);
    if (!scheme) return false;
    const Bytes message =
        EncodeAuditCheckpoint(checkpoint.seq, checkpoint.head_hash, checkpoint.time);
    return crypto::VerifyMessage(key, *scheme, message, checkpoint.signature).ok();
  }

  std::vector<store::AuditCheckpoint> checkpoints_;
  const std::vector<crypto::PublicKey>& trusted_keys_;
  std::vector<std::string> trusted_fingerprints_;  // of trusted_keys_, same order
  std::multimap<int64_t, size_t> checkpoints_by_seq_;
  std::vector<bool> head_seen_;
  std::vector<bool> head_matches_;

  int64_t entries_ = 0;
  int64_t last_seq_ = 0;
  std::optional<Row> previous_;
  int64_t expected_original_ = 1;
  std::map<int64_t, Gap> missing_;  // by first seq of the range
  int64_t last_shift_ = 0;
  int64_t probe_budget_ = kProbeBudget;
  std::vector<AuditProblem> problems_;
  bool truncated_ = false;
};

}  // namespace

Bytes EncodeAuditEntry(const store::AuditEntry& entry) {
  Bytes out;
  out.reserve(8 * 8 + kEntryDomain.size() + entry.actor.size() + entry.action.size() +
              entry.object.size() + entry.details.size() + entry.prev_hash.size());
  AppendField(out, AsBytes(kEntryDomain));
  AppendU64(out, static_cast<uint64_t>(entry.seq));
  AppendU64(out, static_cast<uint64_t>(entry.time));
  AppendField(out, AsBytes(entry.actor));
  AppendField(out, AsBytes(entry.action));
  AppendField(out, AsBytes(entry.object));
  AppendField(out, AsBytes(entry.details));
  AppendField(out, entry.prev_hash);
  return out;
}

Bytes AuditEntryHash(const store::AuditEntry& entry) {
  return crypto::Sha256(EncodeAuditEntry(entry));
}

Bytes EncodeAuditCheckpoint(int64_t seq, ByteSpan head_hash, UnixSeconds time) {
  Bytes out;
  AppendField(out, AsBytes(kCheckpointDomain));
  AppendU64(out, static_cast<uint64_t>(seq));
  AppendField(out, head_hash);
  AppendU64(out, static_cast<uint64_t>(time));
  return out;
}

Result<store::AuditEntry> AuditLog::Append(store::Transaction& tx, std::string actor,
                                           std::string action, std::string object,
                                           std::string details_json) const {
  if (action.empty()) {
    return InvalidArgument("audit.invalid_entry", "an audit entry needs an action");
  }
  if (details_json.empty()) details_json = "{}";
  if (!IsJson(details_json)) {
    return InvalidArgument("audit.invalid_details",
                           "audit details for \"" + action + "\" are not valid JSON");
  }
  KYSO_ASSIGN_OR_RETURN(std::optional<store::AuditEntry> last, tx.LastAuditEntry());
  store::AuditEntry entry;
  entry.seq = last ? last->seq + 1 : 1;
  // Never backwards, so that Verify may treat a decreasing time as reordering.
  entry.time = last ? std::max(clock_.Now(), last->time) : clock_.Now();
  entry.actor = std::move(actor);
  entry.action = std::move(action);
  entry.object = std::move(object);
  entry.details = std::move(details_json);
  entry.prev_hash = last ? last->hash : Bytes(kHashSize, 0);
  entry.hash = AuditEntryHash(entry);
  KYSO_RETURN_IF_ERROR(tx.InsertAuditEntry(entry));
  return entry;
}

Result<store::AuditCheckpoint> AuditLog::Seal(store::Transaction& tx,
                                              const crypto::Signer& audit_key) const {
  KYSO_ASSIGN_OR_RETURN(std::optional<store::AuditEntry> head, tx.LastAuditEntry());
  if (!head) return FailedPrecondition("audit.nothing_to_seal", "the audit log is empty");
  KYSO_ASSIGN_OR_RETURN(std::optional<store::AuditCheckpoint> last_checkpoint,
                        tx.LastAuditCheckpoint());
  if (last_checkpoint && last_checkpoint->seq >= head->seq) return *last_checkpoint;
  KYSO_RETURN_IF_ERROR(CheckUnsealedEntries(tx, last_checkpoint));

  const crypto::KeySpec spec = audit_key.key_spec();
  const crypto::SignatureScheme scheme = crypto::SignatureScheme::DefaultFor(spec);
  store::AuditCheckpoint checkpoint;
  checkpoint.seq = head->seq;
  checkpoint.head_hash = head->hash;
  checkpoint.time = clock_.Now();
  checkpoint.signer_fingerprint = audit_key.public_key().Fingerprint();
  checkpoint.scheme = scheme.Name(spec);
  KYSO_ASSIGN_OR_RETURN(
      checkpoint.signature,
      audit_key.SignMessage(
          scheme, EncodeAuditCheckpoint(checkpoint.seq, checkpoint.head_hash, checkpoint.time)));
  KYSO_ASSIGN_OR_RETURN(checkpoint.id, tx.InsertAuditCheckpoint(checkpoint));
  return checkpoint;
}

Result<AuditReport> AuditLog::Verify(
    store::Transaction& tx, const std::vector<crypto::PublicKey>& trusted_audit_keys) const {
  KYSO_ASSIGN_OR_RETURN(std::vector<store::AuditCheckpoint> checkpoints, tx.ListAuditCheckpoints());
  Verifier verifier(std::move(checkpoints), trusted_audit_keys);
  // From the lowest possible seq: a tampered log may hold seqs below 1.
  int64_t from = std::numeric_limits<int64_t>::min();
  while (true) {
    KYSO_ASSIGN_OR_RETURN(std::vector<store::AuditEntry> page,
                          tx.ListAuditEntries(from, kPageSize));
    for (const store::AuditEntry& entry : page) verifier.Visit(entry);
    if (static_cast<int64_t>(page.size()) < kPageSize) break;
    if (page.back().seq == std::numeric_limits<int64_t>::max()) break;
    from = page.back().seq + 1;
  }
  return verifier.Finish();
}

}  // namespace kyso::audit
