// XML signing and verification in-process (xades::SignXml, xades::InspectXml: XMLDSig core and
// XAdES properties, no path validation), beside `xmlsec1 --sign` / `--verify` run as processes
// on the same documents and the same RSA-2048 key in the same run. bench/xml_bench.sh measures
// `kyso sign xml` / `kyso verify` as whole processes.
// Usage: kyso_bench_xml [RUNS]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "base/files.h"
#include "crypto/signer.h"
#include "x509/certificate.h"
#include "xades/xades.h"

namespace {

using namespace kyso;
using Clock = std::chrono::steady_clock;

template <typename F>
double MedianMs(int runs, F&& f) {
  std::vector<double> ms;
  for (int i = 0; i < runs; ++i) {
    auto start = Clock::now();
    f();
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
  }
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

std::string Declaration(size_t bytes) {
  std::string out =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<HSoThueDTu><HSoKhaiThue "
      "id=\"body\"><PLuc>\n";
  for (int i = 0; out.size() < bytes; ++i) {
    out += "<HHDV stt=\"" + std::to_string(i) + "\"><ten>Hàng hóa dịch vụ số " + std::to_string(i) +
           "</ten><giaTri>" + std::to_string(i * 1000) + "</giaTri></HHDV>\n";
  }
  return out + "</PLuc></HSoKhaiThue><CKyDTu/></HSoThueDTu>\n";
}

std::string Template(std::string doc) {
  std::string signature =
      "<CKyDTu><Signature xmlns=\"http://www.w3.org/2000/09/xmldsig#\"><SignedInfo>"
      "<CanonicalizationMethod Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/>"
      "<SignatureMethod Algorithm=\"http://www.w3.org/2001/04/xmldsig-more#rsa-sha256\"/>"
      "<Reference URI=\"\"><Transforms><Transform "
      "Algorithm=\"http://www.w3.org/2000/09/xmldsig#enveloped-signature\"/><Transform "
      "Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/></Transforms><DigestMethod "
      "Algorithm=\"http://www.w3.org/2001/04/xmlenc#sha256\"/><DigestValue/></Reference>"
      "</SignedInfo><SignatureValue/><KeyInfo><X509Data/></KeyInfo></Signature></CKyDTu>";
  doc.replace(doc.find("<CKyDTu/>"), 9, signature);
  return doc;
}

}  // namespace

int main(int argc, char** argv) {
  int runs = argc > 1 ? std::atoi(argv[1]) : 9;
  auto key = crypto::PrivateKey::Generate(*crypto::KeySpec::Parse("rsa:2048"));
  std::string key_pem = *key->ToEncryptedPkcs8Pem("bench-passphrase", 2000);
  auto signer = std::make_shared<crypto::SoftwareSigner>(std::move(key).value(), "bench");
  x509::Extensions ext;
  ext.key_usage = {"digitalSignature", "nonRepudiation"};
  x509::CertificateTemplate t{.serial = {1},
                              .subject = *x509::Name::ParseSlashed("/CN=Bench signer"),
                              .subject_key = signer->public_key(),
                              .not_before = 0,
                              .not_after = 4102444800,
                              .extensions = ext};
  auto cert = x509::BuildCertificate(t, nullptr, *signer, {});
  xades::SignerCredentials creds{signer, *x509::Certificate::FromDer(cert->der()), {}};
  std::string dir = "/tmp/kyso-bench-xml";
  std::system(("mkdir -p " + dir).c_str());
  (void)WriteFileAtomic(dir + "/key.pem", AsBytes(key_pem), 0600);
  (void)WriteFileAtomic(dir + "/cert.pem", AsBytes(creds.certificate.ToPem()));
  std::printf("%-6s %-7s %12s %14s %8s\n", "size", "op", "kyso_in_ms", "xmlsec1_ms", "ratio");
  for (size_t size : {size_t{10} << 10, size_t{5} << 20}) {
    std::string doc = Declaration(size);
    (void)WriteFileAtomic(dir + "/tmpl.xml", AsBytes(Template(doc)));
    xades::SignOptions options;
    options.signing_time = 1796680800;
    Bytes signed_xml;
    double kyso_sign =
        MedianMs(runs, [&] { signed_xml = *xades::SignXml(AsBytes(doc), creds, options); });
    std::string sign_cmd = "xmlsec1 --sign --pwd bench-passphrase --privkey-pem " + dir +
                           "/key.pem," + dir + "/cert.pem --output " + dir + "/out.xml " + dir +
                           "/tmpl.xml";
    double xmlsec_sign = MedianMs(runs, [&] { (void)std::system(sign_cmd.c_str()); });
    double kyso_verify = MedianMs(runs, [&] {
      auto r = xades::InspectXml(signed_xml);
      if (r.signatures.empty() || !r.signatures[0].core_valid) std::abort();
    });
    std::string verify_cmd =
        "xmlsec1 --verify --trusted-pem " + dir + "/cert.pem " + dir + "/out.xml >/dev/null 2>&1";
    double xmlsec_verify = MedianMs(runs, [&] { (void)std::system(verify_cmd.c_str()); });
    const char* label = size < (1 << 20) ? "10 KB" : "5 MB";
    std::printf("%-6s %-7s %12.1f %14.1f %8.2f\n", label, "sign", kyso_sign, xmlsec_sign,
                kyso_sign / xmlsec_sign);
    std::printf("%-6s %-7s %12.1f %14.1f %8.2f\n", label, "verify", kyso_verify, xmlsec_verify,
                kyso_verify / xmlsec_verify);
  }
  std::system(("rm -rf " + dir).c_str());
  return 0;
}
