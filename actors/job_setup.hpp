// The steps before a job's actors start, as plain functions: load the data, build the
// model, prepare the checkpoint directory, and work out the starting state (fresh, or
// from the newest good checkpoint, re-split across another number of shards).
#pragma once

#include "actors/job.hpp"
#include "core/dataset.hpp"
#include "core/layout.hpp"
#include "core/model.hpp"
#include "messages/types.hpp"

#include <memory>
#include <vector>

namespace tether {

struct job_start {
  train_test data;
  std::shared_ptr<const model> net;
  std::vector<key_range> ranges;
  std::vector<shard_state> shards;       ///< per shard: its starting state
  std::vector<uint64_t> worker_start;    ///< per worker: batches already done
  uint64_t steps_per_epoch = 0;
  uint64_t total_steps = 0;              ///< per worker
  uint64_t updates_per_epoch = 0;        ///< bsp: steps_per_epoch; else x workers
  optimizer_config optimizer;            ///< the job's, with the cosine horizon filled in
  std::string resumed_from;
  std::vector<double> least_squares;     ///< linreg only
};

/// A failure with its kind, or the start. `note` receives informational lines.
struct setup_error {
  job_failure kind;
  std::string message;
};

/// The job's data as its options say (--dataset, --data-dir or --train/--test,
/// --limit-train). Nodes of a cluster call it too, with their own --data-dir.
std::variant<train_test, setup_error> load_job_data(const job_config& cfg);

std::variant<job_start, setup_error>
prepare_job(const job_config& cfg, const std::function<void(const std::string&)>& note);

/// Splits a checkpoint's shards (any split) into `ranges`: concatenates parameters and
/// optimizer slots and cuts them again. Versions and optimizer steps take the maximum.
std::vector<shard_state> resplit(const std::vector<shard_state>& from,
                                 const std::vector<key_range>& ranges);

} // namespace tether
