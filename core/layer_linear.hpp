// Layer: a linear map without bias, y = x W^T (PyTorch's nn.Linear(in, out, bias=False)).
//
// x is rows x in, W is out x in (the layout's [fan_out, fan_in]), y is rows x out, all
// row-major. Both passes are one or two sgemm (dgemm for double) through core/blas.hpp.
// Thread-safety: none needed (pure functions of their arguments). T is float or double.
#pragma once

#include <cstddef>

namespace tether::layers {

template <class T>
void linear_forward(const T* x, const T* w, size_t rows, size_t in, size_t out, T* y);

/// dx = dy W (overwritten; skipped when dx is null, e.g. below the first layer) and
/// dW += dy^T x (accumulated).
template <class T>
void linear_backward(const T* dy, const T* x, const T* w, size_t rows, size_t in, size_t out, T* dx,
                     T* dw);

} // namespace tether::layers
