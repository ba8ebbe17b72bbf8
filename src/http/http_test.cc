#include <gtest/gtest.h>
#include <openssl/ssl.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <chrono>
#include <fstream>
#include <string>
#include <thread>
#include <utility>  // before Boost 1.74 Asio, whose awaitable.hpp needs std::exchange

#include "http/access_log.h"
#include "http/message.h"
#include "http/metrics.h"
#include "http/router.h"
#include "http/server.h"
#include "testlib/shell.h"
#include "testlib/temp_dir.h"

namespace kyso::http {
namespace {

using boost::asio::ip::tcp;
using namespace std::chrono_literals;

TEST(RouterTest, LiteralPatternAndRest) {
  Router router;
  router.Add({"health", {Method::kGet}, "/healthz", 0, nullptr});
  router.Add({"crl", {Method::kGet}, "/crl/{file}", 0, nullptr});
  router.Add({"cert", {Method::kGet}, "/api/v1/certificates/{serial}", 0, nullptr});
  router.Add({"ocsp_get", {Method::kGet}, "/ocsp/{*request}", 0, nullptr});
  router.Add({"ocsp_post", {Method::kPost}, "/ocsp", 0, nullptr});

  std::vector<std::string> params;
  auto m = router.Find(Method::kGet, "/healthz", &params);
  ASSERT_TRUE(m.route);
  EXPECT_EQ(m.route->name, "health");
  EXPECT_TRUE(m.method_allowed);

  m = router.Find(Method::kGet, "/crl/issuing.crl", &params);
  ASSERT_TRUE(m.route);
  EXPECT_EQ(m.route->name, "crl");
  EXPECT_EQ(params, std::vector<std::string>{"issuing.crl"});

  m = router.Find(Method::kGet, "/ocsp/MEIw/QDA+MDwwOjAJBgUrDgMCGgUABBQ=", &params);
  ASSERT_TRUE(m.route);
  EXPECT_EQ(m.route->name, "ocsp_get");
  EXPECT_EQ(params, std::vector<std::string>{"MEIw/QDA+MDwwOjAJBgUrDgMCGgUABBQ="});

  m = router.Find(Method::kPost, "/ocsp", &params);
  ASSERT_TRUE(m.route);
  EXPECT_EQ(m.route->name, "ocsp_post");

  // Path known, method not: 405 territory.
  m = router.Find(Method::kPost, "/healthz", &params);
  ASSERT_TRUE(m.route);
  EXPECT_FALSE(m.method_allowed);
  // HEAD is served by GET routes.
  EXPECT_TRUE(router.Find(Method::kHead, "/healthz", &params).method_allowed);

  EXPECT_FALSE(router.Find(Method::kGet, "/crl", &params).route);
  EXPECT_FALSE(router.Find(Method::kGet, "/crl/", &params).route);
  EXPECT_FALSE(router.Find(Method::kGet, "/crl/a/b", &params).route);
  EXPECT_FALSE(router.Find(Method::kGet, "/ocsp/", &params).route);
  EXPECT_FALSE(router.Find(Method::kGet, "/nothing", &params).route);
}

TEST(MessageTest, StatusMapping) {
  EXPECT_EQ(HttpStatusFor(InvalidArgument("x", "y")), 400);
  EXPECT_EQ(HttpStatusFor(NotFound("x", "y")), 404);
  EXPECT_EQ(HttpStatusFor(FailedPrecondition("x", "y")), 409);
  EXPECT_EQ(HttpStatusFor(PermissionDenied("x", "y")), 403);
  EXPECT_EQ(HttpStatusFor(Unavailable("x", "y")), 503);
  EXPECT_EQ(HttpStatusFor(Internal("x", "y")), 500);
  const Response r = Response::FromStatus(NotFound("cert.not_found", "no \"such\" cert"));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(r.body, R"({"error":{"code":"cert.not_found","message":"no \"such\" cert"}})");
  EXPECT_EQ(HttpDate(784111777), "Sun, 06 Nov 1994 08:49:37 GMT");
}

TEST(MessageTest, QueryParam) {
  Request r;
  r.query = "format=html&lang=vi&flag";
  EXPECT_EQ(r.QueryParam("format"), "html");
  EXPECT_EQ(r.QueryParam("lang"), "vi");
  EXPECT_EQ(r.QueryParam("flag"), "");
  EXPECT_EQ(r.QueryParam("missing"), "");
}

TEST(AccessLogTest, FormatEscapesHostileInput) {
  AccessRecord rec;
  rec.remote = "127.0.0.1:5000";
  rec.method = "GET";
  std::string path = "/x\"\n\x01\xff";
  rec.path = path;
  rec.route = "unmatched";
  rec.status = 404;
  rec.bytes = 10;
  rec.micros = 12;
  const std::string line = AccessLog::Format(rec, 1'700'000'000'123);
  EXPECT_EQ(line, R"({"ts":"2023-11-14T22:13:20.123Z","remote":"127.0.0.1:5000","method":"GET",)"
                  R"("path":"/x\"\u000a\u0001\u00ff","route":"unmatched","status":404,"bytes":10,)"
                  R"("us":12,"tls":false})");
}

TEST(AccessLogTest, BatchesLinesIntoTheFile) {
  const std::string path =
      ::testing::TempDir() + "/kyso-access-" + std::to_string(getpid()) + "/access.log";
  auto log = AccessLog::Open(path);
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  AccessRecord rec;
  rec.method = "POST";
  rec.route = "ocsp_post";
  for (int status : {200, 404, 413}) {
    rec.status = status;
    (*log)->Write(rec);
  }
  (*log)->Flush();
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_NE(lines[0].find("\"status\":200"), std::string::npos) << lines[0];
  EXPECT_NE(lines[2].find("\"status\":413"), std::string::npos) << lines[2];
  EXPECT_EQ(lines[1].front(), '{');
  EXPECT_EQ(lines[1].back(), '}');
}

TEST(MetricsTest, RendersPrometheusText) {
  Metrics metrics({"ocsp_post"});
  metrics.Record(0, 200, 0.0003);
  metrics.Record(0, 200, 0.002);
  metrics.Record(1, 404, 0.00001);
  metrics.AddCollector([] {
    return std::vector<Metrics::Sample>{{"kyso_ocsp_cache_hits_total", "hits", "counter", "", 7}};
  });
  const std::string text = metrics.Render();
  EXPECT_NE(text.find("kyso_http_requests_total{route=\"ocsp_post\",code=\"2xx\"} 2\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("kyso_http_requests_total{route=\"unmatched\",code=\"4xx\"} 1\n"),
            std::string::npos);
  EXPECT_NE(
      text.find("kyso_http_request_duration_seconds_bucket{route=\"ocsp_post\",le=\"0.0005\"} "
                "1\n"),
      std::string::npos);
  EXPECT_NE(text.find("kyso_http_request_duration_seconds_bucket{route=\"ocsp_post\",le=\"+Inf\"} "
                      "2\n"),
            std::string::npos);
  EXPECT_NE(text.find("# TYPE kyso_ocsp_cache_hits_total counter\nkyso_ocsp_cache_hits_total 7\n"),
            std::string::npos);
}

// A server on a free loopback port, run on its own thread for the test's lifetime.
class ServerFixture : public ::testing::Test {
 protected:
  void StartServer(ServerOptions options = {}) {
    router_.Add({"echo", {Method::kPost}, "/echo", 1024, [](Request& r) {
                   return Response::Text(200, r.body);
                 }});
    router_.Add({"hello", {Method::kGet}, "/hello/{name}", 0, [](Request& r) {
                   return Response::Text(200, "hello " + r.params[0]);
                 }});
    router_.Add({"slow", {Method::kGet}, "/slow", 0, [this](Request&) {
                   slow_entered_ = true;
                   std::this_thread::sleep_for(300ms);
                   return Response::Text(200, "done");
                 }});
    router_.Add({"throws", {Method::kGet}, "/throws", 0, [](Request&) -> Response {
                   throw std::runtime_error("boom");
                 }});
    router_.Add({"whoami", {Method::kGet}, "/whoami", 0, [](Request& r) {
                   return Response::Text(200, "[" + r.client_certificate_sha256 + "|" +
                                                  r.client_certificate_subject + "|" +
                                                  (r.tls ? "tls" : "plain") + "]");
                 }});
    metrics_ = MetricsFor(router_);
    options.listen = "127.0.0.1:0";
    server_ = std::make_unique<Server>(options, &router_, metrics_.get(), nullptr);
    const Status st = server_->Start();
    ASSERT_TRUE(st.ok()) << st.ToString();
    thread_ = std::thread([this] { server_->Run(); });
  }

  void TearDown() override {
    if (server_) {
      server_->Shutdown();
      thread_.join();
    }
  }

  tcp::socket Connect() {
    tcp::socket s(io_);
    s.connect({boost::asio::ip::make_address("127.0.0.1"), server_->port()});
    return s;
  }

  // Sends raw bytes and reads until the server closes or one full response arrived.
  static std::string ReadResponse(tcp::socket& s) {
    std::string data;
    char buf[4096];
    for (;;) {
      boost::system::error_code ec;
      size_t n = s.read_some(boost::asio::buffer(buf), ec);
      data.append(buf, n);
      if (ec) break;
      const size_t end = data.find("\r\n\r\n");
      if (end == std::string::npos) continue;
      const size_t cl = data.find("Content-Length: ");
      if (cl == std::string::npos || cl > end) continue;
      const size_t len = std::stoul(data.substr(cl + 16));
      if (data.size() >= end + 4 + len) break;
    }
    return data;
  }

  std::string Exchange(const std::string& raw) {
    tcp::socket s = Connect();
    boost::asio::write(s, boost::asio::buffer(raw));
    return ReadResponse(s);
  }

  boost::asio::io_context io_;
  Router router_;
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<Server> server_;
  std::thread thread_;
  std::atomic<bool> slow_entered_{false};
};

TEST_F(ServerFixture, KeepAliveServesSeveralRequestsOnOneConnection) {
  StartServer();
  tcp::socket s = Connect();
  for (const char* name : {"an", "binh", "chi"}) {
    const std::string req = std::string("GET /hello/") + name + " HTTP/1.1\r\nHost: x\r\n\r\n";
    boost::asio::write(s, boost::asio::buffer(req));
    const std::string res = ReadResponse(s);
    EXPECT_EQ(res.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << res;
    EXPECT_NE(res.find(std::string("hello ") + name), std::string::npos);
  }
}

TEST_F(ServerFixture, PipelinedRequestsWithBodiesAreAnsweredInOrder) {
  StartServer();
  tcp::socket s = Connect();
  const std::string two =
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nfirst"
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\n\r\nsecond";
  boost::asio::write(s, boost::asio::buffer(two));
  std::string res = ReadResponse(s);
  EXPECT_NE(res.find("\r\n\r\nfirst"), std::string::npos) << res;
  // The second answer may already be in the bytes read with the first.
  if (res.find("second") == std::string::npos) res += ReadResponse(s);
  EXPECT_NE(res.find("\r\n\r\nsecond"), std::string::npos) << res;
}

TEST_F(ServerFixture, ErrorsAreJsonWithTheRightStatus) {
  StartServer();
  std::string res = Exchange("GET /nope HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(res.rfind("HTTP/1.1 404", 0), 0u) << res;
  EXPECT_NE(res.find(R"({"error":{"code":"http.not_found")"), std::string::npos);

  res = Exchange("GET /echo HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(res.rfind("HTTP/1.1 405", 0), 0u) << res;
  EXPECT_NE(res.find("Allow: POST"), std::string::npos);

  res = Exchange("GET /throws HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(res.rfind("HTTP/1.1 500", 0), 0u) << res;
  EXPECT_NE(res.find("http.internal"), std::string::npos);
  EXPECT_EQ(res.find("boom"), std::string::npos) << "exception text must not leak";
}

TEST_F(ServerFixture, OversizeBodyIs413BeforeReadingIt) {
  StartServer();
  const std::string res =
      Exchange("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5000000\r\n\r\n");
  EXPECT_EQ(res.rfind("HTTP/1.1 413", 0), 0u) << res;
  EXPECT_NE(res.find("http.body_too_large"), std::string::npos);
  // Chunked bodies have no Content-Length: the limit applies while reading.
  std::string chunked = "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  chunked += "800\r\n" + std::string(0x800, 'a') + "\r\n0\r\n\r\n";
  const std::string res2 = Exchange(chunked);
  EXPECT_EQ(res2.rfind("HTTP/1.1 413", 0), 0u) << res2;
}

TEST_F(ServerFixture, OversizeHeadIs431AndGarbageIs400) {
  StartServer();
  std::string big =
      "GET /hello/x HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n";
  std::string res = Exchange(big);
  EXPECT_EQ(res.rfind("HTTP/1.1 431", 0), 0u) << res.substr(0, 200);

  res = Exchange(std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage\r\n\r\n", 22));
  EXPECT_EQ(res.rfind("HTTP/1.1 400", 0), 0u) << res;
  EXPECT_NE(res.find("http.malformed"), std::string::npos);

  // The server still serves afterwards.
  res = Exchange("GET /hello/ok HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_NE(res.find("hello ok"), std::string::npos);
}

TEST_F(ServerFixture, EmptyAndSlowConnectionsDoNotStopOthers) {
  ServerOptions options;
  options.header_timeout = 300ms;
  StartServer(options);
  // Connections that open and close without a request (what makes `openssl ocsp` spin).
  for (int i = 0; i < 50; ++i) {
    tcp::socket s = Connect();
    s.close();
  }
  // Slow clients: half a request line, then nothing.
  std::vector<tcp::socket> slow;
  for (int i = 0; i < 20; ++i) {
    slow.push_back(Connect());
    boost::asio::write(slow.back(), boost::asio::buffer(std::string("GET /hel")));
  }
  for (int i = 0; i < 20; ++i) {
    const std::string res = Exchange("GET /hello/n HTTP/1.1\r\nHost: x\r\n\r\n");
    ASSERT_NE(res.find("hello n"), std::string::npos) << res;
  }
  // The slow ones are cut off after header_timeout.
  for (auto& s : slow) {
    const auto start = std::chrono::steady_clock::now();
    char c;
    boost::system::error_code ec;
    s.read_some(boost::asio::buffer(&c, 1), ec);
    EXPECT_TRUE(ec) << "slow client was not disconnected";
    EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  }
  // Beast closes the socket when the timer fires and runs our handler just after: allow it.
  for (int i = 0;
       i < 100 && metrics_->Render().find("kyso_http_timeouts_total 20") == std::string::npos;
       ++i) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_NE(metrics_->Render().find("kyso_http_timeouts_total 20"), std::string::npos)
      << metrics_->Render();
}

TEST_F(ServerFixture, ShutdownFinishesRequestsInFlight) {
  StartServer();
  tcp::socket idle = Connect();  // an idle keep-alive connection must not hold shutdown up
  tcp::socket s = Connect();
  boost::asio::write(s, boost::asio::buffer(std::string("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")));
  while (!slow_entered_) std::this_thread::sleep_for(1ms);
  const auto start = std::chrono::steady_clock::now();
  const uint16_t port = server_->port();
  server_->Shutdown();
  const std::string res = ReadResponse(s);
  EXPECT_EQ(res.rfind("HTTP/1.1 200", 0), 0u) << res;
  EXPECT_NE(res.find("Connection: close"), std::string::npos) << res;
  EXPECT_NE(res.find("done"), std::string::npos);
  thread_.join();
  server_.reset();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
  // New connections are refused once the server stopped.
  boost::system::error_code ec;
  tcp::socket late(io_);
  late.connect({boost::asio::ip::make_address("127.0.0.1"), port}, ec);
  EXPECT_TRUE(ec);
}

// TLS client certificates, with every certificate made by the openssl command, so the
// fingerprint and name the server reports are checked against OpenSSL's tools, not against
// our own code.
class ClientCertificateTest : public ServerFixture {
 protected:
  void SetUp() override {
    const std::string script = "set -e; cd " + dir_.path() + R"(; exec 2>&1
EC="-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1"
openssl req -x509 $EC -subj /CN=localhost -keyout server.key -out server.pem
openssl req -x509 $EC -subj '/CN=Kyso Test Client CA' -keyout ca.key -out ca.pem
openssl req -x509 $EC -subj '/CN=Unknown CA' -keyout other.key -out other.pem
printf 'basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n' > client.ext
openssl req -new $EC -utf8 -subj '/C=VN/O=Kyso/CN=Nguyễn Văn An' -keyout client.key -out client.csr
openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -set_serial 1 -days 1 \
  -extfile client.ext -out client.pem
openssl req -new $EC -subj /CN=Mallory -keyout rogue.key -out rogue.csr
openssl x509 -req -in rogue.csr -CA other.pem -CAkey other.key -set_serial 2 -days 1 \
  -extfile client.ext -out rogue.pem
openssl x509 -in client.pem -noout -fingerprint -sha256
)";
    std::string out;
    ASSERT_EQ(testlib::Shell(script, &out), 0) << out;
    // "sha256 Fingerprint=AB:CD:..." → "abcd..."
    const std::string line = out.substr(out.rfind('=') + 1);
    for (char c : line) {
      if (std::isxdigit(static_cast<unsigned char>(c))) {
        fingerprint_ += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      }
    }
    ASSERT_EQ(fingerprint_.size(), 64u) << out;
  }

  void StartTls(bool client_cas) {
    ServerOptions options;
    options.tls = TlsFiles{dir_.File("server.pem"), dir_.File("server.key"), ""};
    if (client_cas) options.tls->client_ca_file = dir_.File("ca.pem");
    StartServer(options);
  }

  struct Exchanged {
    std::string response;  // everything read until the server closed
    std::string error;     // "" when the exchange completed; else where it failed and why
    bool resumed = false;  // the handshake resumed `session`
  };

  // Sends `raw` over TLS with an optional client certificate (`name`.pem and `name`.key) and
  // reads until the server closes. The server's own certificate is not under test here.
  // With `session`: offers *session for resumption (when set) and leaves the connection's
  // session there afterwards (the caller frees it).
  Exchanged TlsExchange(const std::string& raw, const std::string& name, bool tls12 = false,
                        SSL_SESSION** session = nullptr) {
    namespace ssl = boost::asio::ssl;
    Exchanged out;
    ssl::context ctx(tls12 ? ssl::context::tlsv12_client : ssl::context::tls_client);
    ctx.set_verify_mode(ssl::verify_none);
    if (!name.empty()) {
      ctx.use_certificate_chain_file(dir_.File(name + ".pem"));
      ctx.use_private_key_file(dir_.File(name + ".key"), ssl::context::pem);
    }
    ssl::stream<tcp::socket> stream(io_, ctx);
    stream.next_layer().connect({boost::asio::ip::make_address("127.0.0.1"), server_->port()});
    if (session && *session) SSL_set_session(stream.native_handle(), *session);
    boost::system::error_code ec;
    stream.handshake(ssl::stream_base::client, ec);
    if (ec) {
      out.error = "handshake: " + ec.message();
      return out;
    }
    out.resumed = SSL_session_reused(stream.native_handle()) == 1;
    boost::asio::write(stream, boost::asio::buffer(raw), ec);
    if (ec) {
      out.error = "write: " + ec.message();
      return out;
    }
    char buf[4096];
    for (;;) {
      const size_t n = stream.read_some(boost::asio::buffer(buf), ec);
      out.response.append(buf, n);
      if (ec) break;
    }
    // The server ends with close_notify (eof) or just closes (truncated): both are complete.
    if (ec != boost::asio::error::eof && ec != ssl::error::stream_truncated) {
      out.error = "read: " + ec.message();
    }
    if (session) {
      // TLS 1.3 tickets arrive after the handshake; they have been read by now.
      if (*session) SSL_SESSION_free(*session);
      *session = SSL_get1_session(stream.native_handle());
      // Answer the server's close_notify: OpenSSL marks the session of a connection freed
      // without one not resumable.
      boost::system::error_code ignored;
      stream.shutdown(ignored);
    }
    return out;
  }

  static size_t Count(const std::string& haystack, const std::string& needle) {
    size_t n = 0;
    for (size_t at = haystack.find(needle); at != std::string::npos;
         at = haystack.find(needle, at + 1)) {
      ++n;
    }
    return n;
  }

  testlib::TempDir dir_;
  std::string fingerprint_;
};

constexpr char kTwoWhoami[] =
    "GET /whoami HTTP/1.1\r\nHost: x\r\n\r\n"
    "GET /whoami HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";

TEST_F(ClientCertificateTest, VerifiedCertificateIsReportedOnEveryRequest) {
  StartTls(/*client_cas=*/true);
  const Exchanged x = TlsExchange(kTwoWhoami, "client");
  ASSERT_EQ(x.error, "") << x.response;
  const std::string expected = "[" + fingerprint_ + "|CN=Nguyễn Văn An,O=Kyso,C=VN|tls]";
  EXPECT_EQ(Count(x.response, "HTTP/1.1 200"), 2u) << x.response;
  EXPECT_EQ(Count(x.response, expected), 2u) << x.response;
}

TEST_F(ClientCertificateTest, VerifiedCertificateOverTls12) {
  StartTls(/*client_cas=*/true);
  const Exchanged x = TlsExchange(kTwoWhoami, "client", /*tls12=*/true);
  ASSERT_EQ(x.error, "") << x.response;
  EXPECT_EQ(Count(x.response, "[" + fingerprint_ + "|CN=Nguyễn Văn An,O=Kyso,C=VN|tls]"), 2u)
      << x.response;
}

// A resumed session (no certificate messages at all) must still identify the client, and must
// resume at all: OpenSSL fails the resumption handshake when peer verification is on and no
// session id context is set.
TEST_F(ClientCertificateTest, ResumedSessionKeepsTheIdentity) {
  StartTls(/*client_cas=*/true);
  const std::string expected = "[" + fingerprint_ + "|CN=Nguyễn Văn An,O=Kyso,C=VN|tls]";
  for (const bool tls12 : {true, false}) {
    SCOPED_TRACE(tls12 ? "TLS 1.2" : "TLS 1.3");
    SSL_SESSION* session = nullptr;
    Exchanged x = TlsExchange(kTwoWhoami, "client", tls12, &session);
    ASSERT_EQ(x.error, "") << x.response;
    EXPECT_FALSE(x.resumed);
    ASSERT_NE(session, nullptr);
    x = TlsExchange(kTwoWhoami, "client", tls12, &session);
    SSL_SESSION_free(session);
    ASSERT_EQ(x.error, "") << x.response;
    EXPECT_TRUE(x.resumed);
    EXPECT_EQ(Count(x.response, expected), 2u) << x.response;
  }
}

TEST_F(ClientCertificateTest, NoCertificateIsStillServed) {
  StartTls(/*client_cas=*/true);
  const Exchanged x = TlsExchange(kTwoWhoami, "");
  ASSERT_EQ(x.error, "") << x.response;
  EXPECT_EQ(Count(x.response, "HTTP/1.1 200"), 2u) << x.response;
  EXPECT_EQ(Count(x.response, "[||tls]"), 2u) << x.response;
}

TEST_F(ClientCertificateTest, CertificateFromAnUnknownCaFailsTheHandshake) {
  StartTls(/*client_cas=*/true);
  // TLS 1.2: the server checks the certificate before its Finished, so the client's handshake
  // fails.
  Exchanged x = TlsExchange(kTwoWhoami, "rogue", /*tls12=*/true);
  EXPECT_EQ(x.error.rfind("handshake: ", 0), 0u) << x.error << " / " << x.response;
  EXPECT_EQ(x.response, "");
  // TLS 1.3: the client sends its certificate after the server's Finished, so it learns of the
  // failure from the alert that answers its first write; nothing is served either way.
  x = TlsExchange(kTwoWhoami, "rogue");
  EXPECT_NE(x.error, "");
  EXPECT_EQ(x.response.find("HTTP/1.1"), std::string::npos) << x.response;
  // The server carries on.
  x = TlsExchange(kTwoWhoami, "client");
  EXPECT_EQ(Count(x.response, fingerprint_), 2u) << x.error << " / " << x.response;
}

TEST_F(ClientCertificateTest, WithoutClientCasNoCertificateIsRequested) {
  StartTls(/*client_cas=*/false);
  // The client has a certificate but is never asked for it.
  const Exchanged x = TlsExchange(kTwoWhoami, "client");
  ASSERT_EQ(x.error, "") << x.response;
  EXPECT_EQ(Count(x.response, "[||tls]"), 2u) << x.response;
}

TEST_F(ClientCertificateTest, PlainHttpHasNoCertificate) {
  StartServer();
  const std::string res = Exchange("GET /whoami HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_NE(res.find("[||plain]"), std::string::npos) << res;
}

TEST_F(ClientCertificateTest, UnusableClientCaFileIsTlsError) {
  Router router;
  auto metrics = MetricsFor(router);
  ServerOptions options;
  options.listen = "127.0.0.1:0";
  options.tls = TlsFiles{dir_.File("server.pem"), dir_.File("server.key"), ""};
  for (const std::string& file : {dir_.File("missing.pem"), dir_.File("client.ext")}) {
    options.tls->client_ca_file = file;
    Server server(options, &router, metrics.get(), nullptr);
    const Status st = server.Start();
    EXPECT_EQ(st.id(), "http.tls") << file << ": " << st.ToString();
  }
}

TEST(ServerStartTest, BadListenAndBusyPort) {
  Router router;
  auto metrics = MetricsFor(router);
  ServerOptions options;
  options.listen = "localhost";
  Server bad(options, &router, metrics.get(), nullptr);
  Status st = bad.Start();
  EXPECT_EQ(st.id(), "http.bad_listen");

  options.listen = "127.0.0.1:0";
  Server first(options, &router, metrics.get(), nullptr);
  ASSERT_TRUE(first.Start().ok());
  options.listen = "127.0.0.1:" + std::to_string(first.port());
  Server second(options, &router, metrics.get(), nullptr);
  st = second.Start();
  EXPECT_EQ(st.id(), "http.bind") << st.message();

  options.listen = "127.0.0.1:0";
  options.tls = TlsFiles{"/nonexistent/chain.pem", "/nonexistent/key.pem", ""};
  Server tls(options, &router, metrics.get(), nullptr);
  st = tls.Start();
  EXPECT_EQ(st.id(), "http.tls");
}

}  // namespace
}  // namespace kyso::http
