// Server: HTTP/1.1 on Boost.Beast, one process, `workers` I/O threads sharing one io_context.
//
// What it guarantees, whatever clients do:
// - Keep-alive: a connection serves requests until the client closes it, sends
//   "Connection: close", or stays idle longer than idle_timeout.
// - A connection that opens and closes without a request, or sends garbage, costs one
//   accept and one failed read; it never blocks the acceptor or other connections (every read
//   and write is asynchronous).
// - Slow clients time out: the request head must arrive within header_timeout of the first
//   byte being awaited, the body within body_timeout, and each response must be written within
//   write_timeout. TLS handshakes get header_timeout.
// - Limits: a head larger than max_header_bytes gets 431, a body larger than the route's
//   limit (or, for unmatched paths, max_body_bytes) gets 413 before it is read, a malformed
//   request gets 400; each then closes the connection.
// - Handlers run on the I/O thread that read the request; an exception escaping one becomes a
//   500 (handlers are expected to return errors as values).
// - With TlsFiles::client_ca_file, a client certificate is requested, verified when presented,
//   and identifies the connection's requests (Request::client_certificate_*); its absence is
//   not an error.
// - Shutdown() (e.g. on SIGTERM) stops accepting, closes idle connections, lets requests in
//   flight finish and be written (with "Connection: close"), then Run() returns.
//
// Thread-safety: Start, Run and Shutdown may be called from different threads; Shutdown may be
// called from a signal handler's asio completion or any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "base/result.h"
#include "http/access_log.h"
#include "http/message.h"
#include "http/metrics.h"
#include "http/router.h"

namespace kyso::http {

struct TlsFiles {
  std::string certificate_chain;  // PEM: leaf first, then intermediates
  std::string private_key;        // PEM (unencrypted, or encrypted with `passphrase`)
  std::string passphrase;
  // PEM bundle of the CAs whose client certificates are accepted. Empty: no client
  // certificates are requested. Set: the server asks every client for a certificate (and names
  // these CAs in its CertificateRequest, so a browser offers a fitting one) but does not
  // require one, so password and API-token clients still connect. A certificate that is
  // presented must chain to one of these CAs under OpenSSL's verifier (RFC 5280 §6), or the
  // handshake fails; a verified one is reported on every request of the connection as
  // Request::client_certificate_sha256 and client_certificate_subject. Revocation is not
  // checked here: the application looks the fingerprint up in its own records.
  std::string client_ca_file;
};

struct ServerOptions {
  std::string listen = "127.0.0.1:8080";  // host:port; port 0 picks a free port
  int workers = 1;
  std::optional<TlsFiles> tls;  // TLS 1.2 and 1.3 only
  size_t max_header_bytes = 16 * 1024;
  size_t max_body_bytes = 64 * 1024;  // for unmatched routes and routes without their own limit
  std::chrono::milliseconds header_timeout{10'000};
  std::chrono::milliseconds body_timeout{30'000};
  std::chrono::milliseconds write_timeout{30'000};
  std::chrono::milliseconds idle_timeout{30'000};
  // Upper bound for Shutdown(): connections still busy after it are closed.
  std::chrono::milliseconds shutdown_grace{10'000};
  std::string server_header = "kyso";
};

class Server {
 public:
  // `router`, `metrics` and `access_log` must outlive the server. `metrics` must have been
  // built with the router's route names (MetricsFor). `access_log` may be null (off).
  Server(ServerOptions options, const Router* router, Metrics* metrics, AccessLog* access_log);
  ~Server();

  // Binds and listens. Errors: http.bad_listen (unparsable address), http.bind (address in use,
  // permission), http.tls (certificate or key unreadable, or they do not match, or the client CA
  // file unreadable or without a certificate).
  Status Start();
  // The bound port (useful with port 0), after Start.
  uint16_t port() const;
  // Runs the I/O threads until Shutdown() completes. Returns once every thread has stopped.
  void Run();
  // Graceful stop; returns at once, Run() returns when done.
  void Shutdown();
  // Runs `task` every `period` on the I/O context until shutdown (background chores such as
  // OCSP revocation polling). Call before Run().
  void Every(std::chrono::milliseconds period, std::function<void()> task);

  class Impl;  // public so that connection sessions (server.cc) can name it

 private:
  std::unique_ptr<Impl> impl_;
};

// A Metrics object with one slot per route of `router`.
std::unique_ptr<Metrics> MetricsFor(const Router& router);

}  // namespace kyso::http
