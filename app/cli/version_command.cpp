#include "app/cli/version_command.h"

#include <ostream>

#include "relops/build_info.h"

namespace relops::cli {

int runVersionCommand(std::span<const std::string_view> args, Streams streams) {
  bool json = false;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--help" || args[i] == "-h") {
      streams.out << "Print the version of relops and how it was built.\n\n"
                     "Usage:\n  relops version [-o json]\n";
      return kExitOk;
    }
    if ((args[i] == "-o" || args[i] == "--output") && i + 1 < args.size() &&
        args[i + 1] == "json") {
      json = true;
      ++i;
    } else if (args[i] == "-ojson" || args[i] == "--output=json") {
      json = true;
    } else {
      streams.err << "relops version: unexpected argument \"" << args[i] << "\"\n";
      return kExitUsage;
    }
  }
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
