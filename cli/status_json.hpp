// A job_status as the JSON document GET /status answers; the status page draws it.
//
//   { "state", "model", "dataset", "consistency", "workers", "shards", "epochs",
//     "config": {name: value, ...},            (the effective options, as strings)
//     "nodes": [{"name", "up"}],
//     "actors": [{"role", "index", "node", "alive"}],  (supervisor, checkpointer, workers, shards)
//     "progress": {wall_seconds, training_seconds, updates, samples, epoch, samples_per_sec,
//                  train_loss, test_accuracy, test_loss, mean_staleness, clock_lag,
//                  max_clock_gap},
//     "worker": [{index, alive, clock, samples, blocked_seconds, last_loss, steps,
//                 step_seconds_sum, step_buckets}],
//     "shard": [{index, range_begin, range_end, version, applied}],
//     "step_time_bounds": [seconds...],        (step_buckets has one more: +Inf)
//     "staleness": {"histogram": [count per tau], "sum", "count"},
//     "restarts": {role: count}, "checkpoints": {written, seconds_sum, seconds_last, bytes_last},
//     "curve": [progress point, ...] }
//
// NaN (no loss or accuracy yet) is written as null. Times are seconds, sizes bytes.
// In one process every actor runs on the first node ("local").
// Thread-safety: pure functions.
#pragma once

#include "actors/job_status.hpp"
#include "actors/report.hpp"
#include "cli/json.hpp"

#include <string>

namespace tether {

std::string status_json(const job_status& status);

/// One progress point as a JSON object (the keys of the summary file's curve); shared by
/// status_json and metrics_log.
void write_progress_point(json_writer& w, const progress_point& p, bool regression = false);
/// The same members, written into an object the caller has begun.
void write_progress_fields(json_writer& w, const progress_point& p, bool regression = false);

} // namespace tether
