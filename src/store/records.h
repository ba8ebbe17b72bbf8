// The rows the CA keeps. Plain values; the store back ends map them to tables.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/clock.h"

namespace kyso::store {

// A CA whose key this instance holds (root or issuing).
struct CaRecord {
  int64_t id = 0;
  std::string name;  // short unique name used in URLs and the CLI: "root", "issuing"
  std::string role;  // "root" | "issuing"
  std::optional<int64_t> parent_id;  // issuing CA's parent; empty for a root
  std::string subject;               // RFC 4514 display form
  std::string serial_hex;
  UnixSeconds not_before = 0;
  UnixSeconds not_after = 0;
  std::string key_ref;           // "file:keys/issuing.key.pem", later "pkcs11:..."
  std::string signature_scheme;  // e.g. "sha256WithRSAEncryption"
  Bytes certificate_der;
  UnixSeconds created_at = 0;
};

enum class CertificateStatus { kValid, kRevoked };

// RFC 5280 §5.3.1 CRLReason codes.
enum class RevocationReason : int {
  kUnspecified = 0,
  kKeyCompromise = 1,
  kCaCompromise = 2,
  kAffiliationChanged = 3,
  kSuperseded = 4,
  kCessationOfOperation = 5,
  kCertificateHold = 6,
  kRemoveFromCrl = 8,
  kPrivilegeWithdrawn = 9,
  kAaCompromise = 10,
};

struct Revocation {
  UnixSeconds revoked_at = 0;
  RevocationReason reason = RevocationReason::kUnspecified;
  std::optional<UnixSeconds> invalidity_date;  // RFC 5280 §5.3.2
};

struct CertificateRecord {
  int64_t id = 0;
  int64_t issuer_ca_id = 0;
  std::string serial_hex;  // upper-case hex of the serial's DER content bytes
  std::string issuer;      // RFC 4514
  std::string subject;     // RFC 4514, UTF-8
  std::string common_name;
  std::vector<std::string> uids;  // "CCCD:001234567890", "MST:0100109106", ...
  std::string email;
  std::string profile;
  std::string issuance_kind;               // "new" | "renewal" | "change" | "reissue" | "system"
  std::optional<int64_t> replaces_id;      // the certificate this one renews/changes/re-issues
  std::optional<int64_t> owner_id;         // person (registration workflow, later)
  std::optional<int64_t> organization_id;  // managing body (registration workflow, later)
  std::string key_fingerprint;             // SHA-256 of SPKI, hex
  UnixSeconds not_before = 0;
  UnixSeconds not_after = 0;
  UnixSeconds issued_at = 0;
  CertificateStatus status = CertificateStatus::kValid;
  std::optional<Revocation> revocation;
  int64_t revocation_seq = 0;  // per-CA order of revocation, 0 when not revoked (delta CRLs)
  Bytes der;
};

// What a CRL entry needs, without the certificate body: the CRL builder reads these in bulk.
struct RevokedEntry {
  std::string serial_hex;
  Revocation revocation;
  int64_t revocation_seq = 0;
};

// The status facts of one certificate without its body: what the OCSP responder reads per
// request, and pre-signing reads in bulk.
struct CertificateStatusEntry {
  int64_t id = 0;
  int64_t issuer_ca_id = 0;
  std::string serial_hex;
  CertificateStatus status = CertificateStatus::kValid;
  std::optional<Revocation> revocation;  // set when revoked
  int64_t revocation_seq = 0;
  UnixSeconds not_before = 0;
  UnixSeconds not_after = 0;
};

// A pre-signed OCSP response (src/ocsp): the nonce-less answer about one certificate to the
// canonical request (SHA-1 CertID), kept so that any process, or a plain web server fed by
// `kyso ocsp presign --export`, can serve it. At most one per certificate.
struct OcspResponseRecord {
  int64_t certificate_id = 0;  // filled in on reads
  int64_t ca_id = 0;
  std::string serial_hex;
  CertificateStatus status = CertificateStatus::kValid;  // the status the response states
  std::optional<Revocation> revocation;  // on reads: the certificate's, when revoked
  UnixSeconds this_update = 0;           // also the response's producedAt
  UnixSeconds next_update = 0;
  Bytes der;  // the whole OCSPResponse
};

struct CrlRecord {
  int64_t id = 0;
  int64_t ca_id = 0;
  int64_t number = 0;                  // cRLNumber (RFC 5280 §5.2.3)
  std::optional<int64_t> base_number;  // deltaCRLIndicator (§5.2.4); set for delta CRLs
  UnixSeconds this_update = 0;
  UnixSeconds next_update = 0;
  int64_t max_revocation_seq = 0;  // revocations up to this seq are reflected
  int64_t entry_count = 0;
  Bytes der;
};

struct CertificateFilter {
  std::optional<int64_t> issuer_ca_id;
  std::optional<CertificateStatus> status;
  std::optional<std::string> profile;
  std::optional<std::string> uid;               // exact "CCCD:001234567890"
  std::optional<std::string> subject_contains;  // substring of subject (UTF-8, case-sensitive)
  std::optional<std::string> email;             // exact, ASCII case-insensitive
  std::optional<UnixSeconds> expires_before;    // not_after < value
  std::optional<UnixSeconds> valid_at;          // not_before <= value <= not_after
  std::optional<UnixSeconds> issued_from;       // issued_at >= value
  std::optional<UnixSeconds> issued_before;     // issued_at < value
  std::optional<UnixSeconds> revoked_from;      // revoked_at >= value
  std::optional<UnixSeconds> revoked_before;    // revoked_at < value
  std::optional<int64_t> organization_id;
  // The certificates of a body and every body under it: the body's materialized path ("/1/5/").
  std::optional<std::string> organization_path_prefix;
  std::optional<int64_t> owner_id;
  int64_t limit = 100;  // < 0: no limit; results in id order
  int64_t offset = 0;
};

// One hash-chained audit entry (src/audit defines the hash).
struct AuditEntry {
  int64_t seq = 0;  // 1, 2, 3, ... without gaps
  UnixSeconds time = 0;
  std::string actor;    // "cli:root@host", "system", later user ids
  std::string action;   // "cert.issue", "cert.revoke", "crl.generate", ...
  std::string object;   // "issuing/3A7F..." or ""
  std::string details;  // compact JSON
  Bytes prev_hash;      // hash of entry seq-1 (32 zero bytes for seq 1)
  Bytes hash;           // SHA-256 over this entry's canonical encoding
};

// A signature by the audit key over the chain head at `seq`.
struct AuditCheckpoint {
  int64_t id = 0;
  int64_t seq = 0;
  Bytes head_hash;
  UnixSeconds time = 0;
  std::string signer_fingerprint;  // SPKI SHA-256 hex of the audit key
  std::string scheme;              // signature scheme name
  Bytes signature;
};

}  // namespace kyso::store
