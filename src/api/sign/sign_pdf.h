// The document routes: POST /api/v1/sign/pdf signs an uploaded PDF with a key the server holds
// (kyso sign key add).
//
// The body is multipart/form-data (RFC 7578). Parts:
//   file       the PDF (required)
//   image      a PNG for the appearance (signature, seal, initials)
//   key        the server-held key's id (required)
//   kind       approved | issued | copy | appendix | initials | invisible (default invisible)
//   page, rect ("x,y,w,h"), unit (pt|mm), field, level (B-B..B-LTA), reason, location,
//   contact, show_info (true/false), text (repeatable), copy_type, doc_number, seal_mm
// The answer is the signed PDF (application/pdf) with X-Kyso-Signature-Field, -Page and
// -Level headers, or a JSON error: 400 for bad input (the id says which: pdf.encrypted,
// pdf.rect_off_page, appearance.not_png, multipart.*, sign.*), 403 for a caller that is not
// on this machine (access control arrives with the registration workflow), 404 for an unknown
// key, 503 when signing is not configured.
#pragma once

#include <functional>
#include <string>

#include "base/clock.h"
#include "http/message.h"
#include "http/router.h"
#include "pades/signer.h"
#include "verify/engine.h"

namespace kyso::api {

inline constexpr size_t kSignPdfMaxBody = 64u << 20;

struct SigningServices {
  // The credentials of a server-held key; NotFound signing_key.not_found for an unknown id.
  std::function<Result<pades::Credentials>(const std::string& key_id)> credentials;
  pades::ValidationServices* validation = nullptr;
  std::string scratch_dir;  // where signed files are assembled before they are sent
  const Clock* clock = nullptr;
  // POST /api/v1/verify: the trust anchors and intermediates, and where revocation data
  // comes from (null: embedded data only).
  std::vector<x509::Certificate> trust_anchors;
  std::vector<x509::Certificate> intermediates;
  verify::OnlineRevocation* online = nullptr;
};

// Registers POST /api/v1/sign/pdf and POST /api/v1/verify. `services` must outlive the
// router.
void AddSigningRoutes(http::Router& router, const SigningServices* services);

http::Response SignPdf(const SigningServices& services, http::Request& request);

// POST /api/v1/verify: multipart `file` (PDF, .p7s or .p7m, CMS in PEM or DER), optional
// `content` (the data of a detached .p7s), `offline` (true/false), `lang` (vi|en); more
// revocation data and intermediates as repeatable `crl`, `ocsp` and `untrusted` parts (PEM or
// DER); the RFC 5280 §6.1.1 initial policy inputs as repeatable `policy` (dotted OIDs) and
// `explicit_policy`, `inhibit_policy_mapping`, `inhibit_any_policy` (true/false). JSON report
// by default; `?format=html` gives the printable report. 200 with the report whatever the
// verdict; 400 for an unreadable part (crl.malformed, ocsp.malformed_response,
// cert.malformed, cms.malformed) or option (verify.bad_option).
http::Response Verify(const SigningServices& services, http::Request& request);

}  // namespace kyso::api
