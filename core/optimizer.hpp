// Server-side optimizers. Each parameter shard owns one range_optimizer for its key
// range and calls apply() once per gradient. Thread-safety: none; one owner.
//
//   sgd:      w -= lr * (g + wd * w)
//   momentum: v = mu * v + (g + wd * w);  w -= lr * v                 (mu = 0.9)
//   adam:     g' = g + wd * w; m = b1 m + (1-b1) g'; v = b2 v + (1-b2) g'^2;
//             w -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
//             (b1 = 0.9, b2 = 0.999, eps = 1e-8, t = this range's apply count)
//   adamw:    Adam on g alone, weight decay decoupled (Loshchilov & Hutter; PyTorch's
//             torch.optim.AdamW): w -= lr * wd * w; then the Adam step with g' = g
//
// Weight decay applies to the elements of the decayed key ranges only: all of them by
// default (the MLP decays every parameter), the model's matrices for the GPT
// (gpt_model::decayed_ranges(): not the LayerNorm gains and biases). A shard that owns
// [begin, end) of the flat vector passes its range and the model's list; the optimizer
// intersects them.
//
// The learning-rate schedule: lr_at(update) = lr * warmup factor * schedule factor:
//   warmup (update < warmup): (update + 1) / warmup
//   constant: 1;  cosine: f + (1 - f) * 0.5 * (1 + cos(pi * min(update, total) / total))
//   with f = lr_floor / lr: cosine decays from lr to the floor lr_floor (0: to zero).
#pragma once

#include "core/layout.hpp"
#include "core/status.hpp"

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace tether {

enum class optimizer_kind { sgd, momentum, adam, adamw };
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
  float lr_floor = 0.0f;      ///< where the cosine schedule ends (absolute learning rate)
  /// Ranges of the whole flat vector that weight decay applies to; empty: every element.
  /// A parameter shard passes them to range_optimizer with its own range.
  std::vector<key_range> decayed;
};

/// The learning rate for the update numbered `update` (0-based) of the whole job.
float lr_at(const optimizer_config& cfg, uint64_t update);

class range_optimizer {
public:
  range_optimizer() = default;
  /// Decays every element (when weight_decay > 0).
  range_optimizer(optimizer_config cfg, size_t size);
  /// For the key range `range` of the flat vector: decays only the elements in `decayed`
  /// (ranges of the whole vector, sorted or not; the parts outside `range` are ignored).
  range_optimizer(optimizer_config cfg, key_range range, std::span<const key_range> decayed);

  /// Applies one gradient to w with learning rate lr. w.size() == g.size() == size().
  void apply(std::span<float> w, std::span<const float> g, float lr);

  size_t size() const { return size_; }
  const optimizer_config& config() const { return cfg_; }

  /// The decayed parts of this range, relative to its first element.
  const std::vector<key_range>& decayed() const { return decayed_; }

  /// Optimizer state for checkpoints: the per-element slots (momentum: {v}; adam and
  /// adamw: {m, v}; sgd: none) and the apply count t.
  const std::vector<std::vector<float>>& slots() const { return slots_; }
  uint64_t steps() const { return steps_; }
  /// Restores state; slot count and sizes must match (errc::mismatch otherwise).
  status restore(std::vector<std::vector<float>> slots, uint64_t steps);

private:
  optimizer_config cfg_;
  size_t size_ = 0;
  std::vector<std::vector<float>> slots_;
  std::vector<key_range> decayed_; ///< relative to this range's first element
  uint64_t steps_ = 0;
};

/// The optimizer slots per parameter of a kind (sgd 0, momentum 1, adam and adamw 2).
size_t optimizer_slot_count(optimizer_kind kind);

/// Gradient clipping by global norm: when the L2 norm of `grad` (summed in double) is
/// above max_norm > 0, scales grad by max_norm / norm. max_norm <= 0 leaves it as is.
/// Returns the norm before clipping. The worker calls it over its whole gradient.
double clip_by_global_norm(std::span<float> grad, double max_norm);

} // namespace tether
