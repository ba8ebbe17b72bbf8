#include "x509/timestamp.h"

#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pkcs7.h>
#include <openssl/ts.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <ctime>
#include <initializer_list>

#include "crypto/digest.h"
#include "crypto/openssl_error.h"
#include "x509/der_writer.h"
#include "x509/openssl_util.h"

namespace kyso::x509 {

namespace {

// DER helpers (Tlv, OidTlv, DerReader, ...) live in x509/der_writer.h.
using namespace internal::der;  // NOLINT(google-build-using-namespace): internal helpers

// --- object identifiers -----------------------------------------------------------------------

// RFC 3161 §2.4.2 id-ct-TSTInfo (the CMS OIDs are in der_writer.h).
constexpr std::string_view kIdCtTstInfo = "1.2.840.113549.1.9.16.1.4";

struct ImprintAlgorithmInfo {
  ImprintAlgorithm alg;
  std::string_view name;
  std::string_view oid;
  size_t size;
  const char* openssl_name;  // to ask OpenSSL whether it knows the algorithm
};

// RFC 5754 §2 (SHA-2), NIST CSOR (SHA-3).
constexpr std::array<ImprintAlgorithmInfo, 6> kImprintAlgorithms = {{
    {ImprintAlgorithm::kSha256, "SHA-256", "2.16.840.1.101.3.4.2.1", 32, "SHA2-256"},
    {ImprintAlgorithm::kSha384, "SHA-384", "2.16.840.1.101.3.4.2.2", 48, "SHA2-384"},
    {ImprintAlgorithm::kSha512, "SHA-512", "2.16.840.1.101.3.4.2.3", 64, "SHA2-512"},
    {ImprintAlgorithm::kSha3_256, "SHA3-256", "2.16.840.1.101.3.4.2.8", 32, "SHA3-256"},
    {ImprintAlgorithm::kSha3_384, "SHA3-384", "2.16.840.1.101.3.4.2.9", 48, "SHA3-384"},
    {ImprintAlgorithm::kSha3_512, "SHA3-512", "2.16.840.1.101.3.4.2.10", 64, "SHA3-512"},
}};

// Refused by name, so the status string can say why.
constexpr std::array<std::pair<std::string_view, std::string_view>, 2> kBrokenAlgorithms = {{
    {"1.3.14.3.2.26", "SHA-1"},
    {"1.2.840.113549.2.5", "MD5"},
}};

struct KnownImprintAlgorithm {
  const ImprintAlgorithmInfo* info;
  Bytes oid;  // content octets
};

// The accepted algorithms OpenSSL can also compute (a verifier must be able to check the
// imprint), with their OID octets; built once.
const std::vector<KnownImprintAlgorithm>& AcceptedAlgorithms() {
  static const std::vector<KnownImprintAlgorithm> accepted = [] {
    std::vector<KnownImprintAlgorithm> out;
    for (const auto& info : kImprintAlgorithms) {
      EVP_MD* md = EVP_MD_fetch(nullptr, info.openssl_name, nullptr);
      if (md == nullptr) continue;
      EVP_MD_free(md);
      out.push_back({&info, *OidFromText(info.oid)});
    }
    crypto::DrainOpenSslErrors();
    return out;
  }();
  return accepted;
}

std::string AcceptedAlgorithmNames() {
  std::string out;
  for (const auto& a : AcceptedAlgorithms()) {
    out += (out.empty() ? "" : ", ") + std::string(a.info->name);
  }
  return out;
}

// AlgorithmIdentifier of a SignerInfo signatureAlgorithm.
//   RFC 5754 §3.2: sha{256,384,512}WithRSAEncryption "the parameters MUST be NULL".
//   RFC 5758 §3.2 / RFC 5753 §2.1.1: ecdsa-with-SHA{256,384,512} with parameters absent.
std::optional<Bytes> SignatureAlgorithmIdentifier(const crypto::KeySpec& key,
                                                  const crypto::SignatureScheme& scheme) {
  static constexpr uint8_t kNullParams[] = {kNull, 0x00};
  const char* suffix = scheme.digest == crypto::DigestAlgorithm::kSha256   ? "2"
                       : scheme.digest == crypto::DigestAlgorithm::kSha384 ? "3"
                                                                           : "4";
  switch (key.algorithm) {
    case crypto::KeyAlgorithm::kRsa: {
      if (scheme.padding != crypto::RsaPadding::kPkcs1v15) return std::nullopt;
      std::string oid = std::string("1.2.840.113549.1.1.") +
                        (scheme.digest == crypto::DigestAlgorithm::kSha256   ? "11"
                         : scheme.digest == crypto::DigestAlgorithm::kSha384 ? "12"
                                                                             : "13");
      return Tlv(kSequence, {OidTlv(oid), kNullParams});
    }
    case crypto::KeyAlgorithm::kEcdsa:
      return Tlv(kSequence, {OidTlv(std::string("1.2.840.10045.4.3.") + suffix)});
    case crypto::KeyAlgorithm::kEd25519:
      return std::nullopt;
  }
  return std::nullopt;
}

Status BadDataFormat(std::string message) {
  return InvalidArgument("timestamp.bad_data_format", std::move(message));
}
Status BadAlg(std::string message) {
  return InvalidArgument("timestamp.bad_alg", std::move(message));
}
Status BadRequest(std::string message) {
  return InvalidArgument("timestamp.bad_request", std::move(message));
}

struct FailureName {
  TspFailure failure;
  std::string_view name;
  std::string_view status_id;  // ParseTimeStampRequest's id for it, if any
};
constexpr std::array<FailureName, 8> kFailures = {{
    {TspFailure::kBadAlg, "badAlg", "timestamp.bad_alg"},
    {TspFailure::kBadRequest, "badRequest", "timestamp.bad_request"},
    {TspFailure::kBadDataFormat, "badDataFormat", "timestamp.bad_data_format"},
    {TspFailure::kTimeNotAvailable, "timeNotAvailable", ""},
    {TspFailure::kUnacceptedPolicy, "unacceptedPolicy", ""},
    {TspFailure::kUnacceptedExtension, "unacceptedExtension", "timestamp.unaccepted_extension"},
    {TspFailure::kAddInfoNotAvailable, "addInfoNotAvailable", ""},
    {TspFailure::kSystemFailure, "systemFailure", ""},
}};

// The request's fields as DER elements, before any check of their meaning: reading stops at
// the first structural error (badDataFormat); the meaning is checked afterwards, so that a
// well-formed request gets the precise failure (badAlg, badRequest, ...).
struct RawRequest {
  ByteSpan version;
  ByteSpan message_imprint;  // the whole element
  ByteSpan hash_oid;
  std::optional<ByteSpan> hash_params;  // the whole element
  ByteSpan hashed_message;
  std::optional<ByteSpan> policy;
  std::optional<ByteSpan> nonce;
  bool cert_req = false;
  std::vector<std::pair<ByteSpan, bool>> extensions;  // (extnID, critical)
};

//= https://www.rfc-editor.org/rfc/rfc3161#section-2.4.1
//# TimeStampReq ::= SEQUENCE  {
//#    version                      INTEGER  { v1(1) },
//#    messageImprint               MessageImprint,
//#    reqPolicy             TSAPolicyId              OPTIONAL,
//#    nonce                 INTEGER                  OPTIONAL,
//#    certReq               BOOLEAN                  DEFAULT FALSE,
//#    extensions            [0] IMPLICIT Extensions  OPTIONAL  }
//# MessageImprint ::= SEQUENCE  {
//#    hashAlgorithm                AlgorithmIdentifier,
//#    hashedMessage                OCTET STRING  }
bool ReadRawRequest(ByteSpan der, RawRequest* out) {
  DerReader input(der);
  ByteSpan request;
  if (!input.Read(kSequence, &request) || !input.empty()) return false;
  DerReader r(request);
  if (!r.Read(kInteger, &out->version) || !IsDerInteger(out->version)) return false;

  ByteSpan imprint, algorithm;
  if (!r.Read(kSequence, &imprint, &out->message_imprint)) return false;
  DerReader mi(imprint);
  if (!mi.Read(kSequence, &algorithm) || !mi.Read(kOctetString, &out->hashed_message) ||
      !mi.empty()) {
    return false;
  }
  DerReader ai(algorithm);
  if (!ai.Read(kOid, &out->hash_oid) || !IsDerOid(out->hash_oid)) return false;
  if (!ai.empty()) {
    uint8_t tag = 0;
    ByteSpan contents, element;
    if (!ai.ReadAny(&tag, &contents, &element) || !ai.empty()) return false;
    out->hash_params = element;
  }

  ByteSpan value;
  if (r.Peek(kOid)) {
    if (!r.Read(kOid, &value) || !IsDerOid(value)) return false;
    out->policy = value;
  }
  if (r.Peek(kInteger)) {
    if (!r.Read(kInteger, &value) || !IsDerInteger(value)) return false;
    out->nonce = value;
  }
  // DER leaves out a BOOLEAN equal to its DEFAULT (X.690 §11.5); an explicit FALSE is
  // tolerated: it means the same.
  if (r.Peek(kBoolean) && !ReadDerBoolean(r, &out->cert_req)) return false;
  if (r.Peek(kContext0)) {
    // RFC 5280 §4.1: Extensions ::= SEQUENCE SIZE (1..MAX) OF Extension
    //                Extension ::= SEQUENCE { extnID OBJECT IDENTIFIER,
    //                  critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }
    ByteSpan list;
    if (!r.Read(kContext0, &list) || list.empty()) return false;
    DerReader exts(list);
    while (!exts.empty()) {
      ByteSpan ext, id, ext_value;
      bool critical = false;
      if (!exts.Read(kSequence, &ext)) return false;
      DerReader e(ext);
      if (!e.Read(kOid, &id) || !IsDerOid(id)) return false;
      if (e.Peek(kBoolean) && !ReadDerBoolean(e, &critical)) return false;
      if (!e.Read(kOctetString, &ext_value) || !e.empty()) return false;
      out->extensions.emplace_back(id, critical);
    }
  }
  return r.empty();
}

// PKIStatusInfo ::= SEQUENCE { status PKIStatus, statusString PKIFreeText OPTIONAL,
//                              failInfo PKIFailureInfo OPTIONAL }
// PKIFreeText ::= SEQUENCE SIZE (1..MAX) OF UTF8String   (RFC 3161 §2.4.2, RFC 4210 §5.1.1)
constexpr uint8_t kStatusGranted[] = {kSequence, 0x03, kInteger, 0x01, 0x00};
constexpr uint8_t kVersion1[] = {kInteger, 0x01, 0x01};
constexpr uint8_t kVersion3[] = {kInteger, 0x01, 0x03};

// A named-bit BIT STRING with one bit set, trailing zero bits removed (X.690 §11.2.2).
Bytes FailureInfoBits(TspFailure failure) {
  int bit = static_cast<int>(failure);
  Bytes contents(static_cast<size_t>(bit / 8 + 2), 0);
  contents[0] = static_cast<uint8_t>(7 - bit % 8);  // unused bits in the last octet
  contents[static_cast<size_t>(bit / 8 + 1)] = static_cast<uint8_t>(0x80 >> (bit % 8));
  return Tlv(kBitString, {contents});
}

// The content octets of an INTEGER, as our parser reports them.
Bytes IntegerContents(const ASN1_INTEGER* value) {
  Bytes der = IntegerDer(value);
  DerReader r(der);
  ByteSpan c;
  if (!r.Read(kInteger, &c)) return {};
  return Bytes(c.begin(), c.end());
}

Status InvalidOptions(std::string message) {
  return InvalidArgument("timestamp.invalid_options", std::move(message));
}

}  // namespace

// --- failures ---------------------------------------------------------------------------------

std::string_view TspFailureName(TspFailure failure) {
  for (const auto& f : kFailures) {
    if (f.failure == failure) return f.name;
  }
  return "systemFailure";
}

TspFailure TspFailureOf(const Status& status) {
  for (const auto& f : kFailures) {
    if (!f.status_id.empty() && f.status_id == status.id()) return f.failure;
  }
  return TspFailure::kSystemFailure;
}

std::string_view ImprintAlgorithmName(ImprintAlgorithm alg) {
  for (const auto& a : kImprintAlgorithms) {
    if (a.alg == alg) return a.name;
  }
  return "?";
}

// --- the request ------------------------------------------------------------------------------

Result<TimeStampRequest> ParseTimeStampRequest(ByteSpan der) {
  if (der.size() > TimeStampRequest::kMaxSize) {
    return BadRequest("request of " + std::to_string(der.size()) + " bytes; at most " +
                      std::to_string(TimeStampRequest::kMaxSize) + " are accepted");
  }
  RawRequest raw;
  if (!ReadRawRequest(der, &raw)) {
    //= https://www.rfc-editor.org/rfc/rfc3161#section-2.4.2
    //# badDataFormat (5), -- the data submitted has the wrong format
    return BadDataFormat("not a DER TimeStampReq (RFC 3161 §2.4.1)");
  }

  TimeStampRequest out;
  if (raw.version.size() != 1 || raw.version[0] != 1) {
    return BadRequest("unsupported TimeStampReq version (only v1 is defined)");
  }

  //# badAlg (0), -- unrecognized or unsupported Algorithm Identifier
  const KnownImprintAlgorithm* alg = nullptr;
  for (const auto& a : AcceptedAlgorithms()) {
    if (std::ranges::equal(a.oid, raw.hash_oid)) alg = &a;
  }
  if (alg == nullptr) {
    std::string oid = OidToText(raw.hash_oid);
    for (const auto& [broken_oid, name] : kBrokenAlgorithms) {
      if (oid == broken_oid) {
        return BadAlg(std::string(name) + " is not accepted: it is not collision-resistant; use " +
                      AcceptedAlgorithmNames());
      }
    }
    return BadAlg("hash algorithm " + oid + " is not supported; use " + AcceptedAlgorithmNames());
  }
  // RFC 5754 §2: "Implementations MUST accept SHA2 AlgorithmIdentifiers with absent
  // parameters. Implementations MUST accept SHA2 AlgorithmIdentifiers with NULL parameters."
  // Any other parameters make it an algorithm we do not know.
  static constexpr uint8_t kNullElement[] = {kNull, 0x00};
  if (raw.hash_params && !std::ranges::equal(*raw.hash_params, kNullElement)) {
    return BadAlg(std::string(alg->info->name) + " with parameters other than NULL");
  }
  out.hash_algorithm = alg->info->alg;
  if (raw.hashed_message.size() != alg->info->size) {
    return BadRequest("hashedMessage has " + std::to_string(raw.hashed_message.size()) +
                      " bytes; a " + std::string(alg->info->name) + " hash has " +
                      std::to_string(alg->info->size));
  }
  out.hashed_message.assign(raw.hashed_message.begin(), raw.hashed_message.end());
  out.message_imprint_der.assign(raw.message_imprint.begin(), raw.message_imprint.end());

  if (raw.policy) out.policy_oid = OidToText(*raw.policy);
  if (raw.nonce) {
    if (raw.nonce->size() > TimeStampRequest::kMaxNonceBytes) {
      return BadRequest("nonce of " + std::to_string(raw.nonce->size()) + " bytes; at most " +
                        std::to_string(TimeStampRequest::kMaxNonceBytes) + " are accepted");
    }
    out.nonce = Bytes(raw.nonce->begin(), raw.nonce->end());
  }
  out.cert_req = raw.cert_req;

  //= https://www.rfc-editor.org/rfc/rfc3161#section-2.4.1
  //# If an extension, whether it is marked critical or not critical, is used by a requester
  //# but is not recognized by a time-stamping server, the server SHALL not issue a token and
  //# SHALL return a failure (unacceptedExtension).
  // kyso recognizes no extension, so any extension is refused.
  if (!raw.extensions.empty()) {
    const auto& [id, critical] = raw.extensions.front();
    return InvalidArgument("timestamp.unaccepted_extension",
                           std::string(critical ? "critical" : "non-critical") + " extension " +
                               OidToText(id) + " is not supported");
  }
  return out;
}

// --- responses --------------------------------------------------------------------------------

//= https://www.rfc-editor.org/rfc/rfc3161#section-2.4.2
//# TimeStampResp ::= SEQUENCE  {
//#    status                  PKIStatusInfo,
//#    timeStampToken          TimeStampToken     OPTIONAL  }
//# When the status contains the value zero or one, a TimeStampToken MUST be present. When
//# status contains a value other than zero or one, a TimeStampToken MUST NOT be present.
Bytes BuildTimeStampRejection(TspFailure failure, std::string_view status_string) {
  static constexpr uint8_t kRejection[] = {kInteger, 0x01, 0x02};
  Bytes text = Tlv(kUtf8String, {AsBytes(status_string)});
  Bytes free_text = Tlv(kSequence, {text});
  Bytes fail_info = FailureInfoBits(failure);
  return Tlv(kSequence, {Tlv(kSequence, {kRejection, free_text, fail_info})});
}

struct TimeStampSigner::State {
  Certificate certificate;
  std::shared_ptr<const crypto::Signer> signer;
  crypto::SignatureScheme scheme;
  std::string policy_oid;
  // Parts of every token, encoded once:
  Bytes policy;               // TSTInfo policy
  Bytes accuracy;             // TSTInfo accuracy, or empty
  Bytes tsa_name;             // TSTInfo tsa, or empty
  Bytes digest_algorithm;     // SignerInfo digestAlgorithm
  Bytes digest_algorithms;    // SignedData digestAlgorithms
  Bytes signature_algorithm;  // SignerInfo signatureAlgorithm
  Bytes signer_id;            // SignerInfo sid
  Bytes content_type_attr;    // signed attribute content-type = id-ct-TSTInfo
  Bytes signing_cert_attr;    // signed attribute signing-certificate-v2
  Bytes message_digest_oid;   // OID element of the message-digest attribute
  Bytes econtent_type;        // OID element id-ct-TSTInfo
  Bytes signed_data_type;     // OID element id-signedData
  Bytes certificates;         // SignedData certificates [0], with the TSA certificate
};

Result<TimeStampSigner> TimeStampSigner::Create(const Certificate& certificate,
                                                std::shared_ptr<const crypto::Signer> signer,
                                                const TimeStampSignerOptions& options) {
  //= https://www.rfc-editor.org/rfc/rfc3161#section-2.3
  //# The TSA MUST sign each time-stamp message with a key reserved specifically for that
  //# purpose. ... The corresponding certificate MUST contain only one instance of the
  //# extended key usage field extension ... with KeyPurposeID having value:
  //# id-kp-timeStamping. This extension MUST be critical.
  X509* x = certificate.openssl();
  int eku_count = 0;
  for (int i = -1; (i = X509_get_ext_by_NID(x, NID_ext_key_usage, i)) >= 0;) ++eku_count;
  Extensions ext = certificate.extensions();
  if (eku_count != 1 || ext.extended_key_usage != std::vector<std::string>{"timeStamping"} ||
      !ext.extended_key_usage_critical) {
    return FailedPrecondition("timestamp.certificate_eku",
                              "the TSA certificate must have exactly one, critical, extended key "
                              "usage extension with only id-kp-timeStamping (RFC 3161 §2.3)");
  }
  if (signer == nullptr || !certificate.public_key().Equals(signer->public_key())) {
    return FailedPrecondition("timestamp.key_mismatch",
                              "the TSA key does not match the TSA certificate's public key");
  }
  crypto::KeySpec key = signer->key_spec();
  crypto::SignatureScheme scheme = crypto::SignatureScheme::DefaultFor(key);
  auto signature_algorithm = SignatureAlgorithmIdentifier(key, scheme);
  if (!signature_algorithm) {
    return FailedPrecondition("timestamp.unsupported_key",
                              "a " + key.ToString() + " key cannot sign time-stamp tokens here");
  }
  auto policy = OidFromText(options.policy_oid);
  if (!policy) return InvalidOptions("policy \"" + options.policy_oid + "\" is not a dotted OID");
  //= https://www.rfc-editor.org/rfc/rfc3161#section-2.4.2
  //# Accuracy ::= SEQUENCE {
  //#    seconds        INTEGER              OPTIONAL,
  //#    millis     [0] INTEGER  (1..999)    OPTIONAL,
  //#    micros     [1] INTEGER  (1..999)    OPTIONAL  }
  if (options.accuracy_seconds < 0 || options.accuracy_millis < 0 ||
      options.accuracy_millis > 999) {
    return InvalidOptions("accuracy must be >= 0 s and 0..999 ms");
  }

  auto state = std::make_shared<State>(State{certificate, std::move(signer), scheme});
  state->policy_oid = options.policy_oid;
  state->policy = Tlv(kOid, {*policy});
  if (options.accuracy_seconds > 0 || options.accuracy_millis > 0) {
    Bytes seconds, millis;
    if (options.accuracy_seconds > 0) {
      seconds = UnsignedInteger(static_cast<uint64_t>(options.accuracy_seconds));
    }
    if (options.accuracy_millis > 0) {
      millis = UnsignedInteger(static_cast<uint64_t>(options.accuracy_millis));
      millis[0] = kContext0Primitive;  // [0] IMPLICIT INTEGER
    }
    state->accuracy = Tlv(kSequence, {seconds, millis});
  }
  Bytes subject = NameDer(X509_get_subject_name(x));
  Bytes issuer = NameDer(X509_get_issuer_name(x));
  Bytes serial = IntegerDer(X509_get0_serialNumber(x));
  if (subject.empty() || issuer.empty() || serial.empty()) {
    return Internal("timestamp.certificate", "cannot encode the TSA certificate's names");
  }
  //# tsa [0] GeneralName OPTIONAL   -- GeneralName directoryName [4] Name (RFC 5280 §4.2.1.6)
  if (options.include_tsa_name) state->tsa_name = Tlv(kContext0, {Tlv(kContext4, {subject})});

  state->digest_algorithm = DigestAlgorithmIdentifier(scheme.digest);
  state->digest_algorithms = Tlv(kSet, {state->digest_algorithm});
  state->signature_algorithm = std::move(*signature_algorithm);
  // RFC 5652 §5.3: IssuerAndSerialNumber ::= SEQUENCE { issuer Name,
  //   serialNumber CertificateSerialNumber }
  state->signer_id = Tlv(kSequence, {issuer, serial});
  state->econtent_type = OidTlv(kIdCtTstInfo);
  state->signed_data_type = OidTlv(kIdSignedData);
  state->message_digest_oid = OidTlv(kIdMessageDigest);
  //= https://www.rfc-editor.org/rfc/rfc5652#section-11.1
  //# The content-type attribute MUST be present whenever signed attributes are present in
  //# signed-data content.
  state->content_type_attr =
      Tlv(kSequence, {OidTlv(kIdContentType), Tlv(kSet, {state->econtent_type})});
  //= https://www.rfc-editor.org/rfc/rfc5816#section-2.2.1
  //# ESSCertIDv2 ::=  SEQUENCE {
  //#     hashAlgorithm           AlgorithmIdentifier
  //#             DEFAULT {algorithm id-sha256},
  //#     certHash                 Hash,
  //#     issuerSerial             IssuerSerial OPTIONAL
  //# }
  // SigningCertificateV2 ::= SEQUENCE { certs SEQUENCE OF ESSCertIDv2, ... } (RFC 5035 §3)
  // IssuerSerial ::= SEQUENCE { issuer GeneralNames, serialNumber CertificateSerialNumber }
  // The hash is SHA-256, the DEFAULT, so hashAlgorithm is left out (X.690 §11.5).
  Bytes cert_hash = Tlv(kOctetString, {crypto::Sha256(certificate.der())});
  Bytes issuer_serial = Tlv(kSequence, {Tlv(kSequence, {Tlv(kContext4, {issuer})}), serial});
  Bytes ess_cert_id = Tlv(kSequence, {cert_hash, issuer_serial});
  Bytes signing_certificate = Tlv(kSequence, {Tlv(kSequence, {ess_cert_id})});
  state->signing_cert_attr =
      Tlv(kSequence, {OidTlv(kIdAaSigningCertificateV2), Tlv(kSet, {signing_certificate})});
  // certificates [0] IMPLICIT CertificateSet (RFC 5652 §5.1)
  state->certificates = Tlv(kContext0, {certificate.der()});
  return TimeStampSigner(std::move(state));
}

const Certificate& TimeStampSigner::certificate() const {
  return state_->certificate;
}
const std::string& TimeStampSigner::policy_oid() const {
  return state_->policy_oid;
}

Result<Bytes> TimeStampSigner::Grant(const TimeStampRequest& request, uint64_t serial,
                                     UnixSeconds gen_time) const {
  const State& s = *state_;
  auto time = GeneralizedTime(gen_time);
  if (!time) return Internal("timestamp.bad_time", "genTime out of range");
  Bytes nonce;
  if (request.nonce) nonce = Tlv(kInteger, {*request.nonce});

  //= https://www.rfc-editor.org/rfc/rfc3161#section-2.4.2
  //# TSTInfo ::= SEQUENCE  {
  //#    version                      INTEGER  { v1(1) },
  //#    policy                       TSAPolicyId,
  //#    messageImprint               MessageImprint,
  //#      -- MUST have the same value as the similar field in
  //#      -- TimeStampReq
  //#    serialNumber                 INTEGER,
  //#     -- Time-Stamping users MUST be ready to accommodate integers
  //#     -- up to 160 bits.
  //#    genTime                      GeneralizedTime,
  //#    accuracy                     Accuracy                 OPTIONAL,
  //#    ordering                     BOOLEAN             DEFAULT FALSE,
  //#    nonce                        INTEGER                  OPTIONAL,
  //#      -- MUST be present if the similar field was present
  //#      -- in TimeStampReq.  In that case it MUST have the same value.
  //#    tsa                          [0] GeneralName          OPTIONAL,
  //#    extensions                   [1] IMPLICIT Extensions   OPTIONAL  }
  // ordering is FALSE, its DEFAULT, and so absent in DER.
  Bytes tst_info = Tlv(kSequence, {kVersion1, s.policy, request.message_imprint_der,
                                   UnsignedInteger(serial), *time, s.accuracy, nonce, s.tsa_name});

  //= https://www.rfc-editor.org/rfc/rfc5652#section-5.4
  //# the message digest is calculated on the content of the eContent field (the TSTInfo
  //# octets, without the OCTET STRING's tag and length).
  Bytes digest = crypto::Digest(s.scheme.digest, tst_info);
  Bytes message_digest_attr =
      Tlv(kSequence, {s.message_digest_oid, Tlv(kSet, {Tlv(kOctetString, {digest})})});
  // SignedAttributes ::= SET SIZE (1..MAX) OF Attribute, in DER order: the encodings sorted
  // as octet strings (X.690 §11.6).
  std::array<ByteSpan, 3> attrs = {s.content_type_attr, message_digest_attr, s.signing_cert_attr};
  std::ranges::sort(attrs, [](ByteSpan a, ByteSpan b) {
    return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end());
  });
  //= https://www.rfc-editor.org/rfc/rfc5652#section-5.4
  //# the DER encoding of the SignedAttrs value ... A separate encoding of the signedAttrs
  //# field is performed for message digest calculation. The IMPLICIT [0] tag in the
  //# signedAttrs is not used for the DER encoding, rather an EXPLICIT SET OF tag is used.
  Bytes signed_attrs = Tlv(kSet, {attrs[0], attrs[1], attrs[2]});
  KYSO_ASSIGN_OR_RETURN(Bytes signature, s.signer->SignMessage(s.scheme, signed_attrs));
  signed_attrs[0] = kContext0;

  // SignerInfo ::= SEQUENCE { version CMSVersion (1: sid is issuerAndSerialNumber), sid,
  //   digestAlgorithm, signedAttrs [0] IMPLICIT, signatureAlgorithm, signature }
  Bytes signer_info = Tlv(kSequence, {kVersion1, s.signer_id, s.digest_algorithm, signed_attrs,
                                      s.signature_algorithm, Tlv(kOctetString, {signature})});
  // EncapsulatedContentInfo ::= SEQUENCE { eContentType, eContent [0] EXPLICIT OCTET STRING }
  Bytes encap = Tlv(kSequence, {s.econtent_type, Tlv(kContext0, {Tlv(kOctetString, {tst_info})})});
  //= https://www.rfc-editor.org/rfc/rfc3161#section-2.4.1
  //# If the certReq field is present and set to true, the TSA's public key certificate that
  //# is referenced by the ESSCertID identifier inside a SigningCertificate attribute in the
  //# response MUST be provided by the TSA in the certificates field from the SignedData
  //# structure in that response. ... If the certReq field is missing or if the certReq field
  //# is present and set to false then the certificates field from the SignedData structure
  //# MUST not be present in the response.
  ByteSpan certificates = request.cert_req ? ByteSpan(s.certificates) : ByteSpan();
  // SignedData version 3: "eContentType is other than id-data" (RFC 5652 §5.1).
  Bytes signed_data = Tlv(
      kSequence, {kVersion3, s.digest_algorithms, encap, certificates, Tlv(kSet, {signer_info})});
  // ContentInfo ::= SEQUENCE { contentType, content [0] EXPLICIT }
  Bytes token = Tlv(kSequence, {s.signed_data_type, Tlv(kContext0, {signed_data})});
  return Tlv(kSequence, {kStatusGranted, token});
}

// --- inspection (OpenSSL's decoder) ------------------------------------------------------------

Result<TimeStampResponseInfo> InspectTimeStampResponse(ByteSpan der) {
  using RespPtr = std::unique_ptr<TS_RESP, internal::Deleter<TS_RESP, TS_RESP_free>>;
  const unsigned char* p = der.data();
  RespPtr resp(d2i_TS_RESP(nullptr, &p, static_cast<long>(der.size())));
  if (resp == nullptr || p != der.data() + der.size()) {
    return InvalidArgument("timestamp.malformed_response",
                           "not a DER TimeStampResp: " + crypto::DrainOpenSslErrors());
  }
  TimeStampResponseInfo info;
  TS_STATUS_INFO* status = TS_RESP_get_status_info(resp.get());
  info.status = static_cast<int>(ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(status)));
  if (const ASN1_BIT_STRING* bits = TS_STATUS_INFO_get0_failure_info(status)) {
    for (const auto& f : kFailures) {
      if (ASN1_BIT_STRING_get_bit(bits, static_cast<int>(f.failure))) {
        info.failures.emplace_back(f.name);
      }
    }
  }
  if (const STACK_OF(ASN1_UTF8STRING)* text = TS_STATUS_INFO_get0_text(status)) {
    if (sk_ASN1_UTF8STRING_num(text) > 0) {
      const ASN1_UTF8STRING* s = sk_ASN1_UTF8STRING_value(text, 0);
      info.status_string.assign(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                                static_cast<size_t>(ASN1_STRING_length(s)));
    }
  }
  TS_TST_INFO* tst = TS_RESP_get_tst_info(resp.get());
  PKCS7* token = TS_RESP_get_token(resp.get());
  if (tst == nullptr || token == nullptr) return info;
  info.has_token = true;
  char oid[128];
  OBJ_obj2txt(oid, sizeof oid, TS_TST_INFO_get_policy_id(tst), 1);
  info.policy_oid = oid;
  info.serial_hex = internal::SerialHex(TS_TST_INFO_get_serial(tst));
  info.gen_time = internal::FromAsn1Time(TS_TST_INFO_get_time(tst));
  TS_MSG_IMPRINT* imprint = TS_TST_INFO_get_msg_imprint(tst);
  info.hash_algorithm = OBJ_nid2sn(OBJ_obj2nid(TS_MSG_IMPRINT_get_algo(imprint)->algorithm));
  const ASN1_OCTET_STRING* hashed = TS_MSG_IMPRINT_get_msg(imprint);
  info.hashed_message.assign(ASN1_STRING_get0_data(hashed),
                             ASN1_STRING_get0_data(hashed) + ASN1_STRING_length(hashed));
  if (const ASN1_INTEGER* nonce = TS_TST_INFO_get_nonce(tst)) info.nonce = IntegerContents(nonce);
  if (TS_ACCURACY* accuracy = TS_TST_INFO_get_accuracy(tst)) {
    if (auto* v = TS_ACCURACY_get_seconds(accuracy)) info.accuracy_seconds = ASN1_INTEGER_get(v);
    if (auto* v = TS_ACCURACY_get_millis(accuracy)) info.accuracy_millis = ASN1_INTEGER_get(v);
    if (auto* v = TS_ACCURACY_get_micros(accuracy)) info.accuracy_micros = ASN1_INTEGER_get(v);
  }
  info.ordering = TS_TST_INFO_get_ordering(tst) != 0;
  if (GENERAL_NAME* tsa = TS_TST_INFO_get_tsa(tst); tsa != nullptr && tsa->type == GEN_DIRNAME) {
    auto name = internal::NameFromX509(tsa->d.directoryName);
    if (name.ok()) info.tsa_name = *name;
  }
  if (PKCS7_type_is_signed(token) && token->d.sign != nullptr && token->d.sign->cert != nullptr) {
    info.certificate_count = static_cast<size_t>(sk_X509_num(token->d.sign->cert));
  }
  return info;
}

}  // namespace kyso::x509
