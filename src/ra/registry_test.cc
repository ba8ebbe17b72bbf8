// The registration workflow over a real CA and SQLite store: the whole path of a request, the
// role and scope matrix, idempotency, optimistic concurrency, people moving, CSV import,
// deadlines and expiry reminders.
#include "ra/registry.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>

#include "ca/hierarchy.h"
#include "crypto/digest.h"
#include "ra/state_machine.h"
#include "store/sqlite/sqlite_store.h"
#include "testlib/csr_factory.h"
#include "testlib/temp_dir.h"
#include "testlib/test_hierarchy.h"

namespace kyso::ra {
namespace {

using json = nlohmann::json;
using testlib::CachedKey;
using testlib::CsrOptions;
using testlib::MakeCsrPem;

constexpr UnixSeconds kNow = 1795165200;  // Friday 2026-11-20 16:00 +07:00

std::string Csr(const std::string& cn, const std::string& uid, const std::string& o = "Sở Y tế") {
  CsrOptions options;
  options.subject = {{"C", "VN"}, {"L", "Đà Nẵng"}, {"O", o}, {"CN", cn}, {"UID", uid}};
  return MakeCsrPem(CachedKey("ec:P-256"), options);
}

// Accepts any signature except "bad", as by `signer`; remembers the document it was shown.
class FakeVerifier : public SubmissionVerifier {
 public:
  Result<Signer> Verify(ByteSpan cms, ByteSpan document) override {
    last_document.assign(document.begin(), document.end());
    if (AsString(cms) == "bad") return InvalidArgument("ra.bad_signature", "HASH_FAILURE");
    return signer;
  }
  Signer signer;
  std::string last_document;
};

class RecordingSender : public NotificationSender {
 public:
  Status Send(const store::OutboxMessage& m) override {
    if (fail) return Unavailable("smtp.down", "relay unreachable");
    sent.push_back(m);
    return Status::Ok();
  }
  bool fail = false;
  std::vector<store::OutboxMessage> sent;
};

class RegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = std::move(store::OpenSqliteDatabase(dir_.File("kyso.db"), {}).value());
    auto h = ca::InitializeHierarchy(testlib::TestHierarchySpec(), CaDeps(), "test");
    ASSERT_TRUE(h.ok()) << h.status().ToString();
    authority_ = std::make_unique<ca::CertificateAuthority>(CaDeps(), "test");
    Registry::Dependencies deps;
    deps.db = db_.get();
    deps.authority = authority_.get();
    deps.audit = &audit_;
    deps.clock = &clock_;
    deps.verifier = &verifier_;
    deps.on_revoked = [this](const store::CertificateRecord& c) {
      revoked_.push_back(c.serial_hex);
    };
    registry_ = std::make_unique<Registry>(deps, RegistryOptions{});

    admin_ = Account("admin", "admin", std::nullopt);
    // Tỉnh A ─ Sở Y tế A ─ Phòng Nghiệp vụ; Văn phòng đại diện (the delegate) under Tỉnh A;
    // Tỉnh B ─ Sở Y tế B.
    province_a_ = Org("UBND tỉnh A", std::nullopt, "0100000001");
    health_a_ = Org("Sở Y tế A", province_a_, "0100000002");
    unit_a_ = Org("Phòng Nghiệp vụ", health_a_, "0100000003");
    office_a_ = Org("Văn phòng đại diện tỉnh A", province_a_, "0100000004");
    province_b_ = Org("UBND tỉnh B", std::nullopt, "0200000001");
    health_b_ = Org("Sở Y tế B", province_b_, "0200000002");

    operator_ = Account("operator", "ca_operator", std::nullopt);
    auditor_ = Account("auditor", "auditor", std::nullopt);
    officer_a_ = Account("officer.a", "agency_officer", health_a_);
    officer_b_ = Account("officer.b", "agency_officer", health_b_);
    person_ = Person("Nguyễn Văn An", "001190012345", unit_a_);
    subscriber_ = Account("an.nguyen", "subscriber", unit_a_, person_);

    // The managing agency's own certificate (its electronic seal) signs submissions.
    ca::IssueRequest seal;
    const std::string seal_csr = Csr("Sở Y tế A", "MST:0100000002", "UBND tỉnh A");
    seal.csr = Bytes(seal_csr.begin(), seal_csr.end());
    seal.profile = "organization";
    seal.organization_id = health_a_;
    auto issued = authority_->Issue(seal);
    ASSERT_TRUE(issued.ok()) << issued.status().ToString();
    agency_seal_ = issued->record;
    verifier_.signer = {agency_seal_.subject, agency_seal_.serial_hex};
  }

  ca::CertificateAuthority::Dependencies CaDeps() {
    return {db_.get(), &keys_, &profiles_, &clock_, &rng_, &audit_, ca::PublicationSettings{}};
  }

  Principal As(int64_t account) {
    auto p = registry_->PrincipalFor(account, "test");
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    return *p;
  }

  int64_t Account(const std::string& username, const std::string& role, std::optional<int64_t> org,
                  std::optional<int64_t> person = std::nullopt) {
    store::AccountRecord a;
    a.username = username;
    a.role = role;
    a.organization_id = org;
    a.person_id = person;
    if (role == "admin") {  // the first administrator is made directly (kyso account add)
      auto tx = db_->Begin(store::TransactionMode::kWrite).value();
      const int64_t id = tx->InsertAccount(a).value();
      EXPECT_TRUE(tx->Commit().ok());
      return id;
    }
    auto created = registry_->CreateAccount(As(admin_), a);
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    return created.ok() ? created->id : 0;
  }

  int64_t Org(const std::string& name, std::optional<int64_t> parent, const std::string& mst) {
    store::OrganizationRecord o;
    o.name = name;
    o.parent_id = parent;
    o.tax_code = mst;
    o.email = "vanthu@" + mst + ".gov.vn";
    o.managing_agency = true;
    auto created = registry_->CreateOrganization(As(admin_), o);
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    return created.ok() ? created->record.id : 0;
  }

  int64_t Person(const std::string& name, const std::string& cccd, int64_t org) {
    store::PersonRecord p;
    p.full_name = name;
    p.personal_id = cccd;
    p.position = "Chuyên viên";
    p.organization_id = org;
    p.email = "an@soyte.gov.vn";
    p.mobile = "0912345678";
    auto created = registry_->CreatePerson(As(admin_), p);
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    return created.ok() ? created->record.id : 0;
  }

  NewRequest NewIndividual() {
    NewRequest r;
    r.kind = "new_individual";
    r.organization_id = unit_a_;
    r.person_id = person_;
    r.form = {{"full_name", "Nguyễn Văn An"},
              {"personal_id", "001190012345"},
              {"position", "Chuyên viên"},
              {"unit", "Phòng Nghiệp vụ"},
              {"email", "an@soyte.gov.vn"},
              {"mobile", "0912345678"},
              {"province", "Đà Nẵng"},
              {"profile", "individual"},
              {"csr", Csr("Nguyễn Văn An", "CCCD:001190012345")}};
    return r;
  }

  // Drives a created request through submit (signed), review, approve and execute.
  store::RequestRecord Through(const store::RequestRecord& created, int64_t submitter,
                               int64_t handler) {
    auto r = registry_->Submit(As(submitter), created.id, AsBytes("cms"), created.version);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    for (const char* action : {"review", "approve", "execute"}) {
      r = registry_->Transition(As(handler), r->id, action, "", r->version);
      EXPECT_TRUE(r.ok()) << action << ": " << r.status().ToString();
    }
    return *r;
  }

  store::RequestRecord Create(int64_t account, const NewRequest& req) {
    auto created = registry_->CreateRequest(As(account), req);
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    return created->record;
  }

  int64_t IssuedCertificateFor(int64_t account) {
    const store::RequestRecord done =
        Through(Create(account, NewIndividual()), officer_a_, operator_);
    EXPECT_EQ(done.state, "executed");
    return done.result_certificate_id.value_or(0);
  }

  testlib::TempDir dir_;
  std::unique_ptr<store::Database> db_;
  crypto::MemoryKeyStore keys_;
  policy::ProfileSet profiles_ = policy::ProfileSet::BuiltIn();
  FixedClock clock_{kNow};
  crypto::TestRng rng_{777};
  audit::AuditLog audit_{clock_};
  std::unique_ptr<ca::CertificateAuthority> authority_;
  FakeVerifier verifier_;
  std::vector<std::string> revoked_;
  std::unique_ptr<Registry> registry_;
  int64_t admin_ = 0, operator_ = 0, auditor_ = 0, officer_a_ = 0, officer_b_ = 0, subscriber_ = 0;
  int64_t province_a_ = 0, health_a_ = 0, unit_a_ = 0, office_a_ = 0, province_b_ = 0,
          health_b_ = 0;
  int64_t person_ = 0;
  store::CertificateRecord agency_seal_;
};

TEST_F(RegistryTest, NewCertificateFromDraftToIssued) {
  auto draft = Create(officer_a_, NewIndividual());
  EXPECT_EQ(draft.state, "draft");
  EXPECT_EQ(draft.organization_path.substr(0, 3), "/" + std::to_string(province_a_) + "/");

  auto doc = registry_->SigningDocument(As(officer_a_), draft.id);
  ASSERT_TRUE(doc.ok());
  EXPECT_EQ(json::parse(*doc)["kind"], "new_individual");
  EXPECT_EQ(json::parse(*doc).dump(), *doc);  // canonical: re-serializing changes nothing

  auto submitted = registry_->Submit(As(officer_a_), draft.id, AsBytes("cms"), draft.version);
  ASSERT_TRUE(submitted.ok()) << submitted.status().ToString();
  EXPECT_EQ(verifier_.last_document, *doc);  // the signature was checked over that document
  EXPECT_EQ(submitted->state, "submitted");
  EXPECT_EQ(submitted->assignee, "ca");
  EXPECT_EQ(submitted->signer, agency_seal_.subject);
  EXPECT_EQ(AsString(submitted->signed_document), *doc);
  // Friday afternoon + 3 working days = end of Wednesday, Vietnam time.
  EXPECT_EQ(WorkingCalendar::FormatDay(WorkingCalendar::DayOf(*submitted->due_at)), "2026-11-25");

  auto moved = *submitted;
  for (const char* action : {"review", "approve", "execute"}) {
    auto next = registry_->Transition(As(operator_), draft.id, action, "", moved.version);
    ASSERT_TRUE(next.ok()) << action << ": " << next.status().ToString();
    moved = *next;
  }
  auto r = registry_->GetRequest(As(operator_), draft.id);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->state, "executed");
  ASSERT_TRUE(r->result_certificate_id.has_value());
  auto cert = registry_->GetCertificate(As(subscriber_), *r->result_certificate_id);
  ASSERT_TRUE(cert.ok()) << cert.status().ToString();
  EXPECT_EQ(cert->owner_id, person_);
  EXPECT_EQ(cert->organization_id, unit_a_);
  EXPECT_EQ(cert->common_name, "Nguyễn Văn An");

  auto history = registry_->History(As(officer_a_), draft.id);
  ASSERT_TRUE(history.ok());
  std::vector<std::string> states;
  for (const auto& e : *history) states.push_back(e.to_state);
  EXPECT_EQ(states, (std::vector<std::string>{"draft", "submitted", "under_review", "approved",
                                              "executed"}));
  EXPECT_EQ((*history)[1].actor, "account:" + std::to_string(officer_a_) + ":officer.a");
}

TEST_F(RegistryTest, DelegatedRenewalAndRevocationReachOcspHook) {
  const int64_t cert_id = IssuedCertificateFor(officer_a_);
  const int64_t delegate = Account("office.a", "delegate_officer", office_a_);
  auto delegation = registry_->CreateDelegation(As(operator_), office_a_, province_a_, {"renewal"});
  ASSERT_TRUE(delegation.ok()) << delegation.status().ToString();

  NewRequest renewal;
  renewal.kind = "renewal";
  renewal.organization_id = unit_a_;
  renewal.person_id = person_;
  renewal.certificate_id = cert_id;
  renewal.form = {{"reason", "Hết hạn"}, {"days", 365}};
  auto created = Create(officer_a_, renewal);
  auto submitted = registry_->Submit(As(officer_a_), created.id, AsBytes("cms"), created.version);
  ASSERT_TRUE(submitted.ok()) << submitted.status().ToString();
  EXPECT_EQ(submitted->assignee, "delegation:" + std::to_string(delegation->id));
  // The delegate sees it and completes it.
  RequestQuery mine;
  mine.assigned_to_me = true;
  auto listed = registry_->ListRequests(As(delegate), mine);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  auto r = *submitted;
  for (const char* action : {"review", "approve", "execute"}) {
    auto next = registry_->Transition(As(delegate), r.id, action, "", r.version);
    ASSERT_TRUE(next.ok()) << action << ": " << next.status().ToString();
    r = *next;
  }
  EXPECT_EQ(r.state, "executed");
  ASSERT_TRUE(r.result_certificate_id);
  EXPECT_NE(*r.result_certificate_id, cert_id);

  // Revocation is never delegated: it goes to the CA operator, and its execution tells OCSP.
  NewRequest revocation;
  revocation.kind = "revocation";
  revocation.organization_id = unit_a_;
  revocation.person_id = person_;
  revocation.certificate_id = *r.result_certificate_id;
  revocation.form = {{"reason", "keyCompromise"}};
  auto rev = Create(officer_a_, revocation);
  auto s = registry_->Submit(As(officer_a_), rev.id, AsBytes("cms"), rev.version);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->assignee, "ca");
  EXPECT_EQ(registry_->Transition(As(delegate), rev.id, "review", "", s->version).status().id(),
            "access.out_of_scope");
  auto moving = *s;
  for (const char* action : {"review", "approve", "execute"}) {
    auto next = registry_->Transition(As(operator_), rev.id, action, "", moving.version);
    ASSERT_TRUE(next.ok()) << action << ": " << next.status().ToString();
    moving = *next;
  }
  auto cert = registry_->GetCertificate(As(operator_), *r.result_certificate_id);
  ASSERT_TRUE(cert.ok());
  EXPECT_EQ(cert->status, store::CertificateStatus::kRevoked);
  ASSERT_EQ(revoked_.size(), 1u);
  EXPECT_EQ(revoked_[0], cert->serial_hex);

  // Withdrawn: the delegate can no longer act; new renewals go to the CA again.
  ASSERT_TRUE(registry_->WithdrawDelegation(As(operator_), delegation->id).ok());
  EXPECT_EQ(registry_->WithdrawDelegation(As(operator_), delegation->id).status().id(),
            "store.conflict");
  auto again = Create(officer_a_, renewal);
  auto s2 = registry_->Submit(As(officer_a_), again.id, AsBytes("cms"), again.version);
  ASSERT_TRUE(s2.ok());
  EXPECT_EQ(s2->assignee, "ca");
}

TEST_F(RegistryTest, RoleAndScopeMatrix) {
  auto draft = Create(officer_a_, NewIndividual());
  // Another body's officer sees nothing of it and can do nothing with it.
  EXPECT_EQ(registry_->GetRequest(As(officer_b_), draft.id).status().id(), "access.out_of_scope");
  EXPECT_EQ(
      registry_->Submit(As(officer_b_), draft.id, AsBytes("cms"), draft.version).status().id(),
      "access.out_of_scope");
  EXPECT_EQ(
      registry_->Transition(As(officer_b_), draft.id, "cancel", "x", draft.version).status().id(),
      "access.out_of_scope");
  auto b_list = registry_->ListRequests(As(officer_b_), {});
  ASSERT_TRUE(b_list.ok());
  EXPECT_TRUE(b_list->empty());
  NewRequest in_a = NewIndividual();
  EXPECT_EQ(registry_->CreateRequest(As(officer_b_), in_a).status().id(), "access.out_of_scope");
  EXPECT_EQ(registry_->GetOrganization(As(officer_b_), health_a_).status().id(),
            "access.out_of_scope");
  EXPECT_EQ(registry_->GetPerson(As(officer_b_), person_).status().id(), "access.out_of_scope");

  auto submitted = registry_->Submit(As(officer_a_), draft.id, AsBytes("cms"), draft.version);
  ASSERT_TRUE(submitted.ok());
  const int64_t v = submitted->version;
  // Nobody but the handler reviews or approves.
  for (int64_t who : {officer_a_, officer_b_, subscriber_, auditor_, admin_}) {
    const std::string id = registry_->Transition(As(who), draft.id, "review", "", v).status().id();
    EXPECT_TRUE(id == "access.denied" || id == "access.out_of_scope") << who << " " << id;
  }
  EXPECT_EQ(registry_->Transition(As(subscriber_), draft.id, "review", "", v).status().id(),
            "access.denied");
  // A subscriber reads their own request but may not request a new certificate, nor submit.
  EXPECT_TRUE(registry_->GetRequest(As(subscriber_), draft.id).ok());
  EXPECT_EQ(registry_->CreateRequest(As(subscriber_), NewIndividual()).status().id(),
            "access.denied");
  // The auditor reads everything and the audit log; no officer does.
  EXPECT_TRUE(registry_->GetRequest(As(auditor_), draft.id).ok());
  EXPECT_TRUE(CanReadAudit(As(auditor_)).ok());
  for (int64_t who : {officer_a_, operator_, admin_, subscriber_}) {
    EXPECT_EQ(CanReadAudit(As(who)).id(), "access.denied");
  }
  // Only the CA operator manages delegations; only the admin manages accounts.
  EXPECT_EQ(registry_->CreateDelegation(As(officer_a_), office_a_, province_a_, {"renewal"})
                .status()
                .id(),
            "access.denied");
  EXPECT_EQ(registry_->CreateDelegation(As(operator_), office_a_, province_a_, {"revocation"})
                .status()
                .id(),
            "ra.kind_not_delegable");
  store::AccountRecord sneaky;
  sneaky.username = "sneaky";
  sneaky.role = "admin";
  EXPECT_EQ(registry_->CreateAccount(As(operator_), sneaky).status().id(), "access.denied");
  // A delegate acts only inside its delegation: not another province, not another kind.
  const int64_t delegate = Account("office.a", "delegate_officer", office_a_);
  ASSERT_TRUE(registry_->CreateDelegation(As(operator_), office_a_, health_b_, {"renewal"}).ok());
  EXPECT_EQ(registry_->Transition(As(delegate), draft.id, "review", "", v).status().id(),
            "access.out_of_scope");
  EXPECT_EQ(registry_->GetRequest(As(delegate), draft.id).status().id(), "access.out_of_scope");
}

TEST_F(RegistryTest, SubmissionsMustBeSignedByTheManagingBody) {
  auto draft = Create(officer_a_, NewIndividual());
  EXPECT_EQ(registry_->Submit(As(officer_a_), draft.id, {}, draft.version).status().id(),
            "ra.unsigned");
  EXPECT_EQ(
      registry_->Submit(As(officer_a_), draft.id, AsBytes("bad"), draft.version).status().id(),
      "ra.bad_signature");
  // A valid signature by body B's seal does not speak for body A.
  ca::IssueRequest seal_b;
  const std::string csr = Csr("Sở Y tế B", "MST:0200000002", "UBND tỉnh B");
  seal_b.csr = Bytes(csr.begin(), csr.end());
  seal_b.profile = "organization";
  seal_b.organization_id = health_b_;
  auto b = authority_->Issue(seal_b);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  verifier_.signer = {b->record.subject, b->record.serial_hex};
  EXPECT_EQ(
      registry_->Submit(As(officer_a_), draft.id, AsBytes("cms"), draft.version).status().id(),
      "ra.signer_not_authorized");
  // Stale version: the document the agency signed is not the current one.
  verifier_.signer = {agency_seal_.subject, agency_seal_.serial_hex};
  auto edited =
      registry_->UpdateDraft(As(officer_a_), draft.id, NewIndividual().form, draft.version);
  ASSERT_TRUE(edited.ok()) << edited.status().ToString();
  EXPECT_EQ(
      registry_->Submit(As(officer_a_), draft.id, AsBytes("cms"), draft.version).status().id(),
      "store.conflict");
  EXPECT_TRUE(registry_->Submit(As(officer_a_), draft.id, AsBytes("cms"), edited->version).ok());
}

TEST_F(RegistryTest, TransitionsNeedReasonsAndCurrentVersions) {
  auto draft = Create(officer_a_, NewIndividual());
  auto s = registry_->Submit(As(officer_a_), draft.id, AsBytes("cms"), draft.version);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(registry_->Transition(As(operator_), s->id, "approve", "", s->version).status().id(),
            "ra.bad_transition");
  EXPECT_EQ(registry_->Transition(As(operator_), s->id, "return", " ", s->version).status().id(),
            "ra.reason_required");
  EXPECT_EQ(registry_->Transition(As(operator_), s->id, "review", "", s->version - 1).status().id(),
            "store.conflict");
  auto returned =
      registry_->Transition(As(operator_), s->id, "return", "Thiếu ngày cấp CCCD", s->version);
  ASSERT_TRUE(returned.ok());
  EXPECT_EQ(returned->state, "returned");
  // Corrected and submitted again; then rejected, which is final.
  auto fixed =
      registry_->UpdateDraft(As(officer_a_), s->id, NewIndividual().form, returned->version);
  ASSERT_TRUE(fixed.ok()) << fixed.status().ToString();
  auto again = registry_->Submit(As(officer_a_), s->id, AsBytes("cms"), fixed->version);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  auto rejected =
      registry_->Transition(As(operator_), s->id, "reject", "Không đủ điều kiện", again->version);
  ASSERT_TRUE(rejected.ok());
  EXPECT_EQ(
      registry_->Transition(As(officer_a_), s->id, "cancel", "x", rejected->version).status().id(),
      "ra.bad_transition");
}

TEST_F(RegistryTest, IdempotencyKeysReplayTheFirstCreate) {
  IdempotencyKey key{"k-1", "fingerprint-a"};
  auto first = registry_->CreateRequest(As(officer_a_), NewIndividual(), &key);
  ASSERT_TRUE(first.ok());
  EXPECT_FALSE(first->replayed);
  auto second = registry_->CreateRequest(As(officer_a_), NewIndividual(), &key);
  ASSERT_TRUE(second.ok());
  EXPECT_TRUE(second->replayed);
  EXPECT_EQ(second->record.id, first->record.id);
  IdempotencyKey reused{"k-1", "fingerprint-b"};
  EXPECT_EQ(registry_->CreateRequest(As(officer_a_), NewIndividual(), &reused).status().id(),
            "idempotency.key_reused");
  // Keys are per account: another officer's k-1 is a different key.
  auto other = registry_->CreateRequest(
      As(subscriber_),
      [&] {
        NewRequest r;
        r.kind = "device_restore";
        r.organization_id = unit_a_;
        r.person_id = person_;
        r.certificate_id = agency_seal_.id;
        r.form = {{"device_serial", "T-1"}, {"reason", "Nhập sai PIN"}};
        return r;
      }(),
      &key);
  EXPECT_EQ(other.status().id(), "ra.certificate_mismatch");  // the seal is not An's
}

TEST_F(RegistryTest, MovingAndLeavingOpenRequests) {
  const int64_t cert_id = IssuedCertificateFor(officer_a_);
  auto person = registry_->GetPerson(As(officer_a_), person_);
  ASSERT_TRUE(person.ok());
  // Moving to body B needs scope over both: the officer of A alone cannot.
  EXPECT_EQ(
      registry_->MovePerson(As(officer_a_), person_, health_b_, person->version, "").status().id(),
      "access.out_of_scope");
  auto moved = registry_->MovePerson(As(admin_), person_, health_b_, person->version, "Điều động");
  ASSERT_TRUE(moved.ok()) << moved.status().ToString();
  ASSERT_EQ(moved->opened_requests.size(), 1u);
  auto opened = registry_->GetRequest(As(officer_b_), moved->opened_requests[0]);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();  // the new agency confirms it
  EXPECT_EQ(opened->kind, "change_info");
  EXPECT_EQ(opened->certificate_id, cert_id);
  EXPECT_EQ(opened->state, "draft");
  EXPECT_EQ(moved->person.organization_id, health_b_);

  auto left =
      registry_->SetPersonStatus(As(admin_), person_, "left", moved->person.version, "Nghỉ việc");
  ASSERT_TRUE(left.ok()) << left.status().ToString();
  ASSERT_EQ(left->opened_requests.size(), 1u);
  auto revocation = registry_->GetRequest(As(officer_b_), left->opened_requests[0]);
  ASSERT_TRUE(revocation.ok());
  EXPECT_EQ(revocation->kind, "revocation");
  EXPECT_EQ(json::parse(revocation->form_json)["reason"], "affiliationChanged");
  EXPECT_EQ(registry_->SetPersonStatus(As(admin_), person_, "asleep", 1, "").status().id(),
            "person.bad_status");
  EXPECT_EQ(registry_->SetPersonStatus(As(admin_), person_, "retired", 1, "").status().id(),
            "store.conflict");
}

TEST_F(RegistryTest, CsvImportChecksEveryRowFirst) {
  const std::string orgs =
      "name,parent_tax_code,tax_code,budget_code,email,province,managing_agency\n"
      "Sở Tư pháp A,0100000001,0100000010,1047665,stp@a.gov.vn,Tỉnh A,1\n"
      "Phòng Hộ tịch,0100000010,0100000011,,,Tỉnh A,0\n"
      "Không cha,0999999999,0100000012,,,Tỉnh A,0\n"
      "Sai MST,0100000001,123,,,Tỉnh A,0\n";
  auto dry = registry_->ImportOrganizations(As(admin_), orgs, true);
  ASSERT_TRUE(dry.ok()) << dry.status().ToString();
  EXPECT_EQ(dry->rows, 4);
  ASSERT_EQ(dry->errors.size(), 2u);
  EXPECT_EQ(dry->errors[0].line, 4);
  EXPECT_EQ(dry->errors[0].id, "import.unknown_parent");
  EXPECT_EQ(dry->errors[1].line, 5);
  EXPECT_EQ(dry->errors[1].id, "org.bad_tax_code");
  // With errors nothing is written, dry run or not.
  auto failed = registry_->ImportOrganizations(As(admin_), orgs, false);
  ASSERT_TRUE(failed.ok());
  EXPECT_EQ(failed->created, 0);
  const std::string good = orgs.substr(0, orgs.find("Không cha"));
  auto done = registry_->ImportOrganizations(As(admin_), good, false);
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->created, 2);
  EXPECT_TRUE(done->errors.empty());

  const std::string people =
      "full_name,personal_id,position,organization_tax_code,email,mobile\n"
      "Trần Thị Cúc,001190099999,Chuyên viên,0100000011,cuc@a.gov.vn,0987654321\n"
      "Lê Văn Dũng,001190012345,Chuyên viên,0100000011,,\n";  // CCCD already registered
  auto p = registry_->ImportPeople(As(officer_a_), people, true);
  ASSERT_TRUE(p.ok());
  ASSERT_EQ(p->errors.size(), 2u);  // body 0100000011 is outside officer A's subtree
  EXPECT_EQ(p->errors[0].id, "access.out_of_scope");
  EXPECT_EQ(p->errors[1].id, "import.duplicate");
  EXPECT_EQ(registry_->ImportPeople(As(admin_), "name\nx\n", true).status().id(),
            "import.missing_column");
}

TEST_F(RegistryTest, DeadlinesAndOverdueRequests) {
  auto draft = Create(officer_a_, NewIndividual());
  ASSERT_TRUE(registry_->Submit(As(officer_a_), draft.id, AsBytes("cms"), draft.version).ok());
  EXPECT_EQ(*registry_->CountOverdue(), 0);
  clock_.Advance(6 * kSecondsPerDay);  // Thursday: Wednesday (the third working day) is over
  EXPECT_EQ(*registry_->CountOverdue(), 1);
  RequestQuery overdue;
  overdue.overdue = true;
  auto listed = registry_->ListRequests(As(operator_), overdue);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].id, draft.id);
}

TEST_F(RegistryTest, HolidaysFromTheCalendarSettingMoveDeadlines) {
  {
    auto tx = db_->Begin(store::TransactionMode::kWrite).value();
    ASSERT_TRUE(tx->PutSetting(kCalendarSetting, R"({"holidays":["2026-11-24"]})").ok());
    ASSERT_TRUE(tx->Commit().ok());
  }
  auto draft = Create(officer_a_, NewIndividual());
  auto s = registry_->Submit(As(officer_a_), draft.id, AsBytes("cms"), draft.version);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  // Friday + 3 working days with Tuesday off: Monday, Wednesday, Thursday.
  EXPECT_EQ(WorkingCalendar::FormatDay(WorkingCalendar::DayOf(*s->due_at)), "2026-11-26");
}

TEST_F(RegistryTest, ExpiryRemindersAreQueuedOnceAndDelivered) {
  const int64_t cert_id = IssuedCertificateFor(officer_a_);
  auto cert = registry_->GetCertificate(As(operator_), cert_id);
  ASSERT_TRUE(cert.ok());
  clock_.Set(cert->not_after - 20 * kSecondsPerDay);
  auto report = registry_->ExpiryReport(As(officer_a_));
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  bool found = false;
  for (const auto& b : *report) {
    if (b.organization_id == unit_a_) {
      found = true;
      EXPECT_EQ(b.within_30, 1);
      EXPECT_EQ(b.within_90, 1);
    }
  }
  EXPECT_TRUE(found);
  auto b_report = registry_->ExpiryReport(As(officer_b_));
  ASSERT_TRUE(b_report.ok());
  for (const auto& b : *b_report) EXPECT_NE(b.organization_id, unit_a_);

  auto queued = registry_->QueueExpiryReminders();
  ASSERT_TRUE(queued.ok()) << queued.status().ToString();
  EXPECT_GE(*queued, 1);
  EXPECT_EQ(*registry_->QueueExpiryReminders(), 0);  // deduplicated
  RecordingSender sender;
  sender.fail = true;
  EXPECT_EQ(*registry_->DeliverOutbox(sender), 0);
  sender.fail = false;
  EXPECT_EQ(*registry_->DeliverOutbox(sender), 0);  // backing off
  clock_.Advance(120);
  EXPECT_GE(*registry_->DeliverOutbox(sender), 1);
  bool to_an = false;
  for (const auto& m : sender.sent) to_an = to_an || m.recipient == "an@soyte.gov.vn";
  EXPECT_TRUE(to_an);
  EXPECT_EQ(*registry_->DeliverOutbox(sender), 0);
}

TEST_F(RegistryTest, RemindersAreListedWithinTheCallersScope) {
  const int64_t cert_id = IssuedCertificateFor(officer_a_);
  auto cert = registry_->GetCertificate(As(operator_), cert_id);
  ASSERT_TRUE(cert.ok());
  clock_.Set(cert->not_after - 20 * kSecondsPerDay);
  ASSERT_TRUE(registry_->QueueExpiryReminders().ok());
  RecordingSender sender;
  ASSERT_TRUE(registry_->DeliverOutbox(sender).ok());

  ReminderQuery query;
  query.filter.certificate_ids = {cert_id};
  auto seen = [&](int64_t account) {
    auto list = registry_->ListReminders(As(account), query);
    EXPECT_TRUE(list.ok()) << list.status().ToString();
    return list.ok() ? list->size() : 0u;
  };
  auto mine = registry_->ListReminders(As(officer_a_), query);
  ASSERT_TRUE(mine.ok()) << mine.status().ToString();
  ASSERT_EQ(mine->size(), 1u);
  const store::ReminderEntry& reminder = mine->front();
  EXPECT_EQ(reminder.message.certificate_id, cert_id);
  EXPECT_EQ(reminder.message.reminder_days, 30);  // 20 days left: the 30-day window
  EXPECT_EQ(reminder.message.sent_at, clock_.Now());
  EXPECT_EQ(reminder.serial_hex, cert->serial_hex);
  EXPECT_EQ(seen(operator_), 1u);
  EXPECT_EQ(seen(auditor_), 1u);
  EXPECT_EQ(seen(subscriber_), 1u);  // An's own certificate
  EXPECT_EQ(seen(officer_b_), 0u);   // another province
  query.filter.state = "queued";
  EXPECT_EQ(seen(officer_a_), 0u);
  query.filter.state.reset();
  query.filter.reminder_days = 60;
  EXPECT_EQ(seen(officer_a_), 0u);
  query.filter.reminder_days.reset();

  query.organization_id = health_b_;
  auto outside = registry_->ListReminders(As(officer_a_), query);
  EXPECT_EQ(outside.status().id(), "access.out_of_scope");
  query.organization_id = unit_a_;
  EXPECT_EQ(seen(officer_a_), 1u);
  EXPECT_EQ(seen(operator_), 1u);
}

TEST_F(RegistryTest, OwnApiTokensAreListedAndRevokedWithAnAuditEntry) {
  auto tx = db_->Begin(store::TransactionMode::kWrite).value();
  auto add = [&](const std::string& hash, int64_t account, const std::string& kind) {
    store::AccessTokenRecord token;
    token.token_hash = hash;
    token.account_id = account;
    token.kind = kind;
    token.name = "Một cửa " + hash;
    token.created_at = kNow;
    token.expires_at = kNow + kSecondsPerDay;
    ASSERT_TRUE(tx->InsertAccessToken(token).ok());
  };
  add("a1", officer_a_, "api");
  add("a2", officer_a_, "session");
  add("b1", officer_b_, "api");
  ASSERT_TRUE(tx->Commit().ok());

  auto mine = registry_->ListOwnApiTokens(As(officer_a_), 0, 50);
  ASSERT_TRUE(mine.ok()) << mine.status().ToString();
  ASSERT_EQ(mine->size(), 1u);
  const int64_t own = mine->front().id;
  auto theirs = registry_->ListOwnApiTokens(As(officer_b_), 0, 50);
  ASSERT_EQ(theirs->size(), 1u);
  const int64_t other = theirs->front().id;
  auto read = db_->Begin(store::TransactionMode::kRead).value();
  const int64_t session = read->GetAccessToken("a2")->id;
  read.reset();

  // Another account's token, a session and an unknown id all answer as unknown.
  EXPECT_EQ(registry_->RevokeOwnApiToken(As(officer_a_), other).status().id(), "store.not_found");
  EXPECT_EQ(registry_->RevokeOwnApiToken(As(officer_a_), session).status().id(), "store.not_found");
  EXPECT_EQ(registry_->RevokeOwnApiToken(As(officer_a_), 424242).status().id(), "store.not_found");

  auto revoked = registry_->RevokeOwnApiToken(As(officer_a_), own);
  ASSERT_TRUE(revoked.ok()) << revoked.status().ToString();
  EXPECT_TRUE(revoked->revoked);
  read = db_->Begin(store::TransactionMode::kRead).value();
  EXPECT_TRUE(read->GetAccessToken("a1")->revoked);
  EXPECT_FALSE(read->GetAccessToken("b1")->revoked);
  auto last = read->LastAuditEntry().value();
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(last->action, "token.revoke");
  EXPECT_EQ(last->actor, "account:" + std::to_string(officer_a_) + ":officer.a");
  EXPECT_NE(last->details.find("\"token_id\":" + std::to_string(own)), std::string::npos);
  const int64_t seq = last->seq;
  read.reset();
  // Again: nothing changes, nothing more is audited.
  ASSERT_TRUE(registry_->RevokeOwnApiToken(As(officer_a_), own).ok());
  read = db_->Begin(store::TransactionMode::kRead).value();
  EXPECT_EQ(read->LastAuditEntry().value()->seq, seq);
}

TEST_F(RegistryTest, AttachmentsFollowTheRequestsScopeAndState) {
  const store::RequestRecord draft = Create(officer_a_, NewIndividual());
  const std::string pdf_text = "%PDF-1.7\n% Quyết định bổ nhiệm\n%%EOF\n";
  const Bytes pdf(pdf_text.begin(), pdf_text.end());
  const Bytes png = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13};

  const std::string before = registry_->SigningDocument(As(officer_a_), draft.id).value();
  EXPECT_EQ(before.find("attachments"), std::string::npos);  // as before attachments existed
  auto added = registry_->AddAttachment(As(officer_a_), draft.id, "C:\\scan\\Quyết định.pdf", pdf);
  ASSERT_TRUE(added.ok()) << added.status().ToString();
  EXPECT_EQ(added->filename, "Quyết định.pdf");  // the path is dropped
  EXPECT_EQ(added->content_type, "application/pdf");
  EXPECT_EQ(added->size, static_cast<int64_t>(pdf.size()));
  std::string digest = HexEncode(crypto::Sha256(pdf));
  std::transform(digest.begin(), digest.end(), digest.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  EXPECT_EQ(added->sha256, digest);
  // The document the agency signs lists the attachment with its digest.
  const std::string signed_doc = registry_->SigningDocument(As(officer_a_), draft.id).value();
  EXPECT_NE(signed_doc.find("\"attachments\":[{\"content_type\":\"application/pdf\","
                            "\"filename\":\"Quyết định.pdf\",\"id\":" +
                            std::to_string(added->id) + ",\"sha256\":\"" + added->sha256 +
                            "\",\"size\":" + std::to_string(pdf.size()) + "}]"),
            std::string::npos)
      << signed_doc;
  // The draft's version moved on: a submission signed before the attachment is stale.
  EXPECT_EQ(registry_->GetRequest(As(officer_a_), draft.id)->version, draft.version + 1);
  EXPECT_EQ(
      registry_->Submit(As(officer_a_), draft.id, AsBytes("cms"), draft.version).status().id(),
      "store.conflict");

  EXPECT_EQ(
      registry_->AddAttachment(As(officer_a_), draft.id, "x.exe", AsBytes("MZ\x90")).status().id(),
      "attachment.bad_type");
  EXPECT_EQ(registry_->AddAttachment(As(officer_a_), draft.id, "empty.pdf", Bytes{}).status().id(),
            "attachment.empty");
  Bytes big(Registry::kMaxAttachmentBytes + 1, 0);
  std::copy(pdf.begin(), pdf.begin() + 5, big.begin());
  EXPECT_EQ(registry_->AddAttachment(As(officer_a_), draft.id, "big.pdf", big).status().id(),
            "attachment.too_large");
  EXPECT_EQ(registry_->AddAttachment(As(officer_b_), draft.id, "b.pdf", pdf).status().id(),
            "access.out_of_scope");
  EXPECT_EQ(registry_->AddAttachment(As(auditor_), draft.id, "a.pdf", pdf).status().id(),
            "access.denied");
  for (size_t i = 1; i < Registry::kMaxAttachments; ++i) {
    ASSERT_TRUE(registry_->AddAttachment(As(officer_a_), draft.id, "ảnh.png", png).ok()) << i;
  }
  EXPECT_EQ(registry_->AddAttachment(As(officer_a_), draft.id, "one-more.png", png).status().id(),
            "attachment.too_many");

  auto list = registry_->ListAttachments(As(auditor_), draft.id);
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  EXPECT_EQ(list->size(), Registry::kMaxAttachments);
  EXPECT_EQ(registry_->ListAttachments(As(officer_b_), draft.id).status().id(),
            "access.out_of_scope");
  auto got = registry_->GetAttachment(As(operator_), draft.id, added->id);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->data, pdf);
  const store::RequestRecord other = Create(officer_a_, NewIndividual());
  EXPECT_EQ(registry_->GetAttachment(As(officer_a_), other.id, added->id).status().id(),
            "store.not_found");
  EXPECT_EQ(registry_->DeleteAttachment(As(officer_a_), other.id, added->id).id(),
            "store.not_found");

  ASSERT_TRUE(registry_->DeleteAttachment(As(officer_a_), draft.id, added->id).ok());
  EXPECT_EQ(registry_->GetAttachment(As(officer_a_), draft.id, added->id).status().id(),
            "store.not_found");
  auto tx = db_->Begin(store::TransactionMode::kRead).value();
  auto last = tx->LastAuditEntry().value();
  EXPECT_EQ(last->action, "request.detach");
  EXPECT_EQ(last->actor, "account:" + std::to_string(officer_a_) + ":officer.a");
  tx.reset();

  // Once submitted, the attachments are frozen.
  const auto current = registry_->GetRequest(As(officer_a_), draft.id);
  const auto submitted =
      registry_->Submit(As(officer_a_), draft.id, AsBytes("cms"), current->version);
  ASSERT_TRUE(submitted.ok()) << submitted.status().ToString();
  EXPECT_EQ(registry_->AddAttachment(As(officer_a_), draft.id, "late.pdf", pdf).status().id(),
            "ra.not_editable");
  EXPECT_EQ(registry_->DeleteAttachment(As(officer_a_), draft.id, list->back().id).id(),
            "ra.not_editable");
}

TEST_F(RegistryTest, EveryStateChangeIsAudited) {
  auto tx = db_->Begin(store::TransactionMode::kRead).value();
  auto before = tx->LastAuditEntry().value()->seq;
  tx.reset();
  auto draft = Create(officer_a_, NewIndividual());
  (void)Through(draft, officer_a_, operator_);
  tx = db_->Begin(store::TransactionMode::kRead).value();
  auto entries = tx->ListAuditEntries(before + 1, 100).value();
  std::vector<std::string> actions;
  for (const auto& e : entries) actions.push_back(e.action);
  EXPECT_EQ(actions,
            (std::vector<std::string>{"request.create", "request.submit", "request.review",
                                      "request.approve", "cert.issue", "request.execute"}));
  EXPECT_EQ(entries[0].actor, "account:" + std::to_string(officer_a_) + ":officer.a");
}

}  // namespace
}  // namespace kyso::ra
