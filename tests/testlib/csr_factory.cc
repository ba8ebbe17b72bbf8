#include "testlib/csr_factory.h"

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <map>
#include <mutex>

namespace kyso::testlib {

static X509_REQ* Build(const crypto::PrivateKey& key, const CsrOptions& o) {
  X509_REQ* req = X509_REQ_new();
  X509_REQ_set_version(req, X509_REQ_VERSION_1);
  X509_NAME* name = X509_REQ_get_subject_name(req);
  for (const auto& [type, value] : o.subject) {
    X509_NAME_add_entry_by_txt(name, type.c_str(), MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>(value.data()),
                               static_cast<int>(value.size()), -1, 0);
  }
  X509_REQ_set_pubkey(req, key.openssl());
  STACK_OF(X509_EXTENSION)* exts = sk_X509_EXTENSION_new_null();
  std::string san;
  for (const auto& e : o.email_sans) san += (san.empty() ? "" : ",") + std::string("email:") + e;
  for (const auto& d : o.dns_sans) san += (san.empty() ? "" : ",") + std::string("DNS:") + d;
  if (!san.empty()) {
    sk_X509_EXTENSION_push(
        exts, X509V3_EXT_conf_nid(nullptr, nullptr, NID_subject_alt_name, san.c_str()));
  }
  if (o.request_ca) {
    sk_X509_EXTENSION_push(
        exts, X509V3_EXT_conf_nid(nullptr, nullptr, NID_basic_constraints, "critical,CA:TRUE"));
  }
  if (!o.critical_extension_oid.empty()) {
    ASN1_OBJECT* obj = OBJ_txt2obj(o.critical_extension_oid.c_str(), 1);
    ASN1_OCTET_STRING* val = ASN1_OCTET_STRING_new();
    const unsigned char null_der[] = {0x05, 0x00};
    ASN1_OCTET_STRING_set(val, null_der, 2);
    sk_X509_EXTENSION_push(exts, X509_EXTENSION_create_by_OBJ(nullptr, obj, 1, val));
    ASN1_OBJECT_free(obj);
    ASN1_OCTET_STRING_free(val);
  }
  if (sk_X509_EXTENSION_num(exts) > 0) X509_REQ_add_extensions(req, exts);
  sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  const EVP_MD* md =
      key.spec().algorithm == crypto::KeyAlgorithm::kEd25519 ? nullptr : EVP_sha256();
  X509_REQ_sign(req, key.openssl(), md);
  if (o.corrupt_signature) {
    const ASN1_BIT_STRING* sig = nullptr;
    X509_REQ_get0_signature(req, &sig, nullptr);
    // The signature is owned by req; flip a bit in place to break proof of possession.
    const_cast<unsigned char*>(ASN1_STRING_get0_data(sig))[5] ^= 0x01;
  }
  return req;
}

std::string MakeCsrPem(const crypto::PrivateKey& key, const CsrOptions& options) {
  X509_REQ* req = Build(key, options);
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509_REQ(bio, req);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(len));
  BIO_free(bio);
  X509_REQ_free(req);
  return pem;
}

std::string MakeCsrDer(const crypto::PrivateKey& key, const CsrOptions& options) {
  X509_REQ* req = Build(key, options);
  unsigned char* buf = nullptr;
  int len = i2d_X509_REQ(req, &buf);
  std::string der(reinterpret_cast<char*>(buf), static_cast<size_t>(len));
  OPENSSL_free(buf);
  X509_REQ_free(req);
  return der;
}

const crypto::PrivateKey& CachedKey(const std::string& spec) {
  static std::mutex mu;
  static std::map<std::string, crypto::PrivateKey>* keys =
      new std::map<std::string, crypto::PrivateKey>();
  std::lock_guard<std::mutex> lock(mu);
  auto it = keys->find(spec);
  if (it == keys->end()) {
    it = keys->emplace(spec, crypto::PrivateKey::Generate(*crypto::KeySpec::Parse(spec)).value())
             .first;
  }
  return it->second;
}

}  // namespace kyso::testlib
