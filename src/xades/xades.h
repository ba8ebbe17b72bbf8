// XML signatures: XMLDSig core (W3C XML Signature 1.1) through xmlsec1, and the XAdES
// baseline qualifying properties on top (ETSI EN 319 132-1), for e-tax and e-insurance
// declarations (Thông tư 15/2025 makes XAdES mandatory for signing software).
//
// The only module that touches libxml2 and xmlsec (and, through xmlsec's OpenSSL back end,
// OpenSSL types: docs/architecture.md records the exception). Everything else sees these
// values.
//
// Defences of InspectXml (untrusted input):
//   - no DTD, no entity, no network (xades/xml.h); references resolve only to "" or "#Id" in
//     the same document, and every Id must be unique (a duplicate makes the document INVALID:
//     which element a reference means would be ambiguous, the signature-wrapping attack);
//   - only the transforms XMLDSig and XAdES need (the C14N family, enveloped signature, XPath,
//     XPath Filter 2.0, base64): no XSLT, no external XPointer;
//   - SHA-1 and unknown algorithms are CRYPTO_CONSTRAINTS_FAILURE (RSA < 2048 is the engine's
//     certificate check);
//   - every reference says exactly which element it signed.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/clock.h"
#include "base/result.h"
#include "crypto/signer.h"
#include "x509/certificate.h"

namespace kyso::xades {

// A reason a signature (or the document) does not pass, in ETSI TS 119 102-1 §5.1.3 terms:
// `failed` is TOTAL_FAILED (else INDETERMINATE); an empty sub_indication is a warning only.
struct Problem {
  std::string id;
  bool failed = false;
  std::string sub_indication;
  std::string detail;
};

// One ds:Reference of a SignedInfo and what it resolved to.
struct SignedObject {
  std::string uri;   // "" or "#id"
  std::string type;  // the Type attribute
  std::string what;  // "the whole document <ToKhai>", "<DLieu Id="body"> at /HSo/DLieu"
  bool digest_matches = false;
  bool signed_properties = false;
  std::string element;  // the target's local name ("" for the whole document or none)
  // The target is the first element of its name in document order: the one an application
  // reading the declaration takes (false when a signed copy sits behind a forged one).
  bool first_of_its_name = false;
};

struct XmlSignature {
  std::string id;                   // Signature/@Id
  std::string location;             // the Signature element's path
  std::string signature_algorithm;  // "rsa-sha256", "ecdsa-sha384", "rsa-pss-sha256", ...
  std::string digest_algorithm;     // of the references: "SHA-256", ...
  std::string level;                // "XMLDSig", "XAdES-B-B", "XAdES-B-T", "XAdES-B-LT"
  bool core_valid = false;          // every reference and the signature value hold (§3.2)
  std::vector<SignedObject> references;
  std::optional<x509::Certificate> signer;
  std::vector<x509::Certificate> certificates;  // KeyInfo, CertificateValues
  std::optional<UnixSeconds> signing_time;      // xades:SigningTime
  std::optional<Bytes> signature_timestamp;     // EncapsulatedTimeStamp (DER)
  Bytes timestamped;  // the canonical ds:SignatureValue element the time-stamp must cover
  std::vector<Bytes> crls, ocsp_responses;  // RevocationValues
  std::vector<Problem> problems;
};

struct XmlInspection {
  std::vector<Problem> problems;  // about the document (unreadable, DTD, duplicate Id)
  std::vector<XmlSignature> signatures;
};

// True when the bytes look like an XML document (optional BOM, then "<").
bool LooksLikeXml(ByteSpan bytes);

// Reads an untrusted document and checks the XMLDSig core and XAdES properties of every
// ds:Signature in it. Never fails: what is wrong is in the problems.
XmlInspection InspectXml(ByteSpan xml);

// --- Signing -----------------------------------------------------------------------------

// Detached signatures (a Reference to another file) are not made: kyso resolves references
// within the document only, so it could not verify one either.
enum class Packaging { kEnveloped, kEnveloping };
[[nodiscard]] Result<Packaging> ParsePackaging(std::string_view text);

enum class Level { kBB, kBT };
[[nodiscard]] Result<Level> ParseLevel(std::string_view text);  // "B-B", "B-T"

struct SignerCredentials {
  std::shared_ptr<const crypto::Signer> signer;
  x509::Certificate certificate;
  std::vector<x509::Certificate> chain;  // issuers, put in KeyInfo after the signer's
};

struct SignOptions {
  Packaging packaging = Packaging::kEnveloped;
  // Sign only the element with this Id (e.g. the declaration body); empty: the whole document.
  std::string element_id;
  // Enveloped: put the Signature as the last child of the first element with this local name
  // (e.g. "CKyDTu" in e-tax declarations); empty: of the root element.
  std::string parent_element;
  Level level = Level::kBB;
  crypto::DigestAlgorithm digest = crypto::DigestAlgorithm::kSha256;
  crypto::RsaPadding rsa_padding = crypto::RsaPadding::kPkcs1v15;
  UnixSeconds signing_time = 0;
  // SignerRoleV2/ClaimedRoles (e.g. the certificate's title); empty: none.
  std::string claimed_role;
  std::string mime_type = "text/xml";
  // B-T: sends a DER TimeStampReq, returns the DER TimeStampResp.
  std::function<Result<Bytes>(ByteSpan request)> time_stamp;
};

// Signs `input` (an XML document) and returns the signed document (enveloped or enveloping).
// Errors: those of xades/xml.h (xml.*), xades.duplicate_id, xades.no_element (element_id or
// parent_element not found), xades.key_mismatch, xades.unsupported_key, xades.sign (xmlsec failed),
// xades.no_tsa.
[[nodiscard]] Result<Bytes> SignXml(ByteSpan input, const SignerCredentials& credentials,
                                    const SignOptions& options);

}  // namespace kyso::xades
