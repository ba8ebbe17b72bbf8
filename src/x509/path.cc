#include "x509/path.h"

#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <memory>
#include <string_view>

#include "crypto/openssl_error.h"
#include "x509/openssl_util.h"

namespace kyso::x509 {
namespace {

using crypto::DrainOpenSslErrors;
using internal::Deleter;

using StorePtr = std::unique_ptr<X509_STORE, Deleter<X509_STORE, X509_STORE_free>>;
using StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, Deleter<X509_STORE_CTX, X509_STORE_CTX_free>>;
using CrlPtr = std::unique_ptr<X509_CRL, Deleter<X509_CRL, X509_CRL_free>>;
using Asn1ObjectPtr = std::unique_ptr<ASN1_OBJECT, Deleter<ASN1_OBJECT, ASN1_OBJECT_free>>;
using internal::Asn1IntegerPtr;
using EkuPtr =
    std::unique_ptr<EXTENDED_KEY_USAGE, Deleter<EXTENDED_KEY_USAGE, EXTENDED_KEY_USAGE_free>>;

// The sk_X509_* functions are macros, so the stack gets a deleter of its own. It owns the
// stack only: the certificates in it belong to the caller's Certificate values.
struct X509StackFree {
  void operator()(STACK_OF(X509) * stack) const { sk_X509_free(stack); }
};
using X509StackPtr = std::unique_ptr<STACK_OF(X509), X509StackFree>;
// Likewise for CRLs: the stack only, the CRLs belong to their CrlPtr.
struct X509CrlStackFree {
  void operator()(STACK_OF(X509_CRL) * stack) const { sk_X509_CRL_free(stack); }
};
using X509CrlStackPtr = std::unique_ptr<STACK_OF(X509_CRL), X509CrlStackFree>;

// id-kp-documentSigning (RFC 9336 §3.1); OpenSSL 3.0 has no name for it.
constexpr const char* kDocumentSigningOid = "1.3.6.1.5.5.7.3.36";
// anyPolicy (RFC 5280 §4.2.1.4).
constexpr const char* kAnyPolicyOid = "2.5.29.32.0";

// The OpenSSL verifier's reasons, grouped by what the caller can tell a user.
const char* ErrorIdFor(int error) {
  switch (error) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
      return "path.expired";
    case X509_V_ERR_CERT_NOT_YET_VALID:
      return "path.not_yet_valid";

    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_CERT_UNTRUSTED:
    case X509_V_ERR_CERT_REJECTED:
    case X509_V_ERR_SUBJECT_ISSUER_MISMATCH:
    case X509_V_ERR_AKID_SKID_MISMATCH:
    case X509_V_ERR_AKID_ISSUER_SERIAL_MISMATCH:
    case X509_V_ERR_PATH_LOOP:
      return "path.untrusted";

    case X509_V_ERR_CERT_REVOKED:
      return "path.revoked";
    case X509_V_ERR_UNABLE_TO_GET_CRL:
      return "path.crl_missing";
    case X509_V_ERR_UNABLE_TO_DECRYPT_CRL_SIGNATURE:
    case X509_V_ERR_CRL_SIGNATURE_FAILURE:
    case X509_V_ERR_CRL_NOT_YET_VALID:
    case X509_V_ERR_CRL_HAS_EXPIRED:
    case X509_V_ERR_ERROR_IN_CRL_LAST_UPDATE_FIELD:
    case X509_V_ERR_ERROR_IN_CRL_NEXT_UPDATE_FIELD:
    case X509_V_ERR_UNABLE_TO_GET_CRL_ISSUER:
    case X509_V_ERR_KEYUSAGE_NO_CRL_SIGN:
    case X509_V_ERR_UNHANDLED_CRITICAL_CRL_EXTENSION:
    case X509_V_ERR_DIFFERENT_CRL_SCOPE:
    case X509_V_ERR_CRL_PATH_VALIDATION_ERROR:
      return "path.crl_invalid";

    case X509_V_ERR_UNABLE_TO_DECRYPT_CERT_SIGNATURE:
    case X509_V_ERR_UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY:
    case X509_V_ERR_CERT_SIGNATURE_FAILURE:
    case X509_V_ERR_NO_ISSUER_PUBLIC_KEY:
    case X509_V_ERR_UNSUPPORTED_SIGNATURE_ALGORITHM:
    case X509_V_ERR_SIGNATURE_ALGORITHM_MISMATCH:
    case X509_V_ERR_SIGNATURE_ALGORITHM_INCONSISTENCY:
      return "path.bad_signature";

    case X509_V_ERR_KEYUSAGE_NO_CERTSIGN:
    case X509_V_ERR_KEYUSAGE_NO_DIGITAL_SIGNATURE:
    case X509_V_ERR_KU_KEY_CERT_SIGN_INVALID_FOR_NON_CA:
    case X509_V_ERR_CA_CERT_MISSING_KEY_USAGE:
      return "path.key_usage";
    case X509_V_ERR_INVALID_PURPOSE:
      return "path.eku";
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
    case X509_V_ERR_EMAIL_MISMATCH:
      return "path.name_mismatch";

    case X509_V_ERR_INVALID_CA:
    case X509_V_ERR_INVALID_NON_CA:
    case X509_V_ERR_CA_BCONS_NOT_CRITICAL:
    case X509_V_ERR_PATHLEN_INVALID_FOR_NON_CA:
    case X509_V_ERR_PATHLEN_WITHOUT_KU_KEY_CERT_SIGN:
      return "path.invalid_ca";
    case X509_V_ERR_PATH_LENGTH_EXCEEDED:
    case X509_V_ERR_PROXY_PATH_LENGTH_EXCEEDED:
      return "path.path_length";
    case X509_V_ERR_CERT_CHAIN_TOO_LONG:
      return "path.depth";
    case X509_V_ERR_UNHANDLED_CRITICAL_EXTENSION:
      return "path.unhandled_critical_extension";
    case X509_V_ERR_INVALID_POLICY_EXTENSION:
    case X509_V_ERR_NO_EXPLICIT_POLICY:
      return "path.policy";
    case X509_V_ERR_PERMITTED_VIOLATION:
    case X509_V_ERR_EXCLUDED_VIOLATION:
    case X509_V_ERR_SUBTREE_MINMAX:
    case X509_V_ERR_UNSUPPORTED_CONSTRAINT_TYPE:
    case X509_V_ERR_UNSUPPORTED_CONSTRAINT_SYNTAX:
    case X509_V_ERR_UNSUPPORTED_NAME_SYNTAX:
    case X509_V_ERR_PROXY_SUBJECT_NAME_VIOLATION:
      return "path.name_constraints";

    case X509_V_ERR_ERROR_IN_CERT_NOT_BEFORE_FIELD:
    case X509_V_ERR_ERROR_IN_CERT_NOT_AFTER_FIELD:
    case X509_V_ERR_INVALID_EXTENSION:
    case X509_V_ERR_ISSUER_NAME_EMPTY:
    case X509_V_ERR_SUBJECT_NAME_EMPTY:
    case X509_V_ERR_MISSING_AUTHORITY_KEY_IDENTIFIER:
    case X509_V_ERR_MISSING_SUBJECT_KEY_IDENTIFIER:
    case X509_V_ERR_EMPTY_SUBJECT_ALT_NAME:
    case X509_V_ERR_EMPTY_SUBJECT_SAN_NOT_CRITICAL:
    case X509_V_ERR_AUTHORITY_KEY_IDENTIFIER_CRITICAL:
    case X509_V_ERR_SUBJECT_KEY_IDENTIFIER_CRITICAL:
    case X509_V_ERR_EXTENSIONS_REQUIRE_VERSION_3:
    case X509_V_ERR_EC_KEY_EXPLICIT_PARAMS:
      return "path.profile";

    case X509_V_ERR_EE_KEY_TOO_SMALL:
    case X509_V_ERR_CA_KEY_TOO_SMALL:
    case X509_V_ERR_CA_MD_TOO_WEAK:
    case X509_V_ERR_SUITE_B_INVALID_VERSION:
    case X509_V_ERR_SUITE_B_INVALID_ALGORITHM:
    case X509_V_ERR_SUITE_B_INVALID_CURVE:
    case X509_V_ERR_SUITE_B_INVALID_SIGNATURE_ALGORITHM:
    case X509_V_ERR_SUITE_B_LOS_NOT_ALLOWED:
    case X509_V_ERR_SUITE_B_CANNOT_SIGN_P_384_WITH_P_256:
      return "path.weak_crypto";

    default:
      return "path.other";
  }
}

// Called by OpenSSL for every check that fails (ok == 0); returning 1 overrides the failure.
//
//= https://www.rfc-editor.org/rfc/rfc5280#section-6.1
//# The trust anchor information is [...] an input to the algorithm.
// The anchor is not one of the n certificates of the path whose revocation status §6.1.3(a)(3)
// checks, but OpenSSL's X509_V_FLAG_CRL_CHECK_ALL asks for a CRL on it too. For a self-signed
// root its own CRL serves; for an anchor that is not self-signed (a pinned intermediate) it
// would want one from the anchor's issuer, which is not there. So a missing CRL for a
// certificate from the trust store is not a failure. Stateless, so thread-safe.
//
//= https://www.rfc-editor.org/rfc/rfc5280#section-6.1.4
//# (k)  If certificate i is a version 3 certificate, verify that the
//#      basicConstraints extension is present and that cA is set to
//#      TRUE.  (If certificate i is a version 1 or version 2
//#      certificate, then the application MUST either verify that
//#      certificate i is a CA certificate through out-of-band means
//#      or reject the certificate.
// Criticality is the issuing CA's duty (§4.2.1.9), not a validation step: OpenSSL's
// X509_V_FLAG_X509_STRICT rejects a non-critical basicConstraints, which is overridden here for
// the certificates of the path. A trust anchor with one still fails (the §4 profile rule kyso
// applies to anchors, as x509-limbo expects).
int VerifyCallback(int ok, X509_STORE_CTX* ctx) {
  if (ok == 1) return 1;
  const int depth = X509_STORE_CTX_get_error_depth(ctx);
  const bool from_trust_store = depth >= X509_STORE_CTX_get_num_untrusted(ctx);
  switch (X509_STORE_CTX_get_error(ctx)) {
    case X509_V_ERR_UNABLE_TO_GET_CRL:
      return from_trust_store ? 1 : 0;
    case X509_V_ERR_CA_BCONS_NOT_CRITICAL:
      return from_trust_store ? 0 : 1;
    default:
      return 0;
  }
}

// The caller's Certificate for an X509 the verifier put in the chain (the same pointers it was
// given), or a fresh parse when it is some other object.
Certificate CertificateFor(X509* x, const Certificate& leaf, const PathOptions& options) {
  if (x == leaf.openssl()) return leaf;
  for (const auto* list : {&options.intermediates, &options.trust_anchors}) {
    for (const Certificate& c : *list) {
      if (c.openssl() == x) return c;
    }
  }
  unsigned char* der = nullptr;
  const int len = i2d_X509(x, &der);
  Bytes bytes(der, der + (len > 0 ? len : 0));
  OPENSSL_free(der);
  auto parsed = Certificate::FromDer(bytes);
  return parsed.ok() ? *parsed : leaf;  // cannot fail for a certificate OpenSSL holds
}

std::string SubjectOf(X509* x) {
  if (x == nullptr) return "";
  auto name = internal::NameFromX509(X509_get_subject_name(x));
  return name.ok() ? name->ToRfc4514() : "";
}

// keyUsage bit names (RFC 5280 §4.2.1.3) as OpenSSL's KU_* masks (X509_get_key_usage), with
// the X.509 (2008) name contentCommitment and limbo's spellings as aliases.
std::optional<uint32_t> KeyUsageBit(std::string_view name) {
  struct Entry {
    std::string_view name;
    uint32_t bit;
  };
  static constexpr Entry kBits[] = {
      {"digitalSignature", KU_DIGITAL_SIGNATURE}, {"nonRepudiation", KU_NON_REPUDIATION},
      {"contentCommitment", KU_NON_REPUDIATION},  {"keyEncipherment", KU_KEY_ENCIPHERMENT},
      {"dataEncipherment", KU_DATA_ENCIPHERMENT}, {"keyAgreement", KU_KEY_AGREEMENT},
      {"keyCertSign", KU_KEY_CERT_SIGN},          {"cRLSign", KU_CRL_SIGN},
      {"encipherOnly", KU_ENCIPHER_ONLY},         {"encipher_only", KU_ENCIPHER_ONLY},
      {"decipherOnly", KU_DECIPHER_ONLY},         {"decipher_only", KU_DECIPHER_ONLY},
  };
  for (const Entry& e : kBits) {
    if (e.name == name) return e.bit;
  }
  return std::nullopt;
}

struct UsageRequirements {
  uint32_t key_usage_mask = 0;      // any of these bits
  std::vector<Asn1ObjectPtr> ekus;  // any of these purposes
};

Result<UsageRequirements> ParseUsages(const PathOptions& options) {
  UsageRequirements r;
  for (const std::string& name : options.required_key_usage) {
    auto bit = KeyUsageBit(name);
    if (!bit) return InvalidArgument("path.bad_option", "unknown key usage: " + name);
    r.key_usage_mask |= *bit;
  }
  for (const std::string& name : options.required_eku) {
    const char* text = name == "documentSigning" ? kDocumentSigningOid : name.c_str();
    Asn1ObjectPtr obj(OBJ_txt2obj(text, 0));
    if (!obj) {
      DrainOpenSslErrors();
      return InvalidArgument("path.bad_option", "unknown extended key usage: " + name);
    }
    r.ekus.push_back(std::move(obj));
  }
  return r;
}

// The leaf's usages against what the application requires; "" when they allow it.
//= https://www.rfc-editor.org/rfc/rfc5280#section-4.2.1.12
//# If the extension is present, then the certificate MUST only be used
//# for one of the purposes indicated.
//# [...] Applications that require the presence of a particular purpose
//# MAY reject certificates that include the anyExtendedKeyUsage OID but
//# not the particular OID expected for the application.
std::string CheckLeafUsages(X509* leaf, const UsageRequirements& required, std::string* detail) {
  const uint32_t flags = X509_get_extension_flags(leaf);
  if (required.key_usage_mask != 0 && (flags & EXFLAG_KUSAGE) &&
      (X509_get_key_usage(leaf) & required.key_usage_mask) == 0) {
    *detail = "the leaf's keyUsage asserts none of the required usages";
    return "path.key_usage";
  }
  if (required.ekus.empty()) return "";
  int critical = 0;
  EkuPtr eku(static_cast<EXTENDED_KEY_USAGE*>(
      X509_get_ext_d2i(leaf, NID_ext_key_usage, &critical, nullptr)));
  if (!eku) {
    if (critical == -1) return "";  // absent: unrestricted
    *detail = "the leaf's extendedKeyUsage cannot be decoded";
    return "path.eku";
  }
  for (int i = 0; i < sk_ASN1_OBJECT_num(eku.get()); ++i) {
    for (const Asn1ObjectPtr& want : required.ekus) {
      if (OBJ_cmp(sk_ASN1_OBJECT_value(eku.get(), i), want.get()) == 0) return "";
    }
  }
  *detail = "the leaf's extendedKeyUsage lists none of the required purposes";
  return "path.eku";
}

//= https://www.rfc-editor.org/rfc/rfc5280#section-6.1
//# A certificate is self-issued if the same DN appears in the subject
//# and issuer fields (the two DNs are the same if they match according
//# to the rules specified in Section 7.1).
bool SelfIssued(X509* x) {
  return X509_NAME_cmp(X509_get_subject_name(x), X509_get_issuer_name(x)) == 0;
}

struct Finding {
  std::string id;
  std::string detail;
  int depth = -1;
};

// A dNSName in the preferred name syntax (RFC 1034 §3.5, as relaxed by RFC 1123 §2.1), with a
// wildcard only as the whole left-most label (RFC 6125 §6.4.3). Underscores are tolerated.
//= https://www.rfc-editor.org/rfc/rfc5280#section-4.2.1.6
//# When the subjectAltName extension contains a domain name system
//# label, the domain name MUST be stored in the dNSName (an IA5String).
//# The name MUST be in the "preferred name syntax", as specified by
//# Section 3.5 of [RFC1034] and as modified by Section 2.1 of
//# [RFC1123].
bool IsPreferredDnsName(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  size_t start = 0;
  for (bool first = true;; first = false) {
    const size_t dot = name.find('.', start);
    const std::string_view label =
        name.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (label.empty() || label.size() > 63) return false;
    if (!(first && label == "*")) {
      for (char ch : label) {
        const bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                        (ch >= '0' && ch <= '9') || ch == '-' || ch == '_';
        if (!ok) return false;
      }
    }
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

// RFC 5280 §4 rules that OpenSSL's X509_V_FLAG_X509_STRICT does not check, on one certificate
// of a path OpenSSL accepted; "" when it follows them. `top`: the last certificate of the path
// (the anchor), which OpenSSL exempts from its authorityKeyIdentifier check.
std::string ProfileViolation(X509* x, bool top) {
  // Every extension OpenSSL knows must decode: an undecodable one is not a certificate field
  // OpenSSL looked at (it only flags some extensions as invalid).
  for (int i = 0; i < X509_get_ext_count(x); ++i) {
    X509_EXTENSION* ext = X509_get_ext(x, i);
    const X509V3_EXT_METHOD* method = X509V3_EXT_get(ext);
    if (method == nullptr) continue;  // unknown: OpenSSL judged its criticality already
    void* value = X509V3_EXT_d2i(ext);
    if (value == nullptr) {
      DrainOpenSslErrors();
      return std::string("malformed ") + OBJ_nid2ln(OBJ_obj2nid(X509_EXTENSION_get_object(ext))) +
             " extension";
    }
    if (method->it != nullptr) {
      ASN1_item_free(static_cast<ASN1_VALUE*>(value), ASN1_ITEM_ptr(method->it));
    } else if (method->ext_free != nullptr) {
      method->ext_free(value);
    }
  }

  int critical = 0;
  auto* nc =
      static_cast<NAME_CONSTRAINTS*>(X509_get_ext_d2i(x, NID_name_constraints, &critical, nullptr));
  if (nc != nullptr) {
    const bool empty = sk_GENERAL_SUBTREE_num(nc->permittedSubtrees) <= 0 &&
                       sk_GENERAL_SUBTREE_num(nc->excludedSubtrees) <= 0;
    NAME_CONSTRAINTS_free(nc);
    //= https://www.rfc-editor.org/rfc/rfc5280#section-4.2.1.10
    //# The name constraints extension, which MUST be used only in a CA
    //# certificate, indicates a name space within which all subject names
    //# in subsequent certificates in a certification path MUST be located.
    if ((X509_get_extension_flags(x) & EXFLAG_CA) == 0) {
      return "nameConstraints in a certificate that is not a CA";
    }
    //# Conforming CAs MUST NOT issue certificates where name constraints
    //# is an empty sequence.  That is, either the permittedSubtrees field
    //# or the excludedSubtrees MUST be present.
    if (empty) return "empty nameConstraints";
  }

  if (auto* sans = static_cast<GENERAL_NAMES*>(
          X509_get_ext_d2i(x, NID_subject_alt_name, nullptr, nullptr))) {
    std::string bad;
    for (int i = 0; i < sk_GENERAL_NAME_num(sans) && bad.empty(); ++i) {
      const GENERAL_NAME* gn = sk_GENERAL_NAME_value(sans, i);
      if (gn->type != GEN_DNS) continue;
      const std::string_view name(
          reinterpret_cast<const char*>(ASN1_STRING_get0_data(gn->d.dNSName)),
          static_cast<size_t>(ASN1_STRING_length(gn->d.dNSName)));
      if (!IsPreferredDnsName(name)) bad = "subjectAltName dNSName \"" + std::string(name) + "\"";
    }
    GENERAL_NAMES_free(sans);
    if (!bad.empty()) return bad + " is not in the preferred name syntax";
  }

  //= https://www.rfc-editor.org/rfc/rfc5280#section-4.2.1.1
  //# The keyIdentifier field of the authorityKeyIdentifier extension MUST
  //# be included in all certificates generated by conforming CAs to
  //# facilitate certification path construction.  There is one
  //# exception; where a CA distributes its public key in the form of a
  //# "self-signed" certificate, the authority key identifier MAY be
  //# omitted.
  if (top) {
    auto* akid = static_cast<AUTHORITY_KEYID*>(
        X509_get_ext_d2i(x, NID_authority_key_identifier, &critical, nullptr));
    const bool has_keyid = akid != nullptr && akid->keyid != nullptr;
    AUTHORITY_KEYID_free(akid);
    if (critical >= 0 && !has_keyid) return "authorityKeyIdentifier without keyIdentifier";
    if (critical == -1 && !SelfIssued(x)) return "missing authorityKeyIdentifier";
  }
  return "";
}

// §4 profile rules OpenSSL leaves out (see ProfileViolation), over the path leaf first.
std::optional<Finding> CheckProfile(STACK_OF(X509) * chain) {
  const int n = sk_X509_num(chain);
  for (int i = 0; i < n; ++i) {
    if (std::string why = ProfileViolation(sk_X509_value(chain, i), i == n - 1); !why.empty()) {
      return Finding{"path.profile", why, i};
    }
  }
  return std::nullopt;
}

// The caller's max_depth, counted as RFC 5280 counts path length (§4.2.1.9, §6.1.4(l)): the
// intermediates between the leaf and the anchor, self-issued ones excepted.
std::optional<Finding> CheckDepth(STACK_OF(X509) * chain, int max_depth) {
  int counted = 0;
  for (int i = 1; i + 1 < sk_X509_num(chain); ++i) {
    X509* x = sk_X509_value(chain, i);
    if (SelfIssued(x)) continue;
    if (++counted > max_depth) {
      return Finding{"path.depth",
                     "more than " + std::to_string(max_depth) + " intermediate certificates", i};
    }
  }
  return std::nullopt;
}

// The initial policy inputs (§6.1.1(c), (e), (f), (g)) as OpenSSL verify parameters. Policy
// processing itself is always on, so that the constraints of the path's CAs apply.
Status SetPolicyInputs(X509_VERIFY_PARAM* param, const PolicyInputs& policy) {
  unsigned long flags = X509_V_FLAG_POLICY_CHECK;
  if (policy.explicit_policy) flags |= X509_V_FLAG_EXPLICIT_POLICY;
  if (policy.inhibit_policy_mapping) flags |= X509_V_FLAG_INHIBIT_MAP;
  if (policy.inhibit_any_policy) flags |= X509_V_FLAG_INHIBIT_ANY;
  X509_VERIFY_PARAM_set_flags(param, flags);
  //= https://www.rfc-editor.org/rfc/rfc5280#section-6.1.1
  //# (c)  user-initial-policy-set: A set of certificate policy
  //#      identifiers naming the policies that are acceptable to the
  //#      certificate user.  The user-initial-policy-set contains the
  //#      special value any-policy if the user is not concerned about
  //#      certificate policy.
  // OpenSSL does not read an empty set as any-policy: with no policy given, its user policy set
  // stays empty and every path under requireExplicitPolicy fails (`openssl verify
  // -policy_check` does just that). So anyPolicy is said explicitly.
  const std::vector<std::string> any_policy = {kAnyPolicyOid};
  for (const std::string& text :
       policy.initial_policies.empty() ? any_policy : policy.initial_policies) {
    const char* oid = text == "anyPolicy" ? kAnyPolicyOid : text.c_str();
    Asn1ObjectPtr obj(OBJ_txt2obj(oid, /*no_name=*/1));
    if (!obj) {
      DrainOpenSslErrors();
      return InvalidArgument("path.bad_option", "not a policy OID: " + text);
    }
    if (X509_VERIFY_PARAM_add0_policy(param, obj.get()) != 1) {
      return Internal("path.internal", "out of memory: " + DrainOpenSslErrors());
    }
    obj.release();  // add0: the parameters own it now
  }
  return Status::Ok();
}

std::string OidText(const ASN1_OBJECT* obj) {
  char buf[128];
  const int n = OBJ_obj2txt(buf, sizeof buf, obj, /*no_name=*/1);
  return n > 0 && n < static_cast<int>(sizeof buf) ? std::string(buf, static_cast<size_t>(n)) : "";
}

//= https://www.rfc-editor.org/rfc/rfc5280#section-6.1.5
//# (g)  Calculate the intersection of the valid_policy_tree and the
//#      user-initial-policy-set, as follows:
// OpenSSL keeps that intersection as the tree's user policies (its authority set when the
// user-initial-policy-set is anyPolicy); no tree means the valid_policy_tree is NULL.
std::vector<std::string> ValidPolicies(X509_STORE_CTX* ctx) {
  std::vector<std::string> out;
  X509_POLICY_TREE* tree = X509_STORE_CTX_get0_policy_tree(ctx);
  if (tree == nullptr) return out;
  STACK_OF(X509_POLICY_NODE)* nodes = X509_policy_tree_get0_user_policies(tree);
  for (int i = 0; i < sk_X509_POLICY_NODE_num(nodes); ++i) {
    const X509_POLICY_NODE* node = sk_X509_POLICY_NODE_value(nodes, i);
    std::string oid = OidText(X509_policy_node_get0_policy(node));
    if (!oid.empty() && std::find(out.begin(), out.end(), oid) == out.end()) {
      out.push_back(std::move(oid));
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The DER of a CRL's extension `nid`, "" when absent (to compare scopes, §6.3.3(c)).
std::string CrlExtensionDer(X509_CRL* crl, int nid) {
  const int index = X509_CRL_get_ext_by_NID(crl, nid, -1);
  if (index < 0) return "";
  const ASN1_OCTET_STRING* value = X509_EXTENSION_get_data(X509_CRL_get_ext(crl, index));
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(value)),
                     static_cast<size_t>(ASN1_STRING_length(value)));
}

std::optional<int64_t> CrlInteger(X509_CRL* crl, int nid) {
  Asn1IntegerPtr value(
      static_cast<ASN1_INTEGER*>(X509_CRL_get_ext_d2i(crl, nid, nullptr, nullptr)));
  int64_t v = 0;
  if (!value || ASN1_INTEGER_get_int64(&v, value.get()) != 1) {
    DrainOpenSslErrors();
    return std::nullopt;
  }
  return v;
}

//= https://www.rfc-editor.org/rfc/rfc5280#section-5.2.4
//# An application can construct a CRL that is complete for a given scope, at the current
//# time, in either of the following ways:
//#
//#    (a) by retrieving the current delta CRL for that scope, and
//#        combining it with an issued complete CRL for that scope that
//#        has a cRLNumber greater than or equal to the cRLNumber of the
//#        base CRL referenced in the delta CRL; or
//
//= https://www.rfc-editor.org/rfc/rfc5280#section-6.3.3
//# (c)  If use-deltas is set, verify the issuer and scope of the
//#      delta CRL as follows:
//#      (1)  Verify that the delta CRL issuer matches the complete CRL
//#           issuer.
//#      (2)  If the complete CRL includes an issuing distribution point
//#           (IDP) CRL extension, check that the delta CRL contains a
//#           matching IDP CRL extension.  [...]
//#      (3)  Verify that the delta CRL authority key identifier
//#           extension matches complete CRL authority key identifier
//#           extension.
// OpenSSL skips a delta CRL it cannot combine and decides on the complete CRL alone, so a
// delta announcing a newer base than the complete CRL in hand would go unnoticed: the
// complete CRL is then known to be out of date. And with no complete CRL of its scope at all,
// a delta cannot stand in for one. Either way revocation cannot be decided: a finding on the
// first certificate of the path (leaf first, the anchor left out) that such a delta is about.
// The highest cRLNumber among the complete CRLs of `delta`'s scope: same issuer, same
// authorityKeyIdentifier and issuingDistributionPoint (§6.3.3(c) above); none: nullopt.
std::optional<int64_t> NewestCompleteFor(X509_CRL* delta, const std::vector<CrlPtr>& crls) {
  const X509_NAME* issuer = X509_CRL_get_issuer(delta);
  const std::string aki = CrlExtensionDer(delta, NID_authority_key_identifier);
  const std::string idp = CrlExtensionDer(delta, NID_issuing_distribution_point);
  std::optional<int64_t> newest;
  for (const CrlPtr& complete : crls) {
    if (CrlInteger(complete.get(), NID_delta_crl)) continue;
    if (X509_NAME_cmp(X509_CRL_get_issuer(complete.get()), issuer) != 0 ||
        CrlExtensionDer(complete.get(), NID_authority_key_identifier) != aki ||
        CrlExtensionDer(complete.get(), NID_issuing_distribution_point) != idp) {
      continue;
    }
    const std::optional<int64_t> number = CrlInteger(complete.get(), NID_crl_number);
    if (number && (!newest || *number > *newest)) newest = number;
  }
  return newest;
}

std::optional<Finding> CheckDeltaBases(STACK_OF(X509) * chain, const std::vector<CrlPtr>& crls) {
  for (const CrlPtr& delta : crls) {
    const std::optional<int64_t> base = CrlInteger(delta.get(), NID_delta_crl);
    if (!base) continue;
    const X509_NAME* issuer = X509_CRL_get_issuer(delta.get());
    int depth = -1;
    for (int i = 0; i + 1 < sk_X509_num(chain) && depth < 0; ++i) {
      if (X509_NAME_cmp(X509_get_issuer_name(sk_X509_value(chain, i)), issuer) == 0) depth = i;
    }
    if (depth < 0) continue;  // about no certificate of this path
    const std::optional<int64_t> newest_complete = NewestCompleteFor(delta.get(), crls);
    if (newest_complete && *newest_complete >= *base) continue;
    const std::string delta_number =
        std::to_string(CrlInteger(delta.get(), NID_crl_number).value_or(-1));
    return Finding{"path.crl_delta_base_missing",
                   newest_complete
                       ? "delta CRL " + delta_number + " is based on CRL " + std::to_string(*base) +
                             ", newer than the complete CRL " + std::to_string(*newest_complete) +
                             " in hand"
                       : "delta CRL " + delta_number + " (base CRL " + std::to_string(*base) +
                             ") without a complete CRL of its scope",
                   depth};
  }
  return std::nullopt;
}

//= https://www.rfc-editor.org/rfc/rfc5280#section-6.3.3
//# (a)  Update the local CRL cache by obtaining a complete CRL, a
//#      delta CRL, or both, as required:
//#      [...]
//#           (i)   If use-deltas is set and either the certificate or the
//#                 CRL contains the freshest CRL extension, obtain a delta
//#                 CRL with a next update value that is after the current
//#                 time and can be used to update the locally cached CRL as
//#                 specified in Section 5.2.4.
// OpenSSL consults a delta CRL only where the certificate or the complete CRL carries
// freshestCRL. A delta CRL the caller handed over that the certificate's issuer signed, newer
// than the complete CRL it builds on, and that lists the certificate is still the issuer's
// signed word that it is revoked: passing the certificate would call a revoked certificate
// valid. Run on a path OpenSSL passed (or found no CRL for), so a listing here is one OpenSSL
// did not read.
std::optional<Finding> CheckUnconsultedDeltas(STACK_OF(X509) * chain,
                                              const std::vector<CrlPtr>& crls) {
  for (const CrlPtr& delta : crls) {
    const std::optional<int64_t> base = CrlInteger(delta.get(), NID_delta_crl);
    const std::optional<int64_t> number = CrlInteger(delta.get(), NID_crl_number);
    const std::optional<int64_t> newest_complete = NewestCompleteFor(delta.get(), crls);
    if (!base || !number || !newest_complete || *newest_complete < *base ||
        *number <= *newest_complete) {
      continue;  // not a delta, or not one that updates the complete CRL in hand
    }
    for (int i = 0; i + 1 < sk_X509_num(chain); ++i) {
      X509* certificate = sk_X509_value(chain, i);
      if (X509_NAME_cmp(X509_get_issuer_name(certificate), X509_CRL_get_issuer(delta.get())) != 0) {
        continue;
      }
      EVP_PKEY* issuer_key = X509_get0_pubkey(sk_X509_value(chain, i + 1));
      if (issuer_key == nullptr || X509_CRL_verify(delta.get(), issuer_key) != 1) {
        DrainOpenSslErrors();
        continue;
      }
      X509_REVOKED* entry = nullptr;
      // 1: listed; 2: listed as removeFromCRL (§5.3.1: taken off hold), which is no revocation.
      if (X509_CRL_get0_by_cert(delta.get(), &entry, certificate) == 1) {
        return Finding{"path.revoked",
                       "listed in delta CRL " + std::to_string(*number) + " (on complete CRL " +
                           std::to_string(*newest_complete) + ", no freshestCRL pointing to it)",
                       i};
      }
    }
  }
  return std::nullopt;
}

// A finding of kyso's own checks as the result's failure, with the depth and subject.
void Record(Finding finding, STACK_OF(X509) * chain, PathResult& result) {
  result.error_id = std::move(finding.id);
  result.depth = finding.depth;
  result.detail = finding.detail + " at depth " + std::to_string(result.depth);
  if (std::string subject = SubjectOf(sk_X509_value(chain, result.depth)); !subject.empty()) {
    result.detail += " (" + subject + ")";
  }
}

}  // namespace

Result<PathResult> VerifyPath(const Certificate& leaf, const PathOptions& options) {
  KYSO_ASSIGN_OR_RETURN(UsageRequirements usages, ParseUsages(options));
  if (options.max_depth && *options.max_depth < 0) {
    return InvalidArgument("path.bad_option", "max_depth must not be negative");
  }

  // The CRLs go to the context, not the store: OpenSSL looks CRLs up in a store by the
  // certificate's issuer name only, so an indirect CRL (another issuer, named by cRLIssuer)
  // would never be found there; the context's list is searched whole (and handed to the
  // validation of a CRL issuer's own path).
  std::vector<CrlPtr> crls;
  X509CrlStackPtr crl_stack(sk_X509_CRL_new_null());
  if (!crl_stack) return Internal("path.internal", "out of memory: " + DrainOpenSslErrors());
  StorePtr store(X509_STORE_new());
  StoreCtxPtr ctx(X509_STORE_CTX_new());
  X509StackPtr untrusted(sk_X509_new_null());
  if (!store || !ctx || !untrusted) {
    return Internal("path.internal", "out of memory: " + DrainOpenSslErrors());
  }
  bool partial_chain = false;
  for (const Certificate& anchor : options.trust_anchors) {
    if (X509_STORE_add_cert(store.get(), anchor.openssl()) != 1) {
      return Internal("path.internal", "cannot add a trust anchor: " + DrainOpenSslErrors());
    }
    partial_chain = partial_chain || !SelfIssued(anchor.openssl());
  }
  int self_issued_intermediates = 0;
  for (const Certificate& c : options.intermediates) {
    if (sk_X509_push(untrusted.get(), c.openssl()) <= 0) {
      return Internal("path.internal", "out of memory: " + DrainOpenSslErrors());
    }
    if (SelfIssued(c.openssl())) ++self_issued_intermediates;
  }
  if (options.check_revocation) {
    for (size_t i = 0; i < options.crls.size(); ++i) {
      const unsigned char* p = options.crls[i].data();
      CrlPtr crl(d2i_X509_CRL(nullptr, &p, static_cast<long>(options.crls[i].size())));
      if (!crl || p != options.crls[i].data() + options.crls[i].size()) {
        return InvalidArgument("path.bad_crl", "CRL " + std::to_string(i) +
                                                   " is not a DER CRL: " + DrainOpenSslErrors());
      }
      if (sk_X509_CRL_push(crl_stack.get(), crl.get()) <= 0) {
        return Internal("path.internal", "out of memory: " + DrainOpenSslErrors());
      }
      crls.push_back(std::move(crl));
    }
  }

  if (X509_STORE_CTX_init(ctx.get(), store.get(), leaf.openssl(), untrusted.get()) != 1) {
    return Internal("path.internal", "X509_STORE_CTX_init: " + DrainOpenSslErrors());
  }
  X509_STORE_CTX_set0_crls(ctx.get(), crl_stack.get());  // not owned; declared before ctx
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  // The §4 profile checks on every certificate of the path (see path.h).
  unsigned long flags = X509_V_FLAG_X509_STRICT;
  if (partial_chain) flags |= X509_V_FLAG_PARTIAL_CHAIN;
  if (options.check_revocation) {
    // EXTENDED_CRL_SUPPORT: indirect CRLs, cRLIssuer, reason partitions and CRL signers other
    // than the certificate's issuer (see path.h).
    flags |= X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL | X509_V_FLAG_USE_DELTAS |
             X509_V_FLAG_EXTENDED_CRL_SUPPORT;
  }
  X509_VERIFY_PARAM_set_flags(param, flags);
  KYSO_RETURN_IF_ERROR(SetPolicyInputs(param, options.policy));
  if (options.at) X509_VERIFY_PARAM_set_time(param, static_cast<time_t>(*options.at));
  if (options.max_depth) {
    // OpenSSL counts self-issued intermediates too: leave room for them while it builds the
    // path, and count exactly afterwards (CheckDepth).
    X509_VERIFY_PARAM_set_depth(param,
                                std::min(*options.max_depth, 1000) + self_issued_intermediates);
  }
  if (options.dns_name) {
    //= https://www.rfc-editor.org/rfc/rfc9525#section-6.3
    //# [...] the client MUST NOT seek a match for a reference identifier of CN-ID [...]
    X509_VERIFY_PARAM_set_hostflags(
        param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS | X509_CHECK_FLAG_NEVER_CHECK_SUBJECT);
    if (X509_VERIFY_PARAM_set1_host(param, options.dns_name->data(), options.dns_name->size()) !=
        1) {
      DrainOpenSslErrors();
      return InvalidArgument("path.bad_option", "unusable DNS name: " + *options.dns_name);
    }
  }
  if (options.ip_address &&
      X509_VERIFY_PARAM_set1_ip_asc(param, options.ip_address->c_str()) != 1) {
    DrainOpenSslErrors();
    return InvalidArgument("path.bad_option", "not an IP address: " + *options.ip_address);
  }
  X509_STORE_CTX_set_verify_cb(ctx.get(), VerifyCallback);

  const int rc = X509_verify_cert(ctx.get());
  const std::string openssl_errors = DrainOpenSslErrors();

  PathResult result;
  if (STACK_OF(X509)* chain = X509_STORE_CTX_get0_chain(ctx.get())) {
    for (int i = 0; i < sk_X509_num(chain); ++i) {
      result.chain.push_back(CertificateFor(sk_X509_value(chain, i), leaf, options));
    }
    // A pass, or no CRL for some certificate, is overruled by a delta CRL OpenSSL did not read
    // that revokes a certificate, or that shows the complete CRLs to be missing or out of date.
    const int error = rc == 1 ? X509_V_OK : X509_STORE_CTX_get_error(ctx.get());
    if (options.check_revocation && (error == X509_V_OK || error == X509_V_ERR_UNABLE_TO_GET_CRL)) {
      std::optional<Finding> delta = CheckUnconsultedDeltas(chain, crls);
      if (!delta) delta = CheckDeltaBases(chain, crls);
      if (delta) {
        Record(std::move(*delta), chain, result);
        return result;
      }
    }
  }
  if (rc != 1) {
    const int error = X509_STORE_CTX_get_error(ctx.get());
    result.depth = X509_STORE_CTX_get_error_depth(ctx.get());
    result.error_id = error == X509_V_OK ? "path.other" : ErrorIdFor(error);
    result.detail = std::string(X509_verify_cert_error_string(error)) + " at depth " +
                    std::to_string(result.depth);
    if (std::string subject = SubjectOf(X509_STORE_CTX_get_current_cert(ctx.get()));
        !subject.empty()) {
      result.detail += " (" + subject + ")";
    }
    if (error == X509_V_OK && !openssl_errors.empty()) result.detail += ": " + openssl_errors;
    return result;
  }

  STACK_OF(X509)* chain = X509_STORE_CTX_get0_chain(ctx.get());
  std::optional<Finding> finding = CheckProfile(chain);
  if (!finding && options.max_depth) finding = CheckDepth(chain, *options.max_depth);
  if (finding) {
    Record(std::move(*finding), chain, result);
    return result;
  }

  std::string detail;
  if (std::string id = CheckLeafUsages(leaf.openssl(), usages, &detail); !id.empty()) {
    result.error_id = std::move(id);
    result.detail = detail;
    result.depth = 0;
    return result;
  }
  result.valid = true;
  result.valid_policies = ValidPolicies(ctx.get());
  return result;
}

}  // namespace kyso::x509
