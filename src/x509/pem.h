// Inputs a user hands over (files, form fields) that may be PEM (RFC 7468) or DER: one helper,
// so that every certificate, CRL, OCSP response and CMS input of the CLI and the API takes
// both, and an unreadable one is an error with a stable id instead of being skipped.
//
// DER is recognised by its first octet (every one of these objects is a SEQUENCE, 0x30); any
// other input is read as PEM text. In PEM, the blocks whose label names the kind are taken in
// order and blocks with other labels (a private key beside a certificate, say) are skipped.
// Every object is decoded once to check it: an input with no object of the kind, a truncated
// or corrupt block, or DER with trailing bytes is InvalidArgument with the kind's id:
//   kCertificate   cert.malformed             labels CERTIFICATE, X509 CERTIFICATE
//   kCrl           crl.malformed              label  X509 CRL
//   kOcspResponse  ocsp.malformed_response    label  OCSP RESPONSE (as OpenSSL writes it)
//   kCms           cms.malformed              labels CMS, PKCS7, PKCS #7 SIGNED DATA
//
// Thread-safety: stateless.
#pragma once

#include <vector>

#include "base/bytes.h"
#include "base/result.h"

namespace kyso::x509 {

enum class DerKind { kCertificate, kCrl, kOcspResponse, kCms };

// The DER encodings of the objects of `kind` in `input` (PEM or DER), in order; never empty.
[[nodiscard]] Result<std::vector<Bytes>> DerObjectsOf(ByteSpan input, DerKind kind);

}  // namespace kyso::x509
