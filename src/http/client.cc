#include "http/client.h"

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cctype>
#include <charconv>
#include <optional>
#include <utility>  // before Boost 1.74 Asio, whose awaitable.hpp needs std::exchange

namespace kyso::http {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

constexpr uint32_t kMaxResponseHeaderBytes = 64 * 1024;

// ---------------------------------------------------------------------------------------------
// URLs

struct Url {
  bool tls = false;
  std::string host;  // lower-case; IPv6 without brackets
  bool ip_literal = false;
  bool ipv6 = false;
  uint16_t port = 0;
  std::string target;  // path and query, never empty ("/")

  std::string Origin() const {
    std::string out = tls ? "https://" : "http://";
    out += HostPort();
    return out;
  }
  // For the Host header (RFC 7230 §5.4): the port only when it is not the scheme's default.
  std::string HostPort() const {
    std::string out = ipv6 ? "[" + host + "]" : host;
    if (port != (tls ? 443 : 80)) out += ":" + std::to_string(port);
    return out;
  }
};

Status BadUrl(std::string_view url, std::string_view why) {
  return InvalidArgument("http_client.bad_url",
                         "cannot use URL '" + std::string(url) + "': " + std::string(why));
}

bool IsRegNameChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_';
}

// Parses an absolute http(s) URL (RFC 3986 §3). Strict where laxness could smuggle something
// into the request line or Host header: no controls, spaces or non-ASCII bytes anywhere, no
// userinfo, no percent-encoded host.
Result<Url> ParseUrl(std::string_view url) {
  for (char c : url) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f) return BadUrl(url, "contains a space, control or non-ASCII byte");
  }
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return BadUrl(url, "not an absolute http(s) URL");
  std::string scheme(url.substr(0, scheme_end));
  for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  Url out;
  if (scheme == "https") {
    out.tls = true;
  } else if (scheme != "http") {
    return BadUrl(url, "scheme is not http or https");
  }
  std::string_view rest = url.substr(scheme_end + 3);
  const size_t authority_end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, authority_end);
  std::string_view path_query =
      authority_end == std::string_view::npos ? std::string_view() : rest.substr(authority_end);
  path_query = path_query.substr(0, path_query.find('#'));  // fragments stay with the client

  if (authority.find('@') != std::string_view::npos) {
    return BadUrl(url, "credentials in URLs are not supported");
  }
  std::string_view host;
  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return BadUrl(url, "unterminated IPv6 literal");
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return BadUrl(url, "junk after IPv6 literal");
      port_text = after.substr(1);
    }
    boost::system::error_code ec;
    net::ip::make_address_v6(std::string(host), ec);
    if (ec || host.find('%') != std::string_view::npos) {
      return BadUrl(url, "bad IPv6 literal (zone identifiers are not supported)");
    }
    out.ip_literal = true;
    out.ipv6 = true;
  } else {
    const size_t colon = authority.find(':');
    host = authority.substr(0, colon);
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
    for (char c : host) {
      if (!IsRegNameChar(c)) return BadUrl(url, "bad character in host name");
    }
    boost::system::error_code ec;
    net::ip::make_address_v4(std::string(host), ec);
    out.ip_literal = !ec;
  }
  if (host.empty()) return BadUrl(url, "no host");
  out.host.assign(host);
  for (char& c : out.host) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));

  out.port = out.tls ? 443 : 80;
  if (!port_text.empty()) {  // RFC 3986 §3.2.3: an empty port means the default
    unsigned port = 0;
    auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || ptr != port_text.data() + port_text.size() || port == 0 ||
        port > 65535) {
      return BadUrl(url, "bad port");
    }
    out.port = static_cast<uint16_t>(port);
  }
  if (path_query.empty() || path_query.front() != '/') {
    out.target = "/" + std::string(path_query);  // "" → "/", "?q" → "/?q"
  } else {
    out.target.assign(path_query);
  }
  return out;
}

// Resolves a Location header value (RFC 7231 §7.1.2: a URI reference) against `base`.
Result<Url> ResolveLocation(const Url& base, std::string_view location) {
  const size_t colon = location.find(':');
  const size_t slash = location.find('/');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon < slash)) {
    return ParseUrl(location);  // absolute
  }
  if (location.starts_with("//")) {
    return ParseUrl(std::string(base.tls ? "https:" : "http:") + std::string(location));
  }
  if (location.starts_with("/")) return ParseUrl(base.Origin() + std::string(location));
  std::string_view base_path = base.target;
  base_path = base_path.substr(0, base_path.find('?'));
  if (location.starts_with("?")) {
    return ParseUrl(base.Origin() + std::string(base_path) + std::string(location));
  }
  // Relative path: against the base path's directory (RFC 3986 §5.2.3, without dot-segment
  // removal, which the server does anyway).
  base_path = base_path.substr(0, base_path.rfind('/') + 1);
  return ParseUrl(base.Origin() + std::string(base_path) + std::string(location));
}

// ---------------------------------------------------------------------------------------------
// One exchange on one connection

struct Fetched {
  ClientResponse response;
  std::string location;
};

Status Timeout(const Url& url) {
  return Unavailable("http_client.timeout",
                     "no complete response from " + url.Origin() + " within the time limit");
}

bool TimedOut(beast::error_code ec, Clock::time_point deadline) {
  return ec == beast::error::timeout || Clock::now() >= deadline;
}

std::string TlsErrorText(SSL* ssl, beast::error_code ec) {
  const long verify = SSL_get_verify_result(ssl);
  if (verify != X509_V_OK) {
    return std::string("certificate verification failed: ") + X509_verify_cert_error_string(verify);
  }
  return ec.message();
}

// Writes the request and reads the response on a connected (and, for TLS, handshaken) stream.
template <class Stream>
Result<Fetched> WriteAndRead(net::io_context& ioc, Stream& stream, const Url& url,
                             bhttp::request<bhttp::vector_body<uint8_t>>& request,
                             const ClientOptions& options, Clock::time_point deadline) {
  beast::error_code ec;
  bhttp::async_write(stream, request, [&](beast::error_code e, size_t) { ec = e; });
  ioc.restart();
  ioc.run();
  if (ec) {
    if (TimedOut(ec, deadline)) return Timeout(url);
    return Unavailable("http_client.connect",
                       "connection to " + url.Origin() + " lost while sending: " + ec.message());
  }

  const auto too_large = [&] {
    return Unavailable("http_client.too_large", "response from " + url.Origin() + " exceeds " +
                                                    std::to_string(options.max_response_bytes) +
                                                    " bytes");
  };
  const auto read_failed = [&](beast::error_code e) -> Status {
    if (e == bhttp::error::body_limit) return too_large();
    if (TimedOut(e, deadline)) return Timeout(url);
    return Unavailable("http_client.protocol",
                       "bad or incomplete response from " + url.Origin() + ": " + e.message());
  };

  beast::flat_buffer buffer;
  std::optional<bhttp::response_parser<bhttp::vector_body<uint8_t>>> parser;
  // Interim 1xx responses (RFC 7231 §6.2) precede the final one; skip a few.
  for (int interim = 0;; ++interim) {
    parser.emplace();
    parser->header_limit(kMaxResponseHeaderBytes);
    parser->body_limit(options.max_response_bytes);
    // The head first, on its own: Beast 1.74 loses the body_limit error for a Content-Length
    // over the limit when the body arrives in the same read as the head (basic_parser::put
    // carries on eagerly past finish_header's error), so the length is checked here.
    bhttp::async_read_header(stream, buffer, *parser, [&](beast::error_code e, size_t) { ec = e; });
    ioc.restart();
    ioc.run();
    if (ec) return read_failed(ec);
    const unsigned status = parser->get().result_int();
    if (status >= 200 || status == 101) break;
    if (interim == 4) {
      return Unavailable("http_client.protocol", "too many interim responses from " + url.Origin());
    }
  }
  if (const auto length = parser->content_length();
      length && *length > options.max_response_bytes) {
    return too_large();
  }
  if (!parser->is_done()) {
    bhttp::async_read(stream, buffer, *parser, [&](beast::error_code e, size_t) { ec = e; });
    ioc.restart();
    ioc.run();
    if (ec == ssl::error::stream_truncated && parser->need_eof()) {
      // A body delimited by the end of the connection, closed without close_notify.
      parser->put_eof(ec);
    }
    if (ec) return read_failed(ec);
  }
  auto& message = parser->get();
  Fetched out;
  out.response.status = static_cast<int>(message.result_int());
  const auto type = message[bhttp::field::content_type];
  out.response.content_type.assign(type.data(), type.size());
  const auto location = message[bhttp::field::location];
  out.location.assign(location.data(), location.size());
  out.response.body = std::move(message.body());
  return out;
}

Result<Fetched> Fetch(const Url& url, bhttp::verb verb, std::string_view content_type,
                      ByteSpan body, const ClientOptions& options, Clock::time_point deadline) {
  if (Clock::now() >= deadline) return Timeout(url);
  net::io_context ioc;

  // Resolve. getaddrinfo cannot be interrupted: on timeout the call returns once it does.
  tcp::resolver resolver(ioc);
  beast::error_code ec = net::error::would_block;
  tcp::resolver::results_type endpoints;
  auto flags = tcp::resolver::numeric_service;
  if (url.ip_literal) flags |= tcp::resolver::numeric_host;
  resolver.async_resolve(url.host, std::to_string(url.port), flags,
                         [&](beast::error_code e, tcp::resolver::results_type results) {
                           ec = e;
                           endpoints = std::move(results);
                         });
  ioc.run_until(deadline);
  if (!ioc.stopped()) {
    resolver.cancel();
    return Timeout(url);
  }
  if (ec) {
    return Unavailable("http_client.resolve",
                       "cannot resolve host '" + url.host + "': " + ec.message());
  }

  bhttp::request<bhttp::vector_body<uint8_t>> request(verb, url.target, 11);
  request.set(bhttp::field::host, url.HostPort());
  request.set(bhttp::field::user_agent, options.user_agent);
  request.set(bhttp::field::accept, "*/*");
  request.set(bhttp::field::connection, "close");
  if (verb == bhttp::verb::post) {
    request.set(bhttp::field::content_type,
                beast::string_view(content_type.data(), content_type.size()));
    request.body().assign(body.begin(), body.end());
  }
  request.prepare_payload();

  const auto connect = [&](beast::tcp_stream& tcp) -> Status {
    tcp.expires_at(deadline);  // also bounds every later operation on this stream
    tcp.async_connect(endpoints, [&](beast::error_code e, const tcp::endpoint&) { ec = e; });
    ioc.restart();
    ioc.run();
    if (!ec) return Status::Ok();
    if (TimedOut(ec, deadline)) return Timeout(url);
    return Unavailable("http_client.connect",
                       "cannot connect to " + url.Origin() + ": " + ec.message());
  };

  if (!url.tls) {
    beast::tcp_stream stream(ioc);
    KYSO_RETURN_IF_ERROR(connect(stream));
    return WriteAndRead(ioc, stream, url, request, options, deadline);
  }

  ssl::context tls(ssl::context::tls_client);
  //= https://www.rfc-editor.org/rfc/rfc8996#section-1 (TLS 1.0 and 1.1 are deprecated)
  SSL_CTX_set_min_proto_version(tls.native_handle(), TLS1_2_VERSION);
  if (options.ca_file.empty()) {
    tls.set_default_verify_paths(ec);
  } else {
    tls.load_verify_file(options.ca_file, ec);
  }
  if (ec) {
    return Unavailable("http_client.tls", "cannot load trust anchors: " + ec.message());
  }
  tls.set_verify_mode(ssl::verify_peer);
  if (!options.client_certificate_file.empty() || !options.client_key_file.empty()) {
    // use_private_key_file also checks that the key belongs to the certificate.
    tls.use_certificate_chain_file(options.client_certificate_file, ec);
    if (!ec) tls.use_private_key_file(options.client_key_file, ssl::context::pem, ec);
    if (ec) {
      return Unavailable("http_client.tls", "cannot use client certificate " +
                                                options.client_certificate_file + " with key " +
                                                options.client_key_file + ": " + ec.message());
    }
  }
  beast::ssl_stream<beast::tcp_stream> stream(ioc, tls);
  SSL* ssl_handle = stream.native_handle();
  // RFC 6125: the reference identity is the URL's host, a DNS name or an IP address.
  SSL_set_hostflags(ssl_handle, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  if (url.ip_literal) {
    if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_handle), url.host.c_str()) != 1) {
      return Unavailable("http_client.tls", "cannot set the expected IP address " + url.host);
    }
  } else if (SSL_set1_host(ssl_handle, url.host.c_str()) != 1 ||
             SSL_set_tlsext_host_name(ssl_handle, url.host.c_str()) != 1) {
    return Unavailable("http_client.tls", "cannot set the expected host name " + url.host);
  }
  KYSO_RETURN_IF_ERROR(connect(beast::get_lowest_layer(stream)));
  stream.async_handshake(ssl::stream_base::client, [&](beast::error_code e) { ec = e; });
  ioc.restart();
  ioc.run();
  if (ec) {
    if (TimedOut(ec, deadline)) return Timeout(url);
    return Unavailable("http_client.tls", "TLS handshake with " + url.Origin() +
                                              " failed: " + TlsErrorText(ssl_handle, ec));
  }
  // No TLS close: the request said "Connection: close" and the response is complete.
  return WriteAndRead(ioc, stream, url, request, options, deadline);
}

// Runs `fn` and turns any exception (Boost.Asio reports a few failures, e.g. out of memory or
// file descriptors, only that way) into a Status, so none crosses the module boundary.
template <class Fn>
Result<ClientResponse> Guarded(const std::string& url, Fn fn) {
  try {
    return fn();
  } catch (const std::exception& e) {
    return Unavailable("http_client.connect", "request to " + url + " failed: " + e.what());
  }
}

Clock::time_point DeadlineAfter(std::chrono::milliseconds timeout) {
  constexpr std::chrono::milliseconds kLongest = std::chrono::hours(24);  // no overflow
  return Clock::now() + (timeout > kLongest ? kLongest : timeout);
}

bool IsRedirect(int status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

}  // namespace

Result<ClientResponse> Post(const std::string& url, std::string_view content_type, ByteSpan body,
                            const ClientOptions& options) {
  const auto deadline = DeadlineAfter(options.timeout);
  KYSO_ASSIGN_OR_RETURN(Url parsed, ParseUrl(url));
  return Guarded(url, [&]() -> Result<ClientResponse> {
    KYSO_ASSIGN_OR_RETURN(Fetched fetched,
                          Fetch(parsed, bhttp::verb::post, content_type, body, options, deadline));
    return std::move(fetched.response);
  });
}

Result<ClientResponse> Get(const std::string& url, const ClientOptions& options) {
  const auto deadline = DeadlineAfter(options.timeout);
  KYSO_ASSIGN_OR_RETURN(Url parsed, ParseUrl(url));
  return Guarded(url, [&]() -> Result<ClientResponse> {
    for (int redirects = 0;; ++redirects) {
      KYSO_ASSIGN_OR_RETURN(Fetched fetched,
                            Fetch(parsed, bhttp::verb::get, {}, {}, options, deadline));
      if (!IsRedirect(fetched.response.status) || fetched.location.empty()) {
        return std::move(fetched.response);
      }
      if (redirects == kMaxRedirects) {
        return Unavailable("http_client.protocol", "more than " + std::to_string(kMaxRedirects) +
                                                       " redirects fetching " + url);
      }
      auto next = ResolveLocation(parsed, fetched.location);
      if (!next.ok()) {
        return Unavailable("http_client.protocol",
                           "bad redirect from " + parsed.Origin() + ": " + next.status().message());
      }
      parsed = std::move(next).value();
    }
  });
}

}  // namespace kyso::http
