#include "cli/cli.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "app/accounts.h"
#include "app/demo.h"
#include "app/instance.h"
#include "app/server.h"
#include "base/files.h"
#include "cli/common.h"
#include "cli/render.h"
#include "ocsp/presign.h"
#include "ocsp/rollover.h"
#include "store/revocation_reason.h"
#include "x509/certificate.h"

namespace kyso::cli {

namespace {

using nlohmann::ordered_json;

Result<Bytes> ReadInput(const std::string& path) {
  auto data = ReadFile(path, 1 << 20);
  if (!data.ok()) return data.status().WithContext(path);
  return data;
}

Status WriteOutput(const std::string& path, const std::string& content) {
  if (path.empty() || path == "-") {
    std::cout << content;
    return Status::Ok();
  }
  return WriteFileAtomic(path, AsBytes(content), 0644);
}

std::optional<int> OptionalInt(const CLI::Option* opt, int value) {
  return opt->count() ? std::optional<int>(value) : std::nullopt;
}

// The CA name of a record, for display.
std::string CaName(app::Instance& inst, int64_t id) {
  auto tx = inst.db().Begin(store::TransactionMode::kRead);
  if (!tx.ok()) return "?";
  auto ca = (*tx)->GetCa(id);
  return ca.ok() ? ca->name : "?";
}

Status ReportIssued(const Globals& g, app::Instance& inst, const ca::IssuedCertificate& issued,
                    const std::string& out, const char* verb) {
  KYSO_RETURN_IF_ERROR(WriteOutput(out, issued.certificate.ToPem()));
  std::string ca = CaName(inst, issued.record.issuer_ca_id);
  if (g.json) {
    ordered_json j = CertificateJson(issued.record, ca, issued.record.issued_at);
    if (!out.empty() && out != "-") j["file"] = out;
    PrintJson(j);
  } else if (!out.empty() && out != "-") {
    std::cerr << verb << " certificate " << issued.record.serial_hex << " for "
              << issued.record.subject << " -> " << out << "\n";
  }
  return Status::Ok();
}

// What the demo contains and where its accounts are; never the passwords themselves.
// `url`: the portal, at the instance's public base URL (`make run` serves it there).
ordered_json DemoJson(const Globals& g, const app::DemoDirectory& d, const std::string& url) {
  ordered_json accounts = ordered_json::array();
  for (const auto& a : d.accounts) accounts.push_back({{"role", a.role}, {"username", a.username}});
  if (d.accounts_file.empty()) {
    return {{"admin_password_file", g.data_dir + "/demo-admin-password"}};
  }
  return {{"url", url},
          {"accounts_file", d.accounts_file},
          {"admin_password_file", g.data_dir + "/demo-admin-password"},
          {"accounts", accounts},
          {"signing_key", d.signing_key},
          {"organizations", d.organizations},
          {"people", d.people},
          {"certificates", d.certificates},
          {"requests", d.requests}};
}

void PrintDemo(const Globals& g, const app::DemoDirectory& d, const std::string& url) {
  std::cout << "  demo administrator: admin, password in " << g.data_dir
            << "/demo-admin-password (log in at POST /api/v1/auth/login)\n";
  if (d.accounts_file.empty()) return;  // --no-demo-data
  std::cout << "  demo directory: UBND tỉnh Bắc Giang, " << d.organizations << " bodies, "
            << d.people << " people; certificates " << d.certificates.at("valid") << " valid ("
            << d.certificates.at("expiring_30d") << " expiring within 30 days), "
            << d.certificates.at("revoked") << " revoked; requests";
  for (const auto& [state, n] : d.requests) std::cout << " " << state << " " << n;
  std::cout << "\n  demo accounts (role, username; passwords in the file):";
  for (const auto& a : d.accounts) std::cout << " " << a.role << "=" << a.username;
  std::cout << "\n      in " << d.accounts_file << "\n"
            << "  portal: " << url << " once `kyso serve` runs (`make run` starts it)\n";
}

void AddInit(CLI::App& app, Globals& g, int& rc) {
  auto* cmd =
      app.add_subcommand("init", "Create the data directory, CA hierarchy and service keys");
  auto opts = std::make_shared<app::Instance::InitOptions>();
  auto config = std::make_shared<std::string>();
  auto root_key = std::make_shared<std::string>();
  auto issuing_key = std::make_shared<std::string>();
  auto base_url = std::make_shared<std::string>();
  auto* demo_flag = cmd->add_flag(
      "--demo", opts->demo,
      "Demo instance: the key passphrase in the data directory, an administrator, and a demo "
      "directory (a province, staff, certificates, requests, one account per role); not for "
      "production");
  auto no_demo_data = std::make_shared<bool>(false);
  cmd->add_flag("--no-demo-data", *no_demo_data,
                "With --demo: only the CA and the administrator, no demo directory (tests, "
                "benchmarks)")
      ->needs(demo_flag);
  cmd->add_option("--config", *config, "kyso.json to start from (names, algorithms, URLs)");
  cmd->add_option("--root-key", *root_key, "Root key type: rsa:4096, rsa:3072, ec:P-384, ...");
  cmd->add_option("--issuing-key", *issuing_key, "Issuing CA key type");
  cmd->add_option("--base-url", *base_url, "Public base URL embedded in certificates");
  auto hsm = std::make_shared<std::string>();
  cmd->add_option("--hsm", *hsm,
                  "Generate the issuing CA, OCSP, TSA and audit keys on this token (PKCS#11 URI "
                  "pkcs11:token=...?module-path=...[&pin-source=file:...]); the root key stays "
                  "in an encrypted file");
  cmd->callback([&, opts, config, root_key, issuing_key, base_url, no_demo_data, hsm]() {
    if (!hsm->empty()) opts->hsm = *hsm;
    if (!config->empty()) opts->config_file = *config;
    if (!root_key->empty()) opts->root_key = *root_key;
    if (!issuing_key->empty()) opts->issuing_key = *issuing_key;
    if (!base_url->empty()) opts->base_url = *base_url;
    const bool fresh_dir = !FileExists(g.data_dir);
    auto inst = app::Instance::Init(g.data_dir, *opts, MakeOpenOptions(g));
    if (!inst.ok()) {
      rc = ReportError(g, inst.status());
      return;
    }
    std::optional<app::DemoDirectory> demo;
    if (opts->demo) {
      auto password = app::CreateDemoAdministrator(**inst);
      Result<app::DemoDirectory> made =
          !password.ok() ? Result<app::DemoDirectory>(password.status())
          : *no_demo_data
              ? Result<app::DemoDirectory>(app::DemoDirectory{{{"admin", "admin", *password, ""}}})
              : app::CreateDemoDirectory(**inst, *password);
      Status st = made.ok() ? (*inst)->authority().SealAudit() : made.status();
      if (!st.ok()) {
        // A half-filled demo would be taken for a finished one by `make run` next time.
        inst->reset();
        if (fresh_dir) std::filesystem::remove_all(g.data_dir);
        rc = ReportError(g, st);
        return;
      }
      demo = std::move(made).value();
    }
    const std::string portal_url = (*inst)->config().publication.base_url + "/";
    auto tx = (*inst)->db().Begin(store::TransactionMode::kRead);
    auto cas = (*tx)->ListCas();
    if (g.json) {
      ordered_json j = {{"data_dir", g.data_dir}, {"cas", ordered_json::array()}};
      for (const auto& c : *cas) j["cas"].push_back(CaJson(c));
      if (demo) j["demo"] = DemoJson(g, *demo, portal_url);
      PrintJson(j);
    } else {
      std::cout << "Initialized " << g.data_dir << "\n";
      for (const auto& c : *cas) {
        std::cout << "  " << c.role << " CA \"" << c.name << "\": " << c.subject << "\n"
                  << "      valid until " << FormatUtc(c.not_after) << ", " << c.signature_scheme
                  << "\n";
      }
      std::cout << "  certificates in " << g.data_dir << "/certs, CRLs in " << g.data_dir
                << "/crl\n";
      if (demo) PrintDemo(g, *demo, portal_url);
    }
  });
}

void AddCa(CLI::App& app, Globals& g, int& rc) {
  auto* ca = app.add_subcommand("ca", "Certificate authorities of this instance");
  ca->require_subcommand(1);
  ca->add_subcommand("list", "List the CAs")->callback([&]() {
    rc = WithInstance(g, false, [&](app::Instance& inst) -> Status {
      KYSO_ASSIGN_OR_RETURN(auto tx, inst.db().Begin(store::TransactionMode::kRead));
      KYSO_ASSIGN_OR_RETURN(auto cas, tx->ListCas());
      ordered_json j = ordered_json::array();
      for (const auto& c : cas) {
        if (g.json)
          j.push_back(CaJson(c));
        else
          std::cout << c.name << "\t" << c.role << "\t" << FormatUtc(c.not_after) << "\t"
                    << c.subject << "\n";
      }
      if (g.json) PrintJson(j);
      return Status::Ok();
    });
  });
  auto* show = ca->add_subcommand("show", "Show one CA");
  auto name = std::make_shared<std::string>();
  auto pem = std::make_shared<bool>(false);
  show->add_option("name", *name, "CA name")->required();
  show->add_flag("--pem", *pem, "Print the CA certificate in PEM");
  show->callback([&, name, pem]() {
    rc = WithInstance(g, false, [&](app::Instance& inst) -> Status {
      KYSO_ASSIGN_OR_RETURN(auto tx, inst.db().Begin(store::TransactionMode::kRead));
      auto c = tx->GetCaByName(*name);
      if (!c.ok()) return NotFound("ca.not_found", "no CA named \"" + *name + "\"");
      KYSO_ASSIGN_OR_RETURN(auto cert, x509::Certificate::FromDer(c->certificate_der));
      if (*pem) {
        std::cout << cert.ToPem();
      } else if (g.json) {
        ordered_json j = CaJson(*c);
        KYSO_ASSIGN_OR_RETURN(auto crl, tx->LatestCrl(c->id, false));
        if (crl) j["latest_crl"] = CrlJson(*crl, c->name);
        KYSO_ASSIGN_OR_RETURN(auto count, tx->CountCertificates(store::CertificateFilter{c->id}));
        j["certificates_issued"] = count;
        PrintJson(j);
      } else {
        std::cout << "Name:        " << c->name << " (" << c->role << ")\n"
                  << "Subject:     " << c->subject << "\n"
                  << "Serial:      " << c->serial_hex << "\n"
                  << "Valid:       " << FormatUtc(c->not_before) << " .. "
                  << FormatUtc(c->not_after) << "\n"
                  << "Signature:   " << c->signature_scheme << "\n"
                  << "Key:         " << c->key_ref << " (" << cert.public_key().Spec()->ToString()
                  << ")\n"
                  << "Published:   " << inst.config().publication.CaCertUrl(c->name) << "\n";
      }
      return Status::Ok();
    });
  });
}

void AddProfile(CLI::App& app, Globals& g, int& rc) {
  auto* profile = app.add_subcommand("profile", "Certificate profiles (profiles.json)");
  profile->require_subcommand(1);
  profile->add_subcommand("list", "List the profiles")->callback([&]() {
    rc = WithInstance(g, false, [&](app::Instance& inst) -> Status {
      ordered_json j = ordered_json::array();
      for (const auto& p : inst.profiles().profiles()) {
        if (g.json) {
          j.push_back({{"name", p.name},
                       {"type", policy::CertificateTypeName(p.certificate_type)},
                       {"max_validity_days", p.max_validity_days},
                       {"description", p.description}});
        } else {
          std::cout << p.name << "\t" << policy::CertificateTypeName(p.certificate_type) << "\t"
                    << p.max_validity_days << "d\t" << p.description << "\n";
        }
      }
      if (g.json) PrintJson(j);
      return Status::Ok();
    });
  });
  auto* show = profile->add_subcommand("show", "Show one profile");
  auto name = std::make_shared<std::string>();
  show->add_option("name", *name, "Profile name")->required();
  show->callback([&, name]() {
    rc = WithInstance(g, false, [&](app::Instance& inst) -> Status {
      const policy::Profile* p = inst.profiles().Find(*name);
      if (p == nullptr)
        return NotFound("profile.unknown", "no certificate profile named \"" + *name + "\"");
      std::cout << policy::ProfileToJson(*p).dump(2) << "\n";
      return Status::Ok();
    });
  });
}

void AddCert(CLI::App& app, Globals& g, int& rc) {
  auto* cert = app.add_subcommand("cert", "Issue, renew, revoke and inspect certificates");
  cert->require_subcommand(1);

  struct Args {
    std::string csr, profile, out, ca, serial, reason = "unspecified", invalidity, format = "pem",
                                               status, uid, subject;
    int days = 0, limit = 100, expiring = 0;
    int64_t org = 0, owner = 0;
    bool chain = false;
  };
  auto a = std::make_shared<Args>();

  auto* issue = cert->add_subcommand("issue", "Issue a certificate from a PKCS#10 request");
  issue->add_option("--csr", a->csr, "PKCS#10 request (PEM or DER)")->required();
  issue->add_option("--profile", a->profile, "Certificate profile")->required();
  auto* issue_days =
      issue->add_option("--days", a->days, "Validity in days (default: the profile's)");
  issue->add_option("--ca", a->ca, "Issuing CA (default: the only one)");
  issue->add_option("--out", a->out, "Write the certificate (PEM) here; default stdout");
  issue->add_option("--org", a->org,
                    "Registered body the certificate belongs to (a body's seal, or the managing "
                    "body of a person)");
  issue->add_option("--owner", a->owner, "Registered person the certificate belongs to");
  issue->callback([&, a, issue_days]() {
    rc = WithInstance(g, true, [&](app::Instance& inst) -> Status {
      KYSO_ASSIGN_OR_RETURN(Bytes csr, ReadInput(a->csr));
      ca::IssueRequest request{a->ca, csr, a->profile, OptionalInt(issue_days, a->days)};
      if (a->org > 0) request.organization_id = a->org;
      if (a->owner > 0) request.owner_id = a->owner;
      KYSO_ASSIGN_OR_RETURN(auto issued, inst.authority().Issue(request));
      return ReportIssued(g, inst, issued, a->out, "Issued");
    });
  });

  auto* renew = cert->add_subcommand(
      "renew", "Renew: new validity (up to 3 years), old certificate stays valid");
  renew->add_option("serial", a->serial, "Serial of the certificate to renew")->required();
  renew->add_option("--csr", a->csr, "New key's request (default: keep the key)");
  auto* renew_days = renew->add_option("--days", a->days, "Validity in days");
  renew->add_option("--ca", a->ca, "CA that issued it");
  renew->add_option("--out", a->out, "Write the new certificate here");
  renew->callback([&, a, renew_days]() {
    rc = WithInstance(g, true, [&](app::Instance& inst) -> Status {
      ca::RenewRequest req{a->ca, a->serial, std::nullopt, OptionalInt(renew_days, a->days)};
      if (!a->csr.empty()) {
        KYSO_ASSIGN_OR_RETURN(req.csr, ReadInput(a->csr));
      }
      KYSO_ASSIGN_OR_RETURN(auto issued, inst.authority().Renew(req));
      return ReportIssued(g, inst, issued, a->out, "Renewed as");
    });
  });

  auto* change = cert->add_subcommand(
      "change", "Change of information: new certificate, old one revoked (superseded)");
  change->add_option("serial", a->serial, "Serial of the current certificate")->required();
  change->add_option("--csr", a->csr, "Request carrying the new information")->required();
  change->add_option("--profile", a->profile, "New profile (default: unchanged)");
  auto* change_days =
      change->add_option("--days", a->days, "Validity in days (default: until the old end)");
  change->add_option("--ca", a->ca, "CA that issued it");
  change->add_option("--out", a->out, "Write the new certificate here");
  change->callback([&, a, change_days]() {
    rc = WithInstance(g, true, [&](app::Instance& inst) -> Status {
      KYSO_ASSIGN_OR_RETURN(Bytes csr, ReadInput(a->csr));
      ca::ChangeRequest req{
          a->ca, a->serial, csr,
          a->profile.empty() ? std::nullopt : std::optional<std::string>(a->profile),
          OptionalInt(change_days, a->days)};
      KYSO_ASSIGN_OR_RETURN(auto issued, inst.authority().ChangeInformation(req));
      return ReportIssued(g, inst, issued, a->out, "Changed; new");
    });
  });

  auto* reissue = cert->add_subcommand("reissue", "Re-issue a revoked certificate with a new key");
  reissue->add_option("serial", a->serial, "Serial of the revoked certificate")->required();
  reissue->add_option("--csr", a->csr, "Request with the new key")->required();
  auto* reissue_days = reissue->add_option("--days", a->days, "Validity in days");
  reissue->add_option("--ca", a->ca, "CA that issued it");
  reissue->add_option("--out", a->out, "Write the new certificate here");
  reissue->callback([&, a, reissue_days]() {
    rc = WithInstance(g, true, [&](app::Instance& inst) -> Status {
      KYSO_ASSIGN_OR_RETURN(Bytes csr, ReadInput(a->csr));
      KYSO_ASSIGN_OR_RETURN(
          auto issued,
          inst.authority().Reissue({a->ca, a->serial, csr, OptionalInt(reissue_days, a->days)}));
      return ReportIssued(g, inst, issued, a->out, "Re-issued as");
    });
  });

  auto* revoke = cert->add_subcommand("revoke", "Revoke a certificate (RFC 5280 reasons)");
  revoke->add_option("serial", a->serial, "Serial (hex)")->required();
  revoke->add_option("--reason", a->reason,
                     "unspecified|keyCompromise|cACompromise|affiliationChanged|superseded|"
                     "cessationOfOperation|privilegeWithdrawn|aACompromise");
  revoke->add_option("--invalidity-date", a->invalidity,
                     "When the key became unsafe (YYYY-MM-DD or ISO 8601)");
  revoke->add_option("--ca", a->ca, "CA that issued it");
  revoke->callback([&, a]() {
    rc = WithInstance(g, true, [&](app::Instance& inst) -> Status {
      KYSO_ASSIGN_OR_RETURN(auto reason, ca::ParseRevocationReasonForRevoke(a->reason));
      std::optional<UnixSeconds> invalidity;
      if (!a->invalidity.empty()) {
        invalidity = ParseTime(a->invalidity);
        if (!invalidity)
          return InvalidArgument("revoke.bad_invalidity_date",
                                 "cannot read the date \"" + a->invalidity + "\"");
      }
      KYSO_ASSIGN_OR_RETURN(auto rec,
                            inst.authority().Revoke({a->ca, a->serial, reason, invalidity}));
      if (g.json)
        PrintJson(CertificateJson(rec, CaName(inst, rec.issuer_ca_id), rec.revocation->revoked_at));
      else
        std::cerr << "Revoked " << rec.serial_hex << " (" << store::RevocationReasonName(reason)
                  << "): " << rec.subject << "\n";
      return Status::Ok();
    });
  });

  auto* show = cert->add_subcommand("show", "Show a certificate's record and status");
  show->add_option("serial", a->serial, "Serial (hex)")->required();
  show->add_option("--ca", a->ca, "CA that issued it");
  show->callback([&, a]() {
    rc = WithInstance(g, false, [&](app::Instance& inst) -> Status {
      KYSO_ASSIGN_OR_RETURN(auto rec, inst.authority().FindCertificate(a->ca, a->serial));
      UnixSeconds now = SystemClock().Now();
      if (g.json)
        PrintJson(CertificateJson(rec, CaName(inst, rec.issuer_ca_id), now));
      else
        std::cout << CertificateText(rec, CaName(inst, rec.issuer_ca_id), now);
      return Status::Ok();
    });
  });

  auto* list = cert->add_subcommand("list", "List certificates");
  list->add_option("--ca", a->ca, "Only this CA's");
  list->add_option("--status", a->status, "valid|revoked");
  list->add_option("--profile", a->profile, "Only this profile");
  list->add_option("--uid", a->uid, "Exact identifier, e.g. CCCD:001234567890");
  list->add_option("--subject", a->subject, "Subject contains this text");
  list->add_option("--expiring-within", a->expiring, "Valid certificates ending within N days");
  list->add_option("--limit", a->limit, "At most N rows (default 100)");
  list->callback([&, a]() {
    rc = WithInstance(g, false, [&](app::Instance& inst) -> Status {
      store::CertificateFilter f;
      UnixSeconds now = SystemClock().Now();
      KYSO_ASSIGN_OR_RETURN(auto tx, inst.db().Begin(store::TransactionMode::kRead));
      if (!a->ca.empty()) {
        auto c = tx->GetCaByName(a->ca);
        if (!c.ok()) return NotFound("ca.not_found", "no CA named \"" + a->ca + "\"");
        f.issuer_ca_id = c->id;
      }
      if (a->status == "valid")
        f.status = store::CertificateStatus::kValid;
      else if (a->status == "revoked")
        f.status = store::CertificateStatus::kRevoked;
      else if (!a->status.empty())
        return InvalidArgument("cli.bad_status", "--status is valid or revoked");
      if (!a->profile.empty()) f.profile = a->profile;
      if (!a->uid.empty()) f.uid = a->uid;
      if (!a->subject.empty()) f.subject_contains = a->subject;
      if (a->expiring > 0) {
        f.status = store::CertificateStatus::kValid;
        f.valid_at = now;
        f.expires_before = now + a->expiring * kSecondsPerDay;
      }
      f.limit = a->limit;
      KYSO_ASSIGN_OR_RETURN(auto rows, tx->ListCertificates(f));
      KYSO_ASSIGN_OR_RETURN(auto cas, tx->ListCas());
      auto ca_name = [&](int64_t id) {
        for (const auto& c : cas)
          if (c.id == id) return c.name;
        return std::string("?");
      };
      ordered_json j = ordered_json::array();
      for (const auto& r : rows) {
        if (g.json)
          j.push_back(CertificateJson(r, ca_name(r.issuer_ca_id), now));
        else
          std::cout << r.serial_hex << "\t" << StatusName(r, now) << "\t" << r.profile << "\t"
                    << FormatUtc(r.not_after) << "\t" << r.subject << "\n";
      }
      if (g.json) PrintJson(j);
      return Status::Ok();
    });
  });

  auto* exp = cert->add_subcommand("export", "Write a certificate (optionally with its chain)");
  exp->add_option("serial", a->serial, "Serial (hex)")->required();
  exp->add_option("--ca", a->ca, "CA that issued it");
  exp->add_option("--format", a->format, "pem|der")->check(CLI::IsMember({"pem", "der"}));
  exp->add_flag("--chain", a->chain, "Append the issuing CA chain (PEM only)");
  exp->add_option("--out", a->out, "Output file (default stdout)");
  exp->callback([&, a]() {
    rc = WithInstance(g, false, [&](app::Instance& inst) -> Status {
      KYSO_ASSIGN_OR_RETURN(auto rec, inst.authority().FindCertificate(a->ca, a->serial));
      KYSO_ASSIGN_OR_RETURN(auto cert, x509::Certificate::FromDer(rec.der));
      if (a->format == "der") {
        if (a->chain) return InvalidArgument("cli.bad_option", "--chain needs --format pem");
        if (a->out.empty()) return InvalidArgument("cli.bad_option", "DER output needs --out FILE");
        return WriteFileAtomic(a->out, rec.der, 0644);
      }
      std::string pem = cert.ToPem();
      if (a->chain) {
        KYSO_ASSIGN_OR_RETURN(auto tx, inst.db().Begin(store::TransactionMode::kRead));
        std::optional<int64_t> id = rec.issuer_ca_id;
        while (id) {
          KYSO_ASSIGN_OR_RETURN(auto c, tx->GetCa(*id));
          KYSO_ASSIGN_OR_RETURN(auto cc, x509::Certificate::FromDer(c.certificate_der));
          pem += cc.ToPem();
          id = c.parent_id;
        }
      }
      return WriteOutput(a->out, pem);
    });
  });
}

void AddCrl(CLI::App& app, Globals& g, int& rc) {
  auto* crl = app.add_subcommand("crl", "Certificate revocation lists");
  crl->require_subcommand(1);
  auto* gen =
      crl->add_subcommand("generate", "Sign a new full or delta CRL and publish it to crl/");
  auto ca = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  auto delta = std::make_shared<bool>(false);
  gen->add_option("--ca", *ca, "CA (default: the issuing CA)");
  gen->add_flag("--delta", *delta, "Delta CRL against the latest full CRL (RFC 5280 §5.2.4)");
  gen->add_option("--out", *out, "Also write the DER CRL here");
  gen->callback([&, ca, out, delta]() {
    rc = WithInstance(g, true, [&](app::Instance& inst) -> Status {
      std::string name = *ca;
      if (name.empty()) name = inst.config().hierarchy.issuing.name;
      KYSO_ASSIGN_OR_RETURN(auto rec, inst.authority().GenerateCrl(name, *delta));
      KYSO_RETURN_IF_ERROR(inst.PublishCrl(name, rec));
      if (!out->empty()) KYSO_RETURN_IF_ERROR(WriteFileAtomic(*out, rec.der, 0644));
      if (g.json)
        PrintJson(CrlJson(rec, name));
      else
        std::cerr << (*delta ? "Delta CRL " : "CRL ") << rec.number << " of " << name << ": "
                  << rec.entry_count << " entries, next update " << FormatUtc(rec.next_update)
                  << "\n";
      return Status::Ok();
    });
  });
}

void AddAudit(CLI::App& app, Globals& g, int& rc) {
  auto* audit = app.add_subcommand("audit", "The hash-chained audit log");
  audit->require_subcommand(1);
  audit->add_subcommand("verify", "Check every entry and signed checkpoint")->callback([&]() {
    rc = WithInstance(g, false, [&](app::Instance& inst) -> Status {
      KYSO_ASSIGN_OR_RETURN(auto report, app::VerifyAuditLog(inst));
      if (g.json) {
        ordered_json j = {{"ok", report.ok},
                          {"entries", report.entries},
                          {"checkpoints", report.checkpoints},
                          {"last_sealed_seq", report.last_sealed_seq},
                          {"problems", ordered_json::array()}};
        for (const auto& p : report.problems) {
          j["problems"].push_back(
              {{"id", p.id}, {"seq", p.seq}, {"message", p.message}, {"warning", p.is_warning}});
        }
        PrintJson(j);
      } else {
        for (const auto& p : report.problems) {
          std::cout << (p.is_warning ? "warning: " : "PROBLEM: ") << p.id << " at entry " << p.seq
                    << ": " << p.message << "\n";
        }
        std::cout << (report.ok ? "Audit log intact: " : "Audit log DAMAGED: ") << report.entries
                  << " entries, " << report.checkpoints
                  << " signed checkpoints, sealed through entry " << report.last_sealed_seq << "\n";
      }
      if (!report.ok) {
        const auto& first = *std::find_if(report.problems.begin(), report.problems.end(),
                                          [](const auto& p) { return !p.is_warning; });
        return DataLoss(first.id, "entry " + std::to_string(first.seq) + ": " + first.message);
      }
      return Status::Ok();
    });
  });
  auto* list = audit->add_subcommand("list", "Show audit entries");
  auto from = std::make_shared<int64_t>(1);
  auto limit = std::make_shared<int64_t>(50);
  list->add_option("--from", *from, "First entry number");
  list->add_option("--limit", *limit, "At most N entries");
  list->callback([&, from, limit]() {
    rc = WithInstance(g, false, [&](app::Instance& inst) -> Status {
      KYSO_ASSIGN_OR_RETURN(auto tx, inst.db().Begin(store::TransactionMode::kRead));
      KYSO_ASSIGN_OR_RETURN(auto entries, tx->ListAuditEntries(*from, *limit));
      ordered_json j = ordered_json::array();
      for (const auto& e : entries) {
        if (g.json) {
          j.push_back({{"seq", e.seq},
                       {"time", FormatUtc(e.time)},
                       {"actor", e.actor},
                       {"action", e.action},
                       {"object", e.object},
                       {"details", nlohmann::json::parse(e.details, nullptr, false)},
                       {"hash", HexEncode(e.hash)}});
        } else {
          std::cout << e.seq << "\t" << FormatUtc(e.time) << "\t" << e.action << "\t" << e.object
                    << "\t" << e.actor << "\n";
        }
      }
      if (g.json) PrintJson(j);
      return Status::Ok();
    });
  });
}

// --web as given; else ./web/dist (a checkout's working directory); else the source tree's,
// compiled in, so `build/release/kyso serve` finds the portal from any directory.
std::string DefaultWebRoot(const std::string& flag) {
  if (flag == "off") return "";
  if (!flag.empty()) return flag;
  if (FileExists("web/dist/index.html")) return "web/dist";
#ifdef KYSO_DEFAULT_WEB_DIR
  return KYSO_DEFAULT_WEB_DIR;
#else
  return "";
#endif
}

void AddServe(CLI::App& app, Globals& g, int& rc) {
  auto* cmd = app.add_subcommand(
      "serve", "Run the HTTP services: OCSP, time-stamping, CRL and CA publication, REST API");
  auto o = std::make_shared<app::ServeOptions>();
  auto tls_cert = std::make_shared<std::string>();
  auto tls_key = std::make_shared<std::string>();
  auto tls_pass_file = std::make_shared<std::string>();
  auto tsa_policy = std::make_shared<std::string>();
  auto tsa_accuracy = std::make_shared<int>(0);
  auto ocsp_hours = std::make_shared<int>(0);
  auto cache_mb = std::make_shared<size_t>(o->ocsp.cache_max_bytes >> 20);
  cmd->add_option("--listen", o->http.listen, "host:port to listen on")->capture_default_str();
  // One I/O thread per core: with the handlers' per-request work (parsing, signing), two
  // threads beat one on this 2-core machine in every benchmark phase (docs/performance.md).
  o->http.workers = static_cast<int>(std::clamp(std::thread::hardware_concurrency(), 1u, 16u));
  cmd->add_option("--workers", o->http.workers, "I/O threads (default: one per core)")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  cmd->add_option("--tls-cert", *tls_cert, "PEM certificate chain: serve HTTPS (TLS 1.2+)");
  cmd->add_option("--tls-key", *tls_key, "PEM private key of --tls-cert");
  cmd->add_option("--tls-key-passphrase-file", *tls_pass_file,
                  "File holding the passphrase of an encrypted --tls-key");
  auto client_ca = std::make_shared<std::string>();
  cmd->add_option("--client-ca", *client_ca,
                  "PEM CAs whose client certificates log in (default with TLS: the instance's "
                  "certs/chain.pem; \"off\" to request none)");
  cmd->add_flag("--allow-unsigned-requests", o->allow_unsigned_requests,
                "Accept unsigned request submissions (demo instances only)");
  auto web = std::make_shared<std::string>();
  cmd->add_option("--web", *web,
                  "Built portal to serve at / (default: ./web/dist if it exists, else the "
                  "source tree's web/dist; \"off\" for none)");
  cmd->add_option(
      "--access-log", o->access_log,
      "JSON access log: a file, '-' for stdout, 'off' (default <data>/logs/access.log)");
  auto* policy_opt = cmd->add_option("--tsa-policy", *tsa_policy,
                                     "TSA policy OID (default: kyso.json services.tsa_policy_oid)");
  auto* accuracy_opt = cmd->add_option("--tsa-accuracy", *tsa_accuracy, "Stated accuracy, seconds")
                           ->check(CLI::Range(0, 3600));
  auto* hours_opt = cmd->add_option("--ocsp-validity-hours", *ocsp_hours,
                                    "nextUpdate - thisUpdate of OCSP answers")
                        ->check(CLI::Range(1, 24 * 7));
  cmd->add_option("--ocsp-cache-mb", *cache_mb, "Memory for pre-signed OCSP responses")
      ->capture_default_str()
      ->check(CLI::Range(1, 1 << 16));
  auto reminder_seconds = std::make_shared<int>(3600);
  auto outbox_seconds = std::make_shared<int>(30);
  cmd->add_option("--reminder-period", *reminder_seconds,
                  "Seconds between queuings of expiry reminders (also once at start-up)")
      ->capture_default_str()
      ->check(CLI::Range(1, 7 * 86400));
  cmd->add_option("--outbox-period", *outbox_seconds, "Seconds between outbox deliveries")
      ->capture_default_str()
      ->check(CLI::Range(1, 86400));
  cmd->callback([&, o, web, client_ca, tls_cert, tls_key, tls_pass_file, tsa_policy, tsa_accuracy,
                 ocsp_hours, cache_mb, policy_opt, accuracy_opt, hours_opt, reminder_seconds,
                 outbox_seconds]() {
    if (tls_cert->empty() != tls_key->empty()) {
      rc = ReportError(
          g, InvalidArgument("serve.tls_incomplete", "--tls-cert and --tls-key go together"));
      return;
    }
    app::ServeOptions options = *o;
    options.ocsp.cache_max_bytes = *cache_mb << 20;
    options.reminder_period = std::chrono::seconds(*reminder_seconds);
    options.outbox_period = std::chrono::seconds(*outbox_seconds);
    options.web_root = DefaultWebRoot(*web);
    if (!tls_cert->empty()) {
      http::TlsFiles tls{*tls_cert, *tls_key, ""};
      if (!tls_pass_file->empty()) {
        auto pass = ReadInput(*tls_pass_file);
        if (!pass.ok()) {
          rc = ReportError(g, pass.status());
          return;
        }
        tls.passphrase = std::string(AsString(*pass));
        while (!tls.passphrase.empty() &&
               (tls.passphrase.back() == '\n' || tls.passphrase.back() == '\r')) {
          tls.passphrase.pop_back();
        }
      }
      if (*client_ca != "off") {
        tls.client_ca_file = client_ca->empty() ? g.data_dir + "/certs/chain.pem" : *client_ca;
      }
      options.http.tls = tls;
    }
    rc = WithInstance(g, false, [&](app::Instance& inst) -> Status {
      const app::ServiceSettings& conf = inst.config().services;
      options.tsa.policy_oid = policy_opt->count() ? *tsa_policy : conf.tsa_policy_oid;
      options.tsa.accuracy_seconds =
          accuracy_opt->count() ? *tsa_accuracy : conf.tsa_accuracy_seconds;
      const int hours = hours_opt->count() ? *ocsp_hours : conf.ocsp_validity_hours;
      options.ocsp.validity_seconds = hours * 3600;
      options.ocsp.refresh_margin_seconds =
          std::min(options.ocsp.refresh_margin_seconds, options.ocsp.validity_seconds / 4);
      const std::string scheme = options.http.tls ? "https" : "http";
      return app::Serve(inst, options, [&](uint16_t port) {
        const std::string host = options.http.listen.substr(0, options.http.listen.rfind(':'));
        const std::string url = scheme + "://" + host + ":" + std::to_string(port);
        if (g.json) {
          std::cout << ordered_json{{"listening", url}, {"port", port}}.dump() << std::endl;
        }
        std::cerr << "kyso serve: listening on " << url << " (data " << inst.data_dir()
                  << "); OCSP " << url << "/ocsp, TSA " << url << "/tsa, CRLs " << url
                  << "/crl/. Ctrl-C stops." << std::endl;
      });
    });
  });
}

void AddOcsp(CLI::App& app, Globals& g, int& rc) {
  auto* ocsp = app.add_subcommand("ocsp", "The OCSP responder's pre-signed answers and its key");
  ocsp->require_subcommand(1);

  auto* presign = ocsp->add_subcommand(
      "presign", "Sign every certificate's answer ahead (RFC 5019), optionally as files for a CDN");
  auto export_dir = std::make_shared<std::string>();
  auto threads = std::make_shared<unsigned>(0);
  auto hours = std::make_shared<int>(0);
  presign->add_option("--export", *export_dir,
                      "Also write each answer as DIR/<base64url request> plus DIR/index.tsv");
  presign->add_option("--threads", *threads, "Signing threads (default: one per core)");
  auto* hours_opt = presign
                        ->add_option("--validity-hours", *hours,
                                     "nextUpdate - thisUpdate (default: kyso.json services)")
                        ->check(CLI::Range(1, 24 * 7));
  presign->callback([&, export_dir, threads, hours, hours_opt]() {
    rc = WithInstance(g, false, [&](app::Instance& inst) -> Status {
      ocsp::ResponderOptions options;
      options.validity_seconds =
          (hours_opt->count() ? *hours : inst.config().services.ocsp_validity_hours) * 3600;
      options.refresh_margin_seconds =
          std::min(options.refresh_margin_seconds, options.validity_seconds / 4);
      ocsp::PresignOptions p;
      p.export_dir = *export_dir;
      p.threads = *threads;
      KYSO_ASSIGN_OR_RETURN(auto report,
                            ocsp::Presign(inst.db(), inst.keys(), inst.clock(), options, p));
      if (g.json) {
        PrintJson({{"certificates", report.certificates},
                   {"good", report.good},
                   {"revoked", report.revoked},
                   {"stored", report.stored},
                   {"skipped", report.skipped},
                   {"files", report.files},
                   {"this_update", FormatUtc(report.this_update)},
                   {"next_update", FormatUtc(report.next_update)}});
      } else {
        std::cerr << "Pre-signed " << report.stored << " OCSP answers (" << report.good << " good, "
                  << report.revoked << " revoked) for " << report.cas << " CA(s), valid until "
                  << FormatUtc(report.next_update);
        if (!export_dir->empty()) std::cerr << "; " << report.files << " files in " << *export_dir;
        std::cerr << "\n";
      }
      return Status::Ok();
    });
  });

  auto* rollover = ocsp->add_subcommand(
      "rollover", "New responder key and certificate; running servers switch without downtime");
  auto key = std::make_shared<std::string>();
  auto days = std::make_shared<int>(0);
  rollover->add_option("--key", *key, "Key spec (default: the current one's)");
  auto* days_opt = rollover->add_option("--days", *days, "Validity (default: the profile's)");
  rollover->callback([&, key, days, days_opt]() {
    rc = WithInstance(g, true, [&](app::Instance& inst) -> Status {
      ocsp::RolloverOptions options;
      if (!key->empty()) {
        KYSO_ASSIGN_OR_RETURN(options.key, crypto::KeySpec::Parse(*key));
      }
      if (days_opt->count()) options.validity_days = *days;
      KYSO_ASSIGN_OR_RETURN(
          auto result,
          ocsp::RolloverResponder(inst.authority(), inst.db(), inst.keys(), inst.clock(), options));
      KYSO_RETURN_IF_ERROR(WriteFileAtomic(inst.data_dir() + "/certs/ocsp-signer.pem",
                                           AsBytes(result.certificate.ToPem()), 0644));
      if (g.json) {
        PrintJson({{"serial", result.certificate.serial_hex()},
                   {"previous_serial", result.previous.serial_hex()},
                   {"key", result.key_ref},
                   {"not_after", FormatUtc(result.certificate.not_after())}});
      } else {
        std::cerr << "New OCSP responder certificate " << result.certificate.serial_hex()
                  << " (replaces " << result.previous.serial_hex()
                  << "); running servers switch within milliseconds\n";
      }
      return Status::Ok();
    });
  });
}

}  // namespace

int Run(int argc, char** argv) {
  CLI::App app{
      "kyso: certificate authority, validation services and document signatures for "
      "chữ ký số chuyên dùng công vụ"};
  app.set_version_flag("--version", "kyso 0.1.0");
  app.require_subcommand(1);
  app.fallthrough();
  Globals g;
  int rc = 0;
  app.add_option("--data", g.data_dir, "Data directory (default ./kyso-data or $KYSO_DATA)");
  app.add_flag("--json", g.json, "Machine-readable output");
  app.add_option("--db", g.database,
                 "Database: postgresql://user@host:port/db (default: kyso.json's, else "
                 "SQLite kyso.db in the data directory)");
  app.add_option(
      "--passphrase-file", g.passphrase_file,
      "File holding the CA keys' passphrase (else $KYSO_PASSPHRASE_FILE, else a prompt)");
  AddInit(app, g, rc);
  AddCa(app, g, rc);
  AddProfile(app, g, rc);
  AddCert(app, g, rc);
  AddCrl(app, g, rc);
  AddAudit(app, g, rc);
  AddServe(app, g, rc);
  AddOcsp(app, g, rc);
  AddSign(app, g, rc);
  AddVerify(app, g, rc);
  AddAccount(app, g, rc);
  AddCalendar(app, g, rc);
  AddToken(app, g, rc);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  return rc;
}

}  // namespace kyso::cli
