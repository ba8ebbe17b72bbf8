// Fuzz target: the request forms of the registration workflow (the JSON body of POST
// /api/v1/requests and PUT /api/v1/requests/{id}), the canonical document the managing agency
// signs, and the "ra.calendar" setting.
//
// Input: JSON text (or anything). For every request kind, ValidateForm must return OK or a
// form.* error without crashing. CanonicalDocument over a record whose form_json is the input
// must be JSON that re-dumps to the same bytes (the canonical form is a fixed point), and when
// the input is JSON its "form" member must equal it. A calendar that loads must survive
// ToJson -> FromJson unchanged.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "ra/calendar.h"
#include "ra/kinds.h"
#include "ra/registry.h"
#include "store/registry.h"

using nlohmann::json;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto& kinds = kyso::ra::AllKinds();

  const json form = json::parse(input, nullptr, false);
  for (const auto& kind : kinds) {
    const kyso::Status status = kyso::ra::ValidateForm(kind, form);
    if (!status.ok() && status.id().rfind("form.", 0) != 0) std::abort();
    if (status.ok() && !form.is_object()) std::abort();
  }

  kyso::store::RequestRecord record;
  record.id = 42;
  record.version = 3;
  record.kind = std::string(kinds[size % kinds.size()].id);
  record.organization_id = 7;
  if (size % 2 == 0) record.person_id = 1001;
  if (size % 3 == 0) record.certificate_id = 55;
  record.form_json = std::string(input);
  const std::string document = kyso::ra::Registry::CanonicalDocument(record);
  const json reparsed = json::parse(document, nullptr, false);
  if (reparsed.is_discarded() || !reparsed.is_object()) std::abort();
  if (reparsed.dump() != document) std::abort();
  if (!form.is_discarded() && reparsed["form"] != form) std::abort();

  auto calendar = kyso::ra::WorkingCalendar::FromJson(input);
  if (!calendar.ok()) {
    if (calendar.status().id().rfind("ra.", 0) != 0) std::abort();
    return 0;
  }
  const std::string text = calendar->ToJson();
  auto again = kyso::ra::WorkingCalendar::FromJson(text);
  if (!again.ok() || again->ToJson() != text) std::abort();
  // 2026-01-02 10:00 Vietnam time: a deadline three working days on must be a later day.
  const kyso::UnixSeconds from = 1767322800;
  if (calendar->Deadline(from, 3) <= from) std::abort();
  return 0;
}
