// ProfileSet::FromJson: the built-in file, the round trip, and errors that name their JSON path.
#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "policy/profile.h"

namespace kyso::policy {
namespace {

using OJson = nlohmann::ordered_json;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The built-in file with one edit applied.
std::string Edited(const std::function<void(OJson&)>& edit) {
  OJson doc = OJson::parse(ProfileSet::BuiltInJson());
  edit(doc);
  return doc.dump(2);
}

// The message of the load error, or "" if it loads.
std::string LoadError(const std::string& json) {
  Result<ProfileSet> set = ProfileSet::FromJson(json);
  if (set.ok()) return "";
  EXPECT_EQ(set.status().id(), "profile.config_invalid") << set.status().message();
  EXPECT_EQ(set.status().code(), StatusCode::kInvalidArgument);
  return set.status().message();
}

// Asserts that the error message starts with `prefix` (the JSON path and the reason).
#define EXPECT_LOAD_ERROR(json, prefix)                               \
  do {                                                                \
    std::string message_ = LoadError(json);                           \
    EXPECT_EQ(message_.substr(0, std::string(prefix).size()), prefix) \
        << "full message: " << message_;                              \
  } while (0)

int IndexOf(const OJson& doc, std::string_view name) {
  for (size_t i = 0; i < doc["profiles"].size(); ++i) {
    if (doc["profiles"][i]["name"] == name) return static_cast<int>(i);
  }
  ADD_FAILURE() << "no profile " << name;
  return 0;
}

TEST(BuiltInJsonTest, IsTheConfigFileByteForByte) {
  EXPECT_EQ(ProfileSet::BuiltInJson(), ReadFile(KYSO_PROFILES_JSON_PATH));
}

TEST(BuiltInJsonTest, LoadsTheSevenProfiles) {
  ProfileSet set = ProfileSet::BuiltIn();
  std::vector<std::string> names;
  for (const auto& profile : set.profiles()) names.push_back(profile.name);
  EXPECT_EQ(names, (std::vector<std::string>{"individual", "authority", "official", "organization",
                                             "device", "ocsp-signer", "tsa"}));
  EXPECT_EQ(set.Find("tsa")->certificate_type, CertificateType::kTsa);
  EXPECT_EQ(set.Find("ocsp-signer")->certificate_type, CertificateType::kOcsp);
  EXPECT_EQ(set.Find("nonexistent"), nullptr);
  for (const auto& profile : set.profiles()) {
    EXPECT_LE(profile.max_validity_days, kLegalMaxNewValidityDays) << profile.name;
    EXPECT_LE(profile.max_renewal_days, kLegalMaxRenewalDays) << profile.name;
    EXPECT_FALSE(profile.description.empty()) << profile.name;
    ASSERT_EQ(profile.policy_oids.size(), 1u);
    EXPECT_EQ(profile.policy_oids[0].rfind("2.16.704.1.99.", 0), 0u) << profile.name;
  }
}

TEST(BuiltInJsonTest, RoundTripsThroughProfileToJson) {
  ProfileSet set = ProfileSet::BuiltIn();
  std::string written = ProfileSetToJson(set).dump(2);
  Result<ProfileSet> again = ProfileSet::FromJson(written);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->profiles(), set.profiles());
  // And the writer's output is stable.
  EXPECT_EQ(ProfileSetToJson(*again).dump(2), written);
}

TEST(BuiltInJsonTest, ProfileToJsonKeepsTheFileOrderAndDiacritics) {
  OJson j = ProfileToJson(*ProfileSet::BuiltIn().Find("organization"));
  EXPECT_EQ(j.begin().key(), "name");
  EXPECT_EQ(j["certificate_type"], "organization");
  EXPECT_EQ(j["key_types"][3], "ec:P-256");
  EXPECT_EQ(j["uid"]["required_one_of"], OJson::parse(R"([["MST", "MNS"]])"));
  EXPECT_EQ(j["subject"]["fixed"]["C"], "VN");
  EXPECT_NE(j["description"].get<std::string>().find("Cơ quan, tổ chức"), std::string::npos);
}

TEST(LoaderTest, MinimalProfileGetsDocumentedDefaults) {
  Result<ProfileSet> set = ProfileSet::FromJson(R"({
    "version": 1,
    "profiles": [{
      "name": "minimal", "certificate_type": "individual", "key_types": ["ec:P-256"],
      "default_validity_days": 30, "max_validity_days": 30, "max_renewal_days": 30,
      "key_usage": ["digitalSignature"], "extended_key_usage": [], "policy_oids": [],
      "subject": {"required": ["CN"]}
    }]
  })");
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  const Profile& p = set->profiles()[0];
  EXPECT_TRUE(p.key_usage_critical);
  EXPECT_FALSE(p.extended_key_usage_critical);
  EXPECT_TRUE(p.include_aia);
  EXPECT_TRUE(p.include_crl_dp);
  EXPECT_FALSE(p.ocsp_no_check);
  EXPECT_EQ(p.backdate_seconds, 0);
  EXPECT_EQ(p.san, SanRules{});
  EXPECT_EQ(p.san.email, SanRule::kForbidden);
  EXPECT_TRUE(p.uid.allowed_prefixes.empty());
}

TEST(LoaderTest, RefusesValidityOverTheLegalMaximum) {
  EXPECT_LOAD_ERROR(Edited([](OJson& d) { d["profiles"][2]["max_validity_days"] = 1827; }),
                    "profiles[2].max_validity_days: exceeds 1826 (Nghị định 68/2024/NĐ-CP Điều 9");
  EXPECT_LOAD_ERROR(Edited([](OJson& d) { d["profiles"][0]["max_renewal_days"] = 1097; }),
                    "profiles[0].max_renewal_days: exceeds 1096");
  EXPECT_LOAD_ERROR(Edited([](OJson& d) { d["profiles"][1]["default_validity_days"] = 1827; }),
                    "profiles[1].default_validity_days: must be between 1 and max_validity_days");
  EXPECT_LOAD_ERROR(Edited([](OJson& d) { d["profiles"][1]["max_validity_days"] = 0; }),
                    "profiles[1].max_validity_days: must be >= 1");
  EXPECT_LOAD_ERROR(Edited([](OJson& d) { d["profiles"][1]["max_validity_days"] = 1e12; }),
                    "profiles[1].max_validity_days: must be an integer");
  EXPECT_LOAD_ERROR(
      Edited([](OJson& d) { d["profiles"][1]["max_validity_days"] = 18446744073709551615ull; }),
      "profiles[1].max_validity_days: is out of range");
  EXPECT_LOAD_ERROR(Edited([](OJson& d) { d["profiles"][4]["backdate_seconds"] = 7200; }),
                    "profiles[4].backdate_seconds: must be between 0 and 3600");
}

TEST(LoaderTest, RefusesUnknownAndMissingKeys) {
  EXPECT_LOAD_ERROR(Edited([](OJson& d) { d["profiles"][1]["max_validty_days"] = 10; }),
                    "profiles[1].max_validty_days: unknown key");
  EXPECT_LOAD_ERROR(Edited([](OJson& d) { d["comment"] = "x"; }), "comment: unknown key");
  EXPECT_LOAD_ERROR(
      Edited([](OJson& d) { d["profiles"][3]["subject"]["optional"] = OJson::array(); }),
      "profiles[3].subject.optional: unknown key");
  EXPECT_LOAD_ERROR(Edited([](OJson& d) { d["profiles"][0].erase("name"); }),
                    "profiles[0].name: missing");
  EXPECT_LOAD_ERROR(Edited([](OJson& d) { d["profiles"][0].erase("subject"); }),
                    "profiles[0].subject: missing");
  EXPECT_LOAD_ERROR(Edited([](OJson& d) { d.erase("version"); }), "version: missing");
}

TEST(LoaderTest, RefusesWrongTypes) {
  EXPECT_LOAD_ERROR(Edited([](OJson& d) { d["profiles"][0]["key_usage_critical"] = "yes"; }),
                    "profiles[0].key_usage_critical: must be true or false");
  EXPECT_LOAD_ERROR(Edited([](OJson& d) { d["profiles"][0]["name"] = 7; }),
                    "profiles[0].name: must be a string");
  EXPECT_LOAD_ERROR(Edited([](OJson& d) { d["profiles"][0]["key_usage"] = "digitalSignature"; }),
                    "profiles[0].key_usage: must be an array of strings");
  EXPECT_LOAD_ERROR(Edited([](OJson& d) { d["profiles"][0]["policy_oids"][0] = 2; }),
                    "profiles[0].policy_oids[0]: must be a string");
  EXPECT_LOAD_ERROR(Edited([](OJson& d) { d["profiles"][5] = OJson::array(); }),
                    "profiles[5]: must be a JSON object");
  EXPECT_LOAD_ERROR(Edited([](OJson& d) { d["profiles"] = OJson::array(); }),
                    "profiles: must be a non-empty array");
  EXPECT_LOAD_ERROR("[]", ": must be a JSON object");
  EXPECT_LOAD_ERROR(Edited([](OJson& d) { d["version"] = 2; }), "version: must be 1");
}

TEST(LoaderTest, RefusesBadOidsAndKeySpecs) {
  EXPECT_LOAD_ERROR(
      Edited([](OJson& d) { d["profiles"][3]["policy_oids"][0] = "2.16.704.1.99.x"; }),
      "profiles[3].policy_oids[0]: \"2.16.704.1.99.x\" is not a dotted OID");
  EXPECT_LOAD_ERROR(
      Edited([](OJson& d) { d["profiles"][4]["extended_key_usage"][1] = "clientAuthentication"; }),
      "profiles[4].extended_key_usage[1]: \"clientAuthentication\" is neither");
  EXPECT_LOAD_ERROR(Edited([](OJson& d) { d["profiles"][0]["key_types"][0] = "rsa:1024"; }),
                    "profiles[0].key_types[0]: unknown key type");
  EXPECT_LOAD_ERROR(Edited([](OJson& d) { d["profiles"][0]["key_types"][1] = "rsa:2048"; }),
                    "profiles[0].key_types[1]: \"rsa:2048\" is listed twice");
  // Two spellings of one key are the same key.
  EXPECT_LOAD_ERROR(Edited([](OJson& d) { d["profiles"][0]["key_types"][4] = "ec:p256"; }),
                    "profiles[0].key_types[4]: lists the same key twice");
  EXPECT_LOAD_ERROR(Edited([](OJson& d) { d["profiles"][0]["key_types"] = OJson::array(); }),
                    "profiles[0].key_types: must list at least one key");
  // A custom EKU OID is fine.
  EXPECT_EQ(LoadError(Edited([](OJson& d) {
              d["profiles"][4]["extended_key_usage"].push_back("1.3.6.1.4.1.311.10.3.12");
            })),
            "");
}

TEST(LoaderTest, RefusesCaKeyUsageAndUnknownBits) {
  EXPECT_LOAD_ERROR(
      Edited([](OJson& d) { d["profiles"][0]["key_usage"].push_back("keyCertSign"); }),
      "profiles[0].key_usage[2]: keyCertSign is for CA certificates");
  EXPECT_LOAD_ERROR(Edited([](OJson& d) { d["profiles"][0]["key_usage"][0] = "digitalsignature"; }),
                    "profiles[0].key_usage[0]: unknown key usage");
  EXPECT_LOAD_ERROR(
      Edited([](OJson& d) { d["profiles"][0]["key_usage"].push_back("nonRepudiation"); }),
      "profiles[0].key_usage[2]: \"nonRepudiation\" is listed twice");
}

TEST(LoaderTest, RefusesTypeRuleViolations) {
  EXPECT_LOAD_ERROR(Edited([](OJson& d) { d["profiles"][0]["ocsp_no_check"] = true; }),
                    "profiles[0].ocsp_no_check: is only for certificate_type \"ocsp\"");
  OJson doc = OJson::parse(ProfileSet::BuiltInJson());
  int tsa = IndexOf(doc, "tsa");
  int ocsp = IndexOf(doc, "ocsp-signer");
  EXPECT_LOAD_ERROR(
      Edited([&](OJson& d) { d["profiles"][tsa]["extended_key_usage_critical"] = false; }),
      "profiles[6].extended_key_usage_critical: must be true");
  EXPECT_LOAD_ERROR(
      Edited([&](OJson& d) { d["profiles"][tsa]["extended_key_usage"].push_back("clientAuth"); }),
      "profiles[6].extended_key_usage: must be exactly [\"timeStamping\"]");
  EXPECT_LOAD_ERROR(
      Edited([&](OJson& d) { d["profiles"][ocsp]["extended_key_usage"] = {"clientAuth"}; }),
      "profiles[5].extended_key_usage: must include OCSPSigning");
  EXPECT_LOAD_ERROR(Edited([](OJson& d) { d["profiles"][0]["certificate_type"] = "person"; }),
                    "profiles[0].certificate_type: must be");
}

TEST(LoaderTest, RefusesBadSubjectRules) {
  EXPECT_LOAD_ERROR(Edited([](OJson& d) { d["profiles"][0]["subject"]["required"][1] = "CNN"; }),
                    "profiles[0].subject.required[1]: unknown attribute type \"CNN\"");
  EXPECT_LOAD_ERROR(
      Edited([](OJson& d) { d["profiles"][0]["subject"]["allowed"].push_back("CN"); }),
      "profiles[0].subject.allowed[6]: CN is listed in both required and allowed");
  EXPECT_LOAD_ERROR(Edited([](OJson& d) { d["profiles"][0]["subject"]["forbidden"] = {"O"}; }),
                    "profiles[0].subject.forbidden[0]: O is also required or allowed");
  EXPECT_LOAD_ERROR(Edited([](OJson& d) { d["profiles"][0]["subject"]["fixed"]["DC"] = "vn"; }),
                    "profiles[0].subject.fixed.DC: fixes an attribute that is neither");
  EXPECT_LOAD_ERROR(Edited([](OJson& d) { d["profiles"][0]["subject"]["fixed"]["C"] = " "; }),
                    "profiles[0].subject.fixed.C: subject attribute C is empty");
  EXPECT_LOAD_ERROR(Edited([](OJson& d) { d["profiles"][0]["subject"]["fixed"]["C"] = "VNM"; }),
                    "profiles[0].subject.fixed.C: is longer than 2 characters");
  EXPECT_LOAD_ERROR(Edited([](OJson& d) { d["profiles"][0]["subject"]["fixed"]["C"] = "vn"; }),
                    "profiles[0].subject.fixed.C: must be a two-letter upper-case ISO 3166 code");
  EXPECT_LOAD_ERROR(
      Edited([](OJson& d) { d["profiles"][0]["subject"]["required"] = OJson::array(); }),
      "profiles[0].subject.required: must list at least one attribute");
  // Dotted OIDs are accepted as attribute types.
  EXPECT_EQ(LoadError(Edited(
                [](OJson& d) { d["profiles"][0]["subject"]["allowed"].push_back("2.5.4.97"); })),
            "");
}

TEST(LoaderTest, RefusesBadUidRules) {
  EXPECT_LOAD_ERROR(
      Edited([](OJson& d) { d["profiles"][3]["uid"]["allowed_prefixes"][0] = "TIN"; }),
      "profiles[3].uid.allowed_prefixes[0]: unknown UID prefix \"TIN\"");
  EXPECT_LOAD_ERROR(
      Edited([](OJson& d) { d["profiles"][3]["uid"]["required_one_of"][0].push_back("CCCD"); }),
      "profiles[3].uid.required_one_of[0][2]: \"CCCD\" is not in uid.allowed_prefixes");
  EXPECT_LOAD_ERROR(Edited([](OJson& d) {
                      d["profiles"][3]["uid"]["required_one_of"].push_back(OJson::array());
                    }),
                    "profiles[3].uid.required_one_of[1]: must list at least one prefix");
  EXPECT_LOAD_ERROR(Edited([](OJson& d) { d["profiles"][5]["uid"]["allowed_prefixes"] = {"MST"}; }),
                    "profiles[5].uid.allowed_prefixes: lists prefixes, but subject");
  EXPECT_LOAD_ERROR(Edited([](OJson& d) { d["profiles"][3]["uid"].erase("allowed_prefixes"); }),
                    "profiles[3].uid.allowed_prefixes: missing");
}

TEST(LoaderTest, RefusesBadSanRules) {
  EXPECT_LOAD_ERROR(Edited([](OJson& d) { d["profiles"][0]["san"]["email"] = "maybe"; }),
                    "profiles[0].san.email: must be \"forbidden\", \"optional\" or \"required\"");
  EXPECT_LOAD_ERROR(Edited([](OJson& d) { d["profiles"][0]["san"]["email"] = "forbidden"; }),
                    "profiles[0].san.copy_subject_email: needs san.email not \"forbidden\"");
  EXPECT_LOAD_ERROR(Edited([](OJson& d) { d["profiles"][0]["san"]["allow_wildcard"] = true; }),
                    "profiles[0].san.allow_wildcard: needs san.dns not \"forbidden\"");
}

TEST(LoaderTest, RefusesDuplicateNamesAndBadNames) {
  EXPECT_LOAD_ERROR(Edited([](OJson& d) { d["profiles"][1]["name"] = "individual"; }),
                    "profiles[1].name: \"individual\" is defined twice");
  EXPECT_LOAD_ERROR(Edited([](OJson& d) { d["profiles"][1]["name"] = "Cá nhân"; }),
                    "profiles[1].name: \"Cá nhân\" must be");
}

TEST(LoaderTest, RefusesDuplicateJsonKeysNamingThePath) {
  std::string json = ProfileSet::BuiltInJson();
  std::string needle = "\"max_renewal_days\": 1096,";
  size_t first = json.find(needle);
  ASSERT_NE(first, std::string::npos);
  size_t second = json.find(needle, first + 1);  // the second profile's
  ASSERT_NE(second, std::string::npos);
  json.insert(second, "\"max_renewal_days\": 30, ");
  EXPECT_LOAD_ERROR(json, "profiles[1].max_renewal_days: duplicate key");
  EXPECT_LOAD_ERROR(R"({"version": 1, "version": 1, "profiles": []})", "version: duplicate key");
  EXPECT_LOAD_ERROR(R"({"version": 1, "profiles": [{}, {"a": [1, {"b": 1, "b": 2}]}]})",
                    "profiles[1].a[1].b: duplicate key");
}

TEST(LoaderTest, RefusesMalformedJson) {
  EXPECT_LOAD_ERROR("", "not valid JSON: parse error at line 1, column 1");
  EXPECT_LOAD_ERROR("{\"version\": 1,\n \"profiles\": [}", "not valid JSON: parse error at line 2");
  EXPECT_LOAD_ERROR("{} {}", "not valid JSON");
  EXPECT_LOAD_ERROR("{\"version\": \"\xFF\"}", "not valid JSON");
  EXPECT_LOAD_ERROR(std::string(100000, '['), "not valid JSON");
}

}  // namespace
}  // namespace kyso::policy
