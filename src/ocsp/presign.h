// Presign: signs the nonce-less response about every unexpired certificate of every CA with a
// delegated responder, ahead of any request (RFC 5019 §4: "pre-produced responses"), and stores
// them where every responder process finds them (store::PutOcspResponse). Run by
// `kyso ocsp presign` (from cron, more often than the responses' validity).
//
// With an export directory it also writes each response to a file that a plain web server can
// serve for `GET /ocsp/{name}`: the name is the RFC 4648 §5 base64url, without padding, of the
// canonical DER OCSPRequest for the certificate (one SHA-1 CertID with NULL parameters, no
// nonce, no extensions: what `openssl ocsp -issuer CA -serial N -no_nonce` sends), plus
// `index.tsv` with one line per response: serial, status, nextUpdate, file name, CA. Clients
// that put the request in standard base64 (RFC 6960 Appendix A.1: "url-encoding of base-64
// encoding") need the web server to map '+' '/' '=' (percent-encoded) to base64url first.
// The export is a snapshot: a revocation after it is not reflected until the next run.
//
// Work: statuses are read a page at a time (store::ListCertificateStatuses, no certificate
// bodies), signed on `threads` threads, and written page by page in one transaction each. A
// certificate revoked between the read and the write is not written (PutOcspResponse refuses),
// nor exported; the revoking transaction itself removed the older response.
//
// Thread-safety: Presign may run beside live responders (other processes or threads): it only
// reads, and writes through PutOcspResponse's checked upsert.
#pragma once

#include <cstddef>
#include <string>

#include "base/clock.h"
#include "base/result.h"
#include "crypto/key_store.h"
#include "ocsp/responder.h"
#include "store/store.h"

namespace kyso::ocsp {

struct PresignOptions {
  std::string export_dir;    // empty: store only
  unsigned threads = 0;      // signing threads; 0: one per core
  size_t batch_size = 5000;  // certificates per page and per write transaction
};

struct PresignReport {
  size_t cas = 0;           // CAs with a delegated responder
  size_t certificates = 0;  // unexpired certificates seen
  size_t good = 0;
  size_t revoked = 0;
  size_t stored = 0;
  size_t skipped = 0;  // changed status between read and write: not stored, not exported
  size_t files = 0;    // written to export_dir (index.tsv not counted)
  UnixSeconds this_update = 0;
  UnixSeconds next_update = 0;
};

// Errors: those of BuildResponderIdentities (ocsp.no_responder, ...), ocsp.bad_options, the
// store's, and export.io (Unavailable) when a file cannot be written.
Result<PresignReport> Presign(store::Database& db, crypto::KeyStore& keys, const Clock& clock,
                              const ResponderOptions& options, const PresignOptions& presign);

}  // namespace kyso::ocsp
