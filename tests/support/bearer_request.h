// A request to one of the operator's authorized endpoints, as a test dispatches it to an
// HttpServer: "/path?query" split as the server parses it, with a bearer token when one is given.
#pragma once

#include <cstddef>
#include <string>

#include "operator/server/http_server.h"

namespace relops::testing {

inline server::Request bearerRequest(const std::string& target, const std::string& token,
                                     const std::string& method = "GET") {
  server::Request request;
  request.method = method;
  const size_t query = target.find('?');
  request.path = target.substr(0, query);
  if (query != std::string::npos) request.query = target.substr(query + 1);
  if (!token.empty()) request.headers["authorization"] = "Bearer " + token;
  return request;
}

}  // namespace relops::testing
