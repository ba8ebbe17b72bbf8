#include "cli/render.h"

#include "store/revocation_reason.h"

namespace kyso::cli {

std::string CertificateText(const store::CertificateRecord& c, const std::string& ca,
                            UnixSeconds now) {
  std::string out;
  auto line = [&](const char* k, const std::string& v) {
    if (!v.empty()) out += std::string(k) + v + "\n";
  };
  line("Serial:      ", c.serial_hex);
  line("Status:      ", StatusName(c, now));
  line("Subject:     ", c.subject);
  line("Issuer:      ", c.issuer + " (" + ca + ")");
  line("Profile:     ", c.profile + " (" + c.issuance_kind + ")");
  line("Valid from:  ", FormatUtc(c.not_before) + "  (" + FormatVietnam(c.not_before) + ")");
  line("Valid until: ", FormatUtc(c.not_after) + "  (" + FormatVietnam(c.not_after) + ")");
  for (const auto& uid : c.uids) line("Identifier:  ", uid);
  line("Email:       ", c.email);
  line("Key SHA-256: ", c.key_fingerprint);
  if (c.revocation) {
    line("Revoked:     ", FormatUtc(c.revocation->revoked_at) + " (" +
                              std::string(store::RevocationReasonName(c.revocation->reason)) + ")");
    if (c.revocation->invalidity_date)
      line("Invalid since: ", FormatUtc(*c.revocation->invalidity_date));
  }
  return out;
}

}  // namespace kyso::cli
