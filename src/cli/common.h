// What the subcommand files of the `kyso` command line share: global flags and error output.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdio>
#include <functional>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "app/instance.h"
#include "base/status.h"

namespace kyso::cli {

struct Globals {
  std::string data_dir = app::DefaultDataDir();
  bool json = false;
  std::string passphrase_file;
  std::string database;  // --db
};

inline app::OpenOptions MakeOpenOptions(const Globals& g) {
  app::OpenOptions o;
  if (!g.passphrase_file.empty()) o.passphrase.file = g.passphrase_file;
  o.passphrase.allow_prompt = !g.json;
  o.actor = app::DefaultActor();
  if (!g.database.empty()) o.database = g.database;
  return o;
}

inline int ReportError(const Globals& g, const Status& st) {
  std::fprintf(stderr, "kyso: error: %s\n", st.ToString().c_str());
  if (g.json) {
    nlohmann::ordered_json j = {
        {"error",
         {{"code", StatusCodeName(st.code())}, {"id", st.id()}, {"message", st.message()}}}};
    std::cout << j.dump() << "\n";
  }
  return 1;
}

inline void PrintJson(const nlohmann::ordered_json& j) {
  std::cout << j.dump(2) << "\n";
}

// Runs `body` with an opened instance; seals the audit log afterwards when `writes` is set, so
// every state change ends covered by a signed checkpoint.
inline int WithInstance(const Globals& g, bool writes,
                        const std::function<Status(app::Instance&)>& body) {
  auto inst = app::Instance::Open(g.data_dir, MakeOpenOptions(g));
  if (!inst.ok()) return ReportError(g, inst.status());
  Status st = body(**inst);
  if (!st.ok()) return ReportError(g, st);
  if (writes) {
    st = (*inst)->authority().SealAudit();
    if (!st.ok()) return ReportError(g, st.WithContext("sealing the audit log"));
  }
  return 0;
}

// `kyso sign ...` (cli/sign.cc).
void AddSign(CLI::App& app, Globals& g, int& rc);
// `kyso verify ...` (cli/verify.cc).
void AddVerify(CLI::App& app, Globals& g, int& rc);
// `kyso account ...` (cli/account.cc).
void AddAccount(CLI::App& app, Globals& g, int& rc);
// `kyso token list|keygen|import-cert` (cli/token.cc).
void AddToken(CLI::App& app, Globals& g, int& rc);
// `kyso calendar set|show` (cli/account.cc).
void AddCalendar(CLI::App& app, Globals& g, int& rc);

}  // namespace kyso::cli
