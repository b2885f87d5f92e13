// bench/tether_transport_bench: what crossing a process boundary costs a push+pull (issue 4),
// each figure beside a baseline measured in the same run.
//
//   1. 4 MiB push+pull throughput: the driver (this process) pushes a gradient of 1,048,576
//      floats to a shard in a child process and gets the 4 MiB param_slice back, R pushes
//      one after the other; MB/s of gradient + reply bytes (10^6 bytes). Over CAF with TLS
//      (CAF's OpenSSL module, mutual authentication) and over CAF with plain TCP.
//   2. Baselines: a child that echoes what it reads over a plain TCP socket, and one that
//      does the same through OpenSSL directly (TLS, the same certificates): write 4 MiB,
//      read 4 MiB back, R times.
//   3. Small round trips: a push of 16 floats to a shard of 16 floats, and CAF's own ping
//      (an actor answering an int), over TLS and plain; the echo of 64 bytes for reference.
//
// Every child is this program again (fork + exec, hidden --serve); all children live
// through the whole run, and the trials of all cases are interleaved, so that a change of
// load on the machine hits a figure and its baseline alike. Medians over trials. Beside each
// figure: the CPU time of the driver and the server per round trip (/proc, 10 ms ticks).
// Each process runs CAF as a node does here: 2 scheduler threads, heartbeats on.
//
// Usage: tether_transport_bench [--quick] [--trials N] [--rounds N] [--pings N] [--certs DIR]
//                               [--only TEXT] [--moderate-sleep-us N]
//   --certs   a deploy/make-certs.sh OUT_DIR with names bench-shard and bench-driver
//             (default: made in a temporary directory with TETHER_SOURCE_DIR/deploy/make-certs.sh)
//   --only    run only the cases whose name holds TEXT (for perf record)
//   --moderate-sleep-us  CAF's work-stealing.moderate-sleep-duration in every process
//             (default: a node's, 0; 50 is CAF's own default)
// bench/run.sh runs it after the throughput bench; bench/RESULTS.md has the figures.
#include "messages/cluster.hpp"
#include "actors/network.hpp"
#include "actors/shard.hpp"
#include "bench/machine.hpp"
#include "messages/rejections.hpp"

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <fcntl.h>
#include <malloc.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace tether;
using namespace tether::bench;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

namespace {

constexpr size_t big_floats = 1'048'576; // the 4 MiB gradient
constexpr size_t small_floats = 16;
constexpr size_t small_echo_bytes = 64;
constexpr auto request_timeout = 20s;

// In the driver: what die() cleans up.
std::vector<pid_t> children;         ///< the --serve processes it started
std::filesystem::path temporary_dir; ///< certificates it made

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "tether_transport_bench: %s\n", what.c_str());
  for (auto pid : children)
    kill(pid, SIGKILL);
  std::error_code ec;
  if (!temporary_dir.empty())
    std::filesystem::remove_all(temporary_dir, ec);
  std::_Exit(1);
}

double micros_since(clock_type::time_point t0) {
  return std::chrono::duration<double, std::micro>(clock_type::now() - t0).count();
}

double median(std::vector<double> v) {
  if (v.empty())
    return 0;
  std::sort(v.begin(), v.end());
  auto n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/// CPU seconds (user + system) a process has used so far.
double cpu_seconds(pid_t pid) {
  std::ifstream in{pid == 0 ? "/proc/self/stat" : "/proc/" + std::to_string(pid) + "/stat"};
  std::string text((std::istreambuf_iterator<char>(in)), {});
  auto pos = text.rfind(')');
  if (pos == std::string::npos)
    return 0;
  // After ")": state is field 3; utime and stime are fields 14 and 15.
  std::vector<std::string> fields;
  size_t i = pos + 2;
  while (i < text.size() && fields.size() < 13) {
    auto j = text.find(' ', i);
    fields.push_back(text.substr(i, j - i));
    i = j + 1;
  }
  if (fields.size() < 13)
    return 0;
  return (std::stod(fields[11]) + std::stod(fields[12])) /
         static_cast<double>(sysconf(_SC_CLK_TCK));
}

// -- sockets and OpenSSL -------------------------------------------------------------------

bool read_full(int fd, SSL* ssl, void* buf, size_t n) {
  auto* p = static_cast<char*>(buf);
  while (n > 0) {
    long got =
        ssl ? SSL_read(ssl, p, static_cast<int>(std::min<size_t>(n, 1 << 30))) : ::read(fd, p, n);
    if (got < 0 && !ssl && errno == EINTR)
      continue;
    if (got <= 0)
      return false;
    p += got, n -= static_cast<size_t>(got);
  }
  return true;
}

bool write_full(int fd, SSL* ssl, const void* buf, size_t n) {
  auto* p = static_cast<const char*>(buf);
  while (n > 0) {
    long put =
        ssl ? SSL_write(ssl, p, static_cast<int>(std::min<size_t>(n, 1 << 30))) : ::write(fd, p, n);
    if (put < 0 && !ssl && errno == EINTR)
      continue;
    if (put <= 0)
      return false;
    p += put, n -= static_cast<size_t>(put);
  }
  return true;
}

/// A TLS context as CAF's OpenSSL module makes one (TLS_method, peer certificate required,
/// verified against ca.pem), from a make-certs.sh directory.
SSL_CTX* tls_context(const std::string& dir, bool server) {
  SSL_CTX* ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
  if (!ctx || SSL_CTX_use_certificate_chain_file(ctx, (dir + "/cert.pem").c_str()) != 1 ||
      SSL_CTX_use_PrivateKey_file(ctx, (dir + "/key.pem").c_str(), SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_load_verify_locations(ctx, (dir + "/ca.pem").c_str(), nullptr) != 1)
    die("cannot set up OpenSSL with " + dir + " (" + std::to_string(ERR_get_error()) + ")");
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  return ctx;
}

void no_delay(int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/// The CAF configuration of the driver and of the CAF children: a node's
/// (configure_network: no idle sleeps between polls, no BASP workers). moderate_sleep_us
/// >= 0 overrides the sleep (50 is CAF's default: an idle scheduler thread polls 500 times
/// with 50 us sleeps in between, unnotified, before it waits on a condition variable).
void configure_caf(caf::actor_system_config& cfg, const network_options& net,
                   int moderate_sleep_us) {
  cfg.set("scheduler.max-threads", 2); // as a node on this 2-core machine: max(2, cores)
  cfg.add_message_types<caf::id_block::tether>();
  cfg.add_message_types<caf::id_block::tether_cluster>();
  configure_network(cfg, net);
  if (moderate_sleep_us >= 0)
    cfg.set("work-stealing.moderate-sleep-duration",
            caf::timespan{std::chrono::microseconds(moderate_sleep_us)});
}

// -- children (hidden --serve) --------------------------------------------------------------

/// Echo server: frames of [u64 length][length bytes] answered with the same bytes, read in
/// full before they are written back. Plain TCP, or TLS when tls_dir is given.
int serve_echo(const std::string& tls_dir, int report_fd) {
  SSL_CTX* ctx = tls_dir.empty() ? nullptr : tls_context(tls_dir, true);
  int lfd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (bind(lfd, reinterpret_cast<sockaddr*>(&addr), len) != 0 || listen(lfd, 4) != 0 ||
      getsockname(lfd, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    die("echo server: cannot listen on 127.0.0.1");
  auto line = std::to_string(ntohs(addr.sin_port)) + "\n";
  write_full(report_fd, nullptr, line.data(), line.size());
  close(report_fd);
  // One client (the driver opens one connection); stdin closing first means it is gone.
  pollfd waits[2] = {{lfd, POLLIN, 0}, {0, POLLIN, 0}};
  while (poll(waits, 2, -1) < 0 || !(waits[0].revents & POLLIN))
    if (waits[1].revents)
      return 0;
  int fd = accept(lfd, nullptr, nullptr);
  if (fd < 0)
    die("echo server: accept failed");
  no_delay(fd);
  SSL* ssl = nullptr;
  if (ctx) {
    ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    if (SSL_accept(ssl) != 1)
      die("echo server: TLS handshake failed");
  }
  std::vector<char> buf;
  uint64_t n = 0;
  while (read_full(fd, ssl, &n, sizeof n)) {
    buf.resize(n);
    if (!read_full(fd, ssl, buf.data(), n) || !write_full(fd, ssl, buf.data(), n))
      break;
  }
  return 0;
}

/// CAF server: a 4 MiB shard, a 16-float shard and a ping actor, handed out by a directory
/// actor published on 127.0.0.1 (its port reported as one line); runs until stdin closes.
int serve_caf(const network_options& net, int moderate_sleep_us, int report_fd) {
  caf::actor_system_config cfg;
  configure_caf(cfg, net, moderate_sleep_us);
  caf::actor_system sys{cfg};
  optimizer_config sgd;
  sgd.kind = optimizer_kind::sgd;
  sgd.lr = 1e-3f; // the driver pushes the reply back as the next gradient: slow decay
  auto big = sys.spawn(
      shard_behavior,
      shard_core{
          0, {0, big_floats}, std::vector<float>(big_floats, 1.0f), sgd, consistency_config{}, 1});
  auto small = sys.spawn(shard_behavior, shard_core{1,
                                                    {0, small_floats},
                                                    std::vector<float>(small_floats, 1.0f),
                                                    sgd,
                                                    consistency_config{},
                                                    1});
  auto ping = sys.spawn([]() -> caf::behavior { return {[](int32_t x) { return x; }}; });
  // One published actor that hands out the others: a second connect_actor to another port
  // of a node already connected over TLS tore down the first connection (CAF 0.17.6), and
  // a cluster's handles travel in messages over one connection per pair of nodes anyway.
  auto all =
      caf::make_message(caf::actor_cast<caf::actor>(big), caf::actor_cast<caf::actor>(small), ping);
  auto directory =
      sys.spawn([all]() -> caf::behavior { return {[all](caf::get_atom) { return all; }}; });
  auto port = publish_actor(directory, {"127.0.0.1", 0}, net);
  if (!port)
    die("cannot publish: " + to_string(port.error()));
  auto line = std::to_string(*port) + "\n";
  write_full(report_fd, nullptr, line.data(), line.size());
  close(report_fd);
  char c;
  while (::read(0, &c, 1) > 0) {
  }
  for (const auto& whom :
       {caf::actor_cast<caf::actor>(big), caf::actor_cast<caf::actor>(small), ping, directory})
    caf::anon_send_exit(whom, caf::exit_reason::user_shutdown);
  return 0;
}

/// A child process running this program with --serve; it lives until stdin closes.
struct child {
  pid_t pid = -1;
  int stdin_fd = -1;
  std::vector<uint16_t> ports;

  static child start(const std::vector<std::string>& args) {
    int report[2], input[2];
    if (pipe(report) != 0 || pipe(input) != 0)
      die("pipe failed");
    std::vector<std::string> all{"/proc/self/exe"};
    all.insert(all.end(), args.begin(), args.end());
    all.push_back("--report-fd");
    all.push_back(std::to_string(report[1]));
    pid_t pid = fork();
    if (pid < 0)
      die("fork failed");
    if (pid == 0) {
      dup2(input[0], 0);
      close(input[0]), close(input[1]), close(report[0]);
      std::vector<char*> argv;
      for (auto& a : all)
        argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    children.push_back(pid);
    close(input[0]), close(report[1]);
    fcntl(input[1], F_SETFD, FD_CLOEXEC);
    child c{pid, input[1], {}};
    pollfd p{report[0], POLLIN, 0};
    std::string text;
    char buf[128];
    while (text.find('\n') == std::string::npos && poll(&p, 1, 30'000) == 1) {
      auto got = ::read(report[0], buf, sizeof buf);
      if (got <= 0)
        break;
      text.append(buf, static_cast<size_t>(got));
    }
    close(report[0]);
    if (text.find('\n') == std::string::npos)
      die("a --serve " + args[0] + " child did not start (its messages are above)");
    size_t pos = 0;
    while (pos < text.size() && text[pos] != '\n') {
      size_t used = 0;
      c.ports.push_back(static_cast<uint16_t>(std::stoul(text.substr(pos), &used)));
      pos += used;
      while (pos < text.size() && text[pos] == ' ')
        ++pos;
    }
    return c;
  }

  void stop() {
    close(stdin_fd);
    for (int i = 0; i < 50; ++i) {
      if (waitpid(pid, nullptr, WNOHANG) == pid)
        return;
      usleep(100'000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
  }
};

// -- clients --------------------------------------------------------------------------------

/// The driver's end of an echo child: one connection, plain or TLS.
struct echo_client {
  int fd = -1;
  SSL* ssl = nullptr;
  std::vector<char> out, back;

  echo_client(uint16_t port, SSL_CTX* ctx) {
    fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
      die("cannot connect to the echo child");
    no_delay(fd);
    if (ctx) {
      ssl = SSL_new(ctx);
      SSL_set_fd(ssl, fd);
      if (SSL_connect(ssl) != 1)
        die("TLS handshake with the echo child failed");
    }
  }

  /// One round trip of `bytes`: header and payload in one write, the echo read in full.
  void round(size_t bytes) {
    out.resize(sizeof(uint64_t) + bytes);
    uint64_t n = bytes;
    std::memcpy(out.data(), &n, sizeof n);
    back.resize(bytes);
    if (!write_full(fd, ssl, out.data(), out.size()) || !read_full(fd, ssl, back.data(), bytes))
      die("the echo child went away");
  }

  echo_client(const echo_client&) = delete;
  echo_client& operator=(const echo_client&) = delete;
  ~echo_client() {
    if (ssl)
      SSL_free(ssl);
    close(fd);
  }

  std::string cipher() const {
    return ssl ? std::string{SSL_get_version(ssl)} + " " + SSL_get_cipher_name(ssl) : "-";
  }
};

/// One series of sequential requests from an event-based actor (as workers send them).
struct series {
  std::vector<double> us; ///< each round trip, microseconds
  double seconds = 0;     ///< the whole series
  std::string error;
};

/// issue(self, k): sends one request and calls k("") on its answer, k(why) on an error.
using issue_fn = std::function<void(caf::event_based_actor*, std::function<void(std::string)>)>;

series run_series(caf::actor_system& sys, int rounds, issue_fn issue) {
  auto done = std::make_shared<std::promise<series>>();
  auto settled = std::make_shared<std::atomic<bool>>(false);
  auto settle = [done, settled](series s) {
    if (!settled->exchange(true))
      done->set_value(std::move(s));
  };
  auto result = done->get_future();
  auto driver = sys.spawn([=](caf::event_based_actor* self) {
    // However the driver ends, the caller gets an answer.
    self->attach_functor([settle](const caf::error& reason) {
      series s;
      s.error = "the driver ended early: " + to_string(reason);
      settle(std::move(s));
    });
    auto out = std::make_shared<series>();
    auto start = clock_type::now();
    auto step = std::make_shared<std::function<void(int)>>();
    std::weak_ptr<std::function<void(int)>> weak_step = step;
    *step = [=](int left) {
      if (left == 0 || !out->error.empty()) {
        out->seconds = micros_since(start) * 1e-6;
        settle(std::move(*out));
        self->quit();
        return;
      }
      auto t0 = clock_type::now();
      auto next = weak_step.lock(); // the pending answer keeps the loop alive
      issue(self, [=](std::string err) {
        out->us.push_back(micros_since(t0));
        out->error = std::move(err);
        (*next)(left - 1);
      });
    };
    (*step)(rounds);
  });
  auto s = result.get();
  caf::anon_send_exit(driver, caf::exit_reason::user_shutdown);
  return s;
}

issue_fn push_issue(shard_actor shard, size_t floats) {
  auto grad = std::make_shared<std::vector<float>>(floats, 1.0f);
  auto clock = std::make_shared<uint64_t>(0);
  return [=](caf::event_based_actor* self, std::function<void(std::string)> k) {
    if (grad->size() != floats)
      grad->assign(floats, 1.0f);
    self->request(shard, request_timeout, push_atom_v,
                  push_request{0, (*clock)++, 0, 0, std::move(*grad)})
        .then([=](param_slice& p) { *grad = std::move(p.values), k({}); },
              [=](caf::error& e) { k("push: " + to_string(e)); });
  };
}

issue_fn ping_issue(caf::actor ping) {
  return [=](caf::event_based_actor* self, std::function<void(std::string)> k) {
    self->request(ping, request_timeout, int32_t{7})
        .then([=](int32_t) { k({}); }, [=](caf::error& e) { k("ping: " + to_string(e)); });
  };
}

// -- the run ----------------------------------------------------------------------------------

/// One measured case: its trials' figures and the CPU both processes used.
struct bench_case {
  bench_case(std::string n, std::function<series(int)> r, pid_t s)
      : name(std::move(n)), run(std::move(r)), server(s) {}

  std::string name;
  std::function<series(int)> run; ///< runs n round trips
  pid_t server = 0;
  std::vector<double> figures; ///< per trial: MB/s (throughput) or median us (latency)
  double cpu_s = 0;            ///< driver + server CPU seconds over all trials
  int round_trips = 0;

  void trial(int n, bool throughput, double bytes_per_round_trip) {
    // Idle CAF scheduler threads (in this process and the children) poll for 25 ms or more
    // after their last job, with 50 us sleeps; let them settle so that they do not take
    // the cores from the next case (this made the 64 B echo bimodal, 15 or 60 us).
    std::this_thread::sleep_for(100ms);
    auto c0 = cpu_seconds(0) + cpu_seconds(server);
    auto s = run(n);
    cpu_s += cpu_seconds(0) + cpu_seconds(server) - c0;
    round_trips += n;
    if (!s.error.empty())
      die(name + ": " + s.error);
    figures.push_back(throughput ? bytes_per_round_trip * n / s.seconds / 1e6 : median(s.us));
  }
  double cpu_us_per_round_trip() const { return round_trips ? cpu_s * 1e6 / round_trips : 0; }
};

struct options {
  int trials = 11;
  int rounds = 24; ///< 4 MiB round trips per trial
  int pings = 400; ///< small round trips per trial
  std::string certs;
  std::string only;           ///< run only the cases whose name holds this text (profiling)
  int moderate_sleep_us = -1; ///< CAF's work-stealing.moderate-sleep-duration; < 0: default
};

/// One line of the table: the median, the CPU per round trip and, when the baseline was
/// measured too, value / baseline (throughput: the fraction reached; latency: the multiple).
void print_row(const bench_case& c, const char* unit, const bench_case* base, double target) {
  if (c.figures.empty())
    return; // not run (--only)
  auto value = median(c.figures);
  std::printf("  %-40s %10.1f %-5s %9.0f", c.name.c_str(), value, unit, c.cpu_us_per_round_trip());
  if (base && !base->figures.empty()) {
    auto b = median(base->figures);
    std::printf("   %6.2fx %s", b > 0 ? value / b : 0.0, base->name.c_str());
    if (target > 0)
      std::printf(" (target >= %.1fx: %s)", target, value / b >= target ? "met" : "MISSED");
  }
  std::printf("\n");
}

} // namespace

int main(int argc, char** argv) {
  // The same heap policy as the tether binary (cli/main.cpp): no mmap/trim per slice.
  mallopt(M_MMAP_THRESHOLD, 256 << 20);
  mallopt(M_TRIM_THRESHOLD, 512 << 20);
  signal(SIGPIPE, SIG_IGN);
  // A malformed message is dropped by CAF and shows only as a timeout: say so at once.
  on_rejection([](const std::string& what) {
    std::fprintf(stderr, "tether_transport_bench[%d]: rejected a message: %s\n",
                 static_cast<int>(getpid()), what.c_str());
  });
  std::vector<std::string> args(argv + 1, argv + argc);
  options opt;
  std::string serve, tls_dir;
  int report_fd = -1;
  try {
    for (size_t i = 0; i < args.size(); ++i) {
      auto value = [&]() -> std::string {
        if (i + 1 >= args.size())
          die(args[i] + " needs a value");
        return args[++i];
      };
      if (args[i] == "--quick")
        opt.trials = 3, opt.rounds = 4, opt.pings = 50;
      else if (args[i] == "--trials")
        opt.trials = std::max(1, std::stoi(value()));
      else if (args[i] == "--rounds")
        opt.rounds = std::max(1, std::stoi(value()));
      else if (args[i] == "--pings")
        opt.pings = std::max(1, std::stoi(value()));
      else if (args[i] == "--certs")
        opt.certs = value();
      else if (args[i] == "--only")
        opt.only = value();
      else if (args[i] == "--moderate-sleep-us")
        opt.moderate_sleep_us = std::stoi(value());
      else if (args[i] == "--serve") // hidden: the children
        serve = value();
      else if (args[i] == "--tls-dir")
        tls_dir = value();
      else if (args[i] == "--report-fd")
        report_fd = std::stoi(value());
      else
        die("unknown argument " + args[i] +
            "; usage: tether_transport_bench [--quick] [--trials N] [--rounds N] [--pings N] "
            "[--certs DIR] [--only TEXT] [--moderate-sleep-us N]");
    }
  } catch (const std::exception&) { // std::stoi on a value that is not a number
    die("option values must be numbers where numbers are expected");
  }
  if (serve == "echo")
    return serve_echo(tls_dir, report_fd);
  if (serve == "caf") {
    network_options net;
    net.tls_dir = tls_dir;
    net.insecure = tls_dir.empty();
    return serve_caf(net, opt.moderate_sleep_us, report_fd);
  }

  // Certificates: one CA, one name per side.
  if (opt.certs.empty()) {
    char pattern[] = "/tmp/tether-transport-XXXXXX";
    if (!mkdtemp(pattern))
      die("cannot make a temporary directory");
    temporary_dir = opt.certs = pattern;
    auto cmd = std::string{"bash "} + TETHER_SOURCE_DIR + "/deploy/make-certs.sh " + opt.certs +
               " bench-shard bench-driver >/dev/null";
    if (std::system(cmd.c_str()) != 0)
      die("deploy/make-certs.sh failed");
  }
  network_options tls, plain;
  tls.tls_dir = opt.certs + "/bench-driver";
  plain.insecure = true;
  if (auto st = check_network(tls, {"127.0.0.1"}); !st.is_ok())
    die(st.message());

  std::printf("tether transport bench (%d trials; %d x 4 MiB push+pull and %d small round trips "
              "per trial and case)\n",
              opt.trials, opt.rounds, opt.pings);
  std::printf("machine: %s, %ld cores; load average before: %s\n", cpu_model().c_str(),
              sysconf(_SC_NPROCESSORS_ONLN), read_first_line("/proc/loadavg").c_str());
  auto t = std::time(nullptr);
  char date[64];
  std::strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S UTC", std::gmtime(&t));
  std::printf(
      "date: %s\nCAF: 2 scheduler threads per process, work-stealing.moderate-sleep-duration %s\n",
      date,
      opt.moderate_sleep_us < 0 ? "default (50 us)"
                                : (std::to_string(opt.moderate_sleep_us) + " us").c_str());
  auto run_start = clock_type::now();

  auto echo_tcp = child::start({"--serve", "echo"});
  auto echo_tls = child::start({"--serve", "echo", "--tls-dir", opt.certs + "/bench-shard"});
  auto sleep_arg = std::to_string(opt.moderate_sleep_us);
  auto caf_plain = child::start({"--serve", "caf", "--moderate-sleep-us", sleep_arg});
  auto caf_tls = child::start({"--serve", "caf", "--moderate-sleep-us", sleep_arg, "--tls-dir",
                               opt.certs + "/bench-shard"});
  SSL_CTX* client_ctx = tls_context(tls.tls_dir, false);
  echo_client tcp_client{echo_tcp.ports.at(0), nullptr};
  echo_client tls_client{echo_tls.ports.at(0), client_ctx};

  caf::actor_system_config cfg;
  configure_caf(cfg, tls, opt.moderate_sleep_us); // loads the OpenSSL module; plain uses caf::io
  {
    caf::actor_system sys{cfg};
    // The three actors of a CAF child, through its directory: (big shard, small shard, ping).
    struct remote {
      shard_actor big, small;
      caf::actor ping;
    };
    auto connect = [&](uint16_t port, const network_options& net) {
      auto dir = connect_actor(sys, {"127.0.0.1", port}, net);
      if (!dir)
        die("cannot connect to port " + std::to_string(port) + ": " + to_string(dir.error()));
      remote r;
      caf::scoped_actor self{sys};
      self->request(*dir, request_timeout, caf::get_atom_v)
          .receive(
              [&](caf::actor& big, caf::actor& small, caf::actor& ping) {
                r = {caf::actor_cast<shard_actor>(big), caf::actor_cast<shard_actor>(small), ping};
              },
              [&](caf::error& err) { die("the CAF child's directory: " + to_string(err)); });
      return r;
    };
    auto on_plain = connect(caf_plain.ports.at(0), plain);
    auto on_tls = connect(caf_tls.ports.at(0), tls);
    std::printf("baseline TLS: %s; CAF: TLS_method, the same OpenSSL %s\n\n",
                tls_client.cipher().c_str(), OpenSSL_version(OPENSSL_VERSION));

    auto echo = [](echo_client& c, size_t bytes) {
      return [&c, bytes](int n) {
        series s;
        auto start = clock_type::now();
        for (int i = 0; i < n; ++i) {
          auto t0 = clock_type::now();
          c.round(bytes);
          s.us.push_back(micros_since(t0));
        }
        s.seconds = micros_since(start) * 1e-6;
        return s;
      };
    };
    auto caf_series = [&sys](issue_fn issue) {
      return [&sys, issue](int n) { return run_series(sys, n, issue); };
    };
    const size_t big_bytes = big_floats * sizeof(float);
    std::vector<bench_case> big{
        {"plain TCP echo 4 MiB", echo(tcp_client, big_bytes), echo_tcp.pid},
        {"CAF plain push+pull 4 MiB", caf_series(push_issue(on_plain.big, big_floats)),
         caf_plain.pid},
        {"OpenSSL TLS echo 4 MiB", echo(tls_client, big_bytes), echo_tls.pid},
        {"CAF TLS push+pull 4 MiB", caf_series(push_issue(on_tls.big, big_floats)), caf_tls.pid},
    };
    std::vector<bench_case> small{
        {"plain TCP echo 64 B", echo(tcp_client, small_echo_bytes), echo_tcp.pid},
        {"CAF plain ping (int)", caf_series(ping_issue(on_plain.ping)), caf_plain.pid},
        {"CAF plain push+pull 16 floats", caf_series(push_issue(on_plain.small, small_floats)),
         caf_plain.pid},
        {"OpenSSL TLS echo 64 B", echo(tls_client, small_echo_bytes), echo_tls.pid},
        {"CAF TLS ping (int)", caf_series(ping_issue(on_tls.ping)), caf_tls.pid},
        {"CAF TLS push+pull 16 floats", caf_series(push_issue(on_tls.small, small_floats)),
         caf_tls.pid},
    };
    auto skip = [&](const bench_case& c) { return c.name.find(opt.only) == std::string::npos; };
    // Warm-up (allocations, TLS session state, scheduler threads), not counted.
    for (auto* list : {&big, &small})
      for (auto& c : *list) {
        if (skip(c))
          continue;
        auto s = c.run(list == &big ? 2 : std::max(10, opt.pings / 10));
        if (!s.error.empty())
          die(c.name + " (warm-up): " + s.error);
      }
    for (int trial = 0; trial < opt.trials; ++trial) {
      for (auto& c : big)
        if (!skip(c))
          c.trial(opt.rounds, true, 2.0 * static_cast<double>(big_bytes));
      for (auto& c : small)
        if (!skip(c))
          c.trial(opt.pings, false, 0);
    }

    std::printf("%-42s %16s %9s   %s\n", "case", "median", "CPU us/rt", "ratio to baseline");
    std::printf("4 MiB push+pull (gradient + reply bytes; MB = 10^6 bytes)\n");
    print_row(big[0], "MB/s", nullptr, 0);
    print_row(big[1], "MB/s", &big[0], 0.5);
    print_row(big[2], "MB/s", &big[0], 0);
    print_row(big[3], "MB/s", &big[2], 0.5);
    print_row(big[3], "MB/s", &big[0], 0.5);
    std::printf("small round trips (median of the trials' medians; ratio = latency multiple)\n");
    print_row(small[0], "us", nullptr, 0);
    print_row(small[1], "us", &small[0], 0);
    print_row(small[2], "us", &small[1], 0);
    print_row(small[3], "us", &small[0], 0);
    print_row(small[4], "us", &small[3], 0);
    print_row(small[5], "us", &small[4], 0);
    print_row(small[5], "us", &small[2], 0);
    std::printf("(CPU us/rt: CPU time of the driver and that case's server process together, per "
                "round trip)\n");
    std::printf("per-trial figures:\n");
    for (const auto* list : {&big, &small})
      for (const auto& c : *list) {
        if (c.figures.empty())
          continue;
        std::printf("  %-40s", c.name.c_str());
        for (auto f : c.figures)
          std::printf(" %.0f", f);
        std::printf("\n");
      }
    std::printf("load average after: %s; whole run %.1f s\n",
                read_first_line("/proc/loadavg").c_str(), micros_since(run_start) * 1e-6);
  }
  SSL_CTX_free(client_ctx);
  for (auto* c : {&echo_tcp, &echo_tls, &caf_plain, &caf_tls})
    c->stop();
  if (!temporary_dir.empty())
    std::filesystem::remove_all(temporary_dir);
  return 0;
}
