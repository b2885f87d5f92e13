// A network cut: one host of a cluster of network namespaces (deploy/netns-cluster.sh) loses
// its link after the first epoch, for 6 s (past the 2 s heartbeat timeout), then gets it back.
// Under async, ssp (S=3) and bsp. Where namespaces cannot be made (not root, no iproute2),
// every entry reports skipped (exit 77), never passed.
#include "tests/fault/fault_harness.hpp"

#include "tests/skip.hpp"

#include <sys/wait.h>

namespace {

using namespace tether::fault;

void network_cut(const model& m) {
  auto script = "bash " + std::string(TETHER_SOURCE_DIR) + "/deploy/netns-cluster.sh";
  if (std::system((script + " --probe > /dev/null 2>&1").c_str()) != 0)
    skip_test("network namespaces cannot be made here (deploy/netns-cluster.sh --probe)");
  auto base = baseline_accuracy(m);
  temp_dir dir;
  std::vector<std::string> argv{"bash", std::string(TETHER_SOURCE_DIR) + "/deploy/netns-cluster.sh",
                                "--hosts=3", "--tether=" + tether_bin, "--workdir=" + (dir / "run"),
                                "--node-opt=--cores=1", "--node-opt=--heartbeat=500ms",
                                "--node-opt=--heartbeat-timeout=2s", "--"};
  for (const auto& arg : job_args(m, dir, "ck"))
    if (arg != "--insecure" && arg != "--min-nodes=3") // the script sets TLS and the nodes
      argv.push_back(arg);
  argv.insert(argv.end(), {"--heartbeat=500ms", "--heartbeat-timeout=2s"});
  child_process script_run(argv, dir / "out.log");
  // Host 2 loses its link once the first epoch is done, for 6 s (past the 2 s heartbeat
  // timeout), then gets it back: its bridge port on the switch namespace set down and up,
  // as the script's --cut does. Not --cut itself: that counts from the start, and on a
  // loaded machine a node may still be joining then (the job then waits for it forever).
  auto run_log = dir / "run/coordinator.log";
  auto link = [](const char* state) {
    return std::system(("ip -n tether-sw link set h2 " + std::string(state)).c_str()) == 0;
  };
  auto deadline = std::chrono::steady_clock::now() + 300s;
  while (!contains(slurp(run_log), "epoch  1.") && std::chrono::steady_clock::now() < deadline &&
         ::waitpid(script_run.pid, nullptr, WNOHANG) == 0)
    std::this_thread::sleep_for(20ms);
  REQUIRE_MESSAGE(contains(slurp(run_log), "epoch  1."), slurp(dir / "out.log"));
  auto cut = wall_clock::now();
  REQUIRE(link("down"));
  std::this_thread::sleep_for(6s); // the length of the cut is the fault itself
  REQUIRE(link("up"));
  int status = 0;
  int code = -1;
  while (std::chrono::steady_clock::now() < deadline) { // (wait_for would stop it on timeout)
    if (::waitpid(script_run.pid, &status, WNOHANG) == script_run.pid) {
      script_run.pid = -1;
      code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      break;
    }
    std::this_thread::sleep_for(20ms);
  }
  auto out = read_outcome(dir);
  out.code = code;
  out.log = slurp(dir / "out.log");
  common_checks(m, out, base);
  // Before: up to the cut; after: from the recovery (the 2 s heartbeat timeout, then the
  // work moved: recovery_seconds), while the host may still be cut off.
  auto recovery = std::isnan(out.max_recovery()) ? 0.0 : out.max_recovery();
  auto tp = throughput_around(out, cut, cut + 2s + std::chrono::milliseconds(int(recovery * 1000)));
  throughput_checks(tp);
  record(m, "network cut of one host for 6 s (netns) then back", out, base, out.max_recovery(), tp);
}

} // namespace

TEST_SUITE_BEGIN("fault");

TETHER_FAULT_SCENARIO("network cut of one namespaced host and its return", network_cut, nullptr)

TEST_SUITE_END();
