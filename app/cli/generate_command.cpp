#include "app/cli/generate_command.h"

#include <algorithm>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <ostream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "controllers/common/yaml_json.h"
#include "controllers/slo/rule_output.h"
#include "controllers/slo/rules.h"
#include "controllers/slo/slo_types.h"

namespace relops::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::ordered_json;

constexpr std::string_view kUsage =
    "Generate the Prometheus rules of ServiceLevelObjectives, offline: recording rules for the\n"
    "error ratio over each alert window and the SLO window, multi-window multi-burn-rate\n"
    "alerts and an absent-metric alert. The same generator runs in the operator.\n\n"
    "Usage:\n"
    "  relops generate -f FILE|DIR [-f ...] [-o yaml|json] [--format FORMAT] [-l KEY=VALUE]\n\n"
    "Flags:\n"
    "  -f, --filename   a YAML or JSON file (one or many documents) or a directory of them\n"
    "                   (*.yaml, *.yml, *.json, not recursive); '-' reads standard input.\n"
    "                   Documents of other kinds are skipped.\n"
    "  -o, --output     yaml (default) or json\n"
    "      --format     prometheusrule (default): monitoring.coreos.com/v1 PrometheusRule objects\n"
    "                   configmap: ConfigMaps holding a Prometheus rule file\n"
    "                   rulefile: one plain rule file (promtool check rules reads it)\n"
    "  -l, --label      a label for the generated objects, e.g. role=alert-rules (repeatable)\n"
    "      --slo-namespace-label=false\n"
    "                   do not add namespace=\"<metadata.namespace>\" to every selector (as\n"
    "                   `relops run` does by default); for single-tenant Prometheus only\n\n"
    "Exit codes: 0 generated, 1 invalid input (each error names the file and field), 64 usage.\n";

enum class Format { kPrometheusRule, kConfigMap, kRuleFile };

struct Options {
  std::vector<std::string> paths;
  bool json = false;
  Format format = Format::kPrometheusRule;
  slo::OutputOptions output;
  bool namespaceLabel = true;
};

struct Source {
  std::string name;  // file path, or "<stdin>"
  std::string text;
};

// Splits "-o=json" and "--output=json"; returns false for a flag without its value.
bool takeValue(std::span<const std::string_view> args, size_t& i, std::string_view flag,
               std::string_view shortFlag, std::string& value) {
  const std::string_view arg = args[i];
  for (std::string_view name : {flag, shortFlag}) {
    if (name.empty()) continue;
    if (arg == name) {
      if (i + 1 >= args.size()) return false;
      value = std::string(args[++i]);
      return true;
    }
    if (arg.size() > name.size() && arg.substr(0, name.size()) == name && arg[name.size()] == '=') {
      value = std::string(arg.substr(name.size() + 1));
      return true;
    }
  }
  return false;
}

bool isFlag(std::string_view arg, std::string_view flag, std::string_view shortFlag) {
  auto matchesFlag = [&](std::string_view name) {
    return !name.empty() &&
           (arg == name || (arg.size() > name.size() && arg.substr(0, name.size()) == name &&
                            arg[name.size()] == '='));
  };
  return matchesFlag(flag) || matchesFlag(shortFlag);
}

// Returns an error message, empty when the arguments are valid.
std::string parseArgs(std::span<const std::string_view> args, Options& options) {
  for (size_t i = 0; i < args.size(); ++i) {
    std::string value;
    if (isFlag(args[i], "--filename", "-f")) {
      if (!takeValue(args, i, "--filename", "-f", value) || value.empty())
        return "-f needs a file or directory";
      options.paths.push_back(value);
    } else if (isFlag(args[i], "--output", "-o")) {
      if (!takeValue(args, i, "--output", "-o", value)) return "-o needs yaml or json";
      if (value != "yaml" && value != "json")
        return "-o must be yaml or json, not \"" + value + "\"";
      options.json = value == "json";
    } else if (isFlag(args[i], "--format", "")) {
      if (!takeValue(args, i, "--format", "", value)) return "--format needs a value";
      if (value == "prometheusrule") {
        options.format = Format::kPrometheusRule;
      } else if (value == "configmap") {
        options.format = Format::kConfigMap;
      } else if (value == "rulefile") {
        options.format = Format::kRuleFile;
      } else {
        return "--format must be prometheusrule, configmap or rulefile, not \"" + value + "\"";
      }
    } else if (isFlag(args[i], "--label", "-l")) {
      if (!takeValue(args, i, "--label", "-l", value)) return "-l needs KEY=VALUE";
      const size_t equals = value.find('=');
      if (equals == 0 || equals == std::string::npos)
        return "-l wants KEY=VALUE, not \"" + value + "\"";
      options.output.labels[value.substr(0, equals)] = value.substr(equals + 1);
    } else if (isFlag(args[i], "--slo-namespace-label", "")) {
      const std::string_view arg = args[i];
      const std::string_view given =
          arg == "--slo-namespace-label"
              ? std::string_view("true")
              : arg.substr(std::string_view("--slo-namespace-label=").size());
      if (given != "true" && given != "false")
        return "--slo-namespace-label must be true or false, not \"" + std::string(given) + "\"";
      options.namespaceLabel = given == "true";
    } else {
      return "unexpected argument \"" + std::string(args[i]) + "\"";
    }
  }
  if (options.paths.empty()) return "-f FILE|DIR is required";
  return "";
}

bool readSources(const std::string& path, std::vector<Source>& sources, std::ostream& err) {
  std::error_code error;
  if (path == "-") {
    std::stringstream text;
    text << std::cin.rdbuf();
    sources.push_back({"<stdin>", text.str()});
    return true;
  }
  std::vector<fs::path> files;
  if (fs::is_directory(path, error)) {
    for (const auto& entry : fs::directory_iterator(path, error)) {
      const std::string extension = entry.path().extension().string();
      if (entry.is_regular_file() &&
          (extension == ".yaml" || extension == ".yml" || extension == ".json")) {
        files.push_back(entry.path());
      }
    }
    std::sort(files.begin(), files.end());  // deterministic output
  } else {
    files.emplace_back(path);
  }
  for (const fs::path& file : files) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
      err << "relops generate: " << file.string() << ": cannot read the file\n";
      return false;
    }
    std::stringstream text;
    text << in.rdbuf();
    sources.push_back({file.string(), text.str()});
  }
  return true;
}

void print(std::ostream& out, const std::vector<ordered_json>& objects, bool json) {
  if (json) {
    if (objects.size() == 1) {
      out << objects.front().dump(2) << '\n';
    } else {
      ordered_json list = {{"apiVersion", "v1"}, {"kind", "List"}, {"items", objects}};
      out << list.dump(2) << '\n';
    }
    return;
  }
  for (size_t i = 0; i < objects.size(); ++i) {
    if (i > 0) out << "---\n";
    out << common::toYaml(objects[i]);
  }
}

int generate(const Options& options, Streams streams) {
  std::vector<Source> sources;
  for (const std::string& path : options.paths) {
    std::error_code error;
    if (path != "-" && !fs::exists(path, error)) {
      streams.err << "relops generate: " << path << ": no such file or directory\n";
      return kExitFailure;
    }
    if (!readSources(path, sources, streams.err)) return kExitFailure;
  }

  std::vector<slo::ServiceLevelObjective> slos;
  std::set<std::string> seen;
  int errors = 0;
  for (const Source& source : sources) {
    auto documents = common::parseYamlDocuments(source.text);
    if (!documents) {
      streams.err << "relops generate: " << source.name << ": " << documents.error().message()
                  << '\n';
      ++errors;
      continue;
    }
    for (size_t i = 0; i < documents->size(); ++i) {
      const nlohmann::json& document = (*documents)[i];
      if (!document.is_object() || document.value("kind", "") != slo::kSloKind) continue;
      auto parsed = slo::parseSlo(document);
      std::string where = source.name + ": document " + std::to_string(i + 1);
      if (!parsed) {
        streams.err << "relops generate: " << where << ": " << parsed.error().describe() << '\n';
        ++errors;
        continue;
      }
      const std::string key = parsed->metadata.namespace_ + "/" + parsed->metadata.name;
      if (!seen.insert(key).second) {
        streams.err << "relops generate: " << where << ": ServiceLevelObjective " << key
                    << " appears twice\n";
        ++errors;
        continue;
      }
      // The same confinement as in the cluster: the namespace is the object's own.
      slos.push_back(options.namespaceLabel ? slo::confinedToNamespace(*parsed)
                                            : std::move(*parsed));
    }
  }
  if (errors > 0) return kExitFailure;
  if (slos.empty()) {
    streams.err << "relops generate: no ServiceLevelObjective in the given files\n";
    return kExitFailure;
  }

  std::vector<ordered_json> objects;
  std::vector<slo::RuleGroup> allGroups;
  for (const slo::ServiceLevelObjective& objective : slos) {
    const std::string key = objective.metadata.namespace_ + "/" + objective.metadata.name;
    auto rules = slo::generateRules(objective);
    if (!rules) {
      streams.err << "relops generate: " << key << ": " << rules.error().describe() << '\n';
      return kExitFailure;
    }
    for (const std::string& warning : rules->warnings) {
      streams.err << "relops generate: warning: " << key << ": " << warning << '\n';
    }
    if (objective.isWorkload()) {
      streams.err << "relops generate: " << key
                  << ": workload indicator: relops computes it from cluster state, no rules\n";
      continue;
    }
    if (options.format == Format::kRuleFile) {
      allGroups.insert(allGroups.end(), rules->groups.begin(), rules->groups.end());
      continue;
    }
    auto object = options.format == Format::kConfigMap
                      ? slo::ruleConfigMapJson(objective, *rules, options.output)
                      : slo::prometheusRuleJson(objective, *rules, options.output);
    if (!object) {
      streams.err << "relops generate: " << key << ": " << object.error().describe() << '\n';
      return kExitFailure;
    }
    objects.push_back(std::move(*object));
  }
  if (options.format == Format::kRuleFile) objects = {slo::ruleFileJson(allGroups)};
  print(streams.out, objects, options.json);
  return kExitOk;
}

}  // namespace

int runGenerateCommand(std::span<const std::string_view> args, Streams streams) {
  for (std::string_view arg : args) {
    if (arg == "--help" || arg == "-h") {
      streams.out << kUsage;
      return kExitOk;
    }
  }
  Options options;
  if (const std::string problem = parseArgs(args, options); !problem.empty()) {
    streams.err << "relops generate: " << problem << "\nRun 'relops generate --help' for usage.\n";
    return kExitUsage;
  }
  try {
    return generate(options, streams);
  } catch (const std::exception& error) {
    // Never a crash: whatever slipped past the parsers is reported as bad input.
    streams.err << "relops generate: " << error.what() << '\n';
    return kExitFailure;
  }
}

}  // namespace relops::cli
