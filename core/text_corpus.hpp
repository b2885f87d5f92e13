// Text for the language model: bytes are tokens (vocabulary 256).
//
// The default corpus is the Debian package `fortunes`: every regular file directly in
// /usr/share/games/fortunes except the `.dat` index files (so not the `.u8` symbolic links,
// the `off/` directory, FIFOs or devices), sorted by name (byte order) and concatenated.
// The first 90% of the bytes (rounded down) train, the rest validate. A user's training
// file (and optional validation file) works the same way; without a validation file the
// training file is split 90/10.
//
// Samples: training sample i is the window of context + 1 bytes starting at byte
// i * context (inputs bytes 0..context-1, targets bytes 1..context). Consecutive windows
// share one byte, so one epoch over text_sample_count(n, context) = (n - 1) / context
// samples predicts every training byte once (the tail after the last whole window aside):
// one epoch is one pass over the training bytes, tokens / (batch x context) updates. The
// epoch sampler (core/sampler.hpp) draws permutations of [0, count) of these indices.
//
// Errors name the file: a missing file or directory (errc::not_found, with what to do),
// one that is not a regular file (a directory, FIFO or device) or cannot be read
// (errc::io_error), one larger than max_text_bytes() (errc::io_error), and a text or split
// shorter than context + 1 bytes, empty included (errc::mismatch). Nothing is read from a
// file that is refused. A text_corpus is immutable once loaded and may be shared read-only.
#pragma once

#include "core/status.hpp"

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace tether {

inline constexpr const char* default_corpus_dir = "/usr/share/games/fortunes";

struct text_corpus {
  std::vector<uint8_t> train;
  std::vector<uint8_t> valid;
  std::string source; ///< where it came from, for messages, e.g. "fortunes (63 files)"
};

/// The largest text file accepted: half the machine's physical memory, and at most what
/// 32-bit sample indices can address with a context of 1 (4 GiB).
size_t max_text_bytes();

/// The default corpus from `dir` (the fortunes directory unless told otherwise).
/// Requires context >= 1.
result<text_corpus> load_default_corpus(size_t context,
                                        const std::string& dir = default_corpus_dir);

/// A user's text: train_path, and valid_path unless it is empty (then the 90/10 split).
/// max_bytes bounds each file (default max_text_bytes()). Requires context >= 1.
result<text_corpus> load_text_files(const std::string& train_path, const std::string& valid_path,
                                    size_t context, size_t max_bytes = 0);

/// Training samples (windows) in a text of `bytes` bytes: (bytes - 1) / context, 0 when
/// bytes <= context.
size_t text_sample_count(size_t bytes, size_t context);

/// Copies the windows `indices` of `text` side by side into `out`, which must hold
/// indices.size() * (context + 1) bytes: the token input of gpt_model::loss_and_gradient.
/// Every index must be below text_sample_count(text.size(), context) (asserted).
void gather_text_batch(std::span<const uint8_t> text, size_t context,
                       std::span<const uint32_t> indices, std::span<uint8_t> out);

/// A 64-bit fingerprint of both splits' bytes: nodes of a cluster compare theirs.
uint64_t fingerprint(const text_corpus& corpus);

} // namespace tether
