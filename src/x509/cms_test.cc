#include "x509/cms.h"

#include <gtest/gtest.h>
#include <openssl/cms.h>
#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <memory>

#include "crypto/digest.h"
#include "crypto/key.h"
#include "crypto/signer.h"
#include "testlib/shell.h"
#include "testlib/temp_dir.h"
#include "x509/openssl_util.h"
#include "x509/timestamp.h"

// Signatures are judged by the real `openssl cms -verify` and printed by `openssl cms -cmsout
// -print`; time-stamp requests are made by `openssl ts -query` and tokens checked by
// `openssl ts -verify`, so a misreading of RFC 5652 in cms.cc is not repeated in its test.

namespace kyso::x509 {
namespace {

constexpr UnixSeconds kSigningTime = 1767225600;  // 2026-01-01T00:00:00Z
constexpr std::string_view kSigningTimeOid = "1.2.840.113549.1.9.5";
constexpr std::string_view kSigningCertV2Oid = "1.2.840.113549.1.9.16.2.47";
constexpr std::string_view kTimeStampTokenOid = "1.2.840.113549.1.9.16.2.14";
constexpr std::string_view kCommitmentTypeOid = "1.2.840.113549.1.9.16.2.16";

using testlib::Shell;

void Write(const std::string& path, ByteSpan data) {
  testlib::WriteBytes(path, data);
}
void Write(const std::string& path, std::string_view text) {
  Write(path, AsBytes(text));
}
Bytes Read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

// --- a small PKI: root (P-256) -> intermediate CA -> signer; root -> TSA ---

struct Issued {
  std::shared_ptr<crypto::SoftwareSigner> signer;
  Certificate cert;
};

Issued Issue(const std::string& key_spec, const std::string& subject, const Issued* issuer,
             Extensions extensions, uint8_t serial) {
  UnixSeconds now = SystemClock().Now();
  auto key = crypto::PrivateKey::Generate(*crypto::KeySpec::Parse(key_spec)).value();
  auto signer = std::make_shared<crypto::SoftwareSigner>(key, "mem:" + subject);
  CertificateTemplate tmpl{{0x10, serial},   *Name::ParseSlashed("/C=VN/O=kyso test/CN=" + subject),
                           key.public_key(), now - 3600,
                           now + 86400 * 30, std::move(extensions)};
  const crypto::Signer& by = issuer ? *issuer->signer : *signer;
  auto scheme = crypto::SignatureScheme::DefaultFor(by.key_spec());
  auto cert = BuildCertificate(tmpl, issuer ? &issuer->cert : nullptr, by, scheme).value();
  // Re-read from DER, as a relying party would.
  return {signer, Certificate::FromDer(cert.der()).value()};
}

Extensions CaExtensions() {
  Extensions e;
  e.is_ca = true;
  e.key_usage = {"keyCertSign", "cRLSign"};
  return e;
}

Extensions SignerExtensions() {
  Extensions e;
  e.key_usage = {"digitalSignature", "nonRepudiation"};
  return e;
}

struct Pki {
  Issued root;
  Issued intermediate;
  Issued tsa;
};

const Pki& TestPki() {
  static const Pki pki = [] {
    Issued root = Issue("ec:P-256", "Root", nullptr, CaExtensions(), 1);
    Issued intermediate = Issue("ec:P-256", "Issuing CA", &root, CaExtensions(), 2);
    Extensions tsa;
    tsa.key_usage = {"digitalSignature"};
    tsa.extended_key_usage = {"timeStamping"};
    tsa.extended_key_usage_critical = true;
    Issued tsa_issued = Issue("ec:P-256", "TSA", &root, tsa, 3);
    return Pki{root, intermediate, tsa_issued};
  }();
  return pki;
}

// One end-entity per key type, issued by the intermediate; generated once.
const Issued& SignerFor(const std::string& key_spec) {
  static std::map<std::string, Issued> cache;
  auto it = cache.find(key_spec);
  if (it == cache.end()) {
    uint8_t serial = static_cast<uint8_t>(0x40 + cache.size());
    it = cache
             .emplace(key_spec, Issue(key_spec, "Nguyễn Văn A " + key_spec, &TestPki().intermediate,
                                      SignerExtensions(), serial))
             .first;
  }
  return it->second;
}

struct Case {
  std::string name;
  std::string key_spec;
  crypto::RsaPadding padding;
  crypto::DigestAlgorithm digest;
};

std::ostream& operator<<(std::ostream& os, const Case& c) {
  return os << c.name;
}

class CmsSignTest : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override {
    Write(dir_.File("root.pem"), TestPki().root.cert.ToPem());
    Write(dir_.File("data.bin"), content_);
  }

  CmsSignRequest Request(bool pades) const {
    const Case& c = GetParam();
    const Issued& signer = SignerFor(c.key_spec);
    return CmsSignRequest{.content_digest = crypto::Digest(c.digest, AsBytes(content_)),
                          .digest_algorithm = c.digest,
                          .signer_certificate = signer.cert,
                          .extra_certificates = {TestPki().intermediate.cert},
                          .signer = *signer.signer,
                          .scheme = {.digest = c.digest, .padding = c.padding},
                          .options = {.pades = pades, .signing_time = kSigningTime}};
  }

  // `openssl cms -verify` of `cms` over `content_file`; its exit status.
  int Verify(ByteSpan cms, const std::string& content_file, std::string* output) const {
    Write(dir_.File("sig.der"), cms);
    return Shell("openssl cms -verify -binary -inform DER -in " + dir_.File("sig.der") +
                     " -content " + content_file + " -CAfile " + dir_.File("root.pem") +
                     " -purpose any -out /dev/null",
                 output);
  }

  std::string Print(ByteSpan cms) const {
    Write(dir_.File("print.der"), cms);
    std::string out;
    EXPECT_EQ(Shell("openssl cms -cmsout -print -inform DER -in " + dir_.File("print.der"), &out),
              0)
        << out;
    return out;
  }

  testlib::TempDir dir_;
  std::string content_ = "%PDF-1.7 ... the ByteRange of a document, Tiếng Việt\n";
};

TEST_P(CmsSignTest, PadesVerifiesWithOpenSslAndHasNoSigningTime) {
  auto cms = SignDetachedCms(Request(/*pades=*/true));
  ASSERT_TRUE(cms.ok()) << cms.status().ToString();
  std::string out;
  EXPECT_EQ(Verify(*cms, dir_.File("data.bin"), &out), 0) << out;
  std::string printed = Print(*cms);
  EXPECT_EQ(printed.find(kSigningTimeOid), std::string::npos) << printed;
  EXPECT_NE(printed.find(kSigningCertV2Oid), std::string::npos) << printed;
  EXPECT_EQ(printed.find(kCommitmentTypeOid), std::string::npos) << printed;
  // Detached: no eContent.
  EXPECT_NE(printed.find("eContent: <ABSENT>"), std::string::npos) << printed;
}

TEST_P(CmsSignTest, CadesVerifiesWithOpenSslAndHasSigningTime) {
  CmsSignRequest request = Request(/*pades=*/false);
  request.options.commitment_type = std::string(kCommitmentProofOfOrigin);
  auto cms = SignDetachedCms(request);
  ASSERT_TRUE(cms.ok()) << cms.status().ToString();
  std::string out;
  EXPECT_EQ(Verify(*cms, dir_.File("data.bin"), &out), 0) << out;
  std::string printed = Print(*cms);
  EXPECT_NE(printed.find(kSigningTimeOid), std::string::npos) << printed;
  EXPECT_NE(printed.find("Jan  1 00:00:00 2026 GMT"), std::string::npos) << printed;
  EXPECT_NE(printed.find(kSigningCertV2Oid), std::string::npos) << printed;
  EXPECT_NE(printed.find(kCommitmentTypeOid), std::string::npos) << printed;
}

TEST_P(CmsSignTest, TamperedContentFailsVerification) {
  auto cms = SignDetachedCms(Request(/*pades=*/true));
  ASSERT_TRUE(cms.ok()) << cms.status().ToString();
  std::string tampered = content_;
  tampered[0] = '#';
  Write(dir_.File("tampered.bin"), tampered);
  std::string out;
  EXPECT_NE(Verify(*cms, dir_.File("tampered.bin"), &out), 0) << out;
}

TEST_P(CmsSignTest, SignatureValueIsWhatOpenSslReads) {
  auto cms = SignDetachedCms(Request(/*pades=*/true));
  ASSERT_TRUE(cms.ok()) << cms.status().ToString();
  auto value = SignatureValueOf(*cms);
  ASSERT_TRUE(value.ok()) << value.status().ToString();

  const unsigned char* p = cms->data();
  std::unique_ptr<CMS_ContentInfo, internal::Deleter<CMS_ContentInfo, CMS_ContentInfo_free>> ci(
      d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(cms->size())));
  ASSERT_NE(ci, nullptr);
  STACK_OF(CMS_SignerInfo)* infos = CMS_get0_SignerInfos(ci.get());
  ASSERT_EQ(sk_CMS_SignerInfo_num(infos), 1);
  ASN1_OCTET_STRING* sig = CMS_SignerInfo_get0_signature(sk_CMS_SignerInfo_value(infos, 0));
  EXPECT_EQ(*value, Bytes(ASN1_STRING_get0_data(sig),
                          ASN1_STRING_get0_data(sig) + ASN1_STRING_length(sig)));
}

TEST_P(CmsSignTest, SignatureTimeStampKeepsVerifying) {
  auto cms = SignDetachedCms(Request(/*pades=*/true));
  ASSERT_TRUE(cms.ok()) << cms.status().ToString();
  auto value = SignatureValueOf(*cms);
  ASSERT_TRUE(value.ok()) << value.status().ToString();

  // A real RFC 3161 token over the signature value: request by `openssl ts -query`, granted
  // by kyso's TimeStampSigner.
  std::string imprint = HexEncode(crypto::Sha256(*value));
  std::string out;
  ASSERT_EQ(
      Shell("openssl ts -query -sha256 -digest " + imprint + " -cert -out " + dir_.File("req.tsq"),
            &out),
      0)
      << out;
  auto request = ParseTimeStampRequest(Read(dir_.File("req.tsq")));
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  auto tsa = TimeStampSigner::Create(TestPki().tsa.cert, TestPki().tsa.signer,
                                     {.policy_oid = "2.16.704.1.99.2.1"});
  ASSERT_TRUE(tsa.ok()) << tsa.status().ToString();
  auto response = tsa->Grant(*request, 42, SystemClock().Now());
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  // The TimeStampToken out of the TimeStampResp, cut by OpenSSL.
  Write(dir_.File("resp.tsr"), *response);
  ASSERT_EQ(Shell("openssl ts -reply -in " + dir_.File("resp.tsr") + " -token_out -out " +
                      dir_.File("token.der"),
                  &out),
            0)
      << out;
  Bytes token = Read(dir_.File("token.der"));
  ASSERT_FALSE(token.empty());

  auto stamped = AddUnsignedSignatureTimeStamp(*cms, token);
  ASSERT_TRUE(stamped.ok()) << stamped.status().ToString();
  EXPECT_EQ(Verify(*stamped, dir_.File("data.bin"), &out), 0) << out;
  std::string printed = Print(*stamped);
  EXPECT_NE(printed.find(kTimeStampTokenOid), std::string::npos) << printed;
  auto after = SignatureValueOf(*stamped);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(*after, *value);

  // The token is over the signature value.
  Write(dir_.File("token.der"), token);
  EXPECT_EQ(Shell("openssl ts -verify -digest " + imprint + " -token_in -in " +
                      dir_.File("token.der") + " -CAfile " + dir_.File("root.pem"),
                  &out),
            0)
      << out;

  // A second token is added beside the first, and the signature still verifies.
  auto twice = AddUnsignedSignatureTimeStamp(*stamped, token);
  ASSERT_TRUE(twice.ok()) << twice.status().ToString();
  EXPECT_EQ(Verify(*twice, dir_.File("data.bin"), &out), 0) << out;
  std::string printed_twice = Print(*twice);
  size_t first = printed_twice.find(kTimeStampTokenOid);
  ASSERT_NE(first, std::string::npos);
  EXPECT_NE(printed_twice.find(kTimeStampTokenOid, first + 1), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(
    Keys, CmsSignTest,
    ::testing::Values(
        Case{"Rsa2048Pkcs1", "rsa:2048", crypto::RsaPadding::kPkcs1v15,
             crypto::DigestAlgorithm::kSha256},
        Case{"Rsa2048Pss", "rsa:2048", crypto::RsaPadding::kPss, crypto::DigestAlgorithm::kSha256},
        Case{"Rsa2048PssSha512", "rsa:2048", crypto::RsaPadding::kPss,
             crypto::DigestAlgorithm::kSha512},
        Case{"P256", "ec:P-256", crypto::RsaPadding::kPkcs1v15, crypto::DigestAlgorithm::kSha256},
        Case{"P384", "ec:P-384", crypto::RsaPadding::kPkcs1v15, crypto::DigestAlgorithm::kSha384}),
    [](const ::testing::TestParamInfo<Case>& info) { return info.param.name; });

// --- refusals ---

CmsSignRequest P256Request() {
  const Issued& signer = SignerFor("ec:P-256");
  return CmsSignRequest{.content_digest = crypto::Sha256(AsBytes("content")),
                        .signer_certificate = signer.cert,
                        .signer = *signer.signer};
}

TEST(CmsSignErrors, DigestLengthMustMatchTheAlgorithm) {
  CmsSignRequest request = P256Request();
  request.digest_algorithm = crypto::DigestAlgorithm::kSha384;
  request.scheme.digest = crypto::DigestAlgorithm::kSha384;
  auto cms = SignDetachedCms(request);
  ASSERT_FALSE(cms.ok());
  EXPECT_EQ(cms.status().id(), "cms.digest_length");

  CmsSignRequest short_digest = P256Request();
  short_digest.content_digest.pop_back();
  EXPECT_EQ(SignDetachedCms(short_digest).status().id(), "cms.digest_length");
}

TEST(CmsSignErrors, SchemeDigestMustMatchTheDigestAlgorithm) {
  CmsSignRequest request = P256Request();
  request.scheme.digest = crypto::DigestAlgorithm::kSha384;
  EXPECT_EQ(SignDetachedCms(request).status().id(), "cms.digest_mismatch");
}

TEST(CmsSignErrors, KeyMustMatchTheCertificate) {
  const Issued& other = SignerFor("ec:P-384");
  CmsSignRequest request{.content_digest = crypto::Sha256(AsBytes("content")),
                         .signer_certificate = SignerFor("ec:P-256").cert,
                         .signer = *other.signer};
  auto cms = SignDetachedCms(request);
  ASSERT_FALSE(cms.ok());
  EXPECT_EQ(cms.status().id(), "cms.key_mismatch");
  EXPECT_EQ(cms.status().code(), StatusCode::kFailedPrecondition);
}

TEST(CmsSignErrors, Ed25519IsRefused) {
  const Issued& ed = SignerFor("ed25519");
  CmsSignRequest request{.content_digest = crypto::Sha256(AsBytes("content")),
                         .signer_certificate = ed.cert,
                         .signer = *ed.signer};
  EXPECT_EQ(SignDetachedCms(request).status().id(), "cms.unsupported_key");
}

TEST(CmsSignErrors, CommitmentTypeMustBeAnOid) {
  CmsSignRequest request = P256Request();
  request.options.commitment_type = "proof of origin";
  EXPECT_EQ(SignDetachedCms(request).status().id(), "cms.invalid_options");
}

TEST(CmsParseErrors, MalformedInputsAreRefused) {
  EXPECT_EQ(SignatureValueOf(AsBytes("hello")).status().id(), "cms.malformed");
  EXPECT_EQ(SignatureValueOf({}).status().id(), "cms.malformed");
  auto cms = SignDetachedCms(P256Request());
  ASSERT_TRUE(cms.ok()) << cms.status().ToString();
  Bytes truncated(cms->begin(), cms->end() - 1);
  EXPECT_EQ(SignatureValueOf(truncated).status().id(), "cms.malformed");
  Bytes trailing = *cms;
  trailing.push_back(0);
  EXPECT_EQ(SignatureValueOf(trailing).status().id(), "cms.malformed");
  EXPECT_EQ(AddUnsignedSignatureTimeStamp(truncated, *cms).status().id(), "cms.malformed");
  EXPECT_EQ(AddUnsignedSignatureTimeStamp(*cms, AsBytes("token")).status().id(),
            "cms.malformed_timestamp");
}

}  // namespace
}  // namespace kyso::x509
