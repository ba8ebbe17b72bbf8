#include "x509/timestamp.h"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/ts.h>
#include <openssl/x509.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "crypto/key.h"
#include "crypto/signer.h"
#include "x509/openssl_util.h"

// Requests are built, and tokens verified, with OpenSSL's own TS API (TS_REQ,
// TS_RESP_verify_response), so a misreading of RFC 3161 in timestamp.cc is not repeated in
// its test. src/tsa/tsa_test.cc checks the same with the openssl command line.

namespace kyso::x509 {
namespace {

constexpr std::string_view kPolicy = "2.16.704.1.99.2.1";
constexpr std::string_view kSha256 = "2.16.840.1.101.3.4.2.1";
constexpr std::string_view kSha384 = "2.16.840.1.101.3.4.2.2";
constexpr std::string_view kSha512 = "2.16.840.1.101.3.4.2.3";
constexpr std::string_view kSha3_256 = "2.16.840.1.101.3.4.2.8";
constexpr std::string_view kSha1 = "1.3.14.3.2.26";
constexpr std::string_view kMd5 = "1.2.840.113549.2.5";

template <typename T, void (*Free)(T*)>
using Ptr = std::unique_ptr<T, internal::Deleter<T, Free>>;

// --- a small PKI: a root and a TSA certificate under it ---

Extensions TsaExtensions() {
  Extensions e;
  e.key_usage = {"digitalSignature", "nonRepudiation"};
  e.extended_key_usage = {"timeStamping"};
  e.extended_key_usage_critical = true;
  return e;
}

struct Pki {
  std::shared_ptr<crypto::SoftwareSigner> root_signer;
  Certificate root;
  std::shared_ptr<crypto::SoftwareSigner> tsa_signer;
  Certificate tsa;
};

Pki MakePki(const std::string& tsa_key, const Extensions& tsa_extensions = TsaExtensions()) {
  UnixSeconds now = SystemClock().Now();
  auto root_key = crypto::PrivateKey::Generate(*crypto::KeySpec::Parse("ec:P-256")).value();
  auto root_signer = std::make_shared<crypto::SoftwareSigner>(root_key, "mem:root");
  CertificateTemplate root_tmpl{{0x01},
                                *Name::ParseSlashed("/C=VN/O=kyso test/CN=Root"),
                                root_key.public_key(),
                                now - 86400,
                                now + 86400 * 30,
                                {}};
  root_tmpl.extensions.is_ca = true;
  root_tmpl.extensions.key_usage = {"keyCertSign", "cRLSign"};
  auto scheme = crypto::SignatureScheme::DefaultFor(root_key.spec());
  Certificate root = BuildCertificate(root_tmpl, nullptr, *root_signer, scheme).value();
  auto key = crypto::PrivateKey::Generate(*crypto::KeySpec::Parse(tsa_key)).value();
  auto tsa_signer = std::make_shared<crypto::SoftwareSigner>(key, "mem:tsa");
  CertificateTemplate tsa_tmpl{
      {0x7f, 0x02},     *Name::ParseSlashed("/C=VN/O=kyso test/CN=Dấu thời gian"),
      key.public_key(), now - 3600,
      now + 86400 * 10, tsa_extensions};
  Certificate tsa = BuildCertificate(tsa_tmpl, &root, *root_signer, scheme).value();
  // Re-read from DER, as a relying party would: OpenSSL's chain building decodes the keys
  // again, which the X509 objects BuildCertificate returns are not meant for.
  return {root_signer, Certificate::FromDer(root.der()).value(), tsa_signer,
          Certificate::FromDer(tsa.der()).value()};
}

const Pki& P256Pki() {
  static const Pki pki = MakePki("ec:P-256");
  return pki;
}

TimeStampSigner MakeSigner(const Pki& pki, TimeStampSignerOptions options = {}) {
  if (options.policy_oid.empty()) options.policy_oid = std::string(kPolicy);
  auto signer = TimeStampSigner::Create(pki.tsa, pki.tsa_signer, options);
  EXPECT_TRUE(signer.ok()) << signer.status().ToString();
  return std::move(signer).value();
}

// --- requests built with OpenSSL's TS_REQ ---

struct RequestSpec {
  std::string_view hash_oid = kSha256;
  size_t hash_size = 32;
  bool null_params = true;
  std::optional<uint64_t> nonce = 0x0123456789abcdefULL;
  bool cert_req = false;
  std::string policy;
  long version = 1;
  std::string extension_oid;
  bool extension_critical = false;
};

Bytes Der(TS_REQ* req) {
  unsigned char* buf = nullptr;
  int len = i2d_TS_REQ(req, &buf);
  Bytes out(buf, buf + len);
  OPENSSL_free(buf);
  return out;
}

Bytes MakeRequest(const RequestSpec& spec) {
  Ptr<TS_REQ, TS_REQ_free> req(TS_REQ_new());
  TS_REQ_set_version(req.get(), spec.version);
  Ptr<TS_MSG_IMPRINT, TS_MSG_IMPRINT_free> imprint(TS_MSG_IMPRINT_new());
  Ptr<X509_ALGOR, X509_ALGOR_free> algo(X509_ALGOR_new());
  X509_ALGOR_set0(algo.get(), OBJ_txt2obj(std::string(spec.hash_oid).c_str(), 1),
                  spec.null_params ? V_ASN1_NULL : V_ASN1_UNDEF, nullptr);
  TS_MSG_IMPRINT_set_algo(imprint.get(), algo.get());
  Bytes hashed(spec.hash_size);
  for (size_t i = 0; i < hashed.size(); ++i) hashed[i] = static_cast<uint8_t>(i * 7 + 1);
  TS_MSG_IMPRINT_set_msg(imprint.get(), hashed.data(), static_cast<int>(hashed.size()));
  TS_REQ_set_msg_imprint(req.get(), imprint.get());
  if (!spec.policy.empty()) {
    Ptr<ASN1_OBJECT, ASN1_OBJECT_free> policy(OBJ_txt2obj(spec.policy.c_str(), 1));
    TS_REQ_set_policy_id(req.get(), policy.get());
  }
  if (spec.nonce) {
    Ptr<ASN1_INTEGER, ASN1_INTEGER_free> nonce(ASN1_INTEGER_new());
    ASN1_INTEGER_set_uint64(nonce.get(), *spec.nonce);
    TS_REQ_set_nonce(req.get(), nonce.get());
  }
  TS_REQ_set_cert_req(req.get(), spec.cert_req ? 1 : 0);
  if (!spec.extension_oid.empty()) {
    Ptr<ASN1_OBJECT, ASN1_OBJECT_free> obj(OBJ_txt2obj(spec.extension_oid.c_str(), 1));
    Ptr<ASN1_OCTET_STRING, ASN1_OCTET_STRING_free> value(ASN1_OCTET_STRING_new());
    const unsigned char null_der[] = {0x05, 0x00};
    ASN1_OCTET_STRING_set(value.get(), null_der, 2);
    Ptr<X509_EXTENSION, X509_EXTENSION_free> ext(X509_EXTENSION_create_by_OBJ(
        nullptr, obj.get(), spec.extension_critical ? 1 : 0, value.get()));
    TS_REQ_add_ext(req.get(), ext.get(), -1);
  }
  return Der(req.get());
}

// TS_RESP_verify_response with everything a relying party checks: signature and ESS
// signing certificate, chain to `pki.root` (the TSA certificate taken from the token, or from
// `untrusted`), version, policy (when requested), imprint, nonce, and that the TSA name
// matches the signer. Returns "" when the token verifies, else OpenSSL's errors.
std::string VerifyWithOpenssl(ByteSpan request_der, ByteSpan response_der, const Pki& pki,
                              bool tsa_cert_untrusted) {
  const unsigned char* p = request_der.data();
  Ptr<TS_REQ, TS_REQ_free> req(d2i_TS_REQ(nullptr, &p, static_cast<long>(request_der.size())));
  p = response_der.data();
  Ptr<TS_RESP, TS_RESP_free> resp(d2i_TS_RESP(nullptr, &p, static_cast<long>(response_der.size())));
  if (!req || !resp) return "cannot decode";
  Ptr<TS_VERIFY_CTX, TS_VERIFY_CTX_free> ctx(TS_REQ_to_TS_VERIFY_CTX(req.get(), nullptr));
  TS_VERIFY_CTX_add_flags(ctx.get(), TS_VFY_SIGNATURE);
  X509_STORE* store = X509_STORE_new();
  X509_STORE_add_cert(store, pki.root.openssl());
  TS_VERIFY_CTX_set_store(ctx.get(), store);
  if (tsa_cert_untrusted) {
    STACK_OF(X509)* certs = sk_X509_new_null();
    X509_up_ref(pki.tsa.openssl());
    sk_X509_push(certs, pki.tsa.openssl());
    TS_VERIFY_CTX_set_certs(ctx.get(), certs);
  }
  if (TS_RESP_verify_response(ctx.get(), resp.get()) == 1) return "";
  std::string errors;
  unsigned long e;
  char buf[256];
  while ((e = ERR_get_error()) != 0) {
    ERR_error_string_n(e, buf, sizeof buf);
    errors += std::string(buf) + "; ";
  }
  return errors.empty() ? "verification failed" : errors;
}

std::string IdOf(ByteSpan der) {
  auto r = ParseTimeStampRequest(der);
  return r.ok() ? "ok" : r.status().id();
}

// --- parsing ---

TEST(TimeStampRequestTest, ParsesWhatOpensslEncodes) {
  RequestSpec spec;
  spec.cert_req = true;
  spec.policy = std::string(kPolicy);
  Bytes der = MakeRequest(spec);
  auto r = ParseTimeStampRequest(der);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->hash_algorithm, ImprintAlgorithm::kSha256);
  EXPECT_EQ(r->hashed_message.size(), 32u);
  EXPECT_EQ(r->hashed_message[1], 8);
  EXPECT_EQ(r->policy_oid, std::string(kPolicy));
  EXPECT_EQ(r->nonce, (Bytes{0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef}));
  EXPECT_TRUE(r->cert_req);

  spec = {};
  spec.nonce = 0xfedcba9876543210ULL;  // top bit set: a 0x00 sign octet precedes it
  spec.null_params = false;            // RFC 5754 §2: absent parameters are accepted too
  r = ParseTimeStampRequest(MakeRequest(spec));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->nonce, (Bytes{0x00, 0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10}));
  EXPECT_FALSE(r->cert_req);
  EXPECT_FALSE(r->policy_oid.has_value());

  spec.nonce.reset();
  r = ParseTimeStampRequest(MakeRequest(spec));
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->nonce.has_value());
}

TEST(TimeStampRequestTest, AcceptsSha2AndSha3) {
  struct Case {
    std::string_view oid;
    size_t size;
    ImprintAlgorithm alg;
  };
  for (const auto& c :
       {Case{kSha256, 32, ImprintAlgorithm::kSha256}, Case{kSha384, 48, ImprintAlgorithm::kSha384},
        Case{kSha512, 64, ImprintAlgorithm::kSha512},
        Case{kSha3_256, 32, ImprintAlgorithm::kSha3_256},
        Case{"2.16.840.1.101.3.4.2.9", 48, ImprintAlgorithm::kSha3_384},
        Case{"2.16.840.1.101.3.4.2.10", 64, ImprintAlgorithm::kSha3_512}}) {
    auto r = ParseTimeStampRequest(MakeRequest({.hash_oid = c.oid, .hash_size = c.size}));
    ASSERT_TRUE(r.ok()) << c.oid << ": " << r.status().ToString();
    EXPECT_EQ(r->hash_algorithm, c.alg);
  }
}

TEST(TimeStampRequestTest, RefusesWeakAndUnknownHashesAsBadAlg) {
  auto sha1 = ParseTimeStampRequest(MakeRequest({.hash_oid = kSha1, .hash_size = 20}));
  EXPECT_EQ(sha1.status().id(), "timestamp.bad_alg");
  EXPECT_NE(sha1.status().message().find("SHA-1"), std::string::npos);
  EXPECT_EQ(TspFailureOf(sha1.status()), TspFailure::kBadAlg);
  EXPECT_EQ(IdOf(MakeRequest({.hash_oid = kMd5, .hash_size = 16})), "timestamp.bad_alg");
  // SHA-224: a SHA-2 hash, but not one we offer.
  EXPECT_EQ(IdOf(MakeRequest({.hash_oid = "2.16.840.1.101.3.4.2.4", .hash_size = 28})),
            "timestamp.bad_alg");
  EXPECT_EQ(IdOf(MakeRequest({.hash_oid = "1.2.3.4", .hash_size = 32})), "timestamp.bad_alg");
}

TEST(TimeStampRequestTest, RefusesImprintLengthMismatchAsBadRequest) {
  for (size_t size : {0, 20, 31, 33, 64}) {
    auto r = ParseTimeStampRequest(MakeRequest({.hash_size = size}));
    EXPECT_EQ(r.status().id(), "timestamp.bad_request") << size;
    EXPECT_EQ(TspFailureOf(r.status()), TspFailure::kBadRequest);
  }
  EXPECT_EQ(IdOf(MakeRequest({.hash_oid = kSha512, .hash_size = 32})), "timestamp.bad_request");
}

TEST(TimeStampRequestTest, RefusesOtherVersionsAndHugeNonces) {
  EXPECT_EQ(IdOf(MakeRequest({.version = 2})), "timestamp.bad_request");
  // A 33-byte nonce, made with BIGNUM (TS_REQ takes any INTEGER).
  Ptr<TS_REQ, TS_REQ_free> req(TS_REQ_new());
  Bytes base = MakeRequest({});
  const unsigned char* p = base.data();
  req.reset(d2i_TS_REQ(nullptr, &p, static_cast<long>(base.size())));
  Ptr<BIGNUM, BN_free> bn(BN_new());
  BN_set_bit(bn.get(), 8 * 33 - 2);
  ASN1_INTEGER* big = BN_to_ASN1_INTEGER(bn.get(), nullptr);
  TS_REQ_set_nonce(req.get(), big);
  ASN1_INTEGER_free(big);
  EXPECT_EQ(IdOf(Der(req.get())), "timestamp.bad_request");
  // 32 bytes is the limit.
  BN_clear_bit(bn.get(), 8 * 33 - 2);
  BN_set_bit(bn.get(), 8 * 32 - 2);
  big = BN_to_ASN1_INTEGER(bn.get(), nullptr);
  TS_REQ_set_nonce(req.get(), big);
  ASN1_INTEGER_free(big);
  EXPECT_EQ(IdOf(Der(req.get())), "ok");
  // Larger than kMaxSize as a whole.
  EXPECT_EQ(IdOf(Bytes(TimeStampRequest::kMaxSize + 1, 0x30)), "timestamp.bad_request");
}

// RFC 3161 §2.4.1: "If an extension, whether it is marked critical or not critical, is used by
// a requester but is not recognized by a time-stamping server, the server SHALL not issue a
// token and SHALL return a failure (unacceptedExtension)."
TEST(TimeStampRequestTest, RefusesEveryExtension) {
  auto r = ParseTimeStampRequest(
      MakeRequest({.extension_oid = "1.2.3.4.5", .extension_critical = true}));
  EXPECT_EQ(r.status().id(), "timestamp.unaccepted_extension");
  EXPECT_NE(r.status().message().find("1.2.3.4.5"), std::string::npos);
  EXPECT_EQ(TspFailureOf(r.status()), TspFailure::kUnacceptedExtension);
  EXPECT_EQ(IdOf(MakeRequest({.extension_oid = "1.2.3.4.5"})), "timestamp.unaccepted_extension");
}

TEST(TimeStampRequestTest, MalformedDerIsBadDataFormat) {
  Bytes good = MakeRequest({.cert_req = true, .policy = std::string(kPolicy)});
  ASSERT_EQ(IdOf(good), "ok");
  EXPECT_EQ(TspFailureOf(ParseTimeStampRequest(AsBytes("hello")).status()),
            TspFailure::kBadDataFormat);
  EXPECT_EQ(IdOf({}), "timestamp.bad_data_format");
  // Every truncation.
  for (size_t n = 0; n < good.size(); ++n) {
    EXPECT_EQ(IdOf(ByteSpan(good).first(n)), "timestamp.bad_data_format") << n;
  }
  // Trailing data.
  Bytes trailing = good;
  trailing.push_back(0x00);
  EXPECT_EQ(IdOf(trailing), "timestamp.bad_data_format");
  // BER, not DER: a long-form length where the short form fits, and an indefinite length.
  ASSERT_LT(good[1], 0x80);
  Bytes long_form = {0x30, 0x81, good[1]};
  long_form.insert(long_form.end(), good.begin() + 2, good.end());
  EXPECT_EQ(IdOf(long_form), "timestamp.bad_data_format");
  Bytes indefinite = {0x30, 0x80};
  indefinite.insert(indefinite.end(), good.begin() + 2, good.end());
  indefinite.insert(indefinite.end(), {0x00, 0x00});
  EXPECT_EQ(IdOf(indefinite), "timestamp.bad_data_format");
  // certReq TRUE must be 0xFF in DER.
  Bytes boolean = good;
  const uint8_t cert_req_true[] = {0x01, 0x01, 0xff};
  auto it = std::search(boolean.begin(), boolean.end(), std::begin(cert_req_true),
                        std::end(cert_req_true));
  ASSERT_NE(it, boolean.end());
  it[2] = 0x01;
  EXPECT_EQ(IdOf(boolean), "timestamp.bad_data_format");
  // The wrong type where the imprint should be.
  Bytes swapped = good;
  swapped[5] = 0x31;  // 30 len 02 01 01 [30 → 31]
  EXPECT_EQ(IdOf(swapped), "timestamp.bad_data_format");
}

// --- responses ---

TEST(TimeStampResponseTest, RejectionCarriesOneFailureBitAndText) {
  for (TspFailure f : {TspFailure::kBadAlg, TspFailure::kBadRequest, TspFailure::kBadDataFormat,
                       TspFailure::kTimeNotAvailable, TspFailure::kUnacceptedPolicy,
                       TspFailure::kUnacceptedExtension, TspFailure::kAddInfoNotAvailable,
                       TspFailure::kSystemFailure}) {
    Bytes der = BuildTimeStampRejection(f, "lý do: " + std::string(TspFailureName(f)));
    auto info = InspectTimeStampResponse(der);
    ASSERT_TRUE(info.ok()) << info.status().ToString();
    EXPECT_EQ(info->status, 2);
    EXPECT_EQ(info->failures, std::vector<std::string>{std::string(TspFailureName(f))});
    EXPECT_EQ(info->status_string, "lý do: " + std::string(TspFailureName(f)));
    EXPECT_FALSE(info->has_token);
  }
  // X.690 §11.2.2: trailing zero bits are removed. badAlg is bit 0: 03 02 07 80.
  Bytes bad_alg = BuildTimeStampRejection(TspFailure::kBadAlg, "");
  EXPECT_EQ(Bytes(bad_alg.end() - 4, bad_alg.end()), (Bytes{0x03, 0x02, 0x07, 0x80}));
  Bytes system = BuildTimeStampRejection(TspFailure::kSystemFailure, "");
  EXPECT_EQ(Bytes(system.end() - 7, system.end()),
            (Bytes{0x03, 0x05, 0x06, 0x00, 0x00, 0x00, 0x40}));
}

TEST(TimeStampResponseTest, GrantedTokenVerifiesWithOpenssl) {
  const Pki& pki = P256Pki();
  TimeStampSigner signer = MakeSigner(pki);
  for (bool cert_req : {true, false}) {
    SCOPED_TRACE(cert_req ? "certReq" : "no certReq");
    Bytes request_der = MakeRequest({.cert_req = cert_req, .policy = std::string(kPolicy)});
    auto request = ParseTimeStampRequest(request_der);
    ASSERT_TRUE(request.ok());
    UnixSeconds now = SystemClock().Now();
    auto response = signer.Grant(*request, 42, now);
    ASSERT_TRUE(response.ok()) << response.status().ToString();
    // Without certReq the certificate must come from elsewhere (RFC 3161 §2.4.1).
    EXPECT_EQ(VerifyWithOpenssl(request_der, *response, pki, !cert_req), "");
    if (!cert_req) {
      EXPECT_NE(VerifyWithOpenssl(request_der, *response, pki, false), "");
    }

    auto info = InspectTimeStampResponse(*response);
    ASSERT_TRUE(info.ok());
    EXPECT_EQ(info->status, 0);
    EXPECT_TRUE(info->failures.empty());
    EXPECT_EQ(info->certificate_count, cert_req ? 1u : 0u);
    EXPECT_EQ(info->policy_oid, kPolicy);
    EXPECT_EQ(info->serial_hex, "2A");
    EXPECT_EQ(info->gen_time, now);
    EXPECT_EQ(info->hash_algorithm, "SHA256");
    EXPECT_EQ(info->hashed_message, request->hashed_message);
    EXPECT_EQ(info->nonce, request->nonce);
    EXPECT_EQ(info->accuracy_seconds, 1);
    EXPECT_FALSE(info->accuracy_millis.has_value());
    EXPECT_FALSE(info->ordering);
    EXPECT_EQ(info->tsa_name, pki.tsa.subject());
  }
}

TEST(TimeStampResponseTest, TamperedTokenFailsOpensslVerification) {
  const Pki& pki = P256Pki();
  TimeStampSigner signer = MakeSigner(pki);
  Bytes request_der = MakeRequest({.cert_req = true});
  auto response = signer.Grant(*ParseTimeStampRequest(request_der), 7, SystemClock().Now());
  ASSERT_TRUE(response.ok());
  ASSERT_EQ(VerifyWithOpenssl(request_der, *response, pki, false), "");
  // Another request's nonce: the token does not answer it.
  Bytes other = MakeRequest({.nonce = 99, .cert_req = true});
  EXPECT_NE(VerifyWithOpenssl(other, *response, pki, false), "");
  // A bit flipped in the TSTInfo's serialNumber: the message digest no longer matches.
  Bytes tampered = *response;
  const uint8_t serial_7[] = {0x02, 0x01, 0x07};
  auto it = std::search(tampered.begin(), tampered.end(), std::begin(serial_7), std::end(serial_7));
  ASSERT_NE(it, tampered.end());
  it[2] = 0x08;
  EXPECT_NE(VerifyWithOpenssl(request_der, tampered, pki, false), "");
}

TEST(TimeStampResponseTest, OtherKeysImprintsAndOptions) {
  for (std::string key : {"ec:P-384", "rsa:2048"}) {
    SCOPED_TRACE(key);
    Pki pki = MakePki(key);
    TimeStampSigner signer = MakeSigner(pki, {.policy_oid = "1.2.3",
                                              .accuracy_seconds = 0,
                                              .accuracy_millis = 500,
                                              .include_tsa_name = false});
    const std::pair<std::string_view, size_t> imprints[] = {
        {kSha384, 48}, {kSha512, 64}, {kSha3_256, 32}};
    for (auto [oid, size] : imprints) {
      Bytes request_der = MakeRequest({.hash_oid = oid, .hash_size = size, .nonce = {}});
      auto response = signer.Grant(*ParseTimeStampRequest(request_der), ~0ULL, SystemClock().Now());
      ASSERT_TRUE(response.ok());
      EXPECT_EQ(VerifyWithOpenssl(request_der, *response, pki, true), "") << oid;
      auto info = InspectTimeStampResponse(*response);
      EXPECT_EQ(info->serial_hex, "FFFFFFFFFFFFFFFF");
      EXPECT_EQ(info->policy_oid, "1.2.3");
      EXPECT_FALSE(info->nonce.has_value());
      EXPECT_FALSE(info->accuracy_seconds.has_value());
      EXPECT_EQ(info->accuracy_millis, 500);
      EXPECT_FALSE(info->tsa_name.has_value());
    }
  }
}

TEST(TimeStampSignerTest, ChecksTheCertificateAndOptions) {
  const Pki& pki = P256Pki();
  TimeStampSignerOptions options{.policy_oid = std::string(kPolicy)};
  auto id = [&](const Pki& p, std::shared_ptr<const crypto::Signer> key,
                const TimeStampSignerOptions& o) {
    auto s = TimeStampSigner::Create(p.tsa, std::move(key), o);
    return s.ok() ? "ok" : s.status().id();
  };
  EXPECT_EQ(id(pki, pki.tsa_signer, options), "ok");
  // RFC 3161 §2.3: only timeStamping, critical.
  Extensions e = TsaExtensions();
  e.extended_key_usage_critical = false;
  Pki not_critical = MakePki("ec:P-256", e);
  EXPECT_EQ(id(not_critical, not_critical.tsa_signer, options), "timestamp.certificate_eku");
  e = TsaExtensions();
  e.extended_key_usage = {"timeStamping", "codeSigning"};
  Pki two_purposes = MakePki("ec:P-256", e);
  EXPECT_EQ(id(two_purposes, two_purposes.tsa_signer, options), "timestamp.certificate_eku");
  e = TsaExtensions();
  e.extended_key_usage = {"OCSPSigning"};
  Pki ocsp = MakePki("ec:P-256", e);
  EXPECT_EQ(id(ocsp, ocsp.tsa_signer, options), "timestamp.certificate_eku");
  // The key must be the certificate's.
  EXPECT_EQ(id(pki, pki.root_signer, options), "timestamp.key_mismatch");
  EXPECT_EQ(id(pki, nullptr, options), "timestamp.key_mismatch");
  // Options.
  EXPECT_EQ(id(pki, pki.tsa_signer, {.policy_oid = "vn.gov"}), "timestamp.invalid_options");
  EXPECT_EQ(id(pki, pki.tsa_signer, {.policy_oid = "3.1"}), "timestamp.invalid_options");
  EXPECT_EQ(id(pki, pki.tsa_signer, {.policy_oid = "1.40"}), "timestamp.invalid_options");
  EXPECT_EQ(id(pki, pki.tsa_signer, {.policy_oid = "1.2.", .accuracy_seconds = 1}),
            "timestamp.invalid_options");
  EXPECT_EQ(id(pki, pki.tsa_signer, {.policy_oid = "1.2", .accuracy_millis = 1000}),
            "timestamp.invalid_options");
}

// --- per-token cost: ours against OpenSSL's TS_RESP_create_response -------------------------
// Not a unit test (no timing assertions); run by hand in a release build:
//   x509_test --gtest_also_run_disabled_tests --gtest_filter='*BenchmarkGrant*'

long SerialCallbackCounter = 0;
ASN1_INTEGER* NextSerial(TS_RESP_CTX*, void*) {
  ASN1_INTEGER* serial = ASN1_INTEGER_new();
  ASN1_INTEGER_set(serial, ++SerialCallbackCounter);
  return serial;
}

TEST(TimeStampBenchmark, DISABLED_BenchmarkGrant) {
  const Pki& pki = P256Pki();
  TimeStampSigner signer = MakeSigner(pki);
  Bytes request_der = MakeRequest({.cert_req = true, .policy = std::string(kPolicy)});
  constexpr int kTokens = 5000;
  using Clock = std::chrono::steady_clock;
  auto per_token = [](Clock::time_point start) {
    return std::chrono::duration<double, std::micro>(Clock::now() - start).count() / kTokens;
  };

  auto start = Clock::now();
  for (int i = 0; i < kTokens; ++i) {
    auto request = ParseTimeStampRequest(request_der);
    auto response = signer.Grant(*request, static_cast<uint64_t>(i + 1), 1795230245);
    ASSERT_TRUE(response.ok());
  }
  double ours = per_token(start);

  crypto::SoftwareSigner& key = *pki.tsa_signer;
  start = Clock::now();
  for (int i = 0; i < kTokens; ++i) {
    Bytes digest = crypto::Sha256(request_der);
    ASSERT_TRUE(key.SignDigest({}, digest).ok());
  }
  double sign_only = per_token(start);

  Ptr<TS_RESP_CTX, TS_RESP_CTX_free> ctx(TS_RESP_CTX_new());
  TS_RESP_CTX_set_signer_cert(ctx.get(), pki.tsa.openssl());
  TS_RESP_CTX_set_signer_key(ctx.get(), key.openssl_key());
  TS_RESP_CTX_set_signer_digest(ctx.get(), EVP_sha256());
  TS_RESP_CTX_set_ess_cert_id_digest(ctx.get(), EVP_sha256());  // RFC 5816 ESSCertIDv2
  Ptr<ASN1_OBJECT, ASN1_OBJECT_free> policy(OBJ_txt2obj(std::string(kPolicy).c_str(), 1));
  TS_RESP_CTX_set_def_policy(ctx.get(), policy.get());
  TS_RESP_CTX_add_md(ctx.get(), EVP_sha256());
  TS_RESP_CTX_set_accuracy(ctx.get(), 1, 0, 0);
  TS_RESP_CTX_set_serial_cb(ctx.get(), NextSerial, nullptr);
  TS_RESP_CTX_add_flags(ctx.get(), TS_TSA_NAME);
  start = Clock::now();
  for (int i = 0; i < kTokens; ++i) {
    Ptr<BIO, BIO_free_all> in(
        BIO_new_mem_buf(request_der.data(), static_cast<int>(request_der.size())));
    Ptr<TS_RESP, TS_RESP_free> resp(TS_RESP_create_response(ctx.get(), in.get()));
    ASSERT_NE(resp, nullptr);
    unsigned char* buf = nullptr;
    int len = i2d_TS_RESP(resp.get(), &buf);
    ASSERT_GT(len, 0);
    OPENSSL_free(buf);
  }
  double openssl = per_token(start);
  std::printf(
      "per token, P-256, certReq: kyso parse+Grant %.1f us | ECDSA sign alone %.1f us | "
      "OpenSSL TS_RESP_create_response+i2d %.1f us\n",
      ours, sign_only, openssl);
}

}  // namespace
}  // namespace kyso::x509
