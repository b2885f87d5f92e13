// The language model on a real loopback cluster: `tether coordinator --dataset=text
// --model=gpt:...` with two `tether node` processes (TLS) trains a tiny GPT on a text
// file the same way `tether train` does; each node checks that its copy of the text is
// the coordinator's. Tiny shapes and 120 updates: a few seconds.
#include <doctest/doctest.h>

#include "tests/cluster_harness.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;
using namespace tether::testing;

void write_text(const std::string& path, size_t lines, const char* end = ".\n") {
  std::ofstream out(path);
  const char* words[] = {"the cat sat on the mat", "a dog ran to the park",
                         "we like to eat red apples", "the sun is warm today"};
  for (size_t i = 0; i < lines; ++i)
    out << words[i % 4] << end;
}

std::vector<std::string> lm_job(temp_dir& dir, std::vector<std::string> extra = {}) {
  std::vector<std::string> args{"--min-nodes=2",
                                "--tls-dir=" + (dir / "tls/coordinator"),
                                "--dataset=text",
                                "--model=gpt:layers=1,heads=2,embd=16,context=16",
                                "--train=" + (dir / "text.txt"),
                                "--steps=120",
                                "--eval-every=60",
                                "--batch=8",
                                "--lr=0.01",
                                "--checkpoint-dir=" + (dir / "ck"),
                                "--summary=" + (dir / "summary.json")};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

} // namespace

TEST_CASE("two TLS nodes train the GPT on a text file and every process exits 0") {
  temp_dir dir;
  certificates(dir, {"coordinator", "n1", "n2"});
  write_text(dir / "text.txt", 400);
  coordinator c{dir, lm_job(dir)};
  auto n1 = start_node(c, "n1");
  auto n2 = start_node(c, "n2");
  int code = c.process.wait_for(120s);
  INFO(c.log());
  CHECK(code == 0);
  CHECK(n1->wait_for(20s) == 0);
  CHECK(n2->wait_for(20s) == 0);
  CHECK(contains(c.log(), "nats/byte"));
  CHECK(contains(c.log(), "  sample: \""));
  auto text = slurp(dir / "summary.json");
  INFO(text);
  auto summary = nlohmann::json::parse(text);
  CHECK(summary["updates_applied"] == 120);
  CHECK(summary["valid_loss"] > 0);
  CHECK(summary["valid_loss"] < 3.5); // ln 256 = 5.55 untrained
  CHECK(summary["tokens_per_sec"] > 0);
  auto nodes = summary["nodes"].get<std::vector<std::string>>();
  std::sort(nodes.begin(), nodes.end());
  CHECK(nodes == std::vector<std::string>{"n1", "n2"});
}

TEST_CASE("a node whose text differs from the coordinator's is refused, exit 3") {
  temp_dir dir;
  certificates(dir, {"coordinator", "n1"});
  write_text(dir / "text.txt", 400);
  coordinator c{dir, lm_job(dir, {"--min-nodes=1", "--steps=40"})};
  // The node reads the same path: change the file under it before it joins.
  write_text(dir / "text.txt", 400, "!\n");
  auto n1 = start_node(c, "n1", {"--join-timeout=5s"});
  CHECK(n1->wait_for(30s) == 3);
  CHECK(contains(slurp(dir / "n1.log"), "differs from the coordinator's"));
  c.process.stop();
}
