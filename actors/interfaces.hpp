// The messaging interfaces of tether's actors.
//
//   supervisor --spawns, monitors--> shards, workers, checkpointer
//   worker  --pull / push-->  shard        (push answers with the fresh slice: fused push+pull)
//   supervisor --hold, cut, release--> shard   (a consistent cut for checkpoints and evaluation)
//   supervisor --write--> checkpointer
#pragma once

#include "messages/type_ids.hpp"

#include <caf/all.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace tether {

/// A parameter shard. Pulls and pushes are answered when the consistency model allows
/// (deferred, never slept on). `hold` stops applying pushes (they queue) and answers
/// the applied clock of every worker plus the shard's statistics; `cut(target)` applies
/// queued pushes up to the target clocks, waiting for those still in flight, and
/// answers the shard's state at exactly that cut; `release` applies the rest of the
/// queue and resumes. `leave` and `join` change the set of live workers.
///
/// Hot standby (actors/shard.hpp): `standby(s)` gives a primary its standby (an invalid
/// handle: none); the primary sends it `sync(image)` and then every change it makes, in
/// order, as `replicate(push)` or `replicate(worker, clock, live)`; each answers the
/// number of changes it holds (`tick` is its own reminder to apply them). Any shard
/// actor can be a standby: it becomes the primary when the supervisor points the workers
/// at it.
using shard_actor = caf::typed_actor<
  caf::replies_to<pull_atom, pull_request>::with<param_slice>,
  caf::replies_to<push_atom, push_request>::with<param_slice>,
  caf::replies_to<hold_atom>::with<std::vector<uint64_t>, shard_stats>,
  caf::replies_to<cut_atom, std::vector<uint64_t>>::with<shard_state>,
  caf::reacts_to<release_atom>,
  caf::replies_to<stats_atom>::with<uint64_t, shard_stats>,
  caf::reacts_to<leave_atom, uint32_t>,
  caf::reacts_to<join_atom, uint32_t, uint64_t>,
  caf::reacts_to<standby_atom, caf::actor>,
  caf::replies_to<sync_atom, replica_image>::with<uint64_t>,
  caf::replies_to<replicate_atom, push_request>::with<uint64_t>,
  caf::replies_to<replicate_atom, uint32_t, uint64_t, bool>::with<uint64_t>,
  caf::reacts_to<tick_atom>>;

/// The checkpointer: writes one checkpoint atomically, keeps the newest K, answers
/// the path written, its size in bytes and the seconds the write took.
using checkpointer_actor = caf::typed_actor<
  caf::replies_to<write_atom, checkpoint_data>::with<std::string, uint64_t, double>>;

} // namespace tether
