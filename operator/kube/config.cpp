#include "operator/kube/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "operator/kube/base64.h"

namespace relops::kube {
namespace {

using base::Error;
using base::ErrorKind;
namespace fs = std::filesystem;

constexpr char kExecV1[] = "client.authentication.k8s.io/v1";
constexpr char kExecV1beta1[] = "client.authentication.k8s.io/v1beta1";

Error configError(std::string message) { return Error(ErrorKind::kConfig, std::move(message)); }

Result<std::string> readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return configError("cannot read " + path + ": " + std::strerror(errno));
  std::ostringstream content;
  content << in.rdbuf();
  if (in.bad()) return configError("cannot read " + path + ": " + std::strerror(errno));
  return content.str();
}

std::string inQuotes(const std::string& text) { return "\"" + text + "\""; }

// A path from a kubeconfig, resolved against the directory of the file that
// named it (kubectl's ResolveLocalPaths).
std::string resolvePath(const std::string& path, const std::string& kubeconfigFile) {
  if (path.empty() || fs::path(path).is_absolute()) return path;
  return (fs::path(kubeconfigFile).parent_path() / path).lexically_normal().string();
}

// One stanza of the merged configuration and the file it came from.
struct Stanza {
  YAML::Node node;
  std::string file;
};

struct MergedConfig {
  std::map<std::string, Stanza> clusters;
  std::map<std::string, Stanza> users;
  std::map<std::string, Stanza> contexts;
  std::string currentContext;
  std::vector<std::string> files;

  std::string describeFiles() const {
    std::string text;
    for (const std::string& file : files) text += (text.empty() ? "" : ", ") + file;
    return text;
  }
};

// Reads the fields of one map node with type checks; errors say where.
class Fields {
 public:
  Fields(const YAML::Node& node, std::string where) : node_(node), where_(std::move(where)) {}

  Result<std::string> string(const char* key) const {
    const YAML::Node value = node_[key];
    if (!value || value.IsNull()) return std::string();
    if (!value.IsScalar()) return error(key, "expected a string");
    return value.Scalar();
  }

  Result<bool> boolean(const char* key) const {
    const YAML::Node value = node_[key];
    if (!value || value.IsNull()) return false;
    bool result = false;
    if (!value.IsScalar() || !YAML::convert<bool>::decode(value, result)) {
      return error(key, "expected true or false");
    }
    return result;
  }

  Result<std::vector<std::string>> strings(const char* key) const {
    const YAML::Node value = node_[key];
    std::vector<std::string> result;
    if (!value || value.IsNull()) return result;
    if (!value.IsSequence()) return error(key, "expected a list of strings");
    for (const YAML::Node& item : value) {
      if (!item.IsScalar()) return error(key, "expected a list of strings");
      result.push_back(item.Scalar());
    }
    return result;
  }

  bool has(const char* key) const {
    const YAML::Node value = node_[key];
    return value && !value.IsNull();
  }

  Error error(const std::string& key, const std::string& problem) const {
    return configError(where_ + ": " + key + ": " + problem);
  }
  const std::string& where() const { return where_; }
  const YAML::Node& node() const { return node_; }

 private:
  YAML::Node node_;
  std::string where_;
};

// `*-data` (base64) or a file path, never both: client-go rejects the pair
// because one would silently override the other.
Result<std::string> dataOrFile(const Fields& fields, const char* fileKey, const char* dataKey,
                               const std::string& kubeconfigFile) {
  Result<std::string> file = fields.string(fileKey);
  if (!file.ok()) return std::move(file).error();
  Result<std::string> data = fields.string(dataKey);
  if (!data.ok()) return std::move(data).error();
  if (!file->empty() && !data->empty()) {
    return fields.error(fileKey,
                        std::string("both ") + fileKey + " and " + dataKey + " are set; use one");
  }
  if (!data->empty()) {
    std::optional<std::string> decoded = base64Decode(*data);
    if (!decoded) return fields.error(dataKey, "not valid base64");
    return *decoded;
  }
  if (file->empty()) return std::string();
  const std::string path = resolvePath(*file, kubeconfigFile);
  Result<std::string> content = readFile(path);
  if (!content.ok()) return fields.error(fileKey, content.error().message());
  return content;
}

Result<void> addNamedList(const YAML::Node& root, const char* listKey, const char* itemKey,
                          const std::string& file, std::map<std::string, Stanza>& into) {
  const YAML::Node list = root[listKey];
  if (!list || list.IsNull()) return {};
  if (!list.IsSequence())
    return configError("kubeconfig " + file + ": " + listKey + ": expected a list");
  std::map<std::string, bool> seen;
  size_t index = 0;
  for (const YAML::Node& entry : list) {
    const std::string where =
        "kubeconfig " + file + ": " + listKey + "[" + std::to_string(index++) + "]";
    if (!entry.IsMap()) return configError(where + ": expected a map with name and " + itemKey);
    const YAML::Node name = entry["name"];
    if (!name || !name.IsScalar() || name.Scalar().empty()) {
      return configError(where + ": name is missing");
    }
    // client-go rejects a name listed twice in one file.
    if (seen.contains(name.Scalar())) {
      return configError(where + ": duplicate name " + inQuotes(name.Scalar()));
    }
    seen[name.Scalar()] = true;
    YAML::Node body = entry[itemKey];
    if (body && !body.IsNull() && !body.IsMap()) {
      return configError(where + ": " + itemKey + ": expected a map");
    }
    // kubectl's merge: the first file that defines a name wins.
    into.try_emplace(name.Scalar(), Stanza{body ? body : YAML::Node(YAML::NodeType::Map), file});
  }
  return {};
}

Result<void> mergeFile(const std::string& text, const std::string& file, MergedConfig& merged) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return configError("kubeconfig " + file + ": not valid YAML: " + e.what());
  }
  merged.files.push_back(file);
  if (!root || root.IsNull()) return {};  // an empty file is an empty config, as for kubectl
  if (!root.IsMap()) return configError("kubeconfig " + file + ": expected a map at the top level");
  if (Result<void> r = addNamedList(root, "clusters", "cluster", file, merged.clusters); !r.ok()) {
    return r;
  }
  if (Result<void> r = addNamedList(root, "users", "user", file, merged.users); !r.ok()) return r;
  if (Result<void> r = addNamedList(root, "contexts", "context", file, merged.contexts); !r.ok()) {
    return r;
  }
  const YAML::Node current = root["current-context"];
  if (current && !current.IsNull()) {
    if (!current.IsScalar()) {
      return configError("kubeconfig " + file + ": current-context: expected a string");
    }
    if (merged.currentContext.empty()) merged.currentContext = current.Scalar();
  }
  return {};
}

Result<void> readCluster(const Stanza& stanza, const std::string& name, ClientConfig& config) {
  const Fields fields(stanza.node, "kubeconfig " + stanza.file + ": cluster " + inQuotes(name));
  Result<std::string> server = fields.string("server");
  if (!server.ok()) return std::move(server).error();
  if (server->empty()) return fields.error("server", "missing");
  if (server->rfind("https://", 0) != 0 && server->rfind("http://", 0) != 0) {
    return fields.error("server", inQuotes(*server) + " is not an http:// or https:// URL");
  }
  config.server = *server;
  Result<std::string> ca =
      dataOrFile(fields, "certificate-authority", "certificate-authority-data", stanza.file);
  if (!ca.ok()) return std::move(ca).error();
  config.caPem = std::move(ca).value();
  Result<bool> insecure = fields.boolean("insecure-skip-tls-verify");
  if (!insecure.ok()) return std::move(insecure).error();
  config.insecureSkipTlsVerify = *insecure;
  if (config.insecureSkipTlsVerify && !config.caPem.empty()) {
    // client-go: "specifying a root certificates file with the insecure flag is not allowed".
    return fields.error("insecure-skip-tls-verify",
                        "cannot be combined with certificate-authority(-data)");
  }
  Result<std::string> serverName = fields.string("tls-server-name");
  if (!serverName.ok()) return std::move(serverName).error();
  config.tlsServerName = *serverName;
  Result<std::string> proxy = fields.string("proxy-url");
  if (!proxy.ok()) return std::move(proxy).error();
  if (!proxy->empty()) return fields.error("proxy-url", "not supported by relops");
  return {};
}

Result<ExecConfig> readExec(const Fields& user, const std::string& kubeconfigFile) {
  const YAML::Node node = user.node()["exec"];
  if (!node.IsMap()) return user.error("exec", "expected a map");
  const Fields fields(node, user.where() + ": exec");
  ExecConfig exec;
  Result<std::string> command = fields.string("command");
  if (!command.ok()) return std::move(command).error();
  if (command->empty()) return fields.error("command", "missing");
  // client-go resolves a command with a path separator against the
  // kubeconfig's directory; a bare name is looked up on PATH.
  exec.command =
      command->find('/') == std::string::npos ? *command : resolvePath(*command, kubeconfigFile);
  Result<std::vector<std::string>> args = fields.strings("args");
  if (!args.ok()) return std::move(args).error();
  exec.args = std::move(args).value();
  const YAML::Node env = node["env"];
  if (env && !env.IsNull()) {
    if (!env.IsSequence()) return fields.error("env", "expected a list of {name, value}");
    size_t index = 0;
    for (const YAML::Node& entry : env) {
      const Fields variable(entry, fields.where() + ".env[" + std::to_string(index++) + "]");
      if (!entry.IsMap()) return configError(variable.where() + ": expected {name, value}");
      Result<std::string> name = variable.string("name");
      if (!name.ok()) return std::move(name).error();
      if (name->empty()) return variable.error("name", "missing");
      Result<std::string> value = variable.string("value");
      if (!value.ok()) return std::move(value).error();
      exec.env.emplace_back(*name, *value);
    }
  }
  Result<std::string> apiVersion = fields.string("apiVersion");
  if (!apiVersion.ok()) return std::move(apiVersion).error();
  if (apiVersion->empty()) return fields.error("apiVersion", "missing");
  if (*apiVersion != kExecV1 && *apiVersion != kExecV1beta1) {
    return fields.error("apiVersion", inQuotes(*apiVersion) + " is not supported; use " + kExecV1 +
                                          " or " + kExecV1beta1);
  }
  exec.apiVersion = *apiVersion;
  Result<std::string> hint = fields.string("installHint");
  if (!hint.ok()) return std::move(hint).error();
  exec.installHint = *hint;
  Result<bool> provide = fields.boolean("provideClusterInfo");
  if (!provide.ok()) return std::move(provide).error();
  exec.provideClusterInfo = *provide;
  Result<std::string> mode = fields.string("interactiveMode");
  if (!mode.ok()) return std::move(mode).error();
  if (mode->empty()) {
    // v1 made the field required; v1beta1 defaults to IfAvailable.
    if (exec.apiVersion == kExecV1)
      return fields.error("interactiveMode", "missing (required by v1)");
    exec.interactiveMode = "IfAvailable";
  } else if (*mode == "Never" || *mode == "IfAvailable") {
    exec.interactiveMode = *mode;
  } else if (*mode == "Always") {
    return fields.error("interactiveMode",
                        "Always needs a terminal, and relops runs without one; use Never");
  } else {
    return fields.error("interactiveMode",
                        inQuotes(*mode) + " is not one of Never, IfAvailable, Always");
  }
  return exec;
}

Result<void> readUser(const Stanza& stanza, const std::string& name, ClientConfig& config) {
  const Fields fields(stanza.node, "kubeconfig " + stanza.file + ": user " + inQuotes(name));
  Result<std::string> cert =
      dataOrFile(fields, "client-certificate", "client-certificate-data", stanza.file);
  if (!cert.ok()) return std::move(cert).error();
  Result<std::string> key = dataOrFile(fields, "client-key", "client-key-data", stanza.file);
  if (!key.ok()) return std::move(key).error();
  if (!cert->empty() && key->empty()) {
    return fields.error("client-key", "missing (client-certificate is set)");
  }
  if (cert->empty() && !key->empty()) {
    return fields.error("client-certificate", "missing (client-key is set)");
  }
  config.clientCertificatePem = std::move(cert).value();
  config.clientKeyPem = std::move(key).value();

  for (const char* field : {"token", "tokenFile", "username", "password"}) {
    Result<std::string> value = fields.string(field);
    if (!value.ok()) return std::move(value).error();
  }
  config.token = fields.string("token").value();
  const std::string tokenFile = fields.string("tokenFile").value();
  config.username = fields.string("username").value();
  config.password = fields.string("password").value();
  if (!tokenFile.empty()) {
    config.tokenFile = resolvePath(tokenFile, stanza.file);
    // Read once now so a wrong path fails at startup; later reads pick up rotation.
    Result<std::string> content = readFile(config.tokenFile);
    if (!content.ok()) return fields.error("tokenFile", content.error().message());
  }
  const bool hasToken = !config.token.empty() || !config.tokenFile.empty();
  const bool hasBasic = !config.username.empty() || !config.password.empty();
  if (hasToken && hasBasic) {
    // client-go: "more than one authentication method found".
    return fields.error("token", "cannot be combined with username/password");
  }

  if (fields.has("auth-provider")) {
    return fields.error("auth-provider",
                        "auth-provider plugins were removed from Kubernetes; use an exec plugin");
  }
  for (const char* field : {"as", "as-uid", "as-groups", "as-user-extra"}) {
    if (fields.has(field)) return fields.error(field, "impersonation is not supported by relops");
  }
  if (fields.has("exec")) {
    Result<ExecConfig> exec = readExec(fields, stanza.file);
    if (!exec.ok()) return std::move(exec).error();
    config.exec = std::move(exec).value();
    // Two sources of identity would make it a guess which one the server sees.
    if (hasToken || hasBasic)
      return fields.error("exec", "cannot be combined with token, tokenFile or username/password");
  }
  return {};
}

Result<ClientConfig> resolve(const MergedConfig& merged, const std::string& requestedContext) {
  const std::string contextName =
      requestedContext.empty() ? merged.currentContext : requestedContext;
  if (contextName.empty()) {
    return configError("kubeconfig " + merged.describeFiles() +
                       ": current-context is not set and no context was given");
  }
  const auto context = merged.contexts.find(contextName);
  if (context == merged.contexts.end()) {
    return configError("kubeconfig " + merged.describeFiles() + ": context " +
                       inQuotes(contextName) + " not found");
  }
  const Fields fields(context->second.node,
                      "kubeconfig " + context->second.file + ": context " + inQuotes(contextName));
  Result<std::string> clusterName = fields.string("cluster");
  if (!clusterName.ok()) return std::move(clusterName).error();
  Result<std::string> userName = fields.string("user");
  if (!userName.ok()) return std::move(userName).error();
  Result<std::string> namespace_ = fields.string("namespace");
  if (!namespace_.ok()) return std::move(namespace_).error();

  if (clusterName->empty()) return fields.error("cluster", "missing");
  const auto cluster = merged.clusters.find(*clusterName);
  if (cluster == merged.clusters.end()) {
    return fields.error("cluster", inQuotes(*clusterName) + " is not defined in clusters");
  }
  ClientConfig config;
  config.namespace_ = *namespace_;
  config.source = "kubeconfig " + merged.describeFiles() + ", context " + inQuotes(contextName);
  if (Result<void> r = readCluster(cluster->second, *clusterName, config); !r.ok()) {
    return std::move(r).error();
  }
  // A context without a user is anonymous, as in kubectl.
  if (!userName->empty()) {
    const auto user = merged.users.find(*userName);
    if (user == merged.users.end()) {
      return fields.error("user", inQuotes(*userName) + " is not defined in users");
    }
    if (Result<void> r = readUser(user->second, *userName, config); !r.ok()) {
      return std::move(r).error();
    }
  }
  return config;
}

std::vector<std::string> splitList(const std::string& list) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= list.size()) {
    const size_t colon = list.find(':', start);
    const size_t end = colon == std::string::npos ? list.size() : colon;
    if (end > start) parts.push_back(list.substr(start, end - start));
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  return parts;
}

GetEnv orProcessEnv(const GetEnv& getEnv) { return getEnv ? getEnv : processEnv(); }

std::optional<std::string> homeKubeconfig(const GetEnv& getEnv) {
  const std::optional<std::string> home = getEnv("HOME");
  if (!home || home->empty()) return std::nullopt;
  return (fs::path(*home) / ".kube" / "config").string();
}

std::string trimmed(std::string text) {
  const auto notSpace = [](unsigned char c) { return !std::isspace(c); };
  text.erase(text.begin(), std::find_if(text.begin(), text.end(), notSpace));
  text.erase(std::find_if(text.rbegin(), text.rend(), notSpace).base(), text.end());
  return text;
}

}  // namespace

GetEnv processEnv() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

Result<ClientConfig> parseKubeconfig(const std::string& yaml, const std::string& path,
                                     const std::string& context) {
  MergedConfig merged;
  if (Result<void> r = mergeFile(yaml, path, merged); !r.ok()) return std::move(r).error();
  return resolve(merged, context);
}

Result<ClientConfig> loadKubeconfig(const KubeconfigOptions& options) {
  const GetEnv getEnv = orProcessEnv(options.getEnv);
  MergedConfig merged;
  auto mergePath = [&](const std::string& path) -> Result<void> {
    Result<std::string> text = readFile(path);
    if (!text.ok()) return Error(text.error()).context("kubeconfig");
    return mergeFile(*text, path, merged);
  };

  if (!options.path.empty()) {
    if (Result<void> r = mergePath(options.path); !r.ok()) return std::move(r).error();
    return resolve(merged, options.context);
  }
  const std::optional<std::string> list = getEnv("KUBECONFIG");
  if (list && !list->empty()) {
    // kubectl skips KUBECONFIG entries that do not exist, but not unreadable ones.
    std::vector<std::string> missing;
    for (const std::string& path : splitList(*list)) {
      std::error_code ec;
      if (!fs::exists(path, ec)) {
        missing.push_back(path);
        continue;
      }
      if (Result<void> r = mergePath(path); !r.ok()) return std::move(r).error();
    }
    if (merged.files.empty()) {
      return configError("KUBECONFIG=" + *list + ": none of these files exist");
    }
    return resolve(merged, options.context);
  }
  const std::optional<std::string> home = homeKubeconfig(getEnv);
  if (!home) return configError("no kubeconfig: KUBECONFIG and HOME are not set");
  if (Result<void> r = mergePath(*home); !r.ok()) return std::move(r).error();
  return resolve(merged, options.context);
}

bool runningInCluster(const InClusterOptions& options) {
  const GetEnv getEnv = orProcessEnv(options.getEnv);
  const std::optional<std::string> host = getEnv("KUBERNETES_SERVICE_HOST");
  const std::optional<std::string> port = getEnv("KUBERNETES_SERVICE_PORT");
  return host && !host->empty() && port && !port->empty();
}

Result<ClientConfig> loadInClusterConfig(const InClusterOptions& options) {
  const GetEnv getEnv = orProcessEnv(options.getEnv);
  if (!runningInCluster(options)) {
    return configError(
        "in-cluster config: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set "
        "(not running in a pod?)");
  }
  std::string host = *getEnv("KUBERNETES_SERVICE_HOST");
  const std::string port = *getEnv("KUBERNETES_SERVICE_PORT");
  if (host.find(':') != std::string::npos) host = "[" + host + "]";  // IPv6 literal
  ClientConfig config;
  config.server = "https://" + host + ":" + port;
  config.source = "in-cluster service account";

  Result<std::string> token = readFile(options.tokenPath);
  if (!token.ok()) return Error(token.error()).context("in-cluster config: token");
  if (trimmed(*token).empty()) {
    return configError("in-cluster config: token: " + options.tokenPath + " is empty");
  }
  config.tokenFile = options.tokenPath;

  Result<std::string> ca = readFile(options.caPath);
  if (!ca.ok()) return Error(ca.error()).context("in-cluster config: ca.crt");
  config.caPem = std::move(ca).value();

  // The namespace file is optional (client-go falls back to "default").
  std::error_code ec;
  if (fs::exists(options.namespacePath, ec)) {
    Result<std::string> namespace_ = readFile(options.namespacePath);
    if (!namespace_.ok()) return Error(namespace_.error()).context("in-cluster config: namespace");
    config.namespace_ = trimmed(std::move(namespace_).value());
  }
  return config;
}

Result<ClientConfig> loadClientConfig(const KubeconfigOptions& kubeconfig,
                                      const InClusterOptions& inCluster) {
  const GetEnv getEnv = orProcessEnv(kubeconfig.getEnv);
  const std::optional<std::string> list = getEnv("KUBECONFIG");
  if (!kubeconfig.path.empty() || (list && !list->empty())) return loadKubeconfig(kubeconfig);
  InClusterOptions inClusterOptions = inCluster;
  if (!inClusterOptions.getEnv) inClusterOptions.getEnv = getEnv;
  if (runningInCluster(inClusterOptions)) return loadInClusterConfig(inClusterOptions);
  const std::optional<std::string> home = homeKubeconfig(getEnv);
  std::error_code ec;
  if (!home || !fs::exists(*home, ec)) {
    return configError(
        "no Kubernetes configuration: pass --kubeconfig, set KUBECONFIG, run in a pod, or "
        "create ~/.kube/config");
  }
  return loadKubeconfig(kubeconfig);
}

}  // namespace relops::kube
