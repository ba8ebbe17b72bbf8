#include "x509/certificate.h"

#include <arpa/inet.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstring>
#include <mutex>
#include <unordered_map>

#include "crypto/openssl_error.h"
#include "x509/openssl_util.h"
#include "x509/signing.h"

namespace kyso::x509 {

using crypto::DrainOpenSslErrors;
using internal::FromAsn1Time;

// --- parsing ---

Result<Certificate> Certificate::FromDer(ByteSpan der) {
  const unsigned char* p = der.data();
  X509* x = d2i_X509(nullptr, &p, static_cast<long>(der.size()));
  if (x == nullptr || p != der.data() + der.size()) {
    X509_free(x);
    return InvalidArgument("cert.malformed", "malformed certificate: " + DrainOpenSslErrors());
  }
  return Certificate(std::shared_ptr<X509>(x, X509_free),
                     std::make_shared<const Bytes>(der.begin(), der.end()));
}

Result<Certificate> Certificate::FromDerCached(ByteSpan der) {
  static constexpr size_t kMaxEntries = 4096;
  static std::mutex mu;
  static std::unordered_map<std::string, Certificate> cache;
  std::string key(reinterpret_cast<const char*>(der.data()), der.size());
  {
    std::lock_guard lock(mu);
    if (auto it = cache.find(key); it != cache.end()) return it->second;
  }
  KYSO_ASSIGN_OR_RETURN(Certificate parsed, FromDer(der));
  std::lock_guard lock(mu);
  if (cache.size() >= kMaxEntries) cache.clear();  // bounded; a batch refills what it uses
  cache.emplace(std::move(key), parsed);
  return parsed;
}

Result<std::vector<Certificate>> Certificate::AllFromPem(std::string_view pem) {
  std::vector<Certificate> out;
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  for (;;) {
    X509* x = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
    if (x == nullptr) break;
    unsigned char* buf = nullptr;
    int len = i2d_X509(x, &buf);
    Bytes der(buf, buf + len);
    OPENSSL_free(buf);
    out.push_back(Certificate(std::shared_ptr<X509>(x, X509_free),
                              std::make_shared<const Bytes>(std::move(der))));
  }
  BIO_free(bio);
  DrainOpenSslErrors();  // the final read fails with "no start line" by design
  if (out.empty()) return InvalidArgument("cert.malformed", "no PEM certificate found");
  return out;
}

Result<Certificate> Certificate::FromPem(std::string_view pem) {
  KYSO_ASSIGN_OR_RETURN(auto all, AllFromPem(pem));
  return all.front();
}

std::string Certificate::ToPem() const {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, x509_.get());
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(len));
  BIO_free(bio);
  return pem;
}

Name Certificate::subject() const {
  auto n = internal::NameFromX509(X509_get_subject_name(x509_.get()));
  return n.ok() ? *n : Name();
}

Name Certificate::issuer() const {
  auto n = internal::NameFromX509(X509_get_issuer_name(x509_.get()));
  return n.ok() ? *n : Name();
}

std::string Certificate::serial_hex() const {
  return internal::SerialHex(X509_get0_serialNumber(x509_.get()));
}

UnixSeconds Certificate::not_before() const {
  return FromAsn1Time(X509_get0_notBefore(x509_.get()));
}
UnixSeconds Certificate::not_after() const {
  return FromAsn1Time(X509_get0_notAfter(x509_.get()));
}

crypto::PublicKey Certificate::public_key() const {
  if (subject_key_) return *subject_key_;
  return crypto::PublicKey::FromOpenssl(X509_get0_pubkey(x509_.get()));
}

bool Certificate::is_ca() const {
  return X509_check_ca(x509_.get()) > 0;
}

Bytes Certificate::subject_key_id() const {
  const ASN1_OCTET_STRING* ski = X509_get0_subject_key_id(x509_.get());
  if (ski == nullptr) return {};
  return Bytes(ASN1_STRING_get0_data(ski), ASN1_STRING_get0_data(ski) + ASN1_STRING_length(ski));
}

std::string Certificate::signature_algorithm() const {
  int nid = X509_get_signature_nid(x509_.get());
  if (nid == NID_rsassaPss) return "RSASSA-PSS";
  return nid == NID_undef ? "unknown" : OBJ_nid2ln(nid);
}

bool Certificate::IsSignedBy(const crypto::PublicKey& issuer_key) const {
  int rc = X509_verify(x509_.get(), issuer_key.openssl());
  DrainOpenSslErrors();
  return rc == 1;
}

namespace {

// id-kp-documentSigning (RFC 9336 §3.1); OpenSSL 3.0 has no NID for it.
constexpr const char* kDocumentSigningOid = "1.3.6.1.5.5.7.3.36";

std::string ObjText(const ASN1_OBJECT* obj) {
  int nid = OBJ_obj2nid(obj);
  if (nid == NID_any_policy) return "anyPolicy";
  if (nid != NID_undef) return OBJ_nid2sn(nid);
  char buf[128];
  OBJ_obj2txt(buf, sizeof buf, obj, 1);
  if (std::string(buf) == kDocumentSigningOid) return "documentSigning";
  return buf;
}

std::string Asn1Text(const ASN1_STRING* s) {
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                     static_cast<size_t>(ASN1_STRING_length(s)));
}

void CollectGeneralNames(const GENERAL_NAMES* names, std::vector<std::string>* uris,
                         Extensions* sans) {
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names, i);
    switch (gn->type) {
      case GEN_URI:
        if (uris) uris->push_back(Asn1Text(gn->d.uniformResourceIdentifier));
        break;
      case GEN_EMAIL:
        if (sans) sans->email_sans.push_back(Asn1Text(gn->d.rfc822Name));
        break;
      case GEN_DNS:
        if (sans) sans->dns_sans.push_back(Asn1Text(gn->d.dNSName));
        break;
      case GEN_IPADD: {
        if (!sans) break;
        char buf[64] = {0};
        const ASN1_OCTET_STRING* ip = gn->d.iPAddress;
        int af = ASN1_STRING_length(ip) == 4 ? AF_INET : AF_INET6;
        inet_ntop(af, ASN1_STRING_get0_data(ip), buf, sizeof buf);
        sans->ip_sans.push_back(buf);
        break;
      }
      default:
        break;
    }
  }
}

}  // namespace

Extensions Certificate::extensions() const {
  Extensions e;
  X509* x = x509_.get();
  int crit = 0;
  if (auto* bc = static_cast<BASIC_CONSTRAINTS*>(
          X509_get_ext_d2i(x, NID_basic_constraints, &crit, nullptr))) {
    e.is_ca = bc->ca != 0;
    if (bc->pathlen) e.path_length = static_cast<int>(ASN1_INTEGER_get(bc->pathlen));
    BASIC_CONSTRAINTS_free(bc);
  }
  if (auto* ku =
          static_cast<ASN1_BIT_STRING*>(X509_get_ext_d2i(x, NID_key_usage, &crit, nullptr))) {
    static const char* kNames[] = {"digitalSignature", "nonRepudiation", "keyEncipherment",
                                   "dataEncipherment", "keyAgreement",   "keyCertSign",
                                   "cRLSign",          "encipherOnly",   "decipherOnly"};
    for (int bit = 0; bit < 9; ++bit) {
      if (ASN1_BIT_STRING_get_bit(ku, bit)) e.key_usage.push_back(kNames[bit]);
    }
    e.key_usage_critical = crit == 1;
    ASN1_BIT_STRING_free(ku);
  }
  if (auto* eku = static_cast<EXTENDED_KEY_USAGE*>(
          X509_get_ext_d2i(x, NID_ext_key_usage, &crit, nullptr))) {
    for (int i = 0; i < sk_ASN1_OBJECT_num(eku); ++i)
      e.extended_key_usage.push_back(ObjText(sk_ASN1_OBJECT_value(eku, i)));
    e.extended_key_usage_critical = crit == 1;
    EXTENDED_KEY_USAGE_free(eku);
  }
  if (auto* pol = static_cast<CERTIFICATEPOLICIES*>(
          X509_get_ext_d2i(x, NID_certificate_policies, &crit, nullptr))) {
    for (int i = 0; i < sk_POLICYINFO_num(pol); ++i)
      e.policy_oids.push_back(ObjText(sk_POLICYINFO_value(pol, i)->policyid));
    CERTIFICATEPOLICIES_free(pol);
  }
  if (auto* aia = static_cast<AUTHORITY_INFO_ACCESS*>(
          X509_get_ext_d2i(x, NID_info_access, &crit, nullptr))) {
    for (int i = 0; i < sk_ACCESS_DESCRIPTION_num(aia); ++i) {
      ACCESS_DESCRIPTION* ad = sk_ACCESS_DESCRIPTION_value(aia, i);
      if (ad->location->type != GEN_URI) continue;
      std::string uri = Asn1Text(ad->location->d.uniformResourceIdentifier);
      int nid = OBJ_obj2nid(ad->method);
      if (nid == NID_ad_OCSP) e.ocsp_urls.push_back(uri);
      if (nid == NID_ad_ca_issuers) e.ca_issuers_urls.push_back(uri);
    }
    AUTHORITY_INFO_ACCESS_free(aia);
  }
  if (auto* dps = static_cast<CRL_DIST_POINTS*>(
          X509_get_ext_d2i(x, NID_crl_distribution_points, &crit, nullptr))) {
    for (int i = 0; i < sk_DIST_POINT_num(dps); ++i) {
      DIST_POINT* dp = sk_DIST_POINT_value(dps, i);
      if (dp->distpoint && dp->distpoint->type == 0)
        CollectGeneralNames(dp->distpoint->name.fullname, &e.crl_urls, nullptr);
    }
    CRL_DIST_POINTS_free(dps);
  }
  if (auto* san =
          static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(x, NID_subject_alt_name, &crit, nullptr))) {
    CollectGeneralNames(san, nullptr, &e);
    GENERAL_NAMES_free(san);
  }
  e.ocsp_no_check = X509_get_ext_by_NID(x, NID_id_pkix_OCSP_noCheck, -1) >= 0;
  return e;
}

// --- building ---

namespace {

Status AddExt(X509* x, int nid, void* value, bool critical) {
  if (X509_add1_ext_i2d(x, nid, value, critical ? 1 : 0, X509V3_ADD_REPLACE) != 1) {
    return Internal("cert.build_failed", std::string("cannot add extension ") + OBJ_nid2sn(nid) +
                                             ": " + DrainOpenSslErrors());
  }
  return Status::Ok();
}

Result<ASN1_OBJECT*> ObjFromText(const std::string& text) {
  const char* name = text == "documentSigning" ? kDocumentSigningOid : text.c_str();
  ASN1_OBJECT* obj = OBJ_txt2obj(name, 0);
  if (obj == nullptr) {
    DrainOpenSslErrors();
    return InvalidArgument("cert.unknown_oid",
                           "unknown object identifier or name \"" + text + "\"");
  }
  return obj;
}

GENERAL_NAME* UriName(const std::string& uri) {
  GENERAL_NAME* gn = GENERAL_NAME_new();
  ASN1_IA5STRING* s = ASN1_IA5STRING_new();
  ASN1_STRING_set(s, uri.data(), static_cast<int>(uri.size()));
  GENERAL_NAME_set0_value(gn, GEN_URI, s);
  return gn;
}

Result<GENERAL_NAME*> IpName(const std::string& ip) {
  unsigned char buf[16];
  int len = 0;
  if (inet_pton(AF_INET, ip.c_str(), buf) == 1) {
    len = 4;
  } else if (inet_pton(AF_INET6, ip.c_str(), buf) == 1) {
    len = 16;
  } else {
    return InvalidArgument("cert.bad_ip", "not an IP address: " + ip);
  }
  GENERAL_NAME* gn = GENERAL_NAME_new();
  ASN1_OCTET_STRING* s = ASN1_OCTET_STRING_new();
  ASN1_OCTET_STRING_set(s, buf, len);
  GENERAL_NAME_set0_value(gn, GEN_IPADD, s);
  return gn;
}

GENERAL_NAME* Ia5Name(int type, const std::string& value) {
  GENERAL_NAME* gn = GENERAL_NAME_new();
  ASN1_IA5STRING* s = ASN1_IA5STRING_new();
  ASN1_STRING_set(s, value.data(), static_cast<int>(value.size()));
  GENERAL_NAME_set0_value(gn, type, s);
  return gn;
}

Status AddKeyUsage(X509* x, const Extensions& e) {
  static const std::pair<const char*, int> kBits[] = {
      {"digitalSignature", 0}, {"nonRepudiation", 1},   {"contentCommitment", 1},
      {"keyEncipherment", 2},  {"dataEncipherment", 3}, {"keyAgreement", 4},
      {"keyCertSign", 5},      {"cRLSign", 6},          {"encipherOnly", 7},
      {"decipherOnly", 8}};
  ASN1_BIT_STRING* ku = ASN1_BIT_STRING_new();
  for (const auto& name : e.key_usage) {
    int bit = -1;
    for (const auto& [n, b] : kBits) {
      if (name == n) bit = b;
    }
    if (bit < 0) {
      ASN1_BIT_STRING_free(ku);
      return InvalidArgument("cert.unknown_key_usage", "unknown key usage \"" + name + "\"");
    }
    ASN1_BIT_STRING_set_bit(ku, bit, 1);
  }
  Status st = AddExt(x, NID_key_usage, ku, e.key_usage_critical);
  ASN1_BIT_STRING_free(ku);
  return st;
}

Status AddExtendedKeyUsage(X509* x, const Extensions& e) {
  EXTENDED_KEY_USAGE* eku = sk_ASN1_OBJECT_new_null();
  for (const auto& name : e.extended_key_usage) {
    auto obj = ObjFromText(name);
    if (!obj.ok()) {
      sk_ASN1_OBJECT_pop_free(eku, ASN1_OBJECT_free);
      return obj.status();
    }
    sk_ASN1_OBJECT_push(eku, *obj);
  }
  Status st = AddExt(x, NID_ext_key_usage, eku, e.extended_key_usage_critical);
  sk_ASN1_OBJECT_pop_free(eku, ASN1_OBJECT_free);
  return st;
}

Status AddPolicies(X509* x, const Extensions& e) {
  CERTIFICATEPOLICIES* pols = sk_POLICYINFO_new_null();
  for (const auto& oid : e.policy_oids) {
    auto obj = ObjFromText(oid);
    if (!obj.ok()) {
      sk_POLICYINFO_pop_free(pols, POLICYINFO_free);
      return obj.status();
    }
    POLICYINFO* pi = POLICYINFO_new();
    ASN1_OBJECT_free(pi->policyid);
    pi->policyid = *obj;
    sk_POLICYINFO_push(pols, pi);
  }
  Status st = AddExt(x, NID_certificate_policies, pols, false);
  sk_POLICYINFO_pop_free(pols, POLICYINFO_free);
  return st;
}

Status AddAuthorityInfoAccess(X509* x, const Extensions& e) {
  AUTHORITY_INFO_ACCESS* aia = sk_ACCESS_DESCRIPTION_new_null();
  auto add = [&](int nid, const std::string& uri) {
    ACCESS_DESCRIPTION* ad = ACCESS_DESCRIPTION_new();
    ASN1_OBJECT_free(ad->method);
    ad->method = OBJ_nid2obj(nid);
    GENERAL_NAME_free(ad->location);
    ad->location = UriName(uri);
    sk_ACCESS_DESCRIPTION_push(aia, ad);
  };
  for (const auto& u : e.ocsp_urls) add(NID_ad_OCSP, u);
  for (const auto& u : e.ca_issuers_urls) add(NID_ad_ca_issuers, u);
  // RFC 5280 §4.2.2.1: "Conforming CAs MUST mark this extension as non-critical."
  Status st = AddExt(x, NID_info_access, aia, false);
  sk_ACCESS_DESCRIPTION_pop_free(aia, ACCESS_DESCRIPTION_free);
  return st;
}

Status AddCrlDistributionPoints(X509* x, const Extensions& e) {
  CRL_DIST_POINTS* dps = sk_DIST_POINT_new_null();
  DIST_POINT* dp = DIST_POINT_new();
  dp->distpoint = DIST_POINT_NAME_new();
  dp->distpoint->type = 0;  // fullName
  dp->distpoint->name.fullname = sk_GENERAL_NAME_new_null();
  for (const auto& u : e.crl_urls) sk_GENERAL_NAME_push(dp->distpoint->name.fullname, UriName(u));
  sk_DIST_POINT_push(dps, dp);
  Status st = AddExt(x, NID_crl_distribution_points, dps, false);
  sk_DIST_POINT_pop_free(dps, DIST_POINT_free);
  return st;
}

Status AddSubjectAltName(X509* x, const Extensions& e, bool subject_empty) {
  GENERAL_NAMES* names = sk_GENERAL_NAME_new_null();
  for (const auto& v : e.email_sans) sk_GENERAL_NAME_push(names, Ia5Name(GEN_EMAIL, v));
  for (const auto& v : e.dns_sans) sk_GENERAL_NAME_push(names, Ia5Name(GEN_DNS, v));
  for (const auto& v : e.ip_sans) {
    auto gn = IpName(v);
    if (!gn.ok()) {
      sk_GENERAL_NAME_pop_free(names, GENERAL_NAME_free);
      return gn.status();
    }
    sk_GENERAL_NAME_push(names, *gn);
  }
  // RFC 5280 §4.2.1.6: critical when the subject field is empty.
  Status st = AddExt(x, NID_subject_alt_name, names, subject_empty);
  sk_GENERAL_NAME_pop_free(names, GENERAL_NAME_free);
  return st;
}

// Copies the key's SubjectPublicKeyInfo into `x` field by field (algorithm, parameters, key
// bits). X509_set_pubkey would encode the EVP_PKEY with an OSSL_ENCODER and decode the result
// again with an OSSL_DECODER (OpenSSL 3.0), ~170 us per certificate for the same bytes.
Status SetSubjectKey(X509* x, const crypto::PublicKey& key) {
  Bytes spki = key.SpkiDer();
  const unsigned char* p = spki.data();
  const unsigned char* end = spki.data() + spki.size();
  long len = 0;
  int tag = 0, cls = 0;
  if (ASN1_get_object(&p, &len, &tag, &cls, end - p) & 0x80 || tag != V_ASN1_SEQUENCE) {
    return Internal("cert.build_failed", "malformed SubjectPublicKeyInfo");
  }
  X509_ALGOR* algor = d2i_X509_ALGOR(nullptr, &p, end - p);
  ASN1_BIT_STRING* bits = d2i_ASN1_BIT_STRING(nullptr, &p, end - p);
  Status st;
  if (algor == nullptr || bits == nullptr) {
    st = Internal("cert.build_failed", "malformed SubjectPublicKeyInfo");
  } else {
    const ASN1_OBJECT* obj = nullptr;
    int ptype = 0;
    const void* pval = nullptr;
    X509_ALGOR_get0(&obj, &ptype, &pval, algor);
    void* param = nullptr;
    if (ptype == V_ASN1_OBJECT) {
      param = OBJ_dup(static_cast<const ASN1_OBJECT*>(pval));
    } else if (ptype == V_ASN1_SEQUENCE) {
      param = ASN1_STRING_dup(static_cast<const ASN1_STRING*>(pval));
    }
    int n = ASN1_STRING_length(bits);
    auto* copy = static_cast<unsigned char*>(OPENSSL_memdup(ASN1_STRING_get0_data(bits), n));
    if (X509_PUBKEY_set0_param(X509_get_X509_PUBKEY(x), OBJ_dup(obj), ptype, param, copy, n) != 1) {
      st = Internal("cert.build_failed", DrainOpenSslErrors());
    }
  }
  X509_ALGOR_free(algor);
  ASN1_BIT_STRING_free(bits);
  return st;
}

}  // namespace

Result<Certificate> BuildCertificate(const CertificateTemplate& tmpl, const Certificate* issuer,
                                     const crypto::Signer& signer,
                                     const crypto::SignatureScheme& scheme) {
  if (tmpl.serial.empty() || (tmpl.serial[0] & 0x80) != 0) {
    return InvalidArgument("cert.bad_serial", "serial must be a non-empty positive integer");
  }
  if (tmpl.not_after <= tmpl.not_before) {
    return InvalidArgument("cert.bad_validity", "notAfter must be later than notBefore");
  }
  std::unique_ptr<X509, decltype(&X509_free)> x(X509_new(), X509_free);
  X509_set_version(x.get(), X509_VERSION_3);
  auto serial = internal::SerialToAsn1(tmpl.serial);
  X509_set_serialNumber(x.get(), serial.get());
  KYSO_ASSIGN_OR_RETURN(auto subject, internal::NameToX509(tmpl.subject));
  X509_set_subject_name(x.get(), subject.get());
  // RFC 5280 §4.1.2.4: the issuer field must match the issuer's subject byte for byte for path
  // building, so it is copied from the issuer certificate rather than re-encoded.
  X509_set_issuer_name(x.get(), issuer ? X509_get_subject_name(issuer->openssl()) : subject.get());
  auto nb = internal::ToAsn1Time(tmpl.not_before);
  auto na = internal::ToAsn1Time(tmpl.not_after);
  X509_set1_notBefore(x.get(), nb.get());
  X509_set1_notAfter(x.get(), na.get());
  KYSO_RETURN_IF_ERROR(SetSubjectKey(x.get(), tmpl.subject_key));

  const Extensions& e = tmpl.extensions;
  X509* xp = x.get();
  // RFC 5280 §4.2.1.9: basicConstraints MUST be critical in CA certificates. We include it,
  // critical, in end-entity certificates too (cA FALSE), as most national CAs do.
  BASIC_CONSTRAINTS* bc = BASIC_CONSTRAINTS_new();
  bc->ca = e.is_ca ? 0xFF : 0;
  if (e.is_ca && e.path_length) {
    bc->pathlen = ASN1_INTEGER_new();
    ASN1_INTEGER_set(bc->pathlen, *e.path_length);
  }
  Status st = AddExt(xp, NID_basic_constraints, bc, true);
  BASIC_CONSTRAINTS_free(bc);
  KYSO_RETURN_IF_ERROR(st);
  if (!e.key_usage.empty()) KYSO_RETURN_IF_ERROR(AddKeyUsage(xp, e));
  if (!e.extended_key_usage.empty()) KYSO_RETURN_IF_ERROR(AddExtendedKeyUsage(xp, e));

  // §4.2.1.2 subjectKeyIdentifier, §4.2.1.1 authorityKeyIdentifier (keyIdentifier form).
  Bytes ski = tmpl.subject_key.KeyIdentifier();
  ASN1_OCTET_STRING* ski_os = ASN1_OCTET_STRING_new();
  ASN1_OCTET_STRING_set(ski_os, ski.data(), static_cast<int>(ski.size()));
  st = AddExt(xp, NID_subject_key_identifier, ski_os, false);
  ASN1_OCTET_STRING_free(ski_os);
  KYSO_RETURN_IF_ERROR(st);
  Bytes aki = issuer ? issuer->subject_key_id() : ski;
  if (issuer && aki.empty()) aki = issuer->public_key().KeyIdentifier();
  AUTHORITY_KEYID* akid = AUTHORITY_KEYID_new();
  akid->keyid = ASN1_OCTET_STRING_new();
  ASN1_OCTET_STRING_set(akid->keyid, aki.data(), static_cast<int>(aki.size()));
  st = AddExt(xp, NID_authority_key_identifier, akid, false);
  AUTHORITY_KEYID_free(akid);
  KYSO_RETURN_IF_ERROR(st);

  if (!e.policy_oids.empty()) KYSO_RETURN_IF_ERROR(AddPolicies(xp, e));
  if (!e.ocsp_urls.empty() || !e.ca_issuers_urls.empty())
    KYSO_RETURN_IF_ERROR(AddAuthorityInfoAccess(xp, e));
  if (!e.crl_urls.empty()) KYSO_RETURN_IF_ERROR(AddCrlDistributionPoints(xp, e));
  if (!e.email_sans.empty() || !e.dns_sans.empty() || !e.ip_sans.empty()) {
    KYSO_RETURN_IF_ERROR(AddSubjectAltName(xp, e, tmpl.subject.empty()));
  }
  if (e.ocsp_no_check) {
    ASN1_NULL* null = ASN1_NULL_new();
    st = AddExt(xp, NID_id_pkix_OCSP_noCheck, null, false);
    ASN1_NULL_free(null);
    KYSO_RETURN_IF_ERROR(st);
  }

  KYSO_RETURN_IF_ERROR(internal::SignWith(
      signer, scheme, [&](EVP_MD_CTX* ctx) { return X509_sign_ctx(xp, ctx) > 0; }));
  unsigned char* buf = nullptr;
  int len = i2d_X509(xp, &buf);
  if (len <= 0) return Internal("cert.build_failed", DrainOpenSslErrors());
  auto der = std::make_shared<const Bytes>(buf, buf + len);
  OPENSSL_free(buf);
  // The X509 just signed is the certificate: re-parsing `der` would only decode the subject key
  // again (an OSSL_DECODER run in OpenSSL 3.0), and that key is tmpl.subject_key. openssl()
  // re-parses lazily for the callers that hand the certificate to OpenSSL.
  Certificate built(std::shared_ptr<X509>(x.release(), X509_free), std::move(der),
                    tmpl.subject_key);
  built.reparsed_ = std::make_shared<Certificate::Reparsed>();
  return built;
}

X509* Certificate::openssl() const {
  if (!reparsed_) return x509_.get();
  std::call_once(reparsed_->once, [this] {
    const unsigned char* p = der_->data();
    X509* x = d2i_X509(nullptr, &p, static_cast<long>(der_->size()));
    if (x) reparsed_->x509.reset(x, X509_free);
  });
  return reparsed_->x509 ? reparsed_->x509.get() : x509_.get();
}

}  // namespace kyso::x509
