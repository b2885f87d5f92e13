// A seeded random schedule per model: 5 faults drawn from node SIGKILL, node SIGSTOP past
// the heartbeat timeout, shard kill (--faults=kill shard, at a drawn step), drain (SIGTERM
// on a node) and join (a node added); every node killed, stopped or drained is replaced by
// a new one. The seed (one per model) and the schedule are printed. A network cut is not among the draws:
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

const std::vector<std::string> beat{"--heartbeat=500ms", "--heartbeat-timeout=2s"};

/// The five faults, and the schedule as printed ("node SIGKILL, drain, ...").
std::vector<kind> draw_faults(std::mt19937& draws, std::string& plan) {
  std::vector<kind> faults;
  for (int k = 0; k < 5; ++k) {
    faults.push_back(static_cast<kind>(draws() % 5));
    plan += std::string(plan.empty() ? "" : ", ") + kind_name(faults.back());
  }
  return faults;
}

/// The --faults plan of the drawn shard kills: a drawn shard at a drawn step of the run.
std::string shard_kills(const model& m, const std::vector<kind>& faults, std::mt19937& draws) {
  std::string injected;
  auto total = expected_updates(m, epochs);
  for (auto f : faults)
    if (f == kind::shard_kill)
      injected += std::string(injected.empty() ? "" : "; ") + "kill shard " +
                  std::to_string(draws() % 2) + " at step " +
                  std::to_string(total / 7 + draws() % (total * 5 / 7));
  return injected;
}

/// Causes fault `f` (not a shard kill) on a drawn live node, adds its replacement (or the
/// joiner), and after a kill or stop waits for the coordinator's next "recovered" line.
void cause(cluster& c, kind f, std::mt19937& draws, int& added) {
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
  std::printf("  %s%s\n", kind_name(f), f == kind::join ? "" : (" of " + victim).c_str());
  std::fflush(stdout);
  c.add_node("r" + std::to_string(++added), beat);
  if (f == kind::sigkill || f == kind::sigstop) { // its work moved before the next fault
    auto deadline = std::chrono::steady_clock::now() + 20s;
    while (c.recoveries().size() == seen && std::chrono::steady_clock::now() < deadline &&
           !contains(c.coord.log(), "done:"))
      std::this_thread::sleep_for(20ms);
  }
  if (f == kind::sigstop)
    send(SIGCONT); // declared dead by now: it ends or rejoins
}

void random_schedule(const model& m) {
  auto base = baseline_accuracy(m);
  // One seed per model, chosen so that the three schedules together draw every kind (each
  // draws four of the five): async drain, shard kill, SIGSTOP, SIGKILL x2; ssp shard kill,
  // join, SIGKILL x2, SIGSTOP; bsp drain, SIGSTOP, SIGKILL, SIGSTOP, join.
  const std::string name = m.name;
  const uint32_t seed = name == "async" ? 20261211 : name == "ssp" ? 20261215 : 20261214;
  std::mt19937 draws{seed};
  std::string plan;
  auto faults = draw_faults(draws, plan);
  std::printf("%s random schedule, seed %u: %s\n", m.name, seed, plan.c_str());
  std::fflush(stdout);

  temp_dir dir;
  auto args = job_args(m, dir, "ck", epochs);
  args.insert(args.end(), beat.begin(), beat.end());
  if (auto injected = shard_kills(m, faults, draws); !injected.empty())
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
    cause(c, f, draws, added);
  }
  auto out = finish(c, 360s);
  common_checks(m, out, base);
  CHECK(out.count("updates_applied") == expected_updates(m, epochs));
  CHECK(checkpoints_verify(dir / "ck"));
  record(m, "random schedule (seed " + std::to_string(seed) + "): " + plan, out, base,
         out.max_recovery());
}

} // namespace

TEST_SUITE_BEGIN("fault");

TETHER_FAULT_SCENARIO("seeded random schedule of 5 faults with replacements", random_schedule,
                      nullptr)

TEST_SUITE_END();
