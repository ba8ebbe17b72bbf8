#include "app/accounts.h"

#include <nlohmann/json.hpp>

#include "auth/password.h"
#include "auth/tokens.h"
#include "base/files.h"
#include "crypto/digest.h"
#include "ra/access.h"
#include "x509/certificate.h"

namespace kyso::app {

Result<store::AccountRecord> AddAccount(Instance& instance, const NewAccount& spec,
                                        const std::string& actor) {
  KYSO_RETURN_IF_ERROR(ra::ParseRole(spec.role).status());
  store::AccountRecord account;
  KYSO_ASSIGN_OR_RETURN(account.username, ra::NormalizeUsername(spec.username));
  account.role = spec.role;
  account.display_name = spec.display_name;
  account.organization_id = spec.organization_id;
  account.person_id = spec.person_id;
  if (!spec.password.empty()) {
    KYSO_RETURN_IF_ERROR(auth::CheckPasswordPolicy(spec.password));
    KYSO_ASSIGN_OR_RETURN(account.password_hash,
                          auth::HashPassword(spec.password, auth::PasswordCost::Interactive()));
  }
  if (!spec.certificate_pem.empty()) {
    KYSO_ASSIGN_OR_RETURN(x509::Certificate cert, x509::Certificate::FromPem(spec.certificate_pem));
    account.certificate_fingerprint =
        ra::NormalizeFingerprint(HexEncode(crypto::Sha256(cert.der())));
  }
  account.created_at = instance.clock().Now();
  KYSO_ASSIGN_OR_RETURN(auto tx, instance.db().Begin(store::TransactionMode::kWrite));
  if (account.organization_id) {
    KYSO_RETURN_IF_ERROR(tx->GetOrganization(*account.organization_id).status());
  }
  if (account.person_id) KYSO_RETURN_IF_ERROR(tx->GetPerson(*account.person_id).status());
  KYSO_ASSIGN_OR_RETURN(int64_t id, tx->InsertAccount(account));
  nlohmann::json details = {{"id", id},
                            {"role", account.role},
                            {"certificate", !account.certificate_fingerprint.empty()}};
  KYSO_RETURN_IF_ERROR(
      instance.audit_log()
          .Append(*tx, actor, "account.create", "account/" + account.username, details.dump())
          .status());
  KYSO_ASSIGN_OR_RETURN(store::AccountRecord created, tx->GetAccount(id));
  KYSO_RETURN_IF_ERROR(tx->Commit());
  return created;
}

Result<std::string> CreateDemoAdministrator(Instance& instance) {
  crypto::SystemRng rng;
  // 32 random bytes in base64url: far above the password policy, and typeable.
  const std::string password = auth::NewSecretToken(rng);
  NewAccount admin;
  admin.username = "admin";
  admin.role = "admin";
  admin.display_name = "Quản trị hệ thống (demo)";
  admin.password = password;
  KYSO_RETURN_IF_ERROR(AddAccount(instance, admin, "kyso:init").status());
  KYSO_RETURN_IF_ERROR(
      WriteNewFile(instance.data_dir() + "/demo-admin-password", AsBytes(password + "\n"), 0600));
  return password;
}

}  // namespace kyso::app
