// POST /api/v1/sign/pdf, POST /api/v1/sign/file and GET /api/v1/sign/keys against a fake
// SigningGate: the handlers ask who is calling before they read the upload, sign only with
// credentials the gate granted, report every outcome to the gate, and hand out no signed
// document whose signature was not recorded. The CAdES signatures are judged by x509's CMS
// verifier here and by openssl cms -verify in tests/integration/sign_file_test.sh.
#include "api/sign/sign_pdf.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "api/sign/sign_file.h"
#include "base/files.h"
#include "crypto/digest.h"
#include "http/router.h"
#include "testlib/temp_dir.h"
#include "testlib/test_party.h"
#include "testlib/testdata.h"
#include "x509/cms_verify.h"

namespace kyso::api {
namespace {

constexpr UnixSeconds kNow = 1763535802;  // 2025-11-19 14:03:22 +07:00

struct Pki {
  testlib::TestParty root = testlib::MakeTestParty("/C=VN/O=Ban Cơ yếu Chính phủ/CN=Root test",
                                                   nullptr, CaExtensions(), 1, kNow);
  testlib::TestParty seal = testlib::MakeTestParty(
      "/C=VN/L=Bắc Giang/O=UBND tỉnh Bắc Giang/CN=Sở Tài chính/UID=MST:2400123456", &root,
      LeafExtensions(), 2, kNow);

  static x509::Extensions CaExtensions() {
    x509::Extensions ca;
    ca.is_ca = true;
    ca.key_usage = {"keyCertSign", "cRLSign"};
    return ca;
  }
  static x509::Extensions LeafExtensions() {
    x509::Extensions leaf;
    leaf.key_usage = {"digitalSignature", "nonRepudiation"};
    return leaf;
  }
};

// Bearer "clerk" may use key "seal"; bearer "other" is authenticated but may use nothing; no
// header is 401.
class FakeGate final : public SigningGate {
 public:
  explicit FakeGate(const Pki& pki) : pki_(pki) {}

  Result<SigningCaller> Authenticate(const http::Request& request) override {
    ++authentications;
    std::string_view auth = request.Header("authorization");
    if (auth == "Bearer clerk") return SigningCaller{7, "vanthu.stc", "token"};
    if (auth == "Bearer other") return SigningCaller{9, "canbo.syt", "token"};
    if (auth.empty()) return Unauthenticated("auth.required", "log in");
    return Unauthenticated("auth.invalid_token", "unknown token");
  }
  Result<pades::Credentials> Authorize(const SigningCaller& caller,
                                       const std::string& key_id) override {
    if (key_id != "seal") return NotFound("signing_key.not_found", "no such key");
    if (caller.username != "vanthu.stc") {
      refused.push_back(caller.username + " " + key_id);
      return PermissionDenied("sign.key_not_authorized", "not this body's clerk");
    }
    return pades::Credentials{pki_.seal.signer, pki_.seal.certificate, {pki_.root.certificate}};
  }
  Status RecordSignature(const SigningCaller& caller, const std::string& key_id,
                         const SignatureMade& made) override {
    signed_by.push_back(caller.username + " " + key_id + " " + made.level);
    formats.push_back(made.format);
    document_bytes = made.document.size();
    return fail_audit ? Internal("audit.unavailable", "the store is down") : Status::Ok();
  }
  void RecordFailure(const SigningCaller& caller, const std::string& key_id,
                     const Status& error) override {
    failures.push_back(caller.username + " " + key_id + " " + error.id());
  }
  Result<std::vector<SigningKeySummary>> KeysFor(const SigningCaller& caller) override {
    if (caller.username != "vanthu.stc") return std::vector<SigningKeySummary>{};
    return std::vector<SigningKeySummary>{
        {"seal", pki_.seal.certificate.subject().ToRfc4514(), "02", kNow, 12, "Sở Tài chính"}};
  }

  int authentications = 0;
  bool fail_audit = false;
  size_t document_bytes = 0;
  std::vector<std::string> refused, signed_by, failures;
  std::vector<SignedFormat> formats;

 private:
  const Pki& pki_;
};

// A registration request's canonical document, as GET /api/v1/requests/{id}/document gives it.
const std::string kRequestDocument =
    R"({"form":{"full_name":"Trần Văn Bình","personal_id":"024090005678"},"kind":"new_individual"})";

std::string CongVan() {
  return std::string(AsString(*ReadFile(testlib::TestdataPath("pdf/cong-van.pdf"))));
}

// One signing route: its handler and the upload it signs.
struct SigningRoute {
  const char* name;
  const char* path;
  http::Response (*handler)(const SigningServices&, http::Request&);
  const char* filename;
  std::string (*content)();
  const char* content_type;
};
const SigningRoute kPdfRoute{"pdf",   "/api/v1/sign/pdf", SignPdf, "a.pdf",
                             CongVan, "application/pdf"};
const SigningRoute kFileRoute{"file",
                              "/api/v1/sign/file",
                              SignFile,
                              "yeu-cau-12.json",
                              [] { return kRequestDocument; },
                              "application/pkcs7-signature"};

void PrintTo(const SigningRoute& route, std::ostream* os) {
  *os << route.path;
}

class SigningTest : public ::testing::Test {
 protected:
  SigningTest() : gate_(pki_), clock_(kNow) {
    services_.gate = &gate_;
    services_.scratch_dir = dir_.path();
    services_.clock = &clock_;
  }

  struct Part {
    std::string name;
    std::optional<std::string> filename;
    std::string data;
  };
  // A multipart/form-data POST of `parts` to `path`, as `bearer` ("" : none).
  static http::Request Post(const std::string& path, const std::string& bearer,
                            const std::vector<Part>& parts) {
    const std::string b = "kysoBoundary";
    http::Request r;
    r.method = http::Method::kPost;
    r.path = r.target = path;
    r.remote = "127.0.0.1:40000";  // loopback: it must not matter
    r.headers.emplace_back("content-type", "multipart/form-data; boundary=" + b);
    if (!bearer.empty()) r.headers.emplace_back("authorization", "Bearer " + bearer);
    for (const Part& part : parts) {
      r.body += "--" + b + "\r\nContent-Disposition: form-data; name=\"" + part.name + "\"";
      if (part.filename) r.body += "; filename=\"" + *part.filename + "\"";
      r.body += "\r\n\r\n" + part.data + "\r\n";
    }
    r.body += "--" + b + "--\r\n";
    return r;
  }

  // `route`'s upload (or `content`) for key `key`, as `bearer` ("" : none).
  static http::Request Upload(const SigningRoute& route, const std::string& bearer,
                              const std::string& key,
                              std::optional<std::string> content = std::nullopt) {
    return Post(route.path, bearer,
                {{"file", route.filename, content.value_or(route.content())}, {"key", {}, key}});
  }

  static std::string ErrorId(const http::Response& r) {
    const size_t at = r.body.find("\"code\":\"");
    if (at == std::string::npos) return "";
    return r.body.substr(at + 8, r.body.find('"', at + 8) - at - 8);
  }
  static std::string HeaderOf(const http::Response& r, const std::string& name) {
    for (const auto& [n, value] : r.headers) {
      if (n == name) return value;
    }
    return "";
  }

  testlib::TempDir dir_;
  Pki pki_;
  FakeGate gate_;
  FixedClock clock_;
  SigningServices services_;
};

// --- what both routes do the same way ------------------------------------------------------

class SigningRouteTest : public SigningTest, public ::testing::WithParamInterface<SigningRoute> {
 protected:
  http::Response Call(http::Request& r) { return GetParam().handler(services_, r); }
  http::Response CallWith(const std::string& bearer, const std::string& key) {
    http::Request r = Upload(GetParam(), bearer, key);
    return Call(r);
  }
  // The answer is `status` with error `id`, and nothing signed was handed out.
  void ExpectRefused(const http::Response& r, int status, const std::string& id) {
    EXPECT_EQ(r.status, status);
    EXPECT_EQ(ErrorId(r), id);
    EXPECT_NE(r.content_type, GetParam().content_type);
    EXPECT_TRUE(gate_.signed_by.empty());
  }
};

TEST_P(SigningRouteTest, WithoutCredentialsIs401AndNothingIsSigned) {
  http::Response response = CallWith("", "seal");
  ExpectRefused(response, 401, "auth.required");
  EXPECT_EQ(HeaderOf(response, "WWW-Authenticate"), "Bearer realm=\"kyso\"");
  ExpectRefused(CallWith("kyso_khong-dung", "seal"), 401, "auth.invalid_token");
  EXPECT_TRUE(gate_.failures.empty());
}

TEST_P(SigningRouteTest, AnotherBodysOfficerIs403AndTheRefusalIsAudited) {
  ExpectRefused(CallWith("other", "seal"), 403, "sign.key_not_authorized");
  EXPECT_EQ(gate_.refused, std::vector<std::string>{"canbo.syt seal"});
}

TEST_P(SigningRouteTest, UnknownKeyIs404) {
  ExpectRefused(CallWith("clerk", "khong-co"), 404, "signing_key.not_found");
}

TEST_P(SigningRouteTest, MissingPartsAre400WithTheirIds) {
  http::Request no_file = Post(GetParam().path, "clerk", {{"key", {}, "seal"}});
  ExpectRefused(Call(no_file), 400, "sign.no_file");
  http::Request no_key = Upload(GetParam(), "clerk", "");
  ExpectRefused(Call(no_key), 400, "sign.no_key");
  http::Request not_multipart = Upload(GetParam(), "clerk", "seal");
  not_multipart.headers[0].second = "application/json";
  ExpectRefused(Call(not_multipart), 400, "multipart.not_multipart");
  EXPECT_TRUE(gate_.refused.empty()) << "the key is not looked at before the upload is whole";
}

TEST_P(SigningRouteTest, NoAuditEntryNoDocument) {
  gate_.fail_audit = true;
  http::Response response = CallWith("clerk", "seal");
  EXPECT_EQ(response.status, 500);
  EXPECT_EQ(ErrorId(response), "audit.unavailable");
  EXPECT_NE(response.content_type, GetParam().content_type);
}

TEST_P(SigningRouteTest, AnExpiredCertificateSignsNothingAndTheFailureIsRecorded) {
  FixedClock later(kNow + int64_t{86400} * 400);
  services_.clock = &later;
  ExpectRefused(CallWith("clerk", "seal"), 409, "pades.certificate_expired");
  EXPECT_EQ(gate_.failures, std::vector<std::string>{"vanthu.stc seal pades.certificate_expired"});
}

TEST_P(SigningRouteTest, WithoutAGateSigningIsUnavailable) {
  services_.gate = nullptr;
  ExpectRefused(CallWith("clerk", "seal"), 503, "sign.unavailable");
}

TEST_P(SigningRouteTest, TheRouteIsRegisteredWithTheSizeLimit) {
  // The server refuses a larger body with 413 http.body_too_large before reading it
  // (http/server.cc; over HTTP in tests/integration/sign_file_test.sh).
  http::Router router;
  AddSigningRoutes(router, &services_);
  const http::Router::Match match = router.Find(http::Method::kPost, GetParam().path, nullptr);
  ASSERT_NE(match.route, nullptr);
  EXPECT_TRUE(match.method_allowed);
  EXPECT_EQ(match.route->name, std::string("sign_") + GetParam().name);
  EXPECT_EQ(match.route->max_body_bytes, kSignPdfMaxBody);
}

INSTANTIATE_TEST_SUITE_P(Routes, SigningRouteTest, ::testing::Values(kPdfRoute, kFileRoute),
                         [](const auto& info) { return std::string(info.param.name); });

// --- POST /api/v1/sign/pdf ----------------------------------------------------------------------

TEST_F(SigningTest, TheAuthorizedClerkGetsASignedPdfAndTheUseIsRecorded) {
  http::Request r = Upload(kPdfRoute, "clerk", "seal");
  const size_t uploaded = CongVan().size();
  http::Response response = SignPdf(services_, r);
  ASSERT_EQ(response.status, 200) << response.body.substr(0, 300);
  EXPECT_EQ(response.content_type, "application/pdf");
  EXPECT_EQ(response.body.rfind("%PDF", 0), 0u);
  EXPECT_GT(response.body.size(), uploaded);
  EXPECT_EQ(gate_.signed_by, std::vector<std::string>{"vanthu.stc seal B-B"});
  EXPECT_EQ(gate_.formats, std::vector<SignedFormat>{SignedFormat::kPades});
  EXPECT_EQ(gate_.document_bytes, uploaded);
}

TEST_F(SigningTest, AFailedPdfSignatureIsReported) {
  http::Request r = Upload(kPdfRoute, "clerk", "seal", "not a pdf at all");
  http::Response response = SignPdf(services_, r);
  EXPECT_EQ(response.status, 400);
  ASSERT_EQ(gate_.failures.size(), 1u);
  EXPECT_EQ(gate_.failures[0], "vanthu.stc seal " + ErrorId(response));
  EXPECT_TRUE(gate_.signed_by.empty());
}

TEST_F(SigningTest, ListsOnlyTheCallersKeys) {
  http::Request r;
  r.method = http::Method::kGet;
  r.path = r.target = "/api/v1/sign/keys";
  EXPECT_EQ(ListSigningKeys(services_, r).status, 401);
  r.headers.emplace_back("authorization", "Bearer clerk");
  http::Response clerk = ListSigningKeys(services_, r);
  EXPECT_EQ(clerk.status, 200);
  EXPECT_NE(clerk.body.find("\"id\":\"seal\""), std::string::npos) << clerk.body;
  EXPECT_NE(clerk.body.find("Sở Tài chính"), std::string::npos) << clerk.body;
  r.headers.back().second = "Bearer other";
  EXPECT_EQ(ListSigningKeys(services_, r).body, R"({"items":[]})");
}

// --- POST /api/v1/sign/file ---------------------------------------------------------------------

TEST_F(SigningTest, TheAuthorizedClerkGetsADetachedCadesSignatureThatVerifies) {
  http::Request r = Upload(kFileRoute, "clerk", "seal");
  http::Response response = SignFile(services_, r);
  ASSERT_EQ(response.status, 200) << response.body.substr(0, 300);
  EXPECT_EQ(response.content_type, "application/pkcs7-signature");
  EXPECT_EQ(HeaderOf(response, "Content-Disposition"),
            "attachment; filename=\"yeu-cau-12.json.p7s\"");
  EXPECT_EQ(HeaderOf(response, "Cache-Control"), "no-store");

  auto cms = x509::SignedData::Parse(AsBytes(response.body));
  ASSERT_TRUE(cms.ok()) << cms.status().ToString();
  const x509::SignedDataInfo& info = cms->info();
  EXPECT_FALSE(info.has_content) << "detached: no eContent";
  EXPECT_EQ(info.signer.der(), pki_.seal.certificate.der());
  // ETSI EN 319 122-1 B-B: signing-time and signing-certificate-v2; the chain included.
  EXPECT_EQ(info.signing_time, std::optional<UnixSeconds>(kNow));
  EXPECT_TRUE(info.has_signing_certificate);
  EXPECT_EQ(info.certificates.size(), 2u);
  EXPECT_EQ(info.digest_algorithm, crypto::DigestAlgorithm::kSha256);
  const auto check = cms->Verify(crypto::Sha256(AsBytes(kRequestDocument)));
  EXPECT_TRUE(check.digest_matches && check.signature_valid && check.signing_certificate_matches)
      << check.error_id;
  // Over other bytes it does not verify.
  const std::string changed = kRequestDocument + " ";
  EXPECT_EQ(cms->Verify(crypto::Sha256(AsBytes(changed))).error_id, "cms.digest_mismatch");

  EXPECT_EQ(gate_.signed_by, std::vector<std::string>{"vanthu.stc seal B-B"});
  EXPECT_EQ(gate_.formats, std::vector<SignedFormat>{SignedFormat::kCades});
  EXPECT_EQ(gate_.document_bytes, kRequestDocument.size());
}

TEST(SignatureFileNameTest, TheLastPathComponentWithP7s) {
  EXPECT_EQ(SignatureFileName("yeu-cau-12.json"), "yeu-cau-12.json.p7s");
  EXPECT_EQ(SignatureFileName("C:\\fakepath\\to-khai.pdf"), "to-khai.pdf.p7s");
  EXPECT_EQ(SignatureFileName("../../etc/passwd"), "passwd.p7s");
  EXPECT_EQ(SignatureFileName(""), "document.p7s");
  EXPECT_EQ(SignatureFileName("a/.."), "document.p7s");
}

TEST(AttachmentDispositionTest, QuotesAreNeverPassedThroughAndUtf8GoesToFilenameStar) {
  EXPECT_EQ(AttachmentDisposition("a.json.p7s"), "attachment; filename=\"a.json.p7s\"");
  EXPECT_EQ(AttachmentDisposition("Tờ khai.p7s"),
            "attachment; filename=\"T___ khai.p7s\"; filename*=UTF-8''T%E1%BB%9D%20khai.p7s");
  EXPECT_EQ(AttachmentDisposition("x\";y=z.p7s"),
            "attachment; filename=\"x__y_z.p7s\"; filename*=UTF-8''x%22%3By%3Dz.p7s");
}

}  // namespace
}  // namespace kyso::api
