#include "x509/validation_data.h"

#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/pkcs7.h>
#include <openssl/ts.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "crypto/openssl_error.h"
#include "crypto/random.h"
#include "x509/der_writer.h"
#include "x509/openssl_util.h"
#include "x509/timestamp.h"

namespace kyso::x509 {

namespace {
using internal::Deleter;

using TsRespPtr = std::unique_ptr<TS_RESP, Deleter<TS_RESP, TS_RESP_free>>;
using OcspResponsePtr = std::unique_ptr<OCSP_RESPONSE, Deleter<OCSP_RESPONSE, OCSP_RESPONSE_free>>;
using OcspBasicPtr = std::unique_ptr<OCSP_BASICRESP, Deleter<OCSP_BASICRESP, OCSP_BASICRESP_free>>;
using OcspCertIdPtr = std::unique_ptr<OCSP_CERTID, Deleter<OCSP_CERTID, OCSP_CERTID_free>>;
using CmsPtr = std::unique_ptr<CMS_ContentInfo, Deleter<CMS_ContentInfo, CMS_ContentInfo_free>>;

UnixSeconds ToUnix(const ASN1_GENERALIZEDTIME* t) {
  if (t == nullptr) return 0;
  std::tm tm{};
  if (ASN1_TIME_to_tm(t, &tm) != 1) return 0;
  return static_cast<UnixSeconds>(timegm(&tm));
}

Bytes SerialBytes(const Certificate& certificate) {
  Bytes out;
  std::string hex = certificate.serial_hex();
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<uint8_t>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

}  // namespace

Bytes EncodeTimeStampRequest(crypto::DigestAlgorithm algorithm, ByteSpan digest, ByteSpan nonce) {
  using namespace internal::der;
  Bytes imprint =
      Tlv(kSequence, {DigestAlgorithmIdentifier(algorithm), Tlv(kOctetString, {digest})});
  Bytes version = UnsignedInteger(1);
  Bytes body;
  body.insert(body.end(), version.begin(), version.end());
  body.insert(body.end(), imprint.begin(), imprint.end());
  if (!nonce.empty()) {
    Bytes n = Tlv(kInteger, {nonce});
    body.insert(body.end(), n.begin(), n.end());
  }
  const uint8_t cert_req[] = {kBoolean, 1, 0xFF};
  body.insert(body.end(), std::begin(cert_req), std::end(cert_req));
  return Tlv(kSequence, {body});
}

Result<Bytes> TimeStampTokenOf(ByteSpan response, crypto::DigestAlgorithm algorithm,
                               ByteSpan digest, ByteSpan nonce) {
  KYSO_ASSIGN_OR_RETURN(TimeStampResponseInfo info, InspectTimeStampResponse(response));
  if (info.status != 0 && info.status != 1) {
    std::string failures;
    for (const auto& f : info.failures) failures += (failures.empty() ? "" : ", ") + f;
    return FailedPrecondition("timestamp.rejected",
                              "the TSA refused the request: status " + std::to_string(info.status) +
                                  (failures.empty() ? "" : " (" + failures + ")") +
                                  (info.status_string.empty() ? "" : ": " + info.status_string));
  }
  if (!info.has_token) return InvalidArgument("timestamp.malformed", "granted without a token");
  if (info.hashed_message != Bytes(digest.begin(), digest.end())) {
    return InvalidArgument("timestamp.imprint_mismatch",
                           "the time-stamp token covers a different digest");
  }
  static constexpr const char* kShortNames[] = {"SHA256", "SHA384", "SHA512"};
  if (info.hash_algorithm != kShortNames[static_cast<int>(algorithm)]) {
    return InvalidArgument("timestamp.imprint_mismatch",
                           "the time-stamp token hashes with " + info.hash_algorithm);
  }
  if (!nonce.empty() && (!info.nonce || *info.nonce != Bytes(nonce.begin(), nonce.end()))) {
    return InvalidArgument("timestamp.nonce_mismatch",
                           "the time-stamp token does not echo the nonce");
  }
  const unsigned char* p = response.data();
  TsRespPtr resp(d2i_TS_RESP(nullptr, &p, static_cast<long>(response.size())));
  if (!resp || TS_RESP_get_token(resp.get()) == nullptr) {
    return InvalidArgument("timestamp.malformed", "no TimeStampToken in the response");
  }
  unsigned char* der = nullptr;
  int len = i2d_PKCS7(TS_RESP_get_token(resp.get()), &der);
  if (len <= 0) return InvalidArgument("timestamp.malformed", "cannot encode the token");
  Bytes token(der, der + len);
  OPENSSL_free(der);
  return token;
}

Result<std::vector<Certificate>> CertificatesOfSignedData(ByteSpan cms) {
  const unsigned char* p = cms.data();
  CmsPtr ci(d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(cms.size())));
  if (!ci || OBJ_obj2nid(CMS_get0_type(ci.get())) != NID_pkcs7_signed) {
    return InvalidArgument("cms.malformed", "not a CMS SignedData");
  }
  std::vector<Certificate> out;
  STACK_OF(X509)* certs = CMS_get1_certs(ci.get());
  for (int i = 0; certs && i < sk_X509_num(certs); ++i) {
    unsigned char* der = nullptr;
    int len = i2d_X509(sk_X509_value(certs, i), &der);
    if (len > 0) {
      auto cert = Certificate::FromDer(ByteSpan(der, static_cast<size_t>(len)));
      if (cert.ok()) out.push_back(std::move(cert).value());
      OPENSSL_free(der);
    }
  }
  sk_X509_pop_free(certs, X509_free);
  return out;
}

Bytes EncodeOcspRequestFor(const Certificate& certificate, const Certificate& issuer) {
  Bytes cert_id =
      EncodeCertId(ComputeIssuerHashes(issuer, OcspHash::kSha1), SerialBytes(certificate));
  std::vector<Bytes> ids = {cert_id};
  return EncodeOcspRequest(ids, std::nullopt);
}

Result<OcspAnswer> InspectOcspResponse(ByteSpan response, const Certificate& certificate,
                                       const Certificate& issuer) {
  const unsigned char* p = response.data();
  OcspResponsePtr resp(d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(response.size())));
  if (!resp) return InvalidArgument("ocsp.malformed_response", "not a DER OCSPResponse");
  int status = OCSP_response_status(resp.get());
  if (status != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
    return FailedPrecondition("ocsp.unsuccessful", std::string("the OCSP responder answered ") +
                                                       OCSP_response_status_str(status));
  }
  OcspBasicPtr basic(OCSP_response_get1_basic(resp.get()));
  if (!basic) return InvalidArgument("ocsp.malformed_response", "no BasicOCSPResponse");

  // RFC 6960 §4.2.2.2: signed by the CA itself or by a certificate the CA issued for OCSP.
  OcspAnswer answer;
  bool verified = false;
  crypto::PublicKey issuer_key = issuer.public_key();
  {
    // The CA signing for itself: only the issuer's key is tried (OCSP_NOINTERN keeps OpenSSL
    // from taking a signer out of the response's own certificates, which anyone can put there).
    STACK_OF(X509)* issuer_only = sk_X509_new_null();
    sk_X509_push(issuer_only, issuer.openssl());
    verified = OCSP_basic_verify(basic.get(), issuer_only, nullptr,
                                 OCSP_NOINTERN | OCSP_NOVERIFY | OCSP_TRUSTOTHER) == 1;
    sk_X509_free(issuer_only);
    ERR_clear_error();
  }
  if (!verified) {
    const STACK_OF(X509)* carried = OCSP_resp_get0_certs(basic.get());
    for (int i = 0; carried && i < sk_X509_num(carried); ++i) {
      X509* candidate = sk_X509_value(carried, i);
      unsigned char* der = nullptr;
      int len = i2d_X509(candidate, &der);
      if (len <= 0) continue;
      auto responder = Certificate::FromDer(ByteSpan(der, static_cast<size_t>(len)));
      OPENSSL_free(der);
      if (!responder.ok() || !responder->IsSignedBy(issuer_key)) continue;
      if ((X509_get_extension_flags(candidate) & EXFLAG_XKUSAGE) == 0 ||
          (X509_get_extended_key_usage(candidate) & XKU_OCSP_SIGN) == 0) {
        continue;
      }
      STACK_OF(X509)* one = sk_X509_new_null();
      sk_X509_push(one, candidate);
      // RFC 6960 §4.2.2.2: a delegate the issuer certified for OCSPSigning, and nothing else.
      int ok = OCSP_basic_verify(basic.get(), one, nullptr,
                                 OCSP_NOINTERN | OCSP_NOVERIFY | OCSP_TRUSTOTHER);
      sk_X509_free(one);
      ERR_clear_error();
      if (ok == 1) {
        verified = true;
        answer.responder = std::move(responder).value();
        break;
      }
    }
  }
  if (!verified) {
    return InvalidArgument("ocsp.bad_signature",
                           "the OCSP response is not signed by the issuer or its delegate");
  }
  OcspCertIdPtr id(OCSP_cert_to_id(EVP_sha1(), certificate.openssl(), issuer.openssl()));
  int cert_status = -1, reason = -1;
  ASN1_GENERALIZEDTIME *revoked = nullptr, *this_update = nullptr, *next_update = nullptr;
  if (!id || OCSP_resp_find_status(basic.get(), id.get(), &cert_status, &reason, &revoked,
                                   &this_update, &next_update) != 1) {
    return InvalidArgument("ocsp.no_status", "the OCSP response has no status for certificate " +
                                                 certificate.serial_hex());
  }
  answer.status = cert_status == V_OCSP_CERTSTATUS_GOOD      ? OcspCertStatus::kGood
                  : cert_status == V_OCSP_CERTSTATUS_REVOKED ? OcspCertStatus::kRevoked
                                                             : OcspCertStatus::kUnknown;
  answer.this_update = ToUnix(this_update);
  if (next_update) answer.next_update = ToUnix(next_update);
  if (revoked) answer.revocation_time = ToUnix(revoked);
  answer.produced_at = ToUnix(OCSP_resp_get0_produced_at(basic.get()));
  return answer;
}

Bytes Sha1ForIdentifier(ByteSpan data) {
  Bytes out(20);
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_sha1(), nullptr);
  return out;
}

Result<Bytes> RequestTimeStamp(const std::function<Result<Bytes>(ByteSpan request)>& send,
                               ByteSpan digest) {
  crypto::SystemRng rng;
  Bytes nonce = rng.Generate(8);
  nonce[0] &= 0x7F;  // a positive INTEGER
  if (nonce[0] == 0) nonce[0] = 1;
  Bytes request = EncodeTimeStampRequest(crypto::DigestAlgorithm::kSha256, digest, nonce);
  KYSO_ASSIGN_OR_RETURN(Bytes response, send(request));
  return TimeStampTokenOf(response, crypto::DigestAlgorithm::kSha256, digest, nonce);
}

}  // namespace kyso::x509
