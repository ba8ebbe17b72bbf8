// The document routes: POST /api/v1/sign/pdf signs an uploaded PDF with a key the server holds
// (kyso sign key add), POST /api/v1/sign/file (sign_file.h) any file with a detached CAdES
// signature; GET /api/v1/sign/keys lists the keys the caller may sign with.
//
// They need the same authentication as the rest of /api/v1 (a Bearer token, a cookie session
// with X-CSRF-Token for the POST, or a registered TLS client certificate), and a server-held
// key signs only for the accounts its owner body authorized (its clerk). The composition root
// supplies both checks through SigningGate, so this module stays free of the registration
// workflow; every use of a key, refused or not, is audited naming the account and the key.
//
// The body is multipart/form-data (RFC 7578). Parts:
//   file       the PDF (required)
//   image      a PNG for the appearance (signature, seal, initials)
//   key        the server-held key's id (required)
//   kind       approved | issued | copy | appendix | initials | invisible (default invisible)
//   page, rect ("x,y,w,h"), unit (pt|mm), field, level (B-B..B-LTA), reason, location,
//   contact, show_info (true/false), text (repeatable), copy_type, doc_number, seal_mm
// The answer is the signed PDF (application/pdf) with X-Kyso-Signature-Field, -Page and
// -Level headers, or a JSON error: 401 auth.required / auth.invalid_token without valid
// credentials, 403 auth.csrf (a cookie session without its CSRF token) or
// sign.key_not_authorized (the key's body did not authorize the caller), 404
// signing_key.not_found, 400 for bad input (the id says which: pdf.encrypted,
// pdf.rect_off_page, appearance.not_png, multipart.*, sign.*), 503 when signing is not
// configured. Nothing is signed unless the caller is authorized.
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

// The caller of a signing route, as the gate authenticated it.
struct SigningCaller {
  int64_t account_id = 0;
  std::string username;
  std::string auth_method;  // "session", "token", "certificate"
};

// A key the caller may sign with (GET /api/v1/sign/keys).
struct SigningKeySummary {
  std::string id;
  std::string subject;  // of the signing certificate (RFC 4514)
  std::string serial_hex;
  UnixSeconds not_after = 0;
  int64_t organization_id = 0;
  std::string organization_name;
};

// What a server-held key signed: a PDF (PAdES, audited as sign.pdf) or any file with a
// detached CAdES signature (POST /api/v1/sign/file, audited as sign.file).
enum class SignedFormat { kPades, kCades };

// One signature made with a server-held key, for the audit log.
struct SignatureMade {
  ByteSpan document;  // the file as uploaded (the audit entry records its SHA-256)
  std::string field;  // PAdES: the signature field and its page
  int page = 0;
  std::string level;  // "B-B", "B-T", ...
  SignedFormat format = SignedFormat::kPades;
};

// Authentication and per-key authorization, from the composition root (app).
class SigningGate {
 public:
  virtual ~SigningGate() = default;
  // The /api/v1 authentication. Unauthenticated auth.* (401) without valid credentials,
  // PermissionDenied auth.csrf (403) for a cookie session's write without its CSRF token.
  virtual Result<SigningCaller> Authenticate(const http::Request& request) = 0;
  // The credentials of `key_id` if `caller` may sign with it; a refusal is audited before it is
  // returned (403 sign.key_not_authorized, 404 signing_key.not_found).
  virtual Result<pades::Credentials> Authorize(const SigningCaller& caller,
                                               const std::string& key_id) = 0;
  // Audits a signature made. When this fails the signed document is not handed out.
  virtual Status RecordSignature(const SigningCaller& caller, const std::string& key_id,
                                 const SignatureMade& made) = 0;
  // Audits an authorized use that failed (a bad PDF, a placement off the page, ...).
  virtual void RecordFailure(const SigningCaller& caller, const std::string& key_id,
                             const Status& error) = 0;
  virtual Result<std::vector<SigningKeySummary>> KeysFor(const SigningCaller& caller) = 0;
};

struct SigningServices {
  // Authentication and per-key authorization; null: signing is not configured (503).
  SigningGate* gate = nullptr;
  pades::ValidationServices* validation = nullptr;
  std::string scratch_dir;  // where signed PDFs are assembled before they are sent
  const Clock* clock = nullptr;
  // POST /api/v1/verify: the trust anchors and intermediates, and where revocation data
  // comes from (null: embedded data only).
  std::vector<x509::Certificate> trust_anchors;
  std::vector<x509::Certificate> intermediates;
  verify::OnlineRevocation* online = nullptr;
};

// Registers POST /api/v1/sign/pdf, POST /api/v1/sign/file, GET /api/v1/sign/keys and POST
// /api/v1/verify. `services` must outlive the router.
void AddSigningRoutes(http::Router& router, const SigningServices* services);

http::Response SignPdf(const SigningServices& services, http::Request& request);
// GET /api/v1/sign/keys: {"items": [{"id", "subject", "serial", "not_after", "organization_id",
// "organization_name"}]}, the keys the caller may sign with.
http::Response ListSigningKeys(const SigningServices& services, http::Request& request);

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
