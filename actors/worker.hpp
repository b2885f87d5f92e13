// The worker actor: one worker slot's training loop.
//
//   start --pull every shard--> step --compute, push every shard--> step --...--> done
//              ^                   |  (no batch granted for this clock: idle until a grant)
//              +-- a shard failed -+  (wait, ask the supervisor for the shard list, pull
//                                      everything again, redo the same clock)
//
// One step at clock c: the batch granted for clock c (the supervisor's work dispatcher,
// ps/work_dispatcher.hpp: batches are bound to (slot, clock), so a replacement redoes what
// its predecessor held), forward/backward on the parameters in hand, push each shard its
// gradient slice; each push answers with the shard's fresh slice (fused push+pull), so
// step c + 1 starts when all shards have answered. After each step the worker reports
// (slot, clock, loss, seconds blocked, compute seconds) to the supervisor, which answers
// with grants. It ends (done) when its last granted batch is done, or after the step in
// hand when told to stop.
//
// A loss or gradient that is not finite is reported (diverged) instead of pushed: nothing
// non-finite ever reaches a shard. The compute runs inside the handler
// (actors/compute_backend.hpp); a GPU worker is detached and waits for its stream in its
// own thread. A straggler (--straggler, --step-jitter) waits on a timer between compute
// and push, so it holds no core. Blocked time: from sending the pulls or pushes until the
// last answer arrived (round trips plus whatever the consistency model held back).
// Messages to the shards go through one seam (actors/shard_link.hpp), where --faults act.
#pragma once

#include "actors/compute_backend.hpp"
#include "actors/job_plan.hpp"
#include "actors/shard_link.hpp"
#include "core/sampler.hpp"
#include "core/splitmix64.hpp"
#include "messages/cluster.hpp"

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <vector>

namespace tether {

struct worker_state {
  static inline const char* name = "tether.worker";

  worker_spec spec;
  std::shared_ptr<const job_plan> plan;
  std::optional<batch_order> order;
  std::unique_ptr<compute_backend> backend;   ///< made at the start: CPU or GPU
  std::unique_ptr<shard_link> link;
  std::chrono::milliseconds request_timeout{30000};
  double straggler_factor = 1;                ///< a step takes this many times its compute
  splitmix64 jitter;                          ///< the worker's own stream of jitter draws

  uint64_t clock = 0;                         ///< steps done
  std::map<uint64_t, batch_ticket> tickets;   ///< granted batches by clock
  bool granted_all = false;                   ///< no grant will follow the ones held
  bool idle = false;                          ///< parameters in hand, waiting for a grant
  bool stopping = false;

  uint64_t round = 0;        ///< bumps on every restart of a step; stale answers are ignored
  size_t outstanding = 0;    ///< shard answers still awaited in this round trip
  bool recovering = false;
  std::vector<float> params;        ///< the full vector, assembled from the slices
  std::vector<uint64_t> versions;   ///< per shard: version of the slice in hand
  std::vector<float> grad;
  std::vector<std::vector<float>> spare; ///< per shard: memory for the next gradient slice
  float last_loss = 0;
  double last_compute_seconds = 0;
  std::chrono::steady_clock::time_point sent_at;
  double blocked_seconds = 0;
};

using worker_pointer = worker_actor::stateful_pointer<worker_state>;

/// Spawn with sys.spawn(worker_behavior, spec, plan) (detached when the plan puts this slot
/// on a GPU: actors/compute_backend.hpp); then send `start`.
worker_actor::behavior_type worker_behavior(worker_pointer self, worker_spec spec,
                                            std::shared_ptr<const job_plan> plan);

/// Whether slot `slot` of this plan computes on a GPU (it must be spawned detached).
bool worker_on_gpu(const job_plan& plan, uint32_t slot);

} // namespace tether
