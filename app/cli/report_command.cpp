#include "app/cli/report_command.h"

#include <chrono>
#include <fstream>

#include "app/cli/input.h"
#include "app/report/report.h"
#include "operator/cli/flags.h"
#include "operator/kube/client.h"

namespace relops::cli {
namespace {

using nlohmann::json;

constexpr std::string_view kUsage =
    "The reliability report of a period, as a manager reads it.\n\n"
    "Usage:\n"
    "  relops report (-n NAMESPACE | --all-namespaces) [-l SELECTOR]\n"
    "                [--period 2026-11 | 2026-Q4 | 2026-W48 | --from DATE --to DATE]\n"
    "                [--format md|json|html] [-o FILE] [--kubeconfig FILE] [--context NAME]\n\n"
    "Reads the ServiceLevelObjectives, ErrorBudgetPolicies, OnCallRotations, DRDrills,\n"
    "DRDrillRuns and ChangeWindows of a namespace (or of all) and reports, per team and per\n"
    "service: SLO\n"
    "attainment against objectives, burn episodes and their time to recover (MTTR), on-call\n"
    "load per person (business, off-hours, weekend) and coverage gaps, drills passed and RTO/\n"
    "RPO against objectives, change freezes and the freeze and maintenance windows of the\n"
    "period. A team is the label relops.dev/team, or the\n"
    "namespace. SELECTOR (a label selector) narrows every kind but the runs, which follow\n"
    "their drills. The period is in UTC; the default is the current month so far. DATE is\n"
    "2026-11-03 (midnight UTC) or RFC 3339. html is one self-contained page with charts,\n"
    "printable on A4. At most 1000 objects of each kind are read: a larger selection is\n"
    "refused; narrow it with -n or -l. The client configuration is found as kubectl finds it\n"
    "(--kubeconfig, KUBECONFIG, in-cluster, ~/.kube/config).\n";

struct Options {
  std::string namespace_;
  bool allNamespaces = false;
  std::string selector;
  std::string period;
  std::string from;
  std::string to;
  std::string format = "md";
  std::string output;
  std::string kubeconfig;
  std::string context;
};

kube::ResourceRef relopsKind(const char* plural, const char* kind) {
  return kube::ResourceRef{"relops.dev", "v1alpha1", plural, kind, true};
}

base::Result<report::Period> choosePeriod(const Options& options, report::TimePoint now) {
  if (!options.period.empty()) {
    if (!options.from.empty() || !options.to.empty()) {
      return base::Error(base::ErrorKind::kConfig, "--period excludes --from and --to");
    }
    return report::parsePeriod(options.period);
  }
  if (options.from.empty() != options.to.empty()) {
    return base::Error(base::ErrorKind::kConfig, "--from and --to go together");
  }
  if (options.from.empty()) return report::monthContaining(now);
  auto from = report::parseBound(options.from, "--from");
  if (!from) return std::move(from).error();
  auto to = report::parseBound(options.to, "--to");
  if (!to) return std::move(to).error();
  return report::periodBetween(*from, *to);
}

}  // namespace

int runReportCommand(std::span<const std::string_view> args, Streams streams) {
  Options options;
  FlagSet set("relops report");
  set.addString("namespace", &options.namespace_, "the namespace to report on")
      .shorthand('n')
      .valueName("NAMESPACE");
  set.addBool("all-namespaces", &options.allNamespaces, "report on every namespace").shorthand('A');
  set.addString("selector", &options.selector, "a label selector the objects must match")
      .shorthand('l')
      .valueName("SELECTOR");
  set.addString("period", &options.period, "a month, quarter or ISO week (UTC)")
      .valueName("PERIOD");
  set.addString("from", &options.from, "the start of the period").valueName("DATE");
  set.addString("to", &options.to, "the end of the period (exclusive)").valueName("DATE");
  set.addEnum("format", &options.format, {"md", "json", "html"}, "how the report is written");
  set.addString("output", &options.output, "write the report to FILE instead of stdout")
      .shorthand('o')
      .valueName("FILE");
  set.addString("kubeconfig", &options.kubeconfig, "the kubeconfig to use").valueName("FILE");
  set.addString("context", &options.context, "the kubeconfig context to use").valueName("NAME");
  if (const auto exit = set.parseOrExit(args, streams, kUsage)) return *exit;
  if (options.namespace_.empty() == !options.allNamespaces) {
    return set.usageError(
        streams.err, set.error("exactly one of -n NAMESPACE and --all-namespaces is required"));
  }
  // The CLI is an I/O boundary: the one place where the wall clock is read.
  const report::TimePoint now =
      std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  auto period = choosePeriod(options, now);
  if (!period) return set.usageError(streams.err, set.error(period.error().message()));

  auto client = connectToCluster(options.kubeconfig, options.context);
  if (!client.ok()) {
    streams.err << "relops report: " << client.error().describe() << "\n";
    return kExitFailure;
  }
  report::ReportInput input;
  input.scope = options.allNamespaces ? "all namespaces" : "namespace " + options.namespace_;
  if (!options.selector.empty()) input.scope += ", objects matching " + options.selector;
  input.period = *period;
  input.now = now;
  const std::string namespace_ = options.allNamespaces ? "" : options.namespace_;
  struct Kind {
    kube::ResourceRef resource;
    std::vector<json>* into;
    bool selected;  // the label selector applies
  };
  const Kind kinds[] = {
      {relopsKind("servicelevelobjectives", "ServiceLevelObjective"), &input.slos, true},
      {relopsKind("errorbudgetpolicies", "ErrorBudgetPolicy"), &input.policies, true},
      {relopsKind("oncallrotations", "OnCallRotation"), &input.rotations, true},
      {relopsKind("drdrills", "DRDrill"), &input.drills, true},
      {relopsKind("drdrillruns", "DRDrillRun"), &input.runs, false},
      {relopsKind("changewindows", "ChangeWindow"), &input.windows, true},
  };
  for (const Kind& kind : kinds) {
    auto items = listAtMost(**client, kind.resource, namespace_,
                            kind.selected ? options.selector : "", report::kMaxObjectsPerKind);
    if (!items && items.error().kind() == base::ErrorKind::kNotFound) {
      continue;  // a kind whose CRD is not installed (yet) has no objects to report
    }
    if (!items) {
      streams.err << "relops report: list " << kind.resource.kind << ": "
                  << items.error().describe() << "\n";
      return kExitFailure;
    }
    *kind.into = std::move(*items);
  }
  const report::Report built = report::buildReport(input);
  std::string text;
  if (options.format == "json") {
    text = report::renderJson(built).dump(2) + "\n";
  } else if (options.format == "html") {
    text = report::renderHtml(built);
  } else {
    text = report::renderMarkdown(built);
  }
  if (options.output.empty() || options.output == "-") {
    streams.out << text;
    return kExitOk;
  }
  std::ofstream file(options.output, std::ios::binary | std::ios::trunc);
  file << text;
  file.close();
  if (!file) {
    streams.err << "relops report: cannot write " << options.output << "\n";
    return kExitFailure;
  }
  return kExitOk;
}

}  // namespace relops::cli
