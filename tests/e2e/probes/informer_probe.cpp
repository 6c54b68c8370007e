// informer_probe: runs one relops Informer against a real API server and keeps
// a snapshot of its cache in a file, so an e2e test can compare what relops's
// informer believes with what kubectl lists.
//
//   informer_probe --resource configmaps --namespace NS --snapshot FILE
//                  [--kubeconfig PATH] [--watch-timeout SECONDS]
//
// The snapshot is rewritten (atomically) after every event:
//   {"synced": true, "lists": 2, "resourceVersion": "123",
//    "objects": {"ns/name": "<resourceVersion>", ...}}
// SIGTERM stops the informer and exits 0.
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "operator/base/clock.h"
#include "operator/kube/config.h"
#include "operator/kube/http_client.h"
#include "operator/runtime/informer.h"
#include "operator/runtime/log.h"

namespace {

volatile std::sig_atomic_t gStop = 0;
void onSignal(int) { gStop = 1; }

struct Flags {
  std::string resource = "configmaps";
  std::string namespace_;
  std::string snapshot;
  std::string kubeconfig;
  int watchTimeout = 300;
};

relops::kube::ResourceRef resourceNamed(const std::string& name) {
  if (name == "configmaps") return relops::kube::resources::kConfigMaps;
  if (name == "deployments") return relops::kube::resources::kDeployments;
  if (name == "pods") return relops::kube::resources::kPods;
  std::cerr << "informer_probe: unsupported resource " << name << '\n';
  std::exit(64);
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const std::string value = argv[i + 1];
    if (flag == "--resource")
      flags.resource = value;
    else if (flag == "--namespace")
      flags.namespace_ = value;
    else if (flag == "--snapshot")
      flags.snapshot = value;
    else if (flag == "--kubeconfig")
      flags.kubeconfig = value;
    else if (flag == "--watch-timeout")
      flags.watchTimeout = std::stoi(value);
    else {
      std::cerr << "informer_probe: unknown flag " << flag << '\n';
      return 64;
    }
  }
  if (flags.snapshot.empty()) {
    std::cerr << "informer_probe: --snapshot is required\n";
    return 64;
  }
  std::signal(SIGTERM, onSignal);
  std::signal(SIGINT, onSignal);

  relops::kube::KubeconfigOptions kubeconfig;
  kubeconfig.path = flags.kubeconfig;
  auto config = relops::kube::loadKubeconfig(kubeconfig);
  if (!config.ok()) {
    std::cerr << "informer_probe: " << config.error().describe() << '\n';
    return 1;
  }
  relops::kube::HttpClientOptions clientOptions;
  clientOptions.qps = 50;
  clientOptions.burst = 100;
  auto client = relops::kube::HttpClient::create(*config, clientOptions);
  if (!client.ok()) {
    std::cerr << "informer_probe: " << client.error().describe() << '\n';
    return 1;
  }
  relops::base::SystemClock clock;
  auto sink = std::make_shared<relops::runtime::LogSink>(
      std::cerr, relops::runtime::LogFormat::kJson, relops::runtime::LogLevel::kDebug);
  relops::runtime::ReflectorOptions options;
  options.namespace_ = flags.namespace_;
  options.minWatchTimeout = std::chrono::seconds(flags.watchTimeout);
  relops::runtime::Informer informer(**client, resourceNamed(flags.resource), clock,
                                     relops::runtime::Logger(sink, "probe"), options);

  std::mutex writeMutex;
  auto writeSnapshot = [&] {
    std::lock_guard lock(writeMutex);
    nlohmann::json objects = nlohmann::json::object();
    for (const auto& object : informer.cache().list()) {
      objects[relops::runtime::objectKey(*object)] =
          object->at("metadata").value("resourceVersion", "");
    }
    const nlohmann::json snapshot = {
        {"synced", informer.hasSynced()},
        {"lists", informer.reflector().listCount()},
        {"resourceVersion", informer.reflector().lastSyncResourceVersion()},
        {"objects", objects}};
    const std::string temporary = flags.snapshot + ".tmp";
    std::ofstream(temporary) << snapshot.dump() << '\n';
    std::rename(temporary.c_str(), flags.snapshot.c_str());
  };
  informer.addHandlers({
      .onAdd = [&](const relops::runtime::ObjectPtr&) { writeSnapshot(); },
      .onUpdate = [&](const relops::runtime::ObjectPtr&,
                      const relops::runtime::ObjectPtr&) { writeSnapshot(); },
      .onDelete = [&](const relops::runtime::ObjectPtr&) { writeSnapshot(); },
  });
  informer.start();
  // Bookmarks and relists change the version without an event: refresh too.
  while (gStop == 0) {
    writeSnapshot();
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  informer.stop();
  return 0;
}
