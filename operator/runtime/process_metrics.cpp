#include "operator/runtime/process_metrics.h"

#include <unistd.h>

#include <charconv>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <sstream>
#include <string>
#include <system_error>

namespace relops::runtime {
namespace {

std::optional<std::string> readFile(const char* path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::optional<double> parseNumber(std::string_view text) {
  double value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr == text.data()) return std::nullopt;
  return value;
}

}  // namespace

std::vector<ProcessSample> readProcessSamples() {
  std::vector<ProcessSample> samples;
  const double ticksPerSecond = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double pageSize = static_cast<double>(sysconf(_SC_PAGESIZE));

  // /proc/self/stat: the command name is in parentheses and may itself contain
  // spaces and parentheses, so fields are counted from the last ')'.
  if (auto stat = readFile("/proc/self/stat")) {
    const size_t close = stat->rfind(')');
    if (close != std::string::npos) {
      std::istringstream fields(stat->substr(close + 1));
      std::vector<std::string> f;
      for (std::string field; fields >> field;) f.push_back(field);
      // f[0] is field 3 (state): utime=14, stime=15, starttime=22, vsize=23, rss=24.
      if (f.size() > 21) {
        auto utime = parseNumber(f[11]);
        auto stime = parseNumber(f[12]);
        auto start = parseNumber(f[19]);
        auto vsize = parseNumber(f[20]);
        auto rss = parseNumber(f[21]);
        if (utime && stime) {
          samples.push_back({"process_cpu_seconds_total",
                             "Total user and system CPU time spent in seconds.", "counter",
                             (*utime + *stime) / ticksPerSecond});
        }
        if (rss) {
          samples.push_back({"process_resident_memory_bytes", "Resident memory size in bytes.",
                             "gauge", *rss * pageSize});
        }
        if (vsize) {
          samples.push_back(
              {"process_virtual_memory_bytes", "Virtual memory size in bytes.", "gauge", *vsize});
        }
        if (start) {
          if (auto procStat = readFile("/proc/stat")) {
            const size_t at = procStat->find("\nbtime ");
            if (at != std::string::npos) {
              const size_t begin = at + 7;
              const size_t end = procStat->find('\n', begin);
              if (auto bootTime =
                      parseNumber(std::string_view(*procStat).substr(begin, end - begin))) {
                samples.push_back({"process_start_time_seconds",
                                   "Start time of the process since unix epoch in seconds.",
                                   "gauge", *bootTime + *start / ticksPerSecond});
              }
            }
          }
        }
      }
    }
  }

  std::error_code ec;
  std::filesystem::directory_iterator fds("/proc/self/fd", ec);
  if (!ec) {
    double open = 0;
    for (auto it = fds; it != std::filesystem::directory_iterator(); it.increment(ec)) {
      if (ec) break;
      ++open;
    }
    if (!ec) {
      samples.push_back({"process_open_fds", "Number of open file descriptors.", "gauge", open});
    }
  }

  if (auto limits = readFile("/proc/self/limits")) {
    const size_t at = limits->find("Max open files");
    if (at != std::string::npos) {
      std::istringstream line(limits->substr(at + 14));
      std::string soft;
      line >> soft;
      // procfs reads "unlimited" as the largest uint64, and so does client_golang.
      std::optional<double> value =
          soft == "unlimited"
              ? std::optional<double>(static_cast<double>(std::numeric_limits<uint64_t>::max()))
              : parseNumber(soft);
      if (value) {
        samples.push_back(
            {"process_max_fds", "Maximum number of open file descriptors.", "gauge", *value});
      }
    }
  }
  return samples;
}

bool isProcessMetricName(std::string_view name) {
  return name == "process_cpu_seconds_total" || name == "process_resident_memory_bytes" ||
         name == "process_virtual_memory_bytes" || name == "process_open_fds" ||
         name == "process_max_fds" || name == "process_start_time_seconds";
}

}  // namespace relops::runtime
