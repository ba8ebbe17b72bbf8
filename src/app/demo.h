// The demo directory of `kyso init --demo`: a province (UBND tỉnh Bắc Giang) with its
// departments and units, about 200 staff, certificates in every state, requests in every state
// (some overdue), a delegation to the provincial office, one account per role and a
// server-held agency key for the clerk — so that a newcomer can log into the portal and find
// something in every page.
//
// Everything goes through the real services: ra::Registry (bodies, people, accounts,
// delegations, requests and their transitions, each with its audit entry and request event),
// ca::CertificateAuthority (certificates issued from PKCS#10 requests made in-process on P-256
// keys, revocations) and SigningKeys. Nothing is inserted into the store directly.
//
// Names, positions, identity numbers and which request ends in which state come from a seeded
// generator, so two runs give the same directory (serials, keys and passwords differ). Two
// things need time to have passed, and are made honestly:
//   - "expiring within 30 days": certificates issued today with a short validity (5-28 days);
//     the CA signs notBefore = now, as it does for every certificate;
//   - "overdue": requests drafted and submitted through a Registry whose injected clock reads
//     12 days ago, so their submission time and working-day deadline lie in the past; their
//     audit entries carry the real time of writing (the audit log never goes back in time).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "app/instance.h"

namespace kyso::app {

struct DemoAccount {
  std::string role;  // "subscriber", "agency_officer", "clerk", ... (the accounts file's column)
  std::string username;
  std::string password;  // never logged or printed; written to demo-accounts.txt only
  std::string display_name;
};

struct DemoDirectory {
  std::vector<DemoAccount> accounts;  // admin first
  std::string accounts_file;          // <data>/demo-accounts.txt (mode 0600)
  std::string signing_key;            // the clerk's server-held agency key
  int64_t organizations = 0;
  int64_t people = 0;
  // "valid", "expiring_30d" (valid, notAfter within 30 days), "revoked".
  std::map<std::string, int64_t> certificates;
  // Per request state, and "overdue" (past the deadline, not final).
  std::map<std::string, int64_t> requests;
};

inline constexpr uint64_t kDemoSeed = 20200805;  // Bắc Giang QĐ 37/2020, the seed's regulation

// Fills the directory of a freshly initialized demo instance whose administrator ("admin",
// CreateDemoAdministrator) exists, and writes <data>/demo-accounts.txt with the other accounts'
// passwords. Fails with FailedPrecondition demo.not_empty when the instance already has bodies.
Result<DemoDirectory> CreateDemoDirectory(Instance& instance, const std::string& admin_password,
                                          uint64_t seed = kDemoSeed);

}  // namespace kyso::app
