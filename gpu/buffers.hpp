// Owning buffers of device memory (cudaMalloc) and page-locked host memory (cudaMallocHost).
//
// Both are move-only RAII handles of n elements of a trivially copyable T. They start empty
// (data() == nullptr, size() == 0); resize(n) allocates, and only grows: asking for fewer
// elements than held keeps the buffer as it is. A grown buffer's contents are NOT kept
// (the old memory is freed first, so peak memory stays at the new size): resize before
// filling. Allocation failure is a status (errc::internal naming the call), not an exception.
//
// cudaMalloc and cudaFree act on the current device of the calling thread: allocate with
// the owning context's device current (context::activate). cudaFree waits for the whole
// device to be idle, so freeing memory that a stream still uses is safe, but slow: buffers
// are meant to be sized once and kept.
// Thread-safety: none; a buffer belongs to one owner.
#pragma once

#include "gpu/check.hpp"

#include <cuda_runtime.h>

#include <cstddef>
#include <span>
#include <string>
#include <type_traits>
#include <utility>

namespace tether::gpu {

namespace detail {

struct device_memory {
  static cudaError_t allocate(void** p, size_t bytes) { return cudaMalloc(p, bytes); }
  static void release(void* p) { cudaFree(p); } // errors here cannot be reported; ignored
  static constexpr const char* call = "cudaMalloc";
};

struct pinned_memory {
  static cudaError_t allocate(void** p, size_t bytes) { return cudaMallocHost(p, bytes); }
  static void release(void* p) { cudaFreeHost(p); }
  static constexpr const char* call = "cudaMallocHost";
};

/// The shared shape of both buffers; `memory` says how to allocate and free.
template <class T, class memory>
class owned_buffer {
  static_assert(std::is_trivially_copyable_v<T>, "GPU buffers hold plain data");

public:
  owned_buffer() = default;
  owned_buffer(const owned_buffer&) = delete;
  owned_buffer& operator=(const owned_buffer&) = delete;
  owned_buffer(owned_buffer&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}
  owned_buffer& operator=(owned_buffer&& other) noexcept {
    if (this != &other) {
      reset();
      data_ = std::exchange(other.data_, nullptr);
      size_ = std::exchange(other.size_, 0);
    }
    return *this;
  }
  ~owned_buffer() { reset(); }

  /// Makes room for at least n elements; only grows, and does not keep the contents when
  /// it does. On failure the buffer is empty and the status names the call and size.
  status resize(size_t n) {
    if (n <= size_)
      return status::ok();
    reset();
    void* p = nullptr;
    const cudaError_t err = memory::allocate(&p, n * sizeof(T));
    if (err != cudaSuccess)
      return cuda_status(
          err,
          (std::string{memory::call} + " of " + std::to_string(n * sizeof(T)) + " bytes").c_str());
    data_ = static_cast<T*>(p);
    size_ = n;
    return status::ok();
  }

  /// Frees the memory; the buffer is empty afterwards.
  void reset() {
    if (data_ != nullptr)
      memory::release(data_);
    data_ = nullptr;
    size_ = 0;
  }

  T* data() { return data_; }
  const T* data() const { return data_; }
  size_t size() const { return size_; }
  size_t bytes() const { return size_ * sizeof(T); }
  bool empty() const { return size_ == 0; }

private:
  T* data_ = nullptr;
  size_t size_ = 0;
};

} // namespace detail

/// n elements of T in device memory. data() is a device pointer: never dereference it on
/// the host.
template <class T>
using device_buffer = detail::owned_buffer<T, detail::device_memory>;

/// n elements of T in page-locked host memory: copies between it and the device with
/// cudaMemcpyAsync are truly asynchronous. Readable on the host through span().
template <class T>
class pinned_buffer : public detail::owned_buffer<T, detail::pinned_memory> {
public:
  std::span<T> span() { return {this->data(), this->size()}; }
  std::span<const T> span() const { return {this->data(), this->size()}; }
};

} // namespace tether::gpu
