// Writing PDF objects (ISO 32000-1 §7.3): the small set of serializers an incremental update
// needs, and the sink new objects go to.
//
// Objects are written as text (with binary stream data), never through QPDF's writer: an
// incremental update must leave the original bytes untouched (ISO 32000-1 §7.5.6), which
// QPDFWriter cannot do.
#pragma once

#include <string>
#include <string_view>

#include "base/bytes.h"

namespace kyso::pdf {

// A reference to an indirect object ("12 0 R").
struct ObjectRef {
  int number = 0;
  int generation = 0;
  std::string ToString() const;  // "12 0 R"
  bool operator==(const ObjectRef&) const = default;
};

// Receives the new (or replaced) objects of an incremental update.
class ObjectSink {
 public:
  virtual ~ObjectSink() = default;
  // A fresh object number (generation 0).
  virtual ObjectRef Allocate() = 0;
  // `body` is one serialized PDF object, e.g. "<< /Type /XObject ... >>".
  virtual void Put(ObjectRef ref, std::string body) = 0;
  // A stream object: `dictionary` is "<< ... >>" without /Length (the sink adds it); `data`
  // is stored as given, so the dictionary names its /Filter when `data` is compressed.
  virtual void PutStream(ObjectRef ref, std::string dictionary, Bytes data) = 0;
};

// §7.3.4.2 literal string "( ... )", escaping \ ( ) and bytes outside printable ASCII.
std::string LiteralString(std::string_view bytes);
// §7.3.4.3 hexadecimal string "<...>" (upper case).
std::string HexString(ByteSpan bytes);
// §7.9.2.2 text string: PDFDocEncoding-safe ASCII as a literal string, anything else as
// UTF-16BE with a byte order mark, as a hex string. Input is UTF-8.
std::string TextString(std::string_view utf8);
// §7.3.5 name object "/Name", with #xx escapes for delimiters, '#' and bytes outside 0x21..0x7E.
std::string NameObject(std::string_view name);
// §7.3.3 real number without exponent, at most 4 decimals, trailing zeros dropped ("12.5").
std::string Number(double value);
// §7.9.4 date string "(D:YYYYMMDDHHmmSS+07'00')" for a Unix time shown at a UTC offset.
std::string DateString(int64_t unix_seconds, int utc_offset_minutes);
// zlib (RFC 1950) compression for /FlateDecode streams.
Bytes Deflate(ByteSpan data, int level = 6);

}  // namespace kyso::pdf
