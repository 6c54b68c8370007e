// The `relops` command line: a table of subcommands, each a function of its
// arguments and output streams, so every command is testable without a process.
#pragma once

#include <functional>
#include <iosfwd>
#include <span>
#include <string_view>
#include <vector>

#include "operator/cli/streams.h"

namespace relops::cli {

struct Command {
  std::string_view name;
  std::string_view summary;
  std::function<int(std::span<const std::string_view> args, Streams streams)> run;
};

// A command's own subcommands, as `relops oncall who`.
struct Subcommand {
  std::string_view name;
  std::function<int(std::span<const std::string_view> args, Streams streams)> run;
};

// Runs the subcommand args[0] names; `help`, --help or -h instead prints usage to out.
int runSubcommand(std::string_view command, std::string_view usage,
                  std::span<const Subcommand> subcommands, std::span<const std::string_view> args,
                  Streams streams);

// The subcommands `relops` knows, in the order `--help` lists them.
const std::vector<Command>& commands();

// Runs `relops` with `args` (without argv[0]) and returns the exit code.
int run(std::span<const std::string_view> args, Streams streams);

}  // namespace relops::cli
