// Registration workflow benchmark (issue: "10,000 requests through the full workflow over HTTP;
// requests/s on SQLite and on PostgreSQL; p99 of list queries with 900,000 certificates and
// 100,000 requests"). scripts/bench_registry.sh runs the server and calls this driver in three
// steps:
//
//   workflow  N requests, each through the six HTTP calls of the workflow against a running
//             `kyso serve` (create → GET document → [sign here, in-process] → submit → review →
//             approve → execute), on C keep-alive connections; workflows/s and p50/p99 per step.
//             Peer, same run: `openssl ca -batch`, one process per certificate, on as many
//             parallel loops as cores (bare issuance, no registry, no audit, no database).
//   populate  fills the instance's database through the store API (setup, not measured) up to
//             --certs certificates and --requests requests over ~5,000 bodies and their
//             people, and writes the ids and API tokens the list step needs.
//   lists     p50/p99 of six list/read calls over HTTP on one keep-alive connection, each next
//             to its floor: the same store calls the Registry makes, in this process, without
//             HTTP, authentication or JSON.
//
// http::Client sends "Connection: close" (one connection per call, made for TSA/OCSP fetches),
// so the driver speaks HTTP/1.1 keep-alive over a plain socket itself: `kyso serve` keeps
// connections open, and an integrating system would reuse them.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "base/bytes.h"
#include "base/clock.h"
#include "bench_support.h"
#include "crypto/digest.h"
#include "crypto/key.h"
#include "crypto/signer.h"
#include "openssl_peer.h"
#include "store/postgres/postgres_store.h"
#include "store/sqlite/sqlite_store.h"
#include "store/store.h"
#include "subscriber_csrs.h"
#include "x509/certificate.h"
#include "x509/cms.h"

using namespace kyso;
using bench::Die;
using bench::Take;
using json = nlohmann::json;

namespace {

// --- a minimal HTTP/1.1 keep-alive client -------------------------------------------------------

struct Reply {
  int status = 0;
  std::string body;
};

class Connection {
 public:
  Connection(std::string host, int port) : host_(std::move(host)), port_(port) {}
  ~Connection() { Close(); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  Reply Call(const char* method, const std::string& path, const std::string& token,
             const std::string& body = "") {
    std::string req = std::string(method) + " " + path + " HTTP/1.1\r\nHost: " + host_ + ":" +
                      std::to_string(port_) + "\r\n";
    if (!token.empty()) req += "Authorization: Bearer " + token + "\r\n";
    if (!body.empty() || std::strcmp(method, "POST") == 0) {
      req += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
             "\r\n";
    }
    req += "\r\n";
    req += body;
    for (int attempt = 0; attempt < 2; ++attempt) {
      if (fd_ < 0) Connect();
      Reply r;
      if (Send(req) && Receive(&r)) return r;
      Close();  // the server closed an idle connection: reconnect once
    }
    Die(std::string(method) + " " + path, "connection failed twice");
  }

 private:
  void Connect() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port_));
    ::inet_pton(AF_INET, host_.c_str(), &addr.sin_addr);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      Die(host_ + ":" + std::to_string(port_), std::strerror(errno));
    }
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    buf_.clear();
  }
  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    buf_.clear();
  }
  bool Send(const std::string& data) {
    size_t off = 0;
    while (off < data.size()) {
      ssize_t n = ::send(fd_, data.data() + off, data.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return false;
      off += static_cast<size_t>(n);
    }
    return true;
  }
  bool Fill() {
    char tmp[65536];
    ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
    if (n <= 0) return false;
    buf_.append(tmp, static_cast<size_t>(n));
    return true;
  }
  bool Receive(Reply* r) {
    size_t end;
    while ((end = buf_.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill()) return false;
    }
    const std::string head = buf_.substr(0, end);
    buf_.erase(0, end + 4);
    if (head.size() < 12) return false;
    r->status = std::atoi(head.c_str() + 9);
    std::string lower = head;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    bool close_after = lower.find("\r\nconnection: close") != std::string::npos;
    if (lower.find("\r\ntransfer-encoding: chunked") != std::string::npos) {
      for (;;) {
        size_t eol;
        while ((eol = buf_.find("\r\n")) == std::string::npos) {
          if (!Fill()) return false;
        }
        const size_t size = std::strtoul(buf_.c_str(), nullptr, 16);
        while (buf_.size() < eol + 2 + size + 2) {
          if (!Fill()) return false;
        }
        r->body.append(buf_, eol + 2, size);
        buf_.erase(0, eol + 2 + size + 2);
        if (size == 0) break;
      }
    } else {
      size_t length = 0;
      if (size_t p = lower.find("\r\ncontent-length:"); p != std::string::npos) {
        length = std::strtoul(lower.c_str() + p + 17, nullptr, 10);
      }
      while (buf_.size() < length) {
        if (!Fill()) return false;
      }
      r->body = buf_.substr(0, length);
      buf_.erase(0, length);
    }
    if (close_after) Close();
    return true;
  }

  std::string host_;
  int port_;
  int fd_ = -1;
  std::string buf_;
};

void ParseUrl(const std::string& url, std::string* host, int* port) {
  const std::string prefix = "http://";
  if (url.rfind(prefix, 0) != 0) Die(url, "only http://127.0.0.1:PORT");
  std::string rest = url.substr(prefix.size());
  if (size_t slash = rest.find('/'); slash != std::string::npos) rest.resize(slash);
  const size_t colon = rest.rfind(':');
  if (colon == std::string::npos) Die(url, "no port");
  *host = rest.substr(0, colon);
  *port = std::atoi(rest.c_str() + colon + 1);
}

json Expect(const Reply& r, int status, const std::string& what) {
  if (r.status != status) {
    Die(what, "HTTP " + std::to_string(r.status) + " (expected " + std::to_string(status) +
                  "): " + r.body.substr(0, 400));
  }
  json j = json::parse(r.body, nullptr, false);
  if (j.is_discarded()) Die(what, "response is not JSON: " + r.body.substr(0, 200));
  return j;
}

// --- statistics
// -----------------------------------------------------------------------------------

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t k = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size()))) - 1;
  return v[std::min(k, v.size() - 1)];
}

double Ms(std::chrono::steady_clock::time_point a, std::chrono::steady_clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

using Steady = std::chrono::steady_clock;

// User + system CPU seconds of process `pid` so far (/proc/<pid>/stat); 0 when unknown.
double ProcessCpuSeconds(long pid) {
  if (pid <= 0) return 0;
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(in, line);
  const size_t close = line.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream fields(line.substr(close + 2));
  std::string f;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && (fields >> f); ++i) {
    if (i == 14) utime = std::stoull(f);
    if (i == 15) stime = std::stoull(f);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// What the server stores for a bearer token (auth::TokenHash): lower-case hex SHA-256.
std::string TokenHash(const std::string& token) {
  std::string hex = HexEncode(crypto::Sha256(AsBytes(token)));
  for (char& c : hex) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return hex;
}

// --- options ------------------------------------------------------------------------------------

struct Args {
  std::map<std::string, std::string> values;
  std::string Get(const std::string& key, const std::string& fallback = "") const {
    auto it = values.find(key);
    if (it != values.end()) return it->second;
    if (fallback.empty()) Die("--" + key, "is required");
    return fallback;
  }
  long Int(const std::string& key, long fallback) const {
    auto it = values.find(key);
    return it == values.end() ? fallback : std::atol(it->second.c_str());
  }
};

Args ParseArgs(int argc, char** argv, int first) {
  Args a;
  for (int i = first; i < argc; ++i) {
    std::string k = argv[i];
    if (k.rfind("--", 0) != 0 || i + 1 >= argc) Die(k, "options are --name value");
    a.values[k.substr(2)] = argv[++i];
  }
  return a;
}

std::unique_ptr<store::Database> OpenDb(const std::string& db, bool durable) {
  if (db.rfind("postgresql://", 0) == 0 || db.rfind("postgres://", 0) == 0) {
    return Take(store::OpenPostgresDatabase(db, store::PostgresOptions{}), "open " + db);
  }
  store::SqliteOptions o;
  o.create_if_missing = false;
  o.durable = durable;
  o.busy_timeout_ms = 60000;
  return Take(store::OpenSqliteDatabase(db, o), "open " + db);
}

// --- workflow
// -------------------------------------------------------------------------------------

// workflow --url U --admin T --officer T --operator T --org UNIT_ID --seal-key F --seal-cert F
//          [--requests N] [--clients C] [--peer N] [--peer-threads P] [--openssl openssl]
int Workflow(const Args& a) {
  std::string host;
  int port = 0;
  ParseUrl(a.Get("url"), &host, &port);
  const std::string admin = a.Get("admin"), officer = a.Get("officer"),
                    operator_token = a.Get("operator");
  const int64_t org = a.Int("org", 0);
  const int n = static_cast<int>(a.Int("requests", 10000));
  const int clients = static_cast<int>(a.Int("clients", 8));
  const int peer_n = static_cast<int>(a.Int("peer", std::min(n, 1000)));
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int peer_threads = static_cast<int>(a.Int("peer-threads", cores));
  const std::string openssl = a.Get("openssl", "openssl");
  const int first = static_cast<int>(a.Int("first-subscriber", 1));
  const long server_pid = a.Int("server-pid", 0);  // `kyso serve`: its CPU time is reported

  auto seal_key = Take(crypto::PrivateKey::FromPem(bench::ReadFile(a.Get("seal-key"))), "seal key");
  auto seal_cert =
      Take(x509::Certificate::FromPem(bench::ReadFile(a.Get("seal-cert"))), "seal certificate");
  const crypto::SignatureScheme scheme = crypto::SignatureScheme::DefaultFor(seal_key.spec());
  crypto::SoftwareSigner signer(seal_key, "bench:seal");
  SystemClock clock;

  // Setup (not measured): the subscribers' keys and CSRs, and one person each.
  bench::Progress("workflow: " + std::to_string(n) + " CSRs (fresh P-256 keys)");
  std::vector<std::string> csrs = bench::MakeSubscriberCsrs(first, n, cores);
  bench::Progress("workflow: " + std::to_string(n) + " people over HTTP");
  std::vector<int64_t> people(static_cast<size_t>(n));
  {
    std::vector<std::thread> ts;
    for (int t = 0; t < clients; ++t) {
      ts.emplace_back([&, t] {
        Connection c(host, port);
        for (int i = t; i < n; i += clients) {
          json p = {{"full_name", "Nguyễn Văn " + std::to_string(first + i)},
                    {"personal_id", bench::CccdNumber(first + i)},
                    {"position", "Chuyên viên"},
                    {"organization_id", org},
                    {"email", "nv" + std::to_string(first + i) + "@bench.gov.vn"},
                    {"mobile", "0905123456"}};
          people[static_cast<size_t>(i)] =
              Expect(c.Call("POST", "/api/v1/people", admin, p.dump()), 201, "create person")["id"]
                  .get<int64_t>();
        }
      });
    }
    for (auto& t : ts) t.join();
  }

  // The measured run.
  enum Step { kCreate, kDocument, kSign, kSubmit, kReview, kApprove, kExecute, kWhole, kSteps };
  const char* names[kSteps] = {"POST /requests (create)",  "GET  /requests/{id}/document",
                               "sign CMS (in the client)", "POST /requests/{id}/submit",
                               "POST transitions review",  "POST transitions approve",
                               "POST transitions execute", "whole workflow (7 steps)"};
  std::vector<std::vector<double>> lat(kSteps);
  std::mutex lat_mu;
  std::atomic<int> done{0};
  bench::Progress("workflow: " + std::to_string(n) + " requests on " + std::to_string(clients) +
                  " connections");
  bench::Stopwatch wall;
  bench::CpuWatch cpu;
  const double server_cpu0 = ProcessCpuSeconds(server_pid);
  {
    std::vector<std::thread> ts;
    for (int t = 0; t < clients; ++t) {
      ts.emplace_back([&, t] {
        Connection c(host, port);
        std::vector<std::vector<double>> mine(kSteps);
        for (int i = t; i < n; i += clients) {
          const std::string idx = std::to_string(first + i);
          json form = {{"full_name", "Nguyễn Văn " + idx},
                       {"personal_id", bench::CccdNumber(first + i)},
                       {"position", "Chuyên viên"},
                       {"unit", "Phòng Nghiệp vụ"},
                       {"email", "nv" + idx + "@bench.gov.vn"},
                       {"mobile", "0905123456"},
                       {"province", "Hà Nội"},
                       {"csr", csrs[static_cast<size_t>(i)]}};
          json body = {{"kind", "new_individual"},
                       {"organization_id", org},
                       {"person_id", people[static_cast<size_t>(i)]},
                       {"form", form}};
          const std::string b = body.dump();
          auto t0 = Steady::now();
          json r = Expect(c.Call("POST", "/api/v1/requests", officer, b), 201, "create request");
          auto t1 = Steady::now();
          const std::string id = std::to_string(r["id"].get<int64_t>());
          Reply doc = c.Call("GET", "/api/v1/requests/" + id + "/document", officer);
          if (doc.status != 200) Die("document", doc.body);
          auto t2 = Steady::now();
          Bytes cms = Take(
              x509::SignDetachedCms({.content_digest = crypto::Sha256(AsBytes(doc.body)),
                                     .signer_certificate = seal_cert,
                                     .signer = signer,
                                     .scheme = scheme,
                                     .options = {.pades = false, .signing_time = clock.Now()}}),
              "sign");
          const std::string submit =
              json{{"version", r["version"]}, {"signature", Base64Encode(cms)}}.dump();
          auto t3 = Steady::now();
          r = Expect(c.Call("POST", "/api/v1/requests/" + id + "/submit", officer, submit), 200,
                     "submit");
          auto t4 = Steady::now();
          Steady::time_point ts_[3];
          int k = 0;
          for (const char* action : {"review", "approve", "execute"}) {
            json tr = {{"action", action}, {"version", r["version"]}, {"reason", ""}};
            r = Expect(c.Call("POST", "/api/v1/requests/" + id + "/transitions", operator_token,
                              tr.dump()),
                       200, action);
            ts_[k++] = Steady::now();
          }
          if (r["state"] != "executed") Die("execute", r.dump());
          mine[kCreate].push_back(Ms(t0, t1));
          mine[kDocument].push_back(Ms(t1, t2));
          mine[kSign].push_back(Ms(t2, t3));
          mine[kSubmit].push_back(Ms(t3, t4));
          mine[kReview].push_back(Ms(t4, ts_[0]));
          mine[kApprove].push_back(Ms(ts_[0], ts_[1]));
          mine[kExecute].push_back(Ms(ts_[1], ts_[2]));
          mine[kWhole].push_back(Ms(t0, ts_[2]));
          int d = ++done;
          if (d % 1000 == 0) bench::Progress("  " + std::to_string(d) + " executed");
        }
        std::lock_guard<std::mutex> lock(lat_mu);
        for (int s = 0; s < kSteps; ++s)
          lat[s].insert(lat[s].end(), mine[s].begin(), mine[s].end());
      });
    }
    for (auto& t : ts) t.join();
  }
  const double seconds = wall.Seconds();
  const double driver_cpu = cpu.Seconds();
  const double server_cpu = ProcessCpuSeconds(server_pid) - server_cpu0;
  const double rate = n / seconds;

  // The peer: bare `openssl ca -batch`, one process per certificate, one loop per core.
  bench::Progress("peer: openssl ca -batch x " + std::to_string(peer_n) + " on " +
                  std::to_string(peer_threads) + " loops");
  bench::ScratchDir scratch("");
  std::vector<std::string> peer_csrs = bench::MakeSubscriberCsrs(first + n, peer_n, cores);
  std::vector<std::unique_ptr<bench::OpensslCa>> cas;
  std::vector<std::vector<std::string>> files(static_cast<size_t>(peer_threads));
  for (int t = 0; t < peer_threads; ++t) {
    cas.push_back(std::make_unique<bench::OpensslCa>(
        openssl, scratch.Subdir("peer" + std::to_string(t)), "ec:P-256"));
  }
  for (int i = 0; i < peer_n; ++i) {
    std::string f = scratch.File("csr" + std::to_string(i) + ".pem");
    bench::WriteFile(f, peer_csrs[static_cast<size_t>(i)]);
    files[static_cast<size_t>(i % peer_threads)].push_back(f);
  }
  bench::Stopwatch peer_wall;
  {
    std::vector<std::thread> ts;
    for (int t = 0; t < peer_threads; ++t) {
      ts.emplace_back([&, t] { cas[static_cast<size_t>(t)]->IssuePerProcess(files[t]); });
    }
    for (auto& t : ts) t.join();
  }
  const double peer_rate = peer_n / peer_wall.Seconds();

  std::printf("workflow: %d requests, %d keep-alive connections, %u cores\n", n, clients,
              std::thread::hardware_concurrency());
  std::printf("  %-30s %9s %9s %9s\n", "step (latency, ms)", "p50", "p99", "max");
  for (int s = 0; s < kSteps; ++s) {
    std::printf("  %-30s %9.2f %9.2f %9.2f\n", names[s], Percentile(lat[s], 50),
                Percentile(lat[s], 99), Percentile(lat[s], 100));
  }
  std::printf("  driver CPU (signing, JSON, client): %.1f s of %.1f s wall\n", driver_cpu, seconds);
  if (server_pid > 0) {
    std::printf("  kyso serve CPU: %.1f s, %.2f ms per workflow (database server not included)\n",
                server_cpu, 1000.0 * server_cpu / n);
  }
  std::printf("%-52s %10.1f /s\n", "kyso: signed workflows, 6 HTTP calls each", rate);
  std::printf("%-52s %10.1f /s\n", "peer: openssl ca -batch, process per certificate", peer_rate);
  std::printf("%-52s %10.2fx\n", "ratio kyso workflows / openssl ca issuances",
              peer_rate > 0 ? rate / peer_rate : 0.0);
  std::fflush(stdout);
  return 0;
}

// --- populate
// -------------------------------------------------------------------------------------

// populate --db DB --state FILE [--certs 900000] [--requests 100000] [--provinces 62]
//          [--departments 20] [--units 3] [--people 20000] [--batch 50000]
int Populate(const Args& a) {
  const std::string db_name = a.Get("db");
  auto db = OpenDb(db_name, /*durable=*/false);
  const int64_t want_certs = a.Int("certs", 900000), want_requests = a.Int("requests", 100000);
  const int provinces = static_cast<int>(a.Int("provinces", 62));
  const int departments = static_cast<int>(a.Int("departments", 20));
  const int units = static_cast<int>(a.Int("units", 3));
  const int n_people = static_cast<int>(a.Int("people", 20000));
  const int64_t batch = a.Int("batch", 50000);
  const UnixSeconds now = SystemClock().Now();
  std::mt19937_64 rng(20260101);
  auto uniform = [&rng](int64_t lo, int64_t hi) {  // [lo, hi]
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };
  bench::Stopwatch total;

  store::CaRecord issuing;
  int64_t have_certs = 0, have_requests = 0;
  {
    auto tx = Take(db->Begin(store::TransactionMode::kRead), "begin");
    for (const auto& ca : Take(tx->ListCas(), "list CAs")) {
      if (ca.role == "issuing") issuing = ca;
    }
    if (issuing.id == 0) Die("populate", "no issuing CA: run kyso init first");
    store::CertificateFilter all;
    all.limit = -1;
    have_certs = Take(tx->CountCertificates(all), "count certificates");
    have_requests = Take(tx->CountRequests(store::RequestFilter{}), "count requests");
  }

  // Bodies: provinces → departments → units; people in the units; one officer per province.
  struct Body {
    int64_t id;
    std::string name;
  };
  std::vector<Body> roots, depts, leaves;
  std::vector<int> dept_province, unit_province;
  std::vector<int64_t> officer_accounts;
  json state = {{"officers", json::array()}};
  int tax = 0;
  auto next_tax = [&tax] {
    char b[16];
    std::snprintf(b, sizeof b, "9%09d", ++tax);
    return std::string(b);
  };
  {
    auto tx = Take(db->Begin(store::TransactionMode::kWrite), "begin");
    for (int p = 0; p < provinces; ++p) {
      store::OrganizationRecord o;
      o.name = "UBND tỉnh Bench " + std::to_string(p);
      o.tax_code = next_tax();
      o.email = "vt@p" + std::to_string(p) + ".bench.gov.vn";
      o.province = "Tỉnh " + std::to_string(p);
      o.managing_agency = true;
      o.created_at = o.updated_at = now;
      roots.push_back({Take(tx->InsertOrganization(o), "org"), o.name});
      for (int d = 0; d < departments; ++d) {
        store::OrganizationRecord od = o;
        od.parent_id = roots.back().id;
        od.name = "Sở " + std::to_string(d) + " tỉnh " + std::to_string(p);
        od.tax_code = next_tax();
        depts.push_back({Take(tx->InsertOrganization(od), "org"), od.name});
        dept_province.push_back(p);
        for (int u = 0; u < units; ++u) {
          store::OrganizationRecord ou = od;
          ou.parent_id = depts.back().id;
          ou.name = "Phòng " + std::to_string(u) + " " + od.name;
          ou.tax_code = next_tax();
          ou.managing_agency = false;
          leaves.push_back({Take(tx->InsertOrganization(ou), "org"), ou.name});
          unit_province.push_back(p);
        }
      }
      store::AccountRecord acc;
      acc.username = "bench.officer." + std::to_string(p);
      acc.display_name = acc.username;
      acc.role = "agency_officer";
      acc.organization_id = roots.back().id;
      acc.created_at = now;
      const int64_t account_id = Take(tx->InsertAccount(acc), "officer account");
      officer_accounts.push_back(account_id);
      const std::string token = "kyso_bench_officer_" + std::to_string(p) + "_" +
                                HexEncode(crypto::Sha256(AsBytes(std::to_string(rng()))));
      store::AccessTokenRecord tok;
      tok.token_hash = TokenHash(token);
      tok.account_id = account_id;
      tok.kind = "api";
      tok.name = "bench";
      tok.created_at = now;
      tok.expires_at = now + 30 * 86400;
      bench::Check(tx->InsertAccessToken(tok), "officer token");
      json dlist = json::array();
      for (int d = 0; d < departments; ++d)
        dlist.push_back(depts[depts.size() - departments + d].id);
      state["officers"].push_back(
          {{"token", token}, {"organization_id", roots.back().id}, {"departments", dlist}});
    }
    store::AccountRecord op;
    op.username = "bench.operator";
    op.display_name = op.username;
    op.role = "ca_operator";
    op.created_at = now;
    const int64_t op_id = Take(tx->InsertAccount(op), "operator account");
    const std::string token =
        "kyso_bench_operator_" + HexEncode(crypto::Sha256(AsBytes(std::to_string(rng()))));
    store::AccessTokenRecord tok;
    tok.token_hash = TokenHash(token);
    tok.account_id = op_id;
    tok.kind = "api";
    tok.name = "bench";
    tok.created_at = now;
    tok.expires_at = now + 30 * 86400;
    bench::Check(tx->InsertAccessToken(tok), "operator token");
    state["operator"] = token;
    bench::Check(tx->Commit(), "commit bodies");
  }
  const size_t n_bodies = roots.size() + depts.size() + leaves.size();
  bench::Progress("populate: " + std::to_string(n_bodies) + " bodies");

  struct Person {
    int64_t id;
    size_t unit;
    std::string name, cccd;
  };
  std::vector<Person> people;
  {
    auto tx = Take(db->Begin(store::TransactionMode::kWrite), "begin");
    for (int i = 0; i < n_people; ++i) {
      store::PersonRecord p;
      const size_t unit = static_cast<size_t>(i) % leaves.size();
      char cccd[16];
      std::snprintf(cccd, sizeof cccd, "0791%08d", i);
      p.organization_id = leaves[unit].id;
      p.full_name = "Trần Thị " + std::to_string(i);
      p.personal_id = cccd;
      p.position = "Chuyên viên";
      p.email = "tt" + std::to_string(i) + "@bench.gov.vn";
      p.mobile = "0912345678";
      p.created_at = p.updated_at = now;
      people.push_back({Take(tx->InsertPerson(p), "person"), unit, p.full_name, cccd});
    }
    bench::Check(tx->Commit(), "commit people");
  }
  bench::Progress("populate: " + std::to_string(people.size()) + " people");

  // Certificates: not_after spread over five years (one past, four ahead), 2% revoked.
  const int64_t add_certs = std::max<int64_t>(0, want_certs - have_certs);
  Bytes der(600);
  for (auto& b : der) b = static_cast<uint8_t>(rng());
  std::vector<int64_t> to_revoke;
  bench::Stopwatch certs_watch;
  for (int64_t done = 0; done < add_certs;) {
    auto tx = Take(db->Begin(store::TransactionMode::kWrite), "begin");
    const int64_t end = std::min(add_certs, done + batch);
    for (; done < end; ++done) {
      const Person& p = people[static_cast<size_t>(uniform(0, n_people - 1))];
      store::CertificateRecord c;
      c.issuer_ca_id = issuing.id;
      char serial[40];
      std::snprintf(serial, sizeof serial, "5B%014llX%016llX",
                    static_cast<unsigned long long>(done), static_cast<unsigned long long>(rng()));
      c.serial_hex = serial;
      c.issuer = issuing.subject;
      c.common_name = p.name;
      c.subject = "CN=" + p.name + ",O=" + leaves[p.unit].name + ",C=VN,UID=CCCD:" + p.cccd;
      c.uids = {"CCCD:" + p.cccd};
      c.email = "cert" + std::to_string(done) + "@bench.gov.vn";
      c.profile = "official";
      c.issuance_kind = done % 4 == 0 ? "renewal" : "new";
      c.owner_id = p.id;
      c.organization_id = leaves[p.unit].id;
      c.key_fingerprint = HexEncode(crypto::Sha256(AsBytes(std::string(serial))));
      c.not_after = now - 365 * 86400 + uniform(0, 5 * 365 * 86400);
      c.not_before = c.not_after - 3 * 365 * 86400;
      c.issued_at = c.not_before;
      c.der = der;
      const int64_t id = Take(tx->InsertCertificate(c), "certificate");
      if (done % 50 == 7) to_revoke.push_back(id);
    }
    bench::Check(tx->Commit(), "commit certificates");
    bench::Progress("populate: " + std::to_string(have_certs + done) + " certificates (" +
                    std::to_string(static_cast<int>(done / certs_watch.Seconds())) + "/s)");
  }
  for (size_t i = 0; i < to_revoke.size();) {
    auto tx = Take(db->Begin(store::TransactionMode::kWrite), "begin");
    for (size_t end = std::min(to_revoke.size(), i + static_cast<size_t>(batch)); i < end; ++i) {
      store::Revocation r;
      r.revoked_at = now - uniform(0, 365 * 86400);
      r.reason = store::RevocationReason::kAffiliationChanged;
      Take(tx->MarkRevoked(to_revoke[i], r), "revoke");
    }
    bench::Check(tx->Commit(), "commit revocations");
  }
  bench::Progress("populate: " + std::to_string(to_revoke.size()) + " revoked");

  // Requests across states, kinds, bodies and assignees; pending ones submitted in the last
  // ten days (about half of them past their three-working-day deadline).
  const int64_t add_requests = std::max<int64_t>(0, want_requests - have_requests);
  const std::vector<std::pair<const char*, int>> states = {
      {"draft", 10},    {"submitted", 10}, {"under_review", 5}, {"approved", 3},
      {"executed", 60}, {"rejected", 4},   {"returned", 3},     {"cancelled", 5}};
  const std::vector<std::pair<const char*, int>> kinds = {
      {"new_individual", 60}, {"renewal", 20}, {"revocation", 10}, {"change_info", 10}};
  auto pick = [&](const std::vector<std::pair<const char*, int>>& table) {
    int64_t x = uniform(0, 99);
    for (const auto& [name, weight] : table) {
      if (x < weight) return std::string(name);
      x -= weight;
    }
    return std::string(table.back().first);
  };
  Bytes fake_signature(700);
  for (auto& b : fake_signature) b = static_cast<uint8_t>(rng());
  for (int64_t done = 0; done < add_requests;) {
    auto tx = Take(db->Begin(store::TransactionMode::kWrite), "begin");
    const int64_t end = std::min(add_requests, done + batch);
    for (; done < end; ++done) {
      const Person& p = people[static_cast<size_t>(uniform(0, n_people - 1))];
      store::RequestRecord r;
      r.kind = pick(kinds);
      r.state = pick(states);
      r.organization_id = leaves[p.unit].id;
      r.person_id = p.id;
      r.form_json =
          json{{"full_name", p.name}, {"personal_id", p.cccd}, {"reason", "bench"}}.dump();
      r.created_by = officer_accounts[static_cast<size_t>(unit_province[p.unit])];
      const bool pending =
          r.state == "submitted" || r.state == "under_review" || r.state == "approved";
      r.created_at = pending ? now - uniform(0, 10 * 86400) : now - uniform(0, 2 * 365 * 86400);
      r.updated_at = r.created_at;
      if (r.state != "draft") {
        r.assignee = "ca";
        r.submitted_at = r.created_at + 600;
        r.due_at = *r.submitted_at + 5 * 86400;
        r.signed_document = Bytes(r.form_json.begin(), r.form_json.end());
        r.signature = fake_signature;
        r.signer = "CN=" + leaves[p.unit].name;
      }
      Take(tx->InsertRequest(r), "request");
    }
    bench::Check(tx->Commit(), "commit requests");
    bench::Progress("populate: " + std::to_string(have_requests + done) + " requests");
  }
  {
    auto tx = Take(db->Begin(store::TransactionMode::kRead), "begin");
    store::RequestFilter f;
    f.limit = 1;
    state["first_request"] = Take(tx->ListRequests(f), "first request").at(0).id;
    f.newest_first = true;
    state["last_request"] = Take(tx->ListRequests(f), "last request").at(0).id;
  }
  json unit_ids = json::array();
  for (const auto& u : leaves) unit_ids.push_back(u.id);
  state["units"] = unit_ids;
  bench::WriteFile(a.Get("state"), state.dump());
  std::printf(
      "populate: %zu bodies, %zu people, +%lld certificates (now %lld), +%lld requests "
      "(now %lld) in %.0f s\n",
      n_bodies, people.size(), static_cast<long long>(add_certs),
      static_cast<long long>(have_certs + add_certs), static_cast<long long>(add_requests),
      static_cast<long long>(have_requests + add_requests), total.Seconds());
  std::fflush(stdout);
  return 0;
}

// --- lists
// ----------------------------------------------------------------------------------------

// lists --url U --db DB --state FILE [--samples 1000] [--max-seconds 60]
int Lists(const Args& a) {
  std::string host;
  int port = 0;
  ParseUrl(a.Get("url"), &host, &port);
  auto db = OpenDb(a.Get("db"), true);
  const json state = json::parse(bench::ReadFile(a.Get("state")));
  const int samples = static_cast<int>(a.Int("samples", 1000));
  const double max_seconds = static_cast<double>(a.Int("max-seconds", 60));
  const std::string op = state["operator"];
  const json& officers = state["officers"];
  const std::vector<int64_t> units = state["units"].get<std::vector<int64_t>>();
  const int64_t first_req = state["first_request"], last_req = state["last_request"];
  Connection conn(host, port);
  const std::vector<std::string> officer_states = {"submitted", "under_review", "draft",
                                                   "executed"};
  std::map<int64_t, std::string> paths;  // organization id → path (floor lookups)

  struct Query {
    const char* name;
    // Sample i: the HTTP call (token, path) and the floor (store calls), same parameters.
    std::function<std::pair<std::string, std::string>(int)> http;
    std::function<size_t(store::Transaction&, int)> floor;
  };
  auto officer = [&](int i) -> const json& {
    return officers[static_cast<size_t>(i) % officers.size()];
  };
  auto unit = [&](int i) { return units[(static_cast<size_t>(i) * 7919u) % units.size()]; };
  auto req_id = [&](int i) {
    return first_req + (static_cast<int64_t>(i) * 104729) % (last_req - first_req + 1);
  };
  const UnixSeconds now = SystemClock().Now();
  std::vector<Query> queries = {
      {"officer: requests of subtree, state=X, limit 50",
       [&](int i) {
         return std::make_pair(officer(i)["token"].get<std::string>(),
                               "/api/v1/requests?limit=50&state=" + officer_states[i % 4]);
       },
       [&](store::Transaction& tx, int i) {
         const int64_t org = officer(i)["organization_id"];
         auto o = Take(tx.GetOrganization(org), "org");
         store::RequestFilter f;
         f.path_prefix = o.path;
         f.states = {officer_states[i % 4]};
         f.limit = 50;
         return Take(tx.ListRequests(f), "list").size();
       }},
      {"operator queue: mine=1&state=submitted",
       [&](int) {
         return std::make_pair(op, std::string("/api/v1/requests?mine=1&state=submitted"));
       },
       [&](store::Transaction& tx, int) {
         store::RequestFilter f;
         f.assignee = "ca";
         f.states = {"submitted"};
         f.limit = 50;
         return Take(tx.ListRequests(f), "list").size();
       }},
      {"operator: overdue=1",
       [&](int) { return std::make_pair(op, std::string("/api/v1/requests?overdue=1")); },
       [&](store::Transaction& tx, int) {
         store::RequestFilter f;
         f.states = {"submitted", "under_review", "approved"};
         f.due_before = now;
         f.limit = 50;
         return Take(tx.ListRequests(f), "list").size();
       }},
      {"certificates of one body, limit 50",
       [&](int i) {
         return std::make_pair(
             op, "/api/v1/certificates?limit=50&organization_id=" + std::to_string(unit(i)));
       },
       [&](store::Transaction& tx, int i) {
         store::CertificateFilter f;
         f.organization_id = unit(i);
         f.limit = 50;
         auto certs = Take(tx.ListCertificates(f), "list");
         Take(tx.ListCas(), "cas");  // the routes read the CA names once per response
         return certs.size();
       }},
      {"officer: expiry report (30/60/90 days)",
       [&](int i) {
         return std::make_pair(officer(i)["token"].get<std::string>(),
                               std::string("/api/v1/reports/expiry"));
       },
       [&](store::Transaction& tx, int i) {
         // What Registry::ExpiryReport does: one pass over the widest window, limited to the
         // officer's subtree.
         const std::string prefix =
             Take(tx.GetOrganization(officer(i)["organization_id"].get<int64_t>()), "org").path;
         return Take(tx.CountExpiringInSubtree(
                         now, {now + 30 * 86400, now + 60 * 86400, now + 90 * 86400}, prefix),
                     "count")
             .size();
       }},
      {"request by id",
       [&](int i) { return std::make_pair(op, "/api/v1/requests/" + std::to_string(req_id(i))); },
       [&](store::Transaction& tx, int i) {
         Take(tx.GetRequest(req_id(i)), "get");
         return size_t{1};
       }},
  };

  std::printf(
      "lists: one keep-alive connection, sequential; floor = the same store calls "
      "in-process\n");
  std::printf("  %-48s %7s %8s %8s %6s  %8s %8s  %7s\n", "query", "samples", "p50 ms", "p99 ms",
              "items", "floor50", "floor99", "p99/fl");
  for (const auto& q : queries) {
    if (!q.http) {  // a floor-only breakdown row
      std::vector<double> floor_ms;
      bench::Stopwatch cap;
      for (int k = 0; k < samples && cap.Seconds() < max_seconds; ++k) {
        auto t0 = Steady::now();
        auto tx = Take(db->Begin(store::TransactionMode::kRead), "begin");
        q.floor(*tx, k);
        tx.reset();
        floor_ms.push_back(Ms(t0, Steady::now()));
      }
      std::printf("  %-48s %7zu %8s %8s %6s  %8.2f %8.2f\n", q.name, floor_ms.size(), "", "", "",
                  Percentile(floor_ms, 50), Percentile(floor_ms, 99));
      continue;
    }
    for (int i = 0; i < 10; ++i) {  // warm-up
      auto [tok, path] = q.http(i);
      Expect(conn.Call("GET", path, tok), 200, q.name);
    }
    std::vector<double> http_ms, floor_ms;
    double items = 0;
    bench::Stopwatch cap;
    int i = 0;
    for (; i < samples && cap.Seconds() < max_seconds; ++i) {
      auto [tok, path] = q.http(i);
      auto t0 = Steady::now();
      Reply r = conn.Call("GET", path, tok);
      auto t1 = Steady::now();
      json j = Expect(r, 200, q.name);
      items += j.contains("items") ? static_cast<double>(j["items"].size()) : 1.0;
      http_ms.push_back(Ms(t0, t1));
    }
    const int http_samples = i;
    bench::Stopwatch cap2;
    for (int k = 0; k < http_samples && cap2.Seconds() < max_seconds; ++k) {
      auto t0 = Steady::now();
      auto tx = Take(db->Begin(store::TransactionMode::kRead), "begin");
      q.floor(*tx, k);
      tx.reset();
      floor_ms.push_back(Ms(t0, Steady::now()));
    }
    const double p99 = Percentile(http_ms, 99), f99 = Percentile(floor_ms, 99);
    std::printf("  %-48s %7d %8.2f %8.2f %6.1f  %8.2f %8.2f  %6.1fx\n", q.name, http_samples,
                Percentile(http_ms, 50), p99, items / std::max(1, http_samples),
                Percentile(floor_ms, 50), f99, f99 > 0 ? p99 / f99 : 0.0);
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: kyso_bench_registry workflow|populate|lists --option value ...\n"
                 "  (scripts/bench_registry.sh runs the server and the three steps)\n");
    return 2;
  }
  const std::string cmd = argv[1];
  Args args = ParseArgs(argc, argv, 2);
  if (cmd == "workflow") return Workflow(args);
  if (cmd == "populate") return Populate(args);
  if (cmd == "lists") return Lists(args);
  Die(cmd, "unknown step");
}
