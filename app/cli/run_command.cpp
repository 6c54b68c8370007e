#include "app/cli/run_command.h"

#include <pthread.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <thread>

#include "app/budget_endpoint.h"
#include "app/kinds.h"
#include "app/report_endpoint.h"
#include "operator/base/clock.h"
#include "operator/cli/flags.h"
#include "operator/kube/config.h"
#include "operator/kube/http_client.h"
#include "operator/runtime/event_recorder.h"
#include "operator/runtime/heap.h"
#include "operator/runtime/leader_election.h"
#include "operator/runtime/log.h"
#include "operator/runtime/manager.h"
#include "operator/runtime/metrics.h"
#include "operator/server/access_review.h"
#include "operator/server/certificate_watcher.h"
#include "operator/server/http_server.h"
#include "operator/server/kube_access_reviewer.h"
#include "operator/server/standard_routes.h"
#include "operator/server/tls.h"

namespace relops::cli {
namespace {

struct RunFlags {
  std::string kubeconfig;
  std::string context;
  bool leaderElect = false;
  std::string leaderElectionNamespace;
  std::string leaderElectionId = "relops-leader.relops.dev";
  std::chrono::milliseconds leaseDuration{15'000};
  std::chrono::milliseconds renewDeadline{10'000};
  std::chrono::milliseconds retryPeriod{2'000};
  std::string metricsBindAddress = ":8080";
  bool metricsSecure = true;
  std::string metricsCertDir;
  bool serveReports = true;
  bool serveBudget = true;
  std::string healthProbeBindAddress = ":8081";
  std::vector<std::string> watchNamespaces;
  std::string logLevel = "info";
  std::string logFormat = "json";
  double kubeApiQps = -1;  // controller-runtime's default: API Priority and Fairness paces
  int kubeApiBurst = 100;
  int workers = 2;
  std::chrono::milliseconds syncPeriod{10 * 3600 * 1000};
};

// rest_client_requests_total and rest_client_request_duration_seconds, fed by
// the client (client-go's metrics adapter).
class RequestMetrics final : public kube::RequestObserver {
 public:
  explicit RequestMetrics(const runtime::StandardMetrics& metrics) : metrics_(metrics) {}
  void onRequest(std::string_view method, std::string_view host, int code,
                 std::chrono::duration<double> latency) override {
    const std::string codeLabel = code == 0 ? "<error>" : std::to_string(code);
    metrics_.restClientRequests.with({codeLabel, std::string(method), std::string(host)}).inc();
    metrics_.restClientRequestDuration.with({std::string(method), std::string(host)})
        .observe(latency.count());
  }

 private:
  const runtime::StandardMetrics& metrics_;
};

std::string podNamespace() {
  // In a pod, the service account's namespace; kubebuilder's default otherwise.
  if (const char* ns = std::getenv("POD_NAMESPACE"); ns != nullptr && *ns != '\0') return ns;
  if (auto config = kube::loadInClusterConfig(); config.ok()) return config->namespace_;
  return "relops-system";
}

// --metrics-cert-dir, or a self-signed certificate
// (controller-runtime's metrics server does the same when given no certificate).
base::Result<server::TlsCertificate> servingCertificate(const std::string& certDir) {
  if (!certDir.empty()) return server::loadTlsCertificate(certDir);
  return server::generateSelfSignedCertificate({"localhost", "127.0.0.1", "::1"});
}

}  // namespace

int runRunCommand(std::span<const std::string_view> args, Streams streams) {
  // First: the kinds own what their flags are bound to, and must outlive every listener.
  const std::vector<std::unique_ptr<server::Kind>> kinds = app::kinds();
  RunFlags flags;
  FlagSet set("relops run");
  set.addString("kubeconfig", &flags.kubeconfig,
                "Path to a kubeconfig; in-cluster config or $KUBECONFIG when empty");
  set.addString("context", &flags.context, "The kubeconfig context to use");
  set.addBool("leader-elect", &flags.leaderElect,
              "Elect a leader through a Lease so only one replica reconciles");
  set.addString("leader-election-namespace", &flags.leaderElectionNamespace,
                "Namespace of the leader Lease (default: the pod's namespace)");
  set.addString("leader-election-id", &flags.leaderElectionId, "Name of the leader Lease");
  set.addDuration("leader-elect-lease-duration", &flags.leaseDuration,
                  "How long a lease is valid without renewal");
  set.addDuration("leader-elect-renew-deadline", &flags.renewDeadline,
                  "How long the leader retries renewing before it stops leading");
  set.addDuration("leader-elect-retry-period", &flags.retryPeriod,
                  "How often to try to acquire or renew the lease");
  set.addString("metrics-bind-address", &flags.metricsBindAddress,
                "Address of the /metrics endpoint; 0 disables it");
  set.addBool("metrics-secure", &flags.metricsSecure,
              "Serve /metrics over HTTPS, only to bearer tokens allowed to get /metrics "
              "(TokenReview + SubjectAccessReview); false serves plain HTTP to anyone");
  set.addString("metrics-cert-dir", &flags.metricsCertDir,
                "Directory with tls.crt and tls.key for the metrics server; a self-signed "
                "certificate is generated at startup when empty");
  set.addBool("serve-reports", &flags.serveReports,
              "Serve the reliability report at /reports/ on the metrics listener, to bearer "
              "tokens allowed to list the SLOs of the namespace (only with --metrics-secure)");
  set.addBool("serve-budget", &flags.serveBudget,
              "Serve an SLO's error budget at /budget/<namespace>/<name> on the metrics listener, "
              "a gate for Argo Rollouts and Flagger, to bearer tokens allowed to get that SLO "
              "(only with --metrics-secure)");
  set.addString("health-probe-bind-address", &flags.healthProbeBindAddress,
                "Address of /healthz and /readyz; 0 disables them");
  set.addStrings("watch-namespace", &flags.watchNamespaces,
                 "Namespace to watch (repeatable); all namespaces when none is given");
  set.addString("log-level", &flags.logLevel, "debug, info, warn or error");
  set.addString("log-format", &flags.logFormat, "json or text");
  set.addDouble("kube-api-qps", &flags.kubeApiQps,
                "Sustained requests per second to the API; negative (the default): no "
                "client-side limit, API Priority and Fairness paces the client");
  set.addInt("kube-api-burst", &flags.kubeApiBurst, "Burst of requests to the API");
  set.addInt("workers", &flags.workers, "Concurrent reconciles per controller");
  set.addDuration("sync-period", &flags.syncPeriod,
                  "How often every object is reconciled although nothing changed; 0 never");
  for (const auto& kind : kinds) kind->addFlags(set);

  if (base::Result<void> parsed = set.parse(args); !parsed.ok()) {
    streams.err << parsed.error().message() << "\nRun 'relops run --help' for the flags.\n";
    return kExitUsage;
  }
  if (set.helpRequested()) {
    streams.out << "Run the relops operator against a Kubernetes cluster.\n\n"
                   "Usage:\n  relops run [flags]\n\n";
    set.printUsage(streams.out);
    return kExitOk;
  }
  auto level = runtime::parseLogLevel(flags.logLevel);
  auto format = runtime::parseLogFormat(flags.logFormat);
  if (!level || !format || flags.workers < 1 || flags.kubeApiQps == 0 || flags.kubeApiBurst < 1) {
    streams.err << "relops run: invalid --log-level, --log-format, --workers or API rate flags\n";
    return kExitUsage;
  }

  // Signals go to one thread that asks the manager to stop; every other
  // thread (created below) inherits the blocked mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  base::SystemClock clock;
  auto sink = std::make_shared<runtime::LogSink>(std::cerr, *format, *level);
  runtime::Logger log(sink, "relops");

  kube::KubeconfigOptions kubeconfig;
  kubeconfig.path = flags.kubeconfig;
  kubeconfig.context = flags.context;
  // controller-runtime's order: --kubeconfig, $KUBECONFIG, in-cluster, ~/.kube/config.
  auto config = kube::loadClientConfig(kubeconfig);
  if (!config.ok()) {
    log.error("cannot load the Kubernetes client configuration",
              {{"error", config.error().describe()}});
    return kExitFailure;
  }

  // Before the first thread: two malloc arenas, not one per thread that allocates at once
  // (up to 8 per core), each keeping what it freed. A
  // MALLOC_ARENA_MAX in the environment still wins.
  if (std::getenv("MALLOC_ARENA_MAX") == nullptr) runtime::limitHeapArenas(2);

  runtime::Registry registry;
  const runtime::StandardMetrics metrics = runtime::registerStandardMetrics(registry);
  kube::HttpClientOptions clientOptions;
  clientOptions.qps = flags.kubeApiQps;
  clientOptions.burst = flags.kubeApiBurst;
  clientOptions.observer = std::make_shared<RequestMetrics>(metrics);
  auto client = kube::HttpClient::create(*config, clientOptions);
  if (!client.ok()) {
    log.error("cannot create the Kubernetes client", {{"error", client.error().describe()}});
    return kExitFailure;
  }

  runtime::ManagerOptions managerOptions;
  managerOptions.watchNamespaces = flags.watchNamespaces;
  if (flags.syncPeriod < std::chrono::seconds(1) && flags.syncPeriod.count() != 0) {
    streams.err << "relops run: --sync-period must be 0 or at least 1s\n";
    return kExitUsage;
  }
  managerOptions.syncPeriod = std::chrono::duration_cast<std::chrono::seconds>(flags.syncPeriod);
  if (flags.leaderElect) {
    runtime::LeaderElectionConfig election;
    election.leaseNamespace =
        flags.leaderElectionNamespace.empty() ? podNamespace() : flags.leaderElectionNamespace;
    election.leaseName = flags.leaderElectionId;
    election.identity = runtime::makeLeaderIdentity();
    election.leaseDuration = flags.leaseDuration;
    election.renewDeadline = flags.renewDeadline;
    election.retryPeriod = flags.retryPeriod;
    if (base::Result<void> valid = runtime::validateLeaderElectionConfig(election); !valid.ok()) {
      streams.err << "relops run: " << valid.error().message() << '\n';
      return kExitUsage;
    }
    managerOptions.leaderElection = election;
  }
  // Lease renewals get a client of their own: a busy controller's requests cannot hold them up
  // behind the shared rate limit, and a hung request gives up in time to retry before the renew
  // deadline (controller-runtime: a separate client, timeout renewDeadline / 2).
  std::unique_ptr<kube::HttpClient> electionClient;
  if (managerOptions.leaderElection) {
    kube::HttpClientOptions electionOptions;
    electionOptions.qps = 5;
    electionOptions.burst = 10;
    electionOptions.requestTimeout = flags.renewDeadline / 2;
    electionOptions.observer = clientOptions.observer;
    auto created = kube::HttpClient::create(*config, electionOptions);
    if (!created.ok()) {
      log.error("cannot create the leader election client",
                {{"error", created.error().describe()}});
      return kExitFailure;
    }
    electionClient = std::move(*created);
    managerOptions.leaderElectionClient = electionClient.get();
  }

  runtime::KubeEventRecorder recorder(**client, clock, {}, &registry, log.named("events"));
  runtime::Manager manager(**client, clock, metrics, recorder, log, managerOptions);
  for (const auto& kind : kinds) {
    if (base::Result<void> ready = kind->setup(manager, flags.workers); !ready.ok()) {
      log.error("cannot set up the controllers", {{"error", ready.error().describe()}});
      return kExitFailure;
    }
  }

  // Reviews get a client of their own: requests with made-up tokens spend its
  // rate budget (each unknown token costs one TokenReview), never the one the
  // controllers reconcile with. Both listeners that answer tokens share one
  // review cache.
  kube::HttpClientOptions reviewClientOptions;
  reviewClientOptions.qps = 20;
  reviewClientOptions.burst = 40;
  reviewClientOptions.requestTimeout = std::chrono::seconds(10);
  reviewClientOptions.maxIdleConnections = 2;
  reviewClientOptions.observer = clientOptions.observer;
  auto reviewClient = kube::HttpClient::create(*config, reviewClientOptions);
  if (!reviewClient.ok()) {
    log.error("cannot create the review client", {{"error", reviewClient.error().describe()}});
    return kExitFailure;
  }
  server::KubeAccessReviewer kubeReviewer(**reviewClient);
  server::CachingAccessReviewer reviewer(kubeReviewer, clock);

  server::ServerOptions metricsOptions;
  metricsOptions.bindAddress = flags.metricsBindAddress;
  metricsOptions.name = "metrics";
  if (flags.metricsSecure && flags.metricsBindAddress != "0") {
    auto certificate = servingCertificate(flags.metricsCertDir);
    if (!certificate.ok()) {
      log.error("cannot set up the metrics certificate",
                {{"error", certificate.error().describe()}});
      return kExitFailure;
    }
    metricsOptions.tls = std::move(*certificate);
  } else if (!flags.metricsSecure) {
    log.warn("metrics are served over plain HTTP without authentication (--metrics-secure=false)");
  }
  server::HttpServer metricsServer(metricsOptions, log.named("metrics-server"));
  server::addMetricsRoute(metricsServer, registry, flags.metricsSecure ? &reviewer : nullptr,
                          log.named("metrics-auth"));
  // Reports are read only by an authenticated, authorized caller: never over plain HTTP.
  if (flags.serveReports && flags.metricsSecure) {
    app::addReportRoutes(metricsServer, manager, reviewer, log.named("reports"));
  }
  if (flags.serveBudget && flags.metricsSecure) {
    app::addBudgetRoutes(metricsServer, manager, reviewer, log.named("budget"));
  }

  // Certificates from a directory are re-read as they rotate (controller-runtime's certwatcher).
  std::optional<server::CertificateWatcher> metricsCertificates;
  if (metricsOptions.tls && !flags.metricsCertDir.empty()) {
    metricsCertificates.emplace(metricsServer, flags.metricsCertDir, *metricsOptions.tls,
                                std::chrono::seconds(10), log.named("metrics-server"));
  }
  server::ServerOptions probeOptions;
  probeOptions.bindAddress = flags.healthProbeBindAddress;
  probeOptions.name = "probes";
  server::Probes probes(log.named("probes"));
  probes.addHealthCheck("ping", [] { return base::Result<void>(); });
  probes.addHealthCheck("leader-election", [&manager] { return manager.healthCheck(); });
  probes.addReadyCheck("informers-and-leader-election",
                       [&manager] { return manager.readyCheck(); });
  server::HttpServer probeServer(probeOptions, log.named("probe-server"));
  server::addProbeRoutes(probeServer, probes);

  std::vector<server::HttpServer*> httpServers = {&metricsServer, &probeServer};
  for (const auto& kind : kinds) {
    auto own = kind->servers(reviewer);
    if (!own.ok()) {
      log.error("cannot set up a listener", {{"error", own.error().describe()}});
      return kExitFailure;
    }
    httpServers.insert(httpServers.end(), own->begin(), own->end());
  }
  for (server::HttpServer* httpServer : httpServers) {
    if (base::Result<void> started = httpServer->start(); !started.ok()) {
      log.error("cannot start an HTTP server", {{"error", started.error().describe()}});
      return kExitFailure;
    }
  }

  std::thread signalThread([&] {
    int received = 0;
    sigwait(&signals, &received);
    log.info("signal received; shutting down", {{"signal", static_cast<int64_t>(received)}});
    manager.stop();
  });
  log.info("starting", {{"server", config->server},
                        {"leaderElection", flags.leaderElect},
                        {"watchNamespaces", static_cast<int64_t>(flags.watchNamespaces.size())}});
  const int code = manager.run();
  for (server::HttpServer* httpServer : httpServers) httpServer->stop();
  recorder.shutdown(std::chrono::seconds(2));
  // The signal thread is still in sigwait when the manager stopped itself
  // (lost lease): wake it so it can be joined.
  if (code != kExitOk) pthread_kill(signalThread.native_handle(), SIGTERM);
  signalThread.join();
  return code;
}

}  // namespace relops::cli
