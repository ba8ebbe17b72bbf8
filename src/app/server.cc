#include "app/server.h"

#include <pthread.h>
#include <signal.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "api/ra/registry_routes.h"
#include "api/routes.h"
#include "api/sign/sign_pdf.h"
#include "app/signing.h"
#include "auth/rate_limiter.h"
#include "base/files.h"
#include "ca/authority.h"
#include "ca/crl_publisher.h"
#include "crypto/digest.h"
#include "http/static_site.h"
#include "ra/registry.h"
#include "ra/submission.h"
#include "x509/certificate.h"

namespace kyso::app {
namespace {

// Blocks SIGINT/SIGTERM in the calling thread (and so in every thread it starts), so that one
// dedicated thread can wait for them with sigtimedwait and turn them into a graceful shutdown.
sigset_t BlockShutdownSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

// The outbox sender of a node without an SMTP relay: one JSON line per message in
// logs/outbox.log, which an operator's mail gateway (or a person) can pick up.
class LogFileSender final : public ra::NotificationSender {
 public:
  explicit LogFileSender(std::string path) : path_(std::move(path)) {}
  Status Send(const store::OutboxMessage& m) override {
    nlohmann::json line = {{"id", m.id},        {"channel", m.channel},
                           {"to", m.recipient}, {"subject", m.subject},
                           {"body", m.body},    {"queued_at", m.created_at}};
    std::string text = line.dump() + "\n";
    return AppendToFile(path_, AsBytes(text));
  }

 private:
  std::string path_;
};

// The signing routes' authentication and per-key authorization: the /api/v1 authenticator
// of api_ra and the owners and grants of SigningKeys, which audits every use.
class SigningGateImpl final : public api::SigningGate {
 public:
  SigningGateImpl(const api::RegistryServices* registry, SigningKeys* keys)
      : registry_(registry), keys_(keys) {}

  Result<api::SigningCaller> Authenticate(const http::Request& request) override {
    KYSO_ASSIGN_OR_RETURN(ra::Principal p, api::AuthenticateRequest(*registry_, request));
    return api::SigningCaller{p.account_id, p.username, p.auth_method};
  }

  Result<pades::Credentials> Authorize(const api::SigningCaller& caller,
                                       const std::string& key_id) override {
    KYSO_ASSIGN_OR_RETURN(ra::Principal p, PrincipalOf(caller));
    return keys_->Authorize(p, key_id);
  }

  Status RecordSignature(const api::SigningCaller& caller, const std::string& key_id,
                         const api::SignatureMade& made) override {
    KYSO_ASSIGN_OR_RETURN(ra::Principal p, PrincipalOf(caller));
    nlohmann::json details = {{"document_sha256", HexEncode(crypto::Sha256(made.document))},
                              {"document_bytes", made.document.size()},
                              {"level", made.level},
                              {"auth_method", caller.auth_method}};
    if (made.format == api::SignedFormat::kCades) {
      details["format"] = "CAdES";
      return keys_->RecordUse(p, key_id, "sign.file", details.dump());
    }
    details["field"] = made.field;
    details["page"] = made.page;
    return keys_->RecordUse(p, key_id, "sign.pdf", details.dump());
  }

  void RecordFailure(const api::SigningCaller& caller, const std::string& key_id,
                     const Status& error) override {
    auto p = PrincipalOf(caller);
    Status st = p.ok() ? keys_->RecordUse(*p, key_id, "sign.failed",
                                          nlohmann::json{{"error", error.id()}}.dump())
                       : p.status();
    if (!st.ok()) spdlog::warn("audit of a failed signature: {}", st.ToString());
  }

  Result<std::vector<api::SigningKeySummary>> KeysFor(const api::SigningCaller& caller) override {
    KYSO_ASSIGN_OR_RETURN(ra::Principal p, PrincipalOf(caller));
    KYSO_ASSIGN_OR_RETURN(auto keys, keys_->Describe(p.account_id));
    std::vector<api::SigningKeySummary> out;
    for (const SigningKeyInfo& k : keys) {
      // The same rule as Authorize: the account must still belong to the owner body.
      if (!ra::InSubtree(p.organization_path, k.organization_path)) continue;
      out.push_back({k.id, k.subject, k.serial_hex, k.not_after, k.organization_id.value_or(0),
                     k.organization_name});
    }
    return out;
  }

 private:
  // The principal again, so that an account disabled or moved since authentication is seen.
  Result<ra::Principal> PrincipalOf(const api::SigningCaller& caller) {
    return registry_->registry->PrincipalFor(caller.account_id, caller.auth_method);
  }

  const api::RegistryServices* registry_;
  SigningKeys* keys_;
};

}  // namespace

Result<audit::AuditReport> VerifyAuditLog(Instance& instance) {
  KYSO_ASSIGN_OR_RETURN(auto tx, instance.db().Begin(store::TransactionMode::kRead));
  KYSO_ASSIGN_OR_RETURN(auto pem, tx->GetSetting(ca::kAuditCertificateSetting));
  if (!pem) return FailedPrecondition("audit.no_key", "this instance has no audit certificate");
  KYSO_ASSIGN_OR_RETURN(auto audit_cert, x509::Certificate::FromPem(*pem));
  // The audit certificate is trusted only if the instance's issuing CA signed it.
  KYSO_ASSIGN_OR_RETURN(auto cas, tx->ListCas());
  bool certified = false;
  for (const auto& c : cas) {
    auto cc = x509::Certificate::FromDer(c.certificate_der);
    if (cc.ok() && audit_cert.IsSignedBy(cc->public_key())) certified = true;
  }
  if (!certified) {
    return DataLoss("audit.key_not_certified",
                    "the audit certificate is not signed by a CA of this instance");
  }
  return instance.audit_log().Verify(*tx, {audit_cert.public_key()});
}

Status Serve(Instance& instance, const ServeOptions& options,
             const std::function<void(uint16_t port)>& on_ready) {
  const sigset_t signals = BlockShutdownSignals();
  store::Database& db = instance.db();
  const Clock& clock = instance.clock();

  KYSO_ASSIGN_OR_RETURN(auto responder,
                        ocsp::Responder::Create(&db, &instance.keys(), &clock, options.ocsp));
  KYSO_ASSIGN_OR_RETURN(auto tsa,
                        tsa::TimeStampAuthority::Create(&db, &instance.keys(), &clock,
                                                        &instance.audit_log(), options.tsa));
  ca::CrlPublisher crls(&instance.authority(), &db, &clock, {},
                        [&instance](const std::string& ca, const store::CrlRecord& crl) {
                          Status st = instance.PublishCrl(ca, crl);
                          if (!st.ok()) spdlog::warn("writing crl/ for {}: {}", ca, st.ToString());
                        });

  api::Services services;
  services.db = &db;
  services.authority = &instance.authority();
  services.crls = &crls;
  services.ocsp = responder.get();
  services.tsa = tsa.get();
  services.clock = &clock;
  SigningKeys signing_keys(&instance);
  LocalValidationServices validation(&instance, std::nullopt);
  api::SigningServices signing;
  signing.validation = &validation;
  signing.scratch_dir = instance.data_dir() + "/tmp";
  signing.clock = &clock;
  LocalCertificates local_certificates = ReadLocalCertificates(instance.data_dir());
  signing.trust_anchors = local_certificates.anchors;
  signing.intermediates = local_certificates.intermediates;
  signing.online = &validation;
  KYSO_RETURN_IF_ERROR(MakeDirectories(signing.scratch_dir, 0700));
  // The registration workflow: submissions are verified by the same engine as `kyso verify`,
  // against this instance's CAs, with revocation answered in-process.
  verify::VerifyOptions submission_checks;
  submission_checks.trust_anchors = local_certificates.anchors;
  submission_checks.untrusted = local_certificates.intermediates;
  submission_checks.online = &validation;
  ra::EngineSubmissionVerifier submission_verifier(submission_checks, &clock);
  ra::RegistryOptions registry_options;
  if (options.allow_unsigned_requests && !instance.demo()) {
    return FailedPrecondition("serve.unsigned_not_demo",
                              "--allow-unsigned-requests is for demo instances only");
  }
  registry_options.allow_unsigned_submissions = options.allow_unsigned_requests;
  ra::Registry::Dependencies registry_deps;
  registry_deps.db = &db;
  registry_deps.authority = &instance.authority();
  registry_deps.audit = &instance.audit_log();
  registry_deps.clock = &clock;
  registry_deps.verifier = &submission_verifier;
  // A revocation through the workflow drops the cached OCSP answer at once; the delta CRL is
  // re-issued by the next request for it (CrlPublisher sees the newer revocation).
  registry_deps.on_revoked = [&responder](const store::CertificateRecord& cert) {
    responder->Invalidate(cert.issuer_ca_id, cert.serial_hex);
  };
  ra::Registry registry(registry_deps, registry_options);
  auth::LoginRateLimiter login_limiter(&clock);
  crypto::SystemRng rng;
  api::RegistryServices registry_services;
  registry_services.registry = &registry;
  registry_services.db = &db;
  registry_services.audit = &instance.audit_log();
  registry_services.login_limiter = &login_limiter;
  registry_services.rng = &rng;
  registry_services.clock = &clock;
  registry_services.verify_audit = [&instance] { return VerifyAuditLog(instance); };
  registry_services.services_status = [&responder, &tsa] {
    const auto ocsp = responder->stats();
    const auto& tsa_cert = tsa->certificate();
    return nlohmann::json{{"ocsp",
                           {{"cache_hits", ocsp.cache_hits},
                            {"cache_misses", ocsp.cache_misses},
                            {"signed_responses", ocsp.signed_responses},
                            {"cached_entries", ocsp.cached_entries},
                            {"cached_bytes", ocsp.cached_bytes}}},
                          {"tsa",
                           {{"tokens_issued", tsa->issued()},
                            {"policy_oid", tsa->options().policy_oid},
                            {"certificate_not_after", FormatUtc(tsa_cert.not_after())}}}}
        .dump();
  };
  SigningGateImpl signing_gate(&registry_services, &signing_keys);
  signing.gate = &signing_gate;
  LogFileSender outbox_sender(instance.data_dir() + "/logs/outbox.log");
  KYSO_RETURN_IF_ERROR(MakeDirectories(instance.data_dir() + "/logs", 0755));

  http::Router router;
  api::AddRoutes(router, &services);
  api::AddSigningRoutes(router, &signing);
  api::AddRegistryRoutes(router, &registry_services);
  // The portal: its files and client-side routes for every path no handler above knows.
  std::optional<http::StaticSite> portal;
  if (!options.web_root.empty()) {
    auto site = http::StaticSite::Open(options.web_root);
    if (site.ok()) {
      portal.emplace(std::move(*site));
      router.SetFallback({"portal", {http::Method::kGet}, "", 0, [&portal](http::Request& req) {
                            return portal->Serve(req);
                          }});
      spdlog::info("portal: serving {} at /", portal->root());
    } else {
      spdlog::warn("portal: {} (only the API is served)", site.status().ToString());
    }
  }
  auto metrics = http::MetricsFor(router);
  services.metrics = metrics.get();
  api::AddCollectors(*metrics, &services);
  metrics->AddCollector([&registry] {
    std::vector<http::Metrics::Sample> out;
    auto overdue = registry.CountOverdue();
    if (overdue.ok()) {
      out.push_back({"kyso_requests_overdue",
                     "Registration requests past their working-day deadline", "gauge", "",
                     static_cast<double>(*overdue)});
    }
    return out;
  });

  std::unique_ptr<http::AccessLog> access_log;
  if (options.access_log != "off") {
    const std::string destination =
        options.access_log.empty() ? instance.data_dir() + "/logs/access.log" : options.access_log;
    KYSO_ASSIGN_OR_RETURN(access_log, http::AccessLog::Open(destination));
  }

  // Publish current CRLs before the first client asks (and before the port opens), so a
  // stale CRL left from a stopped server is never the first thing served.
  if (Status st = crls.RefreshDue(); !st.ok()) {
    spdlog::warn("CRL refresh at start-up: {}", st.ToString());
  }

  http::Server server(options.http, &router, metrics.get(), access_log.get());
  KYSO_RETURN_IF_ERROR(server.Start());

  server.Every(options.revocation_poll, [&responder] {
    if (Status st = responder->Poll(); !st.ok()) spdlog::warn("OCSP poll: {}", st.ToString());
  });
  server.Every(std::chrono::seconds(1), [&responder] {
    if (Status st = responder->RefreshDue(2000); !st.ok()) {
      spdlog::warn("OCSP re-signing: {}", st.ToString());
    }
  });
  server.Every(std::chrono::seconds(30), [&crls] {
    if (Status st = crls.RefreshDue(); !st.ok()) spdlog::warn("CRL refresh: {}", st.ToString());
  });
  // Reminders are queued once at start-up too: a restart does not put them off a period.
  if (auto queued = registry.QueueExpiryReminders(); !queued.ok()) {
    spdlog::warn("expiry reminders at start-up: {}", queued.status().ToString());
  }
  server.Every(options.reminder_period, [&registry] {
    auto queued = registry.QueueExpiryReminders();
    if (!queued.ok()) spdlog::warn("expiry reminders: {}", queued.status().ToString());
  });
  server.Every(options.outbox_period, [&registry, &outbox_sender] {
    auto sent = registry.DeliverOutbox(outbox_sender);
    if (!sent.ok()) spdlog::warn("outbox: {}", sent.status().ToString());
  });
  if (access_log) {
    server.Every(std::chrono::milliseconds(100), [log = access_log.get()] { log->Flush(); });
  }
  // CRLs issued by the server append audit entries; seal them under a checkpoint regularly.
  server.Every(std::chrono::seconds(60), [&instance] {
    if (Status st = instance.authority().SealAudit(); !st.ok()) {
      spdlog::warn("audit seal: {}", st.ToString());
    }
  });

  std::atomic<bool> stopped{false};
  std::thread signal_thread([&] {
    const timespec tick{0, 200'000'000};
    while (!stopped.load()) {
      const int sig = sigtimedwait(&signals, nullptr, &tick);
      if (sig == SIGINT || sig == SIGTERM) {
        spdlog::info("signal {}: finishing requests in flight, then stopping", sig);
        server.Shutdown();
        return;
      }
    }
  });

  // Load pre-signed answers (`kyso ocsp presign`, or a previous run) into memory while the
  // server already answers: until an answer is warm it is read from the store on first use.
  std::thread warm([&responder] {
    auto warmed = responder->WarmFromStore();
    if (!warmed.ok()) spdlog::warn("OCSP warm-up: {}", warmed.status().ToString());
  });

  if (on_ready) on_ready(server.port());
  server.Run();
  stopped = true;
  signal_thread.join();
  warm.join();
  // Answers signed since the last background flush go to the store for the next start.
  if (Status st = responder->Flush(); !st.ok()) spdlog::warn("OCSP flush: {}", st.ToString());
  return instance.authority().SealAudit();
}

}  // namespace kyso::app
