// Fuzzes the profile loader, the writer and Evaluate().
//
// Input: the bytes of a profile file. When it loads, every profile must survive the round trip
// ProfileToJson -> FromJson unchanged, and every profile is evaluated against a fixed set of
// requests for every issuance kind; any crash, leak, UB or broken round trip is a finding.
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>
#include <vector>

#include "policy/profile.h"

namespace {

using kyso::policy::IssuanceKind;
using kyso::policy::RequestFacts;

std::vector<RequestFacts> Requests() {
  std::vector<RequestFacts> requests;
  RequestFacts agency;
  agency.subject = kyso::x509::Name(
      std::vector<kyso::x509::NameAttribute>{{"C", "VN"},
                                             {"L", "Đà Nẵng"},
                                             {"O", "UBND TP Đà Nẵng"},
                                             {"CN", "Sở Y tế"},
                                             {"UID", "MST:0400260612"},
                                             {"UID", "MNS:1047665"},
                                             {"emailAddress", "syt@danang.gov.vn"}});
  agency.key = {kyso::crypto::KeyAlgorithm::kRsa, 3072, ""};
  agency.email_sans = {"vanthu@danang.gov.vn"};
  requests.push_back(agency);

  RequestFacts device;
  device.subject = kyso::x509::Name(std::vector<kyso::x509::NameAttribute>{
      {"C", "VN"}, {"O", "Cục Thuế"}, {"CN", "dichvucong.gdt.gov.vn"}});
  device.key = {kyso::crypto::KeyAlgorithm::kEcdsa, 256, "P-256"};
  device.dns_sans = {"dichvucong.gdt.gov.vn", "*.gdt.gov.vn"};
  device.ip_sans = {"10.10.1.5", "2001:db8::1"};
  requests.push_back(device);

  RequestFacts person;
  person.subject = kyso::x509::Name(std::vector<kyso::x509::NameAttribute>{
      {"CN", "Nguyễn Văn An"}, {"C", "VN"}, {"UID", "CCCD:001099012345"}, {"title", "Giám đốc"}});
  person.key = {kyso::crypto::KeyAlgorithm::kEd25519, 256, ""};
  requests.push_back(person);
  return requests;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::vector<RequestFacts>* requests = new std::vector<RequestFacts>(Requests());
  std::string_view json(reinterpret_cast<const char*>(data), size);
  kyso::Result<kyso::policy::ProfileSet> set = kyso::policy::ProfileSet::FromJson(json);
  if (!set.ok()) return 0;

  // The writer's output must load back to the same profiles.
  std::string written = kyso::policy::ProfileSetToJson(*set).dump();
  kyso::Result<kyso::policy::ProfileSet> again = kyso::policy::ProfileSet::FromJson(written);
  if (!again.ok() || again->profiles() != set->profiles()) std::abort();

  constexpr kyso::UnixSeconds kNow = 1767225600;  // 2026-01-01T00:00:00Z
  for (const auto& profile : set->profiles()) {
    for (const auto& request : *requests) {
      for (IssuanceKind kind : {IssuanceKind::kNew, IssuanceKind::kRenewal, IssuanceKind::kChange,
                                IssuanceKind::kReissue}) {
        for (std::optional<int> days :
             {std::optional<int>(), std::optional<int>(1), std::optional<int>(1096),
              std::optional<int>(-1), std::optional<int>(std::numeric_limits<int>::max())}) {
          auto plan = kyso::policy::Evaluate(profile, request, kind, days, kNow,
                                             kNow + 20 * 365 * kyso::kSecondsPerDay);
          if (plan.ok() &&
              (plan->not_after < plan->not_before ||
               plan->subject.attributes().size() != request.subject.attributes().size())) {
            std::abort();
          }
        }
      }
    }
  }
  return 0;
}
