// The supervisor's side of where actors run: in this process, or on a cluster's nodes
// (the policy is actors/placement.hpp). Placing on a node is an asynchronous request to
// its agent (at most args.place_timeout): the supervisor goes on serving meanwhile. A node
// that does not answer or refuses is marked unusable and the next one is tried; when none
// is left the callback gets the error. In one process the actor is spawned at once.
//
// Also the node table: joins (and rejoins under a known name), losses, drains, the
// rebalancing of workers onto a node that joined, and growing or shrinking the job
// (--max-workers, --min-workers).
#pragma once

#include "actors/supervisor_state.hpp"

#include <functional>
#include <optional>

namespace tether {

using placed_shard = std::function<void(caf::expected<shard_actor>)>;
using placed_worker = std::function<void(caf::expected<worker_actor>)>;

/// Starts a shard actor with `spec`: a primary (role primary) or a standby of shard j (on
/// any node but those in `avoid`). The actor is monitored and entered in state.roles and
/// on its node before `done` runs.
void place_shard(supervisor_pointer self, size_t j, actor_role::kind role, shard_spec spec,
                 std::vector<int> avoid, placed_shard done);

/// Starts worker slot `spec.slot`; a crashed worker's replacement goes back to its home
/// node when that is usable, a new slot to `preferred` when given.
void place_worker(supervisor_pointer self, worker_spec spec, std::optional<size_t> preferred,
                  placed_worker done);

/// An actor placed on a node ended: counts it off there. When its node is draining and
/// now holds nothing, the node is told it is drained.
void forget_placed(supervisor_pointer self, int node, bool shard);

/// A node joined (or the registrar repeats the ones it knows): add it once, monitor its
/// agent. Mid-run, the job grows onto it or moves workers to it at the next epoch.
void node_joined(supervisor_pointer self, const caf::actor& agent, const node_hello& hello);

/// The node is gone (its agent's monitor fired, or the registrar said so): nothing more is
/// placed there. Its actors' own monitors fire by themselves.
void node_lost(supervisor_pointer self, const caf::actor& agent);

/// SIGTERM on a node: move its workers, shards and standbys elsewhere.
void drain_node(supervisor_pointer self, const caf::actor& agent);

/// At an epoch's start after a node joined a full job: move workers onto it.
void rebalance(supervisor_pointer self);

/// The node index of `agent`, or -1.
int node_of(const supervisor_state& st, const caf::actor& agent);

/// "node n1: shard 0, worker 1, worker 3" lines for the operator.
std::string placement_lines(const supervisor_state& st);

} // namespace tether
