// The CUDA devices this process can use, asked without touching any of them.
#pragma once

#include <string>

namespace tether::gpu {

struct device_report {
  int count = 0;         ///< devices visible (CUDA_VISIBLE_DEVICES applies)
  std::string problem;   ///< why there are none (no driver, driver too old, ...); empty if count > 0
};

/// cudaGetDeviceCount, with its error turned into words.
device_report devices();

/// "NVIDIA H100 80GB HBM3, compute 9.0, 79 GiB" for device `index`, or the error.
std::string describe(int index);

} // namespace tether::gpu
