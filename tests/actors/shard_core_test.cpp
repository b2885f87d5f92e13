// Tests of the shard's logic without actors: exactly-once application, staleness,
// routing errors, snapshot and restore.
#include "actors/shard_core.hpp"

#include <doctest/doctest.h>

using namespace tether;

namespace {

optimizer_config plain_sgd(float lr) {
  optimizer_config cfg;
  cfg.kind = optimizer_kind::sgd;
  cfg.lr = lr;
  return cfg;
}

push_request push(uint32_t worker, uint64_t clock, uint64_t base, std::vector<float> g,
                  uint64_t begin = 10) {
  return push_request{worker, clock, base, begin, std::move(g)};
}

} // namespace

TEST_SUITE_BEGIN("shard_core");

TEST_CASE("a gradient is applied once and a retried push is skipped") {
  shard_core core{0, {10, 13}, {1, 2, 3}, plain_sgd(0.5f), 2};
  auto first = core.apply(push(0, 0, 0, {2, 2, 2}));
  REQUIRE(first);
  CHECK(*first);
  CHECK(core.slice().values == std::vector<float>{0, 1, 2});
  CHECK(core.version() == 1);
  auto again = core.apply(push(0, 0, 0, {2, 2, 2}));
  REQUIRE(again);
  CHECK_FALSE(*again);
  CHECK(core.slice().values == std::vector<float>{0, 1, 2});
  CHECK(core.version() == 1);
  CHECK(core.stats().duplicates == 1);
  CHECK(core.applied_clocks() == std::vector<uint64_t>{1, 0});
}

TEST_CASE("staleness is the number of updates between read and apply") {
  shard_core core{0, {10, 11}, {0}, plain_sgd(0.1f), 3};
  REQUIRE(core.apply(push(0, 0, 0, {1})));  // tau 0
  REQUIRE(core.apply(push(1, 0, 0, {1})));  // tau 1
  REQUIRE(core.apply(push(2, 0, 0, {1})));  // tau 2
  REQUIRE(core.apply(push(0, 1, 1, {1})));  // tau 2
  CHECK(core.stats().applied == 4);
  CHECK(core.stats().tau_sum == doctest::Approx(5));
  CHECK(core.stats().tau_max == 2);
}

TEST_CASE("a push for another range or of another size is refused") {
  shard_core core{1, {10, 13}, {1, 2, 3}, plain_sgd(0.5f), 1};
  auto wrong_range = core.apply(push(0, 0, 0, {1, 1, 1}, 0));
  REQUIRE_FALSE(wrong_range);
  CHECK(wrong_range.error().message().find("shard 1") != std::string::npos);
  auto wrong_size = core.apply(push(0, 0, 0, {1, 1}));
  REQUIRE_FALSE(wrong_size);
  auto unknown_worker = core.apply(push(7, 0, 0, {1, 1, 1}));
  REQUIRE_FALSE(unknown_worker);
  CHECK(core.version() == 0);
}

TEST_CASE("a restored shard continues exactly where its snapshot was") {
  optimizer_config cfg;
  cfg.kind = optimizer_kind::momentum;
  cfg.lr = 0.1f;
  shard_core a{0, {0, 2}, {1, 1}, cfg, 2};
  REQUIRE(a.apply(push(0, 0, 0, {1, -1}, 0)));
  REQUIRE(a.apply(push(1, 0, 0, {2, 0}, 0)));
  auto restored = shard_core::restore(a.snapshot(), cfg, 2);
  REQUIRE(restored);
  shard_core& b = *restored;
  CHECK(b.version() == a.version());
  CHECK(b.applied_clocks() == a.applied_clocks());
  REQUIRE(a.apply(push(0, 1, 2, {0.5f, 0.5f}, 0)));
  REQUIRE(b.apply(push(0, 1, 2, {0.5f, 0.5f}, 0)));
  CHECK(a.slice().values == b.slice().values);
  // A duplicate of something the snapshot held is still skipped after the restore.
  auto dup = b.apply(push(1, 0, 0, {2, 0}, 0));
  REQUIRE(dup);
  CHECK_FALSE(*dup);
}

TEST_CASE("a snapshot whose sizes disagree is refused") {
  shard_state s;
  s.range_begin = 0;
  s.range_end = 4;
  s.params = {1, 2};
  auto restored = shard_core::restore(s, plain_sgd(0.1f), 1);
  CHECK_FALSE(restored);
}

TEST_SUITE_END();
