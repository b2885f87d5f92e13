// Layer: the core of causal multi-head self-attention (the q/k/v and output projections
// are layer_linear around it).
//
// qkv is rows x 3C (rows = batch * seq, row b * seq + t): columns [0, C) are the queries,
// [C, 2C) the keys, [2C, 3C) the values; head h owns columns [h d, (h+1) d) of each, with
// d = C / heads. For each sequence b and head h:
//   P = softmax over j <= i of (q_i . k_j) / sqrt(d)   (P[i, j] = 0 for j > i: causal)
//   out[b, i, h d + e] = sum_j P[i, j] v_j[e]
// probs (batch x heads x seq x seq) keeps P for the backward pass. Nothing flows from a
// position to an earlier one: out at position i depends on q_i and k_j, v_j for j <= i.
// The products are strided sgemm on the packed rows (no copies). T is float or double.
#pragma once

#include <cstddef>

namespace tether::layers {

struct attention_shape {
  size_t batch = 0;
  size_t seq = 0; ///< positions per sequence (at most the model's context)
  size_t heads = 0;
  size_t channels = 0; ///< C, a multiple of heads
};

template <class T>
void attention_forward(const T* qkv, const attention_shape& shape, T* probs, T* out);

/// dqkv (rows x 3C) is overwritten. scratch holds seq x seq values.
template <class T>
void attention_backward(const T* dout, const T* qkv, const T* probs, const attention_shape& shape,
                        T* dqkv, T* scratch);

} // namespace tether::layers
