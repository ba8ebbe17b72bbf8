// JSON renderings of the CA's records, shared by the CLI's --json output and the REST API so
// both speak the same shape.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "store/records.h"

namespace kyso::ca {

// valid | revoked | expired | not_yet_valid at `now`.
std::string StatusName(const store::CertificateRecord& cert, UnixSeconds now);
nlohmann::ordered_json CertificateJson(const store::CertificateRecord& cert, const std::string& ca,
                                       UnixSeconds now);
nlohmann::ordered_json CaJson(const store::CaRecord& ca);
nlohmann::ordered_json CrlJson(const store::CrlRecord& crl, const std::string& ca);

}  // namespace kyso::ca
