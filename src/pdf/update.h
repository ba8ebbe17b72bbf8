// Incremental updates (ISO 32000-1 §7.5.6) that add a signature, a document time-stamp or the
// document security store (DSS) to a PDF without touching its original bytes.
//
// An update holds new and replaced objects, a cross-reference section of the same kind as the
// original's (a table, or an xref stream when the original ends with one, §7.5.8), and a
// trailer with /Prev. PrepareSignature lays out the whole update with /Contents reserved as a
// zero-filled hex string and /ByteRange already filled, so the signer only has to hash the
// ranges in one pass and write the CMS into the reserved space (§12.8.1).
//
// Error ids:
//   pdf.no_such_page            the page does not exist
//   pdf.rect_off_page           the rectangle is empty or not inside the page's crop box
//   pdf.field_missing           no signature field with that name
//   pdf.field_signed            the named field already holds a signature
//   pdf.field_not_on_page       the named field's widget is on no page
//   pdf.certify_not_first       a certification signature must be the document's first
//   pdf.docmdp_forbids          the certification signature's DocMDP P=1 forbids any change
//   pdf.field_locked            an earlier signature's FieldMDP lock covers the field
//   pdf.damaged                 QPDF could not resolve an object the update needs
//   pdf.invalid_option          DocMDP permissions outside 1..3, FieldMDP without fields, ...
#pragma once

#include <array>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/result.h"
#include "pdf/document.h"
#include "pdf/syntax.h"

namespace kyso::pdf {

// New and replaced objects of one incremental update.
class Update : public ObjectSink {
 public:
  explicit Update(const Document& base);

  ObjectRef Allocate() override;
  void Put(ObjectRef ref, std::string body) override;
  void PutStream(ObjectRef ref, std::string dictionary, Bytes data) override;

  // Sets /Root (the catalog) when it is replaced by a new object; the default is the base's.
  struct Serialized {
    Bytes bytes;                           // to append after the base document's bytes
    std::map<int, size_t> object_offsets;  // object number → offset of "N G obj" in bytes
    std::map<int, size_t> body_offsets;    // object number → offset of its body in bytes
  };
  Serialized Serialize() const;

 private:
  struct Entry {
    ObjectRef ref;
    std::string body;
    std::optional<Bytes> stream;
  };
  const Document& base_;
  int next_number_;
  std::vector<Entry> entries_;
};

struct SignatureSpec {
  // A document time-stamp (ETSI EN 319 142-1 §5.4.3): /Type /DocTimeStamp, /SubFilter
  // /ETSI.RFC3161, no /M, no appearance. Otherwise a PAdES signature, /ETSI.CAdES.detached.
  bool document_timestamp = false;
  std::optional<std::string> name, reason, location, contact_info;  // UTF-8
  std::optional<int64_t> signing_time;  // /M (§12.8.1 Table 252), shown at utc_offset_minutes
  int utc_offset_minutes = 7 * 60;
  std::optional<int> docmdp_permissions;  // certification signature (§12.8.2.2), P in 1..3
  std::optional<FieldLock> lock;
  size_t contents_size = 16384;   // bytes reserved for the CMS (the hex string is twice that)
  std::string producer = "kyso";  // /Prop_Build /App /Name
};

struct SignaturePlacement {
  // An existing empty signature field to fill (fully qualified name); when it does not
  // exist and `create_field` is true, a new field with this name is made.
  std::optional<std::string> field_name;
  bool create_field = true;
  int page = 1;                   // for a new field
  std::optional<Rectangle> rect;  // for a new field; absent → invisible ([0 0 0 0])
};

// Writes the appearance form XObject for a widget of `width` × `height` points and returns it.
using AppearanceWriter = std::function<Result<ObjectRef>(double width, double height, ObjectSink&)>;

struct PreparedSignature {
  Bytes update;                         // ByteRange filled, /Contents zero-filled
  size_t contents_offset = 0;           // offset in `update` of the hex string's '<'
  size_t contents_length = 0;           // of the hex string, '<' and '>' included
  std::array<int64_t, 4> byte_range{};  // absolute offsets in the signed file
  std::string field_name;
  Rectangle widget_rect;
  int page = 0;
};

[[nodiscard]] Result<PreparedSignature> PrepareSignature(const Document& document,
                                                         const SignaturePlacement& placement,
                                                         const SignatureSpec& spec,
                                                         const AppearanceWriter& appearance);

// Validation data for the DSS (ETSI EN 319 142-1 §5.4.2): DER certificates, OCSPResponses and
// CRLs, plus a VRI entry per signature. Entries already in the document's DSS are kept.
struct DssData {
  std::vector<Bytes> certificates;
  std::vector<Bytes> ocsp_responses;
  std::vector<Bytes> crls;
  struct Vri {
    std::string key;  // upper-case hex SHA-1 of the signature's /Contents (§5.4.2.3)
    std::vector<size_t> certificates, ocsp_responses, crls;  // indices into the vectors above
  };
  std::vector<Vri> vri;
};

[[nodiscard]] Result<Bytes> PrepareDss(const Document& document, const DssData& data);

// The validation data of the document's DSS (certificates, OCSP responses and CRLs, decoded
// streams; VRI entries are not returned). Empty when the document has none.
[[nodiscard]] Result<DssData> ReadDss(const Document& document);

}  // namespace kyso::pdf
