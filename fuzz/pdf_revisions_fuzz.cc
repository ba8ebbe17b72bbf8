// Fuzz target: the PDF revision and modification analysis a verifier runs on a received
// document (pdf/revisions.h): any input ends in an analysis or a pdf.* error, in bounded time.
// Seed corpus: fuzz/corpus/pdf_revisions_fuzz (hand-made minimal PDFs, as pdf_reader_fuzz).
#include <cstddef>
#include <cstdint>

#include "pdf/revisions.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  kyso::ByteSpan input(data, size);
  (void)kyso::pdf::RevisionEnds(input);
  (void)kyso::pdf::AnalyzeSignatures(input);
  return 0;
}
