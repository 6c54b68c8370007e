// The Prometheus text exposition format (0.0.4) of a Registry, byte for byte as
// client_golang's expfmt writes it: families sorted by name, label pairs by label name,
// floats in Go's shortest 'g' form.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <numeric>
#include <string>
#include <system_error>
#include <type_traits>

#include "operator/runtime/metrics.h"
#include "operator/runtime/process_metrics.h"

namespace relops::runtime {
namespace {

// HELP text escaping of the 0.0.4 text format: only backslash and newline.
std::string escapeHelp(std::string_view help) {
  std::string out;
  out.reserve(help.size());
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

// One rendered sample line: name{labels[,le="..."]} value.
void writeSample(std::string& out, std::string_view name, std::string_view suffix,
                 const std::string& labelText, std::string_view le, double value) {
  out += name;
  out += suffix;
  if (!labelText.empty() || !le.empty()) {
    out += '{';
    out += labelText;
    if (!le.empty()) {
      if (!labelText.empty()) out += ',';
      out += "le=\"";
      out += le;
      out += '"';
    }
    out += '}';
  }
  out += ' ';
  out += formatPrometheusFloat(value);
  out += '\n';
}

void writeHeader(std::string& out, std::string_view name, std::string_view help,
                 std::string_view type) {
  // expfmt writes "# HELP name " even for an empty help text.
  out += "# HELP ";
  out += name;
  out += ' ';
  out += escapeHelp(help);
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

template <typename Metric>
std::string_view typeName() {
  if constexpr (std::is_same_v<Metric, Counter>) {
    return "counter";
  } else if constexpr (std::is_same_v<Metric, Gauge>) {
    return "gauge";
  } else {
    return "histogram";
  }
}

// Renders one family the way client_golang gathers it: label pairs sorted by
// label name, children sorted by those values, and a family without children
// left out entirely (a Vec nobody has used yet exposes nothing).
template <typename Metric>
std::string renderFamily(const Family<Metric>& family) {
  auto children = family.children();
  if (children.empty()) return {};
  const auto& names = family.labelNames();
  std::vector<size_t> order(names.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return names[a] < names[b]; });

  struct Row {
    Labels sortedValues;
    std::string labelText;
    const Metric* metric;
  };
  std::vector<Row> rows;
  rows.reserve(children.size());
  for (auto& [values, metric] : children) {
    Row row{{}, {}, metric};
    for (size_t i : order) {
      if (!row.labelText.empty()) row.labelText += ',';
      row.labelText += names[i];
      row.labelText += "=\"";
      row.labelText += escapeLabelValue(values[i]);
      row.labelText += '"';
      row.sortedValues.push_back(values[i]);
    }
    rows.push_back(std::move(row));
  }
  std::sort(rows.begin(), rows.end(),
            [](const Row& a, const Row& b) { return a.sortedValues < b.sortedValues; });

  std::string out;
  writeHeader(out, family.name(), family.help(), typeName<Metric>());
  for (const Row& row : rows) {
    if constexpr (std::is_same_v<Metric, Histogram>) {
      const Histogram::Snapshot snap = row.metric->snapshot();
      for (size_t i = 0; i < snap.upperBounds.size(); ++i) {
        writeSample(out, family.name(), "_bucket", row.labelText,
                    formatPrometheusFloat(snap.upperBounds[i]),
                    static_cast<double>(snap.cumulativeCounts[i]));
      }
      writeSample(out, family.name(), "_sum", row.labelText, {}, snap.sum);
      writeSample(out, family.name(), "_count", row.labelText, {}, static_cast<double>(snap.count));
    } else {
      writeSample(out, family.name(), "", row.labelText, {}, row.metric->value());
    }
  }
  return out;
}

}  // namespace

std::string Registry::exposition() const {
  {
    // Hooks run with hooksMutex_ held, so removeCollectHook (from a destructor)
    // waits for a scrape in progress instead of racing it.
    std::lock_guard lock(hooksMutex_);
    for (const auto& [id, hook] : hooks_) hook();
  }

  std::map<std::string, std::string> blocks;  // by name: families are sorted
  {
    std::lock_guard lock(mutex_);
    for (const auto& [name, family] : counters_) blocks[name] = renderFamily(*family);
    for (const auto& [name, family] : gauges_) blocks[name] = renderFamily(*family);
    for (const auto& [name, family] : histograms_) blocks[name] = renderFamily(*family);
  }
  if (processMetrics_ == ProcessMetrics::kInclude) {
    for (const ProcessSample& sample : readProcessSamples()) {
      std::string block;
      writeHeader(block, sample.name, sample.help, sample.type);
      writeSample(block, sample.name, "", {}, {}, sample.value);
      blocks[std::string(sample.name)] = std::move(block);
    }
  }
  std::string out;
  for (const auto& [name, block] : blocks) out += block;
  return out;
}

std::string formatPrometheusFloat(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  if (value == 0) return "0";  // expfmt writes 0 (and -0) as "0"

  // The shortest round-trip digits, in scientific form: "-1.2345e+06".
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::scientific);
  if (ec != std::errc()) return "NaN";  // cannot happen with 64 bytes
  const std::string_view sci(buf, static_cast<size_t>(end - buf));
  const size_t e = sci.find('e');
  int exponent = 0;
  std::from_chars(sci.data() + e + (sci[e + 1] == '+' ? 2 : 1), sci.data() + sci.size(), exponent);

  // strconv 'g' with shortest precision: %e when exp < -4 || exp >= 6 (the
  // "use precision 6 for this decision" rule), else %f with just the digits.
  // C++ and Go agree on the %e spelling (at least two exponent digits).
  if (exponent < -4 || exponent >= 6) return std::string(sci);

  const bool negative = sci[0] == '-';
  std::string digits;
  for (char c : sci.substr(negative ? 1 : 0, e - (negative ? 1 : 0))) {
    if (c != '.') digits += c;
  }
  std::string out = negative ? "-" : "";
  if (exponent >= 0) {
    const size_t intDigits = static_cast<size_t>(exponent) + 1;
    if (digits.size() <= intDigits) {
      out += digits;
      out.append(intDigits - digits.size(), '0');
    } else {
      out += digits.substr(0, intDigits);
      out += '.';
      out += digits.substr(intDigits);
    }
  } else {
    out += "0.";
    out.append(static_cast<size_t>(-exponent - 1), '0');
    out += digits;
  }
  return out;
}

std::string escapeLabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
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

}  // namespace relops::runtime
