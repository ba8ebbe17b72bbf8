// CrlPublisher: the CRLs `kyso serve` hands out at /crl/{ca}.crl and /crl/{ca}-delta.crl.
//
// The rule it keeps: a CRL past its nextUpdate is never served (RFC 5280 §5.1.2.5: relying
// parties treat it as stale). Current() re-issues, in the request that notices, when
//   - no CRL was issued yet for that CA and kind;
//   - less than `refresh_fraction` of the CRL's validity remains (so clients that cache until
//     nextUpdate always find a newer one waiting), or it has expired;
//   - delta only: a revocation was recorded after the delta was built, or a newer full CRL
//     became its base — so a revocation shows in the delta CRL at once;
//   - full only: revocations are pending and the CRL is older than `full_min_interval_seconds`.
// RefreshDue() does the same for every CA in the background, so requests rarely wait. When
// re-issuing fails (e.g. the CA key is offline) a still-valid CRL keeps being served; an
// expired one is refused with crl.unavailable (503), never served.
//
// Thread-safety: all methods may be called concurrently; re-issuing is single-flight per CA and
// kind (one request signs, the others wait for its result).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "base/clock.h"
#include "base/result.h"
#include "ca/authority.h"
#include "store/records.h"
#include "store/store.h"

namespace kyso::ca {

struct PublishedCrl {
  store::CrlRecord record;
  std::string etag;  // quoted, from the CRL number and kind: "\"issuing-full-12\""
};

struct CrlPublisherOptions {
  double refresh_fraction = 0.25;
  int64_t full_min_interval_seconds = 900;
};

class CrlPublisher {
 public:
  // Called after each CRL this publisher issues (e.g. to write it under crl/ as a file).
  using OnIssued = std::function<void(const std::string& ca, const store::CrlRecord&)>;

  CrlPublisher(CertificateAuthority* authority, store::Database* db, const Clock* clock,
               CrlPublisherOptions options, OnIssued on_issued = nullptr);

  // Errors: crl.unknown_ca (NotFound), crl.unavailable (Unavailable).
  Result<std::shared_ptr<const PublishedCrl>> Current(const std::string& ca, bool delta);
  // Re-issues whatever is due, for every CA; returns the first failure after trying all.
  Status RefreshDue();

 private:
  struct Slot {
    std::mutex mu;  // held while deciding and re-issuing: single flight
    std::shared_ptr<const PublishedCrl> current;
  };
  Slot& SlotFor(const std::string& ca, bool delta);
  // Whether `crl` of the CA with id `ca_id` must be replaced now.
  Result<bool> Due(int64_t ca_id, const store::CrlRecord& crl, bool delta);

  CertificateAuthority* authority_;
  store::Database* db_;
  const Clock* clock_;
  CrlPublisherOptions options_;
  OnIssued on_issued_;
  std::mutex slots_mu_;
  std::map<std::pair<std::string, bool>, std::unique_ptr<Slot>> slots_;
};

}  // namespace kyso::ca
