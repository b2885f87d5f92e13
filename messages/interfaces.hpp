// The messaging interfaces of tether's actors: every message an actor takes, typed, so
// that a message it has no handler for is a compile error, not a dead sender.
//
//   supervisor --spawns, monitors--> shards, workers, checkpointer
//   worker  --pull / push-->  shard        (push answers with the fresh slice: fused push+pull)
//   worker  --progress, done--> supervisor --grant--> worker   (the batches to train on)
//   supervisor --hold, cut, release--> shard   (a consistent cut for checkpoints and evaluation)
//   supervisor --write--> checkpointer
//   registrar --node_up, node_down, drain--> supervisor   (a cluster's nodes)
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
/// Hot standbys (actors/shard.hpp): `standby(list)` gives a primary its standbys (empty:
/// none); the primary sends each new one `sync(image)` and then every change it makes, in
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
  caf::reacts_to<standby_atom, std::vector<caf::actor>>,
  caf::replies_to<sync_atom, replica_image>::with<uint64_t>,
  caf::replies_to<replicate_atom, push_request>::with<uint64_t>,
  caf::replies_to<replicate_atom, uint32_t, uint64_t, bool>::with<uint64_t>,
  caf::reacts_to<tick_atom>>;

/// A worker (actors/worker.hpp). From the supervisor: `start` (pull and train), `grant`
/// (the batches of its next clocks), `stop` (finish the step in hand and end), `shards`
/// (the shard list changed: redo the step from a pull). Its own reminders: `retry` (after
/// a failed request), `wake(round)` (a straggler's wait is over), `lost(round)` (a
/// message of that round will not be answered), `resend(token)` (a held-back message of
/// its fault injection is due).
using worker_actor = caf::typed_actor<
  caf::reacts_to<start_atom>,
  caf::reacts_to<grant_atom, work_grant>,
  caf::reacts_to<stop_atom>,
  caf::reacts_to<shards_atom, std::vector<shard_actor>>,
  caf::reacts_to<retry_atom>,
  caf::reacts_to<wake_atom, uint64_t>,
  caf::reacts_to<lost_atom, uint64_t>,
  caf::reacts_to<resend_atom, uint64_t>>;

/// The supervisor (actors/supervisor.hpp). From workers: `progress(report)` after each
/// step, `done(slot, clock)` when a worker ends after its last batch, `diverged(slot,
/// clock, what)` when its loss or gradient is not finite, `shards` (the current list,
/// answered once none is being replaced). From the job runner: `stop`, `actors` (the
/// workers and shard primaries, for tests and --faults). From the registrar: `node_up`,
/// `node_down`, `drain`. Its own reminders: `tick` (look for a cut to take), `publish`
/// (a status snapshot), `fault(index)` (a timed --faults entry is due), `timeout(what,
/// generation)` (a deadline: the stop's grace period).
using supervisor_actor = caf::typed_actor<
  caf::reacts_to<progress_atom, step_report>,
  caf::reacts_to<done_atom, uint32_t, uint64_t>,
  caf::reacts_to<diverged_atom, uint32_t, uint64_t, std::string>,
  caf::replies_to<shards_atom>::with<std::vector<shard_actor>>,
  caf::reacts_to<stop_atom>,
  caf::replies_to<actors_atom>::with<std::vector<caf::actor>, std::vector<caf::actor>>,
  caf::reacts_to<node_up_atom, caf::actor, node_hello>,
  caf::reacts_to<node_down_atom, caf::actor>,
  caf::reacts_to<drain_atom, caf::actor>,
  caf::reacts_to<tick_atom>,
  caf::reacts_to<publish_atom>,
  caf::reacts_to<fault_atom, uint64_t>,
  caf::reacts_to<timeout_atom, uint64_t>>;

/// The checkpointer: writes one checkpoint atomically, keeps the newest K, answers
/// the path written, its size in bytes and the seconds the write took.
using checkpointer_actor = caf::typed_actor<
  caf::replies_to<write_atom, checkpoint_data>::with<std::string, uint64_t, double>>;

} // namespace tether
