// The `relops` command line: a table of subcommands, each a function of its
// arguments and output streams, so every command is testable without a process.
#pragma once

#include <functional>
#include <iosfwd>
#include <span>
#include <string_view>
#include <vector>

namespace relops::cli {

// Process exit codes, following sysexits(3) where one fits.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 64;

struct Streams {
  std::ostream& out;
  std::ostream& err;
};

struct Command {
  std::string_view name;
  std::string_view summary;
  std::function<int(std::span<const std::string_view> args, Streams streams)> run;
};

// The subcommands `relops` knows, in the order `--help` lists them.
const std::vector<Command>& commands();

// Runs `relops` with `args` (without argv[0]) and returns the exit code.
int run(std::span<const std::string_view> args, Streams streams);

}  // namespace relops::cli
