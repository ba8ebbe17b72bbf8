#include "ca/authority.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <set>

#include "ca/hierarchy.h"
#include "store/sqlite/sqlite_store.h"
#include "testlib/csr_factory.h"
#include "testlib/temp_dir.h"
#include "testlib/test_hierarchy.h"
#include "x509/crl.h"

namespace kyso::ca {
namespace {

using testlib::CachedKey;
using testlib::CsrOptions;
using testlib::MakeCsrPem;

constexpr UnixSeconds kNow = 1795230245;  // 2026-11-20T03:04:05Z

Bytes Csr(const std::string& subject_cn, const std::string& uid,
          const std::string& key = "ec:P-256") {
  CsrOptions o;
  o.subject = {
      {"C", "VN"}, {"L", "Hà Nội"}, {"O", "Bộ Tài chính"}, {"CN", subject_cn}, {"UID", uid}};
  std::string pem = MakeCsrPem(CachedKey(key), o);
  return Bytes(pem.begin(), pem.end());
}

class AuthorityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = std::move(store::OpenSqliteDatabase(dir_.File("kyso.db"), {}).value());
    HierarchySpec spec = testlib::TestHierarchySpec();
    auto h = InitializeHierarchy(spec, Deps(), "test");
    ASSERT_TRUE(h.ok()) << h.status().ToString();
    hierarchy_ = std::make_unique<Hierarchy>(std::move(h).value());
    ca_ = std::make_unique<CertificateAuthority>(Deps(), "test");
  }

  CertificateAuthority::Dependencies Deps() {
    return {db_.get(), &keys_, &profiles_, &clock_, &rng_, &audit_, PublicationSettings{}};
  }

  int64_t CountCertificates() {
    auto tx = db_->Begin(store::TransactionMode::kRead).value();
    return tx->CountCertificates({}).value();
  }
  int64_t AuditSeq() {
    auto tx = db_->Begin(store::TransactionMode::kRead).value();
    auto last = tx->LastAuditEntry().value();
    return last ? last->seq : 0;
  }

  testlib::TempDir dir_;
  std::unique_ptr<store::Database> db_;
  crypto::MemoryKeyStore keys_;
  policy::ProfileSet profiles_ = policy::ProfileSet::BuiltIn();
  FixedClock clock_{kNow};
  crypto::TestRng rng_{12345};
  audit::AuditLog audit_{clock_};
  std::unique_ptr<Hierarchy> hierarchy_;
  std::unique_ptr<CertificateAuthority> ca_;
};

TEST_F(AuthorityTest, HierarchyChainsAndServiceCertificates) {
  EXPECT_TRUE(hierarchy_->root.IsSignedBy(hierarchy_->root.public_key()));
  EXPECT_TRUE(hierarchy_->issuing.IsSignedBy(hierarchy_->root.public_key()));
  EXPECT_EQ(hierarchy_->issuing.extensions().path_length, 0);
  EXPECT_EQ(hierarchy_->root.not_after() - hierarchy_->root.not_before(),
            kCaValidityDays * kSecondsPerDay - 1);
  auto ocsp = hierarchy_->ocsp.extensions();
  EXPECT_TRUE(ocsp.ocsp_no_check);
  EXPECT_EQ(ocsp.extended_key_usage, std::vector<std::string>{"OCSPSigning"});
  EXPECT_TRUE(ocsp.ocsp_urls.empty());
  auto tsa = hierarchy_->tsa.extensions();
  EXPECT_EQ(tsa.extended_key_usage, std::vector<std::string>{"timeStamping"});
  EXPECT_TRUE(tsa.extended_key_usage_critical);
  EXPECT_EQ(InitializeHierarchy({}, Deps(), "t").status().id(), "init.already_initialized");
}

TEST_F(AuthorityTest, IssuesAndRecordsWithAudit) {
  int64_t seq = AuditSeq();
  auto issued = ca_->Issue({"", Csr("Nguyễn Văn An", "CCCD:001234567890"), "individual", 365});
  ASSERT_TRUE(issued.ok()) << issued.status().ToString();
  const auto& cert = issued->certificate;
  EXPECT_TRUE(cert.IsSignedBy(hierarchy_->issuing.public_key()));
  EXPECT_EQ(cert.subject().First("CN"), "Nguyễn Văn An");
  EXPECT_EQ(cert.serial_hex().size(), 40u);
  EXPECT_LT(std::stoi(cert.serial_hex().substr(0, 2), nullptr, 16), 0x80);
  EXPECT_EQ(cert.not_before(), kNow);
  EXPECT_EQ(cert.not_after(), kNow + 365 * kSecondsPerDay - 1);
  auto ext = cert.extensions();
  EXPECT_EQ(ext.ocsp_urls, std::vector<std::string>{"http://127.0.0.1:8080/ocsp"});
  EXPECT_EQ(ext.crl_urls, std::vector<std::string>{"http://127.0.0.1:8080/crl/issuing.crl"});
  EXPECT_EQ(issued->record.uids, std::vector<std::string>{"CCCD:001234567890"});
  EXPECT_EQ(issued->record.profile, "individual");
  EXPECT_EQ(AuditSeq(), seq + 1);
  auto found = ca_->FindCertificate("", cert.serial_hex());
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->der, cert.der());
  // Lower-case and colon-separated serials are accepted too.
  std::string lower = cert.serial_hex();
  std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
  EXPECT_TRUE(ca_->FindCertificate("issuing", lower).ok());
}

TEST_F(AuthorityTest, RefusalsLeaveNothingBehind) {
  int64_t certs = CountCertificates();
  int64_t seq = AuditSeq();
  EXPECT_EQ(ca_->Issue({"", Csr("A", "CCCD:001234567890"), "nosuch"}).status().id(),
            "profile.unknown");
  EXPECT_EQ(ca_->Issue({"", Bytes{0x6a, 0x75, 0x6e, 0x6b}, "individual"}).status().id(),
            "csr.malformed");
  EXPECT_EQ(ca_->Issue({"", Csr("A", "CCCD:001234567890"), "individual", 1827}).status().id(),
            "profile.validity_too_long");
  EXPECT_EQ(ca_->Issue({"", Csr("A", "CCCD:12"), "individual"}).status().id(),
            "profile.uid_malformed");
  EXPECT_EQ(ca_->Issue({"nosuch", Csr("A", "CCCD:001234567890"), "individual"}).status().id(),
            "ca.not_found");
  CsrOptions bad;
  bad.subject = {{"C", "VN"}, {"CN", "A"}, {"UID", "CCCD:001234567890"}};
  bad.corrupt_signature = true;
  std::string pem = MakeCsrPem(CachedKey("ec:P-256"), bad);
  EXPECT_EQ(ca_->Issue({"", Bytes(pem.begin(), pem.end()), "individual"}).status().id(),
            "csr.bad_signature");
  EXPECT_EQ(CountCertificates(), certs);
  EXPECT_EQ(AuditSeq(), seq);
}

TEST_F(AuthorityTest, RenewalKeepsOldValidAndLimitsToThreeYears) {
  auto old =
      ca_->Issue({"", Csr("Trần Thị Bình", "CCCD:001234567891"), "individual", 1826}).value();
  clock_.Advance(300 * kSecondsPerDay);
  EXPECT_EQ(ca_->Renew({"", old.record.serial_hex, std::nullopt, 1097}).status().id(),
            "profile.validity_too_long");
  auto renewed = ca_->Renew({"", old.record.serial_hex, std::nullopt, 1096});
  ASSERT_TRUE(renewed.ok()) << renewed.status().ToString();
  EXPECT_TRUE(renewed->certificate.public_key().Equals(old.certificate.public_key()));
  EXPECT_EQ(renewed->record.issuance_kind, "renewal");
  EXPECT_EQ(renewed->record.replaces_id, old.record.id);
  EXPECT_EQ(ca_->FindCertificate("", old.record.serial_hex)->status,
            store::CertificateStatus::kValid);
  // New key with the same subject is a renewal; a different subject is not.
  auto rekey = ca_->Renew(
      {"", old.record.serial_hex, Csr("Trần Thị Bình", "CCCD:001234567891", "ec:P-384"), 365});
  ASSERT_TRUE(rekey.ok()) << rekey.status().ToString();
  EXPECT_TRUE(rekey->certificate.public_key().Equals(CachedKey("ec:P-384").public_key()));
  EXPECT_EQ(
      ca_->Renew({"", old.record.serial_hex, Csr("Trần Thị Bình Mới", "CCCD:001234567891"), 365})
          .status()
          .id(),
      "renew.subject_changed");
  clock_.Advance(2000 * kSecondsPerDay);
  EXPECT_EQ(ca_->Renew({"", old.record.serial_hex, std::nullopt, 365}).status().id(),
            "renew.expired");
}

TEST_F(AuthorityTest, ChangeOfInformationSupersedesOld) {
  auto old = ca_->Issue({"", Csr("Lê Văn Cường", "CCCD:001234567892"), "individual", 1000}).value();
  clock_.Advance(100 * kSecondsPerDay);
  auto changed = ca_->ChangeInformation(
      {"", old.record.serial_hex, Csr("Lê Văn Cường (Phó Vụ trưởng)", "CCCD:001234567892")});
  ASSERT_TRUE(changed.ok()) << changed.status().ToString();
  EXPECT_EQ(changed->certificate.not_after(), old.certificate.not_after());
  auto old_now = ca_->FindCertificate("", old.record.serial_hex).value();
  EXPECT_EQ(old_now.status, store::CertificateStatus::kRevoked);
  EXPECT_EQ(old_now.revocation->reason, store::RevocationReason::kSuperseded);
  EXPECT_EQ(ca_->ChangeInformation({"", old.record.serial_hex, Csr("X", "CCCD:001234567892")})
                .status()
                .id(),
            "change.revoked");
}

TEST_F(AuthorityTest, RevocationAndReissue) {
  auto cert = ca_->Issue({"", Csr("Phạm Thị Dung", "CCCD:001234567893"), "individual"}).value();
  EXPECT_EQ(ca_->Reissue({"", cert.record.serial_hex,
                          Csr("Phạm Thị Dung", "CCCD:001234567893", "ec:P-384")})
                .status()
                .id(),
            "reissue.not_revoked");
  EXPECT_EQ(ca_->Revoke({"", "0011223344", store::RevocationReason::kKeyCompromise}).status().id(),
            "cert.not_found");
  EXPECT_EQ(ca_->Revoke({"", "xyz", store::RevocationReason::kKeyCompromise}).status().id(),
            "cert.bad_serial");
  EXPECT_EQ(
      ca_->Revoke({"", cert.record.serial_hex, store::RevocationReason::kKeyCompromise, kNow + 10})
          .status()
          .id(),
      "revoke.invalidity_in_future");
  EXPECT_EQ(ca_->Revoke({"", cert.record.serial_hex, store::RevocationReason::kCertificateHold})
                .status()
                .id(),
            "revoke.reason_unsupported");
  auto revoked = ca_->Revoke(
      {"", cert.record.serial_hex, store::RevocationReason::kKeyCompromise, kNow - 86400});
  ASSERT_TRUE(revoked.ok()) << revoked.status().ToString();
  EXPECT_EQ(revoked->revocation_seq, 1);
  EXPECT_EQ(ca_->Revoke({"", cert.record.serial_hex, store::RevocationReason::kKeyCompromise})
                .status()
                .id(),
            "cert.already_revoked");
  EXPECT_EQ(ca_->Reissue({"", cert.record.serial_hex, Csr("Phạm Thị Dung", "CCCD:001234567893")})
                .status()
                .id(),
            "reissue.same_key");
  EXPECT_EQ(
      ca_->Reissue({"", cert.record.serial_hex, Csr("Người Khác", "CCCD:001234567893", "ec:P-384")})
          .status()
          .id(),
      "reissue.subject_changed");
  auto again = ca_->Reissue(
      {"", cert.record.serial_hex, Csr("Phạm Thị Dung", "CCCD:001234567893", "ec:P-384")});
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->record.issuance_kind, "reissue");
}

TEST_F(AuthorityTest, FullAndDeltaCrls) {
  EXPECT_EQ(ca_->GenerateCrl("issuing", true).status().id(), "crl.no_base");
  auto a = ca_->Issue({"", Csr("A", "CCCD:001234567894"), "individual"}).value();
  auto b = ca_->Issue({"", Csr("B", "CCCD:001234567895"), "individual"}).value();
  ASSERT_TRUE(ca_->Revoke({"", a.record.serial_hex, store::RevocationReason::kKeyCompromise}).ok());
  auto full = ca_->GenerateCrl("issuing", false);
  ASSERT_TRUE(full.ok()) << full.status().ToString();
  EXPECT_EQ(full->number, 1);
  EXPECT_EQ(full->entry_count, 1);
  clock_.Advance(60);
  ASSERT_TRUE(
      ca_->Revoke({"", b.record.serial_hex, store::RevocationReason::kAffiliationChanged}).ok());
  auto delta = ca_->GenerateCrl("issuing", true);
  ASSERT_TRUE(delta.ok()) << delta.status().ToString();
  EXPECT_EQ(delta->number, 2);
  EXPECT_EQ(delta->base_number, 1);
  auto parsed = x509::Crl::FromDer(delta->der).value();
  EXPECT_TRUE(parsed.IsSignedBy(hierarchy_->issuing.public_key()));
  EXPECT_EQ(parsed.delta_base(), 1);
  EXPECT_EQ(parsed.ReasonFor(b.record.serial_hex), 3);
  EXPECT_FALSE(parsed.ReasonFor(a.record.serial_hex).has_value());
  EXPECT_EQ(parsed.next_update() - parsed.this_update(), 4 * 3600);
  auto full2 = x509::Crl::FromDer(ca_->GenerateCrl("issuing", false)->der).value();
  EXPECT_EQ(full2.number(), 3);
  EXPECT_EQ(full2.entry_count(), 2u);
  EXPECT_EQ(x509::Crl::FromDer(ca_->GenerateCrl("root", false)->der)->entry_count(), 0u);
}

TEST_F(AuthorityTest, BatchIsAllOrNothingOnValidation) {
  std::vector<IssueRequest> batch;
  for (int i = 0; i < 5; ++i) {
    batch.push_back({"", Csr("Cán bộ " + std::to_string(i), "CCCD:00123456780" + std::to_string(i)),
                     "official"});
  }
  // "official" requires O, which Csr() provides; the third is broken on purpose.
  batch[2].profile = "nosuch";
  int64_t certs = CountCertificates();
  auto bad = ca_->IssueBatch(batch, 2);
  EXPECT_EQ(bad.status().id(), "profile.unknown");
  EXPECT_NE(bad.status().message().find("request 3"), std::string::npos);
  EXPECT_EQ(CountCertificates(), certs);
  batch[2].profile = "official";
  auto good = ca_->IssueBatch(batch, 2);
  ASSERT_TRUE(good.ok()) << good.status().ToString();
  EXPECT_EQ(good->size(), 5u);
  EXPECT_EQ(CountCertificates(), certs + 5);
}

TEST_F(AuthorityTest, LargeBatchSignsOnWorkerThreads) {
  std::vector<IssueRequest> batch;
  for (int i = 0; i < 200; ++i) {
    char uid[32];
    std::snprintf(uid, sizeof uid, "CCCD:%012d", 100000 + i);
    batch.push_back({"", Csr("Công chức " + std::to_string(i), uid), "official"});
  }
  int64_t seq = AuditSeq();
  auto issued = ca_->IssueBatch(batch, 64);
  ASSERT_TRUE(issued.ok()) << issued.status().ToString();
  ASSERT_EQ(issued->size(), 200u);
  std::set<std::string> serials;
  for (size_t i = 0; i < issued->size(); ++i) {
    const auto& c = (*issued)[i];
    EXPECT_TRUE(c.certificate.IsSignedBy(hierarchy_->issuing.public_key()));
    // Results come back in request order.
    EXPECT_EQ(c.certificate.subject().First("CN"), "Công chức " + std::to_string(i));
    serials.insert(c.record.serial_hex);
  }
  EXPECT_EQ(serials.size(), 200u);
  // One audit entry per certificate plus one checkpoint per chunk of 64 (4 chunks).
  EXPECT_EQ(AuditSeq(), seq + 200);
  auto tx = db_->Begin(store::TransactionMode::kRead).value();
  auto report = audit_.Verify(*tx, {hierarchy_->audit.public_key()});
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok);
  EXPECT_EQ(report->last_sealed_seq, seq + 200);
}

}  // namespace
}  // namespace kyso::ca
