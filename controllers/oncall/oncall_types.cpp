#include "controllers/oncall/oncall_types.h"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

namespace relops::oncall {
namespace {

using nlohmann::json;
using std::chrono::days;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

constexpr size_t kMaxNameLength = 63;
constexpr size_t kMaxTimeZoneLength = 64;
constexpr size_t kMaxTimeLength = 35;  // RFC 3339 with nanoseconds and an offset
constexpr size_t kMaxDisplayNameLength = 128;
constexpr size_t kMaxEmailLength = 254;
constexpr size_t kMaxHandleLength = 128;
constexpr size_t kMaxReasonLength = 256;
constexpr int64_t kMaxHorizonDays = 366;  // "at most one year", a leap year included

base::Error configError(std::string_view path, std::string_view message) {
  return base::Error(base::ErrorKind::kConfig, std::string(path) + ": " + std::string(message));
}

std::string indexPath(std::string_view path, size_t index) {
  return std::string(path) + "[" + std::to_string(index) + "]";
}

std::string fieldPath(std::string_view path, std::string_view key) {
  return std::string(path) + "." + std::string(key);
}

bool isDigit(char c) { return c >= '0' && c <= '9'; }
bool isLower(char c) { return c >= 'a' && c <= 'z'; }
bool isAlpha(char c) { return isLower(c) || (c >= 'A' && c <= 'Z'); }

int digits(std::string_view text, size_t pos, size_t count) {
  int value = 0;
  for (size_t i = pos; i < pos + count; ++i) value = value * 10 + (text[i] - '0');
  return value;
}

bool allDigits(std::string_view text, size_t pos, size_t count) {
  if (pos + count > text.size()) return false;
  for (size_t i = pos; i < pos + count; ++i) {
    if (!isDigit(text[i])) return false;
  }
  return true;
}

// ^[a-z0-9]([-a-z0-9_.]*[a-z0-9])?$, the CRD's pattern for names.
bool isValidName(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameLength) return false;
  auto edge = [](char c) { return isLower(c) || isDigit(c); };
  if (!edge(name.front()) || !edge(name.back())) return false;
  return std::all_of(name.begin(), name.end(),
                     [&](char c) { return edge(c) || c == '-' || c == '_' || c == '.'; });
}

// IANA-shaped: ^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$. Whether the zone
// exists is checked against the tz database by the engine.
bool isIanaShaped(std::string_view zone) {
  if (zone.empty() || zone.size() > kMaxTimeZoneLength || !isAlpha(zone.front())) return false;
  char previous = 0;
  for (char c : zone) {
    const bool ok = isAlpha(c) || isDigit(c) || c == '_' || c == '+' || c == '-' || c == '/';
    if (!ok || (c == '/' && previous == '/')) return false;
    previous = c;
  }
  return zone.back() != '/';
}

base::Result<const json*> member(const json& object, std::string_view key, std::string_view path,
                                 bool required) {
  const auto it = object.find(std::string(key));
  if (it == object.end() || it->is_null()) {
    if (required) return configError(fieldPath(path, key), "required field is missing");
    return static_cast<const json*>(nullptr);
  }
  return &*it;
}

base::Result<std::string> stringField(const json& object, std::string_view key,
                                      std::string_view path, bool required, size_t maxLength) {
  auto field = member(object, key, path, required);
  if (!field) return std::move(field).error();
  if (*field == nullptr) return std::string();
  if (!(*field)->is_string()) return configError(fieldPath(path, key), "must be a string");
  std::string value = (*field)->get<std::string>();
  if (value.size() > maxLength) {
    return configError(fieldPath(path, key),
                       "must be at most " + std::to_string(maxLength) + " characters");
  }
  if (required && value.empty()) return configError(fieldPath(path, key), "must not be empty");
  return value;
}

base::Result<const json*> arrayField(const json& object, std::string_view key,
                                     std::string_view path, bool required, size_t maxItems) {
  auto field = member(object, key, path, required);
  if (!field) return std::move(field).error();
  if (*field == nullptr) return static_cast<const json*>(nullptr);
  if (!(*field)->is_array()) return configError(fieldPath(path, key), "must be a list");
  if ((*field)->size() > maxItems) {
    return configError(fieldPath(path, key),
                       "must have at most " + std::to_string(maxItems) + " items");
  }
  return *field;
}

base::Result<std::chrono::minutes> parseTimeOfDay(std::string_view text, std::string_view path) {
  if (text.size() != 5 || !allDigits(text, 0, 2) || text[2] != ':' || !allDigits(text, 3, 2) ||
      digits(text, 0, 2) > 23 || digits(text, 3, 2) > 59) {
    return configError(path, "must be a local time of day HH:MM (00:00 to 23:59), got \"" +
                                 std::string(text) + "\"");
  }
  return minutes(digits(text, 0, 2) * 60 + digits(text, 3, 2));
}

std::string formatTimeOfDay(minutes value) {
  char buffer[8];
  std::snprintf(buffer, sizeof buffer, "%02d:%02d", static_cast<int>(value.count() / 60),
                static_cast<int>(value.count() % 60));
  return buffer;
}

// "25", "12.5", "0.25": at most three integer digits and two decimals.
base::Result<int64_t> parsePercentBasisPoints(std::string_view text, std::string_view path) {
  const size_t dot = text.find('.');
  const std::string_view whole = text.substr(0, dot);
  const std::string_view fraction = dot == std::string_view::npos ? "" : text.substr(dot + 1);
  const bool ok = !whole.empty() && whole.size() <= 3 && allDigits(whole, 0, whole.size()) &&
                  (dot == std::string_view::npos || (!fraction.empty() && fraction.size() <= 2 &&
                                                     allDigits(fraction, 0, fraction.size())));
  if (!ok) {
    return configError(path, "must be a percentage as a string such as \"25\" or \"12.5\", got \"" +
                                 std::string(text) + "\"");
  }
  int64_t points = digits(whole, 0, whole.size()) * 100;
  if (!fraction.empty()) {
    points += fraction.size() == 1 ? digits(fraction, 0, 1) * 10 : digits(fraction, 0, 2);
  }
  return points;
}

base::Result<Participant> parseParticipant(const json& item, const std::string& path) {
  if (!item.is_object()) return configError(path, "must be an object");
  Participant participant;
  auto name = stringField(item, "name", path, true, kMaxNameLength);
  if (!name) return std::move(name).error();
  if (!isValidName(*name)) {
    return configError(fieldPath(path, "name"),
                       "must be lower-case letters, digits, '-', '_' or '.', starting and ending "
                       "with a letter or digit, got \"" +
                           *name + "\"");
  }
  participant.name = *name;
  struct Optional {
    std::string_view key;
    size_t maxLength;
    std::string* target;
  };
  for (const Optional& field :
       {Optional{"displayName", kMaxDisplayNameLength, &participant.displayName},
        Optional{"email", kMaxEmailLength, &participant.email},
        Optional{"chat", kMaxHandleLength, &participant.chat},
        Optional{"pager", kMaxHandleLength, &participant.pager}}) {
    auto value = stringField(item, field.key, path, false, field.maxLength);
    if (!value) return std::move(value).error();
    *field.target = *value;
  }
  if (!participant.email.empty() && participant.email.find('@') == std::string::npos) {
    return configError(fieldPath(path, "email"), "must be an email address");
  }
  return participant;
}

base::Result<Restriction> parseRestriction(const json& item, const std::string& path) {
  if (!item.is_object()) return configError(path, "must be an object");
  Restriction restriction;
  auto dayList = arrayField(item, "days", path, false, 7);
  if (!dayList) return std::move(dayList).error();
  if (*dayList != nullptr) {
    if ((*dayList)->empty()) return configError(fieldPath(path, "days"), "must not be empty");
    for (size_t i = 0; i < (*dayList)->size(); ++i) {
      const json& day = (**dayList)[i];
      const auto* found = day.is_string()
                              ? std::find(std::begin(kWeekdayNames), std::end(kWeekdayNames),
                                          day.get<std::string>())
                              : std::end(kWeekdayNames);
      if (found == std::end(kWeekdayNames)) {
        return configError(indexPath(fieldPath(path, "days"), i),
                           "must be one of Mon, Tue, Wed, Thu, Fri, Sat, Sun");
      }
      const int index = static_cast<int>(found - std::begin(kWeekdayNames));
      if (std::find(restriction.days.begin(), restriction.days.end(), index) !=
          restriction.days.end()) {
        return configError(indexPath(fieldPath(path, "days"), i), "duplicate day");
      }
      restriction.days.push_back(index);
    }
  }
  for (const std::string_view key : {"from", "to"}) {
    auto text = stringField(item, key, path, false, 5);
    if (!text) return std::move(text).error();
    if (text->empty()) continue;
    auto value = parseTimeOfDay(*text, fieldPath(path, key));
    if (!value) return std::move(value).error();
    (key == "from" ? restriction.from : restriction.to) = *value;
  }
  if (restriction.from.has_value() != restriction.to.has_value()) {
    return configError(path, "from and to must be set together");
  }
  if (restriction.from && *restriction.from == *restriction.to) {
    return configError(path,
                       "from and to must differ (an empty range); leave both out for whole days");
  }
  if (restriction.days.empty() && !restriction.from) {
    return configError(path, "a restriction needs days, a from/to range, or both");
  }
  return restriction;
}

base::Result<Layer> parseLayer(const json& item, const std::string& path) {
  if (!item.is_object()) return configError(path, "must be an object");
  Layer layer;
  auto name = stringField(item, "name", path, true, kMaxNameLength);
  if (!name) return std::move(name).error();
  if (!isValidName(*name)) {
    return configError(
        fieldPath(path, "name"),
        "must be lower-case letters, digits, '-', '_' or '.', got \"" + *name + "\"");
  }
  layer.name = *name;
  auto members = arrayField(item, "members", path, true, kMaxMembers);
  if (!members) return std::move(members).error();
  if ((*members)->empty()) return configError(fieldPath(path, "members"), "must not be empty");
  for (size_t i = 0; i < (*members)->size(); ++i) {
    const json& entry = (**members)[i];
    if (!entry.is_string() || entry.get<std::string>().empty() ||
        entry.get<std::string>().size() > kMaxNameLength) {
      return configError(indexPath(fieldPath(path, "members"), i), "must be a participant's name");
    }
    layer.members.push_back(entry.get<std::string>());
  }
  auto start = stringField(item, "start", path, true, kMaxTimeLength);
  if (!start) return std::move(start).error();
  auto local = parseLocalTime(*start, fieldPath(path, "start"));
  if (!local) return std::move(local).error();
  layer.start = *local;
  auto turn = stringField(item, "turnLength", path, true, 16);
  if (!turn) return std::move(turn).error();
  auto length = parseDuration(*turn, fieldPath(path, "turnLength"), "mhdw");
  if (!length) return std::move(length).error();
  layer.turnLength = *length;
  auto restrictions = arrayField(item, "restrictions", path, false, kMaxRestrictions);
  if (!restrictions) return std::move(restrictions).error();
  if (*restrictions != nullptr) {
    for (size_t i = 0; i < (*restrictions)->size(); ++i) {
      auto restriction =
          parseRestriction((**restrictions)[i], indexPath(fieldPath(path, "restrictions"), i));
      if (!restriction) return std::move(restriction).error();
      layer.restrictions.push_back(std::move(restriction).value());
    }
  }
  return layer;
}

base::Result<Override> parseOverride(const json& item, const std::string& path) {
  if (!item.is_object()) return configError(path, "must be an object");
  Override entry;
  auto participant = stringField(item, "participant", path, true, kMaxNameLength);
  if (!participant) return std::move(participant).error();
  entry.participant = *participant;
  for (const std::string_view key : {"start", "end"}) {
    auto text = stringField(item, key, path, true, kMaxTimeLength);
    if (!text) return std::move(text).error();
    auto time = parseTimeRef(*text, fieldPath(path, key));
    if (!time) return std::move(time).error();
    (key == "start" ? entry.start : entry.end) = std::move(time).value();
  }
  if (entry.start.local != entry.end.local) {
    return configError(path, "start and end must both be local times or both carry a UTC offset");
  }
  const bool after = entry.start.local ? entry.end.localTime > entry.start.localTime
                                       : entry.end.instant > entry.start.instant;
  if (!after) return configError(fieldPath(path, "end"), "must be after start");
  auto reason = stringField(item, "reason", path, false, kMaxReasonLength);
  if (!reason) return std::move(reason).error();
  entry.reason = *reason;
  return entry;
}

base::Result<Fairness> parseFairness(const json* node, const std::string& path) {
  static const json kEmpty = json::object();
  const json& item = node == nullptr ? kEmpty : *node;
  if (!item.is_object()) return configError(path, "must be an object");
  Fairness fairness;
  auto lookBack = stringField(item, "lookBack", path, false, 5);
  if (!lookBack) return std::move(lookBack).error();
  auto parsed = parseDuration(lookBack->empty() ? kDefaultLookBack : *lookBack,
                              fieldPath(path, "lookBack"), "dw");
  if (!parsed) return std::move(parsed).error();
  if (parsed->nominal() > days(kMaxHorizonDays)) {
    return configError(fieldPath(path, "lookBack"), "must be at most one year (366d)");
  }
  fairness.lookBack = *parsed;
  auto imbalance = stringField(item, "allowedImbalance", path, false, 6);
  if (!imbalance) return std::move(imbalance).error();
  fairness.allowedImbalance =
      imbalance->empty() ? std::string(kDefaultAllowedImbalance) : *imbalance;
  auto points =
      parsePercentBasisPoints(fairness.allowedImbalance, fieldPath(path, "allowedImbalance"));
  if (!points) return std::move(points).error();
  fairness.allowedImbalanceBasisPoints = *points;
  return fairness;
}

std::optional<Instant> optionalInstant(const json& object, std::string_view key) {
  const auto it = object.find(std::string(key));
  if (it == object.end() || !it->is_string()) return std::nullopt;
  auto parsed = parseInstant(it->get<std::string>(), key);
  if (!parsed) return std::nullopt;
  return *parsed;
}

std::string stringOr(const json& object, std::string_view key) {
  const auto it = object.find(std::string(key));
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

int64_t intOr(const json& object, std::string_view key) {
  const auto it = object.find(std::string(key));
  return it != object.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
}

const json& arrayOr(const json& object, std::string_view key) {
  static const json kEmpty = json::array();
  const auto it = object.find(std::string(key));
  return it != object.end() && it->is_array() ? *it : kEmpty;
}

void putInstant(json& object, std::string_view key, const std::optional<Instant>& value) {
  if (value) object[std::string(key)] = common::formatRfc3339(*value);
}

void putString(json& object, std::string_view key, const std::string& value) {
  if (!value.empty()) object[std::string(key)] = value;
}

}  // namespace

int64_t schedulePieces(const Spec& spec) {
  using std::chrono::seconds;
  // The bounds of the schema keep every term far from overflow: at most a year each way, turns
  // of at least a minute, 10 layers of 7 restrictions.
  const seconds window = spec.fairness.lookBack.nominal() + spec.horizon.nominal() + days(2);
  const int64_t windowDays = window / days(1) + 1;
  int64_t pieces = 0;
  for (const Layer& layer : spec.layers) {
    const seconds turn = std::max(layer.turnLength.nominal(), seconds(60));
    pieces += window / turn + 1;
    pieces += windowDays * static_cast<int64_t>(layer.restrictions.size());
  }
  return pieces + static_cast<int64_t>(spec.overrides.size());
}

std::chrono::seconds Duration::nominal() const {
  switch (unit) {
    case DurationUnit::kMinutes:
      return minutes(count);
    case DurationUnit::kHours:
      return hours(count);
    case DurationUnit::kDays:
      return std::chrono::days(count);
    case DurationUnit::kWeeks:
      return std::chrono::days(7 * count);
  }
  return seconds(0);
}

int64_t Duration::days() const {
  return unit == DurationUnit::kWeeks ? 7 * count : unit == DurationUnit::kDays ? count : 0;
}

std::string Duration::toString() const {
  static constexpr char kUnits[] = {'m', 'h', 'd', 'w'};
  return std::to_string(count) + kUnits[static_cast<int>(unit)];
}

base::Result<Duration> parseDuration(std::string_view text, std::string_view path,
                                     std::string_view allowedUnits) {
  std::string units;
  for (char unit : allowedUnits) {
    if (!units.empty()) units += unit == allowedUnits.back() ? " or " : ", ";
    units += std::string("N") + unit;
  }
  const auto fail = [&] {
    return configError(path, "must be a whole number and a unit (" + units + "), got \"" +
                                 std::string(text) + "\"");
  };
  if (text.size() < 2 || text.size() > 5 || text.front() == '0' ||
      !allDigits(text, 0, text.size() - 1) ||
      allowedUnits.find(text.back()) == std::string_view::npos) {
    return fail();
  }
  Duration duration;
  duration.count = digits(text, 0, text.size() - 1);
  switch (text.back()) {
    case 'm':
      duration.unit = DurationUnit::kMinutes;
      break;
    case 'h':
      duration.unit = DurationUnit::kHours;
      break;
    case 'd':
      duration.unit = DurationUnit::kDays;
      break;
    default:
      duration.unit = DurationUnit::kWeeks;
      break;
  }
  return duration;
}

base::Result<LocalTime> parseLocalTime(std::string_view text, std::string_view path) {
  const auto fail = [&] {
    return configError(path,
                       "must be a local date and time YYYY-MM-DDTHH:MM:SS without offset, got \"" +
                           std::string(text) + "\"");
  };
  if (text.size() != 19 || !allDigits(text, 0, 4) || text[4] != '-' || !allDigits(text, 5, 2) ||
      text[7] != '-' || !allDigits(text, 8, 2) || text[10] != 'T' || !allDigits(text, 11, 2) ||
      text[13] != ':' || !allDigits(text, 14, 2) || text[16] != ':' || !allDigits(text, 17, 2)) {
    return fail();
  }
  const std::chrono::year_month_day date{std::chrono::year(digits(text, 0, 4)),
                                         std::chrono::month(digits(text, 5, 2)),
                                         std::chrono::day(digits(text, 8, 2))};
  const int hour = digits(text, 11, 2);
  const int minute = digits(text, 14, 2);
  const int second = digits(text, 17, 2);
  if (!date.ok() || hour > 23 || minute > 59 || second > 59) return fail();
  return LocalTime(std::chrono::local_days(date).time_since_epoch() + hours(hour) +
                   minutes(minute) + seconds(second));
}

std::string formatLocalTime(LocalTime time) {
  const auto day = std::chrono::floor<days>(time);
  const std::chrono::year_month_day date{day};
  const std::chrono::hh_mm_ss clock{time - day};
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%04d-%02u-%02uT%02d:%02d:%02d",
                static_cast<int>(date.year()), static_cast<unsigned>(date.month()),
                static_cast<unsigned>(date.day()), static_cast<int>(clock.hours().count()),
                static_cast<int>(clock.minutes().count()),
                static_cast<int>(clock.seconds().count()));
  return buffer;
}

base::Result<Instant> parseInstant(std::string_view text, std::string_view path) {
  const auto fail = [&] {
    return configError(path,
                       "must be an RFC 3339 time with offset such as 2026-01-05T09:00:00Z or "
                       "2026-01-05T09:00:00-05:00, got \"" +
                           std::string(text) + "\"");
  };
  if (text.size() < 20) return fail();
  auto local = parseLocalTime(text.substr(0, 19), path);
  if (!local) return fail();
  size_t pos = 19;
  if (text[pos] == '.') {
    ++pos;
    const size_t digitsStart = pos;
    while (pos < text.size() && isDigit(text[pos])) ++pos;
    if (pos == digitsStart || pos - digitsStart > 9) return fail();
  }
  seconds offset{0};
  if (pos + 1 == text.size() && text[pos] == 'Z') {
    // UTC
  } else if (pos + 6 == text.size() && (text[pos] == '+' || text[pos] == '-') &&
             allDigits(text, pos + 1, 2) && text[pos + 3] == ':' && allDigits(text, pos + 4, 2) &&
             digits(text, pos + 1, 2) <= 23 && digits(text, pos + 4, 2) <= 59) {
    offset = hours(digits(text, pos + 1, 2)) + minutes(digits(text, pos + 4, 2));
    if (text[pos] == '-') offset = -offset;
  } else {
    return fail();
  }
  return Instant(local->time_since_epoch() - offset);
}

base::Result<TimeRef> parseTimeRef(std::string_view text, std::string_view path) {
  TimeRef ref;
  ref.text = std::string(text);
  if (text.size() == 19) {
    auto local = parseLocalTime(text, path);
    if (!local) {
      return configError(path,
                         "must be a local time YYYY-MM-DDTHH:MM:SS or an RFC 3339 time with "
                         "offset, got \"" +
                             std::string(text) + "\"");
    }
    ref.local = true;
    ref.localTime = *local;
    return ref;
  }
  auto instant = parseInstant(text, path);
  if (!instant) {
    return configError(path,
                       "must be a local time YYYY-MM-DDTHH:MM:SS or an RFC 3339 time with offset, "
                       "got \"" +
                           std::string(text) + "\"");
  }
  ref.instant = *instant;
  return ref;
}

const Participant* Spec::findParticipant(std::string_view name) const {
  for (const Participant& participant : participants) {
    if (participant.name == name) return &participant;
  }
  return nullptr;
}

base::Result<Spec> parseSpec(const json& node) {
  const std::string path = "spec";
  if (!node.is_object()) return configError(path, "must be an object");
  Spec spec;

  auto zone = stringField(node, "timeZone", path, true, kMaxTimeZoneLength);
  if (!zone) return std::move(zone).error();
  if (!isIanaShaped(*zone)) {
    return configError(
        path + ".timeZone",
        "must be an IANA time zone name such as Europe/Berlin, got \"" + *zone + "\"");
  }
  spec.timeZone = *zone;

  auto participants = arrayField(node, "participants", path, true, kMaxParticipants);
  if (!participants) return std::move(participants).error();
  if ((*participants)->empty()) return configError(path + ".participants", "must not be empty");
  for (size_t i = 0; i < (*participants)->size(); ++i) {
    const std::string itemPath = indexPath(path + ".participants", i);
    auto participant = parseParticipant((**participants)[i], itemPath);
    if (!participant) return std::move(participant).error();
    if (spec.findParticipant(participant->name) != nullptr) {
      return configError(itemPath + ".name",
                         "duplicate participant name \"" + participant->name + "\"");
    }
    spec.participants.push_back(std::move(participant).value());
  }

  auto layers = arrayField(node, "layers", path, true, kMaxLayers);
  if (!layers) return std::move(layers).error();
  if ((*layers)->empty()) return configError(path + ".layers", "must not be empty");
  for (size_t i = 0; i < (*layers)->size(); ++i) {
    const std::string itemPath = indexPath(path + ".layers", i);
    auto layer = parseLayer((**layers)[i], itemPath);
    if (!layer) return std::move(layer).error();
    for (size_t m = 0; m < layer->members.size(); ++m) {
      if (spec.findParticipant(layer->members[m]) == nullptr) {
        return configError(indexPath(itemPath + ".members", m),
                           "\"" + layer->members[m] + "\" is not a participant");
      }
    }
    for (const Layer& earlier : spec.layers) {
      if (earlier.name == layer->name) {
        return configError(itemPath + ".name", "duplicate layer name \"" + layer->name + "\"");
      }
    }
    spec.layers.push_back(std::move(layer).value());
  }

  auto overrides = arrayField(node, "overrides", path, false, kMaxOverrides);
  if (!overrides) return std::move(overrides).error();
  if (*overrides != nullptr) {
    for (size_t i = 0; i < (*overrides)->size(); ++i) {
      const std::string itemPath = indexPath(path + ".overrides", i);
      auto entry = parseOverride((**overrides)[i], itemPath);
      if (!entry) return std::move(entry).error();
      if (spec.findParticipant(entry->participant) == nullptr) {
        return configError(itemPath + ".participant",
                           "\"" + entry->participant + "\" is not a participant");
      }
      spec.overrides.push_back(std::move(entry).value());
    }
  }

  auto horizon = stringField(node, "horizon", path, false, 5);
  if (!horizon) return std::move(horizon).error();
  auto parsedHorizon =
      parseDuration(horizon->empty() ? kDefaultHorizon : *horizon, path + ".horizon", "dw");
  if (!parsedHorizon) return std::move(parsedHorizon).error();
  if (parsedHorizon->nominal() > days(kMaxHorizonDays)) {
    return configError(path + ".horizon", "must be at most one year (366d)");
  }
  spec.horizon = *parsedHorizon;

  auto fairnessNode = member(node, "fairness", path, false);
  if (!fairnessNode) return std::move(fairnessNode).error();
  auto fairness = parseFairness(*fairnessNode, path + ".fairness");
  if (!fairness) return std::move(fairness).error();
  spec.fairness = std::move(fairness).value();

  auto feedNode = member(node, "calendarFeed", path, false);
  if (!feedNode) return std::move(feedNode).error();
  if (*feedNode != nullptr) {
    const std::string feedPath = path + ".calendarFeed";
    if (!(*feedNode)->is_object()) return configError(feedPath, "must be an object");
    auto include = member(**feedNode, "includeContacts", feedPath, false);
    if (!include) return std::move(include).error();
    if (*include != nullptr) {
      if (!(*include)->is_boolean()) {
        return configError(feedPath + ".includeContacts", "must be a boolean");
      }
      spec.calendarFeed.includeContacts = (*include)->get<bool>();
    }
  }

  auto routingNode = member(node, "routing", path, false);
  if (!routingNode) return std::move(routingNode).error();
  if (*routingNode != nullptr) {
    auto routing = parseRouting(**routingNode, path + ".routing");
    if (!routing) return std::move(routing).error();
    for (size_t i = 0; i < routing->receivers.size(); ++i) {
      const std::string& name = routing->receivers[i].participant;
      if (spec.findParticipant(name) == nullptr) {
        return configError(indexPath(path + ".routing.receivers", i) + ".participant",
                           "\"" + name + "\" is not a participant");
      }
    }
    for (const Participant& participant : spec.participants) {
      if (routing->receiverOf(participant.name) == nullptr) {
        return configError(path + ".routing.receivers",
                           "participant \"" + participant.name +
                               "\" has no receiver: with routing, every participant needs one");
      }
    }
    spec.routing = std::move(routing).value();
  }
  return spec;
}

json toJson(const Spec& spec) {
  json out = json::object();
  out["timeZone"] = spec.timeZone;
  json participants = json::array();
  for (const Participant& participant : spec.participants) {
    json item = {{"name", participant.name}};
    putString(item, "displayName", participant.displayName);
    putString(item, "email", participant.email);
    putString(item, "chat", participant.chat);
    putString(item, "pager", participant.pager);
    participants.push_back(std::move(item));
  }
  out["participants"] = std::move(participants);
  json layers = json::array();
  for (const Layer& layer : spec.layers) {
    json item = {{"name", layer.name},
                 {"members", layer.members},
                 {"start", formatLocalTime(layer.start)},
                 {"turnLength", layer.turnLength.toString()}};
    if (!layer.restrictions.empty()) {
      json restrictions = json::array();
      for (const Restriction& restriction : layer.restrictions) {
        json entry = json::object();
        if (!restriction.days.empty()) {
          json names = json::array();
          for (int day : restriction.days) names.push_back(kWeekdayNames[day]);
          entry["days"] = std::move(names);
        }
        if (restriction.from) {
          entry["from"] = formatTimeOfDay(*restriction.from);
          entry["to"] = formatTimeOfDay(*restriction.to);
        }
        restrictions.push_back(std::move(entry));
      }
      item["restrictions"] = std::move(restrictions);
    }
    layers.push_back(std::move(item));
  }
  out["layers"] = std::move(layers);
  if (!spec.overrides.empty()) {
    json overrides = json::array();
    for (const Override& entry : spec.overrides) {
      json item = {
          {"participant", entry.participant}, {"start", entry.start.text}, {"end", entry.end.text}};
      putString(item, "reason", entry.reason);
      overrides.push_back(std::move(item));
    }
    out["overrides"] = std::move(overrides);
  }
  out["horizon"] = spec.horizon.toString();
  out["fairness"] = {{"lookBack", spec.fairness.lookBack.toString()},
                     {"allowedImbalance", spec.fairness.allowedImbalance}};
  if (spec.calendarFeed.includeContacts) out["calendarFeed"] = {{"includeContacts", true}};
  if (spec.routing) out["routing"] = toJson(*spec.routing);
  return out;
}

const Condition* Status::findCondition(std::string_view type) const {
  for (const Condition& condition : conditions) {
    if (condition.type == type) return &condition;
  }
  return nullptr;
}

const LayerStatus* Status::findLayer(std::string_view name) const {
  for (const LayerStatus& layer : layers) {
    if (layer.name == name) return &layer;
  }
  return nullptr;
}

// The observed status is what relops itself wrote (or nothing). It is read
// leniently: a field that is missing or malformed reads as absent, so a
// hand-edited status can never wedge the controller.
base::Result<Status> parseStatus(const json& node) {
  Status status;
  if (node.is_null()) return status;
  if (!node.is_object()) return configError("status", "must be an object");
  status.observedGeneration = intOr(node, "observedGeneration");
  status.calendarPath = stringOr(node, "calendarPath");
  for (const json& item : arrayOr(node, "conditions")) {
    if (!item.is_object()) continue;
    Condition condition;
    condition.type = stringOr(item, "type");
    condition.status = stringOr(item, "status");
    condition.reason = stringOr(item, "reason");
    condition.message = stringOr(item, "message");
    condition.observedGeneration = intOr(item, "observedGeneration");
    condition.lastTransitionTime = stringOr(item, "lastTransitionTime");
    status.conditions.push_back(std::move(condition));
  }
  if (const auto it = node.find("onCall"); it != node.end() && it->is_object()) {
    status.onCall = CurrentOnCall{stringOr(*it, "participant"), stringOr(*it, "layer"),
                                  optionalInstant(*it, "since"), optionalInstant(*it, "until")};
  }
  for (const json& item : arrayOr(node, "layers")) {
    if (!item.is_object()) continue;
    LayerStatus layer;
    layer.name = stringOr(item, "name");
    layer.participant = stringOr(item, "participant");
    layer.active = item.value("active", false);
    layer.since = optionalInstant(item, "since");
    layer.until = optionalInstant(item, "until");
    if (const auto rotation = item.find("rotation");
        rotation != item.end() && rotation->is_object()) {
      for (const json& name : arrayOr(*rotation, "members")) {
        if (name.is_string()) layer.rotation.members.push_back(name.get<std::string>());
      }
      layer.rotation.start = stringOr(*rotation, "start");
      layer.rotation.turnLength = stringOr(*rotation, "turnLength");
      layer.rotation.offset = intOr(*rotation, "offset");
    }
    status.layers.push_back(std::move(layer));
  }
  if (const auto it = node.find("nextHandoff"); it != node.end() && it->is_object()) {
    if (auto time = optionalInstant(*it, "time")) {
      status.nextHandoff = HandoffStatus{*time, stringOr(*it, "from"), stringOr(*it, "to")};
    }
  }
  for (const json& item : arrayOr(node, "upcomingShifts")) {
    if (!item.is_object()) continue;
    auto start = optionalInstant(item, "start");
    auto end = optionalInstant(item, "end");
    if (!start || !end) continue;
    status.upcomingShifts.push_back(
        {stringOr(item, "participant"), stringOr(item, "layer"), *start, *end});
  }
  for (const json& item : arrayOr(node, "gaps")) {
    if (!item.is_object()) continue;
    status.gaps.push_back({optionalInstant(item, "start"), optionalInstant(item, "end")});
  }
  if (const auto it = node.find("load"); it != node.end() && it->is_object()) {
    LoadStatus load;
    load.from = optionalInstant(*it, "from").value_or(Instant{});
    load.to = optionalInstant(*it, "to").value_or(Instant{});
    for (const json& item : arrayOr(*it, "participants")) {
      if (!item.is_object()) continue;
      load.participants.push_back({stringOr(item, "participant"), stringOr(item, "hours"),
                                   stringOr(item, "offHours"), stringOr(item, "weekendHours")});
    }
    status.load = std::move(load);
  }
  if (const auto it = node.find("balance"); it != node.end() && it->is_object()) {
    BalanceStatus balance;
    balance.score = stringOr(*it, "score");
    for (const json& name : arrayOr(*it, "overloaded")) {
      if (name.is_string()) balance.overloaded.push_back(name.get<std::string>());
    }
    status.balance = std::move(balance);
  }
  if (const auto it = node.find("routing"); it != node.end() && it->is_object()) {
    status.routing = RoutingStatus{stringOr(*it, "receiver"), stringOr(*it, "participant"),
                                   optionalInstant(*it, "since"),
                                   stringOr(*it, "alertmanagerConfig"), stringOr(*it, "configMap")};
  }
  return status;
}

json toJson(const Status& status) {
  json out = json::object();
  out["observedGeneration"] = status.observedGeneration;
  json conditions = json::array();
  for (const Condition& condition : status.conditions) {
    conditions.push_back({{"type", condition.type},
                          {"status", condition.status},
                          {"observedGeneration", condition.observedGeneration.value_or(0)},
                          {"lastTransitionTime", condition.lastTransitionTime},
                          {"reason", condition.reason},
                          {"message", condition.message}});
  }
  out["conditions"] = std::move(conditions);
  if (status.onCall) {
    json item = json::object();
    putString(item, "participant", status.onCall->participant);
    putString(item, "layer", status.onCall->layer);
    putInstant(item, "since", status.onCall->since);
    putInstant(item, "until", status.onCall->until);
    out["onCall"] = std::move(item);
  }
  if (!status.layers.empty()) {
    json layers = json::array();
    for (const LayerStatus& layer : status.layers) {
      json item = {{"name", layer.name}, {"active", layer.active}};
      putString(item, "participant", layer.participant);
      putInstant(item, "since", layer.since);
      putInstant(item, "until", layer.until);
      item["rotation"] = {{"members", layer.rotation.members},
                          {"start", layer.rotation.start},
                          {"turnLength", layer.rotation.turnLength},
                          {"offset", layer.rotation.offset}};
      layers.push_back(std::move(item));
    }
    out["layers"] = std::move(layers);
  }
  if (status.nextHandoff) {
    json item = {{"time", common::formatRfc3339(status.nextHandoff->time)}};
    putString(item, "from", status.nextHandoff->from);
    putString(item, "to", status.nextHandoff->to);
    out["nextHandoff"] = std::move(item);
  }
  if (!status.upcomingShifts.empty()) {
    json shifts = json::array();
    for (const ShiftStatus& shift : status.upcomingShifts) {
      shifts.push_back({{"participant", shift.participant},
                        {"layer", shift.layer},
                        {"start", common::formatRfc3339(shift.start)},
                        {"end", common::formatRfc3339(shift.end)}});
    }
    out["upcomingShifts"] = std::move(shifts);
  }
  if (!status.gaps.empty()) {
    json gaps = json::array();
    for (const GapStatus& gap : status.gaps) {
      json item = json::object();
      putInstant(item, "start", gap.start);
      putInstant(item, "end", gap.end);
      gaps.push_back(std::move(item));
    }
    out["gaps"] = std::move(gaps);
  }
  if (status.load) {
    json participants = json::array();
    for (const ParticipantLoadStatus& load : status.load->participants) {
      participants.push_back({{"participant", load.participant},
                              {"hours", load.hours},
                              {"offHours", load.offHours},
                              {"weekendHours", load.weekendHours}});
    }
    out["load"] = {{"from", common::formatRfc3339(status.load->from)},
                   {"to", common::formatRfc3339(status.load->to)},
                   {"participants", std::move(participants)}};
  }
  if (status.balance) {
    json item = {{"score", status.balance->score}};
    if (!status.balance->overloaded.empty()) item["overloaded"] = status.balance->overloaded;
    out["balance"] = std::move(item);
  }
  if (status.routing) {
    json item = {{"receiver", status.routing->receiver}};
    putString(item, "alertmanagerConfig", status.routing->alertmanagerConfig);
    putString(item, "configMap", status.routing->configMap);
    putString(item, "participant", status.routing->participant);
    putInstant(item, "since", status.routing->since);
    out["routing"] = std::move(item);
  }
  if (!status.calendarPath.empty()) out["calendarPath"] = status.calendarPath;
  return out;
}

}  // namespace relops::oncall
