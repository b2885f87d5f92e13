// The steps before a job's actors start, as plain functions: load the data, build the
// model, prepare the checkpoint directory, and work out the starting state (fresh, or
// from the newest good checkpoint, re-split across another number of shards).
#pragma once

#include "actors/job.hpp"
#include "actors/job_plan.hpp"
#include "core/dataset.hpp"
#include "core/layout.hpp"
#include "core/model.hpp"
#include "messages/types.hpp"

#include <memory>
#include <optional>
#include <optional>
#include <vector>

namespace tether {

struct job_start {
  std::shared_ptr<const job_plan> plan;
  std::vector<shard_state> shards;       ///< per shard: its starting state
  std::vector<uint64_t> worker_start;    ///< per starting worker slot: its clock
  uint64_t start_updates = 0;            ///< updates already applied (a resume)
  work_position work;                    ///< where the data order goes on from
  bool resumed = false;
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

/// The model of the options, completed from the data, and the plan (actors/job_plan.hpp)
/// with every check of the options against each other, the data and the model. Nodes of
/// a cluster call it too, on the options of their ticket. Before the model's memory is
/// allocated, its need (core/training_memory.hpp) is checked against this process's
/// memory ceiling: a job that cannot fit is a usage error naming both figures.
/// `workers_here` is the number of workers this process runs: every one for `tether
/// train` (the default, cfg.workers), none for a coordinator whose workers run on nodes,
/// a node's --cores for a node.
std::variant<std::shared_ptr<const job_plan>, setup_error>
plan_job(const job_config& cfg, train_test data,
         std::optional<uint32_t> workers_here = std::nullopt);

/// Loads the data, plans the job (plan_job) and works out the starting state: fresh, or
/// from the newest good checkpoint, re-split across another number of shards.
std::variant<job_start, setup_error>
prepare_job(const job_config& cfg, const std::function<void(const std::string&)>& note,
            std::optional<uint32_t> workers_here = std::nullopt);

/// Splits a checkpoint's shards (any split) into `ranges`: concatenates parameters and
/// optimizer slots and cuts them again. Versions and optimizer steps take the maximum.
std::vector<shard_state> resplit(const std::vector<shard_state>& from,
                                 const std::vector<key_range>& ranges);

} // namespace tether
