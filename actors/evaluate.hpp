// The evaluation at a progress point, for either model of a plan: the dense models on the
// whole test set (loss, accuracy, mse), the GPT on the fixed validation sample
// (gpt_eval_windows windows: loss in nats and bits per byte) plus a short generated sample.
#pragma once

#include "actors/job_plan.hpp"
#include "actors/report.hpp"

#include <span>

namespace tether {

/// Bytes of the sample generated at each LM evaluation, its temperature and top-k. The
/// seed is the job's seed plus the update count: the same job prints the same samples.
inline constexpr size_t lm_sample_bytes = 80;
inline constexpr float lm_sample_temperature = 0.8f;
inline constexpr size_t lm_sample_top_k = 40;

/// Fills p's test (validation) figures from `params`; nothing when the plan has no test
/// data (a node). Runs in the caller's thread; allocates its own workspace.
void evaluate_point(const job_plan& plan, std::span<const float> params, progress_point& p);

} // namespace tether
