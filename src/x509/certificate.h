// X.509 v3 certificates (RFC 5280 §4): parsing what we need to read, building what we issue.
//
// Certificate is an immutable parsed value (shared, cheap to copy). CertificateTemplate is the
// plain description of a certificate to issue; BuildCertificate signs it with a crypto::Signer.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/clock.h"
#include "base/result.h"
#include "crypto/key.h"
#include "crypto/signer.h"
#include "x509/name.h"

typedef struct x509_st X509;

namespace kyso::x509 {

// Extension values for an issued certificate. Names follow RFC 5280 / OpenSSL short names:
// key_usage: digitalSignature, nonRepudiation, keyEncipherment, dataEncipherment,
//   keyAgreement, keyCertSign, cRLSign (RFC 5280 §4.2.1.3)
// extended_key_usage: serverAuth, clientAuth, codeSigning, emailProtection, timeStamping,
//   OCSPSigning, documentSigning (RFC 9336), or a dotted OID (RFC 5280 §4.2.1.12)
struct Extensions {
  bool is_ca = false;              // basicConstraints, always critical when present
  std::optional<int> path_length;  // only with is_ca
  std::vector<std::string> key_usage;
  bool key_usage_critical = true;
  std::vector<std::string> extended_key_usage;
  bool extended_key_usage_critical = false;
  std::vector<std::string> policy_oids;      // certificatePolicies (§4.2.1.4); "anyPolicy" allowed
  std::vector<std::string> ocsp_urls;        // authorityInfoAccess id-ad-ocsp (§4.2.2.1)
  std::vector<std::string> ca_issuers_urls;  // authorityInfoAccess id-ad-caIssuers
  std::vector<std::string> crl_urls;         // cRLDistributionPoints (§4.2.1.13)
  std::vector<std::string> email_sans;       // subjectAltName rfc822Name (§4.2.1.6)
  std::vector<std::string> dns_sans;         // subjectAltName dNSName
  std::vector<std::string> ip_sans;          // subjectAltName iPAddress
  bool ocsp_no_check = false;                // id-pkix-ocsp-nocheck (RFC 6960 §4.2.2.2.1)
};

struct CertificateTemplate;

class Certificate {
 public:
  static Result<Certificate> FromDer(ByteSpan der);
  // FromDer through a bounded process-wide cache keyed by the DER: verifying many documents
  // decodes each distinct certificate (roots, CAs, TSAs, signers seen again) once, since
  // OpenSSL 3 spends most of d2i_X509 in its key decoder. Thread-safe.
  static Result<Certificate> FromDerCached(ByteSpan der);
  // First certificate of a PEM text.
  static Result<Certificate> FromPem(std::string_view pem);
  // Every certificate of a PEM text, in order.
  static Result<std::vector<Certificate>> AllFromPem(std::string_view pem);

  const Bytes& der() const { return *der_; }
  std::string ToPem() const;

  Name subject() const;
  Name issuer() const;
  // Serial as upper-case hex of the INTEGER content (positive, no sign byte stripped).
  std::string serial_hex() const;
  UnixSeconds not_before() const;
  UnixSeconds not_after() const;
  crypto::PublicKey public_key() const;
  bool is_ca() const;
  Extensions extensions() const;
  Bytes subject_key_id() const;
  // Name of the signature algorithm, e.g. "sha256WithRSAEncryption".
  std::string signature_algorithm() const;
  // True if this certificate's signature verifies with `issuer_key`.
  bool IsSignedBy(const crypto::PublicKey& issuer_key) const;

  // The OpenSSL object, with its public key decodable (OpenSSL's verifier, CMS and OCSP
  // builders need that). For a certificate fresh from BuildCertificate this decodes the DER
  // once, on first use.
  X509* openssl() const;

 private:
  Certificate(std::shared_ptr<X509> x509, std::shared_ptr<const Bytes> der,
              std::optional<crypto::PublicKey> subject_key = std::nullopt)
      : x509_(std::move(x509)), der_(std::move(der)), subject_key_(std::move(subject_key)) {}
  friend Result<Certificate> BuildCertificate(const CertificateTemplate&, const Certificate*,
                                              const crypto::Signer&,
                                              const crypto::SignatureScheme&);
  // Set by BuildCertificate, whose X509 carries the subject key as raw SPKI fields only
  // (X509_PUBKEY_set0_param) and so cannot hand OpenSSL a decoded key.
  struct Reparsed {
    std::once_flag once;
    std::shared_ptr<X509> x509;
  };
  std::shared_ptr<X509> x509_;
  std::shared_ptr<const Bytes> der_;
  std::shared_ptr<Reparsed> reparsed_;
  // Set by BuildCertificate: the key it was given, so the built X509 needs no decoded key.
  std::optional<crypto::PublicKey> subject_key_;
};

struct CertificateTemplate {
  Bytes serial;  // DER INTEGER content bytes, positive (top bit clear)
  Name subject;
  crypto::PublicKey subject_key;
  UnixSeconds not_before = 0;
  UnixSeconds not_after = 0;
  Extensions extensions;
};

// Signs `tmpl` as `issuer` (nullptr: self-signed, issuer name = subject) with `signer`.
// Adds subjectKeyIdentifier and, when issued by another CA, authorityKeyIdentifier (§4.2.1.1-2).
Result<Certificate> BuildCertificate(const CertificateTemplate& tmpl, const Certificate* issuer,
                                     const crypto::Signer& signer,
                                     const crypto::SignatureScheme& scheme);

}  // namespace kyso::x509
