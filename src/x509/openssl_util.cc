#include "x509/openssl_util.h"

#include <openssl/bn.h>
#include <openssl/objects.h>

#include <ctime>

#include "crypto/openssl_error.h"

namespace kyso::x509::internal {

Result<Name> NameFromX509(const X509_NAME* name, bool allow_multivalued) {
  std::vector<NameAttribute> attrs;
  int count = X509_NAME_entry_count(name);
  int last_set = -1;
  for (int i = 0; i < count; ++i) {
    const X509_NAME_ENTRY* entry = X509_NAME_get_entry(name, i);
    int set = X509_NAME_ENTRY_set(entry);
    if (set == last_set && !allow_multivalued) {
      return InvalidArgument("name.multivalued_rdn",
                             "multi-valued RDNs are not supported in subject names");
    }
    last_set = set;
    const ASN1_OBJECT* obj = X509_NAME_ENTRY_get_object(entry);
    int nid = OBJ_obj2nid(obj);
    std::string type;
    if (nid != NID_undef) {
      type = OBJ_nid2sn(nid);
    } else {
      char buf[128];
      OBJ_obj2txt(buf, sizeof buf, obj, 1);
      type = buf;
    }
    unsigned char* utf8 = nullptr;
    int len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(entry));
    if (len < 0) {
      crypto::DrainOpenSslErrors();
      return InvalidArgument("name.invalid_string",
                             "attribute " + type + " has a value that is not valid text");
    }
    attrs.push_back({type, std::string(reinterpret_cast<char*>(utf8), static_cast<size_t>(len))});
    OPENSSL_free(utf8);
  }
  return Name(std::move(attrs));
}

Result<X509NamePtr> NameToX509(const Name& name) {
  X509NamePtr out(X509_NAME_new());
  for (const auto& a : name.attributes()) {
    if (!X509_NAME_add_entry_by_txt(out.get(), a.type.c_str(), MBSTRING_UTF8,
                                    reinterpret_cast<const unsigned char*>(a.value.data()),
                                    static_cast<int>(a.value.size()), -1, 0)) {
      return InvalidArgument("name.invalid_attribute", "cannot encode " + a.type + "=" + a.value +
                                                           ": " + crypto::DrainOpenSslErrors());
    }
  }
  return out;
}

UnixSeconds FromAsn1Time(const ASN1_TIME* t) {
  std::tm tm{};
  if (t == nullptr || !ASN1_TIME_to_tm(t, &tm)) return 0;
  return static_cast<UnixSeconds>(timegm(&tm));
}

Asn1TimePtr ToAsn1Time(UnixSeconds t) {
  return Asn1TimePtr(ASN1_TIME_set(nullptr, static_cast<time_t>(t)));
}

Asn1TimePtr ToGeneralizedTime(UnixSeconds t) {
  return Asn1TimePtr(ASN1_GENERALIZEDTIME_set(nullptr, static_cast<time_t>(t)));
}

Asn1IntegerPtr SerialToAsn1(ByteSpan serial) {
  BIGNUM* bn = BN_bin2bn(serial.data(), static_cast<int>(serial.size()), nullptr);
  ASN1_INTEGER* i = BN_to_ASN1_INTEGER(bn, nullptr);
  BN_free(bn);
  return Asn1IntegerPtr(i);
}

std::string SerialHex(const ASN1_INTEGER* serial) {
  return HexEncode(
      ByteSpan(ASN1_STRING_get0_data(serial), static_cast<size_t>(ASN1_STRING_length(serial))));
}

}  // namespace kyso::x509::internal

#include <openssl/rsa.h>

#include "x509/signing.h"

namespace kyso::x509::internal {

Status SignWith(const crypto::Signer& signer, const crypto::SignatureScheme& scheme,
                const std::function<bool(EVP_MD_CTX*)>& sign) {
  crypto::KeySpec spec = signer.key_spec();
  const EVP_MD* md =
      spec.algorithm == crypto::KeyAlgorithm::kEd25519 ? nullptr : crypto::EvpMd(scheme.digest);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_PKEY_CTX* pctx = nullptr;
  bool ok = EVP_DigestSignInit(ctx, &pctx, md, nullptr, signer.openssl_key()) > 0;
  if (ok && spec.algorithm == crypto::KeyAlgorithm::kRsa &&
      scheme.padding == crypto::RsaPadding::kPss) {
    // RFC 4055 §3.1 parameters: MGF1 with the same hash, salt length = hash length.
    ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) > 0 &&
         EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) > 0 &&
         EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) > 0;
  }
  ok = ok && sign(ctx);
  EVP_MD_CTX_free(ctx);
  if (!ok) return Internal("sign.failed", "signing failed: " + crypto::DrainOpenSslErrors());
  return Status::Ok();
}

}  // namespace kyso::x509::internal
