// iCalendar output (RFC 5545): folding, escaping, one VEVENT per shift, and a
// golden feed reviewed in the diff (RELOPS_UPDATE_GOLDEN=1 regenerates it).
#include "controllers/oncall/ical.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/unit/controllers/oncall/rotation_builder.h"

namespace relops::oncall {
namespace {

using testing::at;
using ::testing::HasSubstr;
using ::testing::Not;

TEST(Ical, EscapesTextValues) {
  EXPECT_EQ(escapeText("a,b;c\\d\ne"), "a\\,b\\;c\\\\d\\ne");
  EXPECT_EQ(escapeText("crlf\r\nend"), "crlf\\nend");
}

TEST(Ical, FoldsAt75OctetsWithCrlf) {
  const std::string line(160, 'x');
  const std::string folded = foldLine(line);
  std::vector<std::string> physical;
  std::string::size_type pos = 0;
  while (pos < folded.size()) {
    const auto end = folded.find("\r\n", pos);
    ASSERT_NE(end, std::string::npos);
    physical.push_back(folded.substr(pos, end - pos));
    pos = end + 2;
  }
  ASSERT_EQ(physical.size(), 3u);
  EXPECT_EQ(physical[0].size(), 75u);
  EXPECT_EQ(physical[1].size(), 75u);  // a space and 74 octets
  EXPECT_EQ(physical[1][0], ' ');
  std::string unfolded = physical[0] + physical[1].substr(1) + physical[2].substr(1);
  EXPECT_EQ(unfolded, line);
}

TEST(Ical, NeverFoldsInsideAUtf8Character) {
  std::string line = "SUMMARY:";
  for (int i = 0; i < 40; ++i) line += "\xC3\xA9";  // é, two octets each
  const std::string folded = foldLine(line);
  std::istringstream lines(folded);
  std::string physical;
  while (std::getline(lines, physical)) {
    ASSERT_FALSE(physical.empty());
    ASSERT_EQ(physical.back(), '\r');
    physical.pop_back();
    EXPECT_LE(physical.size(), 75u);
    // A continuation never starts with a UTF-8 continuation byte.
    const size_t first = physical[0] == ' ' ? 1 : 0;
    ASSERT_LT(first, physical.size());
    EXPECT_NE(static_cast<unsigned char>(physical[first]) & 0xC0, 0x80);
  }
}

Spec goldenSpec() {
  auto spec = parseSpec(nlohmann::json::parse(R"({
    "timeZone": "America/New_York",
    "participants": [
      {"name": "alice", "displayName": "Alice Example, SRE; Payments",
       "email": "alice@example.com", "chat": "@alice"},
      {"name": "bob", "pager": "PBOB\\1"},
      {"name": "dave"}
    ],
    "layers": [
      {"name": "primary", "members": ["alice", "bob"], "start": "2026-03-02T09:00:00",
       "turnLength": "1d"}
    ],
    "overrides": [
      {"participant": "dave", "start": "2026-03-09T12:00:00", "end": "2026-03-09T15:00:00"}
    ]
  })"));
  EXPECT_TRUE(spec.ok());
  return spec.ok() ? spec.value() : Spec{};
}

TEST(Ical, GoldenFeedAcrossTheMarchChange) {
  const Spec spec = goldenSpec();
  auto schedule = Schedule::compile(spec);
  ASSERT_TRUE(schedule.ok());
  const std::vector<Shift> shifts =
      schedule->shifts(at("2026-03-07T14:00:00Z"), at("2026-03-10T13:00:00Z"));
  const std::string feed =
      renderCalendar(spec, shifts, {"payments", "team-payments", at("2026-03-01T00:00:00Z"), true});

  const std::string path = std::string(RELOPS_ONCALL_TESTDATA) + "/payments.ics";
  if (const char* update = std::getenv("RELOPS_UPDATE_GOLDEN"); update && *update == '1') {
    std::ofstream(path, std::ios::binary) << feed;
  }
  std::ifstream in(path, std::ios::binary);
  ASSERT_TRUE(in) << path << " is missing; run with RELOPS_UPDATE_GOLDEN=1";
  std::stringstream golden;
  golden << in.rdbuf();
  EXPECT_EQ(feed, golden.str()) << "rerun with RELOPS_UPDATE_GOLDEN=1 and review the diff";

  // Structure, independent of the golden file.
  EXPECT_EQ(shifts.size(), 5u);  // bob (23 h), alice, bob, dave (override), bob
  size_t events = 0;
  for (size_t pos = 0; (pos = feed.find("BEGIN:VEVENT\r\n", pos)) != std::string::npos; ++pos) {
    ++events;
  }
  EXPECT_EQ(events, shifts.size());
  EXPECT_THAT(feed, HasSubstr("DTSTART:20260308T130000Z\r\n"));
  EXPECT_THAT(feed, HasSubstr("SUMMARY:On call: Alice Example\\, SRE\\; Payments (primary)"));
  EXPECT_THAT(feed, HasSubstr("UID:20260309T160000Z-override-dave@payments.team-payments"));
  for (size_t pos = 0; (pos = feed.find('\n', pos)) != std::string::npos; ++pos) {
    ASSERT_GT(pos, 0u);
    ASSERT_EQ(feed[pos - 1], '\r') << "bare LF at " << pos;
  }
}

TEST(Ical, ContactsOnlyWhenIncluded) {
  const Spec spec = goldenSpec();
  auto schedule = Schedule::compile(spec);
  ASSERT_TRUE(schedule.ok());
  const std::vector<Shift> shifts =
      schedule->shifts(at("2026-03-07T14:00:00Z"), at("2026-03-10T13:00:00Z"));
  CalendarOptions options{"payments", "team-payments", at("2026-03-01T00:00:00Z"), false};
  const std::string without = renderCalendar(spec, shifts, options);
  for (const char* contact : {"alice@example.com", "@alice", "PBOB", "Email:", "Chat:", "Pager:"}) {
    EXPECT_THAT(without, Not(HasSubstr(contact))) << contact;
  }
  EXPECT_THAT(without, HasSubstr("Participant: alice"));
  options.includeContacts = true;
  const std::string with = renderCalendar(spec, shifts, options);
  EXPECT_THAT(with, HasSubstr("Email: alice@example.com"));
  EXPECT_THAT(with, HasSubstr("Pager: PBOB"));
}

TEST(Ical, UidIsStablePerShift) {
  const Shift shift{at("2026-03-08T13:00:00Z"), at("2026-03-09T13:00:00Z"), "bob", "primary"};
  EXPECT_EQ(shiftUid(shift, {"payments", "team-payments", at("2026-01-01T00:00:00Z")}),
            shiftUid(shift, {"payments", "team-payments", at("2026-02-01T00:00:00Z")}));
  EXPECT_EQ(shiftUid(shift, {"payments", "", {}}),
            "20260308T130000Z-primary-bob@payments.relops.dev");
}

}  // namespace
}  // namespace relops::oncall
