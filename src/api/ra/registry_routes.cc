#include "api/ra/registry_routes.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <map>
#include <nlohmann/json.hpp>

#include "auth/cookies.h"
#include "auth/tokens.h"
#include "ca/record_json.h"
#include "crypto/digest.h"

namespace kyso::api {
namespace {

using http::Method;
using http::Request;
using http::Response;
using json = nlohmann::json;
using ojson = nlohmann::ordered_json;

constexpr size_t kJsonBodyLimit = 256 * 1024;
constexpr size_t kImportBodyLimit = 20u << 20;

// --- rendering ----------------------------------------------------------------------------------

template <typename T>
json Optional(const std::optional<T>& v) {
  return v ? json(*v) : json(nullptr);
}

ojson OrgJson(const store::OrganizationRecord& o) {
  return {{"id", o.id},
          {"parent_id", o.parent_id ? ojson(*o.parent_id) : ojson(nullptr)},
          {"path", o.path},
          {"name", o.name},
          {"tax_code", o.tax_code},
          {"budget_code", o.budget_code},
          {"address", o.address},
          {"email", o.email},
          {"province", o.province},
          {"managing_agency", o.managing_agency},
          {"created_at", FormatUtc(o.created_at)},
          {"updated_at", FormatUtc(o.updated_at)},
          {"version", o.version}};
}

ojson PersonJson(const store::PersonRecord& p) {
  return {{"id", p.id},
          {"organization_id", p.organization_id},
          {"full_name", p.full_name},
          {"personal_id", p.personal_id},
          {"position", p.position},
          {"email", p.email},
          {"mobile", p.mobile},
          {"status", p.status},
          {"created_at", FormatUtc(p.created_at)},
          {"updated_at", FormatUtc(p.updated_at)},
          {"version", p.version}};
}

ojson AccountJson(const store::AccountRecord& a) {
  return {{"id", a.id},
          {"username", a.username},
          {"display_name", a.display_name},
          {"role", a.role},
          {"organization_id", a.organization_id ? ojson(*a.organization_id) : ojson(nullptr)},
          {"person_id", a.person_id ? ojson(*a.person_id) : ojson(nullptr)},
          {"password_login", !a.password_hash.empty()},
          {"certificate_sha256", a.certificate_fingerprint},
          {"disabled", a.disabled},
          {"created_at", FormatUtc(a.created_at)}};
}

ojson RequestJson(const store::RequestRecord& r) {
  json form = json::parse(r.form_json, nullptr, false);
  if (form.is_discarded()) form = json::object();
  auto time_or_null = [](const std::optional<UnixSeconds>& t) {
    return t ? ojson(FormatUtc(*t)) : ojson(nullptr);
  };
  auto id_or_null = [](const std::optional<int64_t>& v) { return v ? ojson(*v) : ojson(nullptr); };
  return {{"id", r.id},
          {"kind", r.kind},
          {"state", r.state},
          {"organization_id", r.organization_id},
          {"person_id", id_or_null(r.person_id)},
          {"certificate_id", id_or_null(r.certificate_id)},
          {"form", form},
          {"assignee", r.assignee},
          {"signer", r.signer},
          {"signed", !r.signature.empty()},
          {"submitted_at", time_or_null(r.submitted_at)},
          {"due_at", time_or_null(r.due_at)},
          {"result_certificate_id", id_or_null(r.result_certificate_id)},
          {"result_note", r.result_note},
          {"created_by", r.created_by},
          {"created_at", FormatUtc(r.created_at)},
          {"updated_at", FormatUtc(r.updated_at)},
          {"version", r.version}};
}

ojson DelegationJson(const store::DelegationRecord& d) {
  return {{"id", d.id},
          {"delegate_organization_id", d.delegate_organization_id},
          {"scope_organization_id", d.scope_organization_id},
          {"kinds", d.kinds},
          {"created_by", d.created_by},
          {"created_at", FormatUtc(d.created_at)},
          {"withdrawn_at", d.withdrawn_at ? ojson(FormatUtc(*d.withdrawn_at)) : ojson(nullptr)},
          {"withdrawn_by", d.withdrawn_by}};
}

// `key` gives an item's keyset position (its id).
template <typename T, typename F, typename K>
Response PageBy(const std::vector<T>& items, F render, int64_t limit, K key) {
  ojson out = {{"items", ojson::array()}};
  for (const T& item : items) out["items"].push_back(render(item));
  // Keyset pagination: pass next_after as ?after= for the next page.
  out["next_after"] = static_cast<int64_t>(items.size()) >= limit && !items.empty()
                          ? ojson(key(items.back()))
                          : ojson(nullptr);
  return Response::Json(200, out.dump());
}

template <typename T, typename F>
Response Page(const std::vector<T>& items, F render, int64_t limit) {
  return PageBy(items, render, limit, [](const T& item) { return item.id; });
}

Response Error(const Status& st) {
  if (st.id() == "auth.rate_limited") return Response::Error(429, st.id(), st.message());
  if (st.id() == "store.conflict" || st.id() == "ra.bad_transition") {
    return Response::Error(409, st.id(), st.message());
  }
  if (st.id() == "idempotency.key_reused") return Response::Error(422, st.id(), st.message());
  return Response::FromStatus(st);
}

// --- parsing ------------------------------------------------------------------------------------

// The deepest nesting of arrays and objects in `text`, outside strings. nlohmann parses
// iteratively but copies and serializes recursively, so a body nested tens of thousands deep
// (which fits under the body limit) would overflow the stack where a form is copied.
int MaxJsonDepth(std::string_view text) {
  int depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      deepest = std::max(deepest, ++depth);
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return deepest;
}

constexpr int kMaxJsonDepth = 32;

Result<json> JsonBody(const Request& req) {
  if (MaxJsonDepth(req.body) > kMaxJsonDepth) {
    return InvalidArgument("api.too_deep",
                           "JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
  }
  json body = json::parse(req.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    return InvalidArgument("api.bad_json", "the body must be a JSON object");
  }
  return body;
}

Result<int64_t> ParseId(std::string_view s, std::string_view what) {
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || v <= 0) {
    return InvalidArgument("api.bad_id", std::string(what) + " must be a positive integer");
  }
  return v;
}

Result<int64_t> QueryInt(const Request& req, std::string_view name, int64_t fallback) {
  std::string_view v = req.QueryParam(name);
  if (v.empty()) return fallback;
  int64_t out = 0;
  auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc() || ptr != v.data() + v.size() || out < 0) {
    return InvalidArgument("api.bad_query", std::string(name) + " must be a whole number");
  }
  return out;
}

std::vector<std::string> QueryList(const Request& req, std::string_view name) {
  std::vector<std::string> out;
  std::string_view v = req.QueryParam(name);
  while (!v.empty()) {
    const size_t comma = v.find(',');
    out.emplace_back(v.substr(0, comma));
    if (comma == std::string_view::npos) break;
    v.remove_prefix(comma + 1);
  }
  return out;
}

// A query parameter's text as an HTML form sends it: '+' is a space, then %XX a byte (RFC 3986
// §2.1); with a malformed escape the text is taken as typed.
std::string QueryText(const Request& req, std::string_view name) {
  std::string text(req.QueryParam(name));
  std::replace(text.begin(), text.end(), '+', ' ');
  auto decoded = http::PercentDecode(text);
  return decoded ? std::move(*decoded) : text;
}

template <typename T>
Status Field(const json& body, const char* name, T* out, bool required) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null()) {
    return required
               ? InvalidArgument("api.missing_field", "\"" + std::string(name) + "\" is required")
               : Status::Ok();
  }
  try {
    *out = it->get<T>();
  } catch (const json::exception&) {
    return InvalidArgument("api.bad_field", "\"" + std::string(name) + "\" has the wrong type");
  }
  return Status::Ok();
}

template <typename T>
Status OptionalField(const json& body, const char* name, std::optional<T>* out) {
  T value{};
  auto it = body.find(name);
  if (it == body.end() || it->is_null()) return Status::Ok();
  KYSO_RETURN_IF_ERROR(Field(body, name, &value, true));
  *out = value;
  return Status::Ok();
}

std::string Fingerprint(const Request& req) {
  const std::string material =
      std::string(http::MethodName(req.method)) + " " + req.path + "\n" + req.body;
  return HexEncode(crypto::Sha256(AsBytes(material)));
}

std::optional<ra::IdempotencyKey> IdempotencyOf(const Request& req) {
  std::string_view key = req.Header("idempotency-key");
  if (key.empty()) return std::nullopt;
  return ra::IdempotencyKey{std::string(key), Fingerprint(req)};
}

std::string RemoteIp(const Request& req) {
  const size_t colon = req.remote.rfind(':');
  return colon == std::string::npos ? req.remote : req.remote.substr(0, colon);
}

// --- authentication -----------------------------------------------------------------------------

struct Caller {
  ra::Principal principal;
  std::string token_hash;  // the session or API token used, "" for certificates
};

Result<Caller> Authenticate(const RegistryServices& s, const Request& req) {
  std::string token;
  bool from_cookie = false;
  std::string_view authorization = req.Header("authorization");
  if (authorization.substr(0, 7) == "Bearer " || authorization.substr(0, 7) == "bearer ") {
    token = std::string(authorization.substr(7));
  } else if (std::string_view cookie = req.Header("cookie"); !cookie.empty()) {
    auto cookies = auth::ParseCookies(cookie);
    for (auto name : {auth::kSecureSessionCookie, auth::kPlainSessionCookie}) {
      if (auto it = cookies.find(name); it != cookies.end()) {
        token = it->second;
        from_cookie = true;
        break;
      }
    }
  }
  if (!token.empty()) {
    const std::string hash = auth::TokenHash(token);
    auto tx = s.db->Begin(store::TransactionMode::kRead);
    if (!tx.ok()) return tx.status();
    auto record = (*tx)->GetAccessToken(hash);
    tx->reset();
    if (!record.ok() || record->revoked || record->expires_at <= s.clock->Now()) {
      return Unauthenticated("auth.invalid_token", "the token or session is unknown or expired");
    }
    if (from_cookie && record->kind != "session") {
      return Unauthenticated("auth.invalid_token", "an API token is not a session cookie");
    }
    // A cookie rides along with any request the browser makes, so writes authenticated by it
    // must prove they come from our page (synchronizer token; auth/cookies.h).
    const bool write = req.method != Method::kGet && req.method != Method::kHead;
    if (from_cookie && write && !auth::CsrfMatches(req.Header("x-csrf-token"), record->csrf_hash)) {
      return PermissionDenied("auth.csrf", "missing or wrong X-CSRF-Token for a cookie session");
    }
    KYSO_ASSIGN_OR_RETURN(
        ra::Principal p,
        s.registry->PrincipalFor(record->account_id, record->kind == "api" ? "token" : "session"));
    return Caller{std::move(p), hash};
  }
  if (!req.client_certificate_sha256.empty()) {
    auto tx = s.db->Begin(store::TransactionMode::kRead);
    if (!tx.ok()) return tx.status();
    auto account = (*tx)->GetAccountByCertificate(req.client_certificate_sha256);
    tx->reset();
    if (!account.ok()) {
      return Unauthenticated("auth.unknown_certificate",
                             "the client certificate is not registered to an account");
    }
    KYSO_ASSIGN_OR_RETURN(ra::Principal p, s.registry->PrincipalFor(account->id, "certificate"));
    return Caller{std::move(p), ""};
  }
  return Unauthenticated("auth.required",
                         "log in (POST /api/v1/auth/login), send a Bearer token, or present a "
                         "client certificate");
}

// Wraps a handler that needs a caller.
template <typename F>
http::Handler Authed(const RegistryServices* s, F body) {
  return [s, body](Request& req) -> Response {
    auto caller = Authenticate(*s, req);
    if (!caller.ok()) {
      Response r = Error(caller.status());
      if (caller.status().code() == StatusCode::kUnauthenticated) {
        r.Header("WWW-Authenticate", "Bearer realm=\"kyso\"");
      }
      return r;
    }
    return body(*caller, req);
  };
}

Status AuditAuth(const RegistryServices& s, const std::string& actor, const std::string& action,
                 const std::string& object, const json& details,
                 const std::function<Status(store::Transaction&)>& also) {
  auto tx = s.db->Begin(store::TransactionMode::kWrite);
  if (!tx.ok()) return tx.status();
  if (also) KYSO_RETURN_IF_ERROR(also(**tx));
  auto entry = s.audit->Append(**tx, actor, action, object, details.dump());
  if (!entry.ok()) return entry.status();
  return (*tx)->Commit();
}

// --- handlers: authentication -------------------------------------------------------------------

Response Login(const RegistryServices& s, Request& req) {
  auto body = JsonBody(req);
  if (!body.ok()) return Error(body.status());
  std::string username, password;
  if (Status st = Field(*body, "username", &username, true); !st.ok()) return Error(st);
  if (Status st = Field(*body, "password", &password, true); !st.ok()) return Error(st);
  // A name that cannot be an account's still costs a password check below.
  if (auto normalized = ra::NormalizeUsername(username); normalized.ok()) username = *normalized;
  const std::string ip = RemoteIp(req);
  int64_t retry_after = 0;
  if (Status st = s.login_limiter->Check(username, ip, &retry_after); !st.ok()) {
    Response r = Error(st);
    r.Header("Retry-After", std::to_string(retry_after));
    return r;
  }
  std::optional<store::AccountRecord> account;
  {
    auto tx = s.db->Begin(store::TransactionMode::kRead);
    if (!tx.ok()) return Error(tx.status());
    auto found = (*tx)->GetAccountByUsername(username);
    if (found.ok()) account = *found;
  }
  bool ok = false;
  if (account && !account->password_hash.empty() && !account->disabled) {
    auto verified = auth::VerifyPassword(account->password_hash, password);
    ok = verified.ok() && *verified;
  } else {
    auth::VerifyDummyPassword(password, s.password_cost);  // same time, user or not
  }
  if (!ok) {
    s.login_limiter->RecordFailure(username, ip);
    return Response::Error(401, "auth.bad_credentials", "wrong username or password");
  }
  s.login_limiter->RecordSuccess(username, ip);
  const std::string token = auth::NewSecretToken(*s.rng);
  const std::string csrf = auth::NewSecretToken(*s.rng);
  store::AccessTokenRecord session;
  session.token_hash = auth::TokenHash(token);
  session.account_id = account->id;
  session.kind = "session";
  session.csrf_hash = auth::TokenHash(csrf);
  session.created_at = s.clock->Now();
  session.expires_at = session.created_at + s.session_seconds;
  Status st = AuditAuth(s, "account:" + std::to_string(account->id) + ":" + account->username,
                        "auth.login", "account/" + account->username, {{"ip", ip}},
                        [&](store::Transaction& tx) { return tx.InsertAccessToken(session); });
  if (!st.ok()) return Error(st);
  Response r = Response::Json(200, ojson{{"account", AccountJson(*account)},
                                         {"csrf_token", csrf},
                                         {"expires_at", FormatUtc(session.expires_at)}}
                                       .dump());
  r.Header("Set-Cookie", auth::SessionCookie(auth::SessionCookieName(req.tls), token,
                                             s.session_seconds, req.tls));
  r.Header("Cache-Control", "no-store");
  return r;
}

Response Logout(const RegistryServices& s, const Caller& caller, Request& req) {
  if (!caller.token_hash.empty()) {
    Status st =
        AuditAuth(s, caller.principal.Actor(), "auth.logout",
                  "account/" + caller.principal.username, json::object(),
                  [&](store::Transaction& tx) { return tx.RevokeAccessToken(caller.token_hash); });
    if (!st.ok()) return Error(st);
  }
  Response r = Response::Json(200, R"({"logged_out":true})");
  r.Header("Set-Cookie", auth::ClearingCookie(auth::SessionCookieName(req.tls), req.tls));
  return r;
}

Response CreateToken(const RegistryServices& s, const Caller& caller, Request& req) {
  auto body = JsonBody(req);
  if (!body.ok()) return Error(body.status());
  std::string name;
  int64_t days = 90;
  if (Status st = Field(*body, "name", &name, true); !st.ok()) return Error(st);
  if (Status st = Field(*body, "days", &days, false); !st.ok()) return Error(st);
  if (days < 1 || days > s.max_token_days) {
    return Response::Error(400, "auth.bad_token_days",
                           "days must be 1.." + std::to_string(s.max_token_days));
  }
  const std::string token = auth::NewSecretToken(*s.rng, "kyso_");
  store::AccessTokenRecord record;
  record.token_hash = auth::TokenHash(token);
  record.account_id = caller.principal.account_id;
  record.kind = "api";
  record.name = name;
  record.created_at = s.clock->Now();
  record.expires_at = record.created_at + days * kSecondsPerDay;
  Status st = AuditAuth(s, caller.principal.Actor(), "token.create",
                        "account/" + caller.principal.username, {{"name", name}, {"days", days}},
                        [&](store::Transaction& tx) { return tx.InsertAccessToken(record); });
  if (!st.ok()) return Error(st);
  return Response::Json(
      201,
      ojson{{"token", token}, {"name", name}, {"expires_at", FormatUtc(record.expires_at)}}.dump());
}

// An API token as its owner sees it: never the secret (not stored) nor its hash.
ojson TokenJson(const store::AccessTokenRecord& t, UnixSeconds now) {
  return {{"id", t.id},
          {"name", t.name},
          {"created_at", FormatUtc(t.created_at)},
          {"expires_at", FormatUtc(t.expires_at)},
          {"revoked", t.revoked},
          {"expired", t.expires_at <= now}};
}

Response ListTokens(const RegistryServices& s, const Caller& caller, Request& req) {
  auto after = QueryInt(req, "after", 0);
  auto limit = QueryInt(req, "limit", 100);
  if (!after.ok() || !limit.ok()) return Error(!after.ok() ? after.status() : limit.status());
  auto tokens = s.registry->ListOwnApiTokens(caller.principal, *after, *limit);
  if (!tokens.ok()) return Error(tokens.status());
  const UnixSeconds now = s.clock->Now();
  Response r = Page(
      *tokens, [now](const store::AccessTokenRecord& t) { return TokenJson(t, now); },
      std::clamp<int64_t>(*limit, 1, 500));
  r.Header("Cache-Control", "no-store");
  return r;
}

Response RevokeToken(const RegistryServices& s, const Caller& caller, Request& req) {
  auto id = ParseId(req.params[0], "token id");
  if (!id.ok()) return Error(id.status());
  auto token = s.registry->RevokeOwnApiToken(caller.principal, *id);
  return token.ok() ? Response::Json(200, TokenJson(*token, s.clock->Now()).dump())
                    : Error(token.status());
}

// The caller changes their own password: the current one proves it is them (a stolen session
// alone cannot lock the owner out), the new one meets the policy. Other sessions stay valid.
Response ChangePassword(const RegistryServices& s, const Caller& caller, Request& req) {
  auto body = JsonBody(req);
  if (!body.ok()) return Error(body.status());
  std::string current, next;
  Status st = Field(*body, "current_password", &current, true);
  if (st.ok()) st = Field(*body, "new_password", &next, true);
  if (!st.ok()) return Error(st);
  std::optional<store::AccountRecord> account;
  {
    auto tx = s.db->Begin(store::TransactionMode::kRead);
    if (!tx.ok()) return Error(tx.status());
    auto found = (*tx)->GetAccount(caller.principal.account_id);
    if (!found.ok()) return Error(found.status());
    account = *found;
  }
  const std::string ip = RemoteIp(req);
  int64_t retry_after = 0;
  if (Status limited = s.login_limiter->Check(account->username, ip, &retry_after); !limited.ok()) {
    Response r = Error(limited);
    r.Header("Retry-After", std::to_string(retry_after));
    return r;
  }
  auto verified = account->password_hash.empty()
                      ? Result<bool>(false)
                      : auth::VerifyPassword(account->password_hash, current);
  if (!verified.ok() || !*verified) {
    s.login_limiter->RecordFailure(account->username, ip);
    return Response::Error(403, "auth.bad_credentials", "the current password is wrong");
  }
  if (Status policy = auth::CheckPasswordPolicy(next); !policy.ok()) return Error(policy);
  auto hash = auth::HashPassword(next, s.password_cost);
  if (!hash.ok()) return Error(hash.status());
  account->password_hash = *hash;
  st = AuditAuth(s, caller.principal.Actor(), "account.password",
                 "account/" + caller.principal.username, json::object(),
                 [&](store::Transaction& tx) { return tx.UpdateAccount(*account); });
  if (!st.ok()) return Error(st);
  return Response::Json(200, R"({"changed":true})");
}

Response Me(const Caller& caller) {
  const ra::Principal& p = caller.principal;
  ojson delegations = ojson::array();
  for (const auto& d : p.delegations) delegations.push_back(DelegationJson(d));
  return Response::Json(
      200,
      ojson{{"account_id", p.account_id},
            {"username", p.username},
            {"role", std::string(ra::RoleName(p.role))},
            {"organization_id", p.organization_id ? ojson(*p.organization_id) : ojson(nullptr)},
            {"person_id", p.person_id ? ojson(*p.person_id) : ojson(nullptr)},
            {"auth_method", p.auth_method},
            {"delegations", delegations}}
          .dump());
}

// --- handlers: accounts -------------------------------------------------------------------------

Response CreateAccount(const RegistryServices& s, const Caller& caller, Request& req) {
  auto body = JsonBody(req);
  if (!body.ok()) return Error(body.status());
  store::AccountRecord account;
  std::string password;
  Status st = Field(*body, "username", &account.username, true);
  if (st.ok()) st = Field(*body, "role", &account.role, true);
  if (st.ok()) st = Field(*body, "display_name", &account.display_name, false);
  if (st.ok()) st = OptionalField(*body, "organization_id", &account.organization_id);
  if (st.ok()) st = OptionalField(*body, "person_id", &account.person_id);
  if (st.ok()) st = Field(*body, "password", &password, false);
  if (st.ok()) st = Field(*body, "certificate_sha256", &account.certificate_fingerprint, false);
  if (!st.ok()) return Error(st);
  if (Status allowed = ra::CanManageAccounts(caller.principal); !allowed.ok()) {
    return Error(allowed);  // before spending a password hash on a caller who may not
  }
  if (!password.empty()) {
    if (Status policy = auth::CheckPasswordPolicy(password); !policy.ok()) return Error(policy);
    auto hash = auth::HashPassword(password, s.password_cost);
    if (!hash.ok()) return Error(hash.status());
    account.password_hash = *hash;
  }
  auto created = s.registry->CreateAccount(caller.principal, account);
  if (!created.ok()) return Error(created.status());
  return Response::Json(201, AccountJson(*created).dump());
}

// --- handlers: bodies and people ----------------------------------------------------------------

Status ReadOrg(const json& body, store::OrganizationRecord* org) {
  KYSO_RETURN_IF_ERROR(Field(body, "name", &org->name, true));
  KYSO_RETURN_IF_ERROR(OptionalField(body, "parent_id", &org->parent_id));
  KYSO_RETURN_IF_ERROR(Field(body, "tax_code", &org->tax_code, false));
  KYSO_RETURN_IF_ERROR(Field(body, "budget_code", &org->budget_code, false));
  KYSO_RETURN_IF_ERROR(Field(body, "address", &org->address, false));
  KYSO_RETURN_IF_ERROR(Field(body, "email", &org->email, false));
  KYSO_RETURN_IF_ERROR(Field(body, "province", &org->province, false));
  KYSO_RETURN_IF_ERROR(Field(body, "managing_agency", &org->managing_agency, false));
  return Status::Ok();
}

Status ReadPerson(const json& body, store::PersonRecord* p) {
  KYSO_RETURN_IF_ERROR(Field(body, "full_name", &p->full_name, true));
  KYSO_RETURN_IF_ERROR(Field(body, "personal_id", &p->personal_id, false));
  KYSO_RETURN_IF_ERROR(Field(body, "position", &p->position, false));
  KYSO_RETURN_IF_ERROR(Field(body, "email", &p->email, false));
  KYSO_RETURN_IF_ERROR(Field(body, "mobile", &p->mobile, false));
  KYSO_RETURN_IF_ERROR(Field(body, "organization_id", &p->organization_id, false));
  return Status::Ok();
}

template <typename T, typename F>
Response CreatedResponse(const Result<ra::Created<T>>& created, F render) {
  if (!created.ok()) return Error(created.status());
  Response r = Response::Json(created->replayed ? 200 : 201, render(created->record).dump());
  r.Header("Location", "/api/v1/" + std::to_string(created->record.id));
  if (created->replayed) r.Header("Idempotent-Replayed", "true");
  return r;
}

Response CreateOrg(const RegistryServices& s, const Caller& c, Request& req) {
  auto body = JsonBody(req);
  if (!body.ok()) return Error(body.status());
  store::OrganizationRecord org;
  if (Status st = ReadOrg(*body, &org); !st.ok()) return Error(st);
  auto key = IdempotencyOf(req);
  return CreatedResponse(s.registry->CreateOrganization(c.principal, org, key ? &*key : nullptr),
                         OrgJson);
}

Response UpdateOrg(const RegistryServices& s, const Caller& c, Request& req) {
  auto id = ParseId(req.params[0], "organization id");
  auto body = JsonBody(req);
  if (!id.ok()) return Error(id.status());
  if (!body.ok()) return Error(body.status());
  store::OrganizationRecord org;
  org.id = *id;
  if (Status st = ReadOrg(*body, &org); !st.ok()) return Error(st);
  if (Status st = Field(*body, "version", &org.version, true); !st.ok()) return Error(st);
  auto updated = s.registry->UpdateOrganization(c.principal, org);
  return updated.ok() ? Response::Json(200, OrgJson(*updated).dump()) : Error(updated.status());
}

Response ListOrgs(const RegistryServices& s, const Caller& c, Request& req) {
  store::OrganizationFilter filter;
  auto after = QueryInt(req, "after", 0);
  auto limit = QueryInt(req, "limit", 100);
  auto parent = QueryInt(req, "parent_id", 0);
  if (!after.ok() || !limit.ok() || !parent.ok()) {
    return Error(!after.ok() ? after.status() : !limit.ok() ? limit.status() : parent.status());
  }
  filter.after_id = *after;
  filter.limit = *limit;
  if (*parent > 0) filter.parent_id = *parent;
  if (auto tax = req.QueryParam("tax_code"); !tax.empty()) filter.tax_code = std::string(tax);
  auto orgs = s.registry->ListOrganizations(c.principal, filter);
  return orgs.ok() ? Page(*orgs, OrgJson, std::clamp<int64_t>(*limit, 1, 500))
                   : Error(orgs.status());
}

Response CreatePerson(const RegistryServices& s, const Caller& c, Request& req) {
  auto body = JsonBody(req);
  if (!body.ok()) return Error(body.status());
  store::PersonRecord person;
  if (Status st = ReadPerson(*body, &person); !st.ok()) return Error(st);
  auto key = IdempotencyOf(req);
  return CreatedResponse(s.registry->CreatePerson(c.principal, person, key ? &*key : nullptr),
                         PersonJson);
}

Response UpdatePerson(const RegistryServices& s, const Caller& c, Request& req) {
  auto id = ParseId(req.params[0], "person id");
  auto body = JsonBody(req);
  if (!id.ok()) return Error(id.status());
  if (!body.ok()) return Error(body.status());
  store::PersonRecord person;
  person.id = *id;
  if (Status st = ReadPerson(*body, &person); !st.ok()) return Error(st);
  if (Status st = Field(*body, "version", &person.version, true); !st.ok()) return Error(st);
  auto updated = s.registry->UpdatePerson(c.principal, person);
  return updated.ok() ? Response::Json(200, PersonJson(*updated).dump()) : Error(updated.status());
}

Response PersonChangeResponse(const Result<ra::PersonChange>& change) {
  if (!change.ok()) return Error(change.status());
  return Response::Json(200, ojson{{"person", PersonJson(change->person)},
                                   {"opened_requests", change->opened_requests}}
                                 .dump());
}

Response MovePerson(const RegistryServices& s, const Caller& c, Request& req) {
  auto id = ParseId(req.params[0], "person id");
  auto body = JsonBody(req);
  if (!id.ok()) return Error(id.status());
  if (!body.ok()) return Error(body.status());
  int64_t to = 0, version = 0;
  std::string reason;
  Status st = Field(*body, "organization_id", &to, true);
  if (st.ok()) st = Field(*body, "version", &version, true);
  if (st.ok()) st = Field(*body, "reason", &reason, false);
  if (!st.ok()) return Error(st);
  return PersonChangeResponse(s.registry->MovePerson(c.principal, *id, to, version, reason));
}

Response PersonStatus(const RegistryServices& s, const Caller& c, Request& req) {
  auto id = ParseId(req.params[0], "person id");
  auto body = JsonBody(req);
  if (!id.ok()) return Error(id.status());
  if (!body.ok()) return Error(body.status());
  std::string status, reason;
  int64_t version = 0;
  Status st = Field(*body, "status", &status, true);
  if (st.ok()) st = Field(*body, "version", &version, true);
  if (st.ok()) st = Field(*body, "reason", &reason, false);
  if (!st.ok()) return Error(st);
  return PersonChangeResponse(
      s.registry->SetPersonStatus(c.principal, *id, status, version, reason));
}

Response ListPeople(const RegistryServices& s, const Caller& c, Request& req) {
  store::PersonFilter filter;
  auto after = QueryInt(req, "after", 0);
  auto limit = QueryInt(req, "limit", 100);
  auto org = QueryInt(req, "organization_id", 0);
  if (!after.ok() || !limit.ok() || !org.ok()) {
    return Error(!after.ok() ? after.status() : !limit.ok() ? limit.status() : org.status());
  }
  filter.after_id = *after;
  filter.limit = *limit;
  if (*org > 0) filter.organization_id = *org;
  if (auto pid = req.QueryParam("personal_id"); !pid.empty()) {
    filter.personal_id = std::string(pid);
  }
  auto people = s.registry->ListPeople(c.principal, filter);
  return people.ok() ? Page(*people, PersonJson, std::clamp<int64_t>(*limit, 1, 500))
                     : Error(people.status());
}

Response Import(const RegistryServices& s, const Caller& c, Request& req, bool people) {
  const bool dry_run = req.QueryParam("dry_run") == "1" || req.QueryParam("dry_run") == "true";
  auto report = people ? s.registry->ImportPeople(c.principal, req.body, dry_run)
                       : s.registry->ImportOrganizations(c.principal, req.body, dry_run);
  if (!report.ok()) return Error(report.status());
  ojson errors = ojson::array();
  for (const auto& e : report->errors) {
    errors.push_back({{"line", e.line}, {"code", e.id}, {"message", e.message}});
  }
  return Response::Json(report->errors.empty() ? 200 : 422, ojson{{"dry_run", report->dry_run},
                                                                  {"rows", report->rows},
                                                                  {"created", report->created},
                                                                  {"errors", errors}}
                                                                .dump());
}

// --- handlers: requests -------------------------------------------------------------------------

Response CreateRequest(const RegistryServices& s, const Caller& c, Request& req) {
  auto body = JsonBody(req);
  if (!body.ok()) return Error(body.status());
  ra::NewRequest nr;
  Status st = Field(*body, "kind", &nr.kind, true);
  if (st.ok()) st = Field(*body, "organization_id", &nr.organization_id, true);
  if (st.ok()) st = OptionalField(*body, "person_id", &nr.person_id);
  if (st.ok()) st = OptionalField(*body, "certificate_id", &nr.certificate_id);
  if (!st.ok()) return Error(st);
  if (auto it = body->find("form"); it != body->end()) nr.form = *it;
  auto key = IdempotencyOf(req);
  return CreatedResponse(s.registry->CreateRequest(c.principal, nr, key ? &*key : nullptr),
                         RequestJson);
}

Response UpdateRequest(const RegistryServices& s, const Caller& c, Request& req) {
  auto id = ParseId(req.params[0], "request id");
  auto body = JsonBody(req);
  if (!id.ok()) return Error(id.status());
  if (!body.ok()) return Error(body.status());
  int64_t version = 0;
  if (Status st = Field(*body, "version", &version, true); !st.ok()) return Error(st);
  auto form = body->find("form");
  if (form == body->end()) return Response::Error(400, "api.missing_field", "\"form\" is required");
  auto updated = s.registry->UpdateDraft(c.principal, *id, *form, version);
  return updated.ok() ? Response::Json(200, RequestJson(*updated).dump()) : Error(updated.status());
}

Response RequestDocument(const RegistryServices& s, const Caller& c, Request& req) {
  auto id = ParseId(req.params[0], "request id");
  if (!id.ok()) return Error(id.status());
  auto doc = s.registry->SigningDocument(c.principal, *id);
  if (!doc.ok()) return Error(doc.status());
  // The exact bytes to sign: served as they are, never re-serialized by a client library.
  Response r = Response::Binary(200, "application/json", *doc);
  r.Header("Cache-Control", "no-store");
  return r;
}

Response Submit(const RegistryServices& s, const Caller& c, Request& req) {
  auto id = ParseId(req.params[0], "request id");
  auto body = JsonBody(req);
  if (!id.ok()) return Error(id.status());
  if (!body.ok()) return Error(body.status());
  int64_t version = 0;
  std::string signature_b64;
  Status st = Field(*body, "version", &version, true);
  if (st.ok()) st = Field(*body, "signature", &signature_b64, false);
  if (!st.ok()) return Error(st);
  Bytes signature;
  if (!signature_b64.empty()) {
    auto decoded = Base64Decode(signature_b64);
    if (!decoded) {
      return Response::Error(400, "ra.bad_signature", "signature is not base64 (DER CMS)");
    }
    signature = std::move(*decoded);
  }
  auto submitted = s.registry->Submit(c.principal, *id, signature, version);
  return submitted.ok() ? Response::Json(200, RequestJson(*submitted).dump())
                        : Error(submitted.status());
}

Response TransitionRequest(const RegistryServices& s, const Caller& c, Request& req) {
  auto id = ParseId(req.params[0], "request id");
  auto body = JsonBody(req);
  if (!id.ok()) return Error(id.status());
  if (!body.ok()) return Error(body.status());
  std::string action, reason;
  int64_t version = 0;
  Status st = Field(*body, "action", &action, true);
  if (st.ok()) st = Field(*body, "version", &version, true);
  if (st.ok()) st = Field(*body, "reason", &reason, false);
  if (!st.ok()) return Error(st);
  auto moved = s.registry->Transition(c.principal, *id, action, reason, version);
  return moved.ok() ? Response::Json(200, RequestJson(*moved).dump()) : Error(moved.status());
}

Response History(const RegistryServices& s, const Caller& c, Request& req) {
  auto id = ParseId(req.params[0], "request id");
  if (!id.ok()) return Error(id.status());
  auto events = s.registry->History(c.principal, *id);
  if (!events.ok()) return Error(events.status());
  ojson out = ojson::array();
  for (const auto& e : *events) {
    out.push_back({{"from", e.from_state},
                   {"to", e.to_state},
                   {"actor", e.actor},
                   {"time", FormatUtc(e.time)},
                   {"reason", e.reason}});
  }
  return Response::Json(200, ojson{{"items", out}}.dump());
}

// --- handlers: attachments ----------------------------------------------------------------------

ojson AttachmentJson(const store::AttachmentRecord& a) {
  return {{"id", a.id},
          {"request_id", a.request_id},
          {"filename", a.filename},
          {"content_type", a.content_type},
          {"size", a.size},
          {"sha256", a.sha256},
          {"created_by", a.created_by},
          {"created_at", FormatUtc(a.created_at)}};
}

// RFC 6266 §4.1 with RFC 8187 §3.2 for the UTF-8 name: an ASCII fallback in filename= (other
// characters as '_') and the exact name percent-encoded in filename*=.
std::string ContentDisposition(std::string_view filename) {
  std::string ascii, encoded;
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (char c : filename) {
    const auto u = static_cast<unsigned char>(c);
    const bool plain = u >= 0x20 && u < 0x7F && c != '"' && c != '\\';
    if ((u & 0xC0) != 0x80) ascii.push_back(plain ? c : '_');  // one '_' per other character
    if (std::isalnum(u) || std::string_view("!#$&+-.^_`|~").find(c) != std::string_view::npos) {
      encoded.push_back(c);
    } else {
      encoded += '%';
      encoded += kHex[u >> 4];
      encoded += kHex[u & 15];
    }
  }
  return "attachment; filename=\"" + ascii + "\"; filename*=UTF-8''" + encoded;
}

Response AddAttachment(const RegistryServices& s, const Caller& c, Request& req) {
  auto id = ParseId(req.params[0], "request id");
  if (!id.ok()) return Error(id.status());
  auto added =
      s.registry->AddAttachment(c.principal, *id, QueryText(req, "filename"), AsBytes(req.body));
  if (!added.ok()) {
    if (added.status().id() == "attachment.too_large") {
      return Response::Error(413, added.status().id(), added.status().message());
    }
    return Error(added.status());
  }
  return Response::Json(201, AttachmentJson(*added).dump());
}

Response ListAttachments(const RegistryServices& s, const Caller& c, Request& req) {
  auto id = ParseId(req.params[0], "request id");
  if (!id.ok()) return Error(id.status());
  auto list = s.registry->ListAttachments(c.principal, *id);
  if (!list.ok()) return Error(list.status());
  ojson items = ojson::array();
  for (const auto& a : *list) items.push_back(AttachmentJson(a));
  return Response::Json(200, ojson{{"items", items}}.dump());
}

Response DownloadAttachment(const RegistryServices& s, const Caller& c, Request& req) {
  auto id = ParseId(req.params[0], "request id");
  auto aid = ParseId(req.params[1], "attachment id");
  if (!id.ok() || !aid.ok()) return Error(!id.ok() ? id.status() : aid.status());
  auto a = s.registry->GetAttachment(c.principal, *id, *aid);
  if (!a.ok()) return Error(a.status());
  // Served as a download of the type its content showed, never rendered in the portal's origin.
  Response r = Response::Binary(200, a->content_type, std::string(AsString(a->data)));
  r.Header("Content-Disposition", ContentDisposition(a->filename));
  r.Header("X-Content-Type-Options", "nosniff");
  r.Header("Cache-Control", "private, no-store");
  return r;
}

Response DeleteAttachment(const RegistryServices& s, const Caller& c, Request& req) {
  auto id = ParseId(req.params[0], "request id");
  auto aid = ParseId(req.params[1], "attachment id");
  if (!id.ok() || !aid.ok()) return Error(!id.ok() ? id.status() : aid.status());
  Status st = s.registry->DeleteAttachment(c.principal, *id, *aid);
  return st.ok() ? Response::Json(200, R"({"deleted":true})") : Error(st);
}

Response ListRequests(const RegistryServices& s, const Caller& c, Request& req) {
  ra::RequestQuery q;
  auto after = QueryInt(req, "after", 0);
  auto limit = QueryInt(req, "limit", 50);
  auto org = QueryInt(req, "organization_id", 0);
  if (!after.ok() || !limit.ok() || !org.ok()) {
    return Error(!after.ok() ? after.status() : !limit.ok() ? limit.status() : org.status());
  }
  q.after_id = *after;
  q.limit = *limit;
  if (*org > 0) q.organization_id = *org;
  q.states = QueryList(req, "state");
  q.kinds = QueryList(req, "kind");
  q.overdue = req.QueryParam("overdue") == "1" || req.QueryParam("overdue") == "true";
  q.assigned_to_me = req.QueryParam("mine") == "1" || req.QueryParam("mine") == "true";
  auto requests = s.registry->ListRequests(c.principal, q);
  return requests.ok() ? Page(*requests, RequestJson, std::clamp<int64_t>(*limit, 1, 500))
                       : Error(requests.status());
}

// --- handlers: delegations, certificates, reports, audit ----------------------------------------

Response CreateDelegation(const RegistryServices& s, const Caller& c, Request& req) {
  auto body = JsonBody(req);
  if (!body.ok()) return Error(body.status());
  int64_t delegate = 0, scope = 0;
  std::vector<std::string> kinds;
  Status st = Field(*body, "delegate_organization_id", &delegate, true);
  if (st.ok()) st = Field(*body, "scope_organization_id", &scope, true);
  if (st.ok()) st = Field(*body, "kinds", &kinds, true);
  if (!st.ok()) return Error(st);
  auto d = s.registry->CreateDelegation(c.principal, delegate, scope, kinds);
  return d.ok() ? Response::Json(201, DelegationJson(*d).dump()) : Error(d.status());
}

Response WithdrawDelegation(const RegistryServices& s, const Caller& c, Request& req) {
  auto id = ParseId(req.params[0], "delegation id");
  if (!id.ok()) return Error(id.status());
  auto d = s.registry->WithdrawDelegation(c.principal, *id);
  return d.ok() ? Response::Json(200, DelegationJson(*d).dump()) : Error(d.status());
}

Response ListDelegations(const RegistryServices& s, const Caller& c, Request& req) {
  const bool all = req.QueryParam("all") == "1" || req.QueryParam("all") == "true";
  auto list = s.registry->ListDelegations(c.principal, !all);
  return list.ok() ? Page(*list, DelegationJson, INT64_MAX) : Error(list.status());
}

// CA names by id, read once per response (a CA is never renamed).
std::map<int64_t, std::string> CaNames(const RegistryServices& s) {
  std::map<int64_t, std::string> names;
  auto tx = s.db->Begin(store::TransactionMode::kRead);
  if (!tx.ok()) return names;
  auto cas = (*tx)->ListCas();
  if (cas.ok()) {
    for (const auto& ca : *cas) names[ca.id] = ca.name;
  }
  return names;
}

ojson CertJson(const RegistryServices& s, const std::map<int64_t, std::string>& ca_names,
               const store::CertificateRecord& cert) {
  auto ca = ca_names.find(cert.issuer_ca_id);
  ojson j = ca::CertificateJson(cert, ca != ca_names.end() ? ca->second : "", s.clock->Now());
  j["id"] = cert.id;
  j["owner_id"] = cert.owner_id ? ojson(*cert.owner_id) : ojson(nullptr);
  j["organization_id"] = cert.organization_id ? ojson(*cert.organization_id) : ojson(nullptr);
  // RFC 7468 §5: the certificate, so a subscriber downloads it with the request's result.
  const std::string b64 = Base64Encode(cert.der);
  std::string pem = "-----BEGIN CERTIFICATE-----\n";
  for (size_t i = 0; i < b64.size(); i += 64) pem += b64.substr(i, 64) + "\n";
  j["pem"] = pem + "-----END CERTIFICATE-----\n";
  return j;
}

Response GetCertificate(const RegistryServices& s, const Caller& c, Request& req) {
  auto id = ParseId(req.params[0], "certificate id");
  if (!id.ok()) return Error(id.status());
  auto cert = s.registry->GetCertificate(c.principal, *id);
  return cert.ok() ? Response::Json(200, CertJson(s, CaNames(s), *cert).dump())
                   : Error(cert.status());
}

Response ListCertificates(const RegistryServices& s, const Caller& c, Request& req) {
  store::CertificateFilter filter;
  auto limit = QueryInt(req, "limit", 100);
  auto offset = QueryInt(req, "offset", 0);
  auto org = QueryInt(req, "organization_id", 0);
  auto owner = QueryInt(req, "owner_id", 0);
  auto days = QueryInt(req, "expiring_within_days", 0);
  for (const auto* r : {&limit, &offset, &org, &owner, &days}) {
    if (!r->ok()) return Error(r->status());
  }
  filter.limit = std::clamp<int64_t>(*limit, 1, 500);
  filter.offset = *offset;
  if (*org > 0) filter.organization_id = *org;
  if (*owner > 0) filter.owner_id = *owner;
  if (*days > 0) {
    filter.expires_before = s.clock->Now() + *days * kSecondsPerDay;
    filter.valid_at = s.clock->Now();
  }
  // Search: a substring of the subject (a name), an exact identifier ("CCCD:001099012345",
  // "MST:0100109106"), a profile. Percent-decoded, '+' as space (HTML forms).
  if (auto subject = QueryText(req, "subject"); !subject.empty()) filter.subject_contains = subject;
  if (auto uid = QueryText(req, "uid"); !uid.empty()) filter.uid = uid;
  if (auto profile = QueryText(req, "profile"); !profile.empty()) filter.profile = profile;
  std::string_view status = req.QueryParam("status");
  if (status == "valid") filter.status = store::CertificateStatus::kValid;
  if (status == "revoked") filter.status = store::CertificateStatus::kRevoked;
  // subtree=1: the body named by organization_id and every body under it.
  const bool subtree = req.QueryParam("subtree") == "1";
  auto certs = s.registry->ListCertificates(c.principal, filter, subtree);
  if (!certs.ok()) return Error(certs.status());
  ojson out = {{"items", ojson::array()}};
  const auto ca_names = CaNames(s);
  for (const auto& cert : *certs) out["items"].push_back(CertJson(s, ca_names, cert));
  return Response::Json(200, out.dump());
}

Response ExpiryReport(const RegistryServices& s, const Caller& c, Request&) {
  auto report = s.registry->ExpiryReport(c.principal);
  if (!report.ok()) return Error(report.status());
  ojson out = ojson::array();
  for (const auto& b : *report) {
    out.push_back({{"organization_id", b.organization_id},
                   {"organization_name", b.organization_name},
                   {"within_30_days", b.within_30},
                   {"within_60_days", b.within_60},
                   {"within_90_days", b.within_90}});
  }
  return Response::Json(200, ojson{{"items", out}}.dump());
}

ojson ReminderJson(const store::ReminderEntry& r) {
  const store::OutboxMessage& m = r.message;
  const char* state = m.sent_at ? "sent" : m.attempts > 0 ? "retrying" : "queued";
  return {{"id", m.id},
          {"certificate_id", m.certificate_id ? ojson(*m.certificate_id) : ojson(nullptr)},
          {"serial", r.serial_hex},
          {"common_name", r.common_name},
          {"not_after", FormatUtc(r.not_after)},
          {"organization_id", r.organization_id ? ojson(*r.organization_id) : ojson(nullptr)},
          {"days", m.reminder_days ? ojson(*m.reminder_days) : ojson(nullptr)},
          {"state", state},
          {"channel", m.channel},
          {"recipient", m.recipient},
          {"queued_at", FormatUtc(m.created_at)},
          {"sent_at", m.sent_at ? ojson(FormatUtc(*m.sent_at)) : ojson(nullptr)},
          {"attempts", m.attempts}};
}

// The expiry reminders about certificates in the caller's scope, filtered by certificate(s),
// body, window, state and time sent; pages by id like every list.
Response ListReminders(const RegistryServices& s, const Caller& c, Request& req) {
  ra::ReminderQuery q;
  auto after = QueryInt(req, "after", 0);
  auto limit = QueryInt(req, "limit", 100);
  auto org = QueryInt(req, "organization_id", 0);
  auto days = QueryInt(req, "days", 0);
  for (const auto* r : {&after, &limit, &org, &days}) {
    if (!r->ok()) return Error(r->status());
  }
  q.filter.after_id = *after;
  q.filter.limit = *limit;
  if (*org > 0) q.organization_id = *org;
  if (*days > 0) q.filter.reminder_days = *days;
  const std::vector<std::string> ids = QueryList(req, "certificate_id");
  if (ids.size() > 500) {
    return Response::Error(400, "api.bad_query", "at most 500 certificate ids per call");
  }
  for (const std::string& text : ids) {
    auto id = ParseId(text, "certificate_id");
    if (!id.ok()) return Error(id.status());
    q.filter.certificate_ids.push_back(*id);
  }
  if (std::string state(req.QueryParam("state")); !state.empty()) {
    if (state != "queued" && state != "retrying" && state != "sent") {
      return Response::Error(400, "api.bad_query", "state must be queued, retrying or sent");
    }
    q.filter.state = state;
  }
  for (auto [name, out] :
       {std::pair{"sent_from", &q.filter.sent_from}, {"sent_before", &q.filter.sent_before}}) {
    std::string text = QueryText(req, name);
    if (text.empty()) continue;
    auto t = ParseTime(text);
    if (!t) {
      return Response::Error(400, "api.bad_query",
                             std::string(name) + " must be YYYY-MM-DD or an RFC 3339 time");
    }
    *out = *t;
  }
  auto reminders = s.registry->ListReminders(c.principal, q);
  if (!reminders.ok()) return Error(reminders.status());
  return PageBy(*reminders, ReminderJson, std::clamp<int64_t>(*limit, 1, 500),
                [](const store::ReminderEntry& r) { return r.message.id; });
}

Response Audit(const RegistryServices& s, const Caller& c, Request& req) {
  if (Status st = ra::CanReadAudit(c.principal); !st.ok()) return Error(st);
  auto from = QueryInt(req, "from", 1);
  auto limit = QueryInt(req, "limit", 100);
  if (!from.ok() || !limit.ok()) return Error(!from.ok() ? from.status() : limit.status());
  auto tx = s.db->Begin(store::TransactionMode::kRead);
  if (!tx.ok()) return Error(tx.status());
  auto entries =
      (*tx)->ListAuditEntries(std::max<int64_t>(*from, 1), std::clamp<int64_t>(*limit, 1, 1000));
  if (!entries.ok()) return Error(entries.status());
  ojson out = ojson::array();
  for (const auto& e : *entries) {
    json details = json::parse(e.details, nullptr, false);
    out.push_back({{"seq", e.seq},
                   {"time", FormatUtc(e.time)},
                   {"actor", e.actor},
                   {"action", e.action},
                   {"object", e.object},
                   {"details", details.is_discarded() ? json(e.details) : details},
                   {"prev_hash", HexEncode(e.prev_hash)},
                   {"hash", HexEncode(e.hash)}});
  }
  return Response::Json(200, ojson{{"items", out}}.dump());
}

std::string_view CheckName(ra::FieldCheck check) {
  switch (check) {
    case ra::FieldCheck::kText:
      return "text";
    case ra::FieldCheck::kLongText:
      return "long_text";
    case ra::FieldCheck::kPersonalId:
      return "personal_id";
    case ra::FieldCheck::kTaxCode:
      return "tax_code";
    case ra::FieldCheck::kBudgetCode:
      return "budget_code";
    case ra::FieldCheck::kEmail:
      return "email";
    case ra::FieldCheck::kMobile:
      return "mobile";
    case ra::FieldCheck::kDate:
      return "date";
    case ra::FieldCheck::kCsr:
      return "csr";
    case ra::FieldCheck::kReason:
      return "reason";
    case ra::FieldCheck::kInteger:
      return "integer";
  }
  return "text";
}

// The request kinds and their forms as data (ra/kinds.cc), so a client renders Mẫu 01–09 and
// checks fields as the user types with the server's own rules.
Response RequestKinds() {
  ojson out = ojson::array();
  for (const auto& k : ra::AllKinds()) {
    ojson fields = ojson::array();
    for (const auto& f : k.fields) {
      fields.push_back({{"name", std::string(f.name)},
                        {"check", std::string(CheckName(f.check))},
                        {"required", f.required},
                        {"label_vi", std::string(f.label_vi)}});
    }
    out.push_back({{"id", std::string(k.id)},
                   {"form", std::string(k.form)},
                   {"title_vi", std::string(k.title_vi)},
                   {"needs_person", k.needs_person},
                   {"needs_certificate", k.needs_certificate},
                   {"delegable", k.delegable},
                   {"deadline_working_days", k.deadline_working_days},
                   {"fields", fields}});
  }
  return Response::Json(200, ojson{{"items", out}}.dump());
}

Response Summary(const RegistryServices& s, const Caller& c, Request&) {
  auto summary = s.registry->Summarize(c.principal);
  if (!summary.ok()) return Error(summary.status());
  ojson states = ojson::object();
  for (const auto& [state, n] : summary->requests_by_state) states[state] = n;
  ojson months = ojson::array();
  for (const auto& m : summary->months) {
    months.push_back({{"month", m.month}, {"issued", m.issued}, {"revoked", m.revoked}});
  }
  return Response::Json(200, ojson{{"requests_by_state", states},
                                   {"overdue", summary->overdue},
                                   {"certificates",
                                    {{"valid", summary->certificates_valid},
                                     {"revoked", summary->certificates_revoked},
                                     {"expiring_30", summary->expiring_30},
                                     {"expiring_60", summary->expiring_60},
                                     {"expiring_90", summary->expiring_90}}},
                                   {"months", months}}
                                 .dump());
}

// The CAs with their latest full and delta CRLs, and the OCSP and TSA figures: what the CA
// operator watches. Roles that see everything only (CA operator, auditor, administrator).
Response ServiceStatus(const RegistryServices& s, const Caller& c, Request&) {
  if (!ra::SeesEverything(c.principal)) {
    return Response::Error(
        403, "access.denied",
        "role " + std::string(ra::RoleName(c.principal.role)) + " may not read the service status");
  }
  auto tx = s.db->Begin(store::TransactionMode::kRead);
  if (!tx.ok()) return Error(tx.status());
  auto cas = (*tx)->ListCas();
  if (!cas.ok()) return Error(cas.status());
  const UnixSeconds now = s.clock->Now();
  ojson out = {{"now", FormatUtc(now)}, {"cas", ojson::array()}};
  for (const auto& ca : *cas) {
    ojson j = ca::CaJson(ca);
    j.erase("key");
    for (const bool delta : {false, true}) {
      auto crl = (*tx)->LatestCrl(ca.id, delta);
      if (!crl.ok()) return Error(crl.status());
      ojson entry = nullptr;
      if (*crl) {
        entry = ca::CrlJson(**crl, ca.name);
        entry["stale"] = (*crl)->next_update <= now;
      }
      j[delta ? "delta_crl" : "crl"] = entry;
    }
    out["cas"].push_back(std::move(j));
  }
  if (s.services_status) {
    json services = json::parse(s.services_status(), nullptr, false);
    if (services.is_object()) {
      for (auto& [key, value] : services.items()) out[key] = value;
    }
  }
  return Response::Json(200, out.dump());
}

Response AuditVerify(const RegistryServices& s, const Caller& c, Request&) {
  if (Status st = ra::CanReadAudit(c.principal); !st.ok()) return Error(st);
  if (!s.verify_audit) {
    return Response::Error(503, "audit.unavailable", "audit verification is not configured");
  }
  auto report = s.verify_audit();
  if (!report.ok()) return Error(report.status());
  ojson problems = ojson::array();
  for (const auto& p : report->problems) {
    problems.push_back(
        {{"id", p.id}, {"seq", p.seq}, {"message", p.message}, {"warning", p.is_warning}});
  }
  return Response::Json(200, ojson{{"ok", report->ok},
                                   {"entries", report->entries},
                                   {"checkpoints", report->checkpoints},
                                   {"last_sealed_seq", report->last_sealed_seq},
                                   {"problems", problems}}
                                 .dump());
}

}  // namespace

void AddRegistryRoutes(http::Router& router, const RegistryServices* s) {
  using M = Method;
  auto add = [&router](std::string name, std::vector<Method> methods, std::string pattern,
                       size_t limit, http::Handler handler) {
    router.Add(
        {std::move(name), std::move(methods), std::move(pattern), limit, std::move(handler)});
  };
  auto authed = [s](auto fn) {
    return Authed(s, [s, fn](const Caller& c, Request& req) { return fn(*s, c, req); });
  };
  add("api_openapi", {M::kGet}, "/api/v1/openapi.json", 0, [](Request&) {
    static const std::string doc = OpenApiDocument();
    return Response::Json(200, doc);
  });
  add("api_login", {M::kPost}, "/api/v1/auth/login", 4096,
      [s](Request& req) { return Login(*s, req); });
  add("api_logout", {M::kPost}, "/api/v1/auth/logout", 4096, authed(Logout));
  add("api_tokens", {M::kPost}, "/api/v1/auth/tokens", 4096, authed(CreateToken));
  add("api_tokens_list", {M::kGet}, "/api/v1/auth/tokens", 0, authed(ListTokens));
  add("api_token_revoke", {M::kDelete}, "/api/v1/auth/tokens/{id}", 0, authed(RevokeToken));
  add("api_password", {M::kPost}, "/api/v1/auth/password", 4096, authed(ChangePassword));
  add("api_me", {M::kGet}, "/api/v1/me", 0,
      Authed(s, [](const Caller& c, Request&) { return Me(c); }));
  add("api_accounts", {M::kPost}, "/api/v1/accounts", kJsonBodyLimit, authed(CreateAccount));
  add("api_accounts_list", {M::kGet}, "/api/v1/accounts", 0,
      authed([](const RegistryServices& s, const Caller& c, Request& req) {
        auto after = QueryInt(req, "after", 0);
        auto limit = QueryInt(req, "limit", 100);
        if (!after.ok() || !limit.ok()) return Error(!after.ok() ? after.status() : limit.status());
        auto list = s.registry->ListAccounts(c.principal, *after, *limit);
        return list.ok() ? Page(*list, AccountJson, std::clamp<int64_t>(*limit, 1, 500))
                         : Error(list.status());
      }));

  add("api_orgs_create", {M::kPost}, "/api/v1/organizations", kJsonBodyLimit, authed(CreateOrg));
  add("api_orgs_list", {M::kGet}, "/api/v1/organizations", 0, authed(ListOrgs));
  add("api_orgs_import", {M::kPost}, "/api/v1/organizations/import", kImportBodyLimit,
      authed([](const RegistryServices& s, const Caller& c, Request& req) {
        return Import(s, c, req, false);
      }));
  add("api_org", {M::kGet}, "/api/v1/organizations/{id}", 0,
      authed([](const RegistryServices& s, const Caller& c, Request& req) {
        auto id = ParseId(req.params[0], "organization id");
        if (!id.ok()) return Error(id.status());
        auto org = s.registry->GetOrganization(c.principal, *id);
        return org.ok() ? Response::Json(200, OrgJson(*org).dump()) : Error(org.status());
      }));
  add("api_org_update", {M::kPut}, "/api/v1/organizations/{id}", kJsonBodyLimit, authed(UpdateOrg));

  add("api_people_create", {M::kPost}, "/api/v1/people", kJsonBodyLimit, authed(CreatePerson));
  add("api_people_list", {M::kGet}, "/api/v1/people", 0, authed(ListPeople));
  add("api_people_import", {M::kPost}, "/api/v1/people/import", kImportBodyLimit,
      authed([](const RegistryServices& s, const Caller& c, Request& req) {
        return Import(s, c, req, true);
      }));
  add("api_person", {M::kGet}, "/api/v1/people/{id}", 0,
      authed([](const RegistryServices& s, const Caller& c, Request& req) {
        auto id = ParseId(req.params[0], "person id");
        if (!id.ok()) return Error(id.status());
        auto p = s.registry->GetPerson(c.principal, *id);
        return p.ok() ? Response::Json(200, PersonJson(*p).dump()) : Error(p.status());
      }));
  add("api_person_update", {M::kPut}, "/api/v1/people/{id}", kJsonBodyLimit, authed(UpdatePerson));
  add("api_person_move", {M::kPost}, "/api/v1/people/{id}/move", kJsonBodyLimit,
      authed(MovePerson));
  add("api_person_status", {M::kPost}, "/api/v1/people/{id}/status", kJsonBodyLimit,
      authed(PersonStatus));

  add("api_requests_create", {M::kPost}, "/api/v1/requests", kJsonBodyLimit, authed(CreateRequest));
  add("api_requests_list", {M::kGet}, "/api/v1/requests", 0, authed(ListRequests));
  add("api_request", {M::kGet}, "/api/v1/requests/{id}", 0,
      authed([](const RegistryServices& s, const Caller& c, Request& req) {
        auto id = ParseId(req.params[0], "request id");
        if (!id.ok()) return Error(id.status());
        auto r = s.registry->GetRequest(c.principal, *id);
        return r.ok() ? Response::Json(200, RequestJson(*r).dump()) : Error(r.status());
      }));
  add("api_request_update", {M::kPut}, "/api/v1/requests/{id}", kJsonBodyLimit,
      authed(UpdateRequest));
  add("api_request_document", {M::kGet}, "/api/v1/requests/{id}/document", 0,
      authed(RequestDocument));
  add("api_request_submit", {M::kPost}, "/api/v1/requests/{id}/submit", kJsonBodyLimit,
      authed(Submit));
  add("api_request_transition", {M::kPost}, "/api/v1/requests/{id}/transitions", kJsonBodyLimit,
      authed(TransitionRequest));
  add("api_request_history", {M::kGet}, "/api/v1/requests/{id}/history", 0, authed(History));
  add("api_request_attachments_add", {M::kPost}, "/api/v1/requests/{id}/attachments",
      ra::Registry::kMaxAttachmentBytes, authed(AddAttachment));
  add("api_request_attachments", {M::kGet}, "/api/v1/requests/{id}/attachments", 0,
      authed(ListAttachments));
  add("api_request_attachment", {M::kGet}, "/api/v1/requests/{id}/attachments/{aid}", 0,
      authed(DownloadAttachment));
  add("api_request_attachment_delete", {M::kDelete}, "/api/v1/requests/{id}/attachments/{aid}", 0,
      authed(DeleteAttachment));

  add("api_delegations_create", {M::kPost}, "/api/v1/delegations", kJsonBodyLimit,
      authed(CreateDelegation));
  add("api_delegations_list", {M::kGet}, "/api/v1/delegations", 0, authed(ListDelegations));
  add("api_delegation_withdraw", {M::kPost}, "/api/v1/delegations/{id}/withdraw", 1024,
      authed(WithdrawDelegation));

  add("api_certificates_list", {M::kGet}, "/api/v1/certificates", 0, authed(ListCertificates));
  add("api_certificate_by_id", {M::kGet}, "/api/v1/registry/certificates/{id}", 0,
      authed(GetCertificate));
  add("api_reports_expiry", {M::kGet}, "/api/v1/reports/expiry", 0, authed(ExpiryReport));
  add("api_reminders", {M::kGet}, "/api/v1/reminders", 0, authed(ListReminders));
  add("api_request_kinds", {M::kGet}, "/api/v1/request-kinds", 0,
      Authed(s, [](const Caller&, Request&) { return RequestKinds(); }));
  add("api_reports_summary", {M::kGet}, "/api/v1/reports/summary", 0, authed(Summary));
  add("api_status", {M::kGet}, "/api/v1/status", 0, authed(ServiceStatus));
  add("api_audit", {M::kGet}, "/api/v1/audit", 0, authed(Audit));
  add("api_audit_verify", {M::kGet}, "/api/v1/audit/verify", 0, authed(AuditVerify));
}

// Shared with the signing routes (through app): the same checks as every route above.
Result<ra::Principal> AuthenticateRequest(const RegistryServices& services,
                                          const http::Request& request) {
  KYSO_ASSIGN_OR_RETURN(Caller caller, Authenticate(services, request));
  return std::move(caller.principal);
}

}  // namespace kyso::api
