#include "controllers/oncall/alertmanager_fragment.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <utility>
#include <vector>

#include "controllers/common/yaml_json.h"
#include "controllers/oncall/alertmanager_config.h"

namespace relops::oncall {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;

base::Error notPortable(const std::string& path, std::string_view why) {
  return base::Error(base::ErrorKind::kConfig,
                     path + ": " + std::string(why) +
                         " in an Alertmanager configuration fragment, where relops writes this "
                         "rotation's routing (--routing-output configmap, or no "
                         "AlertmanagerConfig CRD when relops started): use a receiver with a "
                         "file form, or the prometheus-operator");
}

// sendResolved -> send_resolved, apiURL -> api_url, chatID -> chat_id.
std::string snakeCase(std::string_view name) {
  std::string out;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    if (std::isupper(static_cast<unsigned char>(c)) != 0 && i > 0) {
      const char before = name[i - 1];
      const bool afterLower = std::islower(static_cast<unsigned char>(before)) != 0 ||
                              std::isdigit(static_cast<unsigned char>(before)) != 0;
      const bool startsWord = std::isupper(static_cast<unsigned char>(before)) != 0 &&
                              i + 1 < name.size() &&
                              std::islower(static_cast<unsigned char>(name[i + 1])) != 0;
      if (afterLower || startsWord) out += '_';
    }
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

// Plain data (titles, lists of fields, Slack actions) with its keys in Alertmanager's spelling.
ordered_json plain(const json& value) {
  if (value.is_object()) {
    ordered_json out = ordered_json::object();
    for (const auto& [key, item] : value.items()) out[snakeCase(key)] = plain(item);
    return out;
  }
  if (value.is_array()) {
    ordered_json out = ordered_json::array();
    for (const json& item : value) out.push_back(plain(item));
    return out;
  }
  return ordered_json(value);
}

// A path segment from a Secret's or ConfigMap's name or key: names are DNS subdomains,
// keys [-._a-zA-Z0-9]+; "." and ".." would leave the directory.
bool isPathSegment(const std::string& segment) {
  if (segment.empty() || segment == "." || segment == "..") return false;
  return std::all_of(segment.begin(), segment.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '.' || c == '_';
  });
}

// {name, key} -> <dir>/<name>/<key>.
base::Result<std::string> selectorFile(const json& selector, std::string_view dir,
                                       const std::string& path) {
  if (!selector.is_object()) return notPortable(path, "not a {name, key} reference");
  const std::string name = selector.value("name", "");
  const std::string key = selector.value("key", "");
  if (!isPathSegment(name) || !isPathSegment(key)) {
    return notPortable(path, "a reference without a usable name and key has no file");
  }
  return std::string(dir) + "/" + name + "/" + key;
}

// A SecretOrConfigMap ({secret: {name, key}} or {configMap: {name, key}}) -> its file.
base::Result<std::string> secretOrConfigMapFile(const json& value, const std::string& path) {
  if (value.is_object() && value.contains("secret")) {
    return selectorFile(value["secret"], kSecretsDir, path + ".secret");
  }
  if (value.is_object() && value.contains("configMap")) {
    return selectorFile(value["configMap"], kConfigMapsDir, path + ".configMap");
  }
  return notPortable(path, "neither a secret nor a configMap reference");
}

// [{key, value}] -> {key: value}.
base::Result<ordered_json> keyValueMap(const json& list, const std::string& path) {
  ordered_json out = ordered_json::object();
  if (!list.is_array()) return notPortable(path, "not a list of {key, value}");
  for (const json& item : list) {
    if (!item.is_object() || !item.contains("key")) {
      return notPortable(path, "not a list of {key, value}");
    }
    out[item.value("key", "")] = item.value("value", "");
  }
  return out;
}

base::Result<ordered_json> tlsConfig(const json& in, const std::string& path) {
  ordered_json out = ordered_json::object();
  for (const auto& [key, value] : in.items()) {
    const std::string at = path + "." + key;
    if (key == "ca" || key == "cert") {
      RELOPS_ASSIGN(out[key + "_file"], secretOrConfigMapFile(value, at));
    } else if (key == "keySecret") {
      RELOPS_ASSIGN(out["key_file"], selectorFile(value, kSecretsDir, at));
    } else if (key == "serverName" || key == "insecureSkipVerify" || key == "minVersion" ||
               key == "maxVersion") {
      out[snakeCase(key)] = plain(value);
    } else {
      return notPortable(at, "has no file form");
    }
  }
  return out;
}

base::Result<ordered_json> httpConfig(const json& in, const std::string& path) {
  ordered_json out = ordered_json::object();
  for (const auto& [key, value] : in.items()) {
    const std::string at = path + "." + key;
    if (key == "authorization") {
      ordered_json authorization = {{"type", value.value("type", "Bearer")}};
      if (value.contains("credentials")) {
        RELOPS_ASSIGN(authorization["credentials_file"],
                      selectorFile(value["credentials"], kSecretsDir, at + ".credentials"));
      }
      out["authorization"] = std::move(authorization);
    } else if (key == "basicAuth") {
      ordered_json basicAuth = ordered_json::object();
      for (const char* field : {"username", "password"}) {
        if (!value.contains(field)) continue;
        RELOPS_ASSIGN(basicAuth[std::string(field) + "_file"],
                      selectorFile(value[field], kSecretsDir, at + "." + field));
      }
      out["basic_auth"] = std::move(basicAuth);
    } else if (key == "bearerTokenSecret") {
      ordered_json authorization = {{"type", "Bearer"}};
      RELOPS_ASSIGN(authorization["credentials_file"], selectorFile(value, kSecretsDir, at));
      out["authorization"] = std::move(authorization);
    } else if (key == "tlsConfig") {
      RELOPS_ASSIGN(out["tls_config"], tlsConfig(value, at));
    } else if (key == "proxyURL" || key == "proxyUrl") {
      out["proxy_url"] = plain(value);
    } else if (key == "noProxy" || key == "proxyFromEnvironment" || key == "followRedirects") {
      out[snakeCase(key)] = plain(value);
    } else {
      return notPortable(at, "has no file form");  // oauth2, proxyConnectHeader
    }
  }
  return out;
}

// How one receiver kind's fields become Alertmanager's.
struct KindForm {
  std::string_view kind;  // AlertmanagerConfig's list: webhookConfigs
  std::vector<std::string_view> plain;
  // Secret references -> Alertmanager's *_file field.
  std::vector<std::pair<std::string_view, std::string_view>> secrets;
  // [{key, value}] -> a map.
  std::vector<std::string_view> keyValues;
  // Plain fields Alertmanager spells otherwise: pagerDutyImageConfigs -> images.
  std::vector<std::pair<std::string_view, std::string_view>> renamed;
};

const std::vector<KindForm>& kindForms() {
  static const std::vector<KindForm> forms = {
      {"webhookConfigs",
       {"sendResolved", "url", "maxAlerts", "timeout"},
       {{"urlSecret", "url_file"}},
       {},
       {}},
      {"slackConfigs",
       {"sendResolved", "channel",  "username",   "color",     "title",
        "titleLink",    "pretext",  "text",       "fields",    "shortFields",
        "footer",       "fallback", "callbackId", "iconEmoji", "iconURL",
        "imageURL",     "thumbURL", "linkNames",  "mrkdwnIn",  "actions"},
       {{"apiURL", "api_url_file"}},
       {},
       {}},
      {"pagerdutyConfigs",
       {"sendResolved", "url", "client", "clientURL", "description", "severity", "class", "group",
        "component", "source"},
       {{"routingKey", "routing_key_file"}, {"serviceKey", "service_key_file"}},
       {"details"},
       {{"pagerDutyImageConfigs", "images"}}},
      {"emailConfigs",
       {"sendResolved", "to", "from", "hello", "smarthost", "authUsername", "authIdentity", "html",
        "text", "requireTLS"},
       {{"authPassword", "auth_password_file"}},
       {"headers"},
       {}},
      {"opsgenieConfigs",
       {"sendResolved", "apiURL", "message", "description", "source", "tags", "note", "priority",
        "updateAlerts", "responders", "entity", "actions"},
       {{"apiKey", "api_key_file"}},
       {"details"},
       {}},
      {"victoropsConfigs",
       {"sendResolved", "apiUrl", "routingKey", "messageType", "entityDisplayName", "stateMessage",
        "monitoringTool"},
       {{"apiKey", "api_key_file"}},
       {"customFields"},
       {}},
      {"pushoverConfigs",
       {"sendResolved", "userKeyFile", "tokenFile", "title", "message", "url", "urlTitle", "ttl",
        "device", "sound", "priority", "retry", "expire", "html"},
       {{"userKey", "user_key_file"}, {"token", "token_file"}},
       {},
       {}},
      {"telegramConfigs",
       {"sendResolved", "apiURL", "botTokenFile", "chatID", "messageThreadID", "message",
        "disableNotifications", "parseMode"},
       {{"botToken", "bot_token_file"}},
       {},
       {}},
      {"discordConfigs",
       {"sendResolved", "title", "message", "content", "username", "avatarURL"},
       {{"apiURL", "webhook_url_file"}},
       {},
       {}},
      {"msteamsConfigs",
       {"sendResolved", "title", "summary", "text"},
       {{"webhookUrl", "webhook_url_file"}},
       {},
       {}},
      {"msteamsv2Configs",
       {"sendResolved", "title", "text"},
       {{"webhookURL", "webhook_url_file"}},
       {},
       {}},
      {"rocketchatConfigs",
       {"sendResolved", "apiURL", "channel", "color", "emoji", "iconURL", "text", "title",
        "titleLink", "fields", "shortFields", "imageURL", "thumbURL", "linkNames", "actions"},
       {{"token", "token_file"}, {"tokenID", "token_id_file"}},
       {},
       {}},
      {"webexConfigs", {"sendResolved", "apiURL", "message", "roomID"}, {}, {}, {}},
  };
  return forms;
}

template <typename Pairs>
const std::string_view* lookup(const Pairs& pairs, std::string_view key) {
  for (const auto& [from, to] : pairs) {
    if (from == key) return &to;
  }
  return nullptr;
}

base::Result<ordered_json> receiverConfig(const KindForm& form, const json& in,
                                          const std::string& path) {
  if (!in.is_object()) return notPortable(path, "not an object");
  ordered_json out = ordered_json::object();
  for (const auto& [key, value] : in.items()) {
    const std::string at = path + "." + key;
    if (std::find(form.plain.begin(), form.plain.end(), key) != form.plain.end()) {
      out[snakeCase(key)] = plain(value);
    } else if (const std::string_view* file = lookup(form.secrets, key)) {
      RELOPS_ASSIGN(out[std::string(*file)], selectorFile(value, kSecretsDir, at));
    } else if (std::find(form.keyValues.begin(), form.keyValues.end(), key) !=
               form.keyValues.end()) {
      RELOPS_ASSIGN(out[snakeCase(key)], keyValueMap(value, at));
    } else if (const std::string_view* name = lookup(form.renamed, key)) {
      out[std::string(*name)] = plain(value);
    } else if (form.kind == "pagerdutyConfigs" && key == "pagerDutyLinkConfigs" &&
               value.is_array()) {
      ordered_json links = ordered_json::array();
      for (const json& link : value) {
        ordered_json item = {{"href", link.value("href", "")}};
        if (link.contains("alt")) item["text"] = link["alt"];
        links.push_back(std::move(item));
      }
      out["links"] = std::move(links);
    } else if (key == "httpConfig") {
      RELOPS_ASSIGN(out["http_config"], httpConfig(value, at));
    } else if (key == "tlsConfig" && form.kind == "emailConfigs") {
      RELOPS_ASSIGN(out["tls_config"], tlsConfig(value, at));
    } else {
      return notPortable(at, "has no file form");
    }
  }
  return out;
}

base::Result<ordered_json> receiver(const json& in, const std::string& prefix,
                                    const std::string& path) {
  ordered_json out = {{"name", prefix + in.value("name", "")}};
  for (const auto& [key, value] : in.items()) {
    if (key == "name") continue;
    const std::string at = path + "." + key;
    const auto& forms = kindForms();
    const std::string kind = key;  // a lambda cannot capture a structured binding (clang 15)
    const auto form =
        std::find_if(forms.begin(), forms.end(), [&](const KindForm& f) { return f.kind == kind; });
    if (form == forms.end()) return notPortable(at, "has no file form");
    if (!value.is_array()) return notPortable(at, "not a list");
    ordered_json configs = ordered_json::array();
    for (size_t i = 0; i < value.size(); ++i) {
      ordered_json config;
      RELOPS_ASSIGN(config, receiverConfig(*form, value[i], at + "[" + std::to_string(i) + "]"));
      configs.push_back(std::move(config));
    }
    out[snakeCase(key)] = std::move(configs);
  }
  return out;
}

// `name="value"`, the matcher syntax of Alertmanager 0.22 and later.
std::string matcherText(const json& matcher) {
  return matcher.value("name", "") + matcher.value("matchType", "=") +
         json(matcher.value("value", "")).dump();
}

ordered_json route(const json& in, const std::string& prefix, const std::string& namespace_,
                   bool top) {
  ordered_json out = {{"receiver", prefix + in.value("receiver", "")}};
  ordered_json matchers = ordered_json::array();
  for (const json& matcher : in.value("matchers", json::array())) {
    matchers.push_back(matcherText(matcher));
  }
  // What the prometheus-operator adds to an AlertmanagerConfig's route: its namespace's alerts
  // only, and the routes after it still see them.
  if (top) matchers.push_back("namespace=" + json(namespace_).dump());
  out["matchers"] = std::move(matchers);
  for (const char* field : {"groupBy", "groupWait", "groupInterval", "repeatInterval"}) {
    if (in.contains(field)) out[snakeCase(field)] = plain(in[field]);
  }
  if (top) out["continue"] = true;
  if (in.contains("routes")) {
    ordered_json routes = ordered_json::array();
    for (const json& child : in["routes"])
      routes.push_back(route(child, prefix, namespace_, false));
    out["routes"] = std::move(routes);
  }
  return out;
}

}  // namespace

std::string fragmentKey(std::string_view rotation) {
  return std::string(rotation) + ".alertmanager.yaml";
}

base::Result<ordered_json> alertmanagerFragment(const json& alertmanagerConfig) {
  const json& metadata = alertmanagerConfig.at("metadata");
  const std::string namespace_ = metadata.value("namespace", "");
  const std::string prefix = namespace_ + "/" + metadata.value("name", "") + "/";
  const json& spec = alertmanagerConfig.at("spec");
  ordered_json receivers = ordered_json::array();
  const json& in = spec.at("receivers");
  for (size_t i = 0; i < in.size(); ++i) {
    ordered_json converted;
    RELOPS_ASSIGN(converted,
                  receiver(in[i], prefix, "spec.routing receiver " + in[i].value("name", "")));
    receivers.push_back(std::move(converted));
  }
  return ordered_json{{"route", route(spec.at("route"), prefix, namespace_, true)},
                      {"receivers", std::move(receivers)}};
}

base::Result<json> routingConfigMapJson(const json& alertmanagerConfig) {
  ordered_json fragment;
  RELOPS_ASSIGN(fragment, alertmanagerFragment(alertmanagerConfig));
  json metadata = alertmanagerConfig.at("metadata");
  // relops-oncall-<rotation>: the fragment's key names the rotation.
  const std::string name = metadata.value("name", "");
  const std::string key = fragmentKey(std::string_view(name).substr(kChildPrefix.size()));
  return json{{"apiVersion", "v1"},
              {"kind", "ConfigMap"},
              {"metadata", std::move(metadata)},
              {"data", {{key, common::toYaml(fragment)}}}};
}

}  // namespace relops::oncall
