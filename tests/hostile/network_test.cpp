// Busy ports and slow HTTP clients, against the binary: a port in use is exit 2 for
// --metrics as for --listen; the metrics server of a running job answers a scrape while
// twice its connection cap of clients hold partial requests open, answers HEAD without a
// body, and the job still stops on SIGTERM.
#include "tests/hostile/hostile.hpp"

#include <csignal>
#include <regex>
#include <thread>

using namespace tether::hostile;

namespace {

void send_all(int fd, const std::string& text) {
  REQUIRE(::send(fd, text.data(), text.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(text.size()));
}

std::string read_to_end(int fd) {
  std::string out;
  char buf[8192];
  ssize_t n;
  while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0)
    out.append(buf, static_cast<size_t>(n));
  return out;
}

/// One request on its own connection; the raw answer.
std::string exchange(uint16_t port, const std::string& request) {
  int fd = connect_to(port);
  send_all(fd, request);
  auto answer = read_to_end(fd);
  ::close(fd);
  return answer;
}

} // namespace

TEST_CASE("a busy port is exit 2 for --metrics and for --listen alike") {
  temp_dir dir;
  port_holder busy;
  const std::string address = "127.0.0.1:" + std::to_string(busy.port);
  auto metrics = run_tether(with(linreg_job(dir), {"--metrics=" + address}));
  expect_refusal(metrics, 2,
                 "--metrics=" + address + ": port " + std::to_string(busy.port) +
                     " is already in use");
  auto listen = run_tether({"coordinator", "--listen=" + address, "--insecure", "--dataset=linreg",
                            "--epochs=1", "--quiet", "--checkpoint-dir=" + (dir / "ck2")});
  expect_refusal(listen, 2, "cannot listen on 127.0.0.1:" + std::to_string(busy.port));
  CHECK(metrics.code == listen.code);
  CHECK_FALSE(fs::exists(dir / "ck"));
}

TEST_CASE("a running job's metrics server outlasts clients that hold requests open") {
  temp_dir dir;
  auto job = start_tether({"train", "--dataset=linreg", "--epochs=100000",
                           "--checkpoint-dir=" + (dir / "ck"), "--metrics=127.0.0.1:0"});
  // The job prints its address once it listens.
  const std::regex address_line("metrics on http://127\\.0\\.0\\.1:([0-9]+)/metrics");
  std::smatch found;
  std::string log;
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (std::chrono::steady_clock::now() < deadline) {
    log = slurp(job.logs->path / "log");
    if (std::regex_search(log, found, address_line))
      break;
    REQUIRE(job.process->running());
    std::this_thread::sleep_for(20ms); // the log file is the only sign of the job's start
  }
  REQUIRE_MESSAGE(!found.empty(), log);
  const auto port = static_cast<uint16_t>(std::stoi(found[1].str()));

  // Twice the connection cap of slow clients, each with a request that never ends.
  std::vector<int> holders;
  for (int i = 0; i < 128; ++i) {
    holders.push_back(connect_to(port));
    send_all(holders.back(), "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: ");
  }
  for (int scrape = 0; scrape < 3; ++scrape) {
    auto begun = std::chrono::steady_clock::now();
    auto answer = exchange(port, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    CHECK(answer.starts_with("HTTP/1.1 200"));
    CHECK(contains(answer, "tether_updates_total"));
    CHECK(std::chrono::steady_clock::now() - begun < 2s);
  }
  // HEAD: the headers, and not one byte of body.
  auto head = exchange(port, "HEAD /status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  CHECK(head.starts_with("HTTP/1.1 200"));
  auto end = head.find("\r\n\r\n");
  REQUIRE(end != std::string::npos);
  CHECK(end + 4 == head.size());
  CHECK(contains(head, "Content-Length: "));
  for (int fd : holders)
    ::close(fd);

  // The job still stops on SIGTERM, with a final checkpoint.
  ::kill(job.process->pid, SIGTERM);
  auto o = job.finish(60s);
  INFO(o.output);
  CHECK(o.code == 130);
  CHECK(names_in(dir / "ck").size() == 1);
}
