#include "api/routes.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <nlohmann/json.hpp>

#include "ca/record_json.h"
#include "crypto/digest.h"
#include "x509/certificate.h"

namespace kyso::api {
namespace {

using http::Method;
using http::Request;
using http::Response;

constexpr size_t kOcspMaxBody = 16 * 1024;  // a request for 16 certificates is ~1.5 KB
constexpr size_t kTsaMaxBody = 8 * 1024;    // a query with SHA-512 imprint is ~100 bytes

std::string_view AsView(const Bytes& b) {
  return AsString(b);
}

// RFC 7232 §3.2: If-None-Match lists entity tags, or "*".
bool NotModified(const Request& request, std::string_view etag) {
  const std::string_view inm = request.Header("if-none-match");
  if (inm.empty()) return false;
  return inm == "*" || inm.find(etag) != std::string_view::npos;
}

Response NotModifiedResponse(std::string etag) {
  Response r = Response::Text(304, "");
  r.Header("ETag", std::move(etag));
  return r;
}

Response OcspAnswerResponse(const ocsp::OcspAnswer& answer, bool get, const Clock& clock) {
  Response r = Response::Binary(200, "application/ocsp-response", std::string(AsView(answer.der)));
  if (!get || !answer.cacheable) {
    // RFC 5019 §5: POST responses are not cached by intermediaries.
    r.Header("Cache-Control", "no-store");
    return r;
  }
  // RFC 5019 §6.2: max-age no later than nextUpdate; public; no-transform; must-revalidate.
  const int64_t max_age = std::max<int64_t>(0, answer.next_update - clock.Now());
  r.Header("Cache-Control",
           "max-age=" + std::to_string(max_age) + ", public, no-transform, must-revalidate");
  r.Header("Last-Modified", http::HttpDate(answer.produced_at));
  r.Header("Expires", http::HttpDate(answer.next_update));
  return r;
}

Response Ocsp(const Services& s, Request& request, bool get) {
  if (!s.ocsp) return Response::Error(503, "ocsp.unavailable", "the OCSP responder is not running");
  Bytes der;
  if (get) {
    auto raw = DecodeOcspGetPath(request.params[0]);
    if (!raw.ok()) {
      // RFC 6960 §2.3: a request the responder cannot parse gets malformedRequest, in-band.
      return OcspAnswerResponse(s.ocsp->Respond({}), false, *s.clock);
    }
    der = std::move(*raw);
  } else {
    der.assign(request.body.begin(), request.body.end());
  }
  ocsp::OcspAnswer answer = s.ocsp->Respond(der);
  if (get && answer.cacheable) {
    // A strong validator derived from the response bytes (RFC 5019 §6.2 ETag).
    const std::string etag =
        "\"" + HexEncode(ByteSpan(crypto::Sha256(answer.der)).first(16)) + "\"";
    if (NotModified(request, etag)) return NotModifiedResponse(etag);
    Response r = OcspAnswerResponse(answer, true, *s.clock);
    r.Header("ETag", etag);
    return r;
  }
  return OcspAnswerResponse(answer, get, *s.clock);
}

Response Tsa(const Services& s, Request& request) {
  if (!s.tsa)
    return Response::Error(503, "tsa.unavailable", "the time-stamping unit is not running");
  tsa::TsaAnswer answer = s.tsa->Respond(AsBytes(request.body));
  Response r =
      Response::Binary(200, "application/timestamp-reply", std::string(AsView(answer.der)));
  r.Header("Cache-Control", "no-store");
  return r;
}

Response Crl(const Services& s, Request& request) {
  std::string_view file = request.params[0];
  constexpr std::string_view kSuffix = ".crl";
  constexpr std::string_view kDelta = "-delta";
  if (file.size() <= kSuffix.size() || !file.ends_with(kSuffix)) {
    return Response::Error(404, "crl.not_found", "CRLs are published as /crl/{ca}.crl");
  }
  file.remove_suffix(kSuffix.size());
  const bool delta = file.ends_with(kDelta) && file.size() > kDelta.size();
  if (delta) file.remove_suffix(kDelta.size());
  auto crl = s.crls->Current(std::string(file), delta);
  if (!crl.ok()) return Response::FromStatus(crl.status());
  const store::CrlRecord& rec = (*crl)->record;
  if (NotModified(request, (*crl)->etag)) return NotModifiedResponse((*crl)->etag);
  // RFC 2585 §3: application/pkix-crl, DER.
  Response r = Response::Binary(200, "application/pkix-crl", std::string(AsView(rec.der)));
  // Caches may keep a full CRL a while, a delta only briefly: a revocation must show in the
  // delta CRL at once, not when a cache expires.
  const int64_t remaining = std::max<int64_t>(0, rec.next_update - s.clock->Now());
  const int64_t max_age = std::min<int64_t>(remaining, delta ? 60 : 3600);
  r.Header("Cache-Control", "max-age=" + std::to_string(max_age) + ", public, no-transform");
  r.Header("Last-Modified", http::HttpDate(rec.this_update));
  r.Header("Expires", http::HttpDate(rec.next_update));
  r.Header("ETag", (*crl)->etag);
  return r;
}

Response CaCertificate(const Services& s, Request& request) {
  std::string_view file = request.params[0];
  const bool pem = file.ends_with(".pem");
  if (!pem && !file.ends_with(".crt")) {
    return Response::Error(404, "ca.not_found", "CA certificates are published as /ca/{ca}.crt");
  }
  file.remove_suffix(4);
  auto ca = s.authority->LoadCa(std::string(file));
  if (!ca.ok()) {
    return Response::Error(404, "ca.not_found", "no CA named '" + std::string(file) + "'");
  }
  Response r = pem ? Response::Binary(200, "application/x-pem-file", ca->certificate.ToPem())
                   // RFC 2585 §3 / RFC 5280 §4.2.2.1: caIssuers is a DER certificate.
                   : Response::Binary(200, "application/pkix-cert",
                                      std::string(AsView(ca->certificate.der())));
  r.Header("Cache-Control", "max-age=86400, public");
  return r;
}

Response ListCas(const Services& s, Request&) {
  auto tx = s.db->Begin(store::TransactionMode::kRead);
  if (!tx.ok()) return Response::FromStatus(tx.status());
  auto cas = (*tx)->ListCas();
  if (!cas.ok()) return Response::FromStatus(cas.status());
  const ca::PublicationSettings pub;  // URL shapes only
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const auto& c : *cas) {
    nlohmann::ordered_json j = ca::CaJson(c);
    j.erase("key");  // key references are operator detail, not public
    j["certificate_url"] = "/ca/" + c.name + ".crt";
    j["crl_url"] = "/crl/" + c.name + ".crl";
    j["delta_crl_url"] = "/crl/" + c.name + "-delta.crl";
    list.push_back(std::move(j));
  }
  return Response::Json(200, nlohmann::ordered_json{{"cas", list}}.dump());
}

Response GetCertificate(const Services& s, Request& request) {
  const std::string& serial = request.params[0];
  if (serial.size() > 64 || !HexDecode(serial)) {
    return Response::Error(
        400, "cert.bad_serial",
        "a serial number is hexadecimal, at most 32 bytes: '" + serial.substr(0, 80) + "'");
  }
  const std::string ca(request.QueryParam("ca"));
  auto cert = s.authority->FindCertificate(ca, serial);
  if (!cert.ok()) return Response::FromStatus(cert.status());
  auto tx = s.db->Begin(store::TransactionMode::kRead);
  if (!tx.ok()) return Response::FromStatus(tx.status());
  auto issuer = (*tx)->GetCa(cert->issuer_ca_id);
  if (!issuer.ok()) return Response::FromStatus(issuer.status());
  nlohmann::ordered_json j = ca::CertificateJson(*cert, issuer->name, s.clock->Now());
  if (request.QueryParam("include") == "pem") {
    auto parsed = x509::Certificate::FromDer(cert->der);
    if (parsed.ok()) j["pem"] = parsed->ToPem();
  }
  return Response::Json(200, j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

Response Health(const Services& s, Request&) {
  auto tx = s.db->Begin(store::TransactionMode::kRead);
  if (!tx.ok()) return Response::FromStatus(tx.status());
  auto cas = (*tx)->ListCas();
  if (!cas.ok()) return Response::FromStatus(cas.status());
  return Response::Json(200, R"({"status":"ok"})");
}

}  // namespace

Result<Bytes> DecodeOcspGetPath(std::string_view segment) {
  auto decoded = http::PercentDecode(segment);
  std::optional<Bytes> raw = decoded ? Base64Decode(*decoded) : std::nullopt;
  if (!raw) return InvalidArgument("ocsp.malformed_request", "the GET path is not base64");
  return *raw;
}

void AddRoutes(http::Router& router, const Services* s) {
  router.Add({"healthz", {Method::kGet}, "/healthz", 0, [s](Request& r) { return Health(*s, r); }});
  router.Add({"metrics", {Method::kGet}, "/metrics", 0, [s](Request&) {
                Response r = Response::Text(200, s->metrics ? s->metrics->Render() : "");
                r.content_type = "text/plain; version=0.0.4; charset=utf-8";
                return r;
              }});
  router.Add({"ocsp_post", {Method::kPost}, "/ocsp", kOcspMaxBody, [s](Request& r) {
                return Ocsp(*s, r, false);
              }});
  // Some clients append the request to the URL with a trailing slash on the base (".../ocsp/").
  router.Add({"ocsp_get", {Method::kGet}, "/ocsp/{*request}", 0, [s](Request& r) {
                return Ocsp(*s, r, true);
              }});
  router.Add({"tsa", {Method::kPost}, "/tsa", kTsaMaxBody, [s](Request& r) { return Tsa(*s, r); }});
  router.Add({"crl", {Method::kGet}, "/crl/{file}", 0, [s](Request& r) { return Crl(*s, r); }});
  router.Add({"ca_certificate", {Method::kGet}, "/ca/{file}", 0, [s](Request& r) {
                return CaCertificate(*s, r);
              }});
  router.Add(
      {"api_cas", {Method::kGet}, "/api/v1/cas", 0, [s](Request& r) { return ListCas(*s, r); }});
  router.Add(
      {"api_certificate", {Method::kGet}, "/api/v1/certificates/{serial}", 0, [s](Request& r) {
         return GetCertificate(*s, r);
       }});
}

void AddCollectors(http::Metrics& metrics, const Services* s) {
  if (s->ocsp) {
    metrics.AddCollector([s] {
      const auto st = s->ocsp->stats();
      return std::vector<http::Metrics::Sample>{
          {"kyso_ocsp_cache_hits_total", "OCSP answers served from a pre-signed response.",
           "counter", "", static_cast<double>(st.cache_hits)},
          {"kyso_ocsp_cache_misses_total", "OCSP answers that had to be signed.", "counter", "",
           static_cast<double>(st.cache_misses)},
          {"kyso_ocsp_signed_total", "OCSP responses signed.", "counter", "",
           static_cast<double>(st.signed_responses)},
          {"kyso_ocsp_cache_entries", "Pre-signed OCSP responses held in memory.", "gauge", "",
           static_cast<double>(st.cached_entries)},
          {"kyso_ocsp_cache_bytes", "Memory held by pre-signed OCSP responses.", "gauge", "",
           static_cast<double>(st.cached_bytes)},
      };
    });
  }
  if (s->tsa) {
    metrics.AddCollector([s] {
      return std::vector<http::Metrics::Sample>{{"kyso_tsa_tokens_total",
                                                 "Time-stamp tokens granted.", "counter", "",
                                                 static_cast<double>(s->tsa->issued())}};
    });
  }
  // Certificate counts run COUNT queries: cache them for a few seconds so that a scraper
  // polling fast cannot load the store.
  struct CountCache {
    std::mutex mu;
    UnixSeconds at = 0;
    std::vector<http::Metrics::Sample> samples;
  };
  auto cache = std::make_shared<CountCache>();
  metrics.AddCollector([s, cache] {
    std::lock_guard<std::mutex> lock(cache->mu);
    const UnixSeconds now = s->clock->Now();
    if (now - cache->at < 10 && !cache->samples.empty()) return cache->samples;
    std::vector<http::Metrics::Sample> out;
    auto tx = s->db->Begin(store::TransactionMode::kRead);
    if (!tx.ok()) return out;
    auto cas = (*tx)->ListCas();
    if (!cas.ok()) return out;
    for (const auto& c : *cas) {
      store::CertificateFilter valid;
      valid.issuer_ca_id = c.id;
      valid.status = store::CertificateStatus::kValid;
      valid.valid_at = now;
      store::CertificateFilter revoked;
      revoked.issuer_ca_id = c.id;
      revoked.status = store::CertificateStatus::kRevoked;
      store::CertificateFilter all;
      all.issuer_ca_id = c.id;
      auto n_valid = (*tx)->CountCertificates(valid);
      auto n_revoked = (*tx)->CountCertificates(revoked);
      auto n_all = (*tx)->CountCertificates(all);
      if (!n_valid.ok() || !n_revoked.ok() || !n_all.ok()) continue;
      const std::string help = "Certificates issued by each CA, by status now.";
      const std::string ca = "ca=\"" + c.name + "\"";
      out.push_back({"kyso_certificates", help, "gauge", ca + ",status=\"valid\"",
                     static_cast<double>(*n_valid)});
      out.push_back({"kyso_certificates", help, "gauge", ca + ",status=\"revoked\"",
                     static_cast<double>(*n_revoked)});
      out.push_back({"kyso_certificates", help, "gauge", ca + ",status=\"expired_or_pending\"",
                     static_cast<double>(*n_all - *n_valid - *n_revoked)});
    }
    cache->at = now;
    cache->samples = out;
    return out;
  });
}

}  // namespace kyso::api
