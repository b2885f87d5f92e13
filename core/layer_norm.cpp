#include "core/layer_norm.hpp"

#include <cmath>

namespace tether::layers {

template <class T>
void layer_norm_forward(const T* x, const T* gain, const T* bias, size_t rows, size_t channels,
                        T* out, T* mean, T* rstd) {
  const T inv_n = T(1) / static_cast<T>(channels);
  for (size_t r = 0; r < rows; ++r) {
    const T* __restrict xr = x + r * channels;
    T* __restrict o = out + r * channels;
    T sum = 0;
    for (size_t c = 0; c < channels; ++c)
      sum += xr[c];
    const T m = sum * inv_n;
    T var = 0; // two passes: no cancellation when the mean is large
    for (size_t c = 0; c < channels; ++c)
      var += (xr[c] - m) * (xr[c] - m);
    const T s = T(1) / std::sqrt(var * inv_n + T(layer_norm_eps));
    for (size_t c = 0; c < channels; ++c)
      o[c] = (xr[c] - m) * s * gain[c] + bias[c];
    mean[r] = m;
    rstd[r] = s;
  }
}

template <class T>
void layer_norm_backward(const T* dout, const T* x, const T* gain, const T* mean, const T* rstd,
                         size_t rows, size_t channels, T* dx, T* dgain, T* dbias) {
  const T inv_n = T(1) / static_cast<T>(channels);
  for (size_t r = 0; r < rows; ++r) {
    const T* __restrict xr = x + r * channels;
    const T* __restrict d = dout + r * channels;
    T* __restrict dxr = dx + r * channels;
    const T m = mean[r];
    const T s = rstd[r];
    // With h = normalised x and g = dout * gain:
    //   dx = s * (g - mean(g) - h * mean(g * h))
    T sum_g = 0;
    T sum_gh = 0;
    for (size_t c = 0; c < channels; ++c) {
      const T h = (xr[c] - m) * s;
      const T g = d[c] * gain[c];
      sum_g += g;
      sum_gh += g * h;
      dgain[c] += d[c] * h;
      dbias[c] += d[c];
    }
    const T mean_g = sum_g * inv_n;
    const T mean_gh = sum_gh * inv_n;
    for (size_t c = 0; c < channels; ++c) {
      const T h = (xr[c] - m) * s;
      dxr[c] += s * (d[c] * gain[c] - mean_g - h * mean_gh);
    }
  }
}

template void layer_norm_forward<float>(const float*, const float*, const float*, size_t, size_t,
                                        float*, float*, float*);
template void layer_norm_forward<double>(const double*, const double*, const double*, size_t,
                                         size_t, double*, double*, double*);
template void layer_norm_backward<float>(const float*, const float*, const float*, const float*,
                                         const float*, size_t, size_t, float*, float*, float*);
template void layer_norm_backward<double>(const double*, const double*, const double*,
                                          const double*, const double*, size_t, size_t, double*,
                                          double*, double*);

} // namespace tether::layers
