// Accounts made from the operator's console (`kyso account add`, and the demo administrator of
// `kyso init --demo`): the first administrator cannot be created over the API, which needs an
// administrator to call it. Written with an audit entry like every state change.
#pragma once

#include <optional>
#include <string>

#include "app/instance.h"
#include "store/registry.h"

namespace kyso::app {

struct NewAccount {
  std::string username;
  std::string role;  // ra::Role names
  std::string display_name;
  std::optional<int64_t> organization_id;
  std::optional<int64_t> person_id;
  std::string password;         // "" : no password login
  std::string certificate_pem;  // "" : no client-certificate login
};

// Errors: ra.unknown_role, auth.weak_password, x509 parse errors for the certificate,
// store.duplicate for a username or certificate already registered, store.not_found for an
// unknown body or person.
Result<store::AccountRecord> AddAccount(Instance& instance, const NewAccount& account,
                                        const std::string& actor);

// `kyso init --demo`: an "admin" account whose generated password is written to
// <data>/demo-admin-password (mode 0600). Returns the password.
Result<std::string> CreateDemoAdministrator(Instance& instance);

}  // namespace kyso::app
