// The routes `kyso serve` publishes, as thin handlers over the services: parse, validate, call
// the service, render. No handler holds state of its own.
//
//   GET  /healthz                       liveness and store reachability
//   GET  /metrics                       Prometheus text format
//   POST /ocsp                          RFC 6960 Appendix A.1, application/ocsp-request
//   GET  /ocsp/{base64 request}         RFC 6960 Appendix A.1 / RFC 5019 §5 (cacheable)
//   POST /tsa                           RFC 3161 §3.4, application/timestamp-query
//   GET  /crl/{ca}.crl, /crl/{ca}-delta.crl   RFC 5280 §4.2.1.13 / §5.2.6, RFC 2585 §3
//   GET  /ca/{ca}.crt (DER), /ca/{ca}.pem     RFC 5280 §4.2.2.1 caIssuers, RFC 2585 §3
//   GET  /api/v1/cas
//   GET  /api/v1/certificates/{serial}[?ca=NAME]
//   POST /api/v1/sign/pdf               PAdES signing, registered by api/sign (the api_sign
//                                       module, which brings the PDF stack)
//
// API errors are JSON {"error":{"code","message"}} with the HTTP status of the Status code
// (http::Response::FromStatus). OCSP and TSA errors are answered in-band (an OCSP
// malformedRequest, a TimeStampResp rejection) with 200, as their RFCs require.
#pragma once

#include <functional>

#include "base/clock.h"
#include "ca/authority.h"
#include "ca/crl_publisher.h"
#include "http/metrics.h"
#include "http/router.h"
#include "ocsp/responder.h"
#include "store/store.h"
#include "tsa/time_stamp_authority.h"

namespace kyso::api {

struct Services {
  store::Database* db = nullptr;
  ca::CertificateAuthority* authority = nullptr;
  ca::CrlPublisher* crls = nullptr;
  ocsp::Responder* ocsp = nullptr;         // null: /ocsp answers 503
  tsa::TimeStampAuthority* tsa = nullptr;  // null: /tsa answers 503
  const Clock* clock = nullptr;
  const http::Metrics* metrics = nullptr;  // set after the router is built (MetricsFor)
};

// Registers every route above. `services` must outlive the router.
void AddRoutes(http::Router& router, const Services* services);

// Service figures for /metrics: OCSP cache, TSA tokens, certificates per CA and status.
void AddCollectors(http::Metrics& metrics, const Services* services);

// RFC 6960 Appendix A.1: the GET path segment is the URL-encoding of the base64 encoding of
// the DER request. Accepts standard or URL-safe alphabet, with or without padding.
Result<Bytes> DecodeOcspGetPath(std::string_view segment);

}  // namespace kyso::api
