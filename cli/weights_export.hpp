// Model weights in formats other tools load: NumPy's .npz and Hugging Face's
// .safetensors (docs/export.md). Pure functions from a layout and a flat parameter
// vector to the bytes of a file; cli/export_command.cpp reads the checkpoint and
// writes the file.
//
// Both formats hold exactly the tensors of the layout, in layout order (for each layer
// its weight matrix {fan_out, fan_in}, row-major, then its bias {fan_out}), named as in
// the layout ("layer0.weight", ...), as little-endian float32, on any host. The output
// is deterministic: the same layout and parameters give the same bytes.
//
// Failures: a parameter vector of the wrong length, or a layout that does not tile it,
// is errc::invalid_argument (a programmer error upstream, reported not asserted because
// the data comes from a file); a model too large for the format (npz without ZIP64:
// 4 GiB; safetensors: none in practice) is errc::invalid_argument naming the limit.
// Thread-safety: none needed, no shared state.
#pragma once

#include "core/layout.hpp"
#include "core/status.hpp"
#include "messages/types.hpp"

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tether {

enum class weights_format { npz, safetensors };

/// "npz" or "safetensors"; anything else is errc::invalid_argument.
result<weights_format> parse_weights_format(std::string_view text);
const char* to_string(weights_format format);

/// One .npy file (format version 1.0): magic "\x93NUMPY", version 1 0, uint16le header
/// length, the header dict {'descr': '<f4', 'fortran_order': False, 'shape': (...), }
/// padded with spaces and ended by '\n' so that the data starts at a multiple of 64
/// bytes, then the values as little-endian float32.
std::string npy_bytes(const std::vector<size_t>& shape, std::span<const float> values);

/// A ZIP archive (stored, no compression, no ZIP64) of one "<name>.npy" per tensor:
/// what numpy.savez writes and numpy.load reads.
result<std::string> npz_bytes(const param_layout& layout, std::span<const float> params);

/// A .safetensors file: uint64le N, N bytes of JSON header (padded with spaces so the
/// data starts at a multiple of 8 bytes), then the tensors back to back. The header maps
/// each tensor name to {"dtype":"F32","shape":[...],"data_offsets":[begin,end]} (bytes,
/// relative to the start of the data) and "__metadata__" to `metadata` (string values).
result<std::string>
safetensors_bytes(const param_layout& layout, std::span<const float> params,
                  const std::vector<std::pair<std::string, std::string>>& metadata);

/// The layout of a checkpoint's model, checked against the checkpoint: the model text
/// must parse and build, and its fingerprint and size must equal the stored ones
/// (errc::mismatch otherwise, naming both).
result<param_layout> checkpoint_layout(const checkpoint_data& data);

/// The flat parameter vector of a checkpoint: its shards' params in range order. The
/// shards are those read_checkpoint() verified (contiguous over [0, total_params)).
std::vector<float> checkpoint_params(const checkpoint_data& data);

/// CRC-32 (ISO-HDLC, the one of ZIP and zlib) of `bytes`.
uint32_t zip_crc32(std::string_view bytes);

} // namespace tether
