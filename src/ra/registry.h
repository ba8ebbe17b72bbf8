// Registry: the registration workflow as one service over the store, the CA and the audit log.
// Requests move subscriber → managing agency → CA operator (or its delegate) online: the agency
// drafts a request with the fields of its form (kinds.h), signs the canonical request document
// and submits it; the handler the request is routed to reviews, approves and executes it with
// the CA core. Every call takes the caller (Principal) and checks role and scope (access.h)
// before it reads or writes; every state change commits together with its audit entry and, for
// requests, an event row (who, when, why).
//
// Errors (besides the store's and the CA's): access.denied / access.out_of_scope (403),
// store.not_found (404: the row does not exist; a row outside the caller's scope is 403, not
// 404), store.conflict (409: the object changed since the caller read its version),
// ra.bad_transition,
// ra.unknown_action, ra.reason_required, ra.unsigned (a submission without a signature outside
// demo mode), ra.bad_signature (the CMS does not verify over the document, or its certificate
// path fails), ra.signer_not_authorized (a valid signature by someone who does not speak for
// the managing body), ra.certificate_mismatch (the request's certificate is not the
// subscriber's or the body's), idempotency.key_reused (422: same key, different body),
// form.* (kinds.h), import.* (CSV).
#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "audit/audit_log.h"
#include "base/clock.h"
#include "base/result.h"
#include "ca/authority.h"
#include "ra/access.h"
#include "ra/calendar.h"
#include "ra/kinds.h"
#include "store/store.h"

namespace kyso::ra {

// Checks the managing agency's detached CMS signature over the request document: integrity,
// the signer's path to our trust anchors and its revocation status now. Returns the signer's
// certificate identity. Injected so that tests and the server choose the trust anchors and how
// revocation is fetched (submission.h has the implementation over the verification engine).
class SubmissionVerifier {
 public:
  struct Signer {
    std::string subject;
    std::string serial_hex;
  };
  virtual ~SubmissionVerifier() = default;
  virtual Result<Signer> Verify(ByteSpan cms_der, ByteSpan document) = 0;
};

// An Idempotency-Key sent with a create call, and a fingerprint of what was asked.
struct IdempotencyKey {
  std::string key;
  std::string fingerprint;
};

template <typename T>
struct Created {
  T record;
  bool replayed = false;  // the key was seen: this is the object the first call created
};

struct NewRequest {
  std::string kind;
  int64_t organization_id = 0;
  std::optional<int64_t> person_id;
  std::optional<int64_t> certificate_id;
  nlohmann::json form = nlohmann::json::object();
};

struct RequestQuery {
  std::vector<std::string> states;
  std::vector<std::string> kinds;
  std::optional<int64_t> organization_id;  // this body's subtree
  std::optional<int64_t> person_id;
  bool overdue = false;         // due_at passed and not in a final state
  bool assigned_to_me = false;  // handlers: only what they may act on
  int64_t after_id = 0;
  int64_t limit = 50;
};

// Which expiry reminders to list (ListReminders): the store's filter, whose scope fields
// (path_prefix, owner_id) the registry sets from the caller, and a body to narrow to.
struct ReminderQuery {
  std::optional<int64_t> organization_id;  // this body's subtree (within the caller's scope)
  store::ReminderFilter filter;            // certificate_ids, reminder_days, state, sent_*, page
};

struct ImportRowError {
  int line = 0;  // 1-based line in the CSV, header = 1
  std::string id;
  std::string message;
};

struct ImportReport {
  bool dry_run = true;
  int rows = 0;
  int created = 0;  // 0 in a dry run (or when any row failed: the import is all or nothing)
  std::vector<ImportRowError> errors;
};

struct ExpiryBucket {
  int64_t organization_id = 0;
  std::string organization_name;
  int64_t within_30 = 0, within_60 = 0, within_90 = 0;
};

// The dashboard's figures for one caller, within what the caller may read.
struct Summary {
  std::vector<std::pair<std::string, int64_t>> requests_by_state;  // every state, table order
  int64_t overdue = 0;  // being handled, past the working-day deadline
  int64_t certificates_valid = 0, certificates_revoked = 0;
  int64_t expiring_30 = 0, expiring_60 = 0, expiring_90 = 0;  // valid now, not_after within
  struct Month {
    std::string month;  // "2026-12", Vietnam time (UTC+07:00)
    int64_t issued = 0, revoked = 0;
  };
  std::vector<Month> months;  // the last 12, oldest first
};

// A side effect of a person moving or leaving: requests opened for the agency to confirm.
struct PersonChange {
  store::PersonRecord person;
  std::vector<int64_t> opened_requests;
};

// Where outbox messages go (SMTP relay, a log file, a test double).
class NotificationSender {
 public:
  virtual ~NotificationSender() = default;
  virtual Status Send(const store::OutboxMessage& message) = 0;
};

struct RegistryOptions {
  WorkingCalendar calendar;
  // Accept unsigned submissions (demo data directories only): the request is marked as such.
  bool allow_unsigned_submissions = false;
  std::string issuing_ca;  // empty: the instance's only issuing CA
  // Reminder windows before expiry, in days (outbox).
  std::vector<int> reminder_days = {90, 60, 30};
};

class Registry {
 public:
  struct Dependencies {
    store::Database* db = nullptr;
    ca::CertificateAuthority* authority = nullptr;
    const audit::AuditLog* audit = nullptr;
    const Clock* clock = nullptr;
    SubmissionVerifier* verifier = nullptr;  // null: only unsigned (demo) submissions
    // Called after a revocation committed (the OCSP responder drops its cached answer).
    std::function<void(const store::CertificateRecord&)> on_revoked;
  };
  Registry(Dependencies deps, RegistryOptions options);

  const RegistryOptions& options() const { return options_; }

  // --- callers ---
  // The principal of an account: role, body path, delegations (delegate officers).
  // auth.account_disabled (Unauthenticated) for a disabled account.
  Result<Principal> PrincipalFor(int64_t account_id, std::string auth_method);
  // Admins create accounts; `password_hash` is already hashed by the caller (auth module).
  Result<store::AccountRecord> CreateAccount(const Principal& by, store::AccountRecord account);
  Result<std::vector<store::AccountRecord>> ListAccounts(const Principal& by, int64_t after_id,
                                                         int64_t limit);
  // The caller's own API tokens (revoked and expired ones included), in id order. Never their
  // secrets, which are not stored; callers do not show the hashes either.
  Result<std::vector<store::AccessTokenRecord>> ListOwnApiTokens(const Principal& by,
                                                                 int64_t after_id, int64_t limit);
  // Revokes one of the caller's own API tokens: it stops authenticating with the next request.
  // store.not_found for an unknown id and for another account's token or a session (whether it
  // exists is not revealed). Revoking a revoked token changes nothing and audits nothing.
  Result<store::AccessTokenRecord> RevokeOwnApiToken(const Principal& by, int64_t id);

  // --- bodies and people ---
  Result<Created<store::OrganizationRecord>> CreateOrganization(
      const Principal& by, store::OrganizationRecord org, const IdempotencyKey* key = nullptr);
  Result<store::OrganizationRecord> GetOrganization(const Principal& by, int64_t id);
  Result<store::OrganizationRecord> UpdateOrganization(const Principal& by,
                                                       const store::OrganizationRecord& org);
  Result<std::vector<store::OrganizationRecord>> ListOrganizations(
      const Principal& by, store::OrganizationFilter filter);

  Result<Created<store::PersonRecord>> CreatePerson(const Principal& by, store::PersonRecord person,
                                                    const IdempotencyKey* key = nullptr);
  Result<store::PersonRecord> GetPerson(const Principal& by, int64_t id);
  // Contact and title changes (not the body: MovePerson; not the status: SetPersonStatus).
  Result<store::PersonRecord> UpdatePerson(const Principal& by, const store::PersonRecord& person);
  Result<std::vector<store::PersonRecord>> ListPeople(const Principal& by,
                                                      store::PersonFilter filter);
  // A person moves to another body: their valid certificates follow them, and a draft
  // change-of-information request is opened for each, for the new managing agency to confirm.
  Result<PersonChange> MovePerson(const Principal& by, int64_t person_id, int64_t new_org_id,
                                  int64_t version, const std::string& reason);
  // A person retires, leaves or dies: a draft revocation request (affiliationChanged or
  // cessationOfOperation) is opened for each valid certificate.
  Result<PersonChange> SetPersonStatus(const Principal& by, int64_t person_id,
                                       const std::string& status, int64_t version,
                                       const std::string& reason);

  // CSV import (UTF-8, header row). Organizations: name,parent_tax_code,tax_code,budget_code,
  // address,email,province,managing_agency. People: full_name,personal_id,position,
  // organization_tax_code,email,mobile. Every row is checked first; a dry run or any error
  // writes nothing.
  Result<ImportReport> ImportOrganizations(const Principal& by, std::string_view csv, bool dry_run);
  Result<ImportReport> ImportPeople(const Principal& by, std::string_view csv, bool dry_run);

  // --- requests ---
  Result<Created<store::RequestRecord>> CreateRequest(const Principal& by, const NewRequest& req,
                                                      const IdempotencyKey* key = nullptr);
  Result<store::RequestRecord> GetRequest(const Principal& by, int64_t id);
  // Drafts and returned requests only.
  Result<store::RequestRecord> UpdateDraft(const Principal& by, int64_t id,
                                           const nlohmann::json& form, int64_t version);
  // The exact bytes the managing agency signs for request `id` at its current version:
  // canonical JSON (keys sorted, no insignificant whitespace, UTF-8; integers only), see
  // CanonicalDocument.
  Result<std::string> SigningDocument(const Principal& by, int64_t id);
  // Verifies `cms_der` (detached, over SigningDocument) and submits. An empty signature is an
  // unsigned submission (refused unless allow_unsigned_submissions).
  Result<store::RequestRecord> Submit(const Principal& by, int64_t id, ByteSpan cms_der,
                                      int64_t version);
  // review, approve, reject, return, cancel.
  Result<store::RequestRecord> Transition(const Principal& by, int64_t id,
                                          const std::string& action, const std::string& reason,
                                          int64_t version);
  // Carries out an approved request with the CA core and marks it executed.
  Result<store::RequestRecord> Execute(const Principal& by, int64_t id, int64_t version);
  Result<std::vector<store::RequestRecord>> ListRequests(const Principal& by,
                                                         const RequestQuery& query);
  Result<std::vector<store::RequestEventRecord>> History(const Principal& by, int64_t id);

  // Documents attached to a request ("kèm theo hồ sơ"): PDF, PNG or JPEG, recognized by their
  // content, at most kMaxAttachmentBytes each and kMaxAttachments per request. Added and
  // removed by the requester while the request is a draft or returned (as edits are), which
  // bumps the request's version so that a submission signed before the change is refused
  // (store.conflict); read by whoever may read the request. Errors: attachment.bad_type,
  // attachment.too_large, attachment.too_many, attachment.empty, ra.not_editable,
  // store.not_found (also for an attachment of another request).
  static constexpr int64_t kMaxAttachmentBytes = 5 << 20;
  static constexpr size_t kMaxAttachments = 5;
  Result<store::AttachmentRecord> AddAttachment(const Principal& by, int64_t request_id,
                                                std::string_view filename, ByteSpan data);
  Result<std::vector<store::AttachmentRecord>> ListAttachments(const Principal& by,
                                                               int64_t request_id);
  Result<store::AttachmentRecord> GetAttachment(const Principal& by, int64_t request_id,
                                                int64_t attachment_id);
  Status DeleteAttachment(const Principal& by, int64_t request_id, int64_t attachment_id);
  // Requests past their deadline and not final (metrics: kyso_requests_overdue).
  Result<int64_t> CountOverdue();

  // --- delegations ---
  Result<store::DelegationRecord> CreateDelegation(const Principal& by,
                                                   int64_t delegate_organization_id,
                                                   int64_t scope_organization_id,
                                                   std::vector<std::string> kinds);
  Result<store::DelegationRecord> WithdrawDelegation(const Principal& by, int64_t id);
  Result<std::vector<store::DelegationRecord>> ListDelegations(const Principal& by,
                                                               bool active_only);

  // --- certificates and expiry ---
  Result<store::CertificateRecord> GetCertificate(const Principal& by, int64_t id);
  // Officers without an organization filter see their body's subtree; `include_subtree` widens
  // an organization filter to the bodies under it.
  Result<std::vector<store::CertificateRecord>> ListCertificates(const Principal& by,
                                                                 store::CertificateFilter filter,
                                                                 bool include_subtree = false);
  // Valid certificates expiring within 30/60/90 days, per body (the caller's scope).
  Result<std::vector<ExpiryBucket>> ExpiryReport(const Principal& by);
  // Counts for the dashboard: requests by state and overdue (as ListRequests scopes them),
  // certificates valid, revoked and expiring (as ListCertificates scopes them), issued and
  // revoked per month.
  Result<Summary> Summarize(const Principal& by);
  // Queues one reminder per certificate and window (dedupe key) for certificates expiring within
  // the reminder windows; returns how many were queued. Idempotent.
  Result<int> QueueExpiryReminders();
  // The expiry reminders queued or sent about certificates the caller may see: everything for
  // the roles that see everything, the caller's subtree for officers and delegates, their own
  // certificates for subscribers. access.out_of_scope for an organization_id outside the scope.
  Result<std::vector<store::ReminderEntry>> ListReminders(const Principal& by,
                                                          const ReminderQuery& query);
  // Sends due outbox messages; failures are retried later with backoff. Returns how many sent.
  Result<int> DeliverOutbox(NotificationSender& sender, int limit = 100);

  // The canonical document for `request` (see SigningDocument). With attachments, it lists each
  // one's id, file name, type, size and SHA-256, so that the agency's signature covers the
  // attached documents too; without, it is what it was before attachments existed.
  static std::string CanonicalDocument(
      const store::RequestRecord& request,
      const std::vector<store::AttachmentRecord>& attachments = {});

 private:
  template <typename F>
  auto WithWrite(F&& body) -> decltype(body(std::declval<store::Transaction&>()));
  template <typename F>
  auto WithRead(F&& body) -> decltype(body(std::declval<store::Transaction&>()));

  // The request (readable by `by`) and its canonical document, read in one transaction.
  struct SignedView {
    store::RequestRecord request;
    std::string document;
  };
  Result<SignedView> LoadForSigning(const Principal& by, int64_t id);
  Result<store::RequestRecord> LoadRequestForUpdate(store::Transaction& tx, int64_t id,
                                                    int64_t version);
  Status RecordTransition(store::Transaction& tx, const Principal& by,
                          store::RequestRecord& request, std::string_view to,
                          const std::string& reason, const std::string& action,
                          const std::string& details_json);
  // Where a submitted request of `kind` about a body at `org_path` goes: "ca" or a delegation.
  Result<std::optional<store::DelegationRecord>> RouteFor(store::Transaction& tx,
                                                          const RequestKind& kind,
                                                          std::string_view org_path);
  Result<store::RequestRecord> OpenDraft(store::Transaction& tx, const Principal& by,
                                         const NewRequest& req, const std::string& why);
  Result<std::optional<Created<int64_t>>> ReplayIdempotent(store::Transaction& tx,
                                                           const Principal& by,
                                                           const IdempotencyKey* key);
  Status RememberIdempotent(store::Transaction& tx, const Principal& by, const IdempotencyKey* key,
                            int64_t id);
  Result<store::RequestRecord> CarryOut(const Principal& by, const store::RequestRecord& request,
                                        const RequestKind& kind);

  Dependencies deps_;
  RegistryOptions options_;
};

}  // namespace kyso::ra
