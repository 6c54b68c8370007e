// The final schedule as an iCalendar feed (RFC 5545), so people can subscribe
// to their rotation in any calendar, as with Grafana OnCall's iCal export.
// One VEVENT per shift; times in UTC ("Z"), so no VTIMEZONE is needed.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "controllers/oncall/oncall_types.h"
#include "controllers/oncall/schedule.h"

namespace relops::oncall {

struct CalendarOptions {
  std::string name;        // the OnCallRotation's name
  std::string namespace_;  // its namespace; may be empty (a file read by the CLI)
  Instant stamp{};         // DTSTAMP: when the feed was generated
  // Participants' email, chat and pager in DESCRIPTION: the CLI shows what
  // the file holds; the served feed only when spec.calendarFeed opts in.
  bool includeContacts = false;
};

std::string renderCalendar(const Spec& spec, const std::vector<Shift>& shifts,
                           const CalendarOptions& options);

// RFC 5545 3.3.11: backslash, semicolon and comma escaped, newlines as \n.
std::string escapeText(std::string_view text);
// RFC 5545 3.1: a content line folded at 75 octets (never inside a UTF-8
// sequence), each physical line ending in CRLF.
std::string foldLine(std::string_view line);
// A shift's UID: stable for the same shift across feeds.
std::string shiftUid(const Shift& shift, const CalendarOptions& options);

}  // namespace relops::oncall
