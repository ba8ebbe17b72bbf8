// Text and JSON renderings of CA records for the CLI.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "store/records.h"

namespace kyso::cli {

std::string StatusName(const store::CertificateRecord& cert,
                       UnixSeconds now);  // valid|revoked|expired
nlohmann::ordered_json CertificateJson(const store::CertificateRecord& cert, const std::string& ca,
                                       UnixSeconds now);
std::string CertificateText(const store::CertificateRecord& cert, const std::string& ca,
                            UnixSeconds now);
nlohmann::ordered_json CaJson(const store::CaRecord& ca);
nlohmann::ordered_json CrlJson(const store::CrlRecord& crl, const std::string& ca);

}  // namespace kyso::cli
