// Helpers of the hostile suite (tests/hostile, ctest label hostile): run the `tether`
// binary on hostile files, options, paths and clients, and check that each case ends in
// one clear message, the documented exit code, within a time bound, without a crash, and
// without losing anything (inputs unchanged, no partial output).
//
// Exit codes (docs/cli.md): 2 usage (a bad option, or a file or address named by an
// option that cannot be used), 3 bad data, 4 checkpoint.
#pragma once

#include "tests/child_process.hpp"
#include "tests/temp_dir.hpp"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <netinet/in.h>
#include <sstream>
#include <string>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace tether::hostile {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using tether::testing::child_process;
using tether::testing::temp_dir;

inline const std::string tether_bin = std::string(TETHER_BINARY_DIR) + "/cli/tether";

/// How long any case may take: a run that needs longer hangs (the bug class under test).
inline constexpr auto case_limit = 60s;

struct outcome {
  int code = -1;          ///< exit code; -1 if killed
  int signal = 0;         ///< the signal that ended it (a crash: never expected)
  bool timed_out = false; ///< stopped after the limit (a hang: never expected)
  double seconds = 0;
  std::string output; ///< stdout and stderr together
};

inline std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

/// A started run of tether; `finish` waits for it.
struct pending_run {
  std::unique_ptr<temp_dir> logs = std::make_unique<temp_dir>();
  std::unique_ptr<child_process> process;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();

  outcome finish(std::chrono::milliseconds limit = case_limit) {
    outcome o;
    o.code = process->wait_for(limit);
    o.signal = process->signal;
    o.timed_out = process->timed_out;
    o.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    o.output = slurp(logs->path / "log");
    return o;
  }
};

/// Starts `tether args...`; with `ulimit_v_kib` > 0 under `sh -c 'ulimit -v N; exec ...'`.
inline pending_run start_tether(const std::vector<std::string>& args, long ulimit_v_kib = 0) {
  std::vector<std::string> argv;
  if (ulimit_v_kib > 0)
    argv = {"/bin/sh", "-c", "ulimit -v " + std::to_string(ulimit_v_kib) + " && exec \"$0\" \"$@\"",
            tether_bin};
  else
    argv = {tether_bin};
  argv.insert(argv.end(), args.begin(), args.end());
  pending_run run;
  run.process = std::make_unique<child_process>(argv, run.logs->path / "log");
  return run;
}

inline outcome run_tether(const std::vector<std::string>& args, long ulimit_v_kib = 0) {
  return start_tether(args, ulimit_v_kib).finish();
}

/// What every refused case must show: the code, no crash, no hang, and the message.
inline void expect_refusal(const outcome& o, int code, const std::string& message) {
  INFO("output: " << o.output);
  CHECK_FALSE(o.timed_out);
  CHECK(o.signal == 0);
  CHECK(o.code == code);
  CHECK(contains(o.output, message));
  // One clear message: a single "tether" error line, no CAF or C++ runtime noise.
  CHECK_FALSE(contains(o.output, "terminate called"));
  CHECK_FALSE(contains(o.output, "std::bad_alloc"));
  CHECK_FALSE(contains(o.output, "***"));
}

/// A file's bytes now and later: inputs must be unchanged by a refused run.
struct file_snapshot {
  fs::path path;
  std::string bytes;
  explicit file_snapshot(fs::path p) : path(std::move(p)), bytes(slurp(path)) {}
  bool unchanged() const { return fs::is_regular_file(path) && slurp(path) == bytes; }
};

/// The names in `dir` (none for a missing directory): a refused run leaves no new file.
inline std::vector<std::string> names_in(const fs::path& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    out.push_back(it->path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

inline std::string make_fifo(const temp_dir& dir, const std::string& name) {
  auto path = dir / name;
  REQUIRE(::mkfifo(path.c_str(), 0644) == 0);
  return path;
}

inline std::string make_dangling_link(const temp_dir& dir, const std::string& name) {
  auto path = dir / name;
  fs::create_symlink(dir / (name + ".gone"), path);
  return path;
}

/// A small classification set as two CSV files (4 features, 3 classes): fast to train.
inline void write_csv_pair(const temp_dir& dir, const std::string& train = "train.csv",
                           const std::string& test = "test.csv") {
  std::string rows;
  for (int i = 0; i < 240; ++i) {
    int label = i % 3;
    rows += std::to_string(label + 0.1 * (i % 5)) + "," + std::to_string(-label) + ",0.5," +
            std::to_string((i * 7) % 11 / 10.0) + "," + std::to_string(label) + "\n";
  }
  dir.write(train, rows);
  dir.write(test, rows.substr(0, rows.size() / 2));
}

/// The arguments of a quick CSV job on write_csv_pair's files.
inline std::vector<std::string> csv_job(const temp_dir& dir) {
  return {"train",
          "--dataset=csv",
          "--train=" + (dir / "train.csv"),
          "--test=" + (dir / "test.csv"),
          "--model=mlp:4,8,3",
          "--epochs=1",
          "--checkpoint-dir=" + (dir / "ck"),
          "--quiet"};
}

/// The arguments of a quick linreg job.
inline std::vector<std::string> linreg_job(const temp_dir& dir) {
  return {"train", "--dataset=linreg", "--epochs=1", "--checkpoint-dir=" + (dir / "ck"), "--quiet"};
}

inline std::vector<std::string> with(std::vector<std::string> args,
                                     const std::vector<std::string>& more) {
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

/// A TCP connection to 127.0.0.1:port with a 5 s receive timeout (fails the test if refused).
inline int connect_to(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  return fd;
}

inline void put_be32(std::string& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>(v >> shift));
}

/// The header of an IDX image file announcing count images of rows x cols.
inline std::string idx_images_header(uint32_t count, uint32_t rows = 28, uint32_t cols = 28) {
  std::string out;
  put_be32(out, 0x00000803);
  put_be32(out, count);
  put_be32(out, rows);
  put_be32(out, cols);
  return out;
}

inline std::string idx_labels_header(uint32_t count) {
  std::string out;
  put_be32(out, 0x00000801);
  put_be32(out, count);
  return out;
}

/// A tiny IDX set of 28x28 images, uncompressed: 64 training and 16 test images, 10 classes.
inline void write_tiny_idx(const temp_dir& dir) {
  for (auto [prefix, count] : {std::pair{"train", 64u}, std::pair{"t10k", 16u}}) {
    std::string images = idx_images_header(count), labels = idx_labels_header(count);
    for (uint32_t i = 0; i < count; ++i) {
      images.append(28 * 28, static_cast<char>(i * 13));
      labels.push_back(static_cast<char>(i % 10));
    }
    dir.write(std::string(prefix) + "-images-idx3-ubyte", images);
    dir.write(std::string(prefix) + "-labels-idx1-ubyte", labels);
  }
}

/// A listening TCP socket on a free loopback port, closed at scope end: a busy port.
struct port_holder {
  int fd = -1;
  uint16_t port = 0;
  port_holder() {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::listen(fd, 4) == 0);
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    port = ntohs(addr.sin_port);
  }
  ~port_holder() { ::close(fd); }
};

} // namespace tether::hostile
