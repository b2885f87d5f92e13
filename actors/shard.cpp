#include "actors/shard.hpp"

namespace tether {

namespace {

using self_ptr = shard_actor::stateful_pointer<shard_actor_state>;

caf::error to_error(const status& st) {
  return caf::make_error(caf::sec::invalid_argument, st.message());
}

bool cut_reached(const shard_actor_state& st) {
  const auto& have = st.core->applied_clocks();
  for (size_t w = 0; w < st.cut->target.size() && w < have.size(); ++w)
    if (have[w] < st.cut->target[w])
      return false;
  return true;
}

/// While a cut is pending, applies the queued pushes it needs (in arrival order) and
/// answers the cut once every target clock is reached.
void advance_cut(self_ptr self) {
  auto& st = self->state;
  if (!st.cut)
    return;
  for (auto i = st.queue.begin(); i != st.queue.end();) {
    auto w = i->push.worker;
    if (w < st.cut->target.size() && i->push.clock < st.cut->target[w]) {
      auto applied = st.core->apply(i->push);
      if (applied)
        i->reply.deliver(st.core->slice());
      else
        i->reply.deliver(to_error(applied.error()));
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
    [=](pull_atom, const pull_request&) -> caf::result<param_slice> {
      return self->state.core->slice();
    },
    [=](push_atom, push_request& push) -> caf::result<param_slice> {
      auto& st = self->state;
      if (st.held) {
        auto rp = self->make_response_promise<param_slice>();
        st.queue.push_back({std::move(push), rp});
        advance_cut(self);
        return rp;
      }
      auto applied = st.core->apply(push);
      if (!applied)
        return to_error(applied.error());
      return st.core->slice_into(std::move(push.grad));
    },
    [=](hold_atom) -> caf::result<std::vector<uint64_t>, uint64_t, double, uint64_t> {
      auto& st = self->state;
      st.held = true;
      const auto& s = st.core->stats();
      return {st.core->applied_clocks(), s.applied, s.tau_sum, s.tau_max};
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
        auto& q = st.queue.front();
        auto applied = st.core->apply(q.push);
        if (applied)
          q.reply.deliver(st.core->slice());
        else
          q.reply.deliver(to_error(applied.error()));
        st.queue.pop_front();
      }
    },
  };
}

} // namespace tether
