#include "app/cli/drill_command.h"

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

#include "app/cli/input.h"
#include "controllers/common/cron.h"
#include "controllers/drill/drill_types.h"
#include "controllers/drill/report.h"
#include "controllers/drill/scheduling.h"
#include "operator/cli/flags.h"
#include "operator/kube/client.h"

namespace relops::cli {
namespace {

using nlohmann::json;

constexpr std::string_view kUsage =
    "Disaster-recovery drills.\n\n"
    "Usage:\n"
    "  relops drill next -f FILE [-n COUNT] [--from TIME] [--format table|json]\n"
    "  relops drill report -n NAMESPACE [NAME] [--format md|json] [--kubeconfig FILE]\n"
    "                      [--context NAME]\n\n"
    "next prints when a DRDrill file's schedule fires next, offline, as the operator\n"
    "computes it (in the drill's timeZone, with its DST rules), with the name each run gets.\n"
    "FILE is a DRDrill in YAML or JSON ('-' reads stdin). COUNT defaults to 5 (at most\n"
    "1000). TIME is RFC 3339 (2026-03-08T09:00:00Z, ...-05:00) or 'now' (the default).\n\n"
    "report reads the DRDrills of a namespace (or one) and their retained runs from the\n"
    "cluster and renders them as an audit record: what ran, when, against which backup or\n"
    "target, measured RTO and RPO against the objectives, verdict and cleanup. The client\n"
    "configuration is found as kubectl finds it (--kubeconfig, KUBECONFIG, in-cluster,\n"
    "~/.kube/config).\n";

struct Loaded {
  std::string name;
  drill::DrillSpec spec;
};

base::Result<Loaded> loadDrill(const std::string& file) {
  auto documents = readDocuments(file);
  if (!documents) return std::move(documents).error();
  for (const json& object : *documents) {
    if (!object.is_object() || object.value("kind", "") != drill::kDrillKind) continue;
    if (const std::string apiVersion = object.value("apiVersion", "");
        apiVersion != drill::kApiVersion) {
      return base::Error(base::ErrorKind::kConfig, "apiVersion: must be " +
                                                       std::string(drill::kApiVersion) +
                                                       ", got \"" + apiVersion + "\"");
    }
    Loaded loaded;
    if (const auto metadata = object.find("metadata");
        metadata != object.end() && metadata->is_object()) {
      loaded.name = metadata->value("name", "");
    }
    if (!object.contains("spec")) {
      return base::Error(base::ErrorKind::kConfig, "spec: required field is missing");
    }
    auto spec = drill::parseDrillSpec(object["spec"]);
    if (!spec) return std::move(spec).error();
    loaded.spec = std::move(spec).value();
    return loaded;
  }
  return base::Error(base::ErrorKind::kConfig, "no object of kind DRDrill in it");
}

struct NextOptions {
  std::string file;
  int count = 5;
  std::string from = "now";
  std::string format = "table";
};

int runNext(std::span<const std::string_view> args, Streams streams) {
  NextOptions options;
  FlagSet set("relops drill next");
  set.addString("filename", &options.file, "the DRDrill, YAML or JSON; '-' reads stdin")
      .shorthand('f')
      .valueName("FILE")
      .required();
  set.addInt("count", &options.count, "how many runs to list, 1 to 1000")
      .shorthand('n')
      .valueName("COUNT");
  set.addString("from", &options.from, "list the runs after this time").valueName("TIME");
  set.addEnum("format", &options.format, {"table", "json"}, "how the runs are printed")
      .shorthand('o');
  if (const auto exit = set.parseOrExit(args, streams, kUsage)) return *exit;
  if (options.count < 1 || options.count > 1000) {
    return set.usageError(streams.err, set.error("-n must be a number from 1 to 1000, got \"" +
                                                 std::to_string(options.count) + "\""));
  }
  drill::Instant from;
  if (options.from == "now") {
    // The CLI is an I/O boundary: the one place where the wall clock is read.
    from = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  } else if (auto parsed = drill::parseTime(options.from)) {
    from = *parsed;
  } else {
    streams.err << "relops drill next: --from: want RFC 3339 with an offset or 'now', got \""
                << options.from << "\"\n";
    return kExitUsage;
  }
  const std::string where = options.file == "-" ? "stdin" : options.file;
  auto loaded = loadDrill(options.file);
  if (!loaded) {
    streams.err << "relops drill: " << where << ": " << loaded.error().describe() << "\n";
    return kExitFailure;
  }
  auto cron = drill::CronSchedule::compile(loaded->spec.schedule, loaded->spec.timeZone);
  if (!cron) {
    const std::string field =
        cron.error().message().starts_with("unknown time zone") ? "spec.timeZone" : "spec.schedule";
    streams.err << "relops drill: " << where << ": " << field << ": " << cron.error().describe()
                << "\n";
    return kExitFailure;
  }
  const std::string name = loaded->name.empty() ? "drill" : loaded->name;
  json fires = json::array();
  drill::Instant t = from;
  for (int i = 0; i < options.count; ++i) {
    const auto fire = cron->next(t);
    if (!fire) break;
    fires.push_back({{"time", common::formatRfc3339(*fire)},
                     {"local", cron->formatLocal(*fire)},
                     {"run", drill::scheduledRunName(name, *fire)}});
    t = *fire;
  }
  if (options.format == "json") {
    streams.out << json{{"drill", name},
                        {"schedule", loaded->spec.schedule},
                        {"timeZone", loaded->spec.timeZone},
                        {"suspend", loaded->spec.suspend},
                        {"fires", fires}}
                       .dump(2)
                << "\n";
    return kExitOk;
  }
  streams.out << "Drill:     " << name << "\nSchedule:  " << loaded->spec.schedule << " ("
              << loaded->spec.timeZone << ")" << (loaded->spec.suspend ? ", suspended" : "")
              << "\n\n";
  streams.out << "LOCAL                   UTC                    RUN\n";
  for (const json& fire : fires) {
    std::string local = fire["local"].get<std::string>();
    local.resize(std::max<size_t>(local.size() + 1, 24), ' ');
    std::string utc = fire["time"].get<std::string>();
    utc.resize(23, ' ');
    streams.out << local << utc << fire["run"].get<std::string>() << "\n";
  }
  if (fires.empty())
    streams.out << "(no fire within " << drill::CronSchedule::kSearchYears << " years)\n";
  return kExitOk;
}

struct ReportOptions {
  std::string namespace_;
  std::string name;
  std::string format = "md";
  std::string kubeconfig;
  std::string context;
};

const kube::ResourceRef kDrills{"relops.dev", "v1alpha1", "drdrills", "DRDrill", true};
const kube::ResourceRef kRuns{"relops.dev", "v1alpha1", "drdrillruns", "DRDrillRun", true};

int runReport(std::span<const std::string_view> args, Streams streams) {
  ReportOptions options;
  FlagSet set("relops drill report");
  set.addString("namespace", &options.namespace_, "the namespace of the drills")
      .shorthand('n')
      .valueName("NAMESPACE")
      .required();
  set.addPositional("NAME", &options.name, "one drill; all of the namespace's when omitted");
  set.addEnum("format", &options.format, {"md", "json"}, "Markdown or JSON").shorthand('o');
  set.addString("kubeconfig", &options.kubeconfig, "the kubeconfig to use").valueName("FILE");
  set.addString("context", &options.context, "the kubeconfig context to use").valueName("NAME");
  if (const auto exit = set.parseOrExit(args, streams, kUsage)) return *exit;
  auto client = connectToCluster(options.kubeconfig, options.context);
  if (!client.ok()) {
    streams.err << "relops drill report: " << client.error().describe() << "\n";
    return kExitFailure;
  }
  drill::ReportInput input;
  input.namespace_ = options.namespace_;
  // The CLI is an I/O boundary: the one place where the wall clock is read.
  input.generatedAt = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  if (options.name.empty()) {
    auto drills = kube::listAll(**client, kDrills, options.namespace_);
    if (!drills.ok()) {
      streams.err << "relops drill report: list DRDrills: " << drills.error().describe() << "\n";
      return kExitFailure;
    }
    input.drills = std::move(drills->items);
  } else {
    auto drill = (*client)->get(kDrills, {options.namespace_, options.name});
    if (!drill.ok()) {
      streams.err << "relops drill report: " << drill.error().describe() << "\n";
      return kExitFailure;
    }
    input.drills.push_back(std::move(*drill));
  }
  kube::ListOptions listOptions;
  listOptions.labelSelector =
      std::string(drill::kDrillLabel) + (options.name.empty() ? "" : "=" + options.name);
  auto runs = kube::listAll(**client, kRuns, options.namespace_, listOptions);
  if (!runs.ok()) {
    streams.err << "relops drill report: list DRDrillRuns: " << runs.error().describe() << "\n";
    return kExitFailure;
  }
  input.runs = std::move(runs->items);
  if (options.format == "json") {
    streams.out << drill::reportJson(input).dump(2) << "\n";
  } else {
    streams.out << drill::reportMarkdown(input);
  }
  return kExitOk;
}

}  // namespace

int runDrillCommand(std::span<const std::string_view> args, Streams streams) {
  static const Subcommand kSubcommands[] = {{"next", runNext}, {"report", runReport}};
  return runSubcommand("relops drill", kUsage, kSubcommands, args, streams);
}

}  // namespace relops::cli
