#include "operator/kube/url.h"

#include <algorithm>
#include <cctype>

namespace relops::kube {
namespace {

bool unreserved(unsigned char c) {
  return std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.' || c == '~';
}

void appendEscaped(std::string& out, unsigned char c) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  out += '%';
  out += kHex[c >> 4];
  out += kHex[c & 15];
}

base::Error badUrl(std::string_view url, const std::string& problem) {
  return base::Error(base::ErrorKind::kConfig,
                     "server URL \"" + std::string(url) + "\": " + problem);
}

}  // namespace

std::string ServerUrl::authority() const {
  const std::string shownHost = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  if ((tls && port == "443") || (!tls && port == "80")) return shownHost;
  return shownHost + ":" + port;
}

Result<ServerUrl> parseServerUrl(std::string_view url) {
  ServerUrl parsed;
  std::string_view rest = url;
  if (rest.rfind("https://", 0) == 0) {
    rest.remove_prefix(8);
  } else if (rest.rfind("http://", 0) == 0) {
    parsed.tls = false;
    rest.remove_prefix(7);
  } else {
    return badUrl(url, "must start with https:// or http://");
  }
  const size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  if (slash != std::string_view::npos) {
    std::string_view path = rest.substr(slash);
    if (path.find_first_of("?#") != std::string_view::npos) {
      return badUrl(url, "must not have a query or fragment");
    }
    while (!path.empty() && path.back() == '/') path.remove_suffix(1);
    parsed.pathPrefix = std::string(path);
  }
  if (authority.find('@') != std::string_view::npos) {
    return badUrl(url, "user information in the URL is not supported");
  }
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return badUrl(url, "unterminated IPv6 address");
    parsed.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return badUrl(url, "unexpected text after the IPv6 address");
      port = after.substr(1);
    }
  } else {
    const size_t colon = authority.rfind(':');
    parsed.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (parsed.host.empty()) return badUrl(url, "no host");
  if (!port.empty()) {
    if (!std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
        port.size() > 5 || std::stoi(std::string(port)) > 65535) {
      return badUrl(url, "port \"" + std::string(port) + "\" is not a number up to 65535");
    }
    parsed.port = std::string(port);
  } else {
    parsed.port = parsed.tls ? "443" : "80";
  }
  return parsed;
}

std::string escapePathSegment(std::string_view segment) {
  std::string out;
  out.reserve(segment.size());
  for (const char ch : segment) {
    const auto c = static_cast<unsigned char>(ch);
    if (unreserved(c) || c == ':' || c == '@') {
      out += ch;
    } else {
      appendEscaped(out, c);
    }
  }
  return out;
}

std::string escapeQueryValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (const char ch : value) {
    const auto c = static_cast<unsigned char>(ch);
    if (unreserved(c)) {
      out += ch;
    } else if (c == ' ') {
      out += '+';
    } else {
      appendEscaped(out, c);
    }
  }
  return out;
}

Query& Query::add(std::string key, std::string value) {
  params_.emplace_back(std::move(key), std::move(value));
  return *this;
}

Query& Query::addIfSet(std::string key, std::string value) {
  if (!value.empty()) add(std::move(key), std::move(value));
  return *this;
}

std::string Query::str() const {
  std::string out;
  for (const auto& [key, value] : params_) {
    out += out.empty() ? '?' : '&';
    out += escapeQueryValue(key);
    out += '=';
    out += escapeQueryValue(value);
  }
  return out;
}

std::string resourcePath(const ResourceRef& resource, std::string_view namespace_,
                         std::string_view name, std::string_view subresource) {
  std::string path = resource.group.empty() ? "/api/" + escapePathSegment(resource.version)
                                            : "/apis/" + escapePathSegment(resource.group) + "/" +
                                                  escapePathSegment(resource.version);
  if (resource.namespaced && !namespace_.empty()) {
    path += "/namespaces/" + escapePathSegment(namespace_);
  }
  path += "/" + escapePathSegment(resource.resource);
  if (!name.empty()) {
    path += "/" + escapePathSegment(name);
    if (!subresource.empty()) path += "/" + escapePathSegment(subresource);
  }
  return path;
}

Query listQuery(const ListOptions& options) {
  Query query;
  query.addIfSet("labelSelector", options.labelSelector);
  query.addIfSet("fieldSelector", options.fieldSelector);
  if (options.limit > 0) query.add("limit", std::to_string(options.limit));
  query.addIfSet("continue", options.continueToken);
  query.addIfSet("resourceVersion", options.resourceVersion);
  query.addIfSet("resourceVersionMatch", options.resourceVersionMatch);
  return query;
}

Query watchQuery(const WatchOptions& options) {
  Query query;
  query.add("watch", "true");
  query.addIfSet("labelSelector", options.labelSelector);
  query.addIfSet("fieldSelector", options.fieldSelector);
  query.addIfSet("resourceVersion", options.resourceVersion);
  if (options.allowWatchBookmarks) query.add("allowWatchBookmarks", "true");
  if (options.timeoutSeconds > 0)
    query.add("timeoutSeconds", std::to_string(options.timeoutSeconds));
  return query;
}

Query writeQuery(const WriteOptions& options, bool serverSideApply) {
  Query query;
  query.addIfSet("fieldManager", options.fieldManager);
  if (serverSideApply && options.force) query.add("force", "true");
  if (options.dryRun) query.add("dryRun", "All");
  return query;
}

std::string_view contentType(PatchType type) {
  switch (type) {
    case PatchType::kMerge:
      return "application/merge-patch+json";
    case PatchType::kJson:
      return "application/json-patch+json";
    case PatchType::kApply:
      return "application/apply-patch+yaml";
  }
  return "application/merge-patch+json";
}

}  // namespace relops::kube
