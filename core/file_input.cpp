// Inputs that never block and never grow without bound (core/file_input.hpp).
#include "core/file_input.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

namespace tether {

namespace {

std::string quoted(const std::string& path) {
  return "\"" + path + "\"";
}

std::string prefix(std::string_view what, const std::string& path) {
  return std::string(what) + " " + quoted(path);
}

/// Why `path` cannot be opened, from open()'s errno: a dangling link is told apart.
status open_failure(std::string_view what, const std::string& path, int err) {
  if (err == ENOENT) {
    struct stat st;
    if (::lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode))
      return status{errc::not_found,
                    prefix(what, path) + " is a symbolic link to a file that does not exist"};
    return status{errc::not_found, prefix(what, path) + " does not exist"};
  }
  if (err == ENXIO)
    return status{errc::invalid_argument,
                  prefix(what, path) + " is a socket or a device without a reader; give a file"};
  return status{errc::io_error, "cannot open " + prefix(what, path) + ": " + std::strerror(err)};
}

std::string size_text(uint64_t bytes) {
  return std::to_string(bytes) + " bytes";
}

} // namespace

file_descriptor::~file_descriptor() {
  if (fd_ >= 0)
    ::close(fd_);
}

file_descriptor& file_descriptor::operator=(file_descriptor&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0)
      ::close(fd_);
    fd_ = other.release();
  }
  return *this;
}

std::string file_kind(unsigned mode) {
  if (S_ISREG(mode))
    return "a regular file";
  if (S_ISDIR(mode))
    return "a directory";
  if (S_ISFIFO(mode))
    return "a FIFO (named pipe)";
  if (S_ISCHR(mode))
    return "a character device";
  if (S_ISBLK(mode))
    return "a block device";
  if (S_ISSOCK(mode))
    return "a socket";
  return "not a regular file";
}

result<regular_file> open_regular_file(const std::string& path, std::string_view what) {
  if (path.empty())
    return status{errc::invalid_argument, std::string(what) + ": the path is empty"};
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever.
  int raw = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (raw < 0)
    return open_failure(what, path, errno);
  regular_file out;
  out.fd = file_descriptor(raw);
  struct stat st;
  if (::fstat(raw, &st) != 0)
    return status{errc::io_error,
                  "cannot stat " + prefix(what, path) + ": " + std::strerror(errno)};
  if (!S_ISREG(st.st_mode))
    return status{errc::invalid_argument,
                  prefix(what, path) + " is " + file_kind(st.st_mode) + ", not a regular file"};
  // Reads of a regular file never block; clear the flag anyway so that the descriptor
  // behaves as an ordinary one wherever it is handed on (gzdopen).
  int flags = ::fcntl(raw, F_GETFL);
  if (flags >= 0)
    ::fcntl(raw, F_SETFL, flags & ~O_NONBLOCK);
  out.size = static_cast<uint64_t>(st.st_size);
  return out;
}

result<size_t> read_fully(int fd, void* data, size_t size, const std::string& path) {
  auto* p = static_cast<char*>(data);
  size_t got = 0;
  while (got < size) {
    ssize_t n = ::read(fd, p + got, std::min<size_t>(size - got, size_t{1} << 30));
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return status{errc::io_error, "cannot read " + quoted(path) + ": " + std::strerror(errno)};
    if (n == 0)
      break;
    got += static_cast<size_t>(n);
  }
  return got;
}

result<std::string> read_small_file(const std::string& path, size_t max_bytes,
                                    std::chrono::milliseconds deadline, std::string_view what) {
  if (path.empty())
    return status{errc::invalid_argument, std::string(what) + ": the path is empty"};
  int raw = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (raw < 0)
    return open_failure(what, path, errno);
  file_descriptor fd(raw);
  struct stat st;
  if (::fstat(raw, &st) != 0)
    return status{errc::io_error,
                  "cannot stat " + prefix(what, path) + ": " + std::strerror(errno)};
  if (S_ISDIR(st.st_mode) || S_ISBLK(st.st_mode) || S_ISSOCK(st.st_mode))
    return status{errc::invalid_argument,
                  prefix(what, path) + " is " + file_kind(st.st_mode) + ", not a file of text"};
  const bool regular = S_ISREG(st.st_mode);
  if (regular && static_cast<uint64_t>(st.st_size) > max_bytes)
    return status{errc::invalid_argument,
                  prefix(what, path) + " has " + size_text(static_cast<uint64_t>(st.st_size)) +
                      ", more than the limit of " + size_text(max_bytes) + " for such a file"};
  // A FIFO or a device: wait for data with poll(), never longer than the deadline.
  // (A FIFO opened O_NONBLOCK reads as empty until a writer comes: only trust an end of
  // file that poll() announced.)
  std::string text;
  const auto until = std::chrono::steady_clock::now() + deadline;
  char buffer[65536];
  for (;;) {
    if (!regular) {
      auto left =
          std::chrono::ceil<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
      if (left.count() <= 0)
        return status{errc::invalid_argument, prefix(what, path) + " is " + file_kind(st.st_mode) +
                                                  " that did not reach its end within " +
                                                  std::to_string(deadline.count()) +
                                                  " ms; give a regular file"};
      pollfd p{raw, POLLIN, 0};
      int ready = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count(), 1000)));
      if (ready < 0 && errno != EINTR)
        return status{errc::io_error,
                      "cannot read " + prefix(what, path) + ": " + std::strerror(errno)};
      if (ready <= 0)
        continue;
    }
    size_t room = std::min(sizeof buffer, max_bytes + 1 - text.size());
    ssize_t n = ::read(raw, buffer, room);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
      continue;
    if (n < 0)
      return status{errc::io_error,
                    "cannot read " + prefix(what, path) + ": " + std::strerror(errno)};
    if (n == 0)
      return text;
    text.append(buffer, static_cast<size_t>(n));
    if (text.size() > max_bytes)
      return status{errc::invalid_argument, prefix(what, path) + " goes on past " +
                                                size_text(max_bytes) +
                                                ", the limit for such a file (an endless "
                                                "file such as /dev/zero?)"};
  }
}

} // namespace tether
