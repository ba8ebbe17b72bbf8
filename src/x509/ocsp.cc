#include "x509/ocsp.h"

#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/x509.h>

#include <array>
#include <cstring>

#include "crypto/openssl_error.h"
#include "x509/openssl_util.h"
#include "x509/signing.h"

namespace kyso::x509 {

using crypto::DrainOpenSslErrors;

namespace {

template <typename T, void (*Free)(T*)>
using OsslPtr = std::unique_ptr<T, internal::Deleter<T, Free>>;
using OcspRequestPtr = OsslPtr<OCSP_REQUEST, OCSP_REQUEST_free>;
using OcspBasicRespPtr = OsslPtr<OCSP_BASICRESP, OCSP_BASICRESP_free>;
using Asn1OctetStringPtr = OsslPtr<ASN1_OCTET_STRING, ASN1_OCTET_STRING_free>;

// --- DER writing ------------------------------------------------------------------------------
// The response is a fixed, fully specified structure: it is written straight into DER here
// (X.690 §10: definite lengths in the minimum number of octets).

constexpr uint8_t kTagInteger = 0x02;
constexpr uint8_t kTagBitString = 0x03;
constexpr uint8_t kTagOctetString = 0x04;
constexpr uint8_t kTagEnumerated = 0x0A;
constexpr uint8_t kTagGeneralizedTime = 0x18;
constexpr uint8_t kTagSequence = 0x30;

size_t LengthSize(size_t len) {
  if (len < 0x80) return 1;
  size_t n = 1;
  while (len > 0) {
    ++n;
    len >>= 8;
  }
  return n;
}

void PutLength(Bytes& out, size_t len) {
  if (len < 0x80) {
    out.push_back(static_cast<uint8_t>(len));
    return;
  }
  const size_t n = LengthSize(len) - 1;
  out.push_back(static_cast<uint8_t>(0x80 | n));
  for (size_t i = n; i-- > 0;) out.push_back(static_cast<uint8_t>(len >> (8 * i)));
}

void PutTlv(Bytes& out, uint8_t tag, ByteSpan content) {
  out.push_back(tag);
  PutLength(out, content.size());
  out.insert(out.end(), content.begin(), content.end());
}

size_t TlvSize(size_t content) {
  return 1 + LengthSize(content) + content;
}

// GeneralizedTime "YYYYMMDDHHMMSSZ".
//= https://www.rfc-editor.org/rfc/rfc5019#section-2.2.4
//# Responders MUST always include the nextUpdate field
//= https://www.rfc-editor.org/rfc/rfc5280#section-4.1.2.5.2
//# GeneralizedTime values MUST be expressed in Greenwich Mean Time (Zulu) and MUST include
//# seconds (i.e., times are YYYYMMDDHHMMSSZ), even where the number of seconds is zero.
//# GeneralizedTime values MUST NOT include fractional seconds.
void PutGeneralizedTime(Bytes& out, UnixSeconds t) {
  // Days to civil date (H. Hinnant's algorithm), valid for the whole int64 day range we use.
  int64_t days = t / kSecondsPerDay;
  int64_t secs = t % kSecondsPerDay;
  if (secs < 0) {
    secs += kSecondsPerDay;
    --days;
  }
  const int64_t z = days + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t day = doy - (153 * mp + 2) / 5 + 1;
  const int64_t month = mp < 10 ? mp + 3 : mp - 9;
  int64_t year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  if (year < 0) year = 0;
  if (year > 9999) year = 9999;
  char text[15];
  auto put = [&text](int at, int64_t value, int digits) {
    for (int i = digits - 1; i >= 0; --i) {
      text[at + i] = static_cast<char>('0' + value % 10);
      value /= 10;
    }
  };
  put(0, year, 4);
  put(4, month, 2);
  put(6, day, 2);
  put(8, secs / 3600, 2);
  put(10, secs / 60 % 60, 2);
  put(12, secs % 60, 2);
  text[14] = 'Z';
  PutTlv(out, kTagGeneralizedTime, ByteSpan(reinterpret_cast<const uint8_t*>(text), sizeof text));
}

// INTEGER from magnitude octets: minimal, with a 0x00 octet when the top bit is set.
void PutPositiveInteger(Bytes& out, ByteSpan magnitude) {
  size_t skip = 0;
  while (skip + 1 < magnitude.size() && magnitude[skip] == 0) ++skip;
  magnitude = magnitude.subspan(skip);
  const bool pad = magnitude.empty() || (magnitude[0] & 0x80) != 0;
  out.push_back(kTagInteger);
  PutLength(out, magnitude.size() + (pad ? 1 : 0));
  if (pad) out.push_back(0x00);
  out.insert(out.end(), magnitude.begin(), magnitude.end());
}

// DER object identifiers (tag and length included).
constexpr uint8_t kOidSha1[] = {0x06, 0x05, 0x2B, 0x0E, 0x03, 0x02, 0x1A};
constexpr uint8_t kOidSha256[] = {0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01};
constexpr uint8_t kOidSha384[] = {0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02};
constexpr uint8_t kOidSha512[] = {0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03};
// id-pkix-ocsp-basic 1.3.6.1.5.5.7.48.1.1, id-pkix-ocsp-nonce 1.3.6.1.5.5.7.48.1.2
constexpr uint8_t kOidOcspBasic[] = {0x06, 0x09, 0x2B, 0x06, 0x01, 0x05,
                                     0x05, 0x07, 0x30, 0x01, 0x01};
constexpr uint8_t kOidOcspNonce[] = {0x06, 0x09, 0x2B, 0x06, 0x01, 0x05,
                                     0x05, 0x07, 0x30, 0x01, 0x02};
// id-ce-invalidityDate 2.5.29.24
constexpr uint8_t kOidInvalidityDate[] = {0x06, 0x03, 0x55, 0x1D, 0x18};

ByteSpan HashOid(OcspHash hash) {
  switch (hash) {
    case OcspHash::kSha1:
      return kOidSha1;
    case OcspHash::kSha256:
      return kOidSha256;
    case OcspHash::kSha384:
      return kOidSha384;
    case OcspHash::kSha512:
      return kOidSha512;
  }
  return kOidSha1;
}

const EVP_MD* HashMd(OcspHash hash) {
  switch (hash) {
    case OcspHash::kSha1:
      return EVP_sha1();
    case OcspHash::kSha256:
      return EVP_sha256();
    case OcspHash::kSha384:
      return EVP_sha384();
    case OcspHash::kSha512:
      return EVP_sha512();
  }
  return EVP_sha1();
}

Bytes HashOf(OcspHash hash, ByteSpan data) {
  Bytes out(EVP_MAX_MD_SIZE);
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out.data(), &len, HashMd(hash), nullptr);
  out.resize(len);
  return out;
}

// Extension ::= SEQUENCE { extnID, critical DEFAULT FALSE (omitted), extnValue OCTET STRING }
void PutExtension(Bytes& out, ByteSpan oid, ByteSpan value_der) {
  Bytes ext(oid.begin(), oid.end());
  PutTlv(ext, kTagOctetString, value_der);
  PutTlv(out, kTagSequence, ext);
}

// --- DER reading (SplitOcspResponse) ----------------------------------------------------------

// One TLV with a single-octet tag and a definite length, inside `in` from `pos`.
struct Tlv {
  uint8_t tag = 0;
  size_t start = 0;    // offset of the tag octet
  size_t content = 0;  // offset of the first content octet
  size_t length = 0;
  size_t end() const { return content + length; }
};

bool ReadTlv(ByteSpan in, size_t pos, Tlv* out) {
  if (pos + 2 > in.size()) return false;
  out->tag = in[pos];
  if ((out->tag & 0x1F) == 0x1F) return false;  // multi-octet tags do not occur here
  out->start = pos;
  size_t p = pos + 1;
  const uint8_t first = in[p++];
  size_t len = first;
  if (first & 0x80) {
    const size_t n = first & 0x7F;
    if (n == 0 || n > 4 || p + n > in.size()) return false;  // indefinite or absurd length
    len = 0;
    for (size_t i = 0; i < n; ++i) len = (len << 8) | in[p++];
    if (len < 0x80 || (n > 1 && (len >> (8 * (n - 1))) == 0)) return false;  // not minimal
  }
  if (len > in.size() - p) return false;
  out->content = p;
  out->length = len;
  return true;
}

Status MalformedResponse(const std::string& why) {
  return InvalidArgument("ocsp.malformed_response", "not a successful basic OCSP response: " + why);
}

Status MalformedRequest(const std::string& why) {
  DrainOpenSslErrors();
  return InvalidArgument("ocsp.malformed_request", "malformed OCSP request: " + why);
}

std::optional<OcspHash> HashFromNid(int nid) {
  switch (nid) {
    case NID_sha1:
      return OcspHash::kSha1;
    case NID_sha256:
      return OcspHash::kSha256;
    case NID_sha384:
      return OcspHash::kSha384;
    case NID_sha512:
      return OcspHash::kSha512;
    default:
      return std::nullopt;
  }
}

Bytes OctetStringBytes(const ASN1_OCTET_STRING* s) {
  const uint8_t* data = ASN1_STRING_get0_data(s);
  return Bytes(data, data + ASN1_STRING_length(s));
}

// True when `cert_id` is a CertID in DER at the tag and length level, with hashAlgorithm
// parameters absent or NULL (RFC 5754 §2: either is seen for the SHA-2 family).
bool IsDerCertId(ByteSpan der, const Tlv& cert_id) {
  Tlv algorithm, oid, name_hash, key_hash, serial;
  if (cert_id.tag != kTagSequence || !ReadTlv(der, cert_id.content, &algorithm) ||
      algorithm.tag != kTagSequence || !ReadTlv(der, algorithm.content, &oid) || oid.tag != 0x06 ||
      oid.end() > algorithm.end()) {
    return false;
  }
  if (oid.end() != algorithm.end()) {
    Tlv null;
    if (!ReadTlv(der, oid.end(), &null) || null.tag != 0x05 || null.length != 0 ||
        null.end() != algorithm.end()) {
      return false;
    }
  }
  return ReadTlv(der, algorithm.end(), &name_hash) && name_hash.tag == kTagOctetString &&
         ReadTlv(der, name_hash.end(), &key_hash) && key_hash.tag == kTagOctetString &&
         ReadTlv(der, key_hash.end(), &serial) && serial.tag == kTagInteger &&
         serial.end() == cert_id.end();
}

// Where each Request's CertID lies in a request OpenSSL has accepted, found by walking its
// DER: the echo is the client's own octets, never a re-encoding. Returns how many were found,
// or 0 when the request is not DER where it matters (OpenSSL's decoder tolerates some BER,
// e.g. a primitive SEQUENCE tag, and re-encodes what it tolerated into octets it then refuses
// to read).
size_t FindCertIds(ByteSpan der, std::array<ByteSpan, OcspRequest::kMaxCertIds>& out) {
  Tlv request, tbs, field, one, cert_id;
  if (!ReadTlv(der, 0, &request) || request.tag != kTagSequence ||
      !ReadTlv(der, request.content, &tbs) || tbs.tag != kTagSequence) {
    return 0;
  }
  size_t pos = tbs.content;
  // version [0] and requestorName [1] come before requestList.
  while (true) {
    if (!ReadTlv(der, pos, &field) || field.end() > tbs.end()) return 0;
    if (field.tag != 0xA0 && field.tag != 0xA1) break;
    pos = field.end();
  }
  const Tlv request_list = field;
  if (request_list.tag != kTagSequence) return 0;
  size_t count = 0;
  for (pos = request_list.content; pos < request_list.end(); pos = one.end()) {
    if (count == out.size() || !ReadTlv(der, pos, &one) || one.tag != kTagSequence ||
        one.end() > request_list.end() || !ReadTlv(der, one.content, &cert_id) ||
        cert_id.end() > one.end() || !IsDerCertId(der, cert_id)) {
      return 0;
    }
    out[count++] = der.subspan(cert_id.start, cert_id.end() - cert_id.start);
  }
  return count;
}

// `raw`: the CertID's octets in the request, as FindCertIds found them.
Result<OcspCertId> ReadCertId(OCSP_CERTID* cid, ByteSpan raw) {
  ASN1_OCTET_STRING* name_hash = nullptr;
  ASN1_OCTET_STRING* key_hash = nullptr;
  ASN1_OBJECT* md = nullptr;
  ASN1_INTEGER* serial = nullptr;
  if (OCSP_id_get0_info(&name_hash, &md, &key_hash, &serial, cid) != 1 || name_hash == nullptr ||
      key_hash == nullptr || md == nullptr || serial == nullptr) {
    return MalformedRequest("incomplete CertID");
  }
  OcspCertId id;
  auto hash = HashFromNid(OBJ_obj2nid(md));
  if (!hash) {
    char oid[80];
    OBJ_obj2txt(oid, sizeof oid, md, 1);
    return InvalidArgument("ocsp.unsupported_hash",
                           std::string("CertID hashed with ") + oid +
                               "; this responder recognises SHA-1, SHA-256, SHA-384 and SHA-512");
  }
  id.hash = *hash;
  id.issuer_name_hash = OctetStringBytes(name_hash);
  id.issuer_key_hash = OctetStringBytes(key_hash);
  if (id.issuer_name_hash.size() != OcspHashSize(id.hash) ||
      id.issuer_key_hash.size() != OcspHashSize(id.hash)) {
    return MalformedRequest("a CertID hash does not have the length of " +
                            std::string(OcspHashName(id.hash)));
  }
  id.serial_hex = internal::SerialHex(serial);
  if (ASN1_STRING_type(serial) == V_ASN1_NEG_INTEGER) id.serial_hex.insert(0, "-");
  id.der.assign(raw.begin(), raw.end());
  return id;
}

// RFC 8954 §2.1 (replacing RFC 6960 §4.4.1): "the extnValue is the value of the nonce",
// Nonce ::= OCTET STRING(SIZE(1..32)).
Result<Bytes> ReadNonce(X509_EXTENSION* ext) {
  const ASN1_OCTET_STRING* value = X509_EXTENSION_get_data(ext);
  const unsigned char* p = ASN1_STRING_get0_data(value);
  const long len = ASN1_STRING_length(value);
  const unsigned char* end = p + len;
  Asn1OctetStringPtr nonce(d2i_ASN1_OCTET_STRING(nullptr, &p, len));
  if (nonce == nullptr || p != end) {
    DrainOpenSslErrors();
    return InvalidArgument("ocsp.bad_nonce", "the nonce extension does not hold an OCTET STRING");
  }
  const int size = ASN1_STRING_length(nonce.get());
  //= https://www.rfc-editor.org/rfc/rfc8954#section-2.1
  //# A server MUST reject any OCSP request that has a nonce in the Nonce
  //# extension with a length of either 0 octets or more than 32 octets
  //# with the malformedRequest OCSPResponseStatus
  if (size < 1 || static_cast<size_t>(size) > OcspRequest::kMaxNonceSize) {
    return InvalidArgument("ocsp.bad_nonce", "the nonce has " + std::to_string(size) +
                                                 " octets; RFC 8954 allows 1 to 32");
  }
  return OctetStringBytes(nonce.get());
}

std::string ExtensionName(X509_EXTENSION* ext) {
  char oid[80];
  OBJ_obj2txt(oid, sizeof oid, X509_EXTENSION_get_object(ext), 1);
  return oid;
}

}  // namespace

// --- hashes and CertIDs -----------------------------------------------------------------------

std::string_view OcspHashName(OcspHash hash) {
  switch (hash) {
    case OcspHash::kSha1:
      return "SHA-1";
    case OcspHash::kSha256:
      return "SHA-256";
    case OcspHash::kSha384:
      return "SHA-384";
    case OcspHash::kSha512:
      return "SHA-512";
  }
  return "?";
}

size_t OcspHashSize(OcspHash hash) {
  switch (hash) {
    case OcspHash::kSha1:
      return 20;
    case OcspHash::kSha256:
      return 32;
    case OcspHash::kSha384:
      return 48;
    case OcspHash::kSha512:
      return 64;
  }
  return 0;
}

OcspIssuerHashes ComputeIssuerHashes(const Certificate& issuer, OcspHash hash) {
  OcspIssuerHashes out;
  out.hash = hash;
  unsigned char* name = nullptr;
  const int name_len = i2d_X509_NAME(X509_get_subject_name(issuer.openssl()), &name);
  if (name_len > 0) out.name_hash = HashOf(hash, ByteSpan(name, static_cast<size_t>(name_len)));
  OPENSSL_free(name);
  const ASN1_BIT_STRING* key = X509_get0_pubkey_bitstr(issuer.openssl());
  if (key != nullptr) {
    out.key_hash = HashOf(
        hash, ByteSpan(ASN1_STRING_get0_data(key), static_cast<size_t>(ASN1_STRING_length(key))));
  }
  return out;
}

Bytes EncodeCertId(const OcspIssuerHashes& issuer, ByteSpan serial) {
  Bytes algorithm(HashOid(issuer.hash).begin(), HashOid(issuer.hash).end());
  algorithm.push_back(0x05);  // NULL parameters
  algorithm.push_back(0x00);
  Bytes content;
  content.reserve(160);
  PutTlv(content, kTagSequence, algorithm);
  PutTlv(content, kTagOctetString, issuer.name_hash);
  PutTlv(content, kTagOctetString, issuer.key_hash);
  PutPositiveInteger(content, serial);
  Bytes out;
  PutTlv(out, kTagSequence, content);
  return out;
}

//= https://www.rfc-editor.org/rfc/rfc6960#section-4.1.1
//# TBSRequest      ::=     SEQUENCE {
//#     version             [0]     EXPLICIT Version DEFAULT v1,
//#     requestorName       [1]     EXPLICIT GeneralName OPTIONAL,
//#     requestList                 SEQUENCE OF Request,
//#     requestExtensions   [2]     EXPLICIT Extensions OPTIONAL }
//#
//# Request         ::=     SEQUENCE {
//#     reqCert                     CertID,
//#     singleRequestExtensions     [0] EXPLICIT Extensions OPTIONAL }
Bytes EncodeOcspRequest(std::span<const Bytes> cert_ids, std::optional<ByteSpan> nonce) {
  Bytes list;
  for (const Bytes& id : cert_ids) PutTlv(list, kTagSequence, id);
  Bytes tbs;
  PutTlv(tbs, kTagSequence, list);
  if (nonce) {
    Bytes value;
    PutTlv(value, kTagOctetString, *nonce);
    Bytes extensions;
    PutExtension(extensions, kOidOcspNonce, value);
    Bytes wrapped;
    PutTlv(wrapped, kTagSequence, extensions);
    PutTlv(tbs, 0xA2, wrapped);
  }
  Bytes request;
  PutTlv(request, kTagSequence, tbs);
  Bytes out;
  PutTlv(out, kTagSequence, request);
  return out;
}

// --- requests ---------------------------------------------------------------------------------

Result<OcspRequest> OcspRequest::Parse(ByteSpan der) {
  if (der.size() > kMaxSize) {
    return InvalidArgument("ocsp.request_too_large",
                           "the OCSP request has " + std::to_string(der.size()) +
                               " octets; at most " + std::to_string(kMaxSize) + " are accepted");
  }
  const unsigned char* p = der.data();
  OcspRequestPtr req(d2i_OCSP_REQUEST(nullptr, &p, static_cast<long>(der.size())));
  if (req == nullptr) return MalformedRequest("not a DER OCSPRequest");
  if (p != der.data() + der.size()) return MalformedRequest("trailing octets after the request");

  OcspRequest out;
  const int count = OCSP_request_onereq_count(req.get());
  if (count <= 0) return MalformedRequest("the request lists no certificate");
  if (static_cast<size_t>(count) > kMaxCertIds) {
    return InvalidArgument("ocsp.too_many_cert_ids", "the request lists " + std::to_string(count) +
                                                         " certificates; at most " +
                                                         std::to_string(kMaxCertIds) +
                                                         " are answered per request");
  }
  out.ids.reserve(static_cast<size_t>(count));
  std::array<ByteSpan, kMaxCertIds> raw;
  if (FindCertIds(der, raw) != static_cast<size_t>(count)) {
    return MalformedRequest("the request is not DER (X.690 §10)");
  }
  for (int i = 0; i < count; ++i) {
    OCSP_ONEREQ* one = OCSP_request_onereq_get0(req.get(), i);
    for (int e = 0; e < OCSP_ONEREQ_get_ext_count(one); ++e) {
      X509_EXTENSION* ext = OCSP_ONEREQ_get_ext(one, e);
      if (X509_EXTENSION_get_critical(ext)) {
        return InvalidArgument(
            "ocsp.unsupported_extension",
            "unsupported critical single-request extension " + ExtensionName(ext));
      }
    }
    KYSO_ASSIGN_OR_RETURN(OcspCertId id, ReadCertId(OCSP_onereq_get0_id(one), raw[i]));
    out.ids.push_back(std::move(id));
  }

  //= https://www.rfc-editor.org/rfc/rfc6960#section-4.4
  //# Support for any specific extension is OPTIONAL.  The critical flag
  //# SHOULD NOT be set for any of them.  Section 4.4.7 suggests several
  //# useful extensions.
  // Unknown non-critical extensions are ignored; an unknown critical one cannot be honoured.
  for (int e = 0; e < OCSP_REQUEST_get_ext_count(req.get()); ++e) {
    X509_EXTENSION* ext = OCSP_REQUEST_get_ext(req.get(), e);
    if (OBJ_obj2nid(X509_EXTENSION_get_object(ext)) == NID_id_pkix_OCSP_Nonce) {
      if (out.nonce) {
        return InvalidArgument("ocsp.bad_nonce", "the request carries two nonce extensions");
      }
      KYSO_ASSIGN_OR_RETURN(out.nonce, ReadNonce(ext));
    } else if (X509_EXTENSION_get_critical(ext)) {
      return InvalidArgument("ocsp.unsupported_extension",
                             "unsupported critical request extension " + ExtensionName(ext));
    }
  }
  DrainOpenSslErrors();
  return out;
}

// --- responses --------------------------------------------------------------------------------

Bytes EncodeOcspErrorResponse(OcspResponseStatus status) {
  // OCSPResponse ::= SEQUENCE { responseStatus OCSPResponseStatus, responseBytes absent }
  return {kTagSequence, 0x03, kTagEnumerated, 0x01, static_cast<uint8_t>(status)};
}

Result<std::shared_ptr<const OcspResponseSigner>> OcspResponseSigner::Create(
    const Certificate& responder, std::shared_ptr<const crypto::Signer> signer,
    const crypto::SignatureScheme& scheme) {
  if (signer == nullptr || !signer->public_key().Equals(responder.public_key())) {
    return FailedPrecondition("ocsp.key_mismatch",
                              "the OCSP signing key does not belong to the responder certificate " +
                                  responder.subject().ToRfc4514());
  }
  // A certificate fresh from BuildCertificate carries no decoded key in its X509, which
  // OCSP_basic_sign_ctx needs: work from a parsed copy.
  KYSO_ASSIGN_OR_RETURN(Certificate parsed, Certificate::FromDer(responder.der()));
  std::shared_ptr<OcspResponseSigner> out(new OcspResponseSigner(parsed, signer, scheme));

  // OpenSSL signs one empty response to fix the signatureAlgorithm exactly as OCSP_basic_sign
  // would encode it for this key and scheme (with the RSASSA-PSS parameters of RFC 4055).
  OcspBasicRespPtr probe(OCSP_BASICRESP_new());
  if (probe == nullptr) return Internal("ocsp.build_failed", DrainOpenSslErrors());
  KYSO_RETURN_IF_ERROR(internal::SignWith(*signer, scheme, [&](EVP_MD_CTX* ctx) {
    return OCSP_basic_sign_ctx(probe.get(), parsed.openssl(), ctx, nullptr,
                               OCSP_NOCERTS | OCSP_RESPID_KEY) > 0;
  }));
  unsigned char* alg = nullptr;
  const int alg_len = i2d_X509_ALGOR(OCSP_resp_get0_tbs_sigalg(probe.get()), &alg);
  if (alg_len <= 0) return Internal("ocsp.build_failed", DrainOpenSslErrors());
  out->algorithm_.assign(alg, alg + alg_len);
  OPENSSL_free(alg);

  //= https://www.rfc-editor.org/rfc/rfc6960#section-4.2.1
  //# KeyHash ::= OCTET STRING -- SHA-1 hash of responder's public key
  //# (excluding the tag and length fields)
  out->key_hash_ = responder.public_key().KeyIdentifier();
  Bytes key_hash;
  PutTlv(key_hash, kTagOctetString, out->key_hash_);
  PutTlv(out->responder_id_, 0xA2, key_hash);  // byKey [2] EXPLICIT

  //= https://www.rfc-editor.org/rfc/rfc6960#section-4.2.1
  //# certs            [0] EXPLICIT SEQUENCE OF Certificate OPTIONAL }
  Bytes certs;
  PutTlv(certs, kTagSequence, responder.der());
  PutTlv(out->certs_field_, 0xA0, certs);

  // One signature through the same path as every response, checked against the certificate's
  // key: a scheme the key cannot honour fails here rather than on the first request.
  Bytes dummy_cert_id = EncodeCertId(ComputeIssuerHashes(responder, OcspHash::kSha1), {});
  OcspSingleResponse single;
  single.cert_id = dummy_cert_id;
  single.this_update = 0;
  single.next_update = 1;
  KYSO_ASSIGN_OR_RETURN(OcspSignedBody body,
                        out->Sign(std::span<const OcspSingleResponse>(&single, 1), 0, {}));
  Tlv tbs, algorithm, signature;
  if (!ReadTlv(body.body, 0, &tbs) || !ReadTlv(body.body, tbs.end(), &algorithm) ||
      !ReadTlv(body.body, algorithm.end(), &signature) || signature.length < 1) {
    return Internal("ocsp.build_failed", "unexpected BasicOCSPResponse encoding");
  }
  Status verified = crypto::VerifyMessage(
      responder.public_key(), scheme, ByteSpan(body.body).subspan(0, tbs.end()),
      ByteSpan(body.body).subspan(signature.content + 1, signature.length - 1));
  if (!verified.ok()) {
    return FailedPrecondition("ocsp.key_mismatch",
                              "a test OCSP signature does not verify with the responder key");
  }
  return std::shared_ptr<const OcspResponseSigner>(std::move(out));
}

//= https://www.rfc-editor.org/rfc/rfc6960#section-4.2.1
//# BasicOCSPResponse       ::= SEQUENCE {
//#    tbsResponseData      ResponseData,
//#    signatureAlgorithm   AlgorithmIdentifier,
//#    signature            BIT STRING,
//#    certs            [0] EXPLICIT SEQUENCE OF Certificate OPTIONAL }
//#
//# ResponseData ::= SEQUENCE {
//#    version              [0] EXPLICIT Version DEFAULT v1,
//#    responderID              ResponderID,
//#    producedAt               GeneralizedTime,
//#    responses                SEQUENCE OF SingleResponse,
//#    responseExtensions   [1] EXPLICIT Extensions OPTIONAL }
//#
//# SingleResponse ::= SEQUENCE {
//#    certID                       CertID,
//#    certStatus                   CertStatus,
//#    thisUpdate                   GeneralizedTime,
//#    nextUpdate         [0]       EXPLICIT GeneralizedTime OPTIONAL,
//#    singleExtensions   [1]       EXPLICIT Extensions OPTIONAL }
//#
//# CertStatus ::= CHOICE {
//#     good        [0]     IMPLICIT NULL,
//#     revoked     [1]     IMPLICIT RevokedInfo,
//#     unknown     [2]     IMPLICIT UnknownInfo }
//#
//# RevokedInfo ::= SEQUENCE {
//#     revocationTime              GeneralizedTime,
//#     revocationReason    [0]     EXPLICIT CRLReason OPTIONAL }
Result<OcspSignedBody> OcspResponseSigner::Sign(std::span<const OcspSingleResponse> responses,
                                                UnixSeconds produced_at,
                                                std::optional<ByteSpan> nonce) const {
  if (responses.empty()) {
    return InvalidArgument("ocsp.no_responses", "a BasicOCSPResponse needs a SingleResponse");
  }
  Bytes list, single, field, scratch;
  list.reserve(responses.size() * 160);
  size_t first_cert_id_in_list = 0;
  for (size_t i = 0; i < responses.size(); ++i) {
    const OcspSingleResponse& r = responses[i];
    single.clear();
    single.insert(single.end(), r.cert_id.begin(), r.cert_id.end());
    switch (r.status) {
      case OcspCertStatus::kGood:
        single.push_back(0x80);  // [0] IMPLICIT NULL
        single.push_back(0x00);
        break;
      case OcspCertStatus::kRevoked: {
        field.clear();
        PutGeneralizedTime(field, r.revocation_time);
        // RFC 5280 §5.3.1: "the reason code CRL entry extension SHOULD be absent instead of
        // using the unspecified (0) reasonCode value"; the same rule keeps OCSP and CRL alike.
        if (r.revocation_reason && *r.revocation_reason > 0 && *r.revocation_reason <= 10 &&
            *r.revocation_reason != 7) {
          const uint8_t reason[] = {0xA0, 0x03, kTagEnumerated, 0x01,
                                    static_cast<uint8_t>(*r.revocation_reason)};
          field.insert(field.end(), reason, reason + sizeof reason);
        }
        PutTlv(single, 0xA1, field);  // [1] IMPLICIT RevokedInfo
        break;
      }
      case OcspCertStatus::kUnknown:
        single.push_back(0x82);  // [2] IMPLICIT UnknownInfo (NULL)
        single.push_back(0x00);
        break;
    }
    PutGeneralizedTime(single, r.this_update);
    field.clear();
    PutGeneralizedTime(field, r.next_update);
    PutTlv(single, 0xA0, field);
    if (r.status == OcspCertStatus::kRevoked && r.invalidity_date) {
      //= https://www.rfc-editor.org/rfc/rfc6960#section-4.4.5
      //# All the extensions specified as CRL Entry Extensions -- in Section
      //# 5.3 of [RFC5280] -- are also supported as singleExtensions.
      field.clear();
      PutGeneralizedTime(field, *r.invalidity_date);  // RFC 5280 §5.3.2: GeneralizedTime
      scratch.clear();
      PutExtension(scratch, kOidInvalidityDate, field);
      field.clear();
      PutTlv(field, kTagSequence, scratch);
      PutTlv(single, 0xA1, field);
    }
    if (i == 0) first_cert_id_in_list = 1 + LengthSize(single.size());
    PutTlv(list, kTagSequence, single);
  }

  Bytes content;
  content.reserve(responder_id_.size() + 20 + list.size() + 64);
  content.insert(content.end(), responder_id_.begin(), responder_id_.end());
  PutGeneralizedTime(content, produced_at);
  const size_t list_at = content.size();
  PutTlv(content, kTagSequence, list);
  first_cert_id_in_list += list_at + 1 + LengthSize(list.size());
  if (nonce) {
    //= https://www.rfc-editor.org/rfc/rfc8954#section-2.1
    //# The nonce is included as one of the requestExtensions in requests; in
    //# responses, it would be included as one of the responseExtensions.
    field.clear();
    PutTlv(field, kTagOctetString, *nonce);
    scratch.clear();
    PutExtension(scratch, kOidOcspNonce, field);
    field.clear();
    PutTlv(field, kTagSequence, scratch);
    PutTlv(content, 0xA1, field);
  }

  OcspSignedBody out;
  Bytes& body = out.body;
  body.reserve(TlvSize(content.size()) + algorithm_.size() + 16 + 520);
  PutTlv(body, kTagSequence, content);
  out.cert_id_offset = 1 + LengthSize(content.size()) + first_cert_id_in_list;
  out.cert_id_size = responses[0].cert_id.size();
  KYSO_ASSIGN_OR_RETURN(Bytes signature, signer_->SignMessage(scheme_, body));
  body.insert(body.end(), algorithm_.begin(), algorithm_.end());
  body.push_back(kTagBitString);
  PutLength(body, signature.size() + 1);
  body.push_back(0x00);  // no unused bits
  body.insert(body.end(), signature.begin(), signature.end());
  return out;
}

//= https://www.rfc-editor.org/rfc/rfc6960#section-4.2.1
//# OCSPResponse ::= SEQUENCE {
//#    responseStatus         OCSPResponseStatus,
//#    responseBytes          [0] EXPLICIT ResponseBytes OPTIONAL }
//#
//# ResponseBytes ::=       SEQUENCE {
//#    responseType   OBJECT IDENTIFIER,
//#    response       OCTET STRING }
size_t AssembledOcspResponseSize(size_t body_size, size_t certs_field_size) {
  const size_t basic = TlvSize(body_size + certs_field_size);
  const size_t response_bytes = TlvSize(sizeof kOidOcspBasic + TlvSize(basic));
  return TlvSize(3 + TlvSize(response_bytes));
}

void AssembleOcspResponse(ByteSpan body, ByteSpan certs_field, Bytes& out) {
  const size_t basic_content = body.size() + certs_field.size();
  const size_t basic = TlvSize(basic_content);
  const size_t octets = TlvSize(basic);
  const size_t response_bytes_content = sizeof kOidOcspBasic + octets;
  const size_t explicit_content = TlvSize(response_bytes_content);
  const size_t outer_content = 3 + TlvSize(explicit_content);
  out.clear();
  out.reserve(TlvSize(outer_content));
  out.push_back(kTagSequence);
  PutLength(out, outer_content);
  out.insert(out.end(), {kTagEnumerated, 0x01, 0x00});  // successful
  out.push_back(0xA0);
  PutLength(out, explicit_content);
  out.push_back(kTagSequence);
  PutLength(out, response_bytes_content);
  out.insert(out.end(), std::begin(kOidOcspBasic), std::end(kOidOcspBasic));
  out.push_back(kTagOctetString);
  PutLength(out, basic);
  out.push_back(kTagSequence);
  PutLength(out, basic_content);
  out.insert(out.end(), body.begin(), body.end());
  out.insert(out.end(), certs_field.begin(), certs_field.end());
}

Result<OcspResponseParts> SplitOcspResponse(ByteSpan der) {
  Tlv outer, status, wrapper, response_bytes, type, octets, basic;
  if (!ReadTlv(der, 0, &outer) || outer.tag != kTagSequence || outer.end() != der.size()) {
    return MalformedResponse("not a DER SEQUENCE");
  }
  if (!ReadTlv(der, outer.content, &status) || status.tag != kTagEnumerated || status.length != 1 ||
      der[status.content] != 0) {
    return MalformedResponse("the status is not successful");
  }
  if (!ReadTlv(der, status.end(), &wrapper) || wrapper.tag != 0xA0 ||
      wrapper.end() != outer.end() || !ReadTlv(der, wrapper.content, &response_bytes) ||
      response_bytes.tag != kTagSequence || response_bytes.end() != wrapper.end() ||
      !ReadTlv(der, response_bytes.content, &type) ||
      type.end() - type.start != sizeof kOidOcspBasic ||
      std::memcmp(der.data() + type.start, kOidOcspBasic, sizeof kOidOcspBasic) != 0) {
    return MalformedResponse("no id-pkix-ocsp-basic responseBytes");
  }
  if (!ReadTlv(der, type.end(), &octets) || octets.tag != kTagOctetString ||
      octets.end() != response_bytes.end() || !ReadTlv(der, octets.content, &basic) ||
      basic.tag != kTagSequence || basic.end() != octets.end()) {
    return MalformedResponse("the BasicOCSPResponse is not a SEQUENCE");
  }
  Tlv tbs, algorithm, signature;
  if (!ReadTlv(der, basic.content, &tbs) || tbs.tag != kTagSequence ||
      !ReadTlv(der, tbs.end(), &algorithm) || algorithm.tag != kTagSequence ||
      !ReadTlv(der, algorithm.end(), &signature) || signature.tag != kTagBitString) {
    return MalformedResponse("the BasicOCSPResponse fields are missing");
  }
  OcspResponseParts parts;
  parts.body_offset = basic.content;
  parts.body_size = signature.end() - basic.content;
  if (signature.end() != basic.end()) {
    Tlv certs;
    if (!ReadTlv(der, signature.end(), &certs) || certs.tag != 0xA0 || certs.end() != basic.end()) {
      return MalformedResponse("unexpected fields after the signature");
    }
    parts.certs_offset = certs.start;
    parts.certs_size = certs.end() - certs.start;
  }
  // ResponseData: [0] version?, responderID [1] or [2], producedAt, responses.
  Tlv field;
  size_t pos = tbs.content;
  if (!ReadTlv(der, pos, &field)) return MalformedResponse("empty ResponseData");
  if (field.tag == 0xA0) {
    pos = field.end();
    if (!ReadTlv(der, pos, &field)) return MalformedResponse("no responderID");
  }
  if (field.tag != 0xA1 && field.tag != 0xA2) return MalformedResponse("no responderID");
  Tlv produced_at, responses, first;
  if (!ReadTlv(der, field.end(), &produced_at) || produced_at.tag != kTagGeneralizedTime ||
      !ReadTlv(der, produced_at.end(), &responses) || responses.tag != kTagSequence ||
      responses.end() > tbs.end()) {
    return MalformedResponse("no SingleResponse list");
  }
  for (size_t at = responses.content; at < responses.end(); at = first.end()) {
    if (!ReadTlv(der, at, &first) || first.tag != kTagSequence || first.end() > responses.end()) {
      return MalformedResponse("a SingleResponse is not a SEQUENCE");
    }
    if (parts.response_count++ == 0) {
      Tlv cert_id;
      if (!ReadTlv(der, first.content, &cert_id) || cert_id.tag != kTagSequence ||
          cert_id.end() > first.end()) {
        return MalformedResponse("a SingleResponse has no CertID");
      }
      parts.cert_id_offset = cert_id.start - parts.body_offset;
      parts.cert_id_size = cert_id.end() - cert_id.start;
    }
  }
  if (parts.response_count == 0) return MalformedResponse("no SingleResponse");
  return parts;
}

}  // namespace kyso::x509
