// SIGTERM stops a job that cannot make progress: a node holding a shard is frozen
// (SIGSTOP) with a heartbeat timeout far away, so training stalls; the coordinator's
// SIGTERM must still end the job within seconds, exit 130, with a final checkpoint (best
// effort: what the frozen node holds comes from the newest checkpoint) and a summary
// that says so.
#include "tests/cluster_harness.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <csignal>

using namespace tether::testing;

TEST_CASE("SIGTERM stops a stalled cluster job within seconds with a final checkpoint") {
  temp_dir dir;
  coordinator c{dir,
                {"--insecure", "--min-nodes=2", "--workers=2", "--shards=2",
                 "--shard-replicas=0", "--consistency=bsp", "--epochs=50",
                 "--limit-train=20000", "--checkpoint-every=100",
                 "--heartbeat-timeout=120s", "--checkpoint-dir=" + (dir / "ck"),
                 "--summary=" + (dir / "summary.json")}};
  auto n1 = start_node(c, "n1", {"--heartbeat-timeout=120s"}, true);
  auto n2 = start_node(c, "n2", {"--heartbeat-timeout=120s"}, true);
  REQUIRE_MESSAGE(wait_for_line(c, "epoch  1.", 120s), c.log());
  // n2 holds a shard (shards spread over the nodes first): under bsp nothing moves on.
  ::kill(n2->pid, SIGSTOP);
  std::this_thread::sleep_for(2s);
  auto asked = std::chrono::steady_clock::now();
  ::kill(c.process.pid, SIGTERM);
  int code = c.process.wait_for(60s);
  double seconds =
    std::chrono::duration<double>(std::chrono::steady_clock::now() - asked).count();
  ::kill(n2->pid, SIGCONT);
  INFO(c.log());
  CHECK(code == 130);
  CHECK(seconds < 15);
  auto summary = nlohmann::json::parse(slurp(dir / "summary.json"));
  CHECK(summary["outcome"] == "stopped");
  const std::string checkpoint = summary["checkpoint"];
  REQUIRE_FALSE(checkpoint.empty());
  CHECK(std::system((tether_bin + " inspect --checkpoint=" + checkpoint + " > /dev/null").c_str()) ==
        0);
  // The frozen node's shard did not answer the final cut: its part is its restore point.
  CHECK_FALSE(summary["shards_from_restore_point"].empty());
  CHECK(n1->wait_for(30s) == 0);
}
