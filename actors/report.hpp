// What a job tells the outside while it runs (progress points) and when it ends (the
// report). Plain data: cli/ prints and writes them (progress lines, --summary).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace tether {

/// One evaluation point: after an epoch, every --eval-every updates, and at the end.
struct progress_point {
  double wall_seconds = 0;     ///< since the job started (data loading included)
  double training_seconds = 0; ///< training time so far, evaluation pauses excluded
  uint64_t updates = 0;        ///< gradients applied to the whole model
  double epoch = 0;            ///< updates / updates per epoch
  double train_loss = 0;       ///< mean training loss of the last 100 steps
  double test_loss = 0;        ///< the LM: validation loss in nats per byte
  double test_accuracy = 0;    ///< whole test set; 0 for regression
  double test_mse = 0;         ///< regression only
  bool text = false;           ///< a point of the LM: the fields below are set
  double valid_bits_per_byte = 0; ///< the LM: test_loss (nats per byte) / ln 2
  double tokens_per_sec = 0;   ///< the LM: training tokens / training_seconds so far
  std::string sample;          ///< the LM: text generated at this point (actors/evaluate.hpp)
  double samples_per_sec = 0;  ///< training samples / training_seconds so far
  double mean_staleness = 0;   ///< tau in shard versions, over applied gradients so far
  uint64_t max_staleness = 0;
  uint64_t max_clock_gap = 0;  ///< worker clocks: max over answers of c - slowest live clock
  uint64_t clock_lag = 0;      ///< worker clocks: fastest minus slowest live worker now
  double blocked_seconds = 0;  ///< all workers together, waiting for answers so far
  bool final = false;          ///< the point of the final checkpoint
};

struct job_report {
  std::vector<progress_point> curve;  ///< every point, the final one last
  progress_point final_point;
  std::vector<float> final_params;    ///< the parameters of the final checkpoint
  uint64_t updates = 0;
  uint64_t samples = 0;               ///< training samples processed in this run
  double training_seconds = 0;
  double wall_seconds = 0;
  double final_train_loss = 0;
  std::map<std::string, uint64_t> restarts{
    {"worker", 0}, {"shard", 0}, {"standby", 0}, {"checkpointer", 0}};
  std::vector<uint64_t> staleness_histogram; ///< [tau] -> gradient applications (all shards)
  uint64_t clock_lag_max = 0;         ///< largest fastest-minus-slowest clock difference seen
  double blocked_seconds = 0;         ///< all workers together
  std::string checkpoint_path;        ///< the final checkpoint; empty if it could not be written
  std::string checkpoint_error;       ///< why the last checkpoint write failed, if it did
  /// The newest checkpoint this run wrote (the final one, or an earlier one when the final
  /// write failed or none was taken), and the updates it holds; empty: none written.
  std::string newest_checkpoint;
  uint64_t newest_checkpoint_updates = 0;
  /// The final cut was best effort and these shards did not answer: their part of the
  /// final parameters and checkpoint is their restore point (the newest checkpoint).
  std::vector<size_t> shards_from_restore_point;
  bool diverged = false;              ///< a worker's loss or gradient was not finite
  bool stopped_early = false;         ///< a stop was asked for (signal)
  std::string failure;                ///< empty on success; else what went wrong
  bool budget_spent = false;          ///< the failure is a spent restart budget
  std::vector<std::string> nodes;     ///< cluster: every node that took part, in join order
  /// Per failure of a worker or shard: seconds from the supervisor learning of it to the
  /// first progress report after the restart (a worker's own; any, for a shard).
  std::vector<double> recovery_seconds;
  std::map<std::string, uint64_t> moves{{"worker", 0}, {"shard", 0}}; ///< cluster: drains, rebalancing
  /// A hot standby took over from its failed primary (by role: "shard").
  std::map<std::string, uint64_t> failovers{{"shard", 0}};
  uint32_t shard_replicas = 0;        ///< hot standbys per shard this job ran with
  /// The audit at the final cut: per shard, gradients workers were answered for that
  /// its final parameters do not hold (a shard restored from a checkpoint loses those
  /// since the checkpoint); updates_lost is the largest. 0 with standbys.
  std::vector<uint64_t> updates_lost_by_shard;
  uint64_t updates_lost = 0;
  std::vector<std::string> faults_injected; ///< --faults: what was done, in order
};

} // namespace tether
