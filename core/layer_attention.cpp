#include "core/layer_attention.hpp"

#include "core/blas.hpp"
#include "core/fast_math.hpp"

#include <cmath>

namespace tether::layers {

namespace {

/// Softmax of row i over its first i + 1 entries (scaled by `scale`); the rest become 0.
template <class T>
void causal_softmax(T* __restrict p, size_t seq, T scale) {
  for (size_t i = 0; i < seq; ++i) {
    T* __restrict row = p + i * seq;
    const T max = fast::max(row, i + 1);
    for (size_t j = 0; j <= i; ++j)
      row[j] = fast::exp((row[j] - max) * scale);
    const T inv = T(1) / fast::sum(row, i + 1);
    for (size_t j = 0; j <= i; ++j)
      row[j] *= inv;
    for (size_t j = i + 1; j < seq; ++j)
      row[j] = 0;
  }
}

} // namespace

template <class T>
void attention_forward(const T* qkv, const attention_shape& s, T* probs, T* out) {
  const size_t c = s.channels;
  const size_t d = c / s.heads;
  const size_t ld = 3 * c;
  const T scale = T(1) / std::sqrt(static_cast<T>(d));
  for (size_t b = 0; b < s.batch; ++b)
    for (size_t h = 0; h < s.heads; ++h) {
      const T* q = qkv + b * s.seq * ld + h * d;
      const T* k = q + c;
      const T* v = q + 2 * c;
      T* p = probs + (b * s.heads + h) * s.seq * s.seq;
      // Raw scores q_i . k_j; the scale is applied inside the softmax.
      gemm_strided(false, true, s.seq, s.seq, d, T(1), q, ld, k, ld, T(0), p, s.seq);
      causal_softmax(p, s.seq, scale);
      gemm_strided(false, false, s.seq, d, s.seq, T(1), p, s.seq, v, ld, T(0),
                   out + b * s.seq * c + h * d, c);
    }
}

template <class T>
void attention_backward(const T* dout, const T* qkv, const T* probs, const attention_shape& s,
                        T* dqkv, T* scratch) {
  const size_t c = s.channels;
  const size_t d = c / s.heads;
  const size_t ld = 3 * c;
  const T scale = T(1) / std::sqrt(static_cast<T>(d));
  for (size_t b = 0; b < s.batch; ++b)
    for (size_t h = 0; h < s.heads; ++h) {
      const size_t row0 = b * s.seq;
      const T* q = qkv + row0 * ld + h * d;
      const T* k = q + c;
      const T* v = q + 2 * c;
      T* dq = dqkv + row0 * ld + h * d;
      T* dk = dq + c;
      T* dv = dq + 2 * c;
      const T* p = probs + (b * s.heads + h) * s.seq * s.seq;
      const T* dout_h = dout + row0 * c + h * d;
      // dP = dO V^T, dV = P^T dO
      gemm_strided(false, true, s.seq, s.seq, d, T(1), dout_h, c, v, ld, T(0), scratch, s.seq);
      gemm_strided(true, false, s.seq, d, s.seq, T(1), p, s.seq, dout_h, c, T(0), dv, ld);
      // Through the softmax: dS = P * (dP - sum_j dP P), times the score scale. Entries
      // above the diagonal have P = 0 and so get dS = 0: no gradient to later keys.
      for (size_t i = 0; i < s.seq; ++i) {
        const T* __restrict pr = p + i * s.seq;
        T* __restrict dr = scratch + i * s.seq;
        const T dot = fast::dot(pr, dr, i + 1);
        for (size_t j = 0; j <= i; ++j)
          dr[j] = pr[j] * (dr[j] - dot) * scale;
        for (size_t j = i + 1; j < s.seq; ++j)
          dr[j] = 0;
      }
      // dQ = dS K, dK = dS^T Q
      gemm_strided(false, false, s.seq, d, s.seq, T(1), scratch, s.seq, k, ld, T(0), dq, ld);
      gemm_strided(true, false, s.seq, d, s.seq, T(1), scratch, s.seq, q, ld, T(0), dk, ld);
    }
}

template void attention_forward<float>(const float*, const attention_shape&, float*, float*);
template void attention_forward<double>(const double*, const attention_shape&, double*, double*);
template void attention_backward<float>(const float*, const float*, const float*,
                                        const attention_shape&, float*, float*);
template void attention_backward<double>(const double*, const double*, const double*,
                                         const attention_shape&, double*, double*);

} // namespace tether::layers
