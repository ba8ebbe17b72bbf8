// DocMDP and FieldMDP as written in a PDF (ISO 32000-1 §12.8.2.2, §12.8.2.4, and the field
// /Lock of §12.7.4.5 Table 233), read through QPDF. Internal to the pdf module: the reader
// (document.cc) and the revision analysis (revisions.cc) share it.
#pragma once

#include <optional>
#include <qpdf/QPDFObjectHandle.hh>

#include "pdf/document.h"

namespace kyso::pdf::internal {

// A signature dictionary's DocMDP /P (1..3; 2 when the transform has no /P), if it has one.
std::optional<int> DocMdpPermissionsOf(QPDFObjectHandle sig);
// A /Lock dictionary or FieldMDP /TransformParams.
std::optional<FieldLock> ParseLock(QPDFObjectHandle params);
// The field's /Lock, else the signature's FieldMDP reference.
std::optional<FieldLock> LockOf(QPDFObjectHandle field, QPDFObjectHandle sig);

}  // namespace kyso::pdf::internal
