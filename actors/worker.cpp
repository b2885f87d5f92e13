#include "actors/worker.hpp"

#include "actors/message_faults.hpp"

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

/// A message of this round trip was lost (a drop fault): after --request-timeout the
/// worker starts the step again, as it would for a shard that never answered.
void lose(self_ptr self, uint64_t round) {
  self->delayed_send(self, self->state.args.request_timeout, lost_atom_v, round);
}

/// Asks shard s (a pull or a push, `msg`); `count`: its answer counts for this round trip
/// (false for the second copy of a duplicate and for an answer a fault drops), and the
/// last one counted calls `then` (the step after a pull, step_done after the pushes).
template <class... Ts>
void ask_shard(self_ptr self, uint64_t round, size_t s, bool count, void (*then)(self_ptr),
               Ts&&... msg) {
  auto& st = self->state;
  self->request(st.args.shards[s], st.args.request_timeout, std::forward<Ts>(msg)...)
    .then(
      [=](param_slice& p) {
        if (count && slice_arrived(self, round, s, p))
          then(self);
      },
      [=](caf::error& err) {
        if (count && round == self->state.round)
          recover(self, err);
      });
}

void send_pull(self_ptr self, uint64_t round, size_t s, bool count) {
  ask_shard(self, round, s, count, step, pull_atom_v,
            pull_request{self->state.args.id, self->state.clock});
}

/// How long a delay fault holds a message.
std::chrono::milliseconds delay_of(const message_faults& faults) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
    std::chrono::duration<double>(faults.delay_seconds));
}

void pull_all(self_ptr self) {
  auto& st = self->state;
  st.outstanding = st.args.shards.size();
  st.sent_at = std::chrono::steady_clock::now();
  auto round = st.round;
  for (size_t s = 0; s < st.args.shards.size(); ++s) {
    switch (draw_fate(st.fault_draws, st.args.pull_faults)) {
      case message_fate::drop_request:
      case message_fate::flip: // a pull has nothing to flip but its worker and clock: drop it
        lose(self, round);
        break;
      case message_fate::drop_answer:
        send_pull(self, round, s, false);
        lose(self, round);
        break;
      case message_fate::duplicate:
        send_pull(self, round, s, true);
        send_pull(self, round, s, false);
        break;
      case message_fate::delay:
        self->delayed_send(self, delay_of(st.args.pull_faults), resend_atom_v, round,
                           static_cast<uint32_t>(s), false);
        break;
      case message_fate::deliver:
        send_pull(self, round, s, true);
        break;
    }
  }
}

/// All shards answered the pushes of this step: the step is done.
void step_done(self_ptr self) {
  auto& st = self->state;
  ++st.clock;
  self->send(st.args.supervisor, progress_atom_v, st.args.id, st.clock, st.last_loss,
             st.blocked_seconds, st.last_compute_seconds);
  step(self);
}

/// Sends shard s its push (see ask_shard for `count`).
void send_push(self_ptr self, uint64_t round, size_t s, push_request push, bool count) {
  ask_shard(self, round, s, count, step_done, push_atom_v, std::move(push));
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
    switch (draw_fate(st.fault_draws, a.push_faults)) {
      case message_fate::deliver:
        send_push(self, round, s, std::move(push), true);
        break;
      case message_fate::drop_request:
        lose(self, round);
        break;
      case message_fate::drop_answer:
        send_push(self, round, s, std::move(push), false);
        lose(self, round);
        break;
      case message_fate::duplicate:
        send_push(self, round, s, push, true);
        send_push(self, round, s, std::move(push), false);
        break;
      case message_fate::delay:
        st.delayed[s] = std::move(push);
        self->delayed_send(self, delay_of(a.push_faults), resend_atom_v, round,
                           static_cast<uint32_t>(s), true);
        break;
      case message_fate::flip:
        if (auto bent = flipped(st.fault_draws, push, decode_push))
          send_push(self, round, s, std::move(*bent), true);
        else
          lose(self, round); // the receiver could not decode it
        break;
    }
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
  auto loss = st.backend->step(st.params, idx, st.grad);
  if (!loss) {
    self->quit(caf::make_error(caf::sec::runtime_error,
                               "worker " + std::to_string(a.id) + " on " + st.backend->name()
                                 + ": " + loss.error().message()));
    return;
  }
  st.last_loss = *loss;
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
  st.delayed.resize(args.shards.size());
  st.fault_draws = splitmix64{args.fault_seed * 0xD1B54A32D192ED03ull + args.id + 1};
  st.jitter = splitmix64{args.seed * 0x9E3779B97F4A7C15ull + args.id + 1};
  if (args.gpu < 0) {
    st.backend = make_cpu_backend(args.net, args.train);
  } else {
    auto gpu = make_gpu_backend(args.gpu, args.gpu_math, args.net, args.train, args.batch);
    if (!gpu) {
      self->quit(caf::make_error(caf::sec::runtime_error, "worker " + std::to_string(args.id)
                                                             + ": " + gpu.error().message()));
      return {};
    }
    st.backend = std::move(*gpu);
  }
  st.args = std::move(args);
  return {
    [=](start_atom) { pull_all(self); },
    [=](wake_atom, uint64_t round) {
      // The straggler's wait is over: push, unless a recovery started meanwhile.
      if (round == self->state.round)
        send_pushes(self);
    },
    [=](stop_atom) { self->state.stopping = true; },
    [=](lost_atom, uint64_t round) {
      if (round == self->state.round)
        recover(self, caf::make_error(caf::sec::request_timeout, "a message was dropped"));
    },
    [=](resend_atom, uint64_t round, uint32_t s, bool push) {
      auto& st = self->state;
      if (round != st.round || s >= st.args.shards.size())
        return;
      if (push)
        send_push(self, round, s, std::move(st.delayed[s]), true);
      else
        send_pull(self, round, s, true);
    },
    [=](shards_atom, const std::vector<shard_actor>& shards) {
      // The supervisor replaced a failed shard: start this step again from a pull.
      auto& st = self->state;
      st.args.shards = shards;
      ++st.round;
      st.recovering = false;
      pull_all(self);
    },
    [=](retry_atom) {
      // A `shards` message from the supervisor may have restarted the step meanwhile:
      // then there is nothing to recover (a second pull_all in the same round would count
      // its answers into that step's and end it early, without every push answered).
      auto& st = self->state;
      if (!st.recovering)
        return;
      self->request(st.args.supervisor, st.args.request_timeout, shards_atom_v)
        .then(
          [=](const std::vector<shard_actor>& shards) {
            auto& st = self->state;
            if (!st.recovering)
              return;
            st.args.shards = shards;
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
