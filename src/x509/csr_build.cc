#include <openssl/evp.h>
#include <openssl/x509.h>

#include "crypto/openssl_error.h"
#include "x509/csr.h"
#include "x509/openssl_util.h"

namespace kyso::x509 {

namespace {

Result<Bytes> Build(const Name& subject, EVP_PKEY* public_key, EVP_PKEY* signing_key,
                    const crypto::KeySpec& spec) {
  std::unique_ptr<X509_REQ, decltype(&X509_REQ_free)> req(X509_REQ_new(), X509_REQ_free);
  if (!req) return Internal("csr.build_failed", "out of memory");
  KYSO_ASSIGN_OR_RETURN(internal::X509NamePtr name, internal::NameToX509(subject));
  // Ed25519 signs the message itself (RFC 8410): no separate digest.
  const EVP_MD* md =
      spec.algorithm == crypto::KeyAlgorithm::kEd25519
          ? nullptr
          : (spec.algorithm == crypto::KeyAlgorithm::kEcdsa && spec.bits >= 384 ? EVP_sha384()
                                                                                : EVP_sha256());
  if (X509_REQ_set_version(req.get(), 0) != 1 ||
      X509_REQ_set_subject_name(req.get(), name.get()) != 1 ||
      X509_REQ_set_pubkey(req.get(), public_key) != 1 ||
      X509_REQ_sign(req.get(), signing_key, md) <= 0) {
    return Internal("csr.build_failed", "cannot sign the request: " + crypto::DrainOpenSslErrors());
  }
  unsigned char* der = nullptr;
  const int len = i2d_X509_REQ(req.get(), &der);
  if (len <= 0) {
    return Internal("csr.build_failed",
                    "cannot encode the request: " + crypto::DrainOpenSslErrors());
  }
  Bytes out(der, der + len);
  OPENSSL_free(der);
  return out;
}

}  // namespace

Result<Bytes> BuildCsr(const Name& subject, const crypto::PrivateKey& key) {
  return Build(subject, key.openssl(), key.openssl(), key.spec());
}

Result<Bytes> BuildCsr(const Name& subject, const crypto::Signer& signer) {
  return Build(subject, signer.public_key().openssl(), signer.openssl_key(), signer.key_spec());
}

}  // namespace kyso::x509
