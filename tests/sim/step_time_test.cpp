// The step-time models: parsing, refusals, and what the draws look like.
#include "sim/step_time.hpp"

#include <doctest/doctest.h>

#include <cmath>

using namespace tether;

TEST_SUITE_BEGIN("sim");

TEST_CASE("step-time models parse and print back") {
  for (const char* text :
       {"constant:0.002", "lognormal:0.001,0.5", "straggler:0.05,3", "pareto:1.5,0.01"}) {
    CAPTURE(text);
    auto m = parse_step_time(text);
    REQUIRE(m);
    auto again = parse_step_time(m->to_string());
    REQUIRE(again);
    CHECK(again->to_string() == m->to_string());
  }
}

TEST_CASE("bad step-time models are refused with what is expected") {
  for (const char* text :
       {"", "constant", "constant:", "constant:0", "constant:-1", "constant:x", "constant:1,2",
        "lognormal:1", "lognormal:0,1", "lognormal:1,-1", "straggler:1.5,3", "straggler:0.1,0.5",
        "pareto:0,0.1", "pareto:1,2", "gamma:1", "constant:nan", "constant:inf"}) {
    CAPTURE(text);
    auto m = parse_step_time(text);
    REQUIRE_FALSE(m);
    CHECK(m.error().code() == errc::invalid_argument);
    CHECK_FALSE(m.error().message().empty());
  }
}

TEST_CASE("draws: lognormal keeps its mean, stragglers their fraction, pareto adds pauses") {
  step_clock logn(*parse_step_time("lognormal:0.002,0.5"), 1, 100, 7);
  double sum = 0;
  for (int i = 0; i < 20000; ++i)
    sum += logn.draw(static_cast<uint32_t>(i % 100));
  CHECK(sum / 20000 == doctest::Approx(0.002).epsilon(0.03));

  step_clock slow(*parse_step_time("straggler:0.2,3"), 0.001, 5000, 7);
  int stragglers = 0;
  for (uint32_t w = 0; w < 5000; ++w) {
    double t = slow.draw(w);
    CHECK(t == (slow.is_straggler(w) ? 0.003 : 0.001));
    stragglers += slow.is_straggler(w);
  }
  CHECK(stragglers == doctest::Approx(1000).epsilon(0.1));

  step_clock pauses(*parse_step_time("pareto:2,0.1"), 0.001, 1, 7);
  int paused = 0;
  for (int i = 0; i < 10000; ++i) {
    double t = pauses.draw(0);
    CHECK(t >= 0.001);
    paused += t >= 0.002;
  }
  CHECK(paused == doctest::Approx(1000).epsilon(0.15));
}
