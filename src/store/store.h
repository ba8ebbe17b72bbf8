// Repository interface of the CA's state. Back ends: SQLite (embedded default, this module's
// sqlite_store.h) and PostgreSQL (later); one typed test suite runs against each.
//
// All access goes through a Transaction so that a state change and its audit entry commit
// together or not at all ("nothing is half-written"). A Transaction that is destroyed without
// Commit() rolls back.
//
// Thread-safety: a Database may be shared between threads; each Transaction belongs to one
// thread. Write transactions are serialized by the back end.
#pragma once

#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "store/records.h"

namespace kyso::store {

// Error ids used by every back end:
//   store.not_found           the row does not exist                   (NotFound)
//   store.duplicate           a unique key already exists              (AlreadyExists)
//   store.already_revoked     MarkRevoked on a revoked certificate     (FailedPrecondition)
//   store.corrupt             the database file is damaged / not ours  (DataLoss)
//   store.schema_too_new      written by a newer kyso                  (FailedPrecondition)
//   store.busy                lock not obtained in time                (Unavailable)
//   store.io                  other back-end failure                   (Unavailable)
//   store.read_only           a write in a kRead transaction           (FailedPrecondition)
//   store.closed              a call after Commit()                    (FailedPrecondition)
//   store.invalid_record      a revoked CertificateRecord without its  (InvalidArgument)
//                             revocation
// An insert that references a missing row (a certificate of an unknown CA, a CA with an
// unknown parent) fails with store.not_found. Serial numbers compare case-insensitively.
// A call that fails with store.duplicate, store.not_found or store.already_revoked leaves the
// transaction as it was, so the caller may go on (e.g. retry with another serial).

class Transaction {
 public:
  virtual ~Transaction() = default;
  [[nodiscard]] virtual Status Commit() = 0;

  // --- CAs ---
  virtual Result<int64_t> InsertCa(const CaRecord& ca) = 0;
  virtual Result<CaRecord> GetCa(int64_t id) = 0;
  virtual Result<CaRecord> GetCaByName(std::string_view name) = 0;
  virtual Result<std::vector<CaRecord>> ListCas() = 0;

  // --- certificates ---
  // Fails with store.duplicate when (issuer_ca_id, serial_hex) exists.
  virtual Result<int64_t> InsertCertificate(const CertificateRecord& cert) = 0;
  virtual Result<CertificateRecord> GetCertificate(int64_t issuer_ca_id,
                                                   std::string_view serial_hex) = 0;
  virtual Result<CertificateRecord> GetCertificateById(int64_t id) = 0;
  // Across all CAs (a serial is unique per CA, not globally).
  virtual Result<std::vector<CertificateRecord>> FindCertificatesBySerial(
      std::string_view serial_hex) = 0;
  virtual Result<std::vector<CertificateRecord>> ListCertificates(
      const CertificateFilter& filter) = 0;
  virtual Result<int64_t> CountCertificates(const CertificateFilter& filter) = 0;

  // Marks the certificate revoked and assigns it the CA's next revocation_seq, which it
  // returns. One row update: the cost does not depend on how many are already revoked. The
  // certificate's pre-signed OCSP response is deleted in the same transaction, so that no
  // reader can find a "good" response once the revocation is committed.
  virtual Result<int64_t> MarkRevoked(int64_t certificate_id, const Revocation& revocation) = 0;
  // Revoked certificates of `ca_id` whose revocation_seq > after_seq, ordered by seq.
  virtual Result<std::vector<RevokedEntry>> ListRevoked(int64_t ca_id, int64_t after_seq) = 0;
  virtual Result<int64_t> MaxRevocationSeq(int64_t ca_id) = 0;

  // --- certificate status (OCSP) ---
  // The status of one certificate, without reading its body or uids. store.not_found when the
  // CA issued no such serial.
  virtual Result<CertificateStatusEntry> GetCertificateStatus(int64_t issuer_ca_id,
                                                              std::string_view serial_hex) = 0;
  // Certificates of `issuer_ca_id` with id > after_id and not_after >= not_after_from, in id
  // order, at most `limit`: pages through a CA's unexpired certificates by key.
  virtual Result<std::vector<CertificateStatusEntry>> ListCertificateStatuses(
      int64_t issuer_ca_id, int64_t after_id, UnixSeconds not_after_from, int64_t limit) = 0;

  // --- pre-signed OCSP responses ---
  // Stores `response` as the pre-signed response about certificate (ca_id, serial_hex),
  // replacing the one stored unless that one has a later this_update. Returns false and writes
  // nothing when the certificate's status is no longer response.status: a "good" response
  // signed before a revocation committed can never be stored after it. store.not_found when
  // the certificate does not exist.
  virtual Result<bool> PutOcspResponse(const OcspResponseRecord& response) = 0;
  // The stored response about (ca_id, serial_hex), with the certificate's revocation when
  // revoked; nullopt when none is stored.
  virtual Result<std::optional<OcspResponseRecord>> GetOcspResponse(
      int64_t ca_id, std::string_view serial_hex) = 0;
  // Stored responses about certificates of `ca_id` with certificate_id > after_certificate_id
  // and next_update > next_update_after, in certificate_id order, at most `limit`.
  virtual Result<std::vector<OcspResponseRecord>> ListOcspResponses(int64_t ca_id,
                                                                    int64_t after_certificate_id,
                                                                    UnixSeconds next_update_after,
                                                                    int64_t limit) = 0;
  // Deletes the responses with next_update <= `at`; returns how many.
  virtual Result<int64_t> DeleteExpiredOcspResponses(UnixSeconds at) = 0;

  // --- CRLs ---
  // Returns the CA's next cRLNumber (1, 2, ...) and reserves it. Full and delta CRLs share
  // one sequence, as RFC 5280 §5.2.3 requires.
  virtual Result<int64_t> NextCrlNumber(int64_t ca_id) = 0;
  virtual Result<int64_t> InsertCrl(const CrlRecord& crl) = 0;
  // Latest full (delta=false) or delta CRL of the CA; nullopt when none was issued.
  virtual Result<std::optional<CrlRecord>> LatestCrl(int64_t ca_id, bool delta) = 0;

  // --- audit log ---
  virtual Result<std::optional<AuditEntry>> LastAuditEntry() = 0;
  // Append only: fails with store.duplicate if entry.seq exists.
  virtual Status InsertAuditEntry(const AuditEntry& entry) = 0;
  // Entries with seq >= from_seq, ordered by seq, at most `limit`.
  virtual Result<std::vector<AuditEntry>> ListAuditEntries(int64_t from_seq, int64_t limit) = 0;
  virtual Result<int64_t> InsertAuditCheckpoint(const AuditCheckpoint& checkpoint) = 0;
  virtual Result<std::vector<AuditCheckpoint>> ListAuditCheckpoints() = 0;
  virtual Result<std::optional<AuditCheckpoint>> LastAuditCheckpoint() = 0;

  // --- settings (small key/value facts: instance id, public base URL, ...) ---
  virtual Result<std::optional<std::string>> GetSetting(std::string_view key) = 0;
  virtual Status PutSetting(std::string_view key, std::string_view value) = 0;
};

enum class TransactionMode { kRead, kWrite };

class Database {
 public:
  virtual ~Database() = default;
  virtual Result<std::unique_ptr<Transaction>> Begin(TransactionMode mode) = 0;
  // Schema version after migrations.
  virtual int schema_version() const = 0;
};

}  // namespace kyso::store
