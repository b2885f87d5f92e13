// Server-side optimizers. Each parameter shard owns one range_optimizer for its key
// range and calls apply() once per gradient. Thread-safety: none; one owner.
//
//   sgd:      w -= lr * (g + wd * w)
//   momentum: v = mu * v + (g + wd * w);  w -= lr * v                 (mu = 0.9)
//   adam:     g' = g + wd * w; m = b1 m + (1-b1) g'; v = b2 v + (1-b2) g'^2;
//             w -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
//             (b1 = 0.9, b2 = 0.999, eps = 1e-8, t = this range's apply count)
//
// The learning-rate schedule: lr_at(update) = lr * warmup factor * schedule factor:
//   warmup (update < warmup): (update + 1) / warmup
//   constant: 1;  cosine: 0.5 * (1 + cos(pi * min(update, total) / total))
#pragma once

#include "core/status.hpp"

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace tether {

enum class optimizer_kind { sgd, momentum, adam };
enum class lr_schedule { constant, cosine };

result<optimizer_kind> parse_optimizer_kind(const std::string& text);
result<lr_schedule> parse_lr_schedule(const std::string& text);
const char* to_string(optimizer_kind kind);
const char* to_string(lr_schedule schedule);

struct optimizer_config {
  optimizer_kind kind = optimizer_kind::sgd;
  float lr = 0.1f;
  float weight_decay = 0.0f;
  float momentum = 0.9f;
  float beta1 = 0.9f;
  float beta2 = 0.999f;
  float epsilon = 1e-8f;
  lr_schedule schedule = lr_schedule::constant;
  uint64_t warmup = 0;        ///< updates of linear warm-up
  uint64_t total_updates = 0; ///< horizon of the cosine schedule (0: constant)
};

/// The learning rate for the update numbered `update` (0-based) of the whole job.
float lr_at(const optimizer_config& cfg, uint64_t update);

class range_optimizer {
public:
  range_optimizer() = default;
  range_optimizer(optimizer_config cfg, size_t size);

  /// Applies one gradient to w with learning rate lr. w.size() == g.size() == size().
  void apply(std::span<float> w, std::span<const float> g, float lr);

  size_t size() const { return size_; }
  const optimizer_config& config() const { return cfg_; }

  /// Optimizer state for checkpoints: the per-element slots (momentum: {v}; adam:
  /// {m, v}; sgd: none) and the apply count t.
  const std::vector<std::vector<float>>& slots() const { return slots_; }
  uint64_t steps() const { return steps_; }
  /// Restores state; slot count and sizes must match (errc::mismatch otherwise).
  status restore(std::vector<std::vector<float>> slots, uint64_t steps);

private:
  optimizer_config cfg_;
  size_t size_ = 0;
  std::vector<std::vector<float>> slots_;
  uint64_t steps_ = 0;
};

} // namespace tether
