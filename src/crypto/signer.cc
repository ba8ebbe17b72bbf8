#include "crypto/signer.h"

#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "crypto/openssl_error.h"

namespace kyso::crypto {

namespace {

struct PkeyCtx {
  EVP_PKEY_CTX* ctx;
  ~PkeyCtx() { EVP_PKEY_CTX_free(ctx); }
};
struct MdCtx {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  ~MdCtx() { EVP_MD_CTX_free(ctx); }
};

// RSASSA-PSS parameters per RFC 4055 §3.1 as used by CAdES/PAdES: MGF1 with the same digest,
// salt length equal to the digest length.
bool ConfigureRsa(EVP_PKEY_CTX* ctx, const SignatureScheme& scheme) {
  if (scheme.padding == RsaPadding::kPss) {
    return EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) > 0 &&
           EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, RSA_PSS_SALTLEN_DIGEST) > 0 &&
           EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EvpMd(scheme.digest)) > 0;
  }
  return EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) > 0;
}

}  // namespace

SignatureScheme SignatureScheme::DefaultFor(const KeySpec& key, RsaPadding padding) {
  SignatureScheme s;
  s.padding = padding;
  if (key.algorithm == KeyAlgorithm::kEcdsa && key.curve == "P-384")
    s.digest = DigestAlgorithm::kSha384;
  return s;
}

std::string SignatureScheme::Name(const KeySpec& key) const {
  std::string d(DigestName(digest));
  switch (key.algorithm) {
    case KeyAlgorithm::kRsa:
      if (padding == RsaPadding::kPss) return "RSASSA-PSS/" + d;
      return d == "SHA-256"   ? "sha256WithRSAEncryption"
             : d == "SHA-384" ? "sha384WithRSAEncryption"
                              : "sha512WithRSAEncryption";
    case KeyAlgorithm::kEcdsa:
      return "ecdsa-with-" + d.substr(0, 3) + d.substr(4);
    case KeyAlgorithm::kEd25519:
      return "Ed25519";
  }
  return "unknown";
}

Result<Bytes> Signer::SignMessage(const SignatureScheme& scheme, ByteSpan message) const {
  return SignDigest(scheme, Digest(scheme.digest, message));
}

SoftwareSigner::SoftwareSigner(PrivateKey key, std::string key_ref)
    : key_(std::move(key)), public_key_(key_.public_key()), key_ref_(std::move(key_ref)) {}

Result<Bytes> SoftwareSigner::SignDigest(const SignatureScheme& scheme, ByteSpan digest) const {
  if (key_.spec().algorithm == KeyAlgorithm::kEd25519) {
    return InvalidArgument("signer.digest_unsupported",
                           "Ed25519 signs whole messages (RFC 8032 PureEdDSA), not digests");
  }
  if (digest.size() != DigestSize(scheme.digest)) {
    return InvalidArgument("signer.digest_length", "digest length does not match " +
                                                       std::string(DigestName(scheme.digest)));
  }
  PkeyCtx pctx{EVP_PKEY_CTX_new(key_.openssl(), nullptr)};
  if (pctx.ctx == nullptr || EVP_PKEY_sign_init(pctx.ctx) <= 0 ||
      EVP_PKEY_CTX_set_signature_md(pctx.ctx, EvpMd(scheme.digest)) <= 0 ||
      (key_.spec().algorithm == KeyAlgorithm::kRsa && !ConfigureRsa(pctx.ctx, scheme))) {
    return Internal("signer.failed", "cannot set up signing: " + DrainOpenSslErrors());
  }
  size_t len = 0;
  if (EVP_PKEY_sign(pctx.ctx, nullptr, &len, digest.data(), digest.size()) <= 0) {
    return Internal("signer.failed", DrainOpenSslErrors());
  }
  Bytes sig(len);
  if (EVP_PKEY_sign(pctx.ctx, sig.data(), &len, digest.data(), digest.size()) <= 0) {
    return Internal("signer.failed", DrainOpenSslErrors());
  }
  sig.resize(len);
  return sig;
}

Result<Bytes> SoftwareSigner::SignMessage(const SignatureScheme& scheme, ByteSpan message) const {
  if (key_.spec().algorithm != KeyAlgorithm::kEd25519) return Signer::SignMessage(scheme, message);
  MdCtx md;
  size_t len = 0;
  if (EVP_DigestSignInit(md.ctx, nullptr, nullptr, nullptr, key_.openssl()) <= 0 ||
      EVP_DigestSign(md.ctx, nullptr, &len, message.data(), message.size()) <= 0) {
    return Internal("signer.failed", DrainOpenSslErrors());
  }
  Bytes sig(len);
  if (EVP_DigestSign(md.ctx, sig.data(), &len, message.data(), message.size()) <= 0) {
    return Internal("signer.failed", DrainOpenSslErrors());
  }
  sig.resize(len);
  return sig;
}

Status VerifyMessage(const PublicKey& key, const SignatureScheme& scheme, ByteSpan message,
                     ByteSpan signature) {
  KYSO_ASSIGN_OR_RETURN(KeySpec spec, key.Spec());
  MdCtx md;
  EVP_PKEY_CTX* pctx = nullptr;
  const EVP_MD* digest = spec.algorithm == KeyAlgorithm::kEd25519 ? nullptr : EvpMd(scheme.digest);
  if (EVP_DigestVerifyInit(md.ctx, &pctx, digest, nullptr, key.openssl()) <= 0 ||
      (spec.algorithm == KeyAlgorithm::kRsa && !ConfigureRsa(pctx, scheme))) {
    return Internal("signer.failed", DrainOpenSslErrors());
  }
  int rc =
      EVP_DigestVerify(md.ctx, signature.data(), signature.size(), message.data(), message.size());
  DrainOpenSslErrors();
  if (rc != 1) return InvalidArgument("signature.invalid", "the signature does not verify");
  return Status::Ok();
}

}  // namespace kyso::crypto
