// Opening input files so that a hostile or careless path can neither block nor exhaust
// tether: a FIFO named like a data file, a directory, /dev/zero, a dangling link.
//
// Two kinds of input:
//   - data that is read whole and may be large (IDX, CSV, checkpoints): it must be a
//     regular file. open_regular_file() opens it with O_NONBLOCK (an open() of a FIFO
//     without a writer would block forever), checks with fstat() on the descriptor (no
//     race with a rename) that it is a regular file, and hands the descriptor back.
//   - small text files (--config, a --faults plan file, --metrics-token): read whole by
//     read_small_file(), with a size limit and a deadline. A regular file larger than
//     the limit is refused before a byte is read; a FIFO, a terminal or a device
//     (/dev/stdin, a process substitution <(...)) is read with poll() until end of file,
//     and refused once it passes the limit (/dev/zero: at once) or the deadline (a FIFO
//     nobody writes to).
//
// Failures name the path and what it is ("is a FIFO, not a regular file"): errc::not_found
// for a missing file or a dangling link, errc::io_error for what cannot be opened or
// read, errc::invalid_argument for the wrong kind of file or one over the limit.
// Thread-safety: plain functions, no shared state.
#pragma once

#include "core/status.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace tether {

/// An open file descriptor, closed by the destructor.
class file_descriptor {
public:
  file_descriptor() = default;
  explicit file_descriptor(int fd) : fd_(fd) {}
  ~file_descriptor();
  file_descriptor(file_descriptor&& other) noexcept : fd_(other.release()) {}
  file_descriptor& operator=(file_descriptor&& other) noexcept;
  file_descriptor(const file_descriptor&) = delete;
  file_descriptor& operator=(const file_descriptor&) = delete;

  int get() const { return fd_; }
  /// Gives up ownership: the caller closes the descriptor.
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }

private:
  int fd_ = -1;
};

/// A regular file opened for reading, and its size when it was opened.
struct regular_file {
  file_descriptor fd;
  uint64_t size = 0;
};

/// "a FIFO", "a directory", "a character device", ... for an st_mode; "a regular file".
std::string file_kind(unsigned mode);

/// Opens `path` for reading if it is a regular file (a link to one is followed), never
/// blocking. `what` names the file in messages ("CSV file", "checkpoint").
result<regular_file> open_regular_file(const std::string& path, std::string_view what);

/// Reads up to `size` bytes of `fd` from its current offset; fewer only at end of file.
/// errc::io_error naming `path` when read() fails.
result<size_t> read_fully(int fd, void* data, size_t size, const std::string& path);

/// The whole content of a small text file (see the top of this file). `what` names it in
/// messages, e.g. "--config=run.conf: the config file".
result<std::string> read_small_file(const std::string& path, size_t max_bytes,
                                    std::chrono::milliseconds deadline, std::string_view what);

} // namespace tether
