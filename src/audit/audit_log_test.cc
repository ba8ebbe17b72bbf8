// AuditLog against the real SQLite store and a real P-256 audit key. Tampering goes through a
// raw sqlite3 connection, as an attacker with access to the file would do it.
#include "audit/audit_log.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "crypto/key.h"
#include "crypto/signer.h"
#include "store/sqlite/sqlite_store.h"

namespace kyso::audit {
namespace {

constexpr UnixSeconds kStart = 1767225600;  // 2026-01-01T00:00:00Z

using Found = std::vector<std::pair<std::string, int64_t>>;  // (id, seq)

// The non-warning problems of `report`, as (id, seq).
Found Errors(const AuditReport& report) {
  Found found;
  for (const AuditProblem& problem : report.problems) {
    if (!problem.is_warning) found.emplace_back(problem.id, problem.seq);
  }
  return found;
}

Found Warnings(const AuditReport& report) {
  Found found;
  for (const AuditProblem& problem : report.problems) {
    if (problem.is_warning) found.emplace_back(problem.id, problem.seq);
  }
  return found;
}

// The message of the first problem with `id`.
std::string MessageOf(const AuditReport& report, const std::string& id) {
  for (const AuditProblem& problem : report.problems) {
    if (problem.id == id) return problem.message;
  }
  return "";
}

std::string Dump(const AuditReport& report) {
  std::string text;
  for (const AuditProblem& problem : report.problems) {
    text += problem.id + " @" + std::to_string(problem.seq) + ": " + problem.message + "\n";
  }
  return text;
}

crypto::SoftwareSigner MakeSigner() {
  auto spec = crypto::KeySpec::Parse("ec:P-256");
  EXPECT_TRUE(spec.ok());
  auto key = crypto::PrivateKey::Generate(*spec);
  EXPECT_TRUE(key.ok()) << key.status().ToString();
  return crypto::SoftwareSigner(std::move(key).value(), "test:audit");
}

// Raw access to the database file, with the append-only triggers dropped first: they stop
// kyso from rewriting history by mistake, not an attacker.
class Attacker {
 public:
  explicit Attacker(const std::string& path) {
    EXPECT_EQ(sqlite3_open(path.c_str(), &db_), SQLITE_OK);
    Exec(
        "DROP TRIGGER IF EXISTS audit_log_no_update; DROP TRIGGER IF EXISTS audit_log_no_delete;"
        "DROP TRIGGER IF EXISTS audit_checkpoints_no_update;"
        "DROP TRIGGER IF EXISTS audit_checkpoints_no_delete;");
  }
  ~Attacker() { sqlite3_close(db_); }

  void Exec(const std::string& sql) {
    char* error = nullptr;
    const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error);
    EXPECT_EQ(rc, SQLITE_OK) << sql << ": " << (error ? error : "");
    sqlite3_free(error);
  }

  void SetHash(int64_t seq, const Bytes& hash) {
    Exec("UPDATE audit_log SET hash = X'" + HexEncode(hash) +
         "' WHERE seq = " + std::to_string(seq));
  }

  // Replaces the whole log with `entries`, renumbered 1..n and re-hashed into a valid chain.
  void RewriteChain(std::vector<store::AuditEntry> entries) {
    Exec("DELETE FROM audit_log");
    Bytes prev(32, 0);
    for (size_t i = 0; i < entries.size(); ++i) {
      store::AuditEntry& entry = entries[i];
      entry.seq = static_cast<int64_t>(i + 1);
      entry.prev_hash = prev;
      entry.hash = AuditEntryHash(entry);
      prev = entry.hash;
      sqlite3_stmt* stmt = nullptr;
      ASSERT_EQ(sqlite3_prepare_v2(db_,
                                   "INSERT INTO audit_log (seq, time, actor, action, object, "
                                   "details, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                                   -1, &stmt, nullptr),
                SQLITE_OK);
      sqlite3_bind_int64(stmt, 1, entry.seq);
      sqlite3_bind_int64(stmt, 2, entry.time);
      sqlite3_bind_text(stmt, 3, entry.actor.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(stmt, 4, entry.action.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(stmt, 5, entry.object.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(stmt, 6, entry.details.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_blob(stmt, 7, entry.prev_hash.data(), 32, SQLITE_TRANSIENT);
      sqlite3_bind_blob(stmt, 8, entry.hash.data(), 32, SQLITE_TRANSIENT);
      EXPECT_EQ(sqlite3_step(stmt), SQLITE_DONE);
      sqlite3_finalize(stmt);
    }
  }

 private:
  sqlite3* db_ = nullptr;
};

class AuditLogTest : public ::testing::Test {
 protected:
  AuditLogTest() : clock_(kStart), log_(clock_), signer_(MakeSigner()) {}

  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "kyso-audit-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    path_ = dir_ + "/kyso.db";
    store::SqliteOptions options;
    options.durable = false;
    auto db = store::OpenSqliteDatabase(path_, options);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
  }

  void TearDown() override {
    db_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  std::unique_ptr<store::Transaction> Begin(store::TransactionMode mode) {
    auto tx = db_->Begin(mode);
    EXPECT_TRUE(tx.ok()) << tx.status().ToString();
    return std::move(tx).value();
  }

  // Appends `count` entries in one transaction, one second apart.
  void Append(int count) {
    auto tx = Begin(store::TransactionMode::kWrite);
    for (int i = 0; i < count; ++i) {
      clock_.Advance(1);
      auto entry = log_.Append(*tx, "cli:root@host", "cert.issue", "issuing/" + std::to_string(i),
                               R"({"profile":"personal-sign"})");
      ASSERT_TRUE(entry.ok()) << entry.status().ToString();
    }
    ASSERT_TRUE(tx->Commit().ok());
  }

  store::AuditCheckpoint Seal() {
    auto tx = Begin(store::TransactionMode::kWrite);
    clock_.Advance(1);
    auto checkpoint = log_.Seal(*tx, signer_);
    EXPECT_TRUE(checkpoint.ok()) << checkpoint.status().ToString();
    EXPECT_TRUE(tx->Commit().ok());
    return checkpoint.ok() ? *checkpoint : store::AuditCheckpoint{};
  }

  AuditReport Verify() { return Verify({signer_.public_key()}); }
  AuditReport Verify(const std::vector<crypto::PublicKey>& keys) {
    auto tx = Begin(store::TransactionMode::kRead);
    auto report = log_.Verify(*tx, keys);
    EXPECT_TRUE(report.ok()) << report.status().ToString();
    return report.ok() ? *report : AuditReport{};
  }

  std::vector<store::AuditEntry> Entries() {
    auto tx = Begin(store::TransactionMode::kRead);
    auto entries = tx->ListAuditEntries(1, 1000000);
    EXPECT_TRUE(entries.ok());
    return entries.ok() ? *entries : std::vector<store::AuditEntry>{};
  }

  store::AuditEntry EntryAt(int64_t seq) {
    auto tx = Begin(store::TransactionMode::kRead);
    auto entries = tx->ListAuditEntries(seq, 1);
    EXPECT_TRUE(entries.ok() && entries->size() == 1 && (*entries)[0].seq == seq);
    return (*entries)[0];
  }

  // Edits entry `seq` and, if `rehash`, stores the hash its new content has.
  void EditEntry(int64_t seq, bool rehash) {
    Attacker attacker(path_);
    attacker.Exec("UPDATE audit_log SET actor = 'cli:mallory@host' WHERE seq = " +
                  std::to_string(seq));
    if (rehash) attacker.SetHash(seq, AuditEntryHash(EntryAt(seq)));
  }

  std::string dir_;
  std::string path_;
  FixedClock clock_;
  AuditLog log_;
  crypto::SoftwareSigner signer_;
  std::unique_ptr<store::Database> db_;
};

// --- encoding ----------------------------------------------------------------------------------

TEST(AuditEncodingTest, EntryHashKnownAnswer) {
  store::AuditEntry entry;
  entry.seq = 1;
  entry.time = kStart;
  entry.actor = "cli:root@host";
  entry.action = "cert.issue";
  entry.object = "issuing/3A7F";
  entry.details = R"({"profile":"personal-sign"})";
  entry.prev_hash = Bytes(32, 0);
  // Computed independently with Python's struct and hashlib from the encoding in
  // audit_log.h.
  EXPECT_EQ(EncodeAuditEntry(entry).size(), 171u);
  EXPECT_EQ(HexEncode(AuditEntryHash(entry)),
            "D8512CDB4CC0E4424EFDE1A63EBB39C580A74907053CB7CB6460242FCB1872EE");
}

TEST(AuditEncodingTest, CheckpointMessageKnownAnswer) {
  EXPECT_EQ(HexEncode(EncodeAuditCheckpoint(7, Bytes(32, 0xAB), kStart)),
            "00000000000000186B79736F2D61756469742D636865636B706F696E742D76310000000000000007"
            "0000000000000020ABABABABABABABABABABABABABABABABABABABABABABABABABABABABABABABAB"
            "000000006955B900");
}

TEST(AuditEncodingTest, FieldBoundariesMatter) {
  store::AuditEntry a;
  a.seq = 1;
  a.actor = "ab";
  a.action = "c";
  a.prev_hash = Bytes(32, 0);
  store::AuditEntry b = a;
  b.actor = "a";
  b.action = "bc";
  EXPECT_NE(EncodeAuditEntry(a), EncodeAuditEntry(b));
  EXPECT_NE(AuditEntryHash(a), AuditEntryHash(b));
  store::AuditEntry c = a;
  c.seq = 2;
  EXPECT_NE(AuditEntryHash(a), AuditEntryHash(c));
}

// --- Append ------------------------------------------------------------------------------------

TEST_F(AuditLogTest, AppendChainsEntries) {
  Append(3);
  const std::vector<store::AuditEntry> entries = Entries();
  ASSERT_EQ(entries.size(), 3u);
  for (size_t i = 0; i < entries.size(); ++i) {
    EXPECT_EQ(entries[i].seq, static_cast<int64_t>(i + 1));
    EXPECT_EQ(entries[i].time, kStart + static_cast<int64_t>(i + 1));
    EXPECT_EQ(entries[i].hash, AuditEntryHash(entries[i]));
    EXPECT_EQ(entries[i].prev_hash, i == 0 ? Bytes(32, 0) : entries[i - 1].hash);
  }
  EXPECT_EQ(entries[0].actor, "cli:root@host");
  EXPECT_EQ(entries[0].action, "cert.issue");
  EXPECT_EQ(entries[2].object, "issuing/2");
  EXPECT_EQ(entries[0].details, R"({"profile":"personal-sign"})");
}

TEST_F(AuditLogTest, AppendNeverGoesBackInTime) {
  Append(1);
  clock_.Set(kStart - 3600);  // the system clock stepped back
  auto tx = Begin(store::TransactionMode::kWrite);
  auto entry = log_.Append(*tx, "system", "crl.generate", "", "");
  ASSERT_TRUE(entry.ok()) << entry.status().ToString();
  EXPECT_EQ(entry->time, kStart + 1);
  EXPECT_EQ(entry->details, "{}");
  ASSERT_TRUE(tx->Commit().ok());
  EXPECT_TRUE(Verify().problems.size() == 1);  // only the unsealed-tail warning
}

TEST_F(AuditLogTest, AppendRejectsBadInput) {
  auto tx = Begin(store::TransactionMode::kWrite);
  EXPECT_EQ(log_.Append(*tx, "system", "", "", "{}").status().id(), "audit.invalid_entry");
  auto bad = log_.Append(*tx, "system", "cert.issue", "", "{not json");
  EXPECT_EQ(bad.status().id(), "audit.invalid_details");
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(log_.Append(*tx, "system", "cert.issue", "", "\"\xff\"").status().id(),
            "audit.invalid_details");
  EXPECT_FALSE(tx->LastAuditEntry()->has_value());
}

TEST_F(AuditLogTest, AppendRollsBackWithItsTransaction) {
  {
    auto tx = Begin(store::TransactionMode::kWrite);
    ASSERT_TRUE(log_.Append(*tx, "system", "cert.issue", "", "{}").ok());
  }
  EXPECT_TRUE(Entries().empty());
  Append(1);
  EXPECT_EQ(Entries()[0].seq, 1);
}

// --- Seal --------------------------------------------------------------------------------------

TEST_F(AuditLogTest, SealSignsTheHead) {
  Append(3);
  const store::AuditCheckpoint checkpoint = Seal();
  EXPECT_GT(checkpoint.id, 0);
  EXPECT_EQ(checkpoint.seq, 3);
  EXPECT_EQ(checkpoint.head_hash, EntryAt(3).hash);
  EXPECT_EQ(checkpoint.time, kStart + 4);
  EXPECT_EQ(checkpoint.signer_fingerprint, signer_.public_key().Fingerprint());
  EXPECT_EQ(checkpoint.scheme, "ecdsa-with-SHA256");
  crypto::SignatureScheme scheme;
  EXPECT_TRUE(crypto::VerifyMessage(signer_.public_key(), scheme,
                                    EncodeAuditCheckpoint(3, checkpoint.head_hash, checkpoint.time),
                                    checkpoint.signature)
                  .ok());
}

TEST_F(AuditLogTest, SealWithoutNewEntriesReturnsTheLastCheckpoint) {
  Append(3);
  const store::AuditCheckpoint first = Seal();
  const store::AuditCheckpoint again = Seal();
  EXPECT_EQ(again.id, first.id);
  EXPECT_EQ(again.seq, 3);
  Append(2);
  const store::AuditCheckpoint next = Seal();
  EXPECT_NE(next.id, first.id);
  EXPECT_EQ(next.seq, 5);
  auto tx = Begin(store::TransactionMode::kRead);
  EXPECT_EQ(tx->ListAuditCheckpoints()->size(), 2u);
}

TEST_F(AuditLogTest, SealingAnEmptyLogFails) {
  auto tx = Begin(store::TransactionMode::kWrite);
  auto checkpoint = log_.Seal(*tx, signer_);
  EXPECT_EQ(checkpoint.status().id(), "audit.nothing_to_seal");
  EXPECT_EQ(checkpoint.status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(AuditLogTest, SealRefusesAnEditedTail) {
  Append(2);
  Seal();
  Append(3);
  EditEntry(4, /*rehash=*/false);
  auto tx = Begin(store::TransactionMode::kWrite);
  EXPECT_EQ(log_.Seal(*tx, signer_).status().id(), "audit.entry_modified");
}

TEST_F(AuditLogTest, SealRefusesABrokenLink) {
  Append(5);
  EditEntry(2, /*rehash=*/true);
  auto tx = Begin(store::TransactionMode::kWrite);
  EXPECT_EQ(log_.Seal(*tx, signer_).status().id(), "audit.chain_broken");
}

TEST_F(AuditLogTest, SealRefusesWhenTheSealedHeadChanged) {
  Append(3);
  Seal();
  Append(1);
  EditEntry(3, /*rehash=*/true);
  auto tx = Begin(store::TransactionMode::kWrite);
  EXPECT_EQ(log_.Seal(*tx, signer_).status().id(), "audit.checkpoint_mismatch");
}

// --- Verify: intact logs ------------------------------------------------------------------

TEST_F(AuditLogTest, VerifiesAnEmptyLog) {
  const AuditReport report = Verify();
  EXPECT_TRUE(report.ok);
  EXPECT_EQ(report.entries, 0);
  EXPECT_EQ(report.checkpoints, 0);
  EXPECT_TRUE(report.problems.empty());
}

TEST_F(AuditLogTest, VerifiesASealedLog) {
  Append(3);
  Seal();
  Append(2);
  Seal();
  const AuditReport report = Verify();
  EXPECT_TRUE(report.ok) << Dump(report);
  EXPECT_EQ(report.entries, 5);
  EXPECT_EQ(report.checkpoints, 2);
  EXPECT_EQ(report.last_sealed_seq, 5);
  EXPECT_TRUE(report.problems.empty()) << Dump(report);
}

TEST_F(AuditLogTest, WarnsAboutAnUnsealedTail) {
  Append(3);
  Seal();
  Append(2);
  const AuditReport report = Verify();
  EXPECT_TRUE(report.ok) << Dump(report);
  EXPECT_EQ(report.last_sealed_seq, 3);
  EXPECT_EQ(Errors(report), Found{});
  EXPECT_EQ(Warnings(report), (Found{{"audit.unsealed_tail", 4}}));
}

// --- Verify: tampering ----------------------------------------------------------------------

TEST_F(AuditLogTest, DetectsAnEditedEntry) {
  Append(5);
  Seal();
  EditEntry(3, /*rehash=*/false);
  const AuditReport report = Verify();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(Errors(report), (Found{{"audit.entry_modified", 3}})) << Dump(report);
}

TEST_F(AuditLogTest, DetectsAnEditedEntryWithRecomputedHash) {
  Append(5);
  Seal();
  EditEntry(3, /*rehash=*/true);
  const AuditReport report = Verify();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(Errors(report), (Found{{"audit.chain_broken", 4}})) << Dump(report);
}

TEST_F(AuditLogTest, DetectsAnEditedLastEntryWithRecomputedHash) {
  Append(5);
  Seal();
  EditEntry(5, /*rehash=*/true);
  const AuditReport report = Verify();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(Errors(report), (Found{{"audit.checkpoint_mismatch", 5}})) << Dump(report);
}

TEST_F(AuditLogTest, DetectsARewrittenChainThroughItsCheckpoints) {
  Append(3);
  Seal();
  Append(2);
  Seal();
  // Edit entry 2 and recompute every hash after it: a consistent chain, but not the one sealed.
  std::vector<store::AuditEntry> entries = Entries();
  entries[1].details = R"({"profile":"forged"})";
  Attacker(path_).RewriteChain(entries);
  const AuditReport report = Verify();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(Errors(report),
            (Found{{"audit.checkpoint_mismatch", 3}, {"audit.checkpoint_mismatch", 5}}))
      << Dump(report);
  EXPECT_EQ(report.last_sealed_seq, 0);
}

TEST_F(AuditLogTest, DetectsARemovedEntry) {
  Append(5);
  Seal();
  Attacker(path_).Exec("DELETE FROM audit_log WHERE seq = 3");
  const AuditReport report = Verify();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(Errors(report), (Found{{"audit.entry_missing", 3}})) << Dump(report);
  EXPECT_EQ(report.entries, 4);
}

TEST_F(AuditLogTest, DetectsRemovedEntries) {
  Append(8);
  Seal();
  Attacker(path_).Exec("DELETE FROM audit_log WHERE seq IN (3, 4, 5)");
  const AuditReport report = Verify();
  EXPECT_EQ(Errors(report), (Found{{"audit.entry_missing", 3}})) << Dump(report);
  EXPECT_NE(MessageOf(report, "audit.entry_missing").find("3 to 5"), std::string::npos);
}

TEST_F(AuditLogTest, DetectsTheFirstEntryRemoved) {
  Append(4);
  Seal();
  Attacker(path_).Exec("DELETE FROM audit_log WHERE seq = 1");
  EXPECT_EQ(Errors(Verify()), (Found{{"audit.entry_missing", 1}}));
}

TEST_F(AuditLogTest, DetectsARemovalHiddenByRenumbering) {
  Append(6);
  Seal();
  {
    Attacker attacker(path_);
    attacker.Exec("DELETE FROM audit_log WHERE seq = 3");
    attacker.Exec("UPDATE audit_log SET seq = seq - 1 WHERE seq > 3");
  }
  const AuditReport report = Verify();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(Errors(report), (Found{{"audit.entry_missing", 3}, {"audit.checkpoint_mismatch", 6}}))
      << Dump(report);
  EXPECT_NE(MessageOf(report, "audit.entry_missing").find("renumbered"), std::string::npos);
}

TEST_F(AuditLogTest, DetectsARemovalHiddenByRenumberingInTheUnsealedTail) {
  Append(6);
  {
    Attacker attacker(path_);
    attacker.Exec("DELETE FROM audit_log WHERE seq = 2");
    attacker.Exec("UPDATE audit_log SET seq = seq - 1 WHERE seq > 2");
  }
  const AuditReport report = Verify();
  EXPECT_EQ(Errors(report), (Found{{"audit.entry_missing", 2}})) << Dump(report);
}

TEST_F(AuditLogTest, DetectsTheTailRemoved) {
  Append(6);
  Seal();
  Attacker(path_).Exec("DELETE FROM audit_log WHERE seq >= 5");
  const AuditReport report = Verify();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(Errors(report), (Found{{"audit.checkpoint_mismatch", 6}})) << Dump(report);
  EXPECT_NE(MessageOf(report, "audit.checkpoint_mismatch").find("ends at seq 4"),
            std::string::npos);
}

TEST_F(AuditLogTest, DetectsSwappedEntries) {
  Append(5);
  Seal();
  Attacker(path_).Exec(
      "UPDATE audit_log SET seq = -3 WHERE seq = 3;"
      "UPDATE audit_log SET seq = 3 WHERE seq = 2;"
      "UPDATE audit_log SET seq = 2 WHERE seq = -3;");
  const AuditReport report = Verify();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(Errors(report), (Found{{"audit.entry_reordered", 3}})) << Dump(report);
}

TEST_F(AuditLogTest, DetectsAnEntryMovedFarBack) {
  Append(8);
  Seal();
  // Entry 2 moved to the end of the sealed range, the others shifted down to fill the hole.
  Attacker(path_).Exec(
      "UPDATE audit_log SET seq = 100 WHERE seq = 2;"
      "UPDATE audit_log SET seq = seq - 1 WHERE seq BETWEEN 3 AND 8;"
      "UPDATE audit_log SET seq = 8 WHERE seq = 100;");
  const AuditReport report = Verify();
  EXPECT_EQ(Errors(report), (Found{{"audit.entry_reordered", 8}, {"audit.checkpoint_mismatch", 8}}))
      << Dump(report);
}

TEST_F(AuditLogTest, DetectsReorderedAndRehashedEntriesByTime) {
  Append(5);
  std::vector<store::AuditEntry> entries = Entries();
  std::swap(entries[1], entries[2]);
  Attacker(path_).RewriteChain(entries);
  const AuditReport report = Verify();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(Errors(report), (Found{{"audit.entry_reordered", 3}})) << Dump(report);
}

TEST_F(AuditLogTest, DetectsEntriesRenumberedUpwards) {
  Append(5);
  Seal();
  Attacker(path_).Exec(
      "UPDATE audit_log SET seq = seq + 1000 WHERE seq >= 3;"
      "UPDATE audit_log SET seq = seq - 999 WHERE seq > 1000;");
  const AuditReport report = Verify();
  EXPECT_EQ(Errors(report), (Found{{"audit.entry_reordered", 4}, {"audit.checkpoint_mismatch", 5}}))
      << Dump(report);
}

TEST_F(AuditLogTest, DetectsACopiedEntry) {
  Append(4);
  Seal();
  // A copy of entry 2 (hash and all) put in the place of entry 3.
  {
    Attacker attacker(path_);
    attacker.Exec(
        "DELETE FROM audit_log WHERE seq = 3;"
        "INSERT INTO audit_log SELECT 3, time, actor, action, object, details, prev_hash, hash "
        "FROM audit_log WHERE seq = 2;");
  }
  const AuditReport report = Verify();
  EXPECT_FALSE(report.ok);
  // The copy matches its hash only at seq 2, where entry 2 already is.
  EXPECT_EQ(Errors(report), (Found{{"audit.chain_broken", 3}, {"audit.entry_missing", 3}}))
      << Dump(report);
}

TEST_F(AuditLogTest, DetectsABadCheckpointSignature) {
  Append(5);
  Seal();
  Attacker(path_).Exec("UPDATE audit_checkpoints SET time = time + 1");
  const AuditReport report = Verify();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(Errors(report), (Found{{"audit.checkpoint_bad_signature", 5}})) << Dump(report);
  EXPECT_EQ(report.last_sealed_seq, 0);
  EXPECT_EQ(Warnings(report), (Found{{"audit.unsealed_tail", 1}}));
}

TEST_F(AuditLogTest, DetectsAForgedCheckpointHead) {
  Append(5);
  Seal();
  EditEntry(5, /*rehash=*/true);
  // The attacker also points the checkpoint at the new head, but cannot re-sign it.
  Attacker(path_).Exec("UPDATE audit_checkpoints SET head_hash = X'" + HexEncode(EntryAt(5).hash) +
                       "'");
  EXPECT_EQ(Errors(Verify()), (Found{{"audit.checkpoint_bad_signature", 5}}));
}

TEST_F(AuditLogTest, DetectsACheckpointOfAnUnknownKey) {
  Append(5);
  Seal();
  const crypto::SoftwareSigner other = MakeSigner();
  const AuditReport report = Verify({other.public_key()});
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(Errors(report), (Found{{"audit.checkpoint_unknown_key", 5}})) << Dump(report);
  // Trusting both keys is fine.
  EXPECT_TRUE(Verify({other.public_key(), signer_.public_key()}).ok);
}

TEST_F(AuditLogTest, ReportsEachProblemAcrossPages) {
  Append(2500);
  Seal();
  {
    Attacker attacker(path_);
    // Swap across the first page boundary (pages hold 1000 entries).
    attacker.Exec(
        "UPDATE audit_log SET seq = -1 WHERE seq = 1000;"
        "UPDATE audit_log SET seq = 1000 WHERE seq = 1001;"
        "UPDATE audit_log SET seq = 1001 WHERE seq = -1;");
    attacker.Exec("UPDATE audit_log SET object = 'issuing/FF' WHERE seq = 1500");
    attacker.Exec("DELETE FROM audit_log WHERE seq = 2200");
  }
  const AuditReport report = Verify();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.entries, 2499);
  EXPECT_EQ(Errors(report), (Found{{"audit.entry_reordered", 1001},
                                   {"audit.entry_modified", 1500},
                                   {"audit.entry_missing", 2200}}))
      << Dump(report);
}

}  // namespace
}  // namespace kyso::audit
