// A plain-HTTP loopback server whose answers a test scripts byte for byte:
// for exercising the client's HTTP mechanics (chunk boundaries, keep-alive,
// a server that drops a connection) that a real API server will not do on
// request. It knows nothing of Kubernetes and never stands in for the API
// server in a test that claims cluster behaviour.
#pragma once

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace relops::testing {

struct ScriptedRequest {
  std::string method;
  std::string target;
  std::string headers;  // raw header block, lowercase names not guaranteed
  std::string body;
  int connection = 0;  // 1 for the first accepted connection, 2 for the next, ...
  int indexOnConnection = 0;

  bool hasHeader(const std::string& line) const {
    return headers.find(line + "\r\n") != std::string::npos;
  }
};

// What to do with one request: send these pieces (each a separate write,
// `pause` apart), then keep the connection or close it.
struct ScriptedResponse {
  std::vector<std::string> pieces;
  std::chrono::milliseconds pause{0};
  bool close = false;
  bool closeWithoutAnswer = false;

  static ScriptedResponse json(int status, const std::string& body, bool close = false,
                               const std::string& extraHeaders = "") {
    ScriptedResponse response;
    response.pieces.push_back("HTTP/1.1 " + std::to_string(status) +
                              " Status\r\nContent-Type: application/json\r\n" + extraHeaders +
                              "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
    response.close = close;
    return response;
  }
};

class ScriptedHttpServer {
 public:
  using Handler = std::function<ScriptedResponse(const ScriptedRequest&)>;

  explicit ScriptedHttpServer(Handler handler) : handler_(std::move(handler)) {
    listenFd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    const int one = 1;
    ::setsockopt(listenFd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(listenFd_, reinterpret_cast<sockaddr*>(&address), sizeof address);
    ::listen(listenFd_, 16);
    socklen_t length = sizeof address;
    ::getsockname(listenFd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    acceptor_ = std::thread([this] { acceptLoop(); });
  }

  ScriptedHttpServer(const ScriptedHttpServer&) = delete;
  ScriptedHttpServer& operator=(const ScriptedHttpServer&) = delete;

  ~ScriptedHttpServer() {
    stopping_ = true;
    ::shutdown(listenFd_, SHUT_RDWR);
    ::close(listenFd_);
    acceptor_.join();
    {
      std::lock_guard lock(mutex_);
      for (const int fd : open_) ::shutdown(fd, SHUT_RDWR);
    }
    for (std::thread& thread : connections_) thread.join();
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  std::vector<ScriptedRequest> requests() {
    std::lock_guard lock(mutex_);
    return requests_;
  }
  int connectionsAccepted() const { return accepted_.load(); }

 private:
  void acceptLoop() {
    while (!stopping_) {
      const int fd = ::accept(listenFd_, nullptr, nullptr);
      if (fd < 0) return;
      const int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      const int number = ++accepted_;
      std::lock_guard lock(mutex_);
      open_.push_back(fd);
      connections_.emplace_back([this, fd, number] { serve(fd, number); });
    }
  }

  // Reads one request (headers, then Content-Length bytes); false at EOF.
  static bool readRequest(int fd, std::string& pending, ScriptedRequest& request) {
    char buffer[4096];
    size_t headerEnd;
    while ((headerEnd = pending.find("\r\n\r\n")) == std::string::npos) {
      const ssize_t n = ::read(fd, buffer, sizeof buffer);
      if (n <= 0) return false;
      pending.append(buffer, static_cast<size_t>(n));
    }
    const std::string head = pending.substr(0, headerEnd + 2);
    pending.erase(0, headerEnd + 4);
    const size_t firstSpace = head.find(' ');
    const size_t secondSpace = head.find(' ', firstSpace + 1);
    request.method = head.substr(0, firstSpace);
    request.target = head.substr(firstSpace + 1, secondSpace - firstSpace - 1);
    request.headers = head.substr(head.find("\r\n") + 2);
    size_t contentLength = 0;
    for (const char* name : {"Content-Length: ", "content-length: "}) {
      const size_t at = request.headers.find(name);
      if (at != std::string::npos) contentLength = std::stoul(request.headers.substr(at + 16));
    }
    while (pending.size() < contentLength) {
      const ssize_t n = ::read(fd, buffer, sizeof buffer);
      if (n <= 0) return false;
      pending.append(buffer, static_cast<size_t>(n));
    }
    request.body = pending.substr(0, contentLength);
    pending.erase(0, contentLength);
    return true;
  }

  void serve(int fd, int number) {
    std::string pending;
    for (int index = 1; !stopping_; ++index) {
      ScriptedRequest request;
      if (!readRequest(fd, pending, request)) break;
      request.connection = number;
      request.indexOnConnection = index;
      {
        std::lock_guard lock(mutex_);
        requests_.push_back(request);
      }
      const ScriptedResponse response = handler_(request);
      if (response.closeWithoutAnswer) break;
      bool failed = false;
      for (const std::string& piece : response.pieces) {
        if (::send(fd, piece.data(), piece.size(), MSG_NOSIGNAL) < 0) failed = true;
        if (response.pause.count() > 0) std::this_thread::sleep_for(response.pause);
      }
      if (failed || response.close) break;
    }
    ::shutdown(fd, SHUT_RDWR);
    std::lock_guard lock(mutex_);
    std::erase(open_, fd);
    ::close(fd);
  }

  Handler handler_;
  int listenFd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> accepted_{0};
  std::thread acceptor_;
  std::mutex mutex_;
  std::vector<int> open_;
  std::vector<std::thread> connections_;
  std::vector<ScriptedRequest> requests_;
};

}  // namespace relops::testing
