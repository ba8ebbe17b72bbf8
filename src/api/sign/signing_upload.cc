#include "api/sign/signing_upload.h"

namespace kyso::api {

namespace {

Result<SigningUpload> ParseUpload(const http::Request& request, std::string_view file_description) {
  SigningUpload upload;
  KYSO_ASSIGN_OR_RETURN(
      upload.parts, http::ParseMultipart(request.Header("content-type"), AsBytes(request.body)));
  for (const http::MultipartPart& part : upload.parts) {
    if (part.name == "file") upload.file = &part;
  }
  if (upload.file == nullptr) {
    return InvalidArgument("sign.no_file",
                           "the 'file' part (" + std::string(file_description) + ") is missing");
  }
  auto key_id = upload.Field("key");
  if (!key_id) {
    return InvalidArgument("sign.no_key", "the 'key' field (a server-held key id) is missing");
  }
  upload.key_id = std::move(*key_id);
  return upload;
}

Result<http::Response> SignFor(const SigningServices& s, const SigningCaller& caller,
                               const http::Request& request, std::string_view file_description,
                               const UploadSigner& sign) {
  KYSO_ASSIGN_OR_RETURN(SigningUpload upload, ParseUpload(request, file_description));
  // Authorization before the file is read or signed; the gate audits a refusal.
  KYSO_ASSIGN_OR_RETURN(pades::Credentials credentials, s.gate->Authorize(caller, upload.key_id));
  auto signed_upload = sign(upload, credentials);
  if (!signed_upload.ok()) {
    s.gate->RecordFailure(caller, upload.key_id, signed_upload.status());
    return signed_upload.status();
  }
  // No audit entry, no document: every signature made with a server-held key is on record.
  KYSO_RETURN_IF_ERROR(s.gate->RecordSignature(caller, upload.key_id, signed_upload->made));
  signed_upload->response.Header("Cache-Control", "no-store");
  return std::move(signed_upload->response);
}

}  // namespace

std::optional<std::string> SigningUpload::Field(std::string_view name) const {
  std::optional<std::string> value;
  for (const http::MultipartPart* part : PartsNamed(name)) {
    value = std::string(AsString(part->data));
  }
  if (value && value->empty()) return std::nullopt;
  return value;
}

std::vector<const http::MultipartPart*> SigningUpload::PartsNamed(std::string_view name) const {
  std::vector<const http::MultipartPart*> out;
  for (const http::MultipartPart& part : parts) {
    if (part.name == name) out.push_back(&part);
  }
  return out;
}

http::Response Refusal(const Status& st) {
  http::Response r = http::Response::FromStatus(st);
  if (st.code() == StatusCode::kUnauthenticated) {
    r.Header("WWW-Authenticate", "Bearer realm=\"kyso\"");
  }
  return r;
}

http::Response ServeSigningUpload(const SigningServices& s, http::Request& request,
                                  std::string_view file_description, const UploadSigner& sign) {
  // Where the request comes from proves nothing (behind a reverse proxy every caller looks
  // local): the caller authenticates like anywhere else in /api/v1.
  if (s.gate == nullptr || s.clock == nullptr) {
    return http::Response::Error(503, "sign.unavailable", "document signing is not configured");
  }
  auto caller = s.gate->Authenticate(request);
  if (!caller.ok()) return Refusal(caller.status());
  auto response = SignFor(s, *caller, request, file_description, sign);
  if (!response.ok()) return Refusal(response.status());
  return std::move(response).value();
}

}  // namespace kyso::api
