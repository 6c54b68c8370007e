// A small flag parser for relops's subcommands, with the shapes kubebuilder
// operators use: --name=value, --name value, boolean --name / --name=false,
// and repeatable flags.
#pragma once

#include <functional>
#include <iosfwd>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "operator/base/result.h"

namespace relops::cli {

class FlagSet {
 public:
  explicit FlagSet(std::string command) : command_(std::move(command)) {}

  void addString(std::string name, std::string* target, std::string help);
  void addStrings(std::string name, std::vector<std::string>* target, std::string help);
  void addBool(std::string name, bool* target, std::string help);
  void addInt(std::string name, int* target, std::string help);
  void addDouble(std::string name, double* target, std::string help);
  // A duration such as "15s", "500ms", "2m", "1h".
  void addDuration(std::string name, std::chrono::milliseconds* target, std::string help);

  // Parses args; --help sets helpRequested(). Errors name the flag.
  base::Result<void> parse(std::span<const std::string_view> args);
  bool helpRequested() const { return help_; }
  void printUsage(std::ostream& out) const;

 private:
  struct Flag {
    std::string name;
    std::string help;
    std::string defaultValue;
    bool isBool = false;
    std::function<base::Result<void>(std::string_view)> set;
  };
  const Flag* find(std::string_view name) const;

  std::string command_;
  std::vector<Flag> flags_;
  bool help_ = false;
};

base::Result<std::chrono::milliseconds> parseDuration(std::string_view text);

}  // namespace relops::cli
