// `kyso account add|list`: accounts of the registration workflow from the operator's console
// (the first administrator; service accounts with client certificates).
#include <iostream>

#include "app/accounts.h"
#include "base/files.h"
#include "cli/common.h"
#include "ra/calendar.h"

namespace kyso::cli {

namespace {

using nlohmann::ordered_json;

ordered_json AccountJson(const store::AccountRecord& a) {
  return {{"id", a.id},
          {"username", a.username},
          {"role", a.role},
          {"organization_id", a.organization_id ? ordered_json(*a.organization_id) : nullptr},
          {"person_id", a.person_id ? ordered_json(*a.person_id) : nullptr},
          {"password_login", !a.password_hash.empty()},
          {"certificate_sha256", a.certificate_fingerprint}};
}

}  // namespace

void AddAccount(CLI::App& app, Globals& g, int& rc) {
  auto* cmd = app.add_subcommand("account", "Accounts of the registration workflow");
  cmd->require_subcommand(1);
  struct Args {
    app::NewAccount account;
    int64_t organization_id = 0, person_id = 0;
    std::string password_file, certificate_file;
  };
  auto a = std::make_shared<Args>();
  auto* add = cmd->add_subcommand("add", "Create an account (e.g. the first administrator)");
  add->add_option("--username", a->account.username, "Login name")->required();
  add->add_option("--role", a->account.role,
                  "subscriber | agency_officer | delegate_officer | ca_operator | auditor | admin")
      ->required();
  add->add_option("--name", a->account.display_name, "Display name");
  add->add_option("--org", a->organization_id, "Body id (officers, subscribers)");
  add->add_option("--person", a->person_id, "Person id (subscribers)");
  add->add_option("--password-file", a->password_file,
                  "File whose first line is the password (\"-\": stdin)");
  add->add_option("--cert", a->certificate_file,
                  "PEM client certificate that logs in as this account");
  add->callback([&g, &rc, a]() {
    rc = WithInstance(g, true, [&](app::Instance& inst) -> Status {
      app::NewAccount spec = a->account;
      if (a->organization_id > 0) spec.organization_id = a->organization_id;
      if (a->person_id > 0) spec.person_id = a->person_id;
      if (!a->password_file.empty()) {
        std::string text;
        if (a->password_file == "-") {
          std::getline(std::cin, text);
        } else {
          KYSO_ASSIGN_OR_RETURN(text, ReadTextFile(a->password_file, 4096));
        }
        spec.password = text.substr(0, text.find_first_of("\r\n"));
      }
      if (!a->certificate_file.empty()) {
        KYSO_ASSIGN_OR_RETURN(spec.certificate_pem, ReadTextFile(a->certificate_file));
      }
      KYSO_ASSIGN_OR_RETURN(store::AccountRecord created,
                            app::AddAccount(inst, spec, app::DefaultActor()));
      if (g.json) {
        PrintJson(AccountJson(created));
      } else {
        std::cout << "Account " << created.id << " \"" << created.username << "\" (" << created.role
                  << ") created\n";
      }
      return Status::Ok();
    });
  });
  auto* list = cmd->add_subcommand("list", "List accounts");
  list->callback([&g, &rc]() {
    rc = WithInstance(g, false, [&](app::Instance& inst) -> Status {
      KYSO_ASSIGN_OR_RETURN(auto tx, inst.db().Begin(store::TransactionMode::kRead));
      KYSO_ASSIGN_OR_RETURN(auto accounts, tx->ListAccounts(0, 10000));
      if (g.json) {
        ordered_json out = ordered_json::array();
        for (const auto& acc : accounts) out.push_back(AccountJson(acc));
        PrintJson(out);
      } else {
        for (const auto& acc : accounts) {
          std::cout << acc.id << "\t" << acc.username << "\t" << acc.role << "\n";
        }
      }
      return Status::Ok();
    });
  });
}

void AddCalendar(CLI::App& app, Globals& g, int& rc) {
  auto* cmd = app.add_subcommand(
      "calendar", "Public holidays and swapped working days for the workflow's deadlines");
  cmd->require_subcommand(1);
  struct Args {
    std::vector<std::string> holidays, working_days;
  };
  auto a = std::make_shared<Args>();
  auto* set = cmd->add_subcommand("set", "Replace the calendar (applies to new submissions)");
  set->add_option("--holidays", a->holidays, "Dates YYYY-MM-DD that are not working days")
      ->delimiter(',');
  set->add_option("--working-days", a->working_days,
                  "Weekend dates YYYY-MM-DD worked to bridge a holiday")
      ->delimiter(',');
  set->callback([&g, &rc, a]() {
    rc = WithInstance(g, true, [&](app::Instance& inst) -> Status {
      KYSO_ASSIGN_OR_RETURN(ra::WorkingCalendar calendar,
                            ra::WorkingCalendar::Create(a->holidays, a->working_days));
      const std::string json = calendar.ToJson();
      KYSO_ASSIGN_OR_RETURN(auto tx, inst.db().Begin(store::TransactionMode::kWrite));
      KYSO_RETURN_IF_ERROR(tx->PutSetting(ra::kCalendarSetting, json));
      KYSO_RETURN_IF_ERROR(
          inst.audit_log().Append(*tx, app::DefaultActor(), "calendar.set", "", json).status());
      KYSO_RETURN_IF_ERROR(tx->Commit());
      std::cout << json << "\n";
      return Status::Ok();
    });
  });
  cmd->add_subcommand("show", "Print the calendar")->callback([&g, &rc]() {
    rc = WithInstance(g, false, [&](app::Instance& inst) -> Status {
      KYSO_ASSIGN_OR_RETURN(auto tx, inst.db().Begin(store::TransactionMode::kRead));
      KYSO_ASSIGN_OR_RETURN(auto json, tx->GetSetting(ra::kCalendarSetting));
      std::cout << json.value_or(ra::WorkingCalendar().ToJson()) << "\n";
      return Status::Ok();
    });
  });
}

}  // namespace kyso::cli
