// `tether simulate`'s command line: the simulator's options and their refusals.
#include "cli/simulate_options.hpp"

#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

using namespace tether;

namespace {

result<simulate_args> parse(std::vector<const char*> args) {
  args.insert(args.begin(), "simulate");
  return parse_simulate_args(static_cast<int>(args.size()), args.data());
}

} // namespace

TEST_SUITE_BEGIN("sim");

TEST_CASE("simulate takes 10000 workers and its own options beside train's") {
  auto a = parse({"--workers=10000", "--step-time=straggler:0.05,3", "--latency", "0.0002",
                  "--bandwidth=1e9", "--apply-rate=2e9", "--consistency=ssp", "--staleness=3",
                  "--model=softmax"});
  REQUIRE_MESSAGE(a, a.error().message());
  CHECK(a->config.workers == 10000);
  CHECK(a->config.consistency.staleness == 3);
  CHECK(a->settings.step.kind == step_time_kind::straggler);
  CHECK(a->settings.latency_seconds == 0.0002);
  CHECK(a->settings.bandwidth == 1e9);
  CHECK(a->settings.apply_rate == 2e9);
}

TEST_CASE("bad simulate options are refused with the option named") {
  struct bad_case {
    std::vector<const char*> args;
    std::string names;
  };
  std::vector<bad_case> cases{
      {{"--workers=0"}, "--workers=0"},
      {{"--workers=100001"}, "--workers=100001"},
      {{"--workers=ten"}, "--workers=ten"},
      {{"--workers"}, "--workers needs a value"},
      {{"--step-time=gamma:1"}, "--step-time=gamma:1"},
      {{"--step-time=lognormal:0.001"}, "--step-time=lognormal:0.001"},
      {{"--latency=-1"}, "--latency=-1"},
      {{"--latency=1s"}, "--latency=1s"},
      {{"--bandwidth=0"}, "--bandwidth=0"},
      {{"--apply-rate=abc"}, "--apply-rate=abc"},
      {{"--gpus=0"}, "--gpus"},
      {{"--straggler=1:3"}, "--straggler"},
      {{"--lr=-1"}, "--lr"},
      {{"--bogus=1"}, "--bogus"},
  };
  for (auto& c : cases) {
    CAPTURE(c.names);
    auto a = parse(c.args);
    REQUIRE_FALSE(a);
    CHECK(a.error().code() == errc::invalid_argument);
    CHECK(a.error().message().find(c.names) != std::string::npos);
  }
}

TEST_CASE("the binary exits 2 on a bad simulate option and lists simulate in its help") {
  std::string tether = std::string(TETHER_BINARY_DIR) + "/cli/tether";
  int rc = std::system((tether + " simulate --step-time=constant:0 >/dev/null 2>&1").c_str());
  REQUIRE(WIFEXITED(rc));
  CHECK(WEXITSTATUS(rc) == 2);
  rc = std::system((tether + " simulate --workers=200000 >/dev/null 2>&1").c_str());
  REQUIRE(WIFEXITED(rc));
  CHECK(WEXITSTATUS(rc) == 2);
  // A summary that could not be written, and bsp with more workers than a round can feed.
  rc = std::system((tether + " simulate --summary=/nonexistent-dir/s.json >/dev/null 2>&1").c_str());
  REQUIRE(WIFEXITED(rc));
  CHECK(WEXITSTATUS(rc) == 2);
  rc = std::system(
    (tether + " simulate --consistency=bsp --workers=5000 --model=softmax >/dev/null 2>&1").c_str());
  REQUIRE(WIFEXITED(rc));
  CHECK(WEXITSTATUS(rc) == 2);
  // 100,000 copies of the default MLP's 235,146 parameters: 94 GB, refused before any is made.
  rc = std::system(
      (tether + " simulate --workers=100000 --limit-train=2048 >/dev/null 2>&1").c_str());
  REQUIRE(WIFEXITED(rc));
  CHECK(WEXITSTATUS(rc) == 2);
  rc = std::system((tether + " --help | grep -q '^  simulate'").c_str());
  REQUIRE(WIFEXITED(rc));
  CHECK(WEXITSTATUS(rc) == 0);
}

TEST_CASE("a simulated run writes the summary of a real run plus its virtual time") {
  std::string tether = std::string(TETHER_BINARY_DIR) + "/cli/tether";
  std::string summary = "/tmp/tether-sim-summary-" + std::to_string(::getpid()) + ".json";
  int rc = std::system((tether +
                        " simulate --workers=300 --model=softmax --batch=8 "
                        "--limit-train=1600 --epochs=1 --consistency=ssp --staleness=2 --quiet "
                        "--step-time=straggler:0.1,3 --summary=" +
                        summary)
                           .c_str());
  REQUIRE(WIFEXITED(rc));
  REQUIRE(WEXITSTATUS(rc) == 0);
  for (const char* key : {"\"virtual_seconds\"", "\"staleness_histogram\"", "\"curve\"",
                          "\"test_accuracy\"", "\"max_clock_gap\": ", "\"idle_workers\": ",
                          "\"step_time\": \"straggler:0.1,3\"", "\"workers\": 300"}) {
    CAPTURE(key);
    rc = std::system(("grep -q '" + std::string(key) + "' " + summary).c_str());
    CHECK(WEXITSTATUS(rc) == 0);
  }
  std::remove(summary.c_str());
  REQUIRE(WIFEXITED(rc));
  CHECK(WEXITSTATUS(rc) == 0);
}
