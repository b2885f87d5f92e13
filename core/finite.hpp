// Whether floats are finite: the worker checks every loss and gradient before it pushes,
// so that a diverging job stops with a message instead of spreading NaN into the shards.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>

namespace tether {

/// True when no element is NaN or +-Inf. One pass of integer tests (exponent bits all
/// ones), which the compiler vectorises: about a tenth of a millisecond per million floats.
inline bool all_finite(std::span<const float> values) {
  uint32_t bad = 0;
  for (float v : values) {
    uint32_t bits;
    std::memcpy(&bits, &v, sizeof(bits));
    bad |= static_cast<uint32_t>((bits & 0x7f800000u) == 0x7f800000u);
  }
  return bad == 0;
}

} // namespace tether
