// Tensors as Cap'n Proto Data blobs of little-endian float32, for the codecs inside
// messages/ (wire and checkpoint) only: no Cap'n Proto type leaves this folder.
#pragma once

#include <capnp/blob.h>

#include <vector>

namespace tether::blob {

/// The floats' bytes as a blob (no copy; valid while `v` is).
inline capnp::Data::Reader of(const std::vector<float>& v) {
  return {reinterpret_cast<const kj::byte*>(v.data()), v.size() * sizeof(float)};
}

/// Copies a blob of float32 into `out`; false if its size is not a multiple of 4.
inline bool read_floats(capnp::Data::Reader blob, std::vector<float>& out) {
  if (blob.size() % sizeof(float) != 0)
    return false;
  const auto* first = reinterpret_cast<const float*>(blob.begin());
  out.assign(first, first + blob.size() / sizeof(float));
  return true;
}

} // namespace tether::blob
