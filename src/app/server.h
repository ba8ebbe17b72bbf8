// Serve: `kyso serve` — composes the HTTP server, the OCSP responder, the time-stamping unit
// and the CRL publisher over an opened Instance, and runs until SIGTERM or SIGINT.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "app/instance.h"
#include "audit/audit_log.h"
#include "base/status.h"
#include "http/server.h"
#include "ocsp/responder.h"
#include "tsa/time_stamp_authority.h"

namespace kyso::app {

struct ServeOptions {
  http::ServerOptions http;
  // "" : <data>/logs/access.log; "-" : stdout; "off" : no access log.
  std::string access_log;
  ocsp::ResponderOptions ocsp;
  tsa::TsaOptions tsa;
  // How often the server looks for revocations committed by other processes (the CLI, other
  // nodes); bounds how long a pre-signed "good" can outlive a revocation made elsewhere.
  std::chrono::milliseconds revocation_poll{10};
  // Registration workflow: accept unsigned request submissions (demo instances only).
  bool allow_unsigned_requests = false;
  // How often expiry reminders are queued and the outbox is delivered.
  std::chrono::milliseconds reminder_period{std::chrono::hours(1)};
  std::chrono::milliseconds outbox_period{std::chrono::seconds(30)};
  // The built portal (web/dist) served at `/`; "" serves none.
  std::string web_root;
};

// The audit log's full check (`kyso audit verify`, GET /api/v1/audit/verify): every entry and
// checkpoint, against the audit key whose certificate the instance's CA signed.
// FailedPrecondition "audit.no_key" without an audit certificate; DataLoss
// "audit.key_not_certified" when no CA of the instance signed it.
Result<audit::AuditReport> VerifyAuditLog(Instance& instance);

// Runs the server until a signal asks it to stop; returns OK after a graceful shutdown.
// `on_ready(port)` runs once the socket listens (the CLI prints the URL; tests learn the port).
Status Serve(Instance& instance, const ServeOptions& options,
             const std::function<void(uint16_t port)>& on_ready);

}  // namespace kyso::app
