#include "actors/worker.hpp"

#include "core/finite.hpp"
#include "core/optimizer.hpp"

#include <algorithm>
#include <cmath>

namespace tether {

namespace {

using self_ptr = worker_pointer;

void pull_all(self_ptr self);
void step(self_ptr self);

void finish(self_ptr self) {
  auto& st = self->state;
  self->send(st.spec.supervisor, done_atom_v, st.spec.slot, st.clock);
  self->quit();
}

/// A shard did not answer (or refused): wait a little, then ask the supervisor for the
/// current shard handles (it replaces failed shards) and start the step again from a pull.
void recover(self_ptr self) {
  auto& st = self->state;
  if (st.recovering)
    return;
  st.recovering = true;
  ++st.round;
  self->delayed_send(self, std::chrono::milliseconds(100), retry_atom_v);
}

/// Takes one shard's answer of round trip `round`; true when it was the last one (the
/// time since the requests went out is then counted as blocked).
bool slice_arrived(self_ptr self, uint64_t round, size_t s, param_slice& p) {
  auto& st = self->state;
  if (round != st.round)
    return false;
  const auto& r = st.plan->ranges[s];
  std::copy_n(p.values.begin(), std::min(p.values.size(), r.size()), st.params.begin() + r.begin);
  st.versions[s] = p.version;
  st.spare[s] = std::move(p.values);
  if (--st.outstanding != 0)
    return false;
  st.blocked_seconds
    += std::chrono::duration<double>(std::chrono::steady_clock::now() - st.sent_at).count();
  return true;
}

/// Callbacks for shard s's answer in the current round trip; the last answer calls `then`.
slice_callbacks callbacks(self_ptr self, size_t s, void (*then)(self_ptr)) {
  auto round = self->state.round;
  return {[=](param_slice& p) {
            if (slice_arrived(self, round, s, p))
              then(self);
          },
          [=](const caf::error&) {
            if (round == self->state.round)
              recover(self);
          }};
}

void pull_all(self_ptr self) {
  auto& st = self->state;
  st.outstanding = st.spec.shards.size();
  st.sent_at = std::chrono::steady_clock::now();
  for (size_t s = 0; s < st.spec.shards.size(); ++s)
    st.link->pull(s, pull_request{st.spec.slot, st.clock}, callbacks(self, s, step));
}

/// All shards answered the pushes of this step: the step is done.
void step_done(self_ptr self) {
  auto& st = self->state;
  st.tickets.erase(st.clock);
  ++st.clock;
  self->send(st.spec.supervisor, progress_atom_v,
             step_report{st.spec.slot, st.clock, st.last_loss, st.blocked_seconds,
                         st.last_compute_seconds});
  step(self);
}

/// Sends each shard its slice of the gradient in hand; the answers start the next step.
void send_pushes(self_ptr self) {
  auto& st = self->state;
  st.outstanding = st.spec.shards.size();
  st.sent_at = std::chrono::steady_clock::now();
  for (size_t s = 0; s < st.spec.shards.size(); ++s) {
    const auto& r = st.plan->ranges[s];
    auto& slice = st.spare[s];
    slice.assign(st.grad.begin() + r.begin, st.grad.begin() + r.end);
    st.link->push(s, push_request{st.spec.slot, st.clock, st.versions[s], r.begin, std::move(slice)},
                  callbacks(self, s, step_done));
  }
}

/// The parameters for the current clock are in hand: compute and push, or wait for a
/// grant, or end.
void step(self_ptr self) {
  auto& st = self->state;
  auto ticket = st.tickets.find(st.clock);
  if (st.stopping || (ticket == st.tickets.end() && st.granted_all)) {
    finish(self);
    return;
  }
  if (ticket == st.tickets.end()) {
    st.idle = true; // the grant for this clock is on its way
    return;
  }
  st.idle = false;
  auto started = std::chrono::steady_clock::now();
  auto idx = st.order->indices(ticket->second.epoch, ticket->second.index);
  auto loss = st.backend->step(st.params, idx, st.grad);
  if (!loss) {
    self->quit(caf::make_error(caf::sec::runtime_error,
                               "worker " + std::to_string(st.spec.slot) + " on "
                                 + st.backend->name() + ": " + loss.error().message()));
    return;
  }
  if (!std::isfinite(*loss) || !all_finite(st.grad)) {
    self->send(st.spec.supervisor, diverged_atom_v, st.spec.slot, st.clock,
               std::string{std::isfinite(*loss) ? "the gradient is not finite"
                           : std::isnan(*loss)      ? "the loss is not a number (NaN)"
                                                    : "the loss is infinite"});
    self->quit();
    return;
  }
  if (st.plan->cfg.clip > 0) // over the whole gradient, before it is split into slices
    clip_by_global_norm(st.grad, st.plan->cfg.clip);
  st.last_loss = *loss;
  auto compute = std::chrono::steady_clock::now() - started;
  st.last_compute_seconds = std::chrono::duration<double>(compute).count();
  double extra = st.straggler_factor - 1;
  if (st.plan->cfg.step_jitter > 0)
    extra += st.plan->cfg.step_jitter * st.jitter.uniform();
  auto wait = std::chrono::duration_cast<std::chrono::microseconds>(compute * extra);
  if (wait.count() > 0)
    self->delayed_send(self, wait, wake_atom_v, st.round);
  else
    send_pushes(self);
}

/// Everything this slot's worker takes from the plan, once.
void configure(worker_state& st) {
  const auto& cfg = st.plan->cfg;
  auto slot = st.spec.slot;
  st.request_timeout = std::chrono::milliseconds(
    static_cast<int64_t>(cfg.request_timeout_seconds * 1000));
  for (const auto& s : cfg.stragglers)
    if (s.worker == slot)
      st.straggler_factor = s.factor;
  for (const auto& [worker, factor] : cfg.fault.stragglers)
    if (worker == slot)
      st.straggler_factor = factor;
  st.jitter = splitmix64{cfg.seed * 0x9E3779B97F4A7C15ull + slot + 1};
  st.order.emplace(st.plan->train_count(), cfg.batch, cfg.seed);
  auto total = st.plan->layout().total;
  st.params.assign(total, 0.0f);
  st.grad.assign(total, 0.0f);
  st.versions.assign(st.spec.shards.size(), 0);
  st.spare.resize(st.spec.shards.size());
  st.clock = st.spec.start_clock;
}

void take_grant(worker_state& st, const work_grant& g) {
  for (size_t k = 0; k < g.tickets.size(); ++k)
    if (g.first_clock + k >= st.clock)
      st.tickets[g.first_clock + k] = g.tickets[k];
  st.granted_all = g.last;
}

} // namespace

bool worker_on_gpu(const job_plan& plan, uint32_t slot) {
  return slot < plan.cfg.gpus.size();
}

worker_actor::behavior_type worker_behavior(self_ptr self, worker_spec spec,
                                            std::shared_ptr<const job_plan> plan) {
  auto& st = self->state;
  st.spec = std::move(spec);
  st.plan = std::move(plan);
  configure(st);
  take_grant(st, st.spec.work);
  const auto& cfg = st.plan->cfg;
  auto slot = st.spec.slot;
  if (st.plan->gpt) {
    st.backend = make_gpt_backend(st.plan->gpt, st.plan->data.text);
  } else if (!worker_on_gpu(*st.plan, slot)) {
    st.backend = make_cpu_backend(st.plan->net, st.plan->data.train);
  } else {
    auto gpu = make_gpu_backend(cfg.gpus[slot], cfg.gpu_math, st.plan->net, st.plan->data.train,
                                cfg.batch);
    if (gpu)
      st.backend = std::move(*gpu);
    else // the actor ends at once; the behavior below never runs
      self->quit(caf::make_error(caf::sec::runtime_error,
                                 "worker " + std::to_string(slot) + ": " + gpu.error().message()));
  }
  link_context ctx;
  ctx.self = self;
  ctx.shards = &st.spec.shards;
  ctx.timeout = st.request_timeout;
  ctx.later = [self](std::chrono::microseconds delay, uint64_t token) {
    self->delayed_send(self, delay, resend_atom_v, token);
  };
  if (cfg.fault.push.any() || cfg.fault.pull.any())
    st.link = make_faulty_link(ctx, cfg.fault.push, cfg.fault.pull,
                               splitmix64{cfg.fault.seed * 0xD1B54A32D192ED03ull + slot + 1});
  else
    st.link = make_direct_link(ctx);
  return {
    [=](start_atom) { pull_all(self); },
    [=](grant_atom, const work_grant& g) {
      auto& st = self->state;
      take_grant(st, g);
      if (st.idle)
        step(self);
    },
    [=](wake_atom, uint64_t round) {
      // The straggler's wait is over: push, unless a recovery started meanwhile.
      if (round == self->state.round)
        send_pushes(self);
    },
    [=](stop_atom) {
      auto& st = self->state;
      st.stopping = true;
      if (st.idle)
        finish(self);
    },
    [=](resend_atom, uint64_t token) { self->state.link->fire(token); },
    [=](lost_atom, uint64_t round) {
      if (round == self->state.round)
        recover(self);
    },
    [=](shards_atom, const std::vector<shard_actor>& shards) {
      // The supervisor replaced a failed shard: start this step again from a pull.
      auto& st = self->state;
      st.spec.shards = shards;
      ++st.round;
      st.recovering = false;
      st.idle = false;
      pull_all(self);
    },
    [=](retry_atom) {
      // A `shards` message from the supervisor may have restarted the step meanwhile:
      // then there is nothing to recover (a second pull_all in the same round would count
      // its answers into that step's and end it early, without every push answered).
      auto& st = self->state;
      if (!st.recovering)
        return;
      self->request(st.spec.supervisor, st.request_timeout, shards_atom_v)
        .then(
          [=](const std::vector<shard_actor>& shards) {
            auto& st = self->state;
            if (!st.recovering)
              return;
            st.spec.shards = shards;
            st.recovering = false;
            ++st.round;
            if (st.stopping)
              finish(self);
            else
              pull_all(self);
          },
          [=](caf::error&) {
            // The supervisor is gone or busy: try again later.
            self->delayed_send(self, std::chrono::milliseconds(500), retry_atom_v);
          });
    },
  };
}

} // namespace tether
