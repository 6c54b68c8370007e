#include "operator/cli/flags.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <optional>
#include <ostream>
#include <stdexcept>

#include "operator/cli/streams.h"

namespace relops::cli {

using base::Error;
using base::ErrorKind;

namespace {

Error configError(const std::string& message) { return Error(ErrorKind::kConfig, message); }

template <typename Number>
base::Result<Number> parseNumber(std::string_view text) {
  Number value{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return configError("\"" + std::string(text) + "\" is not a number");
  }
  return value;
}

base::Result<bool> parseBool(std::string_view text) {
  if (text == "true" || text == "1") return true;
  if (text == "false" || text == "0") return false;
  return configError("\"" + std::string(text) + "\" is not true or false");
}

// A setter that stores what `parse` makes of the value, or fails with its error.
template <typename Value, typename Parse>
std::function<base::Result<void>(std::string_view)> storeParsed(Value* target, Parse parse) {
  return [target, parse](std::string_view text) -> base::Result<void> {
    auto value = parse(text);
    if (!value.ok()) return std::move(value).error();
    *target = *value;
    return base::Ok{};
  };
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
  return configError("\"" + std::string(text) +
                     "\" is not a duration such as 500ms, 15s, 2m or 1h");
}

std::string joinAlternatives(std::span<const std::string> values) {
  std::string list;
  for (size_t i = 0; i < values.size(); ++i) {
    list += (i == 0 ? "" : i + 1 == values.size() ? " or " : ", ") + values[i];
  }
  return list;
}

FlagSet::Flag& FlagSet::Flag::shorthand(char letter) {
  shorthand_ = letter;
  return *this;
}

FlagSet::Flag& FlagSet::Flag::valueName(std::string name) {
  valueName_ = std::move(name);
  return *this;
}

FlagSet::Flag& FlagSet::Flag::required() {
  required_ = true;
  return *this;
}

FlagSet::Flag& FlagSet::add(std::string name, std::string help, std::string defaultValue,
                            std::function<base::Result<void>(std::string_view)> set) {
  // A programming error, caught by any test that builds the set (pflag panics likewise).
  if (find(name) != nullptr) throw std::logic_error(command_ + ": flag redefined: --" + name);
  Flag& flag = flags_.emplace_back();
  flag.name_ = std::move(name);
  flag.help_ = std::move(help);
  flag.defaultValue_ = std::move(defaultValue);
  flag.set_ = std::move(set);
  return flag;
}

FlagSet::Flag& FlagSet::addString(std::string name, std::string* target, std::string help) {
  return add(std::move(name), std::move(help), *target, [target](std::string_view v) {
    *target = std::string(v);
    return base::Result<void>();
  });
}

FlagSet::Flag& FlagSet::addEnum(std::string name, std::string* target,
                                std::vector<std::string> allowed, std::string help) {
  std::string valueName;
  for (const std::string& value : allowed) valueName += (valueName.empty() ? "" : "|") + value;
  auto parse = [allowed = std::move(allowed)](std::string_view v) -> base::Result<std::string> {
    if (std::find(allowed.begin(), allowed.end(), v) == allowed.end()) {
      return configError("must be " + joinAlternatives(allowed) + ", got \"" + std::string(v) +
                         "\"");
    }
    return std::string(v);
  };
  return add(std::move(name), std::move(help), *target, storeParsed(target, std::move(parse)))
      .valueName(std::move(valueName));
}

FlagSet::Flag& FlagSet::addStrings(std::string name, std::vector<std::string>* target,
                                   std::string help) {
  return add(std::move(name), std::move(help), "", [target](std::string_view v) {
    size_t start = 0;
    while (start <= v.size()) {
      const size_t comma = v.find(',', start);
      const std::string_view part =
          v.substr(start, comma == std::string_view::npos ? v.npos : comma - start);
      if (!part.empty()) target->emplace_back(part);
      if (comma == std::string_view::npos) break;
      start = comma + 1;
    }
    return base::Result<void>();
  });
}

FlagSet::Flag& FlagSet::addStringArray(std::string name, std::vector<std::string>* target,
                                       std::string help) {
  return add(std::move(name), std::move(help), "",
             [target](std::string_view v) -> base::Result<void> {
               if (v.empty()) return configError("must not be empty");
               target->emplace_back(v);
               return base::Ok{};
             });
}

FlagSet::Flag& FlagSet::addBool(std::string name, bool* target, std::string help) {
  Flag& flag = add(std::move(name), std::move(help), *target ? "true" : "false",
                   storeParsed(target, parseBool));
  flag.isBool_ = true;
  return flag;
}

FlagSet::Flag& FlagSet::addInt(std::string name, int* target, std::string help) {
  return add(std::move(name), std::move(help), std::to_string(*target),
             storeParsed(target, parseNumber<int>));
}

FlagSet::Flag& FlagSet::addDouble(std::string name, double* target, std::string help) {
  std::string shown = std::to_string(*target);
  shown.erase(shown.find_last_not_of('0') + 1);
  if (shown.ends_with('.')) shown.pop_back();
  return add(std::move(name), std::move(help), std::move(shown),
             storeParsed(target, parseNumber<double>));
}

FlagSet::Flag& FlagSet::addDuration(std::string name, std::chrono::milliseconds* target,
                                    std::string help) {
  const auto ms = target->count();
  return add(std::move(name), std::move(help),
             ms % 1000 == 0 ? std::to_string(ms / 1000) + "s" : std::to_string(ms) + "ms",
             storeParsed(target, parseDuration));
}

FlagSet::Flag& FlagSet::addPositional(std::string name, std::string* target, std::string help) {
  Flag& flag = addString(std::move(name), target, std::move(help));
  flag.positional_ = true;
  return flag;
}

FlagSet::Flag* FlagSet::find(std::string_view name) {
  for (Flag& flag : flags_) {
    if (!flag.positional_ && flag.name_ == name) return &flag;
  }
  return nullptr;
}

FlagSet::Flag* FlagSet::findShorthand(char letter) {
  for (Flag& flag : flags_) {
    if (!flag.positional_ && flag.shorthand_ == letter) return &flag;
  }
  return nullptr;
}

base::Error FlagSet::error(const std::string& problem) const {
  return configError(command_ + ": " + problem);
}

std::optional<int> FlagSet::parseOrExit(std::span<const std::string_view> args, Streams streams,
                                        std::string_view intro, std::string_view epilogue) {
  if (base::Result<void> parsed = parse(args); !parsed.ok()) {
    return usageError(streams.err, parsed.error());
  }
  if (!help_) return std::nullopt;
  streams.out << intro << '\n';
  printUsage(streams.out);
  streams.out << epilogue;
  return kExitOk;
}

int FlagSet::usageError(std::ostream& err, const base::Error& error) const {
  err << error.message() << "\nRun '" << command_ << " --help' for usage.\n";
  return kExitUsage;
}

base::Result<void> FlagSet::set(Flag& flag, std::string_view typed, std::string_view value) {
  if (base::Result<void> set = flag.set_(value); !set.ok()) {
    // "--format must be ..." reads as one sentence; other messages follow a colon.
    const std::string& message = set.error().message();
    return error(std::string(typed) + (message.starts_with("must ") ? " " : ": ") + message);
  }
  flag.given_ = flag.given_ || flag.isBool_ || flag.positional_ || !value.empty();
  return base::Ok{};
}

base::Result<void> FlagSet::setPositional(std::string_view arg) {
  for (Flag& flag : flags_) {
    if (flag.positional_ && !flag.given_) return set(flag, flag.name_, arg);
  }
  return error("unexpected argument \"" + std::string(arg) + "\"");
}

base::Result<void> FlagSet::checkRequired() const {
  for (const Flag& flag : flags_) {
    if (!flag.required_ || flag.given_) continue;
    if (flag.positional_) return error(flag.name_ + " is required");
    const std::string name =
        flag.shorthand_ != 0 ? std::string("-") + flag.shorthand_ : "--" + flag.name_;
    return error(name + " " + flag.valueName_ + " is required");
  }
  return base::Ok{};
}

base::Result<void> FlagSet::parse(std::span<const std::string_view> args) {
  help_ = false;
  for (Flag& flag : flags_) flag.given_ = false;
  bool flagsEnded = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string_view arg = args[i];
    if (flagsEnded || arg == "-" || !arg.starts_with("-")) {
      if (base::Result<void> set = setPositional(arg); !set.ok()) return set;
      continue;
    }
    if (arg == "--") {
      flagsEnded = true;
      continue;
    }
    if (arg == "--help" || arg == "-h") {
      help_ = true;
      continue;
    }
    // --name[=value] or -x[=value], -xvalue; `typed` is how errors name the flag.
    Flag* flag = nullptr;
    std::string_view typed;
    std::optional<std::string_view> value;
    if (arg.starts_with("--")) {
      const size_t equals = arg.find('=');
      typed = arg.substr(0, equals);
      if (equals != std::string_view::npos) value = arg.substr(equals + 1);
      flag = find(typed.substr(2));
    } else {
      typed = arg.substr(0, 2);
      flag = findShorthand(arg[1]);
      if (arg.size() > 2) {
        value = arg.substr(arg[2] == '=' ? 3 : 2);
        if (flag != nullptr && flag->isBool_ && arg[2] != '=') flag = nullptr;
      }
    }
    if (flag == nullptr) {
      return error("unknown flag " + std::string(value ? arg : typed));
    }
    if (!value) {
      if (flag->isBool_) {
        value = "true";
      } else if (i + 1 < args.size()) {
        value = args[++i];
      } else {
        return error("flag " + std::string(typed) + " needs a value");
      }
    }
    if (base::Result<void> set = this->set(*flag, typed, *value); !set.ok()) return set;
  }
  if (help_) return base::Ok{};
  return checkRequired();
}

void FlagSet::printUsage(std::ostream& out) const {
  const auto printHelp = [&out](const Flag& flag) {
    out << "\n        ";
    for (const char c : flag.help_) {
      out << c;
      if (c == '\n') out << "        ";
    }
    if (!flag.defaultValue_.empty()) out << " (default " << flag.defaultValue_ << ")";
    out << '\n';
  };
  bool anyPositional = false;
  for (const Flag& flag : flags_) {
    if (!flag.positional_) continue;
    if (!anyPositional) out << "Arguments:\n";
    anyPositional = true;
    out << "  " << flag.name_;
    printHelp(flag);
  }
  if (anyPositional) out << '\n';
  // Long names line up whether or not a flag has a shorthand, as in kubectl's usage.
  const bool anyShorthand = std::any_of(flags_.begin(), flags_.end(),
                                        [](const Flag& flag) { return flag.shorthand_ != 0; });
  out << "Flags:\n";
  for (const Flag& flag : flags_) {
    if (flag.positional_) continue;
    out << "  ";
    if (flag.shorthand_ != 0) {
      out << '-' << flag.shorthand_ << ", ";
    } else if (anyShorthand) {
      out << "    ";
    }
    out << "--" << flag.name_;
    if (!flag.isBool_) out << ' ' << flag.valueName_;
    printHelp(flag);
  }
}

}  // namespace relops::cli
