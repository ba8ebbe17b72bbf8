#include "ra/submission.h"

namespace kyso::ra {

Result<SubmissionVerifier::Signer> EngineSubmissionVerifier::Verify(ByteSpan cms_der,
                                                                    ByteSpan document) {
  verify::VerifyOptions options = options_;
  options.now = clock_->Now();
  auto report = verify::VerifyCms(cms_der, document, "submission", options);
  if (!report.ok()) {
    return InvalidArgument("ra.bad_signature",
                           "the submission is not a CMS signature: " + report.status().message());
  }
  if (report->signatures.size() != 1) {
    return InvalidArgument("ra.bad_signature", "expected exactly one signature");
  }
  const verify::SignatureReport& sig = report->signatures[0];
  if (sig.indication != verify::Indication::kPassed || !sig.signer) {
    std::string why = sig.sub_indication;
    for (const auto& finding : sig.findings) {
      if (finding.severity == verify::Severity::kError) {
        why += (why.empty() ? "" : ": ") + finding.id;
        if (!finding.detail.empty()) why += " (" + finding.detail + ")";
        break;
      }
    }
    return InvalidArgument("ra.bad_signature",
                           "the signature does not verify over the request document: " +
                               std::string(verify::IndicationName(sig.indication)) +
                               (why.empty() ? "" : " " + why));
  }
  return Signer{sig.signer->subject, sig.signer->serial_hex};
}

}  // namespace kyso::ra
