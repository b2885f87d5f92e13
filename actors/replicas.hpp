// Hot standby shards, as the supervisor runs them (actors/shard.hpp has the protocol).
//
// Each shard j may have one standby: another shard actor, on another node than its
// primary, that the primary keeps in step (an image, then every change, acknowledged
// before the workers are answered). When the primary fails the standby becomes the
// primary at once (a failover: no restore, nothing acknowledged is lost) and a new
// standby is made; when a standby fails a new one is made. Without a standby a failed
// shard restarts from the newest checkpoint, and the audit below counts what that lost.
#pragma once

#include "actors/supervisor.hpp"

namespace tether {

/// Standbys per shard for this job: --shard-replicas, or (auto) 1 when the cluster has
/// two or more nodes at the start, 0 in one process or on one node.
uint32_t replicas_wanted(const job_config& cfg, size_t nodes_at_start);

/// Makes shard j's standby, starting from `state` (the primary replaces it with its own
/// image at once), and gives it to the primary. In a cluster it goes to any node but the
/// primary's; with no such node the shard runs without one (said on the log). `announce`:
/// say where it went (not at the start, where the placement lines say it).
void make_standby(caf::stateful_actor<supervisor_state>* self, size_t j, const shard_state& state,
                  bool announce = true);

/// Shard j's primary failed: its standby, if it has one, becomes the primary (the
/// workers are pointed at it by the caller). False when there is no standby.
bool promote_standby(caf::stateful_actor<supervisor_state>* self, size_t j);

/// The shard whose standby `who` is, or -1.
int standby_of(const supervisor_state& st, const caf::actor_addr& who);

/// The loss audit: per shard, the gradients workers were answered for in this run
/// (`acked`, per worker) that its final state does not hold (its applied counts grew by
/// less from `initial` to `final`). Old checkpoints without counts audit as 0 held.
std::vector<uint64_t> lost_per_shard(const std::vector<uint64_t>& acked,
                                     const std::vector<shard_state>& initial,
                                     const std::vector<shard_state>& final);

} // namespace tether
