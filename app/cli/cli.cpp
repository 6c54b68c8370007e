#include "app/cli/cli.h"

#include <algorithm>
#include <ostream>
#include <string>
#include <vector>

#include "app/cli/drill_command.h"
#include "app/cli/generate_command.h"
#include "app/cli/oncall_command.h"
#include "app/cli/report_command.h"
#include "app/cli/run_command.h"
#include "app/cli/version_command.h"
#include "operator/cli/flags.h"

namespace relops::cli {
namespace {

bool isHelpFlag(std::string_view arg) { return arg == "--help" || arg == "-h" || arg == "help"; }

void printUsage(std::ostream& out) {
  out << "relops turns reliability policy into Kubernetes objects: service level objectives,\n"
         "error budget policies, on-call rotations and disaster-recovery drills.\n\n"
         "Usage:\n  relops <command> [flags]\n\nCommands:\n";
  for (const Command& command : commands()) {
    out << "  " << command.name << std::string(12 - std::min<size_t>(command.name.size(), 11), ' ')
        << command.summary << '\n';
  }
  out << "\nRun 'relops <command> --help' for a command's flags.\n";
}

}  // namespace

const std::vector<Command>& commands() {
  static const std::vector<Command> kCommands = {
      {"run", "Run the operator against a Kubernetes cluster", runRunCommand},
      {"version", "Print the version of relops and how it was built", runVersionCommand},
      {"generate", "Prometheus rules of ServiceLevelObjective files, offline", runGenerateCommand},
      {"oncall", "Who is on call, and the schedule of an OnCallRotation file", runOncallCommand},
      {"drill", "Next runs of a DRDrill file; the audit record of its runs", runDrillCommand},
      {"report", "The reliability report of a period: Markdown, JSON or an HTML page",
       runReportCommand},
  };
  return kCommands;
}

int run(std::span<const std::string_view> args, Streams streams) {
  if (args.empty()) {
    printUsage(streams.err);
    return kExitUsage;
  }
  if (isHelpFlag(args.front())) {
    printUsage(streams.out);
    return kExitOk;
  }
  const auto& known = commands();
  const auto command = std::find_if(known.begin(), known.end(),
                                    [&](const Command& c) { return c.name == args.front(); });
  if (command == known.end()) {
    streams.err << "relops: unknown command \"" << args.front() << "\"\n"
                << "Run 'relops --help' for the list of commands.\n";
    return kExitUsage;
  }
  return command->run(args.subspan(1), streams);
}

int runSubcommand(std::string_view command, std::string_view usage,
                  std::span<const Subcommand> subcommands, std::span<const std::string_view> args,
                  Streams streams) {
  if (!args.empty() && isHelpFlag(args.front())) {
    streams.out << usage;
    return kExitOk;
  }
  std::vector<std::string> choices;
  for (const Subcommand& subcommand : subcommands) choices.emplace_back(subcommand.name);
  const std::string names = joinAlternatives(choices);
  if (args.empty()) {
    streams.err << command << ": a subcommand is required: " << names;
  } else {
    const auto subcommand =
        std::find_if(subcommands.begin(), subcommands.end(),
                     [&](const Subcommand& s) { return s.name == args.front(); });
    if (subcommand != subcommands.end()) return subcommand->run(args.subspan(1), streams);
    streams.err << command << ": unknown subcommand \"" << args.front() << "\" (want " << names
                << ")";
  }
  streams.err << "\nRun '" << command << " --help' for usage.\n";
  return kExitUsage;
}

}  // namespace relops::cli
