// Serve: `kyso serve` — composes the HTTP server, the OCSP responder, the time-stamping unit
// and the CRL publisher over an opened Instance, and runs until SIGTERM or SIGINT.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "app/instance.h"
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
};

// Runs the server until a signal asks it to stop; returns OK after a graceful shutdown.
// `on_ready(port)` runs once the socket listens (the CLI prints the URL; tests learn the port).
Status Serve(Instance& instance, const ServeOptions& options,
             const std::function<void(uint16_t port)>& on_ready);

}  // namespace kyso::app
