// The steps the supervisor's files call in each other (actors/supervisor.hpp lists the
// files). Internal to the supervisor: every function runs on its actor's thread.
#pragma once

#include "actors/supervisor_state.hpp"

#include <string>

namespace tether {

/// Starts (or restarts) the worker of `slot` from the ledger's clock and the dispatcher's
/// batches for it; `preferred`: a node for a new slot.
void start_worker(supervisor_pointer self, uint32_t slot, std::optional<size_t> preferred = {});

/// A worker slot enters the job mid-run (the job grows): its clock, the shards told.
void add_worker_slot(supervisor_pointer self, uint32_t slot, std::optional<size_t> node);

/// The spec of a shard started now with `state`: the live slots at their clocks.
shard_spec shard_spec_for(const supervisor_state& st, shard_state state);

/// The newest good checkpoint's state of shard j, else its state at the start.
shard_state restore_point(supervisor_pointer self, size_t j);

/// The shard list changed: tell the workers and answer those who asked for it.
void broadcast_shards(supervisor_pointer self);

/// Spends one restart of `who`'s group ("worker", "shard", "checkpointer"); false (and the
/// job stops, exit 5) when the budget is spent.
bool spend_restart(supervisor_pointer self, const std::string& group, const std::string& who,
                   const caf::error& reason);

/// Asks every worker to stop after its step; the final cut follows (`failure`: why, for
/// the report, when the stop is not the user's or the job's end).
void begin_stop(supervisor_pointer self);

/// Looks for a cut to take: an evaluation or checkpoint due, or the final cut.
void maybe_cut(supervisor_pointer self);

/// The end: the report to the runner, every child stopped, the supervisor quits.
void finish(supervisor_pointer self);

/// A monitored actor ended (actors/supervisor_failures.cpp).
void on_down(supervisor_pointer self, const caf::down_msg& dm);

/// A node joined mid-run: the job grows onto it, or moves workers to it at the next epoch
/// (actors/supervisor_elastic.cpp).
void grow_or_rebalance(supervisor_pointer self, size_t node);

/// The slots of a lost or draining node: those above --min-workers retire (the job
/// shrinks); the others are restarted elsewhere.
void shrink_for(supervisor_pointer self, size_t node);

/// Once everything of the start is placed (cluster): the placement lines for the operator.
void tell_placement_once_placed(supervisor_pointer self);

/// One line for the operator (the runner prints it).
void info(supervisor_pointer self, const std::string& line);

/// Nothing can run a shard or a worker any more: the job stops (the newest checkpoint on
/// disk is where a --resume starts).
void cannot_place(supervisor_pointer self, const caf::error& err);

/// Workers now live (placing or running, not retiring).
uint32_t live_workers(const supervisor_state& st);

} // namespace tether
