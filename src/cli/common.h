// What the subcommand files of the `kyso` command line share: global flags and error output.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdio>
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
};

inline app::OpenOptions MakeOpenOptions(const Globals& g) {
  app::OpenOptions o;
  if (!g.passphrase_file.empty()) o.passphrase.file = g.passphrase_file;
  o.passphrase.allow_prompt = !g.json;
  o.actor = app::DefaultActor();
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

// `kyso sign ...` (cli/sign.cc).
void AddSign(CLI::App& app, Globals& g, int& rc);

}  // namespace kyso::cli
