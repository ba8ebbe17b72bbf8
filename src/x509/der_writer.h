// Internal to x509/: a strict DER reader and the small DER writers (X.690 §10) that the CMS
// encoders (time-stamp tokens, detached CMS signatures) assemble their structures with.
//
// Everything here is a pure function of its arguments (thread-safe). Writers take the parts as
// finished elements: Tlv(kSequence, {a, b}) is a SEQUENCE whose contents are a then b; an empty
// part is an absent OPTIONAL field.
#pragma once

#include <openssl/asn1.h>
#include <openssl/crypto.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/clock.h"
#include "crypto/digest.h"

namespace kyso::x509::internal::der {

// Object identifiers shared by the CMS writers (cms.cc, timestamp.cc).
// RFC 5652 §5.1 id-signedData; §11.1-2 id-contentType, id-messageDigest.
inline constexpr std::string_view kIdSignedData = "1.2.840.113549.1.7.2";
inline constexpr std::string_view kIdContentType = "1.2.840.113549.1.9.3";
inline constexpr std::string_view kIdMessageDigest = "1.2.840.113549.1.9.4";
// RFC 5035 §5.4 id-aa-signingCertificateV2 (RFC 5816 §2.2.1 for time-stamps).
inline constexpr std::string_view kIdAaSigningCertificateV2 = "1.2.840.113549.1.9.16.2.47";

inline constexpr uint8_t kBoolean = 0x01;
inline constexpr uint8_t kInteger = 0x02;
inline constexpr uint8_t kBitString = 0x03;
inline constexpr uint8_t kOctetString = 0x04;
inline constexpr uint8_t kNull = 0x05;
inline constexpr uint8_t kOid = 0x06;
inline constexpr uint8_t kUtf8String = 0x0c;
inline constexpr uint8_t kUtcTime = 0x17;
inline constexpr uint8_t kGeneralizedTime = 0x18;
inline constexpr uint8_t kSequence = 0x30;
inline constexpr uint8_t kSet = 0x31;
inline constexpr uint8_t kContext0 = 0xa0;  // [0], constructed
inline constexpr uint8_t kContext1 = 0xa1;  // [1], constructed
inline constexpr uint8_t kContext2 = 0xa2;  // [2], constructed
inline constexpr uint8_t kContext4 = 0xa4;  // [4], constructed (GeneralName directoryName)
inline constexpr uint8_t kContext0Primitive = 0x80;

// A strict DER reader over a span: definite lengths in their shortest form, single-octet tags.
// Every read either consumes one whole element or fails and leaves the reader unchanged.
class DerReader {
 public:
  explicit DerReader(ByteSpan in) : in_(in) {}

  bool empty() const { return in_.empty(); }
  bool Peek(uint8_t tag) const { return !in_.empty() && in_[0] == tag; }

  // Reads the next element, whatever its tag.
  [[nodiscard]] bool ReadAny(uint8_t* tag, ByteSpan* contents, ByteSpan* element = nullptr) {
    if (in_.size() < 2) return false;
    size_t length = in_[1];
    size_t header = 2;
    if (length & 0x80) {
      size_t octets = length & 0x7f;
      // 0 is BER's indefinite length; more than 4 octets is no request of ours.
      if (octets == 0 || octets > 4 || in_.size() < 2 + octets) return false;
      if (in_[2] == 0) return false;  // X.690 §10.1: the fewest octets
      length = 0;
      for (size_t i = 0; i < octets; ++i) length = (length << 8) | in_[2 + i];
      if (length < 0x80) return false;  // X.690 §10.1: short form when it fits
      header += octets;
    }
    if (in_.size() - header < length) return false;
    *tag = in_[0];
    *contents = in_.subspan(header, length);
    if (element != nullptr) *element = in_.first(header + length);
    in_ = in_.subspan(header + length);
    return true;
  }

  // Reads the next element if its tag is `tag`.
  [[nodiscard]] bool Read(uint8_t tag, ByteSpan* contents, ByteSpan* element = nullptr) {
    if (!Peek(tag)) return false;
    uint8_t actual = 0;
    return ReadAny(&actual, contents, element);
  }

 private:
  ByteSpan in_;
};

// X.690 §8.3.2: the first nine bits of an INTEGER are not all zero or all one.
inline bool IsDerInteger(ByteSpan c) {
  if (c.empty()) return false;
  if (c.size() == 1) return true;
  if (c[0] == 0x00 && !(c[1] & 0x80)) return false;
  if (c[0] == 0xff && (c[1] & 0x80)) return false;
  return true;
}

// X.690 §8.19: subidentifiers in base 128, none starting with 0x80, the last octet ending one.
inline bool IsDerOid(ByteSpan c) {
  if (c.empty() || (c.back() & 0x80)) return false;
  bool start = true;
  for (uint8_t b : c) {
    if (start && b == 0x80) return false;
    start = !(b & 0x80);
  }
  return true;
}

// X.690 §11.1: DER's TRUE is 0xFF.
inline bool ReadDerBoolean(DerReader& r, bool* value) {
  ByteSpan c;
  if (!r.Read(kBoolean, &c) || c.size() != 1 || (c[0] != 0x00 && c[0] != 0xff)) return false;
  *value = c[0] == 0xff;
  return true;
}

// Dotted text of valid OID content octets (IsDerOid). Arcs wider than 63 bits print as "?".
inline std::string OidToText(ByteSpan c) {
  std::string out;
  uint64_t arc = 0;
  bool first = true;
  int bits = 0;
  for (uint8_t b : c) {
    arc = (arc << 7) | (b & 0x7f);
    bits += 7;
    if (b & 0x80) continue;
    std::string text = bits > 63 ? "?" : std::to_string(arc);
    if (first) {
      uint64_t top = arc < 40 ? 0 : arc < 80 ? 1 : 2;
      out = std::to_string(top) + "." + (bits > 63 ? "?" : std::to_string(arc - top * 40));
      first = false;
    } else {
      out += "." + text;
    }
    arc = 0;
    bits = 0;
  }
  return out;
}

// OID content octets of a dotted OID ("1.2.840..."); nullopt unless it has two or more arcs,
// the first 0..2 and the second below 40 under 0 and 1 (X.660).
inline std::optional<Bytes> OidFromText(std::string_view text) {
  std::vector<uint64_t> arcs;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t dot = text.find('.', pos);
    std::string_view part = text.substr(pos, dot == std::string_view::npos ? dot : dot - pos);
    if (part.empty() || part.size() > 18 || (part.size() > 1 && part[0] == '0'))
      return std::nullopt;
    uint64_t v = 0;
    for (char ch : part) {
      if (ch < '0' || ch > '9') return std::nullopt;
      v = v * 10 + static_cast<uint64_t>(ch - '0');
    }
    arcs.push_back(v);
    if (dot == std::string_view::npos) break;
    pos = dot + 1;
  }
  if (arcs.size() < 2 || arcs[0] > 2 || (arcs[0] < 2 && arcs[1] >= 40)) return std::nullopt;
  Bytes out;
  auto put = [&out](uint64_t v) {
    uint8_t buf[10];
    int n = 0;
    do {
      buf[n++] = static_cast<uint8_t>(v & 0x7f);
      v >>= 7;
    } while (v != 0);
    while (n > 0) {
      --n;
      out.push_back(static_cast<uint8_t>(buf[n] | (n > 0 ? 0x80 : 0)));
    }
  };
  put(arcs[0] * 40 + arcs[1]);
  for (size_t i = 2; i < arcs.size(); ++i) put(arcs[i]);
  return out;
}

inline void PutHeader(Bytes& out, uint8_t tag, size_t length) {
  out.push_back(tag);
  if (length < 0x80) {
    out.push_back(static_cast<uint8_t>(length));
    return;
  }
  int octets = 0;
  for (size_t l = length; l != 0; l >>= 8) ++octets;
  out.push_back(static_cast<uint8_t>(0x80 | octets));
  for (int i = octets - 1; i >= 0; --i) out.push_back(static_cast<uint8_t>(length >> (8 * i)));
}

// One element `tag` whose contents are `parts` concatenated (empty parts are absent fields).
inline Bytes Tlv(uint8_t tag, std::initializer_list<ByteSpan> parts) {
  size_t length = 0;
  for (ByteSpan p : parts) length += p.size();
  Bytes out;
  out.reserve(length + 6);
  PutHeader(out, tag, length);
  for (ByteSpan p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

inline Bytes OidTlv(std::string_view dotted) {
  return Tlv(kOid, {*OidFromText(dotted)});
}

// A non-negative INTEGER in the fewest octets.
inline Bytes UnsignedInteger(uint64_t v) {
  uint8_t buf[9];
  int n = 0;
  do {
    buf[8 - n++] = static_cast<uint8_t>(v & 0xff);
    v >>= 8;
  } while (v != 0);
  if (buf[9 - n] & 0x80) buf[8 - n++] = 0x00;
  return Tlv(kInteger, {ByteSpan(buf + 9 - n, static_cast<size_t>(n))});
}

// RFC 3161 §2.4.2: "The syntax is: YYYYMMDDhhmmss[.s...]Z ... GeneralizedTime values MUST
// include seconds ... The GeneralizedTime syntax can include fraction-of-second details ...
// [it] MUST NOT [end] with a trailing zero": whole seconds carry no fraction at all.
inline std::optional<Bytes> GeneralizedTime(UnixSeconds t) {
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  if (t < 0 || gmtime_r(&tt, &tm) == nullptr || tm.tm_year + 1900 > 9999) return std::nullopt;
  char text[64];  // 15 used; room for any int the compiler cannot rule out
  std::snprintf(text, sizeof text, "%04d%02d%02d%02d%02d%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return Tlv(kGeneralizedTime, {AsBytes(std::string_view(text, 15))});
}

// AlgorithmIdentifier of a SignerInfo digestAlgorithm: RFC 5754 §2 "Implementations MUST
// generate SHA2 AlgorithmIdentifiers with absent parameters."
inline Bytes DigestAlgorithmIdentifier(crypto::DigestAlgorithm alg) {
  switch (alg) {
    case crypto::DigestAlgorithm::kSha256:
      return Tlv(kSequence, {OidTlv("2.16.840.1.101.3.4.2.1")});
    case crypto::DigestAlgorithm::kSha384:
      return Tlv(kSequence, {OidTlv("2.16.840.1.101.3.4.2.2")});
    case crypto::DigestAlgorithm::kSha512:
      return Tlv(kSequence, {OidTlv("2.16.840.1.101.3.4.2.3")});
  }
  return {};
}

inline Bytes NameDer(const X509_NAME* name) {
  unsigned char* buf = nullptr;
  int len = i2d_X509_NAME(name, &buf);
  if (len <= 0) return {};
  Bytes out(buf, buf + len);
  OPENSSL_free(buf);
  return out;
}

inline Bytes IntegerDer(const ASN1_INTEGER* value) {
  unsigned char* buf = nullptr;
  int len = i2d_ASN1_INTEGER(value, &buf);
  if (len <= 0) return {};
  Bytes out(buf, buf + len);
  OPENSSL_free(buf);
  return out;
}

// SET OF in DER order: "the encodings of the component values ... shall appear in ascending
// order, the encodings being compared as octet strings" (X.690 §11.6).
inline Bytes SortedSetOf(uint8_t tag, std::vector<ByteSpan> elements) {
  std::ranges::sort(elements, [](ByteSpan a, ByteSpan b) {
    return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end());
  });
  size_t length = 0;
  for (ByteSpan e : elements) length += e.size();
  Bytes out;
  out.reserve(length + 6);
  PutHeader(out, tag, length);
  for (ByteSpan e : elements) out.insert(out.end(), e.begin(), e.end());
  return out;
}

}  // namespace kyso::x509::internal::der
