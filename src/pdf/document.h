// Reading a PDF's structure for signing (ISO 32000-1 §7.5), through QPDF.
//
// A Document is the latest revision of a PDF: its pages, its signature fields, its existing
// signatures and DocMDP permissions, and what an incremental update must continue from (the
// cross-reference kind, startxref, /Size, /Root, /Info, /ID). The file is memory-mapped, so
// QPDF parses it and the signer hashes it without a copy in memory.
//
// Refused, with a clear error, rather than signed:
//   pdf.unreadable   the file cannot be opened or mapped
//   pdf.not_pdf      no "%PDF-" header
//   pdf.encrypted    encrypted documents (new objects would have to be encrypted too)
//   pdf.damaged      QPDF had to repair the file or reported errors (repair it first)
//   pdf.too_large    larger than the caller's limit
//
// Thread-safety: a Document is used by one thread at a time (QPDF resolves objects lazily).
#pragma once

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/result.h"
#include "pdf/syntax.h"

class QPDF;

namespace kyso::pdf {

enum class XrefKind { kTable, kStream };

// [llx lly urx ury] in default user space units (points).
struct Rectangle {
  double llx = 0, lly = 0, urx = 0, ury = 0;
  double width() const { return urx - llx; }
  double height() const { return ury - lly; }
};

struct PageInfo {
  int number = 0;  // 1-based
  ObjectRef ref;
  Rectangle media_box;
  Rectangle crop_box;  // = media_box when absent
  int rotate = 0;      // 0, 90, 180, 270
};

// FieldMDP (ISO 32000-1 §12.8.2.4; the field /Lock of §12.7.4.5, Table 233).
struct FieldLock {
  enum class Action { kAll, kInclude, kExclude };
  Action action = Action::kAll;
  std::vector<std::string> fields;  // for kInclude / kExclude
};

struct SignatureFieldInfo {
  std::string name;  // fully qualified (§12.7.3.2)
  ObjectRef field;
  ObjectRef widget;  // the same object when field and widget are merged
  int page = 0;      // 1-based; 0 when the widget is on no page
  Rectangle rect;
  bool is_signed = false;          // has /V
  std::optional<ObjectRef> value;  // the signature dictionary, when signed
  // The fields this field's signature locks (its /Lock, or the signature's FieldMDP
  // reference), when signed with one.
  std::optional<FieldLock> lock;
  // True when `lock` covers the field named `name`.
  bool Locks(const std::string& name) const;
};

struct ExistingSignature {
  std::string field_name;
  std::string sub_filter;  // "ETSI.CAdES.detached", "ETSI.RFC3161", "adbe.pkcs7.detached", ...
  bool is_document_timestamp = false;
  std::optional<int> docmdp_permissions;  // a certification signature's /P (1..3)
};

struct OpenOptions {
  size_t max_size = size_t{2} << 30;
};

class Document {
 public:
  static Result<Document> Open(const std::string& path, const OpenOptions& options = {});
  // Parses `bytes` (kept alive by the Document).
  static Result<Document> FromBytes(std::shared_ptr<const Bytes> bytes,
                                    const OpenOptions& options = {});

  Document(Document&&) noexcept;
  Document& operator=(Document&&) noexcept;
  ~Document();

  ByteSpan bytes() const;
  // The open file behind bytes() (read-only, positioned anywhere), or -1 for FromBytes: lets
  // the signer copy the original with copy_file_range instead of through user memory.
  int file_descriptor() const;
  XrefKind xref_kind() const;
  int64_t startxref() const;       // offset of the last cross-reference section
  int next_object_number() const;  // the trailer's /Size
  ObjectRef root() const;
  std::optional<ObjectRef> info() const;
  // The trailer's /ID pair, as raw bytes (empty when absent).
  std::array<Bytes, 2> id() const;

  int page_count() const;
  Result<PageInfo> Page(int number) const;  // 1-based; pdf.no_such_page
  std::vector<SignatureFieldInfo> SignatureFields() const;
  std::vector<ExistingSignature> Signatures() const;
  // The permissions of the certification signature (catalog /Perms /DocMDP), if any.
  std::optional<int> CertificationPermissions() const;

  // For the update builder in this module.
  QPDF& qpdf() const;

  struct State;

 private:
  friend Status ParseDocument(State& state);
  explicit Document(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace kyso::pdf
