#include "actors/cut.hpp"

#include "actors/evaluate.hpp"
#include "actors/fault_injector.hpp"
#include "actors/publish.hpp"
#include "actors/supervisor.hpp"
#include "actors/supervisor_steps.hpp"

#include <algorithm>
#include <chrono>
#include <memory>

namespace tether {

namespace {

using self_ptr = supervisor_pointer;
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
  std::vector<size_t> from_restore_point; ///< best effort: shards that did not answer
};
using gather_ptr = std::shared_ptr<gather>;

/// How long a cut waits for a shard's hold and for its state: short once the job is
/// finishing (a stuck shard must not hold a stop up for long).
std::chrono::seconds hold_timeout(const supervisor_state& st) {
  return st.phase == job_phase::training ? 10s : 3s;
}

std::chrono::seconds cut_timeout(const supervisor_state& st) {
  return st.phase == job_phase::training ? 30s : 3s;
}

void release_all(self_ptr self) {
  for (auto& s : self->state.shards)
    if (s.primary)
      self->send(s.primary, release_atom_v);
}

void fail(self_ptr self, const gather_ptr& g, const caf::error& err) {
  if (g->failed)
    return;
  g->failed = true;
  release_all(self);
  if (g->kind.final)
    caf::anon_send(self->state.args.runner, point_atom_v,
               "final cut failed (" + to_string(err) + "); trying again");
  g->then(self, g->kind.final, false);
}

checkpoint_data make_checkpoint(const supervisor_state& st, const std::vector<uint64_t>& target,
                                std::vector<shard_state> states) {
  const auto& plan = *st.plan;
  checkpoint_data c;
  c.updates = st.progress().updates_at(target);
  c.model = plan.model_text();
  c.layout_fingerprint = plan.layout().fingerprint();
  c.total_params = plan.layout().total;
  c.optimizer = to_string(plan.cfg.optimizer.kind);
  c.consistency = to_string(plan.cfg.consistency.model);
  c.seed = plan.cfg.seed;
  c.worker_steps = target;
  c.shards = std::move(states);
  c.config = plan.cfg.effective_options;
  c.created_unix_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
  c.work = st.dispatcher->position_at(target);
  return c;
}

progress_point make_point(supervisor_state& st, const gather& g,
                          const std::vector<uint64_t>& target) {
  const auto& ledger = st.progress();
  progress_point p;
  p.final = g.kind.final;
  p.updates = ledger.updates_at(target);
  p.epoch = static_cast<double>(p.updates) / std::max<uint64_t>(1, st.plan->updates_per_epoch);
  p.train_loss = ledger.mean_loss();
  auto stats = ledger.totals();
  p.mean_staleness = stats.applied ? stats.tau_sum / static_cast<double>(stats.applied) : 0.0;
  p.max_staleness = stats.tau_max;
  p.max_clock_gap = stats.max_clock_gap;
  p.blocked_seconds = ledger.blocked_seconds();
  p.clock_lag = ledger.clock_lag();
  st.report.clock_lag_max = std::max(st.report.clock_lag_max, p.clock_lag);
  return p;
}

/// Writes the checkpoint of the cut (after the release: training goes on meanwhile).
void write_checkpoint(self_ptr self, const gather_ptr& g, std::vector<uint64_t> target) {
  auto& st = self->state;
  bool final = g->kind.final;
  auto data = make_checkpoint(st, target, std::move(g->states));
  auto updates = data.updates;
  self->request(st.checkpointer, 120s, write_atom_v, std::move(data))
    .then(
      [=](const std::string& path, uint64_t bytes, double seconds) {
        auto& st = self->state;
        st.report.newest_checkpoint = path;
        st.report.newest_checkpoint_updates = updates;
        if (final)
          st.report.checkpoint_path = path;
        faults_after_checkpoint(self, path);
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
        auto& st = self->state;
        st.report.checkpoint_error = msg;
        caf::anon_send(st.args.runner, point_atom_v, "checkpoint failed: " + msg);
        if (final)
          g->then(self, true, true); // the cut is done; the report says the file is not
      });
  if (!final)
    g->then(self, false, true);
}

void finish_cut(self_ptr self, const gather_ptr& g, std::vector<uint64_t> target) {
  auto& st = self->state;
  const auto& plan = *st.plan;
  std::vector<float> params(plan.layout().total);
  for (const auto& s : g->states)
    std::copy(s.params.begin(), s.params.end(), params.begin() + s.range_begin);
  auto p = make_point(st, *g, target);
  if (g->kind.evaluate)
    evaluate_point(plan, params, p);
  auto now = st.now();
  release_all(self);
  if (g->kind.evaluate)
    st.progress().pause(now - g->started);
  p.training_seconds = st.progress().training_seconds(now);
  p.wall_seconds = std::chrono::duration<double>(now - st.args.job_start).count();
  auto samples = st.progress().samples_at(target);
  p.samples_per_sec = p.training_seconds > 0 ? static_cast<double>(samples) / p.training_seconds : 0;
  p.text = plan.gpt != nullptr;
  if (plan.gpt)
    p.tokens_per_sec = p.samples_per_sec * static_cast<double>(plan.gpt->config().context);

  // The final cut often lands on the update count of the epoch-end point just taken:
  // that point is then the final one, not a second point.
  bool repeats_last = !st.report.curve.empty() && st.report.curve.back().updates == p.updates;
  if (g->kind.final && repeats_last) {
    p.wall_seconds = st.report.curve.back().wall_seconds;
    st.report.curve.back() = p;
  } else if (g->kind.evaluate) {
    st.report.curve.push_back(p);
    publish_quick_status(self);
    caf::anon_send(st.args.runner, point_atom_v, p);
  }
  if (g->kind.final) {
    auto& r = st.report;
    r.staleness_histogram = st.progress().totals().tau_histogram;
    r.final_point = p;
    r.final_params = std::move(params);
    r.final_train_loss = p.train_loss;
    r.updates_lost_by_shard = st.progress().lost_per_shard(st.args.initial_shards, g->states);
    r.updates_lost = 0;
    for (auto lost : r.updates_lost_by_shard)
      r.updates_lost = std::max(r.updates_lost, lost);
    r.shards_from_restore_point = g->from_restore_point;
  }
  if (g->kind.checkpoint)
    write_checkpoint(self, g, std::move(target));
  else
    g->then(self, g->kind.final, true);
}

std::vector<uint64_t> elementwise_max(const std::vector<std::vector<uint64_t>>& clocks,
                                      size_t slots) {
  std::vector<uint64_t> target(slots, 0);
  for (const auto& c : clocks)
    for (size_t w = 0; w < target.size() && w < c.size(); ++w)
      target[w] = std::max(target[w], c[w]);
  return target;
}

void request_cut(self_ptr self, const gather_ptr& g) {
  auto& st = self->state;
  auto target = elementwise_max(g->clocks, st.plan->slot_capacity());
  g->left = st.shards.size();
  g->states.resize(st.shards.size());
  for (size_t j = 0; j < st.shards.size(); ++j) {
    self->request(st.shards[j].primary, cut_timeout(st), cut_atom_v, target)
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

/// One shard of a best-effort cut is in (or taken from its restore point).
void best_effort_arrived(self_ptr self, const gather_ptr& g, size_t j, shard_state s,
                         bool answered) {
  g->states[j] = std::move(s);
  g->clocks[j] = g->states[j].applied_clocks;
  if (!answered)
    g->from_restore_point.push_back(j);
  if (--g->left == 0) {
    std::sort(g->from_restore_point.begin(), g->from_restore_point.end());
    finish_cut(self, g, elementwise_max(g->clocks, self->state.plan->slot_capacity()));
  }
}

void take_best_effort(self_ptr self, const gather_ptr& g) {
  auto& st = self->state;
  g->states.resize(st.shards.size());
  for (size_t j = 0; j < st.shards.size(); ++j) {
    auto primary = st.shards[j].primary;
    auto fallback = [=](caf::error&) {
      best_effort_arrived(self, g, j, restore_point(self, j), false);
    };
    if (!primary) {
      caf::error none;
      fallback(none);
      continue;
    }
    self->request(primary, hold_timeout(st), hold_atom_v)
      .then(
        [=](std::vector<uint64_t>& clocks, const shard_stats& stats) {
          self->state.progress().note_stats(j, stats);
          self->request(primary, cut_timeout(self->state), cut_atom_v, std::move(clocks))
            .then([=](shard_state& s) { best_effort_arrived(self, g, j, std::move(s), true); },
                  fallback);
        },
        fallback);
  }
}

} // namespace

void take_cut(self_ptr self, cut_kind kind, then_fn then) {
  auto& st = self->state;
  auto g = std::make_shared<gather>();
  g->kind = kind;
  g->then = then;
  g->started = st.now();
  g->left = st.shards.size();
  g->clocks.resize(st.shards.size());
  if (kind.best_effort) {
    take_best_effort(self, g);
    return;
  }
  for (size_t j = 0; j < st.shards.size(); ++j) {
    self->request(st.shards[j].primary, hold_timeout(st), hold_atom_v)
      .then(
        [=](std::vector<uint64_t>& clocks, const shard_stats& stats) {
          if (g->failed)
            return;
          g->clocks[j] = std::move(clocks);
          self->state.progress().note_stats(j, stats);
          if (--g->left == 0)
            request_cut(self, g);
        },
        [=](caf::error& err) { fail(self, g, err); });
  }
}

} // namespace tether
