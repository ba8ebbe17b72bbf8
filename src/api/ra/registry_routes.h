// The registration workflow's REST API (/api/v1, OpenAPI 3 document at /api/v1/openapi.json):
// thin handlers over ra::Registry — parse, authenticate, call the service (which authorizes
// by role and scope), render. Errors are {"error":{"code","message"}} with the code's HTTP
// status (403 access.*, 401 auth.*, 404 store.not_found, 409 store.conflict and
// ra.bad_transition, 400 form.* and other bad input, 429 auth.rate_limited).
//
// Authentication, first match wins:
//   Authorization: Bearer <token>   an API token (integrating systems) or a session token
//   Cookie: kyso_session=<token>    a browser session; writes also need X-CSRF-Token
//   a TLS client certificate        issued by our CA and registered on the account
//
// Create calls (POST /organizations, /people, /requests) honour an Idempotency-Key header: a
// retry with the same key and body gets the object the first call created (200 with
// "Idempotent-Replayed: true" instead of 201); the same key with another body is refused.
#pragma once

#include <functional>
#include <string>

#include "audit/audit_log.h"
#include "auth/password.h"
#include "auth/rate_limiter.h"
#include "base/clock.h"
#include "crypto/random.h"
#include "http/router.h"
#include "ra/registry.h"
#include "store/store.h"

namespace kyso::api {

struct RegistryServices {
  ra::Registry* registry = nullptr;
  store::Database* db = nullptr;
  const audit::AuditLog* audit = nullptr;
  auth::LoginRateLimiter* login_limiter = nullptr;
  crypto::Rng* rng = nullptr;
  const Clock* clock = nullptr;
  auth::PasswordCost password_cost = auth::PasswordCost::Interactive();
  int64_t session_seconds = 8 * 3600;
  int64_t max_token_days = 366;
  // The same check as `kyso audit verify` (the composition root knows the audit key's
  // certificate); unset: GET /api/v1/audit/verify answers 503.
  std::function<Result<audit::AuditReport>()> verify_audit;
  // The running services' figures for GET /api/v1/status: a JSON object with "ocsp" and "tsa"
  // (the composition root owns the responder and the time-stamping unit); unset: omitted.
  std::function<std::string()> services_status;
};

// Registers the routes listed in OpenApiDocument(). `services` must outlive the router.
void AddRegistryRoutes(http::Router& router, const RegistryServices* services);

// The OpenAPI 3.0 document describing them (served at /api/v1/openapi.json).
std::string OpenApiDocument();

// The caller of a /api/v1 request, authenticated as above (Unauthenticated auth.required,
// auth.invalid_token, auth.unknown_certificate, auth.account_disabled; PermissionDenied
// auth.csrf). The composition root hands it to the signing routes, which may not depend on
// this module.
Result<ra::Principal> AuthenticateRequest(const RegistryServices& services,
                                          const http::Request& request);

}  // namespace kyso::api
