#include "api/sign/sign_pdf.h"

#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>

#include "api/sign/sign_file.h"
#include "api/sign/signing_upload.h"
#include "appearance/appearance.h"
#include "base/files.h"
#include "http/multipart.h"
#include "pades/visible.h"
#include "pdf/document.h"
#include "x509/pem.h"

namespace kyso::api {

namespace {

using http::Response;

Result<double> ParseNumber(const std::string& name, const std::string& text) {
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(v)) {
    return InvalidArgument("sign.bad_option", name + " is not a number: '" + text + "'");
  }
  return v;
}

// The font is loaded once per process: a signing server needs one.
Result<std::shared_ptr<const appearance::Font>> DefaultFont() {
  static std::once_flag once;
  static std::shared_ptr<const appearance::Font> font;
  static Status error = Status::Ok();
  std::call_once(once, [] {
    std::string path = FileExists(appearance::kDefaultFontPath) ? appearance::kDefaultFontPath
                                                                : appearance::kFallbackFontPath;
    auto loaded = appearance::Font::Load(path);
    if (loaded.ok()) {
      font = std::move(loaded).value();
    } else {
      error = loaded.status();
    }
  });
  if (!font) return error;
  return font;
}

// PAdES (ETSI EN 319 142-1) at the level the form asks, placed and drawn as its fields say.
Result<SignedUpload> SignUploadedPdf(const SigningServices& s, http::Request& request,
                                     const SigningUpload& upload,
                                     const pades::Credentials& credentials) {
  auto field = [&upload](std::string_view name) { return upload.Field(name); };
  pades::VisibleOptions visible;
  visible.kind = pades::Kind::kInvisible;
  if (auto k = field("kind")) {
    KYSO_ASSIGN_OR_RETURN(visible.kind, pades::ParseKind(*k));
  }
  pades::SignOptions options;
  if (auto level = field("level")) {
    KYSO_ASSIGN_OR_RETURN(options.level, pades::ParseLevel(*level));
  }
  if (auto page = field("page")) {
    KYSO_ASSIGN_OR_RETURN(double p, ParseNumber("page", *page));
    visible.page = static_cast<int>(p);
  }
  if (auto rect = field("rect")) {
    KYSO_ASSIGN_OR_RETURN(
        visible.rect,
        pades::ParseRectangle(*rect, field("unit") == std::optional<std::string>("mm")));
  }
  visible.field = field("field");
  visible.show_info = field("show_info") == std::optional<std::string>("true");
  for (const http::MultipartPart* line : upload.PartsNamed("text")) {
    visible.text.emplace_back(AsString(line->data));
  }
  if (auto v = field("copy_type")) visible.copy_type = *v;
  if (auto v = field("doc_number")) visible.document_number = *v;
  if (auto v = field("seal_mm")) {
    KYSO_ASSIGN_OR_RETURN(visible.seal_size_mm, ParseNumber("seal_mm", *v));
  }
  options.spec.reason = field("reason");
  options.spec.location = field("location");
  options.spec.contact_info = field("contact");
  if (auto images = upload.PartsNamed("image"); !images.empty()) {
    KYSO_ASSIGN_OR_RETURN(visible.image, appearance::PrepareImage(images.back()->data));
  }
  if (visible.kind != pades::Kind::kInvisible) {
    KYSO_ASSIGN_OR_RETURN(visible.font, DefaultFont());
  }
  options.signing_time = s.clock->Now();
  options.services = s.validation;
  options.durable = false;  // a scratch file, read back at once

  const ByteSpan uploaded = upload.file->data;
  auto pdf_bytes = std::make_shared<const Bytes>(uploaded.begin(), uploaded.end());
  KYSO_ASSIGN_OR_RETURN(pdf::Document document, pdf::Document::FromBytes(pdf_bytes));
  KYSO_RETURN_IF_ERROR(
      pades::PlanVisibleSignature(document, credentials.certificate, visible, options));
  std::string scratch = s.scratch_dir + "/sign-" + std::to_string(::getpid()) + "-" +
                        std::to_string(reinterpret_cast<uintptr_t>(&request)) + ".pdf";
  auto outcome = pades::SignPdf(document, credentials, options, scratch);
  if (!outcome.ok()) return outcome.status();
  auto signed_pdf = ReadFile(scratch, kSignPdfMaxBody * 2);
  ::unlink(scratch.c_str());
  if (!signed_pdf.ok()) return signed_pdf.status();
  const std::string level(pades::LevelName(outcome->level));
  Response r = Response::Binary(200, "application/pdf", std::string(AsString(*signed_pdf)));
  r.Header("X-Kyso-Signature-Field", outcome->field_name);
  r.Header("X-Kyso-Signature-Page", std::to_string(outcome->page));
  r.Header("X-Kyso-Signature-Level", level);
  return SignedUpload{std::move(r),
                      {.document = uploaded,
                       .field = outcome->field_name,
                       .page = outcome->page,
                       .level = level,
                       .format = SignedFormat::kPades}};
}

}  // namespace

void AddSigningRoutes(http::Router& router, const SigningServices* services) {
  router.Add({"sign_pdf",
              {http::Method::kPost},
              "/api/v1/sign/pdf",
              kSignPdfMaxBody,
              [services](http::Request& r) { return SignPdf(*services, r); }});
  router.Add({"sign_file",
              {http::Method::kPost},
              "/api/v1/sign/file",
              kSignFileMaxBody,
              [services](http::Request& r) { return SignFile(*services, r); }});
  router.Add(
      {"sign_keys", {http::Method::kGet}, "/api/v1/sign/keys", 0, [services](http::Request& r) {
         return ListSigningKeys(*services, r);
       }});
  router.Add({"verify",
              {http::Method::kPost},
              "/api/v1/verify",
              kSignPdfMaxBody,
              [services](http::Request& r) { return Verify(*services, r); }});
}

// "true"/"false" (or absent: false) form fields; anything else is a 400.
Result<bool> FormFlag(const std::map<std::string, std::vector<std::string>>& fields,
                      const std::string& name) {
  auto it = fields.find(name);
  if (it == fields.end()) return false;
  const std::string& value = it->second.back();
  if (value == "true" || value == "1") return true;
  if (value == "false" || value == "0" || value.empty()) return false;
  return InvalidArgument("verify.bad_option", name + " must be true or false");
}

Response Verify(const SigningServices& s, http::Request& request) {
  if (s.clock == nullptr) {
    return Response::Error(503, "verify.unavailable", "verification is not configured");
  }
  auto parts = http::ParseMultipart(request.Header("content-type"), AsBytes(request.body));
  if (!parts.ok()) return Response::FromStatus(parts.status());
  const http::MultipartPart* file = nullptr;
  const http::MultipartPart* content = nullptr;
  verify::VerifyOptions options;
  // Text fields by name; `policy` may repeat.
  std::map<std::string, std::vector<std::string>> fields;
  for (const auto& part : *parts) {
    if (part.name == "file") {
      file = &part;
    } else if (part.name == "content") {
      content = &part;
    } else if (part.name == "crl" || part.name == "ocsp" || part.name == "untrusted") {
      // Revocation data and intermediates, PEM or DER; an unreadable one is a 400.
      const x509::DerKind kind = part.name == "crl"    ? x509::DerKind::kCrl
                                 : part.name == "ocsp" ? x509::DerKind::kOcspResponse
                                                       : x509::DerKind::kCertificate;
      auto ders = x509::DerObjectsOf(part.data, kind);
      if (!ders.ok()) return Response::FromStatus(ders.status().WithContext(part.name));
      for (Bytes& der : *ders) {
        if (kind == x509::DerKind::kCrl) {
          options.crls.push_back(std::move(der));
        } else if (kind == x509::DerKind::kOcspResponse) {
          options.ocsp_responses.push_back(std::move(der));
        } else {
          auto certificate = x509::Certificate::FromDer(der);
          if (!certificate.ok()) return Response::FromStatus(certificate.status());
          options.untrusted.push_back(std::move(certificate).value());
        }
      }
    } else {
      fields[part.name].push_back(std::string(AsString(part.data)));
    }
  }
  if (file == nullptr) {
    return Response::Error(400, "verify.no_file", "the 'file' part is missing");
  }
  auto field = [&fields](const std::string& name) {
    auto it = fields.find(name);
    return it == fields.end() ? std::string() : it->second.back();
  };
  options.now = s.clock->Now();
  options.trust_anchors = s.trust_anchors;
  options.untrusted.insert(options.untrusted.begin(), s.intermediates.begin(),
                           s.intermediates.end());
  options.offline = field("offline") == "true" || s.online == nullptr;
  options.online = s.online;
  // RFC 5280 §6.1.1 initial policy inputs.
  if (auto it = fields.find("policy"); it != fields.end()) {
    options.policy.initial_policies = it->second;
  }
  for (auto [name, flag] : {std::pair{"explicit_policy", &options.policy.explicit_policy},
                            {"inhibit_policy_mapping", &options.policy.inhibit_policy_mapping},
                            {"inhibit_any_policy", &options.policy.inhibit_any_policy}}) {
    auto value = FormFlag(fields, name);
    if (!value.ok()) return Response::FromStatus(value.status());
    *flag = *value;
  }
  std::string name = file->filename.value_or("document");
  Result<verify::DocumentReport> report = InvalidArgument("verify.unknown_format", "");
  std::string_view head = AsString(file->data.first(std::min<size_t>(file->data.size(), 1024)));
  if (head.find("%PDF-") != std::string_view::npos) {
    auto bytes = std::make_shared<const Bytes>(file->data.begin(), file->data.end());
    auto document = pdf::Document::FromBytes(bytes);
    report = verify::VerifyPdf(*bytes, document.ok() ? &*document : nullptr, name, options);
  } else if (!file->data.empty() && file->data[0] == 0x30) {
    report = verify::VerifyCms(
        file->data, content ? std::optional<ByteSpan>(content->data) : std::nullopt, name, options);
  } else if (verify::LooksLikeXml(file->data)) {
    report = verify::VerifyXml(file->data, name, options);
  } else if (AsString(file->data).find("-----BEGIN") != std::string_view::npos) {
    // A PEM CMS signature: its DER, or cms.malformed.
    auto der = x509::DerObjectsOf(file->data, x509::DerKind::kCms);
    if (!der.ok()) return Response::FromStatus(der.status().WithContext("file"));
    report = verify::VerifyCms(der->front(),
                               content ? std::optional<ByteSpan>(content->data) : std::nullopt,
                               name, options);
  } else {
    report = InvalidArgument("verify.unknown_format",
                             "the file is neither a PDF, a CMS nor an XML document");
  }
  if (!report.ok()) return Response::FromStatus(report.status());
  verify::Language lang =
      field("lang") == "en" ? verify::Language::kEnglish : verify::Language::kVietnamese;
  if (request.QueryParam("format") == "html") {
    return Response::Binary(200, "text/html; charset=utf-8", verify::RenderHtml(*report, lang));
  }
  return Response::Json(200, verify::RenderJson(*report));
}

Response SignPdf(const SigningServices& s, http::Request& request) {
  if (s.scratch_dir.empty()) {
    return Response::Error(503, "sign.unavailable", "document signing is not configured");
  }
  return ServeSigningUpload(
      s, request, "the PDF",
      [&s, &request](const SigningUpload& upload, const pades::Credentials& key) {
        return SignUploadedPdf(s, request, upload, key);
      });
}

Response ListSigningKeys(const SigningServices& s, http::Request& request) {
  if (s.gate == nullptr) {
    return Response::Error(503, "sign.unavailable", "document signing is not configured");
  }
  auto caller = s.gate->Authenticate(request);
  if (!caller.ok()) return Refusal(caller.status());
  auto keys = s.gate->KeysFor(*caller);
  if (!keys.ok()) return Refusal(keys.status());
  nlohmann::ordered_json items = nlohmann::ordered_json::array();
  for (const SigningKeySummary& k : *keys) {
    items.push_back({{"id", k.id},
                     {"subject", k.subject},
                     {"serial", k.serial_hex},
                     {"not_after", FormatUtc(k.not_after)},
                     {"organization_id", k.organization_id},
                     {"organization_name", k.organization_name}});
  }
  Response r = Response::Json(200, nlohmann::ordered_json{{"items", items}}.dump());
  r.Header("Cache-Control", "no-store");
  return r;
}

}  // namespace kyso::api
