// Tests for core/fault_plan.cpp: every statement kind, separators and comments, numbers and
// durations, the error messages, and load_fault_plan from a file and from inline text.
#include "core/fault_plan.hpp"

#include "../temp_dir.hpp"

#include <doctest/doctest.h>

using namespace tether;

namespace {

fault_plan parse(std::string_view text) {
  auto plan = parse_fault_plan(text);
  INFO(text);
  REQUIRE_MESSAGE(plan.is_ok(), plan.error().message());
  return std::move(plan).value();
}

/// The message of a parse that must fail with errc::invalid_argument.
std::string error_of(std::string_view text) {
  auto plan = parse_fault_plan(text);
  INFO(text);
  REQUIRE(!plan.is_ok());
  CHECK(plan.error().code() == errc::invalid_argument);
  return plan.error().message();
}

bool contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

} // namespace

TEST_SUITE_BEGIN("fault_plan");

TEST_CASE("kill statements name the target, index and trigger") {
  auto plan = parse("kill worker 1 at step 200\nkill shard 0 at 2s\nkill standby 3 at 300ms");
  REQUIRE(plan.timed.size() == 3);
  auto& a = plan.timed[0];
  CHECK(a.action == fault_action::kill);
  CHECK(a.target == fault_target::worker);
  CHECK(a.index == 1);
  CHECK(!a.when.at_time);
  CHECK(a.when.step == 200);
  CHECK(a.text == "kill worker 1 at step 200");
  CHECK(plan.timed[1].target == fault_target::shard);
  CHECK(plan.timed[1].when.at_time);
  CHECK(plan.timed[1].when.seconds == doctest::Approx(2.0));
  CHECK(plan.timed[2].target == fault_target::standby);
  CHECK(plan.timed[2].index == 3);
  CHECK(plan.timed[2].when.seconds == doctest::Approx(0.3));
  CHECK(!plan.empty());
  CHECK(plan.seed == 1);
}

TEST_CASE("exit, stop and flip checkpoint are timed faults in written order") {
  auto plan = parse("exit node 2 at step 50; stop node 1 for 1.5s at 10s; flip checkpoint at "
                    "step 7");
  REQUIRE(plan.timed.size() == 3);
  CHECK(plan.timed[0].action == fault_action::exit_node);
  CHECK(plan.timed[0].target == fault_target::node);
  CHECK(plan.timed[0].index == 2);
  CHECK(plan.timed[0].when.step == 50);
  CHECK(plan.timed[1].action == fault_action::stop_node);
  CHECK(plan.timed[1].index == 1);
  CHECK(plan.timed[1].duration_seconds == doctest::Approx(1.5));
  CHECK(plan.timed[1].when.seconds == doctest::Approx(10.0));
  CHECK(plan.timed[1].text == "stop node 1 for 1.5s at 10s");
  CHECK(plan.timed[2].action == fault_action::flip_checkpoint);
  CHECK(plan.timed[2].target == fault_target::checkpoint);
  CHECK(plan.timed[2].when.step == 7);
}

TEST_CASE("message faults take a fraction or a percentage, a repeat replaces") {
  auto plan = parse("drop push 1%; duplicate pull 0.25; flip push 100%; delay pull 5% 200ms;"
                    "drop pull 0; drop push 0.5");
  CHECK(plan.push.drop == doctest::Approx(0.5));
  CHECK(plan.push.flip == doctest::Approx(1.0));
  CHECK(plan.pull.duplicate == doctest::Approx(0.25));
  CHECK(plan.pull.delay == doctest::Approx(0.05));
  CHECK(plan.pull.delay_seconds == doctest::Approx(0.2));
  CHECK(plan.pull.drop == 0);
  CHECK(plan.push.any());
  CHECK(plan.pull.any());
  CHECK(plan.timed.empty());
  CHECK(parse("drop push 0%").empty());
}

TEST_CASE("stragglers and the seed") {
  auto plan = parse("seed 7\nstraggler worker 2 3\nstraggler worker 0 1.5\nstraggler worker 2 4");
  CHECK(plan.seed == 7);
  REQUIRE(plan.stragglers.size() == 2);
  CHECK(plan.stragglers[0] == std::pair<uint32_t, double>{2, 4.0});
  CHECK(plan.stragglers[1] == std::pair<uint32_t, double>{0, 1.5});
  CHECK(!plan.empty());
  auto seed_only = parse("seed 18446744073709551615");
  CHECK(seed_only.seed == UINT64_MAX);
  CHECK(seed_only.empty());
}

TEST_CASE("separators, comments, blanks and tabs") {
  auto plan = parse("# a plan\n\n  seed 3 # the seed\r\n\tkill\tworker 0  at step 1 ;;\n"
                    "; drop push 2% # ; kill worker 9 at step 1\n# kill shard 0 at 1s\n");
  CHECK(plan.seed == 3);
  REQUIRE(plan.timed.size() == 1);
  CHECK(plan.timed[0].text == "kill\tworker 0  at step 1");
  CHECK(plan.push.drop == doctest::Approx(0.02));
}

TEST_CASE("describe lists the seed and every fault, one per line") {
  auto plan = parse("seed 7; kill worker 1 at step 200; stop node 0 for 2s at 300ms;"
                    "flip checkpoint at 1.5s; drop push 1%; delay pull 0.1 50ms;"
                    "straggler worker 3 2.5");
  CHECK(plan.describe() == "seed 7\n"
                           "kill worker 1 at step 200\n"
                           "stop node 0 for 2s at 300ms\n"
                           "flip checkpoint at 1.5s\n"
                           "drop push 1%\n"
                           "delay pull 10% 50ms\n"
                           "straggler worker 3 2.5");
  CHECK(parse("seed 4").describe() == "seed 4");
}

TEST_CASE("an empty plan is an error") {
  for (auto text : {"", "  \n", "# only a comment\n ; ;"}) {
    auto message = error_of(text);
    CHECK(contains(message, "has no statement"));
    CHECK(contains(message, "docs/fault-tolerance.md"));
  }
}

TEST_CASE("each error names the statement, the offending word and what is expected") {
  struct bad_case {
    const char* text;
    const char* parts[3];
  };
  const bad_case cases[] = {
      {"seed 1; kill wrker 1 at step 5",
       {"statement 2 ('kill wrker 1 at step 5')", "unknown target 'wrker'",
        "expected worker, shard or standby"}},
      {"kil worker 1 at step 5",
       {"statement 1", "unknown verb 'kil'",
        "seed, kill, exit, stop, drop, duplicate, delay, flip or straggler"}},
      {"kill worker 1", {"statement 1", "ends after '1'", "'at step N'"}},
      {"kill worker 1 after step 5", {"statement 1", "'after'", "'at step N'"}},
      {"kill worker 1 at step", {"statement 1", "ends after 'step'", "step number"}},
      {"kill worker -1 at step 5", {"statement 1", "'-1'", "whole number"}},
      {"kill worker 1.5 at step 5", {"statement 1", "'1.5'", "whole number"}},
      {"kill worker 4294967296 at step 5", {"statement 1", "'4294967296'", "4294967295"}},
      {"kill worker 1x at step 5", {"statement 1", "'1x'", "whole number"}},
      {"kill worker 1 at step 5.5", {"statement 1", "'5.5'", "whole number"}},
      {"kill worker 1 at step 99999999999999999999", {"'99999999999999999999'", "step", ""}},
      {"kill worker 1 at 5", {"statement 1", "'5' is not a duration", "300ms"}},
      {"kill worker 1 at -2s", {"statement 1", "'-2s'", "duration"}},
      {"kill worker 1 at 2m", {"'2m'", "duration", ""}},
      {"kill worker 1 at ms", {"'ms'", "duration", ""}},
      {"kill worker 1 at infs", {"'infs'", "duration", ""}},
      {"kill worker 1 at step 5 now", {"statement 1", "extra word 'now'", "nothing after '5'"}},
      {"exit shard 1 at step 5", {"statement 1", "unknown target 'shard'", "expected node"}},
      {"stop node 1 at step 5", {"statement 1", "'at'", "'for D'"}},
      {"stop node 1 for 0s at step 5", {"statement 1", "'0s' is zero", "above 0"}},
      {"stop node 1 for 2 at step 5", {"statement 1", "'2' is not a duration", ""}},
      {"seed 1\ndrop push 101%", {"statement 2", "'101%' is out of range", "0% to 100%"}},
      {"drop push 1.5", {"statement 1", "'1.5' is out of range", "probability"}},
      {"drop push -0.1", {"'-0.1'", "out of range", ""}},
      {"drop push lots", {"'lots' is not a probability", "", ""}},
      {"drop push", {"ends after 'push'", "probability", ""}},
      {"duplicate pish 0.1", {"unknown message kind 'pish'", "push or pull", ""}},
      {"flip chekpoint at step 1", {"unknown message kind 'chekpoint'", "", ""}},
      {"flip checkpoint", {"ends after 'checkpoint'", "'at step N'", ""}},
      {"delay push 0.1", {"ends after '0.1'", "duration", ""}},
      {"delay push 0.1 0ms", {"'0ms' is zero", "", ""}},
      {"delay push 0.1 5ms 3", {"extra word '3'", "", ""}},
      {"straggler worker 1 0.5", {"'0.5' is not a valid slow-down factor", "at least 1", ""}},
      {"straggler shard 1 2", {"unknown target 'shard'", "expected worker", ""}},
      {"straggler worker 1", {"ends after '1'", "slow-down factor", ""}},
      {"seed -3", {"'-3' is not a valid seed", "", ""}},
      {"seed 3 4", {"extra word '4'", "", ""}},
      {"Kill worker 1 at step 5", {"unknown verb 'Kill'", "", ""}},
  };
  for (const auto& c : cases) {
    auto message = error_of(c.text);
    for (auto part : c.parts) {
      INFO(message);
      CHECK_MESSAGE(contains(message, part), part);
    }
    CHECK(contains(message, "fault plan statement "));
  }
}

TEST_CASE("load_fault_plan reads a file or takes the value as the plan") {
  tether::testing::temp_dir dir;
  auto path = dir.write("plan.faults", "seed 5\n# comment\nkill worker 0 at step 10\n");
  auto from_file = load_fault_plan(path);
  REQUIRE_MESSAGE(from_file.is_ok(), from_file.error().message());
  CHECK(from_file->seed == 5);
  CHECK(from_file->timed.size() == 1);

  auto inline_plan = load_fault_plan("kill shard 1 at 2s");
  REQUIRE_MESSAGE(inline_plan.is_ok(), inline_plan.error().message());
  CHECK(inline_plan->timed[0].target == fault_target::shard);
  CHECK(load_fault_plan("seed 9;drop pull 1%").is_ok());

  auto bad = dir.write("bad.faults", "seed 1\nkill wrker 1 at step 5\n");
  auto bad_plan = load_fault_plan(bad);
  REQUIRE(!bad_plan.is_ok());
  CHECK(bad_plan.error().code() == errc::invalid_argument);
  CHECK(contains(bad_plan.error().message(), bad));
  CHECK(contains(bad_plan.error().message(), "statement 2"));

  auto empty = load_fault_plan(dir.write("empty.faults", ""));
  REQUIRE(!empty.is_ok());
  CHECK(contains(empty.error().message(), "has no statement"));
}

TEST_CASE("load_fault_plan names a missing or unreadable file") {
  tether::testing::temp_dir dir;
  auto missing = dir / "no-such-plan.faults";
  auto plan = load_fault_plan(missing);
  REQUIRE(!plan.is_ok());
  CHECK(plan.error().code() == errc::not_found);
  CHECK(contains(plan.error().message(), missing));

  auto as_dir = load_fault_plan(dir.str());
  REQUIRE(!as_dir.is_ok());
  CHECK(as_dir.error().code() == errc::io_error);
  CHECK(contains(as_dir.error().message(), dir.str()));
}

TEST_SUITE_END();
