#include "gpu/device.hpp"

#include <cuda_runtime.h>

#include <cstdio>

namespace tether::gpu {

device_report devices() {
  device_report out;
  int count = 0;
  auto err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess) {
    out.problem = std::string{cudaGetErrorName(err)} + ": " + cudaGetErrorString(err);
    return out;
  }
  out.count = count;
  if (count == 0)
    out.problem = "the CUDA driver reports no device";
  return out;
}

std::string describe(int index) {
  cudaDeviceProp prop{};
  auto err = cudaGetDeviceProperties(&prop, index);
  if (err != cudaSuccess)
    return std::string{"device "} + std::to_string(index) + ": " + cudaGetErrorString(err);
  char memory[64];
  std::snprintf(memory, sizeof(memory), "%.0f GiB",
                static_cast<double>(prop.totalGlobalMem) / (1ull << 30));
  return std::string{prop.name} + ", compute " + std::to_string(prop.major) + "."
         + std::to_string(prop.minor) + ", " + memory;
}

} // namespace tether::gpu
