// One value-parameterized suite over every store back end (Backends() below), plus tests of
// what only the SQLite back end has: its file format checks, schema versions and pragmas.
//
// To add a back end, add one entry to Backends() (test_backends.h); every StoreTest then runs
// against it.
#include "store/store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "store/revocation_reason.h"
#include "store/sqlite/sqlite_store.h"
#include "store/test_backends.h"

namespace kyso::store {
namespace {

constexpr UnixSeconds kNow = 1767225600;  // 2026-01-01T00:00:00Z

// A temporary directory, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "kyso-store-XXXXXX").string();
    const char* made = mkdtemp(pattern.data());
    if (made == nullptr) {
      ADD_FAILURE() << "mkdtemp failed";
      return;
    }
    path_ = made;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// --- records -----------------------------------------------------------------------------------

CaRecord MakeCa(const std::string& name, std::optional<int64_t> parent_id = std::nullopt) {
  CaRecord ca;
  ca.name = name;
  ca.role = parent_id ? "issuing" : "root";
  ca.parent_id = parent_id;
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
  cert.uids = {"CCCD:001234567890", "MST:0100109106"};
  cert.email = "an.nguyen@mof.gov.vn";
  cert.profile = "personal-sign";
  cert.issuance_kind = "new";
  cert.key_fingerprint = "5F3C" + serial_hex;
  cert.not_before = kNow;
  cert.not_after = kNow + 365 * kSecondsPerDay;
  cert.issued_at = kNow;
  cert.der = {0x30, 0x82, 0x03, 0x01, 0xAA, 0x00, 0xBB};
  return cert;
}

void ExpectSameCa(const CaRecord& a, const CaRecord& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.role, b.role);
  EXPECT_EQ(a.parent_id, b.parent_id);
  EXPECT_EQ(a.subject, b.subject);
  EXPECT_EQ(a.serial_hex, b.serial_hex);
  EXPECT_EQ(a.not_before, b.not_before);
  EXPECT_EQ(a.not_after, b.not_after);
  EXPECT_EQ(a.key_ref, b.key_ref);
  EXPECT_EQ(a.signature_scheme, b.signature_scheme);
  EXPECT_EQ(a.certificate_der, b.certificate_der);
  EXPECT_EQ(a.created_at, b.created_at);
}

void ExpectSameCertificate(const CertificateRecord& a, const CertificateRecord& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.issuer_ca_id, b.issuer_ca_id);
  EXPECT_EQ(a.serial_hex, b.serial_hex);
  EXPECT_EQ(a.issuer, b.issuer);
  EXPECT_EQ(a.subject, b.subject);
  EXPECT_EQ(a.common_name, b.common_name);
  EXPECT_EQ(a.uids, b.uids);
  EXPECT_EQ(a.email, b.email);
  EXPECT_EQ(a.profile, b.profile);
  EXPECT_EQ(a.issuance_kind, b.issuance_kind);
  EXPECT_EQ(a.replaces_id, b.replaces_id);
  EXPECT_EQ(a.owner_id, b.owner_id);
  EXPECT_EQ(a.organization_id, b.organization_id);
  EXPECT_EQ(a.key_fingerprint, b.key_fingerprint);
  EXPECT_EQ(a.not_before, b.not_before);
  EXPECT_EQ(a.not_after, b.not_after);
  EXPECT_EQ(a.issued_at, b.issued_at);
  EXPECT_EQ(a.status, b.status);
  ASSERT_EQ(a.revocation.has_value(), b.revocation.has_value());
  if (a.revocation) {
    EXPECT_EQ(a.revocation->revoked_at, b.revocation->revoked_at);
    EXPECT_EQ(a.revocation->reason, b.revocation->reason);
    EXPECT_EQ(a.revocation->invalidity_date, b.revocation->invalidity_date);
  }
  EXPECT_EQ(a.revocation_seq, b.revocation_seq);
  EXPECT_EQ(a.der, b.der);
}

std::vector<std::string> Serials(const std::vector<CertificateRecord>& certs) {
  std::vector<std::string> serials;
  for (const auto& cert : certs) serials.push_back(cert.serial_hex);
  return serials;
}

Revocation RevokedAt(UnixSeconds when, RevocationReason reason) {
  Revocation revocation;
  revocation.revoked_at = when;
  revocation.reason = reason;
  return revocation;
}

AuditEntry MakeAuditEntry(int64_t seq) {
  AuditEntry entry;
  entry.seq = seq;
  entry.time = kNow + seq;
  entry.actor = "cli:root@host";
  entry.action = "cert.issue";
  entry.object = "issuing/" + std::to_string(seq);
  entry.details = R"({"profile":"personal-sign"})";
  entry.prev_hash = Bytes(32, static_cast<uint8_t>(seq - 1));
  entry.hash = Bytes(32, static_cast<uint8_t>(seq));
  return entry;
}

// --- the suite over back ends ---------------------------------------------------------------

class StoreTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override { db_ = Open(); }

  std::unique_ptr<Database> Open(int busy_timeout_ms = 5000) {
    auto db = GetParam().open(dir_.path(), busy_timeout_ms);
    EXPECT_TRUE(db.ok()) << db.status().ToString();
    return db.ok() ? std::move(db).value() : nullptr;
  }

  std::unique_ptr<Transaction> Write() { return BeginOrDie(TransactionMode::kWrite); }
  std::unique_ptr<Transaction> Read() { return BeginOrDie(TransactionMode::kRead); }

  std::unique_ptr<Transaction> BeginOrDie(TransactionMode mode) {
    auto tx = db_->Begin(mode);
    EXPECT_TRUE(tx.ok()) << tx.status().ToString();
    return tx.ok() ? std::move(tx).value() : nullptr;
  }

  // Inserts a root CA (and commits); returns its id.
  int64_t AddCa(const std::string& name) {
    auto tx = Write();
    auto id = tx->InsertCa(MakeCa(name));
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    EXPECT_TRUE(tx->Commit().ok());
    return id.ok() ? *id : 0;
  }

  int64_t AddCert(Transaction& tx, const CertificateRecord& cert) {
    auto id = tx.InsertCertificate(cert);
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    return id.ok() ? *id : 0;
  }

  TempDir dir_;
  std::unique_ptr<Database> db_;
};

TEST_P(StoreTest, ReportsSchemaVersion) {
  EXPECT_GE(db_->schema_version(), 1);
}

TEST_P(StoreTest, InsertsAndReadsCas) {
  auto tx = Write();
  CaRecord root = MakeCa("root");
  auto root_id = tx->InsertCa(root);
  ASSERT_TRUE(root_id.ok()) << root_id.status().ToString();
  root.id = *root_id;
  CaRecord issuing = MakeCa("issuing", root.id);
  auto issuing_id = tx->InsertCa(issuing);
  ASSERT_TRUE(issuing_id.ok()) << issuing_id.status().ToString();
  issuing.id = *issuing_id;
  ASSERT_TRUE(tx->Commit().ok());

  auto read = Read();
  auto by_id = read->GetCa(issuing.id);
  ASSERT_TRUE(by_id.ok()) << by_id.status().ToString();
  ExpectSameCa(*by_id, issuing);
  auto by_name = read->GetCaByName("root");
  ASSERT_TRUE(by_name.ok()) << by_name.status().ToString();
  ExpectSameCa(*by_name, root);
  auto all = read->ListCas();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  ExpectSameCa((*all)[0], root);
  ExpectSameCa((*all)[1], issuing);
}

TEST_P(StoreTest, MissingCaIsNotFound) {
  auto tx = Read();
  EXPECT_EQ(tx->GetCa(42).status().id(), "store.not_found");
  EXPECT_EQ(tx->GetCa(42).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(tx->GetCaByName("nope").status().id(), "store.not_found");
  auto all = tx->ListCas();
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->empty());
}

TEST_P(StoreTest, DuplicateCaNameIsDuplicate) {
  AddCa("root");
  auto tx = Write();
  auto again = tx->InsertCa(MakeCa("root"));
  EXPECT_EQ(again.status().id(), "store.duplicate");
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists);
}

TEST_P(StoreTest, CaWithUnknownParentIsNotFound) {
  auto tx = Write();
  EXPECT_EQ(tx->InsertCa(MakeCa("issuing", 999)).status().id(), "store.not_found");
}

TEST_P(StoreTest, InsertsAndReadsCertificates) {
  const int64_t ca = AddCa("issuing");
  auto tx = Write();
  CertificateRecord first = MakeCert(ca, "01AB");
  first.id = AddCert(*tx, first);
  CertificateRecord second = MakeCert(ca, "02CD");
  second.uids = {};
  second.email = "";
  second.replaces_id = first.id;
  second.owner_id = 7;
  second.organization_id = 11;
  second.issuance_kind = "renewal";
  second.der = {};
  second.id = AddCert(*tx, second);
  ASSERT_TRUE(tx->Commit().ok());

  auto read = Read();
  auto got = read->GetCertificate(ca, "01AB");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ExpectSameCertificate(*got, first);
  auto by_id = read->GetCertificateById(second.id);
  ASSERT_TRUE(by_id.ok()) << by_id.status().ToString();
  ExpectSameCertificate(*by_id, second);
}

TEST_P(StoreTest, SerialLookupIgnoresCase) {
  const int64_t ca = AddCa("issuing");
  auto tx = Write();
  AddCert(*tx, MakeCert(ca, "3a7f"));
  auto got = tx->GetCertificate(ca, "3A7F");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->serial_hex, "3A7F");
  EXPECT_TRUE(tx->GetCertificate(ca, "3a7f").ok());
  EXPECT_EQ(tx->InsertCertificate(MakeCert(ca, "3A7F")).status().id(), "store.duplicate");
}

TEST_P(StoreTest, SerialIsUniquePerCaNotGlobally) {
  const int64_t root = AddCa("root");
  const int64_t issuing = AddCa("issuing");
  auto tx = Write();
  const int64_t a = AddCert(*tx, MakeCert(root, "0100"));
  const int64_t b = AddCert(*tx, MakeCert(issuing, "0100"));
  auto duplicate = tx->InsertCertificate(MakeCert(issuing, "0100"));
  EXPECT_EQ(duplicate.status().id(), "store.duplicate");
  EXPECT_EQ(duplicate.status().code(), StatusCode::kAlreadyExists);
  // The failed insert left the transaction usable.
  ASSERT_TRUE(tx->Commit().ok());

  auto read = Read();
  auto found = read->FindCertificatesBySerial("0100");
  ASSERT_TRUE(found.ok());
  ASSERT_EQ(found->size(), 2u);
  EXPECT_EQ((*found)[0].id, a);
  EXPECT_EQ((*found)[1].id, b);
  EXPECT_EQ((*found)[0].uids, MakeCert(root, "0100").uids);
  auto none = read->FindCertificatesBySerial("FFFF");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST_P(StoreTest, MissingCertificateIsNotFound) {
  const int64_t ca = AddCa("issuing");
  auto tx = Read();
  EXPECT_EQ(tx->GetCertificate(ca, "01").status().id(), "store.not_found");
  EXPECT_EQ(tx->GetCertificate(ca, "01").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(tx->GetCertificateById(12345).status().id(), "store.not_found");
}

TEST_P(StoreTest, CertificateOfUnknownCaIsNotFound) {
  auto tx = Write();
  EXPECT_EQ(tx->InsertCertificate(MakeCert(999, "01")).status().id(), "store.not_found");
}

TEST_P(StoreTest, FiltersCertificates) {
  const int64_t root = AddCa("root");
  const int64_t issuing = AddCa("issuing");
  auto tx = Write();
  CertificateRecord a = MakeCert(issuing, "0A");  // personal, expires kNow+365d
  CertificateRecord b = MakeCert(issuing, "0B");
  b.profile = "organization-sign";
  b.subject = "CN=Bộ Tài chính,O=Bộ Tài chính,C=VN";
  b.uids = {"MST:0100109106"};
  b.email = "VanThu@MOF.gov.vn";
  b.organization_id = 5;
  b.not_after = kNow + 30 * kSecondsPerDay;
  CertificateRecord c = MakeCert(issuing, "0C");
  c.subject = "CN=Trần Thị Bình,O=Bộ Y tế,C=VN";
  c.uids = {"CCCD:079200000001"};
  c.email = "binh@moh.gov.vn";
  c.owner_id = 9;
  c.organization_id = 6;
  c.not_before = kNow + 10 * kSecondsPerDay;
  CertificateRecord d = MakeCert(root, "0D");
  d.profile = "issuing-ca";
  d.uids = {};
  a.id = AddCert(*tx, a);
  b.id = AddCert(*tx, b);
  c.id = AddCert(*tx, c);
  d.id = AddCert(*tx, d);
  ASSERT_TRUE(tx->MarkRevoked(c.id, RevokedAt(kNow + 1, RevocationReason::kKeyCompromise)).ok());
  ASSERT_TRUE(tx->Commit().ok());

  auto read = Read();
  auto list = [&](const CertificateFilter& filter) {
    auto certs = read->ListCertificates(filter);
    EXPECT_TRUE(certs.ok()) << certs.status().ToString();
    auto count = read->CountCertificates(filter);
    EXPECT_TRUE(count.ok()) << count.status().ToString();
    return certs.ok() ? Serials(*certs) : std::vector<std::string>{};
  };
  using V = std::vector<std::string>;

  EXPECT_EQ(list({}), (V{"0A", "0B", "0C", "0D"}));
  {
    CertificateFilter f;
    f.issuer_ca_id = issuing;
    EXPECT_EQ(list(f), (V{"0A", "0B", "0C"}));
  }
  {
    CertificateFilter f;
    f.status = CertificateStatus::kRevoked;
    EXPECT_EQ(list(f), (V{"0C"}));
    f.status = CertificateStatus::kValid;
    EXPECT_EQ(list(f), (V{"0A", "0B", "0D"}));
  }
  {
    CertificateFilter f;
    f.profile = "organization-sign";
    EXPECT_EQ(list(f), (V{"0B"}));
  }
  {
    CertificateFilter f;
    f.uid = "MST:0100109106";
    EXPECT_EQ(list(f), (V{"0A", "0B"}));
    f.uid = "CCCD:079200000001";
    EXPECT_EQ(list(f), (V{"0C"}));
    f.uid = "CCCD:0792";  // exact, not a prefix
    EXPECT_EQ(list(f), (V{}));
  }
  {
    CertificateFilter f;
    f.subject_contains = "Bộ Tài chính";
    EXPECT_EQ(list(f), (V{"0A", "0B", "0D"}));
    f.subject_contains = "Trần Thị";
    EXPECT_EQ(list(f), (V{"0C"}));
    f.subject_contains = "100%";
    EXPECT_EQ(list(f), (V{}));
  }
  {
    CertificateFilter f;
    f.email = "vanthu@mof.gov.vn";  // e-mail addresses match case-insensitively
    EXPECT_EQ(list(f), (V{"0B"}));
  }
  {
    CertificateFilter f;
    f.expires_before = kNow + 31 * kSecondsPerDay;
    EXPECT_EQ(list(f), (V{"0B"}));
  }
  {
    CertificateFilter f;
    f.valid_at = kNow + 5 * kSecondsPerDay;  // c is not valid yet
    EXPECT_EQ(list(f), (V{"0A", "0B", "0D"}));
    f.valid_at = kNow + 100 * kSecondsPerDay;  // b has expired
    EXPECT_EQ(list(f), (V{"0A", "0C", "0D"}));
    f.valid_at = kNow + 365 * kSecondsPerDay;  // not_after is inclusive
    EXPECT_EQ(list(f), (V{"0A", "0C", "0D"}));
    f.valid_at = kNow + 365 * kSecondsPerDay + 1;
    EXPECT_EQ(list(f), (V{}));
  }
  {
    CertificateFilter f;
    f.organization_id = 6;
    EXPECT_EQ(list(f), (V{"0C"}));
    f.organization_id = std::nullopt;
    f.owner_id = 9;
    EXPECT_EQ(list(f), (V{"0C"}));
  }
  {
    CertificateFilter f;  // conditions combine with AND
    f.issuer_ca_id = issuing;
    f.status = CertificateStatus::kValid;
    f.uid = "CCCD:001234567890";
    EXPECT_EQ(list(f), (V{"0A"}));
  }
  {
    CertificateFilter f;  // pages in id order
    f.limit = 2;
    EXPECT_EQ(list(f), (V{"0A", "0B"}));
    f.offset = 2;
    EXPECT_EQ(list(f), (V{"0C", "0D"}));
    f.offset = 3;
    EXPECT_EQ(list(f), (V{"0D"}));
    EXPECT_EQ(*read->CountCertificates(f), 4);  // Count ignores limit and offset
  }
  {
    CertificateFilter f;
    f.issuer_ca_id = issuing;
    f.status = CertificateStatus::kValid;
    EXPECT_EQ(*read->CountCertificates(f), 2);
  }
  {
    auto revoked = read->ListCertificates([] {
      CertificateFilter f;
      f.status = CertificateStatus::kRevoked;
      return f;
    }());
    ASSERT_TRUE(revoked.ok());
    ASSERT_EQ(revoked->size(), 1u);
    EXPECT_EQ((*revoked)[0].uids, (V{"CCCD:079200000001"}));
    EXPECT_EQ((*revoked)[0].revocation_seq, 1);
  }
}

TEST_P(StoreTest, RevokesWithPerCaSequence) {
  const int64_t root = AddCa("root");
  const int64_t issuing = AddCa("issuing");
  auto tx = Write();
  std::vector<int64_t> ids;
  for (const char* serial : {"01", "02", "03", "04"})
    ids.push_back(AddCert(*tx, MakeCert(issuing, serial)));
  const int64_t root_cert = AddCert(*tx, MakeCert(root, "01"));

  Revocation third = RevokedAt(kNow + 30, RevocationReason::kSuperseded);
  third.invalidity_date = kNow + 5;
  EXPECT_EQ(*tx->MarkRevoked(ids[2], third), 1);
  EXPECT_EQ(*tx->MarkRevoked(ids[0], RevokedAt(kNow + 10, RevocationReason::kKeyCompromise)), 2);
  EXPECT_EQ(*tx->MarkRevoked(root_cert, RevokedAt(kNow + 20, RevocationReason::kCaCompromise)), 1);
  EXPECT_EQ(*tx->MarkRevoked(ids[3], RevokedAt(kNow + 40, RevocationReason::kUnspecified)), 3);
  ASSERT_TRUE(tx->Commit().ok());

  auto read = Read();
  auto cert = read->GetCertificateById(ids[2]);
  ASSERT_TRUE(cert.ok());
  EXPECT_EQ(cert->status, CertificateStatus::kRevoked);
  ASSERT_TRUE(cert->revocation.has_value());
  EXPECT_EQ(cert->revocation->revoked_at, kNow + 30);
  EXPECT_EQ(cert->revocation->reason, RevocationReason::kSuperseded);
  EXPECT_EQ(cert->revocation->invalidity_date, kNow + 5);
  EXPECT_EQ(cert->revocation_seq, 1);
  auto untouched = read->GetCertificateById(ids[1]);
  ASSERT_TRUE(untouched.ok());
  EXPECT_EQ(untouched->status, CertificateStatus::kValid);
  EXPECT_FALSE(untouched->revocation.has_value());
  EXPECT_EQ(untouched->revocation_seq, 0);

  auto all = read->ListRevoked(issuing, 0);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].serial_hex, "03");
  EXPECT_EQ((*all)[0].revocation_seq, 1);
  EXPECT_EQ((*all)[0].revocation.reason, RevocationReason::kSuperseded);
  EXPECT_EQ((*all)[0].revocation.invalidity_date, kNow + 5);
  EXPECT_EQ((*all)[1].serial_hex, "01");
  EXPECT_EQ((*all)[1].revocation_seq, 2);
  EXPECT_EQ((*all)[1].revocation.revoked_at, kNow + 10);
  EXPECT_FALSE((*all)[1].revocation.invalidity_date.has_value());
  EXPECT_EQ((*all)[2].serial_hex, "04");
  EXPECT_EQ((*all)[2].revocation_seq, 3);

  auto delta = read->ListRevoked(issuing, 2);
  ASSERT_TRUE(delta.ok());
  ASSERT_EQ(delta->size(), 1u);
  EXPECT_EQ((*delta)[0].serial_hex, "04");
  auto none = read->ListRevoked(issuing, 3);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  auto root_revoked = read->ListRevoked(root, 0);
  ASSERT_TRUE(root_revoked.ok());
  ASSERT_EQ(root_revoked->size(), 1u);
  EXPECT_EQ((*root_revoked)[0].revocation.reason, RevocationReason::kCaCompromise);

  EXPECT_EQ(*read->MaxRevocationSeq(issuing), 3);
  EXPECT_EQ(*read->MaxRevocationSeq(root), 1);
  EXPECT_EQ(read->MaxRevocationSeq(999).status().id(), "store.not_found");
}

TEST_P(StoreTest, MaxRevocationSeqStartsAtZero) {
  const int64_t ca = AddCa("issuing");
  auto read = Read();
  EXPECT_EQ(*read->MaxRevocationSeq(ca), 0);
  auto none = read->ListRevoked(ca, 0);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST_P(StoreTest, RevokingTwiceIsAlreadyRevoked) {
  const int64_t ca = AddCa("issuing");
  auto tx = Write();
  const int64_t id = AddCert(*tx, MakeCert(ca, "01"));
  ASSERT_TRUE(tx->MarkRevoked(id, RevokedAt(kNow, RevocationReason::kKeyCompromise)).ok());
  auto again = tx->MarkRevoked(id, RevokedAt(kNow + 1, RevocationReason::kSuperseded));
  EXPECT_EQ(again.status().id(), "store.already_revoked");
  EXPECT_EQ(again.status().code(), StatusCode::kFailedPrecondition);
  // The failed call changed nothing: the first revocation and the counter stand.
  auto cert = tx->GetCertificateById(id);
  ASSERT_TRUE(cert.ok());
  EXPECT_EQ(cert->revocation->reason, RevocationReason::kKeyCompromise);
  EXPECT_EQ(*tx->MaxRevocationSeq(ca), 1);
}

TEST_P(StoreTest, RevokingMissingCertificateIsNotFound) {
  AddCa("issuing");
  auto tx = Write();
  auto revoked = tx->MarkRevoked(4242, RevokedAt(kNow, RevocationReason::kKeyCompromise));
  EXPECT_EQ(revoked.status().id(), "store.not_found");
  EXPECT_EQ(revoked.status().code(), StatusCode::kNotFound);
}

TEST_P(StoreTest, RevocationReasonSevenIsRejected) {
  const int64_t ca = AddCa("issuing");
  auto tx = Write();
  const int64_t id = AddCert(*tx, MakeCert(ca, "01"));
  auto revoked = tx->MarkRevoked(id, RevokedAt(kNow, static_cast<RevocationReason>(7)));
  EXPECT_EQ(revoked.status().id(), "revocation.unknown_reason");
}

TEST_P(StoreTest, InsertingRevokedRecordAssignsSeq) {
  const int64_t ca = AddCa("issuing");
  auto tx = Write();
  CertificateRecord cert = MakeCert(ca, "01");
  cert.status = CertificateStatus::kRevoked;
  cert.revocation = RevokedAt(kNow, RevocationReason::kCessationOfOperation);
  cert.revocation_seq = 77;  // ignored: the store assigns the seq
  const int64_t id = AddCert(*tx, cert);
  auto got = tx->GetCertificateById(id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->status, CertificateStatus::kRevoked);
  EXPECT_EQ(got->revocation_seq, 1);
  EXPECT_EQ(got->revocation->reason, RevocationReason::kCessationOfOperation);

  CertificateRecord incomplete = MakeCert(ca, "02");
  incomplete.status = CertificateStatus::kRevoked;
  EXPECT_EQ(tx->InsertCertificate(incomplete).status().id(), "store.invalid_record");
  incomplete.revocation = RevokedAt(kNow, static_cast<RevocationReason>(7));
  EXPECT_EQ(tx->InsertCertificate(incomplete).status().id(), "revocation.unknown_reason");
  EXPECT_EQ(tx->GetCertificate(ca, "02").status().id(), "store.not_found");  // nothing written
}

TEST_P(StoreTest, CrlNumbersAreSharedByFullAndDeltaPerCa) {
  const int64_t root = AddCa("root");
  const int64_t issuing = AddCa("issuing");
  auto tx = Write();
  EXPECT_EQ(*tx->NextCrlNumber(issuing), 1);
  EXPECT_EQ(*tx->NextCrlNumber(issuing), 2);
  EXPECT_EQ(*tx->NextCrlNumber(root), 1);
  EXPECT_EQ(*tx->NextCrlNumber(issuing), 3);
  EXPECT_EQ(tx->NextCrlNumber(999).status().id(), "store.not_found");
  ASSERT_TRUE(tx->Commit().ok());
  {
    auto rolled_back = Write();
    EXPECT_EQ(*rolled_back->NextCrlNumber(issuing), 4);
  }  // not committed: 4 is handed out again
  auto again = Write();
  EXPECT_EQ(*again->NextCrlNumber(issuing), 4);
}

TEST_P(StoreTest, StoresCrlsAndFindsTheLatest) {
  const int64_t ca = AddCa("issuing");
  auto tx = Write();
  EXPECT_FALSE(tx->LatestCrl(ca, false)->has_value());
  EXPECT_FALSE(tx->LatestCrl(ca, true)->has_value());

  auto make = [&](int64_t number, std::optional<int64_t> base) {
    CrlRecord crl;
    crl.ca_id = ca;
    crl.number = number;
    crl.base_number = base;
    crl.this_update = kNow + number;
    crl.next_update = kNow + number + kSecondsPerDay;
    crl.max_revocation_seq = number * 10;
    crl.entry_count = number;
    crl.der = {0x30, static_cast<uint8_t>(number)};
    return crl;
  };
  CrlRecord full1 = make(*tx->NextCrlNumber(ca), std::nullopt);
  CrlRecord delta2 = make(*tx->NextCrlNumber(ca), full1.number);
  CrlRecord full3 = make(*tx->NextCrlNumber(ca), std::nullopt);
  CrlRecord delta4 = make(*tx->NextCrlNumber(ca), full3.number);
  for (CrlRecord* crl : {&full1, &delta2, &full3, &delta4}) {
    auto id = tx->InsertCrl(*crl);
    ASSERT_TRUE(id.ok()) << id.status().ToString();
    crl->id = *id;
  }
  EXPECT_EQ(tx->InsertCrl(full3).status().id(), "store.duplicate");

  auto latest_full = tx->LatestCrl(ca, false);
  ASSERT_TRUE(latest_full.ok());
  ASSERT_TRUE(latest_full->has_value());
  EXPECT_EQ((*latest_full)->id, full3.id);
  EXPECT_EQ((*latest_full)->number, 3);
  EXPECT_FALSE((*latest_full)->base_number.has_value());
  EXPECT_EQ((*latest_full)->this_update, full3.this_update);
  EXPECT_EQ((*latest_full)->next_update, full3.next_update);
  EXPECT_EQ((*latest_full)->max_revocation_seq, 30);
  EXPECT_EQ((*latest_full)->entry_count, 3);
  EXPECT_EQ((*latest_full)->der, full3.der);
  auto latest_delta = tx->LatestCrl(ca, true);
  ASSERT_TRUE(latest_delta.ok());
  ASSERT_TRUE(latest_delta->has_value());
  EXPECT_EQ((*latest_delta)->number, 4);
  EXPECT_EQ((*latest_delta)->base_number, 3);

  CrlRecord orphan = make(9, std::nullopt);
  orphan.ca_id = 999;
  EXPECT_EQ(tx->InsertCrl(orphan).status().id(), "store.not_found");
}

TEST_P(StoreTest, AuditEntriesAppendInOrder) {
  auto tx = Write();
  auto empty = tx->LastAuditEntry();
  ASSERT_TRUE(empty.ok());
  EXPECT_FALSE(empty->has_value());
  for (int64_t seq = 1; seq <= 5; ++seq) {
    ASSERT_TRUE(tx->InsertAuditEntry(MakeAuditEntry(seq)).ok());
  }
  ASSERT_TRUE(tx->Commit().ok());

  auto read = Read();
  auto last = read->LastAuditEntry();
  ASSERT_TRUE(last.ok());
  ASSERT_TRUE(last->has_value());
  const AuditEntry expected = MakeAuditEntry(5);
  EXPECT_EQ((*last)->seq, 5);
  EXPECT_EQ((*last)->time, expected.time);
  EXPECT_EQ((*last)->actor, expected.actor);
  EXPECT_EQ((*last)->action, expected.action);
  EXPECT_EQ((*last)->object, expected.object);
  EXPECT_EQ((*last)->details, expected.details);
  EXPECT_EQ((*last)->prev_hash, expected.prev_hash);
  EXPECT_EQ((*last)->hash, expected.hash);

  auto page = read->ListAuditEntries(2, 2);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->size(), 2u);
  EXPECT_EQ((*page)[0].seq, 2);
  EXPECT_EQ((*page)[1].seq, 3);
  auto rest = read->ListAuditEntries(4, 100);
  ASSERT_TRUE(rest.ok());
  ASSERT_EQ(rest->size(), 2u);
  EXPECT_EQ((*rest)[1].seq, 5);
  auto beyond = read->ListAuditEntries(6, 100);
  ASSERT_TRUE(beyond.ok());
  EXPECT_TRUE(beyond->empty());
}

TEST_P(StoreTest, AuditEntrySeqIsAppendOnly) {
  auto tx = Write();
  ASSERT_TRUE(tx->InsertAuditEntry(MakeAuditEntry(1)).ok());
  AuditEntry replacement = MakeAuditEntry(1);
  replacement.actor = "mallory";
  Status duplicate = tx->InsertAuditEntry(replacement);
  EXPECT_EQ(duplicate.id(), "store.duplicate");
  EXPECT_EQ(duplicate.code(), StatusCode::kAlreadyExists);
  EXPECT_EQ((*tx->LastAuditEntry())->actor, "cli:root@host");
}

TEST_P(StoreTest, AuditCheckpoints) {
  auto tx = Write();
  auto none = tx->LastAuditCheckpoint();
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  AuditCheckpoint first;
  first.seq = 10;
  first.head_hash = Bytes(32, 0x10);
  first.time = kNow;
  first.signer_fingerprint = "ABCD";
  first.scheme = "ecdsa-with-SHA256";
  first.signature = {0x30, 0x44, 0x02};
  AuditCheckpoint second = first;
  second.seq = 20;
  second.head_hash = Bytes(32, 0x20);
  second.time = kNow + 60;
  auto first_id = tx->InsertAuditCheckpoint(first);
  auto second_id = tx->InsertAuditCheckpoint(second);
  ASSERT_TRUE(first_id.ok()) << first_id.status().ToString();
  ASSERT_TRUE(second_id.ok());
  EXPECT_NE(*first_id, *second_id);
  ASSERT_TRUE(tx->Commit().ok());

  auto read = Read();
  auto all = read->ListAuditCheckpoints();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].id, *first_id);
  EXPECT_EQ((*all)[0].seq, 10);
  EXPECT_EQ((*all)[0].head_hash, first.head_hash);
  EXPECT_EQ((*all)[0].time, first.time);
  EXPECT_EQ((*all)[0].signer_fingerprint, "ABCD");
  EXPECT_EQ((*all)[0].scheme, "ecdsa-with-SHA256");
  EXPECT_EQ((*all)[0].signature, first.signature);
  auto last = read->LastAuditCheckpoint();
  ASSERT_TRUE(last.ok());
  ASSERT_TRUE(last->has_value());
  EXPECT_EQ((*last)->id, *second_id);
  EXPECT_EQ((*last)->seq, 20);
}

TEST_P(StoreTest, Settings) {
  auto tx = Write();
  auto missing = tx->GetSetting("instance_id");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
  ASSERT_TRUE(tx->PutSetting("instance_id", "kyso-01").ok());
  ASSERT_TRUE(tx->PutSetting("base_url", "").ok());
  ASSERT_TRUE(tx->PutSetting("instance_id", "kyso-02").ok());
  ASSERT_TRUE(tx->Commit().ok());
  auto read = Read();
  EXPECT_EQ(**read->GetSetting("instance_id"), "kyso-02");
  EXPECT_EQ(**read->GetSetting("base_url"), "");
}

TEST_P(StoreTest, DestroyingWithoutCommitRollsBack) {
  const int64_t ca = AddCa("issuing");
  int64_t cert_id = 0;
  {
    auto tx = Write();
    cert_id = AddCert(*tx, MakeCert(ca, "01"));
    ASSERT_TRUE(tx->InsertCa(MakeCa("second")).ok());
    ASSERT_TRUE(tx->InsertAuditEntry(MakeAuditEntry(1)).ok());
    ASSERT_TRUE(tx->PutSetting("k", "v").ok());
  }
  auto read = Read();
  EXPECT_EQ(read->GetCertificateById(cert_id).status().id(), "store.not_found");
  EXPECT_EQ(read->GetCaByName("second").status().id(), "store.not_found");
  EXPECT_FALSE(read->LastAuditEntry()->has_value());
  EXPECT_FALSE(read->GetSetting("k")->has_value());
}

TEST_P(StoreTest, RevocationRollsBackWithItsCounter) {
  const int64_t ca = AddCa("issuing");
  int64_t id = 0;
  {
    auto tx = Write();
    id = AddCert(*tx, MakeCert(ca, "01"));
    ASSERT_TRUE(tx->Commit().ok());
  }
  {
    auto tx = Write();
    EXPECT_EQ(*tx->MarkRevoked(id, RevokedAt(kNow, RevocationReason::kKeyCompromise)), 1);
  }
  auto tx = Write();
  EXPECT_EQ((*tx->GetCertificateById(id)).status, CertificateStatus::kValid);
  EXPECT_EQ(*tx->MaxRevocationSeq(ca), 0);
  EXPECT_EQ(*tx->MarkRevoked(id, RevokedAt(kNow, RevocationReason::kKeyCompromise)), 1);
}

TEST_P(StoreTest, CommittedDataSurvivesReopen) {
  const int64_t ca = AddCa("issuing");
  {
    auto tx = Write();
    AddCert(*tx, MakeCert(ca, "01"));
    ASSERT_TRUE(tx->Commit().ok());
  }
  db_.reset();
  db_ = Open();
  ASSERT_NE(db_, nullptr);
  auto read = Read();
  EXPECT_TRUE(read->GetCertificate(ca, "01").ok());
}

TEST_P(StoreTest, ReadTransactionRefusesWrites) {
  const int64_t ca = AddCa("issuing");
  auto tx = Read();
  EXPECT_EQ(tx->InsertCertificate(MakeCert(ca, "01")).status().id(), "store.read_only");
  EXPECT_EQ(tx->NextCrlNumber(ca).status().id(), "store.read_only");
  EXPECT_EQ(tx->InsertAuditEntry(MakeAuditEntry(1)).id(), "store.read_only");
  EXPECT_EQ(tx->PutSetting("k", "v").id(), "store.read_only");
  EXPECT_EQ(tx->InsertCa(MakeCa("x")).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(tx->Commit().ok());
}

TEST_P(StoreTest, CommittedTransactionIsClosed) {
  auto tx = Write();
  ASSERT_TRUE(tx->Commit().ok());
  EXPECT_EQ(tx->Commit().id(), "store.closed");
  EXPECT_EQ(tx->ListCas().status().id(), "store.closed");
  EXPECT_EQ(tx->PutSetting("k", "v").id(), "store.closed");
}

TEST_P(StoreTest, SecondWriterOnSameThreadGetsBusyInsteadOfDeadlock) {
  db_.reset();
  db_ = Open(/*busy_timeout_ms=*/100);
  auto first = Write();
  auto second = db_->Begin(TransactionMode::kWrite);
  EXPECT_EQ(second.status().id(), "store.busy");
  EXPECT_EQ(second.status().code(), StatusCode::kUnavailable);
  // Readers are not blocked by the writer.
  auto reader = db_->Begin(TransactionMode::kRead);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_TRUE((*reader)->ListCas().ok());
}

TEST_P(StoreTest, ConcurrentWritersAreSerialized) {
  const int64_t ca = AddCa("issuing");
  constexpr int kThreads = 4;
  constexpr int kPerThread = 25;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        auto tx = db_->Begin(TransactionMode::kWrite);
        if (!tx.ok()) {
          ++failures;
          continue;
        }
        // Read-modify-write of the audit chain head: lost updates would show as duplicates.
        auto last = (*tx)->LastAuditEntry();
        const int64_t seq = last.ok() && last->has_value() ? (*last)->seq + 1 : 1;
        if (!(*tx)->InsertAuditEntry(MakeAuditEntry(seq)).ok()) ++failures;
        const std::string serial = std::to_string(t * 1000 + i);
        if (!(*tx)->InsertCertificate(MakeCert(ca, serial)).ok()) ++failures;
        if (!(*tx)->Commit().ok()) ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  auto read = Read();
  EXPECT_EQ((*read->LastAuditEntry())->seq, kThreads * kPerThread);
  EXPECT_EQ(*read->CountCertificates({}), kThreads * kPerThread);
}

// --- certificate status and pre-signed OCSP responses ----------------------------------------

OcspResponseRecord MakeOcspResponse(int64_t ca_id, const std::string& serial_hex,
                                    UnixSeconds this_update,
                                    CertificateStatus status = CertificateStatus::kValid) {
  OcspResponseRecord response;
  response.ca_id = ca_id;
  response.serial_hex = serial_hex;
  response.status = status;
  response.this_update = this_update;
  response.next_update = this_update + 4 * 3600;
  response.der = {0x30, 0x03, 0x0A, 0x01, static_cast<uint8_t>(this_update & 0x7F)};
  return response;
}

TEST_P(StoreTest, ReadsCertificateStatusWithoutTheBody) {
  const int64_t ca = AddCa("issuing");
  auto tx = Write();
  const int64_t good = AddCert(*tx, MakeCert(ca, "0A"));
  const int64_t bad = AddCert(*tx, MakeCert(ca, "0B"));
  Revocation revocation = RevokedAt(kNow + 5, RevocationReason::kKeyCompromise);
  revocation.invalidity_date = kNow + 1;
  ASSERT_TRUE(tx->MarkRevoked(bad, revocation).ok());
  ASSERT_TRUE(tx->Commit().ok());

  auto read = Read();
  auto status = read->GetCertificateStatus(ca, "0a");  // case-insensitive like every serial
  ASSERT_TRUE(status.ok()) << status.status().ToString();
  EXPECT_EQ(status->id, good);
  EXPECT_EQ(status->issuer_ca_id, ca);
  EXPECT_EQ(status->serial_hex, "0A");
  EXPECT_EQ(status->status, CertificateStatus::kValid);
  EXPECT_FALSE(status->revocation.has_value());
  EXPECT_EQ(status->not_before, kNow);
  EXPECT_EQ(status->not_after, kNow + 365 * kSecondsPerDay);
  auto revoked = read->GetCertificateStatus(ca, "0B");
  ASSERT_TRUE(revoked.ok());
  EXPECT_EQ(revoked->status, CertificateStatus::kRevoked);
  ASSERT_TRUE(revoked->revocation.has_value());
  EXPECT_EQ(revoked->revocation->revoked_at, kNow + 5);
  EXPECT_EQ(revoked->revocation->reason, RevocationReason::kKeyCompromise);
  EXPECT_EQ(revoked->revocation->invalidity_date, kNow + 1);
  EXPECT_EQ(revoked->revocation_seq, 1);
  EXPECT_EQ(read->GetCertificateStatus(ca, "0C").status().id(), "store.not_found");
  EXPECT_EQ(read->GetCertificateStatus(ca + 1, "0A").status().id(), "store.not_found");
}

TEST_P(StoreTest, PagesThroughUnexpiredCertificateStatusesOfOneCa) {
  const int64_t root = AddCa("root");
  const int64_t issuing = AddCa("issuing");
  auto tx = Write();
  std::vector<int64_t> ids;
  for (int i = 0; i < 7; ++i) {
    CertificateRecord cert = MakeCert(issuing, "0" + std::to_string(i));
    if (i == 3) cert.not_after = kNow - 1;  // expired
    ids.push_back(AddCert(*tx, cert));
    AddCert(*tx, MakeCert(root, "0" + std::to_string(i)));  // another CA's, interleaved
  }
  ASSERT_TRUE(tx->Commit().ok());

  auto read = Read();
  std::vector<std::string> seen;
  int64_t after = 0;
  int pages = 0;
  while (true) {
    auto page = read->ListCertificateStatuses(issuing, after, kNow, 2);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    if (page->empty()) break;
    ++pages;
    EXPECT_LE(page->size(), 2u);
    for (const auto& entry : *page) {
      EXPECT_EQ(entry.issuer_ca_id, issuing);
      EXPECT_GT(entry.id, after);
      seen.push_back(entry.serial_hex);
      after = entry.id;
    }
  }
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(seen, (std::vector<std::string>{"00", "01", "02", "04", "05", "06"}));
  auto with_expired = read->ListCertificateStatuses(issuing, 0, 0, -1);
  ASSERT_TRUE(with_expired.ok());
  EXPECT_EQ(with_expired->size(), 7u);
}

TEST_P(StoreTest, StoresPresignedOcspResponsesKeepingTheNewest) {
  const int64_t ca = AddCa("issuing");
  auto tx = Write();
  const int64_t id = AddCert(*tx, MakeCert(ca, "0A"));
  auto stored = tx->PutOcspResponse(MakeOcspResponse(ca, "0a", kNow));
  ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  EXPECT_TRUE(*stored);
  ASSERT_TRUE(tx->Commit().ok());

  {
    auto read = Read();
    auto got = read->GetOcspResponse(ca, "0A");
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    ASSERT_TRUE(got->has_value());
    EXPECT_EQ((*got)->certificate_id, id);
    EXPECT_EQ((*got)->ca_id, ca);
    EXPECT_EQ((*got)->serial_hex, "0A");
    EXPECT_EQ((*got)->status, CertificateStatus::kValid);
    EXPECT_FALSE((*got)->revocation.has_value());
    EXPECT_EQ((*got)->this_update, kNow);
    EXPECT_EQ((*got)->next_update, kNow + 4 * 3600);
    EXPECT_EQ((*got)->der, MakeOcspResponse(ca, "0A", kNow).der);
    auto none = read->GetOcspResponse(ca, "0B");
    ASSERT_TRUE(none.ok());
    EXPECT_FALSE(none->has_value());
  }

  auto write = Write();
  EXPECT_TRUE(*write->PutOcspResponse(MakeOcspResponse(ca, "0A", kNow + 100)));  // newer
  EXPECT_TRUE(*write->PutOcspResponse(MakeOcspResponse(ca, "0A", kNow + 50)));   // older: kept
  EXPECT_EQ((*write->GetOcspResponse(ca, "0A"))->this_update, kNow + 100);
  auto missing = write->PutOcspResponse(MakeOcspResponse(ca, "0B", kNow));
  EXPECT_EQ(missing.status().id(), "store.not_found");
  ASSERT_TRUE(write->Commit().ok());

  auto read = Read();
  EXPECT_EQ(read->PutOcspResponse(MakeOcspResponse(ca, "0A", kNow)).status().id(),
            "store.read_only");
}

TEST_P(StoreTest, RevocationDeletesThePresignedResponseInTheSameTransaction) {
  const int64_t ca = AddCa("issuing");
  int64_t id = 0;
  {
    auto tx = Write();
    id = AddCert(*tx, MakeCert(ca, "0A"));
    ASSERT_TRUE(*tx->PutOcspResponse(MakeOcspResponse(ca, "0A", kNow)));
    ASSERT_TRUE(tx->Commit().ok());
  }
  {
    // Rolled back: the revocation and the deletion both vanish.
    auto tx = Write();
    ASSERT_TRUE(tx->MarkRevoked(id, RevokedAt(kNow + 1, RevocationReason::kKeyCompromise)).ok());
    EXPECT_FALSE(tx->GetOcspResponse(ca, "0A")->has_value());
  }
  EXPECT_TRUE(Read()->GetOcspResponse(ca, "0A")->has_value());
  {
    auto tx = Write();
    ASSERT_TRUE(tx->MarkRevoked(id, RevokedAt(kNow + 1, RevocationReason::kKeyCompromise)).ok());
    ASSERT_TRUE(tx->Commit().ok());
  }
  EXPECT_FALSE(Read()->GetOcspResponse(ca, "0A")->has_value());
}

TEST_P(StoreTest, GoodResponseSignedBeforeARevocationIsNotStoredAfterIt) {
  const int64_t ca = AddCa("issuing");
  auto tx = Write();
  const int64_t id = AddCert(*tx, MakeCert(ca, "0A"));
  ASSERT_TRUE(tx->MarkRevoked(id, RevokedAt(kNow + 1, RevocationReason::kSuperseded)).ok());
  auto stale = tx->PutOcspResponse(MakeOcspResponse(ca, "0A", kNow + 2));
  ASSERT_TRUE(stale.ok()) << stale.status().ToString();
  EXPECT_FALSE(*stale);
  EXPECT_FALSE(tx->GetOcspResponse(ca, "0A")->has_value());

  auto revoked =
      tx->PutOcspResponse(MakeOcspResponse(ca, "0A", kNow + 2, CertificateStatus::kRevoked));
  ASSERT_TRUE(revoked.ok());
  EXPECT_TRUE(*revoked);
  ASSERT_TRUE(tx->Commit().ok());
  auto got = Read()->GetOcspResponse(ca, "0A");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->status, CertificateStatus::kRevoked);
  ASSERT_TRUE((*got)->revocation.has_value());
  EXPECT_EQ((*got)->revocation->reason, RevocationReason::kSuperseded);
  EXPECT_EQ((*got)->revocation->revoked_at, kNow + 1);
}

TEST_P(StoreTest, ListsAndPurgesPresignedResponses) {
  const int64_t root = AddCa("root");
  const int64_t issuing = AddCa("issuing");
  auto tx = Write();
  for (int i = 0; i < 5; ++i) {
    const std::string serial = "0" + std::to_string(i);
    AddCert(*tx, MakeCert(issuing, serial));
    AddCert(*tx, MakeCert(root, serial));
    ASSERT_TRUE(*tx->PutOcspResponse(MakeOcspResponse(issuing, serial, kNow + i * 3600)));
    ASSERT_TRUE(*tx->PutOcspResponse(MakeOcspResponse(root, serial, kNow)));
  }
  ASSERT_TRUE(tx->Commit().ok());

  auto read = Read();
  std::vector<std::string> seen;
  int64_t after = 0;
  while (true) {
    // Only those still valid two hours after kNow + 4 h: this_update >= kNow + 2 h.
    auto page = read->ListOcspResponses(issuing, after, kNow + 6 * 3600 - 1, 2);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    if (page->empty()) break;
    for (const auto& r : *page) {
      EXPECT_EQ(r.ca_id, issuing);
      EXPECT_GT(r.certificate_id, after);
      EXPECT_FALSE(r.der.empty());
      seen.push_back(r.serial_hex);
      after = r.certificate_id;
    }
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"02", "03", "04"}));
  read.reset();

  auto write = Write();
  auto purged = write->DeleteExpiredOcspResponses(kNow + 4 * 3600 + 3600);
  ASSERT_TRUE(purged.ok()) << purged.status().ToString();
  EXPECT_EQ(*purged, 7);  // root's five and issuing's 00, 01
  ASSERT_TRUE(write->Commit().ok());
  auto left = Read()->ListOcspResponses(issuing, 0, 0, -1);
  ASSERT_TRUE(left.ok());
  EXPECT_EQ(left->size(), 3u);
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreTest, ::testing::ValuesIn(Backends()),
                         [](const ::testing::TestParamInfo<Backend>& info) {
                           return info.param.name;
                         });

// --- revocation reason names ---------------------------------------------------------------

TEST(RevocationReasonTest, NamesFollowRfc5280) {
  EXPECT_EQ(RevocationReasonName(RevocationReason::kUnspecified), "unspecified");
  EXPECT_EQ(RevocationReasonName(RevocationReason::kKeyCompromise), "keyCompromise");
  EXPECT_EQ(RevocationReasonName(RevocationReason::kCaCompromise), "cACompromise");
  EXPECT_EQ(RevocationReasonName(RevocationReason::kAffiliationChanged), "affiliationChanged");
  EXPECT_EQ(RevocationReasonName(RevocationReason::kSuperseded), "superseded");
  EXPECT_EQ(RevocationReasonName(RevocationReason::kCessationOfOperation), "cessationOfOperation");
  EXPECT_EQ(RevocationReasonName(RevocationReason::kCertificateHold), "certificateHold");
  EXPECT_EQ(RevocationReasonName(RevocationReason::kRemoveFromCrl), "removeFromCRL");
  EXPECT_EQ(RevocationReasonName(RevocationReason::kPrivilegeWithdrawn), "privilegeWithdrawn");
  EXPECT_EQ(RevocationReasonName(RevocationReason::kAaCompromise), "aACompromise");
}

TEST(RevocationReasonTest, ParsesNamesCaseInsensitively) {
  for (int code : {0, 1, 2, 3, 4, 5, 6, 8, 9, 10}) {
    const auto reason = static_cast<RevocationReason>(code);
    const std::string name(RevocationReasonName(reason));
    EXPECT_EQ(*ParseRevocationReason(name), reason) << name;
    std::string upper = name;
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    EXPECT_EQ(*ParseRevocationReason(upper), reason) << upper;
  }
  EXPECT_EQ(*ParseRevocationReason("keycompromise"), RevocationReason::kKeyCompromise);
  EXPECT_EQ(*ParseRevocationReason("key-compromise"), RevocationReason::kKeyCompromise);
  EXPECT_EQ(*ParseRevocationReason("CA_compromise"), RevocationReason::kCaCompromise);
  EXPECT_EQ(*ParseRevocationReason("removeFromCrl"), RevocationReason::kRemoveFromCrl);
}

TEST(RevocationReasonTest, RejectsUnknownNames) {
  for (const char* text : {"", "key", "compromised", "7", "unspecified!", "--"}) {
    auto parsed = ParseRevocationReason(text);
    EXPECT_EQ(parsed.status().id(), "revocation.unknown_reason") << text;
    EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
  }
  EXPECT_NE(ParseRevocationReason("bogus").status().message().find("keyCompromise"),
            std::string::npos);
}

TEST(RevocationReasonTest, MapsCodes) {
  EXPECT_EQ(*RevocationReasonFromCode(1), RevocationReason::kKeyCompromise);
  EXPECT_EQ(*RevocationReasonFromCode(10), RevocationReason::kAaCompromise);
  EXPECT_EQ(RevocationReasonFromCode(7).status().id(), "revocation.unknown_reason");
  EXPECT_EQ(RevocationReasonFromCode(-1).status().id(), "revocation.unknown_reason");
  EXPECT_EQ(RevocationReasonFromCode(11).status().id(), "revocation.unknown_reason");
}

// --- SQLite only ---------------------------------------------------------------------------

// A raw sqlite3 handle, to inspect or damage a file behind the store's back.
class RawSqlite {
 public:
  explicit RawSqlite(const std::string& path) {
    EXPECT_EQ(sqlite3_open(path.c_str(), &db_), SQLITE_OK);
  }
  ~RawSqlite() { sqlite3_close(db_); }
  int Exec(const std::string& sql) {
    return sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr);
  }
  std::string QueryText(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    std::string result;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_text(stmt, 0) != nullptr) {
      result = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    }
    sqlite3_finalize(stmt);
    return result;
  }
  // All rows of EXPLAIN QUERY PLAN's detail column, joined.
  std::string QueryPlan(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    std::string plan;
    if (sqlite3_prepare_v2(db_, ("EXPLAIN QUERY PLAN " + sql).c_str(), -1, &stmt, nullptr) ==
        SQLITE_OK) {
      while (sqlite3_step(stmt) == SQLITE_ROW) {
        plan += reinterpret_cast<const char*>(sqlite3_column_text(stmt, 3));
        plan += "\n";
      }
    }
    sqlite3_finalize(stmt);
    return plan;
  }

 private:
  sqlite3* db_ = nullptr;
};

void WriteBytes(const std::string& path, std::streamoff offset, const std::string& bytes) {
  std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
  if (!file) file.open(path, std::ios::out | std::ios::binary);
  file.seekp(offset);
  file.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string Garbage(size_t size) {
  std::string bytes(size, '\0');
  uint32_t x = 2463534242u;
  for (char& c : bytes) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    c = static_cast<char>(x & 0xff);
  }
  return bytes;
}

Result<std::unique_ptr<Database>> OpenSqlite(const std::string& path) {
  return OpenSqliteDatabase(path, SqliteOptions());
}

// Creates a database holding one CA, certificates and audit entries, and closes it.
void CreatePopulated(const std::string& path, int certificates = 20) {
  auto db = OpenSqlite(path);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  auto tx = (*db)->Begin(TransactionMode::kWrite);
  ASSERT_TRUE(tx.ok());
  auto ca = (*tx)->InsertCa(MakeCa("issuing"));
  ASSERT_TRUE(ca.ok());
  for (int i = 0; i < certificates; ++i) {
    CertificateRecord cert = MakeCert(*ca, std::to_string(1000 + i));
    cert.der.resize(600, 0x5A);
    ASSERT_TRUE((*tx)->InsertCertificate(cert).ok());
  }
  for (int64_t seq = 1; seq <= 10; ++seq)
    ASSERT_TRUE((*tx)->InsertAuditEntry(MakeAuditEntry(seq)).ok());
  ASSERT_TRUE((*tx)->Commit().ok());
}

TEST(SqliteStoreTest, GarbageFileIsCorrupt) {
  TempDir dir;
  const std::string path = dir.File("garbage.db");
  WriteBytes(path, 0, Garbage(8192));
  auto db = OpenSqlite(path);
  EXPECT_EQ(db.status().id(), "store.corrupt");
  EXPECT_EQ(db.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(db.status().message().find(path + " is not a kyso database or is damaged"),
            std::string::npos)
      << db.status().message();
}

TEST(SqliteStoreTest, ShortTextFileIsCorrupt) {
  TempDir dir;
  const std::string path = dir.File("notes.txt");
  WriteBytes(path, 0, "this is not a database\n");
  EXPECT_EQ(OpenSqlite(path).status().id(), "store.corrupt");
}

TEST(SqliteStoreTest, OverwrittenHeaderPageIsCorrupt) {
  TempDir dir;
  const std::string path = dir.File("kyso.db");
  CreatePopulated(path);
  WriteBytes(path, 0, Garbage(4096));
  auto db = OpenSqlite(path);
  EXPECT_EQ(db.status().id(), "store.corrupt");
  EXPECT_NE(db.status().message().find(path), std::string::npos);
}

TEST(SqliteStoreTest, DamagedSchemaPageIsCorrupt) {
  TempDir dir;
  const std::string path = dir.File("kyso.db");
  CreatePopulated(path);
  // Keep the 100-byte file header, destroy the rest of page 1 (the schema table's root).
  WriteBytes(path, 100, Garbage(4096 - 100));
  EXPECT_EQ(OpenSqlite(path).status().id(), "store.corrupt");
}

TEST(SqliteStoreTest, DamagedDataPageOfSmallFileIsCorrupt) {
  TempDir dir;
  const std::string path = dir.File("kyso.db");
  CreatePopulated(path, 200);
  const auto size = std::filesystem::file_size(path);
  ASSERT_GT(size, 16 * 4096u);
  // A page in the middle of the certificates table: only an integrity check notices.
  WriteBytes(path, static_cast<std::streamoff>((size / 4096 / 2) * 4096), Garbage(4096));
  EXPECT_EQ(OpenSqlite(path).status().id(), "store.corrupt");
}

TEST(SqliteStoreTest, ForeignSqliteFileIsNotKyso) {
  TempDir dir;
  const std::string path = dir.File("other.db");
  {
    RawSqlite raw(path);
    ASSERT_EQ(raw.Exec("CREATE TABLE photos (id INTEGER PRIMARY KEY, name TEXT)"), SQLITE_OK);
  }
  auto db = OpenSqlite(path);
  EXPECT_EQ(db.status().id(), "store.corrupt");
  EXPECT_NE(db.status().message().find("is not a kyso database"), std::string::npos);
}

TEST(SqliteStoreTest, NewerSchemaIsRefused) {
  TempDir dir;
  const std::string path = dir.File("kyso.db");
  CreatePopulated(path);
  {
    RawSqlite raw(path);
    ASSERT_EQ(raw.Exec("PRAGMA user_version = " + std::to_string(SqliteSchemaVersion() + 1)),
              SQLITE_OK);
  }
  auto db = OpenSqlite(path);
  EXPECT_EQ(db.status().id(), "store.schema_too_new");
  EXPECT_EQ(db.status().code(), StatusCode::kFailedPrecondition);
}

TEST(SqliteStoreTest, RecordsAppliedMigrations) {
  TempDir dir;
  const std::string path = dir.File("kyso.db");
  {
    auto db = OpenSqlite(path);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    EXPECT_EQ((*db)->schema_version(), SqliteSchemaVersion());
  }
  {
    auto reopened = OpenSqlite(path);  // migrating an up-to-date file is a no-op
    ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  }
  RawSqlite raw(path);
  EXPECT_EQ(raw.QueryText("PRAGMA user_version"), std::to_string(SqliteSchemaVersion()));
  EXPECT_EQ(raw.QueryText("SELECT count(*) FROM schema_migrations"),
            std::to_string(SqliteSchemaVersion()));
  EXPECT_EQ(raw.QueryText("SELECT description FROM schema_migrations WHERE version = 1"),
            "initial schema");
  EXPECT_EQ(raw.QueryText("PRAGMA application_id"), std::to_string(0x4B59534F));
}

// Turns a current file back into what kyso wrote at schema version `version` (2 or 3), by
// dropping what the later migration steps created.
void DowngradeTo(const std::string& path, int version) {
  RawSqlite raw(path);
  // Migration 7: indexes for counts by issue and revocation time.
  ASSERT_EQ(raw.Exec("DROP INDEX certificates_issued_at; DROP INDEX certificates_revoked_at; "
                     "DROP INDEX certificates_status;"),
            SQLITE_OK);
  if (version >= 6) {
    ASSERT_EQ(raw.Exec("DELETE FROM schema_migrations WHERE version > " + std::to_string(version)),
              SQLITE_OK);
    ASSERT_EQ(raw.Exec("PRAGMA user_version = " + std::to_string(version)), SQLITE_OK);
    return;
  }
  // Migration 6: token ids, reminder columns (the version 5 tables, rows kept), attachments.
  ASSERT_EQ(raw.Exec(R"sql(
DROP TABLE request_attachments;
DROP INDEX outbox_certificate;
CREATE TABLE outbox_v5 (
  id INTEGER PRIMARY KEY, dedupe_key TEXT NOT NULL UNIQUE, channel TEXT NOT NULL,
  recipient TEXT NOT NULL, subject TEXT NOT NULL, body TEXT NOT NULL,
  created_at INTEGER NOT NULL, next_attempt_at INTEGER NOT NULL, sent_at INTEGER,
  attempts INTEGER NOT NULL, last_error TEXT NOT NULL);
INSERT INTO outbox_v5 SELECT id, dedupe_key, channel, recipient, subject, body, created_at,
  next_attempt_at, sent_at, attempts, last_error FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_v5 RENAME TO outbox;
CREATE INDEX outbox_due ON outbox(next_attempt_at) WHERE sent_at IS NULL;
CREATE TABLE access_tokens_v5 (
  token_hash TEXT PRIMARY KEY, account_id INTEGER NOT NULL REFERENCES accounts(id),
  kind TEXT NOT NULL, name TEXT NOT NULL, csrf_hash TEXT NOT NULL, created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL, revoked INTEGER NOT NULL) WITHOUT ROWID;
INSERT INTO access_tokens_v5 SELECT token_hash, account_id, kind, name, csrf_hash, created_at,
  expires_at, revoked FROM access_tokens;
DROP TABLE access_tokens;
ALTER TABLE access_tokens_v5 RENAME TO access_tokens;
CREATE INDEX access_tokens_expires ON access_tokens(expires_at);
CREATE INDEX access_tokens_account ON access_tokens(account_id);
)sql"),
            SQLITE_OK);
  if (version >= 5) {
    ASSERT_EQ(raw.Exec("DELETE FROM schema_migrations WHERE version > " + std::to_string(version)),
              SQLITE_OK);
    ASSERT_EQ(raw.Exec("PRAGMA user_version = " + std::to_string(version)), SQLITE_OK);
    return;
  }
  // Migration 5: server-held signing keys.
  for (const char* table : {"signing_key_accounts", "signing_keys"}) {
    ASSERT_EQ(raw.Exec(std::string("DROP TABLE ") + table), SQLITE_OK) << table;
  }
  if (version >= 4) {
    ASSERT_EQ(raw.Exec("DELETE FROM schema_migrations WHERE version > " + std::to_string(version)),
              SQLITE_OK);
    ASSERT_EQ(raw.Exec("PRAGMA user_version = " + std::to_string(version)), SQLITE_OK);
    return;
  }
  // Migration 4: the registration workflow (children before the tables they reference).
  for (const char* table :
       {"request_events", "request_documents", "requests", "delegations", "access_tokens",
        "accounts", "people", "organizations", "idempotency_keys", "outbox"}) {
    ASSERT_EQ(raw.Exec(std::string("DROP TABLE ") + table), SQLITE_OK) << table;
  }
  ASSERT_EQ(raw.Exec("DROP INDEX certificates_expiring"), SQLITE_OK);
  if (version < 3) {
    ASSERT_EQ(raw.Exec("DROP TABLE ocsp_responses"), SQLITE_OK);
  }
  ASSERT_EQ(raw.Exec("DELETE FROM schema_migrations WHERE version > " + std::to_string(version)),
            SQLITE_OK);
  ASSERT_EQ(raw.Exec("PRAGMA user_version = " + std::to_string(version)), SQLITE_OK);
}

TEST(SqliteStoreTest, MigratesAVersionTwoFileToTheLatest) {
  TempDir dir;
  const std::string path = dir.File("kyso.db");
  CreatePopulated(path);
  DowngradeTo(path, 2);
  auto db = OpenSqlite(path);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  EXPECT_EQ((*db)->schema_version(), SqliteSchemaVersion());
  auto tx = (*db)->Begin(TransactionMode::kWrite);
  ASSERT_TRUE(tx.ok());
  auto certs = (*tx)->ListCertificates({});
  ASSERT_TRUE(certs.ok());
  ASSERT_FALSE(certs->empty());
  const CertificateRecord& cert = certs->front();
  auto stored = (*tx)->PutOcspResponse(MakeOcspResponse(cert.issuer_ca_id, cert.serial_hex, kNow));
  ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  EXPECT_TRUE(*stored);
  ASSERT_TRUE((*tx)->Commit().ok());
  RawSqlite raw(path);
  EXPECT_EQ(raw.QueryText("SELECT description FROM schema_migrations WHERE version = 3"),
            "pre-signed OCSP responses");
  EXPECT_EQ(raw.QueryText("SELECT description FROM schema_migrations WHERE version = 4"),
            "registration workflow");
}

TEST(SqliteStoreTest, MigratesAVersionThreeFileToTheLatest) {
  TempDir dir;
  const std::string path = dir.File("kyso.db");
  CreatePopulated(path);
  DowngradeTo(path, 3);
  auto db = OpenSqlite(path);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  EXPECT_EQ((*db)->schema_version(), SqliteSchemaVersion());
  auto tx = (*db)->Begin(TransactionMode::kWrite);
  ASSERT_TRUE(tx.ok());
  OrganizationRecord org;
  org.name = "Bộ Tài chính";
  auto id = (*tx)->InsertOrganization(org);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ((*tx)->GetOrganization(*id)->path, "/" + std::to_string(*id) + "/");
  // The certificates written before the migration are found by the new expiry index.
  auto expiring = (*tx)->CountExpiringByOrganization(0, kNow + 400 * kSecondsPerDay);
  ASSERT_TRUE(expiring.ok()) << expiring.status().ToString();
  ASSERT_TRUE((*tx)->Commit().ok());
  RawSqlite raw(path);
  EXPECT_EQ(raw.QueryText("SELECT description FROM schema_migrations WHERE version = 4"),
            "registration workflow");
  EXPECT_EQ(raw.QueryText("SELECT count(*) FROM schema_migrations"),
            std::to_string(SqliteSchemaVersion()));
}

TEST(SqliteStoreTest, MigratesAVersionFourFileToTheLatest) {
  TempDir dir;
  const std::string path = dir.File("kyso.db");
  CreatePopulated(path);
  DowngradeTo(path, 4);
  auto db = OpenSqlite(path);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  EXPECT_EQ((*db)->schema_version(), SqliteSchemaVersion());
  auto tx = (*db)->Begin(TransactionMode::kWrite);
  ASSERT_TRUE(tx.ok());
  OrganizationRecord org;
  org.name = "Sở Tài chính";
  auto id = (*tx)->InsertOrganization(org);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  SigningKeyAccess access;
  access.key_id = "bacgiang-stc";
  access.organization_id = *id;
  EXPECT_TRUE((*tx)->InsertSigningKeyAccess(access).ok());
  ASSERT_TRUE((*tx)->Commit().ok());
  RawSqlite raw(path);
  EXPECT_EQ(raw.QueryText("SELECT description FROM schema_migrations WHERE version = 5"),
            "server-held signing keys: owner body and authorized accounts");
}

// Version 6 numbers the tokens written before it and links the reminders queued before it to
// their certificates (from the dedupe keys); other outbox messages stay unlinked.
TEST(SqliteStoreTest, MigratesAVersionFiveFileToTheLatest) {
  TempDir dir;
  const std::string path = dir.File("kyso.db");
  CreatePopulated(path);
  DowngradeTo(path, 5);
  {
    RawSqlite raw(path);
    ASSERT_EQ(raw.Exec(R"sql(
INSERT INTO accounts VALUES (1, 'an.nguyen', 'An', 'subscriber', NULL, NULL, '', '', 0, 0, 1);
INSERT INTO access_tokens VALUES ('bb02', 1, 'api', 'second', '', 20, 9999999999, 0);
INSERT INTO access_tokens VALUES ('aa01', 1, 'api', 'first', '', 10, 9999999999, 0);
INSERT INTO outbox VALUES (1, 'expiry:3:30', 'email', 'a@b.vn', 's', 'b', 0, 0, NULL, 0, '');
INSERT INTO outbox VALUES (2, 'expiry:3:30d', 'email', 'a@b.vn', 's', 'b', 0, 0, NULL, 0, '');
INSERT INTO outbox VALUES (3, 'expiry:999:60', 'email', 'a@b.vn', 's', 'b', 0, 0, NULL, 0, '');
INSERT INTO outbox VALUES (4, 'overdue:7', 'email', 'a@b.vn', 's', 'b', 0, 0, NULL, 0, '');
)sql"),
              SQLITE_OK);
  }
  auto db = OpenSqlite(path);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  EXPECT_EQ((*db)->schema_version(), SqliteSchemaVersion());
  auto tx = (*db)->Begin(TransactionMode::kRead);
  ASSERT_TRUE(tx.ok());
  auto tokens = (*tx)->ListAccessTokens(1, "api", 0, 10);
  ASSERT_TRUE(tokens.ok()) << tokens.status().ToString();
  ASSERT_EQ(tokens->size(), 2u);
  EXPECT_EQ((*tokens)[0].name, "first");  // numbered in creation order
  EXPECT_LT((*tokens)[0].id, (*tokens)[1].id);
  auto reminders = (*tx)->ListReminders({});
  ASSERT_TRUE(reminders.ok()) << reminders.status().ToString();
  ASSERT_EQ(reminders->size(), 1u);
  EXPECT_EQ(reminders->front().message.id, 1);
  EXPECT_EQ(reminders->front().message.certificate_id, 3);
  EXPECT_EQ(reminders->front().message.reminder_days, 30);
  RawSqlite raw(path);
  EXPECT_EQ(raw.QueryText("SELECT description FROM schema_migrations WHERE version = 6"),
            "token ids; expiry reminders name their certificate; request attachments");
}

TEST(SqliteStoreTest, OcspQueriesWalkKeysWithoutSorting) {
  TempDir dir;
  const std::string path = dir.File("kyso.db");
  CreatePopulated(path);
  RawSqlite raw(path);
  const std::string statuses = raw.QueryPlan(
      "SELECT id FROM certificates WHERE id > 5 AND +issuer_ca_id = 1 AND +not_after >= 0 "
      "ORDER BY id LIMIT 10");
  EXPECT_NE(statuses.find("INTEGER PRIMARY KEY"), std::string::npos) << statuses;
  EXPECT_EQ(statuses.find("TEMP B-TREE"), std::string::npos) << statuses;
  const std::string responses = raw.QueryPlan(
      "SELECT r.der FROM ocsp_responses r JOIN certificates c ON c.id = r.certificate_id "
      "WHERE r.certificate_id > 5 AND +c.issuer_ca_id = 1 AND +r.next_update > 0 "
      "ORDER BY r.certificate_id LIMIT 10");
  EXPECT_EQ(responses.find("TEMP B-TREE"), std::string::npos) << responses;
  const std::string lookup = raw.QueryPlan(
      "SELECT r.der FROM certificates c JOIN ocsp_responses r ON r.certificate_id = c.id "
      "WHERE c.issuer_ca_id = 1 AND c.serial_hex = '0A'");
  EXPECT_NE(lookup.find("sqlite_autoindex_certificates"), std::string::npos) << lookup;
}

TEST(SqliteStoreTest, MissingFileWithoutCreateIsIo) {
  TempDir dir;
  SqliteOptions options;
  options.create_if_missing = false;
  auto db = OpenSqliteDatabase(dir.File("absent.db"), options);
  EXPECT_EQ(db.status().id(), "store.io");
  EXPECT_FALSE(std::filesystem::exists(dir.File("absent.db")));
}

TEST(SqliteStoreTest, EmptyFileIsInitialized) {
  TempDir dir;
  const std::string path = dir.File("empty.db");
  WriteBytes(path, 0, "");
  auto db = OpenSqlite(path);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
}

TEST(SqliteStoreTest, UsesWalAndForeignKeys) {
  TempDir dir;
  const std::string path = dir.File("kyso.db");
  auto db = OpenSqlite(path);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  RawSqlite raw(path);
  EXPECT_EQ(raw.QueryText("PRAGMA journal_mode"), "wal");
}

TEST(SqliteStoreTest, LockHeldByAnotherProcessIsBusy) {
  TempDir dir;
  const std::string path = dir.File("kyso.db");
  SqliteOptions options;
  options.busy_timeout_ms = 100;
  auto db = OpenSqliteDatabase(path, options);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  RawSqlite other(path);
  ASSERT_EQ(other.Exec("BEGIN IMMEDIATE"), SQLITE_OK);
  auto tx = (*db)->Begin(TransactionMode::kWrite);
  EXPECT_EQ(tx.status().id(), "store.busy");
  EXPECT_EQ(tx.status().code(), StatusCode::kUnavailable);
  ASSERT_EQ(other.Exec("COMMIT"), SQLITE_OK);
  EXPECT_TRUE((*db)->Begin(TransactionMode::kWrite).ok());
}

TEST(SqliteStoreTest, OpeningACurrentFileDoesNotWaitForAWriter) {
  TempDir dir;
  const std::string path = dir.File("kyso.db");
  CreatePopulated(path);
  RawSqlite writer(path);
  ASSERT_EQ(writer.Exec("BEGIN IMMEDIATE"), SQLITE_OK);
  SqliteOptions options;
  options.busy_timeout_ms = 100;
  auto db = OpenSqliteDatabase(path, options);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  auto tx = (*db)->Begin(TransactionMode::kRead);
  ASSERT_TRUE(tx.ok()) << tx.status().ToString();
  EXPECT_TRUE((*tx)->GetCaByName("issuing").ok());
  ASSERT_EQ(writer.Exec("COMMIT"), SQLITE_OK);
}

TEST(SqliteStoreTest, AuditTablesAreAppendOnlyForSql) {
  TempDir dir;
  const std::string path = dir.File("kyso.db");
  CreatePopulated(path);
  RawSqlite raw(path);
  EXPECT_EQ(raw.Exec("UPDATE audit_log SET actor = 'x' WHERE seq = 1"), SQLITE_CONSTRAINT);
  EXPECT_EQ(raw.Exec("DELETE FROM audit_log WHERE seq = 1"), SQLITE_CONSTRAINT);
}

TEST(SqliteStoreTest, HotQueriesUseIndexes) {
  TempDir dir;
  const std::string path = dir.File("kyso.db");
  CreatePopulated(path);
  RawSqlite raw(path);
  EXPECT_NE(raw.QueryPlan("SELECT serial_hex FROM certificates WHERE issuer_ca_id = 1 AND "
                          "revocation_seq > 0 AND revocation_seq > 5 ORDER BY revocation_seq")
                .find("certificates_revocation"),
            std::string::npos);
  EXPECT_NE(raw.QueryPlan("SELECT c.id FROM certificates c WHERE c.id IN (SELECT cert_id FROM "
                          "certificate_uids WHERE uid = 'CCCD:1')")
                .find("certificate_uids_uid"),
            std::string::npos);
  EXPECT_NE(raw.QueryPlan("SELECT id FROM certificates c WHERE c.organization_id = 3")
                .find("certificates_organization"),
            std::string::npos);
}

TEST(SqliteStoreTest, InMemoryDatabaseWorks) {
  auto db = OpenSqlite(":memory:");
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  {
    auto tx = (*db)->Begin(TransactionMode::kWrite);
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE((*tx)->InsertCa(MakeCa("root")).ok());
    ASSERT_TRUE((*tx)->Commit().ok());
  }
  auto tx = (*db)->Begin(TransactionMode::kRead);
  ASSERT_TRUE(tx.ok());
  EXPECT_TRUE((*tx)->GetCaByName("root").ok());
}

}  // namespace
}  // namespace kyso::store
