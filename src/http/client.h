// A small synchronous HTTP/1.1 client for the requests a signer makes while it works: RFC 3161
// time-stamps (POST application/timestamp-query), RFC 6960 OCSP responses (POST
// application/ocsp-request) and CRLs and CA certificates (GET) from URLs found in certificates.
//
// What it guarantees:
// - One deadline, ClientOptions::timeout, bounds the whole call: name resolution, connect, TLS
//   handshake, writing the request and reading the response, and every redirect hop of a GET.
//   (Name resolution runs getaddrinfo on a helper thread; the call returns at the deadline, but
//   returning waits for a getaddrinfo still blocked in the system resolver.)
// - https:// uses TLS 1.2 or 1.3 only; the peer's chain is verified against the system trust
//   store (or ClientOptions::ca_file) and its name against the URL's host (DNS name or IP
//   address, RFC 6125).
// - A response body larger than max_response_bytes is refused (http_client.too_large) before it
//   is buffered beyond that limit.
// - A non-2xx status is not an error: the caller reads ClientResponse::status.
// - POST follows no redirect. GET follows up to kMaxRedirects (301, 302, 303, 307, 308 with a
//   Location), from http to https and back (CRLs and certificates are signed objects,
//   published over plain http by RFC 5280 §8 convention); one more is http_client.protocol.
// - Each call uses its own connection, with "Connection: close". No cookies, no proxies, no
//   compression, no credentials in URLs; the only credential is an optional TLS client
//   certificate (ClientOptions::client_certificate_file).
//
// Errors (stable ids): http_client.bad_url (InvalidArgument), and, all Unavailable:
// http_client.resolve, http_client.connect, http_client.tls (also: the client certificate or
// key is unreadable or they do not match), http_client.timeout,
// http_client.too_large, http_client.protocol (unparsable response, connection closed early,
// too many redirects).
//
// Thread-safety: the functions share no state; call them from any number of threads.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

#include "base/bytes.h"
#include "base/result.h"

namespace kyso::http {

struct ClientOptions {
  // The whole exchange: resolve + connect + TLS + write + read, redirects included.
  std::chrono::milliseconds timeout{10'000};
  size_t max_response_bytes = 16u << 20;
  std::string user_agent = "kyso";
  // PEM file of trust anchors used instead of the system trust store for https (a private
  // PKI's TSA or OCSP responder, tests). Empty: the system store.
  std::string ca_file;
  // A TLS client certificate for https, to authenticate to a server that accepts them (kyso's
  // own, with TlsFiles::client_ca_file): the PEM chain (leaf first) and its unencrypted PEM
  // private key. Both empty: none. Unused for http:// URLs.
  std::string client_certificate_file;
  std::string client_key_file;
};

struct ClientResponse {
  int status = 0;
  std::string content_type;  // the Content-Type header, as sent; "" if none
  Bytes body;
};

inline constexpr int kMaxRedirects = 3;

// POSTs `body` with `content_type` to `url` (http:// or https://, IPv4 or IPv6 literal or name,
// optional port, path and query). Follows no redirect.
Result<ClientResponse> Post(const std::string& url, std::string_view content_type, ByteSpan body,
                            const ClientOptions& options = {});

// GETs `url`, following up to kMaxRedirects redirects.
Result<ClientResponse> Get(const std::string& url, const ClientOptions& options = {});

}  // namespace kyso::http
