// exp and the GELU of the language model's layers, written so that GCC vectorises the
// loops that call them (no libm call in the loop body).
//
// float: exp by range reduction (x = n ln2 + r, |r| <= ln2/2) and a degree-6 polynomial
// for e^r (Cephes expf coefficients), scaled by 2^n through the exponent bits: relative
// error below 2e-7 on [-87, 88]. Below -87 it returns 0 (the true value is under 2e-38:
// returning it would feed denormal numbers, which are 100 times slower on x86, to the
// products that follow); above 88 it returns exp(88) (never an infinity).
// double: std::exp, as the precise reference the finite-difference tests run on.
//
// GELU is the tanh form of Hendrycks and Gimpel (GPT-2's, PyTorch's
// nn.GELU(approximate="tanh")):
//   gelu(x) = 0.5 x (1 + tanh(u)),  u = sqrt(2/pi) (x + 0.044715 x^3)
// computed as x * sigmoid(2u), which has no cancellation for small x.
#pragma once

#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>

namespace tether::fast {

inline float exp(float x) {
  const bool underflow = x < -87.0f;
  x = underflow ? -87.0f : x;
  x = x > 88.0f ? 88.0f : x;
  // Round x / ln2 to the nearest integer with the 1.5 * 2^23 trick (no libm rounding).
  const float shifter = 12582912.0f;
  const float n = (x * 1.44269504088896341f + shifter) - shifter;
  float r = x - n * 0.693359375f; // ln2 in two parts: the first is exact in float
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  const auto bits = static_cast<uint32_t>(static_cast<int32_t>(n) + 127) << 23;
  return underflow ? 0.0f : p * std::bit_cast<float>(bits);
}

inline double exp(double x) {
  return std::exp(x);
}

/// Sum, maximum and dot product of n values in 16 running lanes, so that the compiler
/// vectorises them (one running value, in order, would stay scalar without -ffast-math).
/// The result differs from the in-order one by rounding only.
inline constexpr size_t lanes = 16;

template <class T>
inline T sum(const T* __restrict x, size_t n) {
  T acc[lanes] = {};
  size_t i = 0;
  for (; i + lanes <= n; i += lanes)
    for (size_t j = 0; j < lanes; ++j)
      acc[j] += x[i + j];
  T total = 0;
  for (; i < n; ++i)
    total += x[i];
  for (size_t j = 0; j < lanes; ++j)
    total += acc[j];
  return total;
}

template <class T>
inline T dot(const T* __restrict a, const T* __restrict b, size_t n) {
  T acc[lanes] = {};
  size_t i = 0;
  for (; i + lanes <= n; i += lanes)
    for (size_t j = 0; j < lanes; ++j)
      acc[j] += a[i + j] * b[i + j];
  T total = 0;
  for (; i < n; ++i)
    total += a[i] * b[i];
  for (size_t j = 0; j < lanes; ++j)
    total += acc[j];
  return total;
}

/// Requires n >= 1.
template <class T>
inline T max(const T* __restrict x, size_t n) {
  T acc[lanes];
  for (size_t j = 0; j < lanes; ++j)
    acc[j] = x[0];
  size_t i = 0;
  for (; i + lanes <= n; i += lanes)
    for (size_t j = 0; j < lanes; ++j)
      acc[j] = x[i + j] > acc[j] ? x[i + j] : acc[j];
  T best = x[0];
  for (; i < n; ++i)
    best = x[i] > best ? x[i] : best;
  for (size_t j = 0; j < lanes; ++j)
    best = acc[j] > best ? acc[j] : best;
  return best;
}

constexpr double gelu_k = 0.7978845608028654; // sqrt(2 / pi)
constexpr double gelu_c = 0.044715;

template <class T>
inline T gelu(T x) {
  const T u = T(gelu_k) * (x + T(gelu_c) * x * x * x);
  return x / (T(1) + exp(T(-2) * u));
}

/// d gelu / dx.
template <class T>
inline T gelu_grad(T x) {
  const T u = T(gelu_k) * (x + T(gelu_c) * x * x * x);
  const T s = T(1) / (T(1) + exp(T(-2) * u)); // sigmoid(2u) = 0.5 (1 + tanh u)
  const T du = T(gelu_k) * (T(1) + T(3 * gelu_c) * x * x);
  return s + x * T(2) * s * (T(1) - s) * du;
}

} // namespace tether::fast
