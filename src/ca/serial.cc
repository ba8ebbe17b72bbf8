#include "ca/serial.h"

namespace kyso::ca {

Bytes GenerateSerial(crypto::Rng& rng) {
  Bytes serial = rng.Generate(kSerialBytes);
  serial[0] &= 0x7F;                     // positive
  if (serial[0] == 0) serial[0] = 0x01;  // keep the minimal DER encoding 20 octets long
  return serial;
}

}  // namespace kyso::ca
