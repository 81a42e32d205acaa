// A tiny HTTP/1.1 server on 127.0.0.1 (ephemeral port) for the fetch tests: one thread per connection, one
// request per connection (Connection: close), and a handler that writes raw bytes, so a test can stall, cut a
// body short or lie in its headers as a real server might. Nothing here reaches beyond the loopback interface.
#pragma once
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace scitune::testing {

struct HttpRequest {
  std::string method, path;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string header(const std::string& name) const {
    const auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

class HttpConnection {
 public:
  explicit HttpConnection(int fd, const std::atomic<bool>* stopping) : fd_(fd), stopping_(stopping) {}
  // False once the client has gone.
  bool send(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }
  // A whole response with Content-Length.
  bool respond(int status, std::string_view body, const std::string& content_type = "application/pdf",
               const std::string& extra_headers = "") {
    return send(
               head(status, content_type, extra_headers + "Content-Length: " + std::to_string(body.size()) + "\r\n")) &&
           send(body);
  }
  static std::string head(int status, const std::string& content_type, const std::string& extra_headers) {
    return "HTTP/1.1 " + std::to_string(status) + " " + reason(status) + "\r\nContent-Type: " + content_type +
           "\r\nConnection: close\r\n" + extra_headers + "\r\n";
  }
  // Sleeps up to `d`, returning early when the server stops (so a stalled handler never holds up a test).
  void pause(std::chrono::milliseconds d) const {
    const auto until = std::chrono::steady_clock::now() + d;
    while (!stopping_->load() && std::chrono::steady_clock::now() < until)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  bool stopping() const { return stopping_->load(); }

 private:
  static std::string reason(int status) {
    switch (status) {
      case 200:
        return "OK";
      case 206:
        return "Partial Content";
      case 302:
        return "Found";
      case 404:
        return "Not Found";
      case 416:
        return "Range Not Satisfiable";
      case 503:
        return "Service Unavailable";
      default:
        return "Status";
    }
  }
  int fd_;
  const std::atomic<bool>* stopping_;
};

class LoopbackHttpServer {
 public:
  using Handler = std::function<void(const HttpRequest&, HttpConnection&)>;

  explicit LoopbackHttpServer(Handler handler) : handler_(std::move(handler)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listen_fd_ < 0) throw std::runtime_error("socket failed");
    const int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listen_fd_, 64) != 0)
      throw std::runtime_error("bind/listen on 127.0.0.1 failed");
    socklen_t len = sizeof addr;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    accept_thread_ = std::thread([this] { accept_loop(); });
  }
  ~LoopbackHttpServer() {
    stopping_.store(true);
    accept_thread_.join();
    ::close(listen_fd_);
    std::vector<std::thread> connections;
    {
      std::lock_guard lock(mu_);  // no new connections now; serve() takes this lock, so join outside it
      connections.swap(connections_);
    }
    for (auto& t : connections) t.join();
  }
  LoopbackHttpServer(const LoopbackHttpServer&) = delete;
  LoopbackHttpServer& operator=(const LoopbackHttpServer&) = delete;

  int port() const { return port_; }
  std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port_) + path; }
  // Every request so far, in arrival order.
  std::vector<HttpRequest> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }

 private:
  void accept_loop() {
    while (!stopping_.load()) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      std::lock_guard lock(mu_);
      connections_.emplace_back([this, fd] { serve(fd); });
    }
  }

  void serve(int fd) {
    std::string buf;
    char chunk[4096];
    size_t end;
    while ((end = buf.find("\r\n\r\n")) == std::string::npos && buf.size() < 65536 && !stopping_.load()) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
      if (n <= 0) break;
      buf.append(chunk, static_cast<size_t>(n));
    }
    if (end != std::string::npos) {
      HttpRequest req = parse(buf.substr(0, end));
      {
        std::lock_guard lock(mu_);
        requests_.push_back(req);
      }
      HttpConnection conn(fd, &stopping_);
      handler_(req, conn);
    }
    ::shutdown(fd, SHUT_RDWR);
    ::close(fd);
  }

  static HttpRequest parse(const std::string& head) {
    HttpRequest r;
    size_t pos = head.find("\r\n");
    const std::string first = head.substr(0, pos);
    const size_t a = first.find(' '), b = first.find(' ', a + 1);
    r.method = first.substr(0, a);
    r.path = first.substr(a + 1, b - a - 1);
    while (pos != std::string::npos && pos < head.size()) {
      const size_t next = head.find("\r\n", pos + 2);
      const std::string line = head.substr(pos + 2, next == std::string::npos ? std::string::npos : next - pos - 2);
      if (const size_t c = line.find(':'); c != std::string::npos) {
        std::string name = line.substr(0, c);
        for (char& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        size_t v = c + 1;
        while (v < line.size() && line[v] == ' ') ++v;
        r.headers[name] = line.substr(v);
      }
      pos = next;
    }
    return r;
  }

  Handler handler_;
  int listen_fd_ = -1, port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread accept_thread_;
  mutable std::mutex mu_;
  std::vector<std::thread> connections_;
  std::vector<HttpRequest> requests_;
};

// Serves `body` honouring "Range: bytes=N-" as a real file server would.
inline void serve_bytes(const HttpRequest& req, HttpConnection& conn, const std::string& body) {
  const std::string range = req.header("range");
  if (range.rfind("bytes=", 0) == 0 && !range.empty() && range.back() == '-') {
    const size_t from = std::stoull(range.substr(6, range.size() - 7));
    if (from >= body.size()) {
      conn.respond(416, "", "text/plain", "Content-Range: bytes */" + std::to_string(body.size()) + "\r\n");
      return;
    }
    conn.respond(206, std::string_view(body).substr(from), "application/pdf",
                 "Content-Range: bytes " + std::to_string(from) + "-" + std::to_string(body.size() - 1) + "/" +
                     std::to_string(body.size()) + "\r\n");
    return;
  }
  conn.respond(200, body);
}

// A small file that passes the %PDF- check, different for each seed.
inline std::string fake_pdf(size_t size, unsigned seed) {
  std::string s = "%PDF-1.4\n%";
  uint32_t x = seed * 2654435761u + 12345u;
  while (s.size() < size) {
    x = x * 1664525u + 1013904223u;
    s += static_cast<char>(x >> 24);
  }
  s.resize(size);
  return s;
}

}  // namespace scitune::testing
