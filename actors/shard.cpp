#include "actors/shard.hpp"

namespace tether {

namespace {

using self_ptr = shard_actor::stateful_pointer<shard_actor_state>;
using reply_promise = shard_actor_state::reply_promise;

caf::error to_error(const status& st) {
  return caf::make_error(caf::sec::invalid_argument, st.message());
}

/// Answers every waiting worker the consistency model now allows.
void answer_ready(self_ptr self) {
  auto& st = self->state;
  for (size_t i = 0; i < st.waiting.size();) {
    auto& w = st.waiting[i];
    if (st.core->may_answer(w.worker, w.clock)) {
      w.reply.deliver(st.core->answer(w.worker, w.clock, std::move(w.buffer)));
      st.waiting[i] = std::move(st.waiting.back());
      st.waiting.pop_back();
    } else {
      ++i;
    }
  }
}

/// Takes one push: applies it (or adds it to the BSP round), then the worker waits for
/// the parameters of its next clock.
void take_push(self_ptr self, push_request& push, reply_promise reply) {
  auto& st = self->state;
  auto taken = st.core->push(push);
  if (!taken) {
    reply.deliver(to_error(taken.error()));
    return;
  }
  st.waiting.push_back({push.worker, push.clock + 1, std::move(push.grad), std::move(reply)});
  answer_ready(self);
}

bool cut_reached(const shard_actor_state& st) {
  const auto& have = st.core->applied_clocks();
  for (size_t w = 0; w < st.cut->target.size() && w < have.size(); ++w)
    if (have[w] < st.cut->target[w])
      return false;
  return true;
}

/// While a cut is pending, takes the queued pushes it needs (in arrival order) and
/// answers the cut once every target clock is reached.
void advance_cut(self_ptr self) {
  auto& st = self->state;
  if (!st.cut)
    return;
  for (auto i = st.queue.begin(); i != st.queue.end();) {
    auto w = i->push.worker;
    if (w < st.cut->target.size() && i->push.clock < st.cut->target[w]) {
      take_push(self, i->push, std::move(i->reply));
      i = st.queue.erase(i);
    } else {
      ++i;
    }
  }
  if (cut_reached(st)) {
    st.cut->reply.deliver(st.core->snapshot());
    st.cut.reset();
  }
}

} // namespace

shard_actor::behavior_type shard_behavior(self_ptr self, shard_core core) {
  self->state.core.emplace(std::move(core));
  return {
    [=](pull_atom, const pull_request& pull) -> caf::result<param_slice> {
      auto rp = self->make_response_promise<param_slice>();
      self->state.waiting.push_back({pull.worker, pull.clock, {}, rp});
      answer_ready(self);
      return rp;
    },
    [=](push_atom, push_request& push) -> caf::result<param_slice> {
      auto& st = self->state;
      auto rp = self->make_response_promise<param_slice>();
      if (st.held) {
        st.queue.push_back({std::move(push), rp});
        advance_cut(self);
      } else {
        take_push(self, push, rp);
      }
      return rp;
    },
    [=](hold_atom) -> caf::result<std::vector<uint64_t>, shard_stats> {
      auto& st = self->state;
      st.held = true;
      return {st.core->applied_clocks(), st.core->stats()};
    },
    [=](cut_atom, std::vector<uint64_t> target) -> caf::result<shard_state> {
      auto& st = self->state;
      if (st.cut)
        return caf::make_error(caf::sec::runtime_error, "a cut is already pending");
      auto rp = self->make_response_promise<shard_state>();
      st.held = true;
      st.cut = shard_actor_state::pending_cut{std::move(target), rp};
      advance_cut(self);
      return rp;
    },
    [=](release_atom) {
      auto& st = self->state;
      st.held = false;
      if (st.cut) {
        st.cut->reply.deliver(caf::make_error(caf::sec::runtime_error, "cut released early"));
        st.cut.reset();
      }
      while (!st.queue.empty()) {
        auto q = std::move(st.queue.front());
        st.queue.pop_front();
        take_push(self, q.push, std::move(q.reply));
      }
    },
    [=](stats_atom) -> caf::result<uint64_t, shard_stats> {
      return {self->state.core->version(), self->state.core->stats()};
    },
    [=](leave_atom, uint32_t worker) {
      self->state.core->leave(worker);
      answer_ready(self);
    },
    [=](join_atom, uint32_t worker, uint64_t clock) {
      self->state.core->join(worker, clock);
      answer_ready(self);
    },
  };
}

} // namespace tether
