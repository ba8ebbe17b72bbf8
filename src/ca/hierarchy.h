// Creating a CA hierarchy: a root CA, one issuing CA, and the service certificates the
// validation services need (OCSP signer, time-stamping unit) plus the audit-log signer.
//
// All keys are generated and all certificates built in memory first; keys are then written
// through the KeyStore and everything is recorded in one store transaction. If anything
// fails, keys already written are removed by the caller's cleanup of a fresh data directory,
// and the store is unchanged. Keys generated on a token (kyso init --hsm) are the exception:
// they exist from the start and stay on the token if a later step fails.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ca/authority.h"
#include "crypto/key.h"
#include "crypto/signer.h"

namespace kyso::ca {

struct CaSpec {
  std::string name;     // "root", "issuing": used in URLs and file names
  std::string subject;  // slashed form: "/C=VN/O=Ban Cơ yếu Chính phủ/CN=..."
  crypto::KeySpec key;
  int validity_days = 0;
  crypto::RsaPadding padding = crypto::RsaPadding::kPkcs1v15;
  std::vector<std::string> policy_oids;  // for the issuing CA's certificatePolicies
};

struct ServiceCertSpec {
  std::string subject;
  crypto::KeySpec key;
  std::string profile;  // "ocsp-signer", "tsa"
  std::optional<int> validity_days;
};

struct HierarchySpec {
  CaSpec root;
  CaSpec issuing;
  ServiceCertSpec ocsp;
  ServiceCertSpec tsa;
  std::string audit_subject;
  crypto::KeySpec audit_key;
};

struct Hierarchy {
  x509::Certificate root;
  x509::Certificate issuing;
  x509::Certificate ocsp;
  x509::Certificate tsa;
  x509::Certificate audit;
};

// Nghị định 68/2024 Điều 9: "Chứng thư chữ ký số của tổ chức cung cấp dịch vụ ... có thời hạn
// 20 năm" — the provider's certificate is valid for 20 years.
inline constexpr int kCaValidityDays = 20 * 365 + 5;

// A key generated on a device it never leaves (an HSM through PKCS#11): the reference the
// store keeps for it and its Signer.
struct GeneratedKey {
  std::string key_ref;
  std::shared_ptr<const crypto::Signer> signer;
};
// Where each key of the hierarchy is made. `name` is "root", "issuing" (the CA names),
// "ocsp-signer", "tsa" or "audit". nullopt: a software key, saved through the KeyStore.
using KeyGenerator = std::function<Result<std::optional<GeneratedKey>>(
    const std::string& name, const crypto::KeySpec& spec)>;

// Fails with FailedPrecondition "init.already_initialized" when the store already has a CA.
// Without `generate` every key is a software key.
Result<Hierarchy> InitializeHierarchy(const HierarchySpec& spec,
                                      const CertificateAuthority::Dependencies& deps,
                                      const std::string& actor,
                                      const KeyGenerator& generate = nullptr);

}  // namespace kyso::ca
