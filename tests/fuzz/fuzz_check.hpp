// What the fuzz targets of tests/fuzz check beyond "does not crash", shared by all four.
//
// A violated property prints one line naming it and calls abort(): libFuzzer (and
// standalone_main.cpp) then report the input that did it. Nothing here catches an
// exception: the decoders promise never to throw, so one that escapes is a finding too.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "core/status.hpp"
#include "messages/codec.hpp"
#include "messages/types.hpp"

// Aborts with "fuzz property violated: <what>" when `cond` is false.
#define TETHER_FUZZ_CHECK(cond, what)                                                              \
  do {                                                                                             \
    if (!(cond))                                                                                   \
      ::tether::fuzz::violated(what, #cond, __FILE__, __LINE__);                                   \
  } while (false)

namespace tether::fuzz {

// What a target was looking at beyond its raw input, printed with a violation (e.g. the
// file it derived from the input); empty if nothing.
inline std::string violation_context;

[[noreturn]] inline void violated(const char* what, const char* cond, const char* file, int line) {
  std::fprintf(stderr, "fuzz property violated: %s\n  (%s at %s:%d)\n", what, cond, file, line);
  if (!violation_context.empty())
    std::fprintf(stderr, "  %s\n", violation_context.c_str());
  std::fflush(stderr);
  std::abort();
}

inline std::span<const char> as_chars(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

inline bool same_floats(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * 4) == 0);
}

inline bool same(const pull_request& a, const pull_request& b) {
  return a.worker == b.worker && a.clock == b.clock;
}
inline bool same(const push_request& a, const push_request& b) {
  return a.worker == b.worker && a.clock == b.clock && a.base_version == b.base_version &&
         a.range_begin == b.range_begin && same_floats(a.grad, b.grad);
}
inline bool same(const param_slice& a, const param_slice& b) {
  return a.version == b.version && a.range_begin == b.range_begin &&
         same_floats(a.values, b.values);
}

// The floats a wire message carries (none for a pull).
inline size_t floats_in(const pull_request&) {
  return 0;
}
inline size_t floats_in(const push_request& m) {
  return m.grad.size();
}
inline size_t floats_in(const param_slice& m) {
  return m.values.size();
}

// A copy of `bytes` at an address that is 1 mod 8: decoders must not care.
struct misaligned_copy {
  std::vector<uint64_t> storage;
  std::span<const char> view;
  explicit misaligned_copy(std::span<const char> bytes) : storage(bytes.size() / 8 + 2) {
    char* at = reinterpret_cast<char*>(storage.data()) + 1;
    if (!bytes.empty())
      std::memcpy(at, bytes.data(), bytes.size());
    view = {at, bytes.size()};
  }
};

inline uint32_t load_u32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// The properties of one wire decoder `decode` (decode_pull, decode_push or
// decode_param_slice) on the input `in`:
// - a failure is errc::corrupt_data with a reason, the same whether `in` is aligned or not;
// - a success decodes to the same value from a misaligned copy, holds no more float bytes
//   than the input had, and survives encode() -> decode bit for bit;
// - encode() gives one segment (table {0, words}), 8-byte words, and a size that is the
//   empty message's size plus the floats rounded up to a word; encoding twice is identical.
template <class Decode>
void check_wire_decoder(std::span<const char> in, Decode decode) {
  auto got = decode(in);
  misaligned_copy shifted(in);
  auto shifted_got = decode(shifted.view);
  TETHER_FUZZ_CHECK(got.is_ok() == shifted_got.is_ok(),
                    "aligned and misaligned copies of one input decode differently");
  if (!got) {
    TETHER_FUZZ_CHECK(got.error().code() == errc::corrupt_data,
                      "a malformed input failed with a code other than corrupt_data");
    TETHER_FUZZ_CHECK(!got.error().message().empty(), "a failure without a reason");
    TETHER_FUZZ_CHECK(shifted_got.error().code() == got.error().code() &&
                          shifted_got.error().message() == got.error().message(),
                      "aligned and misaligned copies fail with different reasons");
    return;
  }
  using message = std::decay_t<decltype(got.value())>;
  const message& value = got.value();
  TETHER_FUZZ_CHECK(same(value, shifted_got.value()),
                    "aligned and misaligned copies decode to different values");
  TETHER_FUZZ_CHECK(floats_in(value) * 4 <= in.size(),
                    "decoded more float bytes than the input holds");

  const std::vector<char> bytes = encode(value);
  TETHER_FUZZ_CHECK(bytes.size() >= 16 && bytes.size() % 8 == 0,
                    "encode() gave no whole 8-byte words");
  TETHER_FUZZ_CHECK(load_u32(bytes.data()) == 0, "encode() gave more than one segment");
  TETHER_FUZZ_CHECK(size_t{load_u32(bytes.data() + 4)} * 8 == bytes.size() - 8,
                    "encode()'s segment table does not match its size");
  const size_t empty_size = encode(message{}).size();
  TETHER_FUZZ_CHECK(bytes.size() == empty_size + (floats_in(value) * 4 + 7) / 8 * 8,
                    "encode() size is not the empty message's plus the floats, word-padded");

  auto back = decode(std::span<const char>(bytes));
  TETHER_FUZZ_CHECK(back.is_ok(), "encode() of a decoded value does not decode");
  TETHER_FUZZ_CHECK(same(back.value(), value), "decode(encode(decode(x))) != decode(x)");
  TETHER_FUZZ_CHECK(encode(back.value()) == bytes, "encoding one value twice gave different bytes");
}

} // namespace tether::fuzz
