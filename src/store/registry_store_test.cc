// The registration workflow section of the store (registry.h): one value-parameterized suite
// over every back end (Backends() in test_backends.h), so that each back end keeps the same
// contract: materialized paths, optimistic versions, unique keys, filters and pages, and the
// exact error ids of store.h.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "store/registry.h"
#include "store/sqlite/sqlite_store.h"
#include "store/store.h"
#include "store/test_backends.h"
#include "testlib/temp_dir.h"

namespace kyso::store {
namespace {

constexpr UnixSeconds kNow = 1767225600;  // 2026-01-01T00:00:00Z

using testlib::TempDir;

// --- records -----------------------------------------------------------------------------------

OrganizationRecord MakeOrganization(const std::string& name,
                                    std::optional<int64_t> parent_id = std::nullopt) {
  OrganizationRecord org;
  org.parent_id = parent_id;
  org.name = name;
  org.tax_code = "0100109106";
  org.budget_code = "1234567";
  org.address = "Số 28 Trần Hưng Đạo, Hoàn Kiếm, Hà Nội";
  org.email = "vanthu@mof.gov.vn";
  org.province = "Hà Nội";
  org.managing_agency = !parent_id.has_value();
  org.created_at = kNow;
  org.updated_at = kNow;
  org.version = 42;  // ignored by inserts
  org.path = "/ignored/";
  return org;
}

PersonRecord MakePerson(int64_t organization_id, const std::string& personal_id,
                        const std::string& full_name = "Nguyễn Văn An") {
  PersonRecord person;
  person.organization_id = organization_id;
  person.full_name = full_name;
  person.personal_id = personal_id;
  person.position = "Chuyên viên";
  person.email = "an.nguyen@mof.gov.vn";
  person.mobile = "0912345678";
  person.created_at = kNow;
  person.updated_at = kNow;
  return person;
}

AccountRecord MakeAccount(const std::string& username, const std::string& fingerprint = "") {
  AccountRecord account;
  account.username = username;
  account.display_name = "Cán bộ " + username;
  account.role = "agency_officer";
  account.password_hash = "$argon2id$v=19$m=65536,t=2,p=1$c2FsdA$aGFzaA";
  account.certificate_fingerprint = fingerprint;
  account.created_at = kNow;
  return account;
}

AccessTokenRecord MakeToken(const std::string& hash, int64_t account_id, UnixSeconds expires_at) {
  AccessTokenRecord token;
  token.token_hash = hash;
  token.account_id = account_id;
  token.kind = "session";
  token.name = "";
  token.csrf_hash = "c5f" + hash;
  token.created_at = kNow;
  token.expires_at = expires_at;
  return token;
}

RequestRecord MakeRequest(int64_t organization_id, int64_t created_by,
                          const std::string& kind = "new_individual",
                          const std::string& state = "draft") {
  RequestRecord request;
  request.kind = kind;
  request.state = state;
  request.organization_id = organization_id;
  request.form_json = R"({"full_name":"Nguyễn Văn An","personal_id":"001234567890"})";
  request.assignee = "";
  request.created_by = created_by;
  request.created_at = kNow;
  request.updated_at = kNow;
  request.version = 9;  // ignored by inserts
  request.organization_path = "/ignored/";
  return request;
}

OutboxMessage MakeMessage(const std::string& dedupe_key, UnixSeconds next_attempt_at) {
  OutboxMessage message;
  message.dedupe_key = dedupe_key;
  message.channel = "email";
  message.recipient = "vanthu@mof.gov.vn";
  message.subject = "Chứng thư số sắp hết hạn";
  message.body = "Kính gửi ...";
  message.created_at = kNow;
  message.next_attempt_at = next_attempt_at;
  return message;
}

CaRecord MakeCa() {
  CaRecord ca;
  ca.name = "issuing";
  ca.role = "root";
  ca.subject = "CN=issuing CA,O=Ban Cơ yếu Chính phủ,C=VN";
  ca.serial_hex = "0A1B2C";
  ca.not_before = kNow;
  ca.not_after = kNow + 20 * 365 * kSecondsPerDay;
  ca.key_ref = "file:keys/issuing.key.pem";
  ca.signature_scheme = "sha256WithRSAEncryption";
  ca.certificate_der = {0x30, 0x82, 0x01, 0x0A, 0x02};
  ca.created_at = kNow;
  return ca;
}

CertificateRecord MakeCert(int64_t ca_id, const std::string& serial_hex,
                           std::optional<int64_t> organization_id, UnixSeconds not_after) {
  CertificateRecord cert;
  cert.issuer_ca_id = ca_id;
  cert.serial_hex = serial_hex;
  cert.issuer = "CN=issuing CA,O=Ban Cơ yếu Chính phủ,C=VN";
  cert.subject = "CN=Nguyễn Văn An,O=Bộ Tài chính,C=VN";
  cert.common_name = "Nguyễn Văn An";
  cert.profile = "personal-sign";
  cert.issuance_kind = "new";
  cert.organization_id = organization_id;
  cert.key_fingerprint = "5F3C" + serial_hex;
  cert.not_before = kNow;
  cert.not_after = not_after;
  cert.issued_at = kNow;
  cert.der = {0x30, 0x82, 0x03, 0x01};
  return cert;
}

std::vector<int64_t> OrganizationIds(const std::vector<OrganizationRecord>& orgs) {
  std::vector<int64_t> ids;
  for (const auto& org : orgs) ids.push_back(org.id);
  return ids;
}

std::vector<int64_t> PersonIds(const std::vector<PersonRecord>& people) {
  std::vector<int64_t> ids;
  for (const auto& person : people) ids.push_back(person.id);
  return ids;
}

std::vector<int64_t> RequestIds(const std::vector<RequestRecord>& requests) {
  std::vector<int64_t> ids;
  for (const auto& request : requests) ids.push_back(request.id);
  return ids;
}

void ExpectSameOrganization(const OrganizationRecord& a, const OrganizationRecord& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.parent_id, b.parent_id);
  EXPECT_EQ(a.path, b.path);
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.tax_code, b.tax_code);
  EXPECT_EQ(a.budget_code, b.budget_code);
  EXPECT_EQ(a.address, b.address);
  EXPECT_EQ(a.email, b.email);
  EXPECT_EQ(a.province, b.province);
  EXPECT_EQ(a.managing_agency, b.managing_agency);
  EXPECT_EQ(a.created_at, b.created_at);
  EXPECT_EQ(a.updated_at, b.updated_at);
  EXPECT_EQ(a.version, b.version);
}

void ExpectSamePerson(const PersonRecord& a, const PersonRecord& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.organization_id, b.organization_id);
  EXPECT_EQ(a.organization_path, b.organization_path);
  EXPECT_EQ(a.full_name, b.full_name);
  EXPECT_EQ(a.personal_id, b.personal_id);
  EXPECT_EQ(a.position, b.position);
  EXPECT_EQ(a.email, b.email);
  EXPECT_EQ(a.mobile, b.mobile);
  EXPECT_EQ(a.status, b.status);
  EXPECT_EQ(a.created_at, b.created_at);
  EXPECT_EQ(a.updated_at, b.updated_at);
  EXPECT_EQ(a.version, b.version);
}

void ExpectSameAccount(const AccountRecord& a, const AccountRecord& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.username, b.username);
  EXPECT_EQ(a.display_name, b.display_name);
  EXPECT_EQ(a.role, b.role);
  EXPECT_EQ(a.organization_id, b.organization_id);
  EXPECT_EQ(a.person_id, b.person_id);
  EXPECT_EQ(a.password_hash, b.password_hash);
  EXPECT_EQ(a.certificate_fingerprint, b.certificate_fingerprint);
  EXPECT_EQ(a.disabled, b.disabled);
  EXPECT_EQ(a.created_at, b.created_at);
  EXPECT_EQ(a.version, b.version);
}

void ExpectSameRequest(const RequestRecord& a, const RequestRecord& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.kind, b.kind);
  EXPECT_EQ(a.state, b.state);
  EXPECT_EQ(a.organization_id, b.organization_id);
  EXPECT_EQ(a.organization_path, b.organization_path);
  EXPECT_EQ(a.person_id, b.person_id);
  EXPECT_EQ(a.certificate_id, b.certificate_id);
  EXPECT_EQ(a.form_json, b.form_json);
  EXPECT_EQ(a.assignee, b.assignee);
  EXPECT_EQ(a.delegation_id, b.delegation_id);
  EXPECT_EQ(a.signed_document, b.signed_document);
  EXPECT_EQ(a.signature, b.signature);
  EXPECT_EQ(a.signer, b.signer);
  EXPECT_EQ(a.submitted_at, b.submitted_at);
  EXPECT_EQ(a.due_at, b.due_at);
  EXPECT_EQ(a.result_certificate_id, b.result_certificate_id);
  EXPECT_EQ(a.result_note, b.result_note);
  EXPECT_EQ(a.created_by, b.created_by);
  EXPECT_EQ(a.idempotency_key, b.idempotency_key);
  EXPECT_EQ(a.created_at, b.created_at);
  EXPECT_EQ(a.updated_at, b.updated_at);
  EXPECT_EQ(a.version, b.version);
}

bool StartsWith(const std::string& text, const std::string& prefix) {
  return text.compare(0, prefix.size(), prefix) == 0;
}

bool Contains(const std::vector<std::string>& list, const std::string& value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

// What RequestFilter means, written plainly: the reference ListRequests and CountRequests are
// checked against. `path_of` gives an organization's path.
bool Matches(const RequestFilter& filter, const RequestRecord& request) {
  if (filter.path_prefix && !StartsWith(request.organization_path, *filter.path_prefix)) {
    return false;
  }
  if (!filter.path_prefixes.empty() &&
      std::none_of(
          filter.path_prefixes.begin(), filter.path_prefixes.end(),
          [&](const std::string& p) { return StartsWith(request.organization_path, p); })) {
    return false;
  }
  if (filter.organization_id && request.organization_id != *filter.organization_id) return false;
  if (filter.person_id && request.person_id != filter.person_id) return false;
  if (filter.created_by && request.created_by != *filter.created_by) return false;
  if (!filter.kinds.empty() && !Contains(filter.kinds, request.kind)) return false;
  if (!filter.states.empty() && !Contains(filter.states, request.state)) return false;
  if (filter.assignee && request.assignee != *filter.assignee) return false;
  if (filter.due_before && !(request.due_at && *request.due_at < *filter.due_before)) return false;
  return true;
}

// The ids `filter` selects from `all` (in id order), page and order included.
std::vector<int64_t> Expected(const RequestFilter& filter, std::vector<RequestRecord> all) {
  std::sort(all.begin(), all.end(),
            [](const RequestRecord& a, const RequestRecord& b) { return a.id < b.id; });
  if (filter.newest_first) std::reverse(all.begin(), all.end());
  std::vector<int64_t> ids;
  for (const RequestRecord& request : all) {
    if (!Matches(filter, request)) continue;
    if (filter.after_id > 0 && request.id <= filter.after_id) continue;
    if (filter.newest_first && filter.before_id > 0 && request.id >= filter.before_id) continue;
    if (static_cast<int64_t>(ids.size()) == filter.limit) break;
    ids.push_back(request.id);
  }
  return ids;
}

// --- the suite over back ends ---------------------------------------------------------------

class RegistryStoreTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    auto db = GetParam().open(dir_.path(), 5000);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
  }

  std::unique_ptr<Transaction> Begin(TransactionMode mode) {
    auto tx = db_->Begin(mode);
    EXPECT_TRUE(tx.ok()) << tx.status().ToString();
    return tx.ok() ? std::move(tx).value() : nullptr;
  }
  std::unique_ptr<Transaction> Write() { return Begin(TransactionMode::kWrite); }
  std::unique_ptr<Transaction> Read() { return Begin(TransactionMode::kRead); }

  static int64_t AddOrganization(Transaction& tx, const std::string& name,
                                 std::optional<int64_t> parent_id = std::nullopt) {
    auto id = tx.InsertOrganization(MakeOrganization(name, parent_id));
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    return id.ok() ? *id : 0;
  }
  static int64_t AddPerson(Transaction& tx, int64_t organization_id, const std::string& personal_id,
                           const std::string& full_name = "Nguyễn Văn An") {
    auto id = tx.InsertPerson(MakePerson(organization_id, personal_id, full_name));
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    return id.ok() ? *id : 0;
  }
  static int64_t AddAccount(Transaction& tx, const std::string& username,
                            const std::string& fingerprint = "") {
    auto id = tx.InsertAccount(MakeAccount(username, fingerprint));
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    return id.ok() ? *id : 0;
  }
  static int64_t AddDelegation(Transaction& tx, int64_t delegate, int64_t scope,
                               std::vector<std::string> kinds) {
    DelegationRecord delegation;
    delegation.delegate_organization_id = delegate;
    delegation.scope_organization_id = scope;
    delegation.kinds = std::move(kinds);
    delegation.created_by = "account:1:ca-operator";
    delegation.created_at = kNow;
    auto id = tx.InsertDelegation(delegation);
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    return id.ok() ? *id : 0;
  }
  // Inserts `request`, fills in the id and path the store gave it.
  static void AddRequest(Transaction& tx, RequestRecord& request) {
    auto id = tx.InsertRequest(request);
    ASSERT_TRUE(id.ok()) << id.status().ToString();
    request.id = *id;
    auto stored = tx.GetRequest(*id);
    ASSERT_TRUE(stored.ok()) << stored.status().ToString();
    request.organization_path = stored->organization_path;
    request.version = 1;
  }

  TempDir dir_;
  std::unique_ptr<Database> db_;
};

// --- organizations ---

TEST_P(RegistryStoreTest, OrganizationPathsFollowTheTree) {
  auto tx = Write();
  const int64_t ministry = AddOrganization(*tx, "Bộ Tài chính");
  const int64_t department = AddOrganization(*tx, "Tổng cục Thuế", ministry);
  const int64_t unit = AddOrganization(*tx, "Cục Thuế Hà Nội", department);
  ASSERT_TRUE(tx->Commit().ok());

  auto read = Read();
  auto root = read->GetOrganization(ministry);
  ASSERT_TRUE(root.ok()) << root.status().ToString();
  EXPECT_EQ(root->path, "/" + std::to_string(ministry) + "/");
  auto middle = read->GetOrganization(department);
  ASSERT_TRUE(middle.ok()) << middle.status().ToString();
  EXPECT_EQ(middle->path, root->path + std::to_string(department) + "/");
  auto leaf = read->GetOrganization(unit);
  ASSERT_TRUE(leaf.ok()) << leaf.status().ToString();
  EXPECT_EQ(leaf->path, middle->path + std::to_string(unit) + "/");

  // Every field comes back; id, path and version are the store's.
  OrganizationRecord expected = MakeOrganization("Cục Thuế Hà Nội", department);
  expected.id = unit;
  expected.path = leaf->path;
  expected.version = 1;
  ExpectSameOrganization(*leaf, expected);
  EXPECT_FALSE(leaf->managing_agency);
  EXPECT_TRUE(root->managing_agency);
  EXPECT_FALSE(root->parent_id.has_value());
}

TEST_P(RegistryStoreTest, OrganizationWithUnknownParentIsNotFound) {
  auto tx = Write();
  auto orphan = tx->InsertOrganization(MakeOrganization("Mồ côi", 999));
  EXPECT_EQ(orphan.status().id(), "store.not_found");
  EXPECT_EQ(orphan.status().code(), StatusCode::kNotFound);
  // The failed insert wrote nothing and left the transaction usable.
  const int64_t root = AddOrganization(*tx, "Bộ Y tế");
  ASSERT_TRUE(tx->Commit().ok());
  auto all = Read()->ListOrganizations({});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(OrganizationIds(*all), std::vector<int64_t>{root});
  EXPECT_EQ(Read()->GetOrganization(12345).status().id(), "store.not_found");
}

TEST_P(RegistryStoreTest, UpdatesOrganizationsWithOptimisticVersions) {
  auto tx = Write();
  const int64_t root = AddOrganization(*tx, "Bộ Tài chính");
  const int64_t unit = AddOrganization(*tx, "Vụ Pháp chế", root);
  auto stored = tx->GetOrganization(unit);
  ASSERT_TRUE(stored.ok());
  const OrganizationRecord before = *stored;

  OrganizationRecord changed = before;
  changed.name = "Vụ Pháp chế (mới)";
  changed.email = "phapche@mof.gov.vn";
  changed.managing_agency = true;
  changed.updated_at = kNow + 60;
  // Neither the parent nor the path is changed by an update.
  changed.parent_id = std::nullopt;
  changed.path = "/77/";
  ASSERT_TRUE(tx->UpdateOrganization(changed).ok());
  auto after = tx->GetOrganization(unit);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->name, "Vụ Pháp chế (mới)");
  EXPECT_EQ(after->email, "phapche@mof.gov.vn");
  EXPECT_TRUE(after->managing_agency);
  EXPECT_EQ(after->updated_at, kNow + 60);
  EXPECT_EQ(after->version, before.version + 1);
  EXPECT_EQ(after->parent_id, before.parent_id);
  EXPECT_EQ(after->path, before.path);

  // A second writer holding the old version loses, and changes nothing.
  OrganizationRecord stale = before;
  stale.name = "Ghi đè";
  auto conflict = tx->UpdateOrganization(stale);
  EXPECT_EQ(conflict.id(), "store.conflict");
  EXPECT_EQ(conflict.code(), StatusCode::kFailedPrecondition);
  auto unchanged = tx->GetOrganization(unit);
  ASSERT_TRUE(unchanged.ok());
  ExpectSameOrganization(*unchanged, *after);

  OrganizationRecord missing = before;
  missing.id = 999;
  EXPECT_EQ(tx->UpdateOrganization(missing).id(), "store.not_found");
  ASSERT_TRUE(tx->Commit().ok());
}

TEST_P(RegistryStoreTest, ListsOrganizationsBySubtreeAndPages) {
  auto tx = Write();
  // Twelve bodies, so that ids 1 and 1x exist: the subtree of "/1/" must not take "/10/".
  const int64_t first = AddOrganization(*tx, "Bộ Tài chính");
  const int64_t a = AddOrganization(*tx, "Tổng cục Thuế", first);
  const int64_t a1 = AddOrganization(*tx, "Cục Thuế Hà Nội", a);
  const int64_t a2 = AddOrganization(*tx, "Cục Thuế Đà Nẵng", a);
  const int64_t b = AddOrganization(*tx, "Kho bạc Nhà nước", first);
  std::vector<int64_t> others;
  for (int i = 0; i < 6; ++i) others.push_back(AddOrganization(*tx, "Tỉnh " + std::to_string(i)));
  const int64_t late_root = AddOrganization(*tx, "Bộ Y tế");
  const int64_t late_child = AddOrganization(*tx, "Cục Quản lý Dược", late_root);
  OrganizationRecord with_code = MakeOrganization("Cục Hải quan", first);
  with_code.tax_code = "0101234567";
  auto coded = tx->InsertOrganization(with_code);
  ASSERT_TRUE(coded.ok());
  ASSERT_TRUE(tx->Commit().ok());
  ASSERT_GE(late_root, 10);

  auto read = Read();
  auto root_path = read->GetOrganization(first)->path;
  OrganizationFilter subtree;
  subtree.path_prefix = root_path;
  auto listed = read->ListOrganizations(subtree);
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  EXPECT_EQ(OrganizationIds(*listed), (std::vector<int64_t>{first, a, a1, a2, b, *coded}));

  OrganizationFilter branch;
  branch.path_prefix = read->GetOrganization(a)->path;
  EXPECT_EQ(OrganizationIds(*read->ListOrganizations(branch)), (std::vector<int64_t>{a, a1, a2}));

  OrganizationFilter late;
  late.path_prefix = read->GetOrganization(late_root)->path;
  EXPECT_EQ(OrganizationIds(*read->ListOrganizations(late)),
            (std::vector<int64_t>{late_root, late_child}));

  OrganizationFilter children;
  children.parent_id = a;
  EXPECT_EQ(OrganizationIds(*read->ListOrganizations(children)), (std::vector<int64_t>{a1, a2}));

  OrganizationFilter named;
  named.name_contains = "Cục Thuế";
  EXPECT_EQ(OrganizationIds(*read->ListOrganizations(named)), (std::vector<int64_t>{a1, a2}));

  OrganizationFilter by_code;
  by_code.tax_code = "0101234567";
  EXPECT_EQ(OrganizationIds(*read->ListOrganizations(by_code)), std::vector<int64_t>{*coded});

  // Keyset pages of 5 cover all 14 bodies once, in id order.
  std::vector<int64_t> paged;
  OrganizationFilter page;
  page.limit = 5;
  while (true) {
    auto got = read->ListOrganizations(page);
    ASSERT_TRUE(got.ok());
    if (got->empty()) break;
    EXPECT_LE(got->size(), 5u);
    for (const auto& org : *got) paged.push_back(org.id);
    page.after_id = got->back().id;
  }
  EXPECT_EQ(paged.size(), 14u);
  EXPECT_TRUE(std::is_sorted(paged.begin(), paged.end()));
  EXPECT_EQ(paged.front(), first);
}

// --- people ---

TEST_P(RegistryStoreTest, ListsCertificatesOfASubtree) {
  auto tx = Write();
  const int64_t ca = *tx->InsertCa(MakeCa());
  const int64_t province = AddOrganization(*tx, "UBND tỉnh Bắc Giang");
  const int64_t department = AddOrganization(*tx, "Sở Tài chính", province);
  const int64_t unit = AddOrganization(*tx, "Phòng Ngân sách", department);
  const int64_t other = AddOrganization(*tx, "Sở Y tế", province);
  // A sibling whose path shares the department's digits as a string prefix ("/1/2" vs "/1/20").
  int64_t sibling = 0;
  for (int i = 0; i < 20 && sibling == 0; ++i) {
    const int64_t id = AddOrganization(*tx, "Đơn vị " + std::to_string(i), province);
    if (std::to_string(id).rfind(std::to_string(department), 0) == 0) sibling = id;
  }
  int serial = 0;
  std::map<int64_t, int64_t> cert_of;
  for (int64_t org : {province, department, unit, other, sibling}) {
    if (org == 0) continue;
    cert_of[org] =
        *tx->InsertCertificate(MakeCert(ca, "A" + std::to_string(++serial), org, kNow + 86400));
  }
  ASSERT_TRUE(tx->Commit().ok());

  auto ids = [&](const std::string& prefix) {
    CertificateFilter filter;
    filter.organization_path_prefix = prefix;
    filter.limit = -1;
    auto certs = Read()->ListCertificates(filter);
    EXPECT_TRUE(certs.ok()) << certs.status().ToString();
    std::vector<int64_t> out;
    if (!certs.ok()) return out;
    for (const auto& c : *certs) out.push_back(c.id);
    return out;
  };
  auto path_of = [&](int64_t org) { return Read()->GetOrganization(org)->path; };
  EXPECT_EQ(ids(path_of(department)), (std::vector<int64_t>{cert_of[department], cert_of[unit]}));
  EXPECT_EQ(ids(path_of(unit)), std::vector<int64_t>{cert_of[unit]});
  EXPECT_EQ(ids(path_of(province)).size(), cert_of.size());
  EXPECT_TRUE(ids("/999999/").empty());
}

TEST_P(RegistryStoreTest, CountsCertificatesPerPeriodInOnePass) {
  auto tx = Write();
  const int64_t ca = *tx->InsertCa(MakeCa());
  const int64_t body = AddOrganization(*tx, "Sở Tài chính");
  const int64_t other = AddOrganization(*tx, "Sở Y tế");
  // Issued at kNow + offset: two before the first period, three in the first, one on the
  // second's lower bound, one on the last bound (outside), one of another body.
  int serial = 0;
  auto add = [&](int64_t org, int64_t offset) {
    CertificateRecord c = MakeCert(ca, "B" + std::to_string(++serial), org, kNow + 86400);
    c.issued_at = kNow + offset;
    return *tx->InsertCertificate(c);
  };
  for (int64_t offset : {-5, -1, 0, 3, 9, 10, 30}) add(body, offset);
  add(other, 3);
  ASSERT_TRUE(tx->Commit().ok());

  using Time = Transaction::CertificateTime;
  const std::vector<UnixSeconds> bounds = {kNow, kNow + 10, kNow + 20, kNow + 30};
  CertificateFilter mine;
  mine.organization_id = body;
  auto counts = Read()->CountCertificatesInPeriods(mine, Time::kIssuedAt, bounds);
  ASSERT_TRUE(counts.ok()) << counts.status().ToString();
  EXPECT_EQ(*counts, (std::vector<int64_t>{3, 1, 0}));
  counts = Read()->CountCertificatesInPeriods(CertificateFilter{}, Time::kIssuedAt, bounds);
  ASSERT_TRUE(counts.ok()) << counts.status().ToString();
  EXPECT_EQ(*counts, (std::vector<int64_t>{4, 1, 0}));
  // None revoked yet.
  counts = Read()->CountCertificatesInPeriods(mine, Time::kRevokedAt, bounds);
  ASSERT_TRUE(counts.ok()) << counts.status().ToString();
  EXPECT_EQ(*counts, (std::vector<int64_t>{0, 0, 0}));
  // Bounds that do not ascend are refused.
  auto bad = Read()->CountCertificatesInPeriods(mine, Time::kIssuedAt, {kNow, kNow});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().id(), "store.invalid_record");
}

TEST_P(RegistryStoreTest, InsertsAndReadsPeople) {
  auto tx = Write();
  const int64_t root = AddOrganization(*tx, "Bộ Tài chính");
  const int64_t unit = AddOrganization(*tx, "Vụ Pháp chế", root);
  PersonRecord person = MakePerson(unit, "001234567890");
  person.status = "active";
  auto id = tx->InsertPerson(person);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  ASSERT_TRUE(tx->Commit().ok());

  auto got = Read()->GetPerson(*id);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  person.id = *id;
  person.organization_path = Read()->GetOrganization(unit)->path;
  person.version = 1;
  ExpectSamePerson(*got, person);
  EXPECT_EQ(Read()->GetPerson(*id + 100).status().id(), "store.not_found");
}

TEST_P(RegistryStoreTest, DuplicatePersonalIdIsDuplicate) {
  auto tx = Write();
  const int64_t root = AddOrganization(*tx, "Bộ Tài chính");
  AddPerson(*tx, root, "001234567890");
  auto again = tx->InsertPerson(MakePerson(root, "001234567890", "Trần Thị Bình"));
  EXPECT_EQ(again.status().id(), "store.duplicate");
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists);
  // The transaction goes on after the failed insert.
  AddPerson(*tx, root, "001234567891", "Trần Thị Bình");
  ASSERT_TRUE(tx->Commit().ok());
  auto all = Read()->ListPeople({});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 2u);
}

TEST_P(RegistryStoreTest, PersonOfUnknownOrganizationIsNotFound) {
  auto tx = Write();
  auto orphan = tx->InsertPerson(MakePerson(999, "001234567890"));
  EXPECT_EQ(orphan.status().id(), "store.not_found");
  EXPECT_EQ(orphan.status().code(), StatusCode::kNotFound);
}

TEST_P(RegistryStoreTest, UpdatesAndMovesPeople) {
  auto tx = Write();
  const int64_t root = AddOrganization(*tx, "Bộ Tài chính");
  const int64_t from = AddOrganization(*tx, "Vụ Pháp chế", root);
  const int64_t to = AddOrganization(*tx, "Vụ Tổ chức cán bộ", root);
  const int64_t id = AddPerson(*tx, from, "001234567890");
  ASSERT_TRUE(tx->Commit().ok());

  tx = Write();
  const PersonRecord before = *tx->GetPerson(id);
  PersonRecord moved = before;
  moved.organization_id = to;
  moved.position = "Phó Vụ trưởng";
  moved.status = "retired";
  moved.updated_at = kNow + 3600;
  ASSERT_TRUE(tx->UpdatePerson(moved).ok());
  ASSERT_TRUE(tx->Commit().ok());

  auto after = Read()->GetPerson(id);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->organization_id, to);
  EXPECT_EQ(after->organization_path, Read()->GetOrganization(to)->path);
  EXPECT_EQ(after->position, "Phó Vụ trưởng");
  EXPECT_EQ(after->status, "retired");
  EXPECT_EQ(after->updated_at, kNow + 3600);
  EXPECT_EQ(after->version, before.version + 1);

  // The subtree lists follow the move.
  PersonFilter old_unit;
  old_unit.path_prefix = before.organization_path;
  EXPECT_TRUE(Read()->ListPeople(old_unit)->empty());
  PersonFilter new_unit;
  new_unit.path_prefix = after->organization_path;
  EXPECT_EQ(PersonIds(*Read()->ListPeople(new_unit)), std::vector<int64_t>{id});

  tx = Write();
  PersonRecord stale = before;  // version 1, stored 2
  stale.full_name = "Ghi đè";
  EXPECT_EQ(tx->UpdatePerson(stale).id(), "store.conflict");
  ExpectSamePerson(*tx->GetPerson(id), *after);
  PersonRecord missing = *after;
  missing.id = id + 100;
  EXPECT_EQ(tx->UpdatePerson(missing).id(), "store.not_found");
  PersonRecord nowhere = *after;
  nowhere.organization_id = 999;
  EXPECT_EQ(tx->UpdatePerson(nowhere).id(), "store.not_found");
  ExpectSamePerson(*tx->GetPerson(id), *after);
}

TEST_P(RegistryStoreTest, FiltersPeople) {
  auto tx = Write();
  const int64_t root = AddOrganization(*tx, "Bộ Tài chính");
  const int64_t tax = AddOrganization(*tx, "Tổng cục Thuế", root);
  const int64_t hanoi = AddOrganization(*tx, "Cục Thuế Hà Nội", tax);
  const int64_t other = AddOrganization(*tx, "Bộ Y tế");
  const int64_t an = AddPerson(*tx, root, "001000000001", "Nguyễn Văn An");
  const int64_t binh = AddPerson(*tx, tax, "001000000002", "Trần Thị Bình");
  const int64_t cuong = AddPerson(*tx, hanoi, "001000000003", "Lê Văn Cường");
  const int64_t dung = AddPerson(*tx, other, "001000000004", "Phạm Thị Dung");
  PersonRecord retired = MakePerson(hanoi, "001000000005", "Hoàng Văn Em");
  retired.status = "retired";
  const int64_t em = *tx->InsertPerson(retired);
  ASSERT_TRUE(tx->Commit().ok());

  auto read = Read();
  PersonFilter subtree;
  subtree.path_prefix = read->GetOrganization(tax)->path;
  EXPECT_EQ(PersonIds(*read->ListPeople(subtree)), (std::vector<int64_t>{binh, cuong, em}));
  PersonFilter whole;
  whole.path_prefix = read->GetOrganization(root)->path;
  EXPECT_EQ(PersonIds(*read->ListPeople(whole)), (std::vector<int64_t>{an, binh, cuong, em}));
  PersonFilter unit;
  unit.organization_id = hanoi;
  EXPECT_EQ(PersonIds(*read->ListPeople(unit)), (std::vector<int64_t>{cuong, em}));
  PersonFilter by_id;
  by_id.personal_id = "001000000004";
  EXPECT_EQ(PersonIds(*read->ListPeople(by_id)), std::vector<int64_t>{dung});
  PersonFilter named;
  named.name_contains = "Thị";
  EXPECT_EQ(PersonIds(*read->ListPeople(named)), (std::vector<int64_t>{binh, dung}));
  PersonFilter status;
  status.status = "retired";
  EXPECT_EQ(PersonIds(*read->ListPeople(status)), std::vector<int64_t>{em});
  PersonFilter page;
  page.after_id = binh;
  page.limit = 2;
  EXPECT_EQ(PersonIds(*read->ListPeople(page)), (std::vector<int64_t>{cuong, dung}));
  auto listed = read->ListPeople(unit);
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].organization_path, read->GetOrganization(hanoi)->path);
}

// --- accounts ---

TEST_P(RegistryStoreTest, InsertsAndFindsAccounts) {
  auto tx = Write();
  const int64_t root = AddOrganization(*tx, "Bộ Tài chính");
  const int64_t person = AddPerson(*tx, root, "001234567890");
  AccountRecord officer = MakeAccount("an.nguyen", "ab12cd34");
  officer.organization_id = root;
  officer.person_id = person;
  officer.version = 5;  // ignored
  auto officer_id = tx->InsertAccount(officer);
  ASSERT_TRUE(officer_id.ok()) << officer_id.status().ToString();
  AccountRecord admin = MakeAccount("admin");
  admin.role = "admin";
  admin.disabled = true;
  auto admin_id = tx->InsertAccount(admin);
  ASSERT_TRUE(admin_id.ok()) << admin_id.status().ToString();
  ASSERT_TRUE(tx->Commit().ok());
  officer.id = *officer_id;
  officer.version = 1;
  admin.id = *admin_id;

  auto read = Read();
  ExpectSameAccount(*read->GetAccount(*officer_id), officer);
  ExpectSameAccount(*read->GetAccountByUsername("an.nguyen"), officer);
  ExpectSameAccount(*read->GetAccountByCertificate("ab12cd34"), officer);
  ExpectSameAccount(*read->GetAccountByUsername("admin"), admin);
  EXPECT_EQ(read->GetAccount(999).status().id(), "store.not_found");
  EXPECT_EQ(read->GetAccountByUsername("nobody").status().id(), "store.not_found");
  EXPECT_EQ(read->GetAccountByCertificate("ffff").status().id(), "store.not_found");
  // "" means "no certificate": it finds nobody, though two accounts have it.
  EXPECT_EQ(read->GetAccountByCertificate("").status().id(), "store.not_found");
}

TEST_P(RegistryStoreTest, DuplicateUsernameOrCertificateIsDuplicate) {
  auto tx = Write();
  AddAccount(*tx, "an.nguyen", "ab12cd34");
  auto same_name = tx->InsertAccount(MakeAccount("an.nguyen"));
  EXPECT_EQ(same_name.status().id(), "store.duplicate");
  EXPECT_EQ(same_name.status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(tx->InsertAccount(MakeAccount("binh.tran", "ab12cd34")).status().id(),
            "store.duplicate");
  // Accounts without a certificate never collide on it.
  AddAccount(*tx, "binh.tran");
  AddAccount(*tx, "cuong.le");
  ASSERT_TRUE(tx->Commit().ok());
  auto all = Read()->ListAccounts(0, 100);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 3u);
}

TEST_P(RegistryStoreTest, UpdatesAndPagesAccounts) {
  auto tx = Write();
  const int64_t an = AddAccount(*tx, "an.nguyen");
  const int64_t binh = AddAccount(*tx, "binh.tran", "ffee");
  const int64_t cuong = AddAccount(*tx, "cuong.le");
  ASSERT_TRUE(tx->Commit().ok());

  tx = Write();
  const AccountRecord before = *tx->GetAccount(an);
  AccountRecord changed = before;
  changed.display_name = "Nguyễn Văn An";
  changed.role = "ca_operator";
  changed.certificate_fingerprint = "0011";
  changed.disabled = true;
  ASSERT_TRUE(tx->UpdateAccount(changed).ok());
  changed.version = before.version + 1;
  ExpectSameAccount(*tx->GetAccount(an), changed);
  ExpectSameAccount(*tx->GetAccountByCertificate("0011"), changed);

  EXPECT_EQ(tx->UpdateAccount(before).id(), "store.conflict");
  AccountRecord taken = changed;
  taken.certificate_fingerprint = "ffee";  // binh's
  EXPECT_EQ(tx->UpdateAccount(taken).id(), "store.duplicate");
  ExpectSameAccount(*tx->GetAccount(an), changed);
  AccountRecord missing = changed;
  missing.id = 999;
  EXPECT_EQ(tx->UpdateAccount(missing).id(), "store.not_found");
  ASSERT_TRUE(tx->Commit().ok());

  auto read = Read();
  auto first = read->ListAccounts(0, 2);
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->size(), 2u);
  EXPECT_EQ((*first)[0].id, an);
  EXPECT_EQ((*first)[1].id, binh);
  auto rest = read->ListAccounts(binh, 2);
  ASSERT_TRUE(rest.ok());
  ASSERT_EQ(rest->size(), 1u);
  EXPECT_EQ((*rest)[0].id, cuong);
}

// --- access tokens ---

TEST_P(RegistryStoreTest, AccessTokensAreStoredRevokedAndPurged) {
  auto tx = Write();
  const int64_t account = AddAccount(*tx, "an.nguyen");
  AccessTokenRecord api = MakeToken("aa01", account, kNow + 3600);
  api.kind = "api";
  api.name = "Hệ thống một cửa";
  ASSERT_TRUE(tx->InsertAccessToken(api).ok());
  ASSERT_TRUE(tx->InsertAccessToken(MakeToken("aa02", account, kNow + 60)).ok());
  ASSERT_TRUE(tx->InsertAccessToken(MakeToken("aa03", account, kNow + 120)).ok());
  auto duplicate = tx->InsertAccessToken(MakeToken("aa01", account, kNow));
  EXPECT_EQ(duplicate.id(), "store.duplicate");
  ASSERT_TRUE(tx->Commit().ok());

  auto got = Read()->GetAccessToken("aa01");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->token_hash, "aa01");
  EXPECT_EQ(got->account_id, account);
  EXPECT_EQ(got->kind, "api");
  EXPECT_EQ(got->name, "Hệ thống một cửa");
  EXPECT_EQ(got->csrf_hash, "c5faa01");
  EXPECT_EQ(got->created_at, kNow);
  EXPECT_EQ(got->expires_at, kNow + 3600);
  EXPECT_FALSE(got->revoked);
  EXPECT_EQ(Read()->GetAccessToken("zz99").status().id(), "store.not_found");

  tx = Write();
  ASSERT_TRUE(tx->RevokeAccessToken("aa01").ok());
  EXPECT_EQ(tx->RevokeAccessToken("zz99").id(), "store.not_found");
  // expires_at <= at goes: aa02 (kNow + 60) and aa03 (kNow + 120, exactly at).
  auto purged = tx->DeleteExpiredAccessTokens(kNow + 120);
  ASSERT_TRUE(purged.ok()) << purged.status().ToString();
  EXPECT_EQ(*purged, 2);
  ASSERT_TRUE(tx->Commit().ok());

  auto read = Read();
  EXPECT_TRUE(read->GetAccessToken("aa01")->revoked);
  EXPECT_EQ(read->GetAccessToken("aa02").status().id(), "store.not_found");
  EXPECT_EQ(read->GetAccessToken("aa03").status().id(), "store.not_found");
}

TEST_P(RegistryStoreTest, AccessTokensHaveIdsAndListPerAccountAndKind) {
  auto tx = Write();
  const int64_t an = AddAccount(*tx, "an.nguyen");
  const int64_t binh = AddAccount(*tx, "binh.tran");
  auto add = [&](const std::string& hash, int64_t account, const std::string& kind) {
    AccessTokenRecord token = MakeToken(hash, account, kNow + 3600);
    token.kind = kind;
    token.name = "token " + hash;
    token.id = 777;  // ignored by inserts
    EXPECT_TRUE(tx->InsertAccessToken(token).ok()) << hash;
  };
  add("aa01", an, "api");
  add("aa02", an, "session");
  add("aa03", binh, "api");
  add("aa04", an, "api");
  add("aa05", an, "api");
  ASSERT_TRUE(tx->RevokeAccessToken("aa04").ok());
  ASSERT_TRUE(tx->Commit().ok());

  auto read = Read();
  auto mine = read->ListAccessTokens(an, "api", 0, 10);
  ASSERT_TRUE(mine.ok()) << mine.status().ToString();
  std::vector<std::string> hashes;
  std::vector<int64_t> ids;
  for (const auto& t : *mine) {
    hashes.push_back(t.token_hash);
    ids.push_back(t.id);
  }
  // Only An's API tokens (not the session, not Bình's), the revoked one included, in id order.
  EXPECT_EQ(hashes, (std::vector<std::string>{"aa01", "aa04", "aa05"}));
  EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));
  EXPECT_EQ(std::adjacent_find(ids.begin(), ids.end()), ids.end());
  EXPECT_NE(ids[0], 777);
  EXPECT_TRUE((*mine)[1].revoked);
  EXPECT_EQ((*mine)[1].name, "token aa04");

  // Keyset pages.
  auto first = read->ListAccessTokens(an, "api", 0, 2);
  ASSERT_EQ(first->size(), 2u);
  auto rest = read->ListAccessTokens(an, "api", first->back().id, 2);
  ASSERT_EQ(rest->size(), 1u);
  EXPECT_EQ(rest->front().token_hash, "aa05");
  EXPECT_EQ(read->ListAccessTokens(an, "session", 0, 10)->size(), 1u);

  auto by_id = read->GetAccessTokenById(ids[2]);
  ASSERT_TRUE(by_id.ok()) << by_id.status().ToString();
  EXPECT_EQ(by_id->token_hash, "aa05");
  EXPECT_EQ(by_id->account_id, an);
  EXPECT_EQ(read->GetAccessToken("aa05")->id, ids[2]);
  EXPECT_EQ(read->GetAccessTokenById(999999).status().id(), "store.not_found");
}

// --- delegations ---

TEST_P(RegistryStoreTest, DelegationsAreInsertedWithdrawnAndListed) {
  auto tx = Write();
  const int64_t ministry = AddOrganization(*tx, "Bộ Tài chính");
  const int64_t province = AddOrganization(*tx, "Sở Tài chính Đà Nẵng");
  const int64_t office = AddOrganization(*tx, "Văn phòng đại diện miền Trung");
  const int64_t renewal = AddDelegation(*tx, office, ministry, {"renewal", "change_information"});
  const int64_t restore = AddDelegation(*tx, office, province, {"device_restore"});
  const int64_t other = AddDelegation(*tx, province, ministry, {"renewal"});
  ASSERT_TRUE(tx->Commit().ok());

  auto got = Read()->GetDelegation(renewal);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->id, renewal);
  EXPECT_EQ(got->delegate_organization_id, office);
  EXPECT_EQ(got->scope_organization_id, ministry);
  EXPECT_EQ(got->scope_path, Read()->GetOrganization(ministry)->path);
  EXPECT_EQ(got->kinds, (std::vector<std::string>{"renewal", "change_information"}));
  EXPECT_EQ(got->created_by, "account:1:ca-operator");
  EXPECT_EQ(got->created_at, kNow);
  EXPECT_FALSE(got->withdrawn_at.has_value());
  EXPECT_EQ(got->withdrawn_by, "");
  EXPECT_EQ(Read()->GetDelegation(999).status().id(), "store.not_found");

  tx = Write();
  ASSERT_TRUE(tx->WithdrawDelegation(restore, kNow + 100, "account:1:ca-operator").ok());
  auto twice = tx->WithdrawDelegation(restore, kNow + 200, "account:2:other");
  EXPECT_EQ(twice.id(), "store.conflict");
  EXPECT_EQ(twice.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(tx->WithdrawDelegation(999, kNow, "x").id(), "store.not_found");
  ASSERT_TRUE(tx->Commit().ok());

  auto read = Read();
  auto withdrawn = read->GetDelegation(restore);
  ASSERT_TRUE(withdrawn.ok());
  EXPECT_EQ(withdrawn->withdrawn_at, kNow + 100);  // the first withdrawal stands
  EXPECT_EQ(withdrawn->withdrawn_by, "account:1:ca-operator");

  auto ids = [](const std::vector<DelegationRecord>& delegations) {
    std::vector<int64_t> ids;
    for (const auto& d : delegations) ids.push_back(d.id);
    return ids;
  };
  DelegationFilter active;
  EXPECT_EQ(ids(*read->ListDelegations(active)), (std::vector<int64_t>{renewal, other}));
  DelegationFilter all;
  all.active_only = false;
  EXPECT_EQ(ids(*read->ListDelegations(all)), (std::vector<int64_t>{renewal, restore, other}));
  DelegationFilter of_office;
  of_office.delegate_organization_id = office;
  EXPECT_EQ(ids(*read->ListDelegations(of_office)), std::vector<int64_t>{renewal});
  of_office.active_only = false;
  EXPECT_EQ(ids(*read->ListDelegations(of_office)), (std::vector<int64_t>{renewal, restore}));
  all.limit = 2;
  EXPECT_EQ(ids(*read->ListDelegations(all)), (std::vector<int64_t>{renewal, restore}));
  auto listed = read->ListDelegations(of_office);
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[1].scope_path, read->GetOrganization(province)->path);
  EXPECT_EQ((*listed)[1].kinds, std::vector<std::string>{"device_restore"});
}

TEST_P(RegistryStoreTest, DelegationKindsRoundTripVerbatim) {
  auto tx = Write();
  const int64_t a = AddOrganization(*tx, "A");
  const int64_t b = AddOrganization(*tx, "B");
  const std::vector<std::string> odd = {"quote\"d",  "back\\slash", "comma,separated",
                                        "tab\tnl\n", "tiếng Việt",  ""};
  const int64_t with_odd = AddDelegation(*tx, a, b, odd);
  const int64_t empty = AddDelegation(*tx, a, b, {});
  EXPECT_EQ(tx->GetDelegation(with_odd)->kinds, odd);
  EXPECT_TRUE(tx->GetDelegation(empty)->kinds.empty());
}

TEST_P(RegistryStoreTest, DelegationOfUnknownBodyIsNotFound) {
  auto tx = Write();
  const int64_t a = AddOrganization(*tx, "A");
  DelegationRecord delegation;
  delegation.delegate_organization_id = a;
  delegation.scope_organization_id = 999;
  delegation.kinds = {"renewal"};
  EXPECT_EQ(tx->InsertDelegation(delegation).status().id(), "store.not_found");
  delegation.delegate_organization_id = 999;
  delegation.scope_organization_id = a;
  EXPECT_EQ(tx->InsertDelegation(delegation).status().id(), "store.not_found");
  EXPECT_TRUE(tx->ListDelegations({})->empty());
}

// --- server-held signing keys ---

TEST_P(RegistryStoreTest, SigningKeyOwnersAndGrantsRoundTrip) {
  auto tx = Write();
  const int64_t root = AddOrganization(*tx, "UBND tỉnh Bắc Giang");
  const int64_t stc = AddOrganization(*tx, "Sở Tài chính", root);
  const int64_t clerk = AddAccount(*tx, "vanthu.stc");
  const int64_t deputy = AddAccount(*tx, "phovanthu.stc");
  const int64_t other = AddAccount(*tx, "canbo.syt");
  SigningKeyAccess access;
  access.key_id = "bacgiang-stc";
  access.organization_id = stc;
  access.account_ids = {deputy, clerk, clerk};  // order and repeats do not matter
  access.created_by = "cli:root@host";
  access.created_at = kNow;
  ASSERT_TRUE(tx->InsertSigningKeyAccess(access).ok());
  SigningKeyAccess unused = access;
  unused.key_id = "unused";
  unused.account_ids = {};
  ASSERT_TRUE(tx->InsertSigningKeyAccess(unused).ok());
  EXPECT_EQ(tx->InsertSigningKeyAccess(access).id(), "store.duplicate");
  ASSERT_TRUE(tx->Commit().ok());

  auto read = Read();
  auto got = read->GetSigningKeyAccess("bacgiang-stc");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->organization_id, stc);
  EXPECT_EQ((*got)->organization_path,
            "/" + std::to_string(root) + "/" + std::to_string(stc) + "/");
  EXPECT_EQ((*got)->account_ids,
            (std::vector<int64_t>{std::min(clerk, deputy), std::max(clerk, deputy)}));
  EXPECT_EQ((*got)->created_by, "cli:root@host");
  EXPECT_EQ((*got)->created_at, kNow);
  EXPECT_FALSE(read->GetSigningKeyAccess("khong-co")->has_value());
  auto all = read->ListSigningKeyAccess(std::nullopt);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].key_id, "bacgiang-stc");
  EXPECT_EQ((*all)[1].key_id, "unused");
  auto clerks = read->ListSigningKeyAccess(clerk);
  ASSERT_TRUE(clerks.ok());
  ASSERT_EQ(clerks->size(), 1u);
  EXPECT_EQ((*clerks)[0].key_id, "bacgiang-stc");
  EXPECT_TRUE(read->ListSigningKeyAccess(other)->empty());
}

TEST_P(RegistryStoreTest, SigningKeyWithUnknownBodyOrAccountWritesNothing) {
  auto tx = Write();
  const int64_t body = AddOrganization(*tx, "Sở Tài chính");
  SigningKeyAccess access;
  access.key_id = "k";
  access.organization_id = 999;
  EXPECT_EQ(tx->InsertSigningKeyAccess(access).id(), "store.not_found");
  access.organization_id = body;
  access.account_ids = {999};
  EXPECT_EQ(tx->InsertSigningKeyAccess(access).id(), "store.not_found");
  EXPECT_FALSE(tx->GetSigningKeyAccess("k")->has_value());
  access.account_ids = {};
  EXPECT_TRUE(tx->InsertSigningKeyAccess(access).ok());
}

// --- requests ---

TEST_P(RegistryStoreTest, InsertsAndUpdatesRequests) {
  auto tx = Write();
  const int64_t ca = *tx->InsertCa(MakeCa());
  const int64_t root = AddOrganization(*tx, "Bộ Tài chính");
  const int64_t unit = AddOrganization(*tx, "Vụ Pháp chế", root);
  const int64_t office = AddOrganization(*tx, "Văn phòng đại diện");
  const int64_t delegation = AddDelegation(*tx, office, root, {"renewal"});
  const int64_t person = AddPerson(*tx, unit, "001234567890");
  const int64_t account = AddAccount(*tx, "vanthu");
  const int64_t old_cert = *tx->InsertCertificate(MakeCert(ca, "01", unit, kNow + 100));
  const int64_t new_cert = *tx->InsertCertificate(MakeCert(ca, "02", unit, kNow + 900));

  RequestRecord request = MakeRequest(unit, account, "renewal");
  request.person_id = person;
  request.certificate_id = old_cert;
  request.idempotency_key = "8c6f-01";
  auto id = tx->InsertRequest(request);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  ASSERT_TRUE(tx->Commit().ok());
  request.id = *id;
  request.organization_path = Read()->GetOrganization(unit)->path;
  request.version = 1;
  ExpectSameRequest(*Read()->GetRequest(*id), request);
  EXPECT_EQ(Read()->GetRequest(*id + 1).status().id(), "store.not_found");

  tx = Write();
  RequestRecord submitted = request;
  submitted.state = "submitted";
  submitted.assignee = "delegation:" + std::to_string(delegation);
  submitted.delegation_id = delegation;
  submitted.form_json = R"({"reason":"hết hạn"})";
  submitted.signed_document = {0x7B, 0x7D};
  submitted.signature = {0x30, 0x80, 0x06, 0x09};
  submitted.signer = "CN=Văn thư,O=Bộ Tài chính,C=VN";
  submitted.submitted_at = kNow + 10;
  submitted.due_at = kNow + 10 + 3 * kSecondsPerDay;
  submitted.result_certificate_id = new_cert;
  submitted.result_note = "đã cấp";
  submitted.updated_at = kNow + 10;
  ASSERT_TRUE(tx->UpdateRequest(submitted).ok());
  submitted.version = 2;
  ExpectSameRequest(*tx->GetRequest(*id), submitted);

  // Only the mutable fields are written: kind, organization, creator and key stay.
  RequestRecord immutable = submitted;
  immutable.kind = "revocation";
  immutable.organization_id = root;
  immutable.created_by = account + 1;
  immutable.idempotency_key = "other";
  immutable.created_at = 1;
  ASSERT_TRUE(tx->UpdateRequest(immutable).ok());
  submitted.version = 3;
  ExpectSameRequest(*tx->GetRequest(*id), submitted);

  RequestRecord stale = request;  // version 1, stored 3
  stale.state = "rejected";
  auto conflict = tx->UpdateRequest(stale);
  EXPECT_EQ(conflict.id(), "store.conflict");
  EXPECT_EQ(conflict.code(), StatusCode::kFailedPrecondition);
  ExpectSameRequest(*tx->GetRequest(*id), submitted);
  RequestRecord missing = submitted;
  missing.id = *id + 100;
  EXPECT_EQ(tx->UpdateRequest(missing).id(), "store.not_found");
  ASSERT_TRUE(tx->Commit().ok());
  ExpectSameRequest(*Read()->GetRequest(*id), submitted);
}

TEST_P(RegistryStoreTest, RequestOfUnknownOrganizationIsNotFound) {
  auto tx = Write();
  const int64_t account = AddAccount(*tx, "vanthu");
  auto orphan = tx->InsertRequest(MakeRequest(999, account));
  EXPECT_EQ(orphan.status().id(), "store.not_found");
  EXPECT_EQ(orphan.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(*tx->CountRequests({}), 0);
}

TEST_P(RegistryStoreTest, IdempotencyKeyIsUniquePerCreator) {
  auto tx = Write();
  const int64_t root = AddOrganization(*tx, "Bộ Tài chính");
  const int64_t first = AddAccount(*tx, "vanthu");
  const int64_t second = AddAccount(*tx, "vanthu2");
  RequestRecord keyed = MakeRequest(root, first);
  keyed.idempotency_key = "k-1";
  ASSERT_TRUE(tx->InsertRequest(keyed).ok());
  auto again = tx->InsertRequest(keyed);
  EXPECT_EQ(again.status().id(), "store.duplicate");
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists);
  // The same key from someone else is another request.
  keyed.created_by = second;
  EXPECT_TRUE(tx->InsertRequest(keyed).ok());
  // Requests without a key never collide.
  RequestRecord unkeyed = MakeRequest(root, first);
  EXPECT_TRUE(tx->InsertRequest(unkeyed).ok());
  EXPECT_TRUE(tx->InsertRequest(unkeyed).ok());
  ASSERT_TRUE(tx->Commit().ok());
  EXPECT_EQ(*Read()->CountRequests({}), 4);
}

TEST_P(RegistryStoreTest, ListsRequestsByEveryFilter) {
  auto tx = Write();
  // Bodies 1..12: "/1/" and "/1x/" are both present, so prefix matching is put to the test.
  const int64_t ministry = AddOrganization(*tx, "Bộ Tài chính");
  const int64_t tax = AddOrganization(*tx, "Tổng cục Thuế", ministry);
  const int64_t hanoi = AddOrganization(*tx, "Cục Thuế Hà Nội", tax);
  const int64_t treasury = AddOrganization(*tx, "Kho bạc", ministry);
  for (int i = 0; i < 6; ++i) AddOrganization(*tx, "Tỉnh " + std::to_string(i));
  const int64_t health = AddOrganization(*tx, "Bộ Y tế");
  const int64_t drugs = AddOrganization(*tx, "Cục Quản lý Dược", health);
  ASSERT_GE(health, 10);
  const int64_t person = AddPerson(*tx, hanoi, "001234567890");
  const int64_t clerk = AddAccount(*tx, "vanthu");
  const int64_t other_clerk = AddAccount(*tx, "vanthu2");

  const std::vector<int64_t> bodies = {ministry, tax, hanoi, treasury, health, drugs};
  const std::vector<std::string> kinds = {"new_individual", "renewal", "revocation"};
  const std::vector<std::string> states = {"draft", "submitted", "approved", "issued"};
  const std::vector<std::string> assignees = {"", "ca", "delegation:1"};
  std::vector<RequestRecord> all;
  for (int i = 0; i < 60; ++i) {
    RequestRecord request = MakeRequest(bodies[i % bodies.size()], i % 5 == 0 ? other_clerk : clerk,
                                        kinds[i % kinds.size()], states[(i / 2) % states.size()]);
    request.assignee = assignees[(i / 3) % assignees.size()];
    if (i % 4 == 0) request.person_id = person;
    if (i % 3 != 0) request.due_at = kNow + i * 3600;
    AddRequest(*tx, request);
    all.push_back(request);
  }
  ASSERT_TRUE(tx->Commit().ok());

  auto read = Read();
  const std::string ministry_path = read->GetOrganization(ministry)->path;
  const std::string tax_path = read->GetOrganization(tax)->path;
  const std::string health_path = read->GetOrganization(health)->path;
  const std::string drugs_path = read->GetOrganization(drugs)->path;

  std::vector<std::pair<std::string, RequestFilter>> filters;
  auto add = [&](std::string name, RequestFilter filter) {
    filters.emplace_back(std::move(name), std::move(filter));
  };
  add("everything", {});
  RequestFilter f;
  f.path_prefix = ministry_path;
  add("ministry subtree", f);
  f = {};
  f.path_prefix = tax_path;
  add("tax subtree", f);
  f = {};
  f.path_prefix = "/";
  add("root prefix", f);
  f = {};
  f.path_prefix = "/1";  // not a whole path: "/1/...", "/10/", "/11/..."
  add("partial prefix", f);
  f = {};
  f.path_prefix = "/11";
  add("partial prefix of one root", f);
  f = {};
  f.path_prefix = drugs_path;
  add("leaf subtree", f);
  f = {};
  f.path_prefixes = {tax_path, drugs_path};
  add("two subtrees", f);
  f = {};
  f.path_prefix = ministry_path;
  f.path_prefixes = {tax_path, health_path};
  add("subtree and any of", f);
  f = {};
  f.organization_id = hanoi;
  add("one body", f);
  f = {};
  f.organization_id = 999;
  add("unknown body", f);
  f = {};
  f.person_id = person;
  add("person", f);
  f = {};
  f.created_by = other_clerk;
  add("creator", f);
  f = {};
  f.kinds = {"renewal"};
  add("one kind", f);
  f = {};
  f.kinds = {"renewal", "revocation"};
  add("two kinds", f);
  f = {};
  f.states = {"submitted"};
  add("one state", f);
  f = {};
  f.states = {"submitted", "approved"};
  add("two states", f);
  f = {};
  f.assignee = "ca";
  add("assignee", f);
  f = {};
  f.assignee = "ca";
  f.states = {"submitted"};
  add("assignee and state", f);
  f = {};
  f.assignee = "ca";
  f.states = {"submitted", "approved"};
  add("assignee and states", f);
  f = {};
  f.due_before = kNow + 30 * 3600;
  add("due before", f);
  f = {};
  f.due_before = kNow + 50 * 3600;
  f.states = {"submitted", "approved"};
  add("overdue", f);
  f = {};
  f.path_prefix = ministry_path;
  f.states = {"submitted", "approved"};
  add("subtree and states", f);
  f = {};
  f.path_prefix = ministry_path;
  f.states = {"draft"};
  f.kinds = {"new_individual", "renewal"};
  f.created_by = clerk;
  add("many at once", f);
  f = {};
  f.limit = 7;
  add("limit", f);
  f = {};
  f.after_id = all[20].id;
  f.limit = 10;
  add("after id", f);
  f = {};
  f.newest_first = true;
  f.limit = 10;
  add("newest first", f);
  f = {};
  f.newest_first = true;
  f.before_id = all[30].id;
  f.limit = 10;
  f.path_prefix = ministry_path;
  add("newest first before id in a subtree", f);

  for (const auto& [name, filter] : filters) {
    SCOPED_TRACE(name);
    auto listed = read->ListRequests(filter);
    ASSERT_TRUE(listed.ok()) << listed.status().ToString();
    EXPECT_EQ(RequestIds(*listed), Expected(filter, all));
    // The count ignores the page.
    RequestFilter unpaged = filter;
    unpaged.after_id = 0;
    unpaged.before_id = 0;
    unpaged.limit = 1000;
    unpaged.newest_first = false;
    auto count = read->CountRequests(filter);
    ASSERT_TRUE(count.ok()) << count.status().ToString();
    EXPECT_EQ(*count, static_cast<int64_t>(Expected(unpaged, all).size()));
  }
  // The filters are not vacuous.
  RequestFilter subtree;
  subtree.path_prefix = tax_path;
  EXPECT_EQ(Expected(subtree, all).size(), 20u);
  RequestFilter whole;
  whole.path_prefix = ministry_path;
  EXPECT_EQ(Expected(whole, all).size(), 40u);  // not the requests of "/11/..."
  RequestFilter partial;
  partial.path_prefix = "/11";
  EXPECT_EQ(Expected(partial, all).size(), 20u);

  // Rows come back whole.
  auto one = read->ListRequests(RequestFilter{.organization_id = hanoi, .limit = 1});
  ASSERT_TRUE(one.ok());
  ASSERT_EQ(one->size(), 1u);
  ExpectSameRequest(one->front(), all[2]);
}

TEST_P(RegistryStoreTest, PagesThroughRequestsBothWays) {
  auto tx = Write();
  const int64_t root = AddOrganization(*tx, "Bộ Tài chính");
  const int64_t unit = AddOrganization(*tx, "Vụ Pháp chế", root);
  const int64_t other = AddOrganization(*tx, "Bộ Y tế");
  const int64_t clerk = AddAccount(*tx, "vanthu");
  std::vector<int64_t> in_subtree;
  for (int i = 0; i < 25; ++i) {
    RequestRecord request = MakeRequest(i % 3 == 0 ? other : (i % 2 ? root : unit), clerk);
    AddRequest(*tx, request);
    if (i % 3 != 0) in_subtree.push_back(request.id);
  }
  ASSERT_TRUE(tx->Commit().ok());
  auto read = Read();

  RequestFilter forward;
  forward.path_prefix = read->GetOrganization(root)->path;
  forward.limit = 4;
  std::vector<int64_t> seen;
  while (true) {
    auto page = read->ListRequests(forward);
    ASSERT_TRUE(page.ok());
    if (page->empty()) break;
    for (const auto& request : *page) seen.push_back(request.id);
    forward.after_id = page->back().id;
  }
  EXPECT_EQ(seen, in_subtree);

  RequestFilter backward = forward;
  backward.after_id = 0;
  backward.newest_first = true;
  seen.clear();
  while (true) {
    auto page = read->ListRequests(backward);
    ASSERT_TRUE(page.ok());
    if (page->empty()) break;
    for (const auto& request : *page) seen.push_back(request.id);
    backward.before_id = page->back().id;
  }
  std::vector<int64_t> reversed(in_subtree.rbegin(), in_subtree.rend());
  EXPECT_EQ(seen, reversed);
  EXPECT_EQ(*read->CountRequests(backward), static_cast<int64_t>(in_subtree.size()));
}

TEST_P(RegistryStoreTest, RequestEventsComeBackInOrder) {
  auto tx = Write();
  const int64_t root = AddOrganization(*tx, "Bộ Tài chính");
  const int64_t clerk = AddAccount(*tx, "vanthu");
  RequestRecord first = MakeRequest(root, clerk);
  AddRequest(*tx, first);
  RequestRecord second = MakeRequest(root, clerk);
  AddRequest(*tx, second);
  const std::vector<std::pair<std::string, std::string>> steps = {
      {"draft", "submitted"}, {"submitted", "approved"}, {"approved", "issued"}};
  std::vector<int64_t> ids;
  for (size_t i = 0; i < steps.size(); ++i) {
    RequestEventRecord event;
    event.request_id = first.id;
    event.from_state = steps[i].first;
    event.to_state = steps[i].second;
    event.actor = "account:" + std::to_string(clerk) + ":vanthu";
    event.time = kNow + static_cast<int64_t>(i);
    event.reason = i == 1 ? "hồ sơ đầy đủ" : "";
    auto id = tx->InsertRequestEvent(event);
    ASSERT_TRUE(id.ok()) << id.status().ToString();
    ids.push_back(*id);
    // Interleave an event of the other request.
    RequestEventRecord noise = event;
    noise.request_id = second.id;
    ASSERT_TRUE(tx->InsertRequestEvent(noise).ok());
  }
  RequestEventRecord orphan;
  orphan.request_id = 999;
  orphan.from_state = "draft";
  orphan.to_state = "submitted";
  EXPECT_EQ(tx->InsertRequestEvent(orphan).status().id(), "store.not_found");
  ASSERT_TRUE(tx->Commit().ok());

  auto events = Read()->ListRequestEvents(first.id);
  ASSERT_TRUE(events.ok()) << events.status().ToString();
  ASSERT_EQ(events->size(), 3u);
  for (size_t i = 0; i < steps.size(); ++i) {
    EXPECT_EQ((*events)[i].id, ids[i]);
    EXPECT_EQ((*events)[i].request_id, first.id);
    EXPECT_EQ((*events)[i].from_state, steps[i].first);
    EXPECT_EQ((*events)[i].to_state, steps[i].second);
    EXPECT_EQ((*events)[i].actor, "account:" + std::to_string(clerk) + ":vanthu");
    EXPECT_EQ((*events)[i].time, kNow + static_cast<int64_t>(i));
  }
  EXPECT_EQ((*events)[1].reason, "hồ sơ đầy đủ");
  EXPECT_TRUE(Read()->ListRequestEvents(999)->empty());
}

// --- idempotency records ---

TEST_P(RegistryStoreTest, IdempotencyRecordsAreKeptPerAccount) {
  auto tx = Write();
  const int64_t first = AddAccount(*tx, "vanthu");
  const int64_t second = AddAccount(*tx, "vanthu2");
  auto none = tx->GetIdempotency(first, "k-1");
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_FALSE(none->has_value());

  IdempotencyRecord record;
  record.account_id = first;
  record.key = "k-1";
  record.fingerprint = "9f86d081884c7d65";
  record.status = 201;
  record.response = R"({"id":17})";
  record.created_at = kNow;
  ASSERT_TRUE(tx->InsertIdempotency(record).ok());
  auto again = tx->InsertIdempotency(record);
  EXPECT_EQ(again.id(), "store.duplicate");
  EXPECT_EQ(again.code(), StatusCode::kAlreadyExists);
  record.account_id = second;
  record.status = 400;
  ASSERT_TRUE(tx->InsertIdempotency(record).ok());
  ASSERT_TRUE(tx->Commit().ok());

  auto read = Read();
  auto got = read->GetIdempotency(first, "k-1");
  ASSERT_TRUE(got.ok());
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->account_id, first);
  EXPECT_EQ((*got)->key, "k-1");
  EXPECT_EQ((*got)->fingerprint, "9f86d081884c7d65");
  EXPECT_EQ((*got)->status, 201);
  EXPECT_EQ((*got)->response, R"({"id":17})");
  EXPECT_EQ((*got)->created_at, kNow);
  EXPECT_EQ((*read->GetIdempotency(second, "k-1"))->status, 400);
  EXPECT_FALSE(read->GetIdempotency(first, "k-2")->has_value());
}

// --- outbox ---

TEST_P(RegistryStoreTest, OutboxDedupesAndTracksAttempts) {
  auto tx = Write();
  auto early = tx->InsertOutboxMessage(MakeMessage("expiry:7:30d", kNow));
  ASSERT_TRUE(early.ok()) << early.status().ToString();
  auto later = tx->InsertOutboxMessage(MakeMessage("expiry:8:30d", kNow + 600));
  ASSERT_TRUE(later.ok());
  auto third = tx->InsertOutboxMessage(MakeMessage("overdue:3", kNow - 60));
  ASSERT_TRUE(third.ok());
  auto duplicate = tx->InsertOutboxMessage(MakeMessage("expiry:7:30d", kNow + 5));
  EXPECT_EQ(duplicate.status().id(), "store.duplicate");
  EXPECT_EQ(duplicate.status().code(), StatusCode::kAlreadyExists);
  ASSERT_TRUE(tx->Commit().ok());

  auto ids = [](const std::vector<OutboxMessage>& messages) {
    std::vector<int64_t> ids;
    for (const auto& m : messages) ids.push_back(m.id);
    return ids;
  };
  auto read = Read();
  auto due = read->ListDueOutboxMessages(kNow, 10);
  ASSERT_TRUE(due.ok()) << due.status().ToString();
  EXPECT_EQ(ids(*due), (std::vector<int64_t>{*early, *third}));
  const OutboxMessage& message = due->front();
  EXPECT_EQ(message.dedupe_key, "expiry:7:30d");
  EXPECT_EQ(message.channel, "email");
  EXPECT_EQ(message.recipient, "vanthu@mof.gov.vn");
  EXPECT_EQ(message.subject, "Chứng thư số sắp hết hạn");
  EXPECT_EQ(message.body, "Kính gửi ...");
  EXPECT_EQ(message.created_at, kNow);
  EXPECT_EQ(message.next_attempt_at, kNow);
  EXPECT_FALSE(message.sent_at.has_value());
  EXPECT_EQ(message.attempts, 0);
  EXPECT_EQ(message.last_error, "");
  EXPECT_EQ(ids(*read->ListDueOutboxMessages(kNow + 600, 2)),
            (std::vector<int64_t>{*early, *later}));
  read.reset();

  tx = Write();
  ASSERT_TRUE(tx->MarkOutboxSent(*early, kNow + 1).ok());
  ASSERT_TRUE(tx->MarkOutboxFailed(*third, "550 mailbox unavailable", kNow + 300).ok());
  ASSERT_TRUE(tx->MarkOutboxFailed(*third, "421 try again", kNow + 900).ok());
  EXPECT_EQ(tx->MarkOutboxSent(999, kNow).id(), "store.not_found");
  EXPECT_EQ(tx->MarkOutboxFailed(999, "x", kNow).id(), "store.not_found");
  ASSERT_TRUE(tx->Commit().ok());

  read = Read();
  // Sent messages are never due again; the failed one waits for its next attempt.
  EXPECT_TRUE(read->ListDueOutboxMessages(kNow + 100, 10)->empty());
  auto retried = read->ListDueOutboxMessages(kNow + 900, 10);
  ASSERT_TRUE(retried.ok());
  EXPECT_EQ(ids(*retried), (std::vector<int64_t>{*later, *third}));
  EXPECT_EQ(retried->back().attempts, 2);
  EXPECT_EQ(retried->back().last_error, "421 try again");
  EXPECT_EQ(retried->back().next_attempt_at, kNow + 900);
  EXPECT_EQ(read->ListDueOutboxMessages(kNow + 1000000, 10)->size(), 2u);
}

// --- expiry counts ---

TEST_P(RegistryStoreTest, RemindersAreListedByScopeCertificateWindowAndState) {
  auto tx = Write();
  const int64_t ca = *tx->InsertCa(MakeCa());
  const int64_t province = AddOrganization(*tx, "UBND tỉnh Bắc Giang");
  const int64_t dept = AddOrganization(*tx, "Sở Y tế", province);
  const int64_t other = AddOrganization(*tx, "UBND tỉnh Lạng Sơn");
  const int64_t person = AddPerson(*tx, dept, "024190001234");
  auto cert = [&](const std::string& serial, std::optional<int64_t> org,
                  std::optional<int64_t> owner = std::nullopt) {
    CertificateRecord record = MakeCert(ca, serial, org, kNow + 20 * kSecondsPerDay);
    record.owner_id = owner;
    auto id = tx->InsertCertificate(record);
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    return id.ok() ? *id : 0;
  };
  const int64_t in_dept = cert("0A01", dept, person);
  const int64_t in_province = cert("0A02", province);
  const int64_t elsewhere = cert("0A03", other);
  const int64_t no_body = cert("0A04", std::nullopt);
  auto remind = [&](int64_t certificate, int64_t days) {
    OutboxMessage message =
        MakeMessage("expiry:" + std::to_string(certificate) + ":" + std::to_string(days), kNow);
    message.certificate_id = certificate;
    message.reminder_days = days;
    auto id = tx->InsertOutboxMessage(message);
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    return id.ok() ? *id : 0;
  };
  const int64_t r1 = remind(in_dept, 90);
  const int64_t r2 = remind(in_dept, 30);
  const int64_t r3 = remind(in_province, 30);
  const int64_t r4 = remind(elsewhere, 60);
  const int64_t r5 = remind(no_body, 30);
  ASSERT_TRUE(tx->InsertOutboxMessage(MakeMessage("overdue:3", kNow)).ok());  // not a reminder
  OutboxMessage orphan = MakeMessage("expiry:999999:30", kNow);
  orphan.certificate_id = 999999;
  orphan.reminder_days = 30;
  EXPECT_EQ(tx->InsertOutboxMessage(orphan).status().id(), "store.not_found");
  ASSERT_TRUE(tx->MarkOutboxSent(r1, kNow + 100).ok());
  ASSERT_TRUE(tx->MarkOutboxSent(r3, kNow + 200).ok());
  ASSERT_TRUE(tx->MarkOutboxFailed(r4, "421 try again", kNow + 300).ok());
  ASSERT_TRUE(tx->Commit().ok());

  auto read = Read();
  auto ids = [&](const ReminderFilter& filter) {
    auto list = read->ListReminders(filter);
    EXPECT_TRUE(list.ok()) << list.status().ToString();
    std::vector<int64_t> out;
    if (list.ok()) {
      for (const auto& r : *list) out.push_back(r.message.id);
    }
    return out;
  };
  using Ids = std::vector<int64_t>;
  EXPECT_EQ(ids({}), (Ids{r1, r2, r3, r4, r5}));
  auto all = read->ListReminders({});
  const ReminderEntry& first = all->front();
  EXPECT_EQ(first.message.certificate_id, in_dept);
  EXPECT_EQ(first.message.reminder_days, 90);
  EXPECT_EQ(first.message.sent_at, kNow + 100);
  EXPECT_EQ(first.serial_hex, "0A01");
  EXPECT_EQ(first.common_name, "Nguyễn Văn An");
  EXPECT_EQ(first.not_after, kNow + 20 * kSecondsPerDay);
  EXPECT_EQ(first.organization_id, dept);
  EXPECT_FALSE(all->back().organization_id.has_value());

  const std::string province_path = read->GetOrganization(province)->path;
  const std::string dept_path = read->GetOrganization(dept)->path;
  ReminderFilter filter;
  filter.path_prefix = province_path;
  EXPECT_EQ(ids(filter), (Ids{r1, r2, r3}));
  filter.path_prefix = dept_path;
  EXPECT_EQ(ids(filter), (Ids{r1, r2}));
  filter = {};
  filter.owner_id = person;
  EXPECT_EQ(ids(filter), (Ids{r1, r2}));
  filter = {};
  filter.certificate_ids = {in_province, elsewhere};
  EXPECT_EQ(ids(filter), (Ids{r3, r4}));
  filter = {};
  filter.reminder_days = 30;
  EXPECT_EQ(ids(filter), (Ids{r2, r3, r5}));
  filter = {};
  filter.state = "sent";
  EXPECT_EQ(ids(filter), (Ids{r1, r3}));
  filter.state = "queued";
  EXPECT_EQ(ids(filter), (Ids{r2, r5}));
  filter.state = "retrying";
  EXPECT_EQ(ids(filter), (Ids{r4}));
  filter.state = "lost";
  EXPECT_EQ(read->ListReminders(filter).status().id(), "store.invalid_record");
  filter = {};
  filter.sent_from = kNow + 150;
  EXPECT_EQ(ids(filter), (Ids{r3}));
  filter = {};
  filter.sent_before = kNow + 150;
  EXPECT_EQ(ids(filter), (Ids{r1}));
  filter = {};
  filter.limit = 2;
  EXPECT_EQ(ids(filter), (Ids{r1, r2}));
  filter.after_id = r2;
  EXPECT_EQ(ids(filter), (Ids{r3, r4}));
  // The outbox's own reads carry the reminder's columns.
  auto due = read->ListDueOutboxMessages(kNow, 10);
  ASSERT_TRUE(due.ok());
  EXPECT_EQ(due->front().certificate_id, in_dept);
  EXPECT_EQ(due->front().reminder_days, 30);
}

TEST_P(RegistryStoreTest, AttachmentsAreStoredListedWithoutDataAndDeleted) {
  auto tx = Write();
  const int64_t org = AddOrganization(*tx, "Sở Y tế");
  const int64_t account = AddAccount(*tx, "officer");
  RequestRecord request = MakeRequest(org, account);
  AddRequest(*tx, request);
  RequestRecord other = MakeRequest(org, account);
  AddRequest(*tx, other);
  auto attach = [&](int64_t request_id, const std::string& name, Bytes data) {
    AttachmentRecord a;
    a.request_id = request_id;
    a.filename = name;
    a.content_type = "application/pdf";
    a.size = static_cast<int64_t>(data.size());
    a.sha256 = "ab" + name;
    a.data = std::move(data);
    a.created_by = "account:1:officer";
    a.created_at = kNow;
    return tx->InsertAttachment(a);
  };
  Bytes pdf(300000);
  for (size_t i = 0; i < pdf.size(); ++i) pdf[i] = static_cast<uint8_t>(i * 7);
  auto first = attach(request.id, "Quyết định bổ nhiệm.pdf", pdf);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto second = attach(request.id, "CCCD.pdf", Bytes{'%', 'P', 'D', 'F'});
  ASSERT_TRUE(second.ok());
  ASSERT_TRUE(attach(other.id, "khác.pdf", Bytes{1}).ok());
  EXPECT_EQ(attach(999999, "x.pdf", Bytes{1}).status().id(), "store.not_found");
  ASSERT_TRUE(tx->Commit().ok());

  auto read = Read();
  auto list = read->ListAttachments(request.id);
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].id, *first);
  EXPECT_EQ((*list)[0].filename, "Quyết định bổ nhiệm.pdf");
  EXPECT_EQ((*list)[0].size, 300000);
  EXPECT_TRUE((*list)[0].data.empty());  // lists carry no data
  EXPECT_EQ((*list)[1].id, *second);
  auto got = read->GetAttachment(*first);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->data, pdf);
  EXPECT_EQ(got->request_id, request.id);
  EXPECT_EQ(got->content_type, "application/pdf");
  EXPECT_EQ(got->created_by, "account:1:officer");
  EXPECT_EQ(read->GetAttachment(999999).status().id(), "store.not_found");
  read.reset();

  tx = Write();
  ASSERT_TRUE(tx->DeleteAttachment(*first).ok());
  EXPECT_EQ(tx->DeleteAttachment(*first).id(), "store.not_found");
  ASSERT_TRUE(tx->Commit().ok());
  EXPECT_EQ(Read()->ListAttachments(request.id)->size(), 1u);
}

TEST_P(RegistryStoreTest, CountsValidCertificatesExpiringPerOrganization) {
  auto tx = Write();
  const int64_t ca = *tx->InsertCa(MakeCa());
  const UnixSeconds from = kNow + 30 * kSecondsPerDay;
  const UnixSeconds before = kNow + 60 * kSecondsPerDay;
  int serial = 0;
  auto add = [&](std::optional<int64_t> organization, UnixSeconds not_after) {
    auto id =
        tx->InsertCertificate(MakeCert(ca, std::to_string(++serial), organization, not_after));
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    return id.ok() ? *id : 0;
  };
  add(7, from);                   // counted: from is inside
  add(7, before - 1);             // counted
  add(7, before);                 // outside: before is not
  add(7, from - 1);               // outside
  add(3, from + 100);             // counted
  add(std::nullopt, from + 100);  // no organization: not counted
  const int64_t revoked = add(3, from + 200);
  add(12, kNow);  // long expired
  Revocation revocation;
  revocation.revoked_at = kNow;
  revocation.reason = RevocationReason::kKeyCompromise;
  ASSERT_TRUE(tx->MarkRevoked(revoked, revocation).ok());
  ASSERT_TRUE(tx->Commit().ok());

  auto counts = Read()->CountExpiringByOrganization(from, before);
  ASSERT_TRUE(counts.ok()) << counts.status().ToString();
  ASSERT_EQ(counts->size(), 2u);
  EXPECT_EQ((*counts)[0].organization_id, 3);
  EXPECT_EQ((*counts)[0].count, 1);
  EXPECT_EQ((*counts)[1].organization_id, 7);
  EXPECT_EQ((*counts)[1].count, 2);
  auto next = Read()->CountExpiringByOrganization(before, before + 1);
  ASSERT_TRUE(next.ok());
  ASSERT_EQ(next->size(), 1u);
  EXPECT_EQ((*next)[0].organization_id, 7);
  EXPECT_EQ((*next)[0].count, 1);
  EXPECT_TRUE(Read()->CountExpiringByOrganization(from, from)->empty());
}

TEST_P(RegistryStoreTest, CountsExpiryWindowsOfASubtreeInOnePass) {
  auto tx = Write();
  OrganizationRecord root_record;
  root_record.name = "Tỉnh";
  const int64_t root = tx->InsertOrganization(root_record).value();
  OrganizationRecord child_record;
  child_record.name = "Sở";
  child_record.parent_id = root;
  const int64_t child = tx->InsertOrganization(child_record).value();
  OrganizationRecord other_record;
  other_record.name = "Tỉnh khác";
  const int64_t other = tx->InsertOrganization(other_record).value();
  const int64_t ca = *tx->InsertCa(MakeCa());
  int serial = 0;
  auto add = [&](int64_t org, UnixSeconds not_after) {
    auto id = tx->InsertCertificate(MakeCert(ca, "E" + std::to_string(++serial), org, not_after));
    EXPECT_TRUE(id.ok()) << id.status().ToString();
  };
  const UnixSeconds day = kSecondsPerDay;
  add(child, kNow + 10 * day);
  add(child, kNow + 50 * day);
  add(child, kNow + 80 * day);
  add(child, kNow + 200 * day);  // outside every window
  add(root, kNow + 20 * day);
  add(other, kNow + 5 * day);
  add(child, kNow - day);  // already expired
  ASSERT_TRUE(tx->Commit().ok());
  const std::vector<UnixSeconds> windows = {kNow + 30 * day, kNow + 60 * day, kNow + 90 * day};
  const std::string root_path = "/" + std::to_string(root) + "/";
  auto counts = Read()->CountExpiringInSubtree(kNow, windows, root_path);
  ASSERT_TRUE(counts.ok()) << counts.status().ToString();
  ASSERT_EQ(counts->size(), 2u);  // the other province is outside the subtree
  EXPECT_EQ((*counts)[0].organization_id, root);
  EXPECT_EQ((*counts)[0].organization_name, "Tỉnh");
  EXPECT_EQ((*counts)[0].counts, (std::vector<int64_t>{1, 1, 1}));
  EXPECT_EQ((*counts)[1].organization_id, child);
  EXPECT_EQ((*counts)[1].counts, (std::vector<int64_t>{1, 2, 3}));
  auto all = Read()->CountExpiringInSubtree(kNow, windows, "");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 3u);
  EXPECT_EQ(Read()->CountExpiringInSubtree(kNow, {}, "").status().id(), "store.invalid_record");
}

// --- transactions ---

TEST_P(RegistryStoreTest, ReadTransactionRefusesRegistryWrites) {
  int64_t org = 0;
  int64_t person = 0;
  int64_t account = 0;
  int64_t delegation = 0;
  int64_t outbox = 0;
  RequestRecord request;
  {
    auto tx = Write();
    org = AddOrganization(*tx, "Bộ Tài chính");
    person = AddPerson(*tx, org, "001234567890");
    account = AddAccount(*tx, "vanthu");
    delegation = AddDelegation(*tx, org, org, {"renewal"});
    ASSERT_TRUE(tx->InsertAccessToken(MakeToken("aa01", account, kNow + 60)).ok());
    request = MakeRequest(org, account);
    AddRequest(*tx, request);
    outbox = *tx->InsertOutboxMessage(MakeMessage("m", kNow));
    ASSERT_TRUE(tx->Commit().ok());
  }
  auto tx = Read();
  auto read_only = [](const Status& status) { return status.id() == "store.read_only"; };
  EXPECT_TRUE(read_only(tx->InsertOrganization(MakeOrganization("x")).status()));
  OrganizationRecord stored_org = *tx->GetOrganization(org);
  EXPECT_TRUE(read_only(tx->UpdateOrganization(stored_org)));
  EXPECT_TRUE(read_only(tx->InsertPerson(MakePerson(org, "009")).status()));
  EXPECT_TRUE(read_only(tx->UpdatePerson(*tx->GetPerson(person))));
  EXPECT_TRUE(read_only(tx->InsertAccount(MakeAccount("x")).status()));
  EXPECT_TRUE(read_only(tx->UpdateAccount(*tx->GetAccount(account))));
  EXPECT_TRUE(read_only(tx->InsertAccessToken(MakeToken("bb", account, kNow))));
  EXPECT_TRUE(read_only(tx->RevokeAccessToken("aa01")));
  EXPECT_TRUE(read_only(tx->DeleteExpiredAccessTokens(kNow + 1000).status()));
  DelegationRecord d;
  d.delegate_organization_id = org;
  d.scope_organization_id = org;
  EXPECT_TRUE(read_only(tx->InsertDelegation(d).status()));
  EXPECT_TRUE(read_only(tx->WithdrawDelegation(delegation, kNow, "x")));
  EXPECT_TRUE(read_only(tx->InsertRequest(MakeRequest(org, account)).status()));
  EXPECT_TRUE(read_only(tx->UpdateRequest(request)));
  RequestEventRecord event;
  event.request_id = request.id;
  EXPECT_TRUE(read_only(tx->InsertRequestEvent(event).status()));
  IdempotencyRecord idempotency;
  idempotency.account_id = account;
  idempotency.key = "k";
  EXPECT_TRUE(read_only(tx->InsertIdempotency(idempotency)));
  EXPECT_TRUE(read_only(tx->InsertOutboxMessage(MakeMessage("n", kNow)).status()));
  EXPECT_TRUE(read_only(tx->MarkOutboxSent(outbox, kNow)));
  EXPECT_TRUE(read_only(tx->MarkOutboxFailed(outbox, "x", kNow)));
  EXPECT_EQ(tx->InsertOrganization(MakeOrganization("x")).status().code(),
            StatusCode::kFailedPrecondition);
  ASSERT_TRUE(tx->Commit().ok());

  // Nothing was written.
  auto check = Read();
  EXPECT_EQ(check->GetPerson(person)->version, 1);
  EXPECT_FALSE(check->GetAccessToken("aa01")->revoked);
  EXPECT_FALSE(check->GetDelegation(delegation)->withdrawn_at.has_value());
  EXPECT_EQ(check->ListDueOutboxMessages(kNow, 10)->size(), 1u);
}

TEST_P(RegistryStoreTest, CommittedTransactionIsClosedForRegistryCalls) {
  auto tx = Write();
  const int64_t org = AddOrganization(*tx, "Bộ Tài chính");
  ASSERT_TRUE(tx->Commit().ok());
  EXPECT_EQ(tx->GetOrganization(org).status().id(), "store.closed");
  EXPECT_EQ(tx->InsertOrganization(MakeOrganization("x")).status().id(), "store.closed");
  EXPECT_EQ(tx->ListRequests({}).status().id(), "store.closed");
  EXPECT_EQ(tx->CountRequests({}).status().id(), "store.closed");
  EXPECT_EQ(tx->GetIdempotency(1, "k").status().id(), "store.closed");
  EXPECT_EQ(tx->CountExpiringByOrganization(0, 1).status().id(), "store.closed");
}

TEST_P(RegistryStoreTest, UncommittedRegistryWritesRollBack) {
  {
    auto tx = Write();
    const int64_t org = AddOrganization(*tx, "Bộ Tài chính");
    const int64_t account = AddAccount(*tx, "vanthu");
    RequestRecord request = MakeRequest(org, account);
    AddRequest(*tx, request);
  }  // destroyed without Commit()
  auto read = Read();
  EXPECT_TRUE(read->ListOrganizations({})->empty());
  EXPECT_TRUE(read->ListAccounts(0, 10)->empty());
  EXPECT_EQ(*read->CountRequests({}), 0);
}

INSTANTIATE_TEST_SUITE_P(Backends, RegistryStoreTest, ::testing::ValuesIn(Backends()),
                         [](const ::testing::TestParamInfo<Backend>& info) {
                           return info.param.name;
                         });

// --- SQLite only ---------------------------------------------------------------------------

// EXPLAIN QUERY PLAN's detail rows for `sql` on the file at `path`, joined by newlines.
std::string QueryPlan(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  std::string plan;
  if (sqlite3_open(path.c_str(), &db) == SQLITE_OK) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db, ("EXPLAIN QUERY PLAN " + sql).c_str(), -1, &stmt, nullptr) ==
        SQLITE_OK) {
      while (sqlite3_step(stmt) == SQLITE_ROW) {
        plan += reinterpret_cast<const char*>(sqlite3_column_text(stmt, 3));
        plan += "\n";
      }
    } else {
      plan = std::string("cannot prepare: ") + sqlite3_errmsg(db);
    }
    sqlite3_finalize(stmt);
  }
  sqlite3_close(db);
  return plan;
}

// ListRequests' statement: the page's ids from `where`, then the rows (sqlite_store.cc).
std::string ListRequestsSql(const std::string& where, bool newest_first = false) {
  const std::string order = newest_first ? " ORDER BY r.id DESC" : " ORDER BY r.id";
  return "SELECT r.id, d.form_json FROM requests r JOIN request_documents d ON d.request_id = "
         "r.id WHERE r.id IN (SELECT r.id FROM requests r WHERE " +
         where + order + " LIMIT 50)" + order;
}

// Without statistics (no ANALYZE) SQLite plans from the schema alone, so the plans on an empty
// file are the plans at 100,000 requests. The lists that an officer, a delegate and the CA
// operator open all day must come from an index, never a scan of the table; where the ids must
// still be sorted (a range of paths, several states), only ids from a covering index are.
TEST(SqliteRegistryTest, RequestListsUseIndexes) {
  TempDir dir;
  const std::string path = dir.path() + "/kyso.db";
  ASSERT_TRUE(OpenSqliteDatabase(path, SqliteOptions()).ok());
  const std::string subtree = "(r.organization_path >= '/4/' AND r.organization_path < '/40')";

  // An agency officer: their subtree, in some states.
  std::string plan =
      QueryPlan(path, ListRequestsSql(subtree + " AND r.state IN ('submitted', 'approved')"));
  EXPECT_NE(plan.find("COVERING INDEX requests_state_path"), std::string::npos) << plan;
  EXPECT_EQ(plan.find("SCAN"), std::string::npos) << plan;
  // ... newest first, any state.
  plan = QueryPlan(path, ListRequestsSql(subtree, /*newest_first=*/true));
  EXPECT_NE(plan.find("COVERING INDEX requests_path"), std::string::npos) << plan;
  EXPECT_EQ(plan.find("SCAN"), std::string::npos) << plan;
  // One body: a single key of requests_path, already in id order.
  plan = QueryPlan(path, ListRequestsSql("r.organization_path = (SELECT path FROM organizations "
                                         "WHERE id = 3) AND r.id > 10"));
  EXPECT_NE(plan.find("requests_path (organization_path=? AND id>?)"), std::string::npos) << plan;
  EXPECT_EQ(plan.find("TEMP B-TREE"), std::string::npos) << plan;
  // The CA operator's queue: one state is one key of requests_assignee, in id order.
  plan = QueryPlan(path, ListRequestsSql("r.assignee = 'ca' AND r.state IN ('submitted') AND "
                                         "r.id > 10"));
  EXPECT_NE(plan.find("requests_assignee (assignee=? AND state=? AND id>?)"), std::string::npos)
      << plan;
  EXPECT_EQ(plan.find("TEMP B-TREE"), std::string::npos) << plan;
  plan = QueryPlan(path, ListRequestsSql("r.assignee = 'ca' AND r.state IN ('submitted', "
                                         "'approved')"));
  EXPECT_NE(plan.find("COVERING INDEX requests_assignee"), std::string::npos) << plan;
  // A delegate: their subtrees, kinds and states.
  plan = QueryPlan(path, ListRequestsSql("(" + subtree +
                                         " OR (r.organization_path >= '/5/' AND "
                                         "r.organization_path < '/50')) AND r.kind IN "
                                         "('renewal') AND r.state IN ('submitted') AND "
                                         "r.assignee = 'delegation:1'"));
  EXPECT_EQ(plan.find("SCAN"), std::string::npos) << plan;
  // Overdue requests.
  plan = QueryPlan(path, ListRequestsSql("r.state IN ('submitted', 'approved') AND r.due_at < 5"));
  EXPECT_NE(plan.find("COVERING INDEX requests_state_due"), std::string::npos) << plan;
  // Everything, newest first: the table in id order, read only as far as the page.
  plan = QueryPlan(path, ListRequestsSql("1", /*newest_first=*/true));
  EXPECT_EQ(plan.find("TEMP B-TREE"), std::string::npos) << plan;
  // A subscriber's own requests.
  plan = QueryPlan(path, ListRequestsSql("r.created_by = 7", /*newest_first=*/true));
  EXPECT_NE(plan.find("COVERING INDEX requests_creator"), std::string::npos) << plan;
  EXPECT_EQ(plan.find("TEMP B-TREE"), std::string::npos) << plan;
  plan = QueryPlan(path, ListRequestsSql("r.person_id = 7"));
  EXPECT_NE(plan.find("COVERING INDEX requests_person"), std::string::npos) << plan;
  // The page's rows and documents are read by primary key, in order.
  EXPECT_NE(plan.find("SEARCH d USING INTEGER PRIMARY KEY"), std::string::npos) << plan;

  // Counts of the same filters read the index alone.
  plan = QueryPlan(path, "SELECT count(*) FROM requests r WHERE " + subtree +
                             " AND r.state IN ('submitted', 'approved')");
  EXPECT_NE(plan.find("COVERING INDEX requests_state_path"), std::string::npos) << plan;
}

TEST(SqliteRegistryTest, OtherRegistryQueriesUseIndexes) {
  TempDir dir;
  const std::string path = dir.path() + "/kyso.db";
  ASSERT_TRUE(OpenSqliteDatabase(path, SqliteOptions()).ok());
  std::string plan =
      QueryPlan(path,
                "SELECT organization_id, count(*) FROM certificates WHERE status = 'valid' AND "
                "organization_id IS NOT NULL AND not_after >= 5 AND not_after < 9 "
                "GROUP BY organization_id ORDER BY organization_id");
  EXPECT_NE(plan.find("COVERING INDEX certificates_expiring (status=? AND not_after>? AND "
                      "not_after<?)"),
            std::string::npos)
      << plan;
  plan = QueryPlan(path,
                   "SELECT p.id FROM people p JOIN organizations o ON o.id = p.organization_id "
                   "WHERE (o.path >= '/4/' AND o.path < '/40') AND p.id > 0 ORDER BY p.id "
                   "LIMIT 100");
  EXPECT_NE(plan.find("organizations_path"), std::string::npos) << plan;
  EXPECT_NE(plan.find("people_organization"), std::string::npos) << plan;
  plan = QueryPlan(path,
                   "SELECT id FROM outbox WHERE sent_at IS NULL AND next_attempt_at <= 5 "
                   "ORDER BY id LIMIT 10");
  EXPECT_NE(plan.find("outbox_due"), std::string::npos) << plan;
  plan = QueryPlan(path, "SELECT id FROM request_events WHERE request_id = 5 ORDER BY id");
  EXPECT_NE(plan.find("request_events_request"), std::string::npos) << plan;
  EXPECT_EQ(plan.find("TEMP B-TREE"), std::string::npos) << plan;
}

}  // namespace
}  // namespace kyso::store
