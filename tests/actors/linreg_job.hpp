// The small, fast job the actor tests run: linear regression on the synthetic set, SGD,
// 2 workers and 2 shards, checkpoints in DIR/ckpt.
#pragma once

#include "actors/job_config.hpp"
#include "tests/temp_dir.hpp"

namespace tether::testing {

inline job_config linreg_job(const temp_dir& dir, uint32_t epochs) {
  job_config cfg;
  cfg.dataset = dataset_kind::linreg;
  cfg.model = "linear";
  cfg.optimizer.kind = optimizer_kind::sgd;
  cfg.optimizer.lr = 0.05f;
  cfg.batch = 32;
  cfg.epochs = epochs;
  cfg.workers = 2;
  cfg.shards = 2;
  cfg.checkpoint_dir = dir / "ckpt";
  return cfg;
}

} // namespace tether::testing
