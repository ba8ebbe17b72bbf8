#include "ocsp/responder.h"

#include <algorithm>
#include <cstring>
#include <exception>

#include "ocsp/response_cache.h"
#include "x509/ocsp.h"

namespace kyso::ocsp {

using internal::CacheEntry;
using internal::CacheEntryPtr;
using internal::CacheKey;
using internal::MakeCacheKey;
using internal::ResponseCache;
using Outcome = OcspAnswer::Outcome;

namespace {

OcspAnswer ErrorAnswer(x509::OcspResponseStatus status, Outcome outcome) {
  OcspAnswer answer;
  answer.der = x509::EncodeOcspErrorResponse(status);
  answer.outcome = outcome;
  return answer;
}

OcspAnswer Malformed() {
  return ErrorAnswer(x509::OcspResponseStatus::kMalformedRequest, Outcome::kMalformed);
}
OcspAnswer Unauthorized() {
  return ErrorAnswer(x509::OcspResponseStatus::kUnauthorized, Outcome::kUnauthorized);
}
OcspAnswer InternalError() {
  return ErrorAnswer(x509::OcspResponseStatus::kInternalError, Outcome::kInternalError);
}

//= https://www.rfc-editor.org/rfc/rfc6960#section-2.3
//# tryLater: "Try again later"
// A busy store is exactly that; any other failure is ours.
OcspAnswer StoreFailure(const Status& status) {
  if (status.id() == "store.busy") {
    return ErrorAnswer(x509::OcspResponseStatus::kTryLater, Outcome::kTryLater);
  }
  return InternalError();
}

Outcome OutcomeOf(x509::OcspCertStatus status) {
  switch (status) {
    case x509::OcspCertStatus::kGood:
      return Outcome::kGood;
    case x509::OcspCertStatus::kRevoked:
      return Outcome::kRevoked;
    case x509::OcspCertStatus::kUnknown:
      return Outcome::kUnknown;
  }
  return Outcome::kUnknown;
}

store::CertificateStatus StoreStatusOf(x509::OcspCertStatus status) {
  return status == x509::OcspCertStatus::kRevoked ? store::CertificateStatus::kRevoked
                                                  : store::CertificateStatus::kValid;
}

bool SameBytes(ByteSpan a, ByteSpan b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size()) == 0;
}

// The status of `id`'s certificate as the store has it: no row (or a serial no certificate of
// ours can have) is "unknown" (RFC 6960 §2.2: "the responder doesn't know about the
// certificate being requested").
Result<CertState> LookupState(store::Transaction& tx, const ResponderIdentity& identity,
                              const x509::OcspCertId& id) {
  if (!SerialOctets(id.serial_hex)) return CertState{};
  auto status = tx.GetCertificateStatus(identity.ca_id, id.serial_hex);
  if (!status.ok()) {
    if (status.status().code() == StatusCode::kNotFound) return CertState{};
    return status.status();
  }
  return StateOf(status->status, status->revocation);
}

CacheEntryPtr MakeEntry(const CacheKey& key, ByteSpan body, size_t cert_id_offset,
                        size_t cert_id_size, const ResponderIdentity& identity,
                        const CertState& state, UnixSeconds produced_at, UnixSeconds this_update,
                        UnixSeconds next_update, bool canonical) {
  CacheEntryPtr entry = internal::NewCacheEntry(key, body);
  entry->identity = &identity;
  entry->produced_at = produced_at;
  entry->this_update = this_update;
  entry->next_update = next_update;
  entry->state = state;
  entry->cert_id_offset = static_cast<uint16_t>(cert_id_offset);
  entry->cert_id_size = static_cast<uint16_t>(cert_id_size);
  entry->canonical = canonical;
  return entry;
}

// A stored response may be served for `cert_id` when it is fresh, was signed by `identity`'s
// current key (its certs field is the identity's) and answers exactly that CertID.
std::optional<x509::OcspResponseParts> UsableStored(const store::OcspResponseRecord& record,
                                                    const ResponderIdentity& identity,
                                                    ByteSpan cert_id, UnixSeconds now,
                                                    int margin_seconds) {
  if (now >= record.next_update - margin_seconds) return std::nullopt;
  auto parts = x509::SplitOcspResponse(record.der);
  if (!parts.ok() || parts->response_count != 1) return std::nullopt;
  const ByteSpan der(record.der);
  if (!SameBytes(der.subspan(parts->certs_offset, parts->certs_size),
                 identity.signer->certs_field()) ||
      !SameBytes(der.subspan(parts->body_offset + parts->cert_id_offset, parts->cert_id_size),
                 cert_id)) {
    return std::nullopt;
  }
  return std::move(parts).value();
}

CacheEntryPtr EntryFromStored(const CacheKey& key, const store::OcspResponseRecord& record,
                              const x509::OcspResponseParts& parts,
                              const ResponderIdentity& identity) {
  return MakeEntry(key, ByteSpan(record.der).subspan(parts.body_offset, parts.body_size),
                   parts.cert_id_offset, parts.cert_id_size, identity,
                   StateOf(record.status, record.revocation), record.this_update,
                   record.this_update, record.next_update, /*canonical=*/true);
}

// The answer's facts from `entry`; the response itself when `assemble`.
void FillFromEntry(const CacheEntry& entry, OcspAnswer& answer, bool assemble = true) {
  if (assemble) {
    x509::AssembleOcspResponse(ByteSpan(entry.body(), entry.body_size),
                               entry.identity->signer->certs_field(), answer.der);
  }
  answer.outcome = OutcomeOf(entry.state.status);
  answer.from_cache = true;
  answer.cacheable = true;
  answer.produced_at = entry.produced_at;
  answer.this_update = entry.this_update;
  answer.next_update = entry.next_update;
}

}  // namespace

Status ValidateOptions(const ResponderOptions& options) {
  if (options.validity_seconds <= 0 || options.refresh_margin_seconds <= 0 ||
      options.refresh_margin_seconds >= options.validity_seconds ||
      options.background_refresh_seconds < options.refresh_margin_seconds) {
    return InvalidArgument("ocsp.bad_options",
                           "OCSP responder options need 0 < refresh margin < validity and "
                           "refresh margin <= background refresh window");
  }
  return Status::Ok();
}

const ResponderIdentity* Responder::IdentitySet::Find(int64_t ca_id) const {
  for (const auto& identity : identities) {
    if (identity->ca_id == ca_id) return identity.get();
  }
  return nullptr;
}

Responder::Responder(store::Database* db, crypto::KeyStore* keys, const Clock* clock,
                     ResponderOptions options)
    : db_(db),
      keys_(keys),
      clock_(clock),
      options_(options),
      cache_(std::make_unique<ResponseCache>(options.cache_max_bytes)) {}

Responder::~Responder() {
  (void)Flush();
}

Result<std::unique_ptr<Responder>> Responder::Create(store::Database* db, crypto::KeyStore* keys,
                                                     const Clock* clock, ResponderOptions options) {
  if (db == nullptr || keys == nullptr || clock == nullptr) {
    return InvalidArgument("ocsp.bad_options", "the responder needs a store, keys and a clock");
  }
  KYSO_RETURN_IF_ERROR(ValidateOptions(options));
  KYSO_ASSIGN_OR_RETURN(ResponderSettings settings, ReadResponderSettings(*db));
  KYSO_ASSIGN_OR_RETURN(auto identities, BuildResponderIdentities(settings, *keys, clock->Now()));
  std::unique_ptr<Responder> responder(new Responder(db, keys, clock, options));
  {
    // Revocations up to here are in the store already; Poll() reports those after.
    KYSO_ASSIGN_OR_RETURN(auto tx, db->Begin(store::TransactionMode::kRead));
    for (const auto& identity : identities) {
      KYSO_ASSIGN_OR_RETURN(responder->revocation_seq_[identity->ca_id],
                            tx->MaxRevocationSeq(identity->ca_id));
    }
  }
  responder->Install(std::move(identities));
  return responder;
}

void Responder::Install(std::vector<std::shared_ptr<const ResponderIdentity>> identities) {
  auto set = std::make_unique<IdentitySet>();
  set->identities = std::move(identities);
  std::lock_guard<std::mutex> lock(sets_mu_);
  current_.store(set.get(), std::memory_order_release);
  sets_.push_back(std::move(set));
}

OcspAnswer Responder::Respond(ByteSpan request_der) {
  try {
    return RespondOrThrow(request_der);
  } catch (...) {  // std::bad_alloc and the like never cross the boundary
    return InternalError();
  }
}

OcspAnswer Responder::RespondOrThrow(ByteSpan request_der) {
  auto parsed = x509::OcspRequest::Parse(request_der);
  if (!parsed.ok()) {
    // A CertID hashed with an algorithm we do not know names no issuer we can recognise.
    if (parsed.status().id() == "ocsp.unsupported_hash") return Unauthorized();
    return Malformed();
  }
  const x509::OcspRequest& request = *parsed;

  //= https://www.rfc-editor.org/rfc/rfc6960#section-2.3
  //# unauthorized: "The client is not authorized to make this query"
  //= https://www.rfc-editor.org/rfc/rfc5019#section-2.2.3
  //# ... the responder MUST respond with an "unauthorized" error if it is not authoritative
  //# for the requested certificate
  // One response has one signer: every CertID must name a CA the same responder answers for.
  const IdentitySet& set = current();
  const ResponderIdentity* identity = nullptr;
  for (const x509::OcspCertId& id : request.ids) {
    const ResponderIdentity* match = nullptr;
    for (const auto& candidate : set.identities) {
      if (candidate->Matches(id)) {
        match = candidate.get();
        break;
      }
    }
    if (match == nullptr || (identity != nullptr && match != identity)) return Unauthorized();
    identity = match;
  }
  const UnixSeconds now = clock_->Now();

  // --- one CertID, no nonce: the pre-signed path ---
  if (request.ids.size() == 1 && !request.nonce) {
    const x509::OcspCertId& id = request.ids.front();
    const std::optional<CacheKey> key = MakeCacheKey(identity->ca_id, id.hash, id.serial_hex);
    OcspAnswer answer;
    const UnixSeconds fresh_until = now + options_.refresh_margin_seconds;
    if (key && cache_->UseInline(*key, [&](const CacheEntry& entry) {
          if (fresh_until >= entry.next_update || !SameBytes(entry.cert_id(), id.der)) {
            return false;
          }
          FillFromEntry(entry, answer);
          return true;
        })) {
      hits_.fetch_add(1, std::memory_order_relaxed);
      return answer;
    }
    misses_.fetch_add(1, std::memory_order_relaxed);

    // Read the epoch before the status: an invalidation after this refuses our insert.
    const uint64_t epoch = cache_->epoch();
    CertState state;
    {
      auto tx = db_->Begin(store::TransactionMode::kRead);
      if (!tx.ok()) return StoreFailure(tx.status());
      bool have_state = false;
      if (key) {
        auto stored = (*tx)->GetOcspResponse(identity->ca_id, id.serial_hex);
        if (!stored.ok()) return StoreFailure(stored.status());
        if (stored->has_value()) {
          store::OcspResponseRecord& record = **stored;
          if (auto parts =
                  UsableStored(record, *identity, id.der, now, options_.refresh_margin_seconds)) {
            CacheEntryPtr entry = EntryFromStored(*key, record, *parts, *identity);
            FillFromEntry(*entry, answer, /*assemble=*/false);
            answer.der = std::move(record.der);
            cache_->Insert(std::move(entry), epoch);
            return answer;
          }
          // Stale or signed by another key, but its status is current: MarkRevoked deletes
          // the row in the revoking transaction.
          state = StateOf(record.status, record.revocation);
          have_state = true;
        }
      }
      if (!have_state) {
        auto looked_up = LookupState(**tx, *identity, id);
        if (!looked_up.ok()) return StoreFailure(looked_up.status());
        state = *looked_up;
      }
    }

    const x509::OcspSingleResponse single =
        MakeSingleResponse(id.der, state, now, options_.validity_seconds, *identity);
    if (single.next_update <= now) return InternalError();  // the responder has expired
    auto body = identity->signer->Sign(std::span<const x509::OcspSingleResponse>(&single, 1), now,
                                       std::nullopt);
    if (!body.ok()) return InternalError();
    signed_.fetch_add(1, std::memory_order_relaxed);
    x509::AssembleOcspResponse(body->body, identity->signer->certs_field(), answer.der);
    answer.outcome = OutcomeOf(state.status);
    answer.cacheable = true;
    answer.produced_at = now;
    answer.this_update = single.this_update;
    answer.next_update = single.next_update;
    // Unknown serials are not cached: anyone can ask about any number of them.
    if (key && state.status != x509::OcspCertStatus::kUnknown) {
      const Bytes serial(key->serial, key->serial + key->serial_size);
      const bool canonical = SameBytes(id.der, CanonicalCertId(*identity, serial));
      cache_->Insert(
          MakeEntry(*key, body->body, body->cert_id_offset, body->cert_id_size, *identity, state,
                    now, single.this_update, single.next_update, canonical),
          epoch);
      if (canonical) {
        QueueWrite(*identity, id.serial_hex, StoreStatusOf(state.status), single.this_update,
                   single.next_update, answer.der);
      }
    }
    return answer;
  }

  // --- a nonce, or several CertIDs: signed for this request only ---
  const size_t count = request.ids.size();
  std::vector<CertState> states(count);
  std::vector<bool> known(count, false);
  bool all_known = true;
  for (size_t i = 0; i < count; ++i) {
    const x509::OcspCertId& id = request.ids[i];
    const std::optional<CacheKey> key = MakeCacheKey(identity->ca_id, id.hash, id.serial_hex);
    if (key) {
      known[i] = cache_->UseInline(*key, [&](const CacheEntry& entry) {
        states[i] = entry.state;  // kept current by Invalidate, whatever the entry's age
        return true;
      });
    } else {
      known[i] = true;  // no certificate has this serial: unknown
    }
    all_known = all_known && known[i];
  }
  if (!all_known) {
    auto tx = db_->Begin(store::TransactionMode::kRead);
    if (!tx.ok()) return StoreFailure(tx.status());
    for (size_t i = 0; i < count; ++i) {
      if (known[i]) continue;
      auto looked_up = LookupState(**tx, *identity, request.ids[i]);
      if (!looked_up.ok()) return StoreFailure(looked_up.status());
      states[i] = *looked_up;
    }
  }
  std::vector<x509::OcspSingleResponse> singles;
  singles.reserve(count);
  Outcome outcome = Outcome::kGood;
  for (size_t i = 0; i < count; ++i) {
    singles.push_back(MakeSingleResponse(request.ids[i].der, states[i], now,
                                         options_.validity_seconds, *identity));
    if (states[i].status == x509::OcspCertStatus::kRevoked) {
      outcome = Outcome::kRevoked;
    } else if (states[i].status == x509::OcspCertStatus::kUnknown && outcome == Outcome::kGood) {
      outcome = Outcome::kUnknown;
    }
  }
  if (singles.front().next_update <= now) return InternalError();
  std::optional<ByteSpan> nonce;
  if (request.nonce) nonce = ByteSpan(*request.nonce);
  auto body = identity->signer->Sign(singles, now, nonce);
  if (!body.ok()) return InternalError();
  signed_.fetch_add(1, std::memory_order_relaxed);
  OcspAnswer answer;
  x509::AssembleOcspResponse(body->body, identity->signer->certs_field(), answer.der);
  answer.outcome = outcome;
  answer.cacheable = !request.nonce;
  answer.produced_at = now;
  answer.this_update = singles.front().this_update;
  answer.next_update = singles.front().next_update;
  return answer;
}

void Responder::Invalidate(int64_t ca_id, std::string_view serial_hex) {
  for (x509::OcspHash hash : x509::kOcspHashes) {
    if (auto key = MakeCacheKey(ca_id, hash, serial_hex)) cache_->Erase(*key);
  }
}

Status Responder::Poll() {
  std::lock_guard<std::mutex> lock(background_mu_);
  const IdentitySet& set = current();
  std::vector<std::pair<int64_t, std::string>> revoked;
  std::map<int64_t, int64_t> seen;
  ResponderSettings settings;
  {
    KYSO_ASSIGN_OR_RETURN(auto tx, db_->Begin(store::TransactionMode::kRead));
    for (const auto& identity : set.identities) {
      const int64_t known = revocation_seq_[identity->ca_id];
      KYSO_ASSIGN_OR_RETURN(int64_t latest, tx->MaxRevocationSeq(identity->ca_id));
      if (latest <= known) continue;
      KYSO_ASSIGN_OR_RETURN(auto entries, tx->ListRevoked(identity->ca_id, known));
      for (auto& entry : entries) revoked.emplace_back(identity->ca_id, entry.serial_hex);
      seen[identity->ca_id] = latest;
    }
    KYSO_ASSIGN_OR_RETURN(settings, ReadResponderKeySettings(*tx));
  }
  for (const auto& [ca_id, serial_hex] : revoked) Invalidate(ca_id, serial_hex);
  for (const auto& [ca_id, seq] : seen) revocation_seq_[ca_id] = seq;

  // Key rollover: the settings no longer name the key and certificate in use.
  const ResponderIdentity& primary = *set.identities.front();
  if (settings.key_ref == primary.key_ref && settings.certificate_pem == primary.certificate_pem) {
    return Status::Ok();
  }
  const std::string attempt =
      settings.key_ref.value_or("") + "\n" + settings.certificate_pem.value_or("");
  if (attempt == failed_rollover_) return Status::Ok();  // reported once already
  auto loaded = [&]() -> Result<std::vector<std::shared_ptr<const ResponderIdentity>>> {
    KYSO_ASSIGN_OR_RETURN(ResponderSettings full, ReadResponderSettings(*db_));
    KYSO_ASSIGN_OR_RETURN(auto identities, BuildResponderIdentities(full, *keys_, clock_->Now()));
    KYSO_ASSIGN_OR_RETURN(auto tx, db_->Begin(store::TransactionMode::kRead));
    for (const auto& identity : identities) {
      if (revocation_seq_.count(identity->ca_id) == 0) {
        KYSO_ASSIGN_OR_RETURN(revocation_seq_[identity->ca_id],
                              tx->MaxRevocationSeq(identity->ca_id));
      }
    }
    return identities;
  }();
  if (!loaded.ok()) {
    failed_rollover_ = attempt;
    return loaded.status().WithContext("OCSP responder rollover not applied");
  }
  failed_rollover_.clear();
  Install(std::move(loaded).value());
  return Status::Ok();
}

Status Responder::RefreshDue(size_t max_count) {
  std::lock_guard<std::mutex> lock(background_mu_);
  const IdentitySet& set = current();
  const UnixSeconds now = clock_->Now();
  auto retired = [&set](const ResponderIdentity* identity) {
    for (const auto& current : set.identities) {
      if (current.get() == identity) return false;
    }
    return true;
  };
  auto due = cache_->Collect(
      [&](const CacheEntry& entry) {
        return retired(entry.identity) ||
               entry.next_update - now < options_.background_refresh_seconds;
      },
      max_count > SIZE_MAX / 4 ? SIZE_MAX : max_count * 4);
  // Responses of a previous key first, then the soonest to expire.
  std::sort(due.begin(), due.end(), [&](const auto& a, const auto& b) {
    const bool a_retired = retired(a.identity), b_retired = retired(b.identity);
    if (a_retired != b_retired) return a_retired;
    return a.next_update < b.next_update;
  });
  if (due.size() > max_count) due.resize(max_count);
  Status status;
  for (const ResponseCache::Snapshot& snapshot : due) {
    const ResponderIdentity* identity = set.Find(snapshot.key.ca_id);
    if (identity == nullptr) continue;  // no responder answers for this CA any more
    const x509::OcspSingleResponse single = MakeSingleResponse(
        snapshot.cert_id, snapshot.state, now, options_.validity_seconds, *identity);
    if (single.next_update <= now) break;
    auto body = identity->signer->Sign(std::span<const x509::OcspSingleResponse>(&single, 1), now,
                                       std::nullopt);
    if (!body.ok()) {
      status = body.status();
      break;
    }
    signed_.fetch_add(1, std::memory_order_relaxed);
    CacheEntryPtr entry =
        MakeEntry(snapshot.key, body->body, body->cert_id_offset, body->cert_id_size, *identity,
                  snapshot.state, now, single.this_update, single.next_update, snapshot.canonical);
    if (!cache_->Replace(std::move(entry), snapshot.version) || !snapshot.canonical) continue;
    Bytes der;
    x509::AssembleOcspResponse(body->body, identity->signer->certs_field(), der);
    QueueWrite(*identity, HexEncode(ByteSpan(snapshot.key.serial, snapshot.key.serial_size)),
               StoreStatusOf(snapshot.state.status), single.this_update, single.next_update,
               std::move(der));
  }
  Status flushed = FlushLocked();
  return status.ok() ? flushed : status;
}

Result<size_t> Responder::WarmFromStore(size_t max_entries) {
  std::lock_guard<std::mutex> lock(background_mu_);
  const IdentitySet& set = current();
  const UnixSeconds now = clock_->Now();
  const size_t byte_limit = cache_->max_bytes() / 10 * 9;  // leave room for the misses to come
  constexpr int64_t kPage = 2000;
  size_t loaded = 0;
  for (const auto& identity : set.identities) {
    int64_t after = 0;
    while (loaded < max_entries && cache_->bytes() < byte_limit) {
      const uint64_t epoch = cache_->epoch();
      std::vector<store::OcspResponseRecord> page;
      {
        KYSO_ASSIGN_OR_RETURN(auto tx, db_->Begin(store::TransactionMode::kRead));
        KYSO_ASSIGN_OR_RETURN(page,
                              tx->ListOcspResponses(identity->ca_id, after,
                                                    now + options_.refresh_margin_seconds, kPage));
      }
      if (page.empty()) break;
      for (const store::OcspResponseRecord& record : page) {
        after = record.certificate_id;
        if (loaded >= max_entries || cache_->bytes() >= byte_limit) break;
        auto key = MakeCacheKey(identity->ca_id, x509::OcspHash::kSha1, record.serial_hex);
        auto serial = SerialOctets(record.serial_hex);
        if (!key || !serial) continue;
        auto parts = UsableStored(record, *identity, CanonicalCertId(*identity, *serial), now,
                                  options_.refresh_margin_seconds);
        if (!parts) continue;
        if (cache_->Insert(EntryFromStored(*key, record, *parts, *identity), epoch)) ++loaded;
      }
    }
  }
  return loaded;
}

void Responder::QueueWrite(const ResponderIdentity& identity, std::string serial_hex,
                           store::CertificateStatus status, UnixSeconds this_update,
                           UnixSeconds next_update, Bytes der) {
  std::lock_guard<std::mutex> lock(pending_mu_);
  if (pending_.size() >= options_.max_pending_writes) return;  // a cache: dropping is safe
  store::OcspResponseRecord record;
  record.ca_id = identity.ca_id;
  record.serial_hex = std::move(serial_hex);
  record.status = status;
  record.this_update = this_update;
  record.next_update = next_update;
  record.der = std::move(der);
  pending_.push_back(std::move(record));
}

Status Responder::Flush() {
  std::lock_guard<std::mutex> lock(background_mu_);
  return FlushLocked();
}

Status Responder::FlushLocked() {
  std::vector<store::OcspResponseRecord> batch;
  {
    std::lock_guard<std::mutex> lock(pending_mu_);
    batch.swap(pending_);
  }
  if (batch.empty()) return Status::Ok();
  // One transaction for the batch. PutOcspResponse refuses a "good" for a certificate revoked
  // since it was signed; a failed batch is dropped (the responses are still in memory, and a
  // miss re-signs).
  KYSO_ASSIGN_OR_RETURN(auto tx, db_->Begin(store::TransactionMode::kWrite));
  for (const store::OcspResponseRecord& record : batch) {
    auto stored = tx->PutOcspResponse(record);
    if (!stored.ok() && stored.status().code() != StatusCode::kNotFound) return stored.status();
  }
  return tx->Commit();
}

Responder::Stats Responder::stats() const {
  Stats stats;
  stats.cache_hits = hits_.load(std::memory_order_relaxed);
  stats.cache_misses = misses_.load(std::memory_order_relaxed);
  stats.signed_responses = signed_.load(std::memory_order_relaxed);
  stats.cached_entries = cache_->entries();
  stats.cached_bytes = cache_->bytes();
  return stats;
}

}  // namespace kyso::ocsp
