#include "controllers/slo/selector.h"

namespace relops::slo {
namespace {

bool isNameStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool isNameChar(char c) { return isNameStart(c) || (c >= '0' && c <= '9'); }
bool isSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  bool done() const { return pos_ >= text_.size(); }
  char peek() const { return done() ? '\0' : text_[pos_]; }
  void skipSpace() {
    while (!done() && isSpace(text_[pos_])) ++pos_;
  }
  bool consume(char c) {
    if (peek() != c) return false;
    ++pos_;
    return true;
  }
  // A metric name also allows ':' (recording rules); a label name does not.
  std::string name(bool metric) {
    const size_t start = pos_;
    if (!done() && (isNameStart(peek()) || (metric && peek() == ':'))) ++pos_;
    while (!done() && (isNameChar(peek()) || (metric && peek() == ':'))) ++pos_;
    return std::string(text_.substr(start, pos_ - start));
  }
  std::string op() {
    for (std::string_view candidate : {"=~", "!~", "!=", "="}) {
      if (text_.substr(pos_, candidate.size()) == candidate) {
        pos_ += candidate.size();
        return std::string(candidate);
      }
    }
    return "";
  }
  // A double-quoted string; returns false when it is not closed.
  bool quoted(std::string& out) {
    if (!consume('"')) return false;
    while (!done()) {
      const char c = text_[pos_++];
      if (c == '"') return true;
      out += c;
      if (c == '\\') {
        if (done()) return false;
        out += text_[pos_++];
      }
    }
    return false;
  }
  size_t position() const { return pos_; }

 private:
  std::string_view text_;
  size_t pos_ = 0;
};

}  // namespace

bool isLabelName(std::string_view name) {
  if (name.empty() || !isNameStart(name.front())) return false;
  for (char c : name) {
    if (!isNameChar(c)) return false;
  }
  return true;
}

base::Result<Selector> Selector::parse(std::string_view text, std::string_view field) {
  auto fail = [&](std::string_view why) {
    return base::Error(
        base::ErrorKind::kConfig,
        std::string(field) + ": invalid series selector \"" + std::string(text) +
            "\": " + std::string(why) +
            " (want a metric name and optional label matchers, such as "
            "http_requests_total{job=\"api\",code=~\"5..\"}; no functions, no range)");
  };
  if (text.empty()) return fail("empty");
  if (text.size() > 1024) return fail("longer than 1024 characters");
  Parser parser(text);
  Selector selector;
  selector.text_ = std::string(text);
  selector.metric_ = parser.name(true);
  if (selector.metric_.empty()) return fail("it must start with a metric name");
  if (parser.done()) return selector;
  if (!parser.consume('{')) {
    return fail("unexpected \"" + std::string(1, parser.peek()) + "\" after the metric name");
  }
  parser.skipSpace();
  while (!parser.consume('}')) {
    LabelMatcher matcher;
    matcher.name = parser.name(false);
    if (matcher.name.empty()) return fail("expected a label name");
    parser.skipSpace();
    matcher.op = parser.op();
    if (matcher.op.empty()) return fail("expected =, !=, =~ or !~ after " + matcher.name);
    parser.skipSpace();
    if (!parser.quoted(matcher.value))
      return fail("expected a double-quoted value for " + matcher.name);
    selector.matchers_.push_back(std::move(matcher));
    parser.skipSpace();
    if (parser.consume(',')) {
      parser.skipSpace();
    } else if (parser.peek() != '}') {
      return fail("expected , or } after a matcher");
    }
  }
  if (!parser.done()) return fail("unexpected text after }");
  return selector;
}

std::string Selector::promql() const {
  if (matchers_.empty()) return metric_;
  std::string text = metric_ + "{";
  for (size_t i = 0; i < matchers_.size(); ++i) {
    if (i > 0) text += ",";
    text += matchers_[i].name + matchers_[i].op + "\"" + matchers_[i].value + "\"";
  }
  return text + "}";
}

bool Selector::hasMatcher(std::string_view label) const {
  for (const LabelMatcher& matcher : matchers_) {
    if (matcher.name == label) return true;
  }
  return false;
}

Selector Selector::withMatcher(LabelMatcher matcher) const {
  Selector copy = *this;
  copy.matchers_.push_back(std::move(matcher));
  copy.text_ = copy.promql();
  return copy;
}

Selector Selector::withEnforcedMatcher(std::string_view label, std::string_view value) const {
  Selector copy = *this;
  std::erase_if(copy.matchers_, [&](const LabelMatcher& matcher) { return matcher.name == label; });
  // Label values are written between double quotes: escape what would end or break them.
  std::string quoted;
  for (char c : value) {
    if (c == '\\' || c == '"') quoted += '\\';
    quoted += c;
  }
  copy.matchers_.push_back({std::string(label), "=", std::move(quoted)});
  copy.text_ = copy.promql();
  return copy;
}

}  // namespace relops::slo
