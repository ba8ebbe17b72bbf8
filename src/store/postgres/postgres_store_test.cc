// What only the PostgreSQL back end has: several processes ("nodes") writing to one database,
// its migrations and its connection handling. The store contract itself is tested over every
// back end by store_test.cc and registry_store_test.cc.
#include "store/postgres/postgres_store.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "testlib/pg_cluster.h"

namespace kyso::store {
namespace {

constexpr UnixSeconds kNow = 1767225600;  // 2026-01-01T00:00:00Z

CaRecord MakeCa(const std::string& name) {
  CaRecord ca;
  ca.name = name;
  ca.role = "root";
  ca.subject = "CN=" + name + " CA,O=Ban Cơ yếu Chính phủ,C=VN";
  ca.serial_hex = "0A1B2C";
  ca.not_before = kNow;
  ca.not_after = kNow + 20 * 365 * kSecondsPerDay;
  ca.key_ref = "file:keys/" + name + ".key.pem";
  ca.signature_scheme = "sha256WithRSAEncryption";
  ca.certificate_der = {0x30, 0x82, 0x01, 0x0A, 0x02};
  ca.created_at = kNow;
  return ca;
}

CertificateRecord MakeCert(int64_t ca_id, const std::string& serial_hex) {
  CertificateRecord cert;
  cert.issuer_ca_id = ca_id;
  cert.serial_hex = serial_hex;
  cert.issuer = "CN=issuing CA,O=Ban Cơ yếu Chính phủ,C=VN";
  cert.subject = "CN=Nguyễn Văn An,O=Bộ Tài chính,C=VN";
  cert.common_name = "Nguyễn Văn An";
  cert.uids = {"CCCD:001234567890"};
  cert.email = "an.nguyen@mof.gov.vn";
  cert.profile = "personal-sign";
  cert.issuance_kind = "new";
  cert.key_fingerprint = "5F3C" + serial_hex;
  cert.not_before = kNow;
  cert.not_after = kNow + 365 * kSecondsPerDay;
  cert.issued_at = kNow;
  cert.der = {0x30, 0x82, 0x03, 0x01, 0xAA};
  return cert;
}

// A distinct 32-byte "hash" for the entry a writer appends: who wrote it, and which.
Bytes FakeHash(int writer, int iteration) {
  Bytes hash(32, 0);
  hash[0] = static_cast<uint8_t>(writer);
  hash[1] = static_cast<uint8_t>(iteration >> 8);
  hash[2] = static_cast<uint8_t>(iteration);
  return hash;
}

class PostgresStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (testlib::PgCluster::SkipRequested()) GTEST_SKIP() << "KYSO_SKIP_POSTGRES=1";
    auto cluster = testlib::PgCluster::Shared();
    ASSERT_TRUE(cluster.ok()) << cluster.status().ToString();
    cluster_ = *cluster;
    static std::atomic<int> counter{0};
    name_ = "pg_" + std::to_string(getpid()) + "_" + std::to_string(++counter);
    auto conninfo = cluster_->CreateDatabase(name_);
    ASSERT_TRUE(conninfo.ok()) << conninfo.status().ToString();
    conninfo_ = *conninfo;
  }

  std::unique_ptr<Database> Open(int lock_timeout_ms = 10000) {
    PostgresOptions options;
    options.lock_timeout_ms = lock_timeout_ms;
    auto db = OpenPostgresDatabase(conninfo_, options);
    EXPECT_TRUE(db.ok()) << db.status().ToString();
    return db.ok() ? std::move(db).value() : nullptr;
  }

  std::string Psql(const std::string& sql) {
    auto output = cluster_->Psql(name_, sql);
    EXPECT_TRUE(output.ok()) << output.status().ToString();
    return output.ok() ? *output : "";
  }

  testlib::PgCluster* cluster_ = nullptr;
  std::string name_;
  std::string conninfo_;
};

// The point of this back end: two `kyso serve` processes on one database. Each thread does
// what the CA does per issuance (read the audit head, append the next entry, record a
// certificate, take a cRLNumber) on one of two Database objects, which share nothing but the
// server. A lost update would show as a duplicate seq or counter value, a forked chain as an
// entry whose prev_hash is not its predecessor's hash.
TEST_F(PostgresStoreTest, TwoNodesWritingAtOnceKeepOneLinearAuditChain) {
  auto node_a = Open();
  auto node_b = Open();
  ASSERT_NE(node_a, nullptr);
  ASSERT_NE(node_b, nullptr);
  int64_t ca = 0;
  {
    auto tx = node_a->Begin(TransactionMode::kWrite);
    ASSERT_TRUE(tx.ok()) << tx.status().ToString();
    auto id = (*tx)->InsertCa(MakeCa("issuing"));
    ASSERT_TRUE(id.ok()) << id.status().ToString();
    ca = *id;
    ASSERT_TRUE((*tx)->Commit().ok());
  }

  constexpr int kWriters = 6;  // three per node
  constexpr int kPerWriter = 20;
  std::atomic<int> commits{0};
  std::mutex mutex;
  std::vector<std::string> failures;       // guarded by mutex
  std::vector<int64_t> seqs, crl_numbers;  // guarded by mutex
  auto fail = [&](const std::string& what) {
    std::lock_guard<std::mutex> lock(mutex);
    failures.push_back(what);
  };
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      Database& node = w % 2 == 0 ? *node_a : *node_b;
      for (int i = 0; i < kPerWriter; ++i) {
        auto tx = node.Begin(TransactionMode::kWrite);
        if (!tx.ok()) {
          fail(tx.status().ToString());
          continue;
        }
        auto last = (*tx)->LastAuditEntry();
        if (!last.ok()) {
          fail(last.status().ToString());
          continue;
        }
        AuditEntry entry;
        entry.seq = last->has_value() ? (*last)->seq + 1 : 1;
        entry.time = kNow;
        entry.actor = "node-" + std::to_string(w % 2);
        entry.action = "cert.issue";
        entry.details = "{}";
        entry.prev_hash = last->has_value() ? (*last)->hash : Bytes(32, 0);
        entry.hash = FakeHash(w, i);
        Status appended = (*tx)->InsertAuditEntry(entry);
        if (!appended.ok()) fail(appended.ToString());
        auto cert = (*tx)->InsertCertificate(
            MakeCert(ca, "W" + std::to_string(w) + "I" + std::to_string(i)));
        if (!cert.ok()) fail(cert.status().ToString());
        auto number = (*tx)->NextCrlNumber(ca);
        if (!number.ok()) fail(number.status().ToString());
        Status committed = (*tx)->Commit();
        if (!committed.ok()) {
          fail(committed.ToString());
          continue;
        }
        ++commits;
        std::lock_guard<std::mutex> lock(mutex);
        seqs.push_back(entry.seq);
        if (number.ok()) crl_numbers.push_back(*number);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (const std::string& failure : failures) ADD_FAILURE() << failure;

  constexpr int kTotal = kWriters * kPerWriter;
  EXPECT_EQ(commits.load(), kTotal);
  // Every committed transaction got its own seq and cRLNumber: 1..N, no duplicate, no gap.
  std::sort(seqs.begin(), seqs.end());
  std::sort(crl_numbers.begin(), crl_numbers.end());
  std::vector<int64_t> one_to_n(kTotal);
  for (int i = 0; i < kTotal; ++i) one_to_n[i] = i + 1;
  EXPECT_EQ(seqs, one_to_n);
  EXPECT_EQ(crl_numbers, one_to_n);

  // Both nodes read the same linear chain.
  for (Database* node : {node_a.get(), node_b.get()}) {
    auto read = node->Begin(TransactionMode::kRead);
    ASSERT_TRUE(read.ok()) << read.status().ToString();
    auto entries = (*read)->ListAuditEntries(1, -1);
    ASSERT_TRUE(entries.ok()) << entries.status().ToString();
    ASSERT_EQ(entries->size(), static_cast<size_t>(kTotal));
    for (size_t i = 0; i < entries->size(); ++i) {
      EXPECT_EQ((*entries)[i].seq, static_cast<int64_t>(i + 1));
      const Bytes expected_prev = i == 0 ? Bytes(32, 0) : (*entries)[i - 1].hash;
      EXPECT_EQ((*entries)[i].prev_hash, expected_prev) << "chain forks at seq " << i + 1;
    }
    EXPECT_EQ(*(*read)->CountCertificates({}), kTotal);
    EXPECT_EQ(*(*read)->MaxRevocationSeq(ca), 0);
  }
}

// Revocations from two nodes: each gets the CA's next revocation_seq, none is lost.
TEST_F(PostgresStoreTest, TwoNodesRevokingAtOnceGetDistinctRevocationSeqs) {
  auto node_a = Open();
  auto node_b = Open();
  ASSERT_NE(node_a, nullptr);
  ASSERT_NE(node_b, nullptr);
  constexpr int kCerts = 40;
  int64_t ca = 0;
  std::vector<int64_t> ids;
  {
    auto tx = node_a->Begin(TransactionMode::kWrite);
    ASSERT_TRUE(tx.ok());
    ca = *(*tx)->InsertCa(MakeCa("issuing"));
    for (int i = 0; i < kCerts; ++i) {
      auto id = (*tx)->InsertCertificate(MakeCert(ca, std::to_string(100 + i)));
      ASSERT_TRUE(id.ok()) << id.status().ToString();
      ids.push_back(*id);
    }
    ASSERT_TRUE((*tx)->Commit().ok());
  }
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < 4; ++w) {
    threads.emplace_back([&, w] {
      Database& node = w % 2 == 0 ? *node_a : *node_b;
      for (int i = w; i < kCerts; i += 4) {
        auto tx = node.Begin(TransactionMode::kWrite);
        if (!tx.ok()) {
          ++failures;
          continue;
        }
        Revocation revocation;
        revocation.revoked_at = kNow + i;
        revocation.reason = RevocationReason::kKeyCompromise;
        if (!(*tx)->MarkRevoked(ids[i], revocation).ok() || !(*tx)->Commit().ok()) ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  auto read = node_b->Begin(TransactionMode::kRead);
  ASSERT_TRUE(read.ok());
  auto revoked = (*read)->ListRevoked(ca, 0);
  ASSERT_TRUE(revoked.ok()) << revoked.status().ToString();
  ASSERT_EQ(revoked->size(), static_cast<size_t>(kCerts));
  for (int i = 0; i < kCerts; ++i) EXPECT_EQ((*revoked)[i].revocation_seq, i + 1);
  EXPECT_EQ(*(*read)->MaxRevocationSeq(ca), kCerts);
}

TEST_F(PostgresStoreTest, WriterOfAnotherNodeMakesBeginBusyButNotReaders) {
  auto node_a = Open();
  auto node_b = Open(/*lock_timeout_ms=*/200);
  ASSERT_NE(node_a, nullptr);
  ASSERT_NE(node_b, nullptr);
  auto writer = node_a->Begin(TransactionMode::kWrite);
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  auto second = node_b->Begin(TransactionMode::kWrite);
  EXPECT_EQ(second.status().id(), "store.busy");
  EXPECT_EQ(second.status().code(), StatusCode::kUnavailable);
  auto reader = node_b->Begin(TransactionMode::kRead);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_TRUE((*reader)->ListCas().ok());
  ASSERT_TRUE((*writer)->Commit().ok());
  // Once the first node committed, the second writes.
  auto third = node_b->Begin(TransactionMode::kWrite);
  ASSERT_TRUE(third.ok()) << third.status().ToString();
  EXPECT_TRUE((*third)->InsertCa(MakeCa("root")).ok());
  EXPECT_TRUE((*third)->Commit().ok());
}

TEST_F(PostgresStoreTest, ReadTransactionSeesOneSnapshot) {
  auto db = Open();
  ASSERT_NE(db, nullptr);
  auto read = db->Begin(TransactionMode::kRead);
  ASSERT_TRUE(read.ok());
  EXPECT_TRUE((*read)->ListCas()->empty());  // the snapshot is taken here
  {
    auto tx = db->Begin(TransactionMode::kWrite);
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE((*tx)->InsertCa(MakeCa("root")).ok());
    ASSERT_TRUE((*tx)->Commit().ok());
  }
  EXPECT_TRUE((*read)->ListCas()->empty());
  auto fresh = db->Begin(TransactionMode::kRead);
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ((*fresh)->ListCas()->size(), 1u);
}

TEST_F(PostgresStoreTest, FailedInsertLeavesTheTransactionUsable) {
  auto db = Open();
  ASSERT_NE(db, nullptr);
  auto tx = db->Begin(TransactionMode::kWrite);
  ASSERT_TRUE(tx.ok());
  const int64_t ca = *(*tx)->InsertCa(MakeCa("issuing"));
  ASSERT_TRUE((*tx)->InsertCertificate(MakeCert(ca, "01")).ok());
  // A duplicate and a missing CA abort the statement, not the transaction.
  EXPECT_EQ((*tx)->InsertCertificate(MakeCert(ca, "01")).status().id(), "store.duplicate");
  EXPECT_EQ((*tx)->InsertCertificate(MakeCert(ca + 1, "02")).status().id(), "store.not_found");
  EXPECT_EQ((*tx)->InsertCa(MakeCa("issuing")).status().id(), "store.duplicate");
  auto retried = (*tx)->InsertCertificate(MakeCert(ca, "02"));
  ASSERT_TRUE(retried.ok()) << retried.status().ToString();
  ASSERT_TRUE((*tx)->Commit().ok());
  auto read = db->Begin(TransactionMode::kRead);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(*(*read)->CountCertificates({}), 2);
}

// Any other failure aborts the PostgreSQL transaction; Commit() then says so instead of
// pretending the writes before it were kept.
TEST_F(PostgresStoreTest, CommitAfterAnAbortingFailureIsIo) {
  auto db = Open();
  ASSERT_NE(db, nullptr);
  {
    auto tx = db->Begin(TransactionMode::kWrite);
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE((*tx)->InsertCa(MakeCa("issuing")).ok());
    // Not UTF-8: the server rejects the parameter.
    EXPECT_EQ((*tx)->GetCaByName("\xff\xfe").status().id(), "store.io");
    Status committed = (*tx)->Commit();
    EXPECT_EQ(committed.id(), "store.io");
    EXPECT_EQ(committed.code(), StatusCode::kUnavailable);
  }
  auto read = db->Begin(TransactionMode::kRead);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_TRUE((*read)->ListCas()->empty());
}

TEST_F(PostgresStoreTest, RecordsAppliedMigrations) {
  auto db = Open();
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(db->schema_version(), PostgresSchemaVersion());
  std::string expected;
  for (int version = 1; version <= PostgresSchemaVersion(); ++version) {
    expected += std::to_string(version) + "\n";
  }
  EXPECT_EQ(Psql("SELECT version FROM schema_migrations ORDER BY version"), expected);
  // Reopening a current database changes nothing.
  db.reset();
  db = Open();
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(Psql("SELECT count(*) FROM schema_migrations"),
            std::to_string(PostgresSchemaVersion()) + "\n");
}

// Migration 4 numbers the tokens written before it and links the reminders queued before it to
// their certificates (from the dedupe keys); malformed or dangling keys stay unlinked.
TEST_F(PostgresStoreTest, MigratesVersionThreeTokensAndReminders) {
  auto db = Open();
  ASSERT_NE(db, nullptr);
  int64_t cert = 0;
  {
    auto tx = db->Begin(TransactionMode::kWrite);
    ASSERT_TRUE(tx.ok());
    const int64_t ca = (*tx)->InsertCa(MakeCa("issuing")).value();
    cert = (*tx)->InsertCertificate(MakeCert(ca, "0A01")).value();
    ASSERT_TRUE((*tx)->Commit().ok());
  }
  db.reset();
  // Back to version 3: what migrations 5 and 4 added, dropped.
  Psql(
      "DROP INDEX certificates_issued_at; DROP INDEX certificates_revoked_at; "
      "DROP INDEX certificates_status; "
      "DROP TABLE request_attachments; DROP INDEX outbox_certificate; "
      "ALTER TABLE outbox DROP COLUMN certificate_id, DROP COLUMN reminder_days; "
      "DROP INDEX access_tokens_account_kind; DROP INDEX access_tokens_id; "
      "ALTER TABLE access_tokens DROP COLUMN id; DELETE FROM schema_migrations WHERE version >= 4; "
      "INSERT INTO accounts VALUES (1, 'an', 'An', 'subscriber', NULL, NULL, '', '', false, 0, 1); "
      "INSERT INTO access_tokens VALUES ('aa01', 1, 'api', 'first', '', 10, 9999999999, false); "
      "INSERT INTO access_tokens VALUES ('bb02', 1, 'api', 'second', '', 20, 9999999999, false); "
      "INSERT INTO outbox VALUES (1, 'expiry:" +
      std::to_string(cert) +
      ":30', 'email', 'a@b.vn', 's', 'b', 0, 0, NULL, 0, ''); "
      "INSERT INTO outbox VALUES (2, 'expiry:" +
      std::to_string(cert) +
      ":30d', 'email', 'a@b.vn', 's', 'b', 0, 0, NULL, 0, ''); "
      "INSERT INTO outbox VALUES (3, 'expiry:999:60', 'email', 'a@b.vn', 's', 'b', 0, 0, NULL, 0, "
      "''); "
      "INSERT INTO outbox VALUES (4, 'overdue:7', 'email', 'a@b.vn', 's', 'b', 0, 0, NULL, 0, "
      "'');");
  db = Open();
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(db->schema_version(), PostgresSchemaVersion());
  auto tx = db->Begin(TransactionMode::kRead);
  ASSERT_TRUE(tx.ok());
  auto tokens = (*tx)->ListAccessTokens(1, "api", 0, 10);
  ASSERT_TRUE(tokens.ok()) << tokens.status().ToString();
  ASSERT_EQ(tokens->size(), 2u);
  EXPECT_GT((*tokens)[0].id, 0);
  EXPECT_NE((*tokens)[0].id, (*tokens)[1].id);
  auto reminders = (*tx)->ListReminders({});
  ASSERT_TRUE(reminders.ok()) << reminders.status().ToString();
  ASSERT_EQ(reminders->size(), 1u);
  EXPECT_EQ(reminders->front().message.id, 1);
  EXPECT_EQ(reminders->front().message.certificate_id, cert);
  EXPECT_EQ(reminders->front().message.reminder_days, 30);
  EXPECT_EQ(reminders->front().serial_hex, "0A01");
}

TEST_F(PostgresStoreTest, NodesStartingAtOnceMigrateOnce) {
  std::vector<std::thread> threads;
  std::atomic<int> opened{0};
  std::mutex mutex;
  std::vector<std::string> failures;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      auto db = OpenPostgresDatabase(conninfo_, PostgresOptions());
      if (db.ok()) {
        ++opened;
      } else {
        std::lock_guard<std::mutex> lock(mutex);
        failures.push_back(db.status().ToString());
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (const std::string& failure : failures) ADD_FAILURE() << failure;
  EXPECT_EQ(opened.load(), 4);
  EXPECT_EQ(Psql("SELECT count(*) FROM schema_migrations"),
            std::to_string(PostgresSchemaVersion()) + "\n");
}

TEST_F(PostgresStoreTest, NewerSchemaIsRefused) {
  ASSERT_NE(Open(), nullptr);
  Psql("INSERT INTO schema_migrations VALUES (999, 'from the future', 0)");
  auto db = OpenPostgresDatabase(conninfo_, PostgresOptions());
  EXPECT_EQ(db.status().id(), "store.schema_too_new");
  EXPECT_EQ(db.status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(PostgresStoreTest, ForeignDatabaseIsNotKyso) {
  Psql("CREATE TABLE customers (id int)");
  auto db = OpenPostgresDatabase(conninfo_, PostgresOptions());
  EXPECT_EQ(db.status().id(), "store.corrupt");
  EXPECT_EQ(db.status().code(), StatusCode::kDataLoss);
}

TEST_F(PostgresStoreTest, GarbageConninfoIsIo) {
  for (const std::string& conninfo : std::vector<std::string>{
           "this = is not = a conninfo", "postgresql://kyso@127.0.0.1:1/nothing?connect_timeout=2",
           "host=127.0.0.1 port=" + std::to_string(cluster_->port()) + " user=kyso dbname=missing",
           "postgres://%zz"}) {
    auto db = OpenPostgresDatabase(conninfo, PostgresOptions());
    EXPECT_EQ(db.status().id(), "store.io") << conninfo << ": " << db.status().ToString();
    EXPECT_EQ(db.status().code(), StatusCode::kUnavailable) << conninfo;
  }
}

TEST_F(PostgresStoreTest, OpensByUri) {
  PostgresOptions options;
  auto db = OpenPostgresDatabase(cluster_->Uri(name_), options);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  auto tx = (*db)->Begin(TransactionMode::kRead);
  ASSERT_TRUE(tx.ok()) << tx.status().ToString();
  EXPECT_TRUE((*tx)->ListCas().ok());
}

// The server may close idle connections (a restart, an administrator, an idle timeout): the
// pool notices when BEGIN fails and reconnects, so the next transaction works.
TEST_F(PostgresStoreTest, ReconnectsWhenTheServerDroppedAPooledConnection) {
  auto db = Open();
  ASSERT_NE(db, nullptr);
  {
    auto tx = db->Begin(TransactionMode::kWrite);
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE((*tx)->InsertCa(MakeCa("root")).ok());
    ASSERT_TRUE((*tx)->Commit().ok());
  }
  Psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + name_ +
       "' AND pid <> pg_backend_pid()");
  auto tx = db->Begin(TransactionMode::kRead);
  ASSERT_TRUE(tx.ok()) << tx.status().ToString();
  auto cas = (*tx)->ListCas();
  ASSERT_TRUE(cas.ok()) << cas.status().ToString();
  EXPECT_EQ(cas->size(), 1u);
}

TEST_F(PostgresStoreTest, AuditTablesAreAppendOnlyForSql) {
  auto db = Open();
  ASSERT_NE(db, nullptr);
  {
    auto tx = db->Begin(TransactionMode::kWrite);
    ASSERT_TRUE(tx.ok());
    AuditEntry entry;
    entry.seq = 1;
    entry.actor = "system";
    entry.action = "instance.init";
    entry.prev_hash = Bytes(32, 0);
    entry.hash = Bytes(32, 1);
    ASSERT_TRUE((*tx)->InsertAuditEntry(entry).ok());
    AuditCheckpoint checkpoint;
    checkpoint.seq = 1;
    checkpoint.head_hash = entry.hash;
    ASSERT_TRUE((*tx)->InsertAuditCheckpoint(checkpoint).ok());
    ASSERT_TRUE((*tx)->Commit().ok());
  }
  for (const char* sql : {"UPDATE audit_log SET actor = 'mallory'", "DELETE FROM audit_log",
                          "TRUNCATE audit_log", "DELETE FROM audit_checkpoints"}) {
    auto changed = cluster_->Psql(name_, sql);
    EXPECT_FALSE(changed.ok()) << sql;
  }
  EXPECT_EQ(Psql("SELECT actor FROM audit_log"), "system\n");
}

}  // namespace
}  // namespace kyso::store
