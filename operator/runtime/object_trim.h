// Helpers for cache transforms (ReflectorOptions::transform, Manager::setTransform): a
// controller that reads little of a large kind caches only that.
#pragma once

#include <initializer_list>
#include <nlohmann/json.hpp>

namespace relops::runtime {

// A new object of the same apiVersion and kind with only the named metadata fields,
// moved out of `object`; the caller adds what else it reads and replaces `object`.
nlohmann::json keepMetadata(nlohmann::json& object, std::initializer_list<const char*> fields);

}  // namespace relops::runtime
