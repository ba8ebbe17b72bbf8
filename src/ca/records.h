// Building the store's certificate row from an issued certificate (shared by issuance and
// hierarchy bootstrap so both index the same fields).
#pragma once

#include <string>
#include <string_view>

#include "policy/profile.h"
#include "store/records.h"
#include "x509/certificate.h"
#include "x509/csr.h"

namespace kyso::ca {

store::CertificateRecord RecordFromCertificate(const x509::Certificate& cert, int64_t issuer_ca_id,
                                               const std::string& profile, std::string_view kind,
                                               UnixSeconds issued_at);

// What a verified CSR asks for, in the terms of the issuance rules.
policy::RequestFacts RequestFactsFromCsr(const x509::Csr& csr);

}  // namespace kyso::ca
