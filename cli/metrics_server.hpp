// --metrics=HOST:PORT: a small HTTP/1.1 server (Boost.Beast over Asio) in its own thread
// that shows the latest published job_status.
//
//   GET /metrics  Prometheus text format 0.0.4 (cli/prometheus_text.hpp)
//   GET /status   JSON (cli/status_json.hpp)
//   GET /         the status page (cli/status_page.hpp), which polls /status
//   HEAD          the headers of the GET (Content-Length too), no body
//   other paths 404, other methods 405 (Allow: GET, HEAD)
//
// Limits, against clients that hold requests open (docs/deploy.md, "Security"): at most
// max_metrics_connections at once; a request must arrive whole within 10 s (a keep-alive
// connection: of the previous response) and a response be taken within 10 s; a header
// or body over 16 KiB ends the connection. At the cap, a new connection closes the one
// that has waited longest for its request, so partial requests cannot lock a scrape out.
//
// With a token, every request must carry `Authorization: Bearer <token>`, else 401.
// Without one, the server only listens on loopback (check_metrics_address).
//
// Threads: start(), publish(), port() and the destructor are called by the owner (the main
// thread); the server's own thread only renders from the latest published snapshot.
// publish() copies the status under a mutex and never waits on a client; the destructor
// stops the server thread and joins it (open connections are closed).
#pragma once

#include "actors/job_status.hpp"
#include "core/status.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace tether {

/// Where to listen, from "--metrics=" text.
struct metrics_address {
  std::string host;  ///< as given ("127.0.0.1", "::1", "localhost", "0.0.0.0", a name)
  uint16_t port = 0; ///< 0: any free port
};

/// Accepts "PORT" (127.0.0.1:PORT), "HOST:PORT" and "[IPv6]:PORT". errc::invalid_argument
/// with a message naming --metrics otherwise.
result<metrics_address> parse_metrics_address(const std::string& host_port);

/// Refuses (errc::invalid_argument) an address that is not loopback (127.0.0.0/8, ::1,
/// localhost) when there is no token, and any address parse_metrics_address refuses.
status check_metrics_address(const std::string& host_port, bool has_token);

/// --metrics-token=FILE: the token is the file's content without surrounding whitespace.
/// errc::io_error if unreadable (missing, a directory, over max_token_file_bytes, a
/// FIFO that does not end within 10 s), errc::invalid_argument if empty.
inline constexpr size_t max_token_file_bytes = 64 * 1024;
result<std::string> read_metrics_token(const std::string& path);

/// Connections served at once (the server's file descriptors).
inline constexpr size_t max_metrics_connections = 64;

/// The server's limits (see the top of this file); tests shorten the deadlines.
struct metrics_limits {
  std::chrono::milliseconds request_deadline{10000}; ///< a whole request, from its wait
  std::chrono::milliseconds write_deadline{10000};   ///< a whole response
  size_t max_connections = max_metrics_connections;
};

class metrics_server {
public:
  /// Checks the address (check_metrics_address), binds and starts the server thread.
  /// `token` empty: no authentication. Errors name the address and what to do: a bad
  /// address (errc::invalid_argument), a port in use or an address not of this machine
  /// (errc::io_error).
  static result<std::unique_ptr<metrics_server>>
  start(const std::string& host_port, std::string token, metrics_limits limits = {});

  ~metrics_server();
  metrics_server(const metrics_server&) = delete;
  metrics_server& operator=(const metrics_server&) = delete;

  /// Makes `status` what every later response shows. Thread-safe, never blocks on I/O.
  void publish(job_status status);

  /// The port bound (the free port chosen when 0 was asked for).
  uint16_t port() const;
  /// "http://HOST:PORT/" for the start-up message.
  std::string url() const;

  struct impl;

private:
  explicit metrics_server(std::unique_ptr<impl> impl);
  std::unique_ptr<impl> impl_;
};

} // namespace tether
