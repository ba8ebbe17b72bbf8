#include "api/sign/sign_file.h"

#include "api/sign/signing_upload.h"
#include "pades/signer.h"

namespace kyso::api {

namespace {

// ETSI EN 319 122-1 §6.3 (CAdES-B-B), over the uploaded bytes exactly as received. RFC 5751
// §3.2.1: "application/pkcs7-signature | signedData | .p7s" — the media type and file
// extension of a detached signature.
Result<SignedUpload> SignUploadedFile(const SigningServices& s, const SigningUpload& upload,
                                      const pades::Credentials& credentials) {
  const ByteSpan content = upload.file->data;
  KYSO_ASSIGN_OR_RETURN(Bytes cms, pades::SignDetachedCades(credentials, content, s.clock->Now()));
  http::Response r =
      http::Response::Binary(200, "application/pkcs7-signature", std::string(AsString(cms)));
  r.Header("Content-Disposition",
           AttachmentDisposition(SignatureFileName(upload.file->filename.value_or(""))));
  r.Header("X-Kyso-Signature-Level", "B-B");
  return SignedUpload{std::move(r),
                      {.document = content, .level = "B-B", .format = SignedFormat::kCades}};
}

bool PlainAsciiNameChar(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '-' || c == '_' || c == ' ' || c == '(' || c == ')';
}

}  // namespace

std::string SignatureFileName(std::string_view filename) {
  // A browser may send a full path (C:\Users\...\a.json): keep the last component.
  const size_t slash = filename.find_last_of("/\\");
  if (slash != std::string_view::npos) filename.remove_prefix(slash + 1);
  std::string name;
  for (char c : filename) {
    if (static_cast<unsigned char>(c) >= 0x20 && c != 0x7f) name.push_back(c);
  }
  if (name.empty() || name == "." || name == "..") name = "document";
  return name + ".p7s";
}

// RFC 6266 §4.3: "when both 'filename' and 'filename*' are present in a single header field
// value, recipients SHOULD pick 'filename*' and ignore 'filename'"; RFC 8187 §3.2.1 lets
// attr-char (ALPHA / DIGIT / "-" / "." / "_" among others) stand and percent-encodes the rest.
std::string AttachmentDisposition(std::string_view name) {
  std::string ascii;
  std::string encoded;  // RFC 8187 §3.2.1 attr-char, percent-encoded otherwise
  bool plain = true;
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (char ch : name) {
    const auto c = static_cast<unsigned char>(ch);
    const bool ok = PlainAsciiNameChar(c);
    plain = plain && ok;
    ascii.push_back(ok ? ch : '_');
    if (ok && c != ' ' && c != '(' && c != ')') {
      encoded.push_back(ch);
    } else {
      encoded += {'%', kHex[c >> 4], kHex[c & 15]};
    }
  }
  std::string header = "attachment; filename=\"" + ascii + "\"";
  if (!plain) header += "; filename*=UTF-8''" + encoded;
  return header;
}

http::Response SignFile(const SigningServices& s, http::Request& request) {
  return ServeSigningUpload(s, request, "the bytes to sign",
                            [&s](const SigningUpload& upload, const pades::Credentials& key) {
                              return SignUploadedFile(s, upload, key);
                            });
}

}  // namespace kyso::api
