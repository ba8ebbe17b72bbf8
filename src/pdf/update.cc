#include "pdf/update.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <qpdf/Buffer.hh>
#include <qpdf/QPDF.hh>
#include <set>

namespace kyso::pdf {

namespace {

ObjectRef RefOf(const QPDFObjectHandle& oh) {
  return ObjectRef{oh.getObjectID(), oh.getGeneration()};
}

void AppendText(Bytes& out, std::string_view text) {
  out.insert(out.end(), text.begin(), text.end());
}

// The text of `dict` with the keys of `set` replaced or added (values are serialized objects)
// and the keys of `remove` dropped. Untouched values are QPDF's unparse of the originals, in
// which indirect objects stay references ("12 0 R").
std::string EditDictionary(QPDFObjectHandle dict, const std::map<std::string, std::string>& set,
                           const std::set<std::string>& remove = {}) {
  std::string out = "<<";
  if (dict.isDictionary()) {
    for (const auto& key : dict.getKeys()) {
      if (set.count(key) || remove.count(key)) continue;
      out += ' ';
      out += NameObject(key.substr(1));
      out += ' ';
      out += dict.getKey(key).unparse();
    }
  }
  for (const auto& [key, value] : set) {
    out += ' ';
    out += NameObject(key.substr(1));
    out += ' ';
    out += value;
  }
  out += " >>";
  return out;
}

// "[ item item ... extra ]" from an existing array (or nothing) and new items.
std::string ExtendArray(QPDFObjectHandle array, const std::vector<std::string>& extra) {
  std::string out = "[";
  if (array.isArray()) {
    for (auto& item : array.aitems()) {
      out += item.unparse();
      out += ' ';
    }
  }
  for (const auto& e : extra) {
    out += e;
    out += ' ';
  }
  if (out.back() == ' ') out.pop_back();
  out += ']';
  return out;
}

std::string RectText(const Rectangle& r) {
  return "[" + Number(r.llx) + " " + Number(r.lly) + " " + Number(r.urx) + " " + Number(r.ury) +
         "]";
}

std::string FieldLockText(const FieldLock& lock, bool sig_field_lock) {
  std::string out = sig_field_lock ? "<< /Type /SigFieldLock" : "<< /Type /TransformParams";
  switch (lock.action) {
    case FieldLock::Action::kAll:
      out += " /Action /All";
      break;
    case FieldLock::Action::kInclude:
      out += " /Action /Include";
      break;
    case FieldLock::Action::kExclude:
      out += " /Action /Exclude";
      break;
  }
  if (lock.action != FieldLock::Action::kAll) {
    out += " /Fields [";
    for (size_t i = 0; i < lock.fields.size(); ++i) {
      if (i) out += ' ';
      out += TextString(lock.fields[i]);
    }
    out += ']';
  }
  if (!sig_field_lock) out += " /V /1.2";
  out += " >>";
  return out;
}

constexpr std::string_view kByteRangePlaceholder = "[0 0000000000 0000000000 0000000000]";

}  // namespace

Update::Update(const Document& base) : base_(base), next_number_(base.next_object_number()) {}

ObjectRef Update::Allocate() {
  return ObjectRef{next_number_++, 0};
}

void Update::Put(ObjectRef ref, std::string body) {
  for (auto& e : entries_) {
    if (e.ref == ref) {
      e.body = std::move(body);
      e.stream.reset();
      return;
    }
  }
  entries_.push_back(Entry{ref, std::move(body), std::nullopt});
}

void Update::PutStream(ObjectRef ref, std::string dictionary, Bytes data) {
  // "/Length n" goes before the dictionary's closing ">>".
  size_t close = dictionary.rfind(">>");
  if (close == std::string::npos) close = dictionary.size();
  dictionary.insert(close, " /Length " + std::to_string(data.size()) + " ");
  for (auto& e : entries_) {
    if (e.ref == ref) {
      e.body = std::move(dictionary);
      e.stream = std::move(data);
      return;
    }
  }
  entries_.push_back(Entry{ref, std::move(dictionary), std::move(data)});
}

Update::Serialized Update::Serialize() const {
  Serialized out;
  Bytes& bytes = out.bytes;
  ByteSpan base = base_.bytes();
  const int64_t base_size = static_cast<int64_t>(base.size());
  if (!base.empty() && base.back() != '\n' && base.back() != '\r') bytes.push_back('\n');

  std::vector<const Entry*> sorted;
  for (const auto& e : entries_) sorted.push_back(&e);
  std::sort(sorted.begin(), sorted.end(),
            [](const Entry* a, const Entry* b) { return a->ref.number < b->ref.number; });

  std::vector<std::pair<ObjectRef, int64_t>> xref;  // (ref, absolute offset)
  for (const Entry* e : sorted) {
    size_t offset = bytes.size();
    out.object_offsets[e->ref.number] = offset;
    xref.emplace_back(e->ref, base_size + static_cast<int64_t>(offset));
    AppendText(bytes,
               std::to_string(e->ref.number) + " " + std::to_string(e->ref.generation) + " obj\n");
    out.body_offsets[e->ref.number] = bytes.size();
    AppendText(bytes, e->body);
    if (e->stream) {
      AppendText(bytes, "\nstream\n");
      bytes.insert(bytes.end(), e->stream->begin(), e->stream->end());
      AppendText(bytes, "\nendstream");
    }
    AppendText(bytes, "\nendobj\n");
  }

  int size = next_number_;
  for (const Entry* e : sorted) size = std::max(size, e->ref.number + 1);

  std::string trailer_keys = " /Root " + base_.root().ToString();
  if (auto info = base_.info()) trailer_keys += " /Info " + info->ToString();
  auto id = base_.id();
  if (!id[0].empty()) trailer_keys += " /ID [" + HexString(id[0]) + " " + HexString(id[1]) + "]";
  trailer_keys += " /Prev " + std::to_string(base_.startxref());

  // Consecutive object numbers form one subsection (§7.5.4) or one /Index pair (§7.5.8.2).
  auto subsections = [](const std::vector<std::pair<ObjectRef, int64_t>>& entries) {
    std::vector<std::pair<size_t, size_t>> runs;  // (first index, count)
    for (size_t i = 0; i < entries.size(); ++i) {
      if (!runs.empty() && entries[i].first.number == entries[i - 1].first.number + 1) {
        ++runs.back().second;
      } else {
        runs.emplace_back(i, 1);
      }
    }
    return runs;
  };

  int64_t xref_offset = base_size + static_cast<int64_t>(bytes.size());
  if (base_.xref_kind() == XrefKind::kTable) {
    AppendText(bytes, "xref\n");
    for (auto [first, count] : subsections(xref)) {
      AppendText(bytes,
                 std::to_string(xref[first].first.number) + " " + std::to_string(count) + "\n");
      for (size_t i = first; i < first + count; ++i) {
        char line[32];
        std::snprintf(line, sizeof line, "%010lld %05d n\r\n",
                      static_cast<long long>(xref[i].second), xref[i].first.generation);
        AppendText(bytes, line);
      }
    }
    AppendText(bytes, "trailer\n<< /Size " + std::to_string(size) + trailer_keys + " >>\n");
  } else {
    ObjectRef self{size, 0};
    ++size;
    xref.emplace_back(self, xref_offset);
    int64_t max_offset = xref_offset;
    int width = 1;
    while (width < 8 && (max_offset >> (8 * width)) != 0) ++width;
    width = std::max(width, 4);
    Bytes data;
    for (const auto& [ref, offset] : xref) {
      data.push_back(1);
      for (int k = width - 1; k >= 0; --k) data.push_back(static_cast<uint8_t>(offset >> (8 * k)));
      data.push_back(static_cast<uint8_t>(ref.generation >> 8));
      data.push_back(static_cast<uint8_t>(ref.generation & 0xFF));
    }
    std::string index;
    for (auto [first, count] : subsections(xref)) {
      if (!index.empty()) index += ' ';
      index += std::to_string(xref[first].first.number) + " " + std::to_string(count);
    }
    AppendText(bytes, std::to_string(self.number) + " 0 obj\n<< /Type /XRef /Size " +
                          std::to_string(size) + " /W [1 " + std::to_string(width) +
                          " 2] /Index [" + index + "]" + trailer_keys + " /Length " +
                          std::to_string(data.size()) + " >>\nstream\n");
    bytes.insert(bytes.end(), data.begin(), data.end());
    AppendText(bytes, "\nendstream\nendobj\n");
  }
  AppendText(bytes, "startxref\n" + std::to_string(xref_offset) + "\n%%EOF\n");
  return out;
}

Result<PreparedSignature> PrepareSignature(const Document& document,
                                           const SignaturePlacement& placement,
                                           const SignatureSpec& spec,
                                           const AppearanceWriter& appearance) {
  if (spec.docmdp_permissions && (*spec.docmdp_permissions < 1 || *spec.docmdp_permissions > 3)) {
    return InvalidArgument("pdf.invalid_option", "DocMDP permissions must be 1, 2 or 3");
  }
  if (spec.lock && spec.lock->action != FieldLock::Action::kAll && spec.lock->fields.empty()) {
    return InvalidArgument("pdf.invalid_option", "a FieldMDP Include/Exclude lock needs fields");
  }
  if (spec.contents_size == 0 || spec.contents_size > (size_t{8} << 20)) {
    return InvalidArgument("pdf.invalid_option", "the reserved /Contents size is out of range");
  }
  auto existing_signatures = document.Signatures();
  if (spec.docmdp_permissions && !existing_signatures.empty()) {
    return InvalidArgument("pdf.certify_not_first",
                           "a certification signature must be the first signature of the "
                           "document (ISO 32000-1 §12.8.1); it already has " +
                               std::to_string(existing_signatures.size()));
  }
  if (!spec.document_timestamp && document.CertificationPermissions() == 1) {
    return InvalidArgument("pdf.docmdp_forbids",
                           "the document is certified with DocMDP P=1: no further change, "
                           "signatures included, is permitted");
  }

  PreparedSignature prepared;
  Update update(document);
  QPDF& qpdf = document.qpdf();
  try {
    auto fields = document.SignatureFields();
    const SignatureFieldInfo* existing = nullptr;
    if (placement.field_name) {
      for (const auto& f : fields) {
        if (f.name == *placement.field_name) existing = &f;
      }
      if (existing == nullptr && !placement.create_field) {
        return InvalidArgument("pdf.field_missing", "the document has no signature field named '" +
                                                        *placement.field_name + "'");
      }
      if (existing && existing->is_signed) {
        return InvalidArgument("pdf.field_signed",
                               "the signature field '" + existing->name + "' is already signed");
      }
      if (existing) {
        for (const auto& f : fields) {
          if (f.is_signed && f.Locks(existing->name)) {
            return InvalidArgument("pdf.field_locked", "the signature in field '" + f.name +
                                                           "' locks the field '" + existing->name +
                                                           "' (FieldMDP, ISO 32000-1 §12.8.2.4)");
          }
        }
      }
      if (existing && existing->page == 0) {
        return InvalidArgument("pdf.field_not_on_page",
                               "the signature field '" + existing->name + "' is on no page");
      }
    }

    std::string field_name;
    if (existing) {
      field_name = existing->name;
    } else if (placement.field_name) {
      field_name = *placement.field_name;
    } else {
      std::set<std::string> taken;
      for (const auto& f : fields) taken.insert(f.name);
      for (int i = 1;; ++i) {
        field_name = (spec.document_timestamp ? "DocTimeStamp" : "Signature") + std::to_string(i);
        if (!taken.count(field_name)) break;
      }
    }
    int page_number = existing ? existing->page : placement.page;
    KYSO_ASSIGN_OR_RETURN(PageInfo page, document.Page(page_number));
    Rectangle rect;
    if (existing) {
      rect = existing->rect;
    } else if (placement.rect) {
      rect = *placement.rect;
      const Rectangle& box = page.crop_box;
      constexpr double kTolerance = 0.01;
      bool finite = std::isfinite(rect.llx) && std::isfinite(rect.lly) && std::isfinite(rect.urx) &&
                    std::isfinite(rect.ury);
      if (!finite || rect.width() <= 0 || rect.height() <= 0 || rect.llx < box.llx - kTolerance ||
          rect.lly < box.lly - kTolerance || rect.urx > box.urx + kTolerance ||
          rect.ury > box.ury + kTolerance) {
        return InvalidArgument("pdf.rect_off_page",
                               "the rectangle " + RectText(rect) + " is not inside page " +
                                   std::to_string(page_number) + " (" + RectText(box) + ")");
      }
    }
    bool visible = rect.width() > 0 && rect.height() > 0;
    prepared.field_name = field_name;
    prepared.widget_rect = rect;
    prepared.page = page_number;

    // The signature dictionary (§12.8.1 Table 252).
    ObjectRef sig_ref = update.Allocate();
    std::string sig_prefix =
        spec.document_timestamp
            ? "<< /Type /DocTimeStamp /Filter /Adobe.PPKLite /SubFilter /ETSI.RFC3161 /ByteRange "
            : "<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached /ByteRange ";
    std::string sig_body = sig_prefix;
    size_t byte_range_in_body = sig_body.size();
    sig_body += kByteRangePlaceholder;
    sig_body += " /Contents ";
    size_t contents_in_body = sig_body.size();
    sig_body += '<';
    sig_body.append(spec.contents_size * 2, '0');
    sig_body += '>';
    if (!spec.document_timestamp) {
      if (spec.signing_time) {
        sig_body += " /M " + DateString(*spec.signing_time, spec.utc_offset_minutes);
      }
      if (spec.name) sig_body += " /Name " + TextString(*spec.name);
      if (spec.reason) sig_body += " /Reason " + TextString(*spec.reason);
      if (spec.location) sig_body += " /Location " + TextString(*spec.location);
      if (spec.contact_info) sig_body += " /ContactInfo " + TextString(*spec.contact_info);
      std::string references;
      if (spec.docmdp_permissions) {
        references +=
            "<< /Type /SigRef /TransformMethod /DocMDP /TransformParams << /Type "
            "/TransformParams /P " +
            std::to_string(*spec.docmdp_permissions) + " /V /1.2 >> >>";
      }
      if (spec.lock) {
        if (!references.empty()) references += ' ';
        references += "<< /Type /SigRef /TransformMethod /FieldMDP /TransformParams " +
                      FieldLockText(*spec.lock, false) + " >>";
      }
      if (!references.empty()) sig_body += " /Reference [" + references + "]";
    }
    sig_body += " /Prop_Build << /App << /Name " + NameObject(spec.producer) + " >> >> >>";
    update.Put(sig_ref, sig_body);

    // The appearance (§12.7.4.5: a signature widget should have one even when invisible).
    ObjectRef ap_ref;
    if (visible && appearance && !spec.document_timestamp) {
      KYSO_ASSIGN_OR_RETURN(ap_ref, appearance(rect.width(), rect.height(), update));
    } else {
      ap_ref = update.Allocate();
      std::string bbox = "[0 0 " + Number(rect.width()) + " " + Number(rect.height()) + "]";
      update.PutStream(ap_ref, "<< /Type /XObject /Subtype /Form /BBox " + bbox + " >>", Bytes{});
    }

    std::map<std::string, std::string> catalog_edits;
    QPDFObjectHandle root = qpdf.getRoot();
    QPDFObjectHandle acroform = root.getKey("/AcroForm");
    std::map<std::string, std::string> acroform_edits = {{"/SigFlags", "3"}};
    std::string lock_text = spec.lock ? FieldLockText(*spec.lock, true) : "";

    if (existing) {
      QPDFObjectHandle field =
          qpdf.getObjectByID(existing->field.number, existing->field.generation);
      QPDFObjectHandle widget =
          qpdf.getObjectByID(existing->widget.number, existing->widget.generation);
      std::map<std::string, std::string> field_edits = {{"/V", sig_ref.ToString()}};
      if (!lock_text.empty()) field_edits["/Lock"] = lock_text;
      std::map<std::string, std::string> widget_edits = {
          {"/AP", "<< /N " + ap_ref.ToString() + " >>"}};
      int flags =
          widget.getKey("/F").isInteger() ? static_cast<int>(widget.getKey("/F").getIntValue()) : 0;
      widget_edits["/F"] =
          std::to_string((flags | 4 | 128) & ~(1 | 2 | 32));  // Print, Locked; not Hidden
      if (existing->field == existing->widget) {
        field_edits.insert(widget_edits.begin(), widget_edits.end());
        update.Put(existing->field, EditDictionary(field, field_edits));
      } else {
        update.Put(existing->field, EditDictionary(field, field_edits));
        update.Put(existing->widget, EditDictionary(widget, widget_edits));
      }
    } else {
      ObjectRef widget_ref = update.Allocate();
      std::string widget = "<< /Type /Annot /Subtype /Widget /FT /Sig /T " +
                           TextString(field_name) + " /V " + sig_ref.ToString() + " /F 132 /P " +
                           page.ref.ToString() + " /Rect " + RectText(rect) + " /AP << /N " +
                           ap_ref.ToString() + " >>";
      if (!lock_text.empty()) widget += " /Lock " + lock_text;
      widget += " >>";
      update.Put(widget_ref, widget);

      // The page's /Annots (§12.5.2), in place when it is an indirect array.
      QPDFObjectHandle page_obj = qpdf.getObjectByID(page.ref.number, page.ref.generation);
      QPDFObjectHandle annots = page_obj.getKey("/Annots");
      if (annots.isArray() && annots.isIndirect()) {
        update.Put(RefOf(annots), ExtendArray(annots, {widget_ref.ToString()}));
      } else {
        update.Put(
            page.ref,
            EditDictionary(page_obj, {{"/Annots", ExtendArray(annots, {widget_ref.ToString()})}}));
      }
      // The form's /Fields (§12.7.2).
      if (acroform.isDictionary()) {
        QPDFObjectHandle field_list = acroform.getKey("/Fields");
        if (field_list.isArray() && field_list.isIndirect()) {
          update.Put(RefOf(field_list), ExtendArray(field_list, {widget_ref.ToString()}));
        } else {
          acroform_edits["/Fields"] = ExtendArray(field_list, {widget_ref.ToString()});
        }
      } else {
        acroform_edits["/Fields"] = "[" + widget_ref.ToString() + "]";
      }
    }

    bool sigflags_set = acroform.isDictionary() && acroform.getKey("/SigFlags").isInteger() &&
                        acroform.getKey("/SigFlags").getIntValue() == 3;
    if (!(sigflags_set && acroform_edits.size() == 1)) {
      if (acroform.isDictionary() && acroform.isIndirect()) {
        update.Put(RefOf(acroform), EditDictionary(acroform, acroform_edits));
      } else {
        catalog_edits["/AcroForm"] = EditDictionary(acroform, acroform_edits);
      }
    }
    if (spec.docmdp_permissions) {
      catalog_edits["/Perms"] = "<< /DocMDP " + sig_ref.ToString() + " >>";
    }
    if (!catalog_edits.empty()) update.Put(document.root(), EditDictionary(root, catalog_edits));

    Update::Serialized serialized = update.Serialize();
    size_t sig_body_offset = serialized.body_offsets.at(sig_ref.number);
    prepared.contents_offset = sig_body_offset + contents_in_body;
    prepared.contents_length = spec.contents_size * 2 + 2;
    int64_t base_size = static_cast<int64_t>(document.bytes().size());
    int64_t total = base_size + static_cast<int64_t>(serialized.bytes.size());
    int64_t a = base_size + static_cast<int64_t>(prepared.contents_offset);
    int64_t b = a + static_cast<int64_t>(prepared.contents_length);
    prepared.byte_range = {0, a, b, total - b};
    std::string range =
        "[0 " + std::to_string(a) + " " + std::to_string(b) + " " + std::to_string(total - b) + "]";
    if (range.size() > kByteRangePlaceholder.size()) {
      return InvalidArgument("pdf.too_large", "the signed file would exceed 10 GB");
    }
    range.append(kByteRangePlaceholder.size() - range.size(), ' ');
    std::memcpy(serialized.bytes.data() + sig_body_offset + byte_range_in_body, range.data(),
                range.size());
    prepared.update = std::move(serialized.bytes);
  } catch (const std::exception& e) {
    return InvalidArgument("pdf.damaged", std::string("QPDF: ") + e.what());
  }
  return prepared;
}

Result<Bytes> PrepareDss(const Document& document, const DssData& data) {
  Update update(document);
  QPDF& qpdf = document.qpdf();
  try {
    QPDFObjectHandle root = qpdf.getRoot();
    QPDFObjectHandle dss = root.getKey("/DSS");
    auto write_all = [&](const std::vector<Bytes>& items) {
      std::vector<std::string> refs;
      for (const auto& item : items) {
        ObjectRef ref = update.Allocate();
        update.PutStream(ref, "<< >>", item);
        refs.push_back(ref.ToString());
      }
      return refs;
    };
    std::vector<std::string> certs = write_all(data.certificates);
    std::vector<std::string> ocsps = write_all(data.ocsp_responses);
    std::vector<std::string> crls = write_all(data.crls);
    auto pick = [](const std::vector<std::string>& refs, const std::vector<size_t>& indices) {
      std::string out = "[";
      for (size_t i : indices) {
        if (i >= refs.size()) continue;
        if (out.size() > 1) out += ' ';
        out += refs[i];
      }
      return out + "]";
    };
    std::map<std::string, std::string> vri_edits;
    for (const auto& vri : data.vri) {
      std::string entry = "<<";
      if (!vri.certificates.empty()) entry += " /Cert " + pick(certs, vri.certificates);
      if (!vri.ocsp_responses.empty()) entry += " /OCSP " + pick(ocsps, vri.ocsp_responses);
      if (!vri.crls.empty()) entry += " /CRL " + pick(crls, vri.crls);
      entry += " >>";
      vri_edits["/" + vri.key] = entry;
    }
    QPDFObjectHandle old_vri =
        dss.isDictionary() ? dss.getKey("/VRI") : QPDFObjectHandle::newNull();
    std::map<std::string, std::string> dss_edits = {
        {"/Type", "/DSS"},
        {"/Certs",
         ExtendArray(dss.isDictionary() ? dss.getKey("/Certs") : QPDFObjectHandle::newNull(),
                     certs)},
        {"/OCSPs",
         ExtendArray(dss.isDictionary() ? dss.getKey("/OCSPs") : QPDFObjectHandle::newNull(),
                     ocsps)},
        {"/CRLs",
         ExtendArray(dss.isDictionary() ? dss.getKey("/CRLs") : QPDFObjectHandle::newNull(), crls)},
        {"/VRI", EditDictionary(old_vri, vri_edits)},
    };
    ObjectRef dss_ref = update.Allocate();
    update.Put(dss_ref, EditDictionary(dss, dss_edits));
    update.Put(document.root(), EditDictionary(root, {{"/DSS", dss_ref.ToString()}}));
    return update.Serialize().bytes;
  } catch (const std::exception& e) {
    return InvalidArgument("pdf.damaged", std::string("QPDF: ") + e.what());
  }
}

Result<DssData> ReadDss(const Document& document) {
  DssData data;
  try {
    QPDFObjectHandle dss = document.qpdf().getRoot().getKey("/DSS");
    if (!dss.isDictionary()) return data;
    auto read = [&](const char* key, std::vector<Bytes>& out) {
      QPDFObjectHandle list = dss.getKey(key);
      if (!list.isArray()) return;
      // Bounded: a DSS holds a chain's worth of items, not millions.
      int n = std::min(list.getArrayNItems(), 1000);
      for (int i = 0; i < n; ++i) {
        QPDFObjectHandle item = list.getArrayItem(i);
        if (!item.isStream()) continue;
        auto buffer = item.getStreamData(qpdf_dl_generalized);
        out.emplace_back(buffer->getBuffer(), buffer->getBuffer() + buffer->getSize());
      }
    };
    read("/Certs", data.certificates);
    read("/OCSPs", data.ocsp_responses);
    read("/CRLs", data.crls);
  } catch (const std::exception& e) {
    return InvalidArgument("pdf.damaged", std::string("reading the DSS: ") + e.what());
  }
  return data;
}

}  // namespace kyso::pdf
