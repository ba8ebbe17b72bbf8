// InspectXml: XMLDSig core validation (W3C XML Signature 1.1 §3.2) by xmlsec, then the XAdES
// qualifying properties (ETSI EN 319 132-1 §5.2, §5.3, §5.5).
#include <xmlsec/crypto.h>
#include <xmlsec/keys.h>
#include <xmlsec/openssl/evp.h>
#include <xmlsec/xmldsig.h>

#include "crypto/digest.h"
#include "xades/algorithms.h"
#include "xades/core.h"
#include "xades/xades.h"
#include "xades/xml.h"

namespace kyso::xades {

namespace {

Problem Fails(std::string id, std::string sub, std::string detail) {
  return Problem{std::move(id), true, std::move(sub), std::move(detail)};
}
Problem Indeterminate(std::string id, std::string sub, std::string detail) {
  return Problem{std::move(id), false, std::move(sub), std::move(detail)};
}
Problem Warning(std::string id, std::string detail) {
  return Problem{std::move(id), false, "", std::move(detail)};
}

// The element a same-document URI names: "" and "#xpointer(/)" the document element,
// "#x" and "#xpointer(id('x'))" the element whose Id is x (XMLDSig §4.4.3.3).
xmlNode* Resolve(xmlDoc* doc, const std::string& uri) {
  if (uri.empty() || uri == "#xpointer(/)") return xmlDocGetRootElement(doc);
  std::string id = uri.substr(1);
  if (id.starts_with("xpointer(id(") && id.ends_with("))") && id.size() > 16) {
    id = id.substr(13, id.size() - 16);  // xpointer(id('x'))
  }
  xmlAttr* attr = xmlGetID(doc, BAD_CAST id.c_str());
  return attr != nullptr ? attr->parent : nullptr;
}

bool Inside(const xmlNode* node, const xmlNode* ancestor) {
  for (const xmlNode* n = node; n != nullptr; n = n->parent) {
    if (n == ancestor) return true;
  }
  return false;
}

// The signed and unsigned XAdES properties of one signature.
void ReadQualifyingProperties(XmlSignature& out, xmlNode* qualifying, xmlNode* signature_value) {
  std::string target = Attribute(qualifying, "Target");
  if (!out.id.empty() && target != "#" + out.id) {
    out.problems.push_back(
        Warning("xades.target_mismatch", "QualifyingProperties Target \"" + target +
                                             "\" does not name this signature (#" + out.id + ")"));
  }
  xmlNode* usp = Child(Child(qualifying, kXadesNs, "UnsignedProperties"), kXadesNs,
                       "UnsignedSignatureProperties");
  // EN 319 132-1 §5.5.1: CertificateValues may hold the signer's certificate itself.
  bool long_term = false;
  for (xmlNode* v : Descendants(Child(usp, kXadesNs, "CertificateValues"), kXadesNs,
                                "EncapsulatedX509Certificate")) {
    auto der = DecodeBase64Text(Text(v));
    auto c = der ? x509::Certificate::FromDer(*der) : Result<x509::Certificate>(Status());
    if (der && c.ok()) out.certificates.push_back(std::move(c).value());
    long_term = true;
  }
  xmlNode* signed_properties = Child(qualifying, kXadesNs, "SignedProperties");
  xmlNode* ssp = Child(signed_properties, kXadesNs, "SignedSignatureProperties");
  if (xmlNode* time = Child(ssp, kXadesNs, "SigningTime")) {
    out.signing_time = ParseTime(Text(time));
    if (!out.signing_time) {
      out.problems.push_back(
          Warning("xades.signing_time_unreadable", "SigningTime \"" + Text(time) + "\""));
    }
  }
  xmlNode* signing_certificate = Child(ssp, kXadesNs, "SigningCertificateV2");
  if (signing_certificate == nullptr)
    signing_certificate = Child(ssp, kXadesNs, "SigningCertificate");
  if (signing_certificate != nullptr) {
    // EN 319 132-1 §5.2.2: the first Cert is the signing certificate's.
    xmlNode* cert = Child(signing_certificate, kXadesNs, "Cert");
    xmlNode* digest = Child(cert, kXadesNs, "CertDigest");
    std::string method = Attribute(Child(digest, kDsigNs, "DigestMethod"), "Algorithm");
    auto value = DecodeBase64Text(Text(Child(digest, kDsigNs, "DigestValue")));
    auto known = DigestMethodByUri(method);
    if (!known || !known->digest) {
      out.problems.push_back(Indeterminate(known ? "algorithm.sha1" : "algorithm.unsupported",
                                           "CRYPTO_CONSTRAINTS_FAILURE",
                                           "signing certificate digest " + method));
    } else if (value) {
      out.signer.reset();
      for (const auto& c : out.certificates) {
        if (crypto::Digest(*known->digest, c.der()) == *value) {
          out.signer = c;
          break;
        }
      }
      if (!out.signer) {
        out.problems.push_back(
            Indeterminate("xades.signing_certificate_mismatch", "NO_SIGNING_CERTIFICATE_FOUND",
                          "no certificate in the signature has the SigningCertificate digest"));
      }
    }
  } else {
    out.problems.push_back(Warning("xades.no_signing_certificate",
                                   "no SigningCertificateV2 property (not XAdES baseline)"));
  }

  out.level = "XAdES-B-B";
  if (xmlNode* ts = Child(usp, kXadesNs, "SignatureTimeStamp")) {
    out.signature_timestamp = DecodeBase64Text(Text(Child(ts, kXadesNs, "EncapsulatedTimeStamp")));
    // EN 319 132-1 §5.3: the time-stamp covers the canonicalized ds:SignatureValue element;
    // without a CanonicalizationMethod, Canonical XML 1.0.
    std::string uri = Attribute(Child(ts, kDsigNs, "CanonicalizationMethod"), "Algorithm");
    xmlSecTransformId c14n = uri.empty() ? xmlSecTransformInclC14NId : C14nByUri(uri);
    auto canonical = c14n ? Canonicalize(signature_value, c14n)
                          : Result<Bytes>(InvalidArgument("xml.c14n", "unknown " + uri));
    if (canonical.ok()) {
      out.timestamped = std::move(canonical).value();
    } else {
      out.problems.push_back(Warning("timestamp.unreadable", canonical.status().message()));
    }
    if (!out.signature_timestamp) {
      out.problems.push_back(Warning("timestamp.malformed", "EncapsulatedTimeStamp is not base64"));
    }
    out.level = "XAdES-B-T";
  }
  xmlNode* revocation = Child(usp, kXadesNs, "RevocationValues");
  for (xmlNode* v : Descendants(revocation, kXadesNs, "EncapsulatedCRLValue")) {
    if (auto der = DecodeBase64Text(Text(v))) out.crls.push_back(std::move(*der));
  }
  for (xmlNode* v : Descendants(revocation, kXadesNs, "EncapsulatedOCSPValue")) {
    if (auto der = DecodeBase64Text(Text(v))) out.ocsp_responses.push_back(std::move(*der));
  }
  if (long_term || revocation != nullptr) out.level = "XAdES-B-LT";
}

XmlSignature InspectSignature(xmlDoc* doc, xmlNode* signature) {
  XmlSignature out;
  out.id = Attribute(signature, "Id");
  out.location = PathOf(signature);
  out.level = "XMLDSig";
  xmlNode* signed_info = Child(signature, kDsigNs, "SignedInfo");
  xmlNode* signature_value = Child(signature, kDsigNs, "SignatureValue");
  if (signed_info == nullptr || signature_value == nullptr) {
    out.problems.push_back(Indeterminate("xml.malformed_signature", "FORMAT_FAILURE",
                                         "ds:Signature without SignedInfo or SignatureValue"));
    return out;
  }

  // Algorithms first: what kyso will not accept is said before anything is computed.
  std::string method_uri = Attribute(Child(signed_info, kDsigNs, "SignatureMethod"), "Algorithm");
  auto method = SignatureAlgorithmByUri(method_uri);
  if (!method) {
    out.signature_algorithm = method_uri;
    out.problems.push_back(Indeterminate(
        "algorithm.unsupported", "CRYPTO_CONSTRAINTS_FAILURE",
        "SignatureMethod " + method_uri + " (kyso verifies RSA and ECDSA with SHA-2)"));
    return out;
  }
  out.signature_algorithm = method->name;
  if (method->strength == Strength::kWeak) {
    out.problems.push_back(Indeterminate("algorithm.sha1", "CRYPTO_CONSTRAINTS_FAILURE",
                                         "SignatureMethod " + method->name));
  }

  // Every reference: its digest method, and the element it names in this document.
  xmlNode* qualifying = nullptr;
  for (xmlNode* object : Children(signature, kDsigNs, "Object")) {
    if (xmlNode* q = Child(object, kXadesNs, "QualifyingProperties")) {
      qualifying = q;
      break;
    }
  }
  xmlNode* signed_properties = Child(qualifying, kXadesNs, "SignedProperties");
  bool signs_outside = false, signs_properties = false, resolvable = true;
  for (xmlNode* ref : Children(signed_info, kDsigNs, "Reference")) {
    SignedObject o;
    o.uri = Attribute(ref, "URI");
    o.type = Attribute(ref, "Type");
    std::string digest_uri = Attribute(Child(ref, kDsigNs, "DigestMethod"), "Algorithm");
    auto digest = DigestMethodByUri(digest_uri);
    if (!digest) {
      out.problems.push_back(Indeterminate("algorithm.unsupported", "CRYPTO_CONSTRAINTS_FAILURE",
                                           "DigestMethod " + digest_uri));
      return out;
    }
    if (out.digest_algorithm.empty()) out.digest_algorithm = digest->name;
    if (digest->strength == Strength::kWeak) {
      out.problems.push_back(Indeterminate("algorithm.sha1", "CRYPTO_CONSTRAINTS_FAILURE",
                                           "DigestMethod " + digest->name));
    }
    if (!o.uri.empty() && o.uri[0] != '#') {
      // XMLDSig §4.4.3.1 allows any URI; kyso never dereferences one (no fetching, no files).
      o.what = "an external resource (not fetched)";
      out.references.push_back(o);
      out.problems.push_back(Indeterminate("xml.external_reference", "SIGNED_DATA_NOT_FOUND",
                                           "Reference URI \"" + o.uri +
                                               "\" is outside the document; kyso resolves "
                                               "references within the document only"));
      resolvable = false;
      continue;
    }
    xmlNode* target = Resolve(doc, o.uri);
    if (target == nullptr) {
      o.what = "nothing (no element has this Id)";
      out.references.push_back(o);
      out.problems.push_back(Indeterminate("xml.reference_not_found", "SIGNED_DATA_NOT_FOUND",
                                           "Reference URI \"" + o.uri + "\" names no element"));
      resolvable = false;
      continue;
    }
    if (target == signed_properties && signed_properties != nullptr) {
      o.signed_properties = true;
      signs_properties = true;
      o.what = "the XAdES SignedProperties";
      if (o.type != kSignedPropertiesType) {
        out.problems.push_back(Warning("xades.signed_properties_type",
                                       "the reference to SignedProperties has Type \"" + o.type +
                                           "\", not " + kSignedPropertiesType));
      }
    } else if (o.type == kSignedPropertiesType) {
      out.problems.push_back(Fails("xades.signed_properties_type", "FORMAT_FAILURE",
                                   "a reference typed SignedProperties names " + Describe(target) +
                                       ", which is not this signature's SignedProperties"));
    }
    if (!o.signed_properties && !o.uri.empty() && o.uri != "#xpointer(/)") {
      o.element = reinterpret_cast<const char*>(target->name);
      auto same_name = Descendants(xmlDocGetRootElement(doc), nullptr, o.element.c_str());
      o.first_of_its_name = !same_name.empty() && same_name.front() == target;
    }
    if (!o.signed_properties) {
      o.what = o.uri.empty() || o.uri == "#xpointer(/)"
                   ? "the whole document " + Describe(target)
                   : Describe(target) + " at " + PathOf(target);
    }
    // Document content: anything but the signature's own machinery (SignedInfo,
    // SignatureValue, KeyInfo, the qualifying properties). An enveloping signature's data
    // Object counts as content.
    bool machinery = Inside(target, signed_info) || Inside(target, signature_value) ||
                     Inside(target, Child(signature, kDsigNs, "KeyInfo")) ||
                     (qualifying != nullptr && Inside(target, qualifying));
    if (!machinery) signs_outside = true;
    out.references.push_back(o);
  }
  if (out.references.empty()) {
    out.problems.push_back(
        Indeterminate("xml.malformed_signature", "FORMAT_FAILURE", "SignedInfo has no Reference"));
    return out;
  }
  if (resolvable && !signs_outside) {
    // Signature wrapping: a signature over its own parts only proves nothing about the document.
    out.problems.push_back(Fails("xml.nothing_signed", "FORMAT_FAILURE",
                                 "the signature covers only elements inside itself, none of the "
                                 "document"));
  }

  // KeyInfo/X509Data: the certificates; the signer is the one SigningCertificateV2 names, or
  // (plain XMLDSig) the one whose key verifies.
  for (xmlNode* data :
       Descendants(Child(signature, kDsigNs, "KeyInfo"), kDsigNs, "X509Certificate")) {
    auto der = DecodeBase64Text(Text(data));
    if (!der) continue;
    auto c = x509::Certificate::FromDer(*der);
    if (c.ok()) out.certificates.push_back(std::move(c).value());
  }
  if (qualifying != nullptr) {
    if (signed_properties == nullptr) {
      out.problems.push_back(Fails("xades.no_signed_properties", "FORMAT_FAILURE",
                                   "QualifyingProperties without SignedProperties"));
    } else if (!signs_properties) {
      out.problems.push_back(Fails("xades.signed_properties_unsigned", "FORMAT_FAILURE",
                                   "no Reference of SignedInfo covers the SignedProperties"));
    }
    ReadQualifyingProperties(out, qualifying, signature_value);
  }
  if (out.certificates.empty()) {
    out.problems.push_back(Indeterminate("xml.no_certificate", "NO_SIGNING_CERTIFICATE_FOUND",
                                         "no X.509 certificate in KeyInfo: kyso verifies "
                                         "signatures by certificate (not bare keys or HMAC)"));
    return out;
  }
  if (!resolvable) return out;

  std::vector<x509::Certificate> candidates;
  if (out.signer) {
    candidates.push_back(*out.signer);
  } else if (qualifying == nullptr) {
    candidates = out.certificates;
  } else {
    return out;  // SigningCertificate named none of them: already INDETERMINATE
  }
  // Plain XMLDSig names no signing certificate: the first whose key verifies is the signer;
  // when none does, the first one's outcome is reported.
  std::optional<CoreOutcome> reported;
  for (const auto& candidate : candidates) {
    CoreOutcome attempt = VerifyCore(signature, signed_info, signature_value, *method, candidate);
    if (!reported || attempt.valid) {
      reported = attempt;
      out.signer = candidate;
    }
    // The references do not depend on the key: a digest failure is final.
    if (attempt.valid || (attempt.processed && !attempt.references_hold)) break;
  }
  const CoreOutcome& core = *reported;
  for (size_t i = 0; i < out.references.size() && i < core.reference_valid.size(); ++i) {
    out.references[i].digest_matches = core.reference_valid[i];
  }
  out.core_valid = core.valid;
  if (core.valid) return out;
  if (!core.processed) {
    out.problems.push_back(
        Indeterminate("xml.signature_unprocessable", "FORMAT_FAILURE",
                      core.error.empty() ? "xmlsec could not process it" : core.error));
    return out;
  }
  if (!core.references_hold) {
    for (const auto& o : out.references) {
      if (o.digest_matches) continue;
      if (o.signed_properties) {
        out.problems.push_back(Fails("xades.signed_properties_altered", "HASH_FAILURE",
                                     "the SignedProperties were changed after signing"));
      } else {
        out.problems.push_back(
            Fails("integrity.digest_mismatch", "HASH_FAILURE",
                  "the digest of " + o.what + " does not match: it was changed after signing"));
      }
      break;
    }
    return out;
  }
  out.problems.push_back(Fails("integrity.signature_invalid", "SIG_CRYPTO_FAILURE",
                               "the signature value does not verify with the signer's key"));
  return out;
}

}  // namespace

bool LooksLikeXml(ByteSpan bytes) {
  size_t i = 0;
  if (bytes.size() >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF) i = 3;
  while (i < bytes.size() &&
         (bytes[i] == ' ' || bytes[i] == '\t' || bytes[i] == '\r' || bytes[i] == '\n')) {
    ++i;
  }
  return i < bytes.size() && bytes[i] == '<';
}

XmlInspection InspectXml(ByteSpan xml) {
  XmlInspection out;
  auto doc = ParseUntrusted(xml);
  if (!doc.ok()) {
    out.problems.push_back(
        Indeterminate(doc.status().id(), "FORMAT_FAILURE", doc.status().message()));
    return out;
  }
  for (const auto& id : RegisterIds(doc->get())) {
    out.problems.push_back(Fails("xml.duplicate_id", "FORMAT_FAILURE",
                                 "Id \"" + id +
                                     "\" is on more than one element: which one a reference "
                                     "means is ambiguous (signature wrapping)"));
  }
  for (xmlNode* signature : Descendants(xmlDocGetRootElement(doc->get()), kDsigNs, "Signature")) {
    out.signatures.push_back(InspectSignature(doc->get(), signature));
  }
  return out;
}

}  // namespace kyso::xades
