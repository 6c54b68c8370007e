#include "operator/runtime/metrics.h"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <numeric>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <type_traits>

namespace relops::runtime {
namespace {

// Prometheus data model: metric names [a-zA-Z_:][a-zA-Z0-9_:]*, label names
// [a-zA-Z_][a-zA-Z0-9_]*, and names starting with "__" are reserved.
bool isValidMetricName(std::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    const bool digit = c >= '0' && c <= '9';
    if (!alpha && !(digit && i > 0)) return false;
  }
  return true;
}

bool isValidLabelName(std::string_view name) {
  if (name.empty() || name.starts_with("__")) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    const bool digit = c >= '0' && c <= '9';
    if (!alpha && !(digit && i > 0)) return false;
  }
  return true;
}

// client_golang's DefBuckets, used when a histogram is registered without any.
const std::vector<double>& defaultBuckets() {
  static const std::vector<double> kBuckets = {.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10};
  return kBuckets;
}

std::vector<double> checkedBuckets(const std::string& name, std::vector<double> buckets) {
  if (buckets.empty()) buckets = defaultBuckets();
  // client_golang drops an explicit trailing +Inf: it is always implied.
  if (std::isinf(buckets.back()) && buckets.back() > 0) buckets.pop_back();
  for (size_t i = 0; i < buckets.size(); ++i) {
    if (std::isnan(buckets[i]) || (i > 0 && !(buckets[i - 1] < buckets[i]))) {
      throw std::invalid_argument("histogram " + name + ": buckets must be strictly increasing");
    }
  }
  return buckets;
}

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

// --- process_* metrics, as client_golang's process collector reads them ---

struct ProcessSample {
  std::string_view name;
  std::string_view help;
  std::string_view type;
  double value;
};

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

template <typename Metric>
void checkCompatible(const Family<Metric>& existing, const std::vector<std::string>& labelNames,
                     const std::vector<double>& buckets) {
  if (existing.labelNames() != labelNames ||
      (std::is_same_v<Metric, Histogram> && existing.buckets() != buckets)) {
    throw std::invalid_argument("metric " + existing.name() +
                                " is already registered with other labels or buckets");
  }
}

}  // namespace

// --- values ---

void Counter::inc(double by) {
  if (!(by >= 0)) return;
  value_.fetch_add(by, std::memory_order_relaxed);
}
double Counter::value() const { return value_.load(std::memory_order_relaxed); }

void Gauge::set(double value) { value_.store(value, std::memory_order_relaxed); }
void Gauge::add(double by) { value_.fetch_add(by, std::memory_order_relaxed); }
double Gauge::value() const { return value_.load(std::memory_order_relaxed); }

Histogram::Histogram(std::vector<double> upperBounds)
    : upperBounds_(checkedBuckets("", std::move(upperBounds))),
      counts_(upperBounds_.size() + 1, 0) {}

void Histogram::observe(double value) {
  // Like sort.SearchFloat64s: the first bound >= value; NaN lands in +Inf.
  size_t bucket = upperBounds_.size();
  if (!std::isnan(value)) {
    bucket = static_cast<size_t>(std::lower_bound(upperBounds_.begin(), upperBounds_.end(), value) -
                                 upperBounds_.begin());
  }
  std::lock_guard lock(mutex_);
  ++counts_[bucket];
  sum_ += value;
  ++count_;
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot snap;
  snap.upperBounds = upperBounds_;
  snap.upperBounds.push_back(std::numeric_limits<double>::infinity());
  std::lock_guard lock(mutex_);
  snap.cumulativeCounts.reserve(counts_.size());
  uint64_t running = 0;
  for (uint64_t c : counts_) {
    running += c;
    snap.cumulativeCounts.push_back(running);
  }
  snap.sum = sum_;
  snap.count = count_;
  return snap;
}

// --- families ---

template <typename Metric>
Family<Metric>::Family(std::string name, std::string help, std::vector<std::string> labelNames,
                       std::vector<double> buckets)
    : name_(std::move(name)), help_(std::move(help)), labelNames_(std::move(labelNames)) {
  if (!isValidMetricName(name_)) throw std::invalid_argument("invalid metric name: " + name_);
  for (size_t i = 0; i < labelNames_.size(); ++i) {
    const std::string& label = labelNames_[i];
    if (!isValidLabelName(label)) {
      throw std::invalid_argument("metric " + name_ + ": invalid label name: " + label);
    }
    if (std::is_same_v<Metric, Histogram> && label == "le") {
      throw std::invalid_argument("histogram " + name_ + ": label name \"le\" is reserved");
    }
    if (std::find(labelNames_.begin(), labelNames_.begin() + static_cast<std::ptrdiff_t>(i),
                  label) != labelNames_.begin() + static_cast<std::ptrdiff_t>(i)) {
      throw std::invalid_argument("metric " + name_ + ": duplicate label name: " + label);
    }
  }
  if constexpr (std::is_same_v<Metric, Histogram>) {
    buckets_ = checkedBuckets(name_, std::move(buckets));
  } else if (!buckets.empty()) {
    throw std::invalid_argument("metric " + name_ + ": only histograms have buckets");
  }
  if (labelNames_.empty()) with({});
}

template <typename Metric>
Metric& Family<Metric>::with(const Labels& values) {
  if (values.size() != labelNames_.size()) {
    throw std::invalid_argument("metric " + name_ + ": expected " +
                                std::to_string(labelNames_.size()) + " label values, got " +
                                std::to_string(values.size()));
  }
  std::lock_guard lock(mutex_);
  auto it = children_.find(values);
  if (it != children_.end()) return *it->second;
  std::unique_ptr<Metric> child;
  if constexpr (std::is_same_v<Metric, Histogram>) {
    child = std::make_unique<Histogram>(buckets_);
  } else {
    child = std::make_unique<Metric>();
  }
  return *children_.emplace(values, std::move(child)).first->second;
}

template <typename Metric>
std::vector<std::pair<Labels, const Metric*>> Family<Metric>::children() const {
  std::lock_guard lock(mutex_);
  std::vector<std::pair<Labels, const Metric*>> out;
  out.reserve(children_.size());
  for (const auto& [labels, child] : children_) out.emplace_back(labels, child.get());
  return out;
}

template <typename Metric>
void Family<Metric>::removeMatching(const std::function<bool(const Labels&)>& matches) {
  std::lock_guard lock(mutex_);
  std::erase_if(children_, [&](const auto& child) { return matches(child.first); });
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

// --- registry ---

namespace {
bool isProcessMetricName(std::string_view name) {
  return name == "process_cpu_seconds_total" || name == "process_resident_memory_bytes" ||
         name == "process_virtual_memory_bytes" || name == "process_open_fds" ||
         name == "process_max_fds" || name == "process_start_time_seconds";
}
}  // namespace

Family<Counter>& Registry::counter(const std::string& name, const std::string& help,
                                   std::vector<std::string> labelNames) {
  std::lock_guard lock(mutex_);
  if (auto it = counters_.find(name); it != counters_.end()) {
    checkCompatible(*it->second, labelNames, {});
    return *it->second;
  }
  if (gauges_.count(name) || histograms_.count(name) ||
      (processMetrics_ == ProcessMetrics::kInclude && isProcessMetricName(name))) {
    throw std::invalid_argument("metric " + name + " is already registered with another type");
  }
  auto family = std::make_unique<Family<Counter>>(name, help, std::move(labelNames));
  return *counters_.emplace(name, std::move(family)).first->second;
}

Family<Gauge>& Registry::gauge(const std::string& name, const std::string& help,
                               std::vector<std::string> labelNames) {
  std::lock_guard lock(mutex_);
  if (auto it = gauges_.find(name); it != gauges_.end()) {
    checkCompatible(*it->second, labelNames, {});
    return *it->second;
  }
  if (counters_.count(name) || histograms_.count(name) ||
      (processMetrics_ == ProcessMetrics::kInclude && isProcessMetricName(name))) {
    throw std::invalid_argument("metric " + name + " is already registered with another type");
  }
  auto family = std::make_unique<Family<Gauge>>(name, help, std::move(labelNames));
  return *gauges_.emplace(name, std::move(family)).first->second;
}

Family<Histogram>& Registry::histogram(const std::string& name, const std::string& help,
                                       std::vector<std::string> labelNames,
                                       std::vector<double> buckets) {
  std::lock_guard lock(mutex_);
  if (auto it = histograms_.find(name); it != histograms_.end()) {
    checkCompatible(*it->second, labelNames, checkedBuckets(name, std::move(buckets)));
    return *it->second;
  }
  if (counters_.count(name) || gauges_.count(name) ||
      (processMetrics_ == ProcessMetrics::kInclude && isProcessMetricName(name))) {
    throw std::invalid_argument("metric " + name + " is already registered with another type");
  }
  auto family =
      std::make_unique<Family<Histogram>>(name, help, std::move(labelNames), std::move(buckets));
  return *histograms_.emplace(name, std::move(family)).first->second;
}

uint64_t Registry::addCollectHook(CollectHook hook) {
  std::lock_guard lock(hooksMutex_);
  const uint64_t id = nextHookId_++;
  hooks_.emplace(id, std::move(hook));
  return id;
}

void Registry::removeCollectHook(uint64_t id) {
  std::lock_guard lock(hooksMutex_);
  hooks_.erase(id);
}

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

std::vector<double> exponentialBuckets(double start, double factor, int count) {
  if (count < 1 || !(start > 0) || !(factor > 1)) {
    throw std::invalid_argument("exponentialBuckets needs count >= 1, start > 0, factor > 1");
  }
  // Repeated multiplication, not pow(): the bounds must be bit-identical to
  // Go's, which is why workqueue buckets read le="9.999999999999999e-06".
  std::vector<double> buckets;
  buckets.reserve(static_cast<size_t>(count));
  for (int i = 0; i < count; ++i) {
    buckets.push_back(start);
    start *= factor;
  }
  return buckets;
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

StandardMetrics registerStandardMetrics(Registry& registry) {
  // controller-runtime's reconcile-time (and client-go's old latency) buckets.
  const std::vector<double> reconcileBuckets = {
      0.005, 0.01, 0.025, 0.05, 0.1,  0.15, 0.2,  0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6,
      0.7,   0.8,  0.9,   1.0,  1.25, 1.5,  1.75, 2.0,  2.5, 3.0,  3.5, 4.0,  4.5, 5,
      6,     7,    8,     9,    10,   15,   20,   25,   30,  40,   50,  60};
  // workqueue histograms: prometheus.ExponentialBuckets(10e-9, 10, 12), 10 ns to 1000 s.
  const std::vector<double> workqueueBuckets = exponentialBuckets(10e-9, 10, 12);
  // k8s.io/component-base/metrics/prometheus/restclient: requestLatency.
  const std::vector<double> restBuckets = {0.005, 0.025, 0.1, 0.25, 0.5,  1.0,
                                           2.0,   4.0,   8.0, 15.0, 30.0, 60.0};
  const std::vector<std::string> controller = {"controller"};
  const std::vector<std::string> queue = {"name", "controller"};

  return StandardMetrics{
      registry.counter("controller_runtime_reconcile_total",
                       "Total number of reconciliations per controller", {"controller", "result"}),
      registry.counter("controller_runtime_reconcile_errors_total",
                       "Total number of reconciliation errors per controller", controller),
      registry.counter("controller_runtime_terminal_reconcile_errors_total",
                       "Total number of terminal reconciliation errors per controller", controller),
      registry.counter("controller_runtime_reconcile_panics_total",
                       "Total number of reconciliation panics per controller", controller),
      registry.histogram("controller_runtime_reconcile_time_seconds",
                         "Length of time per reconciliation per controller", controller,
                         reconcileBuckets),
      registry.gauge("controller_runtime_max_concurrent_reconciles",
                     "Maximum number of concurrent reconciles per controller", controller),
      registry.gauge("controller_runtime_active_workers",
                     "Number of currently used workers per controller", controller),
      registry.gauge("workqueue_depth", "Current depth of workqueue", queue),
      registry.counter("workqueue_adds_total", "Total number of adds handled by workqueue", queue),
      registry.histogram("workqueue_queue_duration_seconds",
                         "How long in seconds an item stays in workqueue before being requested",
                         queue, workqueueBuckets),
      registry.histogram("workqueue_work_duration_seconds",
                         "How long in seconds processing an item from workqueue takes.", queue,
                         workqueueBuckets),
      registry.gauge("workqueue_unfinished_work_seconds",
                     "How many seconds of work has been done that is in progress and hasn't "
                     "been observed by work_duration. Large values indicate stuck threads. One "
                     "can deduce the number of stuck threads by observing the rate at which this "
                     "increases.",
                     queue),
      registry.gauge("workqueue_longest_running_processor_seconds",
                     "How many seconds has the longest running processor for workqueue been "
                     "running.",
                     queue),
      registry.counter("workqueue_retries_total", "Total number of retries handled by workqueue",
                       queue),
      registry.counter("rest_client_requests_total",
                       "Number of HTTP requests, partitioned by status code, method, and host.",
                       {"code", "method", "host"}),
      registry.histogram("rest_client_request_duration_seconds",
                         "Request latency in seconds. Broken down by verb, and host.",
                         {"verb", "host"}, restBuckets),
      registry.gauge("leader_election_master_status",
                     "Gauge of if the reporting system is master of the relevant lease, 0 "
                     "indicates backup, 1 indicates master. 'name' is the string used to "
                     "identify the lease. Please make sure to group by name.",
                     {"name"}),
      registry,
  };
}

}  // namespace relops::runtime
