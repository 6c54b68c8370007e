// A Prometheus series selector, `metric{label="value",...}`: the only PromQL a user
// writes into an SLO. relops wraps it in rate()/increase() itself, so a selector with a
// function or a range is rejected here as it is by the CRD's CEL rule.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "operator/base/result.h"

namespace relops::slo {

struct LabelMatcher {
  std::string name;
  std::string op;     // "=", "!=", "=~" or "!~"
  std::string value;  // as written between the quotes, escapes kept
};

class Selector {
 public:
  Selector() = default;

  // Errors are kConfig and name `field`.
  static base::Result<Selector> parse(std::string_view text, std::string_view field);

  const std::string& metric() const { return metric_; }
  const std::vector<LabelMatcher>& matchers() const { return matchers_; }
  // The text as written in the object.
  const std::string& text() const { return text_; }
  // `metric{a="b",c=~"d"}` without spaces; `metric` alone when there are no matchers.
  std::string promql() const;
  bool hasMatcher(std::string_view label) const;

  // A copy with one more matcher, such as le="0.5" on a histogram bucket.
  Selector withMatcher(LabelMatcher matcher) const;

  // A copy whose only matcher on `label` is label="value": every matcher already on that
  // label (=, !=, =~, !~) is dropped first. prometheus-operator's enforcedNamespaceLabel
  // (prom-label-proxy's enforcer) does the same, so a selector naming another namespace
  // is confined, not refused.
  Selector withEnforcedMatcher(std::string_view label, std::string_view value) const;

 private:
  std::string metric_;
  std::vector<LabelMatcher> matchers_;
  std::string text_;
};

// True when `name` is a Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*).
bool isLabelName(std::string_view name);

}  // namespace relops::slo
