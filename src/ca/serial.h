// Certificate serial numbers: 20 random bytes, positive.
//
// RFC 5280 §4.1.2.2: serials are positive, at most 20 octets, unique per CA. CA/Browser Forum
// BR §7.1 asks for at least 64 bits of CSPRNG output; we use 159 (top bit cleared so the
// INTEGER is positive and stays exactly 20 octets). Uniqueness per CA is enforced by the store.
#pragma once

#include "base/bytes.h"
#include "crypto/random.h"

namespace kyso::ca {

inline constexpr size_t kSerialBytes = 20;
Bytes GenerateSerial(crypto::Rng& rng);

}  // namespace kyso::ca
