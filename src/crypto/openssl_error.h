// Internal to crypto/ and x509/: turning OpenSSL's thread-local error queue into a message.
#pragma once

#include <string>

namespace kyso::crypto {

// Drains the OpenSSL error queue into one line ("... : reason"); "" if empty.
std::string DrainOpenSslErrors();

}  // namespace kyso::crypto
