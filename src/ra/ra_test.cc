// The pure parts of the workflow: forms, the transition table, working days, CSV, scopes.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "ra/access.h"
#include "ra/calendar.h"
#include "ra/csv.h"
#include "ra/kinds.h"
#include "ra/state_machine.h"

namespace kyso::ra {
namespace {

using json = nlohmann::json;

json RevocationForm() {
  return {{"reason", "keyCompromise"}, {"explanation", "Mất token"}};
}

TEST(KindsTest, EveryFormOfDecree68IsThere) {
  std::set<std::string> forms;
  for (const auto& kind : AllKinds()) forms.insert(std::string(kind.form));
  for (const char* form :
       {"Mẫu 01", "Mẫu 02", "Mẫu 03", "Mẫu 04", "Mẫu 05", "Mẫu 06", "Mẫu 08", "Mẫu 09"}) {
    EXPECT_TRUE(forms.count(form)) << form;
  }
  EXPECT_EQ(FindKind("bogus").status().id(), "ra.unknown_kind");
}

TEST(KindsTest, RoutingAndDeadlinesFollowTheDecree) {
  for (const char* id : {"new_individual", "new_agency", "new_device", "revocation"}) {
    EXPECT_FALSE((*FindKind(id))->delegable) << id;  // always the CA operator
    EXPECT_EQ((*FindKind(id))->deadline_working_days, 3) << id;
  }
  for (const char* id : {"renewal", "change_info", "device_restore"}) {
    EXPECT_TRUE((*FindKind(id))->delegable) << id;
  }
  EXPECT_EQ((*FindKind("device_restore"))->deadline_working_days, 1);
  EXPECT_EQ((*FindKind("device_handover"))->deadline_working_days, 5);
}

TEST(KindsTest, ValidatesFieldsWithExactIds) {
  const RequestKind& revocation = **FindKind("revocation");
  EXPECT_TRUE(ValidateForm(revocation, RevocationForm()).ok());
  EXPECT_EQ(ValidateForm(revocation, json::array()).id(), "form.not_object");
  EXPECT_EQ(ValidateForm(revocation, {{"explanation", "x"}}).id(), "form.missing_field");
  json unknown = RevocationForm();
  unknown["colour"] = "blue";
  EXPECT_EQ(ValidateForm(revocation, unknown).id(), "form.unknown_field");
  EXPECT_EQ(ValidateForm(revocation, {{"reason", "certificateHold"}}).id(), "form.bad_reason");
  EXPECT_EQ(
      ValidateForm(revocation, {{"reason", "keyCompromise"}, {"invalidity_date", "2026-02-30"}})
          .id(),
      "form.bad_date");
  EXPECT_EQ(ValidateForm(revocation, {{"reason", 5}}).id(), "form.bad_text");

  const RequestKind& individual = **FindKind("new_individual");
  json person = {{"full_name", "Nguyễn Thị Bình"}, {"personal_id", "001190012345"},
                 {"position", "Chuyên viên"},      {"unit", "Sở Y tế"},
                 {"email", "binh@danang.gov.vn"},  {"mobile", "0912345678"},
                 {"province", "Đà Nẵng"},          {"csr", "not a csr"}};
  EXPECT_EQ(ValidateForm(individual, person).id(), "form.bad_csr");
  person["personal_id"] = "12345";
  EXPECT_EQ(ValidateForm(individual, person).id(), "form.bad_personal_id");
  person["personal_id"] = "001190012345";
  person["email"] = "binh@";
  EXPECT_EQ(ValidateForm(individual, person).id(), "form.bad_email");
  person["email"] = "binh@danang.gov.vn";
  person["mobile"] = "12345";
  EXPECT_EQ(ValidateForm(individual, person).id(), "form.bad_mobile");
  person["mobile"] = "+84912345678";
  EXPECT_EQ(ValidateForm(individual, person).id(), "form.bad_csr");
  EXPECT_EQ(ValidateForm(**FindKind("renewal"), {{"reason", "Hết hạn"}, {"days", -3}}).id(),
            "form.bad_integer");
}

TEST(KindsTest, IdentifierChecks) {
  EXPECT_TRUE(IsTaxCode("0400260612"));
  EXPECT_TRUE(IsTaxCode("0400260612-001"));
  EXPECT_TRUE(IsTaxCode("0400260612001"));
  EXPECT_FALSE(IsTaxCode("04002606"));
  EXPECT_TRUE(IsBudgetCode("1047665"));
  EXPECT_FALSE(IsBudgetCode("104766"));
  EXPECT_TRUE(IsPersonalId("001190012345"));
  EXPECT_FALSE(IsPersonalId("00119001234a"));
  EXPECT_TRUE(IsMobile("0912345678"));
  EXPECT_FALSE(IsMobile("091234567"));
}

TEST(StateMachineTest, TableAllowsOnlyItsRows) {
  EXPECT_EQ((*FindTransition("submit", "draft"))->to, "submitted");
  EXPECT_EQ((*FindTransition("submit", "returned"))->to, "submitted");
  EXPECT_EQ((*FindTransition("review", "submitted"))->to, "under_review");
  EXPECT_EQ((*FindTransition("approve", "under_review"))->to, "approved");
  EXPECT_EQ((*FindTransition("execute", "approved"))->to, "executed");
  EXPECT_EQ(FindTransition("approve", "submitted").status().id(), "ra.bad_transition");
  EXPECT_EQ(FindTransition("execute", "under_review").status().id(), "ra.bad_transition");
  EXPECT_EQ(FindTransition("cancel", "approved").status().id(), "ra.bad_transition");
  EXPECT_EQ(FindTransition("teleport", "draft").status().id(), "ra.unknown_action");
  // Nothing leaves a final state.
  for (const auto& t : Transitions()) {
    for (auto from : t.from) EXPECT_FALSE(IsFinal(from)) << t.action;
  }
  EXPECT_TRUE((*FindTransition("reject", "submitted"))->reason_required);
  EXPECT_TRUE((*FindTransition("submit", "draft"))->signature_required);
}

TEST(CalendarTest, CountsWorkingDaysInVietnam) {
  // Friday 2026-11-20 16:00 +07:00 = 09:00Z. Three working days: Mon 23, Tue 24, Wed 25.
  const UnixSeconds friday = 1795165200;
  WorkingCalendar plain;
  EXPECT_EQ(WorkingCalendar::FormatDay(WorkingCalendar::DayOf(friday)), "2026-11-20");
  const UnixSeconds due = plain.Deadline(friday, 3);
  EXPECT_EQ(WorkingCalendar::FormatDay(WorkingCalendar::DayOf(due)), "2026-11-25");
  EXPECT_EQ(WorkingCalendar::FormatDay(WorkingCalendar::DayOf(due + 1)), "2026-11-26");
  // A holiday on Tuesday pushes it to Thursday; a worked Saturday pulls one day back.
  auto holiday = WorkingCalendar::Create({"2026-11-24"}, {});
  ASSERT_TRUE(holiday.ok());
  EXPECT_EQ(WorkingCalendar::FormatDay(WorkingCalendar::DayOf(holiday->Deadline(friday, 3))),
            "2026-11-26");
  auto swapped = WorkingCalendar::Create({"2026-11-24"}, {"2026-11-21"});
  ASSERT_TRUE(swapped.ok());
  EXPECT_EQ(WorkingCalendar::FormatDay(WorkingCalendar::DayOf(swapped->Deadline(friday, 3))),
            "2026-11-25");
  // 23:30 +07:00 on Friday is still Friday in Vietnam (16:30Z).
  EXPECT_EQ(WorkingCalendar::FormatDay(WorkingCalendar::DayOf(friday + 7 * 3600 + 1800)),
            "2026-11-20");
  EXPECT_EQ(plain.WorkingDaysBetween(friday, friday + 7 * kSecondsPerDay), 5);
  EXPECT_EQ(WorkingCalendar::Create({"2026-13-01"}, {}).status().id(), "ra.bad_date");
  auto round = WorkingCalendar::FromJson(swapped->ToJson());
  ASSERT_TRUE(round.ok());
  EXPECT_EQ(round->ToJson(), swapped->ToJson());
  EXPECT_EQ(WorkingCalendar::FromJson("[1]").status().id(), "ra.bad_calendar");
}

TEST(CsvTest, ParsesRfc4180) {
  auto rows = ParseCsv(
      "\xEF\xBB\xBFname,tax_code\r\n\"Sở Y tế, Đà Nẵng\",0400260612\n\n"
      "\"He said \"\"hi\"\"\",\"multi\nline\"\n");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 3u);
  EXPECT_EQ((*rows)[0].fields, (std::vector<std::string>{"name", "tax_code"}));
  EXPECT_EQ((*rows)[1].fields[0], "Sở Y tế, Đà Nẵng");
  EXPECT_EQ((*rows)[2].fields[0], "He said \"hi\"");
  EXPECT_EQ((*rows)[2].fields[1], "multi\nline");
  EXPECT_EQ((*rows)[2].line, 4);
  EXPECT_EQ(ParseCsv("a,\"b").status().id(), "csv.unterminated_quote");
  EXPECT_EQ(ParseCsv("a,\"b\"c\n").status().id(), "csv.bad_quote");
  EXPECT_EQ(ParseCsv("a,\xC3\n").status().id(), "csv.bad_utf8");
  EXPECT_EQ(ParseCsv("a,b").value()[0].fields.size(), 2u);
}

Principal Officer(std::string path, Role role = Role::kAgencyOfficer) {
  Principal p;
  p.account_id = 7;
  p.username = "officer";
  p.role = role;
  p.organization_id = 5;
  p.organization_path = std::move(path);
  return p;
}

TEST(AccessTest, ScopesAreSubtrees) {
  EXPECT_TRUE(InSubtree("/1/5/9/", "/1/5/"));
  EXPECT_TRUE(InSubtree("/1/5/", "/1/5/"));
  EXPECT_FALSE(InSubtree("/1/55/", "/1/5/"));  // a sibling whose id starts the same
  EXPECT_FALSE(InSubtree("/1/", "/1/5/"));
  EXPECT_FALSE(InSubtree("/1/", ""));
  const Principal a = Officer("/1/5/");
  EXPECT_TRUE(CanReadOrganization(a, "/1/5/9/").ok());
  EXPECT_EQ(CanReadOrganization(a, "/1/6/").id(), "access.out_of_scope");
  EXPECT_EQ(CanCreateOrganization(a, std::nullopt).id(), "access.denied");
  EXPECT_TRUE(CanCreateOrganization(a, std::string_view("/1/5/")).ok());
  EXPECT_EQ(CanReadAudit(a).id(), "access.denied");
  EXPECT_EQ(CanManageDelegations(a).id(), "access.denied");
  EXPECT_EQ(CanManageAccounts(a).id(), "access.denied");
}

TEST(AccessTest, AccountNamesAndFingerprintsAreLowerCase) {
  EXPECT_EQ(*NormalizeUsername("An.Nguyen@SoYTe"), "an.nguyen@soyte");
  EXPECT_EQ(NormalizeUsername("an").status().id(), "account.bad_username");
  EXPECT_EQ(NormalizeUsername(std::string(65, 'a')).status().id(), "account.bad_username");
  EXPECT_EQ(NormalizeUsername("nguyễn").status().id(), "account.bad_username");
  EXPECT_EQ(NormalizeFingerprint("AB01cd"), "ab01cd");
}

TEST(AccessTest, HandlersAndDelegations) {
  store::RequestRecord r;
  r.kind = "renewal";
  r.organization_path = "/1/5/9/";
  r.delegation_id = 3;
  store::DelegationRecord d;
  d.id = 3;
  d.delegate_organization_id = 5;
  d.scope_path = "/1/5/";
  d.kinds = {"renewal"};
  Principal delegate = Officer("/1/5/", Role::kDelegateOfficer);
  delegate.delegations = {d};
  EXPECT_TRUE(CanHandle(delegate, r, d).ok());
  EXPECT_EQ(CanHandle(delegate, r, std::nullopt).id(), "access.out_of_scope");  // withdrawn
  store::RequestRecord other_kind = r;
  other_kind.kind = "device_restore";
  EXPECT_EQ(CanHandle(delegate, other_kind, d).id(), "access.out_of_scope");
  Principal elsewhere = delegate;
  elsewhere.organization_id = 6;
  EXPECT_EQ(CanHandle(elsewhere, r, d).id(), "access.out_of_scope");
  EXPECT_EQ(CanHandle(Officer("/1/5/"), r, d).id(), "access.denied");
  Principal operator_;
  operator_.role = Role::kCaOperator;
  EXPECT_TRUE(CanHandle(operator_, r, std::nullopt).ok());
  Principal auditor;
  auditor.role = Role::kAuditor;
  EXPECT_TRUE(CanReadRequest(auditor, r).ok());
  EXPECT_EQ(CanHandle(auditor, r, d).id(), "access.denied");
  EXPECT_TRUE(CanReadAudit(auditor).ok());
}

// Every role against every kind of act, on objects of body A ("/1/2/") with a renewal delegated
// to office "/1/9/" for province "/1/". "+" allowed, "D" access.denied, "S" access.out_of_scope.
TEST(AccessTest, RoleMatrix) {
  store::DelegationRecord delegation;
  delegation.id = 4;
  delegation.delegate_organization_id = 9;
  delegation.scope_path = "/1/";
  delegation.kinds = {"renewal"};
  store::RequestRecord renewal;
  renewal.kind = "renewal";
  renewal.organization_path = "/1/2/";
  renewal.person_id = 30;
  renewal.created_by = 100;
  renewal.delegation_id = 4;
  renewal.state = "draft";
  store::RequestRecord revocation = renewal;
  revocation.kind = "revocation";
  revocation.delegation_id.reset();

  auto principal = [&](Role role, std::optional<int64_t> org, std::string path) {
    Principal p;
    p.account_id = 200;
    p.role = role;
    p.organization_id = org;
    if (role == Role::kSubscriber) p.person_id = path == "/1/2/" ? 30 : 31;
    p.organization_path = std::move(path);
    if (role == Role::kDelegateOfficer && org == 9) p.delegations = {delegation};
    return p;
  };
  struct Row {
    const char* who;
    Principal p;
    const char* expected;  // one letter per act below
  };
  // Acts: read request, create request, submit, handle delegated renewal, handle revocation,
  // create body below A, create a top-level body, manage delegations, read audit, accounts.
  const std::vector<Row> rows = {
      {"subscriber of A", principal(Role::kSubscriber, 2, "/1/2/"), "+DDDDDDDDD"},
      {"subscriber of B", principal(Role::kSubscriber, 3, "/5/3/"), "SDDDDDDDDD"},
      {"officer of A", principal(Role::kAgencyOfficer, 2, "/1/2/"), "+++DD+DDDD"},
      {"officer of B", principal(Role::kAgencyOfficer, 3, "/5/3/"), "SSSDDSDDDD"},
      {"delegate office", principal(Role::kDelegateOfficer, 9, "/1/9/"), "+DD+SDDDDD"},
      {"other delegate", principal(Role::kDelegateOfficer, 8, "/5/8/"), "SDDSSDDDDD"},
      {"CA operator", principal(Role::kCaOperator, std::nullopt, ""), "+DD+++++DD"},
      {"auditor", principal(Role::kAuditor, std::nullopt, ""), "+DDDDDDD+D"},
      {"admin", principal(Role::kAdmin, std::nullopt, ""), "+DDDD++DD+"},
  };
  for (const Row& row : rows) {
    const Principal& p = row.p;
    const std::optional<store::DelegationRecord> d = delegation;
    store::RequestRecord handled = renewal;
    handled.state = "submitted";
    const std::vector<Status> acts = {
        CanReadRequest(p, renewal),
        CanCreateRequest(p, "new_individual", "/1/2/", 30),
        CanActAsRequester(p, renewal, "submit"),
        CanHandle(p, handled, d),
        CanHandle(p, revocation, std::nullopt),
        CanCreateOrganization(p, std::string_view("/1/2/")),
        CanCreateOrganization(p, std::nullopt),
        CanManageDelegations(p),
        CanReadAudit(p),
        CanManageAccounts(p),
    };
    std::string got;
    for (const Status& st : acts) {
      got += st.ok()                            ? '+'
             : st.id() == "access.denied"       ? 'D'
             : st.id() == "access.out_of_scope" ? 'S'
                                                : '?';
    }
    EXPECT_EQ(got, row.expected) << row.who;
  }
}

}  // namespace
}  // namespace kyso::ra
