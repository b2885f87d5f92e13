// The worker actor: trains on its partition of every epoch.
//
//   joining --pulls answered--> training --clock == total or stop--> done
//      ^                           |
//      +------ a shard failed -----+   (wait, ask the supervisor for the shard list,
//                                       pull everything again, redo the same clock)
//
// One step: gather batch `clock` of this worker's partition, forward/backward on the
// parameters in hand, push each shard its gradient slice; each push answers with
// the shard's fresh slice (fused push+pull), so the next step starts when all shards
// have answered. After each step the worker reports (clock, loss, seconds blocked) to
// the supervisor. The compute runs inside the handler (actors/compute_backend.hpp): on
// the CPU one step is about a millisecond; a GPU worker is detached and waits for its
// stream in its own thread.
// A straggler (or jitter) waits on a timer between compute and push, so it holds no core.
// Blocked time: from sending the pulls or pushes until the last answer arrived (round
// trips plus whatever the consistency model held back).
//
// Injected message faults (--faults, drawn from the worker's own seeded stream): a
// dropped request is not sent or its answer is ignored (half each), so the worker waits
// --request-timeout and starts the step again; a duplicated one is sent twice; a delayed
// one leaves later; a flipped one is encoded, has one byte changed and is decoded again,
// as a receiver would (a message that no longer decodes is dropped).
#pragma once

#include "actors/compute_backend.hpp"
#include "actors/interfaces.hpp"
#include "core/dataset.hpp"
#include "core/fault_plan.hpp"
#include "core/layout.hpp"
#include "core/model.hpp"
#include "core/sampler.hpp"
#include "core/splitmix64.hpp"

#include <chrono>
#include <memory>
#include <optional>
#include <vector>

namespace tether {

struct worker_args {
  uint32_t id = 0;
  uint32_t workers = 1;
  uint32_t batch = 64;
  uint64_t seed = 1;
  uint64_t start_clock = 0;  ///< batches already done (resume, restart)
  uint64_t total_steps = 0;  ///< batches to do in the whole job
  std::shared_ptr<const dataset> train;
  std::shared_ptr<const model> net;
  std::vector<shard_actor> shards;
  std::vector<key_range> ranges;
  caf::actor supervisor;
  std::chrono::milliseconds request_timeout{30000};
  double straggler_factor = 1;  ///< each step takes this many times its compute time
  double step_jitter = 0;       ///< plus uniform [0, x] times its compute time
  /// --faults: what happens to this worker's pushes and pulls (actors/message_faults.hpp)
  message_faults push_faults, pull_faults;
  uint64_t fault_seed = 1;
  /// --gpus: the CUDA device this worker computes on (-1: the CPU) and --gpu-math. A GPU
  /// worker must be spawned detached (actors/compute_backend.hpp says why).
  int gpu = -1;
  std::string gpu_math = "fp32";
};

struct worker_state {
  static inline const char* name = "tether.worker";

  worker_args args;
  std::optional<epoch_sampler> sampler;
  uint64_t clock = 0;
  uint64_t round = 0;          ///< bumps on every recovery; stale replies are ignored
  size_t outstanding = 0;      ///< shard replies still awaited in this round-trip
  bool recovering = false;
  bool stopping = false;
  std::vector<float> params;   ///< the full vector, assembled from the slices
  std::vector<uint64_t> versions; ///< per shard: version of the slice in hand
  std::vector<float> grad;
  std::unique_ptr<compute_backend> backend; ///< made at the start: CPU or GPU
  /// per shard: a buffer for the next gradient slice (the last reply's memory)
  std::vector<std::vector<float>> spare;
  float last_loss = 0;
  double last_compute_seconds = 0;
  splitmix64 jitter;           ///< the worker's own stream of jitter draws
  splitmix64 fault_draws;      ///< the worker's own stream of message-fault draws
  std::vector<push_request> delayed; ///< per shard: a push held back by a delay fault
  std::chrono::steady_clock::time_point sent_at;
  double blocked_seconds = 0;
};

caf::behavior worker_behavior(caf::stateful_actor<worker_state>* self, worker_args args);

} // namespace tether
