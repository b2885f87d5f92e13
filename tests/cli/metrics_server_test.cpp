#include "cli/metrics_log.hpp"
#include "cli/metrics_server.hpp"
#include "tests/skip.hpp"

#include <doctest/doctest.h>
#include "tests/child_process.hpp"

#include <arpa/inet.h>
#include <atomic>
#include <cctype>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <netinet/in.h>
#include <sstream>
#include <string>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace tether;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

job_status some_job(uint64_t updates = 1872) {
  job_status s;
  s.state = "training";
  s.model = "mlp:784,256,128,10";
  s.dataset = "fashion-mnist";
  s.consistency = "async";
  s.workers = s.shards = 1;
  s.updates = updates;
  s.train_loss = 0.5;
  worker_status w;
  w.alive = true;
  w.step_buckets.assign(step_time_bounds.size() + 1, 0);
  s.worker.push_back(w);
  s.shard.push_back({});
  s.staleness_histogram = {3, 1};
  s.tau_sum = 1;
  s.tau_count = 4;
  return s;
}

/// A connected TCP socket to 127.0.0.1:port (receive timeout 5 s), closed at scope end.
struct client_socket {
  int fd = -1;
  explicit client_socket(uint16_t port) {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    timeval tv{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }
  ~client_socket() { ::close(fd); }
  void send_all(const std::string& data) {
    size_t done = 0;
    while (done < data.size()) {
      ssize_t n = ::send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
      REQUIRE(n > 0);
      done += size_t(n);
    }
  }
  std::string read_to_end() {
    std::string out;
    char buf[8192];
    ssize_t n;
    while ((n = ::recv(fd, buf, sizeof(buf), 0)) > 0)
      out.append(buf, size_t(n));
    return out;
  }
  bool connected = false;
};

struct http_reply {
  int code = 0;
  std::map<std::string, std::string> headers; ///< names in lower case
  std::string body;
};

http_reply parse_reply(const std::string& raw) {
  http_reply r;
  auto end = raw.find("\r\n\r\n");
  if (raw.size() < 12 || end == std::string::npos)
    return r;
  r.code = std::atoi(raw.c_str() + 9);
  std::istringstream head(raw.substr(0, end));
  std::string line;
  std::getline(head, line);
  while (std::getline(head, line)) {
    auto colon = line.find(':');
    if (colon == std::string::npos)
      continue;
    std::string name = line.substr(0, colon);
    for (auto& c : name)
      c = char(std::tolower(static_cast<unsigned char>(c)));
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(' '));
    if (!value.empty() && value.back() == '\r')
      value.pop_back();
    r.headers[name] = value;
  }
  r.body = raw.substr(end + 4);
  return r;
}

/// One request on its own connection (Connection: close).
http_reply request(uint16_t port, const std::string& method, const std::string& target,
                   const std::string& extra_headers = "") {
  client_socket sock(port);
  REQUIRE(sock.connected);
  sock.send_all(method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" +
                extra_headers + "\r\n");
  return parse_reply(sock.read_to_end());
}

uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct scratch_dir {
  fs::path path;
  explicit scratch_dir(const std::string& name) {
    path = fs::temp_directory_path() / ("tether_" + name + "_" + std::to_string(::getpid()));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~scratch_dir() { fs::remove_all(path); }
};

using tether::testing::child_process;

} // namespace

TEST_CASE("metrics address: PORT, HOST:PORT, [IPv6]:PORT and what is refused") {
  auto a = parse_metrics_address("9100");
  REQUIRE(a);
  CHECK(a->host == "127.0.0.1");
  CHECK(a->port == 9100);
  a = parse_metrics_address("0.0.0.0:0");
  REQUIRE(a);
  CHECK(a->host == "0.0.0.0");
  CHECK(a->port == 0);
  a = parse_metrics_address("[::1]:9100");
  REQUIRE(a);
  CHECK(a->host == "::1");
  for (const char* bad : {"", "host", ":9100", "127.0.0.1:", "127.0.0.1:65536", "::1:9100",
                          "127.0.0.1:9x", "[::1]9100"}) {
    CAPTURE(bad);
    auto r = parse_metrics_address(bad);
    REQUIRE(!r);
    CHECK(r.error().code() == errc::invalid_argument);
    CHECK(r.error().message().starts_with("--metrics="));
  }

  for (const char* loopback :
       {"9100", "127.0.0.1:9100", "127.1.2.3:0", "[::1]:9100", "localhost:9100", "LocalHost:1"})
    CHECK_MESSAGE(check_metrics_address(loopback, false), loopback);
  auto open = check_metrics_address("0.0.0.0:9100", false);
  REQUIRE(!open);
  CHECK(open.message().starts_with(
      "--metrics=0.0.0.0:9100 is reachable from other machines: pass --metrics-token=FILE"));
  CHECK(!check_metrics_address("10.0.0.5:9100", false));
  CHECK(!check_metrics_address("myhost:9100", false));
  CHECK(check_metrics_address("0.0.0.0:9100", true));
}

TEST_CASE("metrics token file: trimmed, and empty or missing is an error") {
  scratch_dir dir("metrics_token");
  std::ofstream(dir.path / "token") << "  s3cret\n";
  auto t = read_metrics_token((dir.path / "token").string());
  REQUIRE(t);
  CHECK(*t == "s3cret");
  std::ofstream(dir.path / "empty") << "\n";
  auto e = read_metrics_token((dir.path / "empty").string());
  REQUIRE(!e);
  CHECK(e.error().message().find("empty") != std::string::npos);
  auto m = read_metrics_token((dir.path / "missing").string());
  REQUIRE(!m);
  CHECK(m.error().code() == errc::io_error);
}

TEST_CASE("metrics server: routes, content types, 404 and 405") {
  auto started = metrics_server::start("127.0.0.1:0", "");
  REQUIRE_MESSAGE(started, started.error().message());
  auto& server = *started.value();
  REQUIRE(server.port() != 0);
  CHECK(server.url() == "http://127.0.0.1:" + std::to_string(server.port()) + "/");

  // Before the first publish: a valid, empty job.
  auto r = request(server.port(), "GET", "/metrics");
  CHECK(r.code == 200);
  CHECK(r.body.find("tether_updates_total 0\n") != std::string::npos);

  server.publish(some_job());
  r = request(server.port(), "GET", "/metrics");
  CHECK(r.code == 200);
  CHECK(r.headers["content-type"].starts_with("text/plain; version=0.0.4"));
  CHECK(r.body.find("tether_updates_total 1872\n") != std::string::npos);
  CHECK(std::to_string(r.body.size()) == r.headers["content-length"]);

  r = request(server.port(), "GET", "/status?x=1");
  CHECK(r.code == 200);
  CHECK(r.headers["content-type"] == "application/json");
  CHECK(r.body.starts_with("{\"state\":\"training\""));
  CHECK(r.body.find("\"updates\":1872") != std::string::npos);

  r = request(server.port(), "GET", "/");
  CHECK(r.code == 200);
  CHECK(r.headers["content-type"].starts_with("text/html"));
  CHECK(r.headers["content-security-policy"].find("default-src 'none'") != std::string::npos);
  CHECK(r.body.find("<canvas") != std::string::npos);

  r = request(server.port(), "GET", "/nothing-here");
  CHECK(r.code == 404);
  r = request(server.port(), "POST", "/metrics", "Content-Length: 0\r\n");
  CHECK(r.code == 405);
  CHECK(r.headers["allow"] == "GET, HEAD");
  r = request(server.port(), "DELETE", "/status");
  CHECK(r.code == 405);
}

TEST_CASE("metrics server: keep-alive answers several requests on one connection") {
  auto started = metrics_server::start("0", "");
  REQUIRE_MESSAGE(started, started.error().message());
  auto& server = *started.value();
  server.publish(some_job(7));
  client_socket sock(server.port());
  REQUIRE(sock.connected);
  sock.send_all("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"
                "GET /status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  auto raw = sock.read_to_end();
  auto second = raw.find("HTTP/1.1 200", 1);
  REQUIRE(second != std::string::npos);
  CHECK(parse_reply(raw.substr(0, second)).body.find("tether_updates_total 7") !=
        std::string::npos);
  CHECK(parse_reply(raw.substr(second)).headers["content-type"] == "application/json");
}

TEST_CASE("metrics server: HEAD gets the GET's headers and no body, keep-alive goes on") {
  auto started = metrics_server::start("0", "");
  REQUIRE_MESSAGE(started, started.error().message());
  auto& server = *started.value();
  server.publish(some_job(7));
  auto get = request(server.port(), "GET", "/metrics");
  REQUIRE(get.code == 200);
  // HEAD, then a GET on the same connection: the second reply must start right after the
  // first one's headers (a body after HEAD would be read as the next response).
  client_socket sock(server.port());
  REQUIRE(sock.connected);
  sock.send_all("HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n"
                "HEAD /nothing HTTP/1.1\r\nHost: x\r\n\r\n"
                "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  auto raw = sock.read_to_end();
  auto head_end = raw.find("\r\n\r\n");
  REQUIRE(head_end != std::string::npos);
  auto head = parse_reply(raw.substr(0, head_end + 4));
  CHECK(head.code == 200);
  CHECK(head.headers["content-length"] == std::to_string(get.body.size()));
  CHECK(head.headers["content-type"].starts_with("text/plain; version=0.0.4"));
  auto rest = raw.substr(head_end + 4);
  REQUIRE(rest.starts_with("HTTP/1.1 404")); // no body bytes in between
  auto missing_end = rest.find("\r\n\r\n");
  REQUIRE(missing_end != std::string::npos);
  auto last = rest.substr(missing_end + 4);
  REQUIRE(last.starts_with("HTTP/1.1 200"));
  CHECK(parse_reply(last).body == get.body);
}

TEST_CASE("metrics server: a scrape is answered while clients hold partial requests open") {
  auto started = metrics_server::start("0", "");
  REQUIRE_MESSAGE(started, started.error().message());
  auto& server = *started.value();
  server.publish(some_job(9));
  // Twice the connection cap, each with a request that never ends (a slowloris).
  std::vector<std::unique_ptr<client_socket>> holders;
  for (size_t i = 0; i < 2 * max_metrics_connections; ++i) {
    holders.push_back(std::make_unique<client_socket>(server.port()));
    REQUIRE(holders.back()->connected);
    holders.back()->send_all("GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: ");
  }
  for (int scrape = 0; scrape < 5; ++scrape) {
    auto begun = std::chrono::steady_clock::now();
    auto r = request(server.port(), "GET", "/metrics");
    auto took = std::chrono::steady_clock::now() - begun;
    CHECK(r.code == 200);
    CHECK(r.body.find("tether_updates_total 9\n") != std::string::npos);
    CHECK(took < 2s); // the request deadline is 10 s: this is not a timeout that freed a slot
    // And the holders keep coming back: reopen those that were closed.
    for (auto& h : holders) {
      char byte;
      if (::recv(h->fd, &byte, 1, MSG_DONTWAIT) == 0) { // closed by the server
        h = std::make_unique<client_socket>(server.port());
        REQUIRE(h->connected);
        h->send_all("GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: ");
      }
    }
  }
}

TEST_CASE("metrics server: a request that trickles in past its deadline is dropped") {
  metrics_limits limits;
  limits.request_deadline = 300ms;
  auto started = metrics_server::start("0", "", limits);
  REQUIRE_MESSAGE(started, started.error().message());
  auto& server = *started.value();
  client_socket slow(server.port());
  REQUIRE(slow.connected);
  auto begun = std::chrono::steady_clock::now();
  // A byte every 100 ms: each one well inside any idle timeout, the whole past the deadline.
  std::string request = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
  bool closed = false;
  for (char c : request) {
    if (::send(slow.fd, &c, 1, MSG_NOSIGNAL) != 1) {
      closed = true;
      break;
    }
    std::this_thread::sleep_for(100ms); // the pace of the slow client is the test's subject
    char byte;
    if (::recv(slow.fd, &byte, 1, MSG_DONTWAIT) == 0) {
      closed = true;
      break;
    }
  }
  auto took = std::chrono::steady_clock::now() - begun;
  CHECK(closed);
  CHECK(took >= 300ms);
  CHECK(took < 2s);
  CHECK(slow.read_to_end().empty()); // closed unanswered
  // A keep-alive connection that sends nothing after its answer is closed the same way.
  client_socket idle(server.port());
  idle.send_all("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  begun = std::chrono::steady_clock::now();
  auto raw = idle.read_to_end(); // the answer, then the end of the connection
  CHECK(raw.starts_with("HTTP/1.1 200"));
  CHECK(std::chrono::steady_clock::now() - begun < 2s);
}

TEST_CASE("metrics server: with a token every data request needs Authorization: Bearer") {
  auto started = metrics_server::start("127.0.0.1:0", "s3cret");
  REQUIRE_MESSAGE(started, started.error().message());
  auto& server = *started.value();
  job_status status;
  status.model = "secret-model-name";
  status.config = "data-dir=/secret/path\n";
  server.publish(status);
  // The page is static (no job data): a browser gets it without a header and passes the
  // token from its #token= fragment to its /status requests.
  auto page = request(server.port(), "GET", "/");
  CHECK(page.code == 200);
  CHECK(page.body.find("secret") == std::string::npos);
  CHECK(page.body.find("Bearer") != std::string::npos);
  for (const char* target : {"/metrics", "/status", "/nothing-here"}) {
    CAPTURE(target);
    auto none = request(server.port(), "GET", target);
    CHECK(none.code == 401);
    CHECK(none.headers["www-authenticate"].starts_with("Bearer"));
    CHECK(none.body.find("tether") == std::string::npos); // nothing of the job leaks
    CHECK(request(server.port(), "GET", target, "Authorization: Bearer wrong\r\n").code == 401);
    CHECK(request(server.port(), "GET", target, "Authorization: Bearer s3cre\r\n").code == 401);
    CHECK(request(server.port(), "GET", target, "Authorization: Basic s3cret\r\n").code == 401);
  }
  CHECK(request(server.port(), "GET", "/metrics", "Authorization: Bearer s3cret\r\n").code == 200);
  CHECK(request(server.port(), "GET", "/", "Authorization: Bearer s3cret\r\n").code == 200);
  CHECK(request(server.port(), "GET", "/x", "Authorization: Bearer s3cret\r\n").code == 404);
}

TEST_CASE("metrics server: a port in use and an off-loopback address are clear errors") {
  auto first = metrics_server::start("127.0.0.1:0", "");
  REQUIRE(first);
  auto taken = "127.0.0.1:" + std::to_string(first.value()->port());
  auto second = metrics_server::start(taken, "");
  REQUIRE(!second);
  CHECK(second.error().code() == errc::io_error);
  CHECK(second.error().message() ==
        "--metrics=" + taken + ": port " + std::to_string(first.value()->port()) +
            " is already in use: stop what holds it or pick another port (0: any free one)");

  auto local = metrics_server::start("localhost:0", "");
  REQUIRE_MESSAGE(local, local.error().message());
  CHECK(local.value()->url().starts_with("http://localhost:"));

  auto open = metrics_server::start("0.0.0.0:0", "");
  REQUIRE(!open);
  CHECK(open.error().code() == errc::invalid_argument);
  auto elsewhere = metrics_server::start("192.0.2.1:0", "token"); // TEST-NET: not ours
  REQUIRE(!elsewhere);
  CHECK(elsewhere.error().message().find("not an address of this machine") != std::string::npos);
}

TEST_CASE("metrics server: publish from another thread while clients read, then stop promptly") {
  auto started = metrics_server::start("127.0.0.1:0", "");
  REQUIRE(started);
  auto server = std::move(started.value());
  std::atomic<bool> done{false};
  std::thread publisher([&] {
    for (uint64_t u = 1; !done; ++u)
      server->publish(some_job(u));
  });
  for (int i = 0; i < 20; ++i) {
    auto r = request(server->port(), "GET", i % 2 ? "/metrics" : "/status");
    CHECK(r.code == 200);
  }
  done = true;
  publisher.join();

  // An idle connection and a half-sent request must not keep the destructor waiting.
  client_socket idle(server->port());
  client_socket partial(server->port());
  partial.send_all("GET /metrics HTTP/1.1\r\nHost:");
  std::this_thread::sleep_for(50ms);
  auto t0 = std::chrono::steady_clock::now();
  server.reset();
  CHECK(std::chrono::steady_clock::now() - t0 < 2s);
  CHECK(idle.read_to_end().empty()); // closed by the server
}

TEST_CASE("metrics log: one JSON line per point, appended and flushed") {
  scratch_dir dir("metrics_log");
  auto path = (dir.path / "metrics.jsonl").string();
  {
    auto log = metrics_log::open(path);
    REQUIRE_MESSAGE(log, log.error().message());
    progress_point p;
    p.updates = 936;
    p.epoch = 1;
    p.test_accuracy = 0.84;
    REQUIRE(log.value()->append(p));
    // Flushed: visible to a reader before the log is closed.
    CHECK(slurp(path).find("\"updates\":936") != std::string::npos);
  }
  {
    auto log = metrics_log::open(path, /*sync=*/true); // a resumed job appends
    REQUIRE(log);
    progress_point p;
    p.updates = 1872;
    p.final = true;
    REQUIRE(log.value()->append(p));
  }
  std::istringstream lines(slurp(path));
  std::vector<std::string> all;
  for (std::string line; std::getline(lines, line);)
    all.push_back(line);
  REQUIRE(all.size() == 2);
  CHECK(all[0].starts_with("{\"unix_time\":"));
  CHECK(all[0].find("\"test_accuracy\":0.84") != std::string::npos);
  CHECK(all[0].ends_with("\"final\":false}"));
  CHECK(all[1].find("\"updates\":1872") != std::string::npos);
  CHECK(all[1].ends_with("\"final\":true}"));

  CHECK(metrics_log_line(progress_point{}, 1.5).starts_with("{\"unix_time\":1.5,"));
  auto bad = metrics_log::open((dir.path / "no-such-dir" / "m.jsonl").string());
  REQUIRE(!bad);
  CHECK(bad.error().code() == errc::invalid_argument); // a usage error: exit code 2
  CHECK(bad.error().message().find("No such file or directory") != std::string::npos);
}

TEST_CASE("metrics server: a real Prometheus scrapes it" * doctest::test_suite("prometheus")) {
  if (std::system("command -v prometheus > /dev/null 2>&1") != 0) {
    tether::testing::skip_test("prometheus not found (Debian package prometheus)");
  }
  auto started = metrics_server::start("127.0.0.1:0", "s3cret");
  REQUIRE(started);
  auto& server = *started.value();
  server.publish(some_job(4242));

  scratch_dir dir("prometheus");
  std::ofstream(dir.path / "prometheus.yml")
      << "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
      << "scrape_configs:\n  - job_name: tether\n"
      << "    authorization:\n      credentials: s3cret\n"
      << "    static_configs:\n      - targets: ['127.0.0.1:" << server.port() << "']\n";
  uint16_t web = free_port();
  auto log = dir.path / "prometheus.log";
  child_process prometheus({"prometheus", "--config.file=" + (dir.path / "prometheus.yml").string(),
                            "--storage.tsdb.path=" + (dir.path / "data").string(),
                            "--web.listen-address=127.0.0.1:" + std::to_string(web)},
                           log);

  // Poll the query API until the series appears (first scrape within ~1 s of start-up).
  std::string body;
  bool found = false;
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (!found && std::chrono::steady_clock::now() < deadline && prometheus.running()) {
    std::this_thread::sleep_for(250ms);
    client_socket probe(web);
    if (!probe.connected)
      continue;
    probe.send_all("GET /api/v1/query?query=tether_updates_total HTTP/1.1\r\nHost: x\r\n"
                   "Connection: close\r\n\r\n");
    body = parse_reply(probe.read_to_end()).body;
    found =
        body.find("\"value\":[") != std::string::npos && body.find("\"4242\"") != std::string::npos;
  }
  CHECK_MESSAGE(found, "last answer: " << body << "\nprometheus log:\n" << slurp(log));
  if (found) { // the scrape was healthy: up == 1 for our target
    client_socket probe(web);
    probe.send_all("GET /api/v1/query?query=up HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    CHECK(parse_reply(probe.read_to_end()).body.find("\"1\"]") != std::string::npos);
  }
}
