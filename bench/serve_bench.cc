// kyso_bench_serve: the inputs of the `kyso serve` benchmark and a small bounded load client.
// bench/serve_bench.sh drives it; docs/performance.md ("kyso serve") has the method and figures.
//
//   kyso_bench_serve prepare --data DIR --out DIR --certs N [--nonce-pool M] [--tsa-pool M]
//       Issues N certificates in DIR (a data directory made by `kyso init --demo`), through
//       app::Instance and CertificateAuthority::IssueBatch, from subscriber CSRs made with
//       OpenSSL's own API (bench/subscriber_csrs.h), in chunks so that memory stays flat for
//       900,000 certificates. Then writes into --out:
//         ocsp-nononce.bin  one OCSP request per certificate: SHA-1 CertID, no nonce (what
//                           `openssl ocsp -issuer issuing.pem -serial 0x.. -no_nonce -reqout`
//                           makes), built with OCSP_cert_id_new + OCSP_request_add0_id + i2d
//         ocsp-nonce.bin    M requests with a 16-byte nonce (openssl ocsp's default), spread
//                           over the certificates
//         tsa.bin           M RFC 3161 queries: SHA-256 imprint of a random "document", a
//                           64-bit nonce, certReq false
//         *.der             the first request of each pool on its own (for `ab -p`)
//         index.txt         openssl ocsp's index: V, notAfter, serial, subject per certificate
//       A .bin pool is a sequence of records, each a 2-byte big-endian length then the DER:
//       bench/lua/post.lua and `load` read that.
//
//   kyso_bench_serve load --port P [--host 127.0.0.1] [--path /ocsp] --requests POOL.bin
//                         --count N [--connections C] [--keepalive] [--content-type T]
//       POSTs N requests from C connections, cycling over the pool, and prints one line:
//       requests= ok= errors= seconds= rate= p50_ms= p90_ms= p99_ms= max_ms=
//       It opens a connection only to send a request on it, so it is safe against
//       `openssl ocsp` (which spins on an empty connection); without --keepalive each
//       request has its own connection with "Connection: close", as `ab` without -k does.
//       Also used once over the nonce-less pool to warm the response cache when
//       `kyso ocsp presign` is not available.
//
// Like the other drivers, it dies with a message on any setup failure.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ts.h>
#include <openssl/x509.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "app/instance.h"
#include "bench_support.h"
#include "ca/authority.h"
#include "subscriber_csrs.h"

namespace kyso::bench {
namespace {

struct Free {
  void operator()(X509* p) const { X509_free(p); }
  void operator()(OCSP_REQUEST* p) const { OCSP_REQUEST_free(p); }
  void operator()(OCSP_CERTID* p) const { OCSP_CERTID_free(p); }
  void operator()(BIGNUM* p) const { BN_free(p); }
  void operator()(ASN1_INTEGER* p) const { ASN1_INTEGER_free(p); }
  void operator()(TS_REQ* p) const { TS_REQ_free(p); }
  void operator()(TS_MSG_IMPRINT* p) const { TS_MSG_IMPRINT_free(p); }
  void operator()(X509_ALGOR* p) const { X509_ALGOR_free(p); }
  void operator()(BIO* p) const { BIO_free(p); }
};

[[noreturn]] void Usage(int code) {
  std::cout << R"(usage:
  kyso_bench_serve prepare --data DIR --out DIR --certs N [--nonce-pool M] [--tsa-pool M]
                           [--chunk K] [--threads T]
  kyso_bench_serve load --port P --requests POOL.bin --count N [--host H] [--path /ocsp]
                        [--connections C] [--keepalive] [--content-type T] [--timeout S]
see the comment at the top of bench/serve_bench.cc and docs/performance.md ("kyso serve")
)";
  std::exit(code);
}

std::map<std::string, std::string> ParseFlags(int argc, char** argv, int first,
                                              const std::vector<std::string>& switches) {
  std::map<std::string, std::string> out;
  for (int i = first; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") Usage(0);
    if (a.rfind("--", 0) != 0) Die(a, "unexpected argument");
    if (std::find(switches.begin(), switches.end(), a) != switches.end()) {
      out[a].assign(1, '1');
      continue;
    }
    if (i + 1 >= argc) Die(a, "needs a value");
    out[a] = argv[++i];
  }
  return out;
}

long NumberFlag(const std::map<std::string, std::string>& flags, const std::string& name,
                long fallback) {
  auto it = flags.find(name);
  if (it == flags.end()) return fallback;
  char* end = nullptr;
  long v = std::strtol(it->second.c_str(), &end, 10);
  if (*end != '\0' || v < 0) Die(name, "needs a non-negative number");
  return v;
}

std::string StringFlag(const std::map<std::string, std::string>& flags, const std::string& name,
                       const std::string& fallback = "") {
  auto it = flags.find(name);
  return it == flags.end() ? fallback : it->second;
}

// --- prepare ---------------------------------------------------------------------------------

void AppendRecord(std::ofstream& out, const std::string& der) {
  if (der.size() > 0xFFFF) Die("record", "request larger than 64 KiB");
  char len[2] = {static_cast<char>(der.size() >> 8), static_cast<char>(der.size() & 0xFF)};
  out.write(len, 2);
  out.write(der.data(), static_cast<std::streamsize>(der.size()));
}

std::string OcspRequestDer(X509* issuer, const std::string& serial_hex, bool nonce) {
  BIGNUM* bn_raw = nullptr;
  if (BN_hex2bn(&bn_raw, serial_hex.c_str()) == 0) Die("serial", serial_hex);
  std::unique_ptr<BIGNUM, Free> bn(bn_raw);
  std::unique_ptr<ASN1_INTEGER, Free> serial(BN_to_ASN1_INTEGER(bn.get(), nullptr));
  // SHA-1 hashes of the issuer's name and key, as `openssl ocsp -issuer` computes them.
  OCSP_CERTID* id = OCSP_cert_id_new(EVP_sha1(), X509_get_subject_name(issuer),
                                     X509_get0_pubkey_bitstr(issuer), serial.get());
  std::unique_ptr<OCSP_REQUEST, Free> req(OCSP_REQUEST_new());
  if (id == nullptr || !req || OCSP_request_add0_id(req.get(), id) == nullptr) {
    Die("OCSP request", "OCSP_cert_id_new/OCSP_request_add0_id failed");
  }
  // 16 random bytes, as openssl ocsp adds by default.
  if (nonce && OCSP_request_add1_nonce(req.get(), nullptr, -1) != 1) Die("OCSP nonce", "failed");
  unsigned char* der = nullptr;
  int len = i2d_OCSP_REQUEST(req.get(), &der);
  if (len <= 0) Die("OCSP request", "i2d failed");
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

// What `openssl ts -query -data FILE -sha256` makes (nonce, no certReq, no policy).
std::string TimeStampQueryDer() {
  unsigned char document[64];
  unsigned char digest[32];
  if (RAND_bytes(document, sizeof document) != 1) Die("RAND_bytes", "failed");
  unsigned int digest_len = 0;
  EVP_Digest(document, sizeof document, digest, &digest_len, EVP_sha256(), nullptr);
  std::unique_ptr<TS_REQ, Free> req(TS_REQ_new());
  std::unique_ptr<TS_MSG_IMPRINT, Free> imprint(TS_MSG_IMPRINT_new());
  std::unique_ptr<X509_ALGOR, Free> algo(X509_ALGOR_new());
  X509_ALGOR_set_md(algo.get(), EVP_sha256());
  TS_MSG_IMPRINT_set_algo(imprint.get(), algo.get());
  TS_MSG_IMPRINT_set_msg(imprint.get(), digest, static_cast<int>(digest_len));
  TS_REQ_set_version(req.get(), 1);
  TS_REQ_set_msg_imprint(req.get(), imprint.get());
  unsigned char nonce_bytes[8];
  RAND_bytes(nonce_bytes, sizeof nonce_bytes);
  nonce_bytes[0] &= 0x7F;
  std::unique_ptr<BIGNUM, Free> bn(BN_bin2bn(nonce_bytes, sizeof nonce_bytes, nullptr));
  std::unique_ptr<ASN1_INTEGER, Free> nonce(BN_to_ASN1_INTEGER(bn.get(), nullptr));
  TS_REQ_set_nonce(req.get(), nonce.get());
  TS_REQ_set_cert_req(req.get(), 0);
  unsigned char* der = nullptr;
  int len = i2d_TS_REQ(req.get(), &der);
  if (len <= 0) Die("TS query", "i2d failed");
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

// YYMMDDHHMMSSZ, as index.txt wants it.
std::string IndexTime(UnixSeconds t) {
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%y%m%d%H%M%SZ", &tm);
  return buf;
}

int Prepare(const std::map<std::string, std::string>& flags) {
  const std::string data = StringFlag(flags, "--data");
  const std::string out = StringFlag(flags, "--out");
  if (data.empty() || out.empty()) Usage(2);
  const long certs = NumberFlag(flags, "--certs", 100000);
  const long nonce_pool = std::min(NumberFlag(flags, "--nonce-pool", 10000), certs);
  const long tsa_pool = NumberFlag(flags, "--tsa-pool", 10000);
  const long chunk = std::max(1L, NumberFlag(flags, "--chunk", 20000));
  const int threads = static_cast<int>(
      NumberFlag(flags, "--threads", std::max(1u, std::thread::hardware_concurrency())));
  if (certs < 1 || nonce_pool < 1 || tsa_pool < 1) Die("prepare", "counts must be >= 1");

  app::OpenOptions open_options;
  open_options.actor = "bench:serve";
  auto instance = Take(app::Instance::Open(data, open_options), "open " + data);

  std::unique_ptr<BIO, Free> bio(BIO_new_file((data + "/certs/issuing.pem").c_str(), "r"));
  std::unique_ptr<X509, Free> issuer(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)
                                         : nullptr);
  if (!issuer) Die(data + "/certs/issuing.pem", "cannot read the issuing CA certificate");

  std::ofstream nononce(out + "/ocsp-nononce.bin", std::ios::binary);
  std::ofstream nonce(out + "/ocsp-nonce.bin", std::ios::binary);
  std::ofstream index(out + "/index.txt", std::ios::binary);
  if (!nononce || !nonce || !index) Die(out, "cannot write the request files");
  WriteFile(out + "/index.txt.attr", "unique_subject = no\n");

  // Nonce requests are spread over the whole set: certificate i gets one when i % step == 0.
  const long nonce_step = std::max(1L, certs / nonce_pool);
  long nonces_written = 0;
  double csr_seconds = 0, issue_seconds = 0, write_seconds = 0;
  std::string first_nononce, first_nonce;
  for (long first = 0; first < certs; first += chunk) {
    const long n = std::min(chunk, certs - first);
    Stopwatch csr_watch;
    std::vector<std::string> csrs =
        MakeSubscriberCsrs(static_cast<int>(first + 1), static_cast<int>(n), threads);
    csr_seconds += csr_watch.Seconds();
    std::vector<ca::IssueRequest> requests;
    requests.reserve(csrs.size());
    for (auto& pem : csrs) {
      ca::IssueRequest r;
      r.csr = Bytes(pem.begin(), pem.end());
      r.profile = "individual";
      requests.push_back(std::move(r));
    }
    csrs.clear();
    Stopwatch issue_watch;
    auto issued = Take(instance->authority().IssueBatch(requests, 1000), "IssueBatch");
    issue_seconds += issue_watch.Seconds();
    if (issued.size() != requests.size()) Die("IssueBatch", "returned too few certificates");
    Stopwatch write_watch;
    for (size_t i = 0; i < issued.size(); ++i) {
      const auto& rec = issued[i].record;
      const long k = first + static_cast<long>(i);
      std::string der = OcspRequestDer(issuer.get(), rec.serial_hex, false);
      if (k == 0) first_nononce = der;
      AppendRecord(nononce, der);
      if (k % nonce_step == 0 && nonces_written < nonce_pool) {
        std::string with_nonce = OcspRequestDer(issuer.get(), rec.serial_hex, true);
        if (nonces_written == 0) first_nonce = with_nonce;
        AppendRecord(nonce, with_nonce);
        ++nonces_written;
      }
      const int subscriber = static_cast<int>(k + 1);
      index << "V\t" << IndexTime(rec.not_after) << "\t\t" << rec.serial_hex
            << "\tunknown\t/C=VN/O=Bộ Tài chính/CN=Nguyễn Văn " << subscriber
            << "/UID=CCCD:" << CccdNumber(subscriber) << "\n";
    }
    write_seconds += write_watch.Seconds();
    Progress("serve bench: " + std::to_string(first + n) + " / " + std::to_string(certs) +
             " certificates issued");
  }
  std::ofstream tsa(out + "/tsa.bin", std::ios::binary);
  std::string first_tsq;
  for (long i = 0; i < tsa_pool; ++i) {
    std::string q = TimeStampQueryDer();
    if (i == 0) first_tsq = q;
    AppendRecord(tsa, q);
  }
  nononce.close();
  nonce.close();
  index.close();
  tsa.close();
  if (!nononce || !nonce || !index || !tsa) Die(out, "writing the request files failed");
  WriteFile(out + "/ocsp-nononce.der", first_nononce);
  WriteFile(out + "/ocsp-nonce.der", first_nonce);
  WriteFile(out + "/tsa.der", first_tsq);

  char line[512];
  std::snprintf(line, sizeof line,
                "certs=%ld nonce_pool=%ld tsa_pool=%ld csr_seconds=%.2f issue_seconds=%.2f "
                "issue_rate=%.0f write_seconds=%.2f\n",
                certs, nonces_written, tsa_pool, csr_seconds, issue_seconds,
                certs / std::max(issue_seconds, 1e-9), write_seconds);
  std::cout << line;
  return 0;
}

// --- load ------------------------------------------------------------------------------------

std::vector<std::string> ReadPool(const std::string& path) {
  std::string data = ReadFile(path);
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos + 2 <= data.size()) {
    size_t len = (static_cast<uint8_t>(data[pos]) << 8) | static_cast<uint8_t>(data[pos + 1]);
    if (pos + 2 + len > data.size()) Die(path, "truncated record");
    out.emplace_back(data, pos + 2, len);
    pos += 2 + len;
  }
  if (out.empty()) Die(path, "no requests");
  return out;
}

struct LoadConfig {
  std::string host = "127.0.0.1";
  int port = 0;
  std::string path = "/ocsp";
  std::string content_type = "application/ocsp-request";
  bool keepalive = false;
  int timeout_seconds = 10;
};

class Connection {
 public:
  explicit Connection(const LoadConfig& c) : config_(c) {}
  ~Connection() { Close(); }
  void Close() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
    buffer_.clear();
  }

  // One POST; returns the HTTP status, or 0 on a transport error.
  int Post(const std::string& head, const std::string& body) {
    if (fd_ < 0 && !Connect()) return 0;
    std::string msg = head + body;
    if (!SendAll(msg)) {
      Close();
      return 0;
    }
    // Read the head.
    size_t end;
    while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!ReadMore()) {
        Close();
        return 0;
      }
    }
    std::string response_head = buffer_.substr(0, end + 2);
    buffer_.erase(0, end + 4);
    int status = 0;
    if (std::sscanf(response_head.c_str(), "HTTP/%*d.%*d %d", &status) != 1) {
      Close();
      return 0;
    }
    std::string lower = response_head;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char ch) { return std::tolower(ch); });
    long length = -1;
    if (size_t at = lower.find("\r\ncontent-length:"); at != std::string::npos) {
      length = std::strtol(lower.c_str() + at + 17, nullptr, 10);
    }
    bool server_closes = lower.find("\r\nconnection: close") != std::string::npos ||
                         (lower.rfind("http/1.0", 0) == 0 &&
                          lower.find("\r\nconnection: keep-alive") == std::string::npos);
    if (length >= 0) {
      while (buffer_.size() < static_cast<size_t>(length)) {
        if (!ReadMore()) {
          Close();
          return 0;
        }
      }
      buffer_.erase(0, static_cast<size_t>(length));
    } else {
      while (ReadMore()) {
      }
      server_closes = true;
    }
    if (!config_.keepalive || server_closes) Close();
    return status;
  }

 private:
  bool Connect() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0) return false;
    int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    timeval tv{config_.timeout_seconds, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(config_.port));
    if (inet_pton(AF_INET, config_.host.c_str(), &addr.sin_addr) != 1 ||
        connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      Close();
      return false;
    }
    return true;
  }
  bool SendAll(const std::string& s) {
    size_t off = 0;
    while (off < s.size()) {
      ssize_t n = send(fd_, s.data() + off, s.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return false;
      off += static_cast<size_t>(n);
    }
    return true;
  }
  bool ReadMore() {
    char buf[16384];
    ssize_t n = recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return false;
    buffer_.append(buf, static_cast<size_t>(n));
    return true;
  }

  const LoadConfig& config_;
  int fd_ = -1;
  std::string buffer_;
};

double Percentile(std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  size_t i = static_cast<size_t>(p * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(i, sorted.size() - 1)];
}

int Load(const std::map<std::string, std::string>& flags) {
  LoadConfig config;
  config.host = StringFlag(flags, "--host", config.host);
  config.port = static_cast<int>(NumberFlag(flags, "--port", 0));
  config.path = StringFlag(flags, "--path", config.path);
  config.content_type = StringFlag(flags, "--content-type", config.content_type);
  config.keepalive = flags.count("--keepalive") > 0;
  config.timeout_seconds = static_cast<int>(NumberFlag(flags, "--timeout", 10));
  const std::string pool_file = StringFlag(flags, "--requests");
  const long count = NumberFlag(flags, "--count", 0);
  const int connections = static_cast<int>(std::max(1L, NumberFlag(flags, "--connections", 8)));
  if (config.port <= 0 || pool_file.empty() || count < 1) Usage(2);

  std::vector<std::string> pool = ReadPool(pool_file);
  // Heads prepared up front: the client should cost as little as possible.
  std::vector<std::string> heads;
  heads.reserve(pool.size());
  for (const auto& body : pool) {
    heads.push_back("POST " + config.path + " HTTP/1.1\r\nHost: " + config.host + ":" +
                    std::to_string(config.port) + "\r\nContent-Type: " + config.content_type +
                    "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" +
                    (config.keepalive ? "" : "Connection: close\r\n") + "\r\n");
  }

  std::atomic<long> next{0};
  std::atomic<long> ok{0}, errors{0};
  std::vector<std::vector<double>> latencies(static_cast<size_t>(connections));
  Stopwatch watch;
  std::vector<std::thread> workers;
  for (int t = 0; t < connections; ++t) {
    workers.emplace_back([&, t] {
      Connection conn(config);
      auto& lat = latencies[static_cast<size_t>(t)];
      lat.reserve(static_cast<size_t>(count / connections + 1));
      for (long i; (i = next.fetch_add(1)) < count;) {
        size_t k = static_cast<size_t>(i) % pool.size();
        auto start = std::chrono::steady_clock::now();
        int status = conn.Post(heads[k], pool[k]);
        lat.push_back(
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                .count());
        if (status == 200) {
          ok.fetch_add(1);
        } else {
          errors.fetch_add(1);
        }
      }
    });
  }
  for (auto& w : workers) w.join();
  double seconds = watch.Seconds();
  std::vector<double> all;
  for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  char line[512];
  std::snprintf(line, sizeof line,
                "requests=%ld ok=%ld errors=%ld seconds=%.3f rate=%.0f p50_ms=%.3f p90_ms=%.3f "
                "p99_ms=%.3f max_ms=%.3f\n",
                count, ok.load(), errors.load(), seconds, ok.load() / std::max(seconds, 1e-9),
                Percentile(all, 0.50), Percentile(all, 0.90), Percentile(all, 0.99),
                all.empty() ? 0.0 : all.back());
  std::cout << line;
  return errors.load() == 0 ? 0 : 3;
}

}  // namespace
}  // namespace kyso::bench

int main(int argc, char** argv) {
  using namespace kyso::bench;
  if (argc < 2) Usage(2);
  std::string command = argv[1];
  if (command == "prepare") return Prepare(ParseFlags(argc, argv, 2, {}));
  if (command == "load") return Load(ParseFlags(argc, argv, 2, {"--keepalive"}));
  if (command == "--help" || command == "-h") Usage(0);
  Usage(2);
}
