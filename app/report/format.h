// Number and text formatting the renderings share, so Markdown, JSON and HTML print the
// same value the same way.
#pragma once

#include <optional>
#include <string>

#include "controllers/common/units.h"

namespace relops::report {

// "99.953", or `absent` when there is no value.
inline std::string decimal(std::optional<double> value, int decimals = 3,
                           const std::string& absent = "–") {
  return value ? common::formatDecimal(*value, decimals) : absent;
}

inline std::string percent(std::optional<double> value, const std::string& absent = "–") {
  return value ? common::formatDecimal(*value, 3) + "%" : absent;
}

// HTML and XML text and attribute values.
inline std::string escapeHtml(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// A Markdown table cell: pipes and line breaks would break the table, and a renderer that
// passes HTML through would take angle brackets from an object as markup.
inline std::string cell(const std::string& text) {
  std::string out;
  for (const char c : text) {
    if (c == '|') {
      out += "\\|";
    } else if (c == '<') {
      out += "&lt;";
    } else if (c == '>') {
      out += "&gt;";
    } else if (c == '\n' || c == '\r') {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace relops::report
