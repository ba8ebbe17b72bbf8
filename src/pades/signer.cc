#include "pades/signer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <thread>

#include "x509/cms.h"
#include "x509/validation_data.h"

namespace kyso::pades {

Result<Level> ParseLevel(std::string_view text) {
  std::string t;
  for (char c : text) t += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (t == "B-B" || t == "BB") return Level::kBB;
  if (t == "B-T" || t == "BT") return Level::kBT;
  if (t == "B-LT" || t == "BLT") return Level::kBLT;
  if (t == "B-LTA" || t == "BLTA") return Level::kBLTA;
  return InvalidArgument("pades.invalid_level",
                         "unknown PAdES level '" + std::string(text) + "' (B-B, B-T, B-LT, B-LTA)");
}

std::string_view LevelName(Level level) {
  switch (level) {
    case Level::kBB:
      return "B-B";
    case Level::kBT:
      return "B-T";
    case Level::kBLT:
      return "B-LT";
    case Level::kBLTA:
      return "B-LTA";
  }
  return "B-B";
}

namespace {

// A temporary file beside the destination, renamed into place by Commit and removed otherwise.
class OutputFile {
 public:
  static Result<std::unique_ptr<OutputFile>> Create(const std::string& destination) {
    std::string tmp = destination + ".kyso-tmp-XXXXXX";
    int fd = ::mkstemp(tmp.data());
    if (fd < 0) {
      return InvalidArgument("pades.output", "cannot create a file beside " + destination + ": " +
                                                 std::strerror(errno));
    }
    ::fchmod(fd, 0644);
    return std::unique_ptr<OutputFile>(new OutputFile(fd, tmp, destination));
  }
  ~OutputFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_) ::unlink(tmp_.c_str());
  }
  const std::string& temp_path() const { return tmp_; }
  size_t size() const { return size_; }

  Status Append(ByteSpan data) {
    KYSO_RETURN_IF_ERROR(WriteAt(size_, data));
    size_ += data.size();
    return Status::Ok();
  }
  Status WriteAt(size_t offset, ByteSpan data) {
    size_t done = 0;
    while (done < data.size()) {
      ssize_t n =
          ::pwrite(fd_, data.data() + done, data.size() - done, static_cast<off_t>(offset + done));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        return InvalidArgument("pades.output", "writing " + tmp_ + ": " + std::strerror(errno));
      }
      done += static_cast<size_t>(n);
    }
    return Status::Ok();
  }
  // Appends `size` bytes of `fd` from offset 0, copied inside the kernel (copy_file_range);
  // false when the kernel or file systems cannot, so the caller writes from memory instead.
  Result<bool> AppendFrom(int fd, size_t size) {
    loff_t in = 0;
    loff_t out = static_cast<loff_t>(size_);
    while (static_cast<size_t>(in) < size) {
      ssize_t n = ::copy_file_range(fd, &in, fd_, &out, size - static_cast<size_t>(in), 0);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && in == 0 &&
          (errno == EXDEV || errno == ENOSYS || errno == EOPNOTSUPP || errno == EINVAL)) {
        return false;
      }
      if (n <= 0) {
        return InvalidArgument("pades.output", "copying into " + tmp_ + ": " +
                                                   (n < 0 ? std::strerror(errno) : "short copy"));
      }
    }
    size_ += size;
    return true;
  }
  Status Truncate(size_t size) {
    if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) {
      return InvalidArgument("pades.output", "truncating " + tmp_ + ": " + std::strerror(errno));
    }
    size_ = size;
    return Status::Ok();
  }
  Status Commit(bool durable) {
    if (durable && ::fsync(fd_) != 0) {
      return InvalidArgument("pades.output", "fsync " + tmp_ + ": " + std::strerror(errno));
    }
    ::close(fd_);
    fd_ = -1;
    if (::rename(tmp_.c_str(), destination_.c_str()) != 0) {
      return InvalidArgument("pades.output",
                             "renaming to " + destination_ + ": " + std::strerror(errno));
    }
    committed_ = true;
    if (durable) {
      std::string dir = destination_.find('/') == std::string::npos
                            ? "."
                            : destination_.substr(0, destination_.rfind('/') + 1);
      int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (dfd >= 0) {
        ::fsync(dfd);
        ::close(dfd);
      }
    }
    return Status::Ok();
  }

 private:
  OutputFile(int fd, std::string tmp, std::string destination)
      : fd_(fd), tmp_(std::move(tmp)), destination_(std::move(destination)) {}
  int fd_;
  std::string tmp_;
  std::string destination_;
  size_t size_ = 0;
  bool committed_ = false;
};

// Appends `prepared.update` after `base` (written too when `write_base`) and returns the digest
// of the signed byte ranges: everything but the /Contents hex string (ISO 32000-1 §12.8.1).
// The original bytes are read once, hashed and written in the same pass.
Result<Bytes> AppendAndHash(OutputFile& out, ByteSpan base, int base_fd, bool write_base,
                            const pdf::PreparedSignature& prepared,
                            crypto::DigestAlgorithm algorithm) {
  crypto::Hasher hasher(algorithm);
  constexpr size_t kChunk = 1 << 20;
  // Hashing is the floor; copying the original into the output need not add to it. A large
  // file is copied by a second thread while this one hashes, inside the kernel when it can.
  constexpr size_t kParallelCopyFrom = 4 << 20;
  Status copied = Status::Ok();
  std::thread copier;
  if (write_base && base.size() >= kParallelCopyFrom) {
    copier = std::thread([&] {
      if (base_fd >= 0) {
        auto in_kernel = out.AppendFrom(base_fd, base.size());
        if (!in_kernel.ok()) {
          copied = in_kernel.status();
          return;
        }
        if (*in_kernel) return;
      }
      copied = out.Append(base);
    });
  }
  for (size_t offset = 0; offset < base.size(); offset += kChunk) {
    ByteSpan chunk = base.subspan(offset, std::min(kChunk, base.size() - offset));
    hasher.Update(chunk);
    if (write_base && !copier.joinable()) KYSO_RETURN_IF_ERROR(out.Append(chunk));
  }
  if (copier.joinable()) {
    copier.join();
    KYSO_RETURN_IF_ERROR(copied);
  }
  ByteSpan update(prepared.update);
  hasher.Update(update.first(prepared.contents_offset));
  hasher.Update(update.subspan(prepared.contents_offset + prepared.contents_length));
  KYSO_RETURN_IF_ERROR(out.Append(update));
  return hasher.Finish();
}

// Writes `value` (hex, zero-padded) inside the reserved /Contents string.
Status FillContents(OutputFile& out, size_t base_size, const pdf::PreparedSignature& prepared,
                    ByteSpan value) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string hex(prepared.contents_length - 2, '0');
  for (size_t i = 0; i < value.size(); ++i) {
    hex[2 * i] = kDigits[value[i] >> 4];
    hex[2 * i + 1] = kDigits[value[i] & 15];
  }
  return out.WriteAt(base_size + prepared.contents_offset + 1,
                     ByteSpan(reinterpret_cast<const uint8_t*>(hex.data()), hex.size()));
}

size_t RoundUp(size_t n, size_t to) {
  return (n + to - 1) / to * to;
}

Result<Bytes> TimeStampOver(ValidationServices& services, ByteSpan digest) {
  return x509::RequestTimeStamp([&](ByteSpan request) { return services.TimeStamp(request); },
                                digest);
}

Status CheckCredentials(const Credentials& credentials, UnixSeconds at) {
  const auto& cert = credentials.certificate;
  if (!credentials.signer || !credentials.signer->public_key().Equals(cert.public_key())) {
    return InvalidArgument(
        "pades.key_mismatch",
        "the private key does not belong to the certificate " + cert.subject().ToRfc4514());
  }
  if (at < cert.not_before()) {
    return FailedPrecondition("pades.certificate_not_yet_valid",
                              "the signing certificate is not valid yet at the signing time");
  }
  if (at > cert.not_after()) {
    return FailedPrecondition("pades.certificate_expired",
                              "the signing certificate expired before the signing time");
  }
  auto ku = cert.extensions().key_usage;
  if (!ku.empty() && std::find(ku.begin(), ku.end(), "digitalSignature") == ku.end() &&
      std::find(ku.begin(), ku.end(), "nonRepudiation") == ku.end()) {
    return FailedPrecondition("pades.not_for_signing",
                              "the certificate's keyUsage allows neither digitalSignature nor "
                              "nonRepudiation");
  }
  return Status::Ok();
}

// The padding applies to RSA only: an ECDSA key signs with the digest alone.
crypto::SignatureScheme SchemeFor(const Credentials& credentials, crypto::DigestAlgorithm digest,
                                  crypto::RsaPadding padding) {
  crypto::SignatureScheme scheme{digest, padding};
  if (credentials.signer->key_spec().algorithm == crypto::KeyAlgorithm::kEcdsa)
    scheme.padding = crypto::RsaPadding::kPkcs1v15;
  return scheme;
}

struct CollectedData {
  pdf::DssData dss;
  std::vector<std::string> seen_certificates;  // fingerprints, to avoid duplicates
};

size_t AddCertificate(CollectedData& data, const x509::Certificate& cert) {
  const Bytes& der = cert.der();
  for (size_t i = 0; i < data.dss.certificates.size(); ++i) {
    if (data.dss.certificates[i] == der) return i;
  }
  data.dss.certificates.push_back(der);
  return data.dss.certificates.size() - 1;
}

const x509::Certificate* IssuerOf(const x509::Certificate& cert,
                                  const std::vector<x509::Certificate>& known) {
  for (const auto& k : known) {
    if (k.subject() == cert.issuer() && cert.IsSignedBy(k.public_key())) return &k;
  }
  return nullptr;
}

bool IsSelfSigned(const x509::Certificate& cert) {
  return cert.subject() == cert.issuer() && cert.IsSignedBy(cert.public_key());
}

// Revocation data for `cert` (ETSI EN 319 142-1 §5.4.2): OCSP from its AIA, else its CRL.
Status CollectRevocation(ValidationServices& services, const x509::Certificate& cert,
                         const x509::Certificate& issuer, CollectedData& data,
                         pdf::DssData::Vri& vri) {
  auto ext = cert.extensions();
  std::string failures;
  for (const auto& url : ext.ocsp_urls) {
    auto response = services.Ocsp(url, x509::EncodeOcspRequestFor(cert, issuer));
    if (!response.ok()) {
      failures += " OCSP " + url + ": " + response.status().message() + ";";
      continue;
    }
    auto answer = x509::InspectOcspResponse(*response, cert, issuer);
    if (!answer.ok()) {
      failures += " OCSP " + url + ": " + answer.status().message() + ";";
      continue;
    }
    if (answer->status == x509::OcspCertStatus::kRevoked) {
      return FailedPrecondition("pades.revoked", "the certificate " + cert.subject().ToRfc4514() +
                                                     " is revoked (OCSP " + url + ")");
    }
    if (answer->status != x509::OcspCertStatus::kGood) {
      failures += " OCSP " + url + ": status unknown;";
      continue;
    }
    data.dss.ocsp_responses.push_back(std::move(response).value());
    vri.ocsp_responses.push_back(data.dss.ocsp_responses.size() - 1);
    if (answer->responder) vri.certificates.push_back(AddCertificate(data, *answer->responder));
    return Status::Ok();
  }
  for (const auto& url : ext.crl_urls) {
    auto crl = services.Crl(url);
    if (!crl.ok()) {
      failures += " CRL " + url + ": " + crl.status().message() + ";";
      continue;
    }
    data.dss.crls.push_back(std::move(crl).value());
    vri.crls.push_back(data.dss.crls.size() - 1);
    return Status::Ok();
  }
  return FailedPrecondition(
      "pades.no_revocation_data",
      "no revocation data for " + cert.subject().ToRfc4514() +
          (failures.empty() ? ": the certificate names no OCSP or CRL URL" : ":" + failures));
}

Result<pdf::DssData> CollectValidationData(ValidationServices& services,
                                           const Credentials& credentials,
                                           const std::vector<x509::Certificate>& tsa_certificates,
                                           const std::string& vri_key) {
  CollectedData data;
  pdf::DssData::Vri vri;
  vri.key = vri_key;
  std::vector<x509::Certificate> known = credentials.chain;
  known.push_back(credentials.certificate);
  known.insert(known.end(), tsa_certificates.begin(), tsa_certificates.end());

  std::vector<x509::Certificate> to_check = {credentials.certificate};
  to_check.insert(to_check.end(), credentials.chain.begin(), credentials.chain.end());
  to_check.insert(to_check.end(), tsa_certificates.begin(), tsa_certificates.end());
  for (const auto& cert : to_check) {
    vri.certificates.push_back(AddCertificate(data, cert));
    if (IsSelfSigned(cert)) continue;  // a trust anchor has no revocation status
    const x509::Certificate* issuer = IssuerOf(cert, known);
    if (issuer == nullptr) {
      return FailedPrecondition(
          "pades.no_revocation_data",
          "the issuer of " + cert.subject().ToRfc4514() + " is not in the chain given");
    }
    KYSO_RETURN_IF_ERROR(CollectRevocation(services, cert, *issuer, data, vri));
  }
  std::sort(vri.certificates.begin(), vri.certificates.end());
  vri.certificates.erase(std::unique(vri.certificates.begin(), vri.certificates.end()),
                         vri.certificates.end());
  data.dss.vri.push_back(std::move(vri));
  return std::move(data.dss);
}

std::string UpperHex(ByteSpan bytes) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  for (uint8_t b : bytes) {
    out += kDigits[b >> 4];
    out += kDigits[b & 15];
  }
  return out;
}

}  // namespace

Result<SignOutcome> SignPdf(const pdf::Document& document, const Credentials& credentials,
                            const SignOptions& options, const std::string& output_path) {
  KYSO_RETURN_IF_ERROR(CheckCredentials(credentials, options.signing_time));
  if (options.level != Level::kBB && options.services == nullptr) {
    return InvalidArgument("pades.no_services", std::string("level ") +
                                                    std::string(LevelName(options.level)) +
                                                    " needs a time-stamping service");
  }
  const crypto::SignatureScheme scheme =
      SchemeFor(credentials, options.digest, options.rsa_padding);

  // Room for the CMS: certificates, the signature, attributes, and a time-stamp token at B-T+.
  size_t estimate = credentials.certificate.der().size() + 2048;
  for (const auto& c : credentials.chain) estimate += c.der().size();
  if (options.level != Level::kBB) estimate += 8192;

  KYSO_ASSIGN_OR_RETURN(auto out, OutputFile::Create(output_path));
  SignOutcome outcome;
  outcome.level = options.level;
  pdf::SignatureSpec spec = options.spec;
  spec.document_timestamp = false;
  spec.signing_time = options.signing_time;
  spec.contents_size = RoundUp(estimate, 1024);
  ByteSpan base = document.bytes();

  Bytes cms;
  Bytes signature_token;
  pdf::PreparedSignature prepared;
  for (int attempt = 0;; ++attempt) {
    KYSO_ASSIGN_OR_RETURN(
        prepared, pdf::PrepareSignature(document, options.placement, spec, options.appearance));
    KYSO_RETURN_IF_ERROR(out->Truncate(0));
    KYSO_ASSIGN_OR_RETURN(Bytes digest, AppendAndHash(*out, base, document.file_descriptor(), true,
                                                      prepared, options.digest));
    KYSO_ASSIGN_OR_RETURN(cms, x509::SignDetachedCms({.content_digest = digest,
                                                      .digest_algorithm = options.digest,
                                                      .signer_certificate = credentials.certificate,
                                                      .extra_certificates = credentials.chain,
                                                      .signer = *credentials.signer,
                                                      .scheme = scheme,
                                                      .options = {.pades = true}}));
    if (options.level != Level::kBB) {
      KYSO_ASSIGN_OR_RETURN(Bytes signature_value, x509::SignatureValueOf(cms));
      Bytes imprint = crypto::Digest(crypto::DigestAlgorithm::kSha256, signature_value);
      KYSO_ASSIGN_OR_RETURN(signature_token, TimeStampOver(*options.services, imprint));
      KYSO_ASSIGN_OR_RETURN(cms, x509::AddUnsignedSignatureTimeStamp(cms, signature_token));
    }
    if (cms.size() <= spec.contents_size) break;
    if (attempt > 0) {
      return Internal("pades.contents_overflow", "the CMS outgrew its reserved space twice");
    }
    spec.contents_size = RoundUp(cms.size() + 2048, 1024);  // a bigger token than expected
  }
  KYSO_RETURN_IF_ERROR(FillContents(*out, base.size(), prepared, cms));
  outcome.field_name = prepared.field_name;
  outcome.page = prepared.page;
  outcome.rect = prepared.widget_rect;
  outcome.cms_size = cms.size();
  outcome.revisions_added = 1;

  if (options.level == Level::kBLT || options.level == Level::kBLTA) {
    // The VRI key hashes the whole /Contents string, padding included (EN 319 142-1 §5.4.2.3).
    Bytes contents(spec.contents_size, 0);
    std::copy(cms.begin(), cms.end(), contents.begin());
    std::string vri_key = UpperHex(x509::Sha1ForIdentifier(contents));
    std::vector<x509::Certificate> tsa_certificates;
    if (!signature_token.empty()) {
      KYSO_ASSIGN_OR_RETURN(tsa_certificates, x509::CertificatesOfSignedData(signature_token));
    }
    KYSO_ASSIGN_OR_RETURN(pdf::DssData dss, CollectValidationData(*options.services, credentials,
                                                                  tsa_certificates, vri_key));
    outcome.dss_certificates = dss.certificates.size();
    outcome.dss_ocsp_responses = dss.ocsp_responses.size();
    outcome.dss_crls = dss.crls.size();
    KYSO_ASSIGN_OR_RETURN(pdf::Document signed_doc, pdf::Document::Open(out->temp_path()));
    KYSO_ASSIGN_OR_RETURN(Bytes dss_update, pdf::PrepareDss(signed_doc, dss));
    KYSO_RETURN_IF_ERROR(out->Append(dss_update));
    outcome.revisions_added = 2;
  }

  if (options.level == Level::kBLTA) {
    KYSO_ASSIGN_OR_RETURN(pdf::Document with_dss, pdf::Document::Open(out->temp_path()));
    pdf::SignatureSpec ts_spec;
    ts_spec.document_timestamp = true;
    ts_spec.contents_size = 12 * 1024;
    KYSO_ASSIGN_OR_RETURN(pdf::PreparedSignature ts_prepared,
                          pdf::PrepareSignature(with_dss, pdf::SignaturePlacement{}, ts_spec, {}));
    size_t ts_base = with_dss.bytes().size();
    KYSO_ASSIGN_OR_RETURN(Bytes digest,
                          AppendAndHash(*out, with_dss.bytes(), -1, false, ts_prepared,
                                        crypto::DigestAlgorithm::kSha256));
    KYSO_ASSIGN_OR_RETURN(Bytes token, TimeStampOver(*options.services, digest));
    if (token.size() > ts_spec.contents_size) {
      return Internal("pades.contents_overflow", "the document time-stamp token is too large");
    }
    KYSO_RETURN_IF_ERROR(FillContents(*out, ts_base, ts_prepared, token));
    outcome.revisions_added = 3;
  }
  outcome.output_size = out->size();
  KYSO_RETURN_IF_ERROR(out->Commit(options.durable));
  return outcome;
}

// ETSI EN 319 122-1 §5.1/§5.2 (CAdES-B-B): content-type, message-digest and
// signing-certificate-v2 are signed attributes, and §5.2.1 "The signing-time attribute shall be
// present"; x509::SignDetachedCms writes all four when options.pades is false. §6.3 requires
// nothing more at B-B; the chain goes into SignedData.certificates so that a verifier without
// the intermediates (openssl cms -verify -CAfile root) can build the path.
Result<Bytes> SignDetachedCades(const Credentials& credentials, ByteSpan content,
                                UnixSeconds signing_time) {
  KYSO_RETURN_IF_ERROR(CheckCredentials(credentials, signing_time));
  const crypto::DigestAlgorithm digest = crypto::DigestAlgorithm::kSha256;
  return x509::SignDetachedCms(
      {.content_digest = crypto::Digest(digest, content),
       .digest_algorithm = digest,
       .signer_certificate = credentials.certificate,
       .extra_certificates = credentials.chain,
       .signer = *credentials.signer,
       .scheme = SchemeFor(credentials, digest, crypto::RsaPadding::kPkcs1v15),
       .options = {.pades = false, .signing_time = signing_time}});
}

}  // namespace kyso::pades
