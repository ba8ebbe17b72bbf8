#include "x509/cms_verify.h"

#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/ess.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/ts.h>
#include <openssl/x509.h>

#include <algorithm>
#include <ctime>

#include "x509/der_writer.h"
#include "x509/openssl_util.h"

namespace kyso::x509 {

namespace {

using internal::Deleter;
using CmsPtr = std::unique_ptr<CMS_ContentInfo, Deleter<CMS_ContentInfo, CMS_ContentInfo_free>>;
using TstInfoPtr = std::unique_ptr<TS_TST_INFO, Deleter<TS_TST_INFO, TS_TST_INFO_free>>;
using EssV2Ptr =
    std::unique_ptr<ESS_SIGNING_CERT_V2, Deleter<ESS_SIGNING_CERT_V2, ESS_SIGNING_CERT_V2_free>>;
using EssPtr = std::unique_ptr<ESS_SIGNING_CERT, Deleter<ESS_SIGNING_CERT, ESS_SIGNING_CERT_free>>;

// id-adbe-revocationInfoArchival (Adobe, used by PAdES-era signers for embedded CRL/OCSP).
constexpr const char* kAdbeRevocationInfoArchival = "1.2.840.113583.1.1.8";

UnixSeconds ToUnix(const ASN1_TIME* t) {
  std::tm tm{};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return 0;
  return static_cast<UnixSeconds>(timegm(&tm));
}

Bytes DerOf(X509* x) {
  unsigned char* out = nullptr;
  int len = i2d_X509(x, &out);
  Bytes b;
  if (len > 0) b.assign(out, out + len);
  OPENSSL_free(out);
  return b;
}

Bytes StringBytes(const ASN1_STRING* s) {
  if (s == nullptr) return {};
  const unsigned char* p = ASN1_STRING_get0_data(s);
  return Bytes(p, p + ASN1_STRING_length(s));
}

std::vector<Certificate> CertificatesOf(CMS_ContentInfo* cms) {
  std::vector<Certificate> out;
  STACK_OF(X509)* certs = CMS_get1_certs(cms);
  for (int i = 0; certs && i < sk_X509_num(certs); ++i) {
    auto c = Certificate::FromDerCached(DerOf(sk_X509_value(certs, i)));
    if (c.ok()) out.push_back(std::move(c).value());
  }
  sk_X509_pop_free(certs, X509_free);
  return out;
}

// The value of the single-valued attribute at `idx` as the DER of its element.
const ASN1_TYPE* AttributeValue(X509_ATTRIBUTE* attr) {
  return attr ? X509_ATTRIBUTE_get0_type(attr, 0) : nullptr;
}

Result<crypto::DigestAlgorithm> DigestOf(const X509_ALGOR* alg) {
  switch (OBJ_obj2nid(alg->algorithm)) {
    case NID_sha256:
      return crypto::DigestAlgorithm::kSha256;
    case NID_sha384:
      return crypto::DigestAlgorithm::kSha384;
    case NID_sha512:
      return crypto::DigestAlgorithm::kSha512;
    default: {
      char name[80];
      OBJ_obj2txt(name, sizeof name, alg->algorithm, 0);
      return InvalidArgument("cms.unsupported_digest",
                             std::string("digest algorithm ") + name +
                                 " is not allowed (SHA-256, SHA-384 or SHA-512)");
    }
  }
}

// RevocationInfoArchival ::= SEQUENCE { crl [0] EXPLICIT SEQUENCE OF CRLs OPTIONAL,
//   ocsp [1] EXPLICIT SEQUENCE OF OCSPResponse OPTIONAL, otherRevInfo [2] ... OPTIONAL }
void ReadRevocationArchive(ByteSpan der, SignedDataInfo& info) {
  using namespace internal::der;
  DerReader outer(der);
  ByteSpan body;
  if (!outer.Read(kSequence, &body)) return;
  DerReader fields(body);
  while (!fields.empty()) {
    uint8_t tag = 0;
    ByteSpan contents;
    if (!fields.ReadAny(&tag, &contents)) return;
    DerReader list_reader(contents);
    ByteSpan list;
    if (!list_reader.Read(kSequence, &list)) continue;
    DerReader items(list);
    while (!items.empty()) {
      uint8_t item_tag = 0;
      ByteSpan item_contents, element;
      if (!items.ReadAny(&item_tag, &item_contents, &element)) break;
      if (tag == kContext0) info.crls.emplace_back(element.begin(), element.end());
      if (tag == kContext1) info.ocsp_responses.emplace_back(element.begin(), element.end());
    }
  }
}

}  // namespace

struct SignedData::State {
  std::shared_ptr<CMS_ContentInfo> cms;
  CMS_SignerInfo* signer_info = nullptr;
};

Result<SignedData> SignedData::Parse(ByteSpan der) {
  const unsigned char* p = der.data();
  CMS_ContentInfo* raw = d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(der.size()));
  if (raw == nullptr || OBJ_obj2nid(CMS_get0_type(raw)) != NID_pkcs7_signed) {
    CMS_ContentInfo_free(raw);
    ERR_clear_error();
    return InvalidArgument("cms.malformed", "not a DER CMS SignedData");
  }
  auto state = std::make_shared<State>();
  state->cms.reset(raw, CMS_ContentInfo_free);
  CMS_ContentInfo* cms = raw;
  STACK_OF(CMS_SignerInfo)* signers = CMS_get0_SignerInfos(cms);
  if (signers == nullptr || sk_CMS_SignerInfo_num(signers) != 1) {
    return InvalidArgument("cms.signer_count", "a signature must have exactly one SignerInfo");
  }
  CMS_SignerInfo* si = sk_CMS_SignerInfo_value(signers, 0);
  state->signer_info = si;
  // The signer certificate from SignedData.certificates (RFC 5652 §5.3 sid).
  CMS_set1_signers_certs(cms, nullptr, 0);
  ERR_clear_error();
  EVP_PKEY* pkey = nullptr;
  X509* signer = nullptr;
  X509_ALGOR *digest_alg = nullptr, *signature_alg = nullptr;
  CMS_SignerInfo_get0_algs(si, &pkey, &signer, &digest_alg, &signature_alg);
  if (signer == nullptr) {
    return InvalidArgument("cms.no_signer_certificate",
                           "the signer's certificate is not in the signature");
  }
  // The signer is one of SignedData.certificates: find it rather than decode it twice
  // (decoding a certificate's key is the costly part of OpenSSL 3's d2i).
  std::vector<Certificate> certificates = CertificatesOf(cms);
  Bytes signer_der = DerOf(signer);
  auto own = std::find_if(certificates.begin(), certificates.end(),
                          [&](const Certificate& c) { return c.der() == signer_der; });
  auto signer_certificate =
      own != certificates.end() ? Result<Certificate>(*own) : Certificate::FromDer(signer_der);
  if (!signer_certificate.ok()) {
    return InvalidArgument("cms.no_signer_certificate", "the signer's certificate is unreadable");
  }
  auto info = std::make_shared<SignedDataInfo>(SignedDataInfo{
      .signer = std::move(signer_certificate).value(), .certificates = std::move(certificates)});
  KYSO_ASSIGN_OR_RETURN(info->digest_algorithm, DigestOf(digest_alg));
  info->signature_algorithm = OBJ_nid2ln(OBJ_obj2nid(signature_alg->algorithm));
  info->has_signed_attributes = CMS_signed_get_attr_count(si) > 0;
  if (const ASN1_TYPE* t = AttributeValue(
          CMS_signed_get_attr(si, CMS_signed_get_attr_by_NID(si, NID_pkcs9_signingTime, -1)))) {
    if (t->type == V_ASN1_UTCTIME || t->type == V_ASN1_GENERALIZEDTIME) {
      info->signing_time = ToUnix(t->value.asn1_string);
    }
  }
  info->has_signing_certificate =
      CMS_signed_get_attr_by_NID(si, NID_id_smime_aa_signingCertificateV2, -1) >= 0 ||
      CMS_signed_get_attr_by_NID(si, NID_id_smime_aa_signingCertificate, -1) >= 0;
  ASN1_OCTET_STRING** content = CMS_get0_content(cms);
  if (content && *content) {
    info->has_content = true;
    info->content = StringBytes(*content);
  }
  info->signature_value = StringBytes(CMS_SignerInfo_get0_signature(si));
  if (const ASN1_TYPE* t = AttributeValue(CMS_unsigned_get_attr(
          si, CMS_unsigned_get_attr_by_NID(si, NID_id_smime_aa_timeStampToken, -1)))) {
    if (t->type == V_ASN1_SEQUENCE) info->signature_timestamp = StringBytes(t->value.sequence);
  }
  STACK_OF(X509_CRL)* crls = CMS_get1_crls(cms);
  for (int i = 0; crls && i < sk_X509_CRL_num(crls); ++i) {
    unsigned char* out = nullptr;
    int len = i2d_X509_CRL(sk_X509_CRL_value(crls, i), &out);
    if (len > 0) info->crls.emplace_back(out, out + len);
    OPENSSL_free(out);
  }
  sk_X509_CRL_pop_free(crls, X509_CRL_free);
  ASN1_OBJECT* archival = OBJ_txt2obj(kAdbeRevocationInfoArchival, 1);
  int idx = CMS_signed_get_attr_by_OBJ(si, archival, -1);
  ASN1_OBJECT_free(archival);
  if (const ASN1_TYPE* t = AttributeValue(CMS_signed_get_attr(si, idx))) {
    if (t->type == V_ASN1_SEQUENCE) ReadRevocationArchive(StringBytes(t->value.sequence), *info);
  }
  ERR_clear_error();
  return SignedData(std::move(state), std::move(info));
}

SignedData::Check SignedData::Verify(ByteSpan content_digest) const {
  Check check;
  CMS_SignerInfo* si = state_->signer_info;
  if (!info_->has_signed_attributes) {
    check.error_id = "cms.no_signed_attributes";
    return check;
  }
  // RFC 5652 §11.2: messageDigest is the digest of the content.
  if (const ASN1_TYPE* t = AttributeValue(
          CMS_signed_get_attr(si, CMS_signed_get_attr_by_NID(si, NID_pkcs9_messageDigest, -1)))) {
    if (t->type == V_ASN1_OCTET_STRING) {
      Bytes md = StringBytes(t->value.octet_string);
      check.digest_matches = md == Bytes(content_digest.begin(), content_digest.end());
    }
  }
  // §5.4: the signature is over the DER of the signed attributes.
  check.signature_valid = CMS_SignerInfo_verify(si) == 1;
  ERR_clear_error();
  // RFC 5035 §5.4: the certificate named by signing-certificate(-v2) must be the signer's.
  check.signing_certificate_matches = true;
  if (info_->has_signing_certificate) {
    EssV2Ptr v2;
    EssPtr v1;
    if (const ASN1_TYPE* t = AttributeValue(CMS_signed_get_attr(
            si, CMS_signed_get_attr_by_NID(si, NID_id_smime_aa_signingCertificateV2, -1)))) {
      if (t->type == V_ASN1_SEQUENCE) {
        const unsigned char* p = t->value.sequence->data;
        v2.reset(d2i_ESS_SIGNING_CERT_V2(nullptr, &p, t->value.sequence->length));
      }
    }
    if (const ASN1_TYPE* t = AttributeValue(CMS_signed_get_attr(
            si, CMS_signed_get_attr_by_NID(si, NID_id_smime_aa_signingCertificate, -1)))) {
      if (t->type == V_ASN1_SEQUENCE) {
        const unsigned char* p = t->value.sequence->data;
        v1.reset(d2i_ESS_SIGNING_CERT(nullptr, &p, t->value.sequence->length));
      }
    }
    STACK_OF(X509)* chain = sk_X509_new_null();
    sk_X509_push(chain, info_->signer.openssl());
    check.signing_certificate_matches =
        (v1 || v2) && OSSL_ESS_check_signing_certs(v1.get(), v2.get(), chain, 1) == 1;
    sk_X509_free(chain);
    ERR_clear_error();
  }
  if (!check.digest_matches) {
    check.error_id = "cms.digest_mismatch";
  } else if (!check.signature_valid) {
    check.error_id = "cms.bad_signature";
  } else if (!check.signing_certificate_matches) {
    check.error_id = "cms.signing_certificate_mismatch";
  }
  return check;
}

Result<TimeStampTokenInfo> InspectTimeStampToken(ByteSpan token) {
  const unsigned char* p = token.data();
  CmsPtr cms(d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(token.size())));
  if (!cms || OBJ_obj2nid(CMS_get0_type(cms.get())) != NID_pkcs7_signed ||
      OBJ_obj2nid(CMS_get0_eContentType(cms.get())) != NID_id_smime_ct_TSTInfo) {
    ERR_clear_error();
    return InvalidArgument("cms.malformed", "not a DER time-stamp token (RFC 3161 §2.4.2)");
  }
  ASN1_OCTET_STRING** content = CMS_get0_content(cms.get());
  if (!content || !*content) return InvalidArgument("cms.malformed", "a token without TSTInfo");
  const unsigned char* q = ASN1_STRING_get0_data(*content);
  TstInfoPtr tst(d2i_TS_TST_INFO(nullptr, &q, ASN1_STRING_length(*content)));
  if (!tst) {
    ERR_clear_error();
    return InvalidArgument("cms.malformed", "the token's TSTInfo is not DER");
  }
  TimeStampTokenInfo info;
  info.gen_time = ToUnix(TS_TST_INFO_get_time(tst.get()));
  char buf[128];
  OBJ_obj2txt(buf, sizeof buf, TS_TST_INFO_get_policy_id(tst.get()), 1);
  info.policy_oid = buf;
  if (const ASN1_INTEGER* serial = TS_TST_INFO_get_serial(tst.get())) {
    BIGNUM* bn = ASN1_INTEGER_to_BN(serial, nullptr);
    char* hex = BN_bn2hex(bn);
    info.serial_hex = hex;
    OPENSSL_free(hex);
    BN_free(bn);
  }
  TS_MSG_IMPRINT* imprint = TS_TST_INFO_get_msg_imprint(tst.get());
  info.imprint_algorithm = OBJ_nid2sn(OBJ_obj2nid(TS_MSG_IMPRINT_get_algo(imprint)->algorithm));
  info.imprint = StringBytes(TS_MSG_IMPRINT_get_msg(imprint));
  info.certificates = CertificatesOf(cms.get());
  CMS_set1_signers_certs(cms.get(), nullptr, 0);
  STACK_OF(CMS_SignerInfo)* signers = CMS_get0_SignerInfos(cms.get());
  if (signers && sk_CMS_SignerInfo_num(signers) == 1) {
    X509* signer = nullptr;
    CMS_SignerInfo_get0_algs(sk_CMS_SignerInfo_value(signers, 0), nullptr, &signer, nullptr,
                             nullptr);
    if (signer) {
      Bytes der = DerOf(signer);
      for (const auto& c : info.certificates) {
        if (c.der() == der) info.tsa_certificate = c;
      }
      if (!info.tsa_certificate) {
        auto cert = Certificate::FromDer(der);
        if (cert.ok()) info.tsa_certificate = std::move(cert).value();
      }
    }
  }
  ERR_clear_error();
  if (!info.tsa_certificate) {
    info.error_id = "timestamp.no_certificate";
    return info;
  }
  // The token's signature and eContent digest; the TSA's chain is checked by the caller.
  info.signature_valid = CMS_verify(cms.get(), nullptr, nullptr, nullptr, nullptr,
                                    CMS_NO_SIGNER_CERT_VERIFY | CMS_BINARY) == 1;
  ERR_clear_error();
  if (!info.signature_valid) info.error_id = "timestamp.bad_signature";
  return info;
}

bool TimeStampCovers(const TimeStampTokenInfo& info, ByteSpan data) {
  const EVP_MD* md = EVP_get_digestbyname(info.imprint_algorithm.c_str());
  if (md == nullptr || info.imprint.size() != static_cast<size_t>(EVP_MD_get_size(md))) {
    return false;
  }
  Bytes digest(EVP_MD_get_size(md));
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest.data(), &len, md, nullptr);
  return digest == info.imprint;
}

}  // namespace kyso::x509
