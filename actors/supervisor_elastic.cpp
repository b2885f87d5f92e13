// Nodes coming and going, and the job growing and shrinking with them.
//
//   join     a node joins (or a node declared dead rejoins under its name after a restart):
//            shards without all their standbys get them there; the job grows onto its free
//            cores up to --max-workers; a job already at its size moves workers onto it at
//            the next epoch instead (rebalancing)
//   lost     a node dies: its workers restart elsewhere, or retire when the job is above
//            --min-workers (the job shrinks); its shards fail over (supervisor_failures.cpp)
//   drain    SIGTERM on a node: its workers move or retire as for a loss, its shards move
//            with their current state, its standbys are made again elsewhere
//
// A slot added mid-run starts at the slowest live clock (async, ssp: the bound holds at
// once) or at the next epoch's first round (bsp: the dispatcher lays out each epoch's
// rounds with the slots live then, so every sample is still seen once per epoch). A
// retiring slot finishes the batches it holds (bsp: its epoch) and then leaves.
#include "actors/replicas.hpp"
#include "actors/supervisor.hpp"
#include "actors/supervisor_nodes.hpp"
#include "actors/supervisor_steps.hpp"

#include <algorithm>

namespace tether {

namespace {

using self_ptr = supervisor_pointer;
using namespace std::chrono_literals;

uint32_t free_cores(const node_record& n) {
  auto used = n.shards + n.workers;
  return n.hello.cores > used ? n.hello.cores - used : 0;
}

/// A slot that runs no worker now (never started, or done), or -1.
int free_slot(const supervisor_state& st) {
  for (size_t s = 0; s < st.workers.size(); ++s)
    if (st.workers[s].state == worker_record::life::idle
        || st.workers[s].state == worker_record::life::done)
      return static_cast<int>(s);
  return -1;
}

/// Moves shard j off its node: hold it, take its state at its own applied clocks, start
/// the same state elsewhere, point the workers there, end the old one. Pushes that reach
/// the old shard meanwhile fail or are redone by the workers at the same clock (exactly
/// once: the state carries the applied clocks).
void move_shard(self_ptr self, size_t j) {
  auto& st = self->state;
  auto& rec = st.shards[j];
  auto old = rec.primary;
  auto from = rec.node;
  rec.moving = true;
  auto give_up = [=](const caf::error& err) {
    // The old shard did not cooperate: end it; its failover or restart takes over.
    auto& st = self->state;
    st.shards[j].moving = false;
    info(self, "shard " + std::to_string(j) + " could not be moved (" + to_string(err)
                 + "); it is replaced as after a failure");
    self->send_exit(old, caf::exit_reason::kill);
  };
  self->request(old, 10s, hold_atom_v)
    .then(
      [=](std::vector<uint64_t>& clocks, shard_stats&) {
        self->request(old, 30s, cut_atom_v, std::move(clocks))
          .then(
            [=](shard_state& state) {
              auto version = state.version;
              place_shard(self, j, actor_role::kind::primary,
                          shard_spec_for(self->state, std::move(state)), {from},
                          [=](caf::expected<shard_actor> h) {
                            auto& st = self->state;
                            auto& rec = st.shards[j];
                            if (!h) {
                              give_up(h.error());
                              return;
                            }
                            st.roles.erase(old.address()); // its end is the move, not a failure
                            forget_placed(self, from, true);
                            rec.primary = *h;
                            rec.moving = false;
                            ++st.report.moves["shard"];
                            self->send(rec.primary, standby_atom_v, standby_handles(rec));
                            broadcast_shards(self);
                            self->send_exit(old, caf::exit_reason::user_shutdown);
                            info(self, "shard " + std::to_string(j) + " moved at version "
                                         + std::to_string(version));
                            maybe_cut(self);
                          });
            },
            give_up);
      },
      give_up);
}

/// Ends worker `slot` to start it again elsewhere at its clock (drain, rebalancing): its
/// end spends no restart.
void move_worker(self_ptr self, uint32_t slot) {
  auto& rec = self->state.workers[slot];
  if (!rec.actor)
    return;
  rec.moving = true;
  self->send_exit(rec.actor, caf::exit_reason::kill);
}

} // namespace

void add_worker_slot(self_ptr self, uint32_t slot, std::optional<size_t> node) {
  auto& st = self->state;
  auto& ledger = st.progress();
  uint64_t clock = slot < ledger.slot_count() ? ledger.at(slot).clock : 0;
  auto slowest = ledger.slowest_live_clock();
  if (slowest != UINT64_MAX)
    clock = std::max(clock, slowest);
  clock = st.work().add_slot(slot, clock);
  ledger.start_slot(slot, clock);
  for (auto& s : st.shards)
    if (s.primary)
      self->send(s.primary, join_atom_v, slot, clock);
  start_worker(self, slot, node);
}

void grow_or_rebalance(self_ptr self, size_t n) {
  auto& st = self->state;
  auto& node = st.nodes[n];
  auto capacity = st.plan->slot_capacity();
  uint32_t added = 0;
  for (auto cores = free_cores(node); cores > 0 && live_workers(st) < capacity; --cores) {
    auto slot = free_slot(st);
    if (slot < 0)
      break;
    add_worker_slot(self, static_cast<uint32_t>(slot), n);
    ++added;
  }
  if (added > 0) {
    info(self, "the job grows onto node " + node.hello.name + ": " + std::to_string(added)
                 + " more worker" + (added == 1 ? "" : "s") + ", "
                 + std::to_string(live_workers(st)) + " in all"
                 + (st.plan->lockstep() ? " (bsp: from the next epoch)" : ""));
    return;
  }
  st.rebalance_pending = true;
  info(self, "node " + node.hello.name + " joined mid-run: it gets workers at the next epoch");
}

void shrink_for(self_ptr self, size_t n) {
  auto& st = self->state;
  auto floor = st.plan->cfg.slot_floor();
  for (uint32_t s = 0; s < st.workers.size(); ++s) {
    auto& rec = st.workers[s];
    if (rec.node != static_cast<int>(n) || rec.retiring
        || (rec.state != worker_record::life::running && rec.state != worker_record::life::placing))
      continue;
    if (live_workers(st) <= floor)
      break;
    rec.retiring = true;
    st.work().retire(s, st.progress().at(s).clock);
    info(self, "the job shrinks: worker " + std::to_string(s) + " retires after its batches ("
                 + std::to_string(live_workers(st)) + " workers go on)");
  }
}

void node_joined(self_ptr self, const caf::actor& agent, const node_hello& hello) {
  auto& st = self->state;
  if (node_of(st, agent) >= 0)
    return;
  bool rejoin = std::any_of(st.nodes.begin(), st.nodes.end(), [&](const node_record& n) {
    return !n.alive && n.hello.name == hello.name;
  });
  st.nodes.push_back({agent, hello, true, false, 0, 0, {}});
  self->monitor(agent);
  if (!st.started || st.phase != job_phase::training)
    return;
  auto n = st.nodes.size() - 1;
  if (rejoin)
    info(self, "node " + hello.name + " rejoined after it was lost");
  for (size_t j = 0; j < st.shards.size(); ++j)
    make_standbys(self, j, true);
  grow_or_rebalance(self, n);
}

void drain_node(self_ptr self, const caf::actor& agent) {
  auto& st = self->state;
  auto n = node_of(st, agent);
  if (n < 0 || st.nodes[n].draining || !st.nodes[n].alive)
    return;
  if (st.cutting || !st.shards_ready()) {
    self->delayed_send(self, 100ms, drain_atom_v, agent); // after the cut or the move
    return;
  }
  auto& node = st.nodes[n];
  node.draining = true;
  info(self, "node " + node.hello.name + " drains: moving its work (shards: "
               + std::to_string(node.shards) + ", workers: " + std::to_string(node.workers) + ")");
  if (node.shards + node.workers == 0 || st.phase != job_phase::training) {
    caf::anon_send(agent, drained_atom_v);
    node.alive = false;
    return;
  }
  shrink_for(self, static_cast<size_t>(n));
  for (uint32_t s = 0; s < st.workers.size(); ++s)
    if (st.workers[s].node == n)
      move_worker(self, s);
  for (size_t j = 0; j < st.shards.size(); ++j) {
    if (st.shards[j].node == n)
      move_shard(self, j);
    for (auto& sb : st.shards[j].standbys)
      if (sb.node == n) {
        sb.moving = true; // made again elsewhere when it ends
        self->send_exit(sb.actor, caf::exit_reason::user_shutdown);
      }
  }
}

void rebalance(self_ptr self) {
  auto& st = self->state;
  st.rebalance_pending = false;
  if (st.phase != job_phase::training)
    return;
  struct load {
    double actors, cores;
    double value() const { return actors / cores; }
  };
  std::vector<load> nodes;
  for (auto& n : st.nodes)
    nodes.push_back({static_cast<double>(n.shards + n.workers),
                     static_cast<double>(std::max<uint32_t>(1, n.hello.cores))});
  auto usable = [&](size_t i) { return st.nodes[i].alive && !st.nodes[i].draining; };
  std::vector<uint32_t> moved;
  for (;;) {
    std::optional<size_t> hi, lo;
    for (size_t i = 0; i < nodes.size(); ++i) {
      if (!usable(i))
        continue;
      if (st.nodes[i].workers > 0 && (!hi || nodes[i].value() > nodes[*hi].value()))
        hi = i;
      if (!lo || nodes[i].value() < nodes[*lo].value())
        lo = i;
    }
    if (!hi || !lo || *hi == *lo)
      break;
    double after_hi = (nodes[*hi].actors - 1) / nodes[*hi].cores;
    double after_lo = (nodes[*lo].actors + 1) / nodes[*lo].cores;
    if (std::max(after_hi, after_lo) >= nodes[*hi].value() - 1e-9)
      break;
    uint32_t slot = UINT32_MAX;
    for (uint32_t s = 0; s < st.workers.size(); ++s)
      if (st.workers[s].node == static_cast<int>(*hi) && st.workers[s].actor
          && !st.workers[s].moving && st.workers[s].state == worker_record::life::running
          && std::find(moved.begin(), moved.end(), s) == moved.end()) {
        slot = s;
        break;
      }
    if (slot == UINT32_MAX)
      break;
    nodes[*hi].actors -= 1;
    nodes[*lo].actors += 1;
    st.workers[slot].home = static_cast<int>(*lo);
    move_worker(self, slot);
    moved.push_back(slot);
  }
  if (!moved.empty()) {
    std::string which;
    for (auto s : moved)
      which += (which.empty() ? "" : ", ") + std::to_string(s);
    info(self, "rebalancing at epoch " + std::to_string(st.epoch_seen) + ": moving worker"
                 + (moved.size() == 1 ? " " : "s ") + which + " to the least loaded nodes");
  }
}

} // namespace tether
