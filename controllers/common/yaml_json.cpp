#include "controllers/common/yaml_json.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <string>

namespace relops::common {
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
  // A number past what a double holds (1e999, 400 digits) stays the text it is: JSON has
  // no infinity, and rounding it to one would change what the user wrote.
  auto number = [&]() -> nlohmann::json {
    try {
      return std::stod(text);
    } catch (const std::out_of_range&) {
      return text;
    }
  };
  if (std::regex_match(text, kInt)) {
    try {
      return std::stoll(text);
    } catch (const std::out_of_range&) {
      return number();
    }
  }
  if (std::regex_match(text, kFloat)) return number();
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

// relops reads YAML as UTF-8, as kubectl does. yaml-cpp passes stray bytes through, and
// reads a stream with NUL bytes as UTF-16 or UTF-32, which can decode to code points past
// U+10FFFF; a JSON string holding either cannot be serialized again (nlohmann throws on
// dump()). NUL is not a YAML character in any case.
std::optional<size_t> invalidUtf8At(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte == 0) return i;
    size_t length = byte < 0x80           ? 1
                    : (byte >> 5) == 0x6  ? 2
                    : (byte >> 4) == 0xE  ? 3
                    : (byte >> 3) == 0x1E ? 4
                                          : 0;
    if (length == 0 || i + length > text.size()) return i;
    uint32_t code = length == 1 ? byte : byte & (0x7F >> length);
    for (size_t k = 1; k < length; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if ((next >> 6) != 0x2) return i;
      code = (code << 6) | (next & 0x3F);
    }
    // Overlong forms, UTF-16 surrogates and code points past U+10FFFF are not UTF-8.
    static constexpr uint32_t kMinimum[] = {0, 0, 0x80, 0x800, 0x10000};
    if (code < kMinimum[length] || (code >= 0xD800 && code <= 0xDFFF) || code > 0x10FFFF) {
      return i;
    }
    i += length;
  }
  return std::nullopt;
}

// A character a block scalar cannot carry as it is: control characters other than the
// line feed and tab (a lone "\r" would read back as a line break).
bool hasControlCharacter(const std::string& text) {
  return std::any_of(text.begin(), text.end(), [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return (byte < 0x20 && c != '\n' && c != '\t') || byte == 0x7F;
  });
}

// A literal block ("|", clip chomping) reads back exactly only a text that ends in one
// line break and whose first line does not start with a space or break (the block's
// indentation would take it); other multi-line texts are double-quoted.
bool literalBlockKeeps(const std::string& text) {
  return text.size() >= 2 && text.back() == '\n' && text[text.size() - 2] != '\n' &&
         text.front() != ' ' && text.front() != '\n';
}

bool needsQuotes(const std::string& text) {
  if (text.empty()) return true;
  // A plain "---" or "..." at the start of a line is a document marker.
  if (text.starts_with("---") || text.starts_with("...")) return true;
  if (!resolvePlain(text).is_string()) return true;
  static const std::regex kYaml11("^(y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF)$");
  return std::regex_match(text, kYaml11);
}

// A key is read back as text whatever it looks like, but a plain one can still be a document
// marker or break the line: keys take the quoting values take, and never a block. A simple
// key is at most 1024 characters in YAML, escapes included (4 to 6 for a control
// character): a longer key is written in the explicit form ("? key").
constexpr size_t kMaxSimpleKey = 128;

void emitKey(YAML::Emitter& out, const std::string& key) {
  out << (key.size() > kMaxSimpleKey ? YAML::LongKey : YAML::Key);
  if (hasControlCharacter(key) || key.find('\n') != std::string::npos || needsQuotes(key)) {
    out << YAML::DoubleQuoted;
  }
  out << key;
}

void emit(YAML::Emitter& out, const nlohmann::ordered_json& value) {
  switch (value.type()) {
    case nlohmann::ordered_json::value_t::object:
      out << YAML::BeginMap;
      for (const auto& [key, item] : value.items()) {
        emitKey(out, key);
        out << YAML::Value;
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
      if (hasControlCharacter(text)) {
        out << YAML::DoubleQuoted << text;
      } else if (text.find('\n') != std::string::npos) {
        out << (literalBlockKeeps(text) ? YAML::Literal : YAML::DoubleQuoted) << text;
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

// Counts documents and nothing else.
class DocumentCounter : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

// yaml-cpp 0.7 (Debian 12) can report a document forever without consuming input on some
// malformed streams, and YAML::LoadAll then loops, allocating a null node each time
// (fixed upstream in 0.8.0). Every document after the first starts at a "---" or ends at
// a "...", so a parse that reports more documents than that is stopped here first.
bool parserMakesProgress(const std::string& text) {
  size_t markers = 0;
  for (const char* marker : {"---", "..."}) {
    for (size_t at = text.find(marker); at != std::string::npos; at = text.find(marker, at + 1)) {
      ++markers;
    }
  }
  std::istringstream in(text);
  YAML::Parser parser(in);
  DocumentCounter counter;
  for (size_t documents = 0; parser.HandleNextDocument(counter);) {
    if (++documents > markers + 1) return false;
  }
  return true;
}

}  // namespace

base::Result<std::vector<nlohmann::json>> parseYamlDocuments(std::string_view text) {
  std::vector<nlohmann::json> documents;
  if (const std::optional<size_t> at = invalidUtf8At(text)) {
    return base::Error(base::ErrorKind::kConfig,
                       "invalid YAML: not UTF-8 at byte " + std::to_string(*at + 1));
  }
  try {
    const std::string stream(text);
    if (!parserMakesProgress(stream)) {
      return base::Error(base::ErrorKind::kConfig,
                         "invalid YAML: the parser stopped making progress (malformed stream)");
    }
    for (const YAML::Node& node : YAML::LoadAll(stream)) {
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

}  // namespace relops::common
