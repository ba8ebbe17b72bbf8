// kyso_limbo: runs the x509-limbo path validation suite (C2SP/x509-limbo, limbo.json) through
// x509::VerifyPath, and the same cases through `openssl verify` as the baseline.
//
//   kyso_limbo LIMBO_JSON [--out RESULTS_JSON] [--openssl-out RESULTS_JSON] [--no-openssl]
//              [--verbose]
//
// LIMBO_JSON defaults to $KYSO_CORPORA_DIR/x509-limbo/limbo.json. --out and --openssl-out get
// the upstream harness result format: {"version": 1, "harness": ..., "results": [{"id",
// "actual_result": "SUCCESS" | "FAILURE" | "SKIPPED", "context"}]}. The summary on stdout ends
// with one machine-readable line (limbo_test.sh reads it):
//   summary: total=N kyso_pass=.. kyso_fail=.. kyso_skipped=.. openssl_pass=.. openssl_fail=..
// A case passes when its actual result equals its expected_result. Exit status: 0 when every
// case ran (whatever the verdicts), 2 on unusable input.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "base/parallel.h"
#include "testlib/shell.h"
#include "testlib/temp_dir.h"
#include "x509/certificate.h"
#include "x509/path.h"

namespace kyso {
namespace {

using nlohmann::json;

struct Verdict {
  std::string actual;  // SUCCESS, FAILURE or SKIPPED
  std::string context;
};

struct Case {
  std::string id;
  std::string expected;
  std::vector<x509::Certificate> trusted;
  std::vector<x509::Certificate> intermediates;
  std::optional<x509::Certificate> leaf;
  std::string parse_error;  // a PEM that does not parse: the case is a rejection
  std::optional<UnixSeconds> at;
  std::optional<std::string> dns_name;
  std::optional<std::string> ip_address;
  std::vector<std::string> key_usage;
  std::vector<std::string> extended_key_usage;
  std::optional<int> max_depth;
  std::string skip_reason;  // non-empty: a feature kyso cannot map
  // PEM text for the openssl baseline.
  std::string trusted_pem;
  std::string intermediates_pem;
  std::string leaf_pem;
};

std::vector<std::string> Strings(const json& value) {
  std::vector<std::string> out;
  if (value.is_array()) {
    for (const json& v : value) out.push_back(v.get<std::string>());
  }
  return out;
}

// PEM texts one after the other, each ending in a newline.
std::string Join(const std::vector<std::string>& pems) {
  std::string out;
  for (const std::string& pem : pems) {
    out += pem;
    if (!pem.empty() && pem.back() != '\n') out += '\n';
  }
  return out;
}

// Parses PEMs into `out`; on failure records why in `error`.
void ParseAll(const std::vector<std::string>& pems, const char* what,
              std::vector<x509::Certificate>* out, std::string* error) {
  for (const std::string& pem : pems) {
    auto cert = x509::Certificate::FromPem(pem);
    if (!cert.ok()) {
      if (error->empty()) *error = std::string(what) + ": " + cert.status().ToString();
      continue;
    }
    out->push_back(*cert);
  }
}

// The peer name to check, or why the case cannot be mapped.
void MapPeerName(const json& tc, Case* c) {
  json names = json::array();
  if (tc.contains("expected_peer_name") && !tc["expected_peer_name"].is_null()) {
    names.push_back(tc["expected_peer_name"]);
  }
  if (tc.contains("expected_peer_names") && tc["expected_peer_names"].is_array()) {
    for (const json& n : tc["expected_peer_names"]) names.push_back(n);
  }
  if (names.size() > 1) {
    c->skip_reason = "several expected peer names not supported";
    return;
  }
  if (names.empty()) return;
  const std::string kind = names[0].at("kind").get<std::string>();
  const std::string value = names[0].at("value").get<std::string>();
  if (kind == "DNS") {
    c->dns_name = value;
  } else if (kind == "IP") {
    c->ip_address = value;
  } else {
    c->skip_reason = "peer name kind " + kind + " not supported";
  }
}

Case ReadCase(const json& tc) {
  Case c;
  c.id = tc.at("id").get<std::string>();
  c.expected = tc.at("expected_result").get<std::string>();

  const std::vector<std::string> trusted = Strings(tc.at("trusted_certs"));
  const std::vector<std::string> intermediates = Strings(tc.at("untrusted_intermediates"));
  c.leaf_pem = tc.at("peer_certificate").get<std::string>();
  c.trusted_pem = Join(trusted);
  c.intermediates_pem = Join(intermediates);
  ParseAll(trusted, "trusted_certs", &c.trusted, &c.parse_error);
  ParseAll(intermediates, "untrusted_intermediates", &c.intermediates, &c.parse_error);
  std::vector<x509::Certificate> leaf;
  ParseAll({c.leaf_pem}, "peer_certificate", &leaf, &c.parse_error);
  if (!leaf.empty()) c.leaf = leaf.front();

  if (tc.contains("validation_time") && !tc["validation_time"].is_null()) {
    const std::string text = tc["validation_time"].get<std::string>();
    c.at = ParseTime(text);
    if (!c.at) c.skip_reason = "validation_time not RFC 3339: " + text;
  }
  c.key_usage = Strings(tc.value("key_usage", json()));
  c.extended_key_usage = Strings(tc.value("extended_key_usage", json()));
  if (tc.contains("max_chain_depth") && !tc["max_chain_depth"].is_null()) {
    c.max_depth = tc["max_chain_depth"].get<int>();
  }
  MapPeerName(tc, &c);
  // Checked last, so that the reason reported is the most fundamental one.
  if (!Strings(tc.value("signature_algorithms", json())).empty()) {
    c.skip_reason = "signature_algorithms constraint not supported";
  }
  if (const std::string kind = tc.at("validation_kind").get<std::string>(); kind != "SERVER") {
    c.skip_reason = "validation_kind " + kind;
  }
  return c;
}

Verdict RunKyso(const Case& c) {
  if (!c.skip_reason.empty()) return {"SKIPPED", c.skip_reason};
  if (!c.parse_error.empty() || !c.leaf) return {"FAILURE", "unparsable " + c.parse_error};
  x509::PathOptions o;
  o.trust_anchors = c.trusted;
  o.intermediates = c.intermediates;
  o.at = c.at;
  o.dns_name = c.dns_name;
  o.ip_address = c.ip_address;
  o.required_key_usage = c.key_usage;
  o.required_eku = c.extended_key_usage;
  o.max_depth = c.max_depth;
  auto result = x509::VerifyPath(*c.leaf, o);
  if (!result.ok()) return {"FAILURE", "input refused: " + result.status().ToString()};
  if (result->valid) return {"SUCCESS", ""};
  return {"FAILURE", result->error_id + ": " + result->detail};
}

bool WriteFile(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary);
  f << text;
  return static_cast<bool>(f);
}

bool SelfIssued(const x509::Certificate& cert) {
  return cert.subject() == cert.issuer();
}

// `openssl verify` with the same inputs: -x509_strict, the validation time, the depth, the peer
// name, -purpose sslserver when serverAuth is required, -partial_chain when kyso would use it.
// openssl verify has no key usage option.
Verdict RunOpenssl(const Case& c, const std::string& dir) {
  if (!WriteFile(dir + "/trusted.pem", c.trusted_pem) ||
      !WriteFile(dir + "/leaf.pem", c.leaf_pem) ||
      (!c.intermediates_pem.empty() && !WriteFile(dir + "/inter.pem", c.intermediates_pem))) {
    return {"SKIPPED", "cannot write " + dir};
  }
  std::string cmd =
      "openssl verify -x509_strict -CAfile " + testlib::ShellQuote(dir + "/trusted.pem");
  if (!c.intermediates_pem.empty()) cmd += " -untrusted " + testlib::ShellQuote(dir + "/inter.pem");
  if (c.at) cmd += " -attime " + std::to_string(*c.at);
  if (c.max_depth) cmd += " -verify_depth " + std::to_string(*c.max_depth);
  if (std::find(c.extended_key_usage.begin(), c.extended_key_usage.end(), "serverAuth") !=
      c.extended_key_usage.end()) {
    cmd += " -purpose sslserver";
  }
  if (c.dns_name) cmd += " -verify_hostname " + testlib::ShellQuote(*c.dns_name);
  if (c.ip_address) cmd += " -verify_ip " + testlib::ShellQuote(*c.ip_address);
  if (std::any_of(c.trusted.begin(), c.trusted.end(),
                  [](const x509::Certificate& t) { return !SelfIssued(t); })) {
    cmd += " -partial_chain";
  }
  cmd += " " + testlib::ShellQuote(dir + "/leaf.pem");
  std::string output;
  const int rc = testlib::Shell(cmd, &output);
  if (rc == 0) return {"SUCCESS", ""};
  // The first "error N at D depth lookup: reason" line.
  std::istringstream lines(output);
  std::string line, reason;
  while (std::getline(lines, line)) {
    if (line.rfind("error ", 0) == 0) {
      reason = line;
      break;
    }
  }
  if (reason.empty()) reason = output.substr(0, output.find('\n'));
  return {"FAILURE", "exit " + std::to_string(rc) + ": " + reason};
}

json ResultsDocument(const std::string& harness, const std::vector<Case>& cases,
                     const std::vector<Verdict>& verdicts) {
  json results = json::array();
  for (size_t i = 0; i < cases.size(); ++i) {
    results.push_back(
        {{"id", cases[i].id},
         {"actual_result", verdicts[i].actual},
         {"context", verdicts[i].context.empty() ? json() : json(verdicts[i].context)}});
  }
  return {{"version", 1}, {"harness", harness}, {"results", results}};
}

struct Tally {
  int pass = 0, fail = 0, skipped = 0;
};

Tally Count(const std::vector<Case>& cases, const std::vector<Verdict>& verdicts) {
  Tally t;
  for (size_t i = 0; i < cases.size(); ++i) {
    if (verdicts[i].actual == "SKIPPED") {
      ++t.skipped;
    } else if (verdicts[i].actual == cases[i].expected) {
      ++t.pass;
    } else {
      ++t.fail;
    }
  }
  return t;
}

int Usage() {
  std::cerr << "usage: kyso_limbo [LIMBO_JSON] [--out RESULTS_JSON] [--openssl-out RESULTS_JSON]"
               " [--no-openssl] [--verbose]\n";
  return 2;
}

int Main(int argc, char** argv) {
  std::string input, out, openssl_out;
  bool run_openssl = true, verbose = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--out" && i + 1 < argc) {
      out = argv[++i];
    } else if (arg == "--openssl-out" && i + 1 < argc) {
      openssl_out = argv[++i];
    } else if (arg == "--no-openssl") {
      run_openssl = false;
    } else if (arg == "--verbose") {
      verbose = true;
    } else if (!arg.empty() && arg[0] != '-' && input.empty()) {
      input = arg;
    } else {
      return Usage();
    }
  }
  if (input.empty()) {
    const char* dir = std::getenv("KYSO_CORPORA_DIR");
    if (dir == nullptr || *dir == '\0') return Usage();
    input = std::string(dir) + "/x509-limbo/limbo.json";
  }

  std::ifstream file(input);
  if (!file) {
    std::cerr << "kyso_limbo: cannot read " << input << "\n";
    return 2;
  }
  std::vector<Case> cases;
  try {
    const json limbo = json::parse(file);
    if (limbo.at("version").get<int>() != 1) {
      std::cerr << "kyso_limbo: unsupported limbo version " << limbo.at("version") << "\n";
      return 2;
    }
    for (const json& tc : limbo.at("testcases")) cases.push_back(ReadCase(tc));
  } catch (const json::exception& e) {
    std::cerr << "kyso_limbo: " << input << ": " << e.what() << "\n";
    return 2;
  }

  const unsigned workers = std::max(4u, std::thread::hardware_concurrency());
  std::vector<Verdict> kyso(cases.size());
  ParallelFor(
      cases.size(), workers, [&](size_t i) { kyso[i] = RunKyso(cases[i]); }, 1);

  std::vector<Verdict> openssl(cases.size());
  if (run_openssl) {
    testlib::TempDir tmp;
    ParallelFor(
        cases.size(), workers,
        [&](size_t i) {
          const std::string dir = tmp.File(std::to_string(i));
          if (testlib::Shell("mkdir -p " + testlib::ShellQuote(dir)) != 0) {
            openssl[i] = {"SKIPPED", "cannot create " + dir};
            return;
          }
          openssl[i] = RunOpenssl(cases[i], dir);
        },
        1);
  }

  if (!out.empty() && !WriteFile(out, ResultsDocument("kyso", cases, kyso).dump(2) + "\n")) {
    std::cerr << "kyso_limbo: cannot write " << out << "\n";
    return 2;
  }
  if (run_openssl && !openssl_out.empty() &&
      !WriteFile(openssl_out, ResultsDocument("openssl-verify", cases, openssl).dump(2) + "\n")) {
    std::cerr << "kyso_limbo: cannot write " << openssl_out << "\n";
    return 2;
  }

  // --- summary ---
  const Tally k = Count(cases, kyso);
  const Tally o = run_openssl ? Count(cases, openssl) : Tally{};
  int openssl_pass_on_kyso_cases = 0;
  for (size_t i = 0; i < cases.size(); ++i) {
    if (kyso[i].actual != "SKIPPED" && openssl[i].actual == cases[i].expected) {
      ++openssl_pass_on_kyso_cases;
    }
  }
  const size_t n = cases.size();
  auto percent = [n](int x) { return n == 0 ? 0.0 : 100.0 * x / static_cast<double>(n); };
  std::printf("x509-limbo: %zu cases from %s\n", n, input.c_str());
  std::printf("kyso:           pass %3d (%.1f%%), fail %3d, skipped %3d\n", k.pass, percent(k.pass),
              k.fail, k.skipped);
  if (run_openssl) {
    std::printf(
        "openssl verify: pass %3d (%.1f%%), fail %3d, skipped %3d"
        " (on the %d cases kyso ran: pass %d)\n",
        o.pass, percent(o.pass), o.fail, o.skipped, k.pass + k.fail, openssl_pass_on_kyso_cases);
  }

  std::map<std::string, std::vector<std::string>> skips;
  for (size_t i = 0; i < n; ++i) {
    if (kyso[i].actual == "SKIPPED") skips[kyso[i].context].push_back(cases[i].id);
  }
  std::printf("kyso skips by reason:%s\n", skips.empty() ? " none" : "");
  for (const auto& [reason, ids] : skips) {
    std::printf("  %zu  %s:", ids.size(), reason.c_str());
    for (const std::string& id : ids) std::printf(" %s", id.c_str());
    std::printf("\n");
  }
  std::printf("kyso failures (expected != actual):%s\n", k.fail == 0 ? " none" : "");
  for (size_t i = 0; i < n; ++i) {
    if (kyso[i].actual == "SKIPPED" || kyso[i].actual == cases[i].expected) continue;
    std::printf("  %s: expected %s, got %s%s%s%s\n", cases[i].id.c_str(), cases[i].expected.c_str(),
                kyso[i].actual.c_str(), kyso[i].context.empty() ? "" : " (",
                kyso[i].context.c_str(), kyso[i].context.empty() ? "" : ")");
    if (run_openssl) {
      std::printf("      openssl verify: %s%s%s\n", openssl[i].actual.c_str(),
                  openssl[i].context.empty() ? "" : " ", openssl[i].context.c_str());
    }
  }
  if (verbose) {
    std::printf("all cases (expected / kyso / openssl verify):\n");
    for (size_t i = 0; i < n; ++i) {
      std::printf("  %-70s %-7s %-7s %-7s %s\n", cases[i].id.c_str(), cases[i].expected.c_str(),
                  kyso[i].actual.c_str(), run_openssl ? openssl[i].actual.c_str() : "-",
                  kyso[i].context.c_str());
    }
  }
  std::printf("summary: total=%zu kyso_pass=%d kyso_fail=%d kyso_skipped=%d", n, k.pass, k.fail,
              k.skipped);
  if (run_openssl) std::printf(" openssl_pass=%d openssl_fail=%d", o.pass, o.fail);
  std::printf("\n");
  return 0;
}

}  // namespace
}  // namespace kyso

int main(int argc, char** argv) {
  return kyso::Main(argc, argv);
}
