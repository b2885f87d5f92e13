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

/// One batch of the job: batch `index` of epoch `epoch`'s sample order (ps/work_dispatcher.hpp
/// hands them out, core/sampler.hpp turns them into sample indices).
struct batch_ticket {
  uint32_t epoch = 0;
  uint32_t index = 0;
  friend bool operator==(const batch_ticket&, const batch_ticket&) = default;
};

/// Where a job is in its data, as a checkpoint keeps it (ps/work_dispatcher.hpp): the next
/// batch to hand out and the batches handed out but not done at the cut.
struct work_position {
  uint32_t batch = 0;                  ///< samples per batch when taken (0: none stored)
  batch_ticket next;
  std::vector<batch_ticket> pending;
  uint64_t clock = 0;                  ///< bsp: every worker's clock at the cut
};

/// supervisor -> worker: the batches of its next clocks, `first_clock` onwards; `last`: no
/// more will follow (the worker finishes after these).
struct work_grant {
  uint64_t first_clock = 0;
  std::vector<batch_ticket> tickets;
  bool last = false;
};

/// worker -> supervisor: a step done. `clock` is the worker's steps done so far (the
/// step just finished is clock - 1).
struct step_report {
  uint32_t slot = 0;
  uint64_t clock = 0;
  float loss = 0;              ///< mean training loss of the step's batch
  double blocked_seconds = 0;  ///< the worker's time waiting for shards so far (this life)
  double step_seconds = 0;     ///< compute time of the step
};

/// Who a node is and what it offers (node agent -> registrar, registrar -> supervisor).
struct node_hello {
  std::string version;  ///< tether's version, "0.1.0"
  std::string schema;   ///< schema identity (messages/version.hpp)
  std::string name;     ///< unique in the cluster (--name, default the host name)
  std::string host;     ///< the machine's host name, for messages
  uint32_t cores = 1;   ///< actors the node runs at once (--cores)
  int64_t pid = 0;
};

/// The coordinator's answer to a hello.
struct node_ticket {
  bool accepted = false;
  std::string reason;             ///< why not, when refused (print it and exit)
  std::string coordinator_version;
  std::string coordinator_schema;
  std::string options;            ///< the job's effective options, "name=value" a line
  std::string model;              ///< the completed model spec
  uint64_t train_count = 0;       ///< training samples the node must have
  uint64_t train_fingerprint = 0; ///< core/dataset.hpp fingerprint() of the training set
};

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

/// A primary shard -> its hot standby: everything needed to go on exactly where the
/// primary is, including a BSP round being gathered and which workers are live.
struct replica_image {
  shard_state state;
  std::vector<float> round_sum;       ///< BSP: the open round's sum; empty: no round open
  std::vector<uint64_t> round_clocks; ///< per worker: its gradient's clock in the round, or
                                      ///< UINT64_MAX: not in the round
  std::vector<uint8_t> live;          ///< per worker: 1 = counts for the consistency model
  shard_stats stats;                  ///< the primary's statistics, continued by the standby
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
  work_position work;                    ///< where the job is in its data
};

} // namespace tether
