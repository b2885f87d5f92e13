#include "core/layer_linear.hpp"

#include "core/blas.hpp"

namespace tether::layers {

template <class T>
void linear_forward(const T* x, const T* w, size_t rows, size_t in, size_t out, T* y) {
  gemm(false, true, rows, out, in, T(1), x, w, T(0), y);
}

template <class T>
void linear_backward(const T* dy, const T* x, const T* w, size_t rows, size_t in, size_t out, T* dx,
                     T* dw) {
  if (dx != nullptr)
    gemm(false, false, rows, in, out, T(1), dy, w, T(0), dx);
  gemm(true, false, out, in, rows, T(1), dy, x, T(1), dw);
}

template void linear_forward<float>(const float*, const float*, size_t, size_t, size_t, float*);
template void linear_forward<double>(const double*, const double*, size_t, size_t, size_t, double*);
template void linear_backward<float>(const float*, const float*, const float*, size_t, size_t,
                                     size_t, float*, float*);
template void linear_backward<double>(const double*, const double*, const double*, size_t, size_t,
                                      size_t, double*, double*);

} // namespace tether::layers
