// POST /api/v1/sign/pdf and GET /api/v1/sign/keys against a fake SigningGate: the handler asks
// who is calling before it reads the upload, signs only with credentials the gate granted,
// reports every outcome to the gate, and hands out no PDF whose signature was not recorded.
#include "api/sign/sign_pdf.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "base/files.h"
#include "testlib/temp_dir.h"
#include "testlib/test_party.h"
#include "testlib/testdata.h"

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

 private:
  const Pki& pki_;
};

class SignPdfTest : public ::testing::Test {
 protected:
  SignPdfTest() : gate_(pki_), clock_(kNow) {
    services_.gate = &gate_;
    services_.scratch_dir = dir_.path();
    services_.clock = &clock_;
  }

  // A multipart upload of cong-van.pdf (or `pdf`) for key `key`, as `bearer` ("" : none).
  http::Request Upload(const std::string& bearer, const std::string& key,
                       std::optional<std::string> pdf = std::nullopt) {
    if (!pdf) pdf = std::string(AsString(*ReadFile(testlib::TestdataPath("pdf/cong-van.pdf"))));
    const std::string b = "kysoBoundary";
    http::Request r;
    r.method = http::Method::kPost;
    r.path = r.target = "/api/v1/sign/pdf";
    r.remote = "127.0.0.1:40000";  // loopback: it must not matter
    r.headers.emplace_back("content-type", "multipart/form-data; boundary=" + b);
    if (!bearer.empty()) r.headers.emplace_back("authorization", "Bearer " + bearer);
    r.body =
        "--" + b + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\n" +
        "Content-Type: application/pdf\r\n\r\n" + *pdf + "\r\n--" + b +
        "\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\n" + key + "\r\n--" + b + "--\r\n";
    return r;
  }

  static std::string ErrorId(const http::Response& r) {
    const size_t at = r.body.find("\"code\":\"");
    if (at == std::string::npos) return "";
    return r.body.substr(at + 8, r.body.find('"', at + 8) - at - 8);
  }

  testlib::TempDir dir_;
  Pki pki_;
  FakeGate gate_;
  FixedClock clock_;
  SigningServices services_;
};

TEST_F(SignPdfTest, WithoutCredentialsIs401AndNothingIsSigned) {
  http::Request r = Upload("", "seal");
  http::Response response = SignPdf(services_, r);
  EXPECT_EQ(response.status, 401);
  EXPECT_EQ(ErrorId(response), "auth.required");
  bool challenge = false;
  for (const auto& [name, value] : response.headers) {
    challenge = challenge || (name == "WWW-Authenticate" && value.find("Bearer") == 0);
  }
  EXPECT_TRUE(challenge);
  EXPECT_TRUE(gate_.signed_by.empty());
  EXPECT_TRUE(gate_.failures.empty());
}

TEST_F(SignPdfTest, AnotherBodysOfficerIs403WithTheStableId) {
  http::Request r = Upload("other", "seal");
  http::Response response = SignPdf(services_, r);
  EXPECT_EQ(response.status, 403);
  EXPECT_EQ(ErrorId(response), "sign.key_not_authorized");
  EXPECT_EQ(response.body.find("%PDF"), std::string::npos);
  EXPECT_EQ(gate_.refused, std::vector<std::string>{"canbo.syt seal"});
  EXPECT_TRUE(gate_.signed_by.empty());
}

TEST_F(SignPdfTest, TheAuthorizedClerkGetsASignedPdfAndTheUseIsRecorded) {
  http::Request r = Upload("clerk", "seal");
  const size_t uploaded = ReadFile(testlib::TestdataPath("pdf/cong-van.pdf"))->size();
  http::Response response = SignPdf(services_, r);
  ASSERT_EQ(response.status, 200) << response.body.substr(0, 300);
  EXPECT_EQ(response.content_type, "application/pdf");
  EXPECT_EQ(response.body.rfind("%PDF", 0), 0u);
  EXPECT_GT(response.body.size(), uploaded);
  EXPECT_EQ(gate_.signed_by, std::vector<std::string>{"vanthu.stc seal B-B"});
  EXPECT_EQ(gate_.document_bytes, uploaded);
}

TEST_F(SignPdfTest, NoAuditEntryNoDocument) {
  gate_.fail_audit = true;
  http::Request r = Upload("clerk", "seal");
  http::Response response = SignPdf(services_, r);
  EXPECT_EQ(response.status, 500);
  EXPECT_EQ(ErrorId(response), "audit.unavailable");
  EXPECT_EQ(response.body.find("%PDF"), std::string::npos);
}

TEST_F(SignPdfTest, AFailedSignatureIsReported) {
  http::Request r = Upload("clerk", "seal", "not a pdf at all");
  http::Response response = SignPdf(services_, r);
  EXPECT_EQ(response.status, 400);
  ASSERT_EQ(gate_.failures.size(), 1u);
  EXPECT_EQ(gate_.failures[0], "vanthu.stc seal " + ErrorId(response));
  EXPECT_TRUE(gate_.signed_by.empty());
}

TEST_F(SignPdfTest, UnknownKeyIs404) {
  http::Request r = Upload("clerk", "khong-co");
  http::Response response = SignPdf(services_, r);
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(ErrorId(response), "signing_key.not_found");
}

TEST_F(SignPdfTest, WithoutAGateSigningIsUnavailable) {
  services_.gate = nullptr;
  http::Request r = Upload("clerk", "seal");
  EXPECT_EQ(SignPdf(services_, r).status, 503);
}

TEST_F(SignPdfTest, ListsOnlyTheCallersKeys) {
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

}  // namespace
}  // namespace kyso::api
