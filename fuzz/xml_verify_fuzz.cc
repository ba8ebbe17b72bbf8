// Fuzz target: XML signature verification (xades/xades.h). A signed declaration received from
// anyone is untrusted input: parsing it (no DTD, no entities, bounded depth), resolving its
// references, running the XMLDSig core through xmlsec and reading the XAdES properties must
// end in a report, never a crash or a hang.
// Seed corpus: fuzz/corpus/xml_verify_fuzz (XAdES B-B enveloped by Id and whole-document,
// enveloping, plain XMLDSig from xmlsec1 --sign, a DTD with entities, a duplicate Id).
#include <cstddef>
#include <cstdint>

#include "xades/xades.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kyso;
  xades::XmlInspection inspection = xades::InspectXml(ByteSpan(data, size));
  (void)inspection;
  return 0;
}
