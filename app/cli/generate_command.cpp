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
#include "operator/cli/flags.h"

namespace relops::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::ordered_json;

constexpr std::string_view kIntro =
    "Generate the Prometheus rules of ServiceLevelObjectives, offline: recording rules for the\n"
    "error ratio over each alert window and the SLO window, multi-window multi-burn-rate\n"
    "alerts and an absent-metric alert. The same generator runs in the operator.\n\n"
    "Usage:\n"
    "  relops generate -f FILE|DIR [-f ...] [-o yaml|json] [--format FORMAT] [-l KEY=VALUE]\n";

constexpr std::string_view kExitCodes =
    "\nExit codes: 0 generated, 1 invalid input (each error names the file and field), 64 usage.\n";

enum class Format { kPrometheusRule, kConfigMap, kRuleFile };

struct Options {
  std::vector<std::string> paths;
  std::string output = "yaml";
  std::string format = "prometheusrule";
  std::vector<std::string> labels;
  bool namespaceLabel = true;
};

FlagSet generateFlags(Options& options) {
  FlagSet set("relops generate");
  set.addStringArray("filename", &options.paths,
                     "a YAML or JSON file (one or many documents) or a directory of them\n"
                     "(*.yaml, *.yml, *.json, not recursive); '-' reads standard input.\n"
                     "Documents of other kinds are skipped. Repeatable.")
      .shorthand('f')
      .valueName("FILE|DIR")
      .required();
  set.addEnum("output", &options.output, {"yaml", "json"}, "how the objects are printed")
      .shorthand('o');
  set.addEnum("format", &options.format, {"prometheusrule", "configmap", "rulefile"},
              "prometheusrule: monitoring.coreos.com/v1 PrometheusRule objects\n"
              "configmap: ConfigMaps holding a Prometheus rule file\n"
              "rulefile: one plain rule file (promtool check rules reads it)");
  set.addStringArray("label", &options.labels,
                     "a label for the generated objects, e.g. role=alert-rules (repeatable)")
      .shorthand('l')
      .valueName("KEY=VALUE");
  set.addBool("slo-namespace-label", &options.namespaceLabel,
              "add namespace=\"<metadata.namespace>\" to every selector, as `relops run` does;\n"
              "false is for single-tenant Prometheus only");
  return set;
}

Format formatOf(const std::string& name) {
  if (name == "configmap") return Format::kConfigMap;
  if (name == "rulefile") return Format::kRuleFile;
  return Format::kPrometheusRule;
}

struct Source {
  std::string name;  // file path, or "<stdin>"
  std::string text;
};

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

int generate(const Options& options, const slo::OutputOptions& output, Streams streams) {
  const Format format = formatOf(options.format);
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
    if (format == Format::kRuleFile) {
      allGroups.insert(allGroups.end(), rules->groups.begin(), rules->groups.end());
      continue;
    }
    auto object = format == Format::kConfigMap ? slo::ruleConfigMapJson(objective, *rules, output)
                                               : slo::prometheusRuleJson(objective, *rules, output);
    if (!object) {
      streams.err << "relops generate: " << key << ": " << object.error().describe() << '\n';
      return kExitFailure;
    }
    objects.push_back(std::move(*object));
  }
  if (format == Format::kRuleFile) objects = {slo::ruleFileJson(allGroups)};
  print(streams.out, objects, options.output == "json");
  return kExitOk;
}

}  // namespace

int runGenerateCommand(std::span<const std::string_view> args, Streams streams) {
  Options options;
  FlagSet set = generateFlags(options);
  if (const auto exit = set.parseOrExit(args, streams, kIntro, kExitCodes)) return *exit;
  slo::OutputOptions output;
  for (const std::string& label : options.labels) {
    const size_t equals = label.find('=');
    if (equals == 0 || equals == std::string::npos) {
      return set.usageError(streams.err, set.error("-l must be KEY=VALUE, got \"" + label + "\""));
    }
    output.labels[label.substr(0, equals)] = label.substr(equals + 1);
  }
  try {
    return generate(options, output, streams);
  } catch (const std::exception& error) {
    // Never a crash: whatever slipped past the parsers is reported as bad input.
    streams.err << "relops generate: " << error.what() << '\n';
    return kExitFailure;
  }
}

}  // namespace relops::cli
