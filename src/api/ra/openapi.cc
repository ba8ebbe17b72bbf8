// The OpenAPI 3.0 description of the registration API, built as data so that it names exactly
// the routes registry_routes.cc registers (a test compares the two).
#include <nlohmann/json.hpp>

#include "api/ra/registry_routes.h"
#include "ra/kinds.h"
#include "ra/state_machine.h"

namespace kyso::api {
namespace {

using ojson = nlohmann::ordered_json;

ojson Ref(const std::string& name) {
  return {{"$ref", "#/components/schemas/" + name}};
}

ojson JsonContent(const ojson& schema) {
  return {{"application/json", {{"schema", schema}}}};
}

ojson Errors(std::initializer_list<int> codes) {
  ojson out = ojson::object();
  for (int code : codes) {
    out[std::to_string(code)] = {{"description", "error"}, {"content", JsonContent(Ref("Error"))}};
  }
  return out;
}

ojson Operation(const std::string& summary, const std::string& tag, ojson ok_schema,
                int ok_status = 200, std::optional<ojson> body = std::nullopt,
                ojson parameters = ojson::array()) {
  ojson op = {{"summary", summary}, {"tags", {tag}}};
  if (!parameters.empty()) op["parameters"] = parameters;
  if (body) op["requestBody"] = {{"required", true}, {"content", JsonContent(*body)}};
  ojson responses = Errors({400, 401, 403, 404, 409});
  responses[std::to_string(ok_status)] = {{"description", "success"},
                                          {"content", JsonContent(ok_schema)}};
  op["responses"] = responses;
  return op;
}

ojson PathInt(const std::string& name, const std::string& what) {
  return {{"name", name},
          {"in", "path"},
          {"required", true},
          {"description", what},
          {"schema", {{"type", "integer"}, {"format", "int64"}}}};
}

ojson PathId(const std::string& what) {
  return PathInt("id", what);
}

ojson Query(const std::string& name, const std::string& type, const std::string& description) {
  return {
      {"name", name}, {"in", "query"}, {"description", description}, {"schema", {{"type", type}}}};
}

ojson IdempotencyHeader() {
  return {{"name", "Idempotency-Key"},
          {"in", "header"},
          {"description",
           "a retry with the same key and body returns the first result (200, "
           "Idempotent-Replayed: true); the same key with another body is refused (422)"},
          {"schema", {{"type", "string"}, {"maxLength", 200}}}};
}

ojson Page(const std::string& item) {
  return {{"type", "object"},
          {"properties",
           {{"items", {{"type", "array"}, {"items", Ref(item)}}},
            {"next_after", {{"type", "integer"}, {"nullable", true}}}}}};
}

ojson Object(std::initializer_list<std::pair<const char*, ojson>> props,
             std::vector<std::string> required = {}) {
  ojson properties = ojson::object();
  for (const auto& [name, schema] : props) properties[name] = schema;
  ojson out = {{"type", "object"}, {"properties", properties}};
  if (!required.empty()) out["required"] = required;
  return out;
}

const ojson kInt = {{"type", "integer"}, {"format", "int64"}};
const ojson kStr = {{"type", "string"}};
const ojson kBool = {{"type", "boolean"}};
const ojson kTime = {{"type", "string"}, {"format", "date-time"}};
const ojson kRole = {
    {"type", "string"},
    {"enum",
     {"subscriber", "agency_officer", "delegate_officer", "ca_operator", "auditor", "admin"}}};
const ojson kNullableTime = {{"type", "string"}, {"format", "date-time"}, {"nullable", true}};

}  // namespace

std::string OpenApiDocument() {
  ojson kinds = ojson::array();
  std::string kinds_doc;
  for (const auto& k : ra::AllKinds()) {
    kinds.push_back(std::string(k.id));
    kinds_doc += "\n- `" + std::string(k.id) + "` (" + std::string(k.form) + ", " +
                 std::to_string(k.deadline_working_days) + " working days, " +
                 (k.delegable ? "delegable" : "CA operator") + "): fields";
    for (const auto& f : k.fields) {
      kinds_doc += " `" + std::string(f.name) + "`" + (f.required ? "*" : "");
    }
  }
  ojson states = ojson::array();
  for (auto st : ra::AllStates()) states.push_back(std::string(st));
  ojson actions = ojson::array();
  for (const auto& t : ra::Transitions()) {
    if (t.action != "submit") actions.push_back(std::string(t.action));
  }

  ojson schemas = {
      {"Error", Object({{"error", Object({{"code", kStr}, {"message", kStr}}, {"code"})}})},
      {"Summary", Object({{"requests_by_state",
                           {{"type", "object"},
                            {"additionalProperties", kInt},
                            {"description", "state → count"}}},
                          {"overdue", kInt},
                          {"certificates", Object({{"valid", kInt},
                                                   {"revoked", kInt},
                                                   {"expiring_30", kInt},
                                                   {"expiring_60", kInt},
                                                   {"expiring_90", kInt}},
                                                  {"valid", "revoked", "expiring_30", "expiring_60",
                                                   "expiring_90"})},
                          {"months",
                           {{"type", "array"},
                            {"items", Object({{"month", kStr}, {"issued", kInt}, {"revoked", kInt}},
                                             {"month", "issued", "revoked"})}}}},
                         {"requests_by_state", "overdue", "certificates", "months"})},
      {"ApiToken", Object({{"id", kInt},
                           {"name", kStr},
                           {"created_at", kTime},
                           {"expires_at", kTime},
                           {"revoked", kBool},
                           {"expired", kBool}},
                          {"id", "name", "created_at", "expires_at", "revoked", "expired"})},
      {"Attachment", Object({{"id", kInt},
                             {"request_id", kInt},
                             {"filename", kStr},
                             {"content_type", kStr},
                             {"size", kInt},
                             {"sha256", kStr},
                             {"created_by", kStr},
                             {"created_at", kTime}},
                            {"id", "request_id", "filename", "content_type", "size", "sha256",
                             "created_by", "created_at"})},
      {"Reminder",
       Object({{"id", kInt},
               {"certificate_id", kInt},
               {"serial", kStr},
               {"common_name", kStr},
               {"not_after", kTime},
               {"organization_id", {{"type", "integer"}, {"nullable", true}}},
               {"days", {{"type", "integer"}, {"description", "the window: 30, 60 or 90"}}},
               {"state", {{"type", "string"}, {"enum", {"queued", "retrying", "sent"}}}},
               {"channel", kStr},
               {"recipient", kStr},
               {"queued_at", kTime},
               {"sent_at", kNullableTime},
               {"attempts", kInt}},
              {"id", "certificate_id", "serial", "common_name", "not_after", "organization_id",
               "days", "state", "channel", "recipient", "queued_at", "sent_at", "attempts"})},
      {"Me", Object({{"account_id", kInt},
                     {"username", kStr},
                     {"role", kRole},
                     {"organization_id", {{"type", "integer"}, {"nullable", true}}},
                     {"person_id", {{"type", "integer"}, {"nullable", true}}},
                     {"auth_method", kStr},
                     {"delegations", {{"type", "array"}, {"items", Ref("Delegation")}}}},
                    {"account_id", "username", "role", "organization_id", "person_id",
                     "auth_method", "delegations"})},
      {"Certificate",
       Object(
           {{"id", kInt},
            {"serial", {{"type", "string"}, {"description", "upper-case hex"}}},
            {"ca", kStr},
            {"status",
             {{"type", "string"}, {"description", "valid | expired | revoked | not_yet_valid"}}},
            {"subject", kStr},
            {"common_name", kStr},
            {"uids", {{"type", "array"}, {"items", kStr}}},
            {"email", kStr},
            {"issuer", kStr},
            {"profile", kStr},
            {"issuance_kind", kStr},
            {"not_before", kTime},
            {"not_after", kTime},
            {"key_fingerprint_sha256", kStr},
            {"revocation", Object({{"time", kTime}, {"reason", kStr}, {"invalidity_date", kTime}})},
            {"replaces_id", kInt},
            {"owner_id", {{"type", "integer"}, {"nullable", true}}},
            {"organization_id", {{"type", "integer"}, {"nullable", true}}},
            {"pem", kStr}},
           {"id", "serial", "ca", "status", "subject", "common_name", "uids", "email", "issuer",
            "profile", "not_before", "not_after", "pem", "owner_id", "organization_id"})},
      {"RequestKind",
       Object(
           {{"id", kStr},
            {"form", kStr},
            {"title_vi", kStr},
            {"needs_person", kBool},
            {"needs_certificate", kBool},
            {"delegable", kBool},
            {"deadline_working_days", kInt},
            {"fields",
             {{"type", "array"},
              {"items", Object({{"name", kStr},
                                {"check",
                                 {{"type", "string"},
                                  {"enum",
                                   {"text", "long_text", "personal_id", "tax_code", "budget_code",
                                    "email", "mobile", "date", "csr", "reason", "integer"}}}},
                                {"required", kBool},
                                {"label_vi", kStr}},
                               {"name", "check", "required", "label_vi"})}}}},
           {"id", "form", "title_vi", "needs_person", "needs_certificate", "delegable",
            "deadline_working_days", "fields"})},
      {"ServiceStatus",
       Object({{"now", kTime},
               {"cas",
                {{"type", "array"},
                 {"items", Object({{"name", kStr},
                                   {"role", kStr},
                                   {"subject", kStr},
                                   {"serial", kStr},
                                   {"not_before", kTime},
                                   {"not_after", kTime},
                                   {"signature", kStr},
                                   {"crl", Ref("CrlInfo")},
                                   {"delta_crl", Ref("CrlInfo")}},
                                  {"name", "role", "subject", "not_after", "crl", "delta_crl"})}}},
               {"ocsp", Object({{"cache_hits", kInt},
                                {"cache_misses", kInt},
                                {"signed_responses", kInt},
                                {"cached_entries", kInt},
                                {"cached_bytes", kInt}})},
               {"tsa", Object({{"tokens_issued", kInt},
                               {"policy_oid", kStr},
                               {"certificate_not_after", kTime}})}},
              {"now", "cas"})},
      {"CrlInfo",
       {{"type", "object"},
        {"nullable", true},
        {"properties",
         {{"ca", kStr},
          {"number", kInt},
          {"delta", kBool},
          {"this_update", kTime},
          {"next_update", kTime},
          {"entries", kInt},
          {"size_bytes", kInt},
          {"base_number", kInt},
          {"stale", kBool}}},
        {"required", {"number", "this_update", "next_update", "entries", "stale"}}}},
      {"AuditCheck",
       Object(
           {{"ok", kBool},
            {"entries", kInt},
            {"checkpoints", kInt},
            {"last_sealed_seq", kInt},
            {"problems",
             {{"type", "array"},
              {"items", Object({{"id", kStr}, {"seq", kInt}, {"message", kStr}, {"warning", kBool}},
                               {"id", "seq", "message", "warning"})}}}},
           {"ok", "entries", "checkpoints", "last_sealed_seq", "problems"})},
      {"Organization",
       Object({{"id", kInt},
               {"parent_id", {{"type", "integer"}, {"nullable", true}}},
               {"path", kStr},
               {"name", kStr},
               {"tax_code", {{"type", "string"}, {"description", "MST: 10 or 13 digits"}}},
               {"budget_code", {{"type", "string"}, {"description", "MNS: 7 digits"}}},
               {"address", kStr},
               {"email", kStr},
               {"province", kStr},
               {"managing_agency", kBool},
               {"created_at", kTime},
               {"updated_at", kTime},
               {"version", kInt}},
              {"name"})},
      {"Person",
       Object(
           {{"id", kInt},
            {"organization_id", kInt},
            {"full_name", kStr},
            {"personal_id", {{"type", "string"}, {"description", "CCCD, 12 digits"}}},
            {"position", kStr},
            {"email", kStr},
            {"mobile", kStr},
            {"status", {{"type", "string"}, {"enum", {"active", "retired", "left", "deceased"}}}},
            {"version", kInt}},
           {"full_name", "personal_id", "organization_id"})},
      {"Account",
       Object({{"id", kInt},
               {"username", kStr},
               {"role", kRole},
               {"organization_id", {{"type", "integer"}, {"nullable", true}}},
               {"person_id", {{"type", "integer"}, {"nullable", true}}},
               {"display_name", kStr},
               {"password", {{"type", "string"}, {"writeOnly", true}}},
               {"password_login", {{"type", "boolean"}, {"readOnly", true}}},
               {"certificate_sha256", kStr},
               {"disabled", {{"type", "boolean"}, {"readOnly", true}}},
               {"created_at", {{"type", "string"}, {"format", "date-time"}, {"readOnly", true}}}},
              {"username", "role"})},
      {"Request",
       Object({{"id", kInt},
               {"kind", {{"type", "string"}, {"enum", kinds}, {"description", kinds_doc}}},
               {"state", {{"type", "string"}, {"enum", states}}},
               {"organization_id", kInt},
               {"person_id", {{"type", "integer"}, {"nullable", true}}},
               {"certificate_id", {{"type", "integer"}, {"nullable", true}}},
               {"form", {{"type", "object"}, {"description", "the fields of the kind's form"}}},
               {"assignee", kStr},
               {"signer", kStr},
               {"signed", kBool},
               {"submitted_at", kNullableTime},
               {"due_at", kNullableTime},
               {"result_certificate_id", {{"type", "integer"}, {"nullable", true}}},
               {"result_note", kStr},
               {"created_by", kStr},
               {"created_at", kTime},
               {"updated_at", kTime},
               {"version", kInt}},
              {"kind", "organization_id"})},
      {"Delegation", Object({{"id", kInt},
                             {"delegate_organization_id", kInt},
                             {"scope_organization_id", kInt},
                             {"kinds", {{"type", "array"}, {"items", kStr}}},
                             {"withdrawn_at", kTime}},
                            {"delegate_organization_id", "scope_organization_id", "kinds"})},
      {"ImportReport",
       Object({{"dry_run", kBool},
               {"rows", kInt},
               {"created", kInt},
               {"errors",
                {{"type", "array"},
                 {"items", Object({{"line", kInt}, {"code", kStr}, {"message", kStr}})}}}})},
  };

  ojson paging = {Query("after", "integer", "keyset: the next_after of the previous page"),
                  Query("limit", "integer", "1..500")};
  ojson request_filters = paging;
  request_filters.push_back(Query("state", "string", "comma-separated states"));
  request_filters.push_back(Query("kind", "string", "comma-separated kinds"));
  request_filters.push_back(Query("organization_id", "integer", "this body's subtree"));
  request_filters.push_back(Query("overdue", "boolean", "past the working-day deadline"));
  request_filters.push_back(Query("mine", "boolean", "only what the caller handles"));

  ojson paths = {
      {"/api/v1/auth/login",
       {{"post",
         Operation("Password login: sets the session cookie, returns the CSRF token", "auth",
                   Object({{"csrf_token", kStr}, {"expires_at", kTime}}), 200,
                   Object({{"username", kStr}, {"password", kStr}}, {"username", "password"}))}}},
      {"/api/v1/auth/logout", {{"post", Operation("End the session", "auth", kBool)}}},
      {"/api/v1/auth/tokens",
       {{"get", Operation("The caller's own API tokens (never their secrets)", "auth",
                          Page("ApiToken"), 200, std::nullopt, paging)},
        {"post", Operation("Create an API token for the caller (shown once)", "auth",
                           Object({{"token", kStr}, {"expires_at", kTime}}), 201,
                           Object({{"name", kStr}, {"days", kInt}}, {"name"}))}}},
      {"/api/v1/auth/tokens/{id}",
       {{"delete", Operation("Revoke one of the caller's own API tokens (at once); another "
                             "account's token is 404 store.not_found",
                             "auth", Ref("ApiToken"), 200, std::nullopt, {PathId("token")})}}},
      {"/api/v1/auth/password",
       {{"post", Operation("Change the caller's own password (the current one is required)", "auth",
                           Object({{"changed", kBool}}), 200,
                           Object({{"current_password", kStr}, {"new_password", kStr}},
                                  {"current_password", "new_password"}))}}},
      {"/api/v1/me",
       {{"get", Operation("The caller: role, scope, delegations", "auth", Ref("Me"))}}},
      {"/api/v1/accounts",
       {{"get",
         Operation("Accounts (admin)", "accounts", Page("Account"), 200, std::nullopt, paging)},
        {"post",
         Operation("Create an account (admin)", "accounts", Ref("Account"), 201, Ref("Account"))}}},
      {"/api/v1/organizations",
       {{"get", Operation("Bodies in the caller's scope", "organizations", Page("Organization"),
                          200, std::nullopt, paging)},
        {"post", Operation("Create a body", "organizations", Ref("Organization"), 201,
                           Ref("Organization"), {IdempotencyHeader()})}}},
      {"/api/v1/organizations/import",
       {{"post",
         {{"summary",
           "CSV import of bodies (name,parent_tax_code,tax_code,budget_code,address,"
           "email,province,managing_agency); ?dry_run=1 checks only"},
          {"tags", {"organizations"}},
          {"requestBody", {{"content", {{"text/csv", {{"schema", kStr}}}}}}},
          {"responses",
           {{"200", {{"description", "imported"}, {"content", JsonContent(Ref("ImportReport"))}}},
            {"422",
             {{"description", "per-row errors, nothing written"},
              {"content", JsonContent(Ref("ImportReport"))}}}}}}}}},
      {"/api/v1/organizations/{id}",
       {{"get", Operation("A body", "organizations", Ref("Organization"), 200, std::nullopt,
                          {PathId("body")})},
        {"put", Operation("Change a body (send its version)", "organizations", Ref("Organization"),
                          200, Ref("Organization"), {PathId("body")})}}},
      {"/api/v1/people",
       {{"get", Operation("People in the caller's scope", "people", Page("Person"), 200,
                          std::nullopt, paging)},
        {"post", Operation("Register a person", "people", Ref("Person"), 201, Ref("Person"),
                           {IdempotencyHeader()})}}},
      {"/api/v1/people/import",
       {{"post",
         {{"summary",
           "CSV import of staff (full_name,personal_id,position,organization_tax_code,"
           "email,mobile); ?dry_run=1 checks only"},
          {"tags", {"people"}},
          {"requestBody", {{"content", {{"text/csv", {{"schema", kStr}}}}}}},
          {"responses",
           {{"200", {{"description", "imported"}, {"content", JsonContent(Ref("ImportReport"))}}},
            {"422",
             {{"description", "per-row errors, nothing written"},
              {"content", JsonContent(Ref("ImportReport"))}}}}}}}}},
      {"/api/v1/people/{id}",
       {{"get",
         Operation("A person", "people", Ref("Person"), 200, std::nullopt, {PathId("person")})},
        {"put", Operation("Change contact details and title", "people", Ref("Person"), 200,
                          Ref("Person"), {PathId("person")})}}},
      {"/api/v1/people/{id}/move",
       {{"post", Operation("Move to another body; opens change-of-information drafts", "people",
                           Object({{"person", Ref("Person")},
                                   {"opened_requests", {{"type", "array"}, {"items", kInt}}}}),
                           200,
                           Object({{"organization_id", kInt}, {"version", kInt}, {"reason", kStr}},
                                  {"organization_id", "version"}),
                           {PathId("person")})}}},
      {"/api/v1/people/{id}/status",
       {{"post", Operation("Retire / leave / deceased; opens revocation drafts", "people",
                           Object({{"person", Ref("Person")},
                                   {"opened_requests", {{"type", "array"}, {"items", kInt}}}}),
                           200,
                           Object({{"status", kStr}, {"version", kInt}, {"reason", kStr}},
                                  {"status", "version"}),
                           {PathId("person")})}}},
      {"/api/v1/requests",
       {{"get", Operation("Requests in the caller's scope", "requests", Page("Request"), 200,
                          std::nullopt, request_filters)},
        {"post", Operation("Draft a request (Mẫu 01–09)", "requests", Ref("Request"), 201,
                           Ref("Request"), {IdempotencyHeader()})}}},
      {"/api/v1/requests/{id}",
       {{"get", Operation("A request", "requests", Ref("Request"), 200, std::nullopt,
                          {PathId("request")})},
        {"put",
         Operation("Edit a draft or returned request's form (send its version)", "requests",
                   Ref("Request"), 200, Object({{"form", {{"type", "object"}}}, {"version", kInt}}),
                   {PathId("request")})}}},
      {"/api/v1/requests/{id}/document",
       {{"get",
         Operation("The canonical JSON to sign (exact bytes) for the current version", "requests",
                   {{"type", "object"}}, 200, std::nullopt, {PathId("request")})}}},
      {"/api/v1/requests/{id}/submit",
       {{"post", Operation("Submit with the managing agency's detached CMS (base64 DER) over "
                           "the document",
                           "requests", Ref("Request"), 200,
                           Object({{"signature", kStr}, {"version", kInt}}, {"version"}),
                           {PathId("request")})}}},
      {"/api/v1/requests/{id}/transitions",
       {{"post", Operation("review / approve / reject / return / cancel / execute", "requests",
                           Ref("Request"), 200,
                           Object({{"action", {{"type", "string"}, {"enum", actions}}},
                                   {"reason", kStr},
                                   {"version", kInt}},
                                  {"action", "version"}),
                           {PathId("request")})}}},
      {"/api/v1/requests/{id}/history",
       {{"get", Operation("Who moved the request, when and why", "requests", {{"type", "object"}},
                          200, std::nullopt, {PathId("request")})}}},
      {"/api/v1/requests/{id}/attachments",
       {{"get", Operation("Documents attached to the request", "requests",
                          Object({{"items", {{"type", "array"}, {"items", Ref("Attachment")}}}},
                                 {"items"}),
                          200, std::nullopt, {PathId("request")})},
        {"post",
         {{"summary",
           "Attach a PDF, PNG or JPEG (the raw file as the body, at most 5 MiB, 5 per request) "
           "to a draft or returned request; the type comes from the content"},
          {"tags", {"requests"}},
          {"parameters",
           {PathId("request"), Query("filename", "string", "the file's name (UTF-8)")}},
          {"requestBody",
           {{"required", true},
            {"content",
             {{"application/octet-stream",
               {{"schema", {{"type", "string"}, {"format", "binary"}}}}}}}}},
          {"responses", [] {
             ojson r = Errors({400, 401, 403, 404, 409, 413});
             r["201"] = {{"description", "attached"}, {"content", JsonContent(Ref("Attachment"))}};
             return r;
           }()}}}}},
      {"/api/v1/requests/{id}/attachments/{aid}",
       {{"get",
         {{"summary", "Download an attachment (Content-Disposition: attachment)"},
          {"tags", {"requests"}},
          {"parameters",
           {PathId("request"),
            PathInt("aid", "attachment")}},
          {"responses", [] {
             ojson r = Errors({400, 401, 403, 404});
             r["200"] = {
                 {"description", "the file"},
                 {"content",
                  {{"application/pdf", {{"schema", {{"type", "string"}, {"format", "binary"}}}}},
                   {"image/png", {{"schema", {{"type", "string"}, {"format", "binary"}}}}},
                   {"image/jpeg", {{"schema", {{"type", "string"}, {"format", "binary"}}}}}}}};
             return r;
           }()}}},
        {"delete", Operation("Remove an attachment from a draft or returned request", "requests",
                             Object({{"deleted", kBool}}), 200, std::nullopt,
                             {PathId("request"),
                              PathInt("aid", "attachment")})}}},
      {"/api/v1/delegations",
       {{"get",
         Operation("Delegations (?all=1 includes withdrawn)", "delegations", Page("Delegation"))},
        {"post", Operation("Delegate request kinds for a subtree (CA operator)", "delegations",
                           Ref("Delegation"), 201, Ref("Delegation"))}}},
      {"/api/v1/delegations/{id}/withdraw",
       {{"post", Operation("Withdraw a delegation (CA operator)", "delegations", Ref("Delegation"),
                           200, std::nullopt, {PathId("delegation")})}}},
      {"/api/v1/certificates",
       {{"get", Operation("Certificates in the caller's scope", "certificates",
                          Object({{"items", {{"type", "array"}, {"items", Ref("Certificate")}}}},
                                 {"items"}),
                          200, std::nullopt,
                          {Query("organization_id", "integer",
                                 "the body (officers without it: their body and its subtree)"),
                           Query("subtree", "string", "1: the body and every body under it"),
                           Query("owner_id", "integer", "the person"),
                           Query("status", "string", "valid | revoked"),
                           Query("expiring_within_days", "integer", "valid and expiring"),
                           Query("subject", "string", "a substring of the subject (a name)"),
                           Query("uid", "string", "exact identifier, e.g. CCCD:001099012345"),
                           Query("profile", "string", "certificate profile"),
                           Query("limit", "integer", "1..500"), Query("offset", "integer", "")})}}},
      {"/api/v1/registry/certificates/{id}",
       {{"get", Operation("A certificate by id", "certificates", Ref("Certificate"), 200,
                          std::nullopt, {PathId("certificate")})}}},
      {"/api/v1/reports/expiry",
       {{"get", Operation("Valid certificates expiring within 30/60/90 days per body", "reports",
                          {{"type", "object"}})}}},
      {"/api/v1/reminders",
       {{"get",
         Operation("Expiry reminders queued or sent about certificates in the caller's scope",
                   "reports", Page("Reminder"), 200, std::nullopt,
                   [&] {
                     ojson params = paging;
                     params.push_back(Query("certificate_id", "string",
                                            "comma-separated certificate ids (at most 500)"));
                     params.push_back(Query("organization_id", "integer", "this body's subtree"));
                     params.push_back(Query("days", "integer", "one window: 30, 60 or 90"));
                     params.push_back(Query("state", "string", "queued | retrying | sent"));
                     params.push_back(Query("sent_from", "string", "sent at or after (date)"));
                     params.push_back(Query("sent_before", "string", "sent before (date)"));
                     return params;
                   }())}}},
      {"/api/v1/request-kinds",
       {{"get",
         Operation(
             "The request kinds (Mẫu 01–09) and their form fields, as data", "requests",
             Object({{"items", {{"type", "array"}, {"items", Ref("RequestKind")}}}}, {"items"}))}}},
      {"/api/v1/reports/summary",
       {{"get", Operation("Dashboard figures in the caller's scope: requests by state, overdue, "
                          "certificates valid / revoked / expiring, issued and revoked per month "
                          "(last 12, Vietnam time)",
                          "reports", Ref("Summary"))}}},
      {"/api/v1/status",
       {{"get", Operation("CAs with their latest CRLs, OCSP cache and TSA figures (CA operator, "
                          "auditor, administrator)",
                          "reports", Ref("ServiceStatus"))}}},
      {"/api/v1/audit/verify",
       {{"get", Operation("The audit chain check of `kyso audit verify` (auditors only)", "audit",
                          Ref("AuditCheck"))}}},
      {"/api/v1/audit",
       {{"get", Operation("The hash-chained audit log (auditors only)", "audit",
                          {{"type", "object"}}, 200, std::nullopt,
                          {Query("from", "integer", "first seq"),
                           Query("limit", "integer", "1..1000")})}}},
  };

  // --- BEGIN signing routes (src/api/sign/sign_pdf.cc, sign_file.cc; issue 12) ----------------
  // Registered by api_sign, documented here so that /api/v1 has one document. Same
  // authentication as above; a server-held key signs only for the accounts its body
  // authorized.
  {
    const ojson binary = {{"type", "string"}, {"format", "binary"}};
    // A multipart/form-data upload answered with `media_type` bytes (or an Error).
    auto upload = [&binary](const std::string& summary, ojson form,
                            std::initializer_list<int> errors, const std::string& answer,
                            const std::string& media_type) {
      ojson op = {{"summary", summary},
                  {"tags", {"signing"}},
                  {"requestBody",
                   {{"required", true},
                    {"content", {{"multipart/form-data", {{"schema", std::move(form)}}}}}}},
                  {"responses", Errors(errors)}};
      op["responses"]["200"] = {{"description", answer},
                                {"content", {{media_type, {{"schema", binary}}}}}};
      return op;
    };
    const ojson key_id = {{"type", "string"}, {"description", "server-held key id"}};
    paths["/api/v1/sign/pdf"] = {
        {"post",
         upload(
             "Sign a PDF (PAdES) with a server-held key the caller's body authorized it to "
             "use; 403 sign.key_not_authorized otherwise. Every use is audited.",
             Object(
                 {{"file", binary},
                  {"key", key_id},
                  {"image", binary},
                  {"kind",
                   {{"type", "string"},
                    {"enum", {"approved", "issued", "copy", "appendix", "initials", "invisible"}}}},
                  {"level", {{"type", "string"}, {"enum", {"B-B", "B-T", "B-LT", "B-LTA"}}}},
                  {"page", {{"type", "integer"}}},
                  {"rect", {{"type", "string"}, {"description", "x,y,w,h"}}},
                  {"unit", {{"type", "string"}, {"enum", {"pt", "mm"}}}},
                  {"field", {{"type", "string"}}},
                  {"reason", {{"type", "string"}}},
                  {"location", {{"type", "string"}}},
                  {"contact", {{"type", "string"}}},
                  {"show_info", {{"type", "boolean"}}},
                  {"text", {{"type", "array"}, {"items", {{"type", "string"}}}}},
                  {"copy_type", {{"type", "string"}}},
                  {"doc_number", {{"type", "string"}}},
                  {"seal_mm", {{"type", "number"}}}},
                 {"file", "key"}),
             {400, 401, 403, 404, 503},
             "the signed PDF (X-Kyso-Signature-Field, -Page, -Level headers)", "application/pdf")}};
    ojson file = binary;
    file["description"] = "the bytes to sign; its filename names the answer";
    paths["/api/v1/sign/file"] = {
        {"post",
         upload("Sign any file with a server-held key the caller's body authorized it to use: a "
                "detached CAdES baseline B-B signature (ETSI EN 319 122-1; signing-time, "
                "signing-certificate-v2, the signer's chain), e.g. over a request's document "
                "for POST /api/v1/requests/{id}/submit. Audited as sign.file; 403 "
                "sign.key_not_authorized, 404 signing_key.not_found, 400 sign.no_file or "
                "sign.no_key, 409 when the key's certificate is not valid now, 413 "
                "http.body_too_large above 64 MiB.",
                Object({{"file", file}, {"key", key_id}}, {"file", "key"}),
                {400, 401, 403, 404, 409, 413, 503},
                "the signature (DER ContentInfo), Content-Disposition: attachment; "
                "filename=\"<name>.p7s\"",
                "application/pkcs7-signature")}};
    ojson key =
        Object({{"id", kStr},
                {"subject", kStr},
                {"serial", kStr},
                {"not_after", {{"type", "string"}, {"format", "date-time"}}},
                {"organization_id", {{"type", "integer"}, {"format", "int64"}}},
                {"organization_name", kStr}},
               {"id", "subject", "serial", "not_after", "organization_id", "organization_name"});
    paths["/api/v1/sign/keys"] = {
        {"get", Operation("The server-held keys the caller may sign with", "signing",
                          Object({{"items", {{"type", "array"}, {"items", key}}}}))}};
  }
  // --- END signing routes ----------------------------------------------------------------------

  ojson doc = {
      {"openapi", "3.0.3"},
      {"info",
       {{"title", "kyso registration API"},
        {"version", "1"},
        {"description",
         "Registration workflow for official-use digital signature certificates (Nghị định "
         "68/2024/NĐ-CP): bodies, people, requests signed by the managing agency, delegations, "
         "certificates, audit. Errors are {\"error\":{\"code\",\"message\"}} with stable codes. "
         "Besides a Bearer token or the session cookie (writes then need X-CSRF-Token), a TLS "
         "client certificate issued by this CA and registered on an account authenticates "
         "(OpenAPI 3.0 cannot declare mutual TLS)."}}},
      {"servers", {{{"url", "/"}}}},
      {"paths", paths},
      {"components",
       {{"schemas", schemas},
        {"securitySchemes",
         {{"bearer", {{"type", "http"}, {"scheme", "bearer"}}},
          {"session", {{"type", "apiKey"}, {"in", "cookie"}, {"name", "kyso_session"}}}}}}},
      {"security", {{{"bearer", ojson::array()}}, {{"session", ojson::array()}}}},
  };
  return doc.dump();
}

}  // namespace kyso::api
