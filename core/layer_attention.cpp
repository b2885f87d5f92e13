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

// The products with a causal (lower-triangular) seq x seq matrix W, written out: OpenBLAS
// spends more on the call and packing of these small products than on their arithmetic,
// and these loops skip the upper triangle, half the work. d (the head width) is the row
// length; rows of M and OUT are ld apart. With a compile-time D the row being summed
// stays in registers.

/// OUT[i, :] = sum_{j <= i} W[i, j] M[j, :]
template <class T, size_t D>
void lower_times_fixed(const T* __restrict w, size_t seq, const T* __restrict m, size_t ldm,
                       T* __restrict out, size_t ldo) {
  for (size_t i = 0; i < seq; ++i) {
    T acc[D] = {};
    const T* __restrict wi = w + i * seq;
    for (size_t j = 0; j <= i; ++j) {
      const T a = wi[j];
      const T* __restrict mj = m + j * ldm;
      for (size_t e = 0; e < D; ++e)
        acc[e] += a * mj[e];
    }
    for (size_t e = 0; e < D; ++e)
      out[i * ldo + e] = acc[e];
  }
}

/// OUT[j, :] = sum_{i >= j} W[i, j] M[i, :]  (W transposed times M)
template <class T, size_t D>
void lower_transposed_times_fixed(const T* __restrict w, size_t seq, const T* __restrict m,
                                  size_t ldm, T* __restrict out, size_t ldo) {
  for (size_t j = 0; j < seq; ++j) {
    T acc[D] = {};
    for (size_t i = j; i < seq; ++i) {
      const T a = w[i * seq + j];
      const T* __restrict mi = m + i * ldm;
      for (size_t e = 0; e < D; ++e)
        acc[e] += a * mi[e];
    }
    for (size_t e = 0; e < D; ++e)
      out[j * ldo + e] = acc[e];
  }
}

template <class T>
void lower_times(const T* w, size_t seq, const T* m, size_t ldm, size_t d, T* out, size_t ldo,
                 bool transposed) {
  if (d == 32 && !transposed)
    return lower_times_fixed<T, 32>(w, seq, m, ldm, out, ldo);
  if (d == 32)
    return lower_transposed_times_fixed<T, 32>(w, seq, m, ldm, out, ldo);
  if (d == 64 && !transposed)
    return lower_times_fixed<T, 64>(w, seq, m, ldm, out, ldo);
  if (d == 64)
    return lower_transposed_times_fixed<T, 64>(w, seq, m, ldm, out, ldo);
  // Other head widths: the same products through BLAS (W is zero above the diagonal).
  gemm_strided(transposed, false, seq, d, seq, T(1), w, seq, m, ldm, T(0), out, ldo);
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
      lower_times(p, s.seq, v, ld, d, out + b * s.seq * c + h * d, c, false); // P V
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
      lower_times(p, s.seq, dout_h, c, d, dv, ld, true);
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
      lower_times(scratch, s.seq, k, ld, d, dq, ld, false);
      lower_times(scratch, s.seq, q, ld, d, dk, ld, true);
    }
}

template void attention_forward<float>(const float*, const attention_shape&, float*, float*);
template void attention_forward<double>(const double*, const attention_shape&, double*, double*);
template void attention_backward<float>(const float*, const float*, const float*,
                                        const attention_shape&, float*, float*);
template void attention_backward<double>(const double*, const double*, const double*,
                                         const attention_shape&, double*, double*);

} // namespace tether::layers
