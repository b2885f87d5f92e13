// Hostile network peers against the binary (net/front.hpp, issue 19 findings 1 and 2):
// a 4 GiB BASP header and 50 connections of random bytes on the --insecure port during
// training, truncated frames, idle TCP peers on the TLS port (CPU, handshake deadline,
// caps, the coordinator's exit), a peer with a valid certificate sending an oversized
// header over TLS, and absurd --max-frame / --handshake-timeout values.
// Every coordinator listens on port 0; the test reads the port it got from its output.
#include "tests/hostile/hostile.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <fstream>
#include <random>
#include <regex>
#include <thread>

using namespace tether::hostile;

namespace {

const std::string source_dir = TETHER_SOURCE_DIR;

std::string log_of(const pending_run& run) {
  return slurp(run.logs->path / "log");
}

/// Waits until the run's output contains `text`; false after `limit` or if it exited.
bool wait_for_text(pending_run& run, const std::string& text, std::chrono::milliseconds limit) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (contains(log_of(run), text))
      return true;
    if (!run.process->running())
      return contains(log_of(run), text);
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

uint16_t listening_port(pending_run& run) {
  REQUIRE(wait_for_text(run, "listening on", 20s));
  std::smatch m;
  auto text = log_of(run);
  REQUIRE(std::regex_search(text, m, std::regex("listening on 127\\.0\\.0\\.1:([0-9]+)")));
  return static_cast<uint16_t>(std::stoi(m[1]));
}

long proc_field(pid_t pid, const std::string& key) { // VmRSS in kB
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(key + ":", 0) == 0)
      return std::stol(line.substr(key.size() + 1));
  return -1;
}

double cpu_seconds(pid_t pid) { // utime + stime of the whole process
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), {});
  std::istringstream rest(stat.substr(stat.rfind(')') + 2));
  std::string field;
  long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14)
      utime = std::stol(field);
    if (i == 15)
      stime = std::stol(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

std::string basp_header(uint8_t op, uint32_t payload_len) {
  std::string h(32, '\0');
  h[0] = static_cast<char>(op);
  for (int i = 0; i < 4; ++i)
    h[4 + i] = static_cast<char>(payload_len >> (24 - 8 * i));
  return h;
}

/// Reads until the peer closes (0 or an error); false after 5 s (SO_RCVTIMEO).
bool closed_by_peer(int fd) {
  char buf[4096];
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
      return true;
    if (n < 0 && errno != EINTR)
      return false;
  }
}

std::vector<std::string> job(const temp_dir& dir, int epochs) {
  return {"--dataset=linreg", "--epochs=" + std::to_string(epochs),
          "--checkpoint-dir=" + (dir / "ck")};
}

pending_run start_coordinator(const temp_dir& dir, const std::vector<std::string>& net,
                              int epochs) {
  std::vector<std::string> args{"coordinator", "--listen=127.0.0.1:0"};
  args.insert(args.end(), net.begin(), net.end());
  auto j = job(dir, epochs);
  args.insert(args.end(), j.begin(), j.end());
  return start_tether(args);
}

pending_run start_node(uint16_t port, const std::vector<std::string>& net) {
  std::vector<std::string> args{"node", "--join=127.0.0.1:" + std::to_string(port)};
  args.insert(args.end(), net.begin(), net.end());
  return start_tether(args);
}

void make_certs(const temp_dir& dir) {
  auto cmd = "bash " + source_dir + "/deploy/make-certs.sh " + (dir / "tls") +
             " coordinator n1 >/dev/null 2>&1";
  REQUIRE(std::system(cmd.c_str()) == 0);
}

void expect_clean_end(pending_run& coordinator, pending_run& node) {
  auto c = coordinator.finish();
  auto n = node.finish();
  INFO("coordinator: " << c.output);
  INFO("node: " << n.output);
  CHECK(c.code == 0);
  CHECK(n.code == 0);
  CHECK_FALSE(c.timed_out);
}

} // namespace

TEST_CASE(
    "a 4 GiB BASP header on the insecure port during training is refused and allocates nothing") {
  temp_dir dir;
  auto coordinator = start_coordinator(dir, {"--insecure"}, 200);
  auto port = listening_port(coordinator);
  auto node = start_node(port, {"--insecure"});
  REQUIRE(wait_for_text(coordinator, "training starts", 30s));
  long before = proc_field(coordinator.process->pid, "VmRSS");
  long peak_before = proc_field(coordinator.process->pid, "VmHWM");
  int fd = connect_to(port);
  auto h = basp_header(0x01, 0xffffffffu);
  REQUIRE(::send(fd, h.data(), h.size(), MSG_NOSIGNAL) == 32);
  CHECK(closed_by_peer(fd));
  ::close(fd);
  long after = proc_field(coordinator.process->pid, "VmRSS");
  long peak_after = proc_field(coordinator.process->pid, "VmHWM");
  INFO("RSS " << before << " kB -> " << after << " kB, peak " << peak_before << " -> "
              << peak_after);
  CHECK(after - before < 8 * 1024);
  CHECK(peak_after - peak_before < 8 * 1024);
  CHECK(wait_for_text(coordinator, "a frame of 4294967295 bytes announced", 5s));
  CHECK(contains(log_of(coordinator), "closed the connection from 127.0.0.1:"));
  expect_clean_end(coordinator, node);
}

TEST_CASE(
    "50 connections of random bytes and truncated frames leave the job and its memory alone") {
  temp_dir dir;
  auto coordinator = start_coordinator(dir, {"--insecure"}, 200);
  auto port = listening_port(coordinator);
  auto node = start_node(port, {"--insecure"});
  REQUIRE(wait_for_text(coordinator, "training starts", 30s));
  long before = proc_field(coordinator.process->pid, "VmHWM");
  std::mt19937 rng(19);
  for (int i = 0; i < 50; ++i) {
    int fd = connect_to(port);
    std::string junk(4096, '\0');
    for (auto& c : junk)
      c = static_cast<char>(rng());
    ::send(fd, junk.data(), junk.size(), MSG_NOSIGNAL);
    ::close(fd);
  }
  // Truncated: half a header; a handshake header with a third of its payload.
  for (auto bytes :
       {basp_header(0x01, 300).substr(0, 16), basp_header(0x01, 300) + std::string(100, 'x')}) {
    int fd = connect_to(port);
    ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    ::close(fd);
  }
  std::this_thread::sleep_for(500ms);
  long after = proc_field(coordinator.process->pid, "VmHWM");
  INFO("peak RSS " << before << " kB -> " << after << " kB");
  CHECK(after - before < 8 * 1024);
  CHECK(wait_for_text(coordinator, "not a CAF (BASP) frame", 5s));
  expect_clean_end(coordinator, node);
}

TEST_CASE("idle TCP peers on the TLS port cost no CPU and meet the handshake deadline") {
  temp_dir dir;
  make_certs(dir);
  auto coordinator = start_coordinator(
      dir, {"--tls-dir=" + (dir / "tls/coordinator"), "--handshake-timeout=7s"}, 20);
  auto port = listening_port(coordinator);
  int idle = connect_to(port);
  std::this_thread::sleep_for(300ms);
  double cpu0 = cpu_seconds(coordinator.process->pid);
  std::this_thread::sleep_for(5s);
  double cpu1 = cpu_seconds(coordinator.process->pid);
  INFO("CPU in 5 s with one idle peer: " << cpu1 - cpu0 << " s");
  CHECK(cpu1 - cpu0 < 0.2);
  auto t0 = std::chrono::steady_clock::now();
  CHECK(closed_by_peer(idle)); // the deadline, about 1.7 s from here
  double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  CHECK(waited < 4.0);
  ::close(idle);
  CHECK(wait_for_text(coordinator, "no handshake within 7000 ms", 5s));
  // Caps: at most 16 pending from one address; the rest are closed at accept.
  std::vector<int> crowd;
  for (int i = 0; i < 24; ++i)
    crowd.push_back(connect_to(port));
  CHECK(wait_for_text(coordinator, "connections from 127.0.0.1 already wait for their handshake",
                      5s));
  for (int fd : crowd)
    ::close(fd);
  // The closed ones leave the count: 10 new connections are all let in.
  std::this_thread::sleep_for(1s);
  auto refusals = [&] {
    auto text = log_of(coordinator);
    size_t n = 0;
    for (size_t at = 0;
         (at = text.find("already wait for their handshake", at)) != std::string::npos; ++at)
      ++n;
    return n;
  };
  size_t before = refusals();
  std::vector<int> again;
  for (int i = 0; i < 10; ++i)
    again.push_back(connect_to(port));
  std::this_thread::sleep_for(1s);
  CHECK(refusals() == before);
  for (int fd : again)
    ::close(fd);
  ::kill(coordinator.process->pid, SIGTERM);
  coordinator.finish();
}

TEST_CASE("idle peers do not delay the coordinator's exit after its job") {
  temp_dir dir;
  make_certs(dir);
  auto coordinator = start_coordinator(dir, {"--tls-dir=" + (dir / "tls/coordinator")}, 20);
  auto port = listening_port(coordinator);
  std::vector<int> idle;
  for (int i = 0; i < 5; ++i)
    idle.push_back(connect_to(port));
  auto node = start_node(port, {"--tls-dir=" + (dir / "tls/n1")});
  auto n = node.finish();
  auto node_done = std::chrono::steady_clock::now();
  auto c = coordinator.finish();
  double lag = std::chrono::duration<double>(std::chrono::steady_clock::now() - node_done).count();
  INFO("coordinator: " << c.output);
  CHECK(n.code == 0);
  CHECK(c.code == 0);
  CHECK(lag < 3.0); // the handshake deadline is 10 s: the pending peers were let go
  for (int fd : idle)
    ::close(fd);
}

TEST_CASE("a peer with a valid certificate sending an oversized header over TLS is closed") {
  temp_dir dir;
  make_certs(dir);
  auto coordinator = start_coordinator(dir, {"--tls-dir=" + (dir / "tls/coordinator")}, 20);
  auto port = listening_port(coordinator);
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  REQUIRE(ctx);
  REQUIRE(SSL_CTX_use_certificate_chain_file(ctx, (dir / "tls/n1/cert.pem").c_str()) == 1);
  REQUIRE(SSL_CTX_use_PrivateKey_file(ctx, (dir / "tls/n1/key.pem").c_str(), SSL_FILETYPE_PEM) ==
          1);
  REQUIRE(SSL_CTX_load_verify_locations(ctx, (dir / "tls/n1/ca.pem").c_str(), nullptr) == 1);
  int fd = connect_to(port);
  SSL* ssl = SSL_new(ctx);
  SSL_set_fd(ssl, fd);
  REQUIRE(SSL_connect(ssl) == 1); // authenticated
  auto h = basp_header(0x01, 0xffffffffu);
  REQUIRE(SSL_write(ssl, h.data(), static_cast<int>(h.size())) == 32);
  char buf[4096];
  int got = 0;
  while ((got = SSL_read(ssl, buf, sizeof buf)) > 0) {
  }
  CHECK(got <= 0); // closed by the coordinator (SO_RCVTIMEO would end this after 5 s)
  CHECK(wait_for_text(coordinator, "a frame of 4294967295 bytes announced", 5s));
  SSL_free(ssl);
  ::close(fd);
  SSL_CTX_free(ctx);
  ::kill(coordinator.process->pid, SIGTERM);
  coordinator.finish();
}

TEST_CASE("absurd --max-frame and --handshake-timeout values are refused with exit 2") {
  for (auto bad : {"--max-frame=0", "--max-frame=5G", "--max-frame=12Q",
                   "--max-frame=", "--max-frame=99999999999999999999", "--handshake-timeout=0s",
                   "--handshake-timeout=10ms", "--handshake-timeout=9999s"}) {
    auto coord = run_tether(
        {"coordinator", "--listen=127.0.0.1:0", "--insecure", bad, "--dataset=linreg", "--quiet"});
    INFO(bad << ": " << coord.output);
    CHECK(coord.code == 2);
    CHECK(contains(coord.output, std::string(bad).substr(0, std::string(bad).find('=') + 1)));
    auto node = run_tether({"node", "--join=127.0.0.1:9", "--insecure", bad});
    CHECK(node.code == 2);
  }
}

TEST_CASE("a cluster job whose shard snapshot exceeds --max-frame is refused with exit 2") {
  temp_dir dir;
  // 784*512 + 512 + 512*10 + 10 parameters, Adam's two slots: about 4.6 MiB in one shard.
  auto o = run_tether({"coordinator", "--listen=127.0.0.1:0", "--insecure", "--max-frame=2M",
                       "--model=mlp:784,512,10", "--limit-train=1000", "--shards=1",
                       "--optimizer=adam", "--checkpoint-dir=" + (dir / "ck")});
  expect_refusal(o, 2, "--max-frame=2M is too small for this job: a shard's snapshot is 5 MiB");
}

TEST_CASE(
    "a node whose coordinator never answers the handshake gives up each attempt at the deadline") {
  port_holder silent; // accepts (into its backlog) and never says a word
  auto node = start_tether({"node", "--join=127.0.0.1:" + std::to_string(silent.port), "--insecure",
                            "--handshake-timeout=300ms", "--join-timeout=6s"});
  auto o = node.finish(30s);
  INFO(o.output);
  CHECK(o.code == 1);
  CHECK(o.seconds < 15);
  CHECK(contains(o.output, "closed a connection to 127.0.0.1:" + std::to_string(silent.port) +
                               ": no handshake within 300 ms"));
}
