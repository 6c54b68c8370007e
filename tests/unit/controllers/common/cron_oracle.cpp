// The cron engine as a filter, for tests that compare it with another
// implementation (test_cron_croniter.py). Each input line is
//   EXPRESSION <TAB> ZONE <TAB> AFTER (unix seconds) <TAB> COUNT
// and each output line the next COUNT fire times in unix seconds, separated by
// spaces, or "error: <message>".
#include <iostream>
#include <sstream>
#include <string>

#include "controllers/common/cron.h"

int main() {
  std::string line;
  while (std::getline(std::cin, line)) {
    std::istringstream fields(line);
    std::string expression, zone, after, count;
    if (!std::getline(fields, expression, '\t') || !std::getline(fields, zone, '\t') ||
        !std::getline(fields, after, '\t') || !std::getline(fields, count)) {
      std::cout << "error: want EXPRESSION<TAB>ZONE<TAB>AFTER<TAB>COUNT\n";
      continue;
    }
    auto schedule = relops::common::CronSchedule::compile(expression, zone);
    if (!schedule.ok()) {
      std::cout << "error: " << schedule.error().message() << '\n';
      continue;
    }
    relops::common::Instant t{std::chrono::seconds(std::stoll(after))};
    std::string out;
    for (int i = 0; i < std::stoi(count); ++i) {
      const auto fire = schedule->next(t);
      if (!fire) break;
      if (!out.empty()) out += ' ';
      out += std::to_string(fire->time_since_epoch().count());
      t = *fire;
    }
    std::cout << out << '\n';
  }
  return 0;
}
