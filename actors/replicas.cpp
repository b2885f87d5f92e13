#include "actors/replicas.hpp"

#include "actors/supervisor_nodes.hpp"
#include "actors/supervisor_steps.hpp"

namespace tether {

uint32_t replicas_wanted(const job_config& cfg, size_t nodes_at_start) {
  if (cfg.shard_replicas >= 0)
    return static_cast<uint32_t>(cfg.shard_replicas);
  return nodes_at_start >= 2 ? 1 : 0;
}

std::vector<caf::actor> standby_handles(const shard_record& rec) {
  std::vector<caf::actor> out;
  for (const auto& s : rec.standbys)
    out.push_back(caf::actor_cast<caf::actor>(s.actor));
  return out;
}

void make_standbys(supervisor_pointer self, size_t j, bool announce) {
  auto& st = self->state;
  auto& rec = st.shards[j];
  if (!rec.primary || st.phase != job_phase::training)
    return;
  auto have = rec.standbys.size() + rec.standbys_placing;
  for (auto missing = st.replicas > have ? st.replicas - have : 0; missing > 0; --missing) {
    std::vector<int> avoid{rec.node};
    for (const auto& s : rec.standbys)
      avoid.push_back(s.node);
    ++rec.standbys_placing;
    // The primary's image replaces this state at once; it only has to fit the shard.
    place_shard(self, j, actor_role::kind::standby, shard_spec_for(st, st.args.initial_shards[j]),
                avoid, [=](caf::expected<shard_actor> h) {
                  auto& st = self->state;
                  auto& rec = st.shards[j];
                  --rec.standbys_placing;
                  tell_placement_once_placed(self);
                  if (!h) {
                    caf::anon_send(st.args.runner, info_atom_v,
                               "shard " + std::to_string(j) + " runs with "
                                 + std::to_string(rec.standbys.size()) + " of "
                                 + std::to_string(st.replicas) + " standbys: no other node can "
                                 + "take one now (" + to_string(h.error())
                                 + "); it gets one when a node joins");
                    return;
                  }
                  if (!st.args.registrar)
                    rec.standbys.push_back({*h, -1, false});
                  if (rec.primary)
                    self->send(rec.primary, standby_atom_v, standby_handles(rec));
                  if (announce) {
                    int node = rec.standbys.back().node;
                    caf::anon_send(st.args.runner, info_atom_v,
                               "shard " + std::to_string(j) + " has a new standby"
                                 + (node >= 0 ? " on node " + st.nodes[node].hello.name
                                              : std::string{}));
                  }
                });
  }
}

bool promote_standby(supervisor_pointer self, size_t j) {
  auto& st = self->state;
  auto& rec = st.shards[j];
  if (rec.standbys.empty())
    return false;
  auto next = rec.standbys.front();
  rec.standbys.erase(rec.standbys.begin());
  rec.primary = next.actor;
  rec.node = next.node;
  st.roles[next.actor.address()] = {actor_role::kind::primary, j};
  self->send(rec.primary, standby_atom_v, standby_handles(rec));
  return true;
}

} // namespace tether
