#include "actors/cut.hpp"

#include "actors/fault_injector.hpp"
#include "actors/publish.hpp"
#include "actors/replicas.hpp"

#include <algorithm>
#include <chrono>
#include <memory>
#include <numeric>

namespace tether {

namespace {

using self_ptr = caf::stateful_actor<supervisor_state>*;
using then_fn = void (*)(self_ptr, bool, bool);
using namespace std::chrono_literals;

struct gather {
  cut_kind kind;
  then_fn then;
  supervisor_state::clock::time_point started;
  size_t left = 0;
  bool failed = false;
  std::vector<std::vector<uint64_t>> clocks;
  std::vector<shard_state> states;
  shard_stats stats; ///< summed over shards (max for the maxima)
};

void add_stats(shard_stats& sum, const shard_stats& s) {
  sum.applied += s.applied;
  sum.duplicates += s.duplicates;
  sum.tau_sum += s.tau_sum;
  sum.tau_max = std::max(sum.tau_max, s.tau_max);
  sum.max_clock_gap = std::max(sum.max_clock_gap, s.max_clock_gap);
  sum.answers += s.answers;
  if (sum.tau_histogram.size() < s.tau_histogram.size())
    sum.tau_histogram.resize(s.tau_histogram.size(), 0);
  for (size_t t = 0; t < s.tau_histogram.size(); ++t)
    sum.tau_histogram[t] += s.tau_histogram[t];
}
using gather_ptr = std::shared_ptr<gather>;

void release_all(self_ptr self) {
  for (auto& s : self->state.shards)
    if (s)
      self->send(s, release_atom_v);
}

void fail(self_ptr self, const gather_ptr& g, const caf::error& err) {
  if (g->failed)
    return;
  g->failed = true;
  release_all(self);
  if (g->kind.final)
    self->send(self->state.args.runner, point_atom_v,
               "final cut failed (" + to_string(err) + "); retrying");
  g->then(self, g->kind.final, false);
}

checkpoint_data make_checkpoint(const supervisor_state& st, const std::vector<uint64_t>& target,
                                std::vector<shard_state> states) {
  checkpoint_data c;
  c.updates = updates_of(st.args.cfg, target);
  c.model = st.args.net->spec().to_string();
  c.layout_fingerprint = st.args.net->layout().fingerprint();
  c.total_params = st.args.net->layout().total;
  c.optimizer = to_string(st.args.cfg.optimizer.kind);
  c.consistency = to_string(st.args.cfg.consistency.model);
  c.seed = st.args.cfg.seed;
  c.worker_steps = target;
  c.shards = std::move(states);
  c.config = st.args.cfg.effective_options;
  c.created_unix_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
  return c;
}

void finish_cut(self_ptr self, const gather_ptr& g, std::vector<uint64_t> target) {
  auto& st = self->state;
  const auto& a = st.args;
  std::vector<float> params(a.net->layout().total);
  for (const auto& s : g->states)
    std::copy(s.params.begin(), s.params.end(), params.begin() + s.range_begin);

  progress_point p;
  p.final = g->kind.final;
  p.updates = updates_of(a.cfg, target);
  p.epoch = static_cast<double>(p.updates) / a.updates_per_epoch;
  if (!st.recent_losses.empty())
    p.train_loss = std::accumulate(st.recent_losses.begin(), st.recent_losses.end(), 0.0)
                   / st.recent_losses.size();
  const auto& stats = g->stats;
  p.mean_staleness = stats.applied ? stats.tau_sum / stats.applied : 0.0;
  p.max_staleness = stats.tau_max;
  p.max_clock_gap = stats.max_clock_gap;
  p.blocked_seconds = std::accumulate(st.blocked.begin(), st.blocked.end(), 0.0);
  {
    uint64_t fastest = 0, slowest = UINT64_MAX;
    for (size_t w = 0; w < st.clocks.size(); ++w)
      if (!st.done[w]) {
        fastest = std::max(fastest, st.clocks[w]);
        slowest = std::min(slowest, st.clocks[w]);
      }
    p.clock_lag = slowest == UINT64_MAX ? 0 : fastest - slowest;
  }
  if (g->kind.evaluate) {
    model_workspace ws;
    const auto& test = *a.data.test;
    auto ev = a.net->evaluate(params, test.x, test.y, test.count, ws);
    p.test_loss = ev.loss;
    p.test_accuracy = ev.accuracy;
    p.test_mse = ev.mse;
  }
  auto now = supervisor_state::clock::now();
  release_all(self);
  if (g->kind.evaluate && !st.training_ended)
    st.paused += now - g->started;
  auto end = st.training_ended ? st.training_end : now;
  p.training_seconds = std::chrono::duration<double>(end - st.training_start - st.paused).count();
  p.wall_seconds = std::chrono::duration<double>(now - a.job_start).count();
  uint64_t started = std::accumulate(a.worker_start.begin(), a.worker_start.end(), uint64_t{0});
  uint64_t batches = std::accumulate(target.begin(), target.end(), uint64_t{0});
  auto samples = (batches - std::min(batches, started)) * a.cfg.batch;
  p.samples_per_sec = p.training_seconds > 0 ? samples / p.training_seconds : 0;

  // The final cut often lands on the update count of the epoch-end point just taken:
  // that point is then the final one, not a second point.
  bool repeats_last = !st.report.curve.empty() && st.report.curve.back().updates == p.updates;
  if (g->kind.final && repeats_last) {
    p.wall_seconds = st.report.curve.back().wall_seconds;
    st.report.curve.back() = p;
  } else if (g->kind.evaluate) {
    st.report.curve.push_back(p);
    publish_quick_status(self);
    self->send(a.runner, point_atom_v, p);
  }
  if (g->kind.final) {
    st.report.staleness_histogram = stats.tau_histogram;
    st.report.final_point = p;
    st.report.final_params = std::move(params);
    st.report.final_train_loss = p.train_loss;
    st.report.updates_lost_by_shard = lost_per_shard(st.acked, a.initial_shards, g->states);
    st.report.updates_lost = 0;
    for (auto lost : st.report.updates_lost_by_shard)
      st.report.updates_lost = std::max(st.report.updates_lost, lost);
  }
  if (!g->kind.checkpoint) {
    g->then(self, g->kind.final, true);
    return;
  }
  // The write happens after the release and outside the cut: training goes on while
  // the checkpointer writes. Only the final cut waits for its file.
  bool final = g->kind.final;
  self->request(st.checkpointer, 120s, write_atom_v,
                make_checkpoint(st, target, std::move(g->states)))
    .then(
      [=](const std::string& path, uint64_t bytes, double seconds) {
        auto& st = self->state;
        st.report.checkpoint_path = path;
        faults_after_checkpoint(self, path);
        st.report.checkpoint_error.clear();
        ++st.status.checkpoints_written;
        st.status.checkpoint_seconds_sum += seconds;
        st.status.checkpoint_seconds_last = seconds;
        st.status.checkpoint_bytes_last = bytes;
        if (final)
          g->then(self, true, true);
      },
      [=](caf::error& err) {
        auto msg = err.context().match_elements<std::string>()
                     ? err.context().get_as<std::string>(0)
                     : to_string(err);
        self->state.report.checkpoint_error = msg;
        self->send(self->state.args.runner, point_atom_v, "checkpoint failed: " + msg);
        if (final)
          g->then(self, true, false);
      });
  if (!final)
    g->then(self, false, true);
}

void request_cut(self_ptr self, const gather_ptr& g) {
  auto& st = self->state;
  std::vector<uint64_t> target(st.args.cfg.workers, 0);
  for (const auto& c : g->clocks)
    for (size_t w = 0; w < target.size() && w < c.size(); ++w)
      target[w] = std::max(target[w], c[w]);
  g->left = st.shards.size();
  g->states.resize(st.shards.size());
  for (size_t j = 0; j < st.shards.size(); ++j) {
    self->request(st.shards[j], 30s, cut_atom_v, target)
      .then(
        [=](shard_state& s) {
          if (g->failed)
            return;
          g->states[j] = std::move(s);
          if (--g->left == 0)
            finish_cut(self, g, target);
        },
        [=](caf::error& err) { fail(self, g, err); });
  }
}

} // namespace

void take_cut(self_ptr self, cut_kind kind, then_fn then) {
  auto& st = self->state;
  auto g = std::make_shared<gather>();
  g->kind = kind;
  g->then = then;
  g->started = supervisor_state::clock::now();
  g->left = st.shards.size();
  g->clocks.resize(st.shards.size());
  for (size_t j = 0; j < st.shards.size(); ++j) {
    self->request(st.shards[j], 10s, hold_atom_v)
      .then(
        [=](std::vector<uint64_t>& clocks, const shard_stats& stats) {
          if (g->failed)
            return;
          g->clocks[j] = std::move(clocks);
          add_stats(g->stats, stats);
          if (--g->left == 0)
            request_cut(self, g);
        },
        [=](caf::error& err) { fail(self, g, err); });
  }
}

} // namespace tether
