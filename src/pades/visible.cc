#include "pades/visible.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>

namespace kyso::pades {

Result<Kind> ParseKind(std::string_view text) {
  std::string t;
  for (char c : text) t += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (t == "approved") return Kind::kApproved;
  if (t == "issued") return Kind::kIssued;
  if (t == "copy") return Kind::kCopy;
  if (t == "appendix") return Kind::kAppendix;
  if (t == "initials") return Kind::kInitials;
  if (t == "invisible") return Kind::kInvisible;
  return InvalidArgument("pades.invalid_kind",
                         "unknown signing kind '" + std::string(text) +
                             "' (approved, issued, copy, appendix, initials, invisible)");
}

std::string_view KindName(Kind kind) {
  switch (kind) {
    case Kind::kApproved:
      return "approved";
    case Kind::kIssued:
      return "issued";
    case Kind::kCopy:
      return "copy";
    case Kind::kAppendix:
      return "appendix";
    case Kind::kInitials:
      return "initials";
    case Kind::kInvisible:
      return "invisible";
  }
  return "approved";
}

Result<pdf::Rectangle> ParseRectangle(std::string_view text, bool millimetres) {
  std::vector<double> v;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    std::string part(text.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
    char* end = nullptr;
    double d = std::strtod(part.c_str(), &end);
    if (part.empty() || end != part.c_str() + part.size() || !std::isfinite(d)) {
      return InvalidArgument(
          "sign.bad_rect", "the rectangle wants x,y,width,height; got '" + std::string(text) + "'");
    }
    v.push_back(d * (millimetres ? kPointsPerMm : 1.0));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  if (v.size() != 4) {
    return InvalidArgument("sign.bad_rect",
                           "the rectangle wants x,y,width,height; got '" + std::string(text) + "'");
  }
  return pdf::Rectangle{v[0], v[1], v[0] + v[2], v[1] + v[3]};
}

std::string FormatSigningTime(UnixSeconds time, int utc_offset_minutes) {
  time_t local = static_cast<time_t>(time + int64_t{utc_offset_minutes} * 60);
  std::tm tm{};
  gmtime_r(&local, &tm);
  int offset = std::abs(utc_offset_minutes);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%02d.%02d.%04d %02d:%02d:%02d %c%02d:%02d", tm.tm_mday,
                tm.tm_mon + 1, tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec,
                utc_offset_minutes < 0 ? '-' : '+', offset / 60, offset % 60);
  return buf;
}

std::vector<std::string> InformationBlock(const x509::Certificate& signer, UnixSeconds time,
                                          int utc_offset_minutes) {
  auto subject = signer.subject();
  std::vector<std::string> lines;
  lines.push_back("Ký bởi: " + subject.First("CN"));
  std::string organization = subject.First("O");
  if (!organization.empty()) lines.push_back("Cơ quan: " + organization);
  std::string email = subject.First("emailAddress");
  if (email.empty()) {
    auto sans = signer.extensions().email_sans;
    if (!sans.empty()) email = sans.front();
  }
  if (!email.empty()) lines.push_back("Email: " + email);
  lines.push_back("Thời gian ký: " + FormatSigningTime(time, utc_offset_minutes));
  return lines;
}

namespace {

constexpr double kPadding = 2;

pdf::AppearanceWriter MakeWriter(std::shared_ptr<const appearance::PreparedImage> image,
                                 std::optional<appearance::TextBlock> text, bool side_by_side) {
  return [image, text, side_by_side](double width, double height,
                                     pdf::ObjectSink& sink) -> Result<pdf::ObjectRef> {
    appearance::AppearanceSpec spec;
    spec.width = width;
    spec.height = height;
    spec.image = image;
    spec.text = text;
    if (image && text && side_by_side) {
      spec.image_box = {0, 0, width * 0.4, height};
      spec.text_box = {width * 0.4 + kPadding, kPadding, width * 0.6 - 2 * kPadding,
                       height - 2 * kPadding};
    } else {
      spec.image_box = {0, 0, width, height};
      spec.text_box = {kPadding, kPadding, width - 2 * kPadding, height - 2 * kPadding};
    }
    return appearance::WriteAppearance(spec, sink);
  };
}

// The most recent visible signature on `page`: what an agency seal overlaps.
std::optional<pdf::Rectangle> LastVisibleSignature(const pdf::Document& document, int page) {
  std::optional<pdf::Rectangle> found;
  for (const auto& f : document.SignatureFields()) {
    if (f.is_signed && f.page == page && f.rect.width() > 0 && f.rect.height() > 0) found = f.rect;
  }
  return found;
}

Result<appearance::TextBlock> MakeText(const VisibleOptions& visible,
                                       std::vector<std::string> lines) {
  if (!visible.font) {
    return InvalidArgument("pades.invalid_option", "a font is needed to show text");
  }
  appearance::TextBlock text;
  text.paragraphs = std::move(lines);
  text.font = visible.font;
  text.size = visible.font_size;
  return text;
}

}  // namespace

Status PlanVisibleSignature(const pdf::Document& document, const x509::Certificate& signer,
                            const VisibleOptions& visible, SignOptions& options) {
  options.placement = pdf::SignaturePlacement{};
  options.placement.page = visible.page;
  options.appearance = nullptr;
  if (visible.field) {
    options.placement.field_name = visible.field;
    // A named field that is missing is created only when a rectangle says where.
    options.placement.create_field = visible.rect.has_value();
  }
  options.placement.rect = visible.rect;
  bool has_position = visible.rect.has_value() || visible.field.has_value();
  UnixSeconds time = options.signing_time;
  int offset = visible.utc_offset_minutes;

  switch (visible.kind) {
    case Kind::kInvisible:
      options.placement.rect.reset();
      if (visible.field) options.placement.create_field = true;
      return Status::Ok();

    case Kind::kApproved: {
      if (!has_position) {
        return InvalidArgument("pades.no_position",
                               "an approved signature needs --rect or --field");
      }
      std::optional<appearance::TextBlock> text;
      if (!visible.text.empty() || visible.show_info || !visible.image) {
        auto lines = !visible.text.empty() ? visible.text : InformationBlock(signer, time, offset);
        KYSO_ASSIGN_OR_RETURN(auto block, MakeText(visible, lines));
        text = std::move(block);
      }
      options.appearance = MakeWriter(visible.image, text, true);
      return Status::Ok();
    }

    case Kind::kInitials: {
      if (!visible.image) {
        return InvalidArgument("pades.image_required", "initials (ký nháy) need --image");
      }
      if (!has_position) {
        return InvalidArgument("pades.no_position", "initials need --rect or --field");
      }
      options.appearance = MakeWriter(visible.image, std::nullopt, false);
      return Status::Ok();
    }

    case Kind::kIssued: {
      if (!visible.image) {
        return InvalidArgument("pades.image_required", "an agency seal needs --image");
      }
      if (!has_position) {
        // ND30 Phụ lục I: the seal covers about one third of the authority's signature, on
        // its left, at the seal's real size.
        auto authority = LastVisibleSignature(document, visible.page);
        if (!authority) {
          return InvalidArgument("pades.no_position",
                                 "no signature on page " + std::to_string(visible.page) +
                                     " for the seal to overlap; give --rect or --field");
        }
        double size = visible.seal_size_mm * kPointsPerMm;
        double aspect = static_cast<double>(visible.image->width) / visible.image->height;
        double w = aspect >= 1 ? size : size * aspect;
        double h = aspect >= 1 ? size / aspect : size;
        double right = authority->llx + authority->width() / 3;
        double centre_y = (authority->lly + authority->ury) / 2;
        pdf::Rectangle rect{right - w, centre_y - h / 2, right, centre_y + h / 2};
        KYSO_ASSIGN_OR_RETURN(pdf::PageInfo page, document.Page(visible.page));
        double dx = std::max(0.0, page.crop_box.llx - rect.llx);
        double dy = std::max(0.0, page.crop_box.lly - rect.lly);
        rect = {rect.llx + dx, rect.lly + dy, rect.urx + dx, rect.ury + dy};
        options.placement.rect = rect;
        options.placement.field_name.reset();
        options.placement.create_field = true;
      }
      options.appearance = MakeWriter(visible.image, std::nullopt, false);
      return Status::Ok();
    }

    case Kind::kCopy:
    case Kind::kAppendix: {
      std::vector<std::string> lines = visible.text;
      if (lines.empty()) {
        if (visible.kind == Kind::kCopy) {
          lines = {visible.copy_type, signer.subject().First("CN"),
                   FormatSigningTime(time, offset)};
        } else {
          if (visible.document_number.empty()) {
            return InvalidArgument("pades.invalid_option",
                                   "an appendix signature needs the document number and code");
          }
          lines = {visible.document_number, FormatSigningTime(time, offset)};
        }
      }
      KYSO_ASSIGN_OR_RETURN(auto text, MakeText(visible, lines));
      text.align = appearance::Align::kLeft;
      if (!has_position) {
        // Top right of page 1 (ND30 Phụ lục I), inside the usual 15 mm right / 20 mm top
        // margins.
        KYSO_ASSIGN_OR_RETURN(pdf::PageInfo page, document.Page(1));
        KYSO_ASSIGN_OR_RETURN(auto size, appearance::MeasureTextBlock(text, 80 * kPointsPerMm));
        double w = size.width + 2 * kPadding + 1;
        double h = size.height + 2 * kPadding + 1;
        double right = page.crop_box.urx - 15 * kPointsPerMm;
        double top = page.crop_box.ury - 8 * kPointsPerMm;
        options.placement.page = 1;
        options.placement.rect = pdf::Rectangle{right - w, top - h, right, top};
      }
      options.appearance = MakeWriter(nullptr, text, false);
      return Status::Ok();
    }
  }
  return Status::Ok();
}

}  // namespace kyso::pades
