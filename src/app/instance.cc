#include "app/instance.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "base/files.h"
#include "crypto/pkcs11.h"
#include "store/postgres/postgres_store.h"
#include "store/sqlite/sqlite_store.h"

namespace kyso::app {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr const char* kConfigFile = "kyso.json";
constexpr const char* kProfilesFile = "profiles.json";
constexpr const char* kDatabaseFile = "kyso.db";
constexpr const char* kDemoPassphraseFile = "demo-passphrase";

std::string PaddingName(crypto::RsaPadding p) {
  return p == crypto::RsaPadding::kPss ? "pss" : "pkcs1";
}

json CaSpecJson(const ca::CaSpec& s) {
  json j = {{"name", s.name},
            {"subject", s.subject},
            {"key", s.key.ToString()},
            {"validity_days", s.validity_days},
            {"rsa_padding", PaddingName(s.padding)}};
  if (!s.policy_oids.empty()) j["policy_oids"] = s.policy_oids;
  return j;
}

json ServiceJson(const ca::ServiceCertSpec& s) {
  json j = {{"subject", s.subject}, {"key", s.key.ToString()}, {"profile", s.profile}};
  if (s.validity_days) j["validity_days"] = *s.validity_days;
  return j;
}

// Strict reading: every key must be known, every value of the right type.
class Reader {
 public:
  Status error;
  void Fail(const std::string& path, const std::string& what) {
    if (error.ok())
      error =
          InvalidArgument("config.invalid", std::string(kConfigFile) + ": " + path + ": " + what);
  }
  void Keys(const json& obj, const std::string& path, std::set<std::string> allowed) {
    if (!obj.is_object()) return Fail(path, "must be an object");
    for (auto it = obj.begin(); it != obj.end(); ++it) {
      if (!allowed.count(it.key())) Fail(path + "." + it.key(), "unknown key");
    }
  }
  void String(const json& obj, const char* key, const std::string& path, std::string* out) {
    if (!obj.contains(key)) return;
    if (!obj[key].is_string()) return Fail(path + "." + key, "must be a string");
    *out = obj[key].get<std::string>();
  }
  void Int(const json& obj, const char* key, const std::string& path, int* out) {
    if (!obj.contains(key)) return;
    if (!obj[key].is_number_integer() || obj[key].get<int64_t>() <= 0 ||
        obj[key].get<int64_t>() > 100000000)
      return Fail(path + "." + key, "must be a positive integer");
    *out = obj[key].get<int>();
  }
  void Key(const json& obj, const std::string& path, crypto::KeySpec* out) {
    std::string text;
    String(obj, "key", path, &text);
    if (text.empty()) return;
    auto spec = crypto::KeySpec::Parse(text);
    if (!spec.ok()) return Fail(path + ".key", spec.status().message());
    *out = *spec;
  }
  void Ca(const json& obj, const std::string& path, ca::CaSpec* s) {
    Keys(obj, path, {"name", "subject", "key", "validity_days", "rsa_padding", "policy_oids"});
    String(obj, "name", path, &s->name);
    String(obj, "subject", path, &s->subject);
    Key(obj, path, &s->key);
    Int(obj, "validity_days", path, &s->validity_days);
    std::string padding = PaddingName(s->padding);
    String(obj, "rsa_padding", path, &padding);
    if (padding != "pss" && padding != "pkcs1") Fail(path + ".rsa_padding", "must be pkcs1 or pss");
    s->padding = padding == "pss" ? crypto::RsaPadding::kPss : crypto::RsaPadding::kPkcs1v15;
    if (obj.contains("policy_oids")) {
      if (!obj["policy_oids"].is_array()) return Fail(path + ".policy_oids", "must be a list");
      s->policy_oids.clear();
      for (const auto& o : obj["policy_oids"]) {
        if (!o.is_string()) return Fail(path + ".policy_oids", "must be a list of strings");
        s->policy_oids.push_back(o.get<std::string>());
      }
    }
  }
  void Service(const json& obj, const std::string& path, ca::ServiceCertSpec* s) {
    Keys(obj, path, {"subject", "key", "profile", "validity_days"});
    String(obj, "subject", path, &s->subject);
    Key(obj, path, &s->key);
    String(obj, "profile", path, &s->profile);
    if (obj.contains("validity_days")) {
      int days = 0;
      Int(obj, "validity_days", path, &days);
      s->validity_days = days;
    }
  }
};

// The store named by kyso.json's "database": SQLite's kyso.db in the data directory when
// empty, else PostgreSQL. PostgreSQL URLs carry no password here: libpq reads it from
// ~/.pgpass or $PGPASSWORD, so kyso.json never holds a secret.
Result<std::unique_ptr<store::Database>> OpenDatabase(const std::string& database,
                                                      const std::string& data_dir, bool create) {
  if (database.empty()) {
    store::SqliteOptions sqlite;
    sqlite.create_if_missing = create;
    return store::OpenSqliteDatabase(data_dir + "/" + kDatabaseFile, sqlite);
  }
  if (database.rfind("postgresql://", 0) != 0 && database.rfind("postgres://", 0) != 0 &&
      database.find("dbname=") == std::string::npos) {
    return InvalidArgument("config.bad_database",
                           "database must be a postgresql:// URL or a libpq conninfo with "
                           "dbname=, got \"" +
                               database + "\"");
  }
  return store::OpenPostgresDatabase(database, store::PostgresOptions{});
}

}  // namespace

InstanceConfig InstanceConfig::Defaults() {
  InstanceConfig c;
  auto& h = c.hierarchy;
  h.root = {"root",
            "/C=VN/O=Ban Cơ yếu Chính phủ/OU=Cục Chứng thực số và Bảo mật thông tin"
            "/CN=Cơ quan chứng thực số chuyên dùng công vụ (Root CA) - kyso demo",
            *crypto::KeySpec::Parse("rsa:4096"),
            ca::kCaValidityDays,
            crypto::RsaPadding::kPkcs1v15,
            {}};
  h.issuing = {"issuing",
               "/C=VN/O=Ban Cơ yếu Chính phủ/CN=CA phục vụ các cơ quan Nhà nước - kyso demo",
               *crypto::KeySpec::Parse("rsa:3072"),
               10 * 365 + 3,
               crypto::RsaPadding::kPkcs1v15,
               {"anyPolicy"}};
  h.ocsp = {"/C=VN/O=Ban Cơ yếu Chính phủ/CN=Máy chủ OCSP - CA phục vụ các cơ quan Nhà nước",
            *crypto::KeySpec::Parse("ec:P-256"), "ocsp-signer", std::nullopt};
  h.tsa = {"/C=VN/O=Ban Cơ yếu Chính phủ/CN=Dịch vụ cấp dấu thời gian - kyso demo",
           *crypto::KeySpec::Parse("ec:P-256"), "tsa", std::nullopt};
  h.audit_subject = "/C=VN/O=Ban Cơ yếu Chính phủ/CN=Nhật ký kiểm toán kyso (audit log signer)";
  h.audit_key = *crypto::KeySpec::Parse("ec:P-256");
  return c;
}

Result<InstanceConfig> InstanceConfig::FromJson(std::string_view text) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded())
    return InvalidArgument("config.invalid", std::string(kConfigFile) + " is not valid JSON");
  InstanceConfig c = Defaults();
  Reader r;
  r.Keys(j, "$",
         {"version", "database", "public_base_url", "crl", "pbkdf2_iterations", "root", "issuing",
          "ocsp_signer", "tsa", "audit", "services"});
  if (j.contains("version") && j["version"] != 1) r.Fail("$.version", "must be 1");
  r.String(j, "database", "$", &c.database);
  r.String(j, "public_base_url", "$", &c.publication.base_url);
  r.Int(j, "pbkdf2_iterations", "$", &c.pbkdf2_iterations);
  if (j.contains("crl")) {
    r.Keys(j["crl"], "$.crl", {"full_validity_hours", "delta_validity_hours"});
    r.Int(j["crl"], "full_validity_hours", "$.crl", &c.publication.full_crl_validity_hours);
    r.Int(j["crl"], "delta_validity_hours", "$.crl", &c.publication.delta_crl_validity_hours);
  }
  if (j.contains("services")) {
    const json& sj = j["services"];
    r.Keys(sj, "$.services", {"tsa_policy_oid", "tsa_accuracy_seconds", "ocsp_validity_hours"});
    r.String(sj, "tsa_policy_oid", "$.services", &c.services.tsa_policy_oid);
    r.Int(sj, "tsa_accuracy_seconds", "$.services", &c.services.tsa_accuracy_seconds);
    r.Int(sj, "ocsp_validity_hours", "$.services", &c.services.ocsp_validity_hours);
  }
  if (j.contains("root")) r.Ca(j["root"], "$.root", &c.hierarchy.root);
  if (j.contains("issuing")) r.Ca(j["issuing"], "$.issuing", &c.hierarchy.issuing);
  if (j.contains("ocsp_signer")) r.Service(j["ocsp_signer"], "$.ocsp_signer", &c.hierarchy.ocsp);
  if (j.contains("tsa")) r.Service(j["tsa"], "$.tsa", &c.hierarchy.tsa);
  if (j.contains("audit")) {
    r.Keys(j["audit"], "$.audit", {"subject", "key"});
    r.String(j["audit"], "subject", "$.audit", &c.hierarchy.audit_subject);
    r.Key(j["audit"], "$.audit", &c.hierarchy.audit_key);
  }
  KYSO_RETURN_IF_ERROR(r.error);
  if (c.hierarchy.root.name == c.hierarchy.issuing.name) {
    return InvalidArgument("config.invalid", "root and issuing CA need different names");
  }
  if (c.services.ocsp_validity_hours < 1 || c.services.ocsp_validity_hours > 24 * 7) {
    return InvalidArgument("config.invalid", "services.ocsp_validity_hours must be 1..168");
  }
  if (c.services.tsa_accuracy_seconds < 0 || c.services.tsa_accuracy_seconds > 3600) {
    return InvalidArgument("config.invalid", "services.tsa_accuracy_seconds must be 0..3600");
  }
  if (c.pbkdf2_iterations < 1000) {
    return InvalidArgument("config.invalid", "pbkdf2_iterations must be at least 1000");
  }
  return c;
}

std::string InstanceConfig::ToJson() const {
  json j = {
      {"version", 1},
      {"database", database},
      {"public_base_url", publication.base_url},
      {"crl",
       {{"full_validity_hours", publication.full_crl_validity_hours},
        {"delta_validity_hours", publication.delta_crl_validity_hours}}},
      {"pbkdf2_iterations", pbkdf2_iterations},
      {"root", CaSpecJson(hierarchy.root)},
      {"issuing", CaSpecJson(hierarchy.issuing)},
      {"ocsp_signer", ServiceJson(hierarchy.ocsp)},
      {"tsa", ServiceJson(hierarchy.tsa)},
      {"audit", {{"subject", hierarchy.audit_subject}, {"key", hierarchy.audit_key.ToString()}}},
      {"services",
       {{"tsa_policy_oid", services.tsa_policy_oid},
        {"tsa_accuracy_seconds", services.tsa_accuracy_seconds},
        {"ocsp_validity_hours", services.ocsp_validity_hours}}}};
  return j.dump(2) + "\n";
}

std::string DefaultDataDir() {
  const char* env = std::getenv("KYSO_DATA");
  return env && *env ? env : "./kyso-data";
}

std::string DefaultActor() {
  const char* user = std::getenv("USER");
  char host[256] = "localhost";
  gethostname(host, sizeof host - 1);
  return std::string("cli:") + (user && *user ? user : "operator") + "@" + host;
}

std::string Instance::database_kind() const {
  return config_.database.empty() ? "sqlite" : "postgresql";
}

bool Instance::demo() const {
  return FileExists(data_dir_ + "/" + kDemoPassphraseFile);
}

Result<std::unique_ptr<Instance>> Instance::Assemble(const std::string& data_dir,
                                                     InstanceConfig config,
                                                     policy::ProfileSet profiles,
                                                     std::unique_ptr<store::Database> db,
                                                     const OpenOptions& options) {
  std::unique_ptr<Instance> inst(new Instance());
  inst->data_dir_ = data_dir;
  inst->config_ = std::move(config);
  inst->profiles_ = std::move(profiles);
  inst->db_ = std::move(db);
  std::string demo_file = data_dir + "/" + kDemoPassphraseFile;
  crypto::PassphraseSource source = options.passphrase;
  bool use_demo = !source.file && options.allow_demo_passphrase && FileExists(demo_file) &&
                  !(std::getenv("KYSO_PASSPHRASE_FILE") && *std::getenv("KYSO_PASSPHRASE_FILE"));
  if (use_demo) source.file = demo_file;
  inst->keys_ = std::make_unique<crypto::FileKeyStore>(
      data_dir,
      [source]() { return crypto::ReadPassphrase(source, "Passphrase for the kyso CA keys"); },
      inst->config_.pbkdf2_iterations);
  inst->audit_ = std::make_unique<audit::AuditLog>(inst->clock_);
  ca::CertificateAuthority::Dependencies deps{
      inst->db_.get(), inst->keys_.get(),  &inst->profiles_,         &inst->clock_,
      &inst->rng_,     inst->audit_.get(), inst->config_.publication};
  inst->authority_ = std::make_unique<ca::CertificateAuthority>(deps, options.actor);
  return inst;
}

Result<std::unique_ptr<Instance>> Instance::Open(const std::string& data_dir,
                                                 const OpenOptions& options) {
  std::string db_path = data_dir + "/" + kDatabaseFile;
  if (!FileExists(data_dir + "/" + kConfigFile)) {
    return FailedPrecondition(
        "instance.not_initialized",
        "no kyso data in " + data_dir + ": run `kyso init --demo` (or `kyso init`) first");
  }
  KYSO_ASSIGN_OR_RETURN(std::string config_text,
                        ReadTextFile(data_dir + "/" + kConfigFile, 1 << 20));
  KYSO_ASSIGN_OR_RETURN(InstanceConfig config, InstanceConfig::FromJson(config_text));
  policy::ProfileSet profiles = policy::ProfileSet::BuiltIn();
  if (FileExists(data_dir + "/" + kProfilesFile)) {
    KYSO_ASSIGN_OR_RETURN(std::string text, ReadTextFile(data_dir + "/" + kProfilesFile, 4 << 20));
    auto loaded = policy::ProfileSet::FromJson(text);
    if (!loaded.ok()) return loaded.status().WithContext(data_dir + "/" + kProfilesFile);
    profiles = std::move(loaded).value();
  }
  if (options.database) config.database = *options.database;
  if (config.database.empty() && !FileExists(db_path)) {
    return FailedPrecondition(
        "instance.not_initialized",
        "no kyso data in " + data_dir + ": run `kyso init --demo` (or `kyso init`) first");
  }
  KYSO_ASSIGN_OR_RETURN(auto db, OpenDatabase(config.database, data_dir, false));
  return Assemble(data_dir, std::move(config), std::move(profiles), std::move(db), options);
}

Result<std::unique_ptr<Instance>> Instance::Init(const std::string& data_dir,
                                                 const InitOptions& init,
                                                 const OpenOptions& options) {
  if (FileExists(data_dir + "/" + kDatabaseFile) || FileExists(data_dir + "/" + kConfigFile)) {
    return FailedPrecondition("init.already_initialized",
                              data_dir + " already holds a kyso instance; nothing was changed");
  }
  InstanceConfig config = InstanceConfig::Defaults();
  if (init.config_file) {
    KYSO_ASSIGN_OR_RETURN(std::string text, ReadTextFile(*init.config_file, 1 << 20));
    KYSO_ASSIGN_OR_RETURN(config, InstanceConfig::FromJson(text));
  }
  if (init.root_key) {
    KYSO_ASSIGN_OR_RETURN(config.hierarchy.root.key, crypto::KeySpec::Parse(*init.root_key));
  }
  if (init.issuing_key) {
    KYSO_ASSIGN_OR_RETURN(config.hierarchy.issuing.key, crypto::KeySpec::Parse(*init.issuing_key));
  }
  if (init.base_url) config.publication.base_url = *init.base_url;
  if (options.database) config.database = *options.database;

  // Remember what existed, so that a failure removes exactly what this call created.
  bool created_dir = !FileExists(data_dir);
  std::vector<std::string> created;
  auto cleanup = [&]() {
    std::error_code ec;
    if (created_dir) {
      fs::remove_all(data_dir, ec);
    } else {
      for (auto it = created.rbegin(); it != created.rend(); ++it) fs::remove_all(*it, ec);
    }
  };
  auto fail = [&](Status st) -> Result<std::unique_ptr<Instance>> {
    cleanup();
    return st;
  };
  Status st = MakeDirectories(data_dir, 0700);
  if (!st.ok()) return fail(st);
  for (const char* name :
       {kConfigFile, kProfilesFile, kDatabaseFile, kDemoPassphraseFile, "keys", "certs", "crl"}) {
    std::string path = data_dir + "/" + name;
    if (!FileExists(path)) created.push_back(path);
  }
  for (const char* suffix : {"-wal", "-shm"})
    created.push_back(data_dir + "/" + kDatabaseFile + suffix);

  OpenOptions open = options;
  if (init.demo) {
    crypto::SystemRng rng;
    std::string pass = crypto::GeneratePassphrase(rng) + "\n";
    st = WriteNewFile(data_dir + "/" + kDemoPassphraseFile, AsBytes(pass), 0600);
    if (!st.ok()) return fail(st);
    open.passphrase.file = data_dir + "/" + kDemoPassphraseFile;
    std::fprintf(stderr,
                 "kyso: warning: demo mode: the CA keys' passphrase was written to %s/%s "
                 "(mode 0600). Do not use a demo instance for real certificates.\n",
                 data_dir.c_str(), kDemoPassphraseFile);
  }
  std::string config_json = config.ToJson();
  st = WriteNewFile(data_dir + "/" + kConfigFile, AsBytes(config_json), 0644);
  if (!st.ok()) return fail(st);
  if (!FileExists(data_dir + "/" + kProfilesFile)) {
    st = WriteNewFile(data_dir + "/" + kProfilesFile, AsBytes(policy::ProfileSet::BuiltInJson()),
                      0644);
    if (!st.ok()) return fail(st);
  }
  auto profiles = policy::ProfileSet::FromJson(*ReadTextFile(data_dir + "/" + kProfilesFile));
  if (!profiles.ok()) return fail(profiles.status());
  auto db = OpenDatabase(config.database, data_dir, true);
  if (!db.ok()) return fail(db.status());
  auto inst = Assemble(data_dir, config, std::move(profiles).value(), std::move(db).value(), open);
  if (!inst.ok()) return fail(inst.status());
  Instance& in = **inst;
  ca::CertificateAuthority::Dependencies deps{
      in.db_.get(), in.keys_.get(),  &in.profiles_,         &in.clock_,
      &in.rng_,     in.audit_.get(), in.config_.publication};
  ca::KeyGenerator generate;
  if (init.hsm) {
    auto uri = crypto::Pkcs11Uri::Parse(*init.hsm);
    if (!uri.ok()) return fail(uri.status());
    crypto::Pkcs11Options pkcs11;
    pkcs11.pin.allow_prompt = options.passphrase.allow_prompt;
    auto token = crypto::Pkcs11Token::Open(*uri, pkcs11);
    if (!token.ok()) return fail(token.status());
    // The stored reference keeps the URI's pin-source, so that later runs find the PIN where
    // init did (or in KYSO_PIN_FILE).
    std::string pin_source = uri->pin_source ? "&pin-source=" + *uri->pin_source : "";
    generate = [token = *token, root = config.hierarchy.root.name, pin_source](
                   const std::string& name,
                   const crypto::KeySpec& spec) -> Result<std::optional<ca::GeneratedKey>> {
      if (name == root) return std::optional<ca::GeneratedKey>();
      KYSO_ASSIGN_OR_RETURN(auto signer, token->GenerateKey(spec, name));
      return std::optional<ca::GeneratedKey>(
          ca::GeneratedKey{signer->key_ref() + pin_source, signer});
    };
  }
  auto hierarchy = ca::InitializeHierarchy(config.hierarchy, deps, options.actor, generate);
  if (!hierarchy.ok()) {
    inst->reset();
    return fail(hierarchy.status());
  }
  st = MakeDirectories(data_dir + "/certs", 0755);
  const auto& h = *hierarchy;
  std::pair<const char*, std::string> files[] = {{"root.pem", h.root.ToPem()},
                                                 {"issuing.pem", h.issuing.ToPem()},
                                                 {"chain.pem", h.issuing.ToPem() + h.root.ToPem()},
                                                 {"ocsp-signer.pem", h.ocsp.ToPem()},
                                                 {"tsa.pem", h.tsa.ToPem()},
                                                 {"audit.pem", h.audit.ToPem()}};
  for (const auto& [name, pem] : files) {
    if (st.ok()) st = WriteFileAtomic(data_dir + "/certs/" + name, AsBytes(pem), 0644);
  }
  // First full CRLs, so the distribution points named in certificates resolve from day one.
  for (const auto& ca_name : {config.hierarchy.root.name, config.hierarchy.issuing.name}) {
    if (!st.ok()) break;
    auto crl = in.authority().GenerateCrl(ca_name, false);
    st = crl.ok() ? in.PublishCrl(ca_name, *crl) : crl.status();
  }
  if (st.ok()) st = in.authority().SealAudit();
  if (!st.ok()) {
    inst->reset();
    return fail(st);
  }
  return inst;
}

Status Instance::PublishCrl(const std::string& ca_name, const store::CrlRecord& crl) {
  KYSO_RETURN_IF_ERROR(MakeDirectories(data_dir_ + "/crl", 0755));
  std::string name = ca_name + (crl.base_number ? "-delta.crl" : ".crl");
  return WriteFileAtomic(data_dir_ + "/crl/" + name, crl.der, 0644);
}

}  // namespace kyso::app
