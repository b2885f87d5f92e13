// Shared pieces of the gpu/ tests: the skip without a device, copies to and from the
// device, and the tolerance comparison of llm.c (|gpu - ref| <= tol + |ref| * eps) that
// prints the first mismatches.
#pragma once

#include "gpu/buffers.hpp"
#include "gpu/context.hpp"
#include "gpu/device.hpp"

#include <doctest/doctest.h>

#include <cuda_runtime.h>

#include <cmath>
#include <cstdio>
#include <memory>
#include <span>
#include <string>
#include <vector>

/// Ends the test case, reported as skipped by ctest (SKIP_REGULAR_EXPRESSION in
/// tests/CMakeLists.txt), where no CUDA device is visible.
#define TETHER_GPU_REQUIRE_DEVICE()                                                                \
  do {                                                                                             \
    const auto tether_report_ = ::tether::gpu::devices();                                          \
    if (tether_report_.count == 0) {                                                               \
      const std::string& problem = tether_report_.problem;                                         \
      MESSAGE("skipped: no CUDA device (" << problem << ")");                                      \
      return;                                                                                      \
    }                                                                                              \
  } while (0)

namespace tether::gpu::test {

/// A context on device 0; fails the test case if it cannot be made.
inline std::unique_ptr<context> make_context(gpu_math math = gpu_math::fp32) {
  auto ctx = context::create(0, math);
  REQUIRE_MESSAGE(ctx.is_ok(), (ctx.is_ok() ? std::string{} : ctx.error().message()));
  return std::move(ctx).value();
}

/// A device copy of `host` (synchronous).
template <class T>
device_buffer<T> to_device(const std::vector<T>& host) {
  device_buffer<T> out;
  auto st = out.resize(host.size());
  REQUIRE_MESSAGE(st.is_ok(), st.message());
  if (!host.empty())
    REQUIRE(cudaMemcpy(out.data(), host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice) ==
            cudaSuccess);
  return out;
}

/// The first n elements of a device buffer, after waiting for `ctx`'s stream.
template <class T>
std::vector<T> to_host(const context& ctx, const T* device, size_t n) {
  auto st = ctx.synchronize();
  REQUIRE_MESSAGE(st.is_ok(), st.message());
  std::vector<T> out(n);
  if (n > 0)
    REQUIRE(cudaMemcpy(out.data(), device, n * sizeof(T), cudaMemcpyDeviceToHost) == cudaSuccess);
  return out;
}

/// Elements where |gpu - ref| > tol + |ref| * eps (a NaN on either side counts); prints
/// the first five as (index, gpu, ref).
inline size_t mismatches(const char* what, std::span<const float> gpu, std::span<const double> ref,
                         double tol, double eps) {
  REQUIRE(gpu.size() == ref.size());
  size_t bad = 0;
  for (size_t i = 0; i < gpu.size(); ++i) {
    const double g = gpu[i];
    if (std::fabs(g - ref[i]) <= tol + std::fabs(ref[i]) * eps)
      continue; // false for NaN
    if (++bad <= 5)
      std::printf("%s: mismatch at %zu: gpu %.9g ref %.9g\n", what, i, g, ref[i]);
  }
  if (bad > 5)
    std::printf("%s: %zu mismatches in all (of %zu)\n", what, bad, gpu.size());
  return bad;
}

/// ||a - b|| / ||b|| in double.
inline double relative_l2(std::span<const float> a, std::span<const float> b) {
  double diff = 0, norm = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double d = static_cast<double>(a[i]) - b[i];
    diff += d * d;
    norm += static_cast<double>(b[i]) * b[i];
  }
  return std::sqrt(diff) / std::sqrt(norm);
}

} // namespace tether::gpu::test
