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
#include "store/registry.h"

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
//   store.conflict            an Update* whose record.version is not   (FailedPrecondition)
//                             the stored one (optimistic concurrency:
//                             someone else changed the row first)
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
  // Certificates matching `filter` whose issue (or revocation) time lies in [bounds[i],
  // bounds[i+1]), one count per period, in one pass over the table (the dashboard's months: 24
  // separate counts of a subtree each re-read its rows). `bounds` ascending, at least two.
  enum class CertificateTime { kIssuedAt, kRevokedAt };
  virtual Result<std::vector<int64_t>> CountCertificatesInPeriods(
      const CertificateFilter& filter, CertificateTime field,
      const std::vector<UnixSeconds>& bounds) = 0;

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

  // --- registration workflow (registry.h) ---
  // Updates compare record.version with the stored version and fail with store.conflict when
  // they differ; on success the stored version is record.version + 1. Inserts return the id
  // and ignore id, path and version fields of the argument.

  // The store sets path = parent's path + id + "/". store.not_found for an unknown parent.
  virtual Result<int64_t> InsertOrganization(const OrganizationRecord& org) = 0;
  virtual Result<OrganizationRecord> GetOrganization(int64_t id) = 0;
  // Changes the descriptive fields (not parent_id or path).
  virtual Status UpdateOrganization(const OrganizationRecord& org) = 0;
  virtual Result<std::vector<OrganizationRecord>> ListOrganizations(
      const OrganizationFilter& filter) = 0;

  // store.duplicate when personal_id exists; store.not_found for an unknown organization.
  virtual Result<int64_t> InsertPerson(const PersonRecord& person) = 0;
  virtual Result<PersonRecord> GetPerson(int64_t id) = 0;
  // May change organization_id (a move) and status.
  virtual Status UpdatePerson(const PersonRecord& person) = 0;
  virtual Result<std::vector<PersonRecord>> ListPeople(const PersonFilter& filter) = 0;

  // store.duplicate when username (or a non-empty certificate_fingerprint) exists.
  virtual Result<int64_t> InsertAccount(const AccountRecord& account) = 0;
  virtual Result<AccountRecord> GetAccount(int64_t id) = 0;
  virtual Result<AccountRecord> GetAccountByUsername(std::string_view username) = 0;
  virtual Result<AccountRecord> GetAccountByCertificate(std::string_view fingerprint) = 0;
  virtual Status UpdateAccount(const AccountRecord& account) = 0;
  virtual Result<std::vector<AccountRecord>> ListAccounts(int64_t after_id, int64_t limit) = 0;

  virtual Status InsertAccessToken(const AccessTokenRecord& token) = 0;
  virtual Result<AccessTokenRecord> GetAccessToken(std::string_view token_hash) = 0;
  // store.not_found when no token has this id.
  virtual Result<AccessTokenRecord> GetAccessTokenById(int64_t id) = 0;
  // The tokens of `account_id` of `kind` ("api", "session") with id > after_id, in id order, at
  // most `limit` (revoked and expired ones included).
  virtual Result<std::vector<AccessTokenRecord>> ListAccessTokens(int64_t account_id,
                                                                  std::string_view kind,
                                                                  int64_t after_id,
                                                                  int64_t limit) = 0;
  // store.not_found when no such token.
  virtual Status RevokeAccessToken(std::string_view token_hash) = 0;
  // Deletes tokens with expires_at <= at; returns how many.
  virtual Result<int64_t> DeleteExpiredAccessTokens(UnixSeconds at) = 0;

  // store.not_found when either body is unknown.
  virtual Result<int64_t> InsertDelegation(const DelegationRecord& delegation) = 0;
  virtual Result<DelegationRecord> GetDelegation(int64_t id) = 0;
  // Sets withdrawn_at/by; store.not_found when unknown, store.conflict when already withdrawn.
  virtual Status WithdrawDelegation(int64_t id, UnixSeconds at, std::string_view by) = 0;
  // In id order.
  virtual Result<std::vector<DelegationRecord>> ListDelegations(const DelegationFilter& filter) = 0;

  // store.duplicate when (created_by, idempotency_key) exists for a non-empty key.
  virtual Result<int64_t> InsertRequest(const RequestRecord& request) = 0;
  virtual Result<RequestRecord> GetRequest(int64_t id) = 0;
  // Writes every mutable field (state, assignee, delegation_id, form_json, signature fields,
  // submitted_at, due_at, result fields, updated_at).
  virtual Status UpdateRequest(const RequestRecord& request) = 0;
  virtual Result<std::vector<RequestRecord>> ListRequests(const RequestFilter& filter) = 0;
  // Counts the requests the filter matches, ignoring after_id/before_id/limit.
  virtual Result<int64_t> CountRequests(const RequestFilter& filter) = 0;
  // Attachments of a request. Insert: store.not_found for an unknown request. List: in id
  // order, without their data. Delete: store.not_found when no such attachment.
  virtual Result<int64_t> InsertAttachment(const AttachmentRecord& attachment) = 0;
  virtual Result<AttachmentRecord> GetAttachment(int64_t id) = 0;
  virtual Result<std::vector<AttachmentRecord>> ListAttachments(int64_t request_id) = 0;
  virtual Status DeleteAttachment(int64_t id) = 0;
  virtual Result<int64_t> InsertRequestEvent(const RequestEventRecord& event) = 0;
  // In id order.
  virtual Result<std::vector<RequestEventRecord>> ListRequestEvents(int64_t request_id) = 0;

  virtual Result<std::optional<IdempotencyRecord>> GetIdempotency(int64_t account_id,
                                                                  std::string_view key) = 0;
  // store.duplicate when (account_id, key) exists.
  virtual Status InsertIdempotency(const IdempotencyRecord& record) = 0;

  // store.duplicate when dedupe_key exists; store.not_found for an unknown certificate_id.
  virtual Result<int64_t> InsertOutboxMessage(const OutboxMessage& message) = 0;
  // Expiry reminders (messages with a certificate_id) the filter matches, in outbox id order.
  // State "queued": not sent and never tried; "retrying": not sent, tried at least once;
  // "sent": sent_at set. store.invalid_record for another state.
  virtual Result<std::vector<ReminderEntry>> ListReminders(const ReminderFilter& filter) = 0;
  // Unsent messages with next_attempt_at <= at, in id order, at most limit.
  virtual Result<std::vector<OutboxMessage>> ListDueOutboxMessages(UnixSeconds at,
                                                                   int64_t limit) = 0;
  virtual Status MarkOutboxSent(int64_t id, UnixSeconds at) = 0;
  // attempts += 1, last_error, next_attempt_at.
  virtual Status MarkOutboxFailed(int64_t id, std::string_view error,
                                  UnixSeconds next_attempt_at) = 0;

  // Valid (not revoked) certificates with from <= not_after < before and an organization_id,
  // counted per organization_id, in organization_id order.
  virtual Result<std::vector<ExpiryCount>> CountExpiringByOrganization(UnixSeconds from,
                                                                       UnixSeconds before) = 0;
  // The expiry report in one pass: for each body whose path starts with `path_prefix` (""
  // : every body) holding valid certificates with from <= not_after < before.back(), its name
  // and counts[i] of those with not_after < before[i]. `before` is ascending and not empty
  // (store.invalid_record otherwise). In organization_id order.
  virtual Result<std::vector<ExpiryCounts>> CountExpiringInSubtree(
      UnixSeconds from, const std::vector<UnixSeconds>& before, std::string_view path_prefix) = 0;

  // --- settings (small key/value facts: instance id, public base URL, ...) ---
  // Server-held signing keys: the body each belongs to and the accounts it authorized.
  // store.duplicate for a key id already recorded, store.not_found for an unknown body or
  // account (nothing written).
  virtual Status InsertSigningKeyAccess(const SigningKeyAccess& access) = 0;
  // nullopt: the key has no owner recorded (added before access control; nobody may use it).
  virtual Result<std::optional<SigningKeyAccess>> GetSigningKeyAccess(std::string_view key_id) = 0;
  // Every recorded key, or (with `account_id`) those that account is authorized for; by id.
  virtual Result<std::vector<SigningKeyAccess>> ListSigningKeyAccess(
      std::optional<int64_t> account_id) = 0;

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
