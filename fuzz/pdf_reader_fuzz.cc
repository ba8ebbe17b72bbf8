// Fuzzes the signer's PDF reader (pdf/document.h) and the update it prepares: any input must
// end in a Document or a pdf.* error, never a crash, a hang or an exception escaping.
#include <cstddef>
#include <cstdint>
#include <memory>

#include "pdf/document.h"
#include "pdf/update.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto bytes = std::make_shared<const kyso::Bytes>(data, data + size);
  auto doc = kyso::pdf::Document::FromBytes(bytes);
  if (!doc.ok()) return 0;
  (void)doc->Page(1);
  (void)doc->SignatureFields();
  (void)doc->Signatures();
  (void)doc->CertificationPermissions();
  kyso::pdf::SignatureSpec spec;
  spec.contents_size = 256;
  kyso::pdf::SignaturePlacement placement;
  placement.rect = kyso::pdf::Rectangle{10, 10, 60, 40};
  (void)kyso::pdf::PrepareSignature(*doc, placement, spec, nullptr);
  (void)kyso::pdf::PrepareDss(*doc, kyso::pdf::DssData{});
  return 0;
}
