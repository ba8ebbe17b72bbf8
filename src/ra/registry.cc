#include "ra/registry.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <map>
#include <set>

#include "crypto/digest.h"
#include "ra/csv.h"
#include "ra/state_machine.h"
#include "store/revocation_reason.h"

namespace kyso::ra {
namespace {

using json = nlohmann::json;

constexpr int64_t kMaxListLimit = 500;
// An execution claim older than this is considered abandoned (the process died mid-way).
constexpr int64_t kExecutionClaimSeconds = 600;
constexpr std::string_view kExecutingPrefix = "executing:";

// States in which the handler owes an answer: what "overdue" counts.
const std::vector<std::string>& HandlerStates() {
  static const std::vector<std::string> states = {std::string(state::kSubmitted),
                                                  std::string(state::kUnderReview),
                                                  std::string(state::kApproved)};
  return states;
}

std::string Trimmed(std::string_view s) {
  const size_t a = s.find_first_not_of(" \t\r\n");
  if (a == std::string_view::npos) return "";
  const size_t b = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(a, b - a + 1));
}

Status Audit(const audit::AuditLog* log, store::Transaction& tx, const Principal& by,
             const std::string& action, const std::string& object, const json& details) {
  auto entry = log->Append(tx, by.Actor(), action, object, details.dump());
  return entry.ok() ? Status::Ok() : entry.status();
}

Status CheckOrganizationFields(const store::OrganizationRecord& org) {
  if (Trimmed(org.name).empty()) return InvalidArgument("org.name_required", "a body needs a name");
  if (org.name.size() > 500) return InvalidArgument("org.name_too_long", "name over 500 bytes");
  if (!org.tax_code.empty() && !IsTaxCode(org.tax_code)) {
    return InvalidArgument("org.bad_tax_code", "MST has 10 or 13 digits: " + org.tax_code);
  }
  if (!org.budget_code.empty() && !IsBudgetCode(org.budget_code)) {
    return InvalidArgument("org.bad_budget_code", "MNS has 7 digits: " + org.budget_code);
  }
  if (!org.email.empty() && !IsEmail(org.email)) {
    return InvalidArgument("org.bad_email", "not an e-mail address: " + org.email);
  }
  return Status::Ok();
}

Status CheckPersonFields(const store::PersonRecord& person) {
  if (Trimmed(person.full_name).empty()) {
    return InvalidArgument("person.name_required", "a person needs a name");
  }
  if (!IsPersonalId(person.personal_id)) {
    return InvalidArgument("person.bad_personal_id",
                           "CCCD has 12 digits (CMND 9): " + person.personal_id);
  }
  if (!person.email.empty() && !IsEmail(person.email)) {
    return InvalidArgument("person.bad_email", "not an e-mail address: " + person.email);
  }
  if (!person.mobile.empty() && !IsMobile(person.mobile)) {
    return InvalidArgument("person.bad_mobile", "not a Vietnamese mobile number: " + person.mobile);
  }
  return Status::Ok();
}

bool IsPersonStatus(std::string_view s) {
  return s == "active" || s == "retired" || s == "left" || s == "deceased";
}

// Vietnam midnight of a "YYYY-MM-DD" date, as Unix seconds.
Result<UnixSeconds> DayStart(const std::string& date) {
  KYSO_ASSIGN_OR_RETURN(LocalDay day, WorkingCalendar::ParseDay(date));
  return day * kSecondsPerDay - 7 * 3600;
}

std::string FormString(const json& form, const char* key) {
  auto it = form.find(key);
  return it != form.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::optional<int> FormDays(const json& form) {
  auto it = form.find("days");
  if (it == form.end() || !it->is_number_integer()) return std::nullopt;
  return it->get<int>();
}

std::map<std::string, size_t> HeaderIndex(const CsvRow& header) {
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < header.fields.size(); ++i) index[Trimmed(header.fields[i])] = i;
  return index;
}

std::string Column(const CsvRow& row, const std::map<std::string, size_t>& index,
                   const std::string& name) {
  auto it = index.find(name);
  if (it == index.end() || it->second >= row.fields.size()) return "";
  return Trimmed(row.fields[it->second]);
}

Status RequireColumns(const std::map<std::string, size_t>& index,
                      std::initializer_list<const char*> names) {
  for (const char* name : names) {
    if (!index.count(name)) {
      return InvalidArgument("import.missing_column",
                             "the header has no column \"" + std::string(name) + "\"");
    }
  }
  return Status::Ok();
}

// The registered body with this MST, if any (how CSV rows name bodies).
Result<std::optional<store::OrganizationRecord>> FindByTaxCode(store::Transaction& tx,
                                                               const std::string& tax_code) {
  store::OrganizationFilter filter;
  filter.tax_code = tax_code;
  filter.limit = 1;
  KYSO_ASSIGN_OR_RETURN(auto found, tx.ListOrganizations(filter));
  if (found.empty()) return std::optional<store::OrganizationRecord>();
  return std::optional<store::OrganizationRecord>(std::move(found[0]));
}

}  // namespace

Registry::Registry(Dependencies deps, RegistryOptions options)
    : deps_(std::move(deps)), options_(std::move(options)) {}

template <typename F>
auto Registry::WithWrite(F&& body) -> decltype(body(std::declval<store::Transaction&>())) {
  auto tx = deps_.db->Begin(store::TransactionMode::kWrite);
  if (!tx.ok()) return tx.status();
  auto result = body(**tx);
  if (!result.ok()) return result;  // the transaction rolls back when destroyed
  if (Status st = (*tx)->Commit(); !st.ok()) return st;
  return result;
}

template <typename F>
auto Registry::WithRead(F&& body) -> decltype(body(std::declval<store::Transaction&>())) {
  auto tx = deps_.db->Begin(store::TransactionMode::kRead);
  if (!tx.ok()) return tx.status();
  return body(**tx);
}

// --- callers --------------------------------------------------------------------------------

Result<Principal> Registry::PrincipalFor(int64_t account_id, std::string auth_method) {
  return WithRead([&](store::Transaction& tx) -> Result<Principal> {
    KYSO_ASSIGN_OR_RETURN(store::AccountRecord account, tx.GetAccount(account_id));
    if (account.disabled) {
      return Unauthenticated("auth.account_disabled", "the account is disabled");
    }
    Principal p;
    p.account_id = account.id;
    p.username = account.username;
    KYSO_ASSIGN_OR_RETURN(p.role, ParseRole(account.role));
    p.organization_id = account.organization_id;
    p.person_id = account.person_id;
    p.auth_method = std::move(auth_method);
    if (account.organization_id) {
      KYSO_ASSIGN_OR_RETURN(store::OrganizationRecord org,
                            tx.GetOrganization(*account.organization_id));
      p.organization_path = org.path;
      if (p.role == Role::kDelegateOfficer) {
        store::DelegationFilter filter;
        filter.active_only = true;
        filter.delegate_organization_id = org.id;
        KYSO_ASSIGN_OR_RETURN(p.delegations, tx.ListDelegations(filter));
      }
    }
    return p;
  });
}

Result<store::AccountRecord> Registry::CreateAccount(const Principal& by,
                                                     store::AccountRecord account) {
  KYSO_RETURN_IF_ERROR(CanManageAccounts(by));
  KYSO_ASSIGN_OR_RETURN(Role role, ParseRole(account.role));
  KYSO_ASSIGN_OR_RETURN(account.username, NormalizeUsername(account.username));
  account.certificate_fingerprint = NormalizeFingerprint(account.certificate_fingerprint);
  const bool needs_body =
      role == Role::kAgencyOfficer || role == Role::kDelegateOfficer || role == Role::kSubscriber;
  if (needs_body && !account.organization_id) {
    return InvalidArgument("account.body_required",
                           "a " + std::string(RoleName(role)) + " account belongs to a body");
  }
  if (role == Role::kSubscriber && !account.person_id) {
    return InvalidArgument("account.person_required", "a subscriber account is a person's");
  }
  return WithWrite([&](store::Transaction& tx) -> Result<store::AccountRecord> {
    if (account.organization_id) {
      KYSO_RETURN_IF_ERROR(tx.GetOrganization(*account.organization_id).status());
    }
    if (account.person_id) KYSO_RETURN_IF_ERROR(tx.GetPerson(*account.person_id).status());
    account.created_at = deps_.clock->Now();
    KYSO_ASSIGN_OR_RETURN(int64_t id, tx.InsertAccount(account));
    KYSO_RETURN_IF_ERROR(Audit(deps_.audit, tx, by, "account.create", "account/" + account.username,
                               {{"id", id},
                                {"role", account.role},
                                {"organization_id", account.organization_id.value_or(0)}}));
    return tx.GetAccount(id);
  });
}

Result<std::vector<store::AccountRecord>> Registry::ListAccounts(const Principal& by,
                                                                 int64_t after_id, int64_t limit) {
  KYSO_RETURN_IF_ERROR(CanManageAccounts(by));
  return WithRead([&](store::Transaction& tx) {
    return tx.ListAccounts(after_id, std::clamp<int64_t>(limit, 1, kMaxListLimit));
  });
}

// --- idempotency ------------------------------------------------------------------------------

Result<std::optional<Created<int64_t>>> Registry::ReplayIdempotent(store::Transaction& tx,
                                                                   const Principal& by,
                                                                   const IdempotencyKey* key) {
  if (key == nullptr || key->key.empty()) return std::optional<Created<int64_t>>();
  if (key->key.size() > 200) {
    return InvalidArgument("idempotency.bad_key", "Idempotency-Key is longer than 200 bytes");
  }
  KYSO_ASSIGN_OR_RETURN(auto seen, tx.GetIdempotency(by.account_id, key->key));
  if (!seen) return std::optional<Created<int64_t>>();
  if (seen->fingerprint != key->fingerprint) {
    return InvalidArgument("idempotency.key_reused",
                           "this Idempotency-Key was used for a different request");
  }
  return std::optional<Created<int64_t>>(Created<int64_t>{std::stoll(seen->response), true});
}

Status Registry::RememberIdempotent(store::Transaction& tx, const Principal& by,
                                    const IdempotencyKey* key, int64_t id) {
  if (key == nullptr || key->key.empty()) return Status::Ok();
  store::IdempotencyRecord record;
  record.account_id = by.account_id;
  record.key = key->key;
  record.fingerprint = key->fingerprint;
  record.status = 201;
  record.response = std::to_string(id);
  record.created_at = deps_.clock->Now();
  return tx.InsertIdempotency(record);
}

// --- bodies -------------------------------------------------------------------------------------

Result<Created<store::OrganizationRecord>> Registry::CreateOrganization(
    const Principal& by, store::OrganizationRecord org, const IdempotencyKey* key) {
  org.name = Trimmed(org.name);
  KYSO_RETURN_IF_ERROR(CheckOrganizationFields(org));
  return WithWrite([&](store::Transaction& tx) -> Result<Created<store::OrganizationRecord>> {
    KYSO_ASSIGN_OR_RETURN(auto replay, ReplayIdempotent(tx, by, key));
    if (replay) {
      KYSO_ASSIGN_OR_RETURN(auto existing, tx.GetOrganization(replay->record));
      return Created<store::OrganizationRecord>{existing, true};
    }
    if (org.parent_id) {
      KYSO_ASSIGN_OR_RETURN(store::OrganizationRecord parent, tx.GetOrganization(*org.parent_id));
      KYSO_RETURN_IF_ERROR(CanCreateOrganization(by, parent.path));
    } else {
      KYSO_RETURN_IF_ERROR(CanCreateOrganization(by, std::nullopt));
    }
    org.created_at = org.updated_at = deps_.clock->Now();
    KYSO_ASSIGN_OR_RETURN(int64_t id, tx.InsertOrganization(org));
    KYSO_RETURN_IF_ERROR(Audit(deps_.audit, tx, by, "org.create", "org/" + std::to_string(id),
                               {{"name", org.name},
                                {"parent_id", org.parent_id.value_or(0)},
                                {"tax_code", org.tax_code}}));
    KYSO_RETURN_IF_ERROR(RememberIdempotent(tx, by, key, id));
    KYSO_ASSIGN_OR_RETURN(auto created, tx.GetOrganization(id));
    return Created<store::OrganizationRecord>{created, false};
  });
}

Result<store::OrganizationRecord> Registry::GetOrganization(const Principal& by, int64_t id) {
  return WithRead([&](store::Transaction& tx) -> Result<store::OrganizationRecord> {
    KYSO_ASSIGN_OR_RETURN(store::OrganizationRecord org, tx.GetOrganization(id));
    KYSO_RETURN_IF_ERROR(CanReadOrganization(by, org.path));
    return org;
  });
}

Result<store::OrganizationRecord> Registry::UpdateOrganization(
    const Principal& by, const store::OrganizationRecord& update) {
  KYSO_RETURN_IF_ERROR(CheckOrganizationFields(update));
  return WithWrite([&](store::Transaction& tx) -> Result<store::OrganizationRecord> {
    KYSO_ASSIGN_OR_RETURN(store::OrganizationRecord org, tx.GetOrganization(update.id));
    KYSO_RETURN_IF_ERROR(CanUpdateOrganization(by, org.path));
    org.name = Trimmed(update.name);
    org.tax_code = update.tax_code;
    org.budget_code = update.budget_code;
    org.address = update.address;
    org.email = update.email;
    org.province = update.province;
    org.managing_agency = update.managing_agency;
    org.version = update.version;
    org.updated_at = deps_.clock->Now();
    KYSO_RETURN_IF_ERROR(tx.UpdateOrganization(org));
    KYSO_RETURN_IF_ERROR(Audit(deps_.audit, tx, by, "org.update", "org/" + std::to_string(org.id),
                               {{"name", org.name}, {"version", org.version + 1}}));
    return tx.GetOrganization(org.id);
  });
}

Result<std::vector<store::OrganizationRecord>> Registry::ListOrganizations(
    const Principal& by, store::OrganizationFilter filter) {
  filter.limit = std::clamp<int64_t>(filter.limit, 1, kMaxListLimit);
  if (!SeesEverything(by)) {
    if (by.organization_path.empty()) return std::vector<store::OrganizationRecord>();
    if (!filter.path_prefix || !InSubtree(*filter.path_prefix, by.organization_path)) {
      filter.path_prefix = by.organization_path;
    }
  }
  return WithRead([&](store::Transaction& tx) -> Result<std::vector<store::OrganizationRecord>> {
    KYSO_ASSIGN_OR_RETURN(auto orgs, tx.ListOrganizations(filter));
    std::erase_if(orgs, [&](const auto& o) { return !CanReadOrganization(by, o.path).ok(); });
    return orgs;
  });
}

// --- people -------------------------------------------------------------------------------------

Result<Created<store::PersonRecord>> Registry::CreatePerson(const Principal& by,
                                                            store::PersonRecord person,
                                                            const IdempotencyKey* key) {
  person.full_name = Trimmed(person.full_name);
  person.status = "active";
  KYSO_RETURN_IF_ERROR(CheckPersonFields(person));
  return WithWrite([&](store::Transaction& tx) -> Result<Created<store::PersonRecord>> {
    KYSO_ASSIGN_OR_RETURN(auto replay, ReplayIdempotent(tx, by, key));
    if (replay) {
      KYSO_ASSIGN_OR_RETURN(auto existing, tx.GetPerson(replay->record));
      return Created<store::PersonRecord>{existing, true};
    }
    KYSO_ASSIGN_OR_RETURN(store::OrganizationRecord org,
                          tx.GetOrganization(person.organization_id));
    KYSO_RETURN_IF_ERROR(CanWritePerson(by, org.path));
    person.created_at = person.updated_at = deps_.clock->Now();
    KYSO_ASSIGN_OR_RETURN(int64_t id, tx.InsertPerson(person));
    KYSO_RETURN_IF_ERROR(Audit(deps_.audit, tx, by, "person.create", "person/" + std::to_string(id),
                               {{"organization_id", org.id}, {"name", person.full_name}}));
    KYSO_RETURN_IF_ERROR(RememberIdempotent(tx, by, key, id));
    KYSO_ASSIGN_OR_RETURN(auto created, tx.GetPerson(id));
    return Created<store::PersonRecord>{created, false};
  });
}

Result<store::PersonRecord> Registry::GetPerson(const Principal& by, int64_t id) {
  return WithRead([&](store::Transaction& tx) -> Result<store::PersonRecord> {
    KYSO_ASSIGN_OR_RETURN(store::PersonRecord person, tx.GetPerson(id));
    KYSO_RETURN_IF_ERROR(CanReadPerson(by, person));
    return person;
  });
}

Result<store::PersonRecord> Registry::UpdatePerson(const Principal& by,
                                                   const store::PersonRecord& update) {
  return WithWrite([&](store::Transaction& tx) -> Result<store::PersonRecord> {
    KYSO_ASSIGN_OR_RETURN(store::PersonRecord person, tx.GetPerson(update.id));
    KYSO_RETURN_IF_ERROR(CanWritePerson(by, person.organization_path));
    person.full_name = Trimmed(update.full_name);
    person.position = update.position;
    person.email = update.email;
    person.mobile = update.mobile;
    person.version = update.version;
    person.updated_at = deps_.clock->Now();
    KYSO_RETURN_IF_ERROR(CheckPersonFields(person));
    KYSO_RETURN_IF_ERROR(tx.UpdatePerson(person));
    KYSO_RETURN_IF_ERROR(Audit(deps_.audit, tx, by, "person.update",
                               "person/" + std::to_string(person.id),
                               {{"version", person.version + 1}}));
    return tx.GetPerson(person.id);
  });
}

Result<std::vector<store::PersonRecord>> Registry::ListPeople(const Principal& by,
                                                              store::PersonFilter filter) {
  filter.limit = std::clamp<int64_t>(filter.limit, 1, kMaxListLimit);
  if (!SeesEverything(by)) {
    if (by.role == Role::kSubscriber) {
      if (!by.person_id) return std::vector<store::PersonRecord>();
      return WithRead([&](store::Transaction& tx) -> Result<std::vector<store::PersonRecord>> {
        KYSO_ASSIGN_OR_RETURN(auto me, tx.GetPerson(*by.person_id));
        return std::vector<store::PersonRecord>{me};
      });
    }
    if (by.organization_path.empty()) return std::vector<store::PersonRecord>();
    if (!filter.path_prefix || !InSubtree(*filter.path_prefix, by.organization_path)) {
      filter.path_prefix = by.organization_path;
    }
  }
  return WithRead([&](store::Transaction& tx) -> Result<std::vector<store::PersonRecord>> {
    KYSO_ASSIGN_OR_RETURN(auto people, tx.ListPeople(filter));
    std::erase_if(people, [&](const auto& p) { return !CanReadPerson(by, p).ok(); });
    return people;
  });
}

Result<store::RequestRecord> Registry::OpenDraft(store::Transaction& tx, const Principal& by,
                                                 const NewRequest& req, const std::string& why) {
  KYSO_ASSIGN_OR_RETURN(const RequestKind* kind, FindKind(req.kind));
  store::RequestRecord r;
  r.kind = std::string(kind->id);
  r.state = std::string(state::kDraft);
  r.organization_id = req.organization_id;
  r.person_id = req.person_id;
  r.certificate_id = req.certificate_id;
  r.form_json = req.form.dump();
  r.created_by = by.account_id;
  r.created_at = r.updated_at = deps_.clock->Now();
  KYSO_ASSIGN_OR_RETURN(int64_t id, tx.InsertRequest(r));
  store::RequestEventRecord event;
  event.request_id = id;
  event.to_state = r.state;
  event.actor = by.Actor();
  event.time = r.created_at;
  event.reason = why;
  KYSO_RETURN_IF_ERROR(tx.InsertRequestEvent(event).status());
  KYSO_RETURN_IF_ERROR(Audit(deps_.audit, tx, by, "request.create", "request/" + std::to_string(id),
                             {{"kind", r.kind},
                              {"organization_id", r.organization_id},
                              {"person_id", r.person_id.value_or(0)},
                              {"certificate_id", r.certificate_id.value_or(0)},
                              {"reason", why}}));
  return tx.GetRequest(id);
}

Result<PersonChange> Registry::MovePerson(const Principal& by, int64_t person_id,
                                          int64_t new_org_id, int64_t version,
                                          const std::string& reason) {
  return WithWrite([&](store::Transaction& tx) -> Result<PersonChange> {
    KYSO_ASSIGN_OR_RETURN(store::PersonRecord person, tx.GetPerson(person_id));
    KYSO_ASSIGN_OR_RETURN(store::OrganizationRecord from,
                          tx.GetOrganization(person.organization_id));
    KYSO_ASSIGN_OR_RETURN(store::OrganizationRecord to, tx.GetOrganization(new_org_id));
    KYSO_RETURN_IF_ERROR(CanWritePerson(by, from.path));
    KYSO_RETURN_IF_ERROR(CanWritePerson(by, to.path));
    if (from.id == to.id) {
      return InvalidArgument("person.same_body", "the person already works there");
    }
    person.organization_id = to.id;
    person.version = version;
    person.updated_at = deps_.clock->Now();
    KYSO_RETURN_IF_ERROR(tx.UpdatePerson(person));
    KYSO_RETURN_IF_ERROR(Audit(deps_.audit, tx, by, "person.move",
                               "person/" + std::to_string(person.id),
                               {{"from", from.id}, {"to", to.id}, {"reason", reason}}));
    // The certificates name the old body (O, OU): each needs a change of information, which the
    // new managing agency confirms with the new subject (seeds 000, 001: this used to take
    // weeks on paper).
    store::CertificateFilter filter;
    filter.owner_id = person.id;
    filter.status = store::CertificateStatus::kValid;
    filter.valid_at = deps_.clock->Now();
    filter.limit = -1;
    KYSO_ASSIGN_OR_RETURN(auto certs, tx.ListCertificates(filter));
    PersonChange change;
    for (const auto& cert : certs) {
      NewRequest req;
      req.kind = "change_info";
      req.organization_id = to.id;
      req.person_id = person.id;
      req.certificate_id = cert.id;
      req.form = {{"changes", "Chuyển công tác từ \"" + from.name + "\" sang \"" + to.name + "\"" +
                                  (reason.empty() ? "" : ": " + reason)}};
      KYSO_ASSIGN_OR_RETURN(auto draft, OpenDraft(tx, by, req, "person.move"));
      change.opened_requests.push_back(draft.id);
    }
    KYSO_ASSIGN_OR_RETURN(change.person, tx.GetPerson(person.id));
    return change;
  });
}

Result<PersonChange> Registry::SetPersonStatus(const Principal& by, int64_t person_id,
                                               const std::string& status, int64_t version,
                                               const std::string& reason) {
  if (!IsPersonStatus(status)) {
    return InvalidArgument("person.bad_status", "status is active, retired, left or deceased");
  }
  return WithWrite([&](store::Transaction& tx) -> Result<PersonChange> {
    KYSO_ASSIGN_OR_RETURN(store::PersonRecord person, tx.GetPerson(person_id));
    KYSO_RETURN_IF_ERROR(CanWritePerson(by, person.organization_path));
    const std::string previous = person.status;
    person.status = status;
    person.version = version;
    person.updated_at = deps_.clock->Now();
    KYSO_RETURN_IF_ERROR(tx.UpdatePerson(person));
    KYSO_RETURN_IF_ERROR(Audit(deps_.audit, tx, by, "person.status",
                               "person/" + std::to_string(person.id),
                               {{"from", previous}, {"to", status}, {"reason", reason}}));
    PersonChange change;
    if (status != "active") {
      // Nghị định 68: job change, retirement, resignation or death are grounds for revocation.
      store::CertificateFilter filter;
      filter.owner_id = person.id;
      filter.status = store::CertificateStatus::kValid;
      filter.valid_at = deps_.clock->Now();
      filter.limit = -1;
      KYSO_ASSIGN_OR_RETURN(auto certs, tx.ListCertificates(filter));
      for (const auto& cert : certs) {
        NewRequest req;
        req.kind = "revocation";
        req.organization_id = person.organization_id;
        req.person_id = person.id;
        req.certificate_id = cert.id;
        req.form = {{"reason", status == "left" ? "affiliationChanged" : "cessationOfOperation"},
                    {"explanation", "Trạng thái nhân sự: " + status +
                                        (reason.empty() ? "" : " (" + reason + ")")}};
        KYSO_ASSIGN_OR_RETURN(auto draft, OpenDraft(tx, by, req, "person.status"));
        change.opened_requests.push_back(draft.id);
      }
    }
    KYSO_ASSIGN_OR_RETURN(change.person, tx.GetPerson(person.id));
    return change;
  });
}

// --- CSV import ---------------------------------------------------------------------------------

Result<ImportReport> Registry::ImportOrganizations(const Principal& by, std::string_view csv,
                                                   bool dry_run) {
  KYSO_ASSIGN_OR_RETURN(std::vector<CsvRow> rows, ParseCsv(csv));
  if (rows.empty()) return InvalidArgument("import.empty", "the file has no header row");
  const auto index = HeaderIndex(rows[0]);
  KYSO_RETURN_IF_ERROR(RequireColumns(index, {"name", "parent_tax_code", "tax_code"}));
  ImportReport report;
  report.dry_run = dry_run;
  report.rows = static_cast<int>(rows.size()) - 1;
  return WithWrite([&](store::Transaction& tx) -> Result<ImportReport> {
    // Bodies are found by tax code: the ones already registered, then those earlier in the file
    // (parents come before their children).
    std::map<std::string, store::OrganizationRecord> by_tax_code;
    std::vector<std::pair<store::OrganizationRecord, std::string>> planned;  // + parent code
    for (size_t i = 1; i < rows.size(); ++i) {
      const CsvRow& row = rows[i];
      auto fail = [&](std::string id, std::string message) {
        report.errors.push_back({row.line, std::move(id), std::move(message)});
      };
      store::OrganizationRecord org;
      org.name = Column(row, index, "name");
      org.tax_code = Column(row, index, "tax_code");
      org.budget_code = Column(row, index, "budget_code");
      org.address = Column(row, index, "address");
      org.email = Column(row, index, "email");
      org.province = Column(row, index, "province");
      const std::string managing = Column(row, index, "managing_agency");
      org.managing_agency = managing == "1" || managing == "true" || managing == "x";
      if (Status st = CheckOrganizationFields(org); !st.ok()) {
        fail(st.id(), st.message());
        continue;
      }
      if (org.tax_code.empty()) {
        fail("import.tax_code_required", "each body needs its MST to be referenced");
        continue;
      }
      if (by_tax_code.count(org.tax_code)) {
        fail("import.duplicate", "MST " + org.tax_code + " appears twice in the file");
        continue;
      }
      KYSO_ASSIGN_OR_RETURN(auto found, FindByTaxCode(tx, org.tax_code));
      if (found) {
        fail("import.duplicate", "a body with MST " + org.tax_code + " is already registered");
        continue;
      }
      const std::string parent_code = Column(row, index, "parent_tax_code");
      std::optional<std::string> parent_path;
      if (parent_code.empty()) {
        if (by.role == Role::kAgencyOfficer && by.organization_id) {
          parent_path = by.organization_path;  // officers import below their own body
        }
      } else if (auto it = by_tax_code.find(parent_code); it != by_tax_code.end()) {
        parent_path = it->second.path;  // planned earlier in this file
      } else {
        KYSO_ASSIGN_OR_RETURN(auto parent, FindByTaxCode(tx, parent_code));
        if (!parent) {
          fail("import.unknown_parent", "no body with MST " + parent_code);
          continue;
        }
        parent_path = parent->path;
      }
      Status allowed = parent_path ? CanCreateOrganization(by, *parent_path)
                                   : CanCreateOrganization(by, std::nullopt);
      if (!allowed.ok()) {
        fail(allowed.id(), allowed.message());
        continue;
      }
      org.path = parent_path.value_or("") + "?/";  // only for children's scope checks
      by_tax_code[org.tax_code] = org;
      planned.emplace_back(org, parent_code);
    }
    if (dry_run || !report.errors.empty()) {
      return report;  // nothing was written: all rows or none
    }
    std::map<std::string, int64_t> ids;
    for (auto& [org, parent_code] : planned) {
      if (parent_code.empty()) {
        if (by.role == Role::kAgencyOfficer) org.parent_id = by.organization_id;
      } else if (auto it = ids.find(parent_code); it != ids.end()) {
        org.parent_id = it->second;
      } else {
        KYSO_ASSIGN_OR_RETURN(auto parent, FindByTaxCode(tx, parent_code));
        if (!parent) return Internal("import.unknown_parent", "parent vanished");
        org.parent_id = parent->id;
      }
      org.created_at = org.updated_at = deps_.clock->Now();
      KYSO_ASSIGN_OR_RETURN(int64_t id, tx.InsertOrganization(org));
      ids[org.tax_code] = id;
      KYSO_RETURN_IF_ERROR(Audit(deps_.audit, tx, by, "org.create", "org/" + std::to_string(id),
                                 {{"name", org.name},
                                  {"parent_id", org.parent_id.value_or(0)},
                                  {"tax_code", org.tax_code},
                                  {"via", "import"}}));
      ++report.created;
    }
    return report;
  });
}

Result<ImportReport> Registry::ImportPeople(const Principal& by, std::string_view csv,
                                            bool dry_run) {
  KYSO_ASSIGN_OR_RETURN(std::vector<CsvRow> rows, ParseCsv(csv));
  if (rows.empty()) return InvalidArgument("import.empty", "the file has no header row");
  const auto index = HeaderIndex(rows[0]);
  KYSO_RETURN_IF_ERROR(
      RequireColumns(index, {"full_name", "personal_id", "position", "organization_tax_code"}));
  ImportReport report;
  report.dry_run = dry_run;
  report.rows = static_cast<int>(rows.size()) - 1;
  return WithWrite([&](store::Transaction& tx) -> Result<ImportReport> {
    std::map<std::string, store::OrganizationRecord> orgs;  // by tax code
    std::set<std::string> ids_in_file;
    std::vector<store::PersonRecord> planned;
    for (size_t i = 1; i < rows.size(); ++i) {
      const CsvRow& row = rows[i];
      auto fail = [&](std::string id, std::string message) {
        report.errors.push_back({row.line, std::move(id), std::move(message)});
      };
      store::PersonRecord person;
      person.full_name = Column(row, index, "full_name");
      person.personal_id = Column(row, index, "personal_id");
      person.position = Column(row, index, "position");
      person.email = Column(row, index, "email");
      person.mobile = Column(row, index, "mobile");
      person.status = "active";
      if (Status st = CheckPersonFields(person); !st.ok()) {
        fail(st.id(), st.message());
        continue;
      }
      if (!ids_in_file.insert(person.personal_id).second) {
        fail("import.duplicate", "CCCD " + person.personal_id + " appears twice in the file");
        continue;
      }
      store::PersonFilter existing;
      existing.personal_id = person.personal_id;
      existing.limit = 1;
      KYSO_ASSIGN_OR_RETURN(auto found, tx.ListPeople(existing));
      if (!found.empty()) {
        fail("import.duplicate", "a person with CCCD " + person.personal_id + " exists");
        continue;
      }
      const std::string code = Column(row, index, "organization_tax_code");
      auto it = orgs.find(code);
      if (it == orgs.end()) {
        KYSO_ASSIGN_OR_RETURN(auto match, FindByTaxCode(tx, code));
        if (!match) {
          fail("import.unknown_body", "no body with MST " + code);
          continue;
        }
        it = orgs.emplace(code, *match).first;
      }
      if (Status st = CanWritePerson(by, it->second.path); !st.ok()) {
        fail(st.id(), st.message());
        continue;
      }
      person.organization_id = it->second.id;
      planned.push_back(person);
    }
    if (dry_run || !report.errors.empty()) return report;
    for (auto& person : planned) {
      person.created_at = person.updated_at = deps_.clock->Now();
      KYSO_ASSIGN_OR_RETURN(int64_t id, tx.InsertPerson(person));
      KYSO_RETURN_IF_ERROR(Audit(deps_.audit, tx, by, "person.create",
                                 "person/" + std::to_string(id),
                                 {{"organization_id", person.organization_id},
                                  {"name", person.full_name},
                                  {"via", "import"}}));
      ++report.created;
    }
    return report;
  });
}

// --- requests -----------------------------------------------------------------------------------

std::string Registry::CanonicalDocument(const store::RequestRecord& r,
                                        const std::vector<store::AttachmentRecord>& attachments) {
  // nlohmann::json objects are std::maps: keys come out sorted, and dump() without indent
  // writes no insignificant whitespace, with UTF-8 kept as is (RFC 8785's shape for the
  // integers and strings this document holds).
  json form = json::parse(r.form_json, nullptr, false);
  if (form.is_discarded()) form = json::object();
  json doc = {{"type", "kyso.request.v1"},
              {"request_id", r.id},
              {"version", r.version},
              {"kind", r.kind},
              {"organization_id", r.organization_id},
              {"person_id", r.person_id ? json(*r.person_id) : json(nullptr)},
              {"certificate_id", r.certificate_id ? json(*r.certificate_id) : json(nullptr)},
              {"form", form}};
  if (!attachments.empty()) {
    json list = json::array();
    for (const auto& a : attachments) {
      list.push_back({{"id", a.id},
                      {"filename", a.filename},
                      {"content_type", a.content_type},
                      {"size", a.size},
                      {"sha256", a.sha256}});
    }
    doc["attachments"] = std::move(list);
  }
  return doc.dump();
}

Result<Registry::SignedView> Registry::LoadForSigning(const Principal& by, int64_t id) {
  return WithRead([&](store::Transaction& tx) -> Result<SignedView> {
    KYSO_ASSIGN_OR_RETURN(store::RequestRecord r, tx.GetRequest(id));
    KYSO_RETURN_IF_ERROR(CanReadRequest(by, r));
    KYSO_ASSIGN_OR_RETURN(auto attachments, tx.ListAttachments(id));
    std::string document = CanonicalDocument(r, attachments);
    return SignedView{std::move(r), std::move(document)};
  });
}

Result<Created<store::RequestRecord>> Registry::CreateRequest(const Principal& by,
                                                              const NewRequest& req,
                                                              const IdempotencyKey* key) {
  KYSO_ASSIGN_OR_RETURN(const RequestKind* kind, FindKind(req.kind));
  KYSO_RETURN_IF_ERROR(ValidateForm(*kind, req.form));
  if (kind->needs_person && !req.person_id) {
    return InvalidArgument("ra.person_required", std::string(kind->id) + " is about a person");
  }
  if (kind->needs_certificate && !req.certificate_id) {
    return InvalidArgument("ra.certificate_required",
                           std::string(kind->id) + " acts on an existing certificate");
  }
  return WithWrite([&](store::Transaction& tx) -> Result<Created<store::RequestRecord>> {
    KYSO_ASSIGN_OR_RETURN(auto replay, ReplayIdempotent(tx, by, key));
    if (replay) {
      KYSO_ASSIGN_OR_RETURN(auto existing, tx.GetRequest(replay->record));
      return Created<store::RequestRecord>{existing, true};
    }
    KYSO_ASSIGN_OR_RETURN(store::OrganizationRecord org, tx.GetOrganization(req.organization_id));
    KYSO_RETURN_IF_ERROR(CanCreateRequest(by, kind->id, org.path, req.person_id));
    if (req.person_id) {
      KYSO_ASSIGN_OR_RETURN(store::PersonRecord person, tx.GetPerson(*req.person_id));
      if (!InSubtree(person.organization_path, org.path)) {
        return InvalidArgument("ra.person_not_in_body",
                               "the person does not work in this body or below it");
      }
    }
    if (req.certificate_id) {
      KYSO_ASSIGN_OR_RETURN(store::CertificateRecord cert,
                            tx.GetCertificateById(*req.certificate_id));
      bool belongs = req.person_id && cert.owner_id == req.person_id;
      if (!belongs && cert.organization_id) {
        KYSO_ASSIGN_OR_RETURN(store::OrganizationRecord holder,
                              tx.GetOrganization(*cert.organization_id));
        belongs = InSubtree(holder.path, org.path) && (!req.person_id || !cert.owner_id);
      }
      if (!belongs) {
        return InvalidArgument("ra.certificate_mismatch",
                               "the certificate is not the subscriber's or the body's");
      }
      if (cert.status == store::CertificateStatus::kRevoked && kind->id != "device_handover") {
        return FailedPrecondition("ra.certificate_revoked", "the certificate is revoked");
      }
    }
    KYSO_ASSIGN_OR_RETURN(auto created, OpenDraft(tx, by, req, ""));
    KYSO_RETURN_IF_ERROR(RememberIdempotent(tx, by, key, created.id));
    return Created<store::RequestRecord>{created, false};
  });
}

Result<store::RequestRecord> Registry::GetRequest(const Principal& by, int64_t id) {
  return WithRead([&](store::Transaction& tx) -> Result<store::RequestRecord> {
    KYSO_ASSIGN_OR_RETURN(store::RequestRecord r, tx.GetRequest(id));
    KYSO_RETURN_IF_ERROR(CanReadRequest(by, r));
    return r;
  });
}

Result<store::RequestRecord> Registry::LoadRequestForUpdate(store::Transaction& tx, int64_t id,
                                                            int64_t version) {
  KYSO_ASSIGN_OR_RETURN(store::RequestRecord r, tx.GetRequest(id));
  if (r.version != version) {
    return FailedPrecondition(
        "store.conflict", "request " + std::to_string(id) + " changed: version " +
                              std::to_string(r.version) + ", you sent " + std::to_string(version));
  }
  return r;
}

Result<store::RequestRecord> Registry::UpdateDraft(const Principal& by, int64_t id,
                                                   const json& form, int64_t version) {
  return WithWrite([&](store::Transaction& tx) -> Result<store::RequestRecord> {
    KYSO_ASSIGN_OR_RETURN(store::RequestRecord r, LoadRequestForUpdate(tx, id, version));
    KYSO_RETURN_IF_ERROR(CanActAsRequester(by, r, "edit"));
    if (r.state != state::kDraft && r.state != state::kReturned) {
      return FailedPrecondition("ra.not_editable", "only drafts and returned requests change");
    }
    KYSO_ASSIGN_OR_RETURN(const RequestKind* kind, FindKind(r.kind));
    KYSO_RETURN_IF_ERROR(ValidateForm(*kind, form));
    r.form_json = form.dump();
    r.updated_at = deps_.clock->Now();
    KYSO_RETURN_IF_ERROR(tx.UpdateRequest(r));
    KYSO_RETURN_IF_ERROR(Audit(deps_.audit, tx, by, "request.update",
                               "request/" + std::to_string(id), {{"version", r.version + 1}}));
    return tx.GetRequest(id);
  });
}

// --- attachments ---------------------------------------------------------------------------------

namespace {

// The type of an attachment from its first bytes (ISO 32000-1 §7.5.2 "%PDF-"; PNG's 8-byte
// signature, ISO/IEC 15948 §5.2; JPEG's SOI marker FF D8 then a marker FF), never from the name
// or a client's Content-Type.
std::optional<std::string> SniffAttachmentType(ByteSpan data) {
  auto starts = [&](std::initializer_list<uint8_t> magic) {
    return data.size() >= magic.size() && std::equal(magic.begin(), magic.end(), data.begin());
  };
  if (starts({'%', 'P', 'D', 'F', '-'})) return "application/pdf";
  if (starts({0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A})) return "image/png";
  if (starts({0xFF, 0xD8, 0xFF})) return "image/jpeg";
  return std::nullopt;
}

// The last path component of a client's file name, without control characters, at most 200
// bytes (cut at a UTF-8 character boundary); "tep-dinh-kem" when nothing is left.
std::string CleanFilename(std::string_view name) {
  const size_t slash = name.find_last_of("/\\");
  if (slash != std::string_view::npos) name.remove_prefix(slash + 1);
  std::string out;
  for (char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F || c == '"') continue;
    out.push_back(c);
  }
  if (out.size() > 200) {
    size_t cut = 200;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
    out.resize(cut);
  }
  out = Trimmed(out);
  return out.empty() || out == "." || out == ".." ? "tep-dinh-kem" : out;
}

Status CheckAttachable(const store::RequestRecord& r) {
  if (r.state != state::kDraft && r.state != state::kReturned) {
    return FailedPrecondition("ra.not_editable",
                              "attachments change only on drafts and returned requests");
  }
  return Status::Ok();
}

}  // namespace

Result<store::AttachmentRecord> Registry::AddAttachment(const Principal& by, int64_t request_id,
                                                        std::string_view filename, ByteSpan data) {
  if (data.empty()) return InvalidArgument("attachment.empty", "the file is empty");
  if (static_cast<int64_t>(data.size()) > kMaxAttachmentBytes) {
    return InvalidArgument(
        "attachment.too_large",
        "an attachment is at most " + std::to_string(kMaxAttachmentBytes >> 20) + " MiB");
  }
  auto type = SniffAttachmentType(data);
  if (!type) {
    return InvalidArgument("attachment.bad_type", "attachments are PDF, PNG or JPEG files");
  }
  return WithWrite([&](store::Transaction& tx) -> Result<store::AttachmentRecord> {
    KYSO_ASSIGN_OR_RETURN(store::RequestRecord r, tx.GetRequest(request_id));
    KYSO_RETURN_IF_ERROR(CanActAsRequester(by, r, "edit"));
    KYSO_RETURN_IF_ERROR(CheckAttachable(r));
    KYSO_ASSIGN_OR_RETURN(auto existing, tx.ListAttachments(request_id));
    if (existing.size() >= kMaxAttachments) {
      return FailedPrecondition(
          "attachment.too_many",
          "a request holds at most " + std::to_string(kMaxAttachments) + " attachments");
    }
    store::AttachmentRecord a;
    a.request_id = request_id;
    a.filename = CleanFilename(filename);
    a.content_type = *type;
    a.size = static_cast<int64_t>(data.size());
    a.sha256 = HexEncode(crypto::Sha256(data));
    // Lower-case, as sha256sum and most tools print it.
    std::transform(a.sha256.begin(), a.sha256.end(), a.sha256.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    a.data = Bytes(data.begin(), data.end());
    a.created_by = by.Actor();
    a.created_at = deps_.clock->Now();
    KYSO_ASSIGN_OR_RETURN(a.id, tx.InsertAttachment(a));
    r.updated_at = a.created_at;
    KYSO_RETURN_IF_ERROR(tx.UpdateRequest(r));  // a new version: older signatures go stale
    KYSO_RETURN_IF_ERROR(Audit(deps_.audit, tx, by, "request.attach",
                               "request/" + std::to_string(request_id),
                               {{"attachment_id", a.id},
                                {"filename", a.filename},
                                {"sha256", a.sha256},
                                {"size", a.size}}));
    a.data.clear();
    return a;
  });
}

Result<std::vector<store::AttachmentRecord>> Registry::ListAttachments(const Principal& by,
                                                                       int64_t request_id) {
  return WithRead([&](store::Transaction& tx) -> Result<std::vector<store::AttachmentRecord>> {
    KYSO_ASSIGN_OR_RETURN(store::RequestRecord r, tx.GetRequest(request_id));
    KYSO_RETURN_IF_ERROR(CanReadRequest(by, r));
    return tx.ListAttachments(request_id);
  });
}

Result<store::AttachmentRecord> Registry::GetAttachment(const Principal& by, int64_t request_id,
                                                        int64_t attachment_id) {
  return WithRead([&](store::Transaction& tx) -> Result<store::AttachmentRecord> {
    KYSO_ASSIGN_OR_RETURN(store::RequestRecord r, tx.GetRequest(request_id));
    KYSO_RETURN_IF_ERROR(CanReadRequest(by, r));
    KYSO_ASSIGN_OR_RETURN(store::AttachmentRecord a, tx.GetAttachment(attachment_id));
    if (a.request_id != request_id) {
      return NotFound("store.not_found", "request " + std::to_string(request_id) +
                                             " has no attachment " + std::to_string(attachment_id));
    }
    return a;
  });
}

Status Registry::DeleteAttachment(const Principal& by, int64_t request_id, int64_t attachment_id) {
  return WithWrite([&](store::Transaction& tx) -> Result<bool> {
           KYSO_ASSIGN_OR_RETURN(store::RequestRecord r, tx.GetRequest(request_id));
           KYSO_RETURN_IF_ERROR(CanActAsRequester(by, r, "edit"));
           KYSO_RETURN_IF_ERROR(CheckAttachable(r));
           KYSO_ASSIGN_OR_RETURN(store::AttachmentRecord a, tx.GetAttachment(attachment_id));
           if (a.request_id != request_id) {
             return NotFound("store.not_found", "request " + std::to_string(request_id) +
                                                    " has no attachment " +
                                                    std::to_string(attachment_id));
           }
           KYSO_RETURN_IF_ERROR(tx.DeleteAttachment(attachment_id));
           r.updated_at = deps_.clock->Now();
           KYSO_RETURN_IF_ERROR(tx.UpdateRequest(r));
           KYSO_RETURN_IF_ERROR(Audit(
               deps_.audit, tx, by, "request.detach", "request/" + std::to_string(request_id),
               {{"attachment_id", attachment_id}, {"filename", a.filename}, {"sha256", a.sha256}}));
           return true;
         })
      .status();
}

Result<std::string> Registry::SigningDocument(const Principal& by, int64_t id) {
  KYSO_ASSIGN_OR_RETURN(SignedView view, LoadForSigning(by, id));
  return std::move(view.document);
}

Result<std::optional<store::DelegationRecord>> Registry::RouteFor(store::Transaction& tx,
                                                                  const RequestKind& kind,
                                                                  std::string_view org_path) {
  std::optional<store::DelegationRecord> best;
  if (!kind.delegable) return best;  // new issue and revocation: always the CA operator
  store::DelegationFilter filter;
  filter.active_only = true;
  KYSO_ASSIGN_OR_RETURN(auto delegations, tx.ListDelegations(filter));
  for (auto& d : delegations) {
    if (!InSubtree(org_path, d.scope_path)) continue;
    if (std::find(d.kinds.begin(), d.kinds.end(), kind.id) == d.kinds.end()) continue;
    // The most specific delegation wins (a district office over its province's).
    if (!best || d.scope_path.size() > best->scope_path.size()) best = d;
  }
  return best;
}

Status Registry::RecordTransition(store::Transaction& tx, const Principal& by,
                                  store::RequestRecord& r, std::string_view to,
                                  const std::string& reason, const std::string& action,
                                  const std::string& details_json) {
  store::RequestEventRecord event;
  event.request_id = r.id;
  event.from_state = r.state;
  event.to_state = std::string(to);
  event.actor = by.Actor();
  event.time = deps_.clock->Now();
  event.reason = reason;
  r.state = std::string(to);
  r.updated_at = event.time;
  KYSO_RETURN_IF_ERROR(tx.UpdateRequest(r));
  KYSO_RETURN_IF_ERROR(tx.InsertRequestEvent(event).status());
  json details = json::parse(details_json.empty() ? "{}" : details_json, nullptr, false);
  if (details.is_discarded()) details = json::object();
  details["from"] = event.from_state;
  details["to"] = event.to_state;
  if (!reason.empty()) details["reason"] = reason;
  return Audit(deps_.audit, tx, by, "request." + action, "request/" + std::to_string(r.id),
               details);
}

Result<store::RequestRecord> Registry::Submit(const Principal& by, int64_t id, ByteSpan cms_der,
                                              int64_t version) {
  // Everything slow (the signature, its path and revocation) is checked before the write
  // transaction; the write then re-checks the version, so the signed document is the one
  // stored.
  // The attachments change only with a version bump, so the document read with the request
  // at `version` is the one the write below finds.
  KYSO_ASSIGN_OR_RETURN(SignedView view, LoadForSigning(by, id));
  const store::RequestRecord& r = view.request;
  if (r.version != version) {
    return FailedPrecondition("store.conflict",
                              "request changed since version " + std::to_string(version));
  }
  KYSO_RETURN_IF_ERROR(CanActAsRequester(by, r, "submit"));
  KYSO_RETURN_IF_ERROR(FindTransition("submit", r.state).status());
  KYSO_ASSIGN_OR_RETURN(const RequestKind* kind, FindKind(r.kind));
  KYSO_RETURN_IF_ERROR(ValidateForm(*kind, json::parse(r.form_json, nullptr, false)));
  const std::string& document = view.document;
  std::string signer_subject;
  if (cms_der.empty()) {
    if (!options_.allow_unsigned_submissions) {
      return InvalidArgument("ra.unsigned",
                             "a submission is a detached CMS signature by the managing agency "
                             "over GET /api/v1/requests/{id}/document");
    }
    signer_subject = "(unsigned: demo mode)";
  } else {
    if (deps_.verifier == nullptr) {
      return FailedPrecondition("ra.no_verifier", "this server cannot verify signatures");
    }
    KYSO_ASSIGN_OR_RETURN(SubmissionVerifier::Signer signer,
                          deps_.verifier->Verify(cms_der, AsBytes(document)));
    signer_subject = signer.subject;
    // The signature must speak for the managing body: the body's own certificate (or one of
    // a body above it), or the personal certificate of the officer submitting.
    bool authorized = false;
    auto found = WithRead([&](store::Transaction& tx) -> Result<bool> {
      KYSO_ASSIGN_OR_RETURN(auto certs, tx.FindCertificatesBySerial(signer.serial_hex));
      for (const auto& cert : certs) {
        if (cert.subject != signer.subject) continue;
        if (cert.status != store::CertificateStatus::kValid) continue;
        if (by.person_id && cert.owner_id == by.person_id) return true;
        if (cert.organization_id && !cert.owner_id) {
          KYSO_ASSIGN_OR_RETURN(auto holder, tx.GetOrganization(*cert.organization_id));
          if (InSubtree(r.organization_path, holder.path)) return true;
        }
      }
      return false;
    });
    if (!found.ok()) return found.status();
    authorized = *found;
    if (!authorized) {
      return PermissionDenied("ra.signer_not_authorized",
                              "the signature is valid but its certificate (" + signer.subject +
                                  ") is neither the managing body's nor yours");
    }
  }
  return WithWrite([&](store::Transaction& tx) -> Result<store::RequestRecord> {
    KYSO_ASSIGN_OR_RETURN(store::RequestRecord current, LoadRequestForUpdate(tx, id, version));
    KYSO_ASSIGN_OR_RETURN(const ra::Transition* t, FindTransition("submit", current.state));
    KYSO_ASSIGN_OR_RETURN(auto delegation, RouteFor(tx, *kind, current.organization_path));
    current.assignee = delegation ? "delegation:" + std::to_string(delegation->id) : "ca";
    current.delegation_id = delegation ? std::optional<int64_t>(delegation->id) : std::nullopt;
    current.signed_document = Bytes(document.begin(), document.end());
    current.signature = Bytes(cms_der.begin(), cms_der.end());
    current.signer = signer_subject;
    current.submitted_at = deps_.clock->Now();
    // The calendar is read at each submission, so holidays an operator adds (`kyso calendar
    // set`) apply at once on every node.
    WorkingCalendar calendar = options_.calendar;
    KYSO_ASSIGN_OR_RETURN(auto calendar_json, tx.GetSetting(kCalendarSetting));
    if (calendar_json) {
      KYSO_ASSIGN_OR_RETURN(calendar, WorkingCalendar::FromJson(*calendar_json));
    }
    current.due_at = calendar.Deadline(*current.submitted_at, kind->deadline_working_days);
    KYSO_RETURN_IF_ERROR(RecordTransition(tx, by, current, t->to, "", "submit",
                                          json{{"assignee", current.assignee},
                                               {"signer", signer_subject},
                                               {"signed", !cms_der.empty()},
                                               {"due_at", *current.due_at}}
                                              .dump()));
    return tx.GetRequest(id);
  });
}

Result<store::RequestRecord> Registry::Transition(const Principal& by, int64_t id,
                                                  const std::string& action,
                                                  const std::string& reason, int64_t version) {
  if (action == "submit") {
    return InvalidArgument("ra.signature_required", "submit with POST .../submit and a signature");
  }
  if (action == "execute") return Execute(by, id, version);
  return WithWrite([&](store::Transaction& tx) -> Result<store::RequestRecord> {
    KYSO_ASSIGN_OR_RETURN(store::RequestRecord r, tx.GetRequest(id));
    KYSO_RETURN_IF_ERROR(CanReadRequest(by, r));
    KYSO_ASSIGN_OR_RETURN(const ra::Transition* t, FindTransition(action, r.state));
    if (t->side == Side::kRequester) {
      KYSO_RETURN_IF_ERROR(CanActAsRequester(by, r, action));
    } else {
      std::optional<store::DelegationRecord> delegation;
      if (r.delegation_id) {
        KYSO_ASSIGN_OR_RETURN(auto d, tx.GetDelegation(*r.delegation_id));
        if (!d.withdrawn_at) delegation = d;
      }
      KYSO_RETURN_IF_ERROR(CanHandle(by, r, delegation));
    }
    if (t->reason_required && Trimmed(reason).empty()) {
      return InvalidArgument("ra.reason_required", "\"" + action + "\" needs a reason");
    }
    if (r.version != version) {
      return FailedPrecondition("store.conflict",
                                "request changed since version " + std::to_string(version));
    }
    KYSO_RETURN_IF_ERROR(RecordTransition(tx, by, r, t->to, reason, action, ""));
    return tx.GetRequest(id);
  });
}

Result<store::RequestRecord> Registry::Execute(const Principal& by, int64_t id, int64_t version) {
  // 1. Claim: a version bump recorded in the request, so a second executor (another operator,
  //    another node) fails with store.conflict instead of issuing a second certificate.
  const UnixSeconds now = deps_.clock->Now();
  KYSO_ASSIGN_OR_RETURN(store::RequestRecord claimed,
                        WithWrite([&](store::Transaction& tx) -> Result<store::RequestRecord> {
                          KYSO_ASSIGN_OR_RETURN(store::RequestRecord r, tx.GetRequest(id));
                          KYSO_RETURN_IF_ERROR(CanReadRequest(by, r));
                          KYSO_RETURN_IF_ERROR(FindTransition("execute", r.state).status());
                          std::optional<store::DelegationRecord> delegation;
                          if (r.delegation_id) {
                            KYSO_ASSIGN_OR_RETURN(auto d, tx.GetDelegation(*r.delegation_id));
                            if (!d.withdrawn_at) delegation = d;
                          }
                          KYSO_RETURN_IF_ERROR(CanHandle(by, r, delegation));
                          if (r.version != version) {
                            return FailedPrecondition(
                                "store.conflict",
                                "request changed since version " + std::to_string(version));
                          }
                          if (r.result_note.rfind(kExecutingPrefix, 0) == 0 &&
                              now - r.updated_at < kExecutionClaimSeconds) {
                            return FailedPrecondition("ra.execution_in_progress",
                                                      "another operator is executing this request");
                          }
                          r.result_note = std::string(kExecutingPrefix) + by.Actor();
                          r.updated_at = now;
                          KYSO_RETURN_IF_ERROR(tx.UpdateRequest(r));
                          return tx.GetRequest(id);
                        }));
  KYSO_ASSIGN_OR_RETURN(const RequestKind* kind, FindKind(claimed.kind));
  // 2. The CA operation, in the CA's own transaction with its own audit entry.
  auto done = CarryOut(by, claimed, *kind);
  if (!done.ok()) {
    (void)WithWrite([&](store::Transaction& tx) -> Result<bool> {
      KYSO_ASSIGN_OR_RETURN(store::RequestRecord r, tx.GetRequest(id));
      r.result_note = "failed: " + done.status().ToString();
      r.updated_at = deps_.clock->Now();
      KYSO_RETURN_IF_ERROR(tx.UpdateRequest(r));
      KYSO_RETURN_IF_ERROR(Audit(deps_.audit, tx, by, "request.execute_failed",
                                 "request/" + std::to_string(id), {{"error", done.status().id()}}));
      return true;
    });
    return done.status();
  }
  // 3. The request records the outcome.
  return WithWrite([&](store::Transaction& tx) -> Result<store::RequestRecord> {
    KYSO_ASSIGN_OR_RETURN(store::RequestRecord r, tx.GetRequest(id));
    r.result_certificate_id = done->result_certificate_id;
    r.result_note = done->result_note;
    json details = {{"kind", r.kind}};
    if (r.result_certificate_id) details["certificate_id"] = *r.result_certificate_id;
    KYSO_RETURN_IF_ERROR(
        RecordTransition(tx, by, r, state::kExecuted, "", "execute", details.dump()));
    return tx.GetRequest(id);
  });
}

Result<store::RequestRecord> Registry::CarryOut(const Principal& by, const store::RequestRecord& r,
                                                const RequestKind& kind) {
  const json form = json::parse(r.form_json, nullptr, false);
  store::RequestRecord outcome;
  std::string ca_name;
  std::string serial;
  if (r.certificate_id) {
    KYSO_RETURN_IF_ERROR(WithRead([&](store::Transaction& tx) -> Result<bool> {
                           KYSO_ASSIGN_OR_RETURN(auto cert,
                                                 tx.GetCertificateById(*r.certificate_id));
                           KYSO_ASSIGN_OR_RETURN(auto ca, tx.GetCa(cert.issuer_ca_id));
                           ca_name = ca.name;
                           serial = cert.serial_hex;
                           return true;
                         }).status());
  }
  switch (kind.execution) {
    case Execution::kIssue: {
      ca::IssueRequest issue;
      issue.ca = options_.issuing_ca;
      const std::string csr = FormString(form, "csr");
      issue.csr = Bytes(csr.begin(), csr.end());
      issue.profile = FormString(form, "profile");
      if (issue.profile.empty()) issue.profile = std::string(kind.default_profile);
      issue.days = FormDays(form);
      issue.owner_id = r.person_id;
      issue.organization_id = r.organization_id;
      KYSO_ASSIGN_OR_RETURN(auto issued, deps_.authority->Issue(issue));
      outcome.result_certificate_id = issued.record.id;
      outcome.result_note = "issued " + issued.record.serial_hex;
      break;
    }
    case Execution::kRenew: {
      ca::RenewRequest renew;
      renew.ca = ca_name;
      renew.serial = serial;
      const std::string csr = FormString(form, "csr");
      if (!csr.empty()) renew.csr = Bytes(csr.begin(), csr.end());
      renew.days = FormDays(form);
      KYSO_ASSIGN_OR_RETURN(auto issued, deps_.authority->Renew(renew));
      outcome.result_certificate_id = issued.record.id;
      outcome.result_note = "renewed as " + issued.record.serial_hex;
      break;
    }
    case Execution::kChange: {
      ca::ChangeRequest change;
      change.ca = ca_name;
      change.serial = serial;
      const std::string csr = FormString(form, "csr");
      change.csr = Bytes(csr.begin(), csr.end());
      const std::string profile = FormString(form, "profile");
      if (!profile.empty()) change.profile = profile;
      KYSO_ASSIGN_OR_RETURN(auto issued, deps_.authority->ChangeInformation(change));
      outcome.result_certificate_id = issued.record.id;
      outcome.result_note = "changed: " + issued.record.serial_hex + " supersedes " + serial;
      // The old certificate was revoked (superseded) in the CA's transaction.
      if (deps_.on_revoked) {
        auto old = deps_.authority->FindCertificate(ca_name, serial);
        if (old.ok()) deps_.on_revoked(*old);
      }
      break;
    }
    case Execution::kRevoke: {
      ca::RevokeRequest revoke;
      revoke.ca = ca_name;
      revoke.serial = serial;
      std::string reason = FormString(form, "reason");
      std::string invalid_since = FormString(form, "invalidity_date");
      if (kind.id == "lost_device") {
        reason = "keyCompromise";  // the key left its holder's control
        invalid_since = FormString(form, "lost_on");
      }
      KYSO_ASSIGN_OR_RETURN(revoke.reason, ca::ParseRevocationReasonForRevoke(reason));
      if (!invalid_since.empty()) {
        KYSO_ASSIGN_OR_RETURN(UnixSeconds t, DayStart(invalid_since));
        revoke.invalidity_date = t;
      }
      KYSO_ASSIGN_OR_RETURN(store::CertificateRecord revoked, deps_.authority->Revoke(revoke));
      if (deps_.on_revoked) deps_.on_revoked(revoked);
      outcome.result_certificate_id = revoked.id;
      outcome.result_note = "revoked " + revoked.serial_hex + " (" + reason + ")";
      break;
    }
    case Execution::kRecordOnly:
      outcome.result_note = "recorded";
      break;
  }
  (void)by;
  return outcome;
}

Result<std::vector<store::RequestRecord>> Registry::ListRequests(const Principal& by,
                                                                 const RequestQuery& query) {
  store::RequestFilter filter;
  filter.states = query.states;
  filter.kinds = query.kinds;
  filter.person_id = query.person_id;
  filter.after_id = query.after_id;
  filter.limit = std::clamp<int64_t>(query.limit, 1, kMaxListLimit);
  if (query.overdue) {
    filter.due_before = deps_.clock->Now();
    if (filter.states.empty()) filter.states = HandlerStates();
  }
  return WithRead([&](store::Transaction& tx) -> Result<std::vector<store::RequestRecord>> {
    if (query.organization_id) {
      KYSO_ASSIGN_OR_RETURN(auto org, tx.GetOrganization(*query.organization_id));
      KYSO_RETURN_IF_ERROR(CanReadOrganization(by, org.path));
      filter.path_prefix = org.path;
    }
    bool post_filter = false;
    switch (by.role) {
      case Role::kCaOperator:
        if (query.assigned_to_me) filter.assignee = "ca";
        break;
      case Role::kAuditor:
      case Role::kAdmin:
        break;
      case Role::kAgencyOfficer:
        if (!filter.path_prefix || !InSubtree(*filter.path_prefix, by.organization_path)) {
          filter.path_prefix = by.organization_path;
        }
        break;
      case Role::kDelegateOfficer:
        if (by.delegations.empty()) return std::vector<store::RequestRecord>();
        if (by.delegations.size() == 1) {
          filter.assignee = "delegation:" + std::to_string(by.delegations[0].id);
        } else {
          for (const auto& d : by.delegations) filter.path_prefixes.push_back(d.scope_path);
          post_filter = true;
        }
        break;
      case Role::kSubscriber:
        if (by.person_id) {
          filter.person_id = by.person_id;
        } else {
          filter.created_by = by.account_id;
        }
        break;
    }
    KYSO_ASSIGN_OR_RETURN(auto requests, tx.ListRequests(filter));
    if (post_filter || by.role == Role::kSubscriber) {
      std::erase_if(requests, [&](const auto& r) { return !CanReadRequest(by, r).ok(); });
    }
    return requests;
  });
}

Result<std::vector<store::RequestEventRecord>> Registry::History(const Principal& by, int64_t id) {
  return WithRead([&](store::Transaction& tx) -> Result<std::vector<store::RequestEventRecord>> {
    KYSO_ASSIGN_OR_RETURN(store::RequestRecord r, tx.GetRequest(id));
    KYSO_RETURN_IF_ERROR(CanReadRequest(by, r));
    return tx.ListRequestEvents(id);
  });
}

Result<int64_t> Registry::CountOverdue() {
  return WithRead([&](store::Transaction& tx) {
    store::RequestFilter filter;
    filter.states = HandlerStates();
    filter.due_before = deps_.clock->Now();
    return tx.CountRequests(filter);
  });
}

// --- delegations --------------------------------------------------------------------------------

Result<store::DelegationRecord> Registry::CreateDelegation(const Principal& by,
                                                           int64_t delegate_organization_id,
                                                           int64_t scope_organization_id,
                                                           std::vector<std::string> kinds) {
  KYSO_RETURN_IF_ERROR(CanManageDelegations(by));
  if (kinds.empty()) return InvalidArgument("ra.no_kinds", "a delegation names request kinds");
  for (const std::string& k : kinds) {
    KYSO_ASSIGN_OR_RETURN(const RequestKind* kind, FindKind(k));
    if (!kind->delegable) {
      return InvalidArgument("ra.kind_not_delegable",
                             k + " stays with the CA operator (Nghị định 68 Điều 3: only "
                                 "renewal, change of information and device restore)");
    }
  }
  std::sort(kinds.begin(), kinds.end());
  kinds.erase(std::unique(kinds.begin(), kinds.end()), kinds.end());
  return WithWrite([&](store::Transaction& tx) -> Result<store::DelegationRecord> {
    KYSO_RETURN_IF_ERROR(tx.GetOrganization(delegate_organization_id).status());
    KYSO_RETURN_IF_ERROR(tx.GetOrganization(scope_organization_id).status());
    store::DelegationRecord d;
    d.delegate_organization_id = delegate_organization_id;
    d.scope_organization_id = scope_organization_id;
    d.kinds = kinds;
    d.created_by = by.Actor();
    d.created_at = deps_.clock->Now();
    KYSO_ASSIGN_OR_RETURN(int64_t id, tx.InsertDelegation(d));
    KYSO_RETURN_IF_ERROR(Audit(deps_.audit, tx, by, "delegation.create",
                               "delegation/" + std::to_string(id),
                               {{"delegate", delegate_organization_id},
                                {"scope", scope_organization_id},
                                {"kinds", kinds}}));
    return tx.GetDelegation(id);
  });
}

Result<store::DelegationRecord> Registry::WithdrawDelegation(const Principal& by, int64_t id) {
  KYSO_RETURN_IF_ERROR(CanManageDelegations(by));
  return WithWrite([&](store::Transaction& tx) -> Result<store::DelegationRecord> {
    KYSO_RETURN_IF_ERROR(tx.WithdrawDelegation(id, deps_.clock->Now(), by.Actor()));
    KYSO_RETURN_IF_ERROR(Audit(deps_.audit, tx, by, "delegation.withdraw",
                               "delegation/" + std::to_string(id), json::object()));
    return tx.GetDelegation(id);
  });
}

Result<std::vector<store::DelegationRecord>> Registry::ListDelegations(const Principal& by,
                                                                       bool active_only) {
  KYSO_RETURN_IF_ERROR(CanReadDelegations(by));
  return WithRead([&](store::Transaction& tx) {
    store::DelegationFilter filter;
    filter.active_only = active_only;
    if (by.role == Role::kDelegateOfficer) filter.delegate_organization_id = by.organization_id;
    return tx.ListDelegations(filter);
  });
}

// --- the caller's API tokens --------------------------------------------------------------------

Result<std::vector<store::AccessTokenRecord>> Registry::ListOwnApiTokens(const Principal& by,
                                                                         int64_t after_id,
                                                                         int64_t limit) {
  return WithRead([&](store::Transaction& tx) {
    return tx.ListAccessTokens(by.account_id, "api", after_id,
                               std::clamp<int64_t>(limit, 1, kMaxListLimit));
  });
}

Result<store::AccessTokenRecord> Registry::RevokeOwnApiToken(const Principal& by, int64_t id) {
  return WithWrite([&](store::Transaction& tx) -> Result<store::AccessTokenRecord> {
    auto token = tx.GetAccessTokenById(id);
    if (!token.ok() && token.status().id() != "store.not_found") return token.status();
    // Another account's token answers as an unknown one: ids are guessable, owners are not
    // revealed.
    if (!token.ok() || token->account_id != by.account_id || token->kind != "api") {
      return NotFound("store.not_found", "you hold no API token with id " + std::to_string(id));
    }
    if (token->revoked) return *token;
    KYSO_RETURN_IF_ERROR(tx.RevokeAccessToken(token->token_hash));
    KYSO_RETURN_IF_ERROR(Audit(deps_.audit, tx, by, "token.revoke", "account/" + by.username,
                               json{{"token_id", id}, {"name", token->name}}));
    token->revoked = true;
    return *token;
  });
}

// --- certificates and expiry --------------------------------------------------------------------

Result<store::CertificateRecord> Registry::GetCertificate(const Principal& by, int64_t id) {
  return WithRead([&](store::Transaction& tx) -> Result<store::CertificateRecord> {
    KYSO_ASSIGN_OR_RETURN(store::CertificateRecord cert, tx.GetCertificateById(id));
    std::string path;
    if (cert.organization_id) {
      KYSO_ASSIGN_OR_RETURN(auto org, tx.GetOrganization(*cert.organization_id));
      path = org.path;
    }
    KYSO_RETURN_IF_ERROR(CanReadCertificate(by, cert.owner_id, path));
    return cert;
  });
}

namespace {

// The certificates `by` sees when no body is named (the one scope of ListCertificates and the
// dashboard's counts): everything, a subscriber's own, or an officer's body and every body
// under it; nullopt when the caller has none.
std::optional<store::CertificateFilter> DefaultCertificateScope(const Principal& by) {
  store::CertificateFilter scope;
  if (SeesEverything(by)) return scope;
  if (by.role == Role::kSubscriber) {
    if (!by.person_id) return std::nullopt;
    scope.owner_id = by.person_id;
    return scope;
  }
  if (!by.organization_id || by.organization_path.empty()) return std::nullopt;
  scope.organization_path_prefix = by.organization_path;
  return scope;
}

}  // namespace

Result<std::vector<store::CertificateRecord>> Registry::ListCertificates(
    const Principal& by, store::CertificateFilter filter, bool include_subtree) {
  filter.limit = std::clamp<int64_t>(filter.limit, 1, kMaxListLimit);
  return WithRead([&](store::Transaction& tx) -> Result<std::vector<store::CertificateRecord>> {
    // A subscriber sees their own certificates whatever the filter names; an officer without a
    // body filter sees their body's subtree.
    if (by.role == Role::kSubscriber || (!SeesEverything(by) && !filter.organization_id)) {
      const auto scope = DefaultCertificateScope(by);
      if (!scope) return std::vector<store::CertificateRecord>();
      if (scope->owner_id) filter.owner_id = scope->owner_id;
      if (scope->organization_path_prefix) {
        filter.organization_path_prefix = scope->organization_path_prefix;
      }
      if (by.role == Role::kSubscriber) return tx.ListCertificates(filter);
    }
    if (filter.organization_id && (include_subtree || !SeesEverything(by))) {
      KYSO_ASSIGN_OR_RETURN(auto org, tx.GetOrganization(*filter.organization_id));
      if (!SeesEverything(by)) KYSO_RETURN_IF_ERROR(CanReadOrganization(by, org.path));
      if (include_subtree) {
        filter.organization_id.reset();
        filter.organization_path_prefix = org.path;
      }
    }
    return tx.ListCertificates(filter);
  });
}

namespace {

// Days since 1970-01-01 of a civil date (H. Hinnant's days_from_civil).
int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

constexpr int64_t kVietnamOffset = 7 * 3600;  // UTC+07:00, no daylight saving

}  // namespace

Result<Summary> Registry::Summarize(const Principal& by) {
  const UnixSeconds now = deps_.clock->Now();
  // The request filters this caller's counts run under (several for a delegate: one per
  // delegation, since a routed request names the delegation that handles it).
  std::vector<store::RequestFilter> scopes(1);
  switch (by.role) {
    case Role::kCaOperator:
    case Role::kAuditor:
    case Role::kAdmin:
      break;
    case Role::kAgencyOfficer:
      if (by.organization_path.empty())
        scopes.clear();
      else
        scopes[0].path_prefix = by.organization_path;
      break;
    case Role::kDelegateOfficer:
      scopes.clear();
      for (const auto& d : by.delegations) {
        store::RequestFilter f;
        f.assignee = "delegation:" + std::to_string(d.id);
        scopes.push_back(f);
      }
      break;
    case Role::kSubscriber:
      if (by.person_id)
        scopes[0].person_id = by.person_id;
      else
        scopes[0].created_by = by.account_id;
      break;
  }
  const std::optional<store::CertificateFilter> certs = DefaultCertificateScope(by);
  return WithRead([&](store::Transaction& tx) -> Result<Summary> {
    Summary out;
    auto count_requests = [&](auto adjust) -> Result<int64_t> {
      int64_t total = 0;
      for (store::RequestFilter f : scopes) {
        adjust(f);
        KYSO_ASSIGN_OR_RETURN(int64_t n, tx.CountRequests(f));
        total += n;
      }
      return total;
    };
    for (std::string_view state : AllStates()) {
      KYSO_ASSIGN_OR_RETURN(int64_t n, count_requests([&](store::RequestFilter& f) {
                              f.states = {std::string(state)};
                            }));
      out.requests_by_state.emplace_back(std::string(state), n);
    }
    KYSO_ASSIGN_OR_RETURN(out.overdue, count_requests([&](store::RequestFilter& f) {
                            f.states = HandlerStates();
                            f.due_before = now;
                          }));
    auto count_certs = [&](auto adjust) -> Result<int64_t> {
      if (!certs) return int64_t{0};
      store::CertificateFilter f = *certs;
      adjust(f);
      return tx.CountCertificates(f);
    };
    KYSO_ASSIGN_OR_RETURN(out.certificates_valid, count_certs([&](store::CertificateFilter& f) {
                            f.status = store::CertificateStatus::kValid;
                            f.valid_at = now;
                          }));
    KYSO_ASSIGN_OR_RETURN(out.certificates_revoked, count_certs([&](store::CertificateFilter& f) {
                            f.status = store::CertificateStatus::kRevoked;
                          }));
    int64_t* expiring[] = {&out.expiring_30, &out.expiring_60, &out.expiring_90};
    for (int i = 0; i < 3; ++i) {
      KYSO_ASSIGN_OR_RETURN(*expiring[i], count_certs([&](store::CertificateFilter& f) {
        f.status = store::CertificateStatus::kValid;
        f.valid_at = now;
        f.expires_before = now + (i + 1) * 30 * kSecondsPerDay;
      }));
    }
    // Month boundaries at midnight Vietnam time.
    const int64_t local_days = (now + kVietnamOffset) / kSecondsPerDay;
    int64_t year = 1970 + local_days / 366, month = 1;
    while (DaysFromCivil(year + 1, 1, 1) <= local_days) ++year;
    while (month < 12 && DaysFromCivil(year, month + 1, 1) <= local_days) ++month;
    std::vector<UnixSeconds> bounds;
    for (int back = 11; back >= -1; --back) {
      int64_t y = year, m = month - back;
      while (m < 1) {
        m += 12;
        --y;
      }
      while (m > 12) {
        m -= 12;
        ++y;
      }
      bounds.push_back(DaysFromCivil(y, m, 1) * kSecondsPerDay - kVietnamOffset);
      if (back < 0) break;
      Summary::Month row;
      char label[16];
      std::snprintf(label, sizeof label, "%04lld-%02lld", static_cast<long long>(y),
                    static_cast<long long>(m));
      row.month = label;
      out.months.push_back(std::move(row));
    }
    if (certs) {
      // One pass per time column: a subtree's rows are read twice, not 24 times.
      using Time = store::Transaction::CertificateTime;
      KYSO_ASSIGN_OR_RETURN(auto issued,
                            tx.CountCertificatesInPeriods(*certs, Time::kIssuedAt, bounds));
      KYSO_ASSIGN_OR_RETURN(auto revoked,
                            tx.CountCertificatesInPeriods(*certs, Time::kRevokedAt, bounds));
      for (size_t i = 0; i < out.months.size(); ++i) {
        out.months[i].issued = issued[i];
        out.months[i].revoked = revoked[i];
      }
    }
    return out;
  });
}

Result<std::vector<ExpiryBucket>> Registry::ExpiryReport(const Principal& by) {
  std::string scope;  // "" : every body
  if (!SeesEverything(by)) {
    if (by.role == Role::kSubscriber || by.organization_path.empty()) {
      return PermissionDenied("access.denied", "role " + std::string(RoleName(by.role)) +
                                                   " may not read expiry reports");
    }
    scope = by.organization_path;
  }
  const UnixSeconds now = deps_.clock->Now();
  return WithRead([&](store::Transaction& tx) -> Result<std::vector<ExpiryBucket>> {
    KYSO_ASSIGN_OR_RETURN(
        auto rows,
        tx.CountExpiringInSubtree(
            now, {now + 30 * kSecondsPerDay, now + 60 * kSecondsPerDay, now + 90 * kSecondsPerDay},
            scope));
    std::vector<ExpiryBucket> out;
    out.reserve(rows.size());
    for (const auto& row : rows) {
      ExpiryBucket b;
      b.organization_id = row.organization_id;
      b.organization_name = row.organization_name;
      b.within_30 = row.counts[0];
      b.within_60 = row.counts[1];
      b.within_90 = row.counts[2];
      out.push_back(std::move(b));
    }
    return out;
  });
}

Result<int> Registry::QueueExpiryReminders() {
  const UnixSeconds now = deps_.clock->Now();
  std::vector<int> windows = options_.reminder_days;
  std::sort(windows.begin(), windows.end());
  if (windows.empty()) return 0;
  return WithWrite([&](store::Transaction& tx) -> Result<int> {
    store::CertificateFilter filter;
    filter.status = store::CertificateStatus::kValid;
    filter.valid_at = now;
    filter.expires_before = now + windows.back() * kSecondsPerDay;
    filter.limit = -1;
    KYSO_ASSIGN_OR_RETURN(auto certs, tx.ListCertificates(filter));
    int queued = 0;
    for (const auto& cert : certs) {
      if (cert.issuance_kind == "system") continue;  // the instance's own service certificates
      const int64_t days_left = (cert.not_after - now) / kSecondsPerDay;
      int window = windows.back();
      for (int w : windows) {
        if (days_left < w) {
          window = w;
          break;
        }
      }
      std::string recipient = cert.email;
      if (recipient.empty() && cert.owner_id) {
        auto person = tx.GetPerson(*cert.owner_id);
        if (person.ok()) recipient = person->email;
      }
      if (recipient.empty() && cert.organization_id) {
        auto org = tx.GetOrganization(*cert.organization_id);
        if (org.ok()) recipient = org->email;
      }
      if (recipient.empty()) continue;
      store::OutboxMessage message;
      message.dedupe_key = "expiry:" + std::to_string(cert.id) + ":" + std::to_string(window);
      message.certificate_id = cert.id;
      message.reminder_days = window;
      message.channel = "email";
      message.recipient = recipient;
      message.subject = "Chứng thư số sắp hết hạn: " + cert.common_name;
      message.body = "Chứng thư số của " + cert.common_name + " (số hiệu " + cert.serial_hex +
                     ") hết hạn lúc " + FormatVietnam(cert.not_after) + ", còn " +
                     std::to_string(days_left) +
                     " ngày. Cơ quan quản lý trực tiếp cần lập đề nghị gia hạn (Mẫu 04) trước ít "
                     "nhất 30 ngày.";
      message.created_at = message.next_attempt_at = now;
      auto inserted = tx.InsertOutboxMessage(message);
      if (inserted.ok()) {
        ++queued;
      } else if (inserted.status().id() != "store.duplicate") {
        return inserted.status();
      }
    }
    return queued;
  });
}

Result<std::vector<store::ReminderEntry>> Registry::ListReminders(const Principal& by,
                                                                  const ReminderQuery& query) {
  store::ReminderFilter filter = query.filter;
  filter.path_prefix.reset();
  filter.owner_id.reset();
  filter.limit = std::clamp<int64_t>(filter.limit, 1, kMaxListLimit);
  return WithRead([&](store::Transaction& tx) -> Result<std::vector<store::ReminderEntry>> {
    if (query.organization_id) {
      KYSO_ASSIGN_OR_RETURN(auto org, tx.GetOrganization(*query.organization_id));
      KYSO_RETURN_IF_ERROR(CanReadOrganization(by, org.path));
      filter.path_prefix = org.path;
    }
    if (by.role == Role::kSubscriber) {
      if (!by.person_id) return std::vector<store::ReminderEntry>();
      filter.owner_id = by.person_id;
    } else if (!SeesEverything(by)) {
      if (by.organization_path.empty()) {
        return PermissionDenied("access.denied", "role " + std::string(RoleName(by.role)) +
                                                     " without a body may not read reminders");
      }
      if (!filter.path_prefix) filter.path_prefix = by.organization_path;
    }
    return tx.ListReminders(filter);
  });
}

Result<int> Registry::DeliverOutbox(NotificationSender& sender, int limit) {
  const UnixSeconds now = deps_.clock->Now();
  KYSO_ASSIGN_OR_RETURN(auto due, WithRead([&](store::Transaction& tx) {
                          return tx.ListDueOutboxMessages(now, limit);
                        }));
  int sent = 0;
  for (const auto& message : due) {
    Status st = sender.Send(message);
    KYSO_RETURN_IF_ERROR(WithWrite([&](store::Transaction& tx) -> Result<bool> {
                           if (st.ok()) {
                             KYSO_RETURN_IF_ERROR(tx.MarkOutboxSent(message.id, now));
                           } else {
                             // Back off: 1, 4, 9, ... minutes, at most a day.
                             const int64_t n = message.attempts + 1;
                             const int64_t delay = std::min<int64_t>(n * n * 60, kSecondsPerDay);
                             KYSO_RETURN_IF_ERROR(
                                 tx.MarkOutboxFailed(message.id, st.ToString(), now + delay));
                           }
                           return true;
                         }).status());
    if (st.ok()) ++sent;
  }
  return sent;
}

}  // namespace kyso::ra
