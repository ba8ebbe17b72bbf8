// Text renderings of CA records for the CLI; the JSON ones are shared with the REST API
// (ca/record_json.h).
#pragma once

#include <string>

#include "ca/record_json.h"
#include "store/records.h"

namespace kyso::cli {

using ca::CaJson;
using ca::CertificateJson;
using ca::CrlJson;
using ca::StatusName;

std::string CertificateText(const store::CertificateRecord& cert, const std::string& ca,
                            UnixSeconds now);

}  // namespace kyso::cli
