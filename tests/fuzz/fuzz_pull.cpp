// Fuzz target: decode_pull (messages/codec.hpp): worker -> shard pull requests.
// Any bytes in; the properties checked are those of check_wire_decoder (fuzz_check.hpp):
// corrupt_data on failure, alignment does not matter, bit-exact round trip, sizes.
// Built for libFuzzer with clang, or with standalone_main.cpp (tests/fuzz/CMakeLists.txt).
#include <cstddef>
#include <cstdint>

#include "messages/codec.hpp"
#include "tests/fuzz/fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tether::fuzz::check_wire_decoder(
      tether::fuzz::as_chars(data, size),
      [](std::span<const char> in) { return tether::decode_pull(in); });
  return 0;
}
