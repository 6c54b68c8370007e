#include "controllers/oncall/ical.h"

namespace relops::oncall {
namespace {

constexpr size_t kMaxLineOctets = 75;

// 20260105T140000Z (RFC 5545 3.3.5, form #2: UTC).
std::string basicUtc(Instant time) {
  std::string text = common::formatRfc3339(time);  // 2026-01-05T14:00:00Z
  std::string out;
  for (char c : text) {
    if (c != '-' && c != ':') out += c;
  }
  return out;
}

bool isContinuationByte(unsigned char c) { return (c & 0xC0) == 0x80; }

}  // namespace

std::string escapeText(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case ';':
        out += "\\;";
        break;
      case ',':
        out += "\\,";
        break;
      case '\r':
        if (i + 1 < text.size() && text[i + 1] == '\n') ++i;
        out += "\\n";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string foldLine(std::string_view line) {
  std::string out;
  size_t limit = kMaxLineOctets;  // the first line; continuations lose one to the space
  while (line.size() > limit) {
    size_t cut = limit;
    while (cut > 0 && isContinuationByte(static_cast<unsigned char>(line[cut]))) --cut;
    out.append(line.substr(0, cut));
    out += "\r\n ";
    line.remove_prefix(cut);
    limit = kMaxLineOctets - 1;
  }
  out.append(line);
  out += "\r\n";
  return out;
}

std::string shiftUid(const Shift& shift, const CalendarOptions& options) {
  std::string scope = options.name.empty() ? "oncall" : options.name;
  if (!options.namespace_.empty()) scope += "." + options.namespace_;
  return basicUtc(shift.start) + "-" + shift.layer + "-" + shift.participant + "@" + scope +
         ".relops.dev";
}

std::string renderCalendar(const Spec& spec, const std::vector<Shift>& shifts,
                           const CalendarOptions& options) {
  std::string out;
  const auto line = [&](std::string_view content) { out += foldLine(content); };
  std::string title = "On call";
  if (!options.name.empty()) {
    title += ": " + (options.namespace_.empty() ? "" : options.namespace_ + "/") + options.name;
  }
  line("BEGIN:VCALENDAR");
  line("VERSION:2.0");
  line("PRODID:-//relops.dev//relops oncall//EN");
  line("CALSCALE:GREGORIAN");
  line("METHOD:PUBLISH");
  line("X-WR-CALNAME:" + escapeText(title));
  line("X-WR-TIMEZONE:" + spec.timeZone);
  for (const Shift& shift : shifts) {
    const Participant* who = spec.findParticipant(shift.participant);
    const std::string shown =
        who != nullptr && !who->displayName.empty() ? who->displayName : shift.participant;
    std::string description = "Participant: " + shift.participant + "\nLayer: " + shift.layer;
    if (who != nullptr && options.includeContacts) {
      if (!who->email.empty()) description += "\nEmail: " + who->email;
      if (!who->chat.empty()) description += "\nChat: " + who->chat;
      if (!who->pager.empty()) description += "\nPager: " + who->pager;
    }
    line("BEGIN:VEVENT");
    line("UID:" + shiftUid(shift, options));
    line("DTSTAMP:" + basicUtc(options.stamp));
    line("DTSTART:" + basicUtc(shift.start));
    line("DTEND:" + basicUtc(shift.end));
    line("SUMMARY:" + escapeText("On call: " + shown + " (" + shift.layer + ")"));
    line("DESCRIPTION:" + escapeText(description));
    line("TRANSP:TRANSPARENT");
    line("END:VEVENT");
  }
  line("END:VCALENDAR");
  return out;
}

}  // namespace relops::oncall
