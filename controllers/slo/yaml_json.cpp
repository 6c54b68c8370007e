#include "controllers/slo/yaml_json.h"

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <regex>
#include <string>

namespace relops::slo {
namespace {

// YAML 1.2 core schema resolution of a plain scalar.
nlohmann::json resolvePlain(const std::string& text) {
  static const std::regex kNull("^(~|null|Null|NULL|)$");
  static const std::regex kTrue("^(true|True|TRUE)$");
  static const std::regex kFalse("^(false|False|FALSE)$");
  static const std::regex kInt("^[-+]?[0-9]+$");
  static const std::regex kFloat("^[-+]?([.][0-9]+|[0-9]+([.][0-9]*)?)([eE][-+]?[0-9]+)?$");
  if (std::regex_match(text, kNull)) return nullptr;
  if (std::regex_match(text, kTrue)) return true;
  if (std::regex_match(text, kFalse)) return false;
  if (std::regex_match(text, kInt)) {
    try {
      return std::stoll(text);
    } catch (const std::exception&) {
      return std::stod(text);
    }
  }
  if (std::regex_match(text, kFloat)) return std::stod(text);
  return text;
}

// Aliases can make a cycle (`a: &a [*a]`) or expand exponentially ("billion laughs"):
// the conversion is bounded in depth and in nodes, and says so instead of crashing.
constexpr int kMaxDepth = 64;
constexpr int64_t kMaxNodes = 1000000;

struct TooLarge {
  std::string why;
};

nlohmann::json toJson(const YAML::Node& node, int depth, int64_t& nodes) {
  if (depth > kMaxDepth)
    throw TooLarge{"nested deeper than " + std::to_string(kMaxDepth) + " levels"};
  if (++nodes > kMaxNodes) {
    throw TooLarge{"more than " + std::to_string(kMaxNodes) + " nodes once aliases are expanded"};
  }
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return nullptr;
    case YAML::NodeType::Scalar:
      // "!" marks a quoted (non-plain) scalar: always a string.
      if (node.Tag() == "!" || node.Tag() == "tag:yaml.org,2002:str") return node.Scalar();
      return resolvePlain(node.Scalar());
    case YAML::NodeType::Sequence: {
      nlohmann::json array = nlohmann::json::array();
      for (const YAML::Node& item : node) array.push_back(toJson(item, depth + 1, nodes));
      return array;
    }
    case YAML::NodeType::Map: {
      nlohmann::json object = nlohmann::json::object();
      for (const auto& entry : node) {
        object[entry.first.as<std::string>()] = toJson(entry.second, depth + 1, nodes);
      }
      return object;
    }
  }
  return nullptr;
}

bool needsQuotes(const std::string& text) {
  if (text.empty()) return true;
  if (!resolvePlain(text).is_string()) return true;
  static const std::regex kYaml11("^(y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF)$");
  return std::regex_match(text, kYaml11);
}

void emit(YAML::Emitter& out, const nlohmann::ordered_json& value) {
  switch (value.type()) {
    case nlohmann::ordered_json::value_t::object:
      out << YAML::BeginMap;
      for (const auto& [key, item] : value.items()) {
        out << YAML::Key << key << YAML::Value;
        emit(out, item);
      }
      out << YAML::EndMap;
      break;
    case nlohmann::ordered_json::value_t::array:
      out << YAML::BeginSeq;
      for (const auto& item : value) emit(out, item);
      out << YAML::EndSeq;
      break;
    case nlohmann::ordered_json::value_t::string: {
      const auto& text = value.get_ref<const std::string&>();
      if (text.find('\n') != std::string::npos) {
        out << YAML::Literal << text;
      } else if (needsQuotes(text)) {
        out << YAML::DoubleQuoted << text;
      } else {
        out << text;
      }
      break;
    }
    case nlohmann::ordered_json::value_t::boolean:
      out << (value.get<bool>() ? "true" : "false");
      break;
    case nlohmann::ordered_json::value_t::null:
      out << YAML::Null;
      break;
    default:
      out << value.dump();  // numbers: JSON's rendering is valid YAML
      break;
  }
}

}  // namespace

base::Result<std::vector<nlohmann::json>> parseYamlDocuments(std::string_view text) {
  std::vector<nlohmann::json> documents;
  try {
    for (const YAML::Node& node : YAML::LoadAll(std::string(text))) {
      int64_t nodes = 0;
      nlohmann::json document = toJson(node, 0, nodes);
      if (!document.is_null()) documents.push_back(std::move(document));
    }
  } catch (const YAML::Exception& error) {
    return base::Error(base::ErrorKind::kConfig,
                       "invalid YAML at line " + std::to_string(error.mark.line + 1) + ", column " +
                           std::to_string(error.mark.column + 1) + ": " + error.msg);
  } catch (const TooLarge& error) {
    return base::Error(base::ErrorKind::kConfig, "invalid YAML: a document is " + error.why);
  }
  return documents;
}

std::string toYaml(const nlohmann::ordered_json& value) {
  YAML::Emitter out;
  out.SetIndent(2);
  out.SetSeqFormat(YAML::Block);
  out.SetMapFormat(YAML::Block);
  emit(out, value);
  return std::string(out.c_str()) + "\n";
}

}  // namespace relops::slo
