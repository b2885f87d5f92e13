#include "core/layer_norm.hpp"

#include "core/fast_math.hpp"

#include <cmath>

namespace tether::layers {

namespace {

template <class T>
T squared_deviation(const T* __restrict x, size_t n, T mean) {
  T acc[fast::lanes] = {};
  size_t i = 0;
  for (; i + fast::lanes <= n; i += fast::lanes)
    for (size_t j = 0; j < fast::lanes; ++j)
      acc[j] += (x[i + j] - mean) * (x[i + j] - mean);
  T total = 0;
  for (; i < n; ++i)
    total += (x[i] - mean) * (x[i] - mean);
  for (size_t j = 0; j < fast::lanes; ++j)
    total += acc[j];
  return total;
}

} // namespace

template <class T>
void layer_norm_forward(const T* x, const T* gain, const T* bias, size_t rows, size_t channels,
                        T* out, T* mean, T* rstd) {
  const T inv_n = T(1) / static_cast<T>(channels);
  for (size_t r = 0; r < rows; ++r) {
    const T* __restrict xr = x + r * channels;
    T* __restrict o = out + r * channels;
    const T m = fast::sum(xr, channels) * inv_n;
    // Two passes: no cancellation when the mean is large.
    const T s = T(1) / std::sqrt(squared_deviation(xr, channels, m) * inv_n + T(layer_norm_eps));
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
    T acc_g[fast::lanes] = {}, acc_gh[fast::lanes] = {};
    size_t c = 0;
    for (; c + fast::lanes <= channels; c += fast::lanes)
      for (size_t j = 0; j < fast::lanes; ++j) {
        const T h = (xr[c + j] - m) * s;
        const T g = d[c + j] * gain[c + j];
        acc_g[j] += g;
        acc_gh[j] += g * h;
      }
    T sum_g = 0, sum_gh = 0;
    for (; c < channels; ++c) {
      const T h = (xr[c] - m) * s;
      const T g = d[c] * gain[c];
      sum_g += g;
      sum_gh += g * h;
    }
    for (size_t j = 0; j < fast::lanes; ++j) {
      sum_g += acc_g[j];
      sum_gh += acc_gh[j];
    }
    const T mean_g = sum_g * inv_n;
    const T mean_gh = sum_gh * inv_n;
    for (size_t i = 0; i < channels; ++i) {
      const T h = (xr[i] - m) * s;
      dgain[i] += d[i] * h;
      dbias[i] += d[i];
      dxr[i] += s * (d[i] * gain[i] - mean_g - h * mean_gh);
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
