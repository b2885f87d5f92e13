// A job's plan: its options and everything derived from them that every actor of the job
// needs: the model, the training data, the split of the parameters into shards, the
// optimizer with its schedule's horizon, the size of an epoch. Made once per process, by
// the coordinator (or `tether train`) from the command line and by each node from the
// options in its ticket, with the same function, so both derive the same plan. Immutable
// once made and shared read-only (std::shared_ptr<const job_plan>) by the actors of the
// process: a placement carries only what is particular to one actor.
#pragma once

#include "actors/job_config.hpp"
#include "core/dataset.hpp"
#include "core/gpt_model.hpp"
#include "core/layout.hpp"
#include "core/model.hpp"
#include "core/status.hpp"

#include <memory>
#include <vector>

namespace tether {

/// The plan holds one of two models: a dense stack (net, with data.train and data.test)
/// or the GPT (gpt, with data.text). Everything that does not care which goes through the
/// members below (layout, model text, training samples, fingerprint, initialisation);
/// the worker's compute goes through actors/compute_backend.hpp, the evaluation through
/// actors/evaluate.hpp. The dense path is exactly what it was: no virtual call per step.
struct job_plan {
  job_config cfg;
  std::shared_ptr<const model> net;     ///< dense models; null for the GPT
  std::shared_ptr<const gpt_model> gpt; ///< --model=gpt:...; null for the dense models
  train_test data;                 ///< a node has the training set only (test is null)
  std::vector<key_range> ranges;   ///< shard j owns ranges[j] of the flat vector
  optimizer_config optimizer;      ///< cfg.optimizer with the cosine horizon filled in
  uint64_t updates_per_epoch = 0;  ///< bsp: rounds per epoch; else batches per epoch
  uint64_t planned_updates = 0;    ///< the whole job, as planned at the start

  const param_layout& layout() const { return gpt ? gpt->layout() : net->layout(); }
  /// The canonical --model text ("mlp:784,256,128,10", "gpt:layers=4,...").
  std::string model_text() const { return gpt ? gpt->config().to_string() : net->spec().to_string(); }
  /// Training samples: dense samples, or text windows (core/text_corpus.hpp).
  uint64_t train_count() const;
  /// The training data's fingerprint, which nodes compare with the coordinator's.
  uint64_t train_fingerprint() const;
  /// The initial parameters of the job's model from a seed.
  void init_params(std::span<float> params, uint64_t seed) const;

  uint32_t slot_capacity() const { return cfg.slot_capacity(); }
  bool lockstep() const { return cfg.consistency.model == consistency_model::bsp; }
  /// Batches of `cfg.batch` samples per epoch.
  uint64_t batches_per_epoch() const { return train_count() / cfg.batch; }
};

/// Derives the plan from options, data and a built model. errc::invalid_argument for
/// options that do not fit the data or the model (too many shards for the parameters,
/// fewer samples than --workers x --batch), naming the options and what to do.
result<std::shared_ptr<const job_plan>> make_job_plan(const job_config& cfg, train_test data,
                                                      std::shared_ptr<const model> net);
/// The same for the GPT on a text (data.text set).
result<std::shared_ptr<const job_plan>> make_job_plan(const job_config& cfg, train_test data,
                                                      std::shared_ptr<const gpt_model> gpt);

} // namespace tether
