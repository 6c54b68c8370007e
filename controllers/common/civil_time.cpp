#include "controllers/common/civil_time.h"

#include <date/tz.h>

#include <exception>

namespace relops::common {

base::Result<TimeZone> TimeZone::locate(std::string_view name) {
  try {
    return TimeZone(date::locate_zone(name), std::string(name));
  } catch (const std::exception&) {
    return base::Error(base::ErrorKind::kConfig,
                       "unknown time zone \"" + std::string(name) + "\" (not in the tz database)");
  }
}

std::chrono::sys_seconds TimeZone::resolve(std::chrono::local_seconds local) const {
  const date::local_seconds time{local.time_since_epoch()};
  const date::local_info info = zone_->get_info(time);
  if (info.result == date::local_info::nonexistent) {
    return std::chrono::sys_seconds(info.second.begin.time_since_epoch());
  }
  return std::chrono::sys_seconds(time.time_since_epoch() - info.first.offset);
}

std::chrono::local_seconds TimeZone::toLocal(std::chrono::sys_seconds instant) const {
  const date::sys_info info = zone_->get_info(date::sys_seconds(instant.time_since_epoch()));
  return std::chrono::local_seconds(instant.time_since_epoch() + info.offset);
}

std::string TimeZone::formatLocal(std::chrono::sys_seconds instant) const {
  const date::zoned_seconds zoned(zone_, date::sys_seconds(instant.time_since_epoch()));
  return date::format("%Y-%m-%d %H:%M %Z", zoned);
}

}  // namespace relops::common
