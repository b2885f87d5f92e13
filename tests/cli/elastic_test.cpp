// Elastic jobs on real clusters of processes on loopback: a job grows onto a node that joins
// (--max-workers), shrinks when a node dies (--min-workers), and a node declared dead rejoins
// under its name, under each consistency model. Each run is checked for: it finishes, the
// model's clock-gap bound held at every evaluation (the --metrics-log lines), no update was
// lost, and every shard's final state holds every batch of every epoch once (the counts the
// job's options imply).
#include "messages/checkpoint_file.hpp"
#include "tests/cluster_harness.hpp"

#include <nlohmann/json.hpp>

#include <csignal>
#include <fstream>

namespace {

using namespace std::chrono_literals;
using namespace tether::testing;
using json = nlohmann::json;

constexpr uint64_t samples = 12000, batch = 64, epochs = 3;

struct model_case {
  const char* name;
  uint64_t bound; ///< the largest clock gap the model allows
};

std::vector<std::string> job(const temp_dir& dir, const model_case& m, uint32_t min_nodes,
                             std::vector<std::string> extra) {
  std::vector<std::string> args{"--insecure",
                                "--min-nodes=" + std::to_string(min_nodes),
                                "--epochs=" + std::to_string(epochs),
                                "--limit-train=" + std::to_string(samples),
                                "--batch=" + std::to_string(batch),
                                "--shards=2",
                                "--seed=4",
                                "--consistency=" + std::string(m.name),
                                "--staleness=3",
                                "--checkpoint-dir=" + (dir / "ck"),
                                "--summary=" + (dir / "summary.json"),
                                "--metrics-log=" + (dir / "points.jsonl")};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

/// Waits for the coordinator to end; its exit code (-1: still running after `limit`).
int wait_exit(coordinator& c, std::chrono::seconds limit) {
  return c.process.wait_for(limit);
}

/// The checks every elastic run ends with.
void check_outcome(const temp_dir& dir, const model_case& m, uint32_t most_workers) {
  std::ifstream summary_file(dir / "summary.json");
  REQUIRE_MESSAGE(summary_file.good(), "no summary was written");
  auto summary = json::parse(summary_file);
  CHECK(summary.at("updates_lost").get<uint64_t>() == 0);
  CHECK(summary.at("max_clock_gap").get<uint64_t>() <= m.bound);
  // The bound held at every evaluation, not only at the end.
  std::ifstream points(dir / "points.jsonl");
  std::string line;
  size_t lines = 0;
  while (std::getline(points, line)) {
    auto p = json::parse(line);
    CHECK(p.at("max_clock_gap").get<uint64_t>() <= m.bound);
    ++lines;
  }
  CHECK(lines >= epochs);
  // Every batch of every epoch once: dynamic hand-out (async, ssp) does samples / batch a
  // epoch; bsp does whole rounds, leaving out less than one round's batches an epoch.
  auto final = tether::load_newest_good(dir / "ck");
  REQUIRE(final);
  const uint64_t per_epoch = samples / batch;
  uint64_t first_sum = 0;
  for (size_t j = 0; j < final->data.shards.size(); ++j) {
    uint64_t sum = 0;
    for (auto c : final->data.shards[j].applied_counts)
      sum += c;
    if (j == 0)
      first_sum = sum;
    CHECK(sum == first_sum); // every shard holds the same batches
    if (std::string(m.name) == "bsp") {
      CHECK(sum <= epochs * per_epoch);
      CHECK(sum + epochs * (most_workers - 1) >= epochs * per_epoch);
    } else {
      CHECK(sum == epochs * per_epoch);
    }
  }
}

void grows_onto_a_joining_node(const model_case& m) {
  temp_dir dir;
  coordinator c(dir, job(dir, m, 2, {"--workers=2", "--max-workers=4", "--eval-every=30"}));
  auto n1 = start_node(c, "n1", {"--cores=2"}, true);
  auto n2 = start_node(c, "n2", {"--cores=2"}, true);
  REQUIRE_MESSAGE(wait_for_line(c, "epoch ", 120s), c.log());
  auto n3 = start_node(c, "n3", {"--cores=3"}, true);
  CHECK_MESSAGE(wait_for_line(c, "the job grows onto node n3: 2 more workers, 4 in all", 60s),
                c.log());
  REQUIRE_MESSAGE(wait_exit(c, 240s) == 0, c.log());
  check_outcome(dir, m, 4);
}

void shrinks_when_a_node_dies(const model_case& m) {
  temp_dir dir;
  coordinator c(dir, job(dir, m, 3, {"--workers=4", "--min-workers=2", "--eval-every=30"}));
  auto n1 = start_node(c, "n1", {"--cores=2"}, true);
  auto n2 = start_node(c, "n2", {"--cores=2"}, true);
  auto n3 = start_node(c, "n3", {"--cores=2"}, true);
  REQUIRE_MESSAGE(wait_for_line(c, "epoch ", 120s), c.log());
  // The node that joined last holds workers (shards and standbys spread first).
  ::kill(n3->pid, SIGKILL);
  CHECK_MESSAGE(wait_for_line(c, "the job shrinks", 30s), c.log());
  REQUIRE_MESSAGE(wait_exit(c, 240s) == 0, c.log());
  check_outcome(dir, m, 4);
}

void a_dead_node_rejoins_under_its_name(const model_case& m) {
  temp_dir dir;
  coordinator c(dir, job(dir, m, 3, {"--workers=3", "--eval-every=30"}));
  auto n1 = start_node(c, "n1", {"--cores=2"}, true);
  auto n2 = start_node(c, "n2", {"--cores=2"}, true);
  auto n3 = start_node(c, "n3", {"--cores=2"}, true);
  REQUIRE_MESSAGE(wait_for_line(c, "epoch ", 120s), c.log());
  ::kill(n2->pid, SIGKILL);
  REQUIRE_MESSAGE(wait_for_line(c, "node n2 left", 30s), c.log());
  auto again = start_node(c, "n2", {"--cores=2"}, true);
  CHECK_MESSAGE(wait_for_line(c, "node n2 rejoined", 60s), c.log());
  REQUIRE_MESSAGE(wait_exit(c, 240s) == 0, c.log());
  check_outcome(dir, m, 3);
}

const model_case async_case{"async", UINT64_MAX}, ssp_case{"ssp", 3}, bsp_case{"bsp", 0};

} // namespace

TEST_SUITE_BEGIN("elastic");

TEST_CASE("async: the job grows onto a node that joins") { grows_onto_a_joining_node(async_case); }
TEST_CASE("ssp: the job grows onto a node that joins") { grows_onto_a_joining_node(ssp_case); }
TEST_CASE("bsp: the job grows onto a node that joins") { grows_onto_a_joining_node(bsp_case); }
TEST_CASE("async: the job shrinks when a node dies") { shrinks_when_a_node_dies(async_case); }
TEST_CASE("ssp: the job shrinks when a node dies") { shrinks_when_a_node_dies(ssp_case); }
TEST_CASE("bsp: the job shrinks when a node dies") { shrinks_when_a_node_dies(bsp_case); }
TEST_CASE("async: a dead node rejoins under its name") {
  a_dead_node_rejoins_under_its_name(async_case);
}
TEST_CASE("ssp: a dead node rejoins under its name") { a_dead_node_rejoins_under_its_name(ssp_case); }
TEST_CASE("bsp: a dead node rejoins under its name") { a_dead_node_rejoins_under_its_name(bsp_case); }

TEST_SUITE_END();
