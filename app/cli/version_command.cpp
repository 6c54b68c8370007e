#include "app/cli/version_command.h"

#include <ostream>
#include <string>

#include "operator/cli/flags.h"
#include "relops/build_info.h"

namespace relops::cli {

int runVersionCommand(std::span<const std::string_view> args, Streams streams) {
  std::string output;
  FlagSet set("relops version");
  set.addEnum("output", &output, {"json"}, "print JSON instead of one line").shorthand('o');
  if (const auto exit = set.parseOrExit(args, streams,
                                        "Print the version of relops and how it was built.\n\n"
                                        "Usage:\n  relops version [-o json]\n")) {
    return *exit;
  }
  const bool json = output == "json";
  if (json) {
    streams.out << R"({"version":")" << build_info::kVersion << R"(","compiler":")"
                << build_info::kCompiler << R"(","buildType":")" << build_info::kBuildType
                << "\"}\n";
  } else {
    streams.out << "relops " << build_info::kVersion << " (" << build_info::kCompiler << ", "
                << build_info::kBuildType << ")\n";
  }
  return kExitOk;
}

}  // namespace relops::cli
