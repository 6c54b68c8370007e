#include "app/cli/oncall_command.h"

#include <algorithm>
#include <chrono>
#include <iomanip>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>

#include "app/cli/input.h"
#include "controllers/common/rfc3339.h"
#include "controllers/oncall/alertmanager_config.h"
#include "controllers/oncall/ical.h"
#include "controllers/oncall/load.h"
#include "controllers/oncall/oncall_types.h"
#include "controllers/oncall/rotation_state.h"
#include "controllers/oncall/schedule.h"
#include "operator/cli/flags.h"

namespace relops::cli {
namespace {

using nlohmann::json;
using oncall::Instant;

constexpr std::string_view kUsage =
    "Compute an OnCallRotation's schedule offline, as the operator does.\n\n"
    "Usage:\n"
    "  relops oncall who -f FILE [--at TIME]\n"
    "  relops oncall schedule -f FILE --from TIME --to TIME [--format table|json|ics]\n\n"
    "FILE is an OnCallRotation in YAML or JSON ('-' reads stdin); a status in it (as printed\n"
    "by kubectl get -o yaml) carries the rotation positions the operator keeps.\n"
    "TIME is RFC 3339 with an offset (2026-03-08T09:00:00-05:00, ...Z), a local time in the\n"
    "rotation's zone (2026-03-08T09:00:00), or 'now'.\n";

struct Loaded {
  json object;
  oncall::Spec spec;
  oncall::Status status;
  std::string name;
  std::string namespace_;
};

base::Result<Loaded> loadRotation(const std::string& file) {
  Loaded loaded;
  auto documents = readDocuments(file);
  if (!documents.ok()) return std::move(documents).error();
  const auto rotation = std::find_if(documents->begin(), documents->end(), [](const json& object) {
    return object.is_object() && object.value("kind", "") == oncall::kKind;
  });
  if (rotation == documents->end()) {
    return base::Error(base::ErrorKind::kConfig, "no object of kind OnCallRotation in it");
  }
  loaded.object = std::move(*rotation);
  if (const std::string apiVersion = loaded.object.value("apiVersion", "");
      apiVersion != oncall::kApiVersion) {
    return base::Error(
        base::ErrorKind::kConfig,
        "apiVersion: must be " + std::string(oncall::kApiVersion) + ", got \"" + apiVersion + "\"");
  }
  if (const auto metadata = loaded.object.find("metadata");
      metadata != loaded.object.end() && metadata->is_object()) {
    const auto text = [&](const char* key) {
      const auto it = metadata->find(key);
      return it != metadata->end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    loaded.name = text("name");
    loaded.namespace_ = text("namespace");
  }
  const auto spec = loaded.object.find("spec");
  if (spec == loaded.object.end()) {
    return base::Error(base::ErrorKind::kConfig, "spec: required field is missing");
  }
  auto parsed = oncall::parseSpec(*spec);
  if (!parsed) return std::move(parsed).error();
  loaded.spec = std::move(parsed).value();
  if (const auto status = loaded.object.find("status"); status != loaded.object.end()) {
    auto parsedStatus = oncall::parseStatus(*status);
    if (parsedStatus) loaded.status = std::move(parsedStatus).value();
  }
  return loaded;
}

base::Result<Instant> parseTimeArgument(std::string_view flag, std::string_view text,
                                        const oncall::Schedule& schedule, Instant now) {
  if (text == "now") return now;
  auto ref = oncall::parseTimeRef(text, flag);
  if (!ref) return std::move(ref).error();
  return ref->local ? schedule.resolve(ref->localTime) : ref->instant;
}

struct Options {
  std::string subcommand;
  std::string file;
  std::string at = "now";
  std::string from;
  std::string to;
  std::string format = "table";
};

void addFileFlag(FlagSet& set, Options& options) {
  set.addString("filename", &options.file, "the OnCallRotation, YAML or JSON; '-' reads stdin")
      .shorthand('f')
      .valueName("FILE")
      .required();
}

std::string pad(std::string text, size_t width) {
  if (text.size() < width) text.append(width - text.size(), ' ');
  return text;
}

std::string orDash(const std::string& text) { return text.empty() ? "-" : text; }

int runWho(const Loaded& loaded, const oncall::Schedule& schedule, Instant at, Streams streams) {
  const oncall::OpenShift current = schedule.shiftAt(at);
  const auto when = [&](const std::optional<Instant>& t) {
    return t ? schedule.formatLocal(*t) : std::string("-");
  };
  streams.out << "Rotation:  " << (loaded.name.empty() ? "(unnamed)" : loaded.name) << " ("
              << loaded.spec.timeZone << ")\n";
  streams.out << "At:        " << schedule.formatLocal(at) << " (" << common::formatRfc3339(at)
              << ")\n";
  if (current.participant.empty()) {
    streams.out << "On call:   nobody (coverage gap from " << when(current.start) << " to "
                << when(current.end) << ")\n";
  } else {
    streams.out << "On call:   " << current.participant << " (" << current.layer << ") from "
                << when(current.start) << " until " << when(current.end) << "\n";
  }
  if (const auto handoff = schedule.nextHandoff(at)) {
    streams.out << "Next:      " << schedule.formatLocal(handoff->time) << " ("
                << common::formatRfc3339(handoff->time) << ") " << orDash(handoff->from) << " -> "
                << orDash(handoff->to) << "\n";
  } else {
    streams.out << "Next:      no handoff within two years\n";
  }
  if (loaded.spec.routing) {
    const auto child = oncall::alertmanagerConfigName(loaded.name.empty() ? "<name>" : loaded.name);
    streams.out << "Paging:    receiver " << oncall::receiverName(current.participant) << " in "
                << (child.ok() ? *child : std::string("(name too long)")) << " since "
                << when(current.start) << "\n";
  }
  streams.out << "\n"
              << pad("LAYER", 16) << pad("TURN", 16) << pad("ACTIVE", 8) << pad("SINCE", 24)
              << "UNTIL\n";
  for (size_t i = 0; i < schedule.layerCount(); ++i) {
    const oncall::LayerTurn turn = schedule.turnAt(i, at);
    const bool started = turn.index >= 0;
    streams.out << pad(loaded.spec.layers[i].name, 16)
                << pad(started ? turn.participant : "(not started)", 16)
                << pad(turn.active ? "yes" : "no", 8)
                << pad(started ? schedule.formatLocal(turn.start) : "-", 24)
                << (started ? schedule.formatLocal(turn.end)
                            : "starts " + schedule.formatLocal(
                                              schedule.resolve(loaded.spec.layers[i].start)))
                << "\n";
  }
  return kExitOk;
}

int runSchedule(const Loaded& loaded, const oncall::Schedule& schedule, Instant from, Instant to,
                const std::string& format, Instant now, Streams streams) {
  const std::vector<oncall::Shift> shifts = schedule.shifts(from, to);
  if (format == "ics") {
    streams.out << oncall::renderCalendar(loaded.spec, shifts,
                                          {loaded.name, loaded.namespace_, now, true});
    return kExitOk;
  }
  const std::vector<oncall::Interval> gaps = schedule.gaps(from, to);
  if (format == "json") {
    json out = {{"timeZone", loaded.spec.timeZone},
                {"from", common::formatRfc3339(from)},
                {"to", common::formatRfc3339(to)},
                {"shifts", json::array()},
                {"gaps", json::array()}};
    for (const oncall::Shift& shift : shifts) {
      out["shifts"].push_back({{"participant", shift.participant},
                               {"layer", shift.layer},
                               {"start", common::formatRfc3339(shift.start)},
                               {"end", common::formatRfc3339(shift.end)}});
    }
    for (const oncall::Interval& gap : gaps) {
      out["gaps"].push_back(
          {{"start", common::formatRfc3339(gap.start)}, {"end", common::formatRfc3339(gap.end)}});
    }
    streams.out << out.dump(2) << "\n";
    return kExitOk;
  }
  // Table: shifts and gaps in time order, local times.
  streams.out << pad("START", 24) << pad("END", 24) << pad("HOURS", 8) << pad("ON CALL", 16)
              << "LAYER\n";
  size_t g = 0;
  const auto row = [&](Instant start, Instant end, const std::string& who,
                       const std::string& layer) {
    streams.out << pad(schedule.formatLocal(start), 24) << pad(schedule.formatLocal(end), 24)
                << pad(oncall::formatHours(end - start), 8) << pad(who, 16) << layer << "\n";
  };
  for (const oncall::Shift& shift : shifts) {
    for (; g < gaps.size() && gaps[g].start < shift.start; ++g) {
      row(gaps[g].start, gaps[g].end, "(nobody)", "-");
    }
    row(shift.start, shift.end, shift.participant, shift.layer);
  }
  for (; g < gaps.size(); ++g) row(gaps[g].start, gaps[g].end, "(nobody)", "-");
  return kExitOk;
}

int runOncall(const Options& options, Streams streams) {
  const std::string where = options.file == "-" ? "stdin" : options.file;
  auto loaded = loadRotation(options.file);
  if (!loaded) {
    streams.err << "relops oncall: " << where << ": " << loaded.error().describe() << "\n";
    return kExitFailure;
  }
  // The CLI is an I/O boundary: the one place where the wall clock is read.
  const Instant now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  auto anchored = oncall::Schedule::compile(loaded->spec);
  if (!anchored) {
    streams.err << "relops oncall: " << where << ": " << anchored.error().describe() << "\n";
    return kExitFailure;
  }
  const std::string& firstTime = options.subcommand == "who" ? options.at : options.from;
  const std::string_view firstFlag = options.subcommand == "who" ? "--at" : "--from";
  auto at = parseTimeArgument(firstFlag, firstTime, *anchored, now);
  if (!at) {
    streams.err << "relops oncall: " << at.error().describe() << "\n";
    return kExitUsage;
  }
  // Rotation positions from the file's status, as the controller would carry them.
  auto schedule = oncall::Schedule::compile(
      loaded->spec, oncall::carryRotation(loaded->spec, *anchored, loaded->status, *at));
  if (!schedule) {
    streams.err << "relops oncall: " << where << ": " << schedule.error().describe() << "\n";
    return kExitFailure;
  }
  if (options.subcommand == "who") return runWho(*loaded, *schedule, *at, streams);

  auto to = parseTimeArgument("--to", options.to, *schedule, now);
  if (!to) {
    streams.err << "relops oncall: " << to.error().describe() << "\n";
    return kExitUsage;
  }
  if (*to <= *at) {
    streams.err << "relops oncall: --to must be after --from\n";
    return kExitUsage;
  }
  if (*to - *at > oncall::Schedule::kSearchLimit) {
    streams.err << "relops oncall: --from and --to may be at most 750 days apart\n";
    return kExitUsage;
  }
  return runSchedule(*loaded, *schedule, *at, *to, options.format, now, streams);
}

int runWhoCommand(std::span<const std::string_view> args, Streams streams) {
  Options options;
  options.subcommand = "who";
  FlagSet set("relops oncall who");
  addFileFlag(set, options);
  set.addString("at", &options.at, "the time to look at").valueName("TIME");
  if (const auto exit = set.parseOrExit(args, streams, kUsage)) return *exit;
  return runOncall(options, streams);
}

int runScheduleCommand(std::span<const std::string_view> args, Streams streams) {
  Options options;
  options.subcommand = "schedule";
  FlagSet set("relops oncall schedule");
  addFileFlag(set, options);
  set.addString("from", &options.from, "the start of the schedule").valueName("TIME").required();
  set.addString("to", &options.to, "its end, at most 750 days later").valueName("TIME").required();
  set.addEnum("format", &options.format, {"table", "json", "ics"},
              "a table of local times, JSON, or an iCalendar feed")
      .shorthand('o');
  if (const auto exit = set.parseOrExit(args, streams, kUsage)) return *exit;
  return runOncall(options, streams);
}

}  // namespace

int runOncallCommand(std::span<const std::string_view> args, Streams streams) {
  static const Subcommand kSubcommands[] = {{"who", runWhoCommand},
                                            {"schedule", runScheduleCommand}};
  return runSubcommand("relops oncall", kUsage, kSubcommands, args, streams);
}

}  // namespace relops::cli
