// The consistency model of a job: how stale the parameters a worker computes on may be.
//
//   async  no bound: every pull and push is answered at once.
//   ssp    stale-synchronous parallel (Ho et al., NIPS 2013) with bound S: a worker
//          whose clock is c (gradients pushed) is given parameters only when the
//          smallest clock among live workers is at least c - S. S = 0 is lock-step.
//   bsp    bulk-synchronous: per clock, the gradients of every live worker are averaged
//          and applied as one update; the next clock's parameters come after it.
//
// Server-side staleness handling (async and ssp), tau = shard version at apply minus the
// version the gradient was computed on:
//   staleness_lr inverse: lr / max(1, tau)   (Zhang et al. 2016)
//   dc_lambda > 0: g + lambda * g * g * (w_now - w_read)   (DC-ASGD, Zheng et al. 2017)
#pragma once

#include "core/status.hpp"

#include <cstdint>
#include <string>

namespace tether {

enum class consistency_model { async, ssp, bsp };
enum class staleness_lr { none, inverse };

struct consistency_config {
  consistency_model model = consistency_model::async;
  uint64_t staleness = 0;                 ///< S, in worker clocks (ssp only)
  staleness_lr lr_rule = staleness_lr::none;
  float dc_lambda = 0;                    ///< 0: delay compensation off
};

result<consistency_model> parse_consistency_model(const std::string& text);
result<staleness_lr> parse_staleness_lr(const std::string& text);
const char* to_string(consistency_model model);
const char* to_string(staleness_lr rule);

} // namespace tether
