// Where the API server is and how to authenticate to it: loaded from a
// kubeconfig (kubectl's rules) or from the in-cluster service-account mount.
// Loading reads and checks every referenced file once, so a broken
// configuration fails at startup with a message naming the file and the
// field, not at the first request.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "operator/base/result.h"

namespace relops::kube {

using base::Result;

// A client.authentication.k8s.io exec credential plugin, as a kubeconfig user
// names it.
struct ExecConfig {
  std::string command;  // absolute, relative to the kubeconfig (when it has a '/'), or on PATH
  std::vector<std::string> args;
  std::vector<std::pair<std::string, std::string>> env;  // added to relops's environment
  std::string apiVersion;   // client.authentication.k8s.io/v1 or /v1beta1
  std::string installHint;  // shown when the command cannot be started
  bool provideClusterInfo = false;
  std::string interactiveMode;  // "Never", "IfAvailable", "Always"
};

struct ClientConfig {
  // "https://host:port" with an optional path prefix (API server behind a
  // proxy such as Rancher's); "http://" only for `kubectl proxy`.
  std::string server;

  // TLS. Empty caPem: the system's trust store.
  std::string caPem;
  bool insecureSkipTlsVerify = false;
  std::string tlsServerName;  // overrides the name sent (SNI) and checked
  std::string clientCertificatePem;
  std::string clientKeyPem;

  // Credentials; at most one of token / tokenFile / basic auth is used, exec
  // may add a token or a client certificate.
  std::string token;
  std::string tokenFile;  // re-read periodically (bound service-account tokens rotate)
  std::string username;
  std::string password;
  std::optional<ExecConfig> exec;

  // The context's namespace (or the pod's, in cluster); empty when unset.
  std::string namespace_;

  // What this came from, for messages: "kubeconfig /home/a/.kube/config, context kind-dev".
  std::string source;

  std::string namespaceOrDefault() const { return namespace_.empty() ? "default" : namespace_; }
};

// Reads an environment variable; tests inject their own.
using GetEnv = std::function<std::optional<std::string>(const std::string& name)>;
GetEnv processEnv();

struct KubeconfigOptions {
  // --kubeconfig: this one file, which must exist. Overrides KUBECONFIG.
  std::string path;
  // --context: this context instead of current-context.
  std::string context;
  GetEnv getEnv;  // default: the process environment (KUBECONFIG, HOME)
};

// kubectl's loading rules: --kubeconfig, else the KUBECONFIG list (':'
// separated; missing files skipped; for every map entry and for
// current-context the first file that sets it wins), else ~/.kube/config.
// Relative file paths resolve against the directory of the file that set them.
Result<ClientConfig> loadKubeconfig(const KubeconfigOptions& options = {});

// Parses one kubeconfig document, as if it were the only file; `path` names
// it in errors and anchors relative paths. For tests and `--kubeconfig -`.
Result<ClientConfig> parseKubeconfig(const std::string& yaml, const std::string& path,
                                     const std::string& context = {});

struct InClusterOptions {
  std::string tokenPath = "/var/run/secrets/kubernetes.io/serviceaccount/token";
  std::string caPath = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt";
  std::string namespacePath = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";
  GetEnv getEnv;  // default: the process environment
};

// True when KUBERNETES_SERVICE_HOST and _PORT are set, as in every pod.
bool runningInCluster(const InClusterOptions& options = {});

// client-go's InClusterConfig: server from KUBERNETES_SERVICE_HOST/PORT, the
// service-account token as a token file (re-read as it rotates), its CA and
// namespace.
Result<ClientConfig> loadInClusterConfig(const InClusterOptions& options = {});

// controller-runtime's order: --kubeconfig, KUBECONFIG, in-cluster,
// ~/.kube/config.
Result<ClientConfig> loadClientConfig(const KubeconfigOptions& kubeconfig = {},
                                      const InClusterOptions& inCluster = {});

}  // namespace relops::kube
