#include "app/signing.h"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

#include "base/files.h"
#include "ca/crl_publisher.h"
#include "crypto/passphrase.h"
#include "crypto/pkcs11.h"
#include "http/client.h"
#include "ocsp/responder.h"
#include "tsa/time_stamp_authority.h"

namespace kyso::app {

struct LocalValidationServices::Local {
  std::unique_ptr<ocsp::Responder> responder;
  std::unique_ptr<tsa::TimeStampAuthority> tsa;
  std::unique_ptr<ca::CrlPublisher> crls;
};

LocalValidationServices::LocalValidationServices(Instance* instance,
                                                 std::optional<std::string> tsa_url)
    : instance_(instance), tsa_url_(std::move(tsa_url)) {}

LocalValidationServices::~LocalValidationServices() {
  if (local_ && local_->responder) (void)local_->responder->Flush();
}

Result<LocalValidationServices::Local*> LocalValidationServices::local() {
  std::lock_guard lock(mu_);
  if (!local_) {
    auto local = std::make_unique<Local>();
    Instance& inst = *instance_;
    ocsp::ResponderOptions ocsp_options;
    ocsp_options.validity_seconds = inst.config().services.ocsp_validity_hours * 3600;
    KYSO_ASSIGN_OR_RETURN(local->responder, ocsp::Responder::Create(&inst.db(), &inst.keys(),
                                                                    &inst.clock(), ocsp_options));
    tsa::TsaOptions tsa_options;
    tsa_options.policy_oid = inst.config().services.tsa_policy_oid;
    tsa_options.accuracy_seconds = inst.config().services.tsa_accuracy_seconds;
    // A signing process needs a handful of tokens: a small block wastes few serials.
    tsa_options.serial_block = 100;
    KYSO_ASSIGN_OR_RETURN(local->tsa,
                          tsa::TimeStampAuthority::Create(&inst.db(), &inst.keys(), &inst.clock(),
                                                          &inst.audit_log(), tsa_options));
    local->crls = std::make_unique<ca::CrlPublisher>(
        &inst.authority(), &inst.db(), &inst.clock(), ca::CrlPublisherOptions{},
        [&inst](const std::string& ca, const store::CrlRecord& crl) {
          (void)inst.PublishCrl(ca, crl);
        });
    local_ = std::move(local);
  }
  return local_.get();
}

namespace {

Result<Bytes> BodyOf(Result<http::ClientResponse> response, const std::string& url) {
  if (!response.ok()) return std::move(response).status();
  if (response->status < 200 || response->status > 299) {
    return Unavailable("signing.service_status",
                       url + " answered HTTP " + std::to_string(response->status));
  }
  return std::move(response->body);
}

bool StartsWith(const std::string& s, const std::string& prefix) {
  return s.size() >= prefix.size() && s.compare(0, prefix.size(), prefix) == 0;
}

}  // namespace

Result<Bytes> LocalValidationServices::TimeStamp(ByteSpan request) {
  if (tsa_url_) {
    return BodyOf(http::Post(*tsa_url_, "application/timestamp-query", request), *tsa_url_);
  }
  if (instance_ == nullptr) {
    return InvalidArgument("signing.no_tsa",
                           "no TSA: give --tsa URL or a data directory with a TSA (kyso init)");
  }
  KYSO_ASSIGN_OR_RETURN(Local * local, local());
  tsa::TsaAnswer answer = local->tsa->Respond(request);
  return std::move(answer.der);
}

Result<Bytes> LocalValidationServices::Ocsp(const std::string& url, ByteSpan request) {
  if (instance_ != nullptr && url == instance_->config().publication.OcspUrl()) {
    KYSO_ASSIGN_OR_RETURN(Local * local, local());
    return std::move(local->responder->Respond(request).der);
  }
  return BodyOf(http::Post(url, "application/ocsp-request", request), url);
}

Result<Bytes> LocalValidationServices::Crl(const std::string& url) {
  if (instance_ != nullptr) {
    const std::string prefix = instance_->config().publication.base_url + "/crl/";
    if (StartsWith(url, prefix) && url.size() > prefix.size() + 4 &&
        url.compare(url.size() - 4, 4, ".crl") == 0) {
      std::string file = url.substr(prefix.size(), url.size() - prefix.size() - 4);
      bool delta = file.size() > 6 && file.compare(file.size() - 6, 6, "-delta") == 0;
      if (delta) file.resize(file.size() - 6);
      KYSO_ASSIGN_OR_RETURN(Local * local, local());
      KYSO_ASSIGN_OR_RETURN(auto published, local->crls->Current(file, delta));
      return published->record.der;
    }
  }
  return BodyOf(http::Get(url), url);
}

}  // namespace kyso::app

namespace kyso::app {

LocalCertificates ReadLocalCertificates(const std::string& data_dir) {
  LocalCertificates out;
  for (const char* name : {"root.pem", "chain.pem", "issuing.pem"}) {
    auto pem = ReadTextFile(data_dir + "/certs/" + name, 1 << 20);
    if (!pem.ok()) continue;
    auto certs = x509::Certificate::AllFromPem(*pem);
    if (!certs.ok()) continue;
    for (auto& c : *certs) {
      bool self_signed = c.subject() == c.issuer() && c.IsSignedBy(c.public_key());
      auto& list = self_signed ? out.anchors : out.intermediates;
      bool seen =
          std::any_of(list.begin(), list.end(), [&](const auto& k) { return k.der() == c.der(); });
      if (!seen) list.push_back(std::move(c));
    }
  }
  return out;
}

const Clock& SystemClockForSigning() {
  static SystemClock clock;
  return clock;
}

namespace {

Result<std::vector<x509::Certificate>> ReadCertificates(const std::string& file) {
  KYSO_ASSIGN_OR_RETURN(std::string pem, ReadTextFile(file, 1 << 20));
  auto all = x509::Certificate::AllFromPem(pem);
  if (!all.ok()) return all.status().WithContext(file);
  return std::move(all).value();
}

// The signer's certificate is the one holding the key, wherever it is in the files: moved to
// the front. pades.key_mismatch when none holds it.
Status SignerCertificateFirst(std::vector<x509::Certificate>& certificates,
                              const crypto::PublicKey& public_key, const std::string& key_source) {
  auto own = std::find_if(certificates.begin(), certificates.end(),
                          [&](const auto& c) { return c.public_key().Equals(public_key); });
  if (own == certificates.end()) {
    return InvalidArgument("pades.key_mismatch",
                           "no certificate given matches the private key " + key_source);
  }
  std::rotate(certificates.begin(), own, own + 1);
  return Status::Ok();
}

}  // namespace

Result<pades::Credentials> LoadTokenCredentials(const PdfSigningJob& job) {
  KYSO_ASSIGN_OR_RETURN(crypto::Pkcs11Uri uri, crypto::Pkcs11Uri::Parse(job.key_file.value_or("")));
  crypto::Pkcs11Options options;
  options.pin = job.pin;
  KYSO_ASSIGN_OR_RETURN(auto token, crypto::Pkcs11Token::Open(uri, options));
  KYSO_ASSIGN_OR_RETURN(std::shared_ptr<const crypto::Signer> signer, token->LoadSigner(uri));
  std::vector<x509::Certificate> certificates;
  if (job.certificate_file) {
    KYSO_ASSIGN_OR_RETURN(certificates, ReadCertificates(*job.certificate_file));
  } else {
    // The certificate written next to the key: same CKA_ID (the key reference carries it).
    KYSO_ASSIGN_OR_RETURN(crypto::Pkcs11Uri ref, crypto::Pkcs11Uri::Parse(signer->key_ref()));
    KYSO_ASSIGN_OR_RETURN(std::vector<Bytes> ders,
                          token->CertificatesWithId(ref.id.value_or(Bytes{})));
    for (const Bytes& der : ders) {
      KYSO_ASSIGN_OR_RETURN(auto cert, x509::Certificate::FromDer(der));
      certificates.push_back(std::move(cert));
    }
  }
  if (job.chain_file) {
    KYSO_ASSIGN_OR_RETURN(auto chain, ReadCertificates(*job.chain_file));
    certificates.insert(certificates.end(), chain.begin(), chain.end());
  }
  KYSO_RETURN_IF_ERROR(
      SignerCertificateFirst(certificates, signer->public_key(), signer->key_ref()));
  x509::Certificate certificate = certificates.front();
  certificates.erase(certificates.begin());
  return pades::Credentials{std::move(signer), std::move(certificate), std::move(certificates)};
}

Result<KeyMaterial> LoadKeyMaterial(const PdfSigningJob& job, std::vector<std::string>& warnings) {
  std::optional<crypto::PrivateKey> key;
  std::vector<x509::Certificate> certificates;
  std::string key_source;
  if (job.pkcs12_file) {
    key_source = *job.pkcs12_file;
    KYSO_ASSIGN_OR_RETURN(Bytes der, ReadFile(*job.pkcs12_file, 1 << 20));
    KYSO_ASSIGN_OR_RETURN(std::string pass,
                          crypto::ReadPassphrase(job.key_passphrase, "PKCS#12 passphrase: "));
    auto contents = crypto::PrivateKey::FromPkcs12(der, pass);
    if (!contents.ok()) return contents.status().WithContext(*job.pkcs12_file);
    for (const auto& c : contents->certificates) {
      KYSO_ASSIGN_OR_RETURN(auto cert, x509::Certificate::FromDer(c));
      certificates.push_back(std::move(cert));
    }
    key.emplace(std::move(contents->key));
  } else {
    if (job.key_file && crypto::IsPkcs11Uri(*job.key_file)) {
      return InvalidArgument(
          "signing.key_on_token",
          "a key on a token stays there: sign with kyso sign pdf --key " + *job.key_file);
    }
    if (!job.key_file || !job.certificate_file) {
      return InvalidArgument("signing.no_credentials", "give --key and --cert, or --p12");
    }
    key_source = *job.key_file;
    KYSO_ASSIGN_OR_RETURN(std::string pem, ReadTextFile(*job.key_file, 1 << 20));
    if (pem.find("ENCRYPTED PRIVATE KEY") != std::string::npos) {
      KYSO_ASSIGN_OR_RETURN(std::string pass,
                            crypto::ReadPassphrase(job.key_passphrase, "Key passphrase: "));
      auto loaded = crypto::PrivateKey::FromEncryptedPkcs8Pem(pem, pass);
      if (!loaded.ok()) return loaded.status().WithContext(*job.key_file);
      key.emplace(std::move(loaded).value());
    } else {
      auto loaded = crypto::PrivateKey::FromPem(pem);
      if (!loaded.ok()) return loaded.status().WithContext(*job.key_file);
      key.emplace(std::move(loaded).value());
      warnings.push_back("the private key " + *job.key_file +
                         " is not encrypted; protect it with a passphrase (PKCS#8)");
    }
    KYSO_ASSIGN_OR_RETURN(certificates, ReadCertificates(*job.certificate_file));
  }
  if (job.chain_file) {
    KYSO_ASSIGN_OR_RETURN(auto chain, ReadCertificates(*job.chain_file));
    certificates.insert(certificates.end(), chain.begin(), chain.end());
  }
  KYSO_RETURN_IF_ERROR(SignerCertificateFirst(certificates, key->public_key(), key_source));
  return KeyMaterial{std::move(*key), std::move(certificates)};
}

namespace {

pades::Credentials ToCredentials(KeyMaterial material, const std::string& key_ref) {
  auto signer = std::make_shared<crypto::SoftwareSigner>(std::move(material.key), key_ref);
  x509::Certificate certificate = material.certificates.front();
  material.certificates.erase(material.certificates.begin());
  return pades::Credentials{std::move(signer), std::move(certificate),
                            std::move(material.certificates)};
}

constexpr const char* kSigningKeyIndex = "signing_keys";

std::string SigningKeySetting(const std::string& id) {
  return "signing_key:" + id;
}

}  // namespace

Result<pades::Credentials> LoadJobCredentials(const PdfSigningJob& job,
                                              std::vector<std::string>& warnings) {
  if (job.key_file && !job.pkcs12_file && crypto::IsPkcs11Uri(*job.key_file)) {
    return LoadTokenCredentials(job);
  }
  KYSO_ASSIGN_OR_RETURN(KeyMaterial material, LoadKeyMaterial(job, warnings));
  return ToCredentials(std::move(material), job.pkcs12_file ? "pkcs12:" + *job.pkcs12_file
                                                            : "file:" + job.key_file.value_or(""));
}

Result<PdfSigningResult> SignPdfFile(Instance* instance, PdfSigningJob job) {
  PdfSigningResult result;
  KYSO_ASSIGN_OR_RETURN(pades::Credentials credentials, LoadJobCredentials(job, result.warnings));
  const Clock& clock = instance ? instance->clock() : SystemClockForSigning();
  job.options.signing_time = clock.Now();
  result.signing_time = job.options.signing_time;
  result.signer = credentials.certificate.subject().ToRfc4514();

  if (job.image_file) {
    KYSO_ASSIGN_OR_RETURN(Bytes png, ReadFile(*job.image_file, 32 << 20));
    auto image = appearance::PrepareImage(png);
    if (!image.ok()) return image.status().WithContext(*job.image_file);
    job.visible.image = std::move(image).value();
  }
  bool needs_font = job.visible.kind == pades::Kind::kCopy ||
                    job.visible.kind == pades::Kind::kAppendix || job.visible.show_info ||
                    !job.visible.text.empty() ||
                    (job.visible.kind == pades::Kind::kApproved && !job.visible.image);
  if (needs_font) {
    std::string path = job.font_file.value_or(appearance::kDefaultFontPath);
    if (!job.font_file && !FileExists(path)) path = appearance::kFallbackFontPath;
    KYSO_ASSIGN_OR_RETURN(job.visible.font, appearance::Font::Load(path));
  }

  auto document = pdf::Document::Open(job.input);
  if (!document.ok()) return document.status().WithContext(job.input);
  KYSO_RETURN_IF_ERROR(
      pades::PlanVisibleSignature(*document, credentials.certificate, job.visible, job.options));

  std::unique_ptr<LocalValidationServices> services;
  if (job.options.level != pades::Level::kBB) {
    services = std::make_unique<LocalValidationServices>(instance, job.tsa_url);
    job.options.services = services.get();
  }
  KYSO_ASSIGN_OR_RETURN(result.outcome,
                        pades::SignPdf(*document, credentials, job.options, job.output));
  return result;
}

// The store record of `owner` for key `id`: the body exists, each account exists and belongs
// to the body or a body below it.
Result<store::SigningKeyAccess> SigningKeys::ResolveOwner(const std::string& id,
                                                          const SigningKeyOwner& owner) {
  store::SigningKeyAccess access;
  KYSO_ASSIGN_OR_RETURN(auto tx, instance_->db().Begin(store::TransactionMode::kRead));
  KYSO_ASSIGN_OR_RETURN(store::OrganizationRecord body, tx->GetOrganization(owner.organization_id));
  access.key_id = id;
  access.organization_id = body.id;
  access.created_by = DefaultActor();
  access.created_at = instance_->clock().Now();
  for (const std::string& name : owner.accounts) {
    KYSO_ASSIGN_OR_RETURN(std::string username, ra::NormalizeUsername(name));
    auto account = tx->GetAccountByUsername(username);
    if (!account.ok()) return NotFound("store.not_found", "no account named \"" + username + "\"");
    std::string path;
    if (account->organization_id) {
      KYSO_ASSIGN_OR_RETURN(auto home, tx->GetOrganization(*account->organization_id));
      path = home.path;
    }
    if (!ra::InSubtree(path, body.path)) {
      return InvalidArgument(
          "signing_key.account_outside_body",
          "account " + username + " does not belong to " + body.name + " or a body below it");
    }
    access.account_ids.push_back(account->id);
  }
  return access;
}

Status SigningKeys::SetOwner(const std::string& id, const SigningKeyOwner& owner) {
  KYSO_ASSIGN_OR_RETURN(store::SigningKeyAccess access, ResolveOwner(id, owner));
  std::lock_guard lock(mu_);
  KYSO_ASSIGN_OR_RETURN(auto tx, instance_->db().Begin(store::TransactionMode::kWrite));
  KYSO_ASSIGN_OR_RETURN(auto key, tx->GetSetting(SigningKeySetting(id)));
  if (!key) return NotFound("signing_key.not_found", "no signing key '" + id + "'");
  KYSO_ASSIGN_OR_RETURN(auto existing, tx->GetSigningKeyAccess(id));
  if (existing) {
    return AlreadyExists("signing_key.has_owner", "signing key '" + id +
                                                      "' already belongs to body " +
                                                      std::to_string(existing->organization_id));
  }
  KYSO_RETURN_IF_ERROR(tx->InsertSigningKeyAccess(access));
  nlohmann::json details = {{"organization_id", access.organization_id},
                            {"accounts", access.account_ids}};
  KYSO_RETURN_IF_ERROR(instance_->audit_log()
                           .Append(*tx, DefaultActor(), "signing_key.allow", id, details.dump())
                           .status());
  return tx->Commit();
}

Status SigningKeys::Add(const std::string& id, const KeyMaterial& material,
                        const std::optional<SigningKeyOwner>& owner) {
  bool valid = !id.empty() && id.size() <= 64;
  for (char c : id) {
    valid = valid && (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_');
  }
  if (!valid) {
    return InvalidArgument("signing_key.invalid_id",
                           "a signing key id is 1-64 letters, digits, '-' or '_'");
  }
  if (material.certificates.empty() ||
      !material.certificates.front().public_key().Equals(material.key.public_key())) {
    return InvalidArgument("signing_key.key_mismatch",
                           "the first certificate does not hold the key");
  }
  std::lock_guard lock(mu_);
  {
    KYSO_ASSIGN_OR_RETURN(auto tx, instance_->db().Begin(store::TransactionMode::kRead));
    KYSO_ASSIGN_OR_RETURN(auto existing, tx->GetSetting(SigningKeySetting(id)));
    if (existing) {
      return AlreadyExists("signing_key.exists", "a signing key '" + id + "' already exists");
    }
  }
  // The owner and its accounts are checked before anything is written.
  store::SigningKeyAccess access;
  if (owner) {
    KYSO_ASSIGN_OR_RETURN(access, ResolveOwner(id, *owner));
  }
  // The key file first: a crash before the commit leaves an unreferenced encrypted file.
  KYSO_ASSIGN_OR_RETURN(std::string key_ref, instance_->keys().Save("sign-" + id, material.key));
  nlohmann::json record = {{"key_ref", key_ref}, {"certificates", nlohmann::json::array()}};
  for (const auto& c : material.certificates) record["certificates"].push_back(c.ToPem());
  KYSO_ASSIGN_OR_RETURN(auto tx, instance_->db().Begin(store::TransactionMode::kWrite));
  KYSO_ASSIGN_OR_RETURN(auto index_text, tx->GetSetting(kSigningKeyIndex));
  nlohmann::json index =
      index_text ? nlohmann::json::parse(*index_text, nullptr, false) : nlohmann::json::array();
  if (!index.is_array()) index = nlohmann::json::array();
  index.push_back(id);
  KYSO_RETURN_IF_ERROR(tx->PutSetting(SigningKeySetting(id), record.dump()));
  KYSO_RETURN_IF_ERROR(tx->PutSetting(kSigningKeyIndex, index.dump()));
  nlohmann::json details = {{"id", id},
                            {"key_ref", key_ref},
                            {"subject", material.certificates.front().subject().ToRfc4514()},
                            {"serial", material.certificates.front().serial_hex()}};
  if (owner) {
    KYSO_RETURN_IF_ERROR(tx->InsertSigningKeyAccess(access));
    details["organization_id"] = access.organization_id;
    details["accounts"] = access.account_ids;
  }
  KYSO_ASSIGN_OR_RETURN(
      auto entry,
      instance_->audit_log().Append(*tx, DefaultActor(), "signing_key.add", id, details.dump()));
  (void)entry;
  return tx->Commit();
}

Result<std::vector<std::string>> SigningKeys::List() {
  KYSO_ASSIGN_OR_RETURN(auto tx, instance_->db().Begin(store::TransactionMode::kRead));
  KYSO_ASSIGN_OR_RETURN(auto index_text, tx->GetSetting(kSigningKeyIndex));
  std::vector<std::string> ids;
  if (!index_text) return ids;
  auto index = nlohmann::json::parse(*index_text, nullptr, false);
  if (!index.is_array())
    return DataLoss("signing_key.corrupt", "the signing key index is not a list");
  for (const auto& id : index) {
    if (id.is_string()) ids.push_back(id.get<std::string>());
  }
  return ids;
}

Result<std::vector<SigningKeyInfo>> SigningKeys::Describe(std::optional<int64_t> account_id) {
  std::vector<SigningKeyInfo> out;
  KYSO_ASSIGN_OR_RETURN(auto tx, instance_->db().Begin(store::TransactionMode::kRead));
  std::vector<std::string> ids;
  std::map<std::string, store::SigningKeyAccess> owners;
  KYSO_ASSIGN_OR_RETURN(auto accesses, tx->ListSigningKeyAccess(account_id));
  for (auto& a : accesses) owners.emplace(a.key_id, std::move(a));
  if (account_id) {
    for (const auto& [key, a] : owners) ids.push_back(key);
  } else {
    tx.reset();
    KYSO_ASSIGN_OR_RETURN(ids, List());
    KYSO_ASSIGN_OR_RETURN(tx, instance_->db().Begin(store::TransactionMode::kRead));
  }
  for (const std::string& id : ids) {
    SigningKeyInfo info;
    info.id = id;
    KYSO_ASSIGN_OR_RETURN(auto text, tx->GetSetting(SigningKeySetting(id)));
    if (!text) continue;  // an owner row without its key: nothing to sign with
    auto record = nlohmann::json::parse(*text, nullptr, false);
    if (record.is_object() && record["certificates"].is_array() &&
        !record["certificates"].empty() && record["certificates"][0].is_string()) {
      auto cert = x509::Certificate::FromPem(record["certificates"][0].get<std::string>());
      if (cert.ok()) {
        info.subject = cert->subject().ToRfc4514();
        info.serial_hex = cert->serial_hex();
        info.not_after = cert->not_after();
      }
    }
    if (auto it = owners.find(id); it != owners.end()) {
      info.organization_id = it->second.organization_id;
      KYSO_ASSIGN_OR_RETURN(auto body, tx->GetOrganization(it->second.organization_id));
      info.organization_name = body.name;
      info.organization_path = body.path;
      for (int64_t account : it->second.account_ids) {
        KYSO_ASSIGN_OR_RETURN(auto a, tx->GetAccount(account));
        info.accounts.push_back(a.username);
      }
    }
    out.push_back(std::move(info));
  }
  return out;
}

Result<pades::Credentials> SigningKeys::Authorize(const ra::Principal& caller,
                                                  const std::string& id) {
  Status refusal = Status::Ok();
  {
    KYSO_ASSIGN_OR_RETURN(auto tx, instance_->db().Begin(store::TransactionMode::kRead));
    KYSO_ASSIGN_OR_RETURN(auto key, tx->GetSetting(SigningKeySetting(id)));
    KYSO_ASSIGN_OR_RETURN(auto access, tx->GetSigningKeyAccess(id));
    if (!key) {
      refusal = NotFound("signing_key.not_found", "no signing key '" + id + "'");
    } else if (!access) {
      refusal = PermissionDenied("sign.key_not_authorized",
                                 "signing key '" + id +
                                     "' has no owner body, so no account may use it "
                                     "(kyso sign key add --body --allow)");
    } else if (std::find(access->account_ids.begin(), access->account_ids.end(),
                         caller.account_id) == access->account_ids.end() ||
               !ra::InSubtree(caller.organization_path, access->organization_path)) {
      refusal =
          PermissionDenied("sign.key_not_authorized",
                           "account " + caller.username +
                               " is not authorized by the body owning signing key '" + id + "'");
    }
  }
  if (!refusal.ok()) {
    KYSO_RETURN_IF_ERROR(RecordUse(
        caller, id, "sign.refused",
        nlohmann::json{{"error", refusal.id()}, {"auth_method", caller.auth_method}}.dump()));
    return refusal;
  }
  return Get(id);
}

Status SigningKeys::RecordUse(const ra::Principal& caller, const std::string& id,
                              const std::string& action, const std::string& details_json) {
  KYSO_ASSIGN_OR_RETURN(auto tx, instance_->db().Begin(store::TransactionMode::kWrite));
  KYSO_RETURN_IF_ERROR(instance_->audit_log()
                           .Append(*tx, caller.Actor(), action, "signing_key/" + id, details_json)
                           .status());
  return tx->Commit();
}

Result<pades::Credentials> SigningKeys::Get(const std::string& id) {
  std::lock_guard lock(mu_);
  if (auto it = cache_.find(id); it != cache_.end()) return it->second;
  std::optional<std::string> text;
  {
    KYSO_ASSIGN_OR_RETURN(auto tx, instance_->db().Begin(store::TransactionMode::kRead));
    KYSO_ASSIGN_OR_RETURN(text, tx->GetSetting(SigningKeySetting(id)));
  }
  if (!text) return NotFound("signing_key.not_found", "no signing key '" + id + "'");
  auto record = nlohmann::json::parse(*text, nullptr, false);
  if (!record.is_object() || !record["key_ref"].is_string() || !record["certificates"].is_array() ||
      record["certificates"].empty()) {
    return DataLoss("signing_key.corrupt", "the record of signing key '" + id + "' is damaged");
  }
  KYSO_ASSIGN_OR_RETURN(auto signer, instance_->keys().Load(record["key_ref"].get<std::string>()));
  std::vector<x509::Certificate> certs;
  for (const auto& pem : record["certificates"]) {
    KYSO_ASSIGN_OR_RETURN(auto cert, x509::Certificate::FromPem(pem.get<std::string>()));
    certs.push_back(std::move(cert));
  }
  x509::Certificate own = certs.front();
  certs.erase(certs.begin());
  pades::Credentials credentials{std::move(signer), std::move(own), std::move(certs)};
  cache_.emplace(id, credentials);
  return credentials;
}

}  // namespace kyso::app
