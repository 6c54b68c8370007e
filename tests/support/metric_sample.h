// Reads one sample back from a registry's Prometheus text exposition, as a scrape would see
// it: the tests of the metrics a reconciler exports ask for a series by its name and its
// labels, in any order (the exposition sorts them by name).
#pragma once

#include <algorithm>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "operator/runtime/metrics.h"

namespace relops::testing {

// `name{label="value",...}`, the labels sorted by name as the exposition writes them.
inline std::string seriesName(const std::string& name,
                              std::vector<std::pair<std::string, std::string>> labels) {
  std::sort(labels.begin(), labels.end());
  std::string text = name;
  if (labels.empty()) return text;
  text += "{";
  for (size_t i = 0; i < labels.size(); ++i) {
    if (i > 0) text += ",";
    text += labels[i].first + "=\"" + labels[i].second + "\"";
  }
  return text + "}";
}

// The value of the series, or nullopt when the exposition has no such line.
inline std::optional<double> sample(
    const runtime::Registry& registry, const std::string& name,
    const std::vector<std::pair<std::string, std::string>>& labels) {
  const std::string series = seriesName(name, labels) + " ";
  std::istringstream lines(registry.exposition());
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with(series)) return std::stod(line.substr(series.size()));
  }
  return std::nullopt;
}

// How many series of the family the exposition lists.
inline size_t seriesCount(const runtime::Registry& registry, const std::string& name) {
  size_t count = 0;
  std::istringstream lines(registry.exposition());
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with(name + "{") || line.starts_with(name + " ")) ++count;
  }
  return count;
}

}  // namespace relops::testing
