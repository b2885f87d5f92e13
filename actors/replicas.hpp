// Hot standby shards, as the supervisor runs them (actors/shard.hpp has the protocol).
//
// Each shard j has up to --shard-replicas standbys: other shard actors, each on another
// node than its primary and than each other, that the primary keeps in step (an image,
// then every change, acknowledged by all before the workers are answered). When the
// primary fails its first standby becomes the primary at once (a failover: no restore,
// nothing acknowledged is lost), the others follow the new primary, and new standbys are
// made; when a standby fails a new one is made. Only when every copy of a shard is lost
// does it restart from the newest checkpoint, and the audit counts what that lost.
#pragma once

#include "actors/supervisor_state.hpp"

namespace tether {

/// Standbys per shard for this job: --shard-replicas, or (auto) 1 when the cluster has
/// two or more nodes at the start, 0 in one process or on one node.
uint32_t replicas_wanted(const job_config& cfg, size_t nodes_at_start);

/// Makes shard j's missing standbys (up to state.replicas), each from the primary's image
/// (the primary syncs it), on a node other than the primary's and the other standbys'.
/// With no such node the shard runs with fewer (said on the log) and gets them when a
/// node joins. `announce`: say where each went (not at the start: the placement lines say).
void make_standbys(supervisor_pointer self, size_t j, bool announce);

/// Shard j's primary failed: its first standby, if it has one, becomes the primary and
/// the others follow it. False when there is no standby.
bool promote_standby(supervisor_pointer self, size_t j);

/// The standbys of a shard as the primary is told them.
std::vector<caf::actor> standby_handles(const shard_record& rec);

} // namespace tether
