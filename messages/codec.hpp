// The wire codec: turns the worker <-> shard messages of messages/types.hpp into bytes
// and back. The bytes are one flat Cap'n Proto message (messages/wire.capnp, framing in
// docs/formats.md); no Cap'n Proto type appears here.
//
// Contract:
// - encode() returns a complete, self-contained message: one segment, 8-byte segment
//   table included, a multiple of 8 bytes long. It cannot fail, except that a tensor of
//   more than max_wire_floats floats (512 MiB, a Cap'n Proto blob's limit) is a
//   programmer error: encode() then throws std::length_error. Split such a range.
// - decode_*() accept any bytes from anywhere: aligned or not (misaligned input is copied
//   once into an aligned buffer), truncated, random, or a message of another kind. Whatever
//   is not a well-formed message of the expected kind gives errc::corrupt_data with a short
//   reason; nothing throws out of a decoder, whatever the input.
// - Every function is thread-safe: no shared state.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "core/status.hpp"
#include "messages/types.hpp"

namespace tether {

/// The most float32 elements one tensor of a wire message can hold (a blob is < 512 MiB).
inline constexpr size_t max_wire_floats = ((size_t{1} << 29) - 1) / 4;

std::vector<char> encode(const pull_request& msg);
std::vector<char> encode(const push_request& msg);
std::vector<char> encode(const param_slice& msg);

result<pull_request> decode_pull(std::span<const char> bytes);
result<push_request> decode_push(std::span<const char> bytes);
result<param_slice> decode_param_slice(std::span<const char> bytes);

} // namespace tether
