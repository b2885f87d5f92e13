#include "core/layer_tied_head.hpp"

#include "core/blas.hpp"
#include "core/fast_math.hpp"

#include <cassert>
#include <cmath>

namespace tether::layers {

template <class T>
void tied_head_logits(const T* x, const T* wte, size_t rows, size_t channels, size_t vocab,
                      T* logits) {
  gemm(false, true, rows, vocab, channels, T(1), x, wte, T(0), logits);
}

template <class T>
double cross_entropy(T* logits, const uint8_t* targets, size_t target_stride, size_t batch,
                     size_t seq, size_t vocab, bool gradient, T scale) {
  double loss = 0;
  for (size_t b = 0; b < batch; ++b)
    for (size_t t = 0; t < seq; ++t) {
      T* __restrict row = logits + (b * seq + t) * vocab;
      const size_t target = targets[b * target_stride + t];
      assert(target < vocab);
      const T max = fast::max(row, vocab);
      const T z_target = row[target] - max;
      T sum = 0;
      if (gradient) {
        for (size_t v = 0; v < vocab; ++v)
          row[v] = fast::exp(row[v] - max);
        sum = fast::sum(row, vocab);
        const T f = scale / sum;
        for (size_t v = 0; v < vocab; ++v)
          row[v] *= f;
        row[target] -= scale;
      } else {
        T acc[fast::lanes] = {};
        size_t v = 0;
        for (; v + fast::lanes <= vocab; v += fast::lanes)
          for (size_t j = 0; j < fast::lanes; ++j)
            acc[j] += fast::exp(row[v + j] - max);
        for (; v < vocab; ++v)
          sum += fast::exp(row[v] - max);
        for (size_t j = 0; j < fast::lanes; ++j)
          sum += acc[j];
      }
      loss += std::log(static_cast<double>(sum)) - static_cast<double>(z_target);
    }
  return loss;
}

template <class T>
void tied_head_backward(const T* dlogits, const T* x, const T* wte, size_t rows, size_t channels,
                        size_t vocab, T* dx, T* dwte) {
  gemm(false, false, rows, channels, vocab, T(1), dlogits, wte, T(0), dx);
  gemm(true, false, vocab, channels, rows, T(1), dlogits, x, T(1), dwte);
}

template void tied_head_logits<float>(const float*, const float*, size_t, size_t, size_t, float*);
template void tied_head_logits<double>(const double*, const double*, size_t, size_t, size_t,
                                       double*);
template double cross_entropy<float>(float*, const uint8_t*, size_t, size_t, size_t, size_t, bool,
                                     float);
template double cross_entropy<double>(double*, const uint8_t*, size_t, size_t, size_t, size_t, bool,
                                      double);
template void tied_head_backward<float>(const float*, const float*, const float*, size_t, size_t,
                                        size_t, float*, float*);
template void tied_head_backward<double>(const double*, const double*, const double*, size_t,
                                         size_t, size_t, double*, double*);

} // namespace tether::layers
