// Names of the RFC 5280 §5.3.1 CRLReason codes, for the CLI, JSON output and the store.
//
// Pure functions over constants; safe from any thread.
#pragma once

#include <string_view>

#include "base/result.h"
#include "store/records.h"

namespace kyso::store {

// The ASN.1 identifier of `reason` as RFC 5280 §5.3.1 spells it: "unspecified",
// "keyCompromise", "cACompromise", "affiliationChanged", "superseded", "cessationOfOperation",
// "certificateHold", "removeFromCRL", "privilegeWithdrawn", "aACompromise".
std::string_view RevocationReasonName(RevocationReason reason);

// Accepts the RFC 5280 names case-insensitively, also with '-', '_' or ' ' between words
// ("keyCompromise", "keycompromise", "key-compromise"). InvalidArgument
// "revocation.unknown_reason" otherwise; the message lists the accepted names.
[[nodiscard]] Result<RevocationReason> ParseRevocationReason(std::string_view text);

// Maps a CRLReason code (0..10) to the enum. InvalidArgument "revocation.unknown_reason" for
// 7, which RFC 5280 leaves unused, and for values outside the enumeration.
[[nodiscard]] Result<RevocationReason> RevocationReasonFromCode(int code);

}  // namespace kyso::store
