// Faults from outside, on whole processes: a node SIGKILLed (one running workers only, one
// running a shard's primary, with and without a standby), a node SIGSTOPped past the
// heartbeat timeout, the coordinator SIGKILLed and the job resumed. Each under async, ssp
// (S=3) and bsp; the checks and the table: tests/fault/fault_harness.hpp.
#include "tests/fault/fault_harness.hpp"

#include <signal.h>

namespace {

using namespace tether::fault;

void worker_node_sigkill(const model& m) {
  auto base = baseline_accuracy(m, {"--shard-replicas=0"});
  temp_dir dir;
  auto args = job_args(m, dir, "ck");
  args.push_back("--shard-replicas=0"); // so that one node runs workers only
  cluster c{dir, args};
  auto victim = c.node_where([](const std::string& l) { return !has_shard(l); });
  REQUIRE(!victim.empty());
  auto fault = signal_after(c, victim, SIGKILL);
  auto out = finish(c);
  common_checks(m, out, base);
  CHECK(out.role("restarts", "worker") >= 1);
  CHECK(out.role("restarts", "shard") == 0);
  auto seconds = recovery_after(out, fault);
  CHECK(seconds < 2.0);
  auto tp = throughput_around(out, fault, fault + std::chrono::milliseconds(int(seconds * 1000)));
  throughput_checks(tp);
  CHECK(checkpoints_verify(dir / "ck"));
  record(m, "worker node SIGKILL", out, base, seconds, tp);
}

void shard_primary_sigkill(const model& m) {
  auto base = baseline_accuracy(m);
  temp_dir dir;
  cluster c{dir, job_args(m, dir, "ck")};
  auto victim = c.node_where([](const std::string& l) { return contains(l, "shard 0"); });
  REQUIRE(!victim.empty());
  auto fault = signal_after(c, victim, SIGKILL);
  auto out = finish(c);
  common_checks(m, out, base);
  CHECK(out.role("failovers", "shard") >= 1);
  CHECK(out.role("restarts", "shard") == 0);
  CHECK(out.count("shard_replicas") == 1);
  CHECK(contains(out.log, "its standby took over"));
  auto seconds = recovery_after(out, fault);
  CHECK(seconds < 2.0);
  auto tp = throughput_around(out, fault, fault + std::chrono::milliseconds(int(seconds * 1000)));
  throughput_checks(tp);
  CHECK(checkpoints_verify(dir / "ck"));
  record(m, "shard primary SIGKILL with standby", out, base, seconds, tp);
}

void shard_without_standby(const model& m) {
  auto base = baseline_accuracy(m, {"--shard-replicas=0"});
  temp_dir dir;
  auto args = job_args(m, dir, "ck");
  args.push_back("--shard-replicas=0");
  cluster c{dir, args};
  auto victim = c.node_where([](const std::string& l) { return contains(l, "shard 0"); });
  REQUIRE(!victim.empty());
  auto fault = signal_after(c, victim, SIGKILL);
  auto out = finish(c);
  common_checks(m, out, base, tolerance, /*lost_allowed=*/true);
  CHECK(out.role("restarts", "shard") >= 1);
  // Lost (counted in gradients, one per worker batch): at most the updates since the newest
  // checkpoint on disk (--checkpoint-every=200; the newest cut's file may still be being
  // written, so two periods) plus steps in flight. Under bsp an update is a round of
  // `workers` gradients, and the kill (epoch 1, round 117) comes before the first
  // checkpoint (round 200): the restore is from the start, 468 gradients and those in flight.
  const uint64_t per_update = std::string(m.name) == "bsp" ? workers : 1;
  CHECK(out.count("updates_lost") <= 2 * 200 * per_update + 2 * workers);
  CHECK(contains(out.log, "updates lost"));
  CHECK(checkpoints_verify(dir / "ck"));
  auto seconds = recovery_after(out, fault);
  auto tp = throughput_around(out, fault, fault + std::chrono::milliseconds(
                                                      std::isnan(seconds) ? 0 : int(seconds * 1000)));
  record(m, "shard SIGKILL without standby (checkpoint restore)", out, base, seconds, tp);
}

void node_sigstop(const model& m) {
  auto base = baseline_accuracy(m);
  temp_dir dir;
  auto args = job_args(m, dir, "ck");
  args.insert(args.end(), {"--heartbeat=500ms", "--heartbeat-timeout=2s"});
  cluster c{dir, args, {"--heartbeat=500ms", "--heartbeat-timeout=2s"}};
  auto victim = c.node_where([](const std::string& l) { return contains(l, "shard 0"); });
  REQUIRE(!victim.empty());
  auto fault = signal_after(c, victim, SIGSTOP);
  REQUIRE(wait_for_line(c.coord, "recovered", 30s)); // declared dead first, then recovered
  if (auto pid = c.pid_of(victim); pid > 0)
    ::kill(pid, SIGCONT);
  auto out = finish(c);
  common_checks(m, out, base);
  CHECK(out.role("failovers", "shard") >= 1);
  auto seconds = recovery_after(out, fault);
  CHECK(seconds < 2.0 + 2.0); // the timeout, then under 2 s
  auto tp = throughput_around(out, fault, fault + std::chrono::milliseconds(int(seconds * 1000)));
  throughput_checks(tp);
  record(m, "node SIGSTOP past the heartbeat timeout (2 s)", out, base, seconds, tp);
}

void coordinator_sigkill_resume(const model& m) {
  auto base = baseline_accuracy(m);
  temp_dir dir;
  {
    cluster c{dir, job_args(m, dir, "ck")};
    // A checkpoint past the first epoch is on disk (600 of 1404 updates, 200 of 351 rounds).
    REQUIRE(wait_for_checkpoint(dir / "ck", expected_updates(m, 3) / 3, 120s));
    ::kill(c.coord.process.pid, SIGKILL);
    for (auto& [name, node] : c.nodes)
      CHECK(node->wait_for(30s) != 0); // a node without its coordinator ends, with an error
  }
  auto resumed = job_args(m, dir, "ck");
  resumed.push_back("--resume");
  cluster c{dir, resumed, {}, "resumed.log"};
  auto out = finish(c);
  common_checks(m, out, base, 0.01);
  CHECK(out.count("updates_applied") == expected_updates(m, 3));
  record(m, "coordinator SIGKILL then --resume", out, base);
}

} // namespace

TEST_SUITE_BEGIN("fault");

TETHER_FAULT_SCENARIO("worker node SIGKILL - its workers restart on the others",
                      worker_node_sigkill, &ssp_model)
TETHER_FAULT_SCENARIO("shard primary SIGKILL - the standby takes over and nothing is lost",
                      shard_primary_sigkill, &bsp_model)
TETHER_FAULT_SCENARIO("shard without standby - restored from the newest checkpoint with the loss counted",
                      shard_without_standby, nullptr)
TETHER_FAULT_SCENARIO("node SIGSTOP past the heartbeat timeout - declared dead and its work goes on",
                      node_sigstop, nullptr)
TETHER_FAULT_SCENARIO("coordinator SIGKILL then --resume with the nodes rejoining",
                      coordinator_sigkill_resume, nullptr)

TEST_SUITE_END();
