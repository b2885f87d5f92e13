// A network cut: one host of a cluster of network namespaces (deploy/netns-cluster.sh) loses
// its link 4 s after the start, for 6 s (past the 2 s heartbeat timeout), then gets it back.
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
  // Host 2 loses its link 4 s in, for 6 s: past the 2 s heartbeat timeout.
  std::string cmd = script + " --hosts=3 --tether=" + tether_bin + " --workdir=" + (dir / "run") +
                    " --cut=2:4:6 --node-opt=--cores=1 --node-opt=--heartbeat=500ms"
                    " --node-opt=--heartbeat-timeout=2s --";
  for (const auto& arg : job_args(m, dir, "ck"))
    if (arg != "--insecure" && arg != "--min-nodes=3") // the script sets TLS and the nodes
      cmd += " " + arg;
  cmd += " --heartbeat=500ms --heartbeat-timeout=2s > " + (dir / "out.log") + " 2>&1";
  auto started = wall_clock::now();
  int status = std::system(cmd.c_str());
  auto out = read_outcome(dir);
  out.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  out.log = slurp(dir / "out.log");
  common_checks(m, out, base);
  CHECK(contains(out.log, "cut"));
  // Before: up to the cut; after: from the link's return (the work moved before that).
  auto tp = throughput_around(out, started + 4s, started + 10s);
  throughput_checks(tp);
  record(m, "network cut of one host for 6 s (netns) then back", out, base, out.max_recovery(), tp);
}

} // namespace

TEST_SUITE_BEGIN("fault");

TETHER_FAULT_SCENARIO("network cut of one namespaced host and its return", network_cut, nullptr)

TEST_SUITE_END();
