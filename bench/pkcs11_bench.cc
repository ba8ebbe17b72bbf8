// Keys on a token (issue 13): signatures/s with a key in SoftHSM2 through kyso's PKCS#11 Signer
// beside the same key in memory (a file key, crypto::SoftwareSigner), measured in the same run,
// as a ratio. The key is made by OpenSSL and imported into a SoftHSM token in a temporary
// SOFTHSM2_CONF, so both sides sign with the very same private key.
//
//   kyso_bench_pkcs11 [--seconds S] [--threads N]
//
// Per key type (EC P-256, RSA-2048) and thread count (1 and N): signatures over SHA-256
// digests through Signer::SignDigest (what CMS, time-stamps and OCSP-with-nonce call), and
// certificates'-style signing through the OpenSSL bridge (EVP_DigestSign over openssl_key(),
// what X509_sign_ctx calls). Wall time; both sides run the same loop.
#include <openssl/evp.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "bench_support.h"
#include "crypto/digest.h"
#include "crypto/pkcs11.h"
#include "crypto/signer.h"
#include "testlib/shell.h"
#include "testlib/softhsm.h"

using namespace kyso;
using bench::Die;
using bench::Take;

namespace {

// Runs `sign` on `threads` threads for `seconds`; returns signatures per second.
double Rate(int threads, double seconds, const std::function<bool()>& sign) {
  std::atomic<bool> stop{false};
  std::atomic<long> done{0};
  std::atomic<bool> failed{false};
  bench::Stopwatch watch;
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      long n = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        if (!sign()) {
          failed = true;
          break;
        }
        ++n;
      }
      done += n;
    });
  }
  while (watch.Seconds() < seconds) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  stop = true;
  for (auto& th : pool) th.join();
  if (failed) Die("signing", "a signature failed");
  return static_cast<double>(done.load()) / watch.Seconds();
}

bool BridgeSign(const crypto::Signer& signer, const Bytes& message) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  size_t len = 0;
  bool ok = EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, signer.openssl_key()) > 0 &&
            EVP_DigestSign(ctx, nullptr, &len, message.data(), message.size()) > 0;
  Bytes sig(len);
  ok = ok && EVP_DigestSign(ctx, sig.data(), &len, message.data(), message.size()) > 0;
  EVP_MD_CTX_free(ctx);
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 2;
  int threads = static_cast<int>(std::thread::hardware_concurrency());
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--seconds") == 0) seconds = std::atof(argv[i + 1]);
    if (std::strcmp(argv[i], "--threads") == 0) threads = std::atoi(argv[i + 1]);
  }
  if (threads < 1) threads = 1;
  auto& hsm = testlib::SoftHsm::Instance();
  if (hsm.CreateToken("bench").empty()) Die("softhsm2-util", "cannot create a token");
  bench::ScratchDir dir("");
  crypto::Pkcs11Options options;
  options.pin.file = hsm.PinFile("1234");
  options.pin.allow_prompt = false;

  std::printf("%-10s %-7s %-14s %14s %14s %8s\n", "key", "threads", "path", "file key/s",
              "SoftHSM/s", "ratio");
  int n = 0;
  for (const char* spec_text : {"ec:P-256", "rsa:2048"}) {
    crypto::KeySpec spec = Take(crypto::KeySpec::Parse(spec_text), "key spec");
    crypto::PrivateKey key = Take(crypto::PrivateKey::Generate(spec), "key");
    std::string pem = Take(key.ToEncryptedPkcs8Pem("benchmark", 1000), "PKCS#8");
    ++n;
    std::string id = n == 1 ? "01" : "02";
    std::string file = dir.File(id + ".pem");
    if (testlib::Shell("printf '%s' " + testlib::ShellQuote(pem) +
                       " | openssl pkey -passin pass:benchmark -out " + file) != 0 ||
        !hsm.ImportKey("bench", file, spec_text, id)) {
      Die("softhsm2-util --import", spec_text);
    }
    crypto::SoftwareSigner in_file(key, "file");
    auto on_token = Take(
        crypto::OpenPkcs11Signer(
            "pkcs11:token=bench;id=%" + id + "?module-path=" + testlib::SoftHsm::kModule, options),
        "token key");
    if (!on_token->public_key().Equals(key.public_key())) Die("token key", "not the same key");
    Bytes digest = crypto::Sha256(AsBytes("kyso PKCS#11 benchmark"));
    crypto::SignatureScheme scheme;
    for (int t : {1, threads}) {
      double file_rate = Rate(t, seconds, [&] { return in_file.SignDigest(scheme, digest).ok(); });
      double token_rate =
          Rate(t, seconds, [&] { return on_token->SignDigest(scheme, digest).ok(); });
      std::printf("%-10s %-7d %-14s %14.0f %14.0f %8.2f\n", spec_text, t, "SignDigest", file_rate,
                  token_rate, token_rate / file_rate);
      file_rate = Rate(t, seconds, [&] { return BridgeSign(in_file, digest); });
      token_rate = Rate(t, seconds, [&] { return BridgeSign(*on_token, digest); });
      std::printf("%-10s %-7d %-14s %14.0f %14.0f %8.2f\n", spec_text, t, "EVP_DigestSign",
                  file_rate, token_rate, token_rate / file_rate);
      if (t == threads) break;
    }
  }
  return 0;
}
