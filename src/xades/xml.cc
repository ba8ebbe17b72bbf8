#include "xades/xml.h"

#include <libxml/parser.h>
#include <libxml/valid.h>
#include <xmlsec/crypto.h>
#include <xmlsec/errors.h>
#include <xmlsec/io.h>
#include <xmlsec/nodeset.h>
#include <xmlsec/xmlsec.h>

#include <cctype>
#include <mutex>

namespace kyso::xades {

namespace {

thread_local std::string last_error;

void CaptureError(const char* file, int line, const char* func, const char* error_object,
                  const char* error_subject, int reason, const char* msg) {
  std::string text;
  for (int i = 0; xmlSecErrorsGetMsg(i) != nullptr; ++i) {
    if (xmlSecErrorsGetCode(i) == reason) {
      text = xmlSecErrorsGetMsg(i);
      break;
    }
  }
  if (error_subject != nullptr) text += std::string(text.empty() ? "" : ": ") + error_subject;
  if (msg != nullptr && *msg) text += std::string(text.empty() ? "" : ": ") + msg;
  // The first error of a failed operation is the cause; later ones are its echoes upward.
  if (last_error.empty()) last_error = text;
}

// No DTD, external entity or XInclude is ever loaded, whatever a caller's parser options say.
xmlParserInputPtr RefuseExternalEntity(const char*, const char*, xmlParserCtxtPtr) {
  return nullptr;
}

Status DtdForbidden() {
  return InvalidArgument("xml.dtd_forbidden",
                         "the document has a DOCTYPE: DTDs and entities are not accepted in "
                         "signed XML (XXE, entity expansion)");
}

}  // namespace

void EnsureXmlsec() {
  static std::once_flag once;
  std::call_once(once, [] {
    xmlInitParser();
    xmlSetExternalEntityLoader(RefuseExternalEntity);
    xmlSecInit();
    xmlSecOpenSSLAppInit(nullptr);
    xmlSecOpenSSLInit();
    // xmlsec registers file, HTTP and FTP readers for Reference URIs; kyso resolves references
    // within the document only, so there is nothing to read with.
    xmlSecIOCleanupCallbacks();
    xmlSecErrorsSetCallback(CaptureError);
  });
}

std::string LastXmlsecError() {
  return last_error;
}
void ClearXmlsecError() {
  last_error.clear();
}

Result<XmlDocPtr> ParseUntrusted(ByteSpan bytes) {
  EnsureXmlsec();
  if (bytes.size() > kMaxXmlBytes) {
    return InvalidArgument("xml.too_large", "the XML document exceeds 256 MiB");
  }
  // No XML_PARSE_NOENT (entities stay unexpanded), XML_PARSE_DTDLOAD, XML_PARSE_DTDATTR or
  // XML_PARSE_HUGE (depth ≤ 256, bounded text nodes); no network.
  int options = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING;
  xmlDoc* raw = xmlReadMemory(reinterpret_cast<const char*>(bytes.data()),
                              static_cast<int>(bytes.size()), "document.xml", nullptr, options);
  if (raw == nullptr) {
    // libxml2 stops some entity bombs itself ("entity reference loop"): still a DTD refused.
    if (AsString(bytes).find("<!DOCTYPE") != std::string_view::npos) {
      return DtdForbidden();
    }
    const xmlError* e = xmlGetLastError();
    std::string why = e && e->message ? e->message : "not well-formed";
    while (!why.empty() && std::isspace(static_cast<unsigned char>(why.back()))) why.pop_back();
    if (e != nullptr) why = "line " + std::to_string(e->line) + ": " + why;
    return InvalidArgument("xml.malformed", why);
  }
  XmlDocPtr doc(raw);
  if (doc->intSubset != nullptr || doc->extSubset != nullptr) {
    return DtdForbidden();
  }
  if (xmlDocGetRootElement(doc.get()) == nullptr) {
    return InvalidArgument("xml.empty", "the document has no root element");
  }
  return doc;
}

std::set<std::string> RegisterIds(xmlDoc* doc) {
  std::set<std::string> duplicates;
  std::vector<xmlNode*> stack{xmlDocGetRootElement(doc)};
  while (!stack.empty()) {
    xmlNode* node = stack.back();
    stack.pop_back();
    for (xmlAttr* a = node->properties; a != nullptr; a = a->next) {
      bool xml_id = a->ns != nullptr && a->ns->prefix != nullptr &&
                    xmlStrEqual(a->ns->prefix, BAD_CAST "xml") &&
                    xmlStrEqual(a->name, BAD_CAST "id");
      bool id = a->ns == nullptr &&
                (xmlStrEqual(a->name, BAD_CAST "Id") || xmlStrEqual(a->name, BAD_CAST "ID") ||
                 xmlStrEqual(a->name, BAD_CAST "id"));
      if (!xml_id && !id) continue;
      xmlChar* value = xmlNodeListGetString(doc, a->children, 1);
      if (value == nullptr) continue;
      xmlAttr* existing = xmlGetID(doc, value);
      if (existing == nullptr) {
        xmlAddID(nullptr, doc, value, a);
      } else if (existing != a) {
        duplicates.insert(reinterpret_cast<const char*>(value));
      }
      xmlFree(value);
    }
    for (xmlNode* c = node->last; c != nullptr; c = c->prev) {
      if (c->type == XML_ELEMENT_NODE) stack.push_back(c);
    }
  }
  return duplicates;
}

std::string Attribute(const xmlNode* node, const char* name) {
  xmlChar* v = xmlGetNoNsProp(node, BAD_CAST name);
  if (v == nullptr) return "";
  std::string s(reinterpret_cast<const char*>(v));
  xmlFree(v);
  return s;
}

std::string Text(const xmlNode* node) {
  xmlChar* v = xmlNodeGetContent(node);
  if (v == nullptr) return "";
  std::string s(reinterpret_cast<const char*>(v));
  xmlFree(v);
  return s;
}

bool Is(const xmlNode* node, const char* ns, const char* local_name) {
  return node != nullptr && node->type == XML_ELEMENT_NODE &&
         (local_name == nullptr || xmlStrEqual(node->name, BAD_CAST local_name)) &&
         (ns == nullptr || (node->ns != nullptr && xmlStrEqual(node->ns->href, BAD_CAST ns)));
}

std::vector<xmlNode*> Children(const xmlNode* node, const char* ns, const char* local_name) {
  std::vector<xmlNode*> out;
  if (node == nullptr) return out;
  for (xmlNode* c = node->children; c != nullptr; c = c->next) {
    if (Is(c, ns, local_name)) out.push_back(c);
  }
  return out;
}

xmlNode* Child(const xmlNode* node, const char* ns, const char* local_name) {
  if (node == nullptr) return nullptr;
  for (xmlNode* c = node->children; c != nullptr; c = c->next) {
    if (Is(c, ns, local_name)) return c;
  }
  return nullptr;
}

std::vector<xmlNode*> Descendants(xmlNode* node, const char* ns, const char* local_name) {
  std::vector<xmlNode*> out;
  if (node == nullptr) return out;
  std::vector<xmlNode*> stack{node};
  while (!stack.empty()) {
    xmlNode* n = stack.back();
    stack.pop_back();
    if (Is(n, ns, local_name)) out.push_back(n);
    for (xmlNode* c = n->last; c != nullptr; c = c->prev) {
      if (c->type == XML_ELEMENT_NODE) stack.push_back(c);
    }
  }
  return out;
}

namespace {
std::string QualifiedName(const xmlNode* node) {
  std::string name = reinterpret_cast<const char*>(node->name);
  if (node->ns != nullptr && node->ns->prefix != nullptr) {
    name = std::string(reinterpret_cast<const char*>(node->ns->prefix)) + ":" + name;
  }
  return name;
}
}  // namespace

std::string PathOf(const xmlNode* node) {
  std::string path;
  for (const xmlNode* n = node; n != nullptr && n->type == XML_ELEMENT_NODE; n = n->parent) {
    int index = 0, same = 0;
    for (const xmlNode* s = n->parent ? n->parent->children : nullptr; s; s = s->next) {
      if (s->type != XML_ELEMENT_NODE || !xmlStrEqual(s->name, n->name)) continue;
      ++same;
      if (s == n) index = same;
    }
    std::string step = QualifiedName(n);
    if (same > 1) step += "[" + std::to_string(index) + "]";
    path = "/" + step + path;
  }
  return path;
}

std::string Describe(const xmlNode* node) {
  std::string out = "<" + QualifiedName(node);
  for (const char* name : {"Id", "ID", "id"}) {
    std::string v = Attribute(node, name);
    if (!v.empty()) out += std::string(" ") + name + "=\"" + v + "\"";
  }
  return out + ">";
}

Result<Bytes> Canonicalize(xmlNode* node, xmlSecTransformId c14n) {
  EnsureXmlsec();
  std::unique_ptr<xmlSecTransformCtx, decltype(&xmlSecTransformCtxDestroy)> ctx(
      xmlSecTransformCtxCreate(), &xmlSecTransformCtxDestroy);
  if (!ctx || xmlSecTransformCtxCreateAndAppend(ctx.get(), c14n) == nullptr) {
    return Internal("xml.c14n", "cannot set up canonicalization");
  }
  return Canonicalize(node, ctx.get());
}

Result<Bytes> Canonicalize(xmlNode* node, xmlSecTransformCtx* ctx) {
  xmlSecNodeSetPtr nodes = xmlSecNodeSetGetChildren(node->doc, node, 1, 0);
  if (nodes == nullptr) return Internal("xml.c14n", "cannot select the node set");
  int ret = xmlSecTransformCtxXmlExecute(ctx, nodes);
  xmlSecNodeSetDestroy(nodes);
  if (ret < 0 || ctx->result == nullptr) {
    return InvalidArgument("xml.c14n", "canonicalization failed: " + LastXmlsecError());
  }
  const uint8_t* data = xmlSecBufferGetData(ctx->result);
  return Bytes(data, data + xmlSecBufferGetSize(ctx->result));
}

xmlSecTransformId C14nByUri(const std::string& uri) {
  for (xmlSecTransformId id : {xmlSecTransformInclC14NId, xmlSecTransformInclC14NWithCommentsId,
                               xmlSecTransformInclC14N11Id, xmlSecTransformInclC14N11WithCommentsId,
                               xmlSecTransformExclC14NId, xmlSecTransformExclC14NWithCommentsId}) {
    if (xmlStrEqual(id->href, BAD_CAST uri.c_str())) return id;
  }
  return nullptr;
}

std::optional<Bytes> DecodeBase64Text(const std::string& text) {
  std::string compact;
  compact.reserve(text.size());
  for (char c : text) {
    if (!std::isspace(static_cast<unsigned char>(c))) compact.push_back(c);
  }
  return Base64Decode(compact);
}

}  // namespace kyso::xades
