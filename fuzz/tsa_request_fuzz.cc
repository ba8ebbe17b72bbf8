// Fuzz target: RFC 3161 TimeStampReq parsing, the untrusted input of POST /tsa, and the answer
// built from it. Every input must produce a response that OpenSSL's TS_RESP decoder reads
// back: a granted token echoing the imprint and nonce, or a rejection with exactly the failure
// bit the parser named.
//
// Seed corpus (fuzz/corpus/tsa_request_fuzz), made with openssl 3.0:
//   openssl ts -query -data F -sha256 -cert            > sha256_cert.tsq
//   openssl ts -query -data F -sha256 -no_nonce        > sha256_no_nonce.tsq
//   openssl ts -query -data F -sha384 -cert            > sha384_cert.tsq
//   openssl ts -query -data F -sha512 -tspolicy 2.16.704.1.99.2.1 > sha512_policy.tsq
//   openssl ts -query -data F -sha3-256 -cert          > sha3_256_cert.tsq
//   openssl ts -query -data F -sha1 / -md5             > sha1.tsq, md5.tsq
//   openssl ts -query -data F -tspolicy 1.2.3.4        > other_policy.tsq
//   openssl asn1parse -genconf (critical extension; 20-byte SHA-256 imprint)
//                                                      > critical_extension.tsq, short_imprint.tsq
//   head -c 40 sha256_cert.tsq                         > truncated.tsq
//   printf hello                                       > garbage
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "crypto/key.h"
#include "crypto/signer.h"
#include "x509/certificate.h"
#include "x509/timestamp.h"

namespace {

using kyso::x509::TimeStampSigner;

void Check(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "tsa_request_fuzz: %s\n", what);
    std::abort();
  }
}

// A throwaway self-signed TSA certificate (critical timeStamping EKU) and its key.
const TimeStampSigner& Signer() {
  static const TimeStampSigner* signer = [] {
    using namespace kyso;
    auto key = crypto::PrivateKey::Generate(*crypto::KeySpec::Parse("ec:P-256")).value();
    auto software = std::make_shared<crypto::SoftwareSigner>(key, "mem:fuzz");
    x509::CertificateTemplate tmpl{
        {0x01},           *x509::Name::ParseSlashed("/C=VN/O=kyso fuzz/CN=TSA"),
        key.public_key(), 1700000000,
        1900000000,       {}};
    tmpl.extensions.key_usage = {"digitalSignature"};
    tmpl.extensions.extended_key_usage = {"timeStamping"};
    tmpl.extensions.extended_key_usage_critical = true;
    auto built = x509::BuildCertificate(tmpl, nullptr, *software,
                                        crypto::SignatureScheme::DefaultFor(key.spec()));
    auto cert = x509::Certificate::FromDer(built.value().der()).value();
    return new TimeStampSigner(
        TimeStampSigner::Create(cert, software, {.policy_oid = "2.16.704.1.99.2.1"}).value());
  }();
  return *signer;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kyso;
  auto request = x509::ParseTimeStampRequest(ByteSpan(data, size));
  if (!request.ok()) {
    x509::TspFailure failure = x509::TspFailureOf(request.status());
    Check(failure != x509::TspFailure::kSystemFailure, "parse error without a failure bit");
    Bytes der = x509::BuildTimeStampRejection(failure, request.status().message());
    auto info = x509::InspectTimeStampResponse(der);
    Check(info.ok() && info->status == 2 && info->failures.size() == 1 &&
              info->failures[0] == x509::TspFailureName(failure) && !info->has_token,
          "rejection does not decode as built");
    return 0;
  }
  Check(request->message_imprint_der.size() < size, "imprint larger than the request");
  auto response = Signer().Grant(*request, 0x8000000000000001ULL, 1795230245);
  Check(response.ok(), "Grant failed");
  auto info = x509::InspectTimeStampResponse(*response);
  Check(info.ok() && info->status == 0 && info->has_token, "token does not decode");
  Check(info->hashed_message == request->hashed_message, "imprint not echoed");
  Check(info->nonce == request->nonce, "nonce not echoed");
  Check(info->serial_hex == "8000000000000001", "serial");
  Check(info->gen_time == 1795230245, "genTime");
  Check(info->certificate_count == (request->cert_req ? 1u : 0u), "certReq not honoured");
  return 0;
}
