// Everything a training job is told. cli/ fills it from the command line (one table of
// options in cli/options.cpp is the single source of names and defaults); the actors
// read it. Plain data, no CAF.
#pragma once

#include "core/consistency.hpp"
#include "core/fault_plan.hpp"
#include "core/optimizer.hpp"

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

namespace tether {

enum class dataset_kind { fashion_mnist, idx, linreg, csv, text };

/// The --dataset spelling of a kind.
inline const char* to_string(dataset_kind kind) {
  switch (kind) {
    case dataset_kind::fashion_mnist: return "fashion-mnist";
    case dataset_kind::idx: return "idx";
    case dataset_kind::linreg: return "linreg";
    case dataset_kind::csv: return "csv";
    case dataset_kind::text: return "text";
  }
  return "?";
}

/// The learning rate each optimizer gets when --lr is not given: values that train
/// the default MLP on Fashion-MNIST well (bench/RESULTS.md).
inline float default_lr(optimizer_kind kind) {
  switch (kind) {
    case optimizer_kind::sgd: return 0.1f;
    case optimizer_kind::momentum: return 0.02f;
    case optimizer_kind::adam: return 0.001f;
    case optimizer_kind::adamw: return 0.001f;
  }
  return 0.001f;
}

inline optimizer_config default_optimizer() {
  optimizer_config cfg;
  cfg.kind = optimizer_kind::adam;
  cfg.lr = 0.001f;
  return cfg;
}

struct job_config {
  // data
  dataset_kind dataset = dataset_kind::fashion_mnist;
  std::string data_dir = "/usr/share/datasets/fashion-mnist";
  uint64_t limit_train = 0;              ///< 0: all training samples
  std::string train_path;                ///< csv: the training file (core/csv_dataset.hpp)
  std::string test_path;                 ///< csv: the test file
  std::string valid_path;                ///< text: the validation file (empty: 90/10 split)
  // model and optimisation
  std::string model = "mlp:784,256,128,10"; ///< parsed by parse_model_spec
  /// kind, lr, weight decay, schedule, warmup. Default: Adam at lr 0.001, which
  /// reached 0.866-0.870 test accuracy after 3 epochs over seeds 1-3 (SGD at lr 0.1:
  /// 0.843-0.858; momentum at 0.02: 0.857-0.859); see bench/RESULTS.md.
  optimizer_config optimizer = default_optimizer();
  uint32_t batch = 64;                     ///< per worker
  uint32_t epochs = 3;
  uint64_t steps = 0;                      ///< updates of the whole job; 0: --epochs decide
  uint64_t seed = 1;
  double clip = 0;                         ///< worker-side clipping by global norm; 0: off
  // cluster in one process
  uint32_t workers = 2;                    ///< worker slots at the start
  uint32_t max_workers = 0;                ///< the job may grow to this many (0: workers)
  uint32_t min_workers = 0;                ///< and shrink to this many (0: workers)
  uint32_t shards = 2;
  consistency_config consistency;          ///< model, staleness bound, lr rule, DC lambda
  // heterogeneity, made reproducible (seeded)
  struct straggler {
    uint32_t worker = 0;
    double factor = 1;                     ///< the worker's step takes factor x its compute time
  };
  std::vector<straggler> stragglers;
  double step_jitter = 0;                  ///< extra per-step wait, uniform in [0, x] x compute time
  // checkpoints
  std::string checkpoint_dir = "./checkpoints";
  uint64_t checkpoint_every = 0;           ///< updates between checkpoints; 0: only the final one
  uint32_t checkpoint_keep = 3;            ///< newest checkpoints kept
  bool resume = false;
  // supervision
  uint32_t max_restarts = 5;               ///< restarts allowed per restart window
  double restart_window_seconds = 60;
  // GPU workers (docs/gpu.md): the first gpus.size() workers compute on these CUDA devices
  std::vector<int> gpus;
  std::string gpu_math = "fp32";           ///< fp32, or tf32 (tensor cores for fp32 products)
  // fault tolerance (docs/fault-tolerance.md)
  int shard_replicas = -1;                 ///< hot standbys per shard (0 to 3); -1: 1 when the
                                           ///< cluster has 2 or more nodes, else 0
  double request_timeout_seconds = 30;     ///< a worker waits this long for a shard, then asks again
  std::string faults;                      ///< --faults as given (plan text or file)
  fault_plan fault;                        ///< the parsed plan (empty: no fault injected)
  // reporting
  uint64_t eval_every = 0;                 ///< updates between test evaluations; 0: epoch ends only
  std::string summary_path;                ///< empty: no summary file
  bool quiet = false;
  bool verbose = false;                    ///< also the effective options and per-worker lines
  std::string metrics;                     ///< HOST:PORT of the metrics server; empty: off
  std::string metrics_token;               ///< file holding the bearer token
  std::string metrics_log;                 ///< one JSON line per evaluation point
  std::string log_file;                    ///< every line tether prints, timestamped
  std::string log_level = "info";          ///< error, warning or info
  /// The most worker slots the job can have (--max-workers, at least --workers).
  uint32_t slot_capacity() const { return std::max(workers, max_workers); }
  /// The fewest it shrinks to (--min-workers, at most --workers; 0 means --workers).
  uint32_t slot_floor() const { return min_workers == 0 ? workers : std::min(workers, min_workers); }

  // text of every option, "name=value" a line, as the user's job saw it (for checkpoints)
  std::string effective_options;
};

} // namespace tether
