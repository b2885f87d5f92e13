// Faults caused from inside the job (--faults, actors/fault_injector.hpp and
// actors/message_faults.hpp): a worker actor crashed, messages dropped, duplicated, delayed
// and flipped, the newest checkpoint corrupted before a --resume. Each under async, ssp (S=3)
// and bsp; the checks and the table: tests/fault/fault_harness.hpp.
#include "tests/fault/fault_harness.hpp"

namespace {

using namespace tether::fault;

void worker_actor_crash(const model& m) {
  auto base = baseline_accuracy(m);
  temp_dir dir;
  auto args = job_args(m, dir, "ck");
  // About a third into the run (step 501 of 1404, round 125 of 351 under bsp).
  args.push_back("--faults=kill worker 1 at step " + std::to_string(expected_updates(m, 3) * 5 / 14));
  cluster c{dir, args};
  auto out = finish(c);
  common_checks(m, out, base);
  CHECK(out.role("restarts", "worker") == 1);
  CHECK(out.role("failovers", "shard") == 0);
  CHECK(contains(out.log, "worker 1 recovered"));
  CHECK(checkpoints_verify(dir / "ck"));
  // The crash happened inside the job: its time is the recovery's, less its length.
  REQUIRE(out.recoveries.size() == 1);
  auto seconds = out.max_recovery();
  REQUIRE(!std::isnan(seconds));
  auto recovered = out.recoveries[0];
  auto fault = recovered - std::chrono::milliseconds(int(seconds * 1000));
  auto tp = throughput_around(out, fault, recovered);
  throughput_checks(tp);
  record(m, "worker actor crash (--faults kill)", out, base, seconds, tp);
}

void messages_dropped_duplicated(const model& m) {
  auto base = baseline_accuracy(m);
  temp_dir dir;
  auto args = job_args(m, dir, "ck");
  args.insert(args.end(), {"--request-timeout=0.5",
                           "--faults=seed 3; drop push 1%; drop pull 1%; duplicate push 1%; "
                           "duplicate pull 1%"});
  cluster c{dir, args};
  auto out = finish(c);
  common_checks(m, out, base);
  CHECK(out.role("restarts", "worker") == 0);
  CHECK(out.count("updates_applied") == expected_updates(m, 3)); // each gradient once
  record(m, "messages: drop 1% and duplicate 1%", out, base);
}

void messages_delayed_flipped(const model& m) {
  auto base = baseline_accuracy(m);
  temp_dir dir;
  auto args = job_args(m, dir, "ck");
  args.insert(args.end(), {"--request-timeout=0.5",
                           "--faults=seed 5; delay push 5% 20ms; delay pull 5% 20ms; "
                           "flip push 0.5%"});
  cluster c{dir, args};
  auto out = finish(c);
  // A flipped push that still decodes carries a changed gradient or worker/clock field:
  // accuracy and the audit are checked as for any other fault.
  common_checks(m, out, base);
  record(m, "messages: delay 5% by 20 ms and flip 0.5% of pushes", out, base);
}

void corrupt_checkpoint_resume(const model& m) {
  auto base = baseline_accuracy(m);
  temp_dir dir;
  // The final checkpoint of a two-epoch run is the one flipped.
  auto last = expected_updates(m, 2);
  auto first = job_args(m, dir, "ck", 2);
  first.push_back("--faults=flip checkpoint at step " + std::to_string(last));
  {
    cluster c{dir, first};
    auto out = finish(c);
    REQUIRE_MESSAGE(out.code == 0, out.log);
    REQUIRE(contains(out.log, "flip checkpoint"));
  }
  auto second = job_args(m, dir, "ck", 3);
  second.push_back("--resume");
  cluster c{dir, second, {}, "resumed.log"};
  auto out = finish(c);
  common_checks(m, out, base);
  CHECK(contains(out.log, "skipping a corrupt or unreadable checkpoint"));
  CHECK(out.count("updates_applied") == expected_updates(m, 3));
  record(m, "corrupt newest checkpoint then --resume", out, base);
}

} // namespace

TEST_SUITE_BEGIN("fault");

TETHER_FAULT_SCENARIO("worker actor crash - restarted on its node and no update lost",
                      worker_actor_crash, &async_model)
TETHER_FAULT_SCENARIO("messages dropped and duplicated (1%) - every gradient applied once",
                      messages_dropped_duplicated, nullptr)
TETHER_FAULT_SCENARIO("messages delayed (5% by 20 ms) and pushes flipped (0.5%)",
                      messages_delayed_flipped, nullptr)
TETHER_FAULT_SCENARIO("corrupt newest checkpoint then --resume - it is skipped and the one before is used",
                      corrupt_checkpoint_resume, nullptr)

TEST_SUITE_END();
