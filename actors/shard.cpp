#include "actors/shard.hpp"

#include <algorithm>

namespace tether {

uint64_t shard_actor_state::acknowledged() const {
  uint64_t low = changes;
  for (const auto& l : standbys)
    low = std::min(low, l.acknowledged);
  return low;
}

result<shard_core> shard_core_for(const job_plan& plan, shard_spec spec) {
  auto core = shard_core::restore(std::move(spec.state), plan.optimizer, plan.cfg.consistency,
                                  plan.slot_capacity());
  if (!core)
    return core;
  for (uint32_t w = 0; w < plan.slot_capacity(); ++w) {
    if (w < spec.live_clocks.size() && spec.live_clocks[w] != shard_spec::not_live)
      core->join(w, spec.live_clocks[w]);
    else
      core->leave(w);
  }
  return core;
}

namespace {

using self_ptr = shard_actor::stateful_pointer<shard_actor_state>;
using reply_promise = shard_actor_state::reply_promise;

caf::error to_error(const status& st) {
  return caf::make_error(caf::sec::invalid_argument, st.message());
}

/// Answers every waiting worker the consistency model allows and whose answer's changes
/// the standby has.
void answer_ready(self_ptr self) {
  auto& st = self->state;
  for (size_t i = 0; i < st.waiting.size();) {
    auto& w = st.waiting[i];
    // A worker that joined since (the job grew) may have lowered the slowest live clock:
    // an answer allowed before but not sent yet waits again, so the bound holds when sent.
    if (w.allowed && !st.core->may_answer(w.worker, w.clock))
      w.allowed = false;
    if (!w.allowed && st.core->may_answer(w.worker, w.clock)) {
      w.allowed = true;
      w.needs = st.changes;
    }
    if (w.allowed && st.acknowledged() >= w.needs) {
      w.reply.deliver(st.core->answer(w.worker, w.clock, std::move(w.buffer)));
      st.waiting[i] = std::move(st.waiting.back());
      st.waiting.pop_back();
    } else {
      ++i;
    }
  }
}

/// As a standby: applies the changes received and acknowledged but not applied yet, in
/// order. Every handler calls it first, so a standby made primary serves nothing before
/// its backlog is in.
void catch_up(self_ptr self) {
  auto& st = self->state;
  while (!st.backlog.empty()) {
    auto change = std::move(st.backlog.front());
    st.backlog.pop_front();
    if (auto* push = std::get_if<push_request>(&change)) {
      (void) st.core->push(*push); // checked by the primary, which took it
    } else {
      auto& m = std::get<shard_actor_state::membership>(change);
      if (m.live)
        st.core->join(m.worker, m.clock);
      else
        st.core->leave(m.worker);
    }
  }
}

/// As a standby: keeps one change for catch_up, which a message to itself triggers after
/// the acknowledgement has left. Answers the number of changes kept so far.
uint64_t keep(self_ptr self, shard_actor_state::change change) {
  auto& st = self->state;
  if (st.backlog.empty())
    self->send(self, tick_atom_v);
  st.backlog.push_back(std::move(change));
  return ++st.kept;
}

/// A standby did not acknowledge: end it (the supervisor makes a new one) and answer
/// without it meanwhile.
void drop_standby(self_ptr self, const caf::actor& standby, const caf::error& why) {
  auto& st = self->state;
  auto it = std::find_if(st.standbys.begin(), st.standbys.end(),
                         [&](const auto& l) { return l.actor == standby; });
  if (it == st.standbys.end())
    return;
  self->send_exit(standby, caf::make_error(caf::sec::request_timeout,
                                           "standby dropped: " + to_string(why)));
  st.standbys.erase(it);
  answer_ready(self);
}

/// Sends one standby one message (an image or a change) that brings it to `seq` changes;
/// its acknowledgement may release answers. A failure gives that standby up.
template <class... Ts>
void send_to_standby(self_ptr self, const caf::actor& standby, uint64_t seq, Ts&&... msg) {
  self->request(standby, standby_timeout, std::forward<Ts>(msg)...)
    .then(
      [=](uint64_t) {
        auto& st = self->state;
        for (auto& l : st.standbys)
          if (l.actor == standby)
            l.acknowledged = std::max(l.acknowledged, seq);
        answer_ready(self);
      },
      [=](caf::error& err) { drop_standby(self, standby, err); });
}

/// One change of state, sent to every standby in order.
template <class... Ts>
void replicate(self_ptr self, const Ts&... change) {
  auto& st = self->state;
  ++st.changes;
  for (const auto& l : st.standbys)
    send_to_standby(self, l.actor, st.changes, replicate_atom_v, change...);
}

/// The standbys the supervisor wants: a new one gets an image of everything so far, then
/// every change; one no longer listed is forgotten (the supervisor ends it).
void set_standbys(self_ptr self, const std::vector<caf::actor>& wanted) {
  auto& st = self->state;
  std::vector<shard_actor_state::standby_link> kept;
  for (const auto& actor : wanted) {
    if (!actor)
      continue;
    auto it = std::find_if(st.standbys.begin(), st.standbys.end(),
                           [&](const auto& l) { return l.actor == actor; });
    if (it != st.standbys.end()) {
      kept.push_back(*it);
    } else {
      kept.push_back({actor, 0});
      send_to_standby(self, actor, st.changes, sync_atom_v, st.core->image());
    }
  }
  st.standbys = std::move(kept);
  answer_ready(self);
}

/// Takes one push: applies it (or adds it to the BSP round) and sends it to the standby,
/// then the worker waits for the parameters of its next clock.
void take_push(self_ptr self, push_request& push, reply_promise reply) {
  auto& st = self->state;
  auto taken = st.core->push(push);
  if (!taken) {
    reply.deliver(to_error(taken.error()));
    return;
  }
  if (*taken)
    replicate(self, push); // a duplicate changes nothing
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
      catch_up(self);
      self->state.core->observe(pull.worker, pull.clock);
      auto rp = self->make_response_promise<param_slice>();
      self->state.waiting.push_back({pull.worker, pull.clock, {}, rp});
      answer_ready(self);
      return rp;
    },
    [=](push_atom, push_request& push) -> caf::result<param_slice> {
      catch_up(self);
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
      catch_up(self);
      auto& st = self->state;
      st.held = true;
      return {st.core->applied_clocks(), st.core->stats()};
    },
    [=](cut_atom, std::vector<uint64_t> target) -> caf::result<shard_state> {
      catch_up(self);
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
      catch_up(self);
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
      catch_up(self);
      return {self->state.core->version(), self->state.core->stats()};
    },
    [=](leave_atom, uint32_t worker) {
      catch_up(self);
      self->state.core->leave(worker);
      replicate(self, worker, uint64_t{0}, false);
      answer_ready(self);
    },
    [=](join_atom, uint32_t worker, uint64_t clock) {
      catch_up(self);
      self->state.core->join(worker, clock);
      replicate(self, worker, clock, true);
      answer_ready(self);
    },
    [=](standby_atom, const std::vector<caf::actor>& standbys) { set_standbys(self, standbys); },
    // As a standby: the primary's image and changes. A change is acknowledged when it is
    // here, and applied right after the acknowledgement leaves (catch_up).
    [=](sync_atom, replica_image& image) -> caf::result<uint64_t> {
      catch_up(self);
      auto core = self->state.core->from_image(std::move(image));
      if (!core)
        return to_error(core.error());
      self->state.core.emplace(std::move(*core));
      return self->state.core->version();
    },
    [=](replicate_atom, push_request& push) -> caf::result<uint64_t> {
      return keep(self, std::move(push));
    },
    [=](replicate_atom, uint32_t worker, uint64_t clock, bool live) -> caf::result<uint64_t> {
      return keep(self, shard_actor_state::membership{worker, clock, live});
    },
    [=](tick_atom) { catch_up(self); },
  };
}

} // namespace tether
