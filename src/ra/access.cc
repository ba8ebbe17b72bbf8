#include "ra/access.h"

#include <algorithm>

namespace kyso::ra {
namespace {

Status Denied(const Principal& p, std::string_view what) {
  return PermissionDenied(
      "access.denied", "role " + std::string(RoleName(p.role)) + " may not " + std::string(what));
}

Status OutOfScope(std::string_view what) {
  return PermissionDenied("access.out_of_scope", std::string(what) + " is outside your scope");
}

bool OfficerScopeCovers(const Principal& p, std::string_view path) {
  return !p.organization_path.empty() && InSubtree(path, p.organization_path);
}

bool DelegationCovers(const store::DelegationRecord& d, std::string_view path,
                      std::string_view kind) {
  if (d.withdrawn_at.has_value() || !InSubtree(path, d.scope_path)) return false;
  return kind.empty() || std::find(d.kinds.begin(), d.kinds.end(), kind) != d.kinds.end();
}

bool AnyDelegationCovers(const Principal& p, std::string_view path, std::string_view kind) {
  for (const auto& d : p.delegations) {
    if (DelegationCovers(d, path, kind)) return true;
  }
  return false;
}

}  // namespace

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kSubscriber:
      return "subscriber";
    case Role::kAgencyOfficer:
      return "agency_officer";
    case Role::kDelegateOfficer:
      return "delegate_officer";
    case Role::kCaOperator:
      return "ca_operator";
    case Role::kAuditor:
      return "auditor";
    case Role::kAdmin:
      return "admin";
  }
  return "?";
}

Result<Role> ParseRole(std::string_view name) {
  for (Role r : {Role::kSubscriber, Role::kAgencyOfficer, Role::kDelegateOfficer, Role::kCaOperator,
                 Role::kAuditor, Role::kAdmin}) {
    if (RoleName(r) == name) return r;
  }
  return InvalidArgument("ra.unknown_role",
                         "unknown role \"" + std::string(name) +
                             "\" (subscriber, agency_officer, delegate_officer, ca_operator, "
                             "auditor, admin)");
}

std::string Principal::Actor() const {
  return "account:" + std::to_string(account_id) + ":" + username;
}

Result<std::string> NormalizeUsername(std::string_view name) {
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower.size() < 3 || lower.size() > 64 ||
      lower.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789._-@") != std::string::npos) {
    return InvalidArgument("account.bad_username",
                           "3-64 characters of a-z, 0-9, '.', '_', '-', '@'");
  }
  return lower;
}

std::string NormalizeFingerprint(std::string_view hex) {
  std::string lower(hex);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return lower;
}

bool InSubtree(std::string_view path, std::string_view root_path) {
  return !root_path.empty() && path.substr(0, root_path.size()) == root_path;
}

bool SeesEverything(const Principal& p) {
  return p.role == Role::kCaOperator || p.role == Role::kAuditor || p.role == Role::kAdmin;
}

Status CanReadOrganization(const Principal& p, std::string_view org_path) {
  if (SeesEverything(p)) return Status::Ok();
  switch (p.role) {
    case Role::kAgencyOfficer:
      return OfficerScopeCovers(p, org_path) ? Status::Ok() : OutOfScope("this body");
    case Role::kDelegateOfficer:
      return OfficerScopeCovers(p, org_path) || AnyDelegationCovers(p, org_path, "")
                 ? Status::Ok()
                 : OutOfScope("this body");
    case Role::kSubscriber:
      return org_path == p.organization_path ? Status::Ok() : OutOfScope("this body");
    default:
      return Denied(p, "read bodies");
  }
}

Status CanCreateOrganization(const Principal& p, std::optional<std::string_view> parent_path) {
  if (p.role == Role::kAdmin || p.role == Role::kCaOperator) return Status::Ok();
  if (p.role != Role::kAgencyOfficer) return Denied(p, "create bodies");
  if (!parent_path) return Denied(p, "create a top-level body");
  return OfficerScopeCovers(p, *parent_path) ? Status::Ok() : OutOfScope("the parent body");
}

Status CanUpdateOrganization(const Principal& p, std::string_view org_path) {
  if (p.role == Role::kAdmin || p.role == Role::kCaOperator) return Status::Ok();
  if (p.role != Role::kAgencyOfficer) return Denied(p, "change bodies");
  return OfficerScopeCovers(p, org_path) ? Status::Ok() : OutOfScope("this body");
}

Status CanReadPerson(const Principal& p, const store::PersonRecord& person) {
  if (p.role == Role::kSubscriber) {
    return p.person_id == person.id ? Status::Ok() : OutOfScope("this person");
  }
  return CanReadOrganization(p, person.organization_path);
}

Status CanWritePerson(const Principal& p, std::string_view org_path) {
  if (p.role == Role::kAdmin) return Status::Ok();
  if (p.role != Role::kAgencyOfficer) return Denied(p, "change people");
  return OfficerScopeCovers(p, org_path) ? Status::Ok() : OutOfScope("this person's body");
}

Status CanReadRequest(const Principal& p, const store::RequestRecord& r) {
  if (SeesEverything(p)) return Status::Ok();
  switch (p.role) {
    case Role::kAgencyOfficer:
      return OfficerScopeCovers(p, r.organization_path) ? Status::Ok() : OutOfScope("this request");
    case Role::kDelegateOfficer:
      for (const auto& d : p.delegations) {
        if (r.delegation_id == d.id) return Status::Ok();
      }
      return OutOfScope("this request");
    case Role::kSubscriber:
      return (p.person_id && r.person_id == p.person_id) || r.created_by == p.account_id
                 ? Status::Ok()
                 : OutOfScope("this request");
    default:
      return Denied(p, "read requests");
  }
}

Status CanCreateRequest(const Principal& p, std::string_view kind, std::string_view org_path,
                        std::optional<int64_t> person_id) {
  switch (p.role) {
    case Role::kAgencyOfficer:
      return OfficerScopeCovers(p, org_path) ? Status::Ok() : OutOfScope("this body");
    case Role::kSubscriber:
      // A subscriber starts requests about their own certificates; the managing agency then
      // checks, signs and submits them (Nghị định 68 Điều 3: requests come from the agency).
      if (kind.substr(0, 4) == "new_") return Denied(p, "request new certificates");
      return p.person_id && person_id == p.person_id ? Status::Ok() : OutOfScope("this person");
    case Role::kCaOperator:
      // Revocation at the request of prosecution or security bodies reaches the CA directly.
      return kind == "revocation" ? Status::Ok() : Denied(p, "create this kind of request");
    default:
      return Denied(p, "create requests");
  }
}

Status CanActAsRequester(const Principal& p, const store::RequestRecord& r,
                         std::string_view action) {
  switch (p.role) {
    case Role::kAgencyOfficer:
      return OfficerScopeCovers(p, r.organization_path) ? Status::Ok() : OutOfScope("this request");
    case Role::kSubscriber:
      if (action == "submit") return Denied(p, "submit requests (the managing agency does)");
      if (r.created_by != p.account_id) return OutOfScope("this request");
      return r.state == "draft" ? Status::Ok() : Denied(p, "cancel a submitted request");
    case Role::kCaOperator:
      return r.created_by == p.account_id ? Status::Ok() : Denied(p, "act for the requester");
    default:
      return Denied(p, std::string(action) + " requests");
  }
}

Status CanHandle(const Principal& p, const store::RequestRecord& r,
                 const std::optional<store::DelegationRecord>& delegation) {
  if (p.role == Role::kCaOperator) return Status::Ok();
  if (p.role != Role::kDelegateOfficer) return Denied(p, "handle requests");
  if (!delegation || !r.delegation_id || delegation->id != *r.delegation_id) {
    return OutOfScope("this request (not delegated)");
  }
  if (!p.organization_id || delegation->delegate_organization_id != *p.organization_id) {
    return OutOfScope("this request (delegated to another body)");
  }
  if (!DelegationCovers(*delegation, r.organization_path, r.kind)) {
    return OutOfScope("this request (kind or body not in the delegation)");
  }
  return Status::Ok();
}

Status CanReadCertificate(const Principal& p, std::optional<int64_t> owner_person_id,
                          std::string_view org_path) {
  if (SeesEverything(p)) return Status::Ok();
  if (p.role == Role::kSubscriber) {
    return p.person_id && owner_person_id == p.person_id ? Status::Ok()
                                                         : OutOfScope("this certificate");
  }
  if (org_path.empty()) return OutOfScope("this certificate");
  return CanReadOrganization(p, org_path);
}

Status CanManageDelegations(const Principal& p) {
  return p.role == Role::kCaOperator ? Status::Ok() : Denied(p, "manage delegations");
}

Status CanReadDelegations(const Principal& p) {
  return SeesEverything(p) || p.role == Role::kDelegateOfficer ? Status::Ok()
                                                               : Denied(p, "read delegations");
}

Status CanReadAudit(const Principal& p) {
  return p.role == Role::kAuditor ? Status::Ok() : Denied(p, "read the audit log");
}

Status CanManageAccounts(const Principal& p) {
  return p.role == Role::kAdmin ? Status::Ok() : Denied(p, "manage accounts");
}

}  // namespace kyso::ra
