// The OCSP responder over a real hierarchy (ca::InitializeHierarchy) in a temporary SQLite
// store, with an injected clock. Requests are built, and every response judged, by OpenSSL's
// OCSP API (OCSP_cert_to_id, OCSP_basic_verify against the root, OCSP_resp_find_status), and
// the exported files by the `openssl ocsp` command.
#include "ocsp/responder.h"

#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/x509.h>

#include <atomic>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "audit/audit_log.h"
#include "ca/authority.h"
#include "ca/hierarchy.h"
#include "ocsp/presign.h"
#include "ocsp/response_cache.h"
#include "ocsp/rollover.h"
#include "policy/profile.h"
#include "store/sqlite/sqlite_store.h"
#include "testlib/csr_factory.h"
#include "testlib/shell.h"
#include "testlib/temp_dir.h"
#include "testlib/test_hierarchy.h"
#include "x509/openssl_util.h"

namespace kyso::ocsp {
namespace {

constexpr UnixSeconds kNow = 1795230245;  // 2026-11-21T03:04:05Z

// --- OpenSSL as the judge ---------------------------------------------------------------------

template <typename T, void (*Free)(T*)>
using Ptr = std::unique_ptr<T, x509::internal::Deleter<T, Free>>;
using X509Ptr = Ptr<X509, X509_free>;
using CertIdPtr = Ptr<OCSP_CERTID, OCSP_CERTID_free>;
using RequestPtr = Ptr<OCSP_REQUEST, OCSP_REQUEST_free>;
using ResponsePtr = Ptr<OCSP_RESPONSE, OCSP_RESPONSE_free>;
using BasicPtr = Ptr<OCSP_BASICRESP, OCSP_BASICRESP_free>;

void FreeStack(STACK_OF(X509) * stack) {
  sk_X509_free(stack);
}

X509Ptr ToX509(ByteSpan der) {
  const unsigned char* p = der.data();
  return X509Ptr(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
}

UnixSeconds ToUnix(const ASN1_GENERALIZEDTIME* t) {
  std::tm tm{};
  if (t == nullptr || !ASN1_TIME_to_tm(t, &tm)) return -1;
  return timegm(&tm);
}

std::string OpensslErrors() {
  std::string out;
  for (unsigned long e; (e = ERR_get_error()) != 0;) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    out += buf;
    out += "; ";
  }
  return out;
}

// What OpenSSL reads in a response about one certificate.
struct Judged {
  int response_status = -1;  // OCSPResponseStatus
  bool verified = false;     // OCSP_basic_verify against the root
  int status = -1;           // V_OCSP_CERTSTATUS_*
  int reason = -1;
  UnixSeconds revoked_at = -1, this_update = -1, next_update = -1, produced_at = -1;
  Bytes responder_key_id;
  bool nonce_matches = false;  // OCSP_check_nonce(request, response) == 1
};

class Request {
 public:
  // A request for `cert` (DER) issued by `issuer` (DER), as `openssl ocsp` builds it.
  Request(ByteSpan cert, ByteSpan issuer, const EVP_MD* md = EVP_sha1(), bool nonce = false)
      : request_(OCSP_REQUEST_new()) {
    Add(cert, issuer, md);
    if (nonce) OCSP_request_add1_nonce(request_.get(), nullptr, 32);
  }
  void Add(ByteSpan cert, ByteSpan issuer, const EVP_MD* md = EVP_sha1()) {
    X509Ptr c = ToX509(cert), i = ToX509(issuer);
    OCSP_CERTID* id = OCSP_cert_to_id(md, c.get(), i.get());
    ids_.emplace_back(OCSP_CERTID_dup(id));
    OCSP_request_add0_id(request_.get(), id);
  }
  // A request for a serial the CA never issued.
  static Request ForSerial(ByteSpan issuer, long serial) {
    Request r;
    X509Ptr i = ToX509(issuer);
    Ptr<ASN1_INTEGER, ASN1_INTEGER_free> s(ASN1_INTEGER_new());
    ASN1_INTEGER_set(s.get(), serial);
    OCSP_CERTID* id = OCSP_cert_id_new(EVP_sha1(), X509_get_subject_name(i.get()),
                                       X509_get0_pubkey_bitstr(i.get()), s.get());
    r.ids_.emplace_back(OCSP_CERTID_dup(id));
    OCSP_request_add0_id(r.request_.get(), id);
    return r;
  }
  Bytes der() const {
    unsigned char* buf = nullptr;
    const int len = i2d_OCSP_REQUEST(request_.get(), &buf);
    Bytes out(buf, buf + len);
    OPENSSL_free(buf);
    return out;
  }
  OCSP_REQUEST* get() const { return request_.get(); }
  OCSP_CERTID* id(size_t i = 0) const { return ids_[i].get(); }

 private:
  Request() : request_(OCSP_REQUEST_new()) {}
  RequestPtr request_;
  std::vector<CertIdPtr> ids_;
};

// --- a CA in a temporary store ----------------------------------------------------------------

// A Database that counts transactions (to prove the hit path never reaches the store) and can
// fail them as a busy store would.
class CountingDatabase final : public store::Database {
 public:
  explicit CountingDatabase(store::Database* inner) : inner_(inner) {}
  Result<std::unique_ptr<store::Transaction>> Begin(store::TransactionMode mode) override {
    begins.fetch_add(1);
    if (busy.load()) return Unavailable("store.busy", "injected: the store is locked");
    return inner_->Begin(mode);
  }
  int schema_version() const override { return inner_->schema_version(); }
  std::atomic<int> begins{0};
  std::atomic<bool> busy{false};

 private:
  store::Database* inner_;
};

Bytes Csr(const std::string& cn, const std::string& uid) {
  testlib::CsrOptions o;
  o.subject = {{"C", "VN"}, {"O", "Bộ Tài chính"}, {"CN", cn}, {"UID", uid}};
  std::string pem = testlib::MakeCsrPem(testlib::CachedKey("ec:P-256"), o);
  return Bytes(pem.begin(), pem.end());
}

class ResponderTest : public ::testing::Test {
 protected:
  explicit ResponderTest(UnixSeconds now = kNow) : clock_(now) {}

  void SetUp() override {
    db_ = std::move(store::OpenSqliteDatabase(dir_.File("kyso.db"), Options()).value());
    counting_ = std::make_unique<CountingDatabase>(db_.get());
    ca::HierarchySpec spec = testlib::TestHierarchySpec();
    auto h = ca::InitializeHierarchy(spec, Deps(db_.get()), "test");
    ASSERT_TRUE(h.ok()) << h.status().ToString();
    hierarchy_ = std::make_unique<ca::Hierarchy>(std::move(h).value());
    ca_ = std::make_unique<ca::CertificateAuthority>(Deps(db_.get()), "test");
  }

  static store::SqliteOptions Options() {
    store::SqliteOptions options;
    options.durable = false;
    return options;
  }

  ca::CertificateAuthority::Dependencies Deps(store::Database* db) {
    return {db, &keys_, &profiles_, &clock_, &rng_, &audit_, ca::PublicationSettings{}};
  }

  std::vector<ca::IssuedCertificate> Issue(size_t n, int days = 365) {
    std::vector<ca::IssueRequest> requests;
    for (size_t i = 0; i < n; ++i) {
      const std::string number = std::to_string(100000000000ull + next_person_++);
      requests.push_back({"", Csr("Nguyễn Văn " + number, "CCCD:" + number), "individual", days});
    }
    auto issued = ca_->IssueBatch(requests);
    EXPECT_TRUE(issued.ok()) << issued.status().ToString();
    return issued.ok() ? std::move(issued).value() : std::vector<ca::IssuedCertificate>{};
  }

  std::unique_ptr<Responder> MakeResponder(ResponderOptions options = {}) {
    auto responder = Responder::Create(counting_.get(), &keys_, &clock_, options);
    EXPECT_TRUE(responder.ok()) << responder.status().ToString();
    return responder.ok() ? std::move(responder).value() : nullptr;
  }

  const Bytes& Issuing() const { return hierarchy_->issuing.der(); }
  Request RequestFor(const ca::IssuedCertificate& cert, const EVP_MD* md = EVP_sha1(),
                     bool nonce = false) const {
    return Request(cert.certificate.der(), Issuing(), md, nonce);
  }

  // OpenSSL's reading of `der` about the i-th CertID of `request`, verified at the clock's time
  // against the root, with the issuing CA as the untrusted intermediate.
  Judged Judge(ByteSpan der, const Request& request, size_t i = 0) const {
    Judged j;
    const unsigned char* p = der.data();
    ResponsePtr response(d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(der.size())));
    if (response == nullptr || p != der.data() + der.size()) {
      ADD_FAILURE() << "OpenSSL cannot parse the response";
      return j;
    }
    j.response_status = OCSP_response_status(response.get());
    if (j.response_status != OCSP_RESPONSE_STATUS_SUCCESSFUL) return j;
    BasicPtr basic(OCSP_response_get1_basic(response.get()));
    Ptr<X509_STORE, X509_STORE_free> store(X509_STORE_new());
    X509Ptr root = ToX509(hierarchy_->root.der());
    X509Ptr issuing = ToX509(Issuing());
    X509_STORE_add_cert(store.get(), root.get());
    X509_VERIFY_PARAM_set_time(X509_STORE_get0_param(store.get()), clock_.Now());
    Ptr<STACK_OF(X509), FreeStack> untrusted(sk_X509_new_null());
    sk_X509_push(untrusted.get(), issuing.get());
    j.verified = OCSP_basic_verify(basic.get(), untrusted.get(), store.get(), 0) == 1;
    EXPECT_TRUE(j.verified) << OpensslErrors();
    ASN1_GENERALIZEDTIME *revoked = nullptr, *this_update = nullptr, *next_update = nullptr;
    if (OCSP_resp_find_status(basic.get(), request.id(i), &j.status, &j.reason, &revoked,
                              &this_update, &next_update) == 1) {
      j.revoked_at = revoked ? ToUnix(revoked) : -1;
      j.this_update = ToUnix(this_update);
      j.next_update = ToUnix(next_update);
    }
    j.produced_at = ToUnix(OCSP_resp_get0_produced_at(basic.get()));
    const ASN1_OCTET_STRING* key_id = nullptr;
    const X509_NAME* by_name = nullptr;
    if (OCSP_resp_get0_id(basic.get(), &key_id, &by_name) == 1 && key_id != nullptr) {
      j.responder_key_id.assign(key_id->data, key_id->data + key_id->length);
    }
    j.nonce_matches = OCSP_check_nonce(request.get(), basic.get()) == 1;
    return j;
  }

  std::optional<store::OcspResponseRecord> Stored(const ca::IssuedCertificate& cert) {
    auto tx = db_->Begin(store::TransactionMode::kRead);
    EXPECT_TRUE(tx.ok());
    auto record = (*tx)->GetOcspResponse(cert.record.issuer_ca_id, cert.record.serial_hex);
    EXPECT_TRUE(record.ok()) << record.status().ToString();
    return record.ok() ? *record : std::nullopt;
  }

  testlib::TempDir dir_;
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<CountingDatabase> counting_;
  crypto::MemoryKeyStore keys_;
  policy::ProfileSet profiles_ = policy::ProfileSet::BuiltIn();
  FixedClock clock_;
  crypto::TestRng rng_{4242};
  audit::AuditLog audit_{clock_};
  std::unique_ptr<ca::Hierarchy> hierarchy_;
  std::unique_ptr<ca::CertificateAuthority> ca_;
  uint64_t next_person_ = 1;
};

Bytes OcspKeyId(const x509::Certificate& responder) {
  return responder.public_key().KeyIdentifier();
}

// --- the pre-signed path ----------------------------------------------------------------------

TEST_F(ResponderTest, SignsOnceThenServesFromMemoryWithoutTheStore) {
  auto certs = Issue(2);
  auto responder = MakeResponder();
  Request request = RequestFor(certs[0]);

  OcspAnswer first = responder->Respond(request.der());
  EXPECT_EQ(first.outcome, OcspAnswer::Outcome::kGood);
  EXPECT_FALSE(first.from_cache);
  EXPECT_TRUE(first.cacheable);
  EXPECT_EQ(first.produced_at, kNow);
  EXPECT_EQ(first.this_update, kNow);
  EXPECT_EQ(first.next_update, kNow + 4 * 3600);
  Judged j = Judge(first.der, request);
  EXPECT_EQ(j.response_status, OCSP_RESPONSE_STATUS_SUCCESSFUL);
  EXPECT_TRUE(j.verified);
  EXPECT_EQ(j.status, V_OCSP_CERTSTATUS_GOOD);
  EXPECT_EQ(j.this_update, kNow);
  EXPECT_EQ(j.next_update, kNow + 4 * 3600);
  EXPECT_EQ(j.produced_at, kNow);
  EXPECT_EQ(j.responder_key_id, OcspKeyId(hierarchy_->ocsp));  // RFC 6960 §4.2.2.3 byKey

  clock_.Advance(60);
  const int begins = counting_->begins.load();
  OcspAnswer second = responder->Respond(request.der());
  EXPECT_EQ(counting_->begins.load(), begins) << "the hit path touched the store";
  EXPECT_TRUE(second.from_cache);
  EXPECT_TRUE(second.cacheable);
  EXPECT_EQ(second.der, first.der);
  EXPECT_EQ(second.produced_at, kNow);
  auto stats = responder->stats();
  EXPECT_EQ(stats.cache_hits, 1u);
  EXPECT_EQ(stats.cache_misses, 1u);
  EXPECT_EQ(stats.signed_responses, 1u);
  EXPECT_EQ(stats.cached_entries, 1u);
  EXPECT_GT(stats.cached_bytes, 0u);

  // Written behind to the store, for other processes and restarts.
  EXPECT_FALSE(Stored(certs[0]).has_value());
  ASSERT_TRUE(responder->Flush().ok());
  auto stored = Stored(certs[0]);
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->der, first.der);
  EXPECT_EQ(stored->status, store::CertificateStatus::kValid);
  EXPECT_EQ(stored->next_update, kNow + 4 * 3600);
}

TEST_F(ResponderTest, AnotherResponderServesThePersistedResponse) {
  auto certs = Issue(1);
  Request request = RequestFor(certs[0]);
  Bytes first;
  {
    auto a = MakeResponder();
    first = a->Respond(request.der()).der;
  }  // the destructor flushes the write-behind queue
  auto b = MakeResponder();
  OcspAnswer answer = b->Respond(request.der());
  EXPECT_TRUE(answer.from_cache);
  EXPECT_EQ(answer.der, first);
  EXPECT_EQ(answer.outcome, OcspAnswer::Outcome::kGood);
  EXPECT_EQ(b->stats().signed_responses, 0u);
  // and from memory after that
  const int begins = counting_->begins.load();
  EXPECT_EQ(b->Respond(request.der()).der, first);
  EXPECT_EQ(counting_->begins.load(), begins);
}

TEST_F(ResponderTest, NeverServesACachedResponseWithinTheMargin) {
  auto certs = Issue(1);
  ResponderOptions options;  // validity 4 h, margin 1 h
  auto responder = MakeResponder(options);
  Request request = RequestFor(certs[0]);
  const Bytes first = responder->Respond(request.der()).der;

  clock_.Set(kNow + 3 * 3600 - 1);  // nextUpdate - now = margin + 1 s: still served
  OcspAnswer cached = responder->Respond(request.der());
  EXPECT_TRUE(cached.from_cache);
  EXPECT_EQ(cached.der, first);

  clock_.Set(kNow + 3 * 3600);  // nextUpdate - now = margin: re-signed synchronously
  OcspAnswer resigned = responder->Respond(request.der());
  EXPECT_FALSE(resigned.from_cache);
  EXPECT_EQ(resigned.this_update, kNow + 3 * 3600);
  Judged j = Judge(resigned.der, request);
  EXPECT_EQ(j.status, V_OCSP_CERTSTATUS_GOOD);
  EXPECT_EQ(j.this_update, kNow + 3 * 3600);
  EXPECT_EQ(j.next_update, kNow + 7 * 3600);

  // The persisted copy obeys the same rule: a new responder past the margin re-signs too.
  ASSERT_TRUE(responder->Flush().ok());
  clock_.Set(kNow + 6 * 3600);
  auto other = MakeResponder(options);
  OcspAnswer late = other->Respond(request.der());
  EXPECT_FALSE(late.from_cache);
  EXPECT_EQ(late.this_update, kNow + 6 * 3600);
}

TEST_F(ResponderTest, RefreshDueResignsAheadOfTheMargin) {
  auto certs = Issue(3);
  auto responder = MakeResponder();  // background window 2 h
  std::vector<Request> requests;
  for (const auto& cert : certs) {
    requests.push_back(RequestFor(cert));
    responder->Respond(requests.back().der());
  }
  clock_.Set(kNow + 1 * 3600);
  ASSERT_TRUE(responder->RefreshDue(100).ok());
  EXPECT_EQ(responder->stats().signed_responses, 3u);  // nothing due yet

  clock_.Set(kNow + 2 * 3600 + 1);  // nextUpdate - now < 2 h
  ASSERT_TRUE(responder->RefreshDue(2).ok());
  EXPECT_EQ(responder->stats().signed_responses, 5u);  // two of three, at most max_count
  ASSERT_TRUE(responder->RefreshDue(100).ok());
  EXPECT_EQ(responder->stats().signed_responses, 6u);
  for (size_t i = 0; i < certs.size(); ++i) {
    OcspAnswer answer = responder->Respond(requests[i].der());
    EXPECT_TRUE(answer.from_cache);
    EXPECT_EQ(answer.this_update, kNow + 2 * 3600 + 1);
    EXPECT_EQ(Judge(answer.der, requests[i]).status, V_OCSP_CERTSTATUS_GOOD);
    auto stored = Stored(certs[i]);  // RefreshDue committed the re-signed responses
    ASSERT_TRUE(stored.has_value());
    EXPECT_EQ(stored->this_update, kNow + 2 * 3600 + 1);
  }
}

TEST_F(ResponderTest, Sha256CertIdIsAnsweredWithItsOwnCertId) {
  auto certs = Issue(1);
  auto responder = MakeResponder();
  Request sha256 = RequestFor(certs[0], EVP_sha256());
  Request sha1 = RequestFor(certs[0]);
  OcspAnswer a = responder->Respond(sha256.der());
  Judged j = Judge(a.der, sha256);  // found by OpenSSL under the SHA-256 CertID
  EXPECT_EQ(j.status, V_OCSP_CERTSTATUS_GOOD);
  EXPECT_TRUE(responder->Respond(sha256.der()).from_cache);
  OcspAnswer b = responder->Respond(sha1.der());  // a different entry
  EXPECT_FALSE(b.from_cache);
  EXPECT_EQ(Judge(b.der, sha1).status, V_OCSP_CERTSTATUS_GOOD);
  EXPECT_EQ(responder->stats().cached_entries, 2u);
}

// --- nonces, several CertIDs, unknown and unauthorized ----------------------------------------

TEST_F(ResponderTest, NonceRequestsAreSignedFreshAndReuseTheCachedStatus) {
  auto certs = Issue(1);
  auto responder = MakeResponder();
  responder->Respond(RequestFor(certs[0]).der());  // caches the status
  Request with_nonce = RequestFor(certs[0], EVP_sha1(), /*nonce=*/true);
  const int begins = counting_->begins.load();
  OcspAnswer a = responder->Respond(with_nonce.der());
  EXPECT_EQ(counting_->begins.load(), begins) << "the cached status should have been reused";
  EXPECT_EQ(a.outcome, OcspAnswer::Outcome::kGood);
  EXPECT_FALSE(a.from_cache);
  EXPECT_FALSE(a.cacheable);
  Judged j = Judge(a.der, with_nonce);
  EXPECT_TRUE(j.nonce_matches);  // RFC 8954: echoed
  EXPECT_EQ(j.status, V_OCSP_CERTSTATUS_GOOD);
  OcspAnswer b = responder->Respond(with_nonce.der());
  EXPECT_NE(a.der, b.der);  // a new signature every time (ECDSA)
  EXPECT_EQ(responder->stats().signed_responses, 3u);

  // Without a cached status, the store answers.
  auto more = Issue(1);
  Request fresh = RequestFor(more[0], EVP_sha1(), true);
  OcspAnswer c = responder->Respond(fresh.der());
  EXPECT_TRUE(Judge(c.der, fresh).nonce_matches);
  EXPECT_EQ(responder->stats().cached_entries, 1u);  // nonce answers are never cached
}

TEST_F(ResponderTest, UnknownSerialIsASignedUnknownNotAnError) {
  Issue(1);
  auto responder = MakeResponder();
  Request request = Request::ForSerial(Issuing(), 0x0BADC0DE);
  OcspAnswer answer = responder->Respond(request.der());
  EXPECT_EQ(answer.outcome, OcspAnswer::Outcome::kUnknown);
  Judged j = Judge(answer.der, request);
  EXPECT_EQ(j.response_status, OCSP_RESPONSE_STATUS_SUCCESSFUL);
  EXPECT_TRUE(j.verified);
  EXPECT_EQ(j.status, V_OCSP_CERTSTATUS_UNKNOWN);
  responder->Respond(request.der());
  EXPECT_EQ(responder->stats().cached_entries, 0u);  // unknowns are not cached
  EXPECT_EQ(responder->stats().signed_responses, 2u);
  // A negative serial can belong to no certificate of ours.
  Request negative = Request::ForSerial(Issuing(), -7);
  EXPECT_EQ(Judge(responder->Respond(negative.der()).der, negative).status,
            V_OCSP_CERTSTATUS_UNKNOWN);
}

TEST_F(ResponderTest, UnknownIssuerAndTheOfflineRootAreUnauthorized) {
  auto responder = MakeResponder();
  // A CA this instance does not run.
  const auto& key = testlib::CachedKey("ec:P-256");
  crypto::SoftwareSigner signer(key, "x");
  x509::CertificateTemplate t{{0x01},           *x509::Name::ParseSlashed("/C=VN/CN=Other CA"),
                              key.public_key(), kNow - 10,
                              kNow + 1000,      {}};
  t.extensions.is_ca = true;
  auto other = x509::BuildCertificate(t, nullptr, signer, {});
  ASSERT_TRUE(other.ok());
  Request foreign = Request::ForSerial(other->der(), 5);
  OcspAnswer a = responder->Respond(foreign.der());
  EXPECT_EQ(a.outcome, OcspAnswer::Outcome::kUnauthorized);
  EXPECT_EQ(a.der, (Bytes{0x30, 0x03, 0x0A, 0x01, 0x06}));
  EXPECT_EQ(Judge(a.der, foreign).response_status, OCSP_RESPONSE_STATUS_UNAUTHORIZED);
  EXPECT_FALSE(a.cacheable);
  // The issuing CA's own certificate is the root's to answer for; the root has no responder.
  Request issuing(Issuing(), hierarchy_->root.der());
  EXPECT_EQ(responder->Respond(issuing.der()).outcome, OcspAnswer::Outcome::kUnauthorized);
  // A CertID hashed with MD5 names no issuer we can recognise.
  auto certs = Issue(1);
  Request md5 = RequestFor(certs[0], EVP_md5());
  EXPECT_EQ(responder->Respond(md5.der()).outcome, OcspAnswer::Outcome::kUnauthorized);
  // CertIDs of two issuers cannot share one response.
  Request mixed = RequestFor(certs[0]);
  mixed.Add(Issuing(), hierarchy_->root.der());
  EXPECT_EQ(responder->Respond(mixed.der()).outcome, OcspAnswer::Outcome::kUnauthorized);
}

TEST_F(ResponderTest, MalformedRequestsGetMalformedRequest) {
  auto responder = MakeResponder();
  for (const Bytes& input :
       {Bytes{}, Bytes{0x30, 0x00},
        Bytes(AsBytes("GET / HTTP/1.1").begin(), AsBytes("GET / HTTP/1.1").end()),
        Bytes(40000, 0x30)}) {
    OcspAnswer answer = responder->Respond(input);
    EXPECT_EQ(answer.outcome, OcspAnswer::Outcome::kMalformed);
    EXPECT_EQ(answer.der, (Bytes{0x30, 0x03, 0x0A, 0x01, 0x01}));
  }
}

TEST_F(ResponderTest, AnswersEveryCertIdOfOneRequest) {
  auto certs = Issue(2);
  ASSERT_TRUE(
      ca_->Revoke({"", certs[1].record.serial_hex, store::RevocationReason::kAffiliationChanged})
          .ok());
  auto responder = MakeResponder();
  Request request = RequestFor(certs[0]);
  request.Add(certs[1].certificate.der(), Issuing());
  request.Add(hierarchy_->ocsp.der(), Issuing(), EVP_sha256());
  Request unknown = Request::ForSerial(Issuing(), 99);
  OCSP_request_add0_id(request.get(), OCSP_CERTID_dup(unknown.id()));
  OcspAnswer answer = responder->Respond(request.der());
  EXPECT_EQ(answer.outcome, OcspAnswer::Outcome::kRevoked);  // the worst of the four
  EXPECT_TRUE(answer.cacheable);
  EXPECT_FALSE(answer.from_cache);
  EXPECT_EQ(Judge(answer.der, request, 0).status, V_OCSP_CERTSTATUS_GOOD);
  Judged revoked = Judge(answer.der, request, 1);
  EXPECT_EQ(revoked.status, V_OCSP_CERTSTATUS_REVOKED);
  EXPECT_EQ(revoked.reason, OCSP_REVOKED_STATUS_AFFILIATIONCHANGED);
  EXPECT_EQ(Judge(answer.der, request, 2).status, V_OCSP_CERTSTATUS_GOOD);
  EXPECT_EQ(Judge(answer.der, unknown, 0).status, V_OCSP_CERTSTATUS_UNKNOWN);
  EXPECT_EQ(responder->stats().cached_entries, 0u);

  // More than OcspRequest::kMaxCertIds is refused as malformed.
  for (size_t i = 0; i < x509::OcspRequest::kMaxCertIds; ++i)
    request.Add(certs[0].certificate.der(), Issuing());
  EXPECT_EQ(responder->Respond(request.der()).outcome, OcspAnswer::Outcome::kMalformed);
}

// --- revocation -------------------------------------------------------------------------------

TEST_F(ResponderTest, RevocationByAnotherProcessShowsAfterOnePoll) {
  auto certs = Issue(2);
  auto responder = MakeResponder();
  Request request = RequestFor(certs[0]);
  ASSERT_EQ(responder->Respond(request.der()).outcome, OcspAnswer::Outcome::kGood);
  ASSERT_TRUE(responder->Flush().ok());
  ASSERT_TRUE(Stored(certs[0]).has_value());
  ASSERT_TRUE(responder->Poll().ok());

  // Another process: its own Database on the same file, its own CA service.
  auto other_db = store::OpenSqliteDatabase(dir_.File("kyso.db"), Options());
  ASSERT_TRUE(other_db.ok());
  ca::CertificateAuthority other_ca(Deps(other_db->get()), "other-process");
  clock_.Advance(120);
  ca::RevokeRequest revoke{"", certs[0].record.serial_hex, store::RevocationReason::kKeyCompromise,
                           kNow - 3600};
  ASSERT_TRUE(other_ca.Revoke(revoke).ok());
  // The revoking transaction removed the persisted "good".
  EXPECT_FALSE(Stored(certs[0]).has_value());

  ASSERT_TRUE(responder->Poll().ok());
  OcspAnswer answer = responder->Respond(request.der());
  EXPECT_EQ(answer.outcome, OcspAnswer::Outcome::kRevoked);
  EXPECT_FALSE(answer.from_cache);
  Judged j = Judge(answer.der, request);
  EXPECT_TRUE(j.verified);
  EXPECT_EQ(j.status, V_OCSP_CERTSTATUS_REVOKED);
  EXPECT_EQ(j.reason, OCSP_REVOKED_STATUS_KEYCOMPROMISE);
  EXPECT_EQ(j.revoked_at, kNow + 120);
  // The revoked answer is cached and persisted like a good one.
  EXPECT_TRUE(responder->Respond(request.der()).from_cache);
  ASSERT_TRUE(responder->Flush().ok());
  auto stored = Stored(certs[0]);
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->status, store::CertificateStatus::kRevoked);
  // The other certificate is untouched and still served from memory.
  ASSERT_EQ(responder->Respond(RequestFor(certs[1]).der()).outcome, OcspAnswer::Outcome::kGood);
  EXPECT_TRUE(responder->Respond(RequestFor(certs[1]).der()).from_cache);
}

TEST_F(ResponderTest, InvalidateDropsEveryCertIdHashAtOnce) {
  auto certs = Issue(1);
  auto responder = MakeResponder();
  Request sha1 = RequestFor(certs[0]);
  Request sha512 = RequestFor(certs[0], EVP_sha512());
  responder->Respond(sha1.der());
  responder->Respond(sha512.der());
  ASSERT_EQ(responder->stats().cached_entries, 2u);
  ASSERT_TRUE(
      ca_->Revoke({"", certs[0].record.serial_hex, store::RevocationReason::kSuperseded}).ok());
  responder->Invalidate(certs[0].record.issuer_ca_id, certs[0].record.serial_hex);  // no Poll
  EXPECT_EQ(responder->stats().cached_entries, 0u);
  EXPECT_EQ(Judge(responder->Respond(sha1.der()).der, sha1).status, V_OCSP_CERTSTATUS_REVOKED);
  EXPECT_EQ(Judge(responder->Respond(sha512.der()).der, sha512).reason,
            OCSP_REVOKED_STATUS_SUPERSEDED);
}

TEST_F(ResponderTest, AStaleGoodWrittenBehindIsRefusedByTheStore) {
  auto certs = Issue(1);
  auto responder = MakeResponder();
  Request request = RequestFor(certs[0]);
  responder->Respond(request.der());  // "good" queued for the store
  ASSERT_TRUE(
      ca_->Revoke({"", certs[0].record.serial_hex, store::RevocationReason::kSuperseded}).ok());
  ASSERT_TRUE(responder->Flush().ok());  // the queued "good" arrives after the revocation
  EXPECT_FALSE(Stored(certs[0]).has_value());
}

// --- key rollover -----------------------------------------------------------------------------

TEST_F(ResponderTest, RolloverSwapsTheResponderAfterPollWithoutDroppingRequests) {
  auto certs = Issue(2);
  auto responder = MakeResponder();
  Request request = RequestFor(certs[0]);
  const Bytes old_response = responder->Respond(request.der()).der;

  clock_.Advance(60);
  auto rolled = RolloverResponder(*ca_, *db_, keys_, clock_);
  ASSERT_TRUE(rolled.ok()) << rolled.status().ToString();
  EXPECT_EQ(rolled->previous.der(), hierarchy_->ocsp.der());
  EXPECT_NE(rolled->certificate.der(), hierarchy_->ocsp.der());
  EXPECT_EQ(rolled->certificate.subject(), hierarchy_->ocsp.subject());
  auto extensions = rolled->certificate.extensions();
  EXPECT_TRUE(extensions.ocsp_no_check);
  EXPECT_EQ(extensions.extended_key_usage, std::vector<std::string>{"OCSPSigning"});
  EXPECT_EQ(*rolled->certificate.public_key().Spec(), *hierarchy_->ocsp.public_key().Spec());
  {
    // One transaction: both settings, the certificate row and the audit entries.
    auto tx = db_->Begin(store::TransactionMode::kRead);
    ASSERT_TRUE(tx.ok());
    EXPECT_EQ(*(*tx)->GetSetting(ca::kOcspKeySetting), rolled->key_ref);
    EXPECT_EQ(*(*tx)->GetSetting(ca::kOcspCertificateSetting), rolled->certificate.ToPem());
    auto last = (*tx)->LastAuditEntry();
    ASSERT_TRUE(last.ok() && last->has_value());
    EXPECT_EQ((*last)->action, "service.rollover");
    auto record =
        (*tx)->GetCertificate(certs[0].record.issuer_ca_id, rolled->certificate.serial_hex());
    ASSERT_TRUE(record.ok());
    EXPECT_EQ(record->profile, "ocsp-signer");
    EXPECT_EQ(record->issuance_kind, "system");
  }

  // Before Poll the old key signs; the old cached response is still served (and valid).
  EXPECT_EQ(responder->Respond(request.der()).der, old_response);
  ASSERT_TRUE(responder->Poll().ok());
  OcspAnswer still = responder->Respond(request.der());
  EXPECT_TRUE(still.from_cache);
  EXPECT_EQ(still.der, old_response);
  EXPECT_TRUE(Judge(still.der, request).verified);
  // New signatures come from the new key.
  Request fresh = RequestFor(certs[1], EVP_sha1(), true);
  Judged j = Judge(responder->Respond(fresh.der()).der, fresh);
  EXPECT_TRUE(j.verified);
  EXPECT_EQ(j.responder_key_id, OcspKeyId(rolled->certificate));
  // RefreshDue re-signs what the previous key signed first, whatever its age.
  ASSERT_TRUE(responder->RefreshDue(10).ok());
  OcspAnswer resigned = responder->Respond(request.der());
  EXPECT_TRUE(resigned.from_cache);
  EXPECT_NE(resigned.der, old_response);
  EXPECT_EQ(Judge(resigned.der, request).responder_key_id, OcspKeyId(rolled->certificate));
  // A responder started now uses the new key from the start.
  auto restarted = MakeResponder();
  Request other = RequestFor(certs[1]);
  EXPECT_EQ(Judge(restarted->Respond(other.der()).der, other).responder_key_id,
            OcspKeyId(rolled->certificate));
}

TEST_F(ResponderTest, ABrokenRolloverLeavesTheCurrentResponderServing) {
  auto certs = Issue(1);
  auto responder = MakeResponder();
  {
    auto tx = db_->Begin(store::TransactionMode::kWrite);
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE((*tx)->PutSetting(ca::kOcspKeySetting, "mem:no-such-key").ok());
    ASSERT_TRUE((*tx)->Commit().ok());
  }
  Status polled = responder->Poll();
  EXPECT_EQ(polled.id(), "keystore.missing");
  EXPECT_TRUE(responder->Poll().ok());  // reported once, not retried every few milliseconds
  Request request = RequestFor(certs[0]);
  Judged j = Judge(responder->Respond(request.der()).der, request);
  EXPECT_EQ(j.status, V_OCSP_CERTSTATUS_GOOD);
  EXPECT_EQ(j.responder_key_id, OcspKeyId(hierarchy_->ocsp));
}

// --- failures and configuration ---------------------------------------------------------------

TEST_F(ResponderTest, BusyStoreIsTryLaterAndCachedAnswersStillFlow) {
  auto certs = Issue(2);
  auto responder = MakeResponder();
  Request cached = RequestFor(certs[0]);
  responder->Respond(cached.der());
  counting_->busy = true;
  OcspAnswer answer = responder->Respond(RequestFor(certs[1]).der());
  EXPECT_EQ(answer.outcome, OcspAnswer::Outcome::kTryLater);
  EXPECT_EQ(answer.der, (Bytes{0x30, 0x03, 0x0A, 0x01, 0x03}));
  EXPECT_TRUE(responder->Respond(cached.der()).from_cache);
  EXPECT_EQ(responder->Poll().id(), "store.busy");
  counting_->busy = false;
  EXPECT_EQ(responder->Respond(RequestFor(certs[1]).der()).outcome, OcspAnswer::Outcome::kGood);
}

TEST_F(ResponderTest, RefusesBadOptionsAndMissingResponder) {
  ResponderOptions bad;
  bad.refresh_margin_seconds = bad.validity_seconds;
  EXPECT_EQ(Responder::Create(counting_.get(), &keys_, &clock_, bad).status().id(),
            "ocsp.bad_options");
  bad = {};
  bad.background_refresh_seconds = 10;
  EXPECT_EQ(Responder::Create(counting_.get(), &keys_, &clock_, bad).status().id(),
            "ocsp.bad_options");

  auto empty = store::OpenSqliteDatabase(dir_.File("empty.db"), Options());
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(Responder::Create(empty->get(), &keys_, &clock_, {}).status().id(),
            "ocsp.no_responder");
  crypto::MemoryKeyStore no_keys;
  EXPECT_EQ(Responder::Create(counting_.get(), &no_keys, &clock_, {}).status().id(),
            "keystore.missing");
  FixedClock late(hierarchy_->ocsp.not_after() + 1);
  EXPECT_EQ(Responder::Create(counting_.get(), &keys_, &late, {}).status().id(),
            "ocsp.responder_expired");
}

TEST_F(ResponderTest, NextUpdateNeverPassesTheResponderCertificate) {
  auto certs = Issue(1);
  clock_.Set(hierarchy_->ocsp.not_after() - 1800);  // the responder expires in 30 minutes
  ResponderOptions options;
  options.refresh_margin_seconds = 600;
  auto responder = MakeResponder(options);
  Request request = RequestFor(certs[0]);
  OcspAnswer answer = responder->Respond(request.der());
  EXPECT_EQ(answer.next_update, hierarchy_->ocsp.not_after());
}

// --- the cache bound, concurrency -------------------------------------------------------------

TEST_F(ResponderTest, CacheStaysWithinItsByteBound) {
  auto certs = Issue(300);
  ResponderOptions options;
  options.cache_max_bytes = 64 * 1024;
  auto responder = MakeResponder(options);
  for (const auto& cert : certs) {
    ASSERT_EQ(responder->Respond(RequestFor(cert).der()).outcome, OcspAnswer::Outcome::kGood);
  }
  auto stats = responder->stats();
  EXPECT_LE(stats.cached_bytes, options.cache_max_bytes);
  EXPECT_GT(stats.cached_entries, 50u);
  EXPECT_LT(stats.cached_entries, 300u);
  std::printf("cache bound 64 KiB: %llu entries, %llu bytes (%.0f bytes/entry)\n",
              static_cast<unsigned long long>(stats.cached_entries),
              static_cast<unsigned long long>(stats.cached_bytes),
              static_cast<double>(stats.cached_bytes) / static_cast<double>(stats.cached_entries));
}

TEST_F(ResponderTest, ConcurrentRequestsRevocationsAndPolls) {
  auto certs = Issue(40);
  auto responder = MakeResponder();
  std::vector<Bytes> requests;
  std::vector<std::unique_ptr<Request>> parsed;
  for (const auto& cert : certs) {
    parsed.push_back(std::make_unique<Request>(RequestFor(cert)));
    requests.push_back(parsed.back()->der());
  }
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  std::atomic<uint64_t> answered{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&, t] {
      for (size_t i = t; !stop.load(); i = (i + 7) % requests.size()) {
        OcspAnswer answer = responder->Respond(requests[i]);
        if (answer.outcome != OcspAnswer::Outcome::kGood &&
            answer.outcome != OcspAnswer::Outcome::kRevoked) {
          failures.fetch_add(1);
        }
        answered.fetch_add(1);
      }
    });
  }
  threads.emplace_back([&] {
    while (!stop.load()) {
      if (!responder->Poll().ok()) failures.fetch_add(1);
      (void)responder->RefreshDue(5);
    }
  });
  for (size_t i = 0; i < certs.size(); i += 4) {
    ASSERT_TRUE(
        ca_->Revoke({"", certs[i].record.serial_hex, store::RevocationReason::kKeyCompromise})
            .ok());
  }
  while (answered.load() < 2000) std::this_thread::yield();
  stop = true;
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  // After a final poll every revoked certificate answers revoked.
  ASSERT_TRUE(responder->Poll().ok());
  for (size_t i = 0; i < certs.size(); ++i) {
    Judged j = Judge(responder->Respond(requests[i]).der, *parsed[i]);
    EXPECT_EQ(j.status, i % 4 == 0 ? V_OCSP_CERTSTATUS_REVOKED : V_OCSP_CERTSTATUS_GOOD) << i;
  }
}

// --- presigning and export --------------------------------------------------------------------

std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST_F(ResponderTest, PresignStoresEveryUnexpiredCertificateAndExports) {
  auto certs = Issue(150);
  ASSERT_TRUE(
      ca_->Revoke({"", certs[3].record.serial_hex, store::RevocationReason::kKeyCompromise}).ok());
  PresignOptions presign;
  presign.export_dir = dir_.File("export");
  presign.threads = 2;
  presign.batch_size = 64;  // several pages
  auto report = Presign(*db_, keys_, clock_, ResponderOptions{}, presign);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  // 150 issued + the three service certificates (OCSP, TSA, audit) of the issuing CA.
  EXPECT_EQ(report->cas, 1u);
  EXPECT_EQ(report->certificates, 153u);
  EXPECT_EQ(report->stored, 153u);
  EXPECT_EQ(report->revoked, 1u);
  EXPECT_EQ(report->good, 152u);
  EXPECT_EQ(report->skipped, 0u);
  EXPECT_EQ(report->files, 153u);
  EXPECT_EQ(report->next_update, kNow + 4 * 3600);

  // A responder serves them without signing.
  auto responder = MakeResponder();
  for (size_t i : {0, 3, 149}) {
    Request request = RequestFor(certs[i]);
    OcspAnswer answer = responder->Respond(request.der());
    EXPECT_TRUE(answer.from_cache);
    EXPECT_EQ(Judge(answer.der, request).status,
              i == 3 ? V_OCSP_CERTSTATUS_REVOKED : V_OCSP_CERTSTATUS_GOOD);
    // The export file is named by the base64url of the canonical request (the one OpenSSL
    // builds here) and holds the same response.
    const std::string name = Base64UrlEncode(request.der());
    EXPECT_EQ(ReadText(presign.export_dir + "/" + name),
              std::string(answer.der.begin(), answer.der.end()));
  }
  EXPECT_EQ(responder->stats().signed_responses, 0u);
  const std::string index = ReadText(presign.export_dir + "/index.tsv");
  EXPECT_EQ(index.rfind("serial\tstatus\tnext_update\tfile\tca\n", 0), 0u);
  EXPECT_NE(
      index.find(certs[3].record.serial_hex + "\trevoked\t" + FormatUtc(kNow + 4 * 3600) + "\t"),
      std::string::npos);

  // Warming a fresh responder loads them into memory.
  auto warm = MakeResponder();
  auto loaded = warm->WarmFromStore();
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(*loaded, 153u);
  const int begins = counting_->begins.load();
  EXPECT_TRUE(warm->Respond(RequestFor(certs[7]).der()).from_cache);
  EXPECT_EQ(counting_->begins.load(), begins);
}

TEST_F(ResponderTest, PresignSkipsExpiredCertificates) {
  auto certs = Issue(3, 30);
  clock_.Set(kNow + 31 * kSecondsPerDay);  // the 30-day certificates have expired
  auto report = Presign(*db_, keys_, clock_, ResponderOptions{}, PresignOptions{});
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->certificates, 3u);  // only the service certificates
  EXPECT_EQ(report->files, 0u);
}

// The exported files against the real `openssl ocsp` command, at the wall clock's time (the
// command checks thisUpdate/nextUpdate against it).
class ResponderCliTest : public ResponderTest {
 protected:
  ResponderCliTest() : ResponderTest(SystemClock().Now()) {}
};

std::string RunCommand(const std::string& command) {
  std::string output;
  const int rc = testlib::Shell(command, &output);
  return output + "\nexit " + std::to_string(rc);
}

TEST_F(ResponderCliTest, OpensslOcspCommandAcceptsExportedResponses) {
  if (std::system("openssl version > /dev/null 2>&1") != 0) GTEST_SKIP() << "no openssl command";
  auto certs = Issue(2);
  ASSERT_TRUE(
      ca_->Revoke({"", certs[1].record.serial_hex, store::RevocationReason::kSuperseded}).ok());
  PresignOptions presign;
  presign.export_dir = dir_.File("export");
  ASSERT_TRUE(Presign(*db_, keys_, clock_, ResponderOptions{}, presign).ok());
  const std::string issuing = dir_.File("issuing.pem"), root = dir_.File("root.pem");
  std::ofstream(issuing) << hierarchy_->issuing.ToPem();
  std::ofstream(root) << hierarchy_->root.ToPem();
  for (size_t i = 0; i < 2; ++i) {
    // The request exactly as the command sends it names the file.
    const std::string req = dir_.File("req" + std::to_string(i) + ".der");
    const std::string serial = "0x" + certs[i].record.serial_hex;
    std::string out = RunCommand("openssl ocsp -issuer " + issuing + " -serial " + serial +
                                 " -no_nonce -reqout " + req);
    ASSERT_NE(out.find("exit 0"), std::string::npos) << out;
    const std::string file = presign.export_dir + "/" + Base64UrlEncode(AsBytes(ReadText(req)));
    ASSERT_TRUE(std::filesystem::exists(file)) << file;
    out = RunCommand("openssl ocsp -respin " + file + " -issuer " + issuing + " -serial " + serial +
                     " -CAfile " + root + " -verify_other " + issuing + " -no_nonce");
    EXPECT_NE(out.find("Response verify OK"), std::string::npos) << out;
    EXPECT_NE(out.find(i == 0 ? ": good" : ": revoked"), std::string::npos) << out;
    EXPECT_EQ(out.find("WARNING"), std::string::npos) << out;
    if (i == 1) EXPECT_NE(out.find("Reason: superseded"), std::string::npos) << out;
  }
}

// --- the cache itself -------------------------------------------------------------------------

internal::CacheEntryPtr TestEntry(int64_t ca, uint8_t serial, size_t body_size = 200) {
  auto key = internal::MakeCacheKey(ca, x509::OcspHash::kSha1, HexEncode(Bytes{serial}));
  auto entry = internal::NewCacheEntry(*key, Bytes(body_size, serial));
  entry->next_update = kNow + serial;
  return entry;
}

bool Has(const internal::ResponseCache& cache, int64_t ca, uint8_t serial) {
  auto key = internal::MakeCacheKey(ca, x509::OcspHash::kSha1, HexEncode(Bytes{serial}));
  return cache.Use(*key, [](const internal::CacheEntry&) { return true; });
}

TEST(ResponseCacheTest, InsertRacingAnEraseIsRefused) {
  internal::ResponseCache cache(1 << 20);
  const uint64_t before_read = cache.epoch();  // a miss reads the epoch, then the status...
  cache.Erase(*internal::MakeCacheKey(1, x509::OcspHash::kSha1, "07"));  // ...a revocation...
  EXPECT_FALSE(cache.Insert(TestEntry(1, 7), before_read));  // ...its stale answer is refused
  EXPECT_FALSE(Has(cache, 1, 7));
  EXPECT_TRUE(cache.Insert(TestEntry(1, 7), cache.epoch()));
  EXPECT_TRUE(Has(cache, 1, 7));
}

TEST(ResponseCacheTest, ReplaceOnlyTheVersionThatWasRead) {
  internal::ResponseCache cache(1 << 20);
  ASSERT_TRUE(cache.Insert(TestEntry(1, 7), cache.epoch()));
  auto snapshot = cache.Collect([](const internal::CacheEntry&) { return true; }, 10);
  ASSERT_EQ(snapshot.size(), 1u);
  EXPECT_TRUE(cache.Replace(TestEntry(1, 7), snapshot[0].version));
  EXPECT_FALSE(cache.Replace(TestEntry(1, 7), snapshot[0].version));  // replaced meanwhile
  cache.Erase(snapshot[0].key);
  EXPECT_FALSE(cache.Replace(TestEntry(1, 7), snapshot[0].version + 1));  // erased meanwhile
  EXPECT_FALSE(Has(cache, 1, 7));
  EXPECT_EQ(cache.entries(), 0u);
  EXPECT_EQ(cache.bytes(), 0u);
}

TEST(ResponseCacheTest, ClockEvictionKeepsRecentlyUsedEntriesAndTheBound) {
  const size_t charge = TestEntry(1, 1)->charge();
  internal::ResponseCache cache(64 * charge * 4);  // about four entries per shard
  for (int i = 0; i < 250; ++i) {
    ASSERT_TRUE(cache.Insert(TestEntry(1, static_cast<uint8_t>(i)), cache.epoch()));
    if (i < 10) {
      for (int j = 0; j <= i; ++j) Has(cache, 1, static_cast<uint8_t>(j));  // keep 0..9 hot
    }
  }
  EXPECT_LE(cache.bytes(), cache.max_bytes());
  EXPECT_LT(cache.entries(), 250u);
  EXPECT_EQ(cache.bytes(), cache.entries() * charge);
}

TEST(ResponseCacheTest, KeysRefuseSerialsNoCertificateHas) {
  EXPECT_FALSE(internal::MakeCacheKey(1, x509::OcspHash::kSha1, "").has_value());
  EXPECT_FALSE(internal::MakeCacheKey(1, x509::OcspHash::kSha1, "-05").has_value());
  EXPECT_FALSE(internal::MakeCacheKey(1, x509::OcspHash::kSha1, "ABC").has_value());
  EXPECT_FALSE(internal::MakeCacheKey(1, x509::OcspHash::kSha1, std::string(42, 'A')).has_value());
  EXPECT_TRUE(internal::MakeCacheKey(1, x509::OcspHash::kSha1, std::string(40, 'A')).has_value());
  EXPECT_FALSE(internal::MakeCacheKey(1, x509::OcspHash::kSha1, "0G").has_value());
}

}  // namespace
}  // namespace kyso::ocsp
