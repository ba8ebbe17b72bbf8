#include "http/server.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <charconv>
#include <limits>
#include <mutex>
#include <thread>
#include <unordered_set>
#include <utility>  // before Boost 1.74 Asio, whose awaitable.hpp needs std::exchange
#include <vector>

namespace kyso::http {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

Method ToMethod(bhttp::verb verb) {
  switch (verb) {
    case bhttp::verb::get:
      return Method::kGet;
    case bhttp::verb::head:
      return Method::kHead;
    case bhttp::verb::post:
      return Method::kPost;
    case bhttp::verb::put:
      return Method::kPut;
    case bhttp::verb::delete_:
      return Method::kDelete;
    default:
      return Method::kOther;
  }
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

Result<tcp::endpoint> ParseListen(const std::string& listen) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos) {
    return InvalidArgument("http.bad_listen", "--listen wants host:port, got '" + listen + "'");
  }
  std::string host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  const std::string port_text = listen.substr(colon + 1);
  unsigned port = 0;
  auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || ptr != port_text.data() + port_text.size() || port > 65535) {
    return InvalidArgument("http.bad_listen", "bad port in --listen '" + listen + "'");
  }
  boost::system::error_code bec;
  auto address = net::ip::make_address(host.empty() ? "0.0.0.0" : host, bec);
  if (bec) {
    return InvalidArgument("http.bad_listen",
                           "--listen wants a numeric IP address, got '" + host + "'");
  }
  return tcp::endpoint(address, static_cast<uint16_t>(port));
}

// The client certificate of a TLS connection, once its handshake is done.
struct ClientCertificate {
  std::string sha256;   // lower-case hex of SHA-256 over the DER encoding
  std::string subject;  // RFC 4514, UTF-8
};

// What the client presented, if OpenSSL verified it. With SSL_VERIFY_PEER a presented
// certificate that fails verification already failed the handshake; the verify result is
// checked again so that nothing unverified (e.g. from a resumed session made under other
// settings) is ever reported.
ClientCertificate VerifiedClientCertificate(SSL* ssl) {
  ClientCertificate out;
  X509* cert = SSL_get0_peer_certificate(ssl);
  if (cert == nullptr || SSL_get_verify_result(ssl) != X509_V_OK) return out;

  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  if (X509_digest(cert, EVP_sha256(), md, &md_len) != 1) return out;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string sha256;
  sha256.reserve(2 * md_len);
  for (unsigned int i = 0; i < md_len; ++i) {
    sha256 += kHex[md[i] >> 4];
    sha256 += kHex[md[i] & 0x0f];
  }

  // RFC 2253 (the form RFC 4514 keeps) with UTF-8 left as is: OpenSSL's RFC2253 flags also
  // escape every byte above 0x7f as \XX, which would turn Vietnamese names into hex.
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
  if (!bio || X509_NAME_print_ex(bio.get(), X509_get_subject_name(cert), 0,
                                 XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) < 0) {
    return out;
  }
  char* text = nullptr;
  const long text_len = BIO_get_mem_data(bio.get(), &text);
  out.sha256 = std::move(sha256);
  if (text_len > 0) out.subject.assign(text, static_cast<size_t>(text_len));
  return out;
}

}  // namespace

// Session interface the server keeps in its registry, so Shutdown can reach idle connections.
class SessionBase {
 public:
  virtual ~SessionBase() = default;
  virtual void Drain() = 0;
};

class Server::Impl {
 public:
  Impl(ServerOptions options, const Router* router, Metrics* metrics, AccessLog* access_log)
      : options_(std::move(options)),
        router_(router),
        metrics_(metrics),
        access_log_(access_log),
        ioc_(std::max(1, options_.workers)),
        acceptor_(ioc_),
        tls_(ssl::context::tls_server),
        shutdown_timer_(ioc_),
        chores_work_(net::make_work_guard(chores_)) {}

  Status Start();
  void Run();
  void Shutdown();
  void Every(std::chrono::milliseconds period, std::function<void()> task);

  const ServerOptions& options() const { return options_; }
  const Router& router() const { return *router_; }
  Metrics& metrics() { return *metrics_; }
  AccessLog* access_log() { return access_log_; }
  bool draining() const { return draining_.load(std::memory_order_relaxed); }

  void Register(SessionBase* s) {
    std::lock_guard<std::mutex> lock(sessions_mu_);
    sessions_.insert(s);
  }
  void Unregister(SessionBase* s) {
    std::lock_guard<std::mutex> lock(sessions_mu_);
    sessions_.erase(s);
  }

  uint16_t port() const { return port_; }

 private:
  void Accept();
  Status RequestClientCertificates(const std::string& ca_file);
  void ScheduleChore(std::shared_ptr<net::steady_timer> timer, std::chrono::milliseconds period,
                     std::shared_ptr<std::function<void()>> task);

  ServerOptions options_;
  const Router* router_;
  Metrics* metrics_;
  AccessLog* access_log_;
  net::io_context ioc_;
  tcp::acceptor acceptor_;
  ssl::context tls_;
  bool use_tls_ = false;
  uint16_t port_ = 0;
  std::atomic<bool> draining_{false};
  net::steady_timer shutdown_timer_;
  std::mutex sessions_mu_;
  std::unordered_set<SessionBase*> sessions_;
  // Background chores (revocation polling, re-signing) run on their own thread so they never
  // delay a request on an I/O thread.
  net::io_context chores_;
  net::executor_work_guard<net::io_context::executor_type> chores_work_;
  std::mutex chores_mu_;
  std::vector<std::shared_ptr<net::steady_timer>> chore_timers_;
};

namespace {

template <class Stream>
class Session : public SessionBase, public std::enable_shared_from_this<Session<Stream>> {
 public:
  template <class... Args>
  Session(Server::Impl* server, std::string remote, Args&&... args)
      : server_(server), stream_(std::forward<Args>(args)...), remote_(std::move(remote)) {
    server_->metrics().ConnectionOpened();
    server_->metrics().RecordConnection();
  }
  ~Session() override {
    server_->Unregister(this);
    server_->metrics().ConnectionClosed();
  }

  void Start() {
    server_->Register(this);
    if constexpr (kTls) {
      beast::get_lowest_layer(stream_).expires_after(server_->options().header_timeout);
      stream_.async_handshake(
          ssl::stream_base::server, [self = this->shared_from_this()](beast::error_code ec) {
            if (ec) return self->OnTimeoutOrError(ec);
            // Once per connection: every request on it shares the handshake.
            self->client_certificate_ = VerifiedClientCertificate(self->stream_.native_handle());
            self->ReadHead();
          });
    } else {
      ReadHead();
    }
  }

  // Called by Server::Shutdown from any thread: idle connections close now, busy ones after
  // their response.
  void Drain() override {
    net::dispatch(stream_.get_executor(), [self = this->shared_from_this()] {
      if (!self->busy_) beast::get_lowest_layer(self->stream_).cancel();
    });
  }

 private:
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

  void ReadHead() {
    if (server_->draining()) return Close();
    busy_ = false;
    parser_.emplace();
    parser_->header_limit(static_cast<uint32_t>(server_->options().max_header_bytes));
    // The route, known once the head is read, sets the body limit (OnHead). Beast checks
    // Content-Length against the limit when the head completes, so none is set until then.
    parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
    beast::get_lowest_layer(stream_).expires_after(served_ == 0 ? server_->options().header_timeout
                                                                : server_->options().idle_timeout);
    bhttp::async_read_header(
        stream_, buffer_, *parser_,
        [self = this->shared_from_this()](beast::error_code ec, size_t) { self->OnHead(ec); });
  }

  void OnHead(beast::error_code ec) {
    if (ec) return OnReadError(ec);
    busy_ = true;
    const auto& head = parser_->get();
    const std::string_view target(head.target().data(), head.target().size());
    const std::string_view path = target.substr(0, target.find('?'));
    match_ = server_->router().Find(ToMethod(head.method()), path, &params_);
    size_t limit = server_->options().max_body_bytes;
    if (match_.route && match_.route->max_body_bytes > 0) limit = match_.route->max_body_bytes;
    parser_->body_limit(limit);
    if (const auto length = parser_->content_length(); length && *length > limit) {
      return Reject(413, "http.body_too_large",
                    "request body of " + std::to_string(*length) + " bytes exceeds the limit of " +
                        std::to_string(limit));
    }
    // A small body usually arrived with the head: parse what is buffered now, and only go back
    // to the socket (an async read with its own timer) for the rest.
    while (!parser_->is_done() && buffer_.size() > 0) {
      beast::error_code put_ec;
      const size_t used = parser_->put(buffer_.data(), put_ec);
      buffer_.consume(used);
      if (put_ec == bhttp::error::need_more) break;
      if (put_ec) return OnReadError(put_ec);
      if (used == 0) break;
    }
    if (parser_->is_done()) return Handle();
    beast::get_lowest_layer(stream_).expires_after(server_->options().body_timeout);
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = this->shared_from_this()](beast::error_code ec, size_t) {
                        if (ec) return self->OnReadError(ec);
                        self->Handle();
                      });
  }

  void OnReadError(beast::error_code ec) {
    if (ec == bhttp::error::header_limit) {
      return Reject(
          431, "http.header_too_large",
          "request head exceeds " + std::to_string(server_->options().max_header_bytes) + " bytes");
    }
    if (ec == bhttp::error::body_limit) {
      return Reject(413, "http.body_too_large", "request body exceeds the limit");
    }
    if (ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category() &&
        ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message) {
      return Reject(400, "http.malformed", "malformed HTTP request: " + ec.message());
    }
    OnTimeoutOrError(ec);
  }

  void OnTimeoutOrError(beast::error_code ec) {
    if (ec == beast::error::timeout) server_->metrics().RecordTimeout();
    Close();
  }

  void Reject(int status, std::string_view code, const std::string& message) {
    server_->metrics().RecordRejected(status);
    Response response = Response::Error(status, code, message);
    Write(std::move(response), /*keep_alive=*/false, /*head=*/false, "rejected",
          server_->metrics().unmatched_slot(), Clock::now());
  }

  void Handle() {
    const auto started = Clock::now();
    auto& head = parser_->get();
    Request request;
    request.method = ToMethod(head.method());
    request.target.assign(head.target().data(), head.target().size());
    const size_t q = request.target.find('?');
    request.path = request.target.substr(0, q);
    if (q != std::string::npos) request.query = request.target.substr(q + 1);
    request.headers.reserve(8);
    for (const auto& field : head) {
      const auto name = field.name_string();
      const auto value = field.value();
      request.headers.emplace_back(Lower(std::string_view(name.data(), name.size())),
                                   std::string(value.data(), value.size()));
    }
    request.body = std::move(head.body());
    request.remote = remote_;
    request.tls = kTls;
    request.client_certificate_sha256 = client_certificate_.sha256;
    request.client_certificate_subject = client_certificate_.subject;
    request.params = std::move(params_);

    Response response;
    size_t slot = server_->metrics().unmatched_slot();
    std::string_view route_name = "unmatched";
    if (!match_.route) {
      response = Response::Error(404, "http.not_found", "no such resource: " + request.path);
    } else if (!match_.method_allowed) {
      slot = match_.index;
      route_name = match_.route->name;
      response = Response::Error(
          405, "http.method_not_allowed",
          std::string(MethodName(request.method)) + " is not allowed on " + request.path);
      std::string allow;
      for (Method m : match_.route->methods) {
        if (!allow.empty()) allow += ", ";
        allow += MethodName(m);
      }
      response.Header("Allow", allow);
    } else {
      slot = match_.index;
      route_name = match_.route->name;
      try {
        response = match_.route->handler(request);
      } catch (const std::exception& e) {
        response = Response::Error(500, "http.internal", "internal error");
      }
    }
    const bool keep_alive = head.keep_alive() && !server_->draining();
    method_ = std::string(MethodName(request.method));
    path_ = std::move(request.path);
    Write(std::move(response), keep_alive, request.method == Method::kHead, route_name, slot,
          started);
  }

  void Write(Response response, bool keep_alive, bool head_only, std::string_view route,
             size_t slot, Clock::time_point started) {
    busy_ = true;
    auto res = std::make_shared<bhttp::response<bhttp::string_body>>();
    res->version(11);
    res->result(static_cast<unsigned>(response.status));
    res->set(bhttp::field::server, server_->options().server_header);
    res->set(bhttp::field::content_type, response.content_type);
    for (auto& [name, value] : response.headers) res->insert(name, value);
    const size_t body_size = response.body.size();
    if (head_only) {
      res->content_length(body_size);
    } else {
      res->body() = std::move(response.body);
      res->prepare_payload();
    }
    res->keep_alive(keep_alive);
    const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
    server_->metrics().Record(slot, response.status, seconds);
    if (AccessLog* log = server_->access_log()) {
      log->Write({remote_, method_.empty() ? std::string_view("-") : std::string_view(method_),
                  path_, route, response.status, body_size, static_cast<int64_t>(seconds * 1e6),
                  kTls});
    }
    ++served_;
    beast::get_lowest_layer(stream_).expires_after(server_->options().write_timeout);
    bhttp::async_write(
        stream_, *res,
        [self = this->shared_from_this(), res, keep_alive](beast::error_code ec, size_t) {
          if (ec) return self->OnTimeoutOrError(ec);
          if (!keep_alive) return self->Close();
          self->ReadHead();
        });
  }

  void Close() {
    busy_ = false;
    if constexpr (kTls) {
      beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(2));
      stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) {
        beast::error_code ignored;
        beast::get_lowest_layer(self->stream_).socket().close(ignored);
      });
    } else {
      beast::error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
      stream_.socket().close(ignored);
    }
  }

  Server::Impl* server_;
  Stream stream_;
  std::string remote_;
  ClientCertificate client_certificate_;  // empty unless TLS with a verified client certificate
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  Router::Match match_;
  std::vector<std::string> params_;
  std::string method_;
  std::string path_;
  bool busy_ = false;
  uint64_t served_ = 0;
};

}  // namespace

Status Server::Impl::Start() {
  KYSO_ASSIGN_OR_RETURN(tcp::endpoint endpoint, ParseListen(options_.listen));
  if (options_.tls) {
    boost::system::error_code ec;
    // TLS 1.2 and 1.3 only.
    tls_.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                     ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                     ssl::context::single_dh_use);
    const std::string passphrase = options_.tls->passphrase;
    tls_.set_password_callback(
        [passphrase](std::size_t, ssl::context::password_purpose) { return passphrase; }, ec);
    tls_.use_certificate_chain_file(options_.tls->certificate_chain, ec);
    if (ec) {
      return InvalidArgument("http.tls", "cannot use TLS certificate " +
                                             options_.tls->certificate_chain + ": " + ec.message());
    }
    tls_.use_private_key_file(options_.tls->private_key, ssl::context::pem, ec);
    if (ec) {
      return InvalidArgument(
          "http.tls", "cannot use TLS key " + options_.tls->private_key + ": " + ec.message());
    }
    if (!options_.tls->client_ca_file.empty()) {
      KYSO_RETURN_IF_ERROR(RequestClientCertificates(options_.tls->client_ca_file));
    }
    use_tls_ = true;
  }
  boost::system::error_code ec;
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    return Unavailable("http.bind", "cannot listen on " + options_.listen + ": " + ec.message());
  }
  port_ = acceptor_.local_endpoint().port();
  Accept();
  return Status::Ok();
}

Status Server::Impl::RequestClientCertificates(const std::string& ca_file) {
  const auto failed = [&](const std::string& why) {
    return InvalidArgument("http.tls", "cannot use client CA file " + ca_file + ": " + why);
  };
  boost::system::error_code ec;
  // The trust anchors OpenSSL verifies client chains against.
  tls_.load_verify_file(ca_file, ec);
  if (ec) return failed(ec.message());
  // The same CAs' names go into the CertificateRequest (RFC 8446 §4.2.4
  // certificate_authorities, RFC 5246 §7.4.4), so a browser offers only certificates that can
  // succeed.
  STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(ca_file.c_str());
  if (names == nullptr) return failed("no CA certificate in it");
  SSL_CTX_set_client_CA_list(tls_.native_handle(), names);  // takes ownership
  // Ask, verify what is presented, but do not require a certificate
  // (no SSL_VERIFY_FAIL_IF_NO_PEER_CERT): password and API-token clients connect too.
  tls_.set_verify_mode(ssl::verify_peer, ec);
  if (ec) return failed(ec.message());
  // With peer verification on, OpenSSL refuses to resume a session whose context is unset
  // ("session id context uninitialized" fails the handshake), and the context keeps sessions
  // made under other verification settings from being resumed here.
  static constexpr unsigned char kSessionContext[] = "kyso-http-client-cert";
  if (SSL_CTX_set_session_id_context(tls_.native_handle(), kSessionContext,
                                     sizeof kSessionContext - 1) != 1) {
    return failed("cannot set the TLS session context");
  }
  return Status::Ok();
}

void Server::Impl::Accept() {
  acceptor_.async_accept(net::make_strand(ioc_), [this](beast::error_code ec, tcp::socket socket) {
    if (ec) {
      if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
      // EMFILE and friends: keep accepting rather than stop serving.
      return Accept();
    }
    boost::system::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    const auto peer = socket.remote_endpoint(ignored);
    std::string remote = peer.address().to_string() + ":" + std::to_string(peer.port());
    if (use_tls_) {
      std::make_shared<Session<beast::ssl_stream<beast::tcp_stream>>>(this, std::move(remote),
                                                                      std::move(socket), tls_)
          ->Start();
    } else {
      std::make_shared<Session<beast::tcp_stream>>(this, std::move(remote), std::move(socket))
          ->Start();
    }
    Accept();
  });
}

void Server::Impl::Run() {
  std::thread chores([this] { chores_.run(); });
  std::vector<std::thread> threads;
  for (int i = 1; i < std::max(1, options_.workers); ++i) {
    threads.emplace_back([this] { ioc_.run(); });
  }
  ioc_.run();
  for (auto& t : threads) t.join();
  chores_work_.reset();
  chores_.stop();
  chores.join();
  if (access_log_) access_log_->Flush();
}

void Server::Impl::Shutdown() {
  if (draining_.exchange(true)) return;
  net::post(ioc_, [this] {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    {
      std::lock_guard<std::mutex> lock(sessions_mu_);
      for (SessionBase* s : sessions_) s->Drain();
    }
    shutdown_timer_.expires_after(options_.shutdown_grace);
    shutdown_timer_.async_wait([this](beast::error_code ec) {
      if (!ec) ioc_.stop();  // connections still busy after the grace period
    });
    // Stop the grace timer once the last connection is gone, so Run() returns at once.
    auto poll = std::make_shared<net::steady_timer>(ioc_);
    auto check = std::make_shared<std::function<void()>>();
    *check = [this, poll, check] {
      bool empty;
      {
        std::lock_guard<std::mutex> lock(sessions_mu_);
        empty = sessions_.empty();
      }
      if (empty) {
        shutdown_timer_.cancel();
        *check = nullptr;  // break the cycle
        return;
      }
      poll->expires_after(std::chrono::milliseconds(10));
      poll->async_wait([check](beast::error_code) {
        if (*check) (*check)();
      });
    };
    (*check)();
  });
  net::post(chores_, [this] {
    std::lock_guard<std::mutex> lock(chores_mu_);
    for (auto& t : chore_timers_) t->cancel();
  });
}

void Server::Impl::ScheduleChore(std::shared_ptr<net::steady_timer> timer,
                                 std::chrono::milliseconds period,
                                 std::shared_ptr<std::function<void()>> task) {
  timer->expires_after(period);
  timer->async_wait([this, timer, period, task](beast::error_code ec) {
    if (ec || draining()) return;
    try {
      (*task)();
    } catch (...) {
      // A chore must not take the server down; it runs again next period.
    }
    ScheduleChore(timer, period, task);
  });
}

void Server::Impl::Every(std::chrono::milliseconds period, std::function<void()> task) {
  auto timer = std::make_shared<net::steady_timer>(chores_);
  {
    std::lock_guard<std::mutex> lock(chores_mu_);
    chore_timers_.push_back(timer);
  }
  ScheduleChore(timer, period, std::make_shared<std::function<void()>>(std::move(task)));
}

Server::Server(ServerOptions options, const Router* router, Metrics* metrics, AccessLog* access_log)
    : impl_(std::make_unique<Impl>(std::move(options), router, metrics, access_log)) {}

Server::~Server() = default;

Status Server::Start() {
  return impl_->Start();
}
uint16_t Server::port() const {
  return impl_->port();
}
void Server::Run() {
  impl_->Run();
}
void Server::Shutdown() {
  impl_->Shutdown();
}
void Server::Every(std::chrono::milliseconds period, std::function<void()> task) {
  impl_->Every(period, std::move(task));
}

std::unique_ptr<Metrics> MetricsFor(const Router& router) {
  std::vector<std::string> names;
  for (const auto& route : router.routes()) names.push_back(route.name);
  return std::make_unique<Metrics>(std::move(names));
}

}  // namespace kyso::http
