// Internal to x509/: conversions between kyso values and OpenSSL structures.
#pragma once

#include <openssl/asn1.h>
#include <openssl/x509.h>

#include <memory>

#include "base/bytes.h"
#include "base/clock.h"
#include "base/result.h"
#include "x509/name.h"

namespace kyso::x509::internal {

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using X509NamePtr = std::unique_ptr<X509_NAME, Deleter<X509_NAME, X509_NAME_free>>;
using Asn1TimePtr = std::unique_ptr<ASN1_TIME, Deleter<ASN1_TIME, ASN1_TIME_free>>;
using Asn1IntegerPtr = std::unique_ptr<ASN1_INTEGER, Deleter<ASN1_INTEGER, ASN1_INTEGER_free>>;

// Attribute types as OpenSSL short names; values as UTF-8. Fails on multi-valued RDNs when
// `allow_multivalued` is false (error id name.multivalued_rdn), and on strings that cannot be
// converted to UTF-8 (name.invalid_string).
Result<Name> NameFromX509(const X509_NAME* name, bool allow_multivalued = true);
// RFC 5280 §4.1.2.4 / §4.1.2.6: UTF8String for DirectoryString attributes, PrintableString for
// countryName, IA5String for emailAddress (OpenSSL's string table applies these).
Result<X509NamePtr> NameToX509(const Name& name);

UnixSeconds FromAsn1Time(const ASN1_TIME* t);
// UTCTime through 2049, GeneralizedTime from 2050 (RFC 5280 §4.1.2.5).
Asn1TimePtr ToAsn1Time(UnixSeconds t);
// GeneralizedTime always (RFC 5280 §5.3.2 invalidityDate).
Asn1TimePtr ToGeneralizedTime(UnixSeconds t);

// Positive INTEGER from big-endian magnitude bytes, and back to hex (content octets).
Asn1IntegerPtr SerialToAsn1(ByteSpan serial);
std::string SerialHex(const ASN1_INTEGER* serial);

}  // namespace kyso::x509::internal
