// The supervisor's answers to failures: one handler per kind of actor that can end.
//
//   worker      restarted at its slot's last reported clock with the batches it held (on
//               its node if that is up); nothing is taken from the shards' live set, so
//               bsp rounds and the ssp bound wait for the replacement instead of moving
//               on without it
//   primary     its first standby takes over (no restore), the workers are pointed at it
//               and a new standby is made; without a standby a new primary starts from
//               the newest checkpoint, brought up to the workers' clocks (what it lost is
//               counted by the audit)
//   standby     made again
//   checkpointer restarted
// Each restart (and failover) is spent from its group's budget. A lost node shows as the
// loss of every actor on it (remote_link_unreachable), and of its agent.
#include "actors/checkpointer.hpp"
#include "actors/replicas.hpp"
#include "actors/supervisor.hpp"
#include "actors/supervisor_nodes.hpp"
#include "actors/supervisor_steps.hpp"

namespace tether {

namespace {

using self_ptr = supervisor_pointer;

/// An actor that ended with remote_link_unreachable took its node with it: place nothing
/// more there (the registrar's node_down may come later).
void node_gone_with(self_ptr self, int node, const caf::error& reason) {
  if (node >= 0 && reason == caf::exit_reason::remote_link_unreachable)
    node_lost(self, self->state.nodes[node].agent);
}

void worker_down(self_ptr self, uint32_t slot, const caf::error& reason) {
  auto& st = self->state;
  auto& rec = st.workers[slot];
  node_gone_with(self, rec.node, reason);
  if (rec.node >= 0 && !st.nodes[rec.node].alive && st.phase == job_phase::training)
    shrink_for(self, static_cast<size_t>(rec.node)); // its node is lost: above the floor, retire
  forget_placed(self, rec.node, false);
  int home = rec.node;
  rec.node = -1;
  rec.actor = worker_actor{};
  if (rec.state == worker_record::life::done)
    return;
  if (st.phase != job_phase::training || !reason) {
    // Stopping (its step is over either way), or it ended by itself without saying done.
    rec.state = worker_record::life::running; // so that on_worker_done counts it off
    self->send(self, done_atom_v, slot, st.progress().at(slot).clock);
    return;
  }
  bool moved = rec.moving;
  rec.moving = false;
  if (!moved && home >= 0 && st.nodes[home].alive && !st.nodes[home].draining)
    rec.home = home; // back to its node
  if (!moved && !spend_restart(self, "worker", "worker " + std::to_string(slot), reason)) {
    rec.state = worker_record::life::running;
    self->send(self, done_atom_v, slot, st.progress().at(slot).clock);
    return;
  }
  ++(moved ? st.report.moves["worker"] : st.report.restarts["worker"]);
  if (!moved)
    st.recovering.push_back(
      {st.now(), static_cast<int>(slot), "worker " + std::to_string(slot), {}});
  // The replacement goes on from the slot's last reported clock with the batches the slot
  // holds (a batch some shards applied before the failure is skipped there as a duplicate).
  start_worker(self, slot);
}

void primary_down(self_ptr self, size_t j, const caf::error& reason) {
  auto& st = self->state;
  auto& rec = st.shards[j];
  node_gone_with(self, rec.node, reason);
  forget_placed(self, rec.node, true);
  rec.node = -1;
  rec.primary = shard_actor{};
  if (rec.moving || st.phase == job_phase::finished)
    return; // a move replaces it (supervisor_elastic.cpp)
  auto who = "shard " + std::to_string(j);
  if (!spend_restart(self, "shard", who, reason)) {
    maybe_cut(self);
    return;
  }
  if (promote_standby(self, j)) {
    // The standby holds every change the workers were answered for: no restore.
    ++st.report.failovers["shard"];
    st.recovering.push_back({st.now(), -1, who + " (failover)", st.progress().clocks()});
    info(self, who + " failed (" + to_string(reason) + "); its standby took over");
    broadcast_shards(self);
    make_standbys(self, j, true);
    maybe_cut(self);
    return;
  }
  ++st.report.restarts["shard"];
  st.recovering.push_back({st.now(), -1, who, st.progress().clocks()});
  st.progress().retire_shard(j);
  auto restored = restore_point(self, j);
  info(self, who + " failed (" + to_string(reason) + ") without a standby: it restarts from "
               + (restored.version > 0 ? "the newest checkpoint (version "
                                           + std::to_string(restored.version) + ")"
                                       : std::string{"its state at the start of this run"}));
  rec.placing = true;
  place_shard(self, j, actor_role::kind::primary, shard_spec_for(st, restored), {},
              [=](caf::expected<shard_actor> h) {
                auto& st = self->state;
                auto& rec = st.shards[j];
                rec.placing = false;
                if (!h) {
                  if (st.report.failure.empty())
                    st.report.failure = "shard " + std::to_string(j)
                                        + " cannot be started again: " + to_string(h.error());
                  begin_stop(self);
                  maybe_cut(self);
                  return;
                }
                rec.primary = *h;
                broadcast_shards(self);
                make_standbys(self, j, true);
                maybe_cut(self);
              });
}

void standby_down(self_ptr self, size_t j, const caf::actor_addr& who, const caf::error& reason) {
  auto& st = self->state;
  auto& rec = st.shards[j];
  auto it = std::find_if(rec.standbys.begin(), rec.standbys.end(),
                         [&](const standby_record& s) { return s.actor.address() == who; });
  if (it == rec.standbys.end())
    return;
  node_gone_with(self, it->node, reason);
  forget_placed(self, it->node, true);
  bool moved = it->moving;
  rec.standbys.erase(it);
  if (rec.primary)
    self->send(rec.primary, standby_atom_v, standby_handles(rec));
  if (st.phase != job_phase::training)
    return;
  if (!moved && reason) {
    if (!spend_restart(self, "shard", "standby " + std::to_string(j), reason))
      return;
    ++st.report.restarts["standby"];
  }
  make_standbys(self, j, true);
}

void checkpointer_down(self_ptr self, const caf::error& reason) {
  auto& st = self->state;
  st.checkpointer = checkpointer_actor{};
  if (st.phase == job_phase::finished)
    return;
  if (!spend_restart(self, "checkpointer", "checkpointer", reason))
    return;
  ++st.report.restarts["checkpointer"];
  st.checkpointer = self->spawn<caf::detached>(checkpointer_behavior, st.plan->cfg.checkpoint_dir,
                                               st.plan->cfg.checkpoint_keep);
  self->monitor(st.checkpointer);
  st.roles[st.checkpointer.address()] = {actor_role::kind::checkpointer, 0};
}

} // namespace

void on_down(self_ptr self, const caf::down_msg& dm) {
  auto& st = self->state;
  for (auto& node : st.nodes)
    if (node.agent && node.agent.address() == dm.source) {
      node_lost(self, node.agent);
      return;
    }
  auto it = st.roles.find(dm.source);
  if (it == st.roles.end())
    return;
  auto role = it->second;
  st.roles.erase(it);
  switch (role.what) {
    case actor_role::kind::worker:
      if (st.workers[role.index].actor.address() == dm.source)
        worker_down(self, static_cast<uint32_t>(role.index), dm.reason);
      break;
    case actor_role::kind::primary:
      if (st.shards[role.index].primary.address() == dm.source)
        primary_down(self, role.index, dm.reason);
      else
        standby_down(self, role.index, dm.source, dm.reason); // promoted before it ended
      break;
    case actor_role::kind::standby:
      if (st.shards[role.index].primary.address() == dm.source) {
        primary_down(self, role.index, dm.reason); // a standby that had taken over
      } else {
        standby_down(self, role.index, dm.source, dm.reason);
      }
      break;
    case actor_role::kind::checkpointer:
      checkpointer_down(self, dm.reason);
      break;
  }
}

} // namespace tether
