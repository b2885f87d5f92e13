// Layer: GELU, elementwise, in its tanh form (core/fast_math.hpp has the formula).
// Thread-safety: none needed (pure functions of their arguments). T is float or double.
#pragma once

#include <cstddef>

namespace tether::layers {

/// y[i] = gelu(x[i]) for i < n.
template <class T>
void gelu_forward(const T* x, size_t n, T* y);

/// dx[i] = dy[i] * gelu'(x[i]); dx may be the same array as dy (in place).
template <class T>
void gelu_backward(const T* x, const T* dy, size_t n, T* dx);

} // namespace tether::layers
