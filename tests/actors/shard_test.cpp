// Tests of the shard actor: fused push+pull, and the hold / cut / release protocol
// that gives consistent snapshots. The test waits on replies, never on sleeps.
#include "actors/shard.hpp"

#include <doctest/doctest.h>

#include <chrono>

using namespace tether;
using namespace std::chrono_literals;

namespace {

optimizer_config plain_sgd() {
  optimizer_config cfg;
  cfg.kind = optimizer_kind::sgd;
  cfg.lr = 1.0f;
  return cfg;
}

struct fixture {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  shard_actor shard = sys.spawn(shard_behavior, shard_core{0, {0, 2}, {0, 0}, plain_sgd(), consistency_config{}, 2});
  caf::scoped_actor self{sys};

  ~fixture() { self->send_exit(shard, caf::exit_reason::user_shutdown); }

  param_slice push(uint32_t worker, uint64_t clock, std::vector<float> g) {
    param_slice out;
    self->request(shard, 5s, push_atom_v, push_request{worker, clock, 0, 0, std::move(g)})
      .receive([&](param_slice& p) { out = std::move(p); },
               [&](caf::error& err) { FAIL("push failed: " << to_string(err)); });
    return out;
  }
};

} // namespace

TEST_SUITE_BEGIN("shard");

TEST_CASE_FIXTURE(fixture, "a push answers with the slice after applying it") {
  auto p = push(0, 0, {1, 2});
  CHECK(p.version == 1);
  CHECK(p.values == std::vector<float>{-1, -2});
  self->request(shard, 5s, pull_atom_v, pull_request{1, 0})
    .receive([&](param_slice& s) { CHECK(s.version == 1); },
             [&](caf::error& err) { FAIL(to_string(err)); });
}

TEST_CASE_FIXTURE(fixture, "a push to the wrong range is an error, not a crash") {
  self->request(shard, 5s, push_atom_v, push_request{0, 0, 0, 5, {1, 2}})
    .receive([&](param_slice&) { FAIL("accepted a push for another range"); },
             [&](caf::error& err) { CHECK(err); });
  // The shard is still alive and serves the next push.
  CHECK(push(0, 0, {1, 1}).version == 1);
}

TEST_CASE_FIXTURE(fixture, "a cut waits for the pushes it needs and excludes later ones") {
  push(0, 0, {1, 1});
  std::vector<uint64_t> clocks;
  self->request(shard, 5s, hold_atom_v)
    .receive([&](std::vector<uint64_t>& c, const shard_stats& stats) {
      clocks = c;
      CHECK(stats.applied == 1);
    },
             [&](caf::error& err) { FAIL(to_string(err)); });
  CHECK(clocks == std::vector<uint64_t>{1, 0});
  // Held: worker 1's push (clock 0) queues. Ask for a cut that includes it, and send
  // worker 0's next push (clock 1), which the cut must not include.
  auto push_w1 = self->request(shard, 5s, push_atom_v, push_request{1, 0, 0, 0, {1, 1}});
  auto push_w0 = self->request(shard, 5s, push_atom_v, push_request{0, 1, 1, 0, {1, 1}});
  self->request(shard, 5s, cut_atom_v, std::vector<uint64_t>{1, 1})
    .receive(
      [&](shard_state& s) {
        CHECK(s.version == 2);
        CHECK(s.applied_clocks == std::vector<uint64_t>{1, 1});
        CHECK(s.params == std::vector<float>{-2, -2});
      },
      [&](caf::error& err) { FAIL(to_string(err)); });
  push_w1.receive([&](param_slice& p) { CHECK(p.version == 2); },
                  [&](caf::error& err) { FAIL(to_string(err)); });
  self->send(shard, release_atom_v);
  push_w0.receive([&](param_slice& p) { CHECK(p.version == 3); },
                  [&](caf::error& err) { FAIL(to_string(err)); });
}

TEST_SUITE_END();
