// Tests for ps/progress_ledger.cpp: the job's arithmetic in one place.
#include "ps/progress_ledger.hpp"

#include <doctest/doctest.h>

using namespace tether;
using namespace std::chrono_literals;

TEST_SUITE_BEGIN("progress_ledger");

namespace {

progress_ledger::settings job(consistency_model m, uint64_t per_epoch) {
  progress_ledger::settings s;
  s.model = m;
  s.batch = 8;
  s.updates_per_epoch = per_epoch;
  s.shards = 2;
  return s;
}

} // namespace

TEST_CASE("updates: one per step, or one per round under bsp") {
  progress_ledger async{job(consistency_model::async, 10)};
  progress_ledger bsp{job(consistency_model::bsp, 10)};
  for (auto* l : {&async, &bsp}) {
    l->start_slot(0, 0);
    l->start_slot(1, 0);
    l->on_step(0, 1, 1.0f, 0);
    l->on_step(0, 2, 1.0f, 0);
    l->on_step(1, 1, 1.0f, 0);
  }
  CHECK(async.updates() == 3);
  CHECK(bsp.updates() == 2);
  CHECK(async.samples() == 3 * 8);
  CHECK(async.clock_lag() == 1);
  CHECK(async.updates_at({1, 1}) == 2);
}

TEST_CASE("a repeated report or a replacement does not count twice") {
  progress_ledger l{job(consistency_model::async, 10)};
  l.start_slot(0, 5); // resumed at clock 5
  CHECK(l.on_step(0, 6, 0.5f, 0));
  CHECK_FALSE(l.on_step(0, 6, 0.5f, 0));
  l.start_slot(0, 6); // its replacement
  CHECK(l.on_step(0, 7, 0.5f, 0));
  CHECK(l.samples() == 2 * 8);
  CHECK(l.at(0).acked == 2);
}

TEST_CASE("a slot that retired and starts again keeps its earlier steps") {
  progress_ledger l{job(consistency_model::async, 10)};
  l.start_slot(0, 0);
  l.on_step(0, 3, 0.5f, 0);
  l.mark_done(0);
  CHECK(l.all_done());
  l.start_slot(0, 40); // joins again at the slowest live clock, say
  CHECK_FALSE(l.all_done());
  CHECK(l.samples() == 3 * 8);
  l.on_step(0, 41, 0.5f, 0);
  CHECK(l.samples() == 4 * 8);
  CHECK(l.updates() == 4);
}

TEST_CASE("mean loss of the recent steps") {
  auto s = job(consistency_model::async, 10);
  s.recent_losses = 2;
  progress_ledger l{s};
  l.start_slot(0, 0);
  CHECK(l.mean_loss() == 0.0);
  l.on_step(0, 1, 3.0f, 0);
  l.on_step(0, 2, 1.0f, 0);
  l.on_step(0, 3, 2.0f, 0);
  CHECK(l.mean_loss() == doctest::Approx(1.5));
}

TEST_CASE("the schedule: epoch ends, every --eval-every, every --checkpoint-every") {
  auto s = job(consistency_model::async, 10);
  s.eval_every = 4;
  s.checkpoint_every = 6;
  progress_ledger l{s};
  l.start_slot(0, 0);
  std::vector<uint64_t> evals, checkpoints;
  for (uint64_t c = 1; c <= 20; ++c) {
    l.on_step(0, c, 1.0f, 0);
    auto d = l.take_due();
    if (d.evaluate)
      evals.push_back(c);
    if (d.checkpoint)
      checkpoints.push_back(c);
  }
  CHECK(evals == std::vector<uint64_t>{4, 8, 10, 12, 16, 20});
  CHECK(checkpoints == std::vector<uint64_t>{6, 12, 18});
}

TEST_CASE("a resumed job's schedule continues from its updates") {
  auto s = job(consistency_model::async, 10);
  s.start_updates = 25;
  progress_ledger l{s};
  l.start_slot(0, 25);
  l.on_step(0, 29, 1.0f, 0);
  CHECK_FALSE(l.take_due().evaluate);
  l.on_step(0, 30, 1.0f, 0);
  CHECK(l.take_due().evaluate);
  CHECK(l.updates() == 30);
}

TEST_CASE("training time leaves pauses out") {
  progress_ledger l{job(consistency_model::async, 10)};
  auto t0 = progress_ledger::clock_type::now();
  l.start_training(t0);
  l.pause(2s);
  CHECK(l.training_seconds(t0 + 5s) == doctest::Approx(3.0));
  l.end_training(t0 + 6s);
  CHECK(l.training_seconds(t0 + 100s) == doctest::Approx(4.0));
}

TEST_CASE("shard statistics cover the whole run across a restart") {
  progress_ledger l{job(consistency_model::ssp, 10)};
  shard_stats a;
  a.applied = 10;
  a.max_clock_gap = 3;
  a.tau_histogram = {4, 6};
  l.note_stats(0, a);
  l.retire_shard(0); // restored from a checkpoint: its next instance starts at zero
  shard_stats b;
  b.applied = 2;
  b.max_clock_gap = 1;
  b.tau_histogram = {2};
  l.note_stats(0, b);
  auto t = l.totals();
  CHECK(t.applied == 12);
  CHECK(t.max_clock_gap == 3);
  CHECK(t.tau_histogram == std::vector<uint64_t>{6, 6});
}

TEST_CASE("the loss audit compares answered steps with what each shard holds") {
  progress_ledger l{job(consistency_model::async, 10)};
  l.start_slot(0, 0);
  l.start_slot(1, 0);
  l.on_step(0, 5, 1.0f, 0);
  l.on_step(1, 3, 1.0f, 0);
  shard_state start, full, short_one;
  start.applied_counts = {0, 0};
  full.applied_counts = {5, 3};
  short_one.applied_counts = {4, 1};
  auto lost = l.lost_per_shard({start, start}, {full, short_one});
  CHECK(lost == std::vector<uint64_t>{0, 3});
}

TEST_CASE("the audit: counts that went down hold nothing, missing counts hold none") {
  progress_ledger l{job(consistency_model::async, 10)};
  l.start_slot(0, 0);
  l.start_slot(1, 0);
  l.on_step(0, 2, 1.0f, 0);
  l.on_step(1, 3, 1.0f, 0);
  auto with = [](std::vector<uint64_t> counts) {
    shard_state s;
    s.applied_counts = std::move(counts);
    return s;
  };
  // Counts that went down (a restore to an older state) hold nothing.
  CHECK(l.lost_per_shard({with({5, 5})}, {with({3, 3})}) == std::vector<uint64_t>{5});
  // Old checkpoints: no counts at the start; the final states hold them.
  CHECK(l.lost_per_shard({with({})}, {with({2, 3})}) == std::vector<uint64_t>{0});
  // No counts at the end: everything acked is lost.
  CHECK(l.lost_per_shard({with({1, 1})}, {with({})}) == std::vector<uint64_t>{5});
  // Fewer initial states than final ones, and a count vector shorter than the slots.
  CHECK(l.lost_per_shard({}, {with({2})}) == std::vector<uint64_t>{3});
}

TEST_SUITE_END();
