#include "ca/crl_publisher.h"

#include <gtest/gtest.h>

#include "ca/hierarchy.h"
#include "store/sqlite/sqlite_store.h"
#include "testlib/csr_factory.h"
#include "testlib/temp_dir.h"
#include "testlib/test_hierarchy.h"
#include "x509/crl.h"

namespace kyso::ca {
namespace {

constexpr UnixSeconds kNow = 1795230245;  // 2026-11-20T03:04:05Z

class CrlPublisherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = std::move(store::OpenSqliteDatabase(dir_.File("kyso.db"), {}).value());
    HierarchySpec spec = testlib::TestHierarchySpec();
    CertificateAuthority::Dependencies deps{db_.get(), &keys_,  &profiles_,           &clock_,
                                            &rng_,     &audit_, PublicationSettings{}};
    ASSERT_TRUE(InitializeHierarchy(spec, deps, "test").ok());
    ca_ = std::make_unique<CertificateAuthority>(deps, "test");
    publisher_ = std::make_unique<CrlPublisher>(
        ca_.get(), db_.get(), &clock_, CrlPublisherOptions{},
        [this](const std::string& ca, const store::CrlRecord& crl) { issued_.push_back(crl); });
  }

  std::string IssueOne(const std::string& uid) {
    testlib::CsrOptions o;
    o.subject = {{"C", "VN"}, {"O", "Bộ Tư pháp"}, {"CN", "Nguyễn Văn An"}, {"UID", uid}};
    const std::string pem = testlib::MakeCsrPem(testlib::CachedKey("ec:P-256"), o);
    auto issued = ca_->Issue({"issuing", Bytes(pem.begin(), pem.end()), "individual"});
    EXPECT_TRUE(issued.ok()) << issued.status().ToString();
    return issued->record.serial_hex;
  }

  testlib::TempDir dir_;
  std::unique_ptr<store::Database> db_;
  crypto::MemoryKeyStore keys_;
  policy::ProfileSet profiles_ = policy::ProfileSet::BuiltIn();
  FixedClock clock_{kNow};
  crypto::TestRng rng_{7};
  audit::AuditLog audit_{clock_};
  std::unique_ptr<CertificateAuthority> ca_;
  std::unique_ptr<CrlPublisher> publisher_;
  std::vector<store::CrlRecord> issued_;
};

TEST_F(CrlPublisherTest, ServesTheStoredCrlWhileItIsFresh) {
  // InitializeHierarchy issued no CRL; the first request issues one, the next reuses it.
  auto first = publisher_->Current("issuing", false);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto again = publisher_->Current("issuing", false);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->record.number, (*first)->record.number);
  EXPECT_EQ((*first)->etag, "\"issuing-full-" + std::to_string((*first)->record.number) + "\"");
  auto parsed = x509::Crl::FromDer((*first)->record.der);
  ASSERT_TRUE(parsed.ok());
}

TEST_F(CrlPublisherTest, NeverServesAStaleCrl) {
  auto first = publisher_->Current("issuing", false);
  ASSERT_TRUE(first.ok());
  const auto& rec = (*first)->record;
  // Inside the last quarter of the validity: re-issued before nextUpdate.
  clock_.Set(rec.next_update - (rec.next_update - rec.this_update) / 4 + 1);
  auto refreshed = publisher_->Current("issuing", false);
  ASSERT_TRUE(refreshed.ok());
  EXPECT_GT((*refreshed)->record.number, rec.number);
  EXPECT_GT((*refreshed)->record.next_update, rec.next_update);
  EXPECT_GT((*refreshed)->record.next_update, clock_.Now());
}

TEST_F(CrlPublisherTest, RevocationShowsInTheDeltaAtOnce) {
  const std::string serial = IssueOne("CCCD:001099012345");
  auto delta = publisher_->Current("issuing", true);
  ASSERT_TRUE(delta.ok()) << delta.status().ToString();
  EXPECT_EQ((*delta)->record.entry_count, 0);
  ASSERT_TRUE(ca_->Revoke({"issuing", serial, store::RevocationReason::kKeyCompromise}).ok());
  auto after = publisher_->Current("issuing", true);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ((*after)->record.entry_count, 1);
  auto crl = x509::Crl::FromDer((*after)->record.der);
  ASSERT_TRUE(crl.ok());
  ASSERT_EQ(crl->entry_count(), 1u);
  EXPECT_EQ(crl->ReasonFor(serial), 1);  // keyCompromise
  // The full CRL waits for its minimum interval; the delta already carries the revocation.
  const int64_t full_number = publisher_->Current("issuing", false).value()->record.number;
  clock_.Advance(CrlPublisherOptions{}.full_min_interval_seconds);
  EXPECT_GT(publisher_->Current("issuing", false).value()->record.number, full_number);
}

TEST_F(CrlPublisherTest, UnknownCaAndFailedReissue) {
  EXPECT_EQ(publisher_->Current("nope", false).status().id(), "crl.unknown_ca");
  auto first = publisher_->Current("root", false);
  ASSERT_TRUE(first.ok());
  // A fresh publisher whose CA can no longer sign (key store emptied): the still-valid CRL is
  // served; once it expires, crl.unavailable rather than a stale CRL.
  crypto::MemoryKeyStore empty;
  CertificateAuthority::Dependencies deps{db_.get(), &empty,  &profiles_,           &clock_,
                                          &rng_,     &audit_, PublicationSettings{}};
  CertificateAuthority offline(deps, "test");
  CrlPublisher publisher(&offline, db_.get(), &clock_, {});
  clock_.Set((*first)->record.next_update - 60);
  auto served = publisher.Current("root", false);
  ASSERT_TRUE(served.ok()) << served.status().ToString();
  EXPECT_EQ((*served)->record.number, (*first)->record.number);
  clock_.Set((*first)->record.next_update);
  EXPECT_EQ(publisher.Current("root", false).status().id(), "crl.unavailable");
}

TEST_F(CrlPublisherTest, RefreshDueIssuesForEveryCa) {
  ASSERT_TRUE(publisher_->RefreshDue().ok());
  // root and issuing, full and delta.
  EXPECT_EQ(issued_.size(), 4u);
  issued_.clear();
  ASSERT_TRUE(publisher_->RefreshDue().ok());
  EXPECT_TRUE(issued_.empty());
}

}  // namespace
}  // namespace kyso::ca
