// kyso_bench_ca: end-to-end throughput of certificate issuance and CRL generation, each figure
// printed next to `openssl ca` measured in the same run over the same inputs.
//
// What one "issued certificate" includes on kyso's side: PKCS#10 parse and proof-of-possession
// check, the `individual` profile's rules (policy::Evaluate), a 20-byte CSPRNG serial, building
// and signing the certificate, and one SQLite transaction (WAL, synchronous=FULL) holding the
// certificate row, its UID rows and its hash-chained audit entry. Bulk issuance commits
// `--commit-every` certificates per transaction and signs an audit checkpoint per commit;
// one-at-a-time issuance commits (and fsyncs) every certificate and leaves sealing to the
// caller, as the CLI does at the end of a command.
//
// Every store, key and file lives in a scratch directory removed at exit; nothing listens on
// the network. See docs/performance.md for the figures and how to read them.

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "audit/audit_log.h"
#include "base/bytes.h"
#include "base/clock.h"
#include "bench_support.h"
#include "ca/authority.h"
#include "ca/hierarchy.h"
#include "crypto/key_store.h"
#include "crypto/random.h"
#include "openssl_peer.h"
#include "policy/profile.h"
#include "store/sqlite/sqlite_store.h"
#include "subscriber_csrs.h"
#include "x509/crl.h"

namespace kyso::bench {
namespace {

struct Options {
  bool quick = false;
  bool json = false;
  bool keep = false;
  std::string parent_dir;  // empty: $TMPDIR or /tmp
  std::string openssl = "openssl";
  int bulk = 20000;     // P-256 CA, IssueBatch
  int single = 3000;    // P-256 CA, Issue() one at a time
  int rsa_bulk = 2000;  // RSA-3072 signing is ~650/s per core: keep the run short
  int rsa_single = 500;
  int commit_every = 1000;
  int peer = 300;           // openssl ca processes per measurement
  int peer_infiles = 2000;  // requests in the one `openssl ca -infiles` process
  int peer_index_rows = 10000;
  int crl_entries = 60000;
  int delta_entries = 100;
  int reps = 5;  // CRL generations (median)
};

void Usage() {
  std::cout << R"(usage: kyso_bench_ca [options]
  --quick              small counts, for a smoke run (a few seconds)
  --json               print the results as JSON instead of a table
  --dir DIR            create the scratch directory under DIR (default $TMPDIR or /tmp)
  --keep               keep the scratch directory
  --openssl PATH       the openssl binary used as the peer (default: openssl in PATH)
  --bulk N             P-256 CA: certificates issued with IssueBatch (default 20000)
  --single N           P-256 CA: certificates issued one Issue() at a time (default 3000)
  --rsa-bulk N         RSA-3072 CA: IssueBatch count (default 2000)
  --rsa-single N       RSA-3072 CA: Issue() count (default 500)
  --commit-every N     IssueBatch chunk: certificates per transaction (default 1000)
  --peer N             openssl ca: one process per certificate, N certificates (default 300)
  --peer-infiles N     openssl ca -infiles: N certificates in one process (default 2000)
  --peer-index-rows N  rows pre-filled in index.txt for the second peer run (default 10000)
  --crl-entries N      revoked certificates in the full CRL (default 60000)
  --reps N             CRL generations to take the median of (default 5)
)";
}

int IntArg(int argc, char** argv, int* i) {
  if (*i + 1 >= argc) Die(argv[*i], "needs a value");
  char* end = nullptr;
  long v = std::strtol(argv[++*i], &end, 10);
  if (*end != '\0' || v < 1 || v > 10000000) Die(argv[*i - 1], "needs a positive number");
  return static_cast<int>(v);
}

Options ParseOptions(int argc, char** argv) {
  Options o;
  // --quick first, so that explicit counts given with it still win.
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--quick") == 0) {
      o.quick = true;
      o.bulk = 1000;
      o.single = 200;
      o.rsa_bulk = 100;
      o.rsa_single = 50;
      o.peer = 30;
      o.peer_infiles = 100;
      o.peer_index_rows = 2000;
      o.crl_entries = 5000;
      o.delta_entries = 20;
      o.reps = 2;
    }
  }
  const std::map<std::string, int*> counts = {
      {"--bulk", &o.bulk},
      {"--single", &o.single},
      {"--rsa-bulk", &o.rsa_bulk},
      {"--rsa-single", &o.rsa_single},
      {"--commit-every", &o.commit_every},
      {"--peer", &o.peer},
      {"--peer-infiles", &o.peer_infiles},
      {"--peer-index-rows", &o.peer_index_rows},
      {"--crl-entries", &o.crl_entries},
      {"--reps", &o.reps},
  };
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (auto it = counts.find(a); it != counts.end()) {
      *it->second = IntArg(argc, argv, &i);
    } else if (a == "--quick") {
      continue;
    } else if (a == "--json") {
      o.json = true;
    } else if (a == "--keep") {
      o.keep = true;
    } else if ((a == "--dir" || a == "--openssl") && i + 1 < argc) {
      (a == "--dir" ? o.parent_dir : o.openssl) = argv[++i];
    } else if (a == "--help" || a == "-h") {
      Usage();
      std::exit(0);
    } else {
      Usage();
      Die(a, "unknown option");
    }
  }
  return o;
}

// One CA instance as `kyso init` would create it, on a durable SQLite store of its own.
class BenchCa {
 public:
  BenchCa(const std::string& dir, const std::string& issuing_key) {
    store::SqliteOptions options;
    options.durable = true;  // WAL + synchronous=FULL
    db_ = Take(store::OpenSqliteDatabase(dir + "/kyso.db", options), "open store");
    ca::HierarchySpec spec;
    spec.root = {"root",
                 "/C=VN/O=Ban Cơ yếu Chính phủ/CN=Root CA - kyso bench",
                 Take(crypto::KeySpec::Parse("ec:P-384"), "key spec"),
                 ca::kCaValidityDays,
                 crypto::RsaPadding::kPkcs1v15,
                 {}};
    spec.issuing = {"issuing",
                    "/C=VN/O=Ban Cơ yếu Chính phủ/CN=Issuing CA - kyso bench",
                    Take(crypto::KeySpec::Parse(issuing_key), "key spec"),
                    10 * 365 + 3,
                    crypto::RsaPadding::kPkcs1v15,
                    {"anyPolicy"}};
    spec.ocsp = {"/C=VN/O=Ban Cơ yếu Chính phủ/CN=OCSP - kyso bench",
                 Take(crypto::KeySpec::Parse("ec:P-256"), "key spec"), "ocsp-signer", std::nullopt};
    spec.tsa = {"/C=VN/O=Ban Cơ yếu Chính phủ/CN=TSA - kyso bench",
                Take(crypto::KeySpec::Parse("ec:P-256"), "key spec"), "tsa", std::nullopt};
    spec.audit_subject = "/C=VN/O=Ban Cơ yếu Chính phủ/CN=Audit - kyso bench";
    spec.audit_key = Take(crypto::KeySpec::Parse("ec:P-256"), "key spec");
    hierarchy_ = std::make_unique<ca::Hierarchy>(
        Take(ca::InitializeHierarchy(spec, Deps(), "bench"), "initialize hierarchy"));
    authority_ = std::make_unique<ca::CertificateAuthority>(Deps(), "bench");
  }

  ca::CertificateAuthority::Dependencies Deps() {
    return {db_.get(), &keys_, &profiles_, &clock_, &rng_, &audit_, ca::PublicationSettings{}};
  }
  ca::CertificateAuthority& authority() { return *authority_; }
  store::Database& db() { return *db_; }
  const ca::Hierarchy& hierarchy() const { return *hierarchy_; }
  crypto::Rng& rng() { return rng_; }
  const Clock& clock() const { return clock_; }

  int64_t CountIssued() {
    auto tx = Take(db_->Begin(store::TransactionMode::kRead), "begin");
    store::CertificateFilter filter;
    filter.profile = "individual";
    return Take(tx->CountCertificates(filter), "count certificates");
  }

  // The whole audit chain and its checkpoints, checked against the audit certificate's key.
  audit::AuditReport VerifyAudit() {
    auto tx = Take(db_->Begin(store::TransactionMode::kRead), "begin");
    return Take(audit_.Verify(*tx, {hierarchy_->audit.public_key()}), "audit verify");
  }

 private:
  std::unique_ptr<store::Database> db_;
  // Keys in memory: FileKeyStore would add one PBKDF2 per key and process, not per certificate
  // (it caches loaded signers behind a mutex, as this store does).
  crypto::MemoryKeyStore keys_;
  policy::ProfileSet profiles_ = policy::ProfileSet::BuiltIn();
  SystemClock clock_;
  crypto::SystemRng rng_;
  audit::AuditLog audit_{clock_};
  std::unique_ptr<ca::Hierarchy> hierarchy_;
  std::unique_ptr<ca::CertificateAuthority> authority_;
};

// One line of the results. `higher_is_better` decides the ratio's direction so that a ratio
// above 1 always means kyso is faster.
struct Row {
  std::string id;
  std::string metric;
  std::string unit;
  double kyso = 0;
  std::optional<double> peer;
  std::string peer_name;
  bool higher_is_better = true;

  std::optional<double> Ratio() const {
    if (!peer || *peer <= 0 || kyso <= 0) return std::nullopt;
    return higher_is_better ? kyso / *peer : *peer / kyso;
  }
};

// A requirement of the issue. `applicable` is false when the run was too small to judge it
// (--quick, or counts below the requirement's own size).
struct Target {
  std::string what;
  std::string row_id;
  double threshold = 0;
  bool higher_is_better = true;
  bool applicable = true;

  std::optional<bool> Met(const Row& row) const {
    if (!applicable) return std::nullopt;
    return higher_is_better ? row.kyso >= threshold : row.kyso <= threshold;
  }
};

struct Report {
  std::vector<Row> rows;
  std::vector<std::string> checks;  // correctness checks that passed, for the record
  std::vector<std::string> notes;
  nlohmann::ordered_json facts = nlohmann::ordered_json::object();

  void Add(Row row) { rows.push_back(std::move(row)); }
  const Row* Find(const std::string& id) const {
    for (const auto& r : rows) {
      if (r.id == id) return &r;
    }
    return nullptr;
  }
};

std::vector<ca::IssueRequest> Requests(const std::vector<std::string>& csrs, size_t first,
                                       size_t count) {
  std::vector<ca::IssueRequest> out;
  out.reserve(count);
  for (size_t i = first; i < first + count; ++i) {
    ca::IssueRequest r;
    r.csr = Bytes(csrs[i].begin(), csrs[i].end());
    r.profile = "individual";
    out.push_back(std::move(r));
  }
  return out;
}

std::string ReadLoadAverage() {
  std::string text = ReadFile("/proc/loadavg");
  // "0.52 0.58 0.59 1/123 4567": the three averages.
  size_t cut = 0;
  for (int spaces = 0; cut < text.size() && spaces < 3; ++cut) {
    if (text[cut] == ' ') ++spaces;
  }
  return text.substr(0, cut > 0 ? cut - 1 : 0);
}

// Issue: bulk (one IssueBatch call), then one Issue() at a time in the same store, so that the
// second figure is taken with `bulk` rows already present (compare the peer's big index.txt).
struct IssueFigures {
  double bulk_rate = 0;    // certificates per wall-clock second
  double bulk_cpu_us = 0;  // CPU microseconds per certificate, all threads
  double single_rate = 0;
  double single_cpu_us = 0;
  double seal_ms = 0;
};

IssueFigures MeasureIssuance(const std::string& label, BenchCa& ca,
                             const std::vector<std::string>& csrs, int bulk, int single,
                             int commit_every, Report& report) {
  IssueFigures f;
  auto bulk_requests = Requests(csrs, 0, static_cast<size_t>(bulk));
  Progress(label + ": IssueBatch of " + std::to_string(bulk) + ", " + std::to_string(commit_every) +
           " per commit");
  Stopwatch bulk_watch;
  CpuWatch bulk_cpu;
  auto issued = Take(ca.authority().IssueBatch(bulk_requests, static_cast<size_t>(commit_every)),
                     label + " IssueBatch");
  f.bulk_rate = bulk / bulk_watch.Seconds();
  f.bulk_cpu_us = bulk_cpu.Seconds() * 1e6 / bulk;
  if (issued.size() != static_cast<size_t>(bulk)) Die(label, "IssueBatch returned too few");

  // Untimed: every 100th certificate chains to the issuing CA.
  crypto::PublicKey issuer_key = ca.hierarchy().issuing.public_key();
  for (size_t i = 0; i < issued.size(); i += 100) {
    if (!issued[i].certificate.IsSignedBy(issuer_key)) Die(label, "certificate not signed by CA");
  }
  issued.clear();

  auto single_requests = Requests(csrs, static_cast<size_t>(bulk), static_cast<size_t>(single));
  Progress(label + ": " + std::to_string(single) + " x Issue(), one durable commit each");
  Stopwatch single_watch;
  CpuWatch single_cpu;
  for (const auto& request : single_requests) {
    Take(ca.authority().Issue(request), label + " Issue");
  }
  f.single_rate = single / single_watch.Seconds();
  f.single_cpu_us = single_cpu.Seconds() * 1e6 / single;
  // What the CLI does once at the end of a command: not part of the per-certificate figure.
  Stopwatch seal_watch;
  Check(ca.authority().SealAudit(), label + " SealAudit");
  f.seal_ms = seal_watch.Seconds() * 1000;

  int64_t count = ca.CountIssued();
  if (count != bulk + single) {
    Die(label, "store holds " + std::to_string(count) + " certificates, expected " +
                   std::to_string(bulk + single));
  }
  audit::AuditReport audit = ca.VerifyAudit();
  if (!audit.ok || audit.last_sealed_seq != audit.entries) {
    Die(label, "audit log does not verify after the run");
  }
  report.checks.push_back(label + ": " + std::to_string(count) +
                          " certificates in the store, sampled signatures verify, audit chain of " +
                          std::to_string(audit.entries) + " entries and " +
                          std::to_string(audit.checkpoints) + " checkpoints verifies");
  return f;
}

// Requests first..first+count-1 issued from `threads` threads at once, each with its share:
// one IssueBatch call per thread (`batch`), or one Issue() per request. The CA is documented
// thread-safe and the store serializes the commits, so request checking and signing can overlap
// on both cores. Returns certificates per second.
double MeasureConcurrent(const std::string& label, BenchCa& ca,
                         const std::vector<std::string>& csrs, int first, int count, int threads,
                         bool batch, int commit_every, Report& report) {
  std::vector<std::vector<ca::IssueRequest>> shares(static_cast<size_t>(threads));
  for (int t = 0; t < threads; ++t) {
    size_t from = static_cast<size_t>(first) + static_cast<size_t>(count) * t / threads;
    size_t to = static_cast<size_t>(first) + static_cast<size_t>(count) * (t + 1) / threads;
    shares[t] = Requests(csrs, from, to - from);
  }
  std::string what = batch ? "IssueBatch" : "Issue()";
  Progress(label + ": " + std::to_string(count) + " certificates, " + what + " from " +
           std::to_string(threads) + " threads at once");
  int64_t before = ca.CountIssued();
  std::vector<std::optional<Status>> failures(static_cast<size_t>(threads));
  Stopwatch watch;
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      if (batch) {
        auto result = ca.authority().IssueBatch(shares[t], static_cast<size_t>(commit_every));
        if (!result.ok()) failures[t] = result.status();
        return;
      }
      for (const auto& request : shares[t]) {
        auto result = ca.authority().Issue(request);
        if (!result.ok()) {
          failures[t] = result.status();
          return;
        }
      }
    });
  }
  for (auto& w : workers) w.join();
  double rate = count / watch.Seconds();
  for (const auto& f : failures) {
    if (f) Die(label + " concurrent " + what, f->ToString());
  }
  int64_t issued = ca.CountIssued() - before;
  audit::AuditReport audit = ca.VerifyAudit();
  if (issued != count || !audit.ok) Die(label, "concurrent run left an inconsistent store");
  report.checks.push_back(label + ", " + what + " from " + std::to_string(threads) + " threads: " +
                          std::to_string(issued) + " certificates recorded, audit chain verifies");
  return rate;
}

std::vector<std::string> WriteCsrFiles(const ScratchDir& scratch,
                                       const std::vector<std::string>& csrs, int count) {
  std::string dir = scratch.Subdir("csr");
  std::vector<std::string> files;
  for (int i = 0; i < count; ++i) {
    files.push_back(dir + "/" + std::to_string(i) + ".pem");
    if (access(files.back().c_str(), F_OK) != 0) WriteFile(files.back(), csrs[i]);
  }
  return files;
}

struct PeerIssueFigures {
  double per_process = 0;         // certificates per wall-clock second
  double per_process_cpu_us = 0;  // CPU microseconds per certificate
  double per_process_big_index = 0;
  double one_process = 0;
  double one_process_cpu_us = 0;
};

PeerIssueFigures MeasurePeerIssuance(const Options& o, const ScratchDir& scratch,
                                     const std::string& key, const std::string& name,
                                     const std::vector<std::string>& csrs, bool with_index) {
  PeerIssueFigures f;
  OpensslCa peer(o.openssl, scratch.Subdir(name), key);
  auto files = WriteCsrFiles(scratch, csrs, std::max(o.peer, o.peer_infiles));
  std::vector<std::string> sample(files.begin(), files.begin() + o.peer);
  Progress("openssl ca " + key + ": " + std::to_string(o.peer) + " processes, one per request");
  OpensslCa::Timing t = peer.IssuePerProcess(sample);
  f.per_process = o.peer / t.wall;
  f.per_process_cpu_us = t.cpu * 1e6 / o.peer;
  if (with_index) {
    peer.ResetIndex();
    peer.PrefillIndex(o.peer_index_rows);
    Progress("openssl ca " + key + ": the same with " + std::to_string(o.peer_index_rows) +
             " rows in index.txt");
    f.per_process_big_index = o.peer / peer.IssuePerProcess(sample).wall;
  }
  peer.ResetIndex();
  Progress("openssl ca " + key + ": -infiles with " + std::to_string(o.peer_infiles) +
           " requests in one process");
  t = peer.IssueInOneProcess(files);
  f.one_process = o.peer_infiles / t.wall;
  f.one_process_cpu_us = t.cpu * 1e6 / o.peer_infiles;
  return f;
}

// The revocation list: `entries` revoked certificates with a realistic mix of reasons.
store::Revocation SyntheticRevocation(int i, UnixSeconds now) {
  store::Revocation r;
  r.revoked_at = now - (i % 700) * kSecondsPerDay - (i * 7919 % 86400);
  switch (i % 20) {
    case 17:  // key compromise, date of compromise known (RFC 5280 §5.3.2)
      r.reason = store::RevocationReason::kKeyCompromise;
      r.invalidity_date = r.revoked_at - 2 * kSecondsPerDay;
      break;
    case 18:
      r.reason = store::RevocationReason::kKeyCompromise;
      break;
    case 19:
      r.reason = store::RevocationReason::kUnspecified;
      break;
    case 14:
    case 15:
    case 16:
      r.reason = store::RevocationReason::kAffiliationChanged;
      break;
    case 10:
    case 11:
    case 12:
    case 13:
      r.reason = store::RevocationReason::kCessationOfOperation;
      break;
    default:  // a change of information supersedes the old certificate: the common case
      r.reason = store::RevocationReason::kSuperseded;
  }
  return r;
}

std::string RandomSerialHex(crypto::Rng& rng) {
  Bytes serial = rng.Generate(20);
  serial[0] &= 0x7F;  // positive, as ca::GenerateSerial makes them
  if (serial[0] == 0) serial[0] = 0x01;
  return HexEncode(serial);
}

// Inserts `count` certificate rows as the CA would have recorded them (copying a real issued
// certificate's record for sizes and fields), in one transaction; with `revoke`, also marks
// each revoked. Returns the serials and, for the peer, the revocations.
std::vector<PeerRevoked> InsertSyntheticCertificates(BenchCa& ca,
                                                     const store::CertificateRecord& model,
                                                     int count, int first_index, bool revoke) {
  std::vector<PeerRevoked> out;
  out.reserve(static_cast<size_t>(count));
  UnixSeconds now = ca.clock().Now();
  auto tx = Take(ca.db().Begin(store::TransactionMode::kWrite), "begin");
  for (int i = 0; i < count; ++i) {
    store::CertificateRecord r = model;
    r.id = 0;
    r.serial_hex = RandomSerialHex(ca.rng());
    int index = first_index + i;
    r.common_name = "Nguyễn Văn " + std::to_string(index);
    r.subject = "UID=CCCD:" + CccdNumber(index) + ",CN=" + r.common_name + ",O=Bộ Tài chính,C=VN";
    r.uids = {"CCCD:" + CccdNumber(index)};
    int64_t id = Take(tx->InsertCertificate(r), "insert certificate");
    PeerRevoked p{r.serial_hex, r.not_after, 0, 0, 0};
    if (revoke) {
      store::Revocation revocation = SyntheticRevocation(index, now);
      Take(tx->MarkRevoked(id, revocation), "mark revoked");
      p.revoked_at = revocation.revoked_at;
      p.reason = static_cast<int>(revocation.reason);
      p.invalidity_date = revocation.invalidity_date.value_or(0);
    }
    out.push_back(p);
  }
  Check(tx->Commit(), "commit synthetic certificates");
  return out;
}

// The two steps a full CRL is made of, timed apart: reading the revoked entries from the store,
// and encoding + signing them (x509::BuildCrl), as GenerateCrl does them.
void MeasureCrlSteps(BenchCa& ca, int reps, std::vector<double>* read_ms,
                     std::vector<double>* build_ms) {
  ca::LoadedCa loaded = Take(ca.authority().LoadCa("issuing"), "load CA");
  for (int rep = 0; rep < reps; ++rep) {
    Stopwatch read_watch;
    auto tx = Take(ca.db().Begin(store::TransactionMode::kRead), "begin");
    auto revoked = Take(tx->ListRevoked(loaded.record.id, 0), "list revoked");
    tx.reset();
    read_ms->push_back(read_watch.Seconds() * 1000);
    x509::CrlTemplate tmpl;
    tmpl.number = 1000 + rep;
    tmpl.this_update = ca.clock().Now();
    tmpl.next_update = tmpl.this_update + 86400;
    tmpl.entries.reserve(revoked.size());
    Stopwatch build_watch;
    for (const auto& r : revoked) {
      tmpl.entries.push_back({*HexDecode(r.serial_hex), r.revocation.revoked_at,
                              static_cast<int>(r.revocation.reason), r.revocation.invalidity_date});
    }
    Take(x509::BuildCrl(tmpl, loaded.certificate, *loaded.signer, loaded.scheme), "build CRL");
    build_ms->push_back(build_watch.Seconds() * 1000);
  }
}

void MeasureCrl(const Options& o, const ScratchDir& scratch, const std::vector<std::string>& csrs,
                Report& report) {
  Progress("CRL: P-256 CA with " + std::to_string(o.crl_entries) + " revoked certificates");
  BenchCa ca(scratch.Subdir("kyso-crl"), "ec:P-256");
  ca::IssueRequest request;
  request.csr = Bytes(csrs[0].begin(), csrs[0].end());
  request.profile = "individual";
  store::CertificateRecord model = Take(ca.authority().Issue(request), "issue model").record;

  Stopwatch fill_watch;
  std::vector<PeerRevoked> revoked =
      InsertSyntheticCertificates(ca, model, o.crl_entries, 1000000, /*revoke=*/true);
  double fill_seconds = fill_watch.Seconds();
  report.facts["crl_fill_seconds"] = fill_seconds;
  Progress("CRL: inserted and revoked " + std::to_string(o.crl_entries) + " rows in " +
           std::to_string(fill_seconds).substr(0, 5) + " s (one transaction)");

  crypto::PublicKey issuer_key = ca.hierarchy().issuing.public_key();
  std::vector<double> full_ms, full_cpu_ms;
  size_t full_bytes = 0;
  for (int rep = 0; rep < o.reps; ++rep) {
    Stopwatch watch;
    CpuWatch cpu;
    store::CrlRecord crl = Take(ca.authority().GenerateCrl("issuing", false), "full CRL");
    full_ms.push_back(watch.Seconds() * 1000);
    full_cpu_ms.push_back(cpu.Seconds() * 1000);
    full_bytes = crl.der.size();
    if (rep == 0) {
      x509::Crl parsed = Take(x509::Crl::FromDer(crl.der), "parse full CRL");
      if (parsed.entry_count() != static_cast<size_t>(o.crl_entries) ||
          !parsed.IsSignedBy(issuer_key)) {
        Die("full CRL", "wrong entry count or signature");
      }
    }
  }

  std::vector<double> read_ms, build_ms;
  MeasureCrlSteps(ca, o.reps, &read_ms, &build_ms);

  // A day's worth of revocations after the full CRL, through the CA's own Revoke().
  std::vector<PeerRevoked> fresh =
      InsertSyntheticCertificates(ca, model, o.delta_entries, 2000000, /*revoke=*/false);
  Stopwatch revoke_watch;
  for (const auto& f : fresh) {
    ca::RevokeRequest r;
    r.ca = "issuing";
    r.serial = f.serial_hex;
    r.reason = store::RevocationReason::kKeyCompromise;
    Take(ca.authority().Revoke(r), "revoke");
  }
  double revoke_rate = o.delta_entries / revoke_watch.Seconds();
  std::vector<double> delta_ms;
  size_t delta_bytes = 0;
  for (int rep = 0; rep < o.reps; ++rep) {
    Stopwatch watch;
    store::CrlRecord crl = Take(ca.authority().GenerateCrl("issuing", true), "delta CRL");
    delta_ms.push_back(watch.Seconds() * 1000);
    delta_bytes = crl.der.size();
    if (crl.entry_count != o.delta_entries) Die("delta CRL", "wrong entry count");
  }
  report.checks.push_back("full CRL: " + std::to_string(o.crl_entries) +
                          " entries, signature verifies; delta CRL lists the " +
                          std::to_string(o.delta_entries) + " later revocations");

  Progress("CRL: openssl ca -gencrl over the same " + std::to_string(o.crl_entries) + " serials");
  OpensslCa peer(o.openssl, scratch.Subdir("openssl-crl"), "ec:P-256");
  peer.WriteRevokedIndex(revoked);
  std::vector<double> peer_ms, peer_cpu_ms;
  for (int rep = 0; rep < o.reps; ++rep) {
    OpensslCa::Timing t = peer.GenerateCrl();
    peer_ms.push_back(t.wall * 1000);
    peer_cpu_ms.push_back(t.cpu * 1000);
  }
  size_t peer_bytes = 0;
  int peer_entries = 0;
  peer.InspectCrl(&peer_bytes, &peer_entries);
  if (peer_entries != o.crl_entries) Die("openssl CRL", "wrong entry count");

  std::string n = std::to_string(o.crl_entries);
  report.Add({"crl.full_ms", "Full CRL, " + n + " entries (median ms)", "ms", Median(full_ms),
              Median(peer_ms), "openssl ca -gencrl, same serials", false});
  report.Add({"crl.full_cpu_ms", "Full CRL, CPU (median ms)", "ms", Median(full_cpu_ms),
              Median(peer_cpu_ms), "openssl ca -gencrl", false});
  report.Add({"crl.read_ms", "  of which: ListRevoked (median ms)", "ms", Median(read_ms),
              std::nullopt, "", false});
  report.Add({"crl.build_ms", "  of which: x509::BuildCrl (median ms)", "ms", Median(build_ms),
              std::nullopt, "", false});
  report.Add({"crl.full_kib", "Full CRL size (KiB DER)", "KiB", full_bytes / 1024.0,
              peer_bytes / 1024.0, "openssl ca -gencrl", false});
  report.Add({"crl.delta_ms",
              "Delta CRL, " + std::to_string(o.delta_entries) + " entries (median ms)", "ms",
              Median(delta_ms), std::nullopt, "openssl ca: no delta CRLs", false});
  report.Add({"revoke.rate", "Revoke(), one durable commit each (/s)", "revocations/s", revoke_rate,
              std::nullopt, "", true});
  report.facts["crl_full_ms_all"] = full_ms;
  report.facts["crl_peer_ms_all"] = peer_ms;
  report.facts["crl_delta_bytes"] = delta_bytes;
}

// The ceiling for one-at-a-time issuance: the raw fdatasync rate of the disk under the
// scratch directory, and a durable store commit of one small row.
struct CommitFloor {
  double fsync_rate = 0;
  double commit_rate = 0;
};

CommitFloor MeasureCommitFloor(const Options& o, const ScratchDir& scratch, const char* name) {
  int count = o.quick ? 50 : 300;
  CommitFloor f;
  f.fsync_rate = MeasureFsyncRate(scratch.path(), count);
  store::SqliteOptions options;
  options.durable = true;
  auto db = Take(store::OpenSqliteDatabase(scratch.File(name), options), "open probe");
  Stopwatch watch;
  for (int i = 0; i < count; ++i) {
    auto tx = Take(db->Begin(store::TransactionMode::kWrite), "begin");
    Check(tx->PutSetting("bench.probe", std::to_string(i)), "put setting");
    Check(tx->Commit(), "commit");
  }
  f.commit_rate = count / watch.Seconds();
  return f;
}

std::string FormatNumber(double v, const std::string& unit) {
  char buf[64];
  if (unit == "ms" || unit == "KiB") {
    std::snprintf(buf, sizeof buf, "%.1f", v);
    return buf;
  }
  // Rates: whole numbers with thousands separators.
  std::snprintf(buf, sizeof buf, "%.0f", v);
  std::string digits = buf, out;
  int n = static_cast<int>(digits.size());
  for (int i = 0; i < n; ++i) {
    out.push_back(digits[i]);
    if ((n - i - 1) % 3 == 0 && i + 1 < n && digits[i] != '-') out.push_back(',');
  }
  return out;
}

std::string Pad(const std::string& s, size_t width) {
  // Width in code points, so that UTF-8 does not skew the columns.
  size_t cps = 0;
  for (unsigned char c : s) cps += (c & 0xC0) != 0x80;
  return cps >= width ? s : s + std::string(width - cps, ' ');
}

std::string PadLeft(const std::string& s, size_t width) {
  return s.size() >= width ? s : std::string(width - s.size(), ' ') + s;
}

std::vector<Target> Targets(const Options& o) {
  return {{"P-256 bulk >= 10,000 certs/s", "p256.bulk", 10000, true, o.bulk >= 10000},
          {"P-256 one at a time >= 3,000 certs/s", "p256.single", 3000, true, o.single >= 3000},
          {"CRL with 60,000 entries <= 100 ms", "crl.full_ms", 100, false, o.crl_entries >= 60000}};
}

void PrintTable(const Options& o, const Report& report) {
  std::cout << "\n"
            << Pad("metric", 50) << " | " << PadLeft("kyso", 9) << " | " << PadLeft("peer", 9)
            << " | " << PadLeft("ratio", 7) << " | peer\n";
  std::cout << std::string(50, '-') << "-|-" << std::string(9, '-') << "-|-" << std::string(9, '-')
            << "-|-" << std::string(7, '-') << "-|-" << std::string(36, '-') << "\n";
  for (const auto& r : report.rows) {
    std::string ratio = "";
    if (auto x = r.Ratio()) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.2fx", *x);
      ratio = buf;
    }
    std::cout << Pad(r.metric, 50) << " | " << PadLeft(FormatNumber(r.kyso, r.unit), 9) << " | "
              << PadLeft(r.peer ? FormatNumber(*r.peer, r.unit) : "", 9) << " | "
              << PadLeft(ratio, 7) << " | " << r.peer_name << "\n";
  }
  std::cout << "\nratio > 1 means kyso is faster (ours/peer for rates, peer/ours for times)\n";
  std::cout << "\ntargets:\n";
  for (const auto& t : Targets(o)) {
    const Row* r = report.Find(t.row_id);
    if (r == nullptr) continue;
    std::optional<bool> met = t.Met(*r);
    std::cout << "  "
              << (!met   ? "n/a    "
                  : *met ? "met    "
                         : "MISSED ")
              << t.what << ": " << FormatNumber(r->kyso, r->unit) << " " << r->unit
              << (met ? "" : " (run too small to judge)") << "\n";
  }
  std::cout << "\nchecks:\n";
  for (const auto& c : report.checks) std::cout << "  ok  " << c << "\n";
  std::cout << "\nnotes:\n";
  for (const auto& n : report.notes) std::cout << "  - " << n << "\n";
  std::cout << "\nrun: " << report.facts.dump() << "\n";
}

void PrintJson(const Options& o, const Report& report) {
  nlohmann::ordered_json j;
  j["run"] = report.facts;
  j["rows"] = nlohmann::ordered_json::array();
  for (const auto& r : report.rows) {
    nlohmann::ordered_json row = {{"id", r.id},       {"metric", r.metric},
                                  {"unit", r.unit},   {"kyso", r.kyso},
                                  {"peer", nullptr},  {"peer_name", r.peer_name},
                                  {"ratio", nullptr}, {"higher_is_better", r.higher_is_better}};
    if (r.peer) row["peer"] = *r.peer;
    if (auto x = r.Ratio()) row["ratio"] = *x;
    j["rows"].push_back(row);
  }
  j["targets"] = nlohmann::ordered_json::array();
  for (const auto& t : Targets(o)) {
    const Row* r = report.Find(t.row_id);
    if (r == nullptr) continue;
    std::optional<bool> met = t.Met(*r);
    nlohmann::ordered_json target = {{"target", t.what}, {"value", r->kyso}, {"met", nullptr}};
    if (met) target["met"] = *met;
    j["targets"].push_back(target);
  }
  j["checks"] = report.checks;
  j["notes"] = report.notes;
  std::cout << j.dump(2) << "\n";
}

// The rows of one issuing CA: throughput next to both ways of running openssl ca, and CPU per
// certificate, which other work on the machine disturbs much less than wall time.
void AddIssueRows(const Options& o, const std::string& id, const std::string& label,
                  const IssueFigures& k, const PeerIssueFigures& p, Report& report) {
  std::string batch = label + " CA: IssueBatch, " + std::to_string(o.commit_every) + "/commit";
  std::string single = label + " CA: Issue() one at a time";
  report.Add({id + ".bulk", batch + " (certs/s)", "certs/s", k.bulk_rate, p.per_process,
              "openssl ca, one process per cert", true});
  report.Add({id + ".bulk_vs_infiles", batch + " (certs/s)", "certs/s", k.bulk_rate, p.one_process,
              "openssl ca -infiles, one process", true});
  report.Add({id + ".single", single + " (certs/s)", "certs/s", k.single_rate, p.per_process,
              "openssl ca, one process per cert", true});
  report.Add({id + ".bulk_cpu", label + " CA: IssueBatch, CPU per cert (us)", "us", k.bulk_cpu_us,
              p.one_process_cpu_us, "openssl ca -infiles, one process", false});
  report.Add({id + ".single_cpu", label + " CA: Issue(), CPU per cert (us)", "us", k.single_cpu_us,
              p.per_process_cpu_us, "openssl ca, one process per cert", false});
}

// Where one-at-a-time issuance spends its time: its own CPU, or waiting for the disk.
std::string SingleIssueNote(const Report& report) {
  const Row* commit = report.Find("floor.commit");
  if (commit == nullptr || !report.facts.contains("p256_single_cpu_us")) return "";
  double cpu = report.facts["p256_single_cpu_us"].get<double>();
  double wall = report.facts["p256_single_wall_us"].get<double>();
  double commit_us = 1e6 / commit->kyso;
  return "P-256 Issue(): " + FormatNumber(wall, "us") + " us per certificate, of which " +
         FormatNumber(cpu, "us") + " us CPU and one durable commit (" +
         FormatNumber(commit_us, "us") + " us for a one-row commit on this disk now): " +
         (cpu > commit_us ? "CPU-bound." : "bound by the disk's fsync latency.");
}

int Run(const Options& o) {
  Report report;
  ScratchDir scratch(o.parent_dir);
  if (o.keep) scratch.Keep();
  char date[32];
  std::time_t now = std::time(nullptr);
  std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  report.facts["date"] = date;
  report.facts["mode"] = o.quick ? "quick" : "full";
  report.facts["cores"] = std::thread::hardware_concurrency();
  report.facts["openssl"] = CaptureOutput({o.openssl, "version"});
  // Every measurement has a peer: without one the run would mean nothing, so stop early.
  if (report.facts["openssl"].get<std::string>().empty()) {
    Die(o.openssl, "cannot run `" + o.openssl + " version`; pass the peer with --openssl PATH");
  }
  report.facts["scratch_filesystem"] = DescribeFilesystem(scratch.path());
  report.facts["loadavg_start"] = ReadLoadAverage();
  report.facts["counts"] = {{"p256_bulk", o.bulk},
                            {"p256_single", o.single},
                            {"rsa3072_bulk", o.rsa_bulk},
                            {"rsa3072_single", o.rsa_single},
                            {"commit_every", o.commit_every},
                            {"peer_per_process", o.peer},
                            {"peer_infiles", o.peer_infiles},
                            {"peer_index_rows", o.peer_index_rows},
                            {"crl_entries", o.crl_entries},
                            {"crl_reps", o.reps}};
  Progress("scratch directory " + scratch.path() + " (" +
           report.facts["scratch_filesystem"].get<std::string>() + "), load average " +
           report.facts["loadavg_start"].get<std::string>());

  CommitFloor floor_start = MeasureCommitFloor(o, scratch, "probe-start.db");

  int pool = std::max({o.bulk + o.single, o.rsa_bulk + o.rsa_single, o.peer, o.peer_infiles, 1});
  Progress("generating " + std::to_string(pool) + " subscriber CSRs (P-256 keys, not timed)");
  Stopwatch csr_watch;
  std::vector<std::string> csrs = MakeSubscriberCsrs(1, pool, 2);
  report.facts["csr_generation_seconds"] = csr_watch.Seconds();

  // --- P-256 issuing CA ---
  {
    BenchCa ca(scratch.Subdir("kyso-p256"), "ec:P-256");
    IssueFigures k = MeasureIssuance("P-256", ca, csrs, o.bulk, o.single, o.commit_every, report);
    PeerIssueFigures p = MeasurePeerIssuance(o, scratch, "ec:P-256", "openssl-p256", csrs, true);
    BenchCa ca2(scratch.Subdir("kyso-p256-2t"), "ec:P-256");
    double bulk_2t =
        MeasureConcurrent("P-256", ca2, csrs, 0, o.bulk, 2, true, o.commit_every, report);
    double single_2t = MeasureConcurrent("P-256", ca2, csrs, o.bulk, o.single, 2, false, 0, report);
    AddIssueRows(o, "p256", "P-256", k, p, report);
    report.Add({"p256.bulk_2t", "P-256 CA: 2 concurrent IssueBatch calls (certs/s)", "certs/s",
                bulk_2t, p.one_process, "openssl ca -infiles, one process", true});
    report.Add({"p256.single_2t", "P-256 CA: Issue() from 2 threads (certs/s)", "certs/s",
                single_2t, p.per_process, "openssl ca, one process per cert", true});
    report.Add({"p256.single_vs_index",
                "P-256 CA: Issue(), " + std::to_string(o.bulk) + " rows in store (certs/s)",
                "certs/s", k.single_rate, p.per_process_big_index,
                "openssl ca, process/cert, " + std::to_string(o.peer_index_rows) + "-row index",
                true});
    report.facts["p256_seal_after_single_ms"] = k.seal_ms;
    report.facts["p256_single_cpu_us"] = k.single_cpu_us;
    report.facts["p256_single_wall_us"] = 1e6 / k.single_rate;
  }

  // --- RSA-3072 issuing CA ---
  {
    BenchCa ca(scratch.Subdir("kyso-rsa3072"), "rsa:3072");
    IssueFigures k =
        MeasureIssuance("RSA-3072", ca, csrs, o.rsa_bulk, o.rsa_single, o.commit_every, report);
    PeerIssueFigures p =
        MeasurePeerIssuance(o, scratch, "rsa:3072", "openssl-rsa3072", csrs, false);
    AddIssueRows(o, "rsa", "RSA-3072", k, p, report);
    report.facts["rsa3072_seal_after_single_ms"] = k.seal_ms;
  }

  MeasureCrl(o, scratch, csrs, report);
  // Measured again at the end: other work on the machine can change the disk's latency.
  CommitFloor floor_end = MeasureCommitFloor(o, scratch, "probe-end.db");
  report.Add({"floor.fsync", "Disk: 4 KiB append + fdatasync (/s, start)", "syncs/s",
              floor_start.fsync_rate, std::nullopt, "", true});
  report.Add({"floor.commit", "Store: durable commit of one row (/s, start)", "commits/s",
              floor_start.commit_rate, std::nullopt, "", true});
  report.Add({"floor.commit_end", "Store: durable commit of one row (/s, end)", "commits/s",
              floor_end.commit_rate, std::nullopt, "", true});

  report.facts["loadavg_end"] = ReadLoadAverage();
  report.notes = {
      "kyso issues from PEM bytes in memory; openssl ca reads the request file and writes the "
      "certificate and index.txt without fsync. kyso's figures include the profile check, the "
      "SQLite commit with synchronous=FULL and the hash-chained audit entry.",
      "IssueBatch signs an audit checkpoint once per commit; Issue() does not seal (the CLI "
      "seals once per command): that seal took " +
          FormatNumber(report.facts["p256_seal_after_single_ms"].get<double>(), "ms") +
          " ms after the P-256 one-at-a-time run, not counted above.",
      SingleIssueNote(report),
      "The two-thread rows share one CertificateAuthority between two threads (two IssueBatch "
      "calls, or two loops of Issue()); the peer cannot do that (one index.txt per CA).",
  };
  if (o.quick) report.notes.push_back("--quick: counts are too small for stable figures.");
  if (o.json) {
    PrintJson(o, report);
  } else {
    PrintTable(o, report);
  }
  return 0;
}

}  // namespace
}  // namespace kyso::bench

int main(int argc, char** argv) {
  kyso::bench::Options options = kyso::bench::ParseOptions(argc, argv);
  return kyso::bench::Run(options);
}
