#include "cli/metrics_server.hpp"

#include "core/file_input.hpp"
#include "core/text.hpp"

#include "cli/prometheus_text.hpp"
#include "cli/status_json.hpp"
#include "cli/status_page.hpp"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <list>
#include <mutex>
#include <optional>
#include <thread>

namespace tether {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

namespace {

// Limits (metrics_limits; docs/cli.md and docs/deploy.md, "Security"): a request must
// arrive whole within request_deadline of the start of its wait (a keep-alive connection:
// of the previous response); a response must be taken within write_deadline. At
// max_connections, a new connection closes the connection that has waited longest for
// its request (a partial request or an idle keep-alive), so clients that hold requests
// open cannot lock out a scrape; one that is being answered is never closed.
constexpr size_t max_request_bytes = 16 * 1024;

status bad_address(const std::string& text, const std::string& why) {
  return status(errc::invalid_argument, "--metrics=" + text + ": " + why);
}

bool all_digits(std::string_view s) {
  return !s.empty() &&
         std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c) != 0; });
}

bool is_localhost(std::string host) {
  std::transform(host.begin(), host.end(), host.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return host == "localhost";
}

/// Same length and bytes, in time that does not depend on where they differ.
bool same_secret(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < a.size(); ++i)
    diff |= static_cast<unsigned char>(a[i] ^ (i < b.size() ? b[i] : 0));
  return diff == 0;
}


} // namespace

result<metrics_address> parse_metrics_address(const std::string& text) {
  const std::string example = "give PORT, HOST:PORT or [IPv6]:PORT, e.g. 127.0.0.1:9100";
  metrics_address addr;
  std::string port_text;
  if (all_digits(text)) {
    addr.host = "127.0.0.1";
    port_text = text;
  } else if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return bad_address(text, example);
    addr.host = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string::npos)
      return bad_address(text, "no port: " + example);
    addr.host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
    if (addr.host.find(':') != std::string::npos)
      return bad_address(text, "write an IPv6 address in brackets, e.g. [::1]:9100");
  }
  if (addr.host.empty())
    return bad_address(text, "no host: " + example + " (0.0.0.0:PORT for every interface)");
  if (!all_digits(port_text) || port_text.size() > 5 || std::stoul(port_text) > 65535)
    return bad_address(text, "the port must be a number from 0 to 65535 (0: any free port)");
  addr.port = static_cast<uint16_t>(std::stoul(port_text));
  return addr;
}

status check_metrics_address(const std::string& host_port, bool has_token) {
  auto addr = parse_metrics_address(host_port);
  if (!addr)
    return addr.error();
  if (has_token || is_localhost(addr->host))
    return {};
  boost::system::error_code ec;
  auto ip = net::ip::make_address(addr->host, ec);
  if (!ec && ip.is_loopback())
    return {};
  return status(errc::invalid_argument, "--metrics=" + host_port +
                                            " is reachable from other machines: pass "
                                            "--metrics-token=FILE (or listen on 127.0.0.1)");
}

result<std::string> read_metrics_token(const std::string& path) {
  auto text = read_small_file(path, max_token_file_bytes, std::chrono::seconds(10),
                              "--metrics-token=" + path + ": the token file");
  if (!text)
    return status(errc::io_error, text.error().message());
  std::string token(trim(*text, " \t\r\n\f\v"));
  if (token.empty())
    return status(errc::invalid_argument, "--metrics-token=" + path +
                                              ": the file is empty; write a secret into it, "
                                              "e.g. openssl rand -hex 32 > " +
                                              path);
  return token;
}

// ---------------------------------------------------------------------------------------
// The server: one io_context, run by one thread; an accept loop; one session per
// connection, reading requests (keep-alive) until the peer closes or idle_timeout.

class metrics_session;

struct metrics_server::impl {
  // Declared before io: sessions still pending in io are destroyed with it and count down.
  std::atomic<size_t> connections{0};
  /// Sessions waiting for (the rest of) a request, longest-waiting first. Only the
  /// server thread touches it.
  std::list<std::weak_ptr<metrics_session>> waiting;
  net::io_context io{1};
  tcp::acceptor acceptor{io};
  net::steady_timer retry{io};
  std::string token;
  metrics_limits limits;
  std::string host;
  uint16_t port = 0;
  std::thread thread;

  std::mutex mutex;
  std::shared_ptr<const job_status> latest = std::make_shared<const job_status>();

  std::shared_ptr<const job_status> snapshot() {
    std::lock_guard<std::mutex> lock(mutex);
    return latest;
  }

  void accept();
  /// Closes the session that has waited longest for its request; false if none waits.
  bool evict_longest_waiting();
  http::response<http::string_body> respond(const http::request<http::string_body>& req);
};

/// One connection: read a request (keep-alive: the next one), answer it, repeat. Lives
/// as long as an asynchronous operation holds it; runs on the server thread only.
class metrics_session : public std::enable_shared_from_this<metrics_session> {
public:
  metrics_session(tcp::socket socket, metrics_server::impl& server)
      : stream_(std::move(socket)), server_(server) {
    ++server_.connections;
  }
  ~metrics_session() {
    leave_waiting();
    --server_.connections;
  }

  void read() {
    parser_.emplace();
    parser_->header_limit(max_request_bytes);
    parser_->body_limit(max_request_bytes);
    stream_.expires_after(
        server_.limits.request_deadline); // the whole request, however it trickles in
    server_.waiting.push_back(weak_from_this());
    waiting_at_ = std::prev(server_.waiting.end());
    waiting_ = true;
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->on_read(ec); });
  }

  /// Closes the connection; its pending read ends with operation_aborted.
  void evict() {
    leave_waiting();
    beast::error_code ignored;
    stream_.socket().close(ignored);
  }

private:
  void leave_waiting() {
    if (waiting_) {
      server_.waiting.erase(waiting_at_);
      waiting_ = false;
    }
  }

  void on_read(beast::error_code ec) {
    leave_waiting();
    if (ec) { // closed, timed out, evicted, or not HTTP: drop the connection
      beast::error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
      return;
    }
    const auto& req = parser_->get();
    response_ = server_.respond(req);
    stream_.expires_after(server_.limits.write_deadline);
    auto done = [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec || !self->response_.keep_alive()) {
        beast::error_code ignored;
        self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
        return;
      }
      self->read();
    };
    if (req.method() == http::verb::head) {
      // The headers of the GET, Content-Length included, and no body (RFC 9110, 9.3.2):
      // a keep-alive client must not read body bytes as its next response.
      head_.base() = response_.base();
      http::async_write(stream_, head_, std::move(done));
    } else {
      http::async_write(stream_, response_, std::move(done));
    }
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> response_;
  http::response<http::empty_body> head_;
  metrics_server::impl& server_;
  std::list<std::weak_ptr<metrics_session>>::iterator waiting_at_;
  bool waiting_ = false;
};

bool metrics_server::impl::evict_longest_waiting() {
  while (!waiting.empty()) {
    auto oldest = waiting.front().lock();
    if (!oldest) {
      waiting.pop_front();
      continue;
    }
    oldest->evict();
    return true;
  }
  return false;
}

void metrics_server::impl::accept() {
  acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted)
      return;
    if (ec) { // e.g. out of file descriptors: try again shortly rather than spin
      retry.expires_after(std::chrono::milliseconds(100));
      retry.async_wait([this](beast::error_code wait_ec) {
        if (!wait_ec)
          accept();
      });
      return;
    }
    // At the cap, the connection that has waited longest for its request makes room;
    // when every connection is being answered, the new one is closed at once.
    if (connections.load() < limits.max_connections || evict_longest_waiting())
      std::make_shared<metrics_session>(std::move(socket), *this)->read();
    accept();
  });
}

http::response<http::string_body>
metrics_server::impl::respond(const http::request<http::string_body>& req) {
  http::response<http::string_body> res;
  res.version(req.version());
  res.keep_alive(req.keep_alive());
  res.set(http::field::server, "tether/" TETHER_VERSION);
  res.set(http::field::cache_control, "no-store");
  res.set("X-Content-Type-Options", "nosniff");
  auto plain = [&](http::status code, std::string body) {
    res.result(code);
    res.set(http::field::content_type, "text/plain; charset=utf-8");
    res.body() = std::move(body);
  };

  std::string_view path(req.target().data(), req.target().size());
  path = path.substr(0, path.find('?'));
  // The page itself holds no job data and a browser cannot add a header to its first
  // request: it is served without the token, and sends the token (from the #token=
  // fragment of its address, which never leaves the browser) with its /status requests.
  if (!token.empty() && path != "/") {
    auto header = req[http::field::authorization];
    std::string_view value(header.data(), header.size());
    bool bearer =
        value.size() > 7 && (value.substr(0, 7) == "Bearer " || value.substr(0, 7) == "bearer ");
    if (!bearer || !same_secret(trim(value.substr(7), " \t\r\n\f\v"), token)) {
      plain(http::status::unauthorized, "401 unauthorized: send Authorization: Bearer <token>\n");
      res.set(http::field::www_authenticate, "Bearer realm=\"tether\"");
      res.prepare_payload();
      return res;
    }
  }

  std::string_view target(req.target().data(), req.target().size());
  target = target.substr(0, target.find('?'));
  bool known = target == "/" || target == "/metrics" || target == "/status";
  if (!known) {
    plain(http::status::not_found, "404 not found: try /, /status or /metrics\n");
  } else if (req.method() != http::verb::get && req.method() != http::verb::head) {
    plain(http::status::method_not_allowed, "405 method not allowed: only GET and HEAD\n");
    res.set(http::field::allow, "GET, HEAD");
  } else {
    auto status = snapshot();
    res.result(http::status::ok);
    if (target == "/metrics") {
      res.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
      res.body() = prometheus_text(*status);
    } else if (target == "/status") {
      res.set(http::field::content_type, "application/json");
      res.body() = status_json(*status);
    } else {
      res.set(http::field::content_type, "text/html; charset=utf-8");
      // The page may run its inline script and style and talk to this server, nothing else.
      res.set("Content-Security-Policy",
              "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
              "connect-src 'self'; img-src data:");
      res.body() = status_page_html();
    }
  }
  res.prepare_payload();
  return res;
}

metrics_server::metrics_server(std::unique_ptr<impl> impl) : impl_(std::move(impl)) {}

result<std::unique_ptr<metrics_server>>
metrics_server::start(const std::string& host_port, std::string token, metrics_limits limits) {
  if (auto ok = check_metrics_address(host_port, !token.empty()); !ok)
    return ok;
  auto addr = *parse_metrics_address(host_port);
  auto server = std::make_unique<impl>();
  server->token = std::move(token);
  server->limits = limits;
  server->host = addr.host;

  boost::system::error_code ec;
  net::ip::address ip;
  if (is_localhost(addr.host)) {
    ip = net::ip::address_v4::loopback();
  } else {
    ip = net::ip::make_address(addr.host, ec);
    if (ec) {
      tcp::resolver resolver(server->io);
      auto found = resolver.resolve(addr.host, "", ec);
      if (ec || found.empty())
        return bad_address(host_port, "cannot resolve host " + addr.host);
      ip = found.begin()->endpoint().address();
    }
  }
  tcp::endpoint endpoint(ip, addr.port);
  auto& acceptor = server->acceptor;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec)
    acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec)
    acceptor.bind(endpoint, ec);
  if (ec) {
    std::string why;
    if (ec == net::error::address_in_use)
      why = "port " + std::to_string(addr.port) +
            " is already in use: stop what holds it or pick another port (0: any free one)";
    else if (ec == boost::system::errc::address_not_available)
      why = addr.host + " is not an address of this machine";
    else if (ec == net::error::access_denied)
      why = "not allowed to listen on port " + std::to_string(addr.port) +
            " (ports below 1024 need privileges): pick a port above 1023";
    else
      why = "cannot listen: " + ec.message();
    return status(errc::io_error, "--metrics=" + host_port + ": " + why);
  }
  acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec)
    return status(errc::io_error, "--metrics=" + host_port + ": cannot listen: " + ec.message());
  server->port = acceptor.local_endpoint().port();

  server->accept();
  impl* raw = server.get();
  server->thread = std::thread([raw] {
    for (;;) {
      try {
        raw->io.run();
        return;
      } catch (const std::exception&) {
        // A handler threw (out of memory rendering a response): that connection is
        // lost, the server goes on.
      }
    }
  });
  return std::unique_ptr<metrics_server>(new metrics_server(std::move(server)));
}

metrics_server::~metrics_server() {
  impl_->io.stop();
  impl_->thread.join();
  // Members go in reverse order: sessions pending in io are destroyed with it, after the
  // acceptor; no handler runs any more.
}

void metrics_server::publish(job_status status) {
  auto next = std::make_shared<const job_status>(std::move(status));
  std::lock_guard<std::mutex> lock(impl_->mutex);
  impl_->latest.swap(next); // the old snapshot is freed after the unlock
}

uint16_t metrics_server::port() const {
  return impl_->port;
}

std::string metrics_server::url() const {
  bool v6 = impl_->host.find(':') != std::string::npos;
  std::string host = v6 ? "[" + impl_->host + "]" : impl_->host;
  return "http://" + host + ":" + std::to_string(impl_->port) + "/";
}

} // namespace tether
