# CUDA is optional. Where nvcc is found (on PATH, or at /usr/local/cuda/bin where CUDA
# installs it without touching PATH) gpu/ is built for CMAKE_CUDA_ARCHITECTURES (default
# 90: H100/H200) and TETHER_HAS_CUDA is ON; elsewhere tether builds CPU-only and --gpus
# says that this build has no GPU support. -DTETHER_CUDA=OFF builds CPU-only anyway.
set(TETHER_HAS_CUDA OFF)
if(TETHER_CUDA)
  if(NOT CMAKE_CUDA_COMPILER AND NOT DEFINED ENV{CUDACXX})
    find_program(TETHER_NVCC nvcc PATHS /usr/local/cuda/bin)
    if(TETHER_NVCC)
      set(CMAKE_CUDA_COMPILER ${TETHER_NVCC})
    endif()
  endif()
  include(CheckLanguage)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
      set(CMAKE_CUDA_ARCHITECTURES 90)
    endif()
    enable_language(CUDA)
    # CMake 3.25 knows nvcc's dialects only up to C++17; nvcc 12+ takes -std=c++20, which
    # gpu/ needs (it includes core/ headers). Tell CMake so.
    if(NOT CMAKE_CUDA20_STANDARD_COMPILE_OPTION)
      set(CMAKE_CUDA20_STANDARD_COMPILE_OPTION "-std=c++20")
      set(CMAKE_CUDA20_EXTENSION_COMPILE_OPTION "-std=c++20")
      list(APPEND CMAKE_CUDA_COMPILE_FEATURES cuda_std_20)
    endif()
    set(CMAKE_CUDA_STANDARD 20)
    find_package(CUDAToolkit REQUIRED)
    set(TETHER_HAS_CUDA ON)
  endif()
endif()
message(STATUS "tether: CUDA backend (gpu/): ${TETHER_HAS_CUDA}")
