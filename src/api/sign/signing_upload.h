// What the signing routes (POST /api/v1/sign/pdf, POST /api/v1/sign/file) share, so that each
// route only says how it signs: the caller authenticated through the SigningGate before the
// upload is read, the multipart/form-data body (RFC 7578) with its `file` and `key` parts, the
// key authorized before anything is signed, every outcome audited (a signature made, or an
// authorized use that failed), and refusals rendered with the status their Status code gives.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/sign/sign_pdf.h"
#include "http/message.h"
#include "http/multipart.h"
#include "pades/signer.h"

namespace kyso::api {

// A signing route's upload: the form and the server-held key it names.
struct SigningUpload {
  std::vector<http::MultipartPart> parts;  // in body order; views into the request body
  const http::MultipartPart* file = nullptr;
  std::string key_id;

  // The value of text part `name`; nullopt when absent or empty.
  std::optional<std::string> Field(std::string_view name) const;
  // Every part named `name` (repeatable fields such as `text`).
  std::vector<const http::MultipartPart*> PartsNamed(std::string_view name) const;
};

// What a route made: the answer handed out, and what the audit entry records of it.
struct SignedUpload {
  http::Response response;
  SignatureMade made;
};

// Signs `upload` with the credentials of its key, which the gate granted the caller.
using UploadSigner = std::function<Result<SignedUpload>(const SigningUpload& upload,
                                                        const pades::Credentials& credentials)>;

// The error answer of a refused caller; a 401 names the scheme (RFC 9110 §11.6.1).
http::Response Refusal(const Status& st);

// Authenticates, parses the body, requires `file` (sign.no_file, naming `file_description`)
// and `key` (sign.no_key), authorizes the key (the gate audits a refusal), runs `sign`, and
// audits the outcome: RecordFailure when `sign` fails, RecordSignature before the answer is
// handed out (no audit entry, no signed document). 503 sign.unavailable without a gate or a
// clock.
http::Response ServeSigningUpload(const SigningServices& services, http::Request& request,
                                  std::string_view file_description, const UploadSigner& sign);

}  // namespace kyso::api
