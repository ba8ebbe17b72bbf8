// The signing kinds of Vietnamese signing tools and how each looks on the page, per Nghị định
// 30/2020/NĐ-CP Phụ lục I:
//   approved   the authority's handwritten signature image (blue PNG), at a rectangle or in a
//              named empty field; optionally with the information block
//   issued     the agency's seal image (red PNG) at its real size (default 36 mm), overlapping
//              the left third of the authority's signature on the page, vertically centred
//   copy       (sao y) no image; top right of page 1; "copy type / agency / time"
//   appendix   no image; top right of page 1; "document number and code / time"
//   initials   (ký nháy) a small image at a given rectangle
//   invisible  no widget on the page
// Text is Times New Roman's metric twin (Liberation Serif), 10 pt, upright, black; the time
// reads "dd.MM.yyyy HH:mm:ss +07:00".
//
// Error ids:
//   pades.invalid_kind    unknown kind name
//   pades.no_position     the kind needs a rectangle or field and none was given or found
//   pades.image_required  approved-with-image, issued and initials need an image
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "appearance/appearance.h"
#include "pades/signer.h"
#include "pdf/document.h"
#include "x509/certificate.h"

namespace kyso::pades {

enum class Kind { kApproved, kIssued, kCopy, kAppendix, kInitials, kInvisible };
Result<Kind> ParseKind(std::string_view text);
std::string_view KindName(Kind kind);

inline constexpr double kPointsPerMm = 72.0 / 25.4;

struct VisibleOptions {
  Kind kind = Kind::kApproved;
  int page = 1;
  std::optional<pdf::Rectangle> rect;  // points, default user space
  std::optional<std::string> field;    // an existing empty signature field
  std::shared_ptr<const appearance::PreparedImage> image;
  std::shared_ptr<const appearance::Font> font;  // required when any text is shown
  double font_size = 10;
  bool show_info = false;           // add "Ký bởi / Cơ quan / Email / Thời gian ký"
  std::vector<std::string> text;    // explicit lines, replacing the kind's default text
  std::string copy_type = "SAO Y";  // copy: first line
  std::string document_number;      // appendix: first line, e.g. "Số: 123/SKHCN-VP"
  double seal_size_mm = 36;         // issued
  int utc_offset_minutes = 7 * 60;
};

// "x,y,width,height" from the page's lower-left corner, in points or (millimetres) mm, as
// the CLI and the HTTP API take it. Error id: sign.bad_rect.
Result<pdf::Rectangle> ParseRectangle(std::string_view text, bool millimetres);

// "19.11.2025 14:03:22 +07:00"
std::string FormatSigningTime(UnixSeconds time, int utc_offset_minutes);
// The default information block for `signer` at `time`.
std::vector<std::string> InformationBlock(const x509::Certificate& signer, UnixSeconds time,
                                          int utc_offset_minutes);

// Sets options.placement and options.appearance for the kind.
[[nodiscard]] Status PlanVisibleSignature(const pdf::Document& document,
                                          const x509::Certificate& signer,
                                          const VisibleOptions& visible, SignOptions& options);

}  // namespace kyso::pades
