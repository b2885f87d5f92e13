// Checkpoint files on disk: one checkpoint_data per file, in a directory of its own.
// The formats are in docs/formats.md (schema: messages/checkpoint.capnp); no Cap'n Proto
// or CAF type appears here.
//
// The directory holds ckpt-<updates, 12+ digits>[-<n>].tether files. A writer creates
// .ckpt-<...>.tether.tmp, fsyncs it, renames it to the final name without ever replacing
// a file (a second checkpoint at the same update count, e.g. after a resume that added
// none, gets "-2", then "-3", ...) and fsyncs the directory, so a reader sees either a
// whole checkpoint or none, and a checkpoint a job resumed from is never overwritten; a
// crash leaves at most a temp file behind, which remove_temp_files() clears. Every file
// carries a crc32 of its body, checked on read.
//
// Only regular files are checkpoints: anything else with a checkpoint's name (a FIFO, a
// directory, a socket, a dangling link) is listed as skipped with the reason and never
// opened in a way that could block.
//
// Threads: the functions share no state; one writer per directory at a time (the
// checkpointer actor), any number of readers. Failures come back as a status naming
// the path and the reason; nothing throws.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/status.hpp"
#include "messages/types.hpp"

namespace tether {

/// The version written into every file; read_checkpoint() refuses any other.
inline constexpr uint32_t checkpoint_format_version = 1;

/// "ckpt-000000001234.tether" for 1234 updates (12 digits, more when needed); with
/// `copy` >= 2, "ckpt-000000001234-2.tether": the copy-th checkpoint at that count.
std::string checkpoint_file_name(uint64_t updates, uint32_t copy = 1);

/// Writes `data` atomically (temp file, fsync, rename, fsync of the directory) to
/// dir/checkpoint_file_name(data.updates), or, when that name is taken, to the first
/// free dir/checkpoint_file_name(data.updates, n), n = 2, 3, ...: an existing file is
/// never replaced. Returns the path written. Creates `dir` and its parents if missing.
/// Fails with errc::invalid_argument if `data` is inconsistent (shard ranges not
/// contiguous over [0, total_params), a tensor of the wrong size, a shard of more than
/// 2^27 floats) and errc::io_error if the disk says no; either way no file (final or
/// temp) is left behind.
result<std::string> write_checkpoint(const std::string& dir, const checkpoint_data& data);

/// Reads and verifies one file: errc::not_found if it does not exist, errc::io_error if
/// it is not a regular file or cannot be read, errc::corrupt_data (naming the file and
/// the reason: truncated, checksum mismatch, unsupported format version, inconsistent
/// shards, ...) if it is not a good checkpoint. Never blocks (a FIFO is refused).
result<checkpoint_data> read_checkpoint(const std::string& path);

struct checkpoint_listing {
  std::vector<std::string> files;   ///< regular files, newest (count, then copy) first
  std::vector<std::string> skipped; ///< named like a checkpoint but not one: "path: why"
};

/// The files dir/ckpt-*.tether, newest first, and what was skipped. Ignores every other
/// name; empty if `dir` does not exist or cannot be read.
checkpoint_listing scan_checkpoints(const std::string& dir);

/// scan_checkpoints(dir).files.
std::vector<std::string> list_checkpoints(const std::string& dir);

struct loaded_checkpoint {
  std::string path; ///< the file that was loaded
  checkpoint_data data;
  std::vector<std::string> skipped; ///< newer files that failed or are not regular
                                    ///< files, each "path: reason"
};

/// Loads the newest checkpoint of `dir` that reads and verifies, skipping corrupt
/// newer ones and anything that is not a regular file. errc::not_found if `dir` holds no checkpoint
/// (or does not exist); errc::corrupt_data, listing each file and its reason, if none is good.
result<loaded_checkpoint> load_newest_good(const std::string& dir);

/// Deletes every checkpoint of `dir` but the newest `keep` (keep = 0 deletes all).
status prune_checkpoints(const std::string& dir, size_t keep);

/// Deletes the .ckpt-*.tmp files a crashed writer left in `dir`; ignores failures.
void remove_temp_files(const std::string& dir);

/// Creates `dir` (and parents) if missing and checks that a file can be created in
/// it, so that a bad --checkpoint-dir fails at job start rather than at the first
/// checkpoint. errc::io_error with a message naming the directory otherwise.
status check_writable_dir(const std::string& dir);

} // namespace tether
