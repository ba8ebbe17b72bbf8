// Internal to xades/: XMLDSig core (W3C XML Signature 1.1 §3) on xmlsec's contexts, with
// kyso's restrictions (same-document references, a fixed set of transforms). RSA-PSS, which
// xmlsec 1.2 lacks, goes through the same reference processing and SignedInfo
// canonicalization, with the signature value made and checked by crypto/.
#pragma once

#include <libxml/tree.h>

#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/result.h"
#include "crypto/signer.h"
#include "x509/certificate.h"
#include "xades/algorithms.h"

namespace kyso::xades {

struct CoreOutcome {
  bool processed = false;        // the references were processed (none refused outright)
  bool references_hold = false;  // every reference digest matches
  bool valid = false;            // ... and the signature value verifies
  std::vector<bool> reference_valid;
  std::string error;  // xmlsec's words when it stopped
};

CoreOutcome VerifyCore(xmlNode* signature, xmlNode* signed_info, xmlNode* signature_value,
                       const SignatureAlgorithm& method, const x509::Certificate& certificate);

// Signing: fills in the DigestValue of every Reference of `signed_info` (§3.1.1), then the
// SignatureValue (§3.1.2) with `signer`. xades.sign when xmlsec fails.
Status SignCore(xmlNode* signed_info, xmlNode* signature_value, const SignatureAlgorithm& method,
                const crypto::Signer& signer);

}  // namespace kyso::xades
