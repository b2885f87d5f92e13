// Tests of the hot standby: a shard_core's replica image and applied counts (plain
// functions), and the shard actor keeping a standby in step (waits on
// replies, never on sleeps, except one bounded check that an answer is held back).
#include "actors/shard.hpp"
#include "tests/temp_dir.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>

using namespace tether;
using namespace std::chrono_literals;

namespace {

optimizer_config sgd(float lr) {
  optimizer_config cfg;
  cfg.kind = optimizer_kind::sgd;
  cfg.lr = lr;
  return cfg;
}

optimizer_config adam() {
  optimizer_config cfg;
  cfg.kind = optimizer_kind::adam;
  cfg.lr = 0.1f;
  return cfg;
}

consistency_config bsp() {
  consistency_config c;
  c.model = consistency_model::bsp;
  return c;
}

push_request push(uint32_t worker, uint64_t clock, std::vector<float> g, uint64_t base = 0) {
  return push_request{worker, clock, base, 0, std::move(g)};
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

/// Everything a shard_state holds, floats compared bit for bit.
void check_same_state(const shard_state& a, const shard_state& b) {
  CHECK(a.index == b.index);
  CHECK(a.range_begin == b.range_begin);
  CHECK(a.range_end == b.range_end);
  CHECK(a.version == b.version);
  CHECK(same_bits(a.params, b.params));
  REQUIRE(a.slots.size() == b.slots.size());
  for (size_t i = 0; i < a.slots.size(); ++i)
    CHECK(same_bits(a.slots[i], b.slots[i]));
  CHECK(a.optimizer_steps == b.optimizer_steps);
  CHECK(a.applied_clocks == b.applied_clocks);
  CHECK(a.applied_counts == b.applied_counts);
}

shard_core image_copy(const shard_core& from, const shard_core& into) {
  auto copy = into.from_image(from.image());
  REQUIRE(copy);
  return std::move(*copy);
}

shard_state with_counts(std::vector<uint64_t> counts) {
  shard_state s;
  s.applied_counts = std::move(counts);
  return s;
}

} // namespace

TEST_SUITE_BEGIN("replica");

// --- shard_core: image and from_image -------------------------------------------------

TEST_CASE("an image round trip gives the same state, optimizer slots included") {
  shard_core primary{2, {4, 7}, {1, 2, 3}, adam(), consistency_config{}, 2};
  REQUIRE(primary.push(push_request{0, 0, 0, 4, {0.5f, -1, 2}}));
  REQUIRE(primary.push(push_request{1, 0, 0, 4, {0.25f, 3, -2}}));
  REQUIRE(primary.push(push_request{0, 1, 1, 4, {1, 1, 1}}));
  shard_core fresh{2, {4, 7}, {0, 0, 0}, adam(), consistency_config{}, 2};
  auto copy = image_copy(primary, fresh);
  check_same_state(primary.snapshot(), copy.snapshot());
  CHECK(copy.applied_counts() == std::vector<uint64_t>{2, 1});
  // Both go on the same way.
  auto next = push_request{1, 1, 3, 4, {-1, 0.5f, 0.125f}};
  REQUIRE(primary.push(next));
  REQUIRE(copy.push(next));
  check_same_state(primary.snapshot(), copy.snapshot());
}

TEST_CASE("an image carries a half gathered BSP round") {
  shard_core primary{0, {0, 2}, {1, 1}, sgd(0.5f), bsp(), 3};
  REQUIRE(primary.push(push(0, 0, {3, 0})));
  REQUIRE(primary.push(push(1, 0, {0, 6})));
  CHECK(primary.version() == 0);
  shard_core fresh{0, {0, 2}, {1, 1}, sgd(0.5f), bsp(), 3};
  auto copy = image_copy(primary, fresh);
  check_same_state(primary.snapshot(), copy.snapshot());
  // The gathered workers are in the copy's round: their retries are duplicates.
  auto retry = copy.push(push(0, 0, {3, 0}));
  REQUIRE(retry);
  CHECK_FALSE(*retry);
  CHECK_FALSE(copy.may_answer(0, 1));
  // The third worker completes the round on both.
  REQUIRE(primary.push(push(2, 0, {0, 0})));
  REQUIRE(copy.push(push(2, 0, {0, 0})));
  CHECK(copy.version() == 1);
  CHECK(copy.may_answer(0, 1));
  CHECK(same_bits(copy.slice().values, {0.5f, 0}));
  check_same_state(primary.snapshot(), copy.snapshot());
  CHECK(copy.applied_counts() == std::vector<uint64_t>{1, 1, 1});
}

TEST_CASE("an image carries a worker that left: the BSP round completes without it") {
  shard_core primary{0, {0, 2}, {0, 0}, sgd(1), bsp(), 3};
  primary.leave(2);
  REQUIRE(primary.push(push(0, 0, {2, 2})));
  shard_core fresh{0, {0, 2}, {0, 0}, sgd(1), bsp(), 3};
  auto copy = image_copy(primary, fresh);
  REQUIRE(copy.push(push(1, 0, {4, 0})));
  REQUIRE(primary.push(push(1, 0, {4, 0})));
  CHECK(copy.version() == 1);
  CHECK(copy.applied_clocks() == std::vector<uint64_t>{1, 1, 0});
  CHECK(copy.min_live_clock() == 1);
  check_same_state(primary.snapshot(), copy.snapshot());
}

TEST_CASE("an image for another number of workers is a mismatch") {
  shard_core three{0, {0, 2}, {0, 0}, sgd(1), bsp(), 3};
  REQUIRE(three.push(push(0, 0, {1, 1})));
  shard_core two{0, {0, 2}, {0, 0}, sgd(1), bsp(), 2};
  auto copy = two.from_image(three.image());
  REQUIRE_FALSE(copy);
  CHECK(copy.error().code() == errc::mismatch);
  auto back = three.from_image(two.image());
  REQUIRE_FALSE(back);
  CHECK(back.error().code() == errc::mismatch);
}

TEST_CASE("an image of another shard is a mismatch") {
  shard_core one{1, {4, 7}, {1, 2, 3}, sgd(1), {}, 2};
  shard_core zero{0, {0, 2}, {0, 0}, sgd(1), {}, 2};
  auto copy = zero.from_image(one.image());
  REQUIRE_FALSE(copy);
  CHECK(copy.error().code() == errc::mismatch);
  CHECK(copy.error().message().find("shard 1 was sent to shard 0") != std::string::npos);
}

// --- shard_core: applied_counts ---------------------------------------------------------

TEST_CASE("applied counts count distinct gradients per worker, not duplicates") {
  shard_core core{0, {0, 1}, {0}, sgd(1), consistency_config{}, 2};
  REQUIRE(core.push(push(0, 0, {1})));
  REQUIRE(core.push(push(0, 0, {1}))); // a retry
  REQUIRE(core.push(push(0, 1, {1})));
  REQUIRE(core.push(push(1, 4, {1}))); // a jump in clock is one gradient
  CHECK(core.applied_counts() == std::vector<uint64_t>{2, 1});
  CHECK(core.applied_clocks() == std::vector<uint64_t>{2, 5});
  CHECK(core.stats().duplicates == 1);
}

TEST_CASE("a BSP round counts each member once, when it is applied") {
  shard_core core{0, {0, 1}, {0}, sgd(1), bsp(), 2};
  REQUIRE(core.push(push(0, 0, {1})));
  REQUIRE(core.push(push(0, 0, {1}))); // a retry inside the round
  CHECK(core.applied_counts() == std::vector<uint64_t>{0, 0});
  REQUIRE(core.push(push(1, 0, {1})));
  CHECK(core.applied_counts() == std::vector<uint64_t>{1, 1});
  // A round of one live worker is applied as it comes.
  core.leave(1);
  REQUIRE(core.push(push(0, 1, {1})));
  CHECK(core.applied_counts() == std::vector<uint64_t>{2, 1});
}

TEST_CASE("restore carries applied counts, a state without them restores as zero") {
  shard_core core{0, {0, 1}, {0}, sgd(1), consistency_config{}, 2};
  REQUIRE(core.push(push(0, 0, {1})));
  REQUIRE(core.push(push(1, 0, {1})));
  REQUIRE(core.push(push(1, 1, {1})));
  auto restored = shard_core::restore(core.snapshot(), sgd(1), consistency_config{}, 2);
  REQUIRE(restored);
  CHECK(restored->applied_counts() == std::vector<uint64_t>{1, 2});
  auto old = core.snapshot();
  old.applied_counts.clear(); // a checkpoint of an older build
  auto from_old = shard_core::restore(old, sgd(1), consistency_config{}, 2);
  REQUIRE(from_old);
  CHECK(from_old->applied_counts() == std::vector<uint64_t>{0, 0});
  CHECK(from_old->applied_clocks() == std::vector<uint64_t>{1, 2});
}

// --- the shard actor with a hot standby -------------------------------------------------

namespace {

struct standby_fixture {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  std::vector<caf::actor> spawned;

  ~standby_fixture() {
    for (auto& a : spawned)
      self->send_exit(a, caf::exit_reason::user_shutdown);
  }

  shard_actor spawn_shard(shard_core core) {
    auto s = sys.spawn(shard_behavior, std::move(core));
    spawned.push_back(caf::actor_cast<caf::actor>(s));
    return s;
  }

  param_slice push_to(const shard_actor& shard, push_request p) {
    param_slice out;
    self->request(shard, 5s, push_atom_v, std::move(p))
        .receive([&](param_slice& s) { out = std::move(s); },
                 [&](caf::error& err) { FAIL("push failed: " << to_string(err)); });
    return out;
  }

  std::vector<uint64_t> hold(const shard_actor& shard) {
    std::vector<uint64_t> clocks;
    self->request(shard, 5s, hold_atom_v)
        .receive([&](std::vector<uint64_t>& c, const shard_stats&) { clocks = std::move(c); },
                 [&](caf::error& err) { FAIL("hold failed: " << to_string(err)); });
    return clocks;
  }

  shard_state cut(const shard_actor& shard, std::vector<uint64_t> target) {
    shard_state out;
    self->request(shard, 5s, cut_atom_v, std::move(target))
        .receive([&](shard_state& s) { out = std::move(s); },
                 [&](caf::error& err) { FAIL("cut failed: " << to_string(err)); });
    return out;
  }

  /// The standby's state at the primary's cut equals the primary's; both resume.
  void check_standby_in_step(const shard_actor& primary, const shard_actor& standby) {
    auto clocks = hold(primary);
    auto expected = cut(primary, clocks);
    CHECK(hold(standby) == clocks);
    auto got = cut(standby, clocks);
    check_same_state(expected, got);
    self->send(primary, release_atom_v);
    self->send(standby, release_atom_v);
  }

  shard_stats stats_of(const shard_actor& shard, uint64_t& version) {
    shard_stats out;
    self->request(shard, 5s, stats_atom_v)
        .receive(
            [&](uint64_t v, shard_stats& s) {
              version = v;
              out = std::move(s);
            },
            [&](caf::error& err) { FAIL("stats failed: " << to_string(err)); });
    return out;
  }
};

struct silent_state {
  static inline const char* name = "test.silent-standby";
  std::vector<caf::response_promise> unanswered; ///< kept, never delivered
};

/// A standby that takes every sync and change and never acknowledges one. A handler
/// that makes a response promise sends no automatic reply; caf::drop as the default
/// handler would answer with an error, which the primary takes as a failed standby.
caf::behavior silent_standby(caf::stateful_actor<silent_state>* self) {
  return {
      [=](sync_atom, replica_image&) {
        self->state.unanswered.push_back(self->make_response_promise());
      },
      [=](replicate_atom, push_request&) {
        self->state.unanswered.push_back(self->make_response_promise());
      },
      [=](replicate_atom, uint32_t, uint64_t, bool) {
        self->state.unanswered.push_back(self->make_response_promise());
      },
      [=](caf::get_atom) { return static_cast<uint64_t>(self->state.unanswered.size()); },
  };
}

/// Pushes once and tells `to` the answer as an ordinary message (ok, version), or the
/// error as a string, so the test can wait for it with a bounded receive.
caf::behavior push_relay(caf::event_based_actor* self, shard_actor shard, caf::actor to,
                         push_request p) {
  self->request(shard, 5s, push_atom_v, std::move(p))
      .then([=](param_slice& s) { self->send(to, caf::ok_atom_v, s.version); },
            [=](caf::error& err) { self->send(to, to_string(err)); });
  return {};
}

} // namespace

TEST_CASE_FIXTURE(standby_fixture, "a standby holds exactly what the primary answered") {
  auto primary = spawn_shard(shard_core{0, {0, 3}, {1, 2, 3}, adam(), consistency_config{}, 2});
  auto standby = spawn_shard(shard_core{0, {0, 3}, {1, 2, 3}, adam(), consistency_config{}, 2});
  caf::anon_send(primary, standby_atom_v,
                 std::vector<caf::actor>{caf::actor_cast<caf::actor>(standby)});
  CHECK(push_to(primary, push(0, 0, {0.5f, -1, 2})).version == 1);
  CHECK(push_to(primary, push(1, 0, {0.25f, 3, -2})).version == 2);
  CHECK(push_to(primary, push(0, 1, {1, 1, 1}, 2)).version == 3);
  CHECK(push_to(primary, push(1, 1, {-1, 0.5f, 2}, 1)).version == 4);
  CHECK(push_to(primary, push(0, 1, {1, 1, 1}, 2)).version == 4); // a retry
  check_standby_in_step(primary, standby);

  // Failover: the standby is the primary now. A push it already holds is skipped: each
  // gradient is applied exactly once across the failover.
  uint64_t version = 0;
  CHECK(stats_of(standby, version).duplicates == 0);
  CHECK(version == 4);
  auto retried = push_to(standby, push(1, 1, {-1, 0.5f, 2}, 1));
  CHECK(retried.version == 4);
  CHECK(stats_of(standby, version).duplicates == 1);
  CHECK(version == 4);
  CHECK(push_to(standby, push(1, 2, {1, 1, 1}, 4)).version == 5);
  auto state = cut(standby, hold(standby));
  CHECK(state.applied_clocks == std::vector<uint64_t>{2, 3});
  CHECK(state.applied_counts == std::vector<uint64_t>{2, 3});
}

TEST_CASE_FIXTURE(standby_fixture, "leave and join reach the standby: its BSP rounds match") {
  auto primary = spawn_shard(shard_core{0, {0, 2}, {0, 0}, sgd(1), bsp(), 3});
  auto standby = spawn_shard(shard_core{0, {0, 2}, {0, 0}, sgd(1), bsp(), 3});
  caf::anon_send(primary, standby_atom_v,
                 std::vector<caf::actor>{caf::actor_cast<caf::actor>(standby)});
  // Round 1: workers 0 and 1 push, worker 2 leaves mid-round: the round completes.
  auto p0 = self->request(primary, 5s, push_atom_v, push(0, 0, {2, 0}));
  auto p1 = self->request(primary, 5s, push_atom_v, push(1, 0, {0, 4}));
  self->send(primary, leave_atom_v, uint32_t{2});
  for (auto* h : {&p0, &p1})
    h->receive([&](param_slice& s) { CHECK(s.version == 1); },
               [&](caf::error& err) { FAIL("push failed: " << to_string(err)); });
  check_standby_in_step(primary, standby);
  // Round 2: worker 2 is back from clock 1; the round needs all three.
  self->send(primary, join_atom_v, uint32_t{2}, uint64_t{1});
  auto q0 = self->request(primary, 5s, push_atom_v, push(0, 1, {3, 0}, 1));
  auto q1 = self->request(primary, 5s, push_atom_v, push(1, 1, {0, 3}, 1));
  auto q2 = self->request(primary, 5s, push_atom_v, push(2, 1, {3, 3}, 1));
  for (auto* h : {&q0, &q1, &q2})
    h->receive([&](param_slice& s) { CHECK(s.version == 2); },
               [&](caf::error& err) { FAIL("push failed: " << to_string(err)); });
  auto clocks = hold(primary);
  auto expected = cut(primary, clocks);
  CHECK(expected.applied_clocks == std::vector<uint64_t>{2, 2, 2});
  CHECK(expected.applied_counts == std::vector<uint64_t>{2, 2, 1});
  CHECK(same_bits(expected.params, {-3, -4}));
  CHECK(hold(standby) == clocks);
  check_same_state(expected, cut(standby, clocks));
}

TEST_CASE_FIXTURE(standby_fixture, "a push is not answered before the standby acknowledges it") {
  auto primary = spawn_shard(shard_core{0, {0, 2}, {0, 0}, sgd(1), consistency_config{}, 1});
  auto silent = sys.spawn(silent_standby);
  spawned.push_back(silent);
  caf::anon_send(primary, standby_atom_v, std::vector<caf::actor>{silent});
  auto me = caf::actor_cast<caf::actor>(self);
  spawned.push_back(sys.spawn(push_relay, primary, me, push(0, 0, {1, 1})));
  bool answered = false;
  self->receive([&](caf::ok_atom, uint64_t) { answered = true; },
                [&](std::string& err) { FAIL("push failed: " << err); },
                caf::after(300ms) >> [] {});
  CHECK_FALSE(answered);
  // The standby got the image and the push, and acknowledged neither.
  self->request(silent, 5s, caf::get_atom_v)
      .receive([&](uint64_t n) { CHECK(n == 2); }, [&](caf::error& err) { FAIL(to_string(err)); });
  // Taking the standby away (an empty list) lets the answer go.
  caf::anon_send(primary, standby_atom_v, std::vector<caf::actor>{});
  self->receive([&](caf::ok_atom, uint64_t v) { CHECK(v == 1); },
                [&](std::string& err) { FAIL("push failed: " << err); },
                caf::after(5s) >> [] { FAIL("the push was never answered"); });
}

TEST_SUITE_END();
