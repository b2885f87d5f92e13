// A snapshot of a running job, published by the supervisor about once a second: what
// the metrics endpoint, the status page and --metrics-log show. Plain data.
#pragma once

#include "actors/report.hpp"

#include <array>
#include <cmath>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace tether {

/// Upper bounds (seconds) of the step-time histogram buckets; a last bucket is +Inf.
inline constexpr std::array<double, 11> step_time_bounds{0.0005, 0.001, 0.002, 0.005, 0.01, 0.02,
                                                         0.05,   0.1,   0.2,   0.5,   1.0};

struct worker_status {
  uint32_t index = 0;
  bool alive = false;
  uint64_t clock = 0;            ///< batches completed
  uint64_t samples = 0;          ///< training samples processed in this run
  double blocked_seconds = 0;    ///< waiting for the shards' answers (pull wait)
  std::string node;              ///< where it runs: a node's name, or nodes.front() (this process)
  double last_loss = 0;
  uint64_t steps = 0;            ///< steps timed in this run
  double step_seconds_sum = 0;   ///< compute time of those steps
  std::vector<uint64_t> step_buckets; ///< per bucket of step_time_bounds, then +Inf (not cumulative)
};

struct shard_status {
  uint32_t index = 0;
  uint64_t range_begin = 0, range_end = 0;
  uint64_t version = 0;          ///< updates applied
  uint64_t applied = 0;          ///< gradients applied
  std::string node;              ///< where it runs, as worker_status::node
};

struct node_status {
  std::string name;
  bool up = true;
};

struct job_status {
  std::string state = "starting"; ///< starting, training, finishing, finished
  std::string model, consistency, dataset;
  uint32_t workers = 0, shards = 0, epochs = 0;
  std::string config;            ///< effective options, "name=value" a line

  double wall_seconds = 0, training_seconds = 0;
  uint64_t updates = 0, samples = 0;
  double epoch = 0;
  double samples_per_sec = 0;
  double train_loss = NAN;       ///< mean of the last 100 steps; NaN before the first
  double test_accuracy = NAN;    ///< at the last evaluation; NaN before the first
  double test_loss = NAN;        ///< the LM: validation nats per byte
  // The language model (context > 0): its figures at the last evaluation.
  uint64_t context = 0;          ///< bytes predicted per sample; 0 for the dense models
  double tokens_per_sec = 0;     ///< samples_per_sec x context
  double valid_bits_per_byte = NAN;
  std::string sample;            ///< the text generated at the last evaluation
  std::vector<progress_point> curve;

  std::vector<worker_status> worker;
  std::vector<shard_status> shard;
  std::vector<uint64_t> staleness_histogram; ///< [tau] -> gradient applications (all shards)
  double tau_sum = 0;
  uint64_t tau_count = 0;
  uint64_t clock_lag = 0, max_clock_gap = 0;
  std::map<std::string, uint64_t> restarts{{"worker", 0}, {"shard", 0}, {"checkpointer", 0}};

  uint64_t checkpoints_written = 0;
  double checkpoint_seconds_sum = 0; ///< all checkpoint writes
  double checkpoint_seconds_last = 0;
  uint64_t checkpoint_bytes_last = 0;
  /// The processes of the job: "local" alone for `tether train`; for a cluster
  /// "coordinator" (supervisor, checkpointer) first, then every node that joined.
  std::vector<node_status> nodes{{"local", true}};
};

} // namespace tether
