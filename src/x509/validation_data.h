// The client side of the validation services a signer calls (PAdES B-T, B-LT, B-LTA): building
// RFC 3161 time-stamp requests and OCSP requests, and checking and unpacking the answers before
// they are embedded in a signature or a PDF's DSS.
//
// Error ids:
//   timestamp.rejected          the TSA did not grant the request (its status and failure info
//                               are in the message)
//   timestamp.malformed         not a DER TimeStampResp with a token
//   timestamp.imprint_mismatch  the token time-stamps some other digest
//   timestamp.nonce_mismatch    the token does not echo our nonce (RFC 3161 §2.4.2)
//   ocsp.unsuccessful           responseStatus is not successful (RFC 6960 §4.2.1)
//   ocsp.malformed_response     not a DER OCSPResponse with a BasicOCSPResponse
//   ocsp.no_status              the response says nothing about the certificate asked for
//   ocsp.bad_signature          the response is not signed by the CA or a delegate it authorized
//   cms.malformed               not a DER ContentInfo of SignedData
#pragma once

#include <functional>
#include <optional>
#include <vector>

#include "base/bytes.h"
#include "base/clock.h"
#include "base/result.h"
#include "crypto/digest.h"
#include "x509/certificate.h"
#include "x509/ocsp.h"

namespace kyso::x509 {

// A TimeStampReq (RFC 3161 §2.4.1), version 1, certReq TRUE, with `nonce` (content octets of
// a positive INTEGER; empty: no nonce).
Bytes EncodeTimeStampRequest(crypto::DigestAlgorithm algorithm, ByteSpan digest, ByteSpan nonce);

// The TimeStampToken (a DER ContentInfo) of a granted TimeStampResp, once its imprint and
// nonce are checked against what was asked.
[[nodiscard]] Result<Bytes> TimeStampTokenOf(ByteSpan response, crypto::DigestAlgorithm algorithm,
                                             ByteSpan digest, ByteSpan nonce);

// Asks a TSA (`send` posts a DER TimeStampReq and returns the DER TimeStampResp) for a token
// over `digest` (SHA-256) with a fresh random nonce, and returns the checked token.
[[nodiscard]] Result<Bytes> RequestTimeStamp(
    const std::function<Result<Bytes>(ByteSpan request)>& send, ByteSpan digest);

// The certificates in a CMS SignedData's certificates field (e.g. a time-stamp token's TSA
// certificate), in order.
[[nodiscard]] Result<std::vector<Certificate>> CertificatesOfSignedData(ByteSpan cms);

// An OCSPRequest for `certificate` issued by `issuer` (SHA-1 CertID, as RFC 5019 §2.1.1 asks
// of clients; no nonce, so a pre-signed answer can be served).
Bytes EncodeOcspRequestFor(const Certificate& certificate, const Certificate& issuer);

struct OcspAnswer {
  OcspCertStatus status = OcspCertStatus::kUnknown;
  UnixSeconds this_update = 0;
  UnixSeconds produced_at = 0;
  std::optional<UnixSeconds> next_update;
  std::optional<UnixSeconds> revocation_time;
  // The responder's certificate when the response carries one (delegated responder).
  std::optional<Certificate> responder;
};

// Checks a DER OCSPResponse about `certificate`: successful, signed by `issuer` or by a
// responder certificate it carries that `issuer` signed with id-kp-OCSPSigning (RFC 6960
// §4.2.2.2), and holding a SingleResponse for the certificate.
[[nodiscard]] Result<OcspAnswer> InspectOcspResponse(ByteSpan response,
                                                     const Certificate& certificate,
                                                     const Certificate& issuer);

// SHA-1 for identifiers that standards still define with it (the DSS VRI key of ETSI EN 319
// 142-1 §5.4.2.3, OCSP CertIDs). Never for signatures.
Bytes Sha1ForIdentifier(ByteSpan data);

}  // namespace kyso::x509
