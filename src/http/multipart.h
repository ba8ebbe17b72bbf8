// ParseMultipart: a strict, bounded, zero-copy multipart/form-data parser (RFC 7578, with the
// body syntax of RFC 2046 §5.1.1) for request bodies such as POST /api/v1/sign/pdf (a file and
// its options).
//
// The body is untrusted input. The parser
// - never copies part contents: each MultipartPart::data is a view into `body`, valid as long
//   as `body` is;
// - does work linear in the body size (the delimiter search is glibc's memmem, linear in the
//   worst case) plus at most max_parts × max_header_bytes for the part headers;
// - accepts only the RFC 2046 grammar: an optional preamble, "--boundary" lines ending in CRLF
//   (transport padding allowed), the CRLF before each delimiter belonging to the delimiter, a
//   closing "--boundary--", and an optional epilogue after a CRLF. Part header lines are
//   `name: value` ending in CRLF, without obsolete line folding or control characters.
// - requires `Content-Disposition: form-data; name="..."` (non-empty name) on every part and
//   names unique within the body. `filename` is returned unescaped (RFC 7230 quoted-pair);
//   `filename*` (RFC 5987) and unknown parameters and headers are ignored. Content-Type
//   defaults to "text/plain" (RFC 7578 §4.4). Content-Transfer-Encoding is ignored (RFC 7578
//   §4.7: deprecated, data is taken as sent).
//
// Errors are InvalidArgument (HTTP 400) with ids: multipart.not_multipart (media type is not
// multipart/form-data), multipart.no_boundary, multipart.bad_boundary (not 1–70 RFC 2046
// bchars, or ends in a space), multipart.malformed (bad Content-Type parameters, missing
// opening or closing delimiter, missing CRLF, bad header line, missing form-data name),
// multipart.too_many_parts, multipart.header_too_large, multipart.duplicate_name.
//
// Thread-safety: a pure function.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/result.h"

namespace kyso::http {

struct MultipartPart {
  std::string name;                     // the form field name
  std::optional<std::string> filename;  // present when the part is a file upload
  std::string content_type;             // as sent; "text/plain" when absent
  ByteSpan data;                        // view into the body passed to ParseMultipart
};

struct MultipartLimits {
  size_t max_parts = 32;
  // Per part: the bytes of its header lines, CRLFs included, the blank line excluded.
  size_t max_header_bytes = 8192;
};

// `content_type` is the request's Content-Type header value, e.g.
// `multipart/form-data; boundary="abc"`. Parts are returned in body order.
Result<std::vector<MultipartPart>> ParseMultipart(std::string_view content_type, ByteSpan body,
                                                  const MultipartLimits& limits = {});

}  // namespace kyso::http
