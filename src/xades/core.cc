#include "xades/core.h"

#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <xmlsec/crypto.h>
#include <xmlsec/keys.h>
#include <xmlsec/openssl/evp.h>
#include <xmlsec/xmldsig.h>

#include <memory>

#include "xades/xml.h"

namespace kyso::xades {

namespace {

using DsigCtxPtr = std::unique_ptr<xmlSecDSigCtx, decltype(&xmlSecDSigCtxDestroy)>;

// kyso's XMLDSig profile: references only to "" and "#Id" (never a file or a URL), and only
// these transforms (no XSLT, whose document() could read anything).
DsigCtxPtr MakeContext(xmlSecTransformOperation operation) {
  EnsureXmlsec();
  DsigCtxPtr ctx(xmlSecDSigCtxCreate(nullptr), &xmlSecDSigCtxDestroy);
  if (!ctx) return ctx;
  ctx->operation = operation;
  ctx->enabledReferenceUris = static_cast<xmlSecTransformUriType>(
      xmlSecTransformUriTypeEmpty | xmlSecTransformUriTypeSameDocument);
  for (xmlSecTransformId c14n :
       {xmlSecTransformInclC14NId, xmlSecTransformInclC14NWithCommentsId,
        xmlSecTransformInclC14N11Id, xmlSecTransformInclC14N11WithCommentsId,
        xmlSecTransformExclC14NId, xmlSecTransformExclC14NWithCommentsId}) {
    xmlSecDSigCtxEnableReferenceTransform(ctx.get(), c14n);
    xmlSecDSigCtxEnableSignatureTransform(ctx.get(), c14n);
  }
  for (xmlSecTransformId t :
       {xmlSecTransformEnvelopedId, xmlSecTransformXPathId, xmlSecTransformXPath2Id,
        xmlSecTransformXPointerId, xmlSecTransformBase64Id, xmlSecTransformSha1Id,
        xmlSecTransformSha256Id, xmlSecTransformSha384Id, xmlSecTransformSha512Id}) {
    xmlSecDSigCtxEnableReferenceTransform(ctx.get(), t);
  }
  for (xmlSecTransformId t :
       {xmlSecTransformRsaSha1Id, xmlSecTransformRsaSha256Id, xmlSecTransformRsaSha384Id,
        xmlSecTransformRsaSha512Id, xmlSecTransformEcdsaSha1Id, xmlSecTransformEcdsaSha256Id,
        xmlSecTransformEcdsaSha384Id, xmlSecTransformEcdsaSha512Id}) {
    xmlSecDSigCtxEnableSignatureTransform(ctx.get(), t);
  }
  return ctx;
}

// xmlsec's key for the certificate's public key (the certificate's trust is the engine's
// business, not xmlsec's).
xmlSecKeyPtr KeyOf(const x509::Certificate& certificate) {
  EVP_PKEY* pkey = certificate.public_key().openssl();
  if (pkey == nullptr || EVP_PKEY_up_ref(pkey) != 1) return nullptr;
  xmlSecKeyDataPtr data = xmlSecOpenSSLEvpKeyAdopt(pkey);
  if (data == nullptr) {
    EVP_PKEY_free(pkey);
    return nullptr;
  }
  xmlSecKeyPtr key = xmlSecKeyCreate();
  if (key == nullptr || xmlSecKeySetValue(key, data) < 0) {
    xmlSecKeyDataDestroy(data);
    if (key != nullptr) xmlSecKeyDestroy(key);
    return nullptr;
  }
  return key;
}

// Processes every Reference of SignedInfo in order (digesting in sign mode, comparing in
// verify mode); false at the first reference xmlsec cannot process.
bool ProcessReferences(xmlSecDSigCtx* ctx, xmlNode* signed_info, std::vector<bool>& valid) {
  for (xmlNode* ref : Children(signed_info, kDsigNs, "Reference")) {
    std::unique_ptr<xmlSecDSigReferenceCtx, decltype(&xmlSecDSigReferenceCtxDestroy)> ref_ctx(
        xmlSecDSigReferenceCtxCreate(ctx, xmlSecDSigReferenceOriginSignedInfo),
        &xmlSecDSigReferenceCtxDestroy);
    if (!ref_ctx || xmlSecDSigReferenceCtxProcessNode(ref_ctx.get(), ref) < 0) return false;
    valid.push_back(ref_ctx->status == xmlSecDSigStatusSucceeded);
  }
  return true;
}

// SignedInfo under its CanonicalizationMethod (§3.1.2 step 1, §3.2.2 step 1).
Result<Bytes> CanonicalSignedInfo(xmlNode* signed_info) {
  xmlNode* method = Child(signed_info, kDsigNs, "CanonicalizationMethod");
  if (method == nullptr || C14nByUri(Attribute(method, "Algorithm")) == nullptr) {
    return InvalidArgument("xml.c14n", "unknown CanonicalizationMethod");
  }
  std::unique_ptr<xmlSecTransformCtx, decltype(&xmlSecTransformCtxDestroy)> ctx(
      xmlSecTransformCtxCreate(), &xmlSecTransformCtxDestroy);
  if (!ctx ||
      xmlSecTransformCtxNodeRead(ctx.get(), method, xmlSecTransformUsageC14NMethod) == nullptr) {
    return InvalidArgument("xml.c14n", "CanonicalizationMethod: " + LastXmlsecError());
  }
  return Canonicalize(signed_info, ctx.get());
}

// XMLDSig 1.1 §6.4.3: an ECDSA SignatureValue is r || s, each as long as the group order.
Result<Bytes> EcdsaDerToRaw(ByteSpan der, size_t half) {
  const unsigned char* p = der.data();
  std::unique_ptr<ECDSA_SIG, decltype(&ECDSA_SIG_free)> sig(
      d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())), &ECDSA_SIG_free);
  if (!sig) return Internal("xades.sign", "the ECDSA signature is not DER");
  const BIGNUM *r = nullptr, *s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  Bytes raw(2 * half);
  if (BN_bn2binpad(r, raw.data(), static_cast<int>(half)) < 0 ||
      BN_bn2binpad(s, raw.data() + half, static_cast<int>(half)) < 0) {
    return Internal("xades.sign", "ECDSA value too long");
  }
  return raw;
}

}  // namespace

CoreOutcome VerifyCore(xmlNode* signature, xmlNode* signed_info, xmlNode* signature_value,
                       const SignatureAlgorithm& method, const x509::Certificate& certificate) {
  CoreOutcome out;
  ClearXmlsecError();
  DsigCtxPtr ctx = MakeContext(xmlSecTransformOperationVerify);
  if (!ctx) {
    out.error = "cannot create an xmlsec context";
    return out;
  }
  if (method.transform != nullptr) {
    ctx->signKey = KeyOf(certificate);
    int ret = xmlSecDSigCtxVerify(ctx.get(), signature);
    xmlSecSize n = xmlSecPtrListGetSize(&ctx->signedInfoReferences);
    for (xmlSecSize i = 0; i < n; ++i) {
      auto* ref = static_cast<xmlSecDSigReferenceCtxPtr>(
          xmlSecPtrListGetItem(&ctx->signedInfoReferences, i));
      out.reference_valid.push_back(ref != nullptr && ref->status == xmlSecDSigStatusSucceeded);
    }
    size_t expected = Children(signed_info, kDsigNs, "Reference").size();
    bool a_reference_failed = false;
    for (bool ok : out.reference_valid) a_reference_failed = a_reference_failed || !ok;
    // xmlsec stops at the first reference that fails (status invalid, ret 0).
    out.processed = ret >= 0 && (a_reference_failed || out.reference_valid.size() == expected);
    out.references_hold = out.processed && !a_reference_failed;
    out.valid = out.references_hold && ctx->status == xmlSecDSigStatusSucceeded;
    if (!out.processed) out.error = LastXmlsecError();
    return out;
  }
  // RSA-PSS (RFC 6931 §2.3.10): xmlsec for the references and SignedInfo, crypto/ for the
  // value.
  out.processed = ProcessReferences(ctx.get(), signed_info, out.reference_valid);
  if (!out.processed) {
    out.error = LastXmlsecError();
    return out;
  }
  out.references_hold = true;
  for (bool ok : out.reference_valid) out.references_hold = out.references_hold && ok;
  if (!out.references_hold) return out;
  auto canonical = CanonicalSignedInfo(signed_info);
  auto value = DecodeBase64Text(Text(signature_value));
  if (!canonical.ok() || !value) {
    out.processed = false;
    out.error = canonical.ok() ? "SignatureValue is not base64" : canonical.status().message();
    return out;
  }
  crypto::SignatureScheme scheme{method.digest, crypto::RsaPadding::kPss};
  out.valid = crypto::VerifyMessage(certificate.public_key(), scheme, *canonical, *value).ok();
  return out;
}

Status SignCore(xmlNode* signed_info, xmlNode* signature_value, const SignatureAlgorithm& method,
                const crypto::Signer& signer) {
  ClearXmlsecError();
  DsigCtxPtr ctx = MakeContext(xmlSecTransformOperationSign);
  if (!ctx) return Internal("xades.sign", "cannot create an xmlsec context");
  std::vector<bool> digested;
  if (!ProcessReferences(ctx.get(), signed_info, digested)) {
    return Internal("xades.sign", "digesting a reference failed: " + LastXmlsecError());
  }
  KYSO_ASSIGN_OR_RETURN(Bytes canonical, CanonicalSignedInfo(signed_info));
  crypto::SignatureScheme scheme{
      method.digest, method.pss ? crypto::RsaPadding::kPss : crypto::RsaPadding::kPkcs1v15};
  KYSO_ASSIGN_OR_RETURN(Bytes value, signer.SignMessage(scheme, canonical));
  if (method.key == crypto::KeyAlgorithm::kEcdsa) {
    size_t half = (static_cast<size_t>(signer.key_spec().bits) + 7) / 8;
    KYSO_ASSIGN_OR_RETURN(value, EcdsaDerToRaw(value, half));
  }
  std::string text = Base64Encode(value);
  xmlNodeSetContent(signature_value, BAD_CAST text.c_str());
  return Status::Ok();
}

}  // namespace kyso::xades
