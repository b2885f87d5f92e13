// Layer: LayerNorm over the channels of each row, with a gain and a bias.
//
//   out[r, c] = (x[r, c] - mean_r) * rstd_r * gain[c] + bias[c],
//   mean_r = mean of row r, rstd_r = 1 / sqrt(biased variance of row r + 1e-5)
//
// (PyTorch's nn.LayerNorm with its default eps.) x and out are rows x channels,
// row-major; mean and rstd (rows each) are written by the forward pass and read by the
// backward pass, which recomputes the normalised x from them.
// Thread-safety: none needed (pure functions of their arguments). T is float or double.
#pragma once

#include <cstddef>

namespace tether::layers {

inline constexpr double layer_norm_eps = 1e-5;

template <class T>
void layer_norm_forward(const T* x, const T* gain, const T* bias, size_t rows, size_t channels,
                        T* out, T* mean, T* rstd);

/// dx, dgain and dbias are accumulated (+=): dx is usually the residual stream's gradient,
/// which already holds the gradient that flows around the layer.
template <class T>
void layer_norm_backward(const T* dout, const T* x, const T* gain, const T* mean, const T* rstd,
                         size_t rows, size_t channels, T* dx, T* dgain, T* dbias);

} // namespace tether::layers
