#include "core/layer_embedding.hpp"

namespace tether::layers {

template <class T>
void embedding_forward(const uint8_t* tokens, size_t token_stride, size_t batch, size_t seq,
                       const T* wte, const T* wpe, size_t channels, T* out) {
  for (size_t b = 0; b < batch; ++b)
    for (size_t t = 0; t < seq; ++t) {
      const T* __restrict e = wte + size_t{tokens[b * token_stride + t]} * channels;
      const T* __restrict p = wpe + t * channels;
      T* __restrict o = out + (b * seq + t) * channels;
      for (size_t c = 0; c < channels; ++c)
        o[c] = e[c] + p[c];
    }
}

template <class T>
void embedding_backward(const uint8_t* tokens, size_t token_stride, size_t batch, size_t seq,
                        const T* dout, size_t channels, T* dwte, T* dwpe) {
  for (size_t b = 0; b < batch; ++b)
    for (size_t t = 0; t < seq; ++t) {
      const T* __restrict d = dout + (b * seq + t) * channels;
      T* __restrict e = dwte + size_t{tokens[b * token_stride + t]} * channels;
      T* __restrict p = dwpe + t * channels;
      for (size_t c = 0; c < channels; ++c) {
        e[c] += d[c];
        p[c] += d[c];
      }
    }
}

template void embedding_forward<float>(const uint8_t*, size_t, size_t, size_t, const float*,
                                       const float*, size_t, float*);
template void embedding_forward<double>(const uint8_t*, size_t, size_t, size_t, const double*,
                                        const double*, size_t, double*);
template void embedding_backward<float>(const uint8_t*, size_t, size_t, size_t, const float*,
                                        size_t, float*, float*);
template void embedding_backward<double>(const uint8_t*, size_t, size_t, size_t, const double*,
                                         size_t, double*, double*);

} // namespace tether::layers
