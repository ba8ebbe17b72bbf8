// The schema step both back ends apply for server-held signing keys (SQLite migration 5,
// PostgreSQL migration 3). One text for both, so that the two cannot drift apart: it uses only
// types and constraints SQLite and PostgreSQL read alike (TEXT, BIGINT, composite keys).
#pragma once

namespace kyso::store {

// A server-held key (`kyso sign key add`) belongs to one body; only the accounts that body
// authorized (its clerk, văn thư) may sign with it over the API. The key stays in the key store
// and its certificates in settings ("signing_key.<id>"), as before this step; a key without a
// row here is usable by nobody over the API.
inline constexpr const char* kSigningKeysSchema = R"sql(
CREATE TABLE signing_keys (
  id              TEXT PRIMARY KEY,
  organization_id BIGINT NOT NULL REFERENCES organizations(id),
  created_by      TEXT NOT NULL,
  created_at      BIGINT NOT NULL
);
CREATE TABLE signing_key_accounts (
  key_id     TEXT NOT NULL REFERENCES signing_keys(id),
  account_id BIGINT NOT NULL REFERENCES accounts(id),
  PRIMARY KEY (key_id, account_id)
);
CREATE INDEX signing_key_accounts_account ON signing_key_accounts(account_id, key_id);
)sql";

}  // namespace kyso::store
