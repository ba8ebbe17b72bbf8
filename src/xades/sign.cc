// SignXml: XAdES baseline signatures (ETSI EN 319 132-1) over XMLDSig.
//
//   B-B  §5.2: SignedProperties referenced from SignedInfo with Type
//        http://uri.etsi.org/01903#SignedProperties, holding SigningTime (§5.2.1),
//        SigningCertificateV2 (§5.2.2), DataObjectFormat (§5.2.4) and optionally
//        SignerRoleV2 (§5.2.6).
//   B-T  §5.3: a SignatureTimeStamp over the canonicalized ds:SignatureValue element.
#include <libxml/entities.h>

#include "crypto/digest.h"
#include "x509/validation_data.h"
#include "xades/algorithms.h"
#include "xades/core.h"
#include "xades/xades.h"
#include "xades/xml.h"

namespace kyso::xades {

namespace {

// Text and attribute values for the template: libxml2's escaping (&, <, >, ", CR).
std::string EscapeMarkup(std::string_view text) {
  std::string in(text);
  xmlChar* escaped = xmlEncodeSpecialChars(nullptr, BAD_CAST in.c_str());
  std::string out = escaped ? reinterpret_cast<const char*>(escaped) : "";
  xmlFree(escaped);
  return out;
}

constexpr const char* kExcC14n = "http://www.w3.org/2001/10/xml-exc-c14n#";
constexpr const char* kEnveloped = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";

std::string Reference(const std::string& id, const std::string& uri, const std::string& type,
                      const std::vector<std::string>& transforms, const std::string& digest_uri) {
  std::string out = "<ds:Reference";
  if (!id.empty()) out += " Id=\"" + id + "\"";
  if (!type.empty()) out += " Type=\"" + type + "\"";
  out += " URI=\"" + EscapeMarkup(uri) + "\"><ds:Transforms>";
  for (const auto& t : transforms) out += "<ds:Transform Algorithm=\"" + t + "\"/>";
  return out + "</ds:Transforms><ds:DigestMethod Algorithm=\"" + digest_uri +
         "\"/><ds:DigestValue></ds:DigestValue></ds:Reference>";
}

// The ds:Signature element with empty digests and value: what SignCore fills in.
std::string SignatureTemplate(const std::string& sid, const std::string& data_uri,
                              const std::vector<std::string>& data_transforms, bool enveloping,
                              const SignatureAlgorithm& method, const SignerCredentials& creds,
                              const SignOptions& options) {
  std::string digest_uri = DigestUri(options.digest);
  std::string out = "<ds:Signature xmlns:ds=\"" + std::string(kDsigNs) + "\" Id=\"" + sid +
                    "\"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm=\"" + kExcC14n +
                    "\"/><ds:SignatureMethod Algorithm=\"" + method.uri + "\"/>";
  out += Reference(sid + "-ref0", data_uri, "", data_transforms, digest_uri);
  out += Reference("", "#" + sid + "-signedprops", kSignedPropertiesType, {kExcC14n}, digest_uri);
  out += "</ds:SignedInfo><ds:SignatureValue Id=\"" + sid + "-value\"></ds:SignatureValue>";
  out += "<ds:KeyInfo><ds:X509Data><ds:X509Certificate>" + Base64Encode(creds.certificate.der()) +
         "</ds:X509Certificate>";
  for (const auto& c : creds.chain) {
    out += "<ds:X509Certificate>" + Base64Encode(c.der()) + "</ds:X509Certificate>";
  }
  out += "</ds:X509Data></ds:KeyInfo>";
  if (enveloping) out += "<ds:Object Id=\"" + sid + "-object\"></ds:Object>";
  out += "<ds:Object><xades:QualifyingProperties xmlns:xades=\"" + std::string(kXadesNs) +
         "\" Target=\"#" + sid + "\"><xades:SignedProperties Id=\"" + sid +
         "-signedprops\"><xades:SignedSignatureProperties><xades:SigningTime>" +
         FormatUtc(options.signing_time) +
         "</xades:SigningTime><xades:SigningCertificateV2><xades:Cert><xades:CertDigest>"
         "<ds:DigestMethod Algorithm=\"" +
         digest_uri + "\"/><ds:DigestValue>" +
         Base64Encode(crypto::Digest(options.digest, creds.certificate.der())) +
         "</ds:DigestValue></xades:CertDigest></xades:Cert></xades:SigningCertificateV2>";
  if (!options.claimed_role.empty()) {
    out += "<xades:SignerRoleV2><xades:ClaimedRoles><xades:ClaimedRole>" +
           EscapeMarkup(options.claimed_role) +
           "</xades:ClaimedRole></xades:ClaimedRoles></xades:SignerRoleV2>";
  }
  out +=
      "</xades:SignedSignatureProperties><xades:SignedDataObjectProperties>"
      "<xades:DataObjectFormat ObjectReference=\"#" +
      sid + "-ref0\"><xades:MimeType>" + EscapeMarkup(options.mime_type) +
      "</xades:MimeType></xades:DataObjectFormat></xades:SignedDataObjectProperties>"
      "</xades:SignedProperties></xades:QualifyingProperties></ds:Object></ds:Signature>";
  return out;
}

// EN 319 132-1 §5.3: SignatureTimeStamp over the exclusive-canonical ds:SignatureValue.
Status AddSignatureTimeStamp(xmlNode* signature, const SignOptions& options) {
  xmlNode* value = Child(signature, kDsigNs, "SignatureValue");
  xmlNode* qualifying = nullptr;
  for (xmlNode* object : Children(signature, kDsigNs, "Object")) {
    if (xmlNode* q = Child(object, kXadesNs, "QualifyingProperties")) qualifying = q;
  }
  if (value == nullptr || qualifying == nullptr) return Internal("xades.sign", "template");
  KYSO_ASSIGN_OR_RETURN(Bytes canonical, Canonicalize(value, xmlSecTransformExclC14NId));
  Bytes digest = crypto::Digest(crypto::DigestAlgorithm::kSha256, canonical);
  KYSO_ASSIGN_OR_RETURN(Bytes token, x509::RequestTimeStamp(options.time_stamp, digest));
  xmlNs* xades = xmlSearchNsByHref(signature->doc, qualifying, BAD_CAST kXadesNs);
  xmlNs* ds = xmlSearchNsByHref(signature->doc, qualifying, BAD_CAST kDsigNs);
  xmlNode* unsigned_properties =
      xmlNewChild(qualifying, xades, BAD_CAST "UnsignedProperties", nullptr);
  xmlNode* usp =
      xmlNewChild(unsigned_properties, xades, BAD_CAST "UnsignedSignatureProperties", nullptr);
  xmlNode* ts = xmlNewChild(usp, xades, BAD_CAST "SignatureTimeStamp", nullptr);
  xmlNewProp(ts, BAD_CAST "Id", BAD_CAST(Attribute(signature, "Id") + "-ts").c_str());
  xmlNode* c14n = xmlNewChild(ts, ds, BAD_CAST "CanonicalizationMethod", nullptr);
  xmlNewProp(c14n, BAD_CAST "Algorithm", BAD_CAST kExcC14n);
  xmlNewChild(ts, xades, BAD_CAST "EncapsulatedTimeStamp", BAD_CAST Base64Encode(token).c_str());
  return Status::Ok();
}

}  // namespace

Result<Packaging> ParsePackaging(std::string_view text) {
  if (text == "enveloped") return Packaging::kEnveloped;
  if (text == "enveloping") return Packaging::kEnveloping;
  return InvalidArgument("xades.bad_packaging", "packaging is enveloped or enveloping");
}

Result<Level> ParseLevel(std::string_view text) {
  if (text == "B-B" || text == "b-b") return Level::kBB;
  if (text == "B-T" || text == "b-t") return Level::kBT;
  return InvalidArgument("xades.bad_level", "XAdES level is B-B or B-T");
}

Result<Bytes> SignXml(ByteSpan input, const SignerCredentials& creds, const SignOptions& options) {
  EnsureXmlsec();
  if (!creds.signer || !creds.signer->public_key().Equals(creds.certificate.public_key())) {
    return InvalidArgument("xades.key_mismatch", "the key does not belong to the certificate");
  }
  auto spec = creds.signer->key_spec();
  auto method = SignatureAlgorithmFor(spec.algorithm, options.digest,
                                      options.rsa_padding == crypto::RsaPadding::kPss);
  if (!method) {
    return InvalidArgument("xades.unsupported_key",
                           "XML signatures take RSA or ECDSA keys (not " + spec.ToString() + ")");
  }
  if (options.level == Level::kBT && !options.time_stamp) {
    return FailedPrecondition("xades.no_tsa", "B-T needs a time-stamping authority (--tsa URL)");
  }
  KYSO_ASSIGN_OR_RETURN(XmlDocPtr input_doc, ParseUntrusted(input));
  if (auto dups = RegisterIds(input_doc.get()); !dups.empty()) {
    return InvalidArgument("xades.duplicate_id", "Id \"" + *dups.begin() + "\" is not unique");
  }
  xmlNode* input_root = xmlDocGetRootElement(input_doc.get());
  if (!options.element_id.empty() &&
      xmlGetID(input_doc.get(), BAD_CAST options.element_id.c_str()) == nullptr) {
    return NotFound("xades.no_element", "no element has Id \"" + options.element_id + "\"");
  }
  // Ids: derived from what is signed and when, so that they are unique in practice and a
  // re-run of the same job gives the same document.
  Bytes seed = crypto::Digest(crypto::DigestAlgorithm::kSha256, input);
  std::string sid =
      "kyso-" + HexEncode(ByteSpan(seed).first(6)) + "-" + std::to_string(options.signing_time);

  bool enveloping = options.packaging == Packaging::kEnveloping;
  std::string data_uri = options.element_id.empty() ? (enveloping ? "#" + sid + "-object" : "")
                                                    : "#" + options.element_id;
  std::vector<std::string> transforms = {kExcC14n};
  if (!enveloping) transforms.insert(transforms.begin(), kEnveloped);
  std::string text =
      SignatureTemplate(sid, data_uri, transforms, enveloping, *method, creds, options);
  KYSO_ASSIGN_OR_RETURN(XmlDocPtr signature_doc, ParseUntrusted(AsBytes(text)));

  XmlDocPtr result;
  xmlNode* signature = nullptr;
  if (enveloping) {
    // XMLDSig §2: the signed data inside the Signature, in an Object.
    result = std::move(signature_doc);
    signature = xmlDocGetRootElement(result.get());
    xmlNode* object = nullptr;
    for (xmlNode* o : Children(signature, kDsigNs, "Object")) {
      if (Attribute(o, "Id") == sid + "-object") object = o;
    }
    xmlAddChild(object, xmlDocCopyNode(input_root, result.get(), 1));
  } else {
    result = std::move(input_doc);
    xmlNode* parent = xmlDocGetRootElement(result.get());
    if (!options.parent_element.empty()) {
      auto found = Descendants(parent, nullptr, options.parent_element.c_str());
      if (found.empty()) {
        return NotFound("xades.no_element", "no element <" + options.parent_element + ">");
      }
      parent = found.front();
    }
    signature = xmlDocCopyNode(xmlDocGetRootElement(signature_doc.get()), result.get(), 1);
    xmlAddChild(parent, signature);
  }
  if (auto dups = RegisterIds(result.get()); !dups.empty()) {
    return InvalidArgument("xades.duplicate_id", "Id \"" + *dups.begin() + "\" is not unique");
  }
  KYSO_RETURN_IF_ERROR(SignCore(Child(signature, kDsigNs, "SignedInfo"),
                                Child(signature, kDsigNs, "SignatureValue"), *method,
                                *creds.signer));
  if (options.level == Level::kBT) KYSO_RETURN_IF_ERROR(AddSignatureTimeStamp(signature, options));

  xmlChar* out = nullptr;
  int size = 0;
  xmlDocDumpMemoryEnc(result.get(), &out, &size, "UTF-8");
  if (out == nullptr) return Internal("xades.sign", "cannot serialize the signed document");
  Bytes bytes(out, out + size);
  xmlFree(out);
  return bytes;
}

}  // namespace kyso::xades
