#include "app/cli/flags.h"

#include <charconv>
#include <chrono>
#include <ostream>

namespace relops::cli {

using base::Error;
using base::ErrorKind;

namespace {

Error usageError(const std::string& message) { return Error(ErrorKind::kConfig, message); }

template <typename Number>
base::Result<Number> parseNumber(std::string_view text) {
  Number value{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return usageError("\"" + std::string(text) + "\" is not a number");
  }
  return value;
}

}  // namespace

base::Result<std::chrono::milliseconds> parseDuration(std::string_view text) {
  using std::chrono::milliseconds;
  struct Unit {
    std::string_view suffix;
    double millis;
  };
  // Longest suffixes first so "ms" is not read as "m".
  static constexpr Unit kUnits[] = {{"ms", 1}, {"s", 1000}, {"m", 60'000}, {"h", 3'600'000}};
  for (const Unit& unit : kUnits) {
    if (text.size() > unit.suffix.size() && text.ends_with(unit.suffix)) {
      auto number = parseNumber<double>(text.substr(0, text.size() - unit.suffix.size()));
      if (!number.ok() || *number < 0) break;
      return milliseconds(static_cast<int64_t>(*number * unit.millis));
    }
  }
  return usageError("\"" + std::string(text) + "\" is not a duration such as 500ms, 15s, 2m or 1h");
}

void FlagSet::addString(std::string name, std::string* target, std::string help) {
  flags_.push_back({std::move(name), std::move(help), *target, false, [target](std::string_view v) {
                      *target = std::string(v);
                      return base::Result<void>();
                    }});
}

void FlagSet::addStrings(std::string name, std::vector<std::string>* target, std::string help) {
  flags_.push_back({std::move(name), std::move(help), "", false, [target](std::string_view v) {
                      // Repeatable, and comma-separated values are accepted too.
                      size_t start = 0;
                      while (start <= v.size()) {
                        const size_t comma = v.find(',', start);
                        const std::string_view part = v.substr(
                            start, comma == std::string_view::npos ? v.npos : comma - start);
                        if (!part.empty()) target->emplace_back(part);
                        if (comma == std::string_view::npos) break;
                        start = comma + 1;
                      }
                      return base::Result<void>();
                    }});
}

void FlagSet::addBool(std::string name, bool* target, std::string help) {
  flags_.push_back({std::move(name), std::move(help), *target ? "true" : "false", true,
                    [target](std::string_view v) -> base::Result<void> {
                      if (v == "true" || v == "1") {
                        *target = true;
                      } else if (v == "false" || v == "0") {
                        *target = false;
                      } else {
                        return usageError("\"" + std::string(v) + "\" is not true or false");
                      }
                      return base::Ok{};
                    }});
}

void FlagSet::addInt(std::string name, int* target, std::string help) {
  flags_.push_back({std::move(name), std::move(help), std::to_string(*target), false,
                    [target](std::string_view v) -> base::Result<void> {
                      auto number = parseNumber<int>(v);
                      if (!number.ok()) return std::move(number).error();
                      *target = *number;
                      return base::Ok{};
                    }});
}

void FlagSet::addDouble(std::string name, double* target, std::string help) {
  std::string shown = std::to_string(*target);
  shown.erase(shown.find_last_not_of('0') + 1);
  if (shown.ends_with('.')) shown.pop_back();
  flags_.push_back({std::move(name), std::move(help), shown, false,
                    [target](std::string_view v) -> base::Result<void> {
                      auto number = parseNumber<double>(v);
                      if (!number.ok()) return std::move(number).error();
                      *target = *number;
                      return base::Ok{};
                    }});
}

void FlagSet::addDuration(std::string name, std::chrono::milliseconds* target, std::string help) {
  const auto ms = target->count();
  std::string shown = ms % 1000 == 0 ? std::to_string(ms / 1000) + "s" : std::to_string(ms) + "ms";
  flags_.push_back({std::move(name), std::move(help), shown, false,
                    [target](std::string_view v) -> base::Result<void> {
                      auto duration = parseDuration(v);
                      if (!duration.ok()) return std::move(duration).error();
                      *target = *duration;
                      return base::Ok{};
                    }});
}

const FlagSet::Flag* FlagSet::find(std::string_view name) const {
  for (const Flag& flag : flags_) {
    if (flag.name == name) return &flag;
  }
  return nullptr;
}

base::Result<void> FlagSet::parse(std::span<const std::string_view> args) {
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (arg == "--help" || arg == "-h") {
      help_ = true;
      continue;
    }
    if (!arg.starts_with("--")) {
      return usageError(command_ + ": unexpected argument \"" + std::string(arg) + "\"");
    }
    arg.remove_prefix(2);
    const size_t equals = arg.find('=');
    const std::string_view name = arg.substr(0, equals);
    const Flag* flag = find(name);
    if (flag == nullptr) {
      return usageError(command_ + ": unknown flag --" + std::string(name));
    }
    std::string_view value;
    if (equals != std::string_view::npos) {
      value = arg.substr(equals + 1);
    } else if (flag->isBool) {
      value = "true";
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      return usageError(command_ + ": flag --" + std::string(name) + " needs a value");
    }
    if (base::Result<void> set = flag->set(value); !set.ok()) {
      return usageError(command_ + ": --" + std::string(name) + ": " + set.error().message());
    }
  }
  return base::Ok{};
}

void FlagSet::printUsage(std::ostream& out) const {
  out << "Flags:\n";
  for (const Flag& flag : flags_) {
    out << "  --" << flag.name;
    if (!flag.isBool) out << " value";
    out << "\n        " << flag.help;
    if (!flag.defaultValue.empty()) out << " (default " << flag.defaultValue << ")";
    out << '\n';
  }
}

}  // namespace relops::cli
