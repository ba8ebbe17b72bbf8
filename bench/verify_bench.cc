// PDF verification benchmark (issue: verification engine): `kyso verify` and the verify library
// beside poppler's `pdfsig`, measured in the same run on documents made here:
//   cong-van.pdf signed 3 times (B-LT: certificates and CRLs embedded, so offline verification
//   has everything) and 10 times; full coverage and modification analysis on.
//
//   kyso_bench_verify --kyso build/release/kyso [--testdata DIR] [--runs N] [--batch N]
//                     [--threads N] [--quick]
#include <sys/stat.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "base/files.h"
#include "base/parallel.h"
#include "bench_support.h"
#include "pades/signer.h"
#include "pdf/document.h"
#include "verify/engine.h"
#include "x509/crl.h"
#include "x509/timestamp.h"

using namespace kyso;
using bench::Die;
using bench::Take;

namespace {

struct Party {
  std::shared_ptr<crypto::SoftwareSigner> signer;
  x509::Certificate certificate;
};

Party MakeParty(const std::string& subject, const Party* issuer, x509::Extensions ext,
                uint8_t serial, UnixSeconds now) {
  auto key = Take(crypto::PrivateKey::Generate(*crypto::KeySpec::Parse("ec:P-256")), "key");
  auto signer = std::make_shared<crypto::SoftwareSigner>(std::move(key), subject);
  x509::CertificateTemplate t{{serial},
                              *x509::Name::ParseSlashed(subject),
                              signer->public_key(),
                              now - 86400,
                              now + 86400 * 365,
                              std::move(ext)};
  auto cert = Take(x509::BuildCertificate(t, issuer ? &issuer->certificate : nullptr,
                                          issuer ? *issuer->signer : *signer, {}),
                   "certificate");
  return Party{signer, Take(x509::Certificate::FromDer(cert.der()), "parse")};
}

// The TSA answers in-process; revocation comes from the root's (empty) CRL.
class Services : public pades::ValidationServices {
 public:
  Services(const Party& tsa, Bytes crl, UnixSeconds now)
      : tsa_(Take(x509::TimeStampSigner::Create(tsa.certificate, tsa.signer,
                                                {.policy_oid = "2.16.704.1.99.2.1"}),
                  "tsa")),
        crl_(std::move(crl)),
        now_(now) {}
  Result<Bytes> TimeStamp(ByteSpan request) override {
    KYSO_ASSIGN_OR_RETURN(auto parsed, x509::ParseTimeStampRequest(request));
    return tsa_.Grant(parsed, serial_++, now_);
  }
  Result<Bytes> Ocsp(const std::string&, ByteSpan) override {
    return Unavailable("bench.no_ocsp", "CRLs only in this benchmark");
  }
  Result<Bytes> Crl(const std::string&) override { return crl_; }

 private:
  x509::TimeStampSigner tsa_;
  Bytes crl_;
  UnixSeconds now_;
  std::atomic<uint64_t> serial_{1};
};

double MedianMs(const std::function<void()>& f, int runs) {
  std::vector<double> t;
  for (int i = 0; i < runs; ++i) {
    bench::Stopwatch w;
    f();
    t.push_back(w.Seconds() * 1e3);
  }
  return bench::Median(t);
}

}  // namespace

int main(int argc, char** argv) {
  std::string kyso_bin = "build/release/kyso", testdata;
  int runs = 30, batch = 4000;
  unsigned threads = std::max(2u, std::thread::hardware_concurrency());
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) Die(a, "needs a value");
      return argv[++i];
    };
    if (a == "--kyso")
      kyso_bin = next();
    else if (a == "--testdata")
      testdata = next();
    else if (a == "--runs")
      runs = std::atoi(next().c_str());
    else if (a == "--batch")
      batch = std::atoi(next().c_str());
    else if (a == "--threads")
      threads = static_cast<unsigned>(std::max(1, std::atoi(next().c_str())));
    else if (a == "--quick") {
      runs = 5;
      batch = 200;
    } else
      Die(a, "unknown option");
  }
  if (testdata.empty()) testdata = "../shared/testdata";
  const std::string small_pdf = testdata + "/pdf/cong-van.pdf";
  if (!FileExists(small_pdf)) Die(small_pdf, "test document not found");
  bench::ScratchDir scratch("");
  const UnixSeconds now = SystemClock().Now();

  x509::Extensions ca;
  ca.is_ca = true;
  ca.key_usage = {"keyCertSign", "cRLSign"};
  Party root = MakeParty("/C=VN/O=Ban Cơ yếu Chính phủ/CN=Bench root", nullptr, ca, 1, now);
  x509::Extensions leaf;
  leaf.key_usage = {"digitalSignature", "nonRepudiation"};
  leaf.extended_key_usage = {"documentSigning"};
  leaf.crl_urls = {"http://bench.invalid/root.crl"};
  x509::Extensions tsa_ext;
  tsa_ext.key_usage = {"digitalSignature"};
  tsa_ext.extended_key_usage = {"timeStamping"};
  tsa_ext.extended_key_usage_critical = true;
  tsa_ext.crl_urls = leaf.crl_urls;
  Party tsa = MakeParty("/C=VN/O=Ban Cơ yếu Chính phủ/CN=Bench TSA", &root, tsa_ext, 2, now);
  x509::CrlTemplate crl_template;
  crl_template.number = 1;
  crl_template.this_update = now - 60;
  crl_template.next_update = now + 86400;
  Bytes crl = Take(x509::BuildCrl(crl_template, root.certificate, *root.signer, {}), "crl");
  Services services(tsa, crl, now);
  std::vector<Party> signers;
  for (int i = 0; i < 10; ++i) {
    signers.push_back(MakeParty("/C=VN/O=Sở Khoa học và Công nghệ/CN=Người ký " + std::to_string(i),
                                &root, leaf, static_cast<uint8_t>(10 + i), now));
  }
  // Documents with 1, 3 and 10 B-LT signatures.
  std::vector<std::string> docs;
  std::string current = small_pdf;
  for (int i = 0; i < 10; ++i) {
    auto doc = Take(pdf::Document::Open(current), "open");
    pades::SignOptions o;
    o.level = pades::Level::kBLT;
    o.signing_time = now;
    o.durable = false;
    o.services = &services;
    std::string out = scratch.File("signed-" + std::to_string(i + 1) + ".pdf");
    Take(pades::SignPdf(doc, {signers[i].signer, signers[i].certificate, {root.certificate}}, o,
                        out),
         "sign");
    current = out;
  }
  const std::string one = scratch.File("signed-1.pdf"), three = scratch.File("signed-3.pdf"),
                    ten = scratch.File("signed-10.pdf");
  bench::WriteFile(scratch.File("root.pem"), root.certificate.ToPem());

  verify::VerifyOptions options;
  options.trust_anchors = {root.certificate};
  options.offline = true;
  options.now = now + 60;
  auto verify_file = [&](const std::string& path) {
    auto doc = Take(pdf::Document::Open(path), "open");
    auto report = Take(verify::VerifyPdf(doc.bytes(), &doc, path, options), "verify");
    if (report.indication != verify::Indication::kPassed) {
      Die(path, "not VALID:\n" + verify::RenderText(report, verify::Language::kEnglish));
    }
  };
  double in3 = MedianMs([&] { verify_file(three); }, runs);
  double in10 = MedianMs([&] { verify_file(ten); }, runs);

  // pdfsig trusts our root through an NSS database.
  std::string nss = scratch.Subdir("nss");
  const std::string log = scratch.File("tools.log");
  bench::RunProcess({"certutil", "-N", "-d", "sql:" + nss, "--empty-password"}, log);
  bench::RunProcess({"certutil", "-A", "-d", "sql:" + nss, "-n", "root", "-t", "CT,C,C", "-i",
                     scratch.File("root.pem")},
                    log);
  auto process_ms = [&](const std::vector<std::string>& argv) {
    bench::RunProcess(argv, log);
    std::vector<double> t;
    for (int i = 0; i < runs; ++i) t.push_back(bench::RunProcess(argv, log) * 1e3);
    return bench::Median(t);
  };
  auto kyso_verify = [&](const std::string& path) {
    return std::vector<std::string>{kyso_bin,    "--data",  scratch.File("none"),     "verify",
                                    "--offline", "--trust", scratch.File("root.pem"), "--format",
                                    "json",      path};
  };
  // kyso exits 0 only for VALID: RunProcess dies otherwise, which doubles as a check.
  double kyso3 = process_ms(kyso_verify(three));
  double kyso10 = process_ms(kyso_verify(ten));
  double pdfsig3 = process_ms({"pdfsig", "-nssdir", "sql:" + nss, three});
  double pdfsig10 = process_ms({"pdfsig", "-nssdir", "sql:" + nss, ten});
  double kyso1 = process_ms(kyso_verify(one));
  double pdfsig1 = process_ms({"pdfsig", "-nssdir", "sql:" + nss, one});

  bench::Stopwatch w;
  ParallelFor(
      static_cast<size_t>(batch), threads, [&](size_t) { verify_file(one); }, 1);
  double rate = batch / w.Seconds();

  std::printf(
      "kyso PDF verification benchmark (%u cores; offline, embedded CRLs, full "
      "modification analysis)\n\n",
      threads);
  std::printf("%-52s %9s %9s %8s\n", "", "kyso", "pdfsig", "ratio");
  auto row = [](const char* what, double ours, double peer) {
    std::printf("%-52s %7.2f ms %7.2f ms %7.2fx\n", what, ours, peer, peer / ours);
  };
  row("1 signature, one process", kyso1, pdfsig1);
  row("3 signatures (cong-van.pdf), one process", kyso3, pdfsig3);
  row("10 signatures, one process", kyso10, pdfsig10);
  std::printf("%-52s %7.2f ms   (target <= pdfsig's %.2f ms)\n", "3 signatures, in-process", in3,
              pdfsig3);
  std::printf("%-52s %7.2f ms   (target <= 100 ms)\n", "10 signatures, in-process", in10);
  std::printf("%-52s %7.0f /s   (target >= 2000/s; pdfsig x cores %.0f /s)\n",
              "batch, 1-signature documents, in-process", rate, threads * 1e3 / pdfsig1);
  return 0;
}
