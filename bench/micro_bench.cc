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

#include <benchmark/benchmark.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <string>

#include "bench_support.h"
#include "crypto/digest.h"
#include "crypto/signer.h"
#include "policy/profile.h"
#include "subscriber_csrs.h"
#include "x509/certificate.h"
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
  const x509::Csr& csr = ParsedCsr();
  policy::RequestFacts f;
  f.subject = csr.subject();
  f.key = csr.key_spec();
  f.email_sans = csr.email_sans();
  f.dns_sans = csr.dns_sans();
  f.ip_sans = csr.ip_sans();
  f.requests_ca = csr.requests_ca();
  f.unsupported_critical_extensions = csr.unsupported_critical_extensions();
  return f;
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
  policy::IssuancePlan plan = Take(
      policy::Evaluate(Individual(), Facts(), policy::IssuanceKind::kNew, std::nullopt, kNow,
                       kNow + 3650 * kSecondsPerDay),
      "evaluate");
  x509::CertificateTemplate t{Bytes(20, 0x22), plan.subject, ParsedCsr().public_key(),
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

}  // namespace
}  // namespace kyso::bench

BENCHMARK_MAIN();
