// Helpers of the tests that run real clusters (tests/cli/cluster_test.cpp, tests/fault):
// a coordinator process listening on a port it reads from its log, node processes,
// certificates from deploy/make-certs.sh, and reading logs and summaries (nlohmann-json).
#pragma once

#include <doctest/doctest.h>

#include "tests/child_process.hpp"
#include "tests/temp_dir.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace tether::testing {

using namespace std::chrono_literals;

inline const std::string tether_bin = std::string(TETHER_BINARY_DIR) + "/cli/tether";
inline const std::string make_certs = std::string(TETHER_SOURCE_DIR) + "/deploy/make-certs.sh";

inline std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

/// Makes a CA and certificates for `names` in dir/tls (or another `out` directory).
inline void certificates(const temp_dir& dir, const std::vector<std::string>& names,
                  const std::string& out = "tls") {
  std::string cmd = "bash " + make_certs + " " + (dir / out);
  for (auto& n : names)
    cmd += " " + n;
  cmd += " > " + (dir / (out + ".log")) + " 2>&1";
  REQUIRE_MESSAGE(std::system(cmd.c_str()) == 0, slurp(dir / (out + ".log")));
}

/// The JSON file at `path` (a summary); fails the test if it is missing or malformed.
inline nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path);
  REQUIRE_MESSAGE(in.good(), path << " was not written");
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    FAIL(path << " is not valid JSON: " << e.what());
  }
  return {};
}

/// A running coordinator with the port it listens on.
struct coordinator {
  temp_dir& dir;
  std::string log_name;
  child_process process;
  uint16_t port = 0;

  /// `log` names its log file in `d` (a second coordinator in one test needs its own).
  coordinator(temp_dir& d, std::vector<std::string> args, std::string log = "coordinator.log")
    : dir(d), log_name(std::move(log)), process(with_binary(std::move(args)), d / log_name) {
    auto deadline = std::chrono::steady_clock::now() + 30s;
    std::regex listening("listening on [^ ]+:([0-9]+) ");
    while (std::chrono::steady_clock::now() < deadline && process.running()) {
      std::smatch m;
      auto text = slurp(dir / log_name);
      if (std::regex_search(text, m, listening)) {
        port = static_cast<uint16_t>(std::stoi(m[1]));
        return;
      }
      std::this_thread::sleep_for(50ms);
    }
    FAIL("the coordinator did not listen: " << slurp(dir / log_name));
  }

  std::string address() const { return "127.0.0.1:" + std::to_string(port); }
  std::string log() const { return slurp(dir / log_name); }

  static std::vector<std::string> with_binary(std::vector<std::string> args) {
    args.insert(args.begin(), {tether_bin, "coordinator", "--listen=127.0.0.1:0"});
    return args;
  }
};

/// A node process joining `c` with the certificate directory dir/tls/<name>.
/// With `insecure`, plain TCP instead (the coordinator must be --insecure too).
inline std::unique_ptr<child_process> start_node(const coordinator& c, const std::string& name,
                                                 std::vector<std::string> extra = {},
                                                 bool insecure = false) {
  std::vector<std::string> argv{tether_bin, "node", "--join=" + c.address(), "--name=" + name,
                                "--cores=1",
                                insecure ? std::string{"--insecure"}
                                         : "--tls-dir=" + (c.dir / ("tls/" + name))};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return std::make_unique<child_process>(argv, c.dir / (name + ".log"));
}

/// Waits until `text` shows up in the coordinator's log (or the limit passes).
inline bool wait_for_line(const coordinator& c, const std::string& text, std::chrono::seconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (contains(c.log(), text))
      return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

} // namespace tether::testing
