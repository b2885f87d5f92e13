// The CAF side of messages/: atoms, the type-ID block and the inspect functions of the
// message types. Include this (not types.hpp) where actors send or receive them.
//
// Inside one process these types travel as C++ objects; across nodes they are
// registered with CAF under the names in the block below (both nodes need the same
// block: see shared/CAF-FACTS.md §1) and tensors go as Cap'n Proto bytes.
#pragma once

#include "messages/types.hpp"

#include <caf/all.hpp>
#include <caf/type_id.hpp>

namespace tether {

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, pull_request& x) {
  return f(caf::meta::type_name("tether::pull_request"), x.worker, x.clock);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, push_request& x) {
  return f(caf::meta::type_name("tether::push_request"), x.worker, x.clock, x.base_version,
           x.range_begin, x.grad);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, param_slice& x) {
  return f(caf::meta::type_name("tether::param_slice"), x.version, x.range_begin, x.values);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, shard_state& x) {
  return f(caf::meta::type_name("tether::shard_state"), x.index, x.range_begin, x.range_end,
           x.version, x.params, x.slots, x.optimizer_steps, x.applied_clocks);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, shard_stats& x) {
  return f(caf::meta::type_name("tether::shard_stats"), x.applied, x.duplicates, x.tau_sum,
           x.tau_max, x.tau_histogram, x.max_clock_gap, x.answers);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, checkpoint_data& x) {
  return f(caf::meta::type_name("tether::checkpoint_data"), x.updates, x.model,
           x.layout_fingerprint, x.total_params, x.optimizer, x.consistency, x.seed,
           x.worker_steps, x.shards, x.config, x.created_unix_ms);
}

} // namespace tether

CAF_BEGIN_TYPE_ID_BLOCK(tether, caf::first_custom_type_id)
  CAF_ADD_TYPE_ID(tether, (tether::pull_request))
  CAF_ADD_TYPE_ID(tether, (tether::push_request))
  CAF_ADD_TYPE_ID(tether, (tether::param_slice))
  CAF_ADD_TYPE_ID(tether, (tether::shard_state))
  CAF_ADD_TYPE_ID(tether, (tether::checkpoint_data))
  CAF_ADD_TYPE_ID(tether, (tether::shard_stats))
  CAF_ADD_TYPE_ID(tether, (std::vector<float>))
  CAF_ADD_TYPE_ID(tether, (std::vector<uint64_t>))
  CAF_ADD_TYPE_ID(tether, (std::vector<uint8_t>))

  // worker <-> shard
  CAF_ADD_ATOM(tether, tether, pull_atom, "pull")
  CAF_ADD_ATOM(tether, tether, push_atom, "push")
  // supervisor <-> shard: consistent cuts
  CAF_ADD_ATOM(tether, tether, hold_atom, "hold")
  CAF_ADD_ATOM(tether, tether, cut_atom, "cut")
  CAF_ADD_ATOM(tether, tether, release_atom, "release")
  CAF_ADD_ATOM(tether, tether, stats_atom, "stats")
  // supervisor -> shard: the set of live workers (consistency models)
  CAF_ADD_ATOM(tether, tether, leave_atom, "leave")
  CAF_ADD_ATOM(tether, tether, join_atom, "join")
  // supervisor <-> worker
  CAF_ADD_ATOM(tether, tether, start_atom, "start")
  CAF_ADD_ATOM(tether, tether, stop_atom, "stop")
  CAF_ADD_ATOM(tether, tether, progress_atom, "progress")
  CAF_ADD_ATOM(tether, tether, done_atom, "done")
  CAF_ADD_ATOM(tether, tether, shards_atom, "shards")
  CAF_ADD_ATOM(tether, tether, retry_atom, "retry")
  CAF_ADD_ATOM(tether, tether, wake_atom, "wake")
  // supervisor <-> checkpointer
  CAF_ADD_ATOM(tether, tether, write_atom, "write")
  // supervisor -> job runner
  CAF_ADD_ATOM(tether, tether, point_atom, "point")
  CAF_ADD_ATOM(tether, tether, finished_atom, "finished")
  CAF_ADD_ATOM(tether, tether, tick_atom, "tick")
  CAF_ADD_ATOM(tether, tether, actors_atom, "actors")
  CAF_ADD_ATOM(tether, tether, status_atom, "status")
  CAF_ADD_ATOM(tether, tether, publish_atom, "publish")
CAF_END_TYPE_ID_BLOCK(tether)
