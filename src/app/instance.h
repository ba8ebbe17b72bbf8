// Instance: one kyso data directory opened for use — the composition root, and the only place
// that names concrete implementations (SQLite store, file key store, system clock and RNG).
//
// Layout of a data directory (default ./kyso-data, or $KYSO_DATA, or --data):
//   kyso.json        instance configuration: CA names, subjects, algorithms, public URL
//   profiles.json    certificate profiles, editable by operators
//   kyso.db          the SQLite store (certificates, revocations, CRLs, audit log, registry),
//                    unless kyso.json names a PostgreSQL database ("database")
//   keys/            CA and service keys, encrypted PKCS#8, mode 0600
//   certs/           root.pem, issuing.pem, chain.pem, ocsp-signer.pem, tsa.pem, audit.pem
//   crl/             the latest CRLs, as published
//   logs/            access.log of `kyso serve` (JSON lines)
//   demo-passphrase  --demo only: the generated key passphrase (mode 0600)
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "ca/authority.h"
#include "ca/hierarchy.h"
#include "crypto/key_store.h"
#include "crypto/passphrase.h"
#include "crypto/random.h"
#include "policy/profile.h"
#include "store/store.h"

namespace kyso::app {

// What `kyso serve` announces in its answers (kyso.json "services"); `kyso serve` flags
// override them for one run.
struct ServiceSettings {
  // RFC 3161 §2.4.2 TSTInfo.policy. A placeholder under Vietnam's arc 2.16.704, like the
  // certificate policy OIDs of profiles.json: replace it with the registered OID.
  std::string tsa_policy_oid = "2.16.704.1.99.2.1";
  int tsa_accuracy_seconds = 1;
  int ocsp_validity_hours = 4;  // nextUpdate - thisUpdate of OCSP answers
};

struct InstanceConfig {
  // "" : the embedded SQLite file kyso.db. "postgresql://user@host:port/db" (or a libpq
  // key=value string): PostgreSQL, which several `kyso serve` nodes can share.
  std::string database;
  ca::HierarchySpec hierarchy;
  ca::PublicationSettings publication;
  ServiceSettings services;
  int pbkdf2_iterations = crypto::PrivateKey::kDefaultPbkdf2Iterations;

  // The demo defaults: RSA-4096 root, RSA-3072 issuing CA, P-256 service keys, Vietnamese
  // names with diacritics.
  static InstanceConfig Defaults();
  // Reads kyso.json; absent keys keep their default. Unknown keys are refused.
  static Result<InstanceConfig> FromJson(std::string_view json);
  std::string ToJson() const;
};

struct OpenOptions {
  crypto::PassphraseSource passphrase;
  // Read the demo passphrase file of the data directory when no other source is given.
  bool allow_demo_passphrase = true;
  std::string actor;  // recorded in audit entries
  // --db: overrides InstanceConfig::database for this run (and is written by `kyso init`).
  std::optional<std::string> database;
};

class Instance {
 public:
  // Opens an initialized data directory. Errors: instance.not_initialized (with a hint to run
  // `kyso init`), store.corrupt, profile.config_invalid, config.invalid.
  static Result<std::unique_ptr<Instance>> Open(const std::string& data_dir,
                                                const OpenOptions& options);

  struct InitOptions {
    bool demo = false;
    std::optional<std::string> config_file;  // kyso.json to start from
    std::optional<std::string> root_key;     // key spec overrides
    std::optional<std::string> issuing_key;
    std::optional<std::string> base_url;
    // A token (PKCS#11 URI, e.g. pkcs11:token=kyso-ca?module-path=...&pin-source=file:...)
    // on which the issuing CA, OCSP, TSA and audit keys are generated, sensitive and not
    // extractable; the root key stays in an encrypted file (kept offline).
    std::optional<std::string> hsm;
  };
  // Creates the data directory, keys, hierarchy and first CRLs. On any failure everything it
  // created is removed again.
  static Result<std::unique_ptr<Instance>> Init(const std::string& data_dir,
                                                const InitOptions& init,
                                                const OpenOptions& options);

  const std::string& data_dir() const { return data_dir_; }
  const InstanceConfig& config() const { return config_; }
  const policy::ProfileSet& profiles() const { return profiles_; }
  store::Database& db() { return *db_; }
  ca::CertificateAuthority& authority() { return *authority_; }
  audit::AuditLog& audit_log() { return *audit_; }
  crypto::KeyStore& keys() { return *keys_; }
  const Clock& clock() const { return clock_; }
  bool demo() const;
  // "sqlite" or "postgresql".
  std::string database_kind() const;

  // Writes the CRL to crl/<ca>.crl or crl/<ca>-delta.crl for publication.
  Status PublishCrl(const std::string& ca_name, const store::CrlRecord& crl);

 private:
  Instance() = default;
  static Result<std::unique_ptr<Instance>> Assemble(const std::string& data_dir,
                                                    InstanceConfig config,
                                                    policy::ProfileSet profiles,
                                                    std::unique_ptr<store::Database> db,
                                                    const OpenOptions& options);

  std::string data_dir_;
  InstanceConfig config_;
  policy::ProfileSet profiles_;
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<crypto::FileKeyStore> keys_;
  SystemClock clock_;
  crypto::SystemRng rng_;
  std::unique_ptr<audit::AuditLog> audit_;
  std::unique_ptr<ca::CertificateAuthority> authority_;
};

// The default data directory: $KYSO_DATA, else ./kyso-data.
std::string DefaultDataDir();
// "cli:<user>@<host>".
std::string DefaultActor();

}  // namespace kyso::app
