#include "ocsp/presign.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <functional>
#include <thread>

#include "base/files.h"
#include "base/parallel.h"
#include "ocsp/identity.h"
#include "x509/ocsp.h"

namespace kyso::ocsp {

namespace {

// Writes `data` to dir/name through a temporary file and rename(2), so that a web server
// reading the directory sees the old file or the new one, never half of one. No fsync: the
// export is a cache that the next run rewrites.
Status WriteExportFile(const std::string& dir, const std::string& name, ByteSpan data) {
  const std::string path = dir + "/" + name;
  const std::string temp = dir + "/." + name + ".tmp";
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Unavailable("export.io", "cannot write " + temp + ": " + std::strerror(errno));
  size_t written = 0;
  while (written < data.size()) {
    const ssize_t n = ::write(fd, data.data() + written, data.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int error = errno;
      ::close(fd);
      ::unlink(temp.c_str());
      return Unavailable("export.io", "cannot write " + temp + ": " + std::strerror(error));
    }
    written += static_cast<size_t>(n);
  }
  if (::close(fd) != 0 || ::rename(temp.c_str(), path.c_str()) != 0) {
    const int error = errno;
    ::unlink(temp.c_str());
    return Unavailable("export.io", "cannot write " + path + ": " + std::strerror(error));
  }
  return Status::Ok();
}

struct Signed {
  bool ok = false;
  Status error;
  x509::OcspCertStatus status = x509::OcspCertStatus::kGood;
  UnixSeconds next_update = 0;
  Bytes der;
  std::string file;  // export file name
  bool stored = false;
};

}  // namespace

Result<PresignReport> Presign(store::Database& db, crypto::KeyStore& keys, const Clock& clock,
                              const ResponderOptions& options, const PresignOptions& presign) {
  KYSO_RETURN_IF_ERROR(ValidateOptions(options));
  const UnixSeconds now = clock.Now();
  KYSO_ASSIGN_OR_RETURN(ResponderSettings settings, ReadResponderSettings(db));
  KYSO_ASSIGN_OR_RETURN(auto identities, BuildResponderIdentities(settings, keys, now));
  const bool exporting = !presign.export_dir.empty();
  if (exporting) KYSO_RETURN_IF_ERROR(MakeDirectories(presign.export_dir));
  const unsigned threads = presign.threads != 0
                               ? presign.threads
                               : std::clamp(std::thread::hardware_concurrency(), 1u, 16u);
  const int64_t batch = static_cast<int64_t>(std::max<size_t>(presign.batch_size, 1));

  PresignReport report;
  report.cas = identities.size();
  report.this_update = now;
  std::string index = "serial\tstatus\tnext_update\tfile\tca\n";
  for (const auto& identity_ptr : identities) {
    const ResponderIdentity& identity = *identity_ptr;
    int64_t after = 0;
    while (true) {
      std::vector<store::CertificateStatusEntry> page;
      {
        KYSO_ASSIGN_OR_RETURN(auto tx, db.Begin(store::TransactionMode::kRead));
        KYSO_ASSIGN_OR_RETURN(page, tx->ListCertificateStatuses(identity.ca_id, after, now, batch));
      }
      if (page.empty()) break;
      after = page.back().id;
      report.certificates += page.size();

      // Sign on every core.
      std::vector<Signed> out(page.size());
      ParallelFor(page.size(), threads, [&](size_t i) {
        const store::CertificateStatusEntry& cert = page[i];
        Signed& s = out[i];
        auto serial = SerialOctets(cert.serial_hex);
        if (!serial) return;  // not a serial a request can carry; nothing to answer
        const Bytes cert_id = CanonicalCertId(identity, *serial);
        const CertState state = StateOf(cert.status, cert.revocation);
        const x509::OcspSingleResponse single =
            MakeSingleResponse(cert_id, state, now, options.validity_seconds, identity);
        auto body = identity.signer->Sign(std::span<const x509::OcspSingleResponse>(&single, 1),
                                          now, std::nullopt);
        if (!body.ok()) {
          s.error = body.status();
          return;
        }
        x509::AssembleOcspResponse(body->body, identity.signer->certs_field(), s.der);
        s.status = state.status;
        s.next_update = single.next_update;
        if (exporting) s.file = Base64UrlEncode(CanonicalRequest(identity, *serial));
        s.ok = true;
      });
      for (const Signed& s : out) KYSO_RETURN_IF_ERROR(s.error);

      // Store the page in one transaction.
      {
        KYSO_ASSIGN_OR_RETURN(auto tx, db.Begin(store::TransactionMode::kWrite));
        for (size_t i = 0; i < page.size(); ++i) {
          Signed& s = out[i];
          if (!s.ok) continue;
          store::OcspResponseRecord record;
          record.ca_id = identity.ca_id;
          record.serial_hex = page[i].serial_hex;
          record.status = page[i].status;
          record.this_update = now;
          record.next_update = s.next_update;
          record.der = s.der;
          auto stored = tx->PutOcspResponse(record);
          if (!stored.ok()) {
            if (stored.status().code() != StatusCode::kNotFound) return stored.status();
            ++report.skipped;  // deleted meanwhile
            continue;
          }
          s.stored = *stored;
          if (!s.stored) ++report.skipped;
        }
        KYSO_RETURN_IF_ERROR(tx->Commit());
      }
      for (size_t i = 0; i < page.size(); ++i) {
        if (!out[i].stored) continue;
        ++report.stored;
        if (out[i].status == x509::OcspCertStatus::kRevoked) {
          ++report.revoked;
        } else {
          ++report.good;
        }
        report.next_update = report.next_update == 0
                                 ? out[i].next_update
                                 : std::min(report.next_update, out[i].next_update);
      }

      // Export only what the store accepted: a response refused as stale is no file either.
      if (exporting) {
        std::vector<Status> errors(page.size());
        ParallelFor(page.size(), threads, [&](size_t i) {
          if (out[i].stored)
            errors[i] = WriteExportFile(presign.export_dir, out[i].file, out[i].der);
        });
        for (const Status& error : errors) KYSO_RETURN_IF_ERROR(error);
        for (size_t i = 0; i < page.size(); ++i) {
          if (!out[i].stored) continue;
          ++report.files;
          index += page[i].serial_hex + "\t" +
                   (out[i].status == x509::OcspCertStatus::kRevoked ? "revoked" : "good") + "\t" +
                   FormatUtc(out[i].next_update) + "\t" + out[i].file + "\t" + identity.ca_name +
                   "\n";
        }
      }
    }
  }
  if (exporting) {
    KYSO_RETURN_IF_ERROR(WriteFileAtomic(presign.export_dir + "/index.tsv", AsBytes(index)));
  }
  return report;
}

}  // namespace kyso::ocsp
