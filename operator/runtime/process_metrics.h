// The process_* metrics, read from /proc the way client_golang's process collector reads
// them: CPU seconds, resident and virtual memory, open and maximum file descriptors, start
// time. Registry::exposition() adds them when the registry includes process metrics.
#pragma once

#include <string_view>
#include <vector>

namespace relops::runtime {

struct ProcessSample {
  std::string_view name;
  std::string_view help;
  std::string_view type;
  double value;
};

// The samples this process can read now; one that cannot be read is left out.
std::vector<ProcessSample> readProcessSamples();
// Whether `name` is one of the process_* metrics (no other family may take it).
bool isProcessMetricName(std::string_view name);

}  // namespace relops::runtime
