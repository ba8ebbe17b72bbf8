// kyso_bench_micro: the steps one issuance is made of, each timed alone (Google Benchmark), with
// OpenSSL's own calls for the same step beside them where one exists. kyso_bench_ca measures
// the whole; this tells where its time goes.
//
//   BM_CsrParse/Kyso        x509::Csr::Parse: PEM decode, DER parse, proof-of-possession check,
//                           subject to UTF-8, extensionRequest
//   BM_CsrParse/OpenSsl     PEM_read_bio_X509_REQ + X509_REQ_verify: the floor of that step
//   BM_Evaluate             policy::Evaluate for the `individual` profile
//   BM_BuildCertificate     x509::BuildCertificate (encode + sign) under a P-256 / RSA-3072 CA
//   BM_SignDigest           the signature alone (crypto::Signer::SignDigest over SHA-256)
//   BM_PublicKey_*          SpkiDer / Fingerprint / KeyIdentifier of a subscriber key: each
//                           issuance calls them, and in OpenSSL 3.0 every i2d_PUBKEY runs an
//                           OSSL_ENCODER and every d2i of a key an OSSL_DECODER
//   BM_CertificateFromDer   re-parsing an issued certificate (BuildCertificate does it)
//   BM_SubjectKey/*         putting the subscriber key into a new X509: X509_set_pubkey
//                           (encoder) versus copying the CSR's SubjectPublicKeyInfo fields
//                           (X509_PUBKEY_set0_param, no encoder)
//   BM_KeyIdFromSpki        RFC 5280 §4.2.1.2 (1) key id from SPKI DER already at hand
//   BM_CsrCheckWithoutDecoder  the CSR's proof of possession with the key imported from its
//                           raw point (EVP_PKEY_fromdata) rather than d2i: what parsing could
//                           cost without OpenSSL 3.0's OSSL_DECODER
//   BM_Crl/Kyso             x509::BuildCrl over N entries (the reason mix of kyso_bench_ca);
//                           its entry list is written straight into DER (see src/x509/crl.cc)

#include <benchmark/benchmark.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include "bench_support.h"
#include "ca/records.h"
#include "crypto/digest.h"
#include "crypto/signer.h"
#include "policy/profile.h"
#include "subscriber_csrs.h"
#include "x509/certificate.h"
#include "x509/crl.h"
#include "x509/csr.h"

namespace kyso::bench {
namespace {

constexpr UnixSeconds kNow = 1795230245;  // 2026-11-20T03:04:05Z: validity is an input

const std::string& CsrPem() {
  static const std::string pem = MakeSubscriberCsrPem(1);
  return pem;
}

const x509::Csr& ParsedCsr() {
  static const x509::Csr csr = Take(x509::Csr::Parse(AsBytes(CsrPem())), "parse CSR");
  return csr;
}

const policy::Profile& Individual() {
  static const policy::ProfileSet set = policy::ProfileSet::BuiltIn();
  const policy::Profile* p = set.Find("individual");
  if (p == nullptr) Die("profiles", "no individual profile");
  return *p;
}

policy::RequestFacts Facts() {
  return ca::RequestFactsFromCsr(ParsedCsr());
}

// A self-signed CA of the given key type and its signer.
struct Issuer {
  crypto::SoftwareSigner signer;
  crypto::SignatureScheme scheme;
  x509::Certificate certificate;
};

Issuer MakeIssuer(const std::string& key_spec) {
  crypto::PrivateKey key =
      Take(crypto::PrivateKey::Generate(Take(crypto::KeySpec::Parse(key_spec), "spec")), "key");
  crypto::SoftwareSigner signer(key, "bench");
  crypto::SignatureScheme scheme = crypto::SignatureScheme::DefaultFor(key.spec());
  x509::CertificateTemplate t{
      Bytes(20, 0x11),
      Take(x509::Name::ParseSlashed("/C=VN/O=Ban Cơ yếu Chính phủ/CN=Bench CA"), "name"),
      key.public_key(),
      kNow,
      kNow + 3650 * kSecondsPerDay,
      {}};
  t.extensions.is_ca = true;
  t.extensions.path_length = 0;
  t.extensions.key_usage = {"keyCertSign", "cRLSign"};
  x509::Certificate cert = Take(x509::BuildCertificate(t, nullptr, signer, scheme), "CA cert");
  return Issuer{std::move(signer), scheme, std::move(cert)};
}

void BM_CsrParse_Kyso(benchmark::State& state) {
  ByteSpan pem = AsBytes(CsrPem());
  for (auto _ : state) {
    auto csr = x509::Csr::Parse(pem);
    if (!csr.ok()) state.SkipWithError("parse failed");
    benchmark::DoNotOptimize(csr);
  }
}
BENCHMARK(BM_CsrParse_Kyso);

void BM_CsrParse_OpenSsl(benchmark::State& state) {
  const std::string& pem = CsrPem();
  for (auto _ : state) {
    BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
    X509_REQ* req = PEM_read_bio_X509_REQ(bio, nullptr, nullptr, nullptr);
    EVP_PKEY* key = X509_REQ_get0_pubkey(req);
    if (X509_REQ_verify(req, key) != 1) state.SkipWithError("verify failed");
    X509_REQ_free(req);
    BIO_free(bio);
  }
}
BENCHMARK(BM_CsrParse_OpenSsl);

void BM_Evaluate(benchmark::State& state) {
  const policy::Profile& profile = Individual();
  policy::RequestFacts facts = Facts();
  for (auto _ : state) {
    auto plan = policy::Evaluate(profile, facts, policy::IssuanceKind::kNew, std::nullopt, kNow,
                                 kNow + 3650 * kSecondsPerDay);
    if (!plan.ok()) state.SkipWithError("evaluate failed");
    benchmark::DoNotOptimize(plan);
  }
}
BENCHMARK(BM_Evaluate);

void BuildCertificate(benchmark::State& state, const std::string& issuer_key) {
  Issuer issuer = MakeIssuer(issuer_key);
  policy::IssuancePlan plan =
      Take(policy::Evaluate(Individual(), Facts(), policy::IssuanceKind::kNew, std::nullopt, kNow,
                            kNow + 3650 * kSecondsPerDay),
           "evaluate");
  x509::CertificateTemplate t{Bytes(20, 0x22), plan.subject,   ParsedCsr().public_key(),
                              plan.not_before, plan.not_after, plan.extensions};
  // The URLs CertificateAuthority adds with its default PublicationSettings.
  t.extensions.ocsp_urls = {"http://127.0.0.1:8080/ocsp"};
  t.extensions.ca_issuers_urls = {"http://127.0.0.1:8080/ca/issuing.crt"};
  t.extensions.crl_urls = {"http://127.0.0.1:8080/crl/issuing.crl"};
  for (auto _ : state) {
    auto cert = x509::BuildCertificate(t, &issuer.certificate, issuer.signer, issuer.scheme);
    if (!cert.ok()) state.SkipWithError("build failed");
    benchmark::DoNotOptimize(cert);
  }
}
BENCHMARK_CAPTURE(BuildCertificate, P256, std::string("ec:P-256"));
BENCHMARK_CAPTURE(BuildCertificate, RSA3072, std::string("rsa:3072"));

void SignDigest(benchmark::State& state, const std::string& key_spec) {
  Issuer issuer = MakeIssuer(key_spec);
  Bytes digest(32, 0x5A);
  for (auto _ : state) {
    auto sig = issuer.signer.SignDigest(issuer.scheme, digest);
    if (!sig.ok()) state.SkipWithError("sign failed");
    benchmark::DoNotOptimize(sig);
  }
}
BENCHMARK_CAPTURE(SignDigest, P256, std::string("ec:P-256"));
BENCHMARK_CAPTURE(SignDigest, RSA3072, std::string("rsa:3072"));

const crypto::PublicKey& SubscriberKey() {
  return ParsedCsr().public_key();
}

void BM_PublicKey_SpkiDer(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(SubscriberKey().SpkiDer());
}
BENCHMARK(BM_PublicKey_SpkiDer);

void BM_PublicKey_Fingerprint(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(SubscriberKey().Fingerprint());
}
BENCHMARK(BM_PublicKey_Fingerprint);

void BM_PublicKey_KeyIdentifier(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(SubscriberKey().KeyIdentifier());
}
BENCHMARK(BM_PublicKey_KeyIdentifier);

void BM_CertificateFromDer(benchmark::State& state) {
  Issuer issuer = MakeIssuer("ec:P-256");
  Bytes der = issuer.certificate.der();
  for (auto _ : state) {
    auto cert = x509::Certificate::FromDer(der);
    if (!cert.ok()) state.SkipWithError("parse failed");
    benchmark::DoNotOptimize(cert);
  }
}
BENCHMARK(BM_CertificateFromDer);

void BM_SubjectKey_SetPubkey(benchmark::State& state) {
  EVP_PKEY* key = SubscriberKey().openssl();
  for (auto _ : state) {
    X509* x = X509_new();
    X509_set_pubkey(x, key);
    X509_free(x);
  }
}
BENCHMARK(BM_SubjectKey_SetPubkey);

// The fields of the request's SubjectPublicKeyInfo copied as they are: algorithm OID, its
// parameters and the key bits. No key object is built or encoded.
void BM_SubjectKey_CopySpki(benchmark::State& state) {
  const std::string& pem = CsrPem();
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509_REQ* req = PEM_read_bio_X509_REQ(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  X509_PUBKEY* from = X509_REQ_get_X509_PUBKEY(req);
  for (auto _ : state) {
    ASN1_OBJECT* alg = nullptr;
    const unsigned char* bits = nullptr;
    int bits_len = 0;
    X509_ALGOR* algor = nullptr;
    X509_PUBKEY_get0_param(&alg, &bits, &bits_len, &algor, from);
    int param_type = 0;
    const void* param = nullptr;
    X509_ALGOR_get0(nullptr, &param_type, &param, algor);
    X509* x = X509_new();
    void* param_copy = nullptr;
    if (param_type == V_ASN1_OBJECT) {
      param_copy = OBJ_dup(static_cast<const ASN1_OBJECT*>(param));
    } else if (param_type == V_ASN1_SEQUENCE) {
      param_copy = ASN1_STRING_dup(static_cast<const ASN1_STRING*>(param));
    }
    auto* bits_copy = static_cast<unsigned char*>(OPENSSL_memdup(bits, bits_len));
    X509_PUBKEY_set0_param(X509_get_X509_PUBKEY(x), OBJ_dup(alg), param_type, param_copy, bits_copy,
                           bits_len);
    X509_free(x);
  }
  X509_REQ_free(req);
}
BENCHMARK(BM_SubjectKey_CopySpki);

// SHA-1 of the subjectPublicKey BIT STRING read from SPKI DER with a minimal DER walk:
// SEQUENCE { AlgorithmIdentifier, BIT STRING }.
void BM_KeyIdFromSpki(benchmark::State& state) {
  Bytes spki = SubscriberKey().SpkiDer();
  for (auto _ : state) {
    const unsigned char* p = spki.data();
    long len = 0;
    int tag = 0, cls = 0;
    ASN1_get_object(&p, &len, &tag, &cls, static_cast<long>(spki.size()));  // SEQUENCE
    const unsigned char* algo = p;
    ASN1_get_object(&p, &len, &tag, &cls, static_cast<long>(spki.size()));  // AlgorithmId
    p += len;
    (void)algo;
    ASN1_get_object(&p, &len, &tag, &cls, static_cast<long>(spki.size()));  // BIT STRING
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    EVP_Digest(p + 1, static_cast<size_t>(len - 1), md, &md_len, EVP_sha1(), nullptr);
    benchmark::DoNotOptimize(md);
  }
}
BENCHMARK(BM_KeyIdFromSpki);

void BM_CsrCheckWithoutDecoder(benchmark::State& state) {
  const std::string& pem = CsrPem();
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509_REQ* req = PEM_read_bio_X509_REQ(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  unsigned char* tbs = nullptr;
  int tbs_len = i2d_re_X509_REQ_tbs(req, &tbs);
  const ASN1_BIT_STRING* sig = nullptr;
  X509_REQ_get0_signature(req, &sig, nullptr);
  const unsigned char* point = nullptr;
  int point_len = 0;
  X509_PUBKEY_get0_param(nullptr, &point, &point_len, nullptr, X509_REQ_get_X509_PUBKEY(req));
  char group[] = "P-256";
  for (auto _ : state) {
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0),
        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY,
                                          const_cast<unsigned char*>(point), point_len),
        OSSL_PARAM_construct_end()};
    EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr);
    EVP_PKEY* key = nullptr;
    EVP_PKEY_fromdata_init(ctx);
    EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params);
    EVP_MD_CTX* md = EVP_MD_CTX_new();
    EVP_DigestVerifyInit(md, nullptr, EVP_sha256(), nullptr, key);
    if (EVP_DigestVerify(md, ASN1_STRING_get0_data(sig), ASN1_STRING_length(sig), tbs,
                         static_cast<size_t>(tbs_len)) != 1) {
      state.SkipWithError("verify failed");
    }
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(key);
    EVP_PKEY_CTX_free(ctx);
  }
  OPENSSL_free(tbs);
  X509_REQ_free(req);
}
BENCHMARK(BM_CsrCheckWithoutDecoder);

// --- CRL encoding ---

std::vector<x509::RevokedCertificate> CrlEntries(int count) {
  std::vector<x509::RevokedCertificate> out;
  out.reserve(static_cast<size_t>(count));
  for (int i = 0; i < count; ++i) {
    x509::RevokedCertificate e;
    e.serial.resize(20);
    for (int b = 0; b < 20; ++b)
      e.serial[b] = static_cast<uint8_t>((i * 2654435761u) >> (b % 4 * 8)) ^ b;
    e.serial[0] = static_cast<uint8_t>((e.serial[0] & 0x7F) | 0x01);
    e.revocation_date = kNow - (i % 700) * kSecondsPerDay;
    // Same mix as kyso_bench_ca: mostly superseded, some key compromises with a date.
    static const int kReasons[20] = {4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 5, 5, 5, 5, 3, 3, 3, 1, 1, 0};
    e.reason = kReasons[i % 20];
    if (i % 20 == 17) e.invalidity_date = e.revocation_date - 2 * kSecondsPerDay;
    out.push_back(std::move(e));
  }
  return out;
}

void BM_Crl_Kyso(benchmark::State& state) {
  Issuer issuer = MakeIssuer("ec:P-256");
  x509::CrlTemplate t;
  t.number = 7;
  t.this_update = kNow;
  t.next_update = kNow + 86400;
  t.entries = CrlEntries(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    auto der = x509::BuildCrl(t, issuer.certificate, issuer.signer, issuer.scheme);
    if (!der.ok()) state.SkipWithError("build failed");
    benchmark::DoNotOptimize(der);
  }
}
BENCHMARK(BM_Crl_Kyso)->Arg(60000)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace kyso::bench

BENCHMARK_MAIN();
