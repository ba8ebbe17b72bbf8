#include "crypto/key.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cctype>

#include "crypto/digest.h"
#include "crypto/openssl_error.h"

namespace kyso::crypto {

std::string DrainOpenSslErrors() {
  std::string out;
  unsigned long code;
  while ((code = ERR_get_error()) != 0) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out;
}

void EvpPkeyDeleter::operator()(EVP_PKEY* p) const {
  EVP_PKEY_free(p);
}

namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return out;
}

Result<KeySpec> SpecOf(EVP_PKEY* key) {
  KeySpec spec;
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_RSA:
      spec.algorithm = KeyAlgorithm::kRsa;
      spec.bits = EVP_PKEY_get_bits(key);
      return spec;
    case EVP_PKEY_EC: {
      char curve[64] = {0};
      size_t len = 0;
      if (!EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, curve, sizeof curve,
                                          &len)) {
        return InvalidArgument("key.unsupported", "EC key without a named curve");
      }
      spec.algorithm = KeyAlgorithm::kEcdsa;
      spec.bits = EVP_PKEY_get_bits(key);
      std::string name = curve;
      if (name == "prime256v1" || name == "P-256") {
        spec.curve = "P-256";
      } else if (name == "secp384r1" || name == "P-384") {
        spec.curve = "P-384";
      } else if (name == "secp521r1" || name == "P-521") {
        spec.curve = "P-521";
      } else {
        spec.curve = name;  // reported as-is; policy refuses curves it does not list
      }
      return spec;
    }
    case EVP_PKEY_ED25519:
      spec.algorithm = KeyAlgorithm::kEd25519;
      spec.bits = 256;
      return spec;
    default:
      return InvalidArgument("key.unsupported", std::string("unsupported key type ") +
                                                    OBJ_nid2sn(EVP_PKEY_get_base_id(key)));
  }
}

}  // namespace

Result<KeySpec> KeySpec::Parse(std::string_view text) {
  std::string t = Lower(text);
  KeySpec spec;
  if (t == "rsa:2048" || t == "rsa:3072" || t == "rsa:4096") {
    spec.algorithm = KeyAlgorithm::kRsa;
    spec.bits = std::stoi(t.substr(4));
    return spec;
  }
  if (t == "ec:p-256" || t == "ec:p256" || t == "ec:prime256v1") {
    return KeySpec{KeyAlgorithm::kEcdsa, 256, "P-256"};
  }
  if (t == "ec:p-384" || t == "ec:p384" || t == "ec:secp384r1") {
    return KeySpec{KeyAlgorithm::kEcdsa, 384, "P-384"};
  }
  if (t == "ed25519") return KeySpec{KeyAlgorithm::kEd25519, 256, ""};
  return InvalidArgument("key.spec_invalid",
                         "unknown key type \"" + std::string(text) +
                             "\" (expected rsa:2048|rsa:3072|rsa:4096|ec:P-256|ec:P-384|ed25519)");
}

std::string KeySpec::ToString() const {
  switch (algorithm) {
    case KeyAlgorithm::kRsa:
      return "rsa:" + std::to_string(bits);
    case KeyAlgorithm::kEcdsa:
      return "ec:" + curve;
    case KeyAlgorithm::kEd25519:
      return "ed25519";
  }
  return "unknown";
}

// --- PublicKey ---

Result<PublicKey> PublicKey::FromSpkiDer(ByteSpan der) {
  const unsigned char* p = der.data();
  EVP_PKEY* key = d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size()));
  if (key == nullptr || p != der.data() + der.size()) {
    EVP_PKEY_free(key);
    return InvalidArgument("key.malformed",
                           "malformed SubjectPublicKeyInfo: " + DrainOpenSslErrors());
  }
  return PublicKey(EvpPkeyPtr(key));
}

PublicKey PublicKey::FromOpenssl(EVP_PKEY* key) {
  EVP_PKEY_up_ref(key);
  return PublicKey(EvpPkeyPtr(key));
}

PublicKey PublicKey::FromOpensslWithSpki(EVP_PKEY* key, Bytes spki_der) {
  PublicKey out = FromOpenssl(key);
  std::call_once(out.spki_->once, [&] { out.spki_->der = std::move(spki_der); });
  return out;
}

Bytes PublicKey::SpkiDer() const {
  std::call_once(spki_->once, [&] {
    unsigned char* out = nullptr;
    int len = i2d_PUBKEY(key_.get(), &out);
    if (len > 0) spki_->der.assign(out, out + len);
    OPENSSL_free(out);
  });
  return spki_->der;
}

std::string PublicKey::Fingerprint() const {
  return HexEncode(Sha256(SpkiDer()));
}

Bytes PublicKey::KeyIdentifier() const {
  // RFC 5280 §4.2.1.2 (1): SHA-1 of the BIT STRING subjectPublicKey (excluding tag, length and
  // number of unused bits). Read from SubjectPublicKeyInfo ::= SEQUENCE { algorithm
  // AlgorithmIdentifier, subjectPublicKey BIT STRING } without decoding the key.
  Bytes spki = SpkiDer();
  const unsigned char* p = spki.data();
  const unsigned char* end = spki.data() + spki.size();
  long len = 0;
  int tag = 0, cls = 0;
  if (ASN1_get_object(&p, &len, &tag, &cls, end - p) & 0x80 || tag != V_ASN1_SEQUENCE) return {};
  if (ASN1_get_object(&p, &len, &tag, &cls, end - p) & 0x80 || tag != V_ASN1_SEQUENCE) return {};
  p += len;
  if (ASN1_get_object(&p, &len, &tag, &cls, end - p) & 0x80 || tag != V_ASN1_BIT_STRING ||
      len < 1) {
    return {};
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int mdlen = 0;
  EVP_Digest(p + 1, static_cast<size_t>(len - 1), md, &mdlen, EVP_sha1(), nullptr);
  return Bytes(md, md + mdlen);
}

Result<KeySpec> PublicKey::Spec() const {
  return SpecOf(key_.get());
}

bool PublicKey::Equals(const PublicKey& other) const {
  return EVP_PKEY_eq(key_.get(), other.key_.get()) == 1;
}

// --- PrivateKey ---

Result<PrivateKey> PrivateKey::Generate(const KeySpec& spec) {
  EVP_PKEY* key = nullptr;
  switch (spec.algorithm) {
    case KeyAlgorithm::kRsa:
      if (spec.bits < 2048)
        return InvalidArgument("key.spec_invalid", "RSA keys need at least 2048 bits");
      key = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(spec.bits));
      break;
    case KeyAlgorithm::kEcdsa:
      key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", spec.curve.c_str());
      break;
    case KeyAlgorithm::kEd25519:
      key = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
      break;
  }
  if (key == nullptr) {
    return Internal("key.generate_failed",
                    "key generation failed for " + spec.ToString() + ": " + DrainOpenSslErrors());
  }
  KYSO_ASSIGN_OR_RETURN(KeySpec actual, SpecOf(key));
  return PrivateKey(EvpPkeyPtr(key), actual);
}

Result<PrivateKey> PrivateKey::FromEncryptedPkcs8Pem(std::string_view pem,
                                                     std::string_view passphrase) {
  if (pem.find("-----BEGIN ENCRYPTED PRIVATE KEY-----") == std::string_view::npos) {
    return InvalidArgument("key.not_encrypted",
                           "expected an encrypted PKCS#8 key (BEGIN ENCRYPTED PRIVATE KEY)");
  }
  // Three steps, so that each failure has its own id. The outer EncryptedPrivateKeyInfo (RFC
  // 5958 §3) must parse: else the file is damaged. Decrypting it and decoding the inner
  // PrivateKeyInfo must succeed: else the passphrase is wrong — a wrong key yields valid CBC
  // padding about 1 time in 256 and then fails only at the decode, which OpenSSL reports with
  // decoder errors, not "bad decrypt", so the error text cannot tell the two apart.
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509_SIG* encrypted = PEM_read_bio_PKCS8(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (encrypted == nullptr) {
    return InvalidArgument("key.malformed",
                           "cannot read the encrypted private key: " + DrainOpenSslErrors());
  }
  std::string pass(passphrase);
  PKCS8_PRIV_KEY_INFO* info = PKCS8_decrypt(encrypted, pass.data(), static_cast<int>(pass.size()));
  X509_SIG_free(encrypted);
  if (info == nullptr) {
    std::string err = DrainOpenSslErrors();
    if (err.find("unsupported cipher") != std::string::npos ||
        err.find("unsupported algorithm") != std::string::npos ||
        err.find("unknown cipher") != std::string::npos) {
      return InvalidArgument("key.malformed", "cannot decrypt the private key: " + err);
    }
    return PermissionDenied("key.wrong_passphrase",
                            "cannot decrypt the private key: wrong passphrase");
  }
  EVP_PKEY* key = EVP_PKCS82PKEY(info);
  PKCS8_PRIV_KEY_INFO_free(info);
  if (key == nullptr) {
    return InvalidArgument("key.malformed", "cannot read the private key: " + DrainOpenSslErrors());
  }
  KYSO_ASSIGN_OR_RETURN(KeySpec spec, SpecOf(key));
  return PrivateKey(EvpPkeyPtr(key), spec);
}

Result<PrivateKey> PrivateKey::FromPem(std::string_view pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, const_cast<char*>(""));
  BIO_free(bio);
  if (key == nullptr) {
    return InvalidArgument("key.malformed", "cannot read the private key: " + DrainOpenSslErrors());
  }
  KYSO_ASSIGN_OR_RETURN(KeySpec spec, SpecOf(key));
  return PrivateKey(EvpPkeyPtr(key), spec);
}

Result<PrivateKey::Pkcs12Contents> PrivateKey::FromPkcs12(ByteSpan der,
                                                          std::string_view passphrase) {
  const unsigned char* p = der.data();
  PKCS12* p12 = d2i_PKCS12(nullptr, &p, static_cast<long>(der.size()));
  if (p12 == nullptr) {
    ERR_clear_error();
    return InvalidArgument("pkcs12.malformed", "not a DER PKCS#12 file");
  }
  std::string pass(passphrase);
  if (PKCS12_verify_mac(p12, pass.c_str(), static_cast<int>(pass.size())) != 1) {
    PKCS12_free(p12);
    ERR_clear_error();
    return InvalidArgument("pkcs12.bad_passphrase",
                           "wrong passphrase for the PKCS#12 file (MAC check failed)");
  }
  EVP_PKEY* key = nullptr;
  X509* cert = nullptr;
  STACK_OF(X509)* ca = nullptr;
  int ok = PKCS12_parse(p12, pass.c_str(), &key, &cert, &ca);
  PKCS12_free(p12);
  if (ok != 1) {
    std::string detail = DrainOpenSslErrors();
    return InvalidArgument("pkcs12.malformed", "cannot read the PKCS#12 file: " + detail);
  }
  auto to_der = [](X509* x) {
    unsigned char* out = nullptr;
    int len = i2d_X509(x, &out);
    Bytes b;
    if (len > 0) b.assign(out, out + len);
    OPENSSL_free(out);
    return b;
  };
  std::vector<Bytes> certs;
  if (cert) certs.push_back(to_der(cert));
  for (int i = 0; ca && i < sk_X509_num(ca); ++i) certs.push_back(to_der(sk_X509_value(ca, i)));
  X509_free(cert);
  sk_X509_pop_free(ca, X509_free);
  if (key == nullptr)
    return InvalidArgument("pkcs12.no_key", "the PKCS#12 file holds no private key");
  auto spec = SpecOf(key);
  if (!spec.ok()) {
    EVP_PKEY_free(key);
    return spec.status();
  }
  return Pkcs12Contents{PrivateKey(EvpPkeyPtr(key), *spec), std::move(certs)};
}

Result<std::string> PrivateKey::ToEncryptedPkcs8Pem(std::string_view passphrase,
                                                    int pbkdf2_iterations) const {
  if (passphrase.size() < 8) {
    return InvalidArgument("key.passphrase_too_short",
                           "the passphrase must have at least 8 characters");
  }
  // RFC 8018 §6.2 PBES2 with PBKDF2 (HMAC-SHA256 PRF) and AES-256-CBC.
  X509_ALGOR* pbe = PKCS5_pbe2_set_iv(EVP_aes_256_cbc(), pbkdf2_iterations, nullptr, 0, nullptr,
                                      NID_hmacWithSHA256);
  PKCS8_PRIV_KEY_INFO* p8 = EVP_PKEY2PKCS8(key_.get());
  if (pbe == nullptr || p8 == nullptr) {
    X509_ALGOR_free(pbe);
    PKCS8_PRIV_KEY_INFO_free(p8);
    return Internal("key.encrypt_failed", DrainOpenSslErrors());
  }
  X509_SIG* enc = PKCS8_set0_pbe(passphrase.data(), static_cast<int>(passphrase.size()), p8, pbe);
  PKCS8_PRIV_KEY_INFO_free(p8);
  if (enc == nullptr) {
    X509_ALGOR_free(pbe);
    return Internal("key.encrypt_failed", DrainOpenSslErrors());
  }
  BIO* bio = BIO_new(BIO_s_mem());
  int ok = PEM_write_bio_PKCS8(bio, enc);
  X509_SIG_free(enc);
  if (!ok) {
    BIO_free(bio);
    return Internal("key.encrypt_failed", DrainOpenSslErrors());
  }
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(len));
  BIO_free(bio);
  return pem;
}

PublicKey PrivateKey::public_key() const {
  return PublicKey::FromOpenssl(key_.get());
}

}  // namespace kyso::crypto
