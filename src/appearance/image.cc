// PrepareImage: PNG → 8-bit RGB + alpha planes, Flate-compressed once (appearance.h).
//
// Decoding uses libpng's simplified API (png_image_*), which confines libpng's setjmp/longjmp
// error handling to libpng's own C frames: no jump ever crosses a C++ frame.
#include <png.h>

#include <cstring>
#include <string>

#include "appearance/appearance.h"

namespace kyso::appearance {

namespace {

// ISO/IEC 15948 §5.2 (PNG signature): 137 80 78 71 13 10 26 10.
constexpr uint8_t kPngSignature[8] = {137, 80, 78, 71, 13, 10, 26, 10};

// Frees the libpng state of a png_image on every path.
class PngImage {
 public:
  PngImage() {
    std::memset(&image_, 0, sizeof image_);
    image_.version = PNG_IMAGE_VERSION;
  }
  ~PngImage() { png_image_free(&image_); }
  PngImage(const PngImage&) = delete;
  PngImage& operator=(const PngImage&) = delete;
  png_image* get() { return &image_; }

 private:
  png_image image_;
};

std::string LibpngMessage(const png_image& image) {
  // `message` is a NUL-terminated char[64] that libpng fills on failure.
  return std::string(image.message, strnlen(image.message, sizeof image.message));
}

}  // namespace

Result<std::shared_ptr<const PreparedImage>> PrepareImage(ByteSpan png) {
  if (png.size() < sizeof kPngSignature ||
      std::memcmp(png.data(), kPngSignature, sizeof kPngSignature) != 0) {
    return InvalidArgument("appearance.not_png", "the image does not start with the PNG signature");
  }

  PngImage decoder;
  png_image* image = decoder.get();
  if (!png_image_begin_read_from_memory(image, png.data(), png.size())) {
    return InvalidArgument("appearance.bad_png", "libpng: " + LibpngMessage(*image));
  }
  const uint64_t pixels = uint64_t{image->width} * uint64_t{image->height};
  if (pixels == 0) {
    return InvalidArgument("appearance.bad_png", "the image has no pixels");
  }
  if (pixels > kMaxImagePixels) {
    return InvalidArgument("appearance.image_too_large",
                           std::to_string(image->width) + "x" + std::to_string(image->height) +
                               " pixels exceed the limit of " + std::to_string(kMaxImagePixels));
  }

  // 8-bit sRGB with straight (not premultiplied) alpha: libpng converts any bit depth, palette,
  // grey or 16-bit input, and expands tRNS to alpha.
  image->format = PNG_FORMAT_RGBA;
  Bytes rgba(PNG_IMAGE_SIZE(*image));
  if (!png_image_finish_read(image, /*background=*/nullptr, rgba.data(), /*row_stride=*/0,
                             /*colormap=*/nullptr)) {
    return InvalidArgument("appearance.bad_png", "libpng: " + LibpngMessage(*image));
  }

  Bytes rgb(pixels * 3);
  Bytes alpha(pixels);
  bool opaque = true;
  for (size_t i = 0; i < pixels; ++i) {
    rgb[i * 3 + 0] = rgba[i * 4 + 0];
    rgb[i * 3 + 1] = rgba[i * 4 + 1];
    rgb[i * 3 + 2] = rgba[i * 4 + 2];
    alpha[i] = rgba[i * 4 + 3];
    opaque = opaque && alpha[i] == 255;
  }

  auto prepared = std::make_shared<PreparedImage>();
  prepared->width = static_cast<int>(image->width);
  prepared->height = static_cast<int>(image->height);
  // Level 1: signature and seal images are mostly flat colour, which the fast matcher packs
  // nearly as tightly as level 6 at a quarter of the time (the signing latency budget).
  prepared->rgb_deflated = pdf::Deflate(rgb, 1);
  if (!opaque) prepared->alpha_deflated = pdf::Deflate(alpha, 1);
  if (prepared->rgb_deflated.empty() || (!opaque && prepared->alpha_deflated.empty())) {
    return Internal("appearance.bad_png", "zlib could not compress the image");
  }
  return std::shared_ptr<const PreparedImage>(std::move(prepared));
}

}  // namespace kyso::appearance
