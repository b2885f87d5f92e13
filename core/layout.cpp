#include "core/layout.hpp"

#include <cassert>

namespace tether {

void param_layout::add(std::string name, std::vector<size_t> shape) {
  tensor_spec t;
  t.name = std::move(name);
  t.size = 1;
  for (auto dim : shape)
    t.size *= dim;
  t.shape = std::move(shape);
  t.offset = total;
  total += t.size;
  tensors.push_back(std::move(t));
}

namespace {

constexpr uint64_t fnv_offset = 14695981039346656037ull;
constexpr uint64_t fnv_prime = 1099511628211ull;

void mix_bytes(uint64_t& h, const void* data, size_t n) {
  auto bytes = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < n; ++i) {
    h ^= bytes[i];
    h *= fnv_prime;
  }
}

// Integers are hashed as 8 little-endian bytes, so the value does not depend on
// the platform's size_t or byte order.
void mix_u64(uint64_t& h, uint64_t value) {
  unsigned char bytes[8];
  for (int i = 0; i < 8; ++i)
    bytes[i] = static_cast<unsigned char>(value >> (8 * i));
  mix_bytes(h, bytes, 8);
}

} // namespace

uint64_t param_layout::fingerprint() const {
  uint64_t h = fnv_offset;
  mix_u64(h, tensors.size());
  for (const auto& t : tensors) {
    // The length prefix keeps {"ab","c"} and {"a","bc"} apart.
    mix_u64(h, t.name.size());
    mix_bytes(h, t.name.data(), t.name.size());
    mix_u64(h, t.shape.size());
    for (auto dim : t.shape)
      mix_u64(h, dim);
    mix_u64(h, t.offset);
  }
  mix_u64(h, total);
  return h;
}

std::vector<key_range> split_ranges(size_t total, size_t parts) {
  assert(parts >= 1 && parts <= total);
  std::vector<key_range> out;
  out.reserve(parts);
  const size_t base = total / parts;
  const size_t extra = total % parts; // the first `extra` ranges get one more
  size_t begin = 0;
  for (size_t i = 0; i < parts; ++i) {
    size_t len = base + (i < extra ? 1 : 0);
    out.push_back({begin, begin + len});
    begin += len;
  }
  return out;
}

} // namespace tether
