// What document signing needs from this machine: validation services (the instance's own TSA,
// OCSP responder and CRLs answer in-process, through the same code `kyso serve` runs; other
// URLs are fetched over HTTP), and the signing keys the server holds for callers.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "app/instance.h"
#include "pades/signer.h"
#include "pades/visible.h"
#include "ra/access.h"
#include "verify/engine.h"

namespace kyso::app {

class LocalValidationServices final : public pades::ValidationServices,
                                      public verify::OnlineRevocation {
 public:
  // `instance` may be null (no data directory): then everything goes over HTTP and a TSA URL
  // is required for B-T and above. `tsa_url` overrides the instance's own TSA.
  LocalValidationServices(Instance* instance, std::optional<std::string> tsa_url);
  ~LocalValidationServices() override;

  Result<Bytes> TimeStamp(ByteSpan request) override;
  Result<Bytes> Ocsp(const std::string& url, ByteSpan request) override;
  Result<Bytes> Crl(const std::string& url) override;

 private:
  struct Local;
  Result<Local*> local();
  Instance* instance_;
  std::optional<std::string> tsa_url_;
  std::mutex mu_;
  std::unique_ptr<Local> local_;
};

// One `kyso sign pdf` job: files in, files out, options as the command line gives them.
struct PdfSigningJob {
  std::string input;
  std::string output;
  // Credentials: an encrypted PKCS#8 key with its certificate (and chain) in PEM, or a PKCS#12,
  // or a key on a token named by a PKCS#11 URI in key_file (its certificate from certificate_file
  // or else the token's certificate object with the key's CKA_ID).
  std::optional<std::string> key_file;
  std::optional<std::string> certificate_file;  // signer first, then its issuers
  std::optional<std::string> chain_file;        // more issuers
  std::optional<std::string> pkcs12_file;
  crypto::PassphraseSource key_passphrase;
  crypto::PassphraseSource pin;  // the token's user PIN (--pin-file, else the URI's pin-source...)
  std::optional<std::string> image_file;
  std::optional<std::string> font_file;
  std::optional<std::string> tsa_url;
  pades::VisibleOptions visible;
  pades::SignOptions options;  // level, digest, padding, spec; placement/appearance are planned
};

struct PdfSigningResult {
  pades::SignOutcome outcome;
  std::string signer;  // subject of the signing certificate (RFC 4514)
  UnixSeconds signing_time = 0;
  std::vector<std::string> warnings;
};

// Loads the credentials and images, plans the appearance, signs and writes job.output.
// `instance` may be null (no data directory); it provides the TSA, OCSP and CRLs in-process.
[[nodiscard]] Result<PdfSigningResult> SignPdfFile(Instance* instance, PdfSigningJob job);

// A private key and certificates read from the files of a job (PKCS#8 + PEM, or PKCS#12),
// the signer's certificate first. A key on a token is not material to copy:
// signing.key_on_token.
struct KeyMaterial {
  crypto::PrivateKey key;
  std::vector<x509::Certificate> certificates;
};
[[nodiscard]] Result<KeyMaterial> LoadKeyMaterial(const PdfSigningJob& job,
                                                  std::vector<std::string>& warnings);

// The credentials of a job whose key_file is a PKCS#11 URI: the key stays on the token.
// Errors: the pkcs11.* ids of crypto/pkcs11.h, pades.key_mismatch (no certificate for the key).
[[nodiscard]] Result<pades::Credentials> LoadTokenCredentials(const PdfSigningJob& job);

// The credentials of a job from any of its sources: a PKCS#11 URI (the key stays on the token),
// a PKCS#12, or an encrypted PKCS#8 key with its certificates. Warnings (e.g. a chain that does
// not reach a root) are appended to `warnings`.
[[nodiscard]] Result<pades::Credentials> LoadJobCredentials(const PdfSigningJob& job,
                                                            std::vector<std::string>& warnings);

// The body a server-held key belongs to, and the accounts that body authorized to sign with
// it (its clerk, văn thư). Stored in the store's signing_keys tables.
struct SigningKeyOwner {
  int64_t organization_id = 0;
  std::vector<std::string> accounts;  // usernames
};

// A server-held key as listed (no private key is loaded to describe it).
struct SigningKeyInfo {
  std::string id;
  std::string subject;  // of the signing certificate (RFC 4514)
  std::string serial_hex;
  UnixSeconds not_after = 0;
  std::optional<int64_t> organization_id;  // nullopt: no owner, usable by nobody over the API
  std::string organization_name;
  std::string organization_path;
  std::vector<std::string> accounts;  // usernames authorized
};

// Keys the server signs documents with on behalf of callers (`kyso sign key add`): the key in
// the instance key store, encrypted with the instance passphrase like the CA keys; its
// certificates in the store's settings; its owner body and authorized accounts in the store's
// signing_keys tables. Adding one is audited (signing_key.add), and so is every use over the
// API, refused or not (sign.refused, sign.pdf, sign.file, sign.failed).
//
// Who may sign with a key over the API: an account the owner body listed, while that account
// still belongs to the body or a body below it (an account moved elsewhere loses the key).
// Roles do not widen this: a CA operator or an administrator is not the body's clerk.
// Thread-safe; loaded keys are cached.
class SigningKeys {
 public:
  explicit SigningKeys(Instance* instance) : instance_(instance) {}
  // Errors: signing_key.invalid_id, signing_key.exists, signing_key.key_mismatch; with an
  // owner also store.not_found (unknown body or account) and signing_key.account_outside_body.
  // Without an owner, nobody may use the key over the API.
  Status Add(const std::string& id, const KeyMaterial& material,
             const std::optional<SigningKeyOwner>& owner = std::nullopt);
  // Gives a key added without an owner (before access control) its body and accounts; the
  // same checks as Add, audited (signing_key.allow). signing_key.not_found,
  // signing_key.has_owner (owners are not changed: add the key again under a new id).
  Status SetOwner(const std::string& id, const SigningKeyOwner& owner);
  Result<std::vector<std::string>> List();
  // Every key, or (with `account_id`) the keys that account may use, by id.
  Result<std::vector<SigningKeyInfo>> Describe(std::optional<int64_t> account_id = std::nullopt);
  // NotFound signing_key.not_found.
  Result<pades::Credentials> Get(const std::string& id);
  // The credentials of `id` when `caller` may sign with it. Refusals are audited (sign.refused,
  // naming the account and the key): PermissionDenied sign.key_not_authorized, NotFound
  // signing_key.not_found.
  Result<pades::Credentials> Authorize(const ra::Principal& caller, const std::string& id);
  // Audits one use of key `id` by `caller`: `action` "sign.pdf" or "sign.file" (a PAdES or a
  // detached CAdES signature made) or "sign.failed" (an error stopped it), with `details_json`.
  Status RecordUse(const ra::Principal& caller, const std::string& id, const std::string& action,
                   const std::string& details_json);

 private:
  Result<store::SigningKeyAccess> ResolveOwner(const std::string& id, const SigningKeyOwner& owner);

  Instance* instance_;
  std::mutex mu_;
  std::map<std::string, pades::Credentials> cache_;
};

// Trust anchors and intermediates for `kyso verify`: the CA certificates of the data directory
// (certs/*.pem: the self-signed ones are anchors, the others intermediates). Empty lists when
// there is no data directory.
struct LocalCertificates {
  std::vector<x509::Certificate> anchors;
  std::vector<x509::Certificate> intermediates;
};
LocalCertificates ReadLocalCertificates(const std::string& data_dir);

// The signing time source when no instance is open: the system clock.
const Clock& SystemClockForSigning();

}  // namespace kyso::app
