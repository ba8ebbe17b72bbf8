#include "x509/crl.h"

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "crypto/openssl_error.h"
#include "x509/openssl_util.h"
#include "x509/signing.h"

namespace kyso::x509 {

using crypto::DrainOpenSslErrors;

namespace {

GENERAL_NAMES* UriNames(const std::vector<std::string>& uris) {
  GENERAL_NAMES* names = sk_GENERAL_NAME_new_null();
  for (const auto& u : uris) {
    GENERAL_NAME* gn = GENERAL_NAME_new();
    ASN1_IA5STRING* s = ASN1_IA5STRING_new();
    ASN1_STRING_set(s, u.data(), static_cast<int>(u.size()));
    GENERAL_NAME_set0_value(gn, GEN_URI, s);
    sk_GENERAL_NAME_push(names, gn);
  }
  return names;
}

Status Check(int rc, const char* what) {
  if (rc != 1) return Internal("crl.build_failed", std::string(what) + ": " + DrainOpenSslErrors());
  return Status::Ok();
}

}  // namespace

Result<Bytes> BuildCrl(const CrlTemplate& tmpl, const Certificate& issuer,
                       const crypto::Signer& signer, const crypto::SignatureScheme& scheme) {
  if (tmpl.next_update <= tmpl.this_update) {
    return InvalidArgument("crl.bad_validity", "nextUpdate must be later than thisUpdate");
  }
  std::unique_ptr<X509_CRL, decltype(&X509_CRL_free)> crl(X509_CRL_new(), X509_CRL_free);
  X509_CRL* c = crl.get();
  X509_CRL_set_version(c, X509_CRL_VERSION_2);  // §5.1.2.1: v2 because extensions are present
  X509_CRL_set_issuer_name(c, X509_get_subject_name(issuer.openssl()));
  auto this_update = internal::ToAsn1Time(tmpl.this_update);
  auto next_update = internal::ToAsn1Time(tmpl.next_update);
  X509_CRL_set1_lastUpdate(c, this_update.get());
  X509_CRL_set1_nextUpdate(c, next_update.get());

  // One reusable value per reason code: entries copy it (add1), so 60,000 entries cost 60,000
  // small copies, not 60,000 allocations of the same value.
  ASN1_ENUMERATED* reasons[11] = {};
  for (int r = 0; r <= 10; ++r) {
    reasons[r] = ASN1_ENUMERATED_new();
    ASN1_ENUMERATED_set(reasons[r], r);
  }
  Status st;
  for (const auto& entry : tmpl.entries) {
    X509_REVOKED* rev = X509_REVOKED_new();
    auto serial = internal::SerialToAsn1(entry.serial);
    auto date = internal::ToAsn1Time(entry.revocation_date);
    X509_REVOKED_set_serialNumber(rev, serial.get());
    X509_REVOKED_set_revocationDate(rev, date.get());
    // §5.3.1: "the reason code CRL entry extension SHOULD be absent instead of using the
    // unspecified (0) reasonCode value".
    if (entry.reason > 0 && entry.reason <= 10 && entry.reason != 7) {
      if (X509_REVOKED_add1_ext_i2d(rev, NID_crl_reason, reasons[entry.reason], 0, 0) != 1) {
        st = Internal("crl.build_failed", "reasonCode: " + DrainOpenSslErrors());
      }
    }
    if (entry.invalidity_date) {
      auto inv = internal::ToGeneralizedTime(*entry.invalidity_date);
      if (X509_REVOKED_add1_ext_i2d(rev, NID_invalidity_date, inv.get(), 0, 0) != 1) {
        st = Internal("crl.build_failed", "invalidityDate: " + DrainOpenSslErrors());
      }
    }
    X509_CRL_add0_revoked(c, rev);
    if (!st.ok()) break;
  }
  for (auto* r : reasons) ASN1_ENUMERATED_free(r);
  KYSO_RETURN_IF_ERROR(st);

  // §5.2.1 authorityKeyIdentifier.
  AUTHORITY_KEYID* akid = AUTHORITY_KEYID_new();
  Bytes aki = issuer.subject_key_id();
  if (aki.empty()) aki = issuer.public_key().KeyIdentifier();
  akid->keyid = ASN1_OCTET_STRING_new();
  ASN1_OCTET_STRING_set(akid->keyid, aki.data(), static_cast<int>(aki.size()));
  st = Check(X509_CRL_add1_ext_i2d(c, NID_authority_key_identifier, akid, 0, 0),
             "authorityKeyIdentifier");
  AUTHORITY_KEYID_free(akid);
  KYSO_RETURN_IF_ERROR(st);

  // §5.2.3 cRLNumber, non-critical, monotonically increasing.
  ASN1_INTEGER* number = ASN1_INTEGER_new();
  ASN1_INTEGER_set_int64(number, tmpl.number);
  st = Check(X509_CRL_add1_ext_i2d(c, NID_crl_number, number, 0, 0), "cRLNumber");
  ASN1_INTEGER_free(number);
  KYSO_RETURN_IF_ERROR(st);

  if (tmpl.delta_base_number) {
    // §5.2.4: "The delta CRL indicator is a critical CRL extension".
    ASN1_INTEGER* base = ASN1_INTEGER_new();
    ASN1_INTEGER_set_int64(base, *tmpl.delta_base_number);
    st = Check(X509_CRL_add1_ext_i2d(c, NID_delta_crl, base, 1, 0), "deltaCRLIndicator");
    ASN1_INTEGER_free(base);
    KYSO_RETURN_IF_ERROR(st);
  } else if (!tmpl.freshest_crl_urls.empty()) {
    // §5.2.6 freshestCRL: "MUST be marked as non-critical".
    CRL_DIST_POINTS* dps = sk_DIST_POINT_new_null();
    DIST_POINT* dp = DIST_POINT_new();
    dp->distpoint = DIST_POINT_NAME_new();
    dp->distpoint->type = 0;
    dp->distpoint->name.fullname = UriNames(tmpl.freshest_crl_urls);
    sk_DIST_POINT_push(dps, dp);
    st = Check(X509_CRL_add1_ext_i2d(c, NID_freshest_crl, dps, 0, 0), "freshestCRL");
    sk_DIST_POINT_pop_free(dps, DIST_POINT_free);
    KYSO_RETURN_IF_ERROR(st);
  }

  KYSO_RETURN_IF_ERROR(internal::SignWith(
      signer, scheme, [&](EVP_MD_CTX* ctx) { return X509_CRL_sign_ctx(c, ctx) > 0; }));
  unsigned char* buf = nullptr;
  int len = i2d_X509_CRL(c, &buf);
  if (len <= 0) return Internal("crl.build_failed", DrainOpenSslErrors());
  Bytes der(buf, buf + len);
  OPENSSL_free(buf);
  return der;
}

Result<Crl> Crl::FromDer(ByteSpan der) {
  const unsigned char* p = der.data();
  X509_CRL* crl = d2i_X509_CRL(nullptr, &p, static_cast<long>(der.size()));
  if (crl == nullptr || p != der.data() + der.size()) {
    X509_CRL_free(crl);
    return InvalidArgument("crl.malformed", "malformed CRL: " + DrainOpenSslErrors());
  }
  return Crl(std::shared_ptr<X509_CRL>(crl, X509_CRL_free));
}

int64_t Crl::number() const {
  auto* n = static_cast<ASN1_INTEGER*>(
      X509_CRL_get_ext_d2i(crl_.get(), NID_crl_number, nullptr, nullptr));
  if (n == nullptr) return -1;
  int64_t v = -1;
  ASN1_INTEGER_get_int64(&v, n);
  ASN1_INTEGER_free(n);
  return v;
}

std::optional<int64_t> Crl::delta_base() const {
  auto* n =
      static_cast<ASN1_INTEGER*>(X509_CRL_get_ext_d2i(crl_.get(), NID_delta_crl, nullptr, nullptr));
  if (n == nullptr) return std::nullopt;
  int64_t v = -1;
  ASN1_INTEGER_get_int64(&v, n);
  ASN1_INTEGER_free(n);
  return v;
}

UnixSeconds Crl::this_update() const {
  return internal::FromAsn1Time(X509_CRL_get0_lastUpdate(crl_.get()));
}
UnixSeconds Crl::next_update() const {
  return internal::FromAsn1Time(X509_CRL_get0_nextUpdate(crl_.get()));
}

size_t Crl::entry_count() const {
  STACK_OF(X509_REVOKED)* revoked = X509_CRL_get_REVOKED(crl_.get());
  return revoked ? static_cast<size_t>(sk_X509_REVOKED_num(revoked)) : 0;
}

std::optional<int> Crl::ReasonFor(std::string_view serial_hex) const {
  STACK_OF(X509_REVOKED)* revoked = X509_CRL_get_REVOKED(crl_.get());
  for (int i = 0; i < sk_X509_REVOKED_num(revoked); ++i) {
    X509_REVOKED* rev = sk_X509_REVOKED_value(revoked, i);
    if (internal::SerialHex(X509_REVOKED_get0_serialNumber(rev)) != serial_hex) continue;
    auto* reason = static_cast<ASN1_ENUMERATED*>(
        X509_REVOKED_get_ext_d2i(rev, NID_crl_reason, nullptr, nullptr));
    if (reason == nullptr) return -1;
    int r = static_cast<int>(ASN1_ENUMERATED_get(reason));
    ASN1_ENUMERATED_free(reason);
    return r;
  }
  return std::nullopt;
}

bool Crl::IsSignedBy(const crypto::PublicKey& key) const {
  int rc = X509_CRL_verify(crl_.get(), key.openssl());
  DrainOpenSslErrors();
  return rc == 1;
}

}  // namespace kyso::x509
