// Certification path validation (RFC 5280 §6) with OpenSSL's verifier (X509_STORE_CTX).
//
// VerifyPath builds a path from a leaf to one of the caller's trust anchors through the
// untrusted intermediates given, and validates it at a given time: signatures, validity
// periods, basicConstraints and pathLenConstraint, keyCertSign, name constraints, unknown
// critical extensions (§6.1.3-§6.1.4), revocation from the caller's CRLs (§6.3), the caller's
// maximum depth, and RFC 5280 §4 profile rules on every certificate, the anchor included:
//   - OpenSSL's X509_V_FLAG_X509_STRICT: critical basicConstraints on CAs, keyUsage on CAs and
//     keyCertSign only on CAs, AKI keyIdentifier (below the anchor) and SKI on CAs present and
//     non-critical, non-empty issuer and subject (or a critical SAN), consistent signature
//     algorithm fields, no explicit EC parameters;
//   - and in path.cc: every extension OpenSSL knows decodes (§4.2), nameConstraints only in
//     CA certificates and never empty (§4.2.1.10), SAN dNSNames in the preferred name syntax
//     (§4.2.1.6), and an anchor that is not self-issued carries an AKI keyIdentifier (§4.2.1.1).
// On the leaf it then checks the key usages and extended key usages the application requires
// (§4.2.1.3, §4.2.1.12) and, for TLS-style callers, a DNS name or IP address (RFC 9525 rules:
// subjectAltName only, no partial wildcards).
//
// Certificate policies (§6.1.2-§6.1.5) are always processed (OpenSSL's X509_V_FLAG_POLICY_CHECK):
// requireExplicitPolicy, inhibitPolicyMapping and inhibitAnyPolicy in the path's CAs, policy
// mappings to and from anyPolicy, and the caller's initial inputs (PathOptions::policy). A path
// whose valid_policy_tree must not be empty and is fails with path.policy; PathResult gives
// the user-constrained valid policy set of a path that passes.
//
// Revocation (§6.3, with check_revocation) is OpenSSL's too, with its extended CRL support:
// complete and delta CRLs (§5.2.4; OpenSSL reads a delta only where the certificate or the
// complete CRL carries freshestCRL, §6.3.3(a)), indirect CRLs and entries with
// certificateIssuer (§5.2.5, §5.3.3), CRLs named by a distribution point's cRLIssuer, CRLs
// partitioned by reason (onlySomeReasons: every reason must be covered, §6.3.3(d)-(j)) and CRLs
// signed with another key of the certificate's issuer (the CRL signer's certificate among
// `intermediates`, with a path to the same anchor, §6.3.3(f)). path.cc adds what OpenSSL leaves
// out about delta CRLs among `crls`:
//   - one signed by the certificate's issuer, newer than the complete CRL it builds on, that
//     lists the certificate revokes it even without a freshestCRL pointing to it;
//   - one whose base is missing (no complete CRL of its scope numbered at least its
//     BaseCRLNumber) means the complete CRL in hand is out of date or absent, so revocation
//     cannot be decided (path.crl_delta_base_missing).
//
// A basicConstraints extension that is present but not critical in an intermediate CA is
// accepted: §6.1.4(k) asks only that it be present with cA TRUE (the criticality rule of
// §4.2.1.9 binds issuing CAs). A trust anchor with one is still a §4 profile failure.
//
// Not checked: serial number form (§4.1.2.2 asks users to tolerate zero and negative serials),
// algorithm or key size policy.
//
// A failed validation is data, not an error: PathResult says why, with a stable id. The
// Result fails only when the inputs cannot be used at all.
//
// Error ids in PathResult::error_id (the OpenSSL X509_V_ERR_* codes behind each are in path.cc):
//   path.expired                     a certificate's notAfter is before the validation time
//   path.not_yet_valid               a certificate's notBefore is after the validation time
//   path.untrusted                   no path to a trust anchor (issuer not found, self-signed
//                                    certificate not among the anchors, loop)
//   path.revoked                     a certificate is listed in a CRL
//   path.crl_missing                 revocation checking is on and no CRL covers a certificate
//   path.crl_invalid                 a CRL is there but unusable: bad signature, stale or not yet
//                                    valid, its issuer cannot be found, wrong scope
//   path.crl_delta_base_missing      a delta CRL for a certificate of the path whose base CRL is
//                                    not among the CRLs (none of its scope, or only older ones)
//   path.bad_signature               a certificate's signature does not verify, or its algorithm
//                                    is unsupported or inconsistent with the issuer's key
//   path.key_usage                   keyUsage forbids the use (keyCertSign on a CA, the leaf's
//                                    required usages, keyCertSign on a non-CA)
//   path.eku                         the leaf's extendedKeyUsage lacks every required purpose
//   path.name_mismatch               the leaf does not match dns_name / ip_address
//   path.invalid_ca                  an issuer is not a CA (no basicConstraints cA=TRUE, or a
//                                    non-critical basicConstraints, or pathLen on a non-CA)
//   path.path_length                 an issuer's pathLenConstraint is exceeded (§4.2.1.9)
//   path.depth                       the path has more intermediates than max_depth
//   path.unhandled_critical_extension  a critical extension OpenSSL does not process
//   path.policy                      the valid_policy_tree is empty where it must not be
//                                    (§6.1.3(f), §6.1.5(g)), or a policy extension is invalid
//   path.name_constraints            a name violates, or cannot be checked against, a
//                                    nameConstraints extension (§4.2.1.10)
//   path.profile                     a certificate breaks the RFC 5280 §4 profile (see above:
//                                    missing or critical AKI/SKI, empty names, malformed
//                                    extensions, misplaced or empty nameConstraints, ...)
//   path.weak_crypto                 a key or digest below the security level
//   path.other                       anything else (see detail)
// Result errors: path.bad_crl (InvalidArgument: a CRL is not DER), path.bad_option
// (InvalidArgument: an unknown key usage or extended key usage name, a negative max_depth, a
// DNS name or IP address OpenSSL cannot take, a policy that is not a dotted OID), path.internal
// (Internal: OpenSSL out of memory).
//
// Thread-safety: VerifyPath keeps no state between calls and may run concurrently; the
// Certificate values it is given may be shared with other threads.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/clock.h"
#include "base/result.h"
#include "x509/certificate.h"

namespace kyso::x509 {

// The initial policy inputs of RFC 5280 §6.1.1(c), (e), (f), (g).
struct PolicyInputs {
  // user-initial-policy-set: dotted OIDs (or "anyPolicy"); empty means {anyPolicy}.
  std::vector<std::string> initial_policies;
  bool explicit_policy = false;         // initial-explicit-policy
  bool inhibit_policy_mapping = false;  // initial-policy-mapping-inhibit
  bool inhibit_any_policy = false;      // initial-any-policy-inhibit
};

struct PathOptions {
  // The trust anchors (§6.1.1(d)): usually self-signed roots. When one of them is not
  // self-issued (an intermediate pinned as an anchor), any trusted certificate ends the path
  // where it appears (OpenSSL's X509_V_FLAG_PARTIAL_CHAIN); otherwise the path must end in a
  // self-signed anchor (OpenSSL's test: names and, when present, the AKI match its own). Anchors
  // are checked like the rest of the path (validity, profile), but not for revocation.
  std::vector<Certificate> trust_anchors;
  // Untrusted certificates path building may use (e.g. those a signature carries).
  std::vector<Certificate> intermediates;
  // DER CRLs (full, and delta CRLs with their base) used when check_revocation is set.
  std::vector<Bytes> crls;
  // §6.3: when set, every certificate of the path except the anchor needs a valid CRL from
  // `crls`; none there is path.crl_missing.
  bool check_revocation = false;
  // The validation time (§6.1.1(b)); the current system time when unset.
  std::optional<UnixSeconds> at;
  // §4.2.1.12: when non-empty and the leaf has an extendedKeyUsage extension, it must list one
  // of these (OpenSSL short names such as "serverAuth", "documentSigning", or dotted OIDs).
  // anyExtendedKeyUsage does not stand in for them (§4.2.1.12 lets applications that require
  // a purpose reject it). A leaf without the extension is unrestricted and passes.
  std::vector<std::string> required_eku;
  // §4.2.1.3: when non-empty and the leaf has a keyUsage extension, it must assert one of these
  // ("digitalSignature", "nonRepudiation" or "contentCommitment", "keyEncipherment",
  // "dataEncipherment", "keyAgreement", "keyCertSign", "cRLSign", "encipherOnly",
  // "decipherOnly"). A leaf without the extension is unrestricted and passes.
  std::vector<std::string> required_key_usage;
  // Maximum number of intermediate certificates between the leaf and the anchor, not counting
  // self-issued ones (as §4.2.1.9 counts pathLenConstraint): 0 allows only a leaf issued by an
  // anchor.
  std::optional<int> max_depth;
  // For TLS-style checks: the leaf's subjectAltName must match this DNS name (wildcards only
  // as a whole left-most label; the subject CN is never used) or this IP address (text form).
  std::optional<std::string> dns_name;
  std::optional<std::string> ip_address;
  PolicyInputs policy;
};

struct PathResult {
  bool valid = false;
  // Leaf first, anchor last. On failure: the path as far as OpenSSL built it (may not reach an
  // anchor, may be just the leaf).
  std::vector<Certificate> chain;
  std::string error_id;  // stable id when !valid (see the list above)
  std::string detail;    // OpenSSL's reason, the depth and the subject of the certificate
  int depth = -1;        // index in `chain` of the certificate that failed (0: the leaf)
  // When valid: the user-constrained valid policy set (§6.1.6(g): the valid_policy_tree's
  // policies within the user-initial-policy-set) as dotted OIDs, "2.5.29.32.0" for anyPolicy;
  // empty when the path asserts no policy the caller accepts.
  std::vector<std::string> valid_policies;
};

// Validates the path from `leaf` at options.at. Fails (Result error) only on unusable inputs.
[[nodiscard]] Result<PathResult> VerifyPath(const Certificate& leaf, const PathOptions& options);

}  // namespace kyso::x509
