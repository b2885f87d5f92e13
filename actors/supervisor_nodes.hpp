// The supervisor's side of a cluster: its table of nodes and the placement of one
// shard or worker on a node (actors/placement.hpp chooses which).
//
// A placement is a request to the node's agent, waited for on the supervisor's thread
// (at most args.place_timeout per node tried): placements happen at the start, on a
// restart and on a drain, never per step. A node that does not answer, or refuses, is
// marked unusable and the next one is tried.
#pragma once

#include "actors/supervisor.hpp"

namespace tether {

using supervisor_ptr = caf::stateful_actor<supervisor_state>*;

/// A node joined (or the registrar repeats the ones it knows): add it, once.
void add_node(supervisor_ptr self, const caf::actor& agent, const node_hello& hello);

/// The node is gone: nothing more is placed there. Its actors' monitors fire by themselves.
void lose_node(supervisor_ptr self, const caf::actor& agent);

/// The node index of `agent`, or -1.
int node_of(const supervisor_state& st, const caf::actor& agent);

/// The node index a shard or worker was placed on, or -1 (not placed: one process, or
/// already counted off by forget_placed).
int node_running(const supervisor_state& st, const caf::actor_addr& who);

/// Places a shard with state `state` on a node and monitors it; a standby (`avoid` set)
/// on any node but `avoid`, its primary's.
caf::expected<shard_actor> place_shard(supervisor_ptr self, size_t j, const shard_state& state,
                                       std::optional<size_t> avoid = std::nullopt);

/// Places a worker on a node and monitors it (the caller sends start). A replacement for
/// a crashed worker goes back to `preferred` (its node) when that node is still usable.
caf::expected<caf::actor> place_worker(supervisor_ptr self, const worker_args& args,
                                       std::optional<size_t> preferred = std::nullopt);

/// An actor placed on a node ended: counts it off its node. Answers the node's index
/// when that node is draining and now holds nothing (the caller tells it drained), else -1.
int forget_placed(supervisor_ptr self, const caf::actor_addr& who);

/// "node n1: shard 0, worker 1, worker 3" lines for the operator.
std::string placement_lines(const supervisor_state& st);

} // namespace tether
