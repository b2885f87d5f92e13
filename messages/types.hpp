// The messages that cross actor boundaries and the checkpoint contents, as plain C++
// types. Inside one process actors pass these directly (moved, no copy); across
// processes and on disk they are Cap'n Proto messages made by the codecs in
// messages/codec.hpp and messages/checkpoint_file.hpp. Cap'n Proto types never leave
// messages/.
//
// Units: clocks count a worker's pushed gradients; versions count the gradients a
// shard has applied; offsets and sizes count float32 elements of the flat vector.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tether {

/// worker -> shard: "give me your slice", the worker being at clock `clock`.
struct pull_request {
  uint32_t worker = 0;
  uint64_t clock = 0;
};

/// worker -> shard: one gradient for the shard's key range.
struct push_request {
  uint32_t worker = 0;
  uint64_t clock = 0;         ///< the worker's clock: gradients it pushed before this one
  uint64_t base_version = 0;  ///< the shard version of the parameters the gradient was computed on
  uint64_t range_begin = 0;   ///< offset of grad[0] in the flat vector (checks the routing)
  std::vector<float> grad;    ///< float32, the shard's range size
};

/// shard -> worker: the shard's parameters at `version`.
struct param_slice {
  uint64_t version = 0;
  uint64_t range_begin = 0;
  std::vector<float> values;  ///< float32, the shard's range size
};

/// One shard's complete state: enough to restart it exactly.
struct shard_state {
  uint32_t index = 0;
  uint64_t range_begin = 0;
  uint64_t range_end = 0;
  uint64_t version = 0;                     ///< gradients applied
  std::vector<float> params;                ///< range_end - range_begin floats
  std::vector<std::vector<float>> slots;    ///< optimizer slots, each params.size()
  uint64_t optimizer_steps = 0;
  std::vector<uint64_t> applied_clocks;     ///< per worker: clocks applied (0 = none yet)
  /// Per worker: how many of its gradients this state holds (distinct clocks; a BSP
  /// round counts each member's). The fault audit compares it with the steps workers
  /// were acknowledged (updates_lost). Empty in checkpoints of older builds.
  std::vector<uint64_t> applied_counts;
};

/// A primary shard -> its hot standby: everything needed to go on exactly where the
/// primary is, including a BSP round being gathered and which workers are live.
struct replica_image {
  shard_state state;
  std::vector<float> round_sum;       ///< BSP: the open round's sum; empty: no round open
  std::vector<uint64_t> round_clocks; ///< per worker: its gradient's clock in the round, or
                                      ///< UINT64_MAX: not in the round
  std::vector<uint8_t> live;          ///< per worker: 1 = counts for the consistency model
};

/// What a shard has seen so far: staleness of the gradients it applied and the clock
/// gaps of the answers it gave.
struct shard_stats {
  uint64_t applied = 0;                 ///< gradients applied (BSP: each gradient of a round)
  uint64_t duplicates = 0;              ///< pushes skipped as already applied
  double tau_sum = 0;                   ///< sum of tau over applied gradients
  uint64_t tau_max = 0;
  std::vector<uint64_t> tau_histogram;  ///< [tau] -> gradients; the last bucket holds tau >= its index
  uint64_t max_clock_gap = 0;           ///< max over answered pulls of c - smallest live clock
  uint64_t answers = 0;                 ///< pulls and pushes answered
};

/// One checkpoint: every shard at one cut, plus what is needed to resume the job.
struct checkpoint_data {
  uint64_t updates = 0;                  ///< updates applied to the whole model at the cut
  std::string model;                     ///< model spec, canonical text
  uint64_t layout_fingerprint = 0;       ///< param_layout::fingerprint()
  uint64_t total_params = 0;
  std::string optimizer;                 ///< "sgd", "momentum", "adam"
  std::string consistency;               ///< "async" (more with the consistency issue)
  uint64_t seed = 0;
  std::vector<uint64_t> worker_steps;    ///< per worker: batches completed (its clock)
  std::vector<shard_state> shards;       ///< ordered by range, covering [0, total_params)
  std::string config;                    ///< the job's effective options, one "name=value" a line
  int64_t created_unix_ms = 0;
};

} // namespace tether
