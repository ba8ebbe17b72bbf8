#include "ca/crl_publisher.h"

namespace kyso::ca {
namespace {

std::shared_ptr<const PublishedCrl> Publish(const std::string& ca, store::CrlRecord record) {
  auto published = std::make_shared<PublishedCrl>();
  published->etag = "\"" + ca + (record.base_number ? "-delta-" : "-full-") +
                    std::to_string(record.number) + "\"";
  published->record = std::move(record);
  return published;
}

}  // namespace

CrlPublisher::CrlPublisher(CertificateAuthority* authority, store::Database* db, const Clock* clock,
                           CrlPublisherOptions options, OnIssued on_issued)
    : authority_(authority),
      db_(db),
      clock_(clock),
      options_(options),
      on_issued_(std::move(on_issued)) {}

CrlPublisher::Slot& CrlPublisher::SlotFor(const std::string& ca, bool delta) {
  std::lock_guard<std::mutex> lock(slots_mu_);
  auto& slot = slots_[{ca, delta}];
  if (!slot) slot = std::make_unique<Slot>();
  return *slot;
}

Result<bool> CrlPublisher::Due(int64_t ca_id, const store::CrlRecord& crl, bool delta) {
  const UnixSeconds now = clock_->Now();
  const UnixSeconds validity = crl.next_update - crl.this_update;
  if (now >= crl.next_update ||
      crl.next_update - now < static_cast<UnixSeconds>(validity * options_.refresh_fraction)) {
    return true;
  }
  KYSO_ASSIGN_OR_RETURN(auto tx, db_->Begin(store::TransactionMode::kRead));
  KYSO_ASSIGN_OR_RETURN(int64_t max_seq, tx->MaxRevocationSeq(ca_id));
  if (delta) {
    if (max_seq > crl.max_revocation_seq) return true;
    KYSO_ASSIGN_OR_RETURN(auto full, tx->LatestCrl(ca_id, false));
    return full && crl.base_number != full->number;
  }
  return max_seq > crl.max_revocation_seq &&
         now - crl.this_update >= options_.full_min_interval_seconds;
}

Result<std::shared_ptr<const PublishedCrl>> CrlPublisher::Current(const std::string& ca_name,
                                                                  bool delta) {
  int64_t ca_id = 0;
  {
    KYSO_ASSIGN_OR_RETURN(auto tx, db_->Begin(store::TransactionMode::kRead));
    auto ca = tx->GetCaByName(ca_name);
    if (!ca.ok()) {
      if (ca.status().code() == StatusCode::kNotFound) {
        return NotFound("crl.unknown_ca", "no CA named '" + ca_name + "'");
      }
      return ca.status();
    }
    ca_id = ca->id;
  }
  Slot& slot = SlotFor(ca_name, delta);
  std::lock_guard<std::mutex> lock(slot.mu);
  if (!slot.current) {
    KYSO_ASSIGN_OR_RETURN(auto tx, db_->Begin(store::TransactionMode::kRead));
    KYSO_ASSIGN_OR_RETURN(auto latest, tx->LatestCrl(ca_id, delta));
    if (latest) slot.current = Publish(ca_name, std::move(*latest));
  }
  bool due = true;
  if (slot.current) {
    auto d = Due(ca_id, slot.current->record, delta);
    // A store hiccup while checking: keep serving what is still valid.
    due = d.ok() ? *d : clock_->Now() >= slot.current->record.next_update;
  }
  if (due) {
    if (delta) {
      // A delta is built against the latest full CRL: make sure that one is current first.
      // (Different slot, so no lock-order issue: full never waits on delta.)
      auto full = Current(ca_name, false);
      if (!full.ok() && !slot.current) return full.status();
    }
    auto issued = authority_->GenerateCrl(ca_name, delta);
    if (issued.ok()) {
      if (on_issued_) on_issued_(ca_name, *issued);
      slot.current = Publish(ca_name, std::move(*issued));
    } else if (!slot.current || clock_->Now() >= slot.current->record.next_update) {
      return Unavailable("crl.unavailable",
                         "no current " + std::string(delta ? "delta " : "") + "CRL for '" +
                             ca_name + "' and re-issuing failed: " + issued.status().message());
    }
  }
  return slot.current;
}

Status CrlPublisher::RefreshDue() {
  std::vector<std::string> names;
  {
    KYSO_ASSIGN_OR_RETURN(auto tx, db_->Begin(store::TransactionMode::kRead));
    KYSO_ASSIGN_OR_RETURN(auto cas, tx->ListCas());
    for (const auto& ca : cas) names.push_back(ca.name);
  }
  Status first;
  for (const auto& name : names) {
    for (bool delta : {false, true}) {
      auto crl = Current(name, delta);
      if (!crl.ok() && first.ok()) first = crl.status();
    }
  }
  return first;
}

}  // namespace kyso::ca
