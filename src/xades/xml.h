// Internal to xades/: libxml2 and xmlsec1 (OpenSSL back end) behind RAII, the one place of
// kyso that parses XML. Not for other modules: they see xades/xades.h only.
//
// Untrusted XML is read with no network, no DTD and no entity substitution (XXE), libxml2's
// default limits on depth (256) and text size (no XML_PARSE_HUGE), and a document with a
// DOCTYPE is refused outright, so no entity can be declared, let alone expanded.
#pragma once

#include <libxml/tree.h>
#include <xmlsec/transforms.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/result.h"

namespace kyso::xades {

inline constexpr const char* kDsigNs = "http://www.w3.org/2000/09/xmldsig#";
inline constexpr const char* kXadesNs = "http://uri.etsi.org/01903/v1.3.2#";
inline constexpr const char* kSignedPropertiesType = "http://uri.etsi.org/01903#SignedProperties";
inline constexpr size_t kMaxXmlBytes = size_t{256} << 20;

// Initializes libxml2 and xmlsec once per process (thread-safe): no external entity loader,
// no xmlsec I/O callbacks (nothing is ever fetched), errors captured per thread.
void EnsureXmlsec();
// The last xmlsec error reported on this thread ("" when none), cleared by ClearXmlsecError.
std::string LastXmlsecError();
void ClearXmlsecError();

struct XmlDocFree {
  void operator()(xmlDoc* doc) const { xmlFreeDoc(doc); }
};
using XmlDocPtr = std::unique_ptr<xmlDoc, XmlDocFree>;

// Errors: xml.too_large, xml.malformed, xml.dtd_forbidden, xml.empty.
[[nodiscard]] Result<XmlDocPtr> ParseUntrusted(ByteSpan bytes);

// Registers every Id/ID/id attribute as an XML ID (so that "#x" resolves, XMLDSig §4.4.3.3)
// and returns the values that occur more than once (registered: the first).
std::set<std::string> RegisterIds(xmlDoc* doc);

// The element's attribute value, "" when absent.
std::string Attribute(const xmlNode* node, const char* name);
// The text content of an element.
std::string Text(const xmlNode* node);
bool Is(const xmlNode* node, const char* ns, const char* local_name);
// Element children in `ns` named `local_name` (all element children when local_name is null).
std::vector<xmlNode*> Children(const xmlNode* node, const char* ns, const char* local_name);
xmlNode* Child(const xmlNode* node, const char* ns, const char* local_name);
// Every element in `ns` named `local_name` below `node` (document order, `node` included).
std::vector<xmlNode*> Descendants(xmlNode* node, const char* ns, const char* local_name);
// "/HSoThueDTu/HSoKhaiThue[1]/..." for reports.
std::string PathOf(const xmlNode* node);
// "<DLieu Id="body">" for reports.
std::string Describe(const xmlNode* node);

// The canonical form of `node`'s subtree (XMLDSig §4.4.3.3 node set) under `c14n`.
[[nodiscard]] Result<Bytes> Canonicalize(xmlNode* node, xmlSecTransformId c14n);
// The same through `ctx`, whose c14n transform the caller has set up (from a
// CanonicalizationMethod element, with its parameters).
[[nodiscard]] Result<Bytes> Canonicalize(xmlNode* node, xmlSecTransformCtx* ctx);
// The c14n transform for a CanonicalizationMethod Algorithm URI; null when unknown.
xmlSecTransformId C14nByUri(const std::string& uri);

// Base64 with the line breaks and spaces XML allows inside (XMLDSig base64 content).
std::optional<Bytes> DecodeBase64Text(const std::string& text);

}  // namespace kyso::xades
