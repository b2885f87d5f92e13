#include "actors/worker.hpp"

#include <algorithm>
#include <cstring>

namespace tether {

namespace {

using self_ptr = caf::stateful_actor<worker_state>*;

void pull_all(self_ptr self);
void step(self_ptr self);
void send_pushes(self_ptr self);

void finish(self_ptr self) {
  auto& st = self->state;
  self->send(st.args.supervisor, done_atom_v, st.args.id, st.clock);
  self->quit();
}

/// A shard did not answer: wait a little, then ask the supervisor for the current
/// shard handles (it restarts failed shards) and start the step again from a pull.
void recover(self_ptr self, const caf::error&) {
  auto& st = self->state;
  if (st.recovering)
    return;
  st.recovering = true;
  ++st.round;
  self->delayed_send(self, std::chrono::milliseconds(100), retry_atom_v);
}

/// Copies a shard's slice into the full vector and keeps its memory for the next push.
void store_slice(worker_state& st, size_t s, param_slice& p) {
  const auto& r = st.args.ranges[s];
  std::copy_n(p.values.begin(), std::min(p.values.size(), r.size()), st.params.begin() + r.begin);
  st.versions[s] = p.version;
  st.spare[s] = std::move(p.values);
}

/// Takes one shard's answer of the current round trip; true when it was the last one
/// (the time since the requests went out is then counted as blocked).
bool slice_arrived(self_ptr self, uint64_t round, size_t s, param_slice& p) {
  auto& st = self->state;
  if (round != st.round)
    return false;
  store_slice(st, s, p);
  if (--st.outstanding != 0)
    return false;
  st.blocked_seconds
    += std::chrono::duration<double>(std::chrono::steady_clock::now() - st.sent_at).count();
  return true;
}

void pull_all(self_ptr self) {
  auto& st = self->state;
  st.outstanding = st.args.shards.size();
  st.sent_at = std::chrono::steady_clock::now();
  auto round = st.round;
  for (size_t s = 0; s < st.args.shards.size(); ++s) {
    self->request(st.args.shards[s], st.args.request_timeout, pull_atom_v,
                  pull_request{st.args.id, st.clock})
      .then(
        [=](param_slice& p) {
          if (slice_arrived(self, round, s, p))
            step(self);
        },
        [=](caf::error& err) {
          if (round == self->state.round)
            recover(self, err);
        });
  }
}

/// Sends each shard its slice of the gradient in hand; the answers start the next step.
void send_pushes(self_ptr self) {
  auto& st = self->state;
  const auto& a = st.args;
  st.outstanding = a.shards.size();
  st.sent_at = std::chrono::steady_clock::now();
  auto round = st.round;
  for (size_t s = 0; s < a.shards.size(); ++s) {
    const auto& r = a.ranges[s];
    auto& slice = st.spare[s];
    slice.assign(st.grad.begin() + r.begin, st.grad.begin() + r.end);
    push_request push{a.id, st.clock, st.versions[s], r.begin, std::move(slice)};
    self->request(a.shards[s], a.request_timeout, push_atom_v, std::move(push))
      .then(
        [=](param_slice& p) {
          if (slice_arrived(self, round, s, p)) {
            auto& st = self->state;
            ++st.clock;
            self->send(st.args.supervisor, progress_atom_v, st.args.id, st.clock, st.last_loss,
                       st.blocked_seconds, st.last_compute_seconds);
            step(self);
          }
        },
        [=](caf::error& err) {
          if (round == self->state.round)
            recover(self, err);
        });
  }
}

void step(self_ptr self) {
  auto& st = self->state;
  if (st.stopping || st.clock >= st.args.total_steps) {
    finish(self);
    return;
  }
  const auto& a = st.args;
  auto started = std::chrono::steady_clock::now();
  auto spe = st.sampler->steps_per_epoch();
  auto idx = st.sampler->batch_indices(st.clock / spe, a.id, st.clock % spe);
  gather_batch(*a.train, idx, st.x, st.y);
  st.last_loss = a.net->loss_and_gradient(st.params, st.x, st.y, idx.size(), st.grad, st.ws);
  auto compute = std::chrono::steady_clock::now() - started;
  st.last_compute_seconds = std::chrono::duration<double>(compute).count();
  double extra = a.straggler_factor - 1;
  if (a.step_jitter > 0)
    extra += a.step_jitter * st.jitter.uniform();
  auto wait = std::chrono::duration_cast<std::chrono::microseconds>(compute * extra);
  if (wait.count() > 0)
    self->delayed_send(self, wait, wake_atom_v, st.round);
  else
    send_pushes(self);
}

} // namespace

caf::behavior worker_behavior(self_ptr self, worker_args args) {
  auto& st = self->state;
  st.sampler.emplace(args.train->count, args.workers, args.batch, args.seed);
  st.clock = args.start_clock;
  st.params.assign(args.net->layout().total, 0.0f);
  st.grad.assign(args.net->layout().total, 0.0f);
  st.versions.assign(args.shards.size(), 0);
  st.spare.resize(args.shards.size());
  st.jitter = splitmix64{args.seed * 0x9E3779B97F4A7C15ull + args.id + 1};
  st.args = std::move(args);
  return {
    [=](start_atom) { pull_all(self); },
    [=](wake_atom, uint64_t round) {
      // The straggler's wait is over: push, unless a recovery started meanwhile.
      if (round == self->state.round)
        send_pushes(self);
    },
    [=](stop_atom) { self->state.stopping = true; },
    [=](shards_atom, const std::vector<shard_actor>& shards) {
      // The supervisor replaced a failed shard: start this step again from a pull.
      auto& st = self->state;
      st.args.shards = shards;
      ++st.round;
      st.recovering = false;
      pull_all(self);
    },
    [=](retry_atom) {
      auto& st = self->state;
      self->request(st.args.supervisor, st.args.request_timeout, shards_atom_v)
        .then(
          [=](const std::vector<shard_actor>& shards) {
            auto& st = self->state;
            st.args.shards = shards;
            st.recovering = false;
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
