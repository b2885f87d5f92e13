// The flat parameter vector and its named layout, and its split into key ranges.
//
// Every model's parameters live in one contiguous float32 vector. The layout names
// each tensor (layer weight, layer bias), its shape and its offset, in layer order:
// for each layer, its weight matrix (shape {fan_out, fan_in}, row-major) then its
// bias vector (shape {fan_out}). Shards own contiguous key ranges of that vector.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace tether {

struct tensor_spec {
  std::string name;           ///< e.g. "layer0.weight", "layer0.bias"
  std::vector<size_t> shape;  ///< row-major dimensions
  size_t offset = 0;          ///< first element in the flat vector
  size_t size = 0;            ///< product of shape
};

struct param_layout {
  std::vector<tensor_spec> tensors; ///< in layer order, without gaps
  size_t total = 0;                 ///< number of floats in the flat vector

  /// Appends a tensor after the last one.
  void add(std::string name, std::vector<size_t> shape);

  /// A stable 64-bit fingerprint of names, shapes and offsets (FNV-1a), stored in
  /// checkpoints so that a resume with another model is refused.
  uint64_t fingerprint() const;
};

/// Half-open range [begin, end) of the flat vector.
struct key_range {
  size_t begin = 0;
  size_t end = 0;
  size_t size() const { return end - begin; }
  friend bool operator==(const key_range&, const key_range&) = default;
};

/// Splits [0, total) into `parts` contiguous ranges whose sizes differ by at most one,
/// in order, covering everything exactly once. Requires parts >= 1 and parts <= total.
/// This is the one replaceable split function (ps-lite style).
std::vector<key_range> split_ranges(size_t total, size_t parts);

} // namespace tether
