// `kyso sign pdf`: PAdES signatures with the appearances of Nghị định 30/2020.
// `kyso sign xml`: XAdES signatures (ETSI EN 319 132-1) for e-tax and e-insurance declarations.
#include <cmath>
#include <sstream>

#include "app/signing.h"
#include "base/files.h"
#include "cli/common.h"
#include "xades/xades.h"

namespace kyso::cli {

namespace {

using nlohmann::ordered_json;

// The key and certificates of a signer: PKCS#8 + PEM, PKCS#12, or a key on a token.
struct CredentialArgs {
  std::string key, cert, chain, p12, key_passphrase_file, pin_file;

  void AddTo(CLI::App* cmd) {
    cmd->add_option("--key", key,
                    "Private key, PKCS#8 PEM (encrypted), or a key on a token as a PKCS#11 URI "
                    "(pkcs11:token=...;object=...?module-path=...)");
    cmd->add_option("--cert", cert, "Signer certificate PEM (may be followed by its chain)");
    cmd->add_option("--chain", chain, "Issuer certificates PEM");
    cmd->add_option("--p12", p12, "PKCS#12 file instead of --key/--cert");
    cmd->add_option("--key-passphrase-file", key_passphrase_file,
                    "File holding the key or PKCS#12 passphrase (else a prompt)");
    cmd->add_option("--pin-file", pin_file,
                    "File holding the token's user PIN (else the URI's pin-source, "
                    "KYSO_PIN_FILE or a prompt)");
  }
  void Fill(app::PdfSigningJob& job, bool allow_prompt) const {
    if (!key.empty()) job.key_file = key;
    if (!cert.empty()) job.certificate_file = cert;
    if (!chain.empty()) job.chain_file = chain;
    if (!p12.empty()) job.pkcs12_file = p12;
    if (!key_passphrase_file.empty()) job.key_passphrase.file = key_passphrase_file;
    job.key_passphrase.allow_prompt = allow_prompt;
    if (!pin_file.empty()) job.pin.file = pin_file;
    job.pin.allow_prompt = allow_prompt;
  }
};

}  // namespace

void AddSigningKeys(CLI::App& sign, Globals& g, int& rc) {
  auto* key = sign.add_subcommand("key", "Keys the server signs documents with for callers");
  key->require_subcommand(1);
  struct Args {
    std::string id;
    CredentialArgs credentials;
    int64_t body = 0;
    std::vector<std::string> allow;
  };
  auto a = std::make_shared<Args>();
  auto* add = key->add_subcommand(
      "add", "Store a signing key (re-encrypted with the instance passphrase) and its chain");
  add->add_option("--id", a->id, "Key id callers name (letters, digits, - and _)")->required();
  a->credentials.AddTo(add);
  auto* body_opt = add->add_option(
      "--body", a->body,
      "Registered body (id) the key belongs to; without it no account may use the key over the "
      "API");
  add->add_option("--allow", a->allow,
                  "Account the body authorizes to sign with the key (its clerk); repeatable")
      ->needs(body_opt);
  add->callback([&g, &rc, a]() {
    app::PdfSigningJob job;
    a->credentials.Fill(job, !g.json);
    rc = WithInstance(g, true, [&](app::Instance& inst) -> Status {
      std::vector<std::string> warnings;
      KYSO_ASSIGN_OR_RETURN(app::KeyMaterial material, app::LoadKeyMaterial(job, warnings));
      app::SigningKeys keys(&inst);
      std::string subject = material.certificates.front().subject().ToRfc4514();
      std::optional<app::SigningKeyOwner> owner;
      if (a->body > 0) owner = app::SigningKeyOwner{a->body, a->allow};
      KYSO_RETURN_IF_ERROR(keys.Add(a->id, material, owner));
      if (g.json) {
        ordered_json j = {{"id", a->id}, {"subject", subject}};
        if (owner) {
          j["organization_id"] = owner->organization_id;
          j["accounts"] = owner->accounts;
        }
        PrintJson(j);
      } else {
        std::cerr << "signing key " << a->id << " added for " << subject;
        if (owner) {
          std::cerr << "; body " << owner->organization_id << ", usable by "
                    << (owner->accounts.empty() ? std::string("no account yet") : "");
          for (size_t i = 0; i < owner->accounts.size(); ++i) {
            std::cerr << (i ? ", " : "") << owner->accounts[i];
          }
        } else {
          std::cerr << "; no owner body: not usable over the API";
        }
        std::cerr << "\n";
      }
      return Status::Ok();
    });
  });
  auto* allow = key->add_subcommand(
      "allow", "Give a key added without --body its owner body and the accounts it authorizes");
  allow->add_option("--id", a->id, "Key id")->required();
  allow->add_option("--body", a->body, "Registered body (id) the key belongs to")->required();
  allow->add_option("--allow", a->allow, "Account the body authorizes (its clerk); repeatable");
  allow->callback([&g, &rc, a]() {
    rc = WithInstance(g, true, [&](app::Instance& inst) -> Status {
      app::SigningKeys keys(&inst);
      KYSO_RETURN_IF_ERROR(keys.SetOwner(a->id, {a->body, a->allow}));
      if (g.json) {
        PrintJson({{"id", a->id}, {"organization_id", a->body}, {"accounts", a->allow}});
      } else {
        std::cerr << "signing key " << a->id << " belongs to body " << a->body << "\n";
      }
      return Status::Ok();
    });
  });
  key->add_subcommand("list", "List the signing keys")->callback([&g, &rc]() {
    rc = WithInstance(g, false, [&](app::Instance& inst) -> Status {
      app::SigningKeys keys(&inst);
      KYSO_ASSIGN_OR_RETURN(auto infos, keys.Describe());
      ordered_json list = ordered_json::array();
      for (const auto& k : infos) {
        ordered_json j = {{"id", k.id},
                          {"subject", k.subject},
                          {"not_after", k.not_after},
                          {"organization_id", k.organization_id ? ordered_json(*k.organization_id)
                                                                : ordered_json(nullptr)},
                          {"organization_name", k.organization_name},
                          {"accounts", k.accounts}};
        if (g.json) {
          list.push_back(j);
        } else {
          std::string accounts;
          for (const auto& name : k.accounts) accounts += (accounts.empty() ? "" : ",") + name;
          std::cout << k.id << "\t" << k.subject << "\t"
                    << (k.organization_id ? k.organization_name : "(no owner body)") << "\t"
                    << (accounts.empty() ? "-" : accounts) << "\n";
        }
      }
      if (g.json) PrintJson(list);
      return Status::Ok();
    });
  });
}

void AddSignXml(CLI::App& sign, Globals& g, int& rc) {
  auto* cmd = sign.add_subcommand(
      "xml",
      "Sign an XML document (XAdES B-B/B-T: enveloped, as e-tax declarations, or enveloping)");
  struct Args {
    std::string input, output, packaging = "enveloped", level = "B-B", element_id, parent;
    std::string digest = "sha256", tsa, role;
    CredentialArgs credentials;
    bool pss = false, role_from_title = false;
  };
  auto a = std::make_shared<Args>();
  cmd->add_option("input", a->input, "XML document to sign")->required();
  cmd->add_option("output", a->output, "Signed XML to write (atomically)")->required();
  a->credentials.AddTo(cmd);
  cmd->add_option("--packaging", a->packaging, "enveloped (default) or enveloping");
  cmd->add_option("--level", a->level, "B-B (default) or B-T");
  cmd->add_option("--element-id", a->element_id,
                  "Sign only the element with this Id (e.g. the declaration body)");
  cmd->add_option("--parent", a->parent,
                  "Enveloped: put the Signature in the first element with this name (default: "
                  "the root)");
  cmd->add_option("--tsa", a->tsa, "RFC 3161 TSA URL for B-T (default: this instance's TSA)");
  cmd->add_option("--digest", a->digest, "sha256 (default), sha384 or sha512");
  cmd->add_flag("--pss", a->pss, "RSASSA-PSS instead of PKCS#1 v1.5 for RSA keys");
  cmd->add_option("--role", a->role, "SignerRoleV2 claimed role (e.g. Giám đốc)");
  cmd->add_flag("--role-from-title", a->role_from_title,
                "SignerRoleV2 claimed role from the certificate's title attribute");
  cmd->callback([&g, &rc, a]() {
    Status status = [&]() -> Status {
      xades::SignOptions options;
      KYSO_ASSIGN_OR_RETURN(options.packaging, xades::ParsePackaging(a->packaging));
      KYSO_ASSIGN_OR_RETURN(options.level, xades::ParseLevel(a->level));
      KYSO_ASSIGN_OR_RETURN(options.digest, crypto::ParseDigest(a->digest));
      options.rsa_padding = a->pss ? crypto::RsaPadding::kPss : crypto::RsaPadding::kPkcs1v15;
      options.element_id = a->element_id;
      options.parent_element = a->parent;
      options.signing_time = app::SystemClockForSigning().Now();
      app::PdfSigningJob job;
      a->credentials.Fill(job, !g.json);
      std::vector<std::string> warnings;
      KYSO_ASSIGN_OR_RETURN(app::KeyMaterial material, app::LoadKeyMaterial(job, warnings));
      for (const auto& w : warnings) std::fprintf(stderr, "kyso: warning: %s\n", w.c_str());
      xades::SignerCredentials credentials{
          std::make_shared<crypto::SoftwareSigner>(std::move(material.key), "file"),
          material.certificates.front(),
          {material.certificates.begin() + 1, material.certificates.end()}};
      options.claimed_role =
          a->role_from_title ? credentials.certificate.subject().First("title") : a->role;
      // B-T: the instance answers for its own TSA in-process; --tsa goes over HTTP.
      std::unique_ptr<app::Instance> instance;
      if (options.level == xades::Level::kBT && a->tsa.empty() &&
          FileExists(g.data_dir + "/kyso.json")) {
        KYSO_ASSIGN_OR_RETURN(instance, app::Instance::Open(g.data_dir, MakeOpenOptions(g)));
      }
      std::optional<std::string> tsa_url;
      if (!a->tsa.empty()) tsa_url = a->tsa;
      app::LocalValidationServices services(instance.get(), tsa_url);
      if (options.level == xades::Level::kBT && (instance || tsa_url)) {
        options.time_stamp = [&services](ByteSpan request) { return services.TimeStamp(request); };
      }
      KYSO_ASSIGN_OR_RETURN(Bytes input, ReadFile(a->input, size_t{256} << 20));
      KYSO_ASSIGN_OR_RETURN(Bytes signed_xml, xades::SignXml(input, credentials, options));
      KYSO_RETURN_IF_ERROR(WriteFileAtomic(a->output, signed_xml));
      if (g.json) {
        PrintJson({{"output", a->output},
                   {"level", "XAdES-" + a->level},
                   {"packaging", a->packaging},
                   {"signer", credentials.certificate.subject().ToRfc4514()},
                   {"signing_time", options.signing_time},
                   {"output_bytes", signed_xml.size()}});
      } else {
        std::fprintf(stderr, "signed %s -> %s (XAdES %s, %s)\n", a->input.c_str(),
                     a->output.c_str(), a->level.c_str(), a->packaging.c_str());
      }
      return Status::Ok();
    }();
    rc = status.ok() ? 0 : ReportError(g, status);
  });
}

// ETSI EN 319 122-1 §4 (CAdES-B-B): a detached signature over any file (a contract, .docx,
// .xlsx, .zip), with signing-certificate-v2 and signing time, the signer's chain included.
void AddSignFile(CLI::App& sign, Globals& g, int& rc) {
  auto* cmd =
      sign.add_subcommand("file", "Sign any file: a detached CAdES B-B signature (.p7s) beside it");
  struct Args {
    std::string input, output;
    CredentialArgs credentials;
  };
  auto a = std::make_shared<Args>();
  cmd->add_option("input", a->input, "File to sign")->required();
  cmd->add_option("output", a->output, "Signature to write (default: INPUT.p7s), atomically");
  a->credentials.AddTo(cmd);
  cmd->callback([&g, &rc, a]() {
    Status status = [&]() -> Status {
      app::PdfSigningJob job;
      a->credentials.Fill(job, !g.json);
      std::vector<std::string> warnings;
      KYSO_ASSIGN_OR_RETURN(pades::Credentials credentials, app::LoadJobCredentials(job, warnings));
      for (const auto& w : warnings) std::fprintf(stderr, "kyso: warning: %s\n", w.c_str());
      KYSO_ASSIGN_OR_RETURN(Bytes content, ReadFile(a->input, size_t{1} << 31));
      const UnixSeconds signing_time = app::SystemClockForSigning().Now();
      KYSO_ASSIGN_OR_RETURN(Bytes der,
                            pades::SignDetachedCades(credentials, content, signing_time));
      const std::string output = a->output.empty() ? a->input + ".p7s" : a->output;
      KYSO_RETURN_IF_ERROR(WriteFileAtomic(output, der));
      if (g.json) {
        PrintJson({{"output", output},
                   {"level", "CAdES-B-B"},
                   {"signer", credentials.certificate.subject().ToRfc4514()},
                   {"signing_time", signing_time},
                   {"content_bytes", content.size()},
                   {"output_bytes", der.size()}});
      } else {
        std::fprintf(stderr, "signed %s -> %s (CAdES B-B, detached)\n", a->input.c_str(),
                     output.c_str());
      }
      return Status::Ok();
    }();
    rc = status.ok() ? 0 : ReportError(g, status);
  });
}

void AddSign(CLI::App& app, Globals& g, int& rc) {
  auto* sign = app.add_subcommand("sign", "Sign documents");
  sign->require_subcommand(1);
  AddSigningKeys(*sign, g, rc);
  AddSignXml(*sign, g, rc);
  AddSignFile(*sign, g, rc);
  auto* pdf_cmd = sign->add_subcommand(
      "pdf", "Sign a PDF (PAdES B-B/B-T/B-LT/B-LTA) with a Nghị định 30 appearance");

  struct Args {
    std::string input, output, kind = "approved", level = "B-B", unit = "pt", rect, field;
    CredentialArgs credentials;
    std::string image, font, tsa;
    std::string reason, location, contact, name, copy_type = "SAO Y", doc_number;
    std::string digest = "sha256", lock;
    std::vector<std::string> text;
    int page = 1, certify = 0;
    double seal_mm = 36, font_size = 10;
    bool show_info = false, pss = false, no_fsync = false;
  };
  auto a = std::make_shared<Args>();
  pdf_cmd->add_option("input", a->input, "PDF to sign")->required();
  pdf_cmd->add_option("output", a->output, "Signed PDF to write (atomically)")->required();
  pdf_cmd->add_option("--kind", a->kind,
                      "approved | issued | copy | appendix | initials | invisible");
  a->credentials.AddTo(pdf_cmd);
  pdf_cmd->add_option("--image", a->image, "PNG: signature, seal or initials image");
  pdf_cmd->add_option("--page", a->page, "Page number (1-based)");
  pdf_cmd->add_option("--rect", a->rect, "x,y,width,height from the page's lower left corner");
  pdf_cmd->add_option("--unit", a->unit, "Unit of --rect: pt (default) or mm")
      ->check(CLI::IsMember({"pt", "mm"}));
  pdf_cmd->add_option("--field", a->field, "Sign into this empty signature field");
  pdf_cmd->add_option("--level", a->level, "B-B (default), B-T, B-LT or B-LTA");
  pdf_cmd->add_option("--tsa", a->tsa, "RFC 3161 TSA URL (default: this instance's TSA)");
  pdf_cmd->add_option("--reason", a->reason, "/Reason");
  pdf_cmd->add_option("--location", a->location, "/Location");
  pdf_cmd->add_option("--contact", a->contact, "/ContactInfo");
  pdf_cmd->add_option("--name", a->name, "/Name (default: none; the certificate names the signer)");
  pdf_cmd->add_flag("--show-info", a->show_info,
                    "Add the information block (Ký bởi, Cơ quan, Email, Thời gian ký)");
  pdf_cmd->add_option("--text", a->text, "A line of text to show (repeat for more lines)");
  pdf_cmd->add_option("--copy-type", a->copy_type, "copy: the copy type line (default SAO Y)");
  pdf_cmd->add_option("--doc-number", a->doc_number,
                      "appendix: the document number and code, e.g. 'Số: 123/SKHCN-VP'");
  pdf_cmd->add_option("--seal-mm", a->seal_mm, "issued: the seal's real diameter in mm (36)");
  pdf_cmd->add_option("--font", a->font, "TrueType font for text (default Liberation Serif)");
  pdf_cmd->add_option("--font-size", a->font_size, "Text size in points (10)");
  pdf_cmd->add_option("--certify", a->certify,
                      "Certification signature with DocMDP permissions 1, 2 or 3");
  pdf_cmd->add_option("--lock", a->lock,
                      "FieldMDP: lock 'all' fields or a comma-separated list when signed");
  pdf_cmd->add_option("--digest", a->digest, "sha256 (default), sha384 or sha512");
  pdf_cmd->add_flag("--pss", a->pss, "RSASSA-PSS instead of PKCS#1 v1.5 for RSA keys");
  pdf_cmd->add_flag("--no-fsync", a->no_fsync, "Do not fsync the output (batch jobs)");

  pdf_cmd->callback([&g, &rc, a]() {
    auto fail = [&](const Status& st) { rc = ReportError(g, st); };
    app::PdfSigningJob job;
    job.input = a->input;
    job.output = a->output;
    auto kind = pades::ParseKind(a->kind);
    if (!kind.ok()) return fail(kind.status());
    job.visible.kind = *kind;
    auto level = pades::ParseLevel(a->level);
    if (!level.ok()) return fail(level.status());
    job.options.level = *level;
    auto digest = crypto::ParseDigest(a->digest);
    if (!digest.ok()) return fail(digest.status());
    job.options.digest = *digest;
    job.options.rsa_padding = a->pss ? crypto::RsaPadding::kPss : crypto::RsaPadding::kPkcs1v15;
    job.options.durable = !a->no_fsync;
    a->credentials.Fill(job, !g.json);
    if (!a->image.empty()) job.image_file = a->image;
    if (!a->font.empty()) job.font_file = a->font;
    if (!a->tsa.empty()) job.tsa_url = a->tsa;
    job.visible.page = a->page;
    if (!a->rect.empty()) {
      auto rect = pades::ParseRectangle(a->rect, a->unit == "mm");
      if (!rect.ok()) return fail(rect.status());
      job.visible.rect = *rect;
    }
    if (!a->field.empty()) job.visible.field = a->field;
    job.visible.show_info = a->show_info;
    job.visible.text = a->text;
    job.visible.copy_type = a->copy_type;
    job.visible.document_number = a->doc_number;
    job.visible.seal_size_mm = a->seal_mm;
    job.visible.font_size = a->font_size;
    if (!a->reason.empty()) job.options.spec.reason = a->reason;
    if (!a->location.empty()) job.options.spec.location = a->location;
    if (!a->contact.empty()) job.options.spec.contact_info = a->contact;
    if (!a->name.empty()) job.options.spec.name = a->name;
    if (a->certify != 0) job.options.spec.docmdp_permissions = a->certify;
    if (!a->lock.empty()) {
      pdf::FieldLock lock;
      if (a->lock == "all") {
        lock.action = pdf::FieldLock::Action::kAll;
      } else {
        lock.action = pdf::FieldLock::Action::kInclude;
        std::stringstream ss(a->lock);
        std::string f;
        while (std::getline(ss, f, ',')) {
          if (!f.empty()) lock.fields.push_back(f);
        }
      }
      job.options.spec.lock = lock;
    }

    // The instance answers for its own TSA, OCSP and CRLs; B-B needs none of it.
    std::unique_ptr<app::Instance> instance;
    if (job.options.level != pades::Level::kBB && FileExists(g.data_dir + "/kyso.json")) {
      auto opened = app::Instance::Open(g.data_dir, MakeOpenOptions(g));
      if (!opened.ok()) return fail(opened.status());
      instance = std::move(opened).value();
    }
    auto result = app::SignPdfFile(instance.get(), std::move(job));
    if (!result.ok()) return fail(result.status());
    for (const auto& w : result->warnings) std::fprintf(stderr, "kyso: warning: %s\n", w.c_str());
    const auto& o = result->outcome;
    if (g.json) {
      ordered_json j = {{"output", a->output},
                        {"field", o.field_name},
                        {"page", o.page},
                        {"rect", {o.rect.llx, o.rect.lly, o.rect.urx, o.rect.ury}},
                        {"level", std::string(pades::LevelName(o.level))},
                        {"kind", std::string(pades::KindName(*kind))},
                        {"signer", result->signer},
                        {"signing_time", result->signing_time},
                        {"cms_bytes", o.cms_size},
                        {"output_bytes", o.output_size},
                        {"revisions_added", o.revisions_added},
                        {"dss",
                         {{"certificates", o.dss_certificates},
                          {"ocsp_responses", o.dss_ocsp_responses},
                          {"crls", o.dss_crls}}}};
      PrintJson(j);
    } else {
      std::fprintf(stderr, "signed %s -> %s (%s, field %s, page %d)\n", a->input.c_str(),
                   a->output.c_str(), std::string(pades::LevelName(o.level)).c_str(),
                   o.field_name.c_str(), o.page);
    }
  });
}

}  // namespace kyso::cli
