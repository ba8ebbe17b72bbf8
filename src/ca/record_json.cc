#include "ca/record_json.h"

#include "store/revocation_reason.h"

namespace kyso::ca {

std::string StatusName(const store::CertificateRecord& cert, UnixSeconds now) {
  if (cert.status == store::CertificateStatus::kRevoked) return "revoked";
  if (cert.not_after < now) return "expired";
  if (cert.not_before > now) return "not_yet_valid";
  return "valid";
}

nlohmann::ordered_json CertificateJson(const store::CertificateRecord& c, const std::string& ca,
                                       UnixSeconds now) {
  nlohmann::ordered_json j = {{"serial", c.serial_hex},
                              {"ca", ca},
                              {"status", StatusName(c, now)},
                              {"subject", c.subject},
                              {"common_name", c.common_name},
                              {"uids", c.uids},
                              {"email", c.email},
                              {"issuer", c.issuer},
                              {"profile", c.profile},
                              {"issuance_kind", c.issuance_kind},
                              {"not_before", FormatUtc(c.not_before)},
                              {"not_after", FormatUtc(c.not_after)},
                              {"key_fingerprint_sha256", c.key_fingerprint}};
  if (c.revocation) {
    j["revocation"] = {{"time", FormatUtc(c.revocation->revoked_at)},
                       {"reason", store::RevocationReasonName(c.revocation->reason)}};
    if (c.revocation->invalidity_date) {
      j["revocation"]["invalidity_date"] = FormatUtc(*c.revocation->invalidity_date);
    }
  }
  if (c.replaces_id) j["replaces_id"] = *c.replaces_id;
  return j;
}

nlohmann::ordered_json CaJson(const store::CaRecord& ca) {
  return {{"name", ca.name},
          {"role", ca.role},
          {"subject", ca.subject},
          {"serial", ca.serial_hex},
          {"not_before", FormatUtc(ca.not_before)},
          {"not_after", FormatUtc(ca.not_after)},
          {"signature", ca.signature_scheme},
          {"key", ca.key_ref}};
}

nlohmann::ordered_json CrlJson(const store::CrlRecord& crl, const std::string& ca) {
  nlohmann::ordered_json j = {{"ca", ca},
                              {"number", crl.number},
                              {"delta", crl.base_number.has_value()},
                              {"this_update", FormatUtc(crl.this_update)},
                              {"next_update", FormatUtc(crl.next_update)},
                              {"entries", crl.entry_count},
                              {"size_bytes", crl.der.size()}};
  if (crl.base_number) j["base_number"] = *crl.base_number;
  return j;
}

}  // namespace kyso::ca
