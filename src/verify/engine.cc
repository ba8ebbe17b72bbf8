#include "verify/engine.h"

#include <algorithm>
#include <ctime>

#include "crypto/digest.h"
#include "pdf/revisions.h"
#include "pdf/update.h"
#include "x509/cms_verify.h"
#include "x509/path.h"
#include "x509/validation_data.h"
#include "xades/xades.h"

namespace kyso::verify {

namespace {

// Extended key usages that allow signing documents: RFC 9336 documentSigning, S/MIME
// emailProtection (what many national CAs issue), anyExtendedKeyUsage, Adobe's and
// Microsoft's document signing.
constexpr const char* kDocumentSigningEku[] = {"documentSigning",      "1.3.6.1.5.5.7.3.36",
                                               "emailProtection",      "anyExtendedKeyUsage",
                                               "1.2.840.113583.1.1.5", "1.3.6.1.4.1.311.10.3.12"};

CertificateSummary Summary(const x509::Certificate& c) {
  CertificateSummary s;
  s.subject = c.subject().ToRfc4514();
  s.common_name = c.subject().First("CN");
  s.organization = c.subject().First("O");
  s.issuer_common_name = c.issuer().First("CN");
  s.serial_hex = c.serial_hex();
  s.not_before = c.not_before();
  s.not_after = c.not_after();
  auto spec = c.public_key().Spec();
  if (spec.ok()) s.key = spec->ToString();
  return s;
}

void Add(SignatureReport& r, std::string id, Severity severity, std::string detail) {
  r.findings.push_back(Finding{std::move(id), severity, std::move(detail)});
}

// The first failure decides: INVALID beats INDETERMINATE.
void Fail(SignatureReport& r, Indication indication, const std::string& sub) {
  if (r.indication == Indication::kFailed) return;
  if (r.indication == Indication::kIndeterminate && !r.sub_indication.empty() &&
      indication == Indication::kIndeterminate) {
    return;
  }
  r.indication = indication;
  r.sub_indication = sub;
}

struct Pools {
  std::vector<x509::Certificate> certificates;
  std::vector<Bytes> crls;
  std::vector<Bytes> ocsp_responses;
};

Status CheckAlgorithms(const x509::Certificate& signer) {
  auto spec = signer.public_key().Spec();
  if (!spec.ok()) return spec.status();
  // Thông tư 15/2025: RSA ≥ 2048, ECDSA ≥ 256 bits.
  if (spec->algorithm == crypto::KeyAlgorithm::kRsa && spec->bits < 2048) {
    return InvalidArgument("algorithm.weak_key", "RSA " + std::to_string(spec->bits) + " bits");
  }
  if (spec->algorithm == crypto::KeyAlgorithm::kEcdsa && spec->bits < 256) {
    return InvalidArgument("algorithm.weak_key", "EC " + std::to_string(spec->bits) + " bits");
  }
  return Status::Ok();
}

// Revocation of `leaf` (issued by `issuer`) at `at`: embedded OCSP, embedded CRLs, then online.
void CheckRevocation(SignatureReport& r, const x509::Certificate& leaf,
                     const x509::Certificate& issuer, const std::vector<x509::Certificate>& chain,
                     const Pools& pools, UnixSeconds at, const VerifyOptions& options,
                     const x509::PathOptions& path_options) {
  auto judge_ocsp = [&](ByteSpan der, const std::string& source) -> bool {
    auto answer = x509::InspectOcspResponse(der, leaf, issuer);
    if (!answer.ok()) return false;
    if (answer->status == x509::OcspCertStatus::kGood) {
      r.revocation = "good";
      r.revocation_source = source;
      return true;
    }
    if (answer->status == x509::OcspCertStatus::kRevoked) {
      UnixSeconds when = answer->revocation_time.value_or(0);
      if (when <= at) {
        r.revocation = "revoked";
        r.revocation_source = source;
        Add(r, "revocation.revoked", Severity::kError,
            "revoked at " + std::to_string(when) + " (" + source + ")");
        Fail(r, Indication::kFailed, "REVOKED");
      } else {
        r.revocation = "good";
        r.revocation_source = source + ", revoked after the signing time";
        Add(r, "revocation.revoked_later", Severity::kWarning,
            "the certificate was revoked after the signature was made");
      }
      return true;
    }
    return false;
  };
  for (const auto& der : pools.ocsp_responses) {
    if (judge_ocsp(der, "embedded OCSP")) return;
  }
  for (const auto& der : options.ocsp_responses) {
    if (judge_ocsp(der, "OCSP response given")) return;
  }
  auto judge_crls = [&](const std::vector<Bytes>& crls, const std::string& source) -> bool {
    if (crls.empty()) return false;
    x509::PathOptions with_crls = path_options;
    with_crls.crls = crls;
    with_crls.check_revocation = true;
    auto checked = x509::VerifyPath(leaf, with_crls);
    if (!checked.ok()) return false;
    if (checked->valid) {
      r.revocation = "good";
      r.revocation_source = source;
      return true;
    }
    if (checked->error_id == "path.revoked") {
      r.revocation = "revoked";
      r.revocation_source = source;
      Add(r, "revocation.revoked", Severity::kError, checked->detail);
      Fail(r, Indication::kFailed, "REVOKED");
      return true;
    }
    // Why these CRLs settle nothing (revocation.crl_missing, .crl_invalid,
    // .crl_delta_base_missing): other sources may still decide.
    const std::string& id = checked->error_id;
    Add(r, "revocation." + id.substr(id.find('.') + 1), Severity::kWarning,
        source + ": " + checked->detail);
    return false;
  };
  std::vector<Bytes> crls = pools.crls;
  crls.insert(crls.end(), options.crls.begin(), options.crls.end());
  if (judge_crls(crls, "embedded CRL")) return;
  if (!options.offline && options.online != nullptr) {
    auto ext = leaf.extensions();
    for (const auto& url : ext.ocsp_urls) {
      auto response = options.online->Ocsp(url, x509::EncodeOcspRequestFor(leaf, issuer));
      if (response.ok() && judge_ocsp(*response, "OCSP " + url)) return;
    }
    std::vector<Bytes> fetched;
    for (const auto& url : ext.crl_urls) {
      auto crl = options.online->Crl(url);
      if (crl.ok()) fetched.push_back(std::move(crl).value());
    }
    // CRL checking covers the whole chain: add what the chain's CAs publish too.
    for (size_t i = 1; i + 1 < chain.size(); ++i) {
      for (const auto& url : chain[i].extensions().crl_urls) {
        auto crl = options.online->Crl(url);
        if (crl.ok()) fetched.push_back(std::move(crl).value());
      }
    }
    if (judge_crls(fetched, "CRL")) return;
  }
  r.revocation = "unknown";
  Add(r, "revocation.unknown", Severity::kWarning,
      options.offline ? "no embedded OCSP response or CRL covers the signer (offline)"
                      : "no OCSP response or CRL could be obtained for the signer");
  Fail(r, Indication::kIndeterminate, "TRY_LATER");
}

// The certificate checks shared by CMS signatures and `verify cert`.
void CheckCertificate(SignatureReport& r, const x509::Certificate& leaf, const Pools& pools,
                      UnixSeconds at, const VerifyOptions& options, bool proven_time) {
  r.validation_time = at;
  x509::PathOptions path;
  path.trust_anchors = options.trust_anchors;
  path.intermediates = pools.certificates;
  path.intermediates.insert(path.intermediates.end(), options.untrusted.begin(),
                            options.untrusted.end());
  path.at = at;
  path.policy = options.policy;
  auto result = x509::VerifyPath(leaf, path);
  if (!result.ok()) {
    Add(r, result.status().id(), Severity::kError, result.status().message());
    Fail(r, Indication::kIndeterminate, "CERTIFICATE_CHAIN_GENERAL_FAILURE");
    return;
  }
  if (!result->valid) {
    const std::string& id = result->error_id;
    r.chain = id == "path.untrusted" ? "untrusted" : "invalid";
    Add(r, "certificate." + id.substr(id.find('.') + 1), Severity::kError, result->detail);
    if (id == "path.untrusted") {
      Fail(r, Indication::kIndeterminate, "NO_CERTIFICATE_CHAIN_FOUND");
    } else if (id == "path.expired" || id == "path.not_yet_valid") {
      // ETSI TS 119 102-1 §5.2.6: with proof of the time, outside the validity is a failure;
      // with a claimed time only, it cannot be decided.
      Fail(r, proven_time ? Indication::kFailed : Indication::kIndeterminate,
           proven_time ? (id == "path.expired" ? "EXPIRED" : "NOT_YET_VALID")
                       : "OUT_OF_BOUNDS_NO_POE");
    } else if (id == "path.revoked") {
      Fail(r, Indication::kFailed, "REVOKED");
    } else if (id == "path.policy") {
      // ETSI TS 119 102-1 Table 5: the chain does not meet the validation constraints (here
      // the certificate policies the path or the caller require).
      Fail(r, Indication::kIndeterminate, "CHAIN_CONSTRAINTS_FAILURE");
    } else {
      Fail(r, Indication::kIndeterminate, "CERTIFICATE_CHAIN_GENERAL_FAILURE");
    }
    return;
  }
  r.chain = "trusted";
  r.valid_policies = result->valid_policies;
  r.certificate_valid_at_time = true;
  auto ext = leaf.extensions();
  bool ku_ok = ext.key_usage.empty() ||
               std::find(ext.key_usage.begin(), ext.key_usage.end(), "digitalSignature") !=
                   ext.key_usage.end() ||
               std::find(ext.key_usage.begin(), ext.key_usage.end(), "nonRepudiation") !=
                   ext.key_usage.end();
  if (!ku_ok) {
    Add(r, "certificate.key_usage", Severity::kError,
        "keyUsage allows neither digitalSignature nor nonRepudiation");
    Fail(r, Indication::kIndeterminate, "CHAIN_CONSTRAINTS_FAILURE");
  }
  if (!ext.extended_key_usage.empty()) {
    bool eku_ok = false;
    for (const auto& e : ext.extended_key_usage) {
      for (const char* ok : kDocumentSigningEku) eku_ok = eku_ok || e == ok;
    }
    if (!eku_ok) {
      Add(r, "certificate.eku", Severity::kError,
          "the extended key usage does not include document signing");
      Fail(r, Indication::kIndeterminate, "CHAIN_CONSTRAINTS_FAILURE");
    }
  }
  if (Status st = CheckAlgorithms(leaf); !st.ok()) {
    Add(r, st.id(), Severity::kError, st.message());
    Fail(r, Indication::kIndeterminate, "CRYPTO_CONSTRAINTS_FAILURE");
  }
  if (result->chain.size() >= 2) {
    CheckRevocation(r, leaf, result->chain[1], result->chain, pools, at, options, path);
  } else {
    r.revocation = "not checked";
    Add(r, "revocation.self_signed", Severity::kInfo, "a trust anchor has no revocation status");
  }
}

void CheckTimeAndCertificate(SignatureReport& r, const std::optional<Bytes>& timestamp,
                             ByteSpan timestamped, const x509::Certificate& signer,
                             const Pools& pools, const VerifyOptions& options);

// A CMS signature over content whose digest is `content_digest` (computed by the caller with
// the SignerInfo's digest algorithm, or empty when the content could not be hashed).
void CheckCmsSignature(SignatureReport& r, const x509::SignedData& signed_data,
                       ByteSpan content_digest, Pools pools, const VerifyOptions& options) {
  const auto& info = signed_data.info();
  r.signer = Summary(info.signer);
  r.signature_algorithm = info.signature_algorithm;
  r.digest_algorithm = std::string(crypto::DigestName(info.digest_algorithm));
  if (!r.claimed_time && info.signing_time) r.claimed_time = info.signing_time;
  pools.certificates.insert(pools.certificates.end(), info.certificates.begin(),
                            info.certificates.end());
  pools.crls.insert(pools.crls.end(), info.crls.begin(), info.crls.end());
  pools.ocsp_responses.insert(pools.ocsp_responses.end(), info.ocsp_responses.begin(),
                              info.ocsp_responses.end());

  auto check = signed_data.Verify(content_digest);
  r.integrity = r.integrity && check.error_id.empty();
  if (!check.error_id.empty()) {
    Add(r, "integrity." + check.error_id.substr(4), Severity::kError,
        check.error_id == "cms.digest_mismatch"
            ? "the signed bytes do not match the message digest: the document was changed"
            : check.error_id);
    Fail(r, Indication::kFailed,
         check.error_id == "cms.digest_mismatch" ? "HASH_FAILURE" : "SIG_CRYPTO_FAILURE");
  }
  if (!info.has_signing_certificate) {
    Add(r, "format.no_signing_certificate", Severity::kWarning,
        "no signing-certificate-v2 attribute (not PAdES/CAdES baseline)");
  }
  CheckTimeAndCertificate(r, info.signature_timestamp, info.signature_value, info.signer, pools,
                          options);
}

// Time: a verified signature time-stamp over `timestamped` (the CMS signature value, or the
// canonical ds:SignatureValue of XAdES) proves when the signature existed (ETSI EN 319 142-1
// §5.3, EN 319 132-1 §5.3); otherwise the claimed time is all there is. Then the signer's
// certificate at that time.
void CheckTimeAndCertificate(SignatureReport& r, const std::optional<Bytes>& timestamp,
                             ByteSpan timestamped, const x509::Certificate& signer,
                             const Pools& pools, const VerifyOptions& options) {
  bool proven = false;
  UnixSeconds at = r.claimed_time.value_or(options.now);
  if (timestamp) {
    auto token = x509::InspectTimeStampToken(*timestamp);
    if (!token.ok()) {
      Add(r, "timestamp.malformed", Severity::kError, token.status().message());
    } else if (!token->signature_valid) {
      Add(r, token->error_id, Severity::kError, "the signature time-stamp does not verify");
    } else if (!x509::TimeStampCovers(*token, timestamped)) {
      Add(r, "timestamp.imprint_mismatch", Severity::kError,
          "the time-stamp does not cover this signature value");
    } else {
      r.timestamp_time = token->gen_time;
      r.timestamp_authority = token->tsa_certificate->subject().First("CN");
      x509::PathOptions tsa_path;
      tsa_path.trust_anchors = options.trust_anchors;
      tsa_path.intermediates = pools.certificates;
      tsa_path.intermediates.insert(tsa_path.intermediates.end(), token->certificates.begin(),
                                    token->certificates.end());
      tsa_path.at = token->gen_time;
      tsa_path.required_eku = {"timeStamping"};
      auto tsa = x509::VerifyPath(*token->tsa_certificate, tsa_path);
      if (tsa.ok() && tsa->valid) {
        proven = true;
        at = token->gen_time;
        // The TSA's own status at genTime (ETSI TS 119 102-1 §5.4: a time-stamp is only proof
        // if its unit's certificate was not revoked then).
        if (tsa->chain.size() >= 2) {
          SignatureReport tsa_report;
          CheckRevocation(tsa_report, *token->tsa_certificate, tsa->chain[1], tsa->chain, pools,
                          token->gen_time, options, tsa_path);
          if (tsa_report.revocation == "revoked") {
            proven = false;
            at = r.claimed_time.value_or(options.now);
            Add(r, "timestamp.tsa_revoked", Severity::kError,
                "the time-stamping unit's certificate was revoked (" +
                    tsa_report.revocation_source + ")");
          } else if (tsa_report.revocation == "unknown") {
            Add(r, "timestamp.tsa_revocation_unknown", Severity::kWarning,
                "the time-stamping unit's revocation status could not be determined");
          }
        }
      } else {
        Add(r, "timestamp.untrusted", Severity::kWarning,
            tsa.ok() ? tsa->error_id + ": " + tsa->detail : tsa.status().message());
      }
    }
  }
  if (options.at) at = *options.at;
  r.time_source = proven ? "timestamp" : "claimed";
  if (!proven && !options.at) {
    Add(r, "time.unproven", Severity::kInfo,
        "no verified signature time-stamp: the signing time is the signer's claim");
  }
  CheckCertificate(r, signer, pools, at, options, proven || options.at.has_value());
}

Bytes DigestOfRanges(ByteSpan file, const std::vector<std::pair<size_t, size_t>>& ranges,
                     crypto::DigestAlgorithm algorithm) {
  crypto::Hasher hasher(algorithm);
  for (auto [offset, length] : ranges) hasher.Update(file.subspan(offset, length));
  return hasher.Finish();
}

// "D:20251119140322+07'00'" (ISO 32000-1 §7.9.4) → Unix seconds; nullopt when unreadable.
std::optional<UnixSeconds> ParsePdfDate(std::string_view text) {
  if (text.starts_with("D:")) text.remove_prefix(2);
  if (text.size() < 4) return std::nullopt;
  auto digits = [&](size_t at, size_t n, int fallback) {
    if (text.size() < at + n) return fallback;
    int v = 0;
    for (size_t i = at; i < at + n; ++i) {
      if (text[i] < '0' || text[i] > '9') return fallback;
      v = v * 10 + (text[i] - '0');
    }
    return v;
  };
  std::tm tm{};
  tm.tm_year = digits(0, 4, 1970) - 1900;
  tm.tm_mon = digits(4, 2, 1) - 1;
  tm.tm_mday = digits(6, 2, 1);
  tm.tm_hour = digits(8, 2, 0);
  tm.tm_min = digits(10, 2, 0);
  tm.tm_sec = digits(12, 2, 0);
  UnixSeconds t = static_cast<UnixSeconds>(timegm(&tm));
  if (text.size() > 14 && (text[14] == '+' || text[14] == '-')) {
    int offset = (digits(15, 2, 0) * 60 + digits(18, 2, 0)) * 60;
    t += text[14] == '+' ? -offset : offset;
  }
  return t;
}

std::optional<crypto::DigestAlgorithm> DigestByShortName(const std::string& name) {
  if (name == "SHA256") return crypto::DigestAlgorithm::kSha256;
  if (name == "SHA384") return crypto::DigestAlgorithm::kSha384;
  if (name == "SHA512") return crypto::DigestAlgorithm::kSha512;
  return std::nullopt;
}

Pools DssPools(const pdf::Document* document, std::vector<Finding>& findings) {
  Pools pools;
  if (document == nullptr) return pools;
  auto dss = pdf::ReadDss(*document);
  if (!dss.ok()) {
    findings.push_back({"dss.unreadable", Severity::kWarning, dss.status().message()});
    return pools;
  }
  for (const auto& der : dss->certificates) {
    auto c = x509::Certificate::FromDerCached(der);
    if (c.ok()) pools.certificates.push_back(std::move(c).value());
  }
  pools.crls = std::move(dss->crls);
  pools.ocsp_responses = std::move(dss->ocsp_responses);
  return pools;
}

void CheckDocumentTimeStamp(SignatureReport& r, ByteSpan token_der,
                            const std::vector<std::pair<size_t, size_t>>& ranges, ByteSpan file,
                            const Pools& pools, const VerifyOptions& options) {
  auto token = x509::InspectTimeStampToken(token_der);
  if (!token.ok()) {
    r.integrity = false;
    Add(r, "timestamp.malformed", Severity::kError, token.status().message());
    Fail(r, Indication::kIndeterminate, "FORMAT_FAILURE");
    return;
  }
  r.timestamp_time = token->gen_time;
  r.time_source = "timestamp";
  if (token->tsa_certificate) {
    r.signer = Summary(*token->tsa_certificate);
    r.timestamp_authority = token->tsa_certificate->subject().First("CN");
  }
  auto algorithm = DigestByShortName(token->imprint_algorithm);
  if (!algorithm) {
    Add(r, "algorithm.unsupported", Severity::kError, "imprint " + token->imprint_algorithm);
    Fail(r, Indication::kIndeterminate, "CRYPTO_CONSTRAINTS_FAILURE");
    return;
  }
  r.digest_algorithm = std::string(crypto::DigestName(*algorithm));
  if (DigestOfRanges(file, ranges, *algorithm) != token->imprint) {
    r.integrity = false;
    Add(r, "integrity.digest_mismatch", Severity::kError,
        "the document time-stamp does not cover these bytes");
    Fail(r, Indication::kFailed, "HASH_FAILURE");
  }
  if (!token->signature_valid) {
    r.integrity = false;
    Add(r, token->error_id, Severity::kError, "the time-stamp token's signature does not verify");
    Fail(r, Indication::kFailed, "SIG_CRYPTO_FAILURE");
    return;
  }
  x509::PathOptions path;
  path.trust_anchors = options.trust_anchors;
  path.intermediates = pools.certificates;
  path.intermediates.insert(path.intermediates.end(), token->certificates.begin(),
                            token->certificates.end());
  path.intermediates.insert(path.intermediates.end(), options.untrusted.begin(),
                            options.untrusted.end());
  path.at = options.at.value_or(token->gen_time);
  path.required_eku = {"timeStamping"};
  auto tsa = x509::VerifyPath(*token->tsa_certificate, path);
  r.validation_time = *path.at;
  if (tsa.ok() && tsa->valid) {
    r.chain = "trusted";
    r.valid_policies = tsa->valid_policies;
    r.certificate_valid_at_time = true;
    r.revocation = "not checked";
  } else {
    r.chain = "untrusted";
    Add(r, "timestamp.untrusted", Severity::kError,
        tsa.ok() ? tsa->error_id + ": " + tsa->detail : tsa.status().message());
    Fail(r, Indication::kIndeterminate, "NO_CERTIFICATE_CHAIN_FOUND");
  }
}

}  // namespace

Result<DocumentReport> VerifyPdf(ByteSpan file, const pdf::Document* document,
                                 const std::string& name, const VerifyOptions& options) {
  DocumentReport report;
  report.file = name;
  report.format = "PDF";
  report.verified_at = options.now;
  auto analyses = document ? pdf::AnalyzeSignatures(*document) : pdf::AnalyzeSignatures(file);
  if (!analyses.ok()) {
    report.findings.push_back(
        {analyses.status().id(), Severity::kError, analyses.status().message()});
    Summarize(report);
    report.sub_indication = "FORMAT_FAILURE";
    return report;
  }
  Pools dss = DssPools(document, report.findings);
  size_t revisions = pdf::RevisionEnds(file).size();
  for (const auto& a : *analyses) {
    SignatureReport r;
    r.field = a.field_name;
    r.indication = Indication::kPassed;
    r.integrity = true;
    if (!a.signing_time.empty()) r.claimed_time = ParsePdfDate(a.signing_time);
    // Coverage (ISO 32000-1 §12.8.1): the signed bytes must be a whole revision but /Contents.
    const auto& cov = a.coverage;
    switch (cov.kind) {
      case pdf::Coverage::kEntireFile:
        r.coverage = "entire file";
        break;
      case pdf::Coverage::kEntireRevision:
        r.coverage = "revision " + std::to_string(cov.revision.value_or(0) + 1) + " of " +
                     std::to_string(revisions);
        break;
      default:
        r.coverage = std::string(pdf::CoverageName(cov.kind));
        r.integrity = false;
        Add(r, "coverage." + std::string(pdf::CoverageName(cov.kind)), Severity::kError,
            cov.detail);
        Fail(r, Indication::kFailed, "FORMAT_FAILURE");
    }
    // Changes after signing, against what the signature permits.
    if (a.modifications) {
      const auto& m = *a.modifications;
      r.modifications =
          m.unanalysable ? "unanalysable" : std::string(pdf::ModificationLevelName(m.level));
      for (const auto& f : m.findings) {
        Add(r, "modification.finding", Severity::kInfo, f);
      }
      // ETSI EN 319 142-1 §5.4: a PAdES signature covers its revision; what later revisions
      // add must be what validation material and later signing add (§5.4.2 DSS, §5.4.3
      // document time-stamps), or what the signer permitted (ISO 32000-1 §12.8.2.2 DocMDP).
      if (m.appearance_changed) {
        Add(r, "modification.appearance_changed", Severity::kError,
            "what a form field displays was changed after signing without a new value for it "
            "(an appearance stream or what it draws replaced)");
        Fail(r, Indication::kFailed, "FORMAT_FAILURE");
      }
      if (m.other_changes) {
        Add(r, "modification.other", Severity::kError,
            "the document was changed after signing beyond signatures, form filling and "
            "annotations");
        Fail(r, Indication::kFailed, "FORMAT_FAILURE");
      }
      if (m.unanalysable) {
        // What was signed is judged (integrity below), but a later revision cannot be read, so
        // whether its changes are allowed cannot be determined (ETSI TS 119 102-1 §5.1.3:
        // INDETERMINATE when a building block cannot conclude).
        Add(r, "modification.unanalysable", Severity::kError,
            "the document was changed after signing in a way that cannot be analysed: a later "
            "revision cannot be read");
        Fail(r, Indication::kIndeterminate, "FORMAT_FAILURE");
      }
      if (m.level == pdf::ModificationLevel::kAnnotations) {
        Add(r, "modification.annotations", Severity::kWarning,
            "annotations were added or changed after signing");
      }
      if (m.docmdp_violated) {
        Add(r, "modification.docmdp", Severity::kError,
            "a change the certification signature's DocMDP permissions forbid");
        Fail(r, Indication::kFailed, "FORMAT_FAILURE");
      }
      if (m.fieldmdp_violated) {
        Add(r, "modification.fieldmdp", Severity::kError, "a locked field was changed");
        Fail(r, Indication::kFailed, "FORMAT_FAILURE");
      }
    }
    std::vector<std::pair<size_t, size_t>> ranges;
    const auto& br = cov.byte_range;
    bool ranges_ok = br.size() == 4 && br[0] >= 0 && br[1] >= 0 && br[2] >= 0 && br[3] >= 0 &&
                     static_cast<size_t>(br[0] + br[1]) <= file.size() &&
                     static_cast<size_t>(br[2] + br[3]) <= file.size();
    if (ranges_ok) {
      ranges = {{static_cast<size_t>(br[0]), static_cast<size_t>(br[1])},
                {static_cast<size_t>(br[2]), static_cast<size_t>(br[3])}};
    } else if (br.size() == 2 && br[0] >= 0 && br[1] >= 0 &&
               static_cast<size_t>(br[0] + br[1]) <= file.size()) {
      ranges = {{static_cast<size_t>(br[0]), static_cast<size_t>(br[1])}};
    }
    if (a.is_document_timestamp) {
      r.type = "document time-stamp";
      CheckDocumentTimeStamp(r, cov.contents, ranges, file, dss, options);
    } else if (a.sub_filter == "ETSI.CAdES.detached" || a.sub_filter == "adbe.pkcs7.detached") {
      r.type = a.sub_filter == "ETSI.CAdES.detached" ? "PAdES" : "PDF (adbe.pkcs7.detached)";
      auto parsed = x509::SignedData::Parse(cov.contents);
      if (!parsed.ok()) {
        r.integrity = false;
        Add(r, "format." + parsed.status().id().substr(parsed.status().id().find('.') + 1),
            Severity::kError, parsed.status().message());
        Fail(r, Indication::kIndeterminate, "FORMAT_FAILURE");
      } else {
        Bytes digest = DigestOfRanges(file, ranges, parsed->info().digest_algorithm);
        CheckCmsSignature(r, *parsed, digest, dss, options);
      }
    } else {
      r.type = a.sub_filter;
      Add(r, "format.unsupported_subfilter", Severity::kError,
          "/SubFilter /" + a.sub_filter + " is not supported");
      Fail(r, Indication::kIndeterminate, "FORMAT_FAILURE");
    }
    report.signatures.push_back(std::move(r));
  }
  Summarize(report);
  return report;
}

Result<DocumentReport> VerifyCms(ByteSpan cms, std::optional<ByteSpan> content,
                                 const std::string& name, const VerifyOptions& options) {
  DocumentReport report;
  report.file = name;
  report.verified_at = options.now;
  report.format = content ? "CMS detached" : "CMS enveloping";
  SignatureReport r;
  r.field = "CMS";
  r.type = "CAdES";
  r.integrity = true;
  r.indication = Indication::kPassed;
  auto parsed = x509::SignedData::Parse(cms);
  if (!parsed.ok()) {
    r.integrity = false;
    Add(r, "format." + parsed.status().id().substr(parsed.status().id().find('.') + 1),
        Severity::kError, parsed.status().message());
    Fail(r, Indication::kIndeterminate, "FORMAT_FAILURE");
    report.signatures.push_back(std::move(r));
    Summarize(report);
    return report;
  }
  const auto& info = parsed->info();
  ByteSpan data;
  if (content) {
    data = *content;
  } else if (info.has_content) {
    data = info.content;
  } else {
    Add(r, "format.no_content", Severity::kError,
        "a detached signature needs its content (kyso verify FILE.p7s --content FILE)");
    Fail(r, Indication::kIndeterminate, "SIGNED_DATA_NOT_FOUND");
  }
  Bytes digest = crypto::Digest(info.digest_algorithm, data);
  CheckCmsSignature(r, *parsed, digest, {}, options);
  report.signatures.push_back(std::move(r));
  Summarize(report);
  return report;
}

namespace {

void AddProblem(SignatureReport& r, const xades::Problem& p) {
  Add(r, p.id, p.failed || !p.sub_indication.empty() ? Severity::kError : Severity::kWarning,
      p.detail);
  if (!p.sub_indication.empty()) {
    Fail(r, p.failed ? Indication::kFailed : Indication::kIndeterminate, p.sub_indication);
  }
}

}  // namespace

bool LooksLikeXml(ByteSpan bytes) {
  return xades::LooksLikeXml(bytes);
}

Result<DocumentReport> VerifyXml(ByteSpan xml, const std::string& name,
                                 const VerifyOptions& options) {
  DocumentReport report;
  report.file = name;
  report.verified_at = options.now;
  report.format = "XML";
  xades::XmlInspection inspection = xades::InspectXml(xml);
  for (const auto& p : inspection.problems) {
    report.findings.push_back(
        {p.id, p.failed || !p.sub_indication.empty() ? Severity::kError : Severity::kWarning,
         p.detail});
  }
  int n = 0;
  for (const auto& s : inspection.signatures) {
    ++n;
    SignatureReport r;
    r.field = s.id.empty() ? "Signature " + std::to_string(n) : s.id;
    r.type = s.level;
    r.indication = Indication::kPassed;
    r.integrity = s.core_valid;
    r.signature_algorithm = s.signature_algorithm;
    r.digest_algorithm = s.digest_algorithm;
    r.claimed_time = s.signing_time;
    // What exactly was signed (signature wrapping shows here): every reference's target.
    for (const auto& o : s.references) {
      if (o.signed_properties) continue;
      r.coverage += (r.coverage.empty() ? "" : "; ") + o.what;
    }
    if (!options.xml_signed_element.empty()) {
      bool covered = std::any_of(s.references.begin(), s.references.end(), [&](const auto& o) {
        return o.element == options.xml_signed_element && o.first_of_its_name;
      });
      if (!covered) {
        Add(r, "xml.unexpected_signed_element", Severity::kError,
            "the signature does not cover the document's <" + options.xml_signed_element +
                "> (it covers " + r.coverage + ")");
        Fail(r, Indication::kFailed, "FORMAT_FAILURE");
      }
    }
    // A document-level defect (a duplicate Id) makes every signature in it fail.
    for (const auto& p : inspection.problems) AddProblem(r, p);
    for (const auto& p : s.problems) AddProblem(r, p);
    if (s.signer) {
      r.signer = Summary(*s.signer);
      Pools pools;
      pools.certificates = s.certificates;
      pools.crls = s.crls;
      pools.ocsp_responses = s.ocsp_responses;
      // Thông tư 15/2025 key sizes first, whether or not the chain is trusted (CheckCertificate
      // judges them only for a trusted chain, and then says it again: kept once).
      Status key_size = CheckAlgorithms(*s.signer);
      if (!key_size.ok()) {
        Add(r, key_size.id(), Severity::kError, key_size.message());
        Fail(r, Indication::kIndeterminate, "CRYPTO_CONSTRAINTS_FAILURE");
      }
      if (s.core_valid) {
        size_t before = r.findings.size();
        CheckTimeAndCertificate(r, s.signature_timestamp, s.timestamped, *s.signer, pools, options);
        if (!key_size.ok()) {
          r.findings.erase(std::remove_if(r.findings.begin() + before, r.findings.end(),
                                          [&](const Finding& f) { return f.id == key_size.id(); }),
                           r.findings.end());
        }
      }
    }
    if (!s.core_valid) {
      r.integrity = false;
      // Whatever stopped the core check has said why; without a reason it is not VALID.
      Fail(r, Indication::kIndeterminate, "FORMAT_FAILURE");
    }
    report.signatures.push_back(std::move(r));
  }
  if (inspection.signatures.empty() && !inspection.problems.empty()) {
    Summarize(report);
    report.sub_indication = inspection.problems.front().sub_indication;
    if (inspection.problems.front().failed) report.indication = Indication::kFailed;
    return report;
  }
  if (inspection.signatures.empty()) {
    report.findings.push_back(
        {"xml.no_signature", Severity::kError, "the XML document has no ds:Signature"});
  }
  Summarize(report);
  return report;
}

DocumentReport VerifyCertificate(const x509::Certificate& certificate, const std::string& name,
                                 const VerifyOptions& options) {
  DocumentReport report;
  report.file = name;
  report.verified_at = options.now;
  report.format = "certificate";
  SignatureReport r;
  r.field = "certificate";
  r.type = "X.509";
  r.integrity = true;
  r.indication = Indication::kPassed;
  r.signer = Summary(certificate);
  UnixSeconds at = options.at.value_or(options.now);
  CheckCertificate(r, certificate, {}, at, options, true);
  report.signatures.push_back(std::move(r));
  Summarize(report);
  return report;
}

}  // namespace kyso::verify
