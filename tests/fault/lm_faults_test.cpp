// The language model through a fault: a tiny GPT on a 3-node loopback cluster, the node
// holding shard 0's primary SIGKILLed after the first evaluation; the standby takes over,
// nothing is lost, and the final validation loss is within 0.05 nats of the fault-free
// run's (async, the LM's default; this scenario runs in CI).
#include "tests/fault/fault_harness.hpp"

#include <cmath>
#include <fstream>
#include <signal.h>

namespace {

using namespace tether::fault;

/// A tiny GPT on a patterned text file, 4 workers, 2 shards on 3 nodes, 2000 updates (to
/// the pattern's floor, where runs agree), a checkpoint every 250.
std::vector<std::string> lm_job_args(const temp_dir& dir, const std::string& ck) {
  {
    std::ofstream out(dir / "text.txt");
    const char* lines[] = {"the cat sat on the mat", "a dog ran to the park",
                           "we like to eat red apples", "the sun is warm today"};
    for (int i = 0; i < 800; ++i)
      out << lines[(i * 7) % 4] << (i % 3 ? ".\n" : "!\n");
  }
  return {"--insecure", "--min-nodes=3", "--dataset=text",
          "--model=gpt:layers=1,heads=2,embd=32,context=16", "--train=" + (dir / "text.txt"),
          "--steps=2000", "--eval-every=500", "--batch=16", "--lr=0.005", "--workers=4",
          "--shards=2", "--seed=7", "--checkpoint-every=250", "--checkpoint-dir=" + (dir / ck),
          "--summary=" + (dir / "summary.json"), "--metrics-log=" + (dir / "points.jsonl"),
          "--max-restarts=20"};
}

} // namespace

TEST_CASE("LM: shard primary SIGKILL mid-run, the standby takes over, loss within 0.05 nats") {
  double base = 0;
  {
    temp_dir dir;
    cluster c{dir, lm_job_args(dir, "ck")};
    auto out = finish(c);
    REQUIRE_MESSAGE(out.code == 0, out.log);
    base = out.count("valid_loss");
  }
  temp_dir dir;
  cluster c{dir, lm_job_args(dir, "ck")};
  auto victim = c.node_where([](const std::string& l) { return contains(l, "shard 0"); });
  REQUIRE(!victim.empty());
  REQUIRE(wait_for_line(c.coord, "step    5", 120s)); // the first evaluation, at 500 updates
  ::kill(c.pid_of(victim), SIGKILL);
  auto out = finish(c);
  INFO(out.log);
  REQUIRE(out.code == 0);
  MESSAGE("valid_loss fault-free " << base << ", after the SIGKILL " << out.count("valid_loss"));
  CHECK(out.count("updates_lost") == 0);
  CHECK(out.count("updates_applied") == 2000);
  CHECK(out.role("failovers", "shard") >= 1);
  CHECK(contains(out.log, "its standby took over"));
  CHECK(std::abs(out.count("valid_loss") - base) <= 0.05);
  CHECK(checkpoints_verify(dir / "ck"));
}
