// `kyso verify cert` in-process (issue 18): verify::VerifyCertificate on one certificate with
// its CRLs (policy processing, extended CRL support and delta CRLs on, as `kyso verify cert`
// runs it) beside OpenSSL's own X509_verify_cert with the same inputs and flags, measured in
// the same run. The process-level figure (`kyso verify cert` against `openssl verify`) comes
// from hyperfine; see docs/performance.md.
//
//   kyso_bench_verify_cert LEAF --trust FILE [--untrusted FILE]... [--crl FILE]... [--runs N]
//
// Files are PEM or DER. Prints one line per side: microseconds per certificate and the verdict.
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "base/files.h"
#include "bench_support.h"
#include "verify/engine.h"
#include "x509/pem.h"

using namespace kyso;
using bench::Die;
using bench::Take;

namespace {

std::vector<Bytes> Ders(const std::string& file, x509::DerKind kind) {
  return Take(x509::DerObjectsOf(Take(ReadFile(file, 64 << 20), file), kind), file);
}

std::vector<x509::Certificate> Certificates(const std::vector<std::string>& files) {
  std::vector<x509::Certificate> out;
  for (const auto& f : files) {
    for (const Bytes& der : Ders(f, x509::DerKind::kCertificate)) {
      out.push_back(Take(x509::Certificate::FromDer(der), f));
    }
  }
  return out;
}

double Seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

// OpenSSL alone: the flags x509::VerifyPath sets with check_revocation, the CRLs on the
// context; one store for all runs, a context per run.
bool OpensslVerify(X509_STORE* store, X509* leaf, STACK_OF(X509) * untrusted,
                   STACK_OF(X509_CRL) * crls) {
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  X509_STORE_CTX_init(ctx, store, leaf, untrusted);
  X509_STORE_CTX_set0_crls(ctx, crls);
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx);
  X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_X509_STRICT | X509_V_FLAG_CRL_CHECK |
                                         X509_V_FLAG_CRL_CHECK_ALL | X509_V_FLAG_USE_DELTAS |
                                         X509_V_FLAG_EXTENDED_CRL_SUPPORT |
                                         X509_V_FLAG_POLICY_CHECK);
  X509_VERIFY_PARAM_add0_policy(param, OBJ_txt2obj("2.5.29.32.0", 1));
  const bool ok = X509_verify_cert(ctx) == 1;
  X509_STORE_CTX_free(ctx);
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  std::string leaf_file;
  std::vector<std::string> trust, untrusted_files, crl_files;
  int runs = 2000;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) Die(arg, "needs a value");
      return argv[++i];
    };
    if (arg == "--trust") {
      trust.push_back(value());
    } else if (arg == "--untrusted") {
      untrusted_files.push_back(value());
    } else if (arg == "--crl") {
      crl_files.push_back(value());
    } else if (arg == "--runs") {
      runs = std::atoi(value().c_str());
    } else {
      leaf_file = arg;
    }
  }
  if (leaf_file.empty() || trust.empty() || runs <= 0) {
    Die("usage", "kyso_bench_verify_cert LEAF --trust FILE [--untrusted FILE]... [--crl FILE]...");
  }
  const x509::Certificate leaf = Certificates({leaf_file}).front();

  verify::VerifyOptions options;
  options.trust_anchors = Certificates(trust);
  options.untrusted = Certificates(untrusted_files);
  for (const auto& f : crl_files) {
    for (Bytes& der : Ders(f, x509::DerKind::kCrl)) options.crls.push_back(std::move(der));
  }
  options.offline = true;
  options.now = static_cast<UnixSeconds>(std::time(nullptr));

  std::string verdict;
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < runs; ++i) {
    verdict = std::string(
        verify::IndicationName(verify::VerifyCertificate(leaf, leaf_file, options).indication));
  }
  const double kyso_us = Seconds(std::chrono::steady_clock::now() - start) / runs * 1e6;

  X509_STORE* store = X509_STORE_new();
  for (const auto& c : options.trust_anchors) X509_STORE_add_cert(store, c.openssl());
  STACK_OF(X509)* untrusted = sk_X509_new_null();
  for (const auto& c : options.untrusted) sk_X509_push(untrusted, c.openssl());
  STACK_OF(X509_CRL)* crls = sk_X509_CRL_new_null();
  for (const Bytes& der : options.crls) {
    const unsigned char* p = der.data();
    sk_X509_CRL_push(crls, d2i_X509_CRL(nullptr, &p, static_cast<long>(der.size())));
  }
  bool openssl_ok = false;
  start = std::chrono::steady_clock::now();
  for (int i = 0; i < runs; ++i) openssl_ok = OpensslVerify(store, leaf.openssl(), untrusted, crls);
  const double openssl_us = Seconds(std::chrono::steady_clock::now() - start) / runs * 1e6;
  sk_X509_CRL_pop_free(crls, X509_CRL_free);
  sk_X509_free(untrusted);
  X509_STORE_free(store);

  std::printf("%-44s %9.1f us/cert  %s\n", "kyso verify::VerifyCertificate (in-process)", kyso_us,
              verdict.c_str());
  std::printf("%-44s %9.1f us/cert  %s\n", "OpenSSL X509_verify_cert (in-process)", openssl_us,
              openssl_ok ? "OK" : "FAILED");
  return 0;
}
