// A small flag parser for relops's subcommands, with the shapes kubebuilder
// operators and kubectl use: --name=value, --name value, a one-letter shorthand
// (-f value, -f=value, -fvalue), boolean --name / --name=false, repeatable
// flags, and positional arguments.
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <iosfwd>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "operator/base/result.h"
#include "operator/cli/streams.h"

namespace relops::cli {

class FlagSet {
 public:
  // One flag or positional argument; the add* calls return it so that options chain:
  //   flags.addString("filename", &file, "...").shorthand('f').valueName("FILE").required();
  class Flag {
   public:
    Flag& shorthand(char letter);
    // The placeholder usage shows for the value ("value" unless set).
    Flag& valueName(std::string name);
    // parse() fails unless the flag is given a non-empty value (or the argument is present).
    Flag& required();

   private:
    friend class FlagSet;
    std::string name_;
    char shorthand_ = 0;
    std::string valueName_ = "value";
    std::string help_;
    std::string defaultValue_;
    bool isBool_ = false;
    bool positional_ = false;
    bool required_ = false;
    bool given_ = false;
    std::function<base::Result<void>(std::string_view)> set_;
  };

  explicit FlagSet(std::string command) : command_(std::move(command)) {}

  Flag& addString(std::string name, std::string* target, std::string help);
  // One of `allowed`; anything else fails with "--name must be a, b or c, got ...".
  Flag& addEnum(std::string name, std::string* target, std::vector<std::string> allowed,
                std::string help);
  // Repeatable, and comma-separated values are split (pflag's StringSlice).
  Flag& addStrings(std::string name, std::vector<std::string>* target, std::string help);
  // Repeatable, each value taken whole (pflag's StringArray): for paths and KEY=VALUE pairs.
  Flag& addStringArray(std::string name, std::vector<std::string>* target, std::string help);
  Flag& addBool(std::string name, bool* target, std::string help);
  Flag& addInt(std::string name, int* target, std::string help);
  Flag& addDouble(std::string name, double* target, std::string help);
  // A duration such as "15s", "500ms", "2m", "1h".
  Flag& addDuration(std::string name, std::chrono::milliseconds* target, std::string help);
  // The next argument that is not a flag, in the order added; optional unless required().
  Flag& addPositional(std::string name, std::string* target, std::string help);

  // Parses args; --help or -h sets helpRequested(). Errors start with the command and name
  // the flag as it was typed; after "--" every argument is positional.
  base::Result<void> parse(std::span<const std::string_view> args);
  bool helpRequested() const { return help_; }
  void printUsage(std::ostream& out) const;
  // parse() for a command: on --help prints intro, a blank line, the flags and epilogue to out and
  // returns kExitOk; on a usage error prints it to err and returns kExitUsage; else nullopt.
  std::optional<int> parseOrExit(std::span<const std::string_view> args, Streams streams,
                                 std::string_view intro, std::string_view epilogue = {});
  // A usage error of this command, for checks made after parse().
  base::Error error(const std::string& problem) const;
  // Prints a usage error and where to find the usage; returns kExitUsage.
  int usageError(std::ostream& err, const base::Error& error) const;

 private:
  Flag& add(std::string name, std::string help, std::string defaultValue,
            std::function<base::Result<void>(std::string_view)> set);
  Flag* find(std::string_view name);
  Flag* findShorthand(char letter);
  base::Result<void> set(Flag& flag, std::string_view typed, std::string_view value);
  base::Result<void> setPositional(std::string_view arg);
  base::Result<void> checkRequired() const;

  std::string command_;
  // A deque: add* hands out references that must survive later additions.
  std::deque<Flag> flags_;
  bool help_ = false;
};

base::Result<std::chrono::milliseconds> parseDuration(std::string_view text);

// "a", "a or b", "a, b or c": the choices an error message offers.
std::string joinAlternatives(std::span<const std::string> values);

}  // namespace relops::cli
