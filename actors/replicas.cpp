#include "actors/replicas.hpp"

#include "actors/shard.hpp"
#include "actors/supervisor_nodes.hpp"

namespace tether {

uint32_t replicas_wanted(const job_config& cfg, size_t nodes_at_start) {
  if (cfg.shard_replicas >= 0)
    return static_cast<uint32_t>(cfg.shard_replicas);
  return nodes_at_start >= 2 ? 1 : 0;
}

void make_standby(caf::stateful_actor<supervisor_state>* self, size_t j, const shard_state& state,
                  bool announce) {
  auto& st = self->state;
  if (st.replicas == 0 || !st.shards[j])
    return;
  shard_actor standby;
  if (st.args.registrar) {
    int home = node_running(st, st.shards[j].address());
    auto placed = place_shard(self, j, state,
                              home >= 0 ? std::optional<size_t>{static_cast<size_t>(home)}
                                        : std::optional<size_t>{});
    if (!placed) {
      auto where = home >= 0 ? " other than " + st.nodes[home].hello.name + " (its primary's)"
                             : std::string{};
      self->send(st.args.runner, info_atom_v,
                 "shard " + std::to_string(j) + " runs without a standby: no node" + where
                   + " can take one now; it gets one when a node joins");
      return;
    }
    standby = *placed;
  } else {
    auto core = shard_core::restore(state, st.args.cfg.optimizer, st.args.cfg.consistency,
                                    st.args.cfg.workers);
    if (!core)
      return; // the same state restores for the primary; cannot happen for the standby
    standby = self->spawn<caf::monitored>(shard_behavior, std::move(*core));
  }
  st.standbys[j] = standby;
  self->send(st.shards[j], standby_atom_v, caf::actor_cast<caf::actor>(standby));
  if (announce) {
    int node = node_running(st, standby.address());
    self->send(st.args.runner, info_atom_v,
               "shard " + std::to_string(j) + " has a new standby"
                 + (node >= 0 ? " on node " + st.nodes[node].hello.name : std::string{}));
  }
}

bool promote_standby(caf::stateful_actor<supervisor_state>* self, size_t j) {
  auto& st = self->state;
  if (!st.standbys[j])
    return false;
  st.shards[j] = st.standbys[j];
  st.standbys[j] = shard_actor{};
  return true;
}

int standby_of(const supervisor_state& st, const caf::actor_addr& who) {
  for (size_t j = 0; j < st.standbys.size(); ++j)
    if (st.standbys[j] && st.standbys[j].address() == who)
      return static_cast<int>(j);
  return -1;
}

std::vector<uint64_t> lost_per_shard(const std::vector<uint64_t>& acked,
                                     const std::vector<shard_state>& initial,
                                     const std::vector<shard_state>& final) {
  std::vector<uint64_t> lost(final.size(), 0);
  auto count = [](const shard_state& s, size_t w) {
    return w < s.applied_counts.size() ? s.applied_counts[w] : 0;
  };
  for (size_t j = 0; j < final.size(); ++j)
    for (size_t w = 0; w < acked.size(); ++w) {
      uint64_t before = j < initial.size() ? count(initial[j], w) : 0;
      uint64_t now = count(final[j], w);
      uint64_t held = now > before ? now - before : 0;
      if (acked[w] > held)
        lost[j] += acked[w] - held;
    }
  return lost;
}

} // namespace tether
