// Responder: answers OCSP requests (RFC 6960) for the CAs of this instance, the way the
// lightweight profile (RFC 5019) expects a high-volume responder to: nonce-less requests from
// pre-signed responses, signing only when nothing fresh is at hand.
//
// How a request is answered (Respond):
//   1. Parse (x509::OcspRequest). Malformed -> malformedRequest; a CertID hashed with an
//      unknown algorithm -> unauthorized.
//   2. Find the identity (ocsp/identity.h) whose CA every CertID names. None, or CertIDs of
//      CAs answered by different responders -> unauthorized (RFC 6960 §2.3). The offline root
//      has no delegated responder, so requests about the issuing CA's own certificate are
//      unauthorized too.
//   3. One CertID, no nonce: the in-memory cache (ocsp/response_cache.h) is consulted under a
//      shard's shared lock; a fresh entry is copied out and the request is done. This path
//      does no database access, writes no shared state but a CLOCK flag and a counter, and
//      allocates only the output besides the parse (d2i_OCSP_REQUEST, the parsed CertID).
//      Measured in a release build here: ~3.5 us of CPU per response over 100,000 distinct
//      cached serials, ~1.2 us of it the parse. A response is fresh while
//      now < nextUpdate - refresh_margin_seconds, and never served past its nextUpdate.
//   4. On a miss, the persistent pre-signed response (store::OcspResponseRecord, written by
//      Presign or by an earlier miss) is used when fresh, signed by the current responder and
//      for the same CertID; else the certificate's status is read (store::GetCertificateStatus;
//      no row -> unknown, RFC 6960 §2.2) and a response signed. The result enters the cache and,
//      for the canonical SHA-1 CertID, a write-behind queue that RefreshDue/Flush commit to the
//      store (never from an I/O thread).
//   5. With a nonce, or several CertIDs: always signed afresh (the nonce echoed, RFC 8954), with
//      each status taken from the cache when an entry exists, else from the store; nothing is
//      cached.
// Store busy -> tryLater; any other failure -> internalError. Respond never throws.
//
// Revocations: Invalidate() drops a certificate's cached responses at once (the CA calls it in
// process); Poll() finds revocations committed by any process (store revocation_seq per CA) and
// does the same. The store deletes a certificate's pre-signed response in the revoking
// transaction and refuses to store a "good" response after it, and the cache refuses an insert
// that raced with an invalidation, so a stale "good" is served at most until the next Poll.
//
// Key rollover (ocsp/rollover.h): Poll() notices the changed settings, loads the new key and
// swaps the responder atomically; requests in flight finish with the identity they started
// with. Responses signed by the previous key stay in the cache and are served until re-signed:
// they remain valid (the old responder certificate has not expired, and nextUpdate never passes
// its notAfter), and RefreshDue re-signs them first, so they are gone within a few calls.
// Responses in the store signed by another key are not served; they are re-signed on demand.
//
// Thread-safety: Respond, Invalidate and stats may be called from any number of threads;
// Poll, RefreshDue, WarmFromStore and Flush from one background thread at a time (each takes
// an internal mutex, so concurrent calls are serialized rather than unsafe).
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/clock.h"
#include "base/result.h"
#include "crypto/key_store.h"
#include "ocsp/identity.h"
#include "store/store.h"

namespace kyso::ocsp {

namespace internal {
class ResponseCache;
struct CacheKey;
}  // namespace internal

struct ResponderOptions {
  int validity_seconds = 4 * 3600;    // nextUpdate - thisUpdate
  int refresh_margin_seconds = 3600;  // a cached response is re-signed when nextUpdate - now
                                      // < margin, synchronously if a request meets it
  // RefreshDue re-signs cached responses whose nextUpdate - now < this, ahead of the margin,
  // so requests rarely meet a response too old to serve. At least refresh_margin_seconds.
  int background_refresh_seconds = 2 * 3600;
  size_t cache_max_bytes = 64u << 20;  // in-memory cache bound (CLOCK eviction)
  size_t max_pending_writes = 100000;  // write-behind queue bound; beyond it writes are dropped
};
// InvalidArgument "ocsp.bad_options" unless 0 < margin < validity and margin <= background.
Status ValidateOptions(const ResponderOptions& options);

struct OcspAnswer {
  Bytes der;  // the whole OCSPResponse, always set (errors too)
  enum class Outcome {
    kGood,
    kRevoked,
    kUnknown,
    kMalformed,
    kUnauthorized,
    kInternalError,
    kTryLater
  } outcome = Outcome::kInternalError;
  bool from_cache = false;  // a pre-signed response was served (memory or store)
  bool cacheable = false;   // successful, no nonce: HTTP GET may set Cache-Control/ETag/...
  UnixSeconds produced_at = 0, this_update = 0, next_update = 0;
};

class Responder {
 public:
  // Loads the signing identities (ocsp/identity.h; ocsp.no_responder etc. when none can be
  // built) and the CAs' revocation sequence numbers, from which Poll() continues.
  static Result<std::unique_ptr<Responder>> Create(store::Database* db, crypto::KeyStore* keys,
                                                   const Clock* clock, ResponderOptions options);
  ~Responder();
  Responder(const Responder&) = delete;
  Responder& operator=(const Responder&) = delete;

  // Thread-safe. For a successful answer with several CertIDs the outcome is kRevoked if any is
  // revoked, else kUnknown if any is unknown, else kGood.
  OcspAnswer Respond(ByteSpan request_der);

  // Drops the cached responses about one certificate (every CertID hash). Thread-safe.
  void Invalidate(int64_t ca_id, std::string_view serial_hex);

  // Cheap (two small reads per CA); call every few milliseconds from one background thread.
  // Invalidates certificates revoked since the last call by any process, and swaps in a rolled
  // over responder. A rollover that cannot be loaded leaves the current responder serving and
  // returns the error.
  Status Poll();

  // Re-signs up to `max_count` cached responses that are due (see background_refresh_seconds)
  // or were signed by a previous responder key, then commits the write-behind queue.
  Status RefreshDue(size_t max_count);

  // Loads fresh pre-signed responses of the current responder from the store into memory, at
  // most `max_entries` and never beyond the cache's byte bound. Returns how many were loaded.
  Result<size_t> WarmFromStore(size_t max_entries = SIZE_MAX);

  // Commits the write-behind queue to the store (RefreshDue does it too).
  Status Flush();

  struct Stats {
    uint64_t cache_hits = 0;        // nonce-less single requests answered from memory
    uint64_t cache_misses = 0;      // ... not from memory (from the store, or signed)
    uint64_t signed_responses = 0;  // signatures made (requests, RefreshDue)
    uint64_t cached_entries = 0;
    uint64_t cached_bytes = 0;  // charged against cache_max_bytes
  };
  Stats stats() const;

 private:
  struct IdentitySet {
    std::vector<std::shared_ptr<const ResponderIdentity>> identities;
    const ResponderIdentity* Find(int64_t ca_id) const;
  };
  Responder(store::Database* db, crypto::KeyStore* keys, const Clock* clock,
            ResponderOptions options);
  OcspAnswer RespondOrThrow(ByteSpan request_der);
  void Install(std::vector<std::shared_ptr<const ResponderIdentity>> identities);
  const IdentitySet& current() const { return *current_.load(std::memory_order_acquire); }
  void QueueWrite(const ResponderIdentity& identity, std::string serial_hex,
                  store::CertificateStatus status, UnixSeconds this_update, UnixSeconds next_update,
                  Bytes der);
  Status FlushLocked();

  store::Database* const db_;
  crypto::KeyStore* const keys_;
  const Clock* const clock_;
  const ResponderOptions options_;
  std::unique_ptr<internal::ResponseCache> cache_;

  // The identities in use, swapped whole on rollover. Every set ever installed is kept (a
  // rollover is rare), so cache entries and requests in flight may point into an old one.
  std::atomic<const IdentitySet*> current_{nullptr};
  std::mutex sets_mu_;
  std::vector<std::unique_ptr<const IdentitySet>> sets_;  // guarded by sets_mu_

  std::mutex background_mu_;                   // serializes Poll, RefreshDue, Warm, Flush
  std::map<int64_t, int64_t> revocation_seq_;  // per CA, guarded by background_mu_
  std::string failed_rollover_;  // settings that did not load; not retried until they change

  std::mutex pending_mu_;
  std::vector<store::OcspResponseRecord> pending_;  // guarded by pending_mu_

  std::atomic<uint64_t> hits_{0}, misses_{0}, signed_{0};
};

}  // namespace kyso::ocsp
