// Evaluate(): the built-in profiles accept realistic Vietnamese requests, and each rule refuses
// with its own id.
#include "policy/profile.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <limits>
#include <string>
#include <vector>

namespace kyso::policy {
namespace {

using x509::Name;
using x509::NameAttribute;

constexpr UnixSeconds kNow = 1767225600;  // 2026-01-01T00:00:00Z
constexpr UnixSeconds kDay = kSecondsPerDay;
constexpr UnixSeconds kIssuerNotAfter = kNow + 20 * 365 * kDay;

// A subject from attributes in the order given (a helper, because a one-attribute braced list
// would also match std::vector's iterator-pair constructor).
Name Subject(std::vector<NameAttribute> attributes) {
  return Name(std::move(attributes));
}

crypto::KeySpec Rsa(int bits) {
  return {crypto::KeyAlgorithm::kRsa, bits, ""};
}
crypto::KeySpec Ec(const char* curve, int bits) {
  return {crypto::KeyAlgorithm::kEcdsa, bits, curve};
}
crypto::KeySpec Ed25519() {
  return {crypto::KeyAlgorithm::kEd25519, 256, ""};
}

const Profile& BuiltIn(std::string_view name) {
  static const ProfileSet* set = new ProfileSet(ProfileSet::BuiltIn());
  const Profile* profile = set->Find(name);
  if (profile == nullptr) {
    ADD_FAILURE() << "no built-in profile " << name;
    std::abort();
  }
  return *profile;
}

// The agency of vn-rules.md, attributes in RFC 4514 display order (least significant first),
// as a CSR built from that display string would carry them.
RequestFacts AgencyRequest() {
  RequestFacts r;
  r.subject = Subject({{"emailAddress", "syt@danang.gov.vn"},
                       {"UID", "MST:0400260612"},
                       {"UID", "MNS:1047665"},
                       {"CN", "Sở Y tế"},
                       {"O", "UBND TP Đà Nẵng"},
                       {"L", "Đà Nẵng"},
                       {"C", "VN"}});
  r.key = Rsa(3072);
  return r;
}

RequestFacts OfficialRequest() {
  RequestFacts r;
  r.subject = Subject({{"C", "VN"},
                       {"L", "Hà Nội"},
                       {"O", "Bộ Tài chính"},
                       {"OU", "Vụ Pháp chế"},
                       {"CN", "Nguyễn Thị Thu Hà"},
                       {"UID", "CCCD:001199012345"},
                       {"emailAddress", "hantt@mof.gov.vn"}});
  r.key = Ec("P-256", 256);
  return r;
}

RequestFacts AuthorityRequest() {
  RequestFacts r;
  r.subject = Subject({{"C", "VN"},
                       {"L", "Đồng Nai"},
                       {"O", "Sở Công Thương tỉnh Đồng Nai"},
                       {"title", "Giám đốc"},
                       {"CN", "Trần Văn Bình"},
                       {"UID", "CCCD:075085001234"}});
  r.key = Rsa(2048);
  return r;
}

RequestFacts IndividualRequest() {
  RequestFacts r;
  r.subject = Subject({{"C", "VN"}, {"CN", "Lê Thị Hồng Nhung"}, {"UID", "CCCD:048190000123"}});
  r.key = Rsa(2048);
  return r;
}

RequestFacts DeviceRequest() {
  RequestFacts r;
  r.subject = Subject(
      {{"C", "VN"}, {"O", "Cục Thuế"}, {"CN", "dichvucong.gdt.gov.vn"}, {"UID", "MST:0100231226"}});
  r.key = Ec("P-384", 384);
  r.dns_sans = {"dichvucong.gdt.gov.vn", "api.gdt.gov.vn"};
  r.ip_sans = {"10.10.1.5"};
  return r;
}

RequestFacts ServiceRequest(const char* cn) {
  RequestFacts r;
  r.subject = Subject({{"C", "VN"}, {"O", "Ban Cơ yếu Chính phủ"}, {"CN", cn}});
  r.key = Ec("P-256", 256);
  return r;
}

Result<IssuancePlan> EvaluateNew(const Profile& profile, const RequestFacts& request,
                                 std::optional<int> days = std::nullopt) {
  return Evaluate(profile, request, IssuanceKind::kNew, days, kNow, kIssuerNotAfter);
}

std::string ErrorId(const Result<IssuancePlan>& plan) {
  return plan.ok() ? "" : plan.status().id();
}

// A hand-built profile for rules the built-in ones don't exercise.
Profile TestProfile() {
  Profile p;
  p.name = "test";
  p.certificate_type = CertificateType::kIndividual;
  p.key_types = {Rsa(2048), Ec("P-256", 256)};
  p.default_validity_days = 365;
  p.max_validity_days = 730;
  p.max_renewal_days = 365;
  p.key_usage = {"digitalSignature"};
  p.subject.required = {"CN"};
  p.subject.allowed = {"C", "O"};
  return p;
}

RequestFacts TestRequest() {
  RequestFacts r;
  r.subject = Subject({{"CN", "Phòng Hành chính"}});
  r.key = Rsa(2048);
  return r;
}

// --- Acceptance: each built-in profile --------------------------------------------------------

TEST(BuiltInProfileTest, OrganizationAcceptsTheDaNangHealthDepartment) {
  Result<IssuancePlan> plan = EvaluateNew(BuiltIn("organization"), AgencyRequest());
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  // Encoding order C, L, O, CN, UID, UID, emailAddress; UIDs keep their request order.
  std::vector<NameAttribute> expected = {{"C", "VN"},
                                         {"L", "\xC4\x90\xC3\xA0 N\xE1\xBA\xB5ng"},
                                         {"O", "UBND TP \xC4\x90\xC3\xA0 N\xE1\xBA\xB5ng"},
                                         {"CN", "S\xE1\xBB\x9F Y t\xE1\xBA\xBF"},
                                         {"UID", "MST:0400260612"},
                                         {"UID", "MNS:1047665"},
                                         {"emailAddress", "syt@danang.gov.vn"}};
  EXPECT_EQ(plan->subject.attributes(), expected);
  EXPECT_EQ(plan->subject.First("CN"), "Sở Y tế");
  EXPECT_EQ(plan->not_before, kNow);
  EXPECT_EQ(plan->not_after, kNow + 1095 * kDay - 1);
  const x509::Extensions& ext = plan->extensions;
  EXPECT_FALSE(ext.is_ca);
  EXPECT_EQ(ext.key_usage, (std::vector<std::string>{"digitalSignature", "nonRepudiation"}));
  EXPECT_TRUE(ext.key_usage_critical);
  EXPECT_EQ(ext.extended_key_usage,
            (std::vector<std::string>{"documentSigning", "emailProtection", "clientAuth"}));
  EXPECT_FALSE(ext.extended_key_usage_critical);
  EXPECT_EQ(ext.policy_oids, (std::vector<std::string>{"2.16.704.1.99.1.4"}));
  // copy_subject_email: the subject's address becomes an rfc822Name (RFC 5280 §4.1.2.6).
  EXPECT_EQ(ext.email_sans, (std::vector<std::string>{"syt@danang.gov.vn"}));
  EXPECT_TRUE(ext.dns_sans.empty());
  EXPECT_TRUE(ext.ocsp_urls.empty());
  EXPECT_TRUE(ext.ca_issuers_urls.empty());
  EXPECT_TRUE(ext.crl_urls.empty());
  EXPECT_FALSE(ext.ocsp_no_check);
  EXPECT_TRUE(plan->include_aia);
  EXPECT_TRUE(plan->include_crl_dp);
}

TEST(BuiltInProfileTest, OrganizationAcceptsSlashedSubject) {
  Result<Name> subject = Name::ParseSlashed(
      "/C=VN/L=Đà Nẵng/O=UBND TP Đà Nẵng/CN=Sở Y tế/UID=MST:0400260612/UID=MNS:1047665/"
      "emailAddress=syt@danang.gov.vn");
  ASSERT_TRUE(subject.ok()) << subject.status().ToString();
  RequestFacts request = AgencyRequest();
  request.subject = *subject;
  Result<IssuancePlan> plan = EvaluateNew(BuiltIn("organization"), request);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_EQ(plan->subject, *subject);  // already in canonical order: unchanged
}

TEST(BuiltInProfileTest, OrganizationAcceptsBranchTaxCodeAlone) {
  RequestFacts request = AgencyRequest();
  request.subject = Subject({{"C", "VN"},
                             {"L", "Hà Nội"},
                             {"O", "Bộ Tài chính"},
                             {"CN", "Kho bạc Nhà nước Hà Nội"},
                             {"UID", "MST:0100109106-001"}});
  EXPECT_EQ(ErrorId(EvaluateNew(BuiltIn("organization"), request)), "");
}

TEST(BuiltInProfileTest, OfficialAcceptsCivilServant) {
  Result<IssuancePlan> plan = EvaluateNew(BuiltIn("official"), OfficialRequest());
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_EQ(plan->subject.First("OU"), "Vụ Pháp chế");
  EXPECT_EQ(plan->subject.First("CN"), "Nguyễn Thị Thu Hà");
  EXPECT_EQ(plan->extensions.email_sans, (std::vector<std::string>{"hantt@mof.gov.vn"}));
  EXPECT_EQ(plan->extensions.policy_oids, (std::vector<std::string>{"2.16.704.1.99.1.3"}));
}

TEST(BuiltInProfileTest, AuthorityAcceptsDepartmentDirector) {
  Result<IssuancePlan> plan = EvaluateNew(BuiltIn("authority"), AuthorityRequest(), 1826);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_EQ(plan->subject.First("title"), "Giám đốc");
  EXPECT_EQ(plan->not_after, kNow + 1826 * kDay - 1);
  EXPECT_TRUE(plan->extensions.email_sans.empty());
}

TEST(BuiltInProfileTest, AuthorityRequiresTitle) {
  RequestFacts request = OfficialRequest();
  Result<IssuancePlan> plan = EvaluateNew(BuiltIn("authority"), request);
  EXPECT_EQ(ErrorId(plan), "profile.subject_attribute_missing");
  EXPECT_NE(plan.status().message().find("title"), std::string::npos);
}

TEST(BuiltInProfileTest, IndividualAcceptsPersonWithCitizenId) {
  Result<IssuancePlan> plan = EvaluateNew(BuiltIn("individual"), IndividualRequest());
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_EQ(plan->subject.First("CN"), "Lê Thị Hồng Nhung");
}

TEST(BuiltInProfileTest, IndividualAcceptsPassportHolder) {
  RequestFacts request = IndividualRequest();
  request.subject = Subject({{"C", "VN"}, {"CN", "Phạm Minh Đức"}, {"UID", "HC:C1234567"}});
  EXPECT_EQ(ErrorId(EvaluateNew(BuiltIn("individual"), request)), "");
}

TEST(BuiltInProfileTest, DeviceAcceptsTlsServer) {
  Result<IssuancePlan> plan = EvaluateNew(BuiltIn("device"), DeviceRequest());
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  const x509::Extensions& ext = plan->extensions;
  EXPECT_EQ(ext.dns_sans, (std::vector<std::string>{"dichvucong.gdt.gov.vn", "api.gdt.gov.vn"}));
  EXPECT_EQ(ext.ip_sans, (std::vector<std::string>{"10.10.1.5"}));
  EXPECT_EQ(ext.extended_key_usage, (std::vector<std::string>{"serverAuth", "clientAuth"}));
  // RFC 5480 §3: no keyEncipherment for an EC key.
  EXPECT_EQ(ext.key_usage, (std::vector<std::string>{"digitalSignature"}));
  EXPECT_EQ(plan->not_after, kNow + 730 * kDay - 1);
}

TEST(BuiltInProfileTest, DeviceKeepsKeyEnciphermentForRsa) {
  RequestFacts request = DeviceRequest();
  request.key = Rsa(4096);
  Result<IssuancePlan> plan = EvaluateNew(BuiltIn("device"), request);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_EQ(plan->extensions.key_usage,
            (std::vector<std::string>{"digitalSignature", "keyEncipherment"}));
}

TEST(BuiltInProfileTest, OcspSignerHasNoCheckAndNoCrlDp) {
  Result<IssuancePlan> plan =
      EvaluateNew(BuiltIn("ocsp-signer"), ServiceRequest("OCSP - CA phục vụ các cơ quan Nhà nước"));
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_TRUE(plan->extensions.ocsp_no_check);
  EXPECT_EQ(plan->extensions.extended_key_usage, (std::vector<std::string>{"OCSPSigning"}));
  EXPECT_EQ(plan->extensions.key_usage, (std::vector<std::string>{"digitalSignature"}));
  EXPECT_TRUE(plan->include_aia);
  EXPECT_FALSE(plan->include_crl_dp);
  EXPECT_EQ(plan->not_after, kNow + 365 * kDay - 1);
}

TEST(BuiltInProfileTest, TsaHasCriticalTimeStampingOnly) {
  Result<IssuancePlan> plan =
      EvaluateNew(BuiltIn("tsa"), ServiceRequest("Đơn vị cấp dấu thời gian"));
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_EQ(plan->extensions.extended_key_usage, (std::vector<std::string>{"timeStamping"}));
  EXPECT_TRUE(plan->extensions.extended_key_usage_critical);
  EXPECT_EQ(plan->extensions.key_usage,
            (std::vector<std::string>{"digitalSignature", "nonRepudiation"}));
  EXPECT_TRUE(plan->extensions.key_usage_critical);
  EXPECT_FALSE(plan->extensions.ocsp_no_check);
}

// --- Request extensions ----------------------------------------------------------------------

TEST(EvaluateTest, RefusesCaRequest) {
  RequestFacts request = IndividualRequest();
  request.requests_ca = true;
  Result<IssuancePlan> plan = EvaluateNew(BuiltIn("individual"), request);
  EXPECT_EQ(ErrorId(plan), "profile.ca_requested");
  EXPECT_EQ(plan.status().message(),
            "profile 'individual' issues end-entity certificates; the request asks for CA:TRUE");
}

TEST(EvaluateTest, RefusesUnsupportedCriticalExtension) {
  RequestFacts request = IndividualRequest();
  request.unsupported_critical_extensions = {"1.2.3.4.5"};
  Result<IssuancePlan> plan = EvaluateNew(BuiltIn("individual"), request);
  EXPECT_EQ(ErrorId(plan), "profile.unsupported_critical_extension");
  EXPECT_NE(plan.status().message().find("1.2.3.4.5"), std::string::npos);
}

// --- Keys ------------------------------------------------------------------------------------

TEST(EvaluateTest, RefusesWeakRsaKey) {
  RequestFacts request = IndividualRequest();
  request.key = Rsa(1024);
  EXPECT_EQ(ErrorId(EvaluateNew(BuiltIn("individual"), request)), "profile.key_too_weak");
}

TEST(EvaluateTest, RefusesRsaBelowTheProfilesMinimum) {
  Profile profile = TestProfile();
  profile.key_types = {Rsa(3072), Rsa(4096)};
  RequestFacts request = TestRequest();
  request.key = Rsa(2048);
  Result<IssuancePlan> plan = EvaluateNew(profile, request);
  EXPECT_EQ(ErrorId(plan), "profile.key_too_weak");
  EXPECT_NE(plan.status().message().find("3072"), std::string::npos);
}

TEST(EvaluateTest, RefusesKeyTypeNotListed) {
  RequestFacts request = IndividualRequest();
  request.key = Ed25519();
  EXPECT_EQ(ErrorId(EvaluateNew(BuiltIn("individual"), request)), "profile.key_type_not_allowed");
  request.key = Ec("P-521", 521);
  EXPECT_EQ(ErrorId(EvaluateNew(BuiltIn("individual"), request)), "profile.key_type_not_allowed");
  request.key = Ec("secp256k1", 256);
  EXPECT_EQ(ErrorId(EvaluateNew(BuiltIn("individual"), request)), "profile.key_type_not_allowed");
  request.key = Rsa(8192);
  EXPECT_EQ(ErrorId(EvaluateNew(BuiltIn("individual"), request)), "profile.key_type_not_allowed");
}

TEST(EvaluateTest, RefusesKeyThatCannotPerformTheProfilesUsages) {
  Profile profile = TestProfile();
  profile.key_usage = {"keyAgreement"};
  EXPECT_EQ(ErrorId(EvaluateNew(profile, TestRequest())), "profile.key_type_not_allowed");
}

// --- Subject ---------------------------------------------------------------------------------

TEST(EvaluateTest, RefusesMissingAttributeNamingIt) {
  RequestFacts request = IndividualRequest();
  request.subject = Subject({{"C", "VN"}, {"UID", "CCCD:048190000123"}});
  Result<IssuancePlan> plan = EvaluateNew(BuiltIn("individual"), request);
  EXPECT_EQ(ErrorId(plan), "profile.subject_attribute_missing");
  EXPECT_EQ(plan.status().message(), "subject attribute CN is required by profile 'individual'");
}

TEST(EvaluateTest, RefusesEmptySubject) {
  Profile profile = TestProfile();
  profile.subject.required.clear();
  profile.subject.allowed = {"CN"};
  RequestFacts request = TestRequest();
  request.subject = Name();
  EXPECT_EQ(ErrorId(EvaluateNew(profile, request)), "profile.subject_attribute_missing");
}

TEST(EvaluateTest, RefusesAttributeNotAllowed) {
  RequestFacts request = IndividualRequest();
  request.subject = Subject({{"C", "VN"},
                             {"CN", "Lê Thị Hồng Nhung"},
                             {"serialNumber", "12345"},
                             {"UID", "CCCD:048190000123"}});
  EXPECT_EQ(ErrorId(EvaluateNew(BuiltIn("individual"), request)),
            "profile.subject_attribute_forbidden");
}

TEST(EvaluateTest, RefusesExplicitlyForbiddenAttribute) {
  Profile profile = TestProfile();
  profile.subject.forbidden = {"O"};  // wins over allowed
  RequestFacts request = TestRequest();
  request.subject = Subject({{"O", "Bộ Nội vụ"}, {"CN", "Phòng Hành chính"}});
  EXPECT_EQ(ErrorId(EvaluateNew(profile, request)), "profile.subject_attribute_forbidden");
}

TEST(EvaluateTest, RefusesFixedValueMismatch) {
  RequestFacts request = IndividualRequest();
  request.subject = Subject({{"C", "US"}, {"CN", "John Smith"}, {"UID", "PPID:123456789"}});
  Result<IssuancePlan> plan = EvaluateNew(BuiltIn("individual"), request);
  EXPECT_EQ(ErrorId(plan), "profile.subject_value_not_allowed");
  EXPECT_NE(plan.status().message().find("\"VN\""), std::string::npos);
}

TEST(EvaluateTest, RefusesCountryThatIsNotAlpha2) {
  Profile profile = TestProfile();
  RequestFacts request = TestRequest();
  for (const char* c : {"vn", "VNM", "V", "V1"}) {
    request.subject = Subject({{"C", c}, {"CN", "Phòng Hành chính"}});
    EXPECT_EQ(ErrorId(EvaluateNew(profile, request)), "profile.subject_value_invalid") << c;
  }
}

TEST(EvaluateTest, CountsLengthInCharactersNotBytes) {
  // 64 characters, 4 of them 'Ủ' (3 bytes each): over 64 bytes, yet within ub-common-name.
  std::string cn = "ỦỦỦỦ" + std::string(60, 'a');
  ASSERT_GT(cn.size(), 64u);
  RequestFacts request = TestRequest();
  request.subject = Subject({{"CN", cn}});
  EXPECT_EQ(ErrorId(EvaluateNew(TestProfile(), request)), "");

  request.subject = Subject({{"CN", cn + "n"}});
  Result<IssuancePlan> plan = EvaluateNew(TestProfile(), request);
  EXPECT_EQ(ErrorId(plan), "profile.subject_value_too_long");
  EXPECT_NE(plan.status().message().find("65 characters; at most 64"), std::string::npos);
}

TEST(EvaluateTest, RefusesTooLongOrganization) {
  RequestFacts request = AgencyRequest();
  request.subject = Subject({{"C", "VN"},
                             {"L", "Đà Nẵng"},
                             {"O",
                              "Ủy ban nhân dân thành phố Đà Nẵng, Hội đồng nhân dân và các cơ "
                              "quan chuyên môn trực thuộc"},
                             {"CN", "Sở Y tế"},
                             {"UID", "MST:0400260612"}});
  EXPECT_EQ(ErrorId(EvaluateNew(BuiltIn("organization"), request)),
            "profile.subject_value_too_long");
}

TEST(EvaluateTest, RefusesInvalidValues) {
  RequestFacts request = TestRequest();
  for (std::string bad : {std::string("   "), std::string("S\xE1\xBB"), std::string("A\x01"),
                          std::string(" Sở Y tế")}) {
    request.subject = Subject({{"CN", bad}});
    EXPECT_EQ(ErrorId(EvaluateNew(TestProfile(), request)), "profile.subject_value_invalid")
        << testing::PrintToString(bad);
  }
}

TEST(EvaluateTest, RefusesRepeatedCommonName) {
  RequestFacts request = IndividualRequest();
  request.subject = Subject(
      {{"C", "VN"}, {"CN", "Lê Thị Hồng Nhung"}, {"CN", "Nhung"}, {"UID", "CCCD:048190000123"}});
  EXPECT_EQ(ErrorId(EvaluateNew(BuiltIn("individual"), request)),
            "profile.subject_attribute_duplicate");
  request.subject =
      Subject({{"C", "VN"}, {"C", "VN"}, {"CN", "Nhung"}, {"UID", "CCCD:048190000123"}});
  EXPECT_EQ(ErrorId(EvaluateNew(BuiltIn("individual"), request)),
            "profile.subject_attribute_duplicate");
}

TEST(EvaluateTest, KeepsRepeatedOrganizationalUnitsInOrder) {
  RequestFacts request = OfficialRequest();
  request.subject = Subject({{"CN", "Nguyễn Văn An"},
                             {"OU", "Phòng Tổ chức"},
                             {"OU", "Văn phòng Sở"},
                             {"O", "Sở Nội vụ"},
                             {"C", "VN"},
                             {"UID", "CMND:123456789"}});
  Result<IssuancePlan> plan = EvaluateNew(BuiltIn("official"), request);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  std::vector<NameAttribute> expected = {{"C", "VN"},
                                         {"O", "Sở Nội vụ"},
                                         {"OU", "Phòng Tổ chức"},
                                         {"OU", "Văn phòng Sở"},
                                         {"CN", "Nguyễn Văn An"},
                                         {"UID", "CMND:123456789"}};
  EXPECT_EQ(plan->subject.attributes(), expected);
}

TEST(EvaluateTest, RefusesMalformedSubjectEmail) {
  RequestFacts request = OfficialRequest();
  request.subject = Subject({{"C", "VN"},
                             {"O", "Bộ Tài chính"},
                             {"CN", "Nguyễn Thị Thu Hà"},
                             {"UID", "CCCD:001199012345"},
                             {"emailAddress", "hantt@mof"}});
  EXPECT_EQ(ErrorId(EvaluateNew(BuiltIn("official"), request)), "profile.email_malformed");
}

// --- UID -------------------------------------------------------------------------------------

TEST(EvaluateTest, RefusesUnknownUidPrefix) {
  RequestFacts request = IndividualRequest();
  request.subject = Subject({{"C", "VN"}, {"CN", "Lê Thị Hồng Nhung"}, {"UID", "GPLX:123456"}});
  EXPECT_EQ(ErrorId(EvaluateNew(BuiltIn("individual"), request)), "profile.uid_prefix_unknown");
}

TEST(EvaluateTest, RefusesMalformedUidNamingTheDigits) {
  RequestFacts request = IndividualRequest();
  request.subject = Subject({{"C", "VN"}, {"CN", "Lê Thị Hồng Nhung"}, {"UID", "CCCD:12345"}});
  Result<IssuancePlan> plan = EvaluateNew(BuiltIn("individual"), request);
  EXPECT_EQ(ErrorId(plan), "profile.uid_malformed");
  EXPECT_EQ(plan.status().message(), "UID CCCD:12345 must have 12 digits");
}

TEST(EvaluateTest, RefusesUidPrefixTheProfileDoesNotAllow) {
  RequestFacts request = AgencyRequest();
  request.subject = Subject({{"C", "VN"},
                             {"L", "Đà Nẵng"},
                             {"O", "UBND TP Đà Nẵng"},
                             {"CN", "Sở Y tế"},
                             {"UID", "CCCD:048190000123"}});
  EXPECT_EQ(ErrorId(EvaluateNew(BuiltIn("organization"), request)),
            "profile.uid_prefix_not_allowed");
}

TEST(EvaluateTest, RefusesMissingRequiredIdentifier) {
  RequestFacts request = IndividualRequest();
  request.subject = Subject({{"C", "VN"}, {"CN", "Lê Thị Hồng Nhung"}, {"UID", "BHXH:0123456789"}});
  Result<IssuancePlan> plan = EvaluateNew(BuiltIn("individual"), request);
  EXPECT_EQ(ErrorId(plan), "profile.uid_missing");
  EXPECT_NE(plan.status().message().find("CCCD"), std::string::npos);
}

TEST(EvaluateTest, RefusesDuplicateUid) {
  RequestFacts request = AgencyRequest();
  request.subject = Subject({{"C", "VN"},
                             {"L", "Đà Nẵng"},
                             {"O", "UBND TP Đà Nẵng"},
                             {"CN", "Sở Y tế"},
                             {"UID", "MNS:1047665"},
                             {"UID", "MNS:1047665"}});
  EXPECT_EQ(ErrorId(EvaluateNew(BuiltIn("organization"), request)), "profile.uid_duplicate");
  // The same branch tax code with and without its hyphen is the same identifier.
  request.subject = Subject({{"C", "VN"},
                             {"L", "Đà Nẵng"},
                             {"O", "UBND TP Đà Nẵng"},
                             {"CN", "Sở Y tế"},
                             {"UID", "MST:0400260612-001"},
                             {"UID", "MST:0400260612001"}});
  EXPECT_EQ(ErrorId(EvaluateNew(BuiltIn("organization"), request)), "profile.uid_duplicate");
}

// --- subjectAltName --------------------------------------------------------------------------

TEST(EvaluateTest, RefusesForbiddenSan) {
  RequestFacts request = IndividualRequest();
  request.dns_sans = {"nhung.example.vn"};
  EXPECT_EQ(ErrorId(EvaluateNew(BuiltIn("individual"), request)), "profile.san_not_allowed");
  request = IndividualRequest();
  request.ip_sans = {"10.0.0.1"};
  EXPECT_EQ(ErrorId(EvaluateNew(BuiltIn("individual"), request)), "profile.san_not_allowed");
  request = DeviceRequest();
  request.email_sans = {"admin@gdt.gov.vn"};
  EXPECT_EQ(ErrorId(EvaluateNew(BuiltIn("device"), request)), "profile.san_not_allowed");
}

TEST(EvaluateTest, RefusesMissingRequiredSan) {
  RequestFacts request = DeviceRequest();
  request.dns_sans.clear();
  EXPECT_EQ(ErrorId(EvaluateNew(BuiltIn("device"), request)), "profile.san_missing");
  Profile profile = TestProfile();
  profile.san.email = SanRule::kRequired;
  EXPECT_EQ(ErrorId(EvaluateNew(profile, TestRequest())), "profile.san_missing");
}

TEST(EvaluateTest, RefusesMalformedEmailSan) {
  RequestFacts request = OfficialRequest();
  request.email_sans = {"hantt at mof.gov.vn"};
  EXPECT_EQ(ErrorId(EvaluateNew(BuiltIn("official"), request)), "profile.email_malformed");
}

TEST(EvaluateTest, MergesRequestedAndSubjectEmails) {
  RequestFacts request = OfficialRequest();
  request.email_sans = {"phapche@mof.gov.vn", "hantt@mof.gov.vn"};
  Result<IssuancePlan> plan = EvaluateNew(BuiltIn("official"), request);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_EQ(plan->extensions.email_sans,
            (std::vector<std::string>{"phapche@mof.gov.vn", "hantt@mof.gov.vn"}));
}

TEST(EvaluateTest, RefusesMalformedDnsSan) {
  RequestFacts request = DeviceRequest();
  for (const char* dns : {"-bad.gov.vn", "dịchvụcông.gov.vn", "*.gdt.gov.vn", "gdt.gov.vn."}) {
    request.dns_sans = {dns};
    EXPECT_EQ(ErrorId(EvaluateNew(BuiltIn("device"), request)), "profile.dns_malformed") << dns;
  }
}

TEST(EvaluateTest, AcceptsWildcardWhenProfileAllows) {
  Profile profile = BuiltIn("device");
  profile.san.allow_wildcard = true;
  RequestFacts request = DeviceRequest();
  request.dns_sans = {"*.gdt.gov.vn"};
  EXPECT_EQ(ErrorId(EvaluateNew(profile, request)), "");
}

TEST(EvaluateTest, RefusesMalformedIpSan) {
  RequestFacts request = DeviceRequest();
  request.ip_sans = {"10.10.1.256"};
  EXPECT_EQ(ErrorId(EvaluateNew(BuiltIn("device"), request)), "profile.ip_malformed");
}

// --- Validity --------------------------------------------------------------------------------

TEST(EvaluateTest, NewIssueAllowsFiveYearsAndNoMore) {
  const Profile& profile = BuiltIn("official");
  Result<IssuancePlan> plan = EvaluateNew(profile, OfficialRequest(), 1826);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_EQ(plan->not_after - plan->not_before + 1, 1826 * kDay);

  plan = EvaluateNew(profile, OfficialRequest(), 1827);
  EXPECT_EQ(ErrorId(plan), "profile.validity_too_long");
  EXPECT_NE(plan.status().message().find("1826"), std::string::npos);
  EXPECT_NE(plan.status().message().find("Nghị định 68/2024/NĐ-CP Điều 9"), std::string::npos);
}

TEST(EvaluateTest, RenewalAllowsThreeYearsAndNoMore) {
  const Profile& profile = BuiltIn("official");
  Result<IssuancePlan> plan =
      Evaluate(profile, OfficialRequest(), IssuanceKind::kRenewal, 1096, kNow, kIssuerNotAfter);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_EQ(plan->not_after, kNow + 1096 * kDay - 1);

  plan = Evaluate(profile, OfficialRequest(), IssuanceKind::kRenewal, 1097, kNow, kIssuerNotAfter);
  EXPECT_EQ(ErrorId(plan), "profile.validity_too_long");
  EXPECT_NE(plan.status().message().find("1096"), std::string::npos);
  EXPECT_NE(plan.status().message().find("3 years"), std::string::npos);

  // The other kinds follow the new-issue limit.
  for (IssuanceKind kind : {IssuanceKind::kChange, IssuanceKind::kReissue}) {
    EXPECT_EQ(ErrorId(Evaluate(profile, OfficialRequest(), kind, 1826, kNow, kIssuerNotAfter)), "");
  }
}

TEST(EvaluateTest, RenewalDefaultIsCappedAtTheRenewalLimit) {
  Profile profile = TestProfile();
  profile.default_validity_days = 730;
  Result<IssuancePlan> plan =
      Evaluate(profile, TestRequest(), IssuanceKind::kRenewal, std::nullopt, kNow, kIssuerNotAfter);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_EQ(plan->not_after, kNow + 365 * kDay - 1);
}

TEST(EvaluateTest, HandBuiltProfileCannotExceedTheLegalMaximum) {
  Profile profile = TestProfile();
  profile.max_validity_days = 3650;
  EXPECT_EQ(ErrorId(EvaluateNew(profile, TestRequest(), 1827)), "profile.validity_too_long");
}

TEST(EvaluateTest, RefusesNonPositiveValidity) {
  EXPECT_EQ(ErrorId(EvaluateNew(TestProfile(), TestRequest(), 0)), "profile.validity_invalid");
  EXPECT_EQ(ErrorId(EvaluateNew(TestProfile(), TestRequest(), -30)), "profile.validity_invalid");
}

TEST(EvaluateTest, RefusesCertificateOutlivingItsIssuer) {
  const Profile& profile = BuiltIn("individual");
  UnixSeconds issuer_not_after = kNow + 1000 * kDay;
  Result<IssuancePlan> plan =
      Evaluate(profile, IndividualRequest(), IssuanceKind::kNew, 1001, kNow, issuer_not_after);
  EXPECT_EQ(ErrorId(plan), "profile.outlives_issuer");
  EXPECT_NE(plan.status().message().find("at most 1000 days"), std::string::npos);
  // Ending exactly with the issuer is fine (not truncated, not refused).
  plan = Evaluate(profile, IndividualRequest(), IssuanceKind::kNew, 1000, kNow, issuer_not_after);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_EQ(plan->not_after, issuer_not_after - 1);
  // An expired issuer issues nothing.
  EXPECT_EQ(ErrorId(Evaluate(profile, IndividualRequest(), IssuanceKind::kNew, 1, kNow, kNow - 1)),
            "profile.outlives_issuer");
}

TEST(EvaluateTest, BackdatesNotBeforeByTheProfilesSeconds) {
  Profile profile = TestProfile();
  profile.backdate_seconds = 300;
  Result<IssuancePlan> plan = EvaluateNew(profile, TestRequest(), 10);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_EQ(plan->not_before, kNow - 300);
  EXPECT_EQ(plan->not_after, kNow - 300 + 10 * kDay - 1);
}

TEST(EvaluateTest, ExtremeTimesAreRefusedNotOverflowed) {
  EXPECT_EQ(ErrorId(Evaluate(TestProfile(), TestRequest(), IssuanceKind::kNew, 365,
                             std::numeric_limits<int64_t>::max() - 10,
                             std::numeric_limits<int64_t>::max())),
            "profile.validity_invalid");
}

TEST(EvaluateTest, ChecksRunInTheDocumentedOrder) {
  // Everything wrong at once: the CA request is reported first.
  RequestFacts request = IndividualRequest();
  request.requests_ca = true;
  request.key = Rsa(1024);
  request.subject = Name();
  EXPECT_EQ(ErrorId(EvaluateNew(BuiltIn("individual"), request, 0)), "profile.ca_requested");
  request.requests_ca = false;
  EXPECT_EQ(ErrorId(EvaluateNew(BuiltIn("individual"), request, 0)), "profile.key_too_weak");
}

}  // namespace
}  // namespace kyso::policy
