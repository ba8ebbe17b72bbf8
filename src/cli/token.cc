// `kyso token`: tokens and HSMs through PKCS#11 (issue 13): what is on them, a key generated
// on one with its CSR, and the issued certificate written back next to its key.
#include "base/files.h"
#include "cli/common.h"
#include "crypto/pkcs11.h"
#include "x509/certificate.h"
#include "x509/csr.h"

namespace kyso::cli {

namespace {

using nlohmann::ordered_json;

// RFC 7468 §7: "CERTIFICATE REQUEST", base64 in lines of 64 characters.
std::string CsrPem(ByteSpan der) {
  std::string b64 = Base64Encode(der);
  std::string pem = "-----BEGIN CERTIFICATE REQUEST-----\n";
  for (size_t i = 0; i < b64.size(); i += 64) pem += b64.substr(i, 64) + "\n";
  return pem + "-----END CERTIFICATE REQUEST-----\n";
}

ordered_json TokenJson(const crypto::Pkcs11TokenInfo& t) {
  return {{"label", t.label},
          {"serial", t.serial},
          {"manufacturer", t.manufacturer},
          {"model", t.model},
          {"login_required", t.login_required},
          {"user_pin_count_low", t.user_pin_count_low},
          {"user_pin_final_try", t.user_pin_final_try},
          {"user_pin_locked", t.user_pin_locked}};
}

crypto::Pkcs11Options Options(const Globals& g, const std::string& pin_file) {
  crypto::Pkcs11Options options;
  if (!pin_file.empty()) options.pin.file = pin_file;
  options.pin.allow_prompt = !g.json;
  return options;
}

struct TokenArgs {
  std::string module, token_uri, key_uri, pin_file, label, key = "ec:P-256", id_hex, subject, csr,
                                                           cert;
  bool objects = false;
};

Status List(const Globals& g, const TokenArgs& a) {
  std::string module = a.module;
  if (module.empty()) {
    if (const char* env = std::getenv("KYSO_PKCS11_MODULE"); env != nullptr) module = env;
  }
  if (module.empty()) {
    return InvalidArgument("pkcs11.module_unspecified",
                           "name the PKCS#11 module: --module PATH or KYSO_PKCS11_MODULE");
  }
  KYSO_ASSIGN_OR_RETURN(auto tokens, crypto::ListPkcs11Tokens(module));
  ordered_json list = ordered_json::array();
  for (const auto& t : tokens) {
    ordered_json j = TokenJson(t);
    if (!g.json) {
      std::cout << t.label << "\tserial " << t.serial << "\t" << t.manufacturer << " / " << t.model
                << (t.user_pin_locked ? "\tPIN LOCKED" : "") << "\n";
    }
    if (a.objects) {
      crypto::Pkcs11Uri uri;
      uri.serial = t.serial;
      uri.module_path = module;
      KYSO_ASSIGN_OR_RETURN(auto token, crypto::Pkcs11Token::Open(uri, Options(g, a.pin_file)));
      KYSO_ASSIGN_OR_RETURN(auto objects, token->Objects());
      ordered_json arr = ordered_json::array();
      for (const auto& o : objects) {
        ordered_json oj = {{"type", o.type}, {"label", o.label}, {"id", HexEncode(o.id)}};
        if (!o.key.empty()) oj["key"] = o.key;
        if (o.type == "private" || o.type == "secret-key") {
          oj["sensitive"] = o.sensitive;
          oj["extractable"] = o.extractable;
        }
        if (!g.json) {
          std::cout << "  " << o.type << "\t" << o.label << "\tid " << HexEncode(o.id)
                    << (o.key.empty() ? "" : "\t" + o.key)
                    << (o.type == "private" && o.sensitive && !o.extractable ? "\tnon-extractable"
                                                                             : "")
                    << "\n";
        }
        arr.push_back(std::move(oj));
      }
      j["objects"] = std::move(arr);
    }
    list.push_back(std::move(j));
  }
  if (g.json) PrintJson(list);
  return Status::Ok();
}

Status Keygen(const Globals& g, const TokenArgs& a) {
  KYSO_ASSIGN_OR_RETURN(crypto::Pkcs11Uri uri, crypto::Pkcs11Uri::Parse(a.token_uri));
  KYSO_ASSIGN_OR_RETURN(crypto::KeySpec spec, crypto::KeySpec::Parse(a.key));
  std::optional<Bytes> id;
  if (!a.id_hex.empty()) {
    id = HexDecode(a.id_hex);
    if (!id || id->empty()) return InvalidArgument("token.bad_id", "--id takes hex digits");
  }
  KYSO_ASSIGN_OR_RETURN(x509::Name subject, x509::Name::ParseSlashed(a.subject));
  KYSO_ASSIGN_OR_RETURN(auto token, crypto::Pkcs11Token::Open(uri, Options(g, a.pin_file)));
  KYSO_ASSIGN_OR_RETURN(auto signer, token->GenerateKey(spec, a.label, id));
  KYSO_ASSIGN_OR_RETURN(Bytes csr, x509::BuildCsr(subject, *signer));
  KYSO_RETURN_IF_ERROR(WriteFileAtomic(a.csr, AsBytes(CsrPem(csr)), 0644));
  if (g.json) {
    PrintJson({{"key", signer->key_ref()},
               {"key_type", spec.ToString()},
               {"fingerprint", signer->public_key().Fingerprint()},
               {"csr", a.csr}});
  } else {
    std::cout << signer->key_ref() << "\n";
    std::cerr << "generated " << spec.ToString() << " on token '" << token->Info().label
              << "' (sensitive, not extractable); CSR -> " << a.csr << "\n";
  }
  return Status::Ok();
}

Status ImportCert(const Globals& g, const TokenArgs& a) {
  KYSO_ASSIGN_OR_RETURN(crypto::Pkcs11Uri uri, crypto::Pkcs11Uri::Parse(a.key_uri));
  KYSO_ASSIGN_OR_RETURN(std::string pem, ReadTextFile(a.cert, 1 << 20));
  KYSO_ASSIGN_OR_RETURN(auto certs, x509::Certificate::AllFromPem(pem));
  KYSO_ASSIGN_OR_RETURN(auto token, crypto::Pkcs11Token::Open(uri, Options(g, a.pin_file)));
  KYSO_ASSIGN_OR_RETURN(auto signer, token->LoadSigner(uri));
  KYSO_ASSIGN_OR_RETURN(crypto::Pkcs11Uri ref, crypto::Pkcs11Uri::Parse(signer->key_ref()));
  const x509::Certificate& cert = certs.front();
  if (!cert.public_key().Equals(signer->public_key())) {
    return InvalidArgument("token.cert_mismatch",
                           "the certificate in " + a.cert + " is not for the key " + a.key_uri);
  }
  std::string label = ref.object.value_or(cert.subject().First("CN"));
  KYSO_RETURN_IF_ERROR(token->ImportCertificate(cert.der(), label, ref.id.value_or(Bytes{})));
  if (g.json) {
    PrintJson({{"key", signer->key_ref()}, {"subject", cert.subject().ToRfc4514()}});
  } else {
    std::cerr << "certificate for " << cert.subject().ToRfc4514() << " written next to "
              << signer->key_ref() << "\n";
  }
  return Status::Ok();
}

}  // namespace

void AddToken(CLI::App& app, Globals& g, int& rc) {
  auto* token = app.add_subcommand("token", "Tokens and HSMs through PKCS#11");
  token->require_subcommand(1);
  auto a = std::make_shared<TokenArgs>();
  auto run = [&g, &rc](Status st) { rc = st.ok() ? 0 : ReportError(g, st); };

  auto* list = token->add_subcommand("list", "The tokens present in a module, and their objects");
  list->add_option("--module", a->module, "PKCS#11 module (default $KYSO_PKCS11_MODULE)");
  list->add_flag("--objects", a->objects, "Also list each token's objects (logs in)");
  list->add_option("--pin-file", a->pin_file, "File holding the user PIN (else a prompt)");
  list->callback([&g, a, run]() { run(List(g, *a)); });

  auto* keygen = token->add_subcommand(
      "keygen", "Generate a key on a token (sensitive, not extractable) and write its CSR");
  keygen->add_option("--token", a->token_uri, "The token: pkcs11:token=...?module-path=...")
      ->required();
  keygen->add_option("--label", a->label, "The key's label (CKA_LABEL)")->required();
  keygen->add_option("--key", a->key, "rsa:2048|rsa:3072|rsa:4096|ec:P-256|ec:P-384");
  keygen->add_option("--id", a->id_hex, "CKA_ID in hex (default: the key identifier)");
  keygen->add_option("--subject", a->subject, "Subject of the CSR: /C=VN/O=.../CN=...")->required();
  keygen->add_option("--csr", a->csr, "Where to write the CSR (PEM)")->required();
  keygen->add_option("--pin-file", a->pin_file, "File holding the user PIN (else a prompt)");
  keygen->callback([&g, a, run]() { run(Keygen(g, *a)); });

  auto* import = token->add_subcommand(
      "import-cert", "Write an issued certificate to the token, next to its key (same id)");
  import->add_option("--key", a->key_uri, "The key: pkcs11:token=...;object=...")->required();
  import->add_option("--cert", a->cert, "The certificate (PEM)")->required();
  import->add_option("--pin-file", a->pin_file, "File holding the user PIN (else a prompt)");
  import->callback([&g, a, run]() { run(ImportCert(g, *a));
});
}  // namespace kyso::cli

}  // namespace kyso::cli
