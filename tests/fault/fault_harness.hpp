// Helpers of the fault-injection suite (tests/fault, docs/fault-tolerance.md): the job every
// scenario runs under one consistency model, a cluster of a coordinator and nodes on loopback
// that notes when the coordinator reports a recovery, what a run left (summary and metrics log
// read with nlohmann-json), the model's fault-free yardstick, and the checks every scenario
// ends with: finished, accuracy within the tolerance of the yardstick, no update lost, the
// model's clock-gap bound kept at every evaluation point (every metrics-log record), and the
// throughput after the recovery against the throughput before the fault.
//
// Which scenarios run where: every scenario is one ctest entry per model ("<model>: <name>").
// CI runs the quick subset (one scenario per model); the others report skipped (exit 77,
// SKIP_RETURN_CODE) unless TETHER_FAULT_FULL=1, which tests/fault/run-matrix.sh sets.
// TETHER_FAULT_TABLE=FILE appends one markdown row per scenario run.
#pragma once

#include "tests/cluster_harness.hpp"

#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace tether::fault {

using namespace tether::testing;
using json = nlohmann::json;
using wall_clock = std::chrono::system_clock;

/// A consistency model as the coordinator is told it, and the clock gap it promises.
struct model {
  const char* name;           ///< async, ssp or bsp
  uint64_t bound;             ///< the largest clock gap allowed (async: none, UINT64_MAX)
  bool bounded() const { return bound != UINT64_MAX; }
};
extern const model async_model, ssp_model, bsp_model;

/// The job's size: the expected counts are computed from these, as the coordinator does.
constexpr uint64_t train_samples = 30000, batch = 64, workers = 4;
/// Updates in `epochs` epochs: every batch of an epoch once (train_samples / batch whole
/// batches, 468); under bsp an update is a round of one batch from every worker (117).
/// Step-triggered faults are placed at fractions of this, so they fire under every model.
uint64_t expected_updates(const model& m, uint64_t epochs);

/// How far below the model's fault-free yardstick a faulted run may land (see the .cpp).
constexpr double tolerance = 0.03;

/// The job every scenario runs under `m`: 30,000 samples, `epochs` epochs, 4 workers,
/// 2 shards on 3 nodes, a checkpoint every 200 updates, an evaluation every 100 updates
/// (the metrics log's resolution), summary and metrics log in `dir`.
std::vector<std::string> job_args(const model& m, const temp_dir& dir, const std::string& ck,
                                  uint64_t epochs = 3);

/// A running job: coordinator plus nodes n1..n3 (more join as replacements). A watcher
/// thread notes the wall-clock time of every "recovered" line the coordinator prints.
struct cluster {
  temp_dir& dir;
  coordinator coord;
  std::map<std::string, std::unique_ptr<child_process>> nodes;

  cluster(temp_dir& d, std::vector<std::string> args, std::vector<std::string> node_extra = {},
          const std::string& log = "coordinator.log");
  ~cluster();

  void add_node(const std::string& name, const std::vector<std::string>& extra = {});
  /// The node whose placement line (printed at the start) satisfies `pattern` ("" if none).
  std::string node_where(const std::function<bool(const std::string&)>& pattern);
  pid_t pid_of(const std::string& name) { return nodes.at(name)->pid; }
  /// Wall-clock times of the coordinator's "recovered" lines so far.
  std::vector<wall_clock::time_point> recoveries();

private:
  std::mutex mutex_;
  std::vector<wall_clock::time_point> recovered_;
  std::atomic<bool> stop_{false};
  std::thread watcher_;
};

/// What one run left: exit code, log, summary and every metrics-log record.
struct outcome {
  int code = -1;
  std::string log;
  json summary;             ///< null when no summary was written
  std::vector<json> points; ///< the metrics log, one record per evaluation
  std::vector<wall_clock::time_point> recoveries;

  /// Test accuracy: the mean over the last epoch's evaluations (metrics log), else the
  /// summary's final figure.
  double accuracy() const;
  double count(const std::string& key) const; ///< a top-level number; NaN if missing
  double role(const std::string& group, const std::string& role) const;
  double max_recovery() const; ///< the largest recovery_seconds; NaN if none
  /// The largest max_clock_gap over every record of the metrics log and the summary.
  uint64_t max_gap() const;
};

/// Reads `dir`'s summary.json and points.jsonl (missing or unparsable files fail the test).
outcome read_outcome(const temp_dir& dir);

/// Waits for the job to end (then for its nodes) and reads what it left.
outcome finish(cluster& c, std::chrono::seconds limit = 240s);

/// Samples per training second before `fault` and after `recovered`, from the metrics log
/// (samples = samples_per_sec * training_seconds at each record); NaN where the log has
/// too few records on that side.
struct throughput {
  double before = std::nan(""), after = std::nan("");
  double ratio() const { return after / before; }
};
throughput throughput_around(const outcome& out, wall_clock::time_point fault,
                             wall_clock::time_point recovered);

/// The model's fault-free accuracy: the lowest of three runs, cached next to the binary.
double baseline_accuracy(const model& m, const std::vector<std::string>& extra = {});

/// Every checkpoint file in `ck` verifies (`tether inspect` exits 0), but `except`.
bool checkpoints_verify(const std::string& ck, const std::string& except = {});

/// The checks every scenario ends with (exit 0, accuracy, updates_lost 0 unless
/// `lost_allowed`, the gap bound at every record).
void common_checks(const model& m, const outcome& out, double base, double within = tolerance,
                   bool lost_allowed = false);

/// Sends `signal` to node `name` once the coordinator printed `after`; returns the time
/// of the signal.
wall_clock::time_point signal_after(cluster& c, const std::string& name, int signal,
                                    const std::string& after = "epoch  1.");

/// Seconds from `fault` to the first recovery after it (NaN if none within the run).
double recovery_after(const outcome& out, wall_clock::time_point fault);

/// "worker 1, shard 0, standby 0 / shard 1": restarts by role / shard failovers.
std::string counts(const outcome& out);

/// Appends the scenario's row to $TETHER_FAULT_TABLE (for docs/fault-tolerance.md).
void record(const model& m, const std::string& scenario, const outcome& out, double base,
            double recovery = std::nan(""), throughput tp = {});

/// Ends the test as skipped (exit 77) unless this scenario runs here: `quick` ones always,
/// the others only with TETHER_FAULT_FULL=1.
void only_in_full_matrix(bool quick);

bool has_shard(const std::string& placement_line);

} // namespace tether::fault

/// One ctest entry per model: "async: NAME", "ssp: NAME", "bsp: NAME", each calling
/// FN(model); QUICK_MODEL (nullptr for none) names the one model whose entry CI runs.
/// NAME must hold no ';' ',' '*' or '?' (ctest and doctest filters split or match on them).
#define TETHER_FAULT_SCENARIO(NAME, FN, QUICK_MODEL)                                           \
  TEST_CASE("async: " NAME) {                                                                   \
    ::tether::fault::only_in_full_matrix(QUICK_MODEL == &::tether::fault::async_model);         \
    FN(::tether::fault::async_model);                                                           \
  }                                                                                             \
  TEST_CASE("ssp: " NAME) {                                                                     \
    ::tether::fault::only_in_full_matrix(QUICK_MODEL == &::tether::fault::ssp_model);           \
    FN(::tether::fault::ssp_model);                                                             \
  }                                                                                             \
  TEST_CASE("bsp: " NAME) {                                                                     \
    ::tether::fault::only_in_full_matrix(QUICK_MODEL == &::tether::fault::bsp_model);           \
    FN(::tether::fault::bsp_model);                                                             \
  }

namespace tether::fault {

/// Throughput after the recovery, against before the fault: both measured, and after at
/// least `floor` times before (loose: 2-core machines shared with other jobs are noisy).
void throughput_checks(const throughput& tp, double floor = 0.4);

/// Waits until `ck` holds a checkpoint of at least `updates` updates (name ckpt-N.tether).
bool wait_for_checkpoint(const std::string& ck, uint64_t updates, std::chrono::seconds limit);

} // namespace tether::fault
