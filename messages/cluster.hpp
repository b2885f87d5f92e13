// The messages of a cluster: what a node and the coordinator say to each other, and what
// the supervisor sends a node to spawn a shard or a worker there.
//
//   node agent --(hello, node_hello)-->  registrar     answers a node_ticket: accepted (with
//                                                      the job's options), or refused and why
//   node agent --(ready, node_hello)-->  registrar     data loaded and checked: place work here
//   registrar  --(node_up | node_down)-> supervisor    the set of live nodes changed
//   supervisor --(place, shard_spec)-->  node agent    answers the spawned shard_actor
//   supervisor --(place, worker_spec)--> node agent    answers the spawned worker_actor
//   node agent --(drain)-->              supervisor    SIGTERM on the node: move work away
//   supervisor --(drained)-->            node agent    nothing of the job runs there any more
//   supervisor --(finished)-->           registrar --> every node agent: the job is over
//
// A node builds the job's plan (the model, its data, the shard split, the optimizer) from
// the options in its ticket, as the coordinator did from the command line, so a placement
// carries only what is particular to the actor placed. Both sides check version and schema
// identity (messages/version.hpp) in the hello before anything else is exchanged.
#pragma once

#include "core/consistency.hpp"
#include "core/layout.hpp"
#include "core/optimizer.hpp"
#include "messages/interfaces.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace tether {

/// Everything particular to one shard actor: its state and which worker slots count for
/// the consistency model, at which clock.
struct shard_spec {
  shard_state state;
  /// Per worker slot: the clock it is live at, or not_live.
  std::vector<uint64_t> live_clocks;
  static constexpr uint64_t not_live = UINT64_MAX;
};

/// Everything particular to one worker actor.
struct worker_spec {
  uint32_t slot = 0;
  uint64_t start_clock = 0;       ///< steps its slot has done (resume, restart)
  work_grant work;                ///< its batches from start_clock on
  std::vector<shard_actor> shards;
  supervisor_actor supervisor;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, key_range& x) {
  return f(caf::meta::type_name("tether::key_range"), x.begin, x.end);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, shard_spec& x) {
  return f(caf::meta::type_name("tether::shard_spec"), x.state, x.live_clocks);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, worker_spec& x) {
  return f(caf::meta::type_name("tether::worker_spec"), x.slot, x.start_clock, x.work, x.shards,
           x.supervisor);
}

} // namespace tether

CAF_BEGIN_TYPE_ID_BLOCK(tether_cluster, caf::id_block::tether::end)
  CAF_ADD_TYPE_ID(tether_cluster, (tether::shard_spec))
  CAF_ADD_TYPE_ID(tether_cluster, (tether::worker_spec))
  CAF_ADD_TYPE_ID(tether_cluster, (tether::shard_actor))
  CAF_ADD_TYPE_ID(tether_cluster, (std::vector<tether::shard_actor>))
  CAF_ADD_TYPE_ID(tether_cluster, (tether::worker_actor))
  CAF_ADD_TYPE_ID(tether_cluster, (tether::supervisor_actor))
  CAF_ADD_TYPE_ID(tether_cluster, (std::vector<tether::key_range>))
  CAF_ADD_TYPE_ID(tether_cluster, (std::vector<uint32_t>))
CAF_END_TYPE_ID_BLOCK(tether_cluster)
