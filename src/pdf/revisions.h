// What a PDF signature covers, and what changed after it (ISO 32000-1 §12.8, ETSI EN 319 142-1
// §5.4): the structural half of signature verification. The CMS in /Contents is returned but
// not verified here.
//
// Coverage (§12.8.1). A signature signs the bytes named by its /ByteRange [0 a b c]: everything
// from the start of the file except the gap [a, b), which must be exactly the /Contents hex
// string, '<' and '>' included. b + c must be the end of a revision (just past a "%%EOF" that
// closes a cross-reference section): the end of the file, or the end of an earlier revision
// that later incremental updates (§7.5.6) extend. /ByteRange and /Contents are read twice: from
// the raw bytes at the signature dictionary's offset and through QPDF; when the two disagree the
// coverage is kIrregular.
//
// Modifications. For a signature that covers a whole earlier revision, every later revision is
// opened on its own (QPDF reads the file truncated at that revision's end) and compared with the
// one before it, object by object (reachable from the trailer; values compared in depth, so an
// object rewritten unchanged, under its number or a new one, or moved into an object stream, is
// no change): a change made in one update and undone in a later one is still seen. Every change
// must be explained, as in pyHanko's difference analysis: new signature fields and their values,
// the DSS and document time-stamps are kSignaturesOnly; new values of form fields with
// appearances (signing a signature field that was already there included), the form's /DA, /DR
// (the fonts its /DA names), /NeedAppearances, /Info and XMP metadata are kFormFilling;
// annotations other than widgets are kAnnotations; anything else (page contents or resources,
// catalog entries, actions, unexpected keys, and any changed object that is also reachable from
// outside the change that would justify it: a shared appearance stream, a font overridden under
// the same object number) is kOther. A field whose appearance (/AP, /AS, or an object its
// appearance streams draw) changed while its value did not, or after it was signed, is an
// appearance change (appearance_changed, level kOther): a different display of the same signed
// value is not form filling. An added object that nothing uses is a kNone finding. What QPDF
// cannot read in the bytes added after a signature (an object nested too deeply, say) makes
// that signature's later changes kOther: other readers may read it differently.
//
// Damaged later revisions. When the final revision cannot be read (its startxref points nowhere,
// its trailer is broken) the last revision that can be read is analysed instead, and bytes after
// the last readable revision (an update with no usable cross-reference section) are reported as
// `unanalysable` for every signature before them: what was signed is still judged, what came
// after cannot be.
//
// Permissions. DocMDP (§12.8.2.2): P=1 allows no change but the DSS and document time-stamps
// (ISO 32000-2 §12.8.2.2), P=2 also form filling and signing, P=3 also annotations. /Info and
// XMP metadata updates are allowed at every P (pyHanko's default). FieldMDP (§12.8.2.4): a
// field locked by the signature must keep its value and appearance.
//
// Bounded: reference loops are walked once, direct nesting and tree depth are capped, and the
// number of findings is capped. Errors are returned only for input that cannot be read;
// anomalies are data.
//
// Thread-safety: AnalyzeSignatures uses the Document's QPDF; one thread at a time per Document.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/result.h"
#include "pdf/document.h"
#include "pdf/syntax.h"

namespace kyso::pdf {

// Offsets just past each "%%EOF" (and the end-of-line marker after it, if any) that closes a
// cross-reference section (a "startxref N" before it, N pointing at "xref" or at an
// /XRef stream), in file order. A linearized file's first-page "startxref 0" is not one.
std::vector<size_t> RevisionEnds(ByteSpan file);

// How /ByteRange relates to the file. Stable: the names below are used in reports.
enum class Coverage {
  kEntireRevision,  // "entire_revision": ends at an earlier revision; later ones are updates
  kEntireFile,      // "entire_file": [0 a b c] with b + c the file size
  kTailUncovered,   // "tail_uncovered": ends inside a revision, or not at a revision's end
  kGapTooBig,       // "gap_too_big": the excluded gap holds more than the /Contents string
  kSingleRange,     // "single_range": one range only ([0 a])
  kIrregular,       // "irregular": anything else (wrong count, order, negative, raw/QPDF mismatch)
};
std::string_view CoverageName(Coverage coverage);

// Ordered: a later level permits everything an earlier one does.
enum class ModificationLevel {
  kNone,            // "none"
  kSignaturesOnly,  // "signatures": new signature fields and values, DSS, document time-stamps
  kFormFilling,     // "form_filling": values and appearances of fields that were there when
                    // signing (signing an empty signature field included), /Info, XMP
  kAnnotations,     // "annotations": annotations other than form widgets
  kOther,           // "other": anything else
};
std::string_view ModificationLevelName(ModificationLevel level);

struct SignatureCoverageInfo {
  std::vector<int64_t> byte_range;  // /ByteRange as found (4 values when well formed)
  Bytes contents;                   // /Contents, trimmed to its DER length (padding removed)
  // The /Contents string in the file, '<' and '>' included (0, 0 when it was not located).
  size_t contents_offset = 0;
  size_t contents_length = 0;
  std::optional<size_t> revision;  // index into RevisionEnds() of the signed revision
  size_t signed_end = 0;           // where the signed data ends (b + c, or a for one range)
  Coverage kind = Coverage::kIrregular;
  std::string detail;  // human-readable explanation of `kind`
};

struct ModificationReport {
  ModificationLevel level = ModificationLevel::kNone;
  // Human-readable, one per change or anomaly, naming the object:
  // "object 12 0 (page 1): /Contents changed", "object 8 0 (field 'Sig2'): /FooBar added".
  std::vector<std::string> findings;
  bool docmdp_violated = false;    // the changes exceed the signature's DocMDP permissions
  bool fieldmdp_violated = false;  // a field the signature locks was changed
  // What a field displays changed without a new value for it: its /AP or /AS replaced, or an
  // appearance stream (or an XObject or font it draws) overridden, while /V stayed; or any
  // appearance change of a field that was already signed. Not form filling (shadow attacks).
  // Level kOther.
  bool appearance_changed = false;
  // Changes other than appearance swaps that no rule allows (level kOther on their own).
  bool other_changes = false;
  // A later revision could not be read (its cross-reference section or trailer is broken), so
  // what it changes is unknown. The signed revision itself is still judged.
  bool unanalysable = false;
  size_t later_revisions = 0;  // incremental updates after the signed revision
  int signatures_added = 0;    // approval signatures made later (new or filled fields)
  int timestamps_added = 0;    // document time-stamps made later
  bool dss_changed = false;    // the DSS was added or updated later
  // Fully qualified names of fields that existed when signing and whose value or appearance
  // changed later (signing an empty signature field included).
  std::vector<std::string> changed_fields;
};

// One signature field with a value in the final revision.
struct SignatureAnalysis {
  std::string field_name;          // fully qualified (§12.7.3.2)
  ObjectRef field;                 // the field dictionary
  std::optional<ObjectRef> value;  // the signature dictionary (absent when it is direct)
  // The signature dictionary (§12.8.1 Table 252). Names without the leading '/'.
  std::string type;          // "Sig", "DocTimeStamp", or "" when absent
  std::string filter;        // "Adobe.PPKLite", ...
  std::string sub_filter;    // "ETSI.CAdES.detached", "ETSI.RFC3161", "adbe.pkcs7.detached", ...
  std::string signing_time;  // /M as written ("D:20240315103000+07'00'"), "" when absent
  std::optional<std::string> name, reason, location, contact_info;  // UTF-8
  bool is_document_timestamp = false;     // /Type /DocTimeStamp or /SubFilter /ETSI.RFC3161
  std::optional<int> docmdp_permissions;  // this signature's own DocMDP P: a certification
  // The DocMDP P in force for changes after this signature: its own, or the certification
  // signature's (catalog /Perms /DocMDP) in the signed revision.
  std::optional<int> permissions;
  std::optional<FieldLock> lock;  // the field's /Lock or the signature's FieldMDP reference
  SignatureCoverageInfo coverage;
  // The changes after the signed revision; absent when the coverage names no revision.
  std::optional<ModificationReport> modifications;
};

// Every signature in `document`, in signing order (by where the signed data ends).
// Errors (pdf.damaged) only when no revision can be read.
[[nodiscard]] Result<std::vector<SignatureAnalysis>> AnalyzeSignatures(const Document& document);

// The same for a file in memory (kept alive by the caller for the call), read by QPDF without
// repair but accepting its warnings: Document::Open refuses files QPDF merely warns about (a
// trailer /Size that is not the highest object number plus one, as in pyHanko's test files),
// which is right before signing but not for judging a signature someone else made.
// pdf.not_pdf, pdf.encrypted, pdf.damaged (QPDF can read no revision of it).
[[nodiscard]] Result<std::vector<SignatureAnalysis>> AnalyzeSignatures(ByteSpan file);

}  // namespace kyso::pdf
