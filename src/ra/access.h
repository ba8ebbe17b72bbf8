// Who may do what, and where: roles and scopes of the registration workflow.
//
// Every decision is a pure function of the caller (Principal) and the object's place in the
// tree of bodies, so the HTTP handlers, the CLI and the tests ask the same questions. A role
// that may never do something is refused with access.denied; a role that may, but not for an
// object outside its scope (another body's subtree, a kind or subtree not delegated to it),
// with access.out_of_scope. Both are PermissionDenied (HTTP 403).
//
//   role              scope                         may
//   subscriber        their own person              see own requests and certificates; draft
//                                                   requests about own certificates; cancel own
//                                                   drafts
//   agency_officer    their body's subtree          bodies below theirs, people, requests
//                                                   (create, sign and submit, cancel), expiry
//   delegate_officer  active delegations of their   handle the delegated kinds for the
//                     body (subtree + kinds)        delegated subtrees
//   ca_operator       everything                    handle every request; delegations;
//                                                   revocation requests of other authorities
//   auditor           everything, read-only         read everything, and the audit log (only
//                                                   auditors read the audit log)
//   admin             everything                    accounts, bodies, people, CSV import;
//                                                   never handles requests (separation of
//                                                   duties)
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "store/registry.h"

namespace kyso::ra {

enum class Role { kSubscriber, kAgencyOfficer, kDelegateOfficer, kCaOperator, kAuditor, kAdmin };

std::string_view RoleName(Role role);
// ra.unknown_role (InvalidArgument).
Result<Role> ParseRole(std::string_view name);

struct Principal {
  int64_t account_id = 0;
  std::string username;
  Role role = Role::kSubscriber;
  std::optional<int64_t> organization_id;
  std::string organization_path;  // "" when the account has no body
  std::optional<int64_t> person_id;
  // delegate_officer: the active delegations whose delegate is the officer's body.
  std::vector<store::DelegationRecord> delegations;
  std::string auth_method;  // "password", "session", "token", "certificate"

  // The audit actor: "account:<id>:<username>".
  std::string Actor() const;
};

// `path` lies in the subtree rooted at `root_path` (both materialized paths "/1/5/").
bool InSubtree(std::string_view path, std::string_view root_path);

Status CanReadOrganization(const Principal& p, std::string_view org_path);
// Creating a body under `parent_path` (nullopt: a new root, a ministry or province).
Status CanCreateOrganization(const Principal& p, std::optional<std::string_view> parent_path);
Status CanUpdateOrganization(const Principal& p, std::string_view org_path);

Status CanReadPerson(const Principal& p, const store::PersonRecord& person);
Status CanWritePerson(const Principal& p, std::string_view org_path);

Status CanReadRequest(const Principal& p, const store::RequestRecord& request);
// `person` is the subscriber the request is about (for a subscriber's own drafts).
Status CanCreateRequest(const Principal& p, std::string_view kind, std::string_view org_path,
                        std::optional<int64_t> person_id);
// Requester-side transitions (submit, cancel) and edits of drafts.
Status CanActAsRequester(const Principal& p, const store::RequestRecord& request,
                         std::string_view action);
// Handler-side transitions (review, approve, reject, return, execute). `delegation` is the
// request's delegation when it has one (nullopt when withdrawn or none).
Status CanHandle(const Principal& p, const store::RequestRecord& request,
                 const std::optional<store::DelegationRecord>& delegation);

Status CanReadCertificate(const Principal& p, std::optional<int64_t> owner_person_id,
                          std::string_view org_path);
Status CanManageDelegations(const Principal& p);
Status CanReadDelegations(const Principal& p);
Status CanReadAudit(const Principal& p);
Status CanManageAccounts(const Principal& p);
// Lists of requests and certificates: subscribers, officers and delegates see only their
// scope, filled in by the caller from this.
bool SeesEverything(const Principal& p);

// Account names are stored and compared lower-case: 3-64 characters of a-z, 0-9, '.', '_',
// '-', '@'. account.bad_username (InvalidArgument) otherwise.
Result<std::string> NormalizeUsername(std::string_view name);
// Certificate fingerprints are lower-case hex, as the HTTP server reports client certificates.
std::string NormalizeFingerprint(std::string_view hex);

}  // namespace kyso::ra
