// informer_bench: how relops's informer does with many objects on a real API
// server. Creates N objects — small ConfigMaps, or copies of a template object (--object,
// e.g. tests/bench/objects/servicelevelobjective.json: a converged SLO with the status relops
// wrote, written through the status subresource) — then measures:
//   - list time: informer start until its cache holds all N (paged LIST);
//   - change-to-handler latency (p50/p99): from just before a PATCH is sent
//     until the informer's update handler runs for it;
//   - resident memory the cache adds per 1,000 objects.
// Prints a Markdown table. A benchmark: it reports, it does not pass or fail
// on speed.
//
//   informer_bench [--objects N] [--changes M] [--kubeconfig PATH] [--object FILE]
#include <malloc.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "operator/base/clock.h"
#include "operator/kube/config.h"
#include "operator/kube/http_client.h"
#include "operator/runtime/informer.h"
#include "operator/runtime/log.h"

namespace {

using Clock = std::chrono::steady_clock;
using relops::kube::resources::kNamespaces;

long residentKiB() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return 0;
}

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t index = std::min(values.size() - 1, static_cast<size_t>(p * values.size()));
  return values[index];
}

int64_t nowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The resource of `object`: its apiVersion and kind, the plural by English's regular rule
// (every kind this benchmark is run with follows it).
relops::kube::ResourceRef resourceOf(const relops::kube::Json& object) {
  const std::string apiVersion = object.value("apiVersion", "v1");
  const auto slash = apiVersion.find('/');
  relops::kube::ResourceRef resource;
  resource.group = slash == std::string::npos ? "" : apiVersion.substr(0, slash);
  resource.version = slash == std::string::npos ? apiVersion : apiVersion.substr(slash + 1);
  resource.kind = object.value("kind", "ConfigMap");
  resource.resource = resource.kind + "s";
  std::transform(resource.resource.begin(), resource.resource.end(), resource.resource.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return resource;
}

relops::kube::WriteOptions statusOptions() {
  relops::kube::WriteOptions options;
  options.subresource = "status";
  return options;
}

}  // namespace

int main(int argc, char** argv) {
  int objects = 10'000;
  int changes = 500;
  std::string kubeconfigPath;
  std::string templatePath;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--objects")
      objects = std::stoi(argv[i + 1]);
    else if (flag == "--changes")
      changes = std::stoi(argv[i + 1]);
    else if (flag == "--kubeconfig")
      kubeconfigPath = argv[i + 1];
    else if (flag == "--object")
      templatePath = argv[i + 1];
  }
  relops::kube::KubeconfigOptions kubeconfig;
  kubeconfig.path = kubeconfigPath;
  auto config = relops::kube::loadKubeconfig(kubeconfig);
  if (!config.ok()) {
    std::cerr << "informer_bench: " << config.error().describe() << '\n';
    return 1;
  }
  relops::kube::HttpClientOptions options;
  options.qps = 1000;
  options.burst = 2000;
  auto created = relops::kube::HttpClient::create(*config, options);
  if (!created.ok()) {
    std::cerr << "informer_bench: " << created.error().describe() << '\n';
    return 1;
  }
  relops::kube::HttpClient& client = **created;
  const std::string ns = "bench-" + std::to_string(std::random_device{}() % 100000);
  // The object to copy: a template from --object, or a ConfigMap with 200 bytes of data.
  relops::kube::Json model = {{"apiVersion", "v1"},
                              {"kind", "ConfigMap"},
                              {"metadata", relops::kube::Json::object()},
                              {"data", {{"payload", std::string(200, 'x')}}}};
  if (!templatePath.empty()) {
    std::ifstream in(templatePath);
    model = relops::kube::Json::parse(in, nullptr, false);
    if (model.is_discarded() || !model.is_object()) {
      std::cerr << "informer_bench: " << templatePath << " is not a JSON object\n";
      return 1;
    }
  }
  const relops::kube::ResourceRef resource = resourceOf(model);
  relops::kube::Json status = model.value("status", relops::kube::Json());
  model.erase("status");
  model["metadata"] = {{"namespace", ns},
                       {"labels", model["metadata"].value("labels", relops::kube::Json::object())}};
  if (auto made = client.create(
          kNamespaces, {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", ns}}}});
      !made.ok()) {
    std::cerr << "informer_bench: " << made.error().describe() << '\n';
    return 1;
  }

  // Fill the namespace with four writers.
  const auto fillStart = Clock::now();
  std::atomic<int> next{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> writers;
  for (int w = 0; w < 4; ++w) {
    writers.emplace_back([&] {
      for (int i = next++; i < objects; i = next++) {
        relops::kube::Json object = model;
        object["metadata"]["name"] = "obj-" + std::to_string(i);
        if (!client.create(resource, object).ok()) {
          ++failures;
          continue;
        }
        if (!status.is_null() &&
            !client
                 .patch(resource, {ns, "obj-" + std::to_string(i)}, relops::kube::PatchType::kMerge,
                        relops::kube::Json{{"status", status}}.dump(), statusOptions())
                 .ok()) {
          ++failures;
        }
      }
    });
  }
  for (std::thread& writer : writers) writer.join();
  const double fillSeconds = std::chrono::duration<double>(Clock::now() - fillStart).count();
  if (failures > 0) {
    std::cerr << "informer_bench: " << failures << " creates failed\n";
    return 1;
  }

  relops::base::SystemClock clock;
  std::mutex mutex;
  std::vector<double> latenciesMs;
  relops::runtime::ReflectorOptions reflectorOptions;
  reflectorOptions.namespace_ = ns;
  malloc_trim(0);
  const long rssBefore = residentKiB();
  relops::runtime::Informer informer(client, resource, clock, relops::runtime::discardLogger(),
                                     reflectorOptions);
  relops::runtime::EventHandlers handlers;
  handlers.onUpdate = [&](const relops::runtime::ObjectPtr&,
                          const relops::runtime::ObjectPtr& object) {
    const auto& annotations = object->at("metadata").value("annotations", relops::kube::Json());
    if (!annotations.is_object() || !annotations.contains("bench.relops.dev/sent")) return;
    const int64_t sent = std::stoll(annotations["bench.relops.dev/sent"].get<std::string>());
    std::lock_guard lock(mutex);
    latenciesMs.push_back(static_cast<double>(nowMicros() - sent) / 1000.0);
  };
  informer.addHandlers(std::move(handlers));
  const auto listStart = Clock::now();
  informer.start();
  while (informer.cache().size() < static_cast<size_t>(objects) || !informer.hasSynced()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const double listSeconds = std::chrono::duration<double>(Clock::now() - listStart).count();
  // Return the list's transient buffers to the system first, so the figure
  // is what the cache retains, not the high-water mark of parsing pages.
  malloc_trim(0);
  const long rssAfter = residentKiB();

  // Changes, one at a time so each latency is the path's, not a queue's.
  for (int i = 0; i < changes; ++i) {
    const std::string name = "obj-" + std::to_string(i * (objects / std::max(1, changes)));
    const std::string patch = R"({"metadata":{"annotations":{"bench.relops.dev/sent":")" +
                              std::to_string(nowMicros()) + R"("}}})";
    (void)client.patch(resource, {ns, name}, relops::kube::PatchType::kMerge, patch);
  }
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  while (Clock::now() < deadline) {
    {
      std::lock_guard lock(mutex);
      if (latenciesMs.size() >= static_cast<size_t>(changes)) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  informer.stop();
  (void)client.remove(kNamespaces, {"", ns});

  std::lock_guard lock(mutex);
  const double perThousandMiB =
      static_cast<double>(rssAfter - rssBefore) / 1024.0 / (objects / 1000.0);
  std::printf("| informer benchmark (%d %ss of %zu bytes, %d changes) | value |\n", objects,
              resource.kind.c_str(),
              model.dump().size() + (status.is_null() ? 0 : status.dump().size()), changes);
  std::printf("|---|---|\n");
  std::printf("| create %d objects (4 writers, setup) | %.1f s |\n", objects, fillSeconds);
  std::printf("| list until the cache holds all (pages of 500) | %.2f s |\n", listSeconds);
  std::printf("| change-to-handler latency p50 | %.1f ms |\n", percentile(latenciesMs, 0.50));
  std::printf("| change-to-handler latency p99 | %.1f ms |\n", percentile(latenciesMs, 0.99));
  std::printf("| changes seen | %zu of %d |\n", latenciesMs.size(), changes);
  std::printf("| resident memory added by the cache per 1,000 objects | %.2f MiB |\n",
              perThousandMiB);
  std::printf("| resident memory after sync | %.1f MiB |\n", rssAfter / 1024.0);
  return latenciesMs.size() >= static_cast<size_t>(changes) ? 0 : 1;
}
