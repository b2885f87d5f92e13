// One transformer block of the GPT, pre-LayerNorm, with its own activations: the unit a
// pipeline stage runs a contiguous run of.
//
//   mid = x + c_proj(attention(c_attn(ln_1(x))))
//   y   = mid + mlp.c_proj(gelu(mlp.c_fc(ln_2(mid))))
//
// Rows are batch * seq positions (row b * seq + t), C = channels. The weights are views
// into the flat parameter vector (core/gpt_spec.hpp names them). block_activations keeps
// what the forward pass computed for the backward pass; block_scratch is what the backward
// pass needs only while it runs, and is shared by all blocks of a worker. Both are sized
// once by resize() (which allocates only when the shape grows) and are owned by one
// thread. T is float (training) or double (the finite-difference tests).
#pragma once

#include "core/layer_attention.hpp"

#include <cstddef>
#include <vector>

namespace tether {

struct block_shape {
  size_t batch = 0;
  size_t seq = 0; ///< positions per sequence, at most the model's context
  size_t heads = 0;
  size_t channels = 0;
  size_t mlp = 0;     ///< hidden width of the MLP
  size_t context = 0; ///< the model's context: buffers are sized for it
  size_t rows() const { return batch * seq; }
  layers::attention_shape attention() const { return {batch, seq, heads, channels}; }
};

/// Pointers to one block's tensors in a parameter (or gradient) vector.
template <class T>
struct block_tensors {
  T* ln1_gain;
  T* ln1_bias;
  T* attn_w; ///< [3C, C]
  T* proj_w; ///< [C, C]
  T* ln2_gain;
  T* ln2_bias;
  T* fc_w;      ///< [mlp, C]
  T* fc_proj_w; ///< [C, mlp]
};

template <class T>
struct block_activations {
  std::vector<T> ln1, ln1_mean, ln1_rstd; ///< ln_1(x): rows x C, and its row statistics
  std::vector<T> qkv;                     ///< rows x 3C
  std::vector<T> probs;                   ///< batch x heads x seq x seq
  std::vector<T> att;                     ///< attention output before c_proj: rows x C
  std::vector<T> mid;                     ///< x + attention branch: rows x C
  std::vector<T> ln2, ln2_mean, ln2_rstd; ///< ln_2(mid)
  std::vector<T> fc;                      ///< before GELU: rows x mlp
  std::vector<T> act;                     ///< after GELU: rows x mlp

  /// Elements all buffers hold for `batch` sequences of the full context.
  static size_t elements(const block_shape& s);
  /// Makes every buffer hold at least `s.batch` sequences of the full context.
  void resize(const block_shape& s);
};

template <class T>
struct block_scratch {
  std::vector<T> d_wide;   ///< rows x mlp
  std::vector<T> d_qkv;    ///< rows x 3C
  std::vector<T> d_narrow; ///< rows x C
  std::vector<T> d_scores; ///< seq x seq
  static size_t elements(const block_shape& s);
  void resize(const block_shape& s);
};

/// y (rows x C) = the block applied to x (rows x C); y must not alias x.
template <class T>
void block_forward(const block_tensors<const T>& w, const block_shape& s, const T* x,
                   block_activations<T>& a, T* y);

/// On entry dy holds d loss / d y (rows x C); on return it holds d loss / d x (the
/// residual stream's gradient is carried through in place). The block's parameter
/// gradients are added into g.
template <class T>
void block_backward(const block_tensors<const T>& w, const block_shape& s, const T* x,
                    const block_activations<T>& a, T* dy, const block_tensors<T>& g,
                    block_scratch<T>& scratch);

} // namespace tether
