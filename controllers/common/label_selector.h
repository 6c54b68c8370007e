// metav1.LabelSelector as the kinds read it (ErrorBudgetPolicy's sloSelector and
// workloadSelector, ChangeWindow's): parsed with the API server's bounds, matched against an
// object's labels, written back as the JSON an admission binding's objectSelector takes.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "controllers/common/json_fields.h"
#include "operator/base/result.h"

namespace relops::common {

struct LabelSelectorRequirement {
  std::string key;
  std::string op;  // In, NotIn, Exists, DoesNotExist
  std::vector<std::string> values;
  friend bool operator==(const LabelSelectorRequirement&,
                         const LabelSelectorRequirement&) = default;
};

// All matchLabels and all matchExpressions must hold; an empty selector matches everything.
struct LabelSelector {
  std::map<std::string, std::string> matchLabels;
  std::vector<LabelSelectorRequirement> matchExpressions;

  bool matches(const std::map<std::string, std::string>& labels) const;
  friend bool operator==(const LabelSelector&, const LabelSelector&) = default;
};

// At most 32 matchLabels and 16 matchExpressions (of at most 32 values); errors are kConfig
// and name the field.
base::Result<LabelSelector> parseLabelSelector(const JsonObject& object);
nlohmann::json labelSelectorJson(const LabelSelector& selector);

}  // namespace relops::common
