// The verification engine: `kyso verify` for PDFs (PAdES and adbe.pkcs7.detached signatures,
// document time-stamps), detached (.p7s) and enveloping (.p7m) CMS, XML (XAdES, XMLDSig) and
// single certificates.
//
// For every signature (ETSI TS 119 102-1 §5.2, the basic building blocks):
//   format and integrity   ByteRange coverage, message digest, signature over the signed
//                          attributes, signing-certificate-v2 (x509/cms_verify.h, pdf/revisions.h)
//   modifications          what later revisions changed and whether DocMDP/FieldMDP allow it
//   time                   the signature time-stamp's genTime when it verifies (its TSA chain
//                          too), else the claimed time (/M, signingTime), flagged as unproven
//   certificate            the path to a trust anchor at that time (x509/path.h), keyUsage and
//                          EKU for document signing, and the algorithms Thông tư 15/2025 allows
//   revocation             embedded data first (DSS, CMS), then OCSP from the AIA, then the
//                          CRL (not in offline mode); an undeterminable status is INDETERMINATE
// Results are a report (verify/report.h), never an error: a Result error means the input could
// not be read at all.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/clock.h"
#include "base/result.h"
#include "pdf/document.h"
#include "verify/report.h"
#include "x509/certificate.h"
#include "x509/path.h"

namespace kyso::verify {

// Fetches revocation data from the URLs in certificates (injected: the CLI answers its own
// instance's URLs in-process, others over HTTP).
class OnlineRevocation {
 public:
  virtual ~OnlineRevocation() = default;
  virtual Result<Bytes> Ocsp(const std::string& url, ByteSpan request) = 0;
  virtual Result<Bytes> Crl(const std::string& url) = 0;
};

struct VerifyOptions {
  std::vector<x509::Certificate> trust_anchors;  // default: the local instance's CAs
  std::vector<x509::Certificate> untrusted;      // more intermediates for path building
  std::vector<Bytes> crls;                       // more CRLs, DER (--crl)
  std::vector<Bytes> ocsp_responses;             // more OCSP responses, DER (--ocsp)
  // RFC 5280 §6.1.1 initial policy inputs for the signer's path (--policy, --explicit-policy,
  // --inhibit-policy-mapping, --inhibit-any-policy); time-stamping units' paths do without.
  x509::PolicyInputs policy;
  // XML: the element (local name) every signature must cover, e.g. "HSoKhaiThue" for an e-tax
  // declaration (--signed-element). The signed element must be the first of that name in the
  // document, so that a signed copy hidden behind a forged one (signature wrapping) fails.
  std::string xml_signed_element;
  bool offline = false;           // embedded revocation data only
  std::optional<UnixSeconds> at;  // validate at this time instead
  UnixSeconds now = 0;            // injected clock
  OnlineRevocation* online = nullptr;
};

// `file` is the whole PDF. `document` is the same file opened with pdf::Document (for its DSS),
// or null when Document refused it (a file QPDF would have to repair is still analysed).
[[nodiscard]] Result<DocumentReport> VerifyPdf(ByteSpan file, const pdf::Document* document,
                                               const std::string& name,
                                               const VerifyOptions& options);

// A .p7s with its content (`content` set) or an enveloping .p7m (`content` empty).
[[nodiscard]] Result<DocumentReport> VerifyCms(ByteSpan cms, std::optional<ByteSpan> content,
                                               const std::string& name,
                                               const VerifyOptions& options);

// An XML document: every ds:Signature in it, XMLDSig and XAdES (B-B, B-T, B-LT), checked by
// xades::InspectXml, then time and certificate as for CMS. Same-document references only.
// True when the bytes look like XML (a BOM or blanks, then '<').
bool LooksLikeXml(ByteSpan bytes);
[[nodiscard]] Result<DocumentReport> VerifyXml(ByteSpan xml, const std::string& name,
                                               const VerifyOptions& options);

// One certificate's path and revocation status at options.at (or now).
DocumentReport VerifyCertificate(const x509::Certificate& certificate, const std::string& name,
                                 const VerifyOptions& options);

}  // namespace kyso::verify
