// The peer: a throwaway `openssl ca` in a directory of its own, driven as a process, as a CA
// operator scripting OpenSSL would run it. Its certificates carry the same extensions as
// kyso's `individual` profile (basicConstraints, keyUsage, EKU with documentSigning, SKI/AKI,
// certificatePolicies, AIA, CRL DP) and 20-byte random serials (rand_serial), so both sides
// encode and sign comparable certificates.
//
// What the peer does NOT do, and kyso does: apply a profile's rules to the request, record
// the certificate in a database with a hash-chained audit entry, and make that durable (openssl
// ca writes index.txt and the certificate without fsync).
//
// Thread-safety: one OpensslCa per thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace kyso::bench {

// One line of an `openssl ca` index.txt for a revoked certificate.
struct PeerRevoked {
  std::string serial_hex;  // upper-case
  int64_t not_after = 0;   // Unix seconds
  int64_t revoked_at = 0;
  int reason = 0;               // RFC 5280 CRLReason; 0 is written without a reason
  int64_t invalidity_date = 0;  // 0: none; only with keyCompromise ("keyTime" in index.txt)
};

class OpensslCa {
 public:
  // Creates the CA key ("ec:P-256" or "rsa:3072"), self-signed certificate, openssl.cnf and an
  // empty index in `dir`.
  OpensslCa(std::string openssl, std::string dir, const std::string& key_spec);

  // Empties index.txt and the issued certificates.
  void ResetIndex();
  // Appends `rows` synthetic valid ("V") entries to index.txt, as a CA that has issued that
  // many certificates already would have.
  void PrefillIndex(int rows);
  // Replaces index.txt by revoked ("R") entries.
  void WriteRevokedIndex(const std::vector<PeerRevoked>& entries);

  // Wall and CPU (user + system) seconds of a peer run.
  struct Timing {
    double wall = 0;
    double cpu = 0;
  };
  // One `openssl ca` process per request file.
  Timing IssuePerProcess(const std::vector<std::string>& csr_files);
  // One `openssl ca -infiles` process for all request files.
  Timing IssueInOneProcess(const std::vector<std::string>& csr_files);
  // `openssl ca -gencrl` into crl.pem.
  Timing GenerateCrl();
  // DER size of the last crl.pem and its number of entries.
  void InspectCrl(size_t* der_bytes, int* entries) const;

  const std::string& dir() const { return dir_; }

 private:
  std::vector<std::string> BaseCommand() const;
  std::string openssl_;
  std::string dir_;
  std::string config_;
  std::string log_;
};

}  // namespace kyso::bench
