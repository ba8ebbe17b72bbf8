#include "pdf/document.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <qpdf/QPDF.hh>
#include <qpdf/QPDFAcroFormDocumentHelper.hh>
#include <qpdf/QPDFPageDocumentHelper.hh>
#include <string_view>

#include "pdf/mdp.h"

namespace kyso::pdf {

using internal::DocMdpPermissionsOf;
using internal::LockOf;

namespace {

// A read-only private mapping of a whole file.
class MappedFile {
 public:
  static Result<std::shared_ptr<MappedFile>> Map(const std::string& path, size_t max_size) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      return InvalidArgument("pdf.unreadable", path + ": " + std::strerror(errno));
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      ::close(fd);
      return InvalidArgument("pdf.unreadable", path + ": not a regular file");
    }
    size_t size = static_cast<size_t>(st.st_size);
    if (size > max_size) {
      ::close(fd);
      return InvalidArgument("pdf.too_large", path + ": " + std::to_string(size) +
                                                  " bytes, over the limit of " +
                                                  std::to_string(max_size));
    }
    if (size == 0) {
      ::close(fd);
      return InvalidArgument("pdf.not_pdf", path + ": empty file");
    }
    void* data = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (data == MAP_FAILED) {
      int err = errno;
      ::close(fd);
      return InvalidArgument("pdf.unreadable", path + ": mmap: " + std::strerror(err));
    }
    // One sequential pass (hash, and copy when the kernel cannot) follows the parse.
    ::madvise(data, size, MADV_SEQUENTIAL);
    auto file = std::shared_ptr<MappedFile>(new MappedFile(static_cast<uint8_t*>(data), size, fd));
    return file;
  }
  ~MappedFile() {
    ::munmap(data_, size_);
    ::close(fd_);
  }
  ByteSpan bytes() const { return {data_, size_}; }
  int fd() const { return fd_; }

 private:
  MappedFile(uint8_t* data, size_t size, int fd) : data_(data), size_(size), fd_(fd) {}
  uint8_t* data_;
  size_t size_;
  int fd_;
};

bool IsPdfWhitespace(uint8_t c) {
  return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == 0;
}

// ISO 32000-1 §7.5.5: the last "startxref" line gives the offset of the last xref section.
Result<int64_t> FindStartXref(ByteSpan data) {
  std::string_view text(reinterpret_cast<const char*>(data.data()), data.size());
  size_t tail_from = text.size() > 2048 ? text.size() - 2048 : 0;
  size_t pos = text.rfind("startxref");
  if (pos == std::string_view::npos || pos < tail_from) {
    return InvalidArgument("pdf.damaged", "no startxref near the end of the file");
  }
  size_t i = pos + 9;
  while (i < text.size() && IsPdfWhitespace(static_cast<uint8_t>(text[i]))) ++i;
  int64_t value = 0;
  size_t digits = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9' && digits < 15) {
    value = value * 10 + (text[i] - '0');
    ++i;
    ++digits;
  }
  if (digits == 0 || value >= static_cast<int64_t>(data.size())) {
    return InvalidArgument("pdf.damaged", "startxref does not point into the file");
  }
  return value;
}

Rectangle ToRectangle(QPDFObjectHandle array) {
  Rectangle r;
  if (!array.isRectangle()) return r;
  auto q = array.getArrayAsRectangle();
  r.llx = std::min(q.llx, q.urx);
  r.urx = std::max(q.llx, q.urx);
  r.lly = std::min(q.lly, q.ury);
  r.ury = std::max(q.lly, q.ury);
  return r;
}

ObjectRef RefOf(const QPDFObjectHandle& oh) {
  return ObjectRef{oh.getObjectID(), oh.getGeneration()};
}

}  // namespace

bool SignatureFieldInfo::Locks(const std::string& other) const {
  if (!lock) return false;
  bool listed = std::find(lock->fields.begin(), lock->fields.end(), other) != lock->fields.end();
  switch (lock->action) {
    case FieldLock::Action::kAll:
      return true;
    case FieldLock::Action::kInclude:
      return listed;
    case FieldLock::Action::kExclude:
      return !listed;
  }
  return false;
}

struct Document::State {
  std::shared_ptr<MappedFile> mapped;
  std::shared_ptr<const Bytes> owned;
  ByteSpan bytes;
  std::unique_ptr<QPDF> qpdf;
  XrefKind xref_kind = XrefKind::kTable;
  int64_t startxref = 0;
  int size = 0;
  std::vector<QPDFPageObjectHelper> pages;
};

Status ParseDocument(Document::State& state) {
  ByteSpan data = state.bytes;
  std::string_view head(reinterpret_cast<const char*>(data.data()),
                        std::min<size_t>(data.size(), 1024));
  if (head.find("%PDF-") == std::string_view::npos) {
    return InvalidArgument("pdf.not_pdf", "no %PDF- header: not a PDF file");
  }
  KYSO_ASSIGN_OR_RETURN(state.startxref, FindStartXref(data));
  {
    size_t i = static_cast<size_t>(state.startxref);
    while (i < data.size() && IsPdfWhitespace(data[i])) ++i;
    state.xref_kind = (data.size() - i >= 4 && std::memcmp(data.data() + i, "xref", 4) == 0)
                          ? XrefKind::kTable
                          : XrefKind::kStream;
  }
  try {
    state.qpdf = std::make_unique<QPDF>();
    state.qpdf->setSuppressWarnings(true);
    // A damaged cross-reference table is an error, not something to sign on top of.
    state.qpdf->setAttemptRecovery(false);
    state.qpdf->processMemoryFile("document", reinterpret_cast<const char*>(data.data()),
                                  data.size());
    if (state.qpdf->isEncrypted()) {
      return InvalidArgument("pdf.encrypted",
                             "the PDF is encrypted; remove the encryption before signing");
    }
    auto trailer = state.qpdf->getTrailer();
    if (!trailer.getKey("/Size").isInteger() || !trailer.getKey("/Root").isDictionary()) {
      return InvalidArgument("pdf.damaged", "the trailer lacks /Size or /Root");
    }
    state.size = static_cast<int>(trailer.getKey("/Size").getIntValue());
    if (!trailer.getKey("/Root").isIndirect()) {
      return InvalidArgument("pdf.damaged", "the document catalog is not an indirect object");
    }
    state.pages = QPDFPageDocumentHelper(*state.qpdf).getAllPages();
    if (state.pages.empty()) {
      return InvalidArgument("pdf.damaged", "the document has no pages");
    }
    auto warnings = state.qpdf->getWarnings();
    if (!warnings.empty()) {
      return InvalidArgument("pdf.damaged", "QPDF: " + std::string(warnings.front().what()) +
                                                "; repair the file first");
    }
  } catch (const std::exception& e) {
    std::string what = e.what();
    if (what.find("password") != std::string::npos) {
      return InvalidArgument("pdf.encrypted", "the PDF is encrypted with a password");
    }
    return InvalidArgument("pdf.damaged", "QPDF: " + what);
  }
  return Status::Ok();
}

Document::Document(std::unique_ptr<State> state) : state_(std::move(state)) {}
Document::Document(Document&&) noexcept = default;
Document& Document::operator=(Document&&) noexcept = default;
Document::~Document() = default;

Result<Document> Document::Open(const std::string& path, const OpenOptions& options) {
  auto state = std::make_unique<State>();
  KYSO_ASSIGN_OR_RETURN(state->mapped, MappedFile::Map(path, options.max_size));
  state->bytes = state->mapped->bytes();
  KYSO_RETURN_IF_ERROR(ParseDocument(*state));
  return Document(std::move(state));
}

Result<Document> Document::FromBytes(std::shared_ptr<const Bytes> bytes,
                                     const OpenOptions& options) {
  if (bytes->size() > options.max_size) {
    return InvalidArgument("pdf.too_large", "the PDF is " + std::to_string(bytes->size()) +
                                                " bytes, over the limit of " +
                                                std::to_string(options.max_size));
  }
  if (bytes->empty()) return InvalidArgument("pdf.not_pdf", "empty document");
  auto state = std::make_unique<State>();
  state->owned = std::move(bytes);
  state->bytes = ByteSpan(*state->owned);
  KYSO_RETURN_IF_ERROR(ParseDocument(*state));
  return Document(std::move(state));
}

int Document::file_descriptor() const {
  return state_->mapped ? state_->mapped->fd() : -1;
}
ByteSpan Document::bytes() const {
  return state_->bytes;
}
XrefKind Document::xref_kind() const {
  return state_->xref_kind;
}
int64_t Document::startxref() const {
  return state_->startxref;
}
int Document::next_object_number() const {
  return state_->size;
}
QPDF& Document::qpdf() const {
  return *state_->qpdf;
}

ObjectRef Document::root() const {
  return RefOf(state_->qpdf->getTrailer().getKey("/Root"));
}

std::optional<ObjectRef> Document::info() const {
  auto info = state_->qpdf->getTrailer().getKey("/Info");
  if (!info.isIndirect()) return std::nullopt;
  return RefOf(info);
}

std::array<Bytes, 2> Document::id() const {
  std::array<Bytes, 2> out;
  try {
    auto id = state_->qpdf->getTrailer().getKey("/ID");
    if (id.isArray() && id.getArrayNItems() == 2) {
      for (int i = 0; i < 2; ++i) {
        auto item = id.getArrayItem(i);
        if (item.isString()) {
          std::string s = item.getStringValue();
          out[i].assign(s.begin(), s.end());
        }
      }
    }
  } catch (const std::exception&) {
  }
  return out;
}

int Document::page_count() const {
  return static_cast<int>(state_->pages.size());
}

Result<PageInfo> Document::Page(int number) const {
  if (number < 1 || number > page_count()) {
    return InvalidArgument("pdf.no_such_page", "page " + std::to_string(number) +
                                                   " does not exist; the document has " +
                                                   std::to_string(page_count()) + " pages");
  }
  try {
    auto& page = state_->pages[number - 1];
    PageInfo info;
    info.number = number;
    info.ref = RefOf(page.getObjectHandle());
    info.media_box = ToRectangle(page.getMediaBox());
    auto crop = page.getCropBox();
    info.crop_box = crop.isRectangle() ? ToRectangle(crop) : info.media_box;
    auto rotate = page.getAttribute("/Rotate", false);
    if (rotate.isInteger())
      info.rotate = static_cast<int>(((rotate.getIntValue() % 360) + 360) % 360);
    return info;
  } catch (const std::exception& e) {
    return InvalidArgument("pdf.damaged",
                           "page " + std::to_string(number) + ": " + std::string(e.what()));
  }
}

std::vector<SignatureFieldInfo> Document::SignatureFields() const {
  std::vector<SignatureFieldInfo> out;
  try {
    QPDFAcroFormDocumentHelper forms(*state_->qpdf);
    if (!forms.hasAcroForm()) return out;
    std::map<QPDFObjGen, int> page_of_widget;
    for (size_t i = 0; i < state_->pages.size(); ++i) {
      auto annots = state_->pages[i].getObjectHandle().getKey("/Annots");
      if (!annots.isArray()) continue;
      for (auto& a : annots.aitems()) {
        if (a.isIndirect()) page_of_widget.emplace(a.getObjGen(), static_cast<int>(i) + 1);
      }
    }
    for (auto& field : forms.getFormFields()) {
      if (field.getFieldType() != "/Sig") continue;
      for (auto& widget : forms.getAnnotationsForField(field)) {
        SignatureFieldInfo info;
        info.name = field.getFullyQualifiedName();
        info.field = RefOf(field.getObjectHandle());
        info.widget = RefOf(widget.getObjectHandle());
        auto it = page_of_widget.find(widget.getObjectHandle().getObjGen());
        info.page = it == page_of_widget.end() ? 0 : it->second;
        info.rect = ToRectangle(widget.getObjectHandle().getKey("/Rect"));
        auto value = field.getObjectHandle().getKey("/V");
        info.is_signed = value.isDictionary();
        if (value.isIndirect()) info.value = RefOf(value);
        if (info.is_signed) info.lock = LockOf(field.getObjectHandle(), value);
        out.push_back(std::move(info));
        break;  // a signature field has one widget (§12.7.4.5)
      }
    }
  } catch (const std::exception&) {
  }
  return out;
}

std::vector<ExistingSignature> Document::Signatures() const {
  std::vector<ExistingSignature> out;
  try {
    QPDFAcroFormDocumentHelper forms(*state_->qpdf);
    if (!forms.hasAcroForm()) return out;
    for (auto& field : forms.getFormFields()) {
      if (field.getFieldType() != "/Sig") continue;
      auto value = field.getObjectHandle().getKey("/V");
      if (!value.isDictionary()) continue;
      ExistingSignature sig;
      sig.field_name = field.getFullyQualifiedName();
      auto sub = value.getKey("/SubFilter");
      if (sub.isName()) sig.sub_filter = sub.getName().substr(1);
      auto type = value.getKey("/Type");
      sig.is_document_timestamp = type.isName() && type.getName() == "/DocTimeStamp";
      sig.docmdp_permissions = DocMdpPermissionsOf(value);
      out.push_back(std::move(sig));
    }
  } catch (const std::exception&) {
  }
  return out;
}

std::optional<int> Document::CertificationPermissions() const {
  try {
    auto perms = state_->qpdf->getRoot().getKey("/Perms");
    if (!perms.isDictionary()) return std::nullopt;
    return DocMdpPermissionsOf(perms.getKey("/DocMDP"));
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

}  // namespace kyso::pdf
