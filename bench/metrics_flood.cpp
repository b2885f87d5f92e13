// Scrapes of `tether train --metrics` while other clients hold partial HTTP requests open
// (a slowloris) and reopen every connection the server closes: how many scrapes are
// answered, and how fast, against the same binary without the flood.
//
//   build/bench/metrics_flood --tether=build/cli/tether [--tether=OTHER ...]
//                             [--holders=128] [--scrapes=40] [--rounds=3]
//
// Each --tether binary is run in turn, round after round (alternating, so that a busy
// machine weighs on all alike): a linreg job with --metrics on a free loopback port. Per
// binary and round: `scrapes` sequential GET /metrics without the flood (the baseline),
// then the holders connect, each sending "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: "
// and never the rest, and a thread reopens each one the server closes; then `scrapes`
// GET /metrics again. A scrape fails when its connection is closed unanswered or no
// answer comes within 5 s. Prints answered/total and the median and worst latency.
#include <algorithm>
#include <arpa/inet.h>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <netinet/in.h>
#include <string>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

using clock_type = std::chrono::steady_clock;
using namespace std::chrono_literals;

int connect_to(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

/// One GET /metrics on its own connection: milliseconds to the whole answer, or -1.
double scrape(uint16_t port) {
  auto begun = clock_type::now();
  int fd = connect_to(port);
  if (fd < 0)
    return -1;
  std::string req = "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) {
    ::close(fd);
    return -1;
  }
  std::string got;
  char buf[16384];
  ssize_t n;
  while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0)
    got.append(buf, static_cast<size_t>(n));
  ::close(fd);
  if (!got.starts_with("HTTP/1.1 200"))
    return -1;
  return std::chrono::duration<double, std::milli>(clock_type::now() - begun).count();
}

struct summary {
  int answered = 0, total = 0;
  double median = 0, worst = 0;
};

summary scrapes(uint16_t port, int count) {
  summary s;
  std::vector<double> ms;
  for (int i = 0; i < count; ++i) {
    double t = scrape(port);
    ++s.total;
    if (t >= 0) {
      ++s.answered;
      ms.push_back(t);
    }
  }
  if (!ms.empty()) {
    std::sort(ms.begin(), ms.end());
    s.median = ms[ms.size() / 2];
    s.worst = ms.back();
  }
  return s;
}

/// Holders of partial requests that reopen what the server closes, until stopped.
struct flood {
  std::atomic<bool> stop{false};
  std::atomic<long> reopened{0};
  std::thread thread;
  flood(uint16_t port, int holders) {
    thread = std::thread([this, port, holders] {
      const std::string partial = "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: ";
      std::vector<int> fds(static_cast<size_t>(holders), -1);
      while (!stop) {
        for (auto& fd : fds) {
          char byte;
          if (fd >= 0 && ::recv(fd, &byte, 1, MSG_DONTWAIT) != 0)
            continue; // still open (EAGAIN)
          if (fd >= 0) {
            ::close(fd);
            ++reopened;
          }
          fd = connect_to(port);
          if (fd >= 0)
            ::send(fd, partial.data(), partial.size(), MSG_NOSIGNAL);
        }
        std::this_thread::sleep_for(1ms); // a tight loop, without burning a whole core
      }
      for (int fd : fds)
        if (fd >= 0)
          ::close(fd);
    });
  }
  ~flood() {
    stop = true;
    thread.join();
  }
};

uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

/// `tether train` with --metrics on `port`, in its own process group.
pid_t start_tether(const std::string& binary, uint16_t port, const std::string& dir) {
  std::fflush(nullptr); // or the child would print the parent's buffered lines again
  pid_t pid = ::fork();
  if (pid == 0) {
    ::setpgid(0, 0);
    std::freopen("/dev/null", "w", stdout);
    std::freopen("/dev/null", "w", stderr);
    std::string metrics = "--metrics=127.0.0.1:" + std::to_string(port);
    std::string ck = "--checkpoint-dir=" + dir;
    ::execl(binary.c_str(), binary.c_str(), "train", "--dataset=linreg", "--epochs=100000",
            metrics.c_str(), ck.c_str(), "--quiet", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  return pid;
}

} // namespace

int main(int argc, char** argv) {
  std::vector<std::string> binaries;
  int holders = 128, count = 40, rounds = 3;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.starts_with("--tether="))
      binaries.push_back(a.substr(9));
    else if (a.starts_with("--holders="))
      holders = std::atoi(a.c_str() + 10);
    else if (a.starts_with("--scrapes="))
      count = std::atoi(a.c_str() + 10);
    else if (a.starts_with("--rounds="))
      rounds = std::atoi(a.c_str() + 9);
    else {
      std::fprintf(stderr, "usage: metrics_flood --tether=PATH... [--holders=N] [--scrapes=N] "
                           "[--rounds=N]\n");
      return 2;
    }
  }
  if (binaries.empty()) {
    std::fprintf(stderr, "metrics_flood: give at least one --tether=PATH\n");
    return 2;
  }
  std::printf("%-40s %5s  %-26s %-26s %s\n", "binary", "round", "no flood: answered, ms",
              "flood: answered, ms", "holders reopened");
  for (int round = 1; round <= rounds; ++round) {
    for (const auto& binary : binaries) {
      auto dir =
          std::filesystem::temp_directory_path() / ("tether-flood-" + std::to_string(::getpid()));
      uint16_t port = free_port();
      pid_t pid = start_tether(binary, port, dir.string());
      auto deadline = clock_type::now() + 30s;
      while (scrape(port) < 0 && clock_type::now() < deadline)
        std::this_thread::sleep_for(50ms); // the job starts up (loads data, binds)
      auto quiet = scrapes(port, count);
      summary flooded;
      long reopened = 0;
      {
        flood f(port, holders);
        std::this_thread::sleep_for(500ms); // every holder connected and sent its part
        flooded = scrapes(port, count);
        reopened = f.reopened;
      }
      ::kill(-pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
      std::filesystem::remove_all(dir);
      char a[64], b[64];
      std::snprintf(a, sizeof a, "%d/%d, %.1f (worst %.0f)", quiet.answered, quiet.total,
                    quiet.median, quiet.worst);
      std::snprintf(b, sizeof b, "%d/%d, %.1f (worst %.0f)", flooded.answered, flooded.total,
                    flooded.median, flooded.worst);
      std::printf("%-40s %5d  %-26s %-26s %ld\n", binary.c_str(), round, a, b, reopened);
      std::fflush(stdout);
    }
  }
  return 0;
}
