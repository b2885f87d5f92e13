// The byte-level GPT: token and position embeddings, `layers` pre-LayerNorm blocks
// (core/gpt_block.hpp), a final LayerNorm and an output head tied to the token embedding.
// No dropout. Its shape and parameter names are in core/gpt_spec.hpp.
//
// Training input: `batch` windows of context + 1 bytes, back to back (tokens[b * (context
// + 1) + i]); the model reads bytes 0..context-1 of each window and predicts bytes
// 1..context. The loss is the mean cross-entropy over the batch * context predictions, in
// nats per byte (bits per byte = nats / ln 2).
//
// Thread-safety: a gpt_model is immutable after make() and may be shared by threads; all
// per-call memory lives in a gpt_workspace, one per thread. The workspace grows on the
// first call with a larger batch and never after: steady-state steps allocate nothing.
// BLAS: every matrix product goes through core/blas.hpp (single-threaded OpenBLAS).
#pragma once

#include "core/gpt_block.hpp"
#include "core/gpt_spec.hpp"
#include "core/layout.hpp"
#include "core/status.hpp"

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tether {

/// Everything one forward/backward needs besides the parameters. T = float for training;
/// double for the finite-difference tests. A workspace serves one model (one gpt_config)
/// and one thread at a time; it grows to the largest batch it has seen and never shrinks.
template <class T>
struct gpt_activations {
  std::vector<std::vector<T>> resid;        ///< layers + 1 residual streams, rows x C
  std::vector<block_activations<T>> blocks; ///< one per block
  std::vector<T> lnf, lnf_mean, lnf_rstd;   ///< final LayerNorm
  std::vector<T> logits;                    ///< rows x 256; the head's gradient in place
  std::vector<T> d_resid, d_lnf;            ///< rows x C each
  block_scratch<T> scratch;
  std::vector<uint8_t> windows; ///< batch x (context + 1): evaluate()'s sample
  size_t batch_capacity = 0;    ///< sequences the buffers hold

  /// Sizes every buffer for `batch` full-length sequences (allocates only when growing).
  void reserve(const gpt_config& cfg, size_t batch);
  /// Bytes reserve(cfg, batch) allocates in all (buffer contents, not allocator overhead).
  static size_t bytes(const gpt_config& cfg, size_t batch);
  /// Bytes the buffers hold now (their sizes), to check bytes() against.
  size_t held_bytes() const;
};
using gpt_workspace = gpt_activations<float>;

/// Memory of a job, in bytes, float32 everywhere.
struct gpt_memory {
  size_t params = 0;             ///< the flat vector
  size_t gradient = 0;           ///< one gradient (one per worker)
  size_t optimizer_state = 0;    ///< optimizer_slots floats per parameter (Adam/AdamW: 2)
  size_t worker_activations = 0; ///< one worker's gpt_workspace for `batch` sequences
  size_t per_worker() const { return params + gradient + worker_activations; }
};
gpt_memory gpt_memory_estimate(const gpt_config& cfg, size_t batch, size_t optimizer_slots);

/// Validation result over a text.
struct gpt_evaluation {
  double loss = 0;          ///< mean nats per predicted byte
  double bits_per_byte = 0; ///< loss / ln 2
  size_t windows = 0;       ///< windows of context + 1 bytes evaluated
  size_t tokens = 0;        ///< predictions averaged (windows * context)
};

/// The evaluation's fixed sample: at most this many windows of the validation text.
inline constexpr size_t gpt_eval_windows = 600;

class gpt_model {
public:
  static result<gpt_model> make(const gpt_config& cfg);

  const gpt_config& config() const { return cfg_; }
  const param_layout& layout() const { return layout_; }
  /// Ranges of the flat vector that weight decay applies to (gpt_decayed_ranges).
  const std::vector<key_range>& decayed_ranges() const { return decayed_; }

  /// Matrices (embeddings included) N(0, 0.02) from splitmix64(seed) by Box-Muller;
  /// LayerNorm gains 1, biases 0. The same seed gives the same vector on every platform.
  void init_params(std::span<float> params, uint64_t seed) const;

  /// Forward and backward on one batch. tokens holds batch * (context + 1) bytes; grad
  /// (layout().total floats) is overwritten with d(mean loss)/d(params). Returns the mean
  /// loss in nats per byte.
  float loss_and_gradient(std::span<const float> params, std::span<const uint8_t> tokens,
                          size_t batch, std::span<float> grad, gpt_workspace& ws) const;

  /// The mean loss of one batch (same input as loss_and_gradient), forward only.
  double loss(std::span<const float> params, std::span<const uint8_t> tokens, size_t batch,
              gpt_workspace& ws) const;

  /// The loss over a text (the validation split): windows of context + 1 bytes starting
  /// at multiples of context; all of them when there are at most max_windows, else
  /// max_windows of them evenly spread (window floor(j * all / max_windows) for j <
  /// max_windows: the same fixed sample at every evaluation). max_windows 0 means all.
  /// A text shorter than context + 1 bytes gives windows == 0 and loss 0. Runs forward
  /// passes of up to max(8, the workspace's batch) windows (the workspace may grow to 8).
  gpt_evaluation evaluate(std::span<const float> params, std::span<const uint8_t> text,
                          size_t max_windows, gpt_workspace& ws) const;

  /// Continues `prompt` by `bytes` bytes and returns them (without the prompt). Each byte
  /// is drawn from softmax(logits / temperature) restricted to the top_k most likely bytes
  /// (top_k 0 or >= 256: all), with splitmix64(seed): the same arguments give the same
  /// text. temperature <= 0 takes the most likely byte. The model sees the last `context`
  /// bytes; an empty prompt starts from "\n".
  std::string generate(std::span<const float> params, std::string_view prompt, size_t bytes,
                       float temperature, size_t top_k, uint64_t seed, gpt_workspace& ws) const;

private:
  gpt_config cfg_;
  param_layout layout_;
  std::vector<key_range> decayed_;
};

/// The model's forward pass (and backward when grad is not null) in any precision, on
/// `batch` sequences of `seq` <= context positions, sequence b's bytes at tokens + b *
/// stride; the targets are the next bytes (tokens + 1, same stride) when `targets` is
/// true. Returns the summed loss (0 without targets); grad, when given, is overwritten
/// with the gradient of the mean loss. The logits stay in ws.logits (rows x 256) when no
/// gradient is taken. ws must have been reserved for at least `batch`.
template <class T>
double gpt_forward_backward(const gpt_config& cfg, const param_layout& layout, const T* params,
                            const uint8_t* tokens, size_t stride, size_t batch, size_t seq,
                            bool targets, T* grad, gpt_activations<T>& ws);

} // namespace tether
