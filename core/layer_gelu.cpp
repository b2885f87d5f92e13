#include "core/layer_gelu.hpp"

#include "core/fast_math.hpp"

namespace tether::layers {

template <class T>
void gelu_forward(const T* __restrict x, size_t n, T* __restrict y) {
  for (size_t i = 0; i < n; ++i)
    y[i] = fast::gelu(x[i]);
}

template <class T>
void gelu_backward(const T* __restrict x, const T* dy, size_t n, T* dx) {
  // dy and dx may alias: each element is read before it is written.
  for (size_t i = 0; i < n; ++i)
    dx[i] = dy[i] * fast::gelu_grad(x[i]);
}

template void gelu_forward<float>(const float*, size_t, float*);
template void gelu_forward<double>(const double*, size_t, double*);
template void gelu_backward<float>(const float*, const float*, size_t, float*);
template void gelu_backward<double>(const double*, const double*, size_t, double*);

} // namespace tether::layers
