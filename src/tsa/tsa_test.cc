#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <functional>
#include <set>
#include <thread>

#include "base/files.h"
#include "ca/hierarchy.h"
#include "store/sqlite/sqlite_store.h"
#include "testlib/shell.h"
#include "testlib/temp_dir.h"
#include "testlib/test_hierarchy.h"
#include "tsa/serial_allocator.h"
#include "tsa/time_stamp_authority.h"
#include "x509/timestamp.h"

// Queries are made by the real `openssl ts -query` (or `openssl asn1parse -genconf` for what
// it cannot make), and tokens judged by the real `openssl ts -verify`.

namespace kyso::tsa {
namespace {

using testlib::Shell;

void Write(const std::string& path, ByteSpan data) {
  testlib::WriteBytes(path, data);
}

// A store whose write transactions can be made to fail, and which counts them.
class FlakyDatabase final : public store::Database {
 public:
  explicit FlakyDatabase(store::Database* inner) : inner_(inner) {}
  Result<std::unique_ptr<store::Transaction>> Begin(store::TransactionMode mode) override {
    if (mode == store::TransactionMode::kWrite) {
      if (fail_writes) return Unavailable("store.busy", "injected failure");
      ++writes;
    }
    return inner_->Begin(mode);
  }
  int schema_version() const override { return inner_->schema_version(); }

  std::atomic<bool> fail_writes{false};
  std::atomic<int> writes{0};

 private:
  store::Database* inner_;
};

class TsaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    OpenStore();
    ca::HierarchySpec spec = testlib::TestHierarchySpec();
    spec.tsa.subject = "/C=VN/O=Ban Cơ yếu Chính phủ/CN=Dịch vụ cấp dấu thời gian";
    auto h = ca::InitializeHierarchy(
        spec, {db_.get(), &keys_, &profiles_, &clock_, &rng_, &audit_, {}}, "test");
    ASSERT_TRUE(h.ok()) << h.status().ToString();
    hierarchy_ = std::make_unique<ca::Hierarchy>(std::move(h).value());
    std::string chain = hierarchy_->root.ToPem() + hierarchy_->issuing.ToPem();
    Write(dir_.File("chain.pem"), AsBytes(chain));
    Write(dir_.File("tsa.pem"), AsBytes(hierarchy_->tsa.ToPem()));
    Write(dir_.File("data.txt"), AsBytes("Nghị định 68/2024/NĐ-CP"));
  }

  void OpenStore() {
    db_.reset();
    db_ = std::move(store::OpenSqliteDatabase(dir_.File("kyso.db"), {}).value());
    flaky_ = std::make_unique<FlakyDatabase>(db_.get());
  }

  std::unique_ptr<TimeStampAuthority> NewTsa(TsaOptions options = {}) {
    auto tsa = TimeStampAuthority::Create(flaky_.get(), &keys_, &clock_, &audit_, options);
    EXPECT_TRUE(tsa.ok()) << tsa.status().ToString();
    return tsa.ok() ? std::move(tsa).value() : nullptr;
  }

  std::string CreateError(TsaOptions options = {}) {
    auto tsa = TimeStampAuthority::Create(flaky_.get(), &keys_, &clock_, &audit_, options);
    return tsa.ok() ? "ok" : tsa.status().id();
  }

  // `openssl ts -query -data data.txt ARGS`; the query is also left in NAME.tsq.
  Bytes Query(const std::string& name, const std::string& args) {
    std::string path = dir_.File(name + ".tsq"), out;
    int rc = Shell(
        "openssl ts -query -data " + dir_.File("data.txt") + " " + args + " -out " + path, &out);
    EXPECT_EQ(rc, 0) << out;
    return ReadFile(path).value();
  }

  // A query written in `openssl asn1parse -genconf` syntax, for what `openssl ts` cannot make.
  Bytes Generated(const std::string& name, const std::string& conf) {
    std::string cnf = dir_.File(name + ".cnf"), path = dir_.File(name + ".tsq"), out;
    Write(cnf, AsBytes(conf));
    EXPECT_EQ(Shell("openssl asn1parse -genconf " + cnf + " -noout -out " + path, &out), 0) << out;
    return ReadFile(path).value();
  }

  // `openssl ts -verify` of `response` against the query NAME.tsq; "" when it says OK.
  std::string Verify(const std::string& name, ByteSpan response, bool untrusted_tsa_cert) {
    std::string resp = dir_.File(name + ".tsr"), out;
    Write(resp, response);
    std::string command = "openssl ts -verify -in " + resp + " -queryfile " +
                          dir_.File(name + ".tsq") + " -CAfile " + dir_.File("chain.pem");
    if (untrusted_tsa_cert) command += " -untrusted " + dir_.File("tsa.pem");
    int rc = Shell(command, &out);
    return rc == 0 && out.find("Verification: OK") != std::string::npos ? "" : out;
  }

  x509::TimeStampResponseInfo Inspect(ByteSpan der) {
    auto info = x509::InspectTimeStampResponse(der);
    EXPECT_TRUE(info.ok()) << info.status().ToString();
    return info.ok() ? *info : x509::TimeStampResponseInfo{};
  }

  std::vector<store::AuditEntry> AuditEntries(const std::string& action) {
    auto tx = db_->Begin(store::TransactionMode::kRead).value();
    std::vector<store::AuditEntry> out;
    std::vector<store::AuditEntry> entries = tx->ListAuditEntries(1, 100000).value();
    for (auto& e : entries) {
      if (e.action == action) out.push_back(e);
    }
    return out;
  }

  void PutSetting(const char* key, const std::string& value) {
    auto tx = db_->Begin(store::TransactionMode::kWrite).value();
    ASSERT_TRUE(tx->PutSetting(key, value).ok());
    ASSERT_TRUE(tx->Commit().ok());
  }
  std::string GetSetting(const char* key) {
    auto tx = db_->Begin(store::TransactionMode::kRead).value();
    return tx->GetSetting(key).value().value_or("");
  }

  testlib::TempDir dir_;
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<FlakyDatabase> flaky_;
  crypto::MemoryKeyStore keys_;
  policy::ProfileSet profiles_ = policy::ProfileSet::BuiltIn();
  // The real time, so that `openssl ts -verify` (which checks the chain now) accepts the
  // certificates made at SetUp; fixed from then on.
  FixedClock clock_{SystemClock().Now()};
  crypto::TestRng rng_{2024};
  audit::AuditLog audit_{clock_};
  std::unique_ptr<ca::Hierarchy> hierarchy_;
};

TEST_F(TsaTest, GrantedTokensVerifyWithOpensslWithAndWithoutCertReq) {
  auto tsa = NewTsa();
  ASSERT_NE(tsa, nullptr);

  Bytes with_cert = Query("with_cert", "-sha256 -cert");
  TsaAnswer answer = tsa->Respond(with_cert);
  ASSERT_TRUE(answer.granted) << answer.failure << ": " << answer.detail;
  EXPECT_EQ(Verify("with_cert", answer.der, false), "");
  auto info = Inspect(answer.der);
  EXPECT_EQ(info.status, 0);
  EXPECT_EQ(info.certificate_count, 1u);
  EXPECT_EQ(info.policy_oid, "2.16.704.1.99.2.1");
  EXPECT_EQ(info.gen_time, clock_.Now());
  EXPECT_EQ(info.accuracy_seconds, 1);
  EXPECT_EQ(info.tsa_name, hierarchy_->tsa.subject());
  EXPECT_EQ(std::stoull(info.serial_hex, nullptr, 16), answer.serial);
  ASSERT_TRUE(info.nonce.has_value());  // openssl ts -query sends a 64-bit nonce by default

  // RFC 3161 §2.4.1: no certReq, no certificates: the verifier brings the TSA certificate.
  Bytes without_cert = Query("without_cert", "-sha256");
  answer = tsa->Respond(without_cert);
  ASSERT_TRUE(answer.granted);
  EXPECT_EQ(Inspect(answer.der).certificate_count, 0u);
  EXPECT_EQ(Verify("without_cert", answer.der, true), "");
  EXPECT_NE(Verify("without_cert", answer.der, false), "");

  // No nonce, and our own policy requested.
  Bytes policy = Query("policy", "-sha256 -cert -no_nonce -tspolicy 2.16.704.1.99.2.1");
  answer = tsa->Respond(policy);
  ASSERT_TRUE(answer.granted) << answer.detail;
  EXPECT_FALSE(Inspect(answer.der).nonce.has_value());
  EXPECT_EQ(Verify("policy", answer.der, false), "");

  // A token does not answer another query (another nonce and imprint).
  Write(dir_.File("other.txt"), AsBytes("khác"));
  std::string out;
  ASSERT_EQ(Shell("openssl ts -query -data " + dir_.File("other.txt") + " -cert -out " +
                      dir_.File("other.tsq"),
                  &out),
            0);
  EXPECT_NE(Verify("other", answer.der, false), "");
  EXPECT_EQ(tsa->issued(), 3u);
}

TEST_F(TsaTest, AcceptsSha384Sha512AndSha3) {
  auto tsa = NewTsa();
  ASSERT_NE(tsa, nullptr);
  for (std::string alg : {"sha384", "sha512", "sha3-256", "sha3-512"}) {
    std::string name = "q_" + alg;
    TsaAnswer answer = tsa->Respond(Query(name, "-" + alg + " -cert"));
    ASSERT_TRUE(answer.granted) << alg << ": " << answer.detail;
    EXPECT_EQ(Verify(name, answer.der, false), "") << alg;
  }
}

TEST_F(TsaTest, RefusalsCarryTheRightFailure) {
  auto tsa = NewTsa();
  ASSERT_NE(tsa, nullptr);
  struct Case {
    std::string name;
    Bytes query;
    std::string failure;
  };
  std::string imprint_conf = R"(asn1=SEQUENCE:req
[req]
version=INTEGER:1
imprint=SEQUENCE:imprint
%EXT%
[imprint]
alg=SEQUENCE:alg
hash=FORMAT:HEX,OCTETSTRING:%HASH%
[alg]
oid=OID:sha256
params=NULL
[exts]
e1=SEQUENCE:ext1
[ext1]
id=OID:1.2.3.4.5
critical=BOOLEAN:TRUE
value=OCTWRAP,NULL
)";
  auto conf = [&](const std::string& hash, bool extension) {
    std::string c = imprint_conf;
    c.replace(c.find("%EXT%"), 5, extension ? "ext=IMPLICIT:0,SEQUENCE:exts" : "");
    c.replace(c.find("%HASH%"), 6, hash);
    return c;
  };
  auto NonCritical = [](std::string c) {
    c.erase(c.find("critical=BOOLEAN:TRUE\n"), 22);
    return c;
  };
  std::string hash32(64, 'a'), hash20(40, 'b');
  Bytes good = Query("good", "-sha256");
  std::vector<Case> cases = {
      {"sha1", Query("sha1", "-sha1"), "badAlg"},
      {"md5", Query("md5", "-md5"), "badAlg"},
      {"short imprint", Generated("short", conf(hash20, false)), "badRequest"},
      {"other policy", Query("policy", "-sha256 -tspolicy 1.2.3.4"), "unacceptedPolicy"},
      {"critical extension", Generated("ext", conf(hash32, true)), "unacceptedExtension"},
      {"non-critical extension", Generated("ext_nc", NonCritical(conf(hash32, true))),
       "unacceptedExtension"},
      {"garbage", Bytes{'h', 'e', 'l', 'l', 'o'}, "badDataFormat"},
      {"empty", Bytes{}, "badDataFormat"},
      {"truncated", Bytes(good.begin(), good.end() - 3), "badDataFormat"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    TsaAnswer answer = tsa->Respond(c.query);
    EXPECT_FALSE(answer.granted);
    EXPECT_EQ(answer.failure, c.failure);
    EXPECT_FALSE(answer.detail.empty());
    auto info = Inspect(answer.der);
    EXPECT_EQ(info.status, 2);
    EXPECT_EQ(info.failures, std::vector<std::string>{c.failure});
    EXPECT_EQ(info.status_string, answer.detail);
    EXPECT_FALSE(info.has_token);
  }
  // The same query without the extension is fine.
  EXPECT_TRUE(tsa->Respond(Generated("no_ext", conf(hash32, false))).granted);
  EXPECT_EQ(tsa->issued(), 1u);

  // openssl reads our rejections too.
  Write(dir_.File("rejected.tsr"), tsa->Respond(Query("sha1b", "-sha1")).der);
  std::string out;
  ASSERT_EQ(Shell("openssl ts -reply -in " + dir_.File("rejected.tsr") + " -text", &out), 0) << out;
  EXPECT_NE(out.find("Status: Rejected"), std::string::npos) << out;
  EXPECT_NE(out.find("unrecognized or unsupported algorithm identifier"), std::string::npos) << out;
}

TEST_F(TsaTest, NoStoreWritePerToken) {
  auto tsa = NewTsa();  // serial_block 100000
  ASSERT_NE(tsa, nullptr);
  EXPECT_EQ(flaky_->writes, 1);  // the first block
  Bytes query = Query("q", "-sha256");
  for (int i = 0; i < 300; ++i) ASSERT_TRUE(tsa->Respond(query).granted);
  EXPECT_EQ(flaky_->writes, 1);
  EXPECT_EQ(GetSetting(kSerialHighWaterSetting), "100000");
}

TEST_F(TsaTest, SerialsIncreaseAcrossRestarts) {
  Bytes query = Query("q", "-sha256");
  std::vector<uint64_t> first_run, second_run;
  {
    auto tsa = NewTsa({.serial_block = 10});
    ASSERT_NE(tsa, nullptr);
    for (int i = 0; i < 27; ++i) first_run.push_back(tsa->Respond(query).serial);
  }
  // The same SQLite file, opened again: a restart.
  OpenStore();
  {
    auto tsa = NewTsa({.serial_block = 10});
    ASSERT_NE(tsa, nullptr);
    for (int i = 0; i < 5; ++i) second_run.push_back(tsa->Respond(query).serial);
  }
  EXPECT_TRUE(std::is_sorted(first_run.begin(), first_run.end()));
  EXPECT_EQ(first_run.front(), 1u);
  EXPECT_EQ(first_run.back(), 27u);
  // Blocks 1-10, 11-20, 21-30, and 31-40 reserved ahead at 26, the half of 21-30. The restart
  // skips 28-40 and starts above the high-water mark.
  EXPECT_EQ(second_run.front(), 41u);
  EXPECT_TRUE(std::is_sorted(second_run.begin(), second_run.end()));
  std::set<uint64_t> all(first_run.begin(), first_run.end());
  all.insert(second_run.begin(), second_run.end());
  EXPECT_EQ(all.size(), 32u);
  EXPECT_EQ(GetSetting(kSerialHighWaterSetting), "50");
  // Every reservation is in the audit trail.
  auto reserves = AuditEntries("tsa.serial_reserve");
  ASSERT_EQ(reserves.size(), 5u);
  EXPECT_EQ(reserves[0].details, R"({"first":1,"last":10})");
  EXPECT_EQ(reserves[4].details, R"({"first":41,"last":50})");
  EXPECT_EQ(reserves[4].actor, "tsa");
}

TEST_F(TsaTest, ManyThreadsNeverRepeatASerial) {
  auto tsa = NewTsa({.serial_block = 16});  // many block switches under contention
  ASSERT_NE(tsa, nullptr);
  Bytes query = Query("q", "-sha256");
  constexpr int kThreads = 4, kPerThread = 300;
  std::vector<std::vector<uint64_t>> serials(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        TsaAnswer answer = tsa->Respond(query);
        if (answer.granted) serials[t].push_back(answer.serial);
      }
    });
  }
  for (auto& t : threads) t.join();
  std::set<uint64_t> all;
  for (const auto& s : serials) {
    EXPECT_EQ(s.size(), size_t{kPerThread});
    EXPECT_TRUE(std::is_sorted(s.begin(), s.end()));  // strictly: no duplicates below
    all.insert(s.begin(), s.end());
  }
  EXPECT_EQ(all.size(), size_t{kThreads * kPerThread});
  EXPECT_EQ(tsa->issued(), uint64_t{kThreads * kPerThread});
  EXPECT_LE(*all.rbegin(), std::stoull(GetSetting(kSerialHighWaterSetting)));
}

TEST_F(TsaTest, StoreOutageFailsOnlyWhenTheBlocksRunOut) {
  auto tsa = NewTsa({.serial_block = 4});
  ASSERT_NE(tsa, nullptr);
  Bytes query = Query("q", "-sha256");
  flaky_->fail_writes = true;
  // Serials 1-4 need no store; the prefetch at 3 fails quietly and is retried at 4.
  for (uint64_t expected = 1; expected <= 4; ++expected) {
    TsaAnswer answer = tsa->Respond(query);
    ASSERT_TRUE(answer.granted);
    EXPECT_EQ(answer.serial, expected);
  }
  TsaAnswer refused = tsa->Respond(query);
  EXPECT_FALSE(refused.granted);
  EXPECT_EQ(refused.failure, "systemFailure");
  EXPECT_NE(refused.detail.find("store.busy"), std::string::npos) << refused.detail;
  EXPECT_EQ(Inspect(refused.der).failures, std::vector<std::string>{"systemFailure"});
  flaky_->fail_writes = false;
  TsaAnswer again = tsa->Respond(query);
  ASSERT_TRUE(again.granted);
  EXPECT_EQ(again.serial, 5u);
}

TEST_F(TsaTest, RefusesToSignOutsideTheCertificateValidity) {
  auto tsa = NewTsa();
  ASSERT_NE(tsa, nullptr);
  Bytes query = Query("q", "-sha256");
  clock_.Set(hierarchy_->tsa.not_after() + 1);
  TsaAnswer answer = tsa->Respond(query);
  EXPECT_FALSE(answer.granted);
  EXPECT_EQ(answer.failure, "systemFailure");
  EXPECT_EQ(CreateError(), "tsa.certificate_not_valid");
}

TEST_F(TsaTest, CreateChecksOptionsAndTheTsaCertificate) {
  EXPECT_EQ(CreateError({.serial_block = 0}), "tsa.invalid_options");
  EXPECT_EQ(CreateError({.accuracy_seconds = 0, .accuracy_millis = 500}), "tsa.invalid_options");
  EXPECT_EQ(CreateError({.accuracy_millis = 1000}), "tsa.invalid_options");
  EXPECT_EQ(CreateError({.policy_oid = "not an oid"}), "timestamp.invalid_options");
  EXPECT_EQ(CreateError({.accuracy_seconds = 0, .accuracy_millis = 0}), "tsa.invalid_options");
  EXPECT_EQ(CreateError({.accuracy_seconds = 2, .accuracy_millis = 500}), "ok");

  // The OCSP signer's key with the TSA certificate: the key does not match.
  std::string tsa_key = GetSetting(ca::kTsaKeySetting);
  PutSetting(ca::kTsaKeySetting, GetSetting(ca::kOcspKeySetting));
  EXPECT_EQ(CreateError(), "timestamp.key_mismatch");
  // The OCSP certificate and key: not a time-stamping certificate (RFC 3161 §2.3).
  std::string tsa_cert = GetSetting(ca::kTsaCertificateSetting);
  PutSetting(ca::kTsaCertificateSetting, GetSetting(ca::kOcspCertificateSetting));
  EXPECT_EQ(CreateError(), "timestamp.certificate_eku");
  PutSetting(ca::kTsaCertificateSetting, "not a certificate");
  EXPECT_EQ(CreateError(), "cert.malformed");
  PutSetting(ca::kTsaCertificateSetting, tsa_cert);
  PutSetting(ca::kTsaKeySetting, tsa_key);
  EXPECT_EQ(CreateError(), "ok");

  // A store without `kyso init`.
  testlib::TempDir empty;
  auto db = store::OpenSqliteDatabase(empty.File("kyso.db"), {}).value();
  auto tsa = TimeStampAuthority::Create(db.get(), &keys_, &clock_, &audit_, {});
  EXPECT_EQ(tsa.status().id(), "tsa.not_initialized");

  // A corrupt high-water mark is not silently reset (serials could repeat).
  PutSetting(kSerialHighWaterSetting, "12x");
  EXPECT_EQ(CreateError(), "tsa.serial_state_corrupt");
}

// Not a unit test (no timing assertions): the per-token cost of Respond() on one thread and
// the throughput on two. Run by hand in a release build:
//   tsa_test --gtest_also_run_disabled_tests --gtest_filter='*BenchmarkRespond*'
TEST_F(TsaTest, DISABLED_BenchmarkRespond) {
  auto tsa = NewTsa();
  ASSERT_NE(tsa, nullptr);
  Bytes query = Query("q", "-sha256 -cert");
  using Steady = std::chrono::steady_clock;
  constexpr int kTokens = 20000;
  auto cpu_now = [] {
    timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
  };
  for (int threads : {1, 2}) {
    auto start = Steady::now();
    double cpu_start = cpu_now();
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back([&] {
        for (int i = 0; i < kTokens / threads; ++i) {
          if (!tsa->Respond(query).granted) std::abort();
        }
      });
    }
    for (auto& t : pool) t.join();
    double wall = std::chrono::duration<double>(Steady::now() - start).count();
    std::printf("Respond(), P-256, certReq, %d thread(s): %.0f tokens/s, %.1f us CPU per token\n",
                threads, kTokens / wall, (cpu_now() - cpu_start) / kTokens);
  }
}

// --- SerialAllocator alone, with a scripted reservation ---

TEST(SerialAllocatorTest, ReservesAheadAndSkipsToNonAdjacentBlocks) {
  std::vector<uint64_t> firsts = {100, 200, 1000};
  size_t calls = 0;
  auto allocator = SerialAllocator::Create(
      [&](uint64_t count) -> Result<uint64_t> {
        EXPECT_EQ(count, 4u);
        if (calls == firsts.size()) return Unavailable("store.busy", "no more blocks");
        return firsts[calls++];
      },
      4);
  ASSERT_TRUE(allocator.ok());
  EXPECT_EQ(calls, 1u);
  std::vector<uint64_t> got;
  for (int i = 0; i < 10; ++i) got.push_back((*allocator)->Next().value());
  EXPECT_EQ(got, (std::vector<uint64_t>{100, 101, 102, 103, 200, 201, 202, 203, 1000, 1001}));
  // Each next block was reserved half-way through the one before (at 102 and 202), before it
  // was needed; the one after 1000-1003 is asked for at 1002 (and there is none).
  EXPECT_EQ(calls, 3u);
  EXPECT_EQ((*allocator)->Next().value(), 1002u);
  EXPECT_EQ((*allocator)->Next().value(), 1003u);
  EXPECT_EQ((*allocator)->Next().status().id(), "store.busy");
}

TEST(SerialAllocatorTest, ConcurrentTakersGetUniqueSerialsFromReservedBlocksOnly) {
  for (uint64_t block : {1, 2, 3, 64}) {
    SCOPED_TRACE(block);
    // Blocks with gaps between them (as when another instance shares the store).
    std::vector<std::pair<uint64_t, uint64_t>> reserved;  // [first, last], under the mutex
    uint64_t high_water = 0;
    auto allocator = SerialAllocator::Create(
        [&](uint64_t count) -> Result<uint64_t> {
          uint64_t first = high_water + 1 + reserved.size() % 3;
          high_water = first + count - 1;
          reserved.emplace_back(first, high_water);
          return first;
        },
        block);
    ASSERT_TRUE(allocator.ok());
    constexpr int kThreads = 4, kPerThread = 5000;
    std::vector<std::vector<uint64_t>> got(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kPerThread; ++i) got[t].push_back((*allocator)->Next().value());
      });
    }
    for (auto& t : threads) t.join();
    std::set<uint64_t> all;
    for (const auto& g : got) {
      EXPECT_TRUE(std::adjacent_find(g.begin(), g.end(), std::greater_equal<uint64_t>()) ==
                  g.end());  // strictly increasing per thread
      all.insert(g.begin(), g.end());
    }
    EXPECT_EQ(all.size(), size_t{kThreads * kPerThread});
    for (uint64_t serial : all) {
      auto it = std::upper_bound(reserved.begin(), reserved.end(), std::pair{serial, UINT64_MAX});
      ASSERT_TRUE(it != reserved.begin() && serial <= std::prev(it)->second) << serial;
    }
  }
}

TEST(SerialAllocatorTest, ReportsAReservationFailureWhenTheBlockRunsOut) {
  bool fail = false;
  uint64_t next_first = 1;
  int calls = 0;
  auto allocator = SerialAllocator::Create(
      [&](uint64_t count) -> Result<uint64_t> {
        ++calls;
        if (fail) return Unavailable("store.busy", "down");
        uint64_t first = next_first;
        next_first += count;
        return first;
      },
      32);
  ASSERT_TRUE(allocator.ok());
  fail = true;
  for (uint64_t i = 1; i <= 32; ++i) ASSERT_EQ((*allocator)->Next().value(), i);
  // Prefetch tries at 17, then every 2 serials (32 / 16): 17, 19, ..., 31.
  EXPECT_EQ(calls, 1 + 8);
  EXPECT_EQ((*allocator)->Next().status().id(), "store.busy");
  fail = false;
  EXPECT_EQ((*allocator)->Next().value(), 33u);
  EXPECT_EQ(
      SerialAllocator::Create([](uint64_t) -> Result<uint64_t> { return 1; }, 0).status().id(),
      "tsa.invalid_options");
}

}  // namespace
}  // namespace kyso::tsa
