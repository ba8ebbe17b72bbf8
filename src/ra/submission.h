// The SubmissionVerifier over the verification engine: a submission's detached CMS must be
// TOTAL_PASSED by verify::VerifyCms — digest and signature over the canonical document, the
// signer's path to the instance's trust anchors, keyUsage/EKU for signing, and revocation now
// (OCSP or CRL through `options.online`; an unknown status refuses the submission, Nghị định 68
// Điều 31: do not accept what cannot be checked).
#pragma once

#include "ra/registry.h"
#include "verify/engine.h"

namespace kyso::ra {

class EngineSubmissionVerifier final : public SubmissionVerifier {
 public:
  // options.now is replaced by the clock's time at each call.
  EngineSubmissionVerifier(verify::VerifyOptions options, const Clock* clock)
      : options_(std::move(options)), clock_(clock) {}

  // ra.bad_signature (InvalidArgument) with the engine's sub-indication and first finding.
  Result<Signer> Verify(ByteSpan cms_der, ByteSpan document) override;

 private:
  verify::VerifyOptions options_;
  const Clock* clock_;
};

}  // namespace kyso::ra
