// POST /api/v1/sign/file: a detached CAdES signature (ETSI EN 319 122-1, baseline B-B) over any
// uploaded file, made with a key the server holds (kyso sign key add): the signature a managing
// agency's clerk puts on a registration request (Mẫu 01–09, over the exact bytes of GET
// /api/v1/requests/{id}/document) and the "any file: CAdES" signing of the portal.
//
// Authentication, per-key authorization and the audit trail are those of POST /api/v1/sign/pdf
// (sign_pdf.h, through the SigningGate): a signature made is audited as sign.file, a refusal as
// sign.refused, an authorized use that failed as sign.failed.
//
// The body is multipart/form-data (RFC 7578). Parts:
//   file   the bytes to sign (required; its filename names the answer)
//   key    the server-held key's id (required)
// The answer is the DER ContentInfo (RFC 5652 §3) as application/pkcs7-signature (RFC 5751
// §3.2.1), `Content-Disposition: attachment; filename="<name>.p7s"` (RFC 6266), with an
// X-Kyso-Signature-Level: B-B header; or a JSON error: 401 auth.required /
// auth.invalid_token, 403 auth.csrf or sign.key_not_authorized, 404 signing_key.not_found,
// 400 sign.no_file / sign.no_key / multipart.*, 409 when the key's
// certificate is not valid now (pades.certificate_expired, ...), 413 http.body_too_large above
// kSignFileMaxBody, 503 sign.unavailable when signing is not configured.
#pragma once

#include <string>
#include <string_view>

#include "api/sign/sign_pdf.h"
#include "http/message.h"

namespace kyso::api {

inline constexpr size_t kSignFileMaxBody = kSignPdfMaxBody;

http::Response SignFile(const SigningServices& services, http::Request& request);

// The name of the signature file for an upload named `filename`: its last path component
// (or "document") with ".p7s" appended.
std::string SignatureFileName(std::string_view filename);

// `attachment` with `name` as a quoted ASCII filename (other characters replaced by '_') and,
// when `name` is not plain ASCII, the UTF-8 name as filename* (RFC 6266 §4.3, RFC 8187).
std::string AttachmentDisposition(std::string_view name);

}  // namespace kyso::api
