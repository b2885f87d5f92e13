#include "actors/publish.hpp"

#include "actors/supervisor_nodes.hpp"

#include <algorithm>
#include <memory>
#include <numeric>

namespace tether {

namespace {

/// The node an actor runs on: its node's name, or the first entry of nodes (this process).
std::string node_name(const supervisor_state& st, const caf::actor_addr& who) {
  if (auto n = node_running(st, who); n >= 0)
    return st.nodes[n].hello.name;
  return st.status.nodes.empty() ? std::string{"local"} : st.status.nodes.front().name;
}

using self_ptr = caf::stateful_actor<supervisor_state>*;
using namespace std::chrono_literals;

struct stats_round {
  size_t left = 0;
  std::vector<shard_status> shards;
  shard_stats sum;
};

/// Everything of the status the supervisor knows without asking the shards.
void fill_status(self_ptr self) {
  auto& st = self->state;
  auto& s = st.status;
  const auto& a = st.args;
  auto now = supervisor_state::clock::now();
  s.state = st.finishing ? "finishing" : "training";
  s.wall_seconds = std::chrono::duration<double>(now - a.job_start).count();
  auto end = st.training_ended ? st.training_end : now;
  s.training_seconds = std::chrono::duration<double>(end - st.training_start - st.paused).count();
  s.updates = updates_of(a.cfg, st.clocks);
  s.epoch = a.updates_per_epoch ? static_cast<double>(s.updates) / a.updates_per_epoch : 0;
  uint64_t fastest = 0, slowest = UINT64_MAX;
  s.samples = 0;
  for (size_t w = 0; w < st.clocks.size(); ++w) {
    auto& ws = s.worker[w];
    ws.alive = static_cast<bool>(st.workers[w]);
    ws.clock = st.clocks[w];
    ws.samples = (st.clocks[w] - std::min(st.clocks[w], a.worker_start[w])) * a.cfg.batch;
    ws.blocked_seconds = st.blocked[w];
    s.samples += ws.samples;
    if (!st.done[w]) {
      fastest = std::max(fastest, st.clocks[w]);
      slowest = std::min(slowest, st.clocks[w]);
    }
  }
  s.clock_lag = slowest == UINT64_MAX ? 0 : fastest - slowest;
  s.samples_per_sec = s.training_seconds > 0 ? s.samples / s.training_seconds : 0;
  if (!st.recent_losses.empty())
    s.train_loss = std::accumulate(st.recent_losses.begin(), st.recent_losses.end(), 0.0)
                   / st.recent_losses.size();
  if (!st.report.curve.empty()) {
    s.test_accuracy = st.report.curve.back().test_accuracy;
    s.test_loss = st.report.curve.back().test_loss;
  }
  s.curve = st.report.curve;
  s.restarts = st.report.restarts;
  if (!st.nodes.empty()) {
    s.nodes.assign(1, node_status{"coordinator", true});
    for (const auto& n : st.nodes)
      s.nodes.push_back({n.hello.name, n.alive});
  }
  for (size_t w = 0; w < st.workers.size(); ++w)
    s.worker[w].node = node_name(st, st.workers[w].address());
}

void send_snapshot_nodes(supervisor_state& st) {
  for (size_t j = 0; j < st.status.shard.size() && j < st.shards.size(); ++j)
    st.status.shard[j].node = node_name(st, st.shards[j].address());
}

void send_snapshot(self_ptr self, const stats_round& round) {
  fill_status(self);
  auto& st = self->state;
  auto& s = st.status;
  s.shard = round.shards;
  s.staleness_histogram = round.sum.tau_histogram;
  s.tau_sum = round.sum.tau_sum;
  s.tau_count = round.sum.applied;
  s.max_clock_gap = round.sum.max_clock_gap;
  send_snapshot_nodes(st);
  self->send(st.args.runner, status_atom_v, s);
}

} // namespace

void init_status(self_ptr self) {
  auto& st = self->state;
  auto& s = st.status;
  const auto& a = st.args;
  s.model = a.net->spec().to_string();
  s.consistency = to_string(a.cfg.consistency.model);
  s.dataset = to_string(a.cfg.dataset);
  s.workers = a.cfg.workers;
  s.shards = static_cast<uint32_t>(a.ranges.size());
  s.epochs = a.cfg.epochs;
  s.config = a.cfg.effective_options;
  s.worker.resize(a.cfg.workers);
  for (uint32_t w = 0; w < a.cfg.workers; ++w) {
    s.worker[w].index = w;
    s.worker[w].step_buckets.assign(step_time_bounds.size() + 1, 0);
  }
}

void publish_quick_status(self_ptr self) {
  fill_status(self);
  self->send(self->state.args.runner, status_atom_v, self->state.status);
}

void publish_final_status(self_ptr self) {
  fill_status(self);
  auto& s = self->state.status;
  s.state = "finished";
  const auto& r = self->state.report;
  if (!r.staleness_histogram.empty())
    s.staleness_histogram = r.staleness_histogram;
  s.test_accuracy = r.final_point.test_accuracy;
  s.test_loss = r.final_point.test_loss;
  self->send(self->state.args.runner, status_atom_v, s);
}

void publish_status(self_ptr self) {
  auto& st = self->state;
  if (st.publishing || st.shards.empty())
    return;
  st.publishing = true;
  auto round = std::make_shared<stats_round>();
  round->left = st.shards.size();
  round->shards.resize(st.shards.size());
  for (size_t j = 0; j < st.shards.size(); ++j) {
    round->shards[j].index = static_cast<uint32_t>(j);
    round->shards[j].range_begin = st.args.ranges[j].begin;
    round->shards[j].range_end = st.args.ranges[j].end;
    auto done_one = [=] {
      if (--round->left == 0) {
        self->state.publishing = false;
        send_snapshot(self, *round);
      }
    };
    self->request(st.shards[j], 2s, stats_atom_v)
      .then(
        [=](uint64_t version, const shard_stats& stats) {
          round->shards[j].version = version;
          round->shards[j].applied = stats.applied;
          auto& sum = round->sum;
          sum.applied += stats.applied;
          sum.tau_sum += stats.tau_sum;
          sum.max_clock_gap = std::max(sum.max_clock_gap, stats.max_clock_gap);
          if (sum.tau_histogram.size() < stats.tau_histogram.size())
            sum.tau_histogram.resize(stats.tau_histogram.size(), 0);
          for (size_t t = 0; t < stats.tau_histogram.size(); ++t)
            sum.tau_histogram[t] += stats.tau_histogram[t];
          done_one();
        },
        [=](caf::error&) { done_one(); }); // a shard being restarted: publish the rest
  }
}

} // namespace tether
