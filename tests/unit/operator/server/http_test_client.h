// A small blocking HTTP/1.1 client for the server tests: Beast over a plain
// socket to 127.0.0.1, plus raw-socket helpers for malformed and slow requests.
#pragma once

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <string>

namespace relops::testing {

struct HttpReply {
  int status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // lower-cased names
  bool keepAlive = false;
};

// One connection that can carry several requests (keep-alive).
class HttpTestClient {
 public:
  explicit HttpTestClient(uint16_t port) : socket_(ioc_) {
    socket_.connect({boost::asio::ip::make_address("127.0.0.1"), port});
  }

  HttpReply request(const std::string& method, const std::string& target,
                    const std::string& body = "", bool keepAlive = true) {
    namespace http = boost::beast::http;
    http::request<http::string_body> req{http::string_to_verb(method), target, 11};
    req.set(http::field::host, "127.0.0.1");
    req.keep_alive(keepAlive);
    if (!body.empty()) {
      req.body() = body;
      req.prepare_payload();
    }
    http::write(socket_, req);
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    if (method == "HEAD") parser.skip(true);
    http::read(socket_, buffer_, parser);
    HttpReply reply;
    const auto& res = parser.get();
    reply.status = static_cast<int>(res.result_int());
    reply.body = res.body();
    reply.keepAlive = res.keep_alive();
    for (const auto& field : res) {
      std::string name(field.name_string());
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      reply.headers[name] = std::string(field.value());
    }
    return reply;
  }

  // Writes raw bytes (malformed requests, partial requests).
  void sendRaw(const std::string& bytes) {
    boost::asio::write(socket_, boost::asio::buffer(bytes));
  }

  // Reads until the server closes the connection; returns what arrived.
  std::string readUntilClosed() {
    std::string out;
    boost::system::error_code ec;
    char chunk[4096];
    while (true) {
      const size_t n = socket_.read_some(boost::asio::buffer(chunk), ec);
      if (ec) break;
      out.append(chunk, n);
    }
    return out;
  }

  boost::asio::ip::tcp::socket& socket() { return socket_; }

 private:
  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::socket socket_;
  boost::beast::flat_buffer buffer_;
};

inline HttpReply httpRequest(uint16_t port, const std::string& method, const std::string& target,
                             const std::string& body = "") {
  HttpTestClient client(port);
  return client.request(method, target, body, false);
}

}  // namespace relops::testing
