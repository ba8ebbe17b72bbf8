// The rows of the registration workflow (issue 6): the tree of state bodies, their people, the
// accounts that log in, delegations, requests with their history, access tokens, idempotency
// keys and the notification outbox. Plain values; the back ends map them to tables.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/clock.h"

namespace kyso::store {

// A state body: ministry/province (root), department, unit. `path` is the materialized path
// of ids from the root, "/1/5/9/", filled in by the store on insert; a subtree is every body
// whose path starts with its root's path, so scope checks and subtree lists are one indexed
// prefix match. Bodies are not re-parented (their people move instead).
struct OrganizationRecord {
  int64_t id = 0;
  std::optional<int64_t> parent_id;
  std::string path;  // set by the store
  std::string name;
  std::string tax_code;     // MST, 10 or 13 digits ("" when none)
  std::string budget_code;  // MNS, 7 digits ("" when none)
  std::string address;
  std::string email;  // official e-mail
  std::string province;
  bool managing_agency = false;  // a directly managing agency (cơ quan quản lý trực tiếp)
  UnixSeconds created_at = 0;
  UnixSeconds updated_at = 0;
  int64_t version = 1;  // optimistic concurrency: bumped by every update
};

struct OrganizationFilter {
  std::optional<std::string> path_prefix;  // subtree: path LIKE prefix || '%'
  std::optional<int64_t> parent_id;
  std::optional<std::string> name_contains;
  std::optional<std::string> tax_code;
  int64_t after_id = 0;  // keyset pagination: id > after_id, in id order
  int64_t limit = 100;
};

// A person holding (or about to hold) certificates.
struct PersonRecord {
  int64_t id = 0;
  int64_t organization_id = 0;
  std::string organization_path;  // on reads: the unit's path (scope checks without a join)
  std::string full_name;
  std::string personal_id;  // CCCD, 12 digits; unique among people
  std::string position;     // title
  std::string email;
  std::string mobile;
  std::string status = "active";  // "active" | "retired" | "left" | "deceased"
  UnixSeconds created_at = 0;
  UnixSeconds updated_at = 0;
  int64_t version = 1;
};

struct PersonFilter {
  std::optional<std::string> path_prefix;  // people of bodies in this subtree
  std::optional<int64_t> organization_id;
  std::optional<std::string> personal_id;
  std::optional<std::string> name_contains;
  std::optional<std::string> status;
  int64_t after_id = 0;
  int64_t limit = 100;
};

// Someone who logs in. `organization_id` is the scope of an officer (their body's subtree) or
// the body of a subscriber / delegate officer; empty for CA operators, auditors, admins.
struct AccountRecord {
  int64_t id = 0;
  std::string username;  // unique, lower-case
  std::string display_name;
  std::string role;  // "subscriber" | "agency_officer" | "delegate_officer" | "ca_operator" |
                     // "auditor" | "admin"
  std::optional<int64_t> organization_id;
  std::optional<int64_t> person_id;
  std::string password_hash;            // libsodium Argon2id string ("" : no password login)
  std::string certificate_fingerprint;  // SHA-256 of a client certificate ("" : none); unique
  bool disabled = false;
  UnixSeconds created_at = 0;
  int64_t version = 1;
};

// A bearer credential: an API token for an integrating system or a browser session. Only the
// SHA-256 of the secret is stored.
struct AccessTokenRecord {
  int64_t id = 0;          // set by the store on insert: names a token without its hash
  std::string token_hash;  // hex SHA-256 of the secret; unique
  int64_t account_id = 0;
  std::string kind;       // "api" | "session"
  std::string name;       // API token label
  std::string csrf_hash;  // sessions: hex SHA-256 of the CSRF token
  UnixSeconds created_at = 0;
  UnixSeconds expires_at = 0;
  bool revoked = false;
};

// The CA operator's delegation of request kinds for a subtree to a delegate body (a provincial
// office).
struct DelegationRecord {
  int64_t id = 0;
  int64_t delegate_organization_id = 0;  // who acts
  int64_t scope_organization_id = 0;     // for the requests of this subtree
  std::string scope_path;                // on reads: the scope body's path
  std::vector<std::string> kinds;        // request kinds delegated
  std::string created_by;
  UnixSeconds created_at = 0;
  std::optional<UnixSeconds> withdrawn_at;
  std::string withdrawn_by;
};

struct DelegationFilter {
  bool active_only = true;
  std::optional<int64_t> delegate_organization_id;
  int64_t limit = 1000;
};

// A registration request (Mẫu 01–09) and where it stands.
struct RequestRecord {
  int64_t id = 0;
  std::string kind;   // "new_individual", "renewal", "revocation", ... (ra/request_kinds.h)
  std::string state;  // "draft", "submitted", ... (ra/state_machine.h)
  int64_t organization_id = 0;            // the managing body the request concerns
  std::string organization_path;          // set by the store on insert and on reads
  std::optional<int64_t> person_id;       // the subscriber (individual kinds)
  std::optional<int64_t> certificate_id;  // the certificate acted on (renewal, revocation, ...)
  std::string form_json;                  // the form's fields, canonical JSON
  // Who handles it after submission: "ca" or "delegation:<id>".
  std::string assignee;
  std::optional<int64_t> delegation_id;
  Bytes signed_document;  // the canonical document the agency signed
  Bytes signature;        // detached CMS over signed_document
  std::string signer;     // subject of the signing certificate
  std::optional<UnixSeconds> submitted_at;
  std::optional<UnixSeconds> due_at;  // deadline in working days from submission
  std::optional<int64_t> result_certificate_id;
  std::string result_note;
  int64_t created_by = 0;       // account id
  std::string idempotency_key;  // "" when none; unique per created_by
  UnixSeconds created_at = 0;
  UnixSeconds updated_at = 0;
  int64_t version = 1;
};

struct RequestFilter {
  std::optional<std::string> path_prefix;  // requests of bodies in this subtree
  std::vector<std::string> path_prefixes;  // any of these subtrees (delegations); empty: no limit
  std::optional<int64_t> organization_id;
  std::optional<int64_t> person_id;
  std::optional<int64_t> created_by;
  std::vector<std::string> kinds;   // any of; empty: all
  std::vector<std::string> states;  // any of; empty: all
  std::optional<std::string> assignee;
  std::optional<UnixSeconds> due_before;  // due_at < value (overdue lists)
  int64_t after_id = 0;
  int64_t limit = 100;
  bool newest_first = false;  // id DESC with id < before_id when before_id > 0
  int64_t before_id = 0;
};

// A document attached to a request (a scan of an appointment decision, an ID card): PDF, PNG
// or JPEG, a few MiB at most (ra/registry.h decides the limits).
struct AttachmentRecord {
  int64_t id = 0;
  int64_t request_id = 0;
  std::string filename;      // as the requester named it (UTF-8, no path)
  std::string content_type;  // from the content's signature, not from the client
  int64_t size = 0;
  std::string sha256;      // hex
  Bytes data;              // empty in lists
  std::string created_by;  // "account:<id>:<username>"
  UnixSeconds created_at = 0;
};

// One transition of a request: who moved it, when and why.
struct RequestEventRecord {
  int64_t id = 0;
  int64_t request_id = 0;
  std::string from_state;
  std::string to_state;
  std::string actor;  // "account:<id>:<username>"
  UnixSeconds time = 0;
  std::string reason;
};

// A notification waiting to be sent (expiry reminders, overdue requests).
struct OutboxMessage {
  int64_t id = 0;
  std::string dedupe_key;  // unique: the same reminder is queued once
  std::string channel;     // "email"
  std::string recipient;
  std::string subject;
  std::string body;
  UnixSeconds created_at = 0;
  UnixSeconds next_attempt_at = 0;
  std::optional<UnixSeconds> sent_at;
  int64_t attempts = 0;
  std::string last_error;
  // Expiry reminders: the certificate and the window (days before not_after) they are about.
  std::optional<int64_t> certificate_id;
  std::optional<int64_t> reminder_days;
};

// Expiry reminders (outbox messages with a certificate) within a scope, for the portal's
// expiring-certificates view. The certificate's body decides the scope.
struct ReminderFilter {
  std::optional<std::string> path_prefix;  // certificates of bodies in this subtree
  std::optional<int64_t> owner_id;         // certificates of this person
  std::vector<int64_t> certificate_ids;    // any of; empty: all
  std::optional<int64_t> reminder_days;    // one window (30, 60, 90)
  std::optional<std::string> state;        // "queued" | "retrying" | "sent"
  std::optional<UnixSeconds> sent_from;    // sent_at >= value
  std::optional<UnixSeconds> sent_before;  // sent_at < value
  int64_t after_id = 0;                    // keyset pagination: outbox id > after_id
  int64_t limit = 100;
};

// One expiry reminder with the facts of its certificate a list shows.
struct ReminderEntry {
  OutboxMessage message;  // certificate_id and reminder_days are set
  std::string serial_hex;
  std::string common_name;
  UnixSeconds not_after = 0;
  std::optional<int64_t> organization_id;
};

// What a create call with an Idempotency-Key answered, replayed for a retry.
struct IdempotencyRecord {
  int64_t account_id = 0;
  std::string key;
  std::string fingerprint;  // hex SHA-256 of method, path and body
  int status = 0;           // HTTP status of the first answer
  std::string response;     // its body
  UnixSeconds created_at = 0;
};

// Valid certificates expiring in [from, before), per managing body.
struct ExpiryCount {
  int64_t organization_id = 0;
  int64_t count = 0;
};

// Valid certificates of one body expiring in several windows (the expiry report).
struct ExpiryCounts {
  int64_t organization_id = 0;
  std::string organization_name;
  std::vector<int64_t> counts;  // counts[i]: from <= not_after < before[i]
};

// A server-held signing key's owner and the accounts it authorized to sign with it.
struct SigningKeyAccess {
  std::string key_id;
  int64_t organization_id = 0;
  std::string organization_path;     // on reads: the body's path (scope checks without a join)
  std::vector<int64_t> account_ids;  // ascending
  std::string created_by;
  UnixSeconds created_at = 0;
};

}  // namespace kyso::store
