// The verification report: what the clerk reads before registering a received document
// (seed 004, art. 10), in the spirit of ETSI TS 119 102-1 (§5.1.3 indications and
// sub-indications) and with the fields Thông tư 15/2025 asks a verifier to show: signer,
// managing unit, issuer, signing time or time-stamp, integrity, validity at signing time and
// the certificate's validity period.
//
// Indications are TOTAL_PASSED / TOTAL_FAILED / INDETERMINATE (shown as VALID / INVALID /
// INDETERMINATE). Findings carry stable ids (`integrity.digest_mismatch`, `coverage.tail`,
// `modification.other`, `certificate.untrusted`, `revocation.unknown`, ...) so that systems
// can act on them; messages are for people, in Vietnamese or English.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"

namespace kyso::verify {

enum class Indication { kPassed, kFailed, kIndeterminate };
std::string_view IndicationName(Indication indication);  // "VALID", "INVALID", "INDETERMINATE"
std::string_view EtsiName(Indication indication);        // "TOTAL_PASSED", "TOTAL_FAILED", ...

enum class Severity { kInfo, kWarning, kError };

struct Finding {
  std::string id;  // stable
  Severity severity = Severity::kInfo;
  std::string detail;  // technical detail, not translated (object numbers, OpenSSL's words)
};

struct CertificateSummary {
  std::string subject;       // RFC 4514
  std::string common_name;   // CN
  std::string organization;  // O: the managing unit (cơ quan)
  std::string issuer_common_name;
  std::string serial_hex;
  UnixSeconds not_before = 0, not_after = 0;
  std::string key;  // "EC P-256", "RSA 2048"
};

struct SignatureReport {
  std::string field;  // the PDF field, or "CMS" for a .p7s/.p7m
  std::string type;   // "PAdES", "PAdES (adbe.pkcs7.detached)", "document time-stamp", "CAdES"
  Indication indication = Indication::kIndeterminate;
  std::string sub_indication;  // ETSI TS 119 102-1 name when not passed, e.g. HASH_FAILURE
  std::optional<CertificateSummary> signer;
  std::optional<UnixSeconds> claimed_time;    // /M or signingTime
  std::optional<UnixSeconds> timestamp_time;  // the signature time-stamp's genTime
  std::string timestamp_authority;            // its TSA's CN
  std::string time_source;                    // "timestamp" or "claimed" (unproven)
  UnixSeconds validation_time = 0;            // when the certificate was checked
  bool integrity = false;     // ranges, digest, signature, signing certificate all hold
  std::string coverage;       // "entire file", "revision 2 of 3", "tail uncovered", ...
  std::string modifications;  // "none", "signatures only", "form filling", "annotations", "other"
  bool certificate_valid_at_time = false;
  std::string chain;  // "trusted", "untrusted", ...
  // When the chain is trusted: the path's valid policy set within the caller's initial policy
  // set (RFC 5280 §6.1.6), dotted OIDs, "2.5.29.32.0" for anyPolicy; empty: none.
  std::vector<std::string> valid_policies;
  std::string revocation;         // "good", "revoked", "unknown", "not checked"
  std::string revocation_source;  // "DSS OCSP", "CMS CRL", "online OCSP", ...
  std::string digest_algorithm;
  std::string signature_algorithm;
  std::vector<Finding> findings;
};

struct DocumentReport {
  std::string file;
  std::string format;  // "PDF", "CMS detached", "CMS enveloping", "certificate"
  Indication indication = Indication::kIndeterminate;
  std::string sub_indication;
  UnixSeconds verified_at = 0;
  std::vector<SignatureReport> signatures;
  std::vector<Finding> findings;  // about the document as a whole
};

enum class Language { kVietnamese, kEnglish };

std::string RenderJson(const DocumentReport& report);
std::string RenderText(const DocumentReport& report, Language language);
// A printable, self-contained HTML page (no scripts, no external resources).
std::string RenderHtml(const DocumentReport& report, Language language);

// The overall indication of a document: VALID when every signature is, INVALID when any is,
// INDETERMINATE otherwise (or when there is no signature).
void Summarize(DocumentReport& report);

}  // namespace kyso::verify
