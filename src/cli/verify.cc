// `kyso verify`: PDFs, CMS (.p7s + content, .p7m), XML (XAdES, XMLDSig) and certificates, with a
// Vietnamese report.
#include <cstdio>
#include <iostream>

#include "app/signing.h"
#include "base/files.h"
#include "cli/common.h"
#include "pdf/document.h"
#include "verify/engine.h"
#include "x509/pem.h"

namespace kyso::cli {

namespace {

// RFC 3339 as base/clock.h reads it ("2025-11-19T14:03:22+07:00", "...Z", a date) or Unix
// seconds.
Result<UnixSeconds> ParseTimeArgument(const std::string& text) {
  if (!text.empty() && text.find_first_not_of("0123456789") == std::string::npos) {
    return static_cast<UnixSeconds>(std::stoll(text));
  }
  auto t = ParseTime(text);
  if (!t) {
    return InvalidArgument("verify.bad_time",
                           "--at wants RFC 3339 (2025-11-19T14:03:22+07:00) or Unix seconds");
  }
  return *t;
}

// Every object of `kind` in each file, PEM or DER (x509/pem.h); an unreadable file is an
// error naming it.
Result<std::vector<Bytes>> ReadDerFiles(const std::vector<std::string>& files, x509::DerKind kind) {
  std::vector<Bytes> out;
  for (const auto& f : files) {
    KYSO_ASSIGN_OR_RETURN(Bytes bytes, ReadFile(f, 64 << 20));
    auto objects = x509::DerObjectsOf(bytes, kind);
    if (!objects.ok()) return objects.status().WithContext(f);
    for (Bytes& der : *objects) out.push_back(std::move(der));
  }
  return out;
}

Result<std::vector<x509::Certificate>> ReadCertificates(const std::vector<std::string>& files) {
  KYSO_ASSIGN_OR_RETURN(auto ders, ReadDerFiles(files, x509::DerKind::kCertificate));
  std::vector<x509::Certificate> out;
  for (const Bytes& der : ders) {
    KYSO_ASSIGN_OR_RETURN(x509::Certificate c, x509::Certificate::FromDer(der));
    out.push_back(std::move(c));
  }
  return out;
}

struct VerifyArgs {
  std::string file, content, lang = "vi", at, format = "text", signed_element;
  std::vector<std::string> trust, untrusted, crls, ocsp, policies;
  bool offline = false;
  bool explicit_policy = false, inhibit_policy_mapping = false, inhibit_any_policy = false;
};

Result<verify::VerifyOptions> MakeOptions(const Globals& g, const VerifyArgs& a) {
  verify::VerifyOptions options;
  options.now = app::SystemClockForSigning().Now();
  options.offline = a.offline;
  options.xml_signed_element = a.signed_element;
  if (!a.at.empty()) {
    KYSO_ASSIGN_OR_RETURN(options.at, ParseTimeArgument(a.at));
  }
  if (a.trust.empty()) {
    auto local = app::ReadLocalCertificates(g.data_dir);
    options.trust_anchors = std::move(local.anchors);
    options.untrusted = std::move(local.intermediates);
  } else {
    KYSO_ASSIGN_OR_RETURN(options.trust_anchors, ReadCertificates(a.trust));
  }
  KYSO_ASSIGN_OR_RETURN(auto untrusted, ReadCertificates(a.untrusted));
  options.untrusted.insert(options.untrusted.end(), untrusted.begin(), untrusted.end());
  KYSO_ASSIGN_OR_RETURN(options.crls, ReadDerFiles(a.crls, x509::DerKind::kCrl));
  KYSO_ASSIGN_OR_RETURN(options.ocsp_responses, ReadDerFiles(a.ocsp, x509::DerKind::kOcspResponse));
  options.policy.initial_policies = a.policies;
  options.policy.explicit_policy = a.explicit_policy;
  options.policy.inhibit_policy_mapping = a.inhibit_policy_mapping;
  options.policy.inhibit_any_policy = a.inhibit_any_policy;
  return options;
}

int Render(const Globals& g, const VerifyArgs& a, const verify::DocumentReport& report) {
  verify::Language lang =
      a.lang == "en" ? verify::Language::kEnglish : verify::Language::kVietnamese;
  if (g.json || a.format == "json") {
    std::cout << verify::RenderJson(report) << "\n";
  } else if (a.format == "html") {
    std::cout << verify::RenderHtml(report, lang);
  } else {
    std::cout << verify::RenderText(report, lang);
  }
  return report.indication == verify::Indication::kPassed ? 0 : 1;
}

// What the bytes are: a PDF, a DER CMS SignedData, or neither (PEM is decoded by the caller).
enum class Kind { kPdf, kCms, kXml, kUnknown };
Kind Sniff(ByteSpan bytes) {
  std::string_view head = AsString(bytes.first(std::min<size_t>(bytes.size(), 1024)));
  if (head.find("%PDF-") != std::string_view::npos) return Kind::kPdf;
  if (!bytes.empty() && bytes[0] == 0x30) return Kind::kCms;
  if (verify::LooksLikeXml(bytes)) return Kind::kXml;
  return Kind::kUnknown;
}

}  // namespace

void AddVerify(CLI::App& app, Globals& g, int& rc) {
  auto* cmd = app.add_subcommand(
      "verify",
      "Verify the signatures of a PDF, CMS or XML file (or `verify cert` for a certificate)");
  auto a = std::make_shared<VerifyArgs>();
  auto add_common = [a](CLI::App* c) {
    // Repeatable options take one value each, so `--trust root.pem file.pdf` leaves the file
    // name to the positional argument instead of swallowing it as a second anchor.
    auto one_per_use = [](CLI::Option* o) { o->allow_extra_args(false); };
    one_per_use(c->add_option("--trust", a->trust,
                              "Trust anchors, PEM or DER (default: this instance's CAs)"));
    one_per_use(c->add_option("--untrusted", a->untrusted, "More intermediate certificates"));
    one_per_use(
        c->add_option("--crl", a->crls, "CRL files to use (complete or delta; PEM or DER)"));
    one_per_use(c->add_option("--ocsp", a->ocsp, "OCSP response files to use (PEM or DER)"));
    one_per_use(c->add_option("--policy", a->policies,
                              "An acceptable certificate policy OID (repeatable; RFC 5280 "
                              "user-initial-policy-set, default anyPolicy)"));
    c->add_flag("--explicit-policy", a->explicit_policy,
                "Require a valid policy for the whole path (initial-explicit-policy)");
    c->add_flag("--inhibit-policy-mapping", a->inhibit_policy_mapping,
                "Do not follow policy mappings (initial-policy-mapping-inhibit)");
    c->add_flag("--inhibit-any-policy", a->inhibit_any_policy,
                "Do not let anyPolicy stand for other policies (initial-any-policy-inhibit)");
    c->add_flag("--offline", a->offline, "Use only the revocation data embedded in the file");
    c->add_option("--at", a->at, "Validate at this time (RFC 3339 or Unix seconds)");
    c->add_option("--lang", a->lang, "Report language: vi (default) or en")
        ->check(CLI::IsMember({"vi", "en"}));
    c->add_option("--format", a->format, "text (default), json or html")
        ->check(CLI::IsMember({"text", "json", "html"}));
  };
  cmd->add_option("file", a->file, "PDF, .p7s, .p7m or XML");
  cmd->add_option("--content", a->content, "The signed content of a detached .p7s");
  cmd->add_option("--signed-element", a->signed_element,
                  "XML: the element every signature must cover, the first of its name (e.g. "
                  "HSoKhaiThue); otherwise INVALID (signature wrapping)");
  add_common(cmd);
  cmd->callback([&g, &rc, a, cmd]() {
    if (!cmd->get_subcommands().empty()) return;
    if (a->file.empty()) {
      rc = ReportError(g, InvalidArgument("verify.no_file", "name the file to verify"));
      return;
    }
    auto options = MakeOptions(g, *a);
    if (!options.ok()) {
      rc = ReportError(g, options.status());
      return;
    }
    app::LocalValidationServices online(nullptr, std::nullopt);
    options->online = &online;
    Result<verify::DocumentReport> report = InvalidArgument("verify.unknown_format", "");
    auto bytes = ReadFile(a->file, size_t{1} << 31);
    if (!bytes.ok()) {
      rc = ReportError(g, bytes.status().WithContext(a->file));
      return;
    }
    Kind kind = Sniff(*bytes);
    if (kind == Kind::kUnknown && AsString(*bytes).find("-----BEGIN") != std::string_view::npos) {
      // A PEM CMS signature ("CMS", "PKCS7"): its DER, or an error when it is not one.
      auto der = x509::DerObjectsOf(*bytes, x509::DerKind::kCms);
      if (!der.ok()) {
        rc = ReportError(g, der.status().WithContext(a->file));
        return;
      }
      *bytes = std::move(der->front());
      kind = Kind::kCms;
    }
    switch (kind) {
      case Kind::kPdf: {
        // A PDF that QPDF would have to repair still gets a verdict (its DSS is not read).
        auto document = pdf::Document::Open(a->file);
        report = verify::VerifyPdf(*bytes, document.ok() ? &*document : nullptr, a->file, *options);
        break;
      }
      case Kind::kCms: {
        std::optional<Bytes> content;
        if (!a->content.empty()) {
          auto c = ReadFile(a->content, size_t{1} << 31);
          if (!c.ok()) {
            rc = ReportError(g, c.status().WithContext(a->content));
            return;
          }
          content = std::move(c).value();
        }
        report = verify::VerifyCms(
            *bytes, content ? std::optional<ByteSpan>(*content) : std::nullopt, a->file, *options);
        break;
      }
      case Kind::kXml:
        report = verify::VerifyXml(*bytes, a->file, *options);
        break;
      case Kind::kUnknown: {
        // Not a document we can read: still a verdict with its reason, not a bare error.
        verify::DocumentReport r;
        r.file = a->file;
        r.format = "unknown";
        r.verified_at = options->now;
        r.findings.push_back({"format.unknown", verify::Severity::kError,
                              "neither a PDF, a DER CMS signature nor XML"});
        verify::Summarize(r);
        r.sub_indication = "FORMAT_FAILURE";
        report = std::move(r);
        break;
      }
    }
    if (!report.ok()) {
      rc = ReportError(g, report.status());
      return;
    }
    rc = Render(g, *a, *report);
  });

  auto* cert = cmd->add_subcommand("cert", "Check one certificate's path and revocation status");
  auto c = std::make_shared<std::string>();
  cert->add_option("certificate", *c, "Certificate, PEM or DER")->required();
  add_common(cert);
  cert->callback([&g, &rc, a, c]() {
    auto options = MakeOptions(g, *a);
    if (!options.ok()) {
      rc = ReportError(g, options.status());
      return;
    }
    app::LocalValidationServices online(nullptr, std::nullopt);
    options->online = &online;
    auto certs = ReadCertificates({*c});
    if (!certs.ok() || certs->empty()) {
      rc = ReportError(g, certs.ok() ? InvalidArgument("verify.no_certificate", *c + " is empty")
                                     : certs.status());
      return;
    }
    std::vector<x509::Certificate> rest(certs->begin() + 1, certs->end());
    options->untrusted.insert(options->untrusted.end(), rest.begin(), rest.end());
    rc = Render(g, *a, verify::VerifyCertificate(certs->front(), *c, *options));
  });
}

}  // namespace kyso::cli
