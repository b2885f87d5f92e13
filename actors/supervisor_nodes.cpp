#include "actors/supervisor_nodes.hpp"

#include "actors/placement.hpp"
#include "actors/shard.hpp"
#include "actors/supervisor.hpp"
#include "actors/worker.hpp"

#include <algorithm>

namespace tether {

namespace {

void note(supervisor_pointer self, const std::string& line) {
  caf::anon_send(self->state.args.runner, info_atom_v, line);
}

std::vector<node_load> loads(const supervisor_state& st, const std::vector<int>& avoid) {
  std::vector<node_load> out;
  for (size_t i = 0; i < st.nodes.size(); ++i) {
    const auto& n = st.nodes[i];
    bool avoided = std::find(avoid.begin(), avoid.end(), static_cast<int>(i)) != avoid.end();
    out.push_back({n.alive && !n.draining && !avoided, std::max<uint32_t>(1, n.hello.cores),
                   n.shards, n.workers});
  }
  return out;
}

/// Where an attempt stands: what to place, where it was refused.
template <class Spec>
struct attempt {
  Spec spec;
  placed_role role;
  std::string what;
  std::optional<size_t> preferred;
  std::vector<int> avoid;
  std::string problems;
};

/// Asks nodes in placement order until one answers a handle; `done` gets it and the node.
template <class Handle, class Spec>
void try_nodes(supervisor_pointer self, std::shared_ptr<attempt<Spec>> a,
               std::function<void(caf::expected<Handle>, int)> done) {
  auto& st = self->state;
  auto usable = loads(st, a->avoid);
  std::optional<size_t> pick;
  if (a->preferred && *a->preferred < usable.size() && usable[*a->preferred].usable)
    pick = a->preferred;
  else
    pick = pick_node(usable, a->role);
  a->preferred.reset();
  if (!pick) {
    done(caf::make_error(caf::sec::runtime_error,
                         "no node can run " + a->what
                           + (a->problems.empty() ? std::string{": no usable node is in the cluster"}
                                                  : ": " + a->problems)),
         -1);
    return;
  }
  auto n = *pick;
  auto& node = st.nodes[n];
  // Counted at once, so that placements under way spread like finished ones.
  (a->role == placed_role::shard ? node.shards : node.workers) += 1;
  auto id = st.next_placement++;
  // The answer, a timeout, or the node's loss: whichever comes first settles it.
  auto settled = std::make_shared<bool>(false);
  auto settle = [self, n, id, settled, role = a->role] {
    if (*settled)
      return false;
    *settled = true;
    auto& node = self->state.nodes[n];
    node.pending.erase(id);
    auto& count = role == placed_role::shard ? node.shards : node.workers;
    count -= count > 0 ? 1 : 0;
    return true;
  };
  auto failed = [=](const caf::error& err) {
    if (!settle())
      return;
    auto& node = self->state.nodes[n];
    auto why = to_string(err);
    note(self, "node " + node.hello.name + " could not take " + a->what + " (" + why
                 + "); placing it elsewhere");
    a->problems += (a->problems.empty() ? "" : "; ") + node.hello.name + ": " + why;
    // A refusal (draining) or no answer (dead, hung): either way not this node again.
    if (err == caf::sec::request_timeout || err == caf::sec::request_receiver_down)
      node.alive = false;
    else
      node.draining = true;
    try_nodes<Handle>(self, a, done);
  };
  node.pending.emplace(id, [failed] {
    failed(caf::make_error(caf::sec::request_receiver_down, "the node was lost"));
  });
  self->request(node.agent, st.args.place_timeout, place_atom_v, a->spec)
    .then(
      [=](Handle& h) {
        if (*settled) {
          // Too late: the node was given up meanwhile; the actor must not linger.
          if (h)
            self->send_exit(h, caf::exit_reason::user_shutdown);
          return;
        }
        if (!h) {
          failed(caf::make_error(caf::sec::runtime_error, "the node answered no handle"));
          return;
        }
        settle();
        (a->role == placed_role::shard ? self->state.nodes[n].shards
                                       : self->state.nodes[n].workers) += 1;
        done(std::move(h), static_cast<int>(n));
      },
      [=](caf::error& err) { failed(err); });
}

/// Enters a started actor: monitored, its role known.
template <class Handle>
void enter(supervisor_pointer self, const Handle& h, actor_role role) {
  self->monitor(h);
  self->state.roles[h.address()] = role;
}

} // namespace

int node_of(const supervisor_state& st, const caf::actor& agent) {
  for (size_t i = 0; i < st.nodes.size(); ++i)
    if (st.nodes[i].agent == agent)
      return static_cast<int>(i);
  return -1;
}

void place_shard(supervisor_pointer self, size_t j, actor_role::kind role, shard_spec spec,
                 std::vector<int> avoid, placed_shard done) {
  auto& st = self->state;
  actor_role r{role, j};
  if (!st.args.registrar) {
    auto core = shard_core_for(*st.plan, std::move(spec));
    if (!core) {
      done(caf::make_error(caf::sec::runtime_error, core.error().message()));
      return;
    }
    auto h = self->spawn(shard_behavior, std::move(*core));
    enter(self, h, r);
    done(h);
    return;
  }
  auto a = std::make_shared<attempt<shard_spec>>();
  a->spec = std::move(spec);
  a->role = placed_role::shard;
  a->what = (role == actor_role::kind::standby ? "the standby of shard " : "shard ")
            + std::to_string(j);
  a->avoid = std::move(avoid);
  try_nodes<shard_actor>(self, a, [=](caf::expected<shard_actor> h, int node) {
    if (h) {
      enter(self, *h, r);
      auto& rec = self->state.shards[j];
      if (role == actor_role::kind::primary)
        rec.node = node;
      else
        rec.standbys.push_back({*h, node, false});
    }
    done(std::move(h));
  });
}

void place_worker(supervisor_pointer self, worker_spec spec, std::optional<size_t> preferred,
                  placed_worker done) {
  auto& st = self->state;
  auto slot = spec.slot;
  actor_role r{actor_role::kind::worker, slot};
  if (!st.args.registrar) {
    auto h = worker_on_gpu(*st.plan, slot)
               ? self->spawn<caf::detached>(worker_behavior, std::move(spec), st.plan)
               : self->spawn(worker_behavior, std::move(spec), st.plan);
    enter(self, h, r);
    done(h);
    return;
  }
  auto& rec = st.workers[slot];
  if (rec.home >= 0) {
    preferred = static_cast<size_t>(rec.home);
    rec.home = -1;
  }
  auto a = std::make_shared<attempt<worker_spec>>();
  a->spec = std::move(spec);
  a->role = placed_role::worker;
  a->what = "worker " + std::to_string(slot);
  a->preferred = preferred;
  try_nodes<worker_actor>(self, a, [=](caf::expected<worker_actor> h, int node) {
    if (h) {
      enter(self, *h, r);
      self->state.workers[slot].node = node;
    }
    done(std::move(h));
  });
}

void forget_placed(supervisor_pointer self, int n, bool shard) {
  auto& st = self->state;
  if (n < 0 || static_cast<size_t>(n) >= st.nodes.size())
    return;
  auto& node = st.nodes[n];
  auto& count = shard ? node.shards : node.workers;
  count -= count > 0 ? 1 : 0;
  if (node.draining && node.alive && node.shards + node.workers == 0) {
    caf::anon_send(node.agent, drained_atom_v);
    node.alive = false;
    note(self, "node " + node.hello.name + " is drained: its work runs elsewhere");
  }
}

void node_lost(supervisor_pointer self, const caf::actor& agent) {
  auto n = node_of(self->state, agent);
  if (n < 0)
    return;
  auto& node = self->state.nodes[n];
  node.alive = false;
  // Placements under way there fail now and go elsewhere.
  auto pending = std::move(node.pending);
  node.pending.clear();
  for (auto& [id, fail] : pending)
    fail();
}

std::string placement_lines(const supervisor_state& st) {
  std::string out;
  for (size_t n = 0; n < st.nodes.size(); ++n) {
    if (!st.nodes[n].alive)
      continue;
    std::string line = "  node " + st.nodes[n].hello.name + ":";
    for (size_t j = 0; j < st.shards.size(); ++j)
      if (st.shards[j].primary && st.shards[j].node == static_cast<int>(n))
        line += " shard " + std::to_string(j);
    for (size_t j = 0; j < st.shards.size(); ++j)
      for (const auto& sb : st.shards[j].standbys)
        if (sb.node == static_cast<int>(n))
          line += " standby " + std::to_string(j);
    for (size_t i = 0; i < st.workers.size(); ++i)
      if (st.workers[i].actor && st.workers[i].node == static_cast<int>(n))
        line += " worker " + std::to_string(i);
    out += line + "\n";
  }
  return out;
}

} // namespace tether
