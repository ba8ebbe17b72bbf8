#include "x509/csr.h"

#include <arpa/inet.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>

#include "crypto/openssl_error.h"
#include "x509/openssl_util.h"

namespace kyso::x509 {

using crypto::DrainOpenSslErrors;

namespace {

using ReqPtr = std::unique_ptr<X509_REQ, decltype(&X509_REQ_free)>;

// Extracts the DER from PEM text, or returns the input when it is not PEM.
Result<Bytes> ToDer(ByteSpan input) {
  std::string_view text = AsString(input);
  if (text.find("-----BEGIN") == std::string_view::npos) return Bytes(input.begin(), input.end());
  BIO* bio = BIO_new_mem_buf(text.data(), static_cast<int>(text.size()));
  char* name = nullptr;
  char* header = nullptr;
  unsigned char* data = nullptr;
  long len = 0;
  int ok = PEM_read_bio(bio, &name, &header, &data, &len);
  BIO_free(bio);
  Result<Bytes> out = InvalidArgument("csr.malformed", "not a PEM certification request");
  if (ok) {
    std::string label = name;
    if (label == "CERTIFICATE REQUEST" || label == "NEW CERTIFICATE REQUEST") {
      out = Bytes(data, data + len);
    } else {
      out = InvalidArgument("csr.malformed", "expected a CERTIFICATE REQUEST, got a PEM " + label);
    }
  } else {
    out = InvalidArgument("csr.malformed", "broken PEM: " + DrainOpenSslErrors());
  }
  OPENSSL_free(name);
  OPENSSL_free(header);
  OPENSSL_free(data);
  return out;
}

std::string Text(const ASN1_STRING* s) {
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                     static_cast<size_t>(ASN1_STRING_length(s)));
}

}  // namespace

Result<Csr> Csr::Parse(ByteSpan input) {
  if (input.size() > kMaxInputSize) {
    return InvalidArgument("csr.malformed",
                           "request larger than " + std::to_string(kMaxInputSize) + " bytes");
  }
  KYSO_ASSIGN_OR_RETURN(Bytes der, ToDer(input));
  const unsigned char* p = der.data();
  ReqPtr req(d2i_X509_REQ(nullptr, &p, static_cast<long>(der.size())), X509_REQ_free);
  if (!req) {
    return InvalidArgument("csr.malformed",
                           "not a valid PKCS#10 request (truncated or corrupt DER)");
  }
  if (p != der.data() + der.size()) {
    return InvalidArgument("csr.malformed", "trailing bytes after the PKCS#10 request");
  }
  EVP_PKEY* pkey = X509_REQ_get0_pubkey(req.get());
  if (pkey == nullptr) {
    DrainOpenSslErrors();
    return InvalidArgument("csr.unsupported_key", "the request's public key cannot be read");
  }
  // The request's own SPKI bytes: i2d of an X509_PUBKEY re-emits its fields, no encoder.
  unsigned char* spki = nullptr;
  int spki_len = i2d_X509_PUBKEY(X509_REQ_get_X509_PUBKEY(req.get()), &spki);
  Bytes spki_der(spki, spki + std::max(spki_len, 0));
  OPENSSL_free(spki);
  Csr csr(crypto::PublicKey::FromOpensslWithSpki(pkey, std::move(spki_der)));
  auto spec = csr.public_key_.Spec();
  if (!spec.ok()) return InvalidArgument("csr.unsupported_key", spec.status().message());
  csr.key_spec_ = *spec;
  // RFC 2986 §3: the signature proves possession of the private key.
  if (X509_REQ_verify(req.get(), pkey) != 1) {
    DrainOpenSslErrors();
    return InvalidArgument("csr.bad_signature",
                           "the request's signature does not verify with its own public key");
  }
  auto subject = internal::NameFromX509(X509_REQ_get_subject_name(req.get()), false);
  if (!subject.ok()) return InvalidArgument("csr.bad_subject", subject.status().message());
  csr.subject_ = std::move(subject).value();

  STACK_OF(X509_EXTENSION)* exts = X509_REQ_get_extensions(req.get());
  DrainOpenSslErrors();
  for (int i = 0; i < sk_X509_EXTENSION_num(exts); ++i) {
    X509_EXTENSION* ext = sk_X509_EXTENSION_value(exts, i);
    int nid = OBJ_obj2nid(X509_EXTENSION_get_object(ext));
    bool critical = X509_EXTENSION_get_critical(ext) == 1;
    void* value = X509V3_EXT_d2i(ext);
    if (nid == NID_basic_constraints || nid == NID_subject_alt_name) {
      if (value == nullptr) {
        sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
        DrainOpenSslErrors();
        return InvalidArgument("csr.bad_extension",
                               std::string("cannot decode requested ") + OBJ_nid2sn(nid));
      }
    }
    if (nid == NID_basic_constraints) {
      csr.requests_ca_ = static_cast<BASIC_CONSTRAINTS*>(value)->ca != 0;
      BASIC_CONSTRAINTS_free(static_cast<BASIC_CONSTRAINTS*>(value));
    } else if (nid == NID_subject_alt_name) {
      auto* names = static_cast<GENERAL_NAMES*>(value);
      for (int j = 0; j < sk_GENERAL_NAME_num(names); ++j) {
        const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names, j);
        if (gn->type == GEN_EMAIL) csr.email_sans_.push_back(Text(gn->d.rfc822Name));
        if (gn->type == GEN_DNS) csr.dns_sans_.push_back(Text(gn->d.dNSName));
        if (gn->type == GEN_IPADD) {
          char buf[64] = {0};
          int af = ASN1_STRING_length(gn->d.iPAddress) == 4 ? AF_INET : AF_INET6;
          if (ASN1_STRING_length(gn->d.iPAddress) == 4 ||
              ASN1_STRING_length(gn->d.iPAddress) == 16) {
            inet_ntop(af, ASN1_STRING_get0_data(gn->d.iPAddress), buf, sizeof buf);
            csr.ip_sans_.push_back(buf);
          }
        }
      }
      GENERAL_NAMES_free(names);
    } else {
      if (value != nullptr) {
        const X509V3_EXT_METHOD* method = X509V3_EXT_get(ext);
        if (method && method->it)
          ASN1_item_free(static_cast<ASN1_VALUE*>(value), ASN1_ITEM_ptr(method->it));
      }
      bool interpreted = nid == NID_key_usage || nid == NID_ext_key_usage;
      if (critical && !interpreted) {
        char buf[128];
        OBJ_obj2txt(buf, sizeof buf, X509_EXTENSION_get_object(ext), 1);
        csr.unsupported_critical_.push_back(buf);
      }
    }
  }
  sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  DrainOpenSslErrors();
  csr.der_ = std::move(der);
  return csr;
}

}  // namespace kyso::x509
