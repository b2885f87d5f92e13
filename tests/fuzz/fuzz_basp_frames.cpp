// Fuzz target: basp_frame_reader (net/basp_frames.hpp), the frame-length check that runs
// on every byte a network peer sends before CAF reads it. Input: byte 0 picks the cap
// and the chunking, the rest is the stream. Properties:
//   - the verdict, frame count and reason do not depend on how the stream is chunked;
//   - they match an independent walk over the headers (reference below);
//   - a refusal names a header that really breaks a rule, and nothing after it counts.
// Built for libFuzzer with clang, or with standalone_main.cpp (tests/fuzz/CMakeLists.txt).
#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "net/basp_frames.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace {

using tether::net::basp_frame_reader;

struct walk {
  bool ok = true;
  uint64_t frames = 0;
};

walk reference(const uint8_t* data, size_t size, uint64_t cap) {
  walk w;
  size_t at = 0;
  while (size - at >= tether::net::basp_header_size) {
    const uint8_t* h = data + at;
    uint64_t len = (uint64_t{h[4]} << 24) | (uint64_t{h[5]} << 16) | (uint64_t{h[6]} << 8) | h[7];
    uint64_t limit =
        w.frames == 0 ? std::min<uint64_t>(tether::net::handshake_frame_cap, cap) : cap;
    if (h[0] > tether::net::basp_last_operation || len > limit) {
      w.ok = false;
      return w;
    }
    at += tether::net::basp_header_size;
    if (size - at < len)
      return w;
    at += len;
    ++w.frames;
  }
  return w;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0)
    return 0;
  const uint8_t knob = data[0];
  ++data;
  --size;
  const uint64_t cap = knob & 1 ? 100 : 1u << 20; // small caps make big frames reachable
  basp_frame_reader whole(cap);
  bool whole_ok = whole.feed(data, size);
  basp_frame_reader chunked(cap);
  bool chunked_ok = true;
  size_t step = 1 + (knob >> 1), at = 0;
  while (at < size && chunked_ok) {
    size_t n = std::min(step, size - at);
    chunked_ok = chunked.feed(data + at, n);
    at += n;
  }
  TETHER_FUZZ_CHECK(whole_ok == chunked_ok, "verdict independent of chunking");
  TETHER_FUZZ_CHECK(whole.frames() == chunked.frames(), "frame count independent of chunking");
  TETHER_FUZZ_CHECK(whole.reason() == chunked.reason(), "reason independent of chunking");
  TETHER_FUZZ_CHECK(whole_ok == whole.reason().empty(), "a refusal has a reason");
  auto expected = reference(data, size, cap);
  TETHER_FUZZ_CHECK(expected.ok == whole_ok, "verdict as the reference walk");
  TETHER_FUZZ_CHECK(expected.frames == whole.frames(), "frames as the reference walk");
  TETHER_FUZZ_CHECK(!whole.feed(data, size) || whole_ok, "a refused stream stays refused");
  return 0;
}
