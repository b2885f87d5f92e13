// How long a simulated worker's step takes: a model of compute time, drawn per step.
//
//   constant:S              every step takes S seconds
//   lognormal:MEAN,SIGMA    log-normal with mean MEAN seconds; SIGMA is the standard
//                           deviation of the log (the spread; 0 is constant)
//   straggler:FRACTION,FACTOR
//                           a seeded FRACTION of the workers (each worker independently)
//                           take FACTOR x the base time; the rest the base time
//   pareto:ALPHA,PROB       the base time, plus with probability PROB per step a pause
//                           drawn from a Pareto distribution of shape ALPHA and scale the
//                           base time (heavy-tailed; ALPHA <= 1 has no finite mean)
//
// The base time of straggler and pareto is the simulation's base step time (by default
// the mean step time measured on this machine). Draws are seeded per worker (splitmix64),
// so a run is reproducible from its seed. Plain data; a step_clock is owned by one caller.
#pragma once

#include "core/splitmix64.hpp"
#include "core/status.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace tether {

enum class step_time_kind { constant, lognormal, straggler, pareto };

struct step_time_model {
  step_time_kind kind = step_time_kind::constant;
  double seconds = 0;  ///< constant: S; lognormal: MEAN; 0: take the base step time
  double sigma = 0;    ///< lognormal
  double fraction = 0; ///< straggler
  double factor = 1;   ///< straggler
  double alpha = 0;    ///< pareto
  double prob = 0;     ///< pareto

  std::string to_string() const; ///< the text parse_step_time accepts
};

/// Parses the grammar above. errc::invalid_argument naming the bad part and what is
/// expected (the caller prefixes the option name).
result<step_time_model> parse_step_time(const std::string& text);

/// Draws step times for `workers` workers from a model and a base time.
class step_clock {
public:
  /// Requires base_seconds > 0 (used where the model has no time of its own).
  step_clock(step_time_model model, double base_seconds, uint32_t workers, uint64_t seed);

  /// The next step time of worker w, in seconds (> 0).
  double draw(uint32_t w);
  /// Whether worker w is one of the stragglers (straggler model only).
  bool is_straggler(uint32_t w) const { return slow_.empty() ? false : slow_[w]; }
  const step_time_model& model() const { return model_; }
  double base_seconds() const { return base_; }

private:
  double normal(splitmix64& rng);

  step_time_model model_;
  double base_;
  double mu_ = 0; ///< lognormal: the log's mean
  std::vector<splitmix64> rng_;
  std::vector<bool> slow_;
};

} // namespace tether
