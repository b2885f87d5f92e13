#include "actors/publish.hpp"

#include "actors/supervisor_steps.hpp"

#include <algorithm>
#include <memory>
#include <numeric>

namespace tether {

namespace {

using self_ptr = supervisor_pointer;
using namespace std::chrono_literals;

std::string node_name(const supervisor_state& st, int node) {
  if (node >= 0 && static_cast<size_t>(node) < st.nodes.size())
    return st.nodes[node].hello.name;
  return st.status.nodes.empty() ? std::string{"local"} : st.status.nodes.front().name;
}

struct stats_round {
  size_t left = 0;
  std::vector<shard_status> shards;
};

/// Everything of the status the supervisor knows without asking the shards.
void fill_status(self_ptr self) {
  auto& st = self->state;
  auto& s = st.status;
  const auto& ledger = st.progress();
  auto now = st.now();
  s.state = st.phase == job_phase::training ? "training" : "finishing";
  s.wall_seconds = std::chrono::duration<double>(now - st.args.job_start).count();
  s.training_seconds = ledger.training_seconds(now);
  s.updates = ledger.updates();
  s.epoch = ledger.epoch();
  s.samples = ledger.samples();
  s.samples_per_sec = ledger.samples_per_second(now);
  s.tokens_per_sec = s.samples_per_sec * static_cast<double>(s.context);
  s.clock_lag = ledger.clock_lag();
  s.train_loss = ledger.mean_loss();
  s.workers = live_workers(st);
  for (size_t w = 0; w < st.workers.size() && w < s.worker.size(); ++w) {
    auto& ws = s.worker[w];
    const auto& slot = w < ledger.slot_count() ? ledger.at(static_cast<uint32_t>(w))
                                               : progress_ledger::slot{};
    ws.alive = static_cast<bool>(st.workers[w].actor);
    ws.clock = slot.clock;
    ws.samples = (slot.clock - std::min(slot.clock, slot.start_clock)) * st.plan->cfg.batch;
    ws.blocked_seconds = slot.blocked_seconds;
    ws.node = node_name(st, st.workers[w].node);
  }
  auto totals = ledger.totals();
  s.staleness_histogram = totals.tau_histogram;
  s.tau_sum = totals.tau_sum;
  s.tau_count = totals.applied;
  s.max_clock_gap = totals.max_clock_gap;
  if (!st.report.curve.empty()) {
    s.test_accuracy = st.report.curve.back().test_accuracy;
    s.test_loss = st.report.curve.back().test_loss;
    s.valid_bits_per_byte = st.report.curve.back().valid_bits_per_byte;
    s.sample = st.report.curve.back().sample;
  }
  s.curve = st.report.curve;
  s.restarts = st.report.restarts;
  if (!st.nodes.empty()) {
    s.nodes.assign(1, node_status{"coordinator", true});
    for (const auto& n : st.nodes)
      s.nodes.push_back({n.hello.name, n.alive});
  }
  for (size_t j = 0; j < s.shard.size() && j < st.shards.size(); ++j)
    s.shard[j].node = node_name(st, st.shards[j].node);
}

} // namespace

void init_status(self_ptr self) {
  auto& st = self->state;
  auto& s = st.status;
  const auto& plan = *st.plan;
  s.model = plan.model_text();
  s.consistency = to_string(plan.cfg.consistency.model);
  s.dataset = to_string(plan.cfg.dataset);
  s.context = plan.gpt ? plan.gpt->config().context : 0;
  s.workers = plan.cfg.workers;
  s.shards = static_cast<uint32_t>(plan.ranges.size());
  s.epochs = plan.cfg.epochs;
  s.config = plan.cfg.effective_options;
  s.worker.resize(plan.slot_capacity());
  for (uint32_t w = 0; w < s.worker.size(); ++w) {
    s.worker[w].index = w;
    s.worker[w].step_buckets.assign(step_time_bounds.size() + 1, 0);
  }
  s.shard.resize(plan.ranges.size());
  for (size_t j = 0; j < s.shard.size(); ++j) {
    s.shard[j].index = static_cast<uint32_t>(j);
    s.shard[j].range_begin = plan.ranges[j].begin;
    s.shard[j].range_end = plan.ranges[j].end;
  }
}

void publish_quick_status(self_ptr self) {
  fill_status(self);
  caf::anon_send(self->state.args.runner, status_atom_v, self->state.status);
}

void publish_final_status(self_ptr self) {
  fill_status(self);
  auto& s = self->state.status;
  s.state = "finished";
  const auto& r = self->state.report;
  s.test_accuracy = r.final_point.test_accuracy;
  s.test_loss = r.final_point.test_loss;
  if (r.final_point.text) {
    s.valid_bits_per_byte = r.final_point.valid_bits_per_byte;
    s.sample = r.final_point.sample;
  }
  caf::anon_send(self->state.args.runner, status_atom_v, s);
}

void publish_status(self_ptr self) {
  auto& st = self->state;
  if (st.publishing || st.shards.empty() || !st.shards_ready()) {
    if (!st.publishing)
      publish_quick_status(self);
    return;
  }
  st.publishing = true;
  auto round = std::make_shared<stats_round>();
  round->left = st.shards.size();
  round->shards = st.status.shard;
  for (size_t j = 0; j < st.shards.size(); ++j) {
    auto done_one = [=] {
      if (--round->left == 0) {
        auto& st = self->state;
        st.publishing = false;
        st.status.shard = round->shards;
        publish_quick_status(self);
      }
    };
    self->request(st.shards[j].primary, 2s, stats_atom_v)
      .then(
        [=](uint64_t version, const shard_stats& stats) {
          round->shards[j].version = version;
          round->shards[j].applied = stats.applied;
          self->state.progress().note_stats(j, stats);
          done_one();
        },
        [=](caf::error&) { done_one(); }); // a shard being replaced: publish the rest
  }
}

} // namespace tether
