// Local civil time in an IANA time zone (Howard Hinnant's date/tz on the system zone
// database): the one engine behind rotation handoffs, drill schedules and calendar SLO
// periods, so the three agree on what a skipped or repeated local hour means.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "operator/base/result.h"

namespace date {
class time_zone;
}

namespace relops::common {

class TimeZone {
 public:
  // kConfig "unknown time zone" when the name is not in the tz database.
  static base::Result<TimeZone> locate(std::string_view name);

  // Local civil time → instant. A local time skipped by a jump forward resolves to the jump
  // itself (02:30 on a spring-forward night is 03:00); one repeated by a jump back to its
  // first occurrence, under the offset in force before the jump.
  std::chrono::sys_seconds resolve(std::chrono::local_seconds local) const;
  std::chrono::local_seconds toLocal(std::chrono::sys_seconds instant) const;
  // "2026-03-08 03:00 EDT"
  std::string formatLocal(std::chrono::sys_seconds instant) const;
  const std::string& name() const { return name_; }

 private:
  TimeZone(const date::time_zone* zone, std::string name) : zone_(zone), name_(std::move(name)) {}
  const date::time_zone* zone_;
  std::string name_;
};

}  // namespace relops::common
