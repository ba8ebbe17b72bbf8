// PAdES signing (ETSI EN 319 142-1): a CAdES-detached CMS signature in an incremental update
// of the PDF, at baseline levels B-B, B-T, B-LT and B-LTA; and the detached CAdES B-B
// signature of any file (ETSI EN 319 122-1) with the same credentials.
//
//   B-B   signature dictionary + CMS (content-type, message-digest, signing-certificate-v2; the
//         time in /M, §5.2.2), made in one streaming pass over the file.
//   B-T   + a signature time-stamp (id-aa-signatureTimeStampToken) from an RFC 3161 TSA (§5.3).
//   B-LT  + a DSS (§5.4.2) in a second update: the chain's certificates, the OCSP responses or
//         CRLs for each certificate (signer's and TSA's), their responders' certificates, and
//         a VRI entry for the signature.
//   B-LTA + a document time-stamp (§5.4.3) in a third update.
//
// Output is written to a temporary file beside the destination and renamed into place only
// when every revision is complete (and fsync'ed when `durable`), so a failure leaves nothing.
//
// Error ids (besides those of pdf/, x509/ and the services):
//   pades.key_mismatch       the signer does not hold the certificate's key
//   pades.certificate_expired / pades.certificate_not_yet_valid  at the signing time
//   pades.not_for_signing    the certificate's keyUsage lacks digitalSignature/nonRepudiation
//   pades.revoked            an OCSP responder says a certificate of the chain is revoked
//   pades.no_revocation_data B-LT: no OCSP or CRL could be obtained for a certificate
//   pades.no_services        B-T and above need a ValidationServices
//   pades.output             the output file cannot be written
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/clock.h"
#include "base/result.h"
#include "crypto/digest.h"
#include "crypto/signer.h"
#include "pdf/document.h"
#include "pdf/update.h"
#include "x509/certificate.h"

namespace kyso::pades {

enum class Level { kBB, kBT, kBLT, kBLTA };
Result<Level> ParseLevel(std::string_view text);  // "B-B", "b-t", "B-LT", "B-LTA"
std::string_view LevelName(Level level);

// The network side of B-T and above, injected so tests and the CLI can answer in-process.
class ValidationServices {
 public:
  virtual ~ValidationServices() = default;
  // Sends a DER TimeStampReq to the TSA; returns the DER TimeStampResp.
  virtual Result<Bytes> TimeStamp(ByteSpan request) = 0;
  // POSTs a DER OCSPRequest to `url` (from the certificate's AIA); returns the OCSPResponse.
  virtual Result<Bytes> Ocsp(const std::string& url, ByteSpan request) = 0;
  // GETs a DER CRL from `url` (from the certificate's CRL distribution points).
  virtual Result<Bytes> Crl(const std::string& url) = 0;
};

struct Credentials {
  std::shared_ptr<const crypto::Signer> signer;
  x509::Certificate certificate;
  std::vector<x509::Certificate> chain;  // issuers, from the signer's upwards; root optional
};

struct SignOptions {
  Level level = Level::kBB;
  crypto::DigestAlgorithm digest = crypto::DigestAlgorithm::kSha256;
  crypto::RsaPadding rsa_padding = crypto::RsaPadding::kPkcs1v15;
  UnixSeconds signing_time = 0;  // injected; becomes /M
  pdf::SignaturePlacement placement;
  pdf::SignatureSpec spec;           // /Reason, /Location, DocMDP, FieldMDP, ...
  pdf::AppearanceWriter appearance;  // empty: invisible
  bool durable = true;               // fsync the output before the rename
  ValidationServices* services = nullptr;
};

struct SignOutcome {
  std::string field_name;
  int page = 0;
  pdf::Rectangle rect;
  Level level = Level::kBB;
  size_t cms_size = 0;  // the signature's CMS, time-stamp included
  size_t output_size = 0;
  int revisions_added = 0;  // 1 (B-B, B-T), 2 (B-LT), 3 (B-LTA)
  size_t dss_certificates = 0, dss_ocsp_responses = 0, dss_crls = 0;
};

// Signs `document` and writes the result to `output_path` (atomically).
[[nodiscard]] Result<SignOutcome> SignPdf(const pdf::Document& document,
                                          const Credentials& credentials,
                                          const SignOptions& options,
                                          const std::string& output_path);

// A detached CAdES baseline B-B signature (ETSI EN 319 122-1 §6.3) over any bytes: a DER
// ContentInfo of id-signedData without eContent whose SignerInfo has content-type id-data,
// message-digest, signing-time (`signing_time`) and signing-certificate-v2, with the signer
// certificate and `credentials.chain` in SignedData.certificates. The credentials are checked
// as for SignPdf (pades.key_mismatch, pades.certificate_expired, ...). SHA-256; RSA PKCS#1
// v1.5 or ECDSA.
[[nodiscard]] Result<Bytes> SignDetachedCades(const Credentials& credentials, ByteSpan content,
                                              UnixSeconds signing_time);

}  // namespace kyso::pades
