// PKCS#10 certification requests (RFC 2986): the untrusted input of certificate issuance.
//
// Parse() accepts PEM ("CERTIFICATE REQUEST" or "NEW CERTIFICATE REQUEST") or DER, requires the
// whole input to be consumed, and checks the proof of possession: the request's signature
// under its own public key (RFC 2986 §3, step 3). A Csr that exists has a valid signature.
// Every failure is a value with an id from:
//   csr.malformed       not a PKCS#10 request, truncated, or trailing bytes
//   csr.bad_signature   the signature does not verify with the enclosed key
//   csr.unsupported_key the key type cannot be used (e.g. DSA)
//   csr.bad_subject     the subject cannot be read as UTF-8 or has multi-valued RDNs
//   csr.bad_extension   a requested extension cannot be decoded
#pragma once

#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/result.h"
#include "crypto/key.h"
#include "crypto/signer.h"
#include "x509/name.h"

namespace kyso::x509 {

class Csr {
 public:
  static constexpr size_t kMaxInputSize = 64 * 1024;

  static Result<Csr> Parse(ByteSpan pem_or_der);

  const Name& subject() const { return subject_; }
  const crypto::PublicKey& public_key() const { return public_key_; }
  const crypto::KeySpec& key_spec() const { return key_spec_; }
  // subjectAltName entries from the extensionRequest attribute (RFC 2985 §5.4.2).
  const std::vector<std::string>& email_sans() const { return email_sans_; }
  const std::vector<std::string>& dns_sans() const { return dns_sans_; }
  const std::vector<std::string>& ip_sans() const { return ip_sans_; }
  bool requests_ca() const { return requests_ca_; }
  // Dotted OIDs of requested critical extensions other than those we interpret
  // (basicConstraints, keyUsage, extendedKeyUsage, subjectAltName).
  const std::vector<std::string>& unsupported_critical_extensions() const {
    return unsupported_critical_;
  }
  const Bytes& der() const { return der_; }

 private:
  Csr(crypto::PublicKey key) : public_key_(std::move(key)) {}
  Name subject_;
  crypto::PublicKey public_key_;
  crypto::KeySpec key_spec_;
  std::vector<std::string> email_sans_, dns_sans_, ip_sans_;
  bool requests_ca_ = false;
  std::vector<std::string> unsupported_critical_;
  Bytes der_;
};

// Builds a PKCS#10 request (DER) for `subject` on `key`, signed with it (SHA-256; SHA-384 for
// P-384; none for Ed25519). For requests made in-process, such as the demo directory of
// `kyso init --demo`; subscribers bring their own. Error: csr.build_failed.
Result<Bytes> BuildCsr(const Name& subject, const crypto::PrivateKey& key);
// The same for a key that signs without being held, such as a key on a token
// (`kyso token keygen`).
Result<Bytes> BuildCsr(const Name& subject, const crypto::Signer& signer);

}  // namespace kyso::x509
