// Tests of the shard's logic without actors: exactly-once application, staleness,
// routing errors, snapshot and restore.
#include "ps/shard_core.hpp"

#include <doctest/doctest.h>

using namespace tether;

namespace {

optimizer_config plain_sgd(float lr) {
  optimizer_config cfg;
  cfg.kind = optimizer_kind::sgd;
  cfg.lr = lr;
  return cfg;
}

consistency_config async() {
  return {};
}

consistency_config ssp(uint64_t bound) {
  consistency_config c;
  c.model = consistency_model::ssp;
  c.staleness = bound;
  return c;
}

consistency_config bsp() {
  consistency_config c;
  c.model = consistency_model::bsp;
  return c;
}

push_request push(uint32_t worker, uint64_t clock, uint64_t base, std::vector<float> g,
                  uint64_t begin = 10) {
  return push_request{worker, clock, base, begin, std::move(g)};
}

} // namespace

TEST_SUITE_BEGIN("shard_core");

TEST_CASE("a gradient is applied once and a retried push is skipped") {
  shard_core core{0, {10, 13}, {1, 2, 3}, plain_sgd(0.5f), async(), 2};
  auto first = core.push(push(0, 0, 0, {2, 2, 2}));
  REQUIRE(first);
  CHECK(*first);
  CHECK(core.slice().values == std::vector<float>{0, 1, 2});
  CHECK(core.version() == 1);
  auto again = core.push(push(0, 0, 0, {2, 2, 2}));
  REQUIRE(again);
  CHECK_FALSE(*again);
  CHECK(core.slice().values == std::vector<float>{0, 1, 2});
  CHECK(core.version() == 1);
  CHECK(core.stats().duplicates == 1);
  CHECK(core.applied_clocks() == std::vector<uint64_t>{1, 0});
}

TEST_CASE("staleness is the number of updates between read and apply") {
  shard_core core{0, {10, 11}, {0}, plain_sgd(0.1f), async(), 3};
  REQUIRE(core.push(push(0, 0, 0, {1})));  // tau 0
  REQUIRE(core.push(push(1, 0, 0, {1})));  // tau 1
  REQUIRE(core.push(push(2, 0, 0, {1})));  // tau 2
  REQUIRE(core.push(push(0, 1, 1, {1})));  // tau 2
  CHECK(core.stats().applied == 4);
  CHECK(core.stats().tau_sum == doctest::Approx(5));
  CHECK(core.stats().tau_max == 2);
}

TEST_CASE("a push for another range or of another size is refused") {
  shard_core core{1, {10, 13}, {1, 2, 3}, plain_sgd(0.5f), async(), 1};
  auto wrong_range = core.push(push(0, 0, 0, {1, 1, 1}, 0));
  REQUIRE_FALSE(wrong_range);
  CHECK(wrong_range.error().message().find("shard 1") != std::string::npos);
  auto wrong_size = core.push(push(0, 0, 0, {1, 1}));
  REQUIRE_FALSE(wrong_size);
  auto unknown_worker = core.push(push(7, 0, 0, {1, 1, 1}));
  REQUIRE_FALSE(unknown_worker);
  CHECK(core.version() == 0);
}

TEST_CASE("a restored shard continues exactly where its snapshot was") {
  optimizer_config cfg;
  cfg.kind = optimizer_kind::momentum;
  cfg.lr = 0.1f;
  shard_core a{0, {0, 2}, {1, 1}, cfg, async(), 2};
  REQUIRE(a.push(push(0, 0, 0, {1, -1}, 0)));
  REQUIRE(a.push(push(1, 0, 0, {2, 0}, 0)));
  auto restored = shard_core::restore(a.snapshot(), cfg, async(), 2);
  REQUIRE(restored);
  shard_core& b = *restored;
  CHECK(b.version() == a.version());
  CHECK(b.applied_clocks() == a.applied_clocks());
  REQUIRE(a.push(push(0, 1, 2, {0.5f, 0.5f}, 0)));
  REQUIRE(b.push(push(0, 1, 2, {0.5f, 0.5f}, 0)));
  CHECK(a.slice().values == b.slice().values);
  // A duplicate of something the snapshot held is still skipped after the restore.
  auto dup = b.push(push(1, 0, 0, {2, 0}, 0));
  REQUIRE(dup);
  CHECK_FALSE(*dup);
}

TEST_CASE("a snapshot whose sizes disagree is refused") {
  shard_state s;
  s.range_begin = 0;
  s.range_end = 4;
  s.params = {1, 2};
  auto restored = shard_core::restore(s, plain_sgd(0.1f), async(), 1);
  CHECK_FALSE(restored);
}

TEST_CASE("ssp answers a worker at clock c only when the slowest live clock is >= c - S") {
  shard_core core{0, {0, 1}, {0}, plain_sgd(0.1f), ssp(1), 3};
  CHECK(core.may_answer(0, 1));  // everyone at 0: clock 1 is within 1
  REQUIRE(core.push(push(0, 0, 0, {1}, 0)));
  CHECK(core.may_answer(0, 1));
  CHECK_FALSE(core.may_answer(0, 2)); // 2 - 1 > slowest clock 0
  REQUIRE(core.push(push(1, 0, 0, {1}, 0)));
  CHECK_FALSE(core.may_answer(0, 2)); // worker 2 is still at 0
  // A worker that leaves no longer holds anyone back.
  core.leave(2);
  CHECK(core.may_answer(0, 2));
  CHECK(core.min_live_clock() == 1);
  core.answer(0, 2);
  CHECK(core.stats().max_clock_gap == 1);
  // A worker that rejoins counts from the clock it is given.
  core.join(2, 1);
  CHECK(core.applied_clocks()[2] == 1);
}

TEST_CASE("ssp with bound 0 is lock-step") {
  shard_core core{0, {0, 1}, {0}, plain_sgd(0.1f), ssp(0), 2};
  REQUIRE(core.push(push(0, 0, 0, {1}, 0)));
  CHECK_FALSE(core.may_answer(0, 1));
  REQUIRE(core.push(push(1, 0, 0, {1}, 0)));
  CHECK(core.may_answer(0, 1));
  CHECK(core.may_answer(1, 1));
}

TEST_CASE("bsp averages the gradients of a clock and applies them as one update") {
  shard_core core{0, {0, 2}, {1, 1}, plain_sgd(0.5f), bsp(), 2};
  REQUIRE(core.push(push(0, 0, 0, {2, 4}, 0)));
  CHECK(core.version() == 0);
  CHECK_FALSE(core.may_answer(0, 1));
  // A retry of a gradient already in the round is a duplicate.
  auto dup = core.push(push(0, 0, 0, {2, 4}, 0));
  REQUIRE(dup);
  CHECK_FALSE(*dup);
  REQUIRE(core.push(push(1, 0, 0, {4, 0}, 0)));
  CHECK(core.version() == 1);
  CHECK(core.slice().values == std::vector<float>{1 - 0.5f * 3, 1 - 0.5f * 2});
  CHECK(core.may_answer(0, 1));
  CHECK(core.may_answer(1, 1));
  CHECK(core.applied_clocks() == std::vector<uint64_t>{1, 1});
}

TEST_CASE("bsp: a worker that leaves mid-round does not block the round") {
  shard_core core{0, {0, 1}, {0}, plain_sgd(1.0f), bsp(), 3};
  REQUIRE(core.push(push(0, 0, 0, {3}, 0)));
  REQUIRE(core.push(push(1, 0, 0, {1}, 0)));
  CHECK(core.version() == 0);
  core.leave(2);
  CHECK(core.version() == 1);
  CHECK(core.slice().values == std::vector<float>{-2});
}

TEST_CASE("bsp: the gate answers clock c only once every live worker has reached c") {
  shard_core core{0, {0, 1}, {0}, plain_sgd(1.0f), bsp(), 2};
  CHECK(core.may_answer(0, 0));
  REQUIRE(core.push(push(0, 0, 0, {1}, 0)));
  // Worker 0's own gradient is in, but the round is not complete: no clock-1 parameters.
  CHECK_FALSE(core.may_answer(0, 1));
  CHECK_FALSE(core.may_answer(1, 1));
  REQUIRE(core.push(push(1, 0, 0, {1}, 0)));
  CHECK(core.may_answer(0, 1));
}

TEST_CASE("bsp: a push ahead of the open round is not mixed in, it moves its worker on") {
  // Worker 1 says it is at clock 3: an earlier instance of this shard (before a restore)
  // answered it for clock 3. It is no member of round 0 any more; its push waits for
  // round 3 (refused until then: the worker retries from a pull).
  shard_core core{0, {0, 1}, {0}, plain_sgd(1.0f), bsp(), 2};
  REQUIRE(core.push(push(0, 0, 0, {1}, 0)));
  auto ahead = core.push(push(1, 3, 0, {2}, 0));
  CHECK_FALSE(ahead);
  CHECK(core.version() == 1); // round 0 completed with worker 0 alone, unmixed
  CHECK(core.slice().values == std::vector<float>{-1});
  CHECK(core.applied_clocks() == std::vector<uint64_t>{1, 3});
  CHECK_FALSE(core.may_answer(1, 3)); // until worker 0 reaches clock 3 too
}

TEST_CASE("bsp: pulls of restored clocks bring a restored shard up to the workers") {
  // Restored from an old state (clocks 0) and told clocks that lag (2 and 3); the workers
  // are really at 3: their pulls say so, and the round of clock 3 forms with both.
  shard_core core{0, {0, 1}, {0}, plain_sgd(1.0f), bsp(), 2};
  core.join(0, 2);
  core.join(1, 3);
  core.observe(0, 3);
  core.observe(1, 3);
  CHECK(core.may_answer(0, 3));
  REQUIRE(core.push(push(0, 3, 0, {1}, 0)));
  REQUIRE(core.push(push(1, 3, 0, {1}, 0)));
  CHECK(core.version() == 1);
  CHECK(core.applied_clocks() == std::vector<uint64_t>{4, 4});
}

TEST_CASE("bsp: a worker that joins behind the others is brought up to the round") {
  shard_core core{0, {0, 1}, {0}, plain_sgd(1.0f), bsp(), 3};
  for (uint64_t c = 0; c < 4; ++c)
    for (uint32_t w = 0; w < 3; ++w)
      REQUIRE(core.push(push(w, c, 0, {1}, 0)));
  REQUIRE(core.version() == 4);
  core.leave(2);
  core.join(2, 1); // a restart that reports an old clock must not hold every round back
  CHECK(core.applied_clocks()[2] == 4);
  CHECK(core.may_answer(0, 4));
  for (uint32_t w = 0; w < 3; ++w)
    REQUIRE(core.push(push(w, 4, 0, {1}, 0)));
  CHECK(core.version() == 5);
}

TEST_CASE("bsp: a worker that joins ahead (a later epoch) is not a member of earlier rounds") {
  shard_core core{0, {0, 1}, {0}, plain_sgd(1.0f), bsp(), 3};
  core.leave(2);
  core.join(2, 2); // starts at round 2
  for (uint64_t c = 0; c < 2; ++c) {
    CHECK_FALSE(core.may_answer(2, 2));
    REQUIRE(core.push(push(0, c, 0, {1}, 0)));
    REQUIRE(core.push(push(1, c, 0, {1}, 0)));
  }
  CHECK(core.version() == 2);
  CHECK(core.may_answer(2, 2));
  REQUIRE(core.push(push(0, 2, 0, {1}, 0)));
  REQUIRE(core.push(push(1, 2, 0, {1}, 0)));
  CHECK(core.version() == 2); // round 2 waits for worker 2 too
  REQUIRE(core.push(push(2, 2, 0, {1}, 0)));
  CHECK(core.version() == 3);
}

TEST_CASE("bsp: a restored shard raised to the workers' clocks gathers only who is behind") {
  shard_core core{0, {0, 1}, {0}, plain_sgd(1.0f), bsp(), 2};
  // Restored from an old checkpoint (clocks 0); the workers reported 6 and 5.
  core.join(0, 6);
  core.join(1, 5);
  CHECK(core.applied_clocks() == std::vector<uint64_t>{6, 5});
  // Worker 1's step 5 (in flight) is a round of one; then both go on together.
  REQUIRE(core.push(push(1, 5, 0, {1}, 0)));
  CHECK(core.version() == 1);
  CHECK(core.may_answer(0, 6));
  CHECK(core.may_answer(1, 6));
}

TEST_CASE("a standby's image carries the statistics on") {
  shard_core core{0, {0, 1}, {0}, plain_sgd(1.0f), ssp(1), 2};
  REQUIRE(core.push(push(0, 0, 0, {1}, 0)));
  REQUIRE(core.push(push(0, 1, 0, {1}, 0)));
  (void) core.answer(0, 2);
  auto before = core.stats();
  shard_core standby{0, {0, 1}, {0}, plain_sgd(1.0f), ssp(1), 2};
  auto promoted = standby.from_image(core.image());
  REQUIRE(promoted);
  CHECK(promoted->stats().applied == before.applied);
  CHECK(promoted->stats().max_clock_gap == before.max_clock_gap);
  CHECK(promoted->stats().max_clock_gap == 2);
}

TEST_CASE("staleness-lr inverse divides the lr by tau") {
  consistency_config c;
  c.lr_rule = staleness_lr::inverse;
  shard_core core{0, {0, 1}, {0}, plain_sgd(1.0f), c, 2};
  REQUIRE(core.push(push(0, 0, 0, {1}, 0))); // tau 0: lr 1
  REQUIRE(core.push(push(0, 1, 1, {1}, 0))); // tau 0: lr 1
  REQUIRE(core.push(push(1, 0, 0, {1}, 0))); // tau 2: lr 1/2
  CHECK(core.slice().values[0] == doctest::Approx(-2.5));
}

TEST_CASE("dc-asgd compensates with g + lambda g g (w_now - w_read)") {
  consistency_config c;
  c.dc_lambda = 0.5f;
  shard_core core{0, {0, 1}, {0}, plain_sgd(1.0f), c, 2};
  core.answer(1, 0);                          // worker 1 reads w = 0
  REQUIRE(core.push(push(0, 0, 0, {1}, 0)));  // w = -1 (worker 0 read 0 too: no change)
  REQUIRE(core.push(push(1, 0, 0, {2}, 0)));  // g' = 2 + 0.5 * 4 * (-1 - 0) = 0
  CHECK(core.slice().values[0] == doctest::Approx(-1));
}

TEST_SUITE_END();
