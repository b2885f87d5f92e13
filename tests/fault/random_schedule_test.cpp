// A seeded random schedule per model: 5 faults drawn from node SIGKILL, node SIGSTOP past
// the heartbeat timeout, shard kill (--faults=kill shard, at a drawn step), drain (SIGTERM
// on a node) and join (a node added); every node killed, stopped or drained is replaced by
// a new one. The seed and the schedule are printed. A network cut is not among the draws:
// it needs the cluster in network namespaces (tests/fault/network_cut_test.cpp), and these
// nodes share the machine's loopback.
#include "tests/fault/fault_harness.hpp"

#include <signal.h>

#include <cstdio>
#include <random>

namespace {

using namespace tether::fault;

enum class kind { sigkill, sigstop, shard_kill, drain, join };
const char* kind_name(kind k) {
  static const char* names[] = {"node SIGKILL", "node SIGSTOP", "shard kill", "drain", "join"};
  return names[static_cast<int>(k)];
}

constexpr uint64_t epochs = 6;

void random_schedule(const model& m) {
  auto base = baseline_accuracy(m);
  const uint32_t seed = 20261208;
  std::mt19937 draws{seed};
  std::vector<kind> faults;
  for (int k = 0; k < 5; ++k)
    faults.push_back(static_cast<kind>(draws() % 5));
  std::string plan;
  for (auto f : faults)
    plan += std::string(plan.empty() ? "" : ", ") + kind_name(f);
  std::printf("%s random schedule, seed %u: %s\n", m.name, seed, plan.c_str());
  std::fflush(stdout);

  temp_dir dir;
  auto args = job_args(m, dir, "ck", epochs);
  const std::vector<std::string> beat{"--heartbeat=500ms", "--heartbeat-timeout=2s"};
  args.insert(args.end(), beat.begin(), beat.end());
  std::string injected;
  for (auto f : faults)
    if (f == kind::shard_kill) // at a drawn step within the run, on a drawn shard
      injected += std::string(injected.empty() ? "" : "; ") + "kill shard " +
                  std::to_string(draws() % 2) + " at step " +
                  std::to_string(expected_updates(m, epochs) / 7 +
                                 draws() % (expected_updates(m, epochs) * 5 / 7));
  if (!injected.empty())
    args.push_back("--faults=" + injected);
  cluster c{dir, args, beat};
  REQUIRE(wait_for_line(c.coord, "epoch  1.", 120s));
  int added = 0;
  for (auto f : faults) {
    if (f == kind::shard_kill)
      continue; // fires inside the job at its step
    std::this_thread::sleep_for(std::chrono::milliseconds(500 + draws() % 1000)); // spacing
    if (contains(c.coord.log(), "done:")) // (running() would reap it, losing its exit code)
      break;
    std::vector<std::string> alive;
    for (auto& [name, node] : c.nodes)
      if (node->running())
        alive.push_back(name);
    auto victim = alive[draws() % alive.size()];
    auto seen = c.recoveries().size();
    auto send = [&](int sig) {
      if (auto pid = c.pid_of(victim); pid > 0) // never -1: that would signal every process
        ::kill(pid, sig);
    };
    if (f == kind::sigkill)
      send(SIGKILL);
    else if (f == kind::sigstop)
      send(SIGSTOP);
    else if (f == kind::drain)
      send(SIGTERM);
    std::printf("  %s%s%s\n", kind_name(f), f == kind::join ? "" : " of ", f == kind::join ? "" : victim.c_str());
    c.add_node("r" + std::to_string(++added), beat); // the replacement (or the joiner)
    if (f == kind::sigkill || f == kind::sigstop) { // its work moved before the next fault
      auto deadline = std::chrono::steady_clock::now() + 20s;
      while (c.recoveries().size() == seen && std::chrono::steady_clock::now() < deadline &&
             !contains(c.coord.log(), "done:"))
        std::this_thread::sleep_for(20ms);
    }
    if (f == kind::sigstop)
      send(SIGCONT); // declared dead by now: it ends or rejoins
  }
  auto out = finish(c, 360s);
  common_checks(m, out, base);
  CHECK(out.count("updates_applied") == expected_updates(m, epochs));
  CHECK(checkpoints_verify(dir / "ck"));
  record(m, "random schedule (seed 20261208): " + plan, out, base, out.max_recovery());
}

} // namespace

TEST_SUITE_BEGIN("fault");

TETHER_FAULT_SCENARIO("seeded random schedule of 5 faults with replacements", random_schedule,
                      nullptr)

TEST_SUITE_END();
