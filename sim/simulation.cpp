#include "sim/simulation.hpp"

#include "core/finite.hpp"
#include "core/sampler.hpp"
#include "ps/progress_ledger.hpp"
#include "ps/shard_core.hpp"
#include "ps/work_dispatcher.hpp"
#include "sim/event_queue.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <deque>
#include <map>

namespace tether {

namespace {

using ledger_clock = progress_ledger::clock_type;

/// Virtual seconds as the ledger's time points (its training time is then virtual).
ledger_clock::time_point at(double seconds) {
  return ledger_clock::time_point(
      std::chrono::duration_cast<ledger_clock::duration>(std::chrono::duration<double>(seconds)));
}

struct sim_worker {
  std::vector<float> buf;         ///< the parameters read, then the gradient computed on them
  std::vector<uint64_t> versions; ///< per shard: the version it was answered at
  std::map<uint64_t, batch_ticket> tickets; ///< by clock
  uint64_t clock = 0;                       ///< steps done
  uint32_t outstanding = 0;                 ///< shard answers still on their way
  bool pushed = false;                      ///< the answers awaited are those of a push
  bool granted_all = false;
  bool idle = false; ///< no ticket for its clock yet
  bool done = false;
  double sent_at = 0, blocked = 0;
  float loss = 0;
};

class engine {
public:
  engine(const job_plan& plan, const sim_settings& s, const sim_hooks& hooks);
  result<sim_result> run();

private:
  double message_seconds(size_t shard) const {
    return s_.latency_seconds + static_cast<double>(bytes_[shard]) / s_.bandwidth;
  }
  void handle(const sim_event& e);
  void arrived_all(uint32_t w);
  void step_done(uint32_t w);
  void take_grant(uint32_t w);
  void start_step(uint32_t w);
  void compute(uint32_t w);
  void apply(uint32_t w, uint32_t s);
  void wait_for(uint32_t s, uint32_t w, uint64_t clock);
  void answer_ready(uint32_t s);
  void answer(uint32_t s, uint32_t w, uint64_t clock);
  void finish(uint32_t w);
  progress_point point();
  void fail(std::string why) {
    if (failure_.empty())
      failure_ = std::move(why);
  }

  const job_plan& plan_;
  sim_settings s_;
  const sim_hooks& hooks_;
  step_clock steps_;
  batch_order order_;
  work_dispatcher dispatcher_;
  progress_ledger ledger_;
  std::vector<shard_core> shards_;
  std::vector<size_t> bytes_;      ///< per shard: its slice in bytes
  std::vector<double> shard_free_; ///< per shard: when it finishes what it is applying
  std::vector<std::vector<std::pair<uint32_t, uint64_t>>> waiting_; ///< per shard: (w, clock)
  std::vector<uint64_t> gate_seen_; ///< per shard: min_live_clock at its last full scan
  std::vector<sim_worker> workers_;
  std::vector<uint32_t> idle_;
  event_queue queue_;
  double now_ = 0;
  sim_result out_;
  std::string failure_;
  // scratch, reused
  model_workspace ws_;
  std::vector<float> x_, y_, grad_, spare_;
};

work_dispatcher::settings dispatch_settings(const job_plan& plan) {
  work_dispatcher::settings d;
  d.lockstep = plan.lockstep();
  d.samples = plan.data.train->count;
  d.batch = plan.cfg.batch;
  d.epochs = plan.cfg.epochs;
  d.limit = plan.cfg.steps;
  d.slot_capacity = plan.cfg.workers;
  return d;
}

progress_ledger::settings ledger_settings(const job_plan& plan) {
  progress_ledger::settings l;
  l.model = plan.cfg.consistency.model;
  l.batch = plan.cfg.batch;
  l.updates_per_epoch = plan.updates_per_epoch;
  l.eval_every = plan.cfg.eval_every;
  l.shards = plan.ranges.size();
  return l;
}

engine::engine(const job_plan& plan, const sim_settings& s, const sim_hooks& hooks)
    : plan_(plan), s_(s), hooks_(hooks),
      steps_(s.step, s.base_step_seconds, plan.cfg.workers, plan.cfg.seed),
      order_(plan.data.train->count, plan.cfg.batch, plan.cfg.seed),
      dispatcher_(dispatch_settings(plan)), ledger_(ledger_settings(plan)) {
  const auto& net = *plan.net;
  std::vector<float> init(net.layout().total);
  net.init_params(init, plan.cfg.seed);
  uint32_t n = plan.cfg.workers;
  for (uint32_t j = 0; j < plan.ranges.size(); ++j) {
    const auto& r = plan.ranges[j];
    shards_.emplace_back(j, r, std::vector<float>(init.begin() + r.begin, init.begin() + r.end),
                         plan.optimizer, plan.cfg.consistency, n);
    bytes_.push_back(r.size() * sizeof(float));
  }
  shard_free_.assign(shards_.size(), 0.0);
  waiting_.resize(shards_.size());
  gate_seen_.assign(shards_.size(), 0);
  workers_.resize(n);
  for (uint32_t w = 0; w < n; ++w) {
    workers_[w].buf.assign(init.size(), 0.0f);
    workers_[w].versions.assign(shards_.size(), 0);
    dispatcher_.add_slot(w, 0);
    ledger_.start_slot(w, 0);
  }
  grad_.assign(init.size(), 0.0f);
}

result<sim_result> engine::run() {
  ledger_.start_training(at(0));
  for (uint32_t w = 0; w < workers_.size(); ++w) {
    take_grant(w);
    workers_[w].outstanding = static_cast<uint32_t>(shards_.size());
    for (uint32_t s = 0; s < shards_.size(); ++s)
      queue_.schedule(s_.latency_seconds, sim_event_kind::pull_arrives, w, s);
  }
  while (!queue_.empty() && failure_.empty()) {
    auto e = queue_.pop();
    now_ = e.time;
    ++out_.events;
    handle(e);
  }
  if (!failure_.empty() && !out_.report.diverged)
    return status{errc::internal, "simulation: " + failure_};
  if (failure_.empty() && !idle_.empty())
    return status{errc::internal, "simulation: worker " + std::to_string(idle_.front()) +
                                      " waits for a ticket that never comes"};
  ledger_.end_training(at(now_));
  auto& r = out_.report;
  auto p = point();
  p.final = true;
  if (!r.curve.empty() && r.curve.back().updates == p.updates) {
    r.curve.back() = p; // the last evaluation was of these very parameters
  } else {
    r.curve.push_back(p);
    if (hooks_.on_point)
      hooks_.on_point(p);
  }
  r.final_point = p;
  r.final_train_loss = p.train_loss;
  r.updates = p.updates;
  r.samples = ledger_.samples();
  r.training_seconds = p.training_seconds;
  r.wall_seconds = now_;
  r.staleness_histogram = ledger_.totals().tau_histogram;
  r.blocked_seconds = ledger_.blocked_seconds();
  r.final_params.assign(grad_.size(), 0.0f);
  for (const auto& core : shards_) {
    auto slice = core.slice();
    std::copy(slice.values.begin(), slice.values.end(),
              r.final_params.begin() + core.range().begin);
  }
  if (r.diverged)
    r.failure = failure_;
  out_.virtual_seconds = now_;
  for (const auto& w : workers_)
    out_.idle_workers += w.clock == 0 ? 1 : 0;
  return std::move(out_);
}

void engine::handle(const sim_event& e) {
  switch (e.kind) {
  case sim_event_kind::pull_arrives:
    shards_[e.shard].observe(e.worker, workers_[e.worker].clock);
    wait_for(e.shard, e.worker, workers_[e.worker].clock);
    break;
  case sim_event_kind::compute_done:
    compute(e.worker);
    break;
  case sim_event_kind::push_arrives: {
    // One gradient at a time per shard, in arrival order.
    double start = std::max(now_, shard_free_[e.shard]);
    shard_free_[e.shard] = start + static_cast<double>(bytes_[e.shard]) / s_.apply_rate;
    queue_.schedule(shard_free_[e.shard], sim_event_kind::apply_done, e.worker, e.shard);
    break;
  }
  case sim_event_kind::apply_done:
    apply(e.worker, e.shard);
    break;
  case sim_event_kind::answer_arrives:
    if (--workers_[e.worker].outstanding == 0)
      arrived_all(e.worker);
    break;
  }
}

void engine::arrived_all(uint32_t w) {
  auto& wk = workers_[w];
  wk.blocked += now_ - wk.sent_at;
  if (wk.pushed)
    step_done(w);
  start_step(w);
}

void engine::step_done(uint32_t w) {
  auto& wk = workers_[w];
  wk.tickets.erase(wk.clock);
  ++wk.clock;
  ++out_.steps;
  if (!ledger_.on_step(w, wk.clock, wk.loss, wk.blocked))
    return;
  dispatcher_.complete(w, wk.clock);
  if (ledger_.take_due().evaluate) {
    auto p = point();
    out_.report.curve.push_back(p);
    if (hooks_.on_point)
      hooks_.on_point(p);
  }
  take_grant(w);
  // A worker left without a ticket may get one now that another moved on.
  auto waiting = std::move(idle_);
  idle_.clear();
  for (auto i : waiting)
    if (i != w) {
      take_grant(i);
      workers_[i].idle = false;
      start_step(i);
    }
}

void engine::take_grant(uint32_t w) {
  auto& wk = workers_[w];
  auto g = dispatcher_.grant(w, wk.clock);
  for (size_t k = 0; k < g.tickets.size(); ++k)
    if (g.first_clock + k >= wk.clock)
      wk.tickets[g.first_clock + k] = g.tickets[k];
  wk.granted_all = g.last;
}

void engine::start_step(uint32_t w) {
  auto& wk = workers_[w];
  if (wk.tickets.count(wk.clock) == 0) {
    if (wk.granted_all)
      finish(w);
    else if (!wk.idle) {
      wk.idle = true;
      idle_.push_back(w);
    }
    return;
  }
  queue_.schedule(now_ + steps_.draw(w), sim_event_kind::compute_done, w);
}

void engine::compute(uint32_t w) {
  auto& wk = workers_[w];
  const auto& t = wk.tickets.at(wk.clock);
  if (hooks_.on_step)
    hooks_.on_step(w, wk.clock, t);
  auto idx = order_.indices(t.epoch, t.index);
  gather_batch(*plan_.data.train, idx, x_, y_);
  wk.loss = plan_.net->loss_and_gradient(wk.buf, x_, y_, idx.size(), grad_, ws_);
  if (!std::isfinite(wk.loss) || !all_finite(grad_)) {
    out_.report.diverged = true;
    fail("training diverged at update " + std::to_string(ledger_.updates()) + " (worker " +
         std::to_string(w) + ", step " + std::to_string(wk.clock) +
         "): the loss or gradient is not finite; lower --lr");
    return;
  }
  std::swap(wk.buf, grad_); // buf now holds the gradient; grad_ is scratch again
  wk.pushed = true;
  wk.sent_at = now_;
  wk.outstanding = static_cast<uint32_t>(shards_.size());
  for (uint32_t s = 0; s < shards_.size(); ++s)
    queue_.schedule(now_ + message_seconds(s), sim_event_kind::push_arrives, w, s);
}

void engine::apply(uint32_t w, uint32_t s) {
  auto& wk = workers_[w];
  auto r = shards_[s].range();
  auto taken = shards_[s].push(w, wk.clock, wk.versions[s], r.begin,
                               std::span<const float>(wk.buf).subspan(r.begin, r.size()));
  if (!taken) {
    fail("shard " + std::to_string(s) + " refused worker " + std::to_string(w) +
         "'s push of clock " + std::to_string(wk.clock) + ": " + taken.error().message());
    return;
  }
  wait_for(s, w, wk.clock + 1);
}

void engine::wait_for(uint32_t s, uint32_t w, uint64_t clock) {
  auto& core = shards_[s];
  // The gate of every consistency model depends on the clock asked for and the slowest
  // live clock only (ps/shard_core.hpp): while that has not moved, only the new request
  // can have become answerable.
  if (core.min_live_clock() != gate_seen_[s]) {
    waiting_[s].emplace_back(w, clock);
    answer_ready(s);
  } else if (core.may_answer(w, clock)) {
    answer(s, w, clock);
  } else {
    waiting_[s].emplace_back(w, clock);
  }
}

void engine::answer_ready(uint32_t s) {
  auto& core = shards_[s];
  gate_seen_[s] = core.min_live_clock();
  auto& list = waiting_[s];
  for (size_t i = 0; i < list.size();) {
    auto [w, clock] = list[i];
    if (core.may_answer(w, clock)) {
      list[i] = list.back();
      list.pop_back();
      answer(s, w, clock);
    } else {
      ++i;
    }
  }
}

void engine::answer(uint32_t s, uint32_t w, uint64_t clock) {
  auto slice = shards_[s].answer(w, clock, std::move(spare_));
  auto& wk = workers_[w];
  std::copy(slice.values.begin(), slice.values.end(), wk.buf.begin() + slice.range_begin);
  wk.versions[s] = slice.version;
  spare_ = std::move(slice.values);
  queue_.schedule(now_ + message_seconds(s), sim_event_kind::answer_arrives, w, s);
}

void engine::finish(uint32_t w) {
  auto& wk = workers_[w];
  wk.done = true;
  dispatcher_.finish(w);
  ledger_.mark_done(w);
  // A finished worker holds nobody back (the supervisor tells every shard).
  for (uint32_t s = 0; s < shards_.size(); ++s) {
    shards_[s].leave(w);
    answer_ready(s);
  }
}

progress_point engine::point() {
  for (size_t s = 0; s < shards_.size(); ++s)
    ledger_.note_stats(s, shards_[s].stats());
  progress_point p;
  p.wall_seconds = now_;
  p.training_seconds = ledger_.training_seconds(at(now_));
  p.updates = ledger_.updates();
  p.epoch = static_cast<double>(p.updates) / std::max<uint64_t>(1, plan_.updates_per_epoch);
  p.train_loss = ledger_.mean_loss();
  p.samples_per_sec = ledger_.samples_per_second(at(now_));
  auto stats = ledger_.totals();
  p.mean_staleness = stats.applied ? stats.tau_sum / static_cast<double>(stats.applied) : 0.0;
  p.max_staleness = stats.tau_max;
  p.max_clock_gap = stats.max_clock_gap;
  p.blocked_seconds = ledger_.blocked_seconds();
  p.clock_lag = ledger_.clock_lag();
  out_.report.clock_lag_max = std::max(out_.report.clock_lag_max, p.clock_lag);
  if (plan_.data.test) {
    std::vector<float> params(grad_.size());
    for (const auto& core : shards_) {
      auto slice = core.slice();
      std::copy(slice.values.begin(), slice.values.end(), params.begin() + core.range().begin);
    }
    const auto& t = *plan_.data.test;
    auto ev = plan_.net->evaluate(params, t.x, t.y, t.count, ws_);
    p.test_loss = ev.loss;
    p.test_accuracy = ev.accuracy;
    p.test_mse = ev.mse;
  }
  return p;
}

} // namespace

result<sim_result> simulate(const job_plan& plan, const sim_settings& settings,
                            const sim_hooks& hooks) {
  if (!(settings.base_step_seconds > 0) || !(settings.bandwidth > 0) ||
      !(settings.apply_rate > 0) || !(settings.latency_seconds >= 0))
    return status{errc::invalid_argument,
                  "simulation: base step time, bandwidth and apply rate must be > 0, latency >= 0"};
  engine e(plan, settings, hooks);
  return e.run();
}

} // namespace tether
